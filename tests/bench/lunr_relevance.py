"""How well the site's built-in (lunr) search answers real questions, measured in a browser.

    .venv/bin/python tests/bench/lunr_relevance.py QUERIES.yaml [--site DIR] [-v]

QUERIES.yaml is a list of ``{query: ..., expect: [slug, ...]}``, the format of
``tests/relevance/queries.yaml``, whose metrics (:mod:`tests.relevance.metrics`) are used
here too; any expected article counts as an answer. Without ``--site`` the
committed docs/ are built first (intake search off, so only Material's search answers).
Each query is typed the way a customer does: the header's search box is clicked and the
text typed with ``keyboard.type()``, then the result list is read once it stops changing.

Prints the queries whose first result is not an expected article (with ``-v``, the first
results of every query), then hit@1, hit@3 (share of queries with an answer in the first
three results) and MRR (mean of 1/rank, 0 if not found).
Not a pytest test: a measurement (``make bench``); the issue asks whether hit@3 >= 0.85.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from anywhere

from tests.helpers import (  # noqa: E402
    BUILTIN_RESULTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    SITE_PREFIX,
    SITE_URL,
    mkdocs_build,
    search_results,
    serve_directory,
)
from tests.relevance.metrics import Case, Report, evaluate, load_cases  # noqa: E402


def slug_of(url: str) -> str:
    """``.../email/come-richiedere/`` -> ``come-richiedere``."""
    return url.split("?")[0].split("#")[0].rstrip("/").rsplit("/", 1)[-1]


def measure(site: Path, cases: list[Case]) -> tuple[Report, dict[str, list[str]]]:
    """The metrics over ``cases``, and the slugs each query found, best first."""
    from playwright.sync_api import sync_playwright

    found: dict[str, list[str]] = {}
    with serve_directory(site, SITE_PREFIX) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(locale="it-IT", viewport={"width": 1280, "height": 900}).new_page()

        def search(query: str) -> list[str]:
            page.goto(base)
            page.click("[data-md-component=search-query]")
            page.keyboard.type(query)
            found[query] = [slug_of(url) for url in search_results(page, BUILTIN_RESULTS)]
            return found[query]

        report = evaluate(cases, search)
        browser.close()
    return report, found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("queries", type=Path, help="YAML list of {query, expect: [slug, ...]}")
    parser.add_argument("--site", type=Path, help="an already built site (default: build docs/ now)")
    parser.add_argument("-v", "--verbose", action="store_true", help="show the first results of every query")
    args = parser.parse_args(argv)
    cases = load_cases(args.queries)
    with tempfile.TemporaryDirectory() as tmp:
        site = args.site
        if site is None:
            site = Path(tmp) / "site"
            mkdocs_build(site, KB_SITE_URL=SITE_URL, KB_INTAKE_URL="")  # Material's search alone
        report, found = measure(site, cases)
    if args.verbose:
        for case in cases:
            print(f"{case.query}: {', '.join(found[case.query][:3]) or 'nothing'}")
        print()
    for line in report.misses:
        print(line)
    print(f"\n{args.queries}: {report.summary()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
