"""Snippets: the part of an article that shows why it matched, as safe HTML.

Finding the matched words again in a stored text must not cost a full analysis of it
(about 1 ms per article in pure Python) nor a regular-expression scan (0.5 ms). So the
lowercased text is searched with ``str.find`` for words that *start like* a query stem
(its first :data:`PREFIX` letters), and only those candidates are run through the index's
own analyzer (cached per distinct word) to keep the ones whose stem is in the query.
Italian accents sit on a word's last letter (città, perché), so a 4-letter start almost
never contains one; a word that does only misses its highlight.
"""

from __future__ import annotations

import html
import re

from .analysis import DerivationFilter

SNIPPET_CHARS = 200
PREFIX = 4  # Snowball may rewrite a word's ending ("assistenza" -> "assistent"), never its start
_WORD = re.compile(r"\w+")


class WordSpans:
    """Where the words of a text are, as the index sees them (stems); not thread-safe."""

    def __init__(self, analyzer, cache_size: int = 100_000):
        self.analyzer = analyzer
        self.cache_size = cache_size
        self._stems: dict[str, str | None] = {}
        # The derivational bridge maps "migr" (migrare) to "migrazion": look for both starts.
        self._sources: dict[str, set[str]] = {}
        for item in getattr(analyzer, "items", ()):
            if isinstance(item, DerivationFilter):
                for source, target in item.mapping.items():
                    self._sources.setdefault(target, set()).add(source)

    def spans(self, text: str, stems: set[str]) -> list[tuple[int, int]]:
        """Character spans of the words of ``text`` whose stem is in ``stems``."""
        starts = {start[:PREFIX] for stem in stems for start in (stem, *self._sources.get(stem, ()))}
        starts.discard("")
        lowered = text.lower()
        if len(lowered) != len(text):  # a letter that lowercases to two: keep offsets right
            lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
        found = []
        for start in starts:
            position = lowered.find(start)
            while position != -1:
                before = lowered[position - 1] if position else " "
                if not (before.isalnum() or before == "_"):
                    end = _WORD.match(lowered, position).end()
                    if self._stem(text[position:end]) in stems:
                        found.append((position, end))
                position = lowered.find(start, position + 1)
        return found

    def _stem(self, word: str) -> str | None:
        """The index term of one word, or None for a stop word."""
        if word not in self._stems:
            if len(self._stems) >= self.cache_size:
                self._stems.clear()
            tokens = [t.text for t in self.analyzer(word)]
            self._stems[word] = tokens[0] if len(tokens) == 1 else None
        return self._stems[word]


def make_snippet(text: str, spans: list[tuple[int, int]], whole: bool = False) -> str:
    """An HTML excerpt of ``text`` around the densest group of matched ``spans``.

    The text is escaped and the matches are wrapped in ``<mark>``; "…" marks a cut. With
    ``whole``, all of the (short) text is kept. Empty when there is no match.
    """
    if not spans:
        return ""
    spans = sorted(set(spans))
    start, end = (0, len(text)) if whole else _best_window(text, spans)
    out = ["… " if start > 0 else ""]
    position = start
    for span_start, span_end in spans:
        if span_start < position or span_end > end:
            continue
        out.append(html.escape(text[position:span_start], quote=True))
        out.append(f"<mark>{html.escape(text[span_start:span_end], quote=True)}</mark>")
        position = span_end
    out.append(html.escape(text[position:end], quote=True))
    out.append(" …" if end < len(text) else "")
    return " ".join("".join(out).split())


def _best_window(text: str, spans: list[tuple[int, int]]) -> tuple[int, int]:
    """The window of about ``SNIPPET_CHARS`` holding the most matches, cut at spaces."""
    best_first, best_count = 0, 0
    last = 0
    for first in range(len(spans)):
        last = max(last, first)
        while last < len(spans) and spans[last][1] - spans[first][0] <= SNIPPET_CHARS - 40:
            last += 1
        if last - first > best_count:
            best_first, best_count = first, last - first
    if best_count == 0:  # a single match longer than the window
        best_count = 1
    matched_from = spans[best_first][0]
    matched_to = spans[best_first + best_count - 1][1]
    room = max(0, SNIPPET_CHARS - (matched_to - matched_from))
    start = max(0, matched_from - min(room // 2, 60))
    end = min(len(text), max(start + SNIPPET_CHARS, matched_to))
    if start > 0:
        cut = text.find(" ", start, matched_from)
        start = cut + 1 if cut != -1 else start
    if end < len(text):
        cut = text.rfind(" ", matched_to, end)
        end = cut if cut != -1 else end
    return start, end
