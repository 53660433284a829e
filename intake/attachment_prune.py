"""Attachment files that no ticket references, removed after a grace period (``kb prune-attachments``).

:func:`intake.store.store_blob` writes a ticket's files before the transaction that stores
the ticket; when that transaction fails (database down, the same search token used twice
at once, an address that cannot receive mail), the files stay on disk, referenced by no
ticket. They cannot be deleted right after the failed commit: a concurrent request storing
an identical file finds it there, reuses it, and commits a ticket that references it.

So an orphan is removed only when it is older than a grace period (default 24 hours, far
longer than any request: gunicorn kills a worker silent for 30 s), and ``store_blob``
refreshes the modification time of every file it reuses. The order of the steps makes the
removal safe against a request in flight:

1. list the files last written or reused before the cutoff (now minus the grace period);
2. ask the database which of their hashes a stored ticket references; keep those;
3. move each other one aside under a new name (one atomic rename), then read its
   modification time again: a request that reused it *before* the rename refreshed it, so
   it is put back; a request coming *after* the rename finds no file and writes it again
   (``os.utime`` fails in ``store_blob``). Only a file still old once aside is deleted.

A request that committed its ticket before step 2 keeps the file by step 2; one still in
flight keeps it by step 3. Files set aside by a run that was killed during step 3 are put
back at the start of the next run. ``.tmp-*`` files, left by a ``store_blob`` interrupted
while writing, are removed after the same grace period (one being written is recent).
Directories are never removed: ``store_blob`` creates its temporary file in a directory it
has just made, and removing it in between would fail that request (there are at most 256).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, inspect, select

from .db import Attachment, Database, Ticket
from .store import TMP_PREFIX

DEFAULT_GRACE_HOURS = 24
MIN_GRACE_HOURS = 1  # a request lives seconds; an hour leaves room for a slow disk or clock step
ASIDE_PREFIX = ".prune-"  # a file moved aside by step 3, for a fraction of a second
QUERY_CHUNK = 500  # hashes per IN (...) query: well below SQLite's and PostgreSQL's limits
_DIR = re.compile(r"[0-9a-f]{2}")
_HASH = re.compile(r"[0-9a-f]{64}")


class PruneRefused(RuntimeError):
    """The database does not look like the intake's: nothing was removed; the message says what to check."""


@dataclass(frozen=True)
class StoredFile:
    """A file in the attachments folder: its path, size in bytes and modification time (epoch seconds)."""

    path: Path
    size: int
    mtime: float

    @property
    def modified(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.mtime, dt.UTC)


@dataclass
class PruneResult:
    """What a run removed (or, with ``dry_run``, would remove)."""

    dry_run: bool
    orphans: list[StoredFile] = field(default_factory=list)  # attachments no ticket references
    temporaries: list[StoredFile] = field(default_factory=list)  # stale .tmp-* files
    kept_in_use: int = 0  # orphans reused by a request while this run looked at them
    restored: int = 0  # files set aside by an interrupted run, put back
    problems: list[str] = field(default_factory=list)  # files that could not be removed, and why

    @property
    def orphan_bytes(self) -> int:
        return sum(f.size for f in self.orphans)

    @property
    def temporary_bytes(self) -> int:
        return sum(f.size for f in self.temporaries)


def prune_attachments(
    database: Database,
    attachments_dir: Path,
    grace: dt.timedelta,
    *,
    dry_run: bool = False,
) -> PruneResult:
    """Remove the files in ``attachments_dir`` that no ticket references and are older than ``grace``.

    Nothing is removed before the database has answered.

    :raise PruneRefused: the database has no intake tables, or no ticket although old files
        are there (a wrong ``DATABASE_URL`` would otherwise make every file an orphan).
    """
    result = PruneResult(dry_run=dry_run)
    cutoff = time.time() - grace.total_seconds()  # the files' times come from this machine's clock too
    attachments_dir = Path(attachments_dir)
    if not attachments_dir.is_dir():
        _check_none_expected(database, attachments_dir)
        return result
    if not dry_run:
        result.restored = _put_back_set_aside(attachments_dir)
    old_blobs: dict[str, StoredFile] = {}
    old_temporaries: list[StoredFile] = []
    for kind, digest, stored in _scan(attachments_dir):
        if stored.mtime >= cutoff:
            continue
        if kind == "tmp":
            old_temporaries.append(stored)
        else:
            old_blobs[digest] = stored
    referenced = referenced_hashes(database, old_blobs) if old_blobs else set()
    for stored in old_temporaries:
        _remove_temporary(stored, result)
    for digest in sorted(old_blobs.keys() - referenced):
        _remove_orphan(old_blobs[digest], cutoff, result)
    return result


