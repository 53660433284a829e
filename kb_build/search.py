"""The public search API: the only module of ``kb_build`` the intake imports.

    from kb_build.search import Searcher, IndexUnavailable

    searcher = Searcher("build/kb-index")      # once per process; thread-safe
    hits = searcher.search("la posta non arriva", limit=5)
    hits[0].title, hits[0].url, hits[0].snippet  # snippet: HTML, matches in <mark>

Any text a customer types is accepted: it is cut to :data:`MAX_QUERY_CHARS`, analysed into
words by the index's own Italian analyzer and turned into a query *by this module*. No
query syntax ever reaches Whoosh (``*``, ``?``, quotes, ``AND``, ``title:x`` are plain
text), so user input cannot raise a parser error or expand into a costly wildcard query.
A query of only stop words ("come si fa?") gives no results.

How a query is built: each word becomes a *concept*, matched in every searched field with
the weights of :data:`FIELD_WEIGHTS`. A word (or run of words, e.g. "quanto costa") listed
in the synonym table also matches the other entries of its group, at
:data:`SYNONYM_WEIGHT`. A word of :data:`FUZZY_MIN_LENGTH`+ letters whose stem is not in
the index vocabulary also matches the index stems one edit away (insertion, deletion,
substitution or swap of two neighbours), at :data:`FUZZY_WEIGHT`: ``emial`` finds
``email``, ``migrazzione`` finds ``migrazione``. The alternatives of one concept share its
rarity (the idf of its most common alternative), so a rare synonym cannot outweigh the
word typed. Everything is OR-ed and scored with Whoosh's BM25F (computed by
:mod:`kb_build.ranking` from cached postings), so an article matching more concepts ranks
higher. Snippets come from :mod:`kb_build.snippets`.
"""

from __future__ import annotations

import gc
import html
import os
import re
import threading
import time
import warnings
from dataclasses import asdict, dataclass
from dataclasses import field as dataclass_field
from pathlib import Path

from whoosh import index as whoosh_index

from .analysis import QueryWord, Synonyms, analyze_words, parse_synonyms
from .index import INDEX_NAME, SCHEMA_VERSION, SYNONYMS_NAME, TEXT_FIELDS, index_stamp
from .ranking import PostingScorer, segment_key
from .snippets import WordSpans, make_snippet

MAX_QUERY_CHARS = 200  # longer input is cut: nobody describes a problem in more words
MAX_CONCEPTS = 12  # words (or synonym phrases) used from one query
MAX_LIMIT = 50
FIELD_WEIGHTS = {"title": 2.0, "tags": 2.0, "summary": 2.0, "headings": 1.5, "body": 1.0, "services": 0.5}
SYNONYM_WEIGHT = 0.7
FUZZY_WEIGHT = 0.5
FUZZY_MIN_LENGTH = 5
FUZZY_MAX_CANDIDATES = 2
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]+")

Alternatives = list[tuple[tuple[str, ...], float]]  # (stems of a word or phrase, weight)


class IndexUnavailable(Exception):
    """The search index is missing or unreadable; the message says how to rebuild it."""


@dataclass(frozen=True)
class Hit:
    """One search result."""

    title: str
    url: str  # site-relative, e.g. "email/<slug>/"
    slug: str
    summary: str
    snippet: str  # HTML: text escaped, matched words wrapped in <mark>
    score: float
    category: str
    ticket_form: str | None
    tags: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return asdict(self)


