"""The in-memory ranking gives the results Whoosh's own query execution gives."""

from __future__ import annotations

import pytest
from whoosh import index as whoosh_index
from whoosh.query import Or, Phrase, Term

from kb_build import ranking
from kb_build.index import INDEX_NAME
from kb_build.ranking import PostingScorer
from kb_build.search import FIELD_WEIGHTS, Searcher

from .relevance.metrics import QUERIES, load_cases


def whoosh_top(searcher, clauses, limit):
    query = Or(
        [
            Term(field, words[0], boost=boost) if len(words) == 1 else Phrase(field, list(words), boost=boost)
            for (field, words), boost in clauses.items()
        ]
    )
    return [(hit.docnum, hit.score) for hit in searcher.search(query, limit=limit)]


@pytest.fixture(scope="module")
def whoosh_searcher(kb_index):
    ix = whoosh_index.open_dir(str(kb_index), indexname=INDEX_NAME)
    with ix.searcher() as searcher:
        yield searcher
    ix.close()


def relevance_clauses(kb_index):
    """The clauses our query builder makes for every relevance query (a private API)."""
    with Searcher(kb_index) as searcher:
        opened = searcher._current()
        return [opened.clauses(case.query) for case in load_cases(QUERIES)]


def test_same_ranking_and_scores_as_whoosh(kb_index, whoosh_searcher, monkeypatch):
    all_clauses = relevance_clauses(kb_index)
    assert any(len(words) > 1 for clauses in all_clauses for (_, words) in clauses)  # phrases covered
    for cache_size in (ranking.CACHE_POSTINGS, 10):  # also with a cache that keeps evicting
        monkeypatch.setattr(ranking, "CACHE_POSTINGS", cache_size)
        scorer = PostingScorer(whoosh_searcher, FIELD_WEIGHTS)
        for clauses in all_clauses:
            ours = scorer.top(clauses, 9)
            theirs = whoosh_top(whoosh_searcher, clauses, 9)
            assert [d for d, _ in ours] == [d for d, _ in theirs], clauses
            assert [round(s, 6) for _, s in ours] == [round(s, 6) for _, s in theirs]


def test_unknown_terms_and_empty_clauses_score_nothing(whoosh_searcher):
    scorer = PostingScorer(whoosh_searcher, FIELD_WEIGHTS)
    assert scorer.top({("body", ("zzzzzz",)): 1.0}, 5) == []
    assert scorer.top({}, 5) == []