def referenced_hashes(database: Database, hashes: Iterable[str]) -> set[str]:
    """Those of ``hashes`` that an attachment row of a stored ticket names (committed rows only).

    :raise PruneRefused: see :func:`prune_attachments`.
    """
    _check_tables(database)
    wanted = sorted(hashes)
    found: set[str] = set()
    with database.session() as session:
        if wanted and not session.scalar(select(func.count()).select_from(Ticket)):
            raise PruneRefused(f"the database holds no ticket at all, yet {len(wanted)} old attachment file(s) are on disk")
        for start in range(0, len(wanted), QUERY_CHUNK):
            chunk = wanted[start : start + QUERY_CHUNK]
            found.update(session.scalars(select(Attachment.sha256).where(Attachment.sha256.in_(chunk)).distinct()))
    return found


def _check_none_expected(database: Database, attachments_dir: Path) -> None:
    """No attachments folder is fine before the first file; afterwards it means a wrong folder."""
    _check_tables(database)
    with database.session() as session:
        rows = session.scalar(select(func.count()).select_from(Attachment))
    if rows:
        raise PruneRefused(
            f"{attachments_dir} does not exist, while tickets reference {rows} attachment file(s) "
            "(on an instance that has stored no attachment yet, create the empty folder)"
        )


def _check_tables(database: Database) -> None:
    if not inspect(database.engine).has_table(Attachment.__tablename__):
        raise PruneRefused("the database has no intake tables")


def _scan(attachments_dir: Path) -> Iterator[tuple[str, str, StoredFile]]:
    """``(kind, hash, file)`` for every file ``store_blob`` may have left: kind ``blob`` or ``tmp``.

    Other names (an operator's notes, a symlink) are not ours and are left alone.
    """
    if not attachments_dir.is_dir():
        return
    for folder in _entries(attachments_dir):
        if not (_DIR.fullmatch(folder.name) and folder.is_dir(follow_symlinks=False)):
            continue
        for entry in _entries(Path(folder.path)):
            if not entry.is_file(follow_symlinks=False):
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:  # removed meanwhile (a rename by store_blob or another run)
                continue
            stored = StoredFile(Path(entry.path), st.st_size, st.st_mtime)
            if _HASH.fullmatch(entry.name) and entry.name.startswith(folder.name):
                yield "blob", entry.name, stored
            elif entry.name.startswith(TMP_PREFIX):
                yield "tmp", "", stored


def _entries(folder: Path) -> list[os.DirEntry]:
    with os.scandir(folder) as entries:
        return sorted(entries, key=lambda e: e.name)


def _put_back_set_aside(attachments_dir: Path) -> int:
    """Rename the files a killed run left aside (step 3) back to their names; return how many."""
    count = 0
    for aside in sorted(attachments_dir.glob(f"??/{ASIDE_PREFIX}*")):
        digest = aside.name.removeprefix(ASIDE_PREFIX)
        if _HASH.fullmatch(digest):
            try:
                os.replace(aside, aside.with_name(digest))  # a copy written meanwhile has the same bytes
            except FileNotFoundError:
                continue
            count += 1
    return count


def _remove_temporary(stored: StoredFile, result: PruneResult) -> None:
    if not result.dry_run:
        try:
            stored.path.unlink()
        except FileNotFoundError:
            return
        except OSError as exc:
            result.problems.append(f"{stored.path}: {exc.strerror or exc}")
            return
    result.temporaries.append(stored)


def _remove_orphan(stored: StoredFile, cutoff: float, result: PruneResult) -> None:
    """Step 3: set the file aside, look at its age again, delete it or put it back."""
    path = stored.path
    if result.dry_run:
        result.orphans.append(stored)
        return
    aside = path.with_name(ASIDE_PREFIX + path.name)
    try:
        os.rename(path, aside)
        mtime = aside.stat().st_mtime
        if mtime >= cutoff:  # store_blob reused it before the rename: a ticket is about to reference it
            os.replace(aside, path)
            result.kept_in_use += 1
            return
        aside.unlink()
    except FileNotFoundError:  # another run or a concurrent rename got there first
        return
    except OSError as exc:
        result.problems.append(f"{path}: {exc.strerror or exc}")
        return
    result.orphans.append(stored)
