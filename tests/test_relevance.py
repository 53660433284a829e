"""Does the right article come first for what customers actually type?

The queries live in tests/relevance/*.yaml (see the header of queries.yaml). The figures
are printed (`pytest -s`) and every query whose best article is not first is listed.
"""

from __future__ import annotations

import pytest

from kb_build.search import Searcher

from .relevance.metrics import HOLDOUT, MIN_HIT_AT_3, MIN_MRR, QUERIES, evaluate, load_cases


@pytest.fixture(scope="module")
def searcher(kb_index):
    with Searcher(kb_index) as searcher:
        yield searcher


def test_query_files_name_real_articles(kb_articles):
    slugs = {article.slug for article in kb_articles}
    cases = load_cases(QUERIES)
    assert len(cases) >= 40
    for path in (QUERIES, HOLDOUT):
        for case in load_cases(path):
            assert case.query.strip() and case.expect, f"{path.name}: {case}"
            unknown = set(case.expect) - slugs
            assert not unknown, f"{path.name}: {case.query!r} expects unknown slugs {sorted(unknown)}"


@pytest.mark.parametrize("path", [QUERIES, HOLDOUT], ids=["queries", "holdout"])
def test_relevance(searcher, path):
    report = evaluate(load_cases(path), lambda query: [hit.slug for hit in searcher.search(query, limit=10)])
    misses = "\n".join(report.misses)
    print(f"\n{path.name}: {report.summary()}\n{misses}")
    assert report.hit_at_3 >= MIN_HIT_AT_3 and report.mrr >= MIN_MRR, f"{report.summary()}\n{misses}"