class Searcher:
    """Searches one index directory; reuse one per process.

    Opening reads the index vocabulary and field lengths (about 30 ms for the real KB,
    0.4-1.3 s for 5,000 articles) and the scores of each term are cached on first use,
    so a long-lived searcher gets faster, and a new one per query would be slow.

    Thread-safe: queries are serialised by a lock (Whoosh readers share file handles, the
    caches are plain dicts, and the work is pure Python, so threads would not run queries
    in parallel anyway).
    Before each query :func:`kb_build.index.index_stamp` (two ``stat()`` and a listing of
    the folder) tells whether the index was rebuilt or updated in place; if so, the new
    one is opened. Raises :class:`IndexUnavailable` from :meth:`search` and
    :meth:`check` while there is no usable index.
    """

    def __init__(self, index_dir: str | os.PathLike):
        self.index_dir = Path(index_dir)
        self._lock = threading.Lock()
        self._opened: _Opened | None = None

    def check(self) -> int:
        """Open the index now (or raise :class:`IndexUnavailable`); the number of articles.

        Searching does this by itself; call it to fail fast at startup or in a health check.
        A searcher created before the index exists works as soon as it is built.
        """
        with self._lock:
            return self._current().searcher.doc_count()

    def search(self, query: str, limit: int = 5) -> list[Hit]:
        """The best articles for ``query`` (any text), best first; ``[]`` if nothing matches."""
        limit = max(1, min(int(limit), MAX_LIMIT))
        return self._read(lambda opened: opened.search(query, limit))

    def article(self, slug: str) -> Hit | None:
        """The article ``slug`` as a :class:`Hit` (score 0, the summary as snippet), or None.

        For callers that hold a slug from elsewhere (a link, a form) and need its title and
        URL: the intake shows the article a customer came from and logs clicks on results.
        """
        return self._read(lambda opened: opened.article(str(slug)))

    def related(self, categories=(), tags=(), limit: int = 5) -> list[Hit]:
        """Articles filed under one of ``categories`` or tagged with one of ``tags`` (score 0,
        the summary as snippet): those sharing the most tags first, then those of the
        categories, then by title.

        For a page with no query yet: the usual articles of a request type (its ``suggest``).
        Tags compare without regard to case.
        """
        limit = max(1, min(int(limit), MAX_LIMIT))
        categories, tags = set(categories), {t.casefold() for t in tags}
        return self._read(lambda opened: opened.related(categories, tags, limit))

    def close(self) -> None:
        with self._lock:
            self._close()

    def _read(self, query):
        """``query(opened index)`` under the lock; an index swapped or removed while it was
        read is opened again once, then reported as :class:`IndexUnavailable`."""
        with self._lock:
            try:
                return query(self._current())
            except OSError:
                self._close()  # swapped or removed while we read it: look again
            try:
                return query(self._current())
            except OSError as exc:
                raise IndexUnavailable(
                    f"cannot read the search index at {self.index_dir} ({exc}): "
                    "rebuild it with `kb build` (or `mkdocs build`)"
                ) from exc

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def _close(self) -> None:
        if self._opened is not None:
            self._opened.close()
            self._opened = None

    def _current(self) -> _Opened:
        """The open index, reopened when the folder changed since it was opened."""
        try:
            stamp = index_stamp(self.index_dir)
        except FileNotFoundError:
            time.sleep(0.05)  # a non-atomic swap (see kb_build.swap) leaves no folder for an instant
            try:
                stamp = index_stamp(self.index_dir)
            except FileNotFoundError:
                raise IndexUnavailable(
                    f"no search index at {self.index_dir}: build it with `kb build` (or `mkdocs build`)"
                ) from None
        if self._opened is not None and self._opened.stamp == stamp:
            return self._opened
        # What was read from segments that are still there (an update in place adds a
        # small segment) is reused: reopening then costs milliseconds, not a second.
        previous = self._opened if self._opened is not None and self._opened.stamp[0] == stamp[0] else None
        segments = previous.segments if previous is not None else None
        self._close()
        opened, problem = _open_quietly(self.index_dir, stamp, segments)
        if opened is None:
            # An update committed while we opened may have removed a segment file the old
            # table of contents listed (Whoosh cleans up at each commit): look once more.
            time.sleep(0.05)
            try:
                stamp = index_stamp(self.index_dir)
            except FileNotFoundError:
                pass
            else:
                opened, problem = _open_quietly(self.index_dir, stamp, segments)
        if opened is None:
            raise IndexUnavailable(
                f"the search index at {self.index_dir} is damaged or was built by another "
                f"version ({problem}): rebuild it with `kb build` (or `mkdocs build`)"
            )
        self._opened = opened
        return opened


