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


def test_same_results_on_an_index_updated_in_place(tmp_path):
    """Several segments and deleted documents: what a per-article update leaves behind."""
    from kb_build.articles import load_docs
    from kb_build.index import article_fields, build_index

    from .test_search import write_article

    docs = tmp_path / "docs"
    write_article(docs, "posta-lenta", "Posta lenta in arrivo", "La posta arriva lenta, la casella è piena.")
    write_article(docs, "posta-persa", "Posta persa", "Messaggi di posta persi nella casella.")
    write_article(docs, "server-lento", "Server lento", "Il server dedicato risponde lento.")
    index_dir = build_index(load_docs(docs).articles, tmp_path / "index")
    searcher = Searcher(index_dir)
    assert [hit.slug for hit in searcher.search("posta lenta")][:1] == ["posta-lenta"]

    write_article(docs, "posta-lenta", "Posta veloce", "Ora la posta arriva subito.")
    changed = next(a for a in load_docs(docs).articles if a.slug == "posta-lenta")
    ix = whoosh_index.open_dir(str(index_dir), indexname=INDEX_NAME)
    writer = ix.writer()
    writer.update_document(**article_fields(changed))
    writer.commit(merge=False)
    ix.close()

    ix = whoosh_index.open_dir(str(index_dir), indexname=INDEX_NAME)
    with ix.searcher() as whoosh_searcher:
        assert len(whoosh_searcher.reader().leaf_readers()) == 2
        scorer = PostingScorer(whoosh_searcher, FIELD_WEIGHTS)
        clauses = {("body", ("post",)): 1.0, ("title", ("post",)): 2.0, ("body", ("lent",)): 1.0}
        ours, theirs = scorer.top(clauses, 5), whoosh_top(whoosh_searcher, clauses, 5)
        assert [d for d, _ in ours] == [d for d, _ in theirs] and len(ours) == 3
        assert [s for _, s in ours] == pytest.approx([s for _, s in theirs])
    ix.close()
    # The long-lived searcher notices the update and no longer finds the old text.
    assert [hit.title for hit in searcher.search("posta veloce")][:1] == ["Posta veloce"]
    assert "Posta lenta in arrivo" not in [hit.title for hit in searcher.search("posta lenta")]
    searcher.close()
