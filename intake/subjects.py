"""The rule that refuses generic ticket subjects (SPEC I3).

The KB asks for a subject that names the service or domain and, in short, the problem,
"evitando diciture generiche tipo «richiesta assistenza», «apertura ticket», «aiuto!»".
The rule, in order:

1. **Shouting**: a subject of 8 or more letters written (almost) all in capitals
   (more than 70% of its letters) is refused: it reads as shouting and hides the words.
2. **Meaningful words**: the subject is lowercased, accents are folded and elisions split
   (``l'email`` -> ``l`` + ``email``); stop words and *generic words* (``assistenza``,
   ``problema``, ``urgente``, ``funziona``, ...) are removed. Domain names, e-mail
   addresses and numbers count as words. Fewer than 3 remaining words -> refused.

The word lists are data: ``intake/data/subjects.yaml``.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import yaml

WORDS_FILE = Path(__file__).parent / "data" / "subjects.yaml"
MIN_MEANINGFUL_WORDS = 3
SHOUTING_MIN_LETTERS = 8
SHOUTING_UPPER_SHARE = 0.7

EXAMPLES = "«Errore 550 inviando da info@example.it verso Gmail» oppure «Sito example.it lento da stamattina»"
GENERIC_MESSAGE = (
    "«{subject}» è un oggetto generico: indica il servizio o il dominio e, in poche parole, "
    "il problema (ad esempio " + EXAMPLES + "). Serve a indirizzare subito il ticket al tecnico giusto."
)
VAGUE_MESSAGE = (
    "L'oggetto «{subject}» è troppo vago: servono almeno 3 parole che descrivano il problema, "
    "con il servizio o il dominio (ad esempio " + EXAMPLES + ")."
)
SHOUTING_MESSAGE = (
    "Scrivi l'oggetto senza usare solo lettere maiuscole: indica il servizio o il dominio e, "
    "in poche parole, il problema (ad esempio " + EXAMPLES + ")."
)

# Words, domain names, e-mail addresses, numbers like 2024/118 or 5.1.1.
TOKEN_RE = re.compile(r"[\w@]+(?:[./\-@][\w@]+)*")
APOSTROPHES = "'’`´"


def fold(text: str) -> str:
    """Lowercase without accents: ``"Perché"`` -> ``"perche"``."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=1)
def _word_lists() -> tuple[frozenset[str], frozenset[str]]:
    data = yaml.safe_load(WORDS_FILE.read_text(encoding="utf-8"))
    return (
        frozenset(fold(w) for w in data["stop_words"]),
        frozenset(fold(w) for w in data["generic_words"]),
    )


def words(subject: str) -> list[str]:
    """The folded words of ``subject``, elisions split (``"l'email"`` -> ``["l", "email"]``)."""
    text = fold(subject)
    for mark in APOSTROPHES:
        text = text.replace(mark, " ")
    return TOKEN_RE.findall(text)


def meaningful_words(subject: str) -> list[str]:
    """The words of ``subject`` that are neither stop words nor generic words."""
    stop, generic = _word_lists()
    return [w for w in words(subject) if w not in stop and w not in generic and w.replace("_", "")]


def is_shouting(subject: str) -> bool:
    letters = [c for c in subject if c.isalpha()]
    if len(letters) < SHOUTING_MIN_LETTERS:
        return False
    upper = sum(1 for c in letters if c.isupper())
    return upper / len(letters) > SHOUTING_UPPER_SHARE


def subject_problem(subject: str) -> str | None:
    """The Italian message explaining why ``subject`` is refused, or None when it is specific.

    An empty subject is not judged here: the field's ``required`` check handles it.
    """
    subject = " ".join(subject.split())
    if not subject:
        return None
    if is_shouting(subject):
        return SHOUTING_MESSAGE
    found = meaningful_words(subject)
    if not found:
        return GENERIC_MESSAGE.format(subject=subject)
    if len(found) < MIN_MEANINGFUL_WORDS:
        return VAGUE_MESSAGE.format(subject=subject)
    return None