def _open_quietly(index_dir: Path, stamp, segments=None) -> tuple[_Opened | None, str]:
    """Open an index, or say why not.

    Whoosh leaves a file open when it fails to read a damaged index; the exception is
    dropped here, under a filter, so that file is closed now and silently, not later as a
    stray ResourceWarning in whatever code runs next.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            return _Opened(index_dir, stamp, segments), ""
        except Exception as exc:  # whatever is unreadable, the caller can only rebuild
            problem = f"{type(exc).__name__}: {exc}"
        gc.collect()
    return None, problem


def clean_query(text: str) -> str:
    """User input made safe to analyse: control characters dropped, length bounded."""
    text = _CONTROL.sub(" ", str(text))
    if len(text) > MAX_QUERY_CHARS:
        cut = text[:MAX_QUERY_CHARS]
        text = cut.rsplit(" ", 1)[0] if " " in cut else cut
    return text


@dataclass(frozen=True)
class _SegmentTerms:
    """The stems of each text field of one segment (a segment's terms never change)."""

    fields: dict[str, frozenset[str]]
    letters: frozenset[str]


@dataclass
class _Segments:
    """What an open index read from each of its segments."""

    terms: dict = dataclass_field(default_factory=dict)  # segment id -> _SegmentTerms
    stats: dict = dataclass_field(default_factory=dict)  # ranking.segment_key -> ranking.SegmentStats


class _Opened:
    """One open generation of the index, with what queries need from it.

    ``segments`` holds what was read from the segments of a previous generation of the
    same folder, reused for the segments still there.
    """

    def __init__(self, index_dir: Path, stamp, segments: dict | None = None):
        self.stamp = stamp
        self._catalogue: list | None = None
        self.ix = whoosh_index.open_dir(str(index_dir), indexname=INDEX_NAME)
        self.searcher = None
        try:
            self.searcher = self.ix.searcher()
            missing = [f for f in ("slug", "url", *TEXT_FIELDS) if f not in self.ix.schema]
            if missing:
                raise ValueError(f"fields {missing} missing")
            if self.searcher.doc_count() and _any_stored(self.searcher).get("schema_version") != SCHEMA_VERSION:
                raise ValueError("built by another version of kb_build")
            self.analyzer = self.ix.schema["body"].analyzer
            synonyms_text = (index_dir / SYNONYMS_NAME).read_text(encoding="utf-8")
            self.synonyms: Synonyms = parse_synonyms(synonyms_text, self.analyzer, SYNONYMS_NAME)
            self.synonym_keys = self.synonyms.index()
            self.synonym_span = self.synonyms.longest_entry()
            previous = segments or _Segments()
            self.segments = _Segments()
            self.field_terms, letters = self._read_vocabulary(previous.terms)
            self.vocabulary = set().union(*self.field_terms.values())
            for group in self.synonyms.groups:
                for entry in group:
                    for word in entry:
                        if not word.stopped:
                            self.vocabulary.add(word.text)
                            letters |= set(word.text)
            self.alphabet = "".join(sorted(letters))
            self.ranking = PostingScorer(self.searcher, FIELD_WEIGHTS, segments=previous.stats)
            # Keep only what concerns today's segments (merged ones are gone for good).
            self.segments.stats = {segment_key(leaf): stats for leaf, _, stats in self.ranking.leaves}
            self.words = WordSpans(self.analyzer)
        except BaseException:
            self.close()
            raise

    def _read_vocabulary(self, previous: dict) -> tuple[dict[str, frozenset[str]], set[str]]:
        """The stems of each text field, and the letters they use, segment by segment."""
        per_field: dict[str, list[frozenset[str]]] = {field: [] for field in TEXT_FIELDS}
        letters: set[str] = set()
        for leaf, _ in self.searcher.reader().leaf_readers():
            segment_id = leaf.segment().segment_id()
            terms = previous.get(segment_id) or _read_segment_terms(leaf)
            self.segments.terms[segment_id] = terms
            for field in TEXT_FIELDS:
                per_field[field].append(terms.fields[field])
            letters |= terms.letters
        field_terms = {
            field: sets[0] if len(sets) == 1 else frozenset().union(*sets) for field, sets in per_field.items()
        }
        return field_terms, letters

    def document_frequency(self, stem: str) -> int:
        """In how many articles ``stem`` appears, over all text fields (counted per field)."""
        return sum(self.searcher.doc_frequency(field, stem) for field in TEXT_FIELDS)

    def close(self):
        if self.searcher is not None:
            self.searcher.close()
        self.ix.close()

    # -- from words to a query --------------------------------------------------

    def fuzzy(self, stem: str) -> list[str]:
        """Known stems one edit away from ``stem``, most frequent first."""
        found = [(self.document_frequency(c), c) for c in _edits1(stem, self.alphabet) if c in self.vocabulary]
        found.sort(key=lambda pair: (-pair[0], pair[1]))
        return [c for _, c in found[:FUZZY_MAX_CANDIDATES]]

    def group_alternatives(self, group_number: int, matched: tuple[str, ...], weight: float) -> Alternatives:
        """All entries of a synonym group: the one typed at ``weight``, the others lower."""
        alternatives = []
        for entry in self.synonyms.groups[group_number]:
            stems = tuple(w.text for w in entry if not w.stopped)
            key = tuple(w.text for w in entry)
            entry_weight = weight if key == matched else weight * SYNONYM_WEIGHT
            # A phrase scores as the sum of its words: divide, so that "posta elettronica"
            # counts as much as "email", not twice as much.
            alternatives.append((stems, entry_weight / len(stems)))
        return alternatives

    def concepts(self, words: list[QueryWord]) -> list[Alternatives]:
        """Group query words into concepts, each a list of weighted alternatives."""
        concepts = []
        position = 0
        while position < len(words) and len(concepts) < MAX_CONCEPTS:
            matched = None
            for span in range(min(self.synonym_span, len(words) - position), 0, -1):
                key = tuple(w.text for w in words[position : position + span])
                if key in self.synonym_keys:
                    matched = key
                    break
            if matched is not None:
                concepts.append(self.group_alternatives(self.synonym_keys[matched], matched, 1.0))
                position += len(matched)
                continue
            word = words[position]
            position += 1
            if not word.stopped:
                concepts.append(self.word_alternatives(word))
        return concepts

    def word_alternatives(self, word: QueryWord) -> Alternatives:
        """A word outside the synonym table, plus its fuzzy matches if it is unknown."""
        alternatives = [((word.text,), 1.0)]
        if word.text in self.vocabulary or len(word.original) < FUZZY_MIN_LENGTH:
            return alternatives
        for candidate in self.fuzzy(word.text):
            if (candidate,) in self.synonym_keys:
                group = self.synonym_keys[(candidate,)]
                alternatives += self.group_alternatives(group, (candidate,), FUZZY_WEIGHT)
            else:
                alternatives.append(((candidate,), FUZZY_WEIGHT))
        return alternatives

    def clauses(self, text: str) -> dict[tuple[str, tuple[str, ...]], float]:
        """``{(field, stems): boost}`` for ``text``; each clause keeps its best weight."""
        words = analyze_words(self.analyzer, clean_query(text))
        clauses: dict[tuple[str, tuple[str, ...]], float] = {}
        for alternatives in self.concepts(words):
            for field, field_weight in FIELD_WEIGHTS.items():
                terms = self.field_terms[field]
                # Alternatives that cannot match in this field are skipped: no need to ask Whoosh.
                present = [(stems, weight) for stems, weight in alternatives if all(s in terms for s in stems)]
                if not present:
                    continue
                idfs = {stems: self.idf(field, stems) for stems, _ in present}
                blended = min(idfs.values())
                for stems, weight in present:
                    # Synonyms of one concept share its rarity: a rare synonym of a common
                    # word ("helpdesk" for "assistenza") must not outweigh the word typed.
                    boost = field_weight * weight * blended / idfs[stems]
                    key = (field, stems)
                    clauses[key] = max(clauses.get(key, 0.0), boost)
        return clauses

    def idf(self, field: str, stems: tuple[str, ...]) -> float:
        return max(self.searcher.idf(field, stem) for stem in stems)

    # -- searching ------------------------------------------------------------

    def search(self, text: str, limit: int) -> list[Hit]:
        clauses = self.clauses(text)
        if not clauses:
            return []
        stems = {stem for (_, words) in clauses for stem in words}
        return [
            self.hit(self.searcher.stored_fields(docnum), score, stems)
            for docnum, score in self.ranking.top(clauses, limit)
        ]

    def article(self, slug: str) -> Hit | None:
        docnum = self.searcher.document_number(slug=slug) if slug else None
        if docnum is None:
            return None
        return self.hit(self.searcher.stored_fields(docnum), 0.0, set())

    def related(self, categories: set[str], tags: set[str], limit: int) -> list[Hit]:
        ranked = []
        for docnum, category, article_tags, title in self.catalogue():
            shared = len(tags & article_tags)
            if shared or category in categories:
                ranked.append((-shared, category not in categories, title, docnum))
        ranked.sort()
        return [self.hit(self.searcher.stored_fields(docnum), 0.0, set()) for *_, docnum in ranked[:limit]]

    def catalogue(self) -> list[tuple[int, str, frozenset[str], str]]:
        """(docnum, category, tags folded, title folded) of every live article, read once per
        generation: reading all stored fields (bodies included) costs ~0.1 s per 1,000 articles."""
        if self._catalogue is None:
            self._catalogue = [
                (
                    docnum,
                    stored.get("category", ""),
                    frozenset(t.casefold() for t in stored.get("tags", "").split("\n") if t),
                    stored.get("title", "").casefold(),
                )
                for docnum, stored in self.searcher.reader().iter_docs()
            ]
        return self._catalogue

    def hit(self, stored: dict, score: float, stems: set[str]) -> Hit:
        body, summary = stored.get("body", ""), stored.get("summary", "")
        snippet = make_snippet(body, self.words.spans(body, stems))
        if not snippet:  # matched only in the title, tags...: show the summary instead
            snippet = make_snippet(summary, self.words.spans(summary, stems), whole=True)
            snippet = snippet or html.escape(summary, quote=True)
        return Hit(
            title=stored["title"],
            url=stored["url"],
            slug=stored["slug"],
            summary=summary,
            snippet=snippet,
            score=round(float(score), 4),
            category=stored.get("category", ""),
            ticket_form=stored.get("ticket_form") or None,
            tags=tuple(t for t in stored.get("tags", "").split("\n") if t),
        )


def _edits1(word: str, alphabet: str) -> set[str]:
    """Strings one edit from ``word`` (Damerau: a swap of neighbours counts as one edit)."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in alphabet}
    inserts = {a + c + b for a, b in splits for c in alphabet}
    return deletes | swaps | replaces | inserts


def _read_segment_terms(leaf) -> _SegmentTerms:
    fields = {}
    for field in TEXT_FIELDS:
        # lexicon(): the terms alone, without decoding each one's statistics (4x faster).
        fields[field] = frozenset(t.decode("utf-8") if isinstance(t, bytes) else t for t in leaf.lexicon(field))
    letters = frozenset("".join(set().union(*fields.values())))
    return _SegmentTerms(fields, letters)


def _any_stored(searcher) -> dict:
    """The stored fields of some live document (document 0 may have been deleted)."""
    reader = searcher.reader()
    return reader.stored_fields(next(iter(reader.all_doc_ids())))

