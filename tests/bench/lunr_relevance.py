"""How well the site's built-in (lunr) search answers real questions, measured in a browser.

    .venv/bin/python tests/bench/lunr_relevance.py QUERIES.yaml [--site DIR] [-v]

QUERIES.yaml is a list of ``{query: ..., expect: [slug, ...]}`` (or a mapping with such a
list under ``queries``); any expected article counts as an answer. Without ``--site`` the
committed docs/ are built first (intake search off, so only Material's search answers).
Each query is typed the way a customer does: the header's search box is clicked and the
text typed with ``keyboard.type()``, then the result list is read once it stops changing.

Prints, per query, the rank of the first expected article, and overall hit@3 (share of
queries with an answer in the first three results) and MRR (mean of 1/rank, 0 if not found).
Not a pytest test: a measurement (``make bench``); the issue asks whether hit@3 >= 0.85.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

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


@dataclass(frozen=True)
class Case:
    query: str
    expect: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    case: Case
    found: tuple[str, ...]  # slugs of the results, best first
    rank: int | None  # 1-based rank of the first expected article


def load_cases(path: Path) -> list[Case]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if isinstance(data, dict):
        data = data.get("queries")
    if not isinstance(data, list) or not data:
        raise SystemExit(f"{path}: expected a list of {{query: ..., expect: [slug, ...]}}")
    cases = []
    for number, item in enumerate(data, 1):
        if not isinstance(item, dict) or not item.get("query") or not item.get("expect"):
            raise SystemExit(f"{path}: entry {number} needs 'query' and 'expect'")
        expect = item["expect"] if isinstance(item["expect"], list) else [item["expect"]]
        cases.append(Case(str(item["query"]), tuple(slug_of(str(e)) for e in expect)))
    return cases


def slug_of(url: str) -> str:
    """``.../email/come-richiedere/`` or ``email/come-richiedere`` -> ``come-richiedere``."""
    return url.split("?")[0].split("#")[0].rstrip("/").rsplit("/", 1)[-1]


def rank_of(case: Case, found: tuple[str, ...]) -> int | None:
    for position, slug in enumerate(found, 1):
        if slug in case.expect:
            return position
    return None


def hit_at(outcomes: list[Outcome], k: int) -> float:
    return sum(1 for o in outcomes if o.rank is not None and o.rank <= k) / len(outcomes)


def mean_reciprocal_rank(outcomes: list[Outcome]) -> float:
    return sum(1 / o.rank for o in outcomes if o.rank) / len(outcomes)


def measure(site: Path, cases: list[Case]) -> list[Outcome]:
    from playwright.sync_api import sync_playwright

    outcomes = []
    with serve_directory(site, SITE_PREFIX) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_context(locale="it-IT", viewport={"width": 1280, "height": 900}).new_page()
        for case in cases:
            page.goto(base)
            page.click("[data-md-component=search-query]")
            page.keyboard.type(case.query)
            found = tuple(slug_of(url) for url in search_results(page, BUILTIN_RESULTS))
            outcomes.append(Outcome(case, found, rank_of(case, found)))
        browser.close()
    return outcomes


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
        outcomes = measure(site, cases)
    for o in outcomes:
        shown = o.rank if o.rank else "-"
        print(f"{shown!s:>3}  {o.case.query}")
        if args.verbose or not o.rank or o.rank > 3:
            print(f"       expected {', '.join(o.case.expect)}; got {', '.join(o.found[:3]) or 'nothing'}")
    print(
        f"\n{len(outcomes)} queries ({args.queries}): hit@3 = {hit_at(outcomes, 3):.2f}, "
        f"hit@1 = {hit_at(outcomes, 1):.2f}, MRR = {mean_reciprocal_rank(outcomes):.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
