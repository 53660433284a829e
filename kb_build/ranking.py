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
from dataclasses import dataclass

import numpy as np
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching.wrappers import FilterMatcher
from whoosh.query import Phrase
from whoosh.scoring import BM25F

CACHE_POSTINGS = 2_000_000  # 12 bytes each, about 24 MB: all of a 5,000-article index fits

Clauses = dict[tuple[str, tuple[str, ...]], float]  # (field, words) -> boost


def _blocks(postings):
    """``(ids, weights)`` of a posting list, a block at a time.

    Whoosh's public matcher API costs several method calls per posting. The postings of
    a term in one segment (a ``W3LeafMatcher``) are taken a decoded block at a time
    instead; anything else goes posting by posting.
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


@dataclass(frozen=True)
class SegmentStats:
    """What scoring needs from one segment, read once: segments never change after they
    are written, except for deletions (``live``), so an index updated in place is
    re-read only for its new segments."""

    lengths: dict[str, np.ndarray]  # field -> quantised length of each document
    live: np.ndarray | None  # False for deleted documents; None: no deletions


def segment_key(leaf) -> tuple[str, int]:
    """Identifies a segment and its deletions: ``(segment id, live documents)``."""
    return leaf.segment().segment_id(), leaf.doc_count()


def read_segment_stats(leaf, fields) -> SegmentStats:
    count = leaf.doc_count_all()
    # Whoosh scores with the stored (quantised) length: use the same. (An empty field
    # has none, but then no term of that field can match the document.)
    lengths = {
        field: np.array([leaf.doc_field_length(d, field) or 1 for d in range(count)], dtype=float) for field in fields
    }
    live = None
    if leaf.has_deletions():
        live = np.array([not leaf.is_deleted(d) for d in range(count)], dtype=bool)
    return SegmentStats(lengths, live)


class PostingScorer:
    """Scores of ``(field, words)`` clauses over one open Whoosh searcher (not thread-safe).

    ``segments`` maps :func:`segment_key` to the :class:`SegmentStats` already read (from
    a previous generation of the same index); the stats of the other segments are read
    and added to it. Scores are cached per clause for the life of this object: any
    change to the index (a new generation) changes document counts, average lengths and
    so every idf, so it needs a new scorer, never an updated cache.
    """

    def __init__(self, searcher, fields, weighting: BM25F | None = None, segments: dict | None = None):
        self.searcher = searcher
        self.weighting = weighting or BM25F()
        self.doc_count = searcher.doc_count_all()
        self.segments = segments if segments is not None else {}
        self.leaves = []  # (leaf reader, docnum offset, stats)
        for leaf, offset in searcher.reader().leaf_readers():
            key = segment_key(leaf)
            if key not in self.segments:
                self.segments[key] = read_segment_stats(leaf, fields)
            self.leaves.append((leaf, offset, self.segments[key]))
        self.lengths = {
            field: np.concatenate([stats.lengths[field] for _, _, stats in self.leaves] or [np.empty(0)])
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
        id_parts, tf_parts = [], []
        for leaf, offset, stats in self.leaves:
            if (field, text) not in leaf:
                continue
            postings = leaf.postings(field, text)
            if isinstance(postings, FilterMatcher) and isinstance(postings.child, W3LeafMatcher):
                postings = postings.child  # deleted documents are dropped below, all at once
            ids: list[int] = []
            tfs: list[float] = []
            for block_ids, block_weights in _blocks(postings):
                ids.extend(block_ids)
                tfs.extend(block_weights)
            docnums = np.array(ids, dtype=np.int64)
            tf = np.array(tfs, dtype=float)
            if stats.live is not None:
                keep = stats.live[docnums]
                docnums, tf = docnums[keep], tf[keep]
            id_parts.append(docnums + offset)
            tf_parts.append(tf)
        if not id_parts:
            return np.empty(0, dtype=np.int64), np.empty(0)
        docnums, tf = np.concatenate(id_parts), np.concatenate(tf_parts)
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
