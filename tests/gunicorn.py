"""The real gunicorn with the repository's configuration (deploy/gunicorn.conf.py), on 127.0.0.1.

Used by the production tests (tests/test_gunicorn.py) and the load test (``make bench``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

from intake.settings import ENVIRONMENT

from .helpers import ROOT
from .mailserver import free_port

GUNICORN = Path(sys.executable).with_name("gunicorn")
CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
INTAKE_APP = "intake:create_app()"


def intake_environment(**settings: str) -> dict[str, str]:
    """This process's environment without any intake setting, plus ``settings``."""
    names = {variable.name for variable in ENVIRONMENT}
    return {k: v for k, v in os.environ.items() if k not in names} | settings


def command(app: str, port: int, workers: int = 2) -> list[str]:
    return [str(GUNICORN), "-c", str(CONFIG), "--bind", f"127.0.0.1:{port}", "--workers", str(workers), app]


@contextmanager
def gunicorn(app: str, env: dict[str, str], cwd: Path, *, workers: int = 2, ready: str = "/healthz", log_dir: Path | None = None):
    """Start gunicorn serving ``app`` (a WSGI URI, importable from ``cwd``); wait until ``ready``
    answers 200; yield ``(base URL, log file)``; stop it with SIGTERM (graceful) at the end."""
    port = free_port()
    log = Path(log_dir or cwd) / f"gunicorn-{port}.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(command(app, port, workers), cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                with urllib.request.urlopen(base + ready, timeout=5) as response:
                    if response.status == 200:
                        break
            except (OSError, urllib.error.HTTPError):
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"gunicorn did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.2)
        yield base, log
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
