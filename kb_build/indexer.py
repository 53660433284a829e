"""The search index written by a separate process, while MkDocs renders the pages.

Both start from the articles checked in the plugin's ``on_pre_build``; writing the index
(pure-Python analysis and Whoosh's writer: about 20 s for 5,000 articles) and rendering
the site (about as long) are each single-threaded, so on two cores they take the time of
the longer one instead of the sum. The plugin starts an :class:`IndexJob` in
``on_pre_build`` and waits for it in ``on_post_build``.

The child gets the index documents (:func:`kb_build.index.raw_fields`) pickled on its
standard input, writes the index into a staging folder and exits 0; on failure it prints
the :class:`~kb_build.index.IndexBuildError` message and exits 1. It asks the kernel to
kill it when its parent dies (Linux), so a build killed half way leaves no process
behind, only a staging folder that the next build removes (:func:`kb_build.swap.remove_leftovers`).
"""

from __future__ import annotations

import os
import pickle
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from .analysis import SYNONYMS_FILE
from .index import IndexBuildError


class IndexJob:
    """A full index build running in a child process, into ``target``, from raw documents
    (:func:`kb_build.index.raw_fields`: bodies in Markdown, turned into plain text there)."""

    def __init__(self, documents: list[dict], target: Path, final: Path, synonyms_file: Path = SYNONYMS_FILE):
        self.target = Path(target)
        self.final = Path(final)
        shutil.rmtree(self.target, ignore_errors=True)
        self.target.parent.mkdir(parents=True, exist_ok=True)
        # Messages go to a file, not a pipe: nobody reads a pipe while MkDocs renders,
        # and a child blocked on a full pipe would never finish.
        self._errors = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "kb_build.indexer", str(self.target), str(self.final), str(synonyms_file), str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=self._errors,
        )
        try:
            pickle.dump(documents, self.process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self.process.stdin.close()
        except OSError:  # the child died at start: wait() reports why
            pass

    def wait(self) -> Path:
        """Wait for the child; the folder written, or :class:`IndexBuildError`."""
        code = self.process.wait()
        self._errors.seek(0)
        message = self._errors.read().decode("utf-8", errors="replace").strip()
        self._errors.close()
        if code != 0:
            shutil.rmtree(self.target, ignore_errors=True)
            raise IndexBuildError(message or f"the index build process ended with status {code}")
        return self.target

    def cancel(self) -> None:
        """Stop the child (a build that failed elsewhere) and remove what it wrote."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._errors.close()
        shutil.rmtree(self.target, ignore_errors=True)


def die_with_parent(parent: int) -> None:
    """Linux: get SIGKILL when the parent process dies, whatever killed it."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # not Linux: no prctl (the next build still removes the leftovers)
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def main(argv: list[str]) -> int:
    from .index import document_from_raw, write_documents, write_staged

    target, final, synonyms_file, parent = Path(argv[0]), Path(argv[1]), Path(argv[2]), int(argv[3])
    die_with_parent(parent)
    raw = pickle.load(sys.stdin.buffer)
    documents = (document_from_raw(document) for document in raw)
    try:
        write_staged(lambda: write_documents(documents, target, synonyms_file), target, final)
    except IndexBuildError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
