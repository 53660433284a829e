"""The build's child processes (the index writer, the other page renderers), both sides.

The build side, :class:`Child`, runs ``python -m <module> <args...> <its own pid>``, gives
it its input pickled on standard input, and collects its exit status, standard output and
standard error from temporary files: not pipes, which nobody reads while MkDocs renders (a
child blocked on a full pipe would never finish). The child side, :func:`start_child`,
asks the kernel to kill the child when its parent dies (Linux) and reads the input: a build
killed half way leaves no process behind, only staging folders that the next build removes
(:func:`kb_build.swap.remove_leftovers`).
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import tempfile


class Child:
    """``python -m module *args <this process's pid>``, started now with ``payload`` (bytes,
    already pickled: one pickle may serve several children) on its standard input."""

    def __init__(self, module: str, args: list[str], payload: bytes):
        self._out, self._err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, *args, str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=self._out,
            stderr=self._err,
            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},  # Material's end-of-life banner
        )
        try:
            self.process.stdin.write(payload)  # the child reads it first thing
            self.process.stdin.close()
        except OSError:  # the child died at start: wait() reports why
            pass

    def wait(self) -> tuple[int, str, str]:
        """The child's exit status, standard output and standard error, once it has ended."""
        code = self.process.wait()
        out, err = (_read(f) for f in (self._out, self._err))
        self._close()
        return code, out, err

    def kill(self) -> None:
        """Stop the child (the build failed elsewhere) if it still runs."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._close()

    def _close(self) -> None:
        self._out.close()
        self._err.close()


def _read(file) -> str:
    file.seek(0)
    return file.read().decode("utf-8", errors="replace")


def start_child(argv: list[str]):
    """In the child: die with the parent (its pid is the last argument); the unpickled input."""
    die_with_parent(int(argv[-1]))
    return pickle.load(sys.stdin.buffer)


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
