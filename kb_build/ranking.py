"""Ranking: Whoosh's BM25F scores, summed from postings kept in memory.

Whoosh runs a query through a tree of Python matcher objects and pays several
microseconds per posting on every query: on 1,000-5,000 articles a query with common
words took 25-75 ms (README, "Performance"). Yet the score of one term in one document
depends only on the index. So each term's scores are computed once, with Whoosh's own
BM25F formula, statistics and (quantised) field lengths, kept in a bounded cache as numpy
arrays, and a query only adds them up. Results are the ones ``searcher.search(Or([...]))``
gives, ties included (``tests/test_ranking.py`` checks it).
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.query import Phrase
from whoosh.scoring import BM25F

CACHE_POSTINGS = 2_000_000  # 12 bytes each, about 24 MB: all of a 5,000-article index fits

Clauses = dict[tuple[str, tuple[str, ...]], float]  # (field, words) -> boost


def _blocks(postings):
    """``(ids, weights)`` of a posting list, a block at a time.

    Whoosh's public matcher API costs several method calls per posting. The postings of
    a term in one segment without deletions (the normal case: `kb build` writes one
    segment) are taken a decoded block at a time from ``W3LeafMatcher`` instead; anything
    else (several segments, deleted documents) goes posting by posting.
    """
    if isinstance(postings, W3LeafMatcher):
        while postings.is_active():
            postings._read_ids()
            postings._read_weights()
            yield postings._ids, postings._weights
            postings._next_block()
        return
    while postings.is_active():
        yield (postings.id(),), (postings.weight(),)
        postings.next()


class PostingScorer:
    """Scores of ``(field, words)`` clauses over one open Whoosh searcher (not thread-safe)."""

    def __init__(self, searcher, fields, weighting: BM25F | None = None):
        self.searcher = searcher
        self.weighting = weighting or BM25F()
        self.doc_count = searcher.doc_count_all()
        # Whoosh scores with the stored (quantised) length: use the same. (An empty field
        # has none, but then no term of that field can match the document.)
        self.lengths = {
            field: np.array([searcher.doc_field_length(d, field) or 1 for d in range(self.doc_count)], dtype=float)
            for field in fields
        }
        self.average = {field: searcher.avg_field_length(field) or 1 for field in fields}
        self._cache: OrderedDict[tuple[str, tuple[str, ...]], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._cached = 0

    def clause(self, field: str, words: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Document numbers and unboosted scores of a term (one word) or a phrase."""
        key = (field, words)
        found = self._cache.get(key)
        if found is not None:
            self._cache.move_to_end(key)
            return found
        found = self._term(field, words[0]) if len(words) == 1 else self._phrase(field, words)
        self._cache[key] = found
        self._cached += len(found[0])
        while self._cached > CACHE_POSTINGS and len(self._cache) > 1:
            _, (ids, _) = self._cache.popitem(last=False)
            self._cached -= len(ids)
        return found

    def _term(self, field: str, text: str) -> tuple[np.ndarray, np.ndarray]:
        searcher = self.searcher
        if (field, text) not in searcher.reader():
            return np.empty(0, dtype=np.int64), np.empty(0)
        ids: list[int] = []
        tfs: list[float] = []
        for block_ids, block_weights in _blocks(searcher.reader().postings(field, text)):  # no deleted docs
            ids.extend(block_ids)
            tfs.extend(block_weights)
        docnums = np.array(ids, dtype=np.int64)
        tf = np.array(tfs, dtype=float)
        idf = searcher.idf(field, text)
        b, k1 = self.weighting._field_B.get(field, self.weighting.B), self.weighting.K1
        length = self.lengths[field][docnums]
        # whoosh.scoring.bm25, on all postings at once
        return docnums, idf * ((tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * length / self.average[field])))

    def _phrase(self, field: str, words: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        ids, scores = [], []
        matcher = Phrase(field, list(words)).matcher(self.searcher, self.searcher.context(weighting=self.weighting))
        while matcher.is_active():
            ids.append(matcher.id())
            scores.append(matcher.score())
            matcher.next()
        return np.array(ids, dtype=np.int64), np.array(scores, dtype=float)

    def top(self, clauses: Clauses, limit: int) -> list[tuple[int, float]]:
        """The ``limit`` best ``(docnum, score)`` for boosted clauses; ties by docnum."""
        totals = np.zeros(self.doc_count)
        for (field, words), boost in clauses.items():
            ids, scores = self.clause(field, words)
            totals[ids] += scores * boost  # a clause lists each document once
        count = min(limit, self.doc_count)
        if count <= 0:
            return []
        threshold = max(np.partition(totals, -count)[-count], np.nextafter(0.0, 1.0))
        candidates = np.flatnonzero(totals >= threshold)
        order = np.lexsort((candidates, -totals[candidates]))[:count]
        return [(int(docnum), float(totals[docnum])) for docnum in candidates[order]]
