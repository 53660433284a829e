"""Replace a published folder (the site, the search index) by a freshly built one.

On Linux the two folders are exchanged with one ``renameat2(RENAME_EXCHANGE)`` call, so a
reader opening the path sees either the old or the new folder, never none. Elsewhere (or
on a file system without it) two renames are used: the path is missing for an instant,
which readers must tolerate (:class:`kb_build.search.Searcher` retries once).
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import shutil
from pathlib import Path

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _load_renameat2():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_renameat2 = _load_renameat2()


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap the paths ``a`` and ``b``; False when the system cannot."""
    if _renameat2 is None:
        return False
    result = _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(a), None, str(b))


def swap_in(new: Path, final: Path) -> None:
    """Replace ``final`` with ``new`` (both on one file system); the old copy is removed last."""
    new, final = Path(new), Path(final)
    if not final.exists():
        os.replace(new, final)
        return
    if exchange(new, final):
        shutil.rmtree(new, ignore_errors=True)  # ``new`` now names the old folder
        return
    old = final.with_name(f".{final.name}.old-{os.getpid()}")
    shutil.rmtree(old, ignore_errors=True)
    os.replace(final, old)
    os.replace(new, final)
    shutil.rmtree(old, ignore_errors=True)


def staging_dir(final: Path, kind: str) -> Path:
    """The sibling folder a new copy of ``final`` is written to before it replaces it
    (``.kb-index.tmp-<pid>``, ``.site.building-<pid>``, ``.site.shard1-<pid>``), emptied; a leftover of a killed
    build is found by its name (:func:`remove_leftovers`)."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = final.with_name(f".{final.name}.{kind}-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    return staging


_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?:tmp|staged|building|old|shard\d+)-(?P<pid>\d+)$")


def remove_leftovers(final: Path) -> list[Path]:
    """Remove what builds killed half way left next to ``final`` (``.site.building-<pid>``,
    ``.kb-index.staged-<pid>``...): the folders of processes that no longer run.

    Folders of running processes are kept: another build may be writing them right now.
    Returns the folders removed.
    """
    final = Path(final)
    removed = []
    try:
        siblings = list(final.parent.iterdir())
    except FileNotFoundError:
        return removed
    for path in siblings:
        match = _LEFTOVER.match(path.name)
        if match is None or match.group("name") != final.name or _running(int(match.group("pid"))):
            continue
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True
