"""Small text helpers shared by the importer, the article model and the checks."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_NON_WORD = re.compile(r"[^0-9a-z]+")


@lru_cache(maxsize=65_536)
def fold(text: str) -> str:
    """Lowercase ``text`` and drop accents: ``"Perché È"`` ⇒ ``"perche e"``.

    Typographic apostrophes and quotes become spaces, so ``"l’email"`` ⇒ ``"l email"``.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_NON_WORD.sub(" ", stripped).split())


def slugify(text: str, max_length: int = 80) -> str:
    """URL slug of a title: ``"Cos’è un “ticket”?"`` ⇒ ``"cos-e-un-ticket"``.

    Cut at a word boundary so that long titles still give readable URLs.
    """
    words = fold(text).split()
    slug = ""
    for word in words:
        candidate = f"{slug}-{word}" if slug else word
        if len(candidate) > max_length:
            break
        slug = candidate
    return slug or "articolo"


def display_path(path) -> str:
    """Path as a writer sees it in messages: relative to the working directory when inside it."""
    import os

    text = os.fspath(path)
    try:
        rel = os.path.relpath(text)
    except ValueError:  # other drive on Windows
        return text
    return text if rel.startswith("..") else rel
