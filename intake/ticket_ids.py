"""Ticket IDs like ``FPL-809-43017``: a configurable prefix and eight random digits.

The digits come from :mod:`secrets`, so knowing one ID tells nothing about the next one.
Uniqueness is the database's job: the ID is the primary key and the store retries with a
fresh ID when an insert collides (no check-then-insert race).
"""

from __future__ import annotations

import re
import secrets

from .settings import DEFAULT_PREFIX, validate_prefix

# Looked up at call time, so a test can force a collision with a scripted source.
_randbelow = secrets.randbelow


def new_ticket_id(prefix: str = DEFAULT_PREFIX) -> str:
    """A fresh random ID, ``PREFIX-NNN-NNNNN`` (10^8 possible IDs per prefix)."""
    return f"{prefix}-{_randbelow(1000):03d}-{_randbelow(100_000):05d}"


def ticket_id_pattern(prefix: str = DEFAULT_PREFIX) -> re.Pattern[str]:
    """The exact shape of an ID with ``prefix``, e.g. to recognise an ID in a reply's subject."""
    return re.compile(rf"{re.escape(validate_prefix(prefix))}-\d{{3}}-\d{{5}}")


def is_ticket_id(text: str, prefix: str = DEFAULT_PREFIX) -> bool:
    return bool(ticket_id_pattern(prefix).fullmatch(text))
