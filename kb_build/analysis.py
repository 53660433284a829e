"""Italian text analysis: the one definition of "a word" shared by the index and the queries.

The chain (built by hand, see PITFALLS.md "Whoosh": ``LanguageAnalyzer('it')`` would also
drop English stop words such as "it")::

    words (apostrophes kept inside a word)
    -> lowercase
    -> elision stripping      l'email, dell’account, un'ora  ->  email, account, ora
    -> accent folding         perché -> perche, città -> citta
    -> Italian stop words     (folded, so "perche" typed without accent is one too)
    -> Snowball stemming      servizi, servizio -> serviz
    -> derivational bridge    migrazione, migrare -> one stem (Snowball keeps them apart)

The analyzer is pickled into the index's schema by Whoosh, so a searcher always analyses
queries exactly as the index it reads was analysed. The synonym table is data that
writers extend (``data/synonyms.txt``); :func:`load_synonyms` reads and checks it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from whoosh.analysis import CharsetFilter, Filter, LowercaseFilter, RegexTokenizer, StemFilter, StopFilter
from whoosh.lang import stemmer_for_language, stopwords_for_language
from whoosh.support.charset import accent_map

SYNONYMS_FILE = Path(__file__).parent / "data" / "synonyms.txt"

# A word: letters/digits, possibly joined by apostrophes (l'email stays one token here so
# that ElisionFilter can tell an elided article from the word it belongs to).
WORD_PATTERN = r"\w+(?:['’]\w+)*"
APOSTROPHES = re.compile(r"['’]")
MAX_WORD = 40  # longer "words" (hashes, pasted junk) are not indexed nor searched

# Articles, prepositions and pronouns that lose their vowel before another word.
ELIDED = frozenset(
    """
    l un dell all dall nell sull coll pell quell quest bell buon nessun sant tutt
    c d m n s t v qual mezz senz anch
    """.split()
)

# Words customers put in almost every question that Snowball's list lacks: question
# words and the forms of potere/dovere/volere ("posso", "devo", "vorrei").
EXTRA_STOP_WORDS = frozenset(
    """
    cosa cos quando fa po ecc fra
    posso puoi puo possiamo potete possono potrei potremmo
    devo devi deve dobbiamo dovete devono dovrei
    voglio vuoi vuole vogliamo volete vogliono vorrei vorremmo
    """.split()
)

# Italian only: Whoosh's Snowball list, folded like the text it is compared with.
STOP_WORDS = frozenset(w.translate(accent_map) for w in stopwords_for_language("it")) | ELIDED | EXTRA_STOP_WORDS

# Word families Snowball stems apart (short words keep their -zione: "migrazione" ->
# "migrazion" but "migrare" -> "migr"; "telefono" -> "telef" but "telefonica" ->
# "telefon"). Every member is mapped to the first one's stem.
# Changing this list needs an index rebuild (`kb build`).
DERIVATIONS = (
    ("migrazione", "migrare", "migrato", "migrata"),
    ("installazione", "installare", "installato"),
    ("reinstallazione", "reinstallare"),
    ("configurazione", "configurare", "configurato"),
    ("registrazione", "registrare", "registrato"),
    ("cancellazione", "cancellare", "cancellato"),
    ("sostituzione", "sostituire", "sostituito"),
    ("attivazione", "attivare", "attivato"),
    ("fatturazione", "fatturare", "fattura", "fatturato"),
    ("gestione", "gestire", "gestito", "gestisce"),
    ("telefonica", "telefono", "telefonare", "telefonata"),
)


class ElisionFilter(Filter):
    """Drop elided articles and prepositions: ``l'email`` -> ``email``, ``un’ora`` -> ``ora``.

    Both the straight (') and the typographic (’) apostrophe count. A part before an
    apostrophe that is not a known elision (``d'accordo`` keeps ``accordo``; an English
    ``don't`` keeps ``don`` and ``t``) becomes a word of its own.
    """

    def __init__(self, elided=ELIDED):
        self.elided = frozenset(elided)

    def __call__(self, tokens):
        for t in tokens:
            text = t.text
            if "'" not in text and "’" not in text:
                yield t
                continue
            parts = APOSTROPHES.split(text)
            start = t.startchar if t.chars else 0
            offset = 0
            for number, part in enumerate(parts):
                last = number == len(parts) - 1
                if part and (last or part not in self.elided):
                    t.text = part
                    if t.chars:
                        t.startchar = start + offset
                        t.endchar = start + offset + len(part)
                    yield t
                offset += len(part) + 1


class DerivationFilter(Filter):
    """Map stems of one word family to a single stem (``migr`` -> ``migrazion``)."""

    def __init__(self, mapping: dict[str, str]):
        self.mapping = dict(mapping)

    def __call__(self, tokens):
        mapping = self.mapping
        for t in tokens:
            if not t.stopped:
                t.text = mapping.get(t.text, t.text)
            yield t


_snowball_italian = stemmer_for_language("it")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Snowball Italian, cached: a C-level cache is several times faster than Whoosh's own
    (pure-Python) stem cache, and most words repeat. Module-level, so the pickled schema
    refers to it by name."""
    return _snowball_italian(word)


def _plain_stem(word: str) -> str:
    return stem(word.lower().translate(accent_map))


def derivation_map(families=DERIVATIONS) -> dict[str, str]:
    """``{stem: family stem}`` for the members Snowball does not already stem alike."""
    mapping = {}
    for family in families:
        target = _plain_stem(family[0])
        for word in family[1:]:
            stem = _plain_stem(word)
            if stem != target:
                mapping[stem] = target
    return mapping


def italian_analyzer():
    """The analyzer of every text field of the index (and so of every query)."""
    return (
        RegexTokenizer(WORD_PATTERN)
        | LowercaseFilter()
        | ElisionFilter()
        | CharsetFilter(accent_map)
        | StopFilter(stoplist=STOP_WORDS, minsize=2, maxsize=MAX_WORD)
        | StemFilter(stemfn=stem, cachesize=None)
        | DerivationFilter(derivation_map())
    )


# ---------------------------------------------------------------------------
# The same analysis, for indexing only, without Whoosh's token pipeline

_WORD = re.compile(WORD_PATTERN)


@lru_cache(maxsize=500_000)
def _word_terms(word: str) -> tuple[str, ...]:
    """The index terms of one tokenizer match, as :func:`italian_analyzer` makes them."""
    text = word.lower()
    if "'" in text or "’" in text:
        parts = APOSTROPHES.split(text)
        last = len(parts) - 1
        parts = [part for number, part in enumerate(parts) if part and (number == last or part not in ELIDED)]
    else:
        parts = [text]
    terms = []
    for part in parts:
        part = part.translate(accent_map)
        if 2 <= len(part) <= MAX_WORD and part not in STOP_WORDS:
            stemmed = stem(part)
            terms.append(_DERIVATIONS.get(stemmed, stemmed))
    return tuple(terms)


_DERIVATIONS = derivation_map()


def index_terms(text: str) -> dict[str, list[int]]:
    """``{term: positions}`` of ``text``: exactly what :func:`italian_analyzer` gives Whoosh's
    writer (terms, and positions renumbered over the words kept, as ``StopFilter`` does).

    Whoosh runs every token through a chain of generators and ``Token`` objects: about
    15 µs a word, most of a 5,000-article index build. Here the analysis of each distinct
    word is cached, and a document costs one dictionary look-up per word.
    ``tests/test_analysis.py`` checks that both give the same postings.
    """
    positions: dict[str, list[int]] = {}
    position = None
    for number, word in enumerate(_WORD.findall(text)):
        for term in _word_terms(word):
            position = number if position is None else position + 1
            found = positions.get(term)
            if found is None:
                positions[term] = [position]
            else:
                found.append(position)
    return positions


@dataclass(frozen=True)
class QueryWord:
    """One word of a query after analysis: ``text`` is the stem (the raw word if stopped)."""

    text: str
    original: str  # as typed, lowercased and folded: its length decides fuzzy matching
    stopped: bool


def analyze_words(analyzer, text: str) -> list[QueryWord]:
    """Analyse ``text`` keeping stop words (marked), so multi-word synonyms such as
    "quanto costa" can still be recognised."""
    words = []
    for token in analyzer(text, chars=True, removestops=False):
        original = text[token.startchar : token.endchar].lower().translate(accent_map)
        words.append(QueryWord(token.text, original, bool(token.stopped)))
    return words


# ---------------------------------------------------------------------------
# Synonyms (data/synonyms.txt)


class SynonymError(Exception):
    """The synonym file has lines we cannot use; the message is ``file:line: problem``."""


@dataclass(frozen=True)
class Synonyms:
    """Synonym groups, each entry already analysed into a tuple of words."""

    groups: tuple[tuple[tuple[QueryWord, ...], ...], ...]

    def longest_entry(self) -> int:
        return max((len(entry) for group in self.groups for entry in group), default=0)

    def index(self) -> dict[tuple[str, ...], int]:
        """``{stems of an entry: group number}`` for matching query words."""
        found = {}
        for number, group in enumerate(self.groups):
            for entry in group:
                found.setdefault(tuple(w.text for w in entry), number)
        return found


def parse_synonyms(text: str, analyzer, where: str = "synonyms.txt") -> Synonyms:
    """Parse the synonym format (see the header of ``data/synonyms.txt``).

    Raises :class:`SynonymError` listing every unusable line as ``file:line: problem``.
    """
    groups = []
    problems = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        entries = [e.strip() for e in line.split(",")]
        if any(not e for e in entries):
            problems.append(f"{where}:{number}: empty entry: remove the extra comma")
            continue
        if len(entries) < 2:
            problems.append(
                f"{where}:{number}: a group needs at least two entries separated by commas, "
                "e.g. 'email, posta, casella'"
            )
            continue
        group = []
        for entry in entries:
            words = tuple(analyze_words(analyzer, entry))
            if not any(not w.stopped for w in words):
                problems.append(
                    f"{where}:{number}: '{entry}' has only common words (articles, prepositions, "
                    "verbs like 'essere'): the search ignores them; use a more specific word"
                )
                continue
            group.append(words)
        if len(group) >= 2:
            groups.append(tuple(group))
    if problems:
        raise SynonymError("\n".join(problems))
    return Synonyms(tuple(groups))


def load_synonyms(analyzer, path: Path = SYNONYMS_FILE) -> Synonyms:
    """Read and parse a synonym file (by default the one shipped in ``kb_build/data``)."""
    from .text import display_path

    return parse_synonyms(path.read_text(encoding="utf-8"), analyzer, where=display_path(path))
