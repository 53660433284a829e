"""50 customers submitting at the same moment to a real server process (``kb serve``, as ``make run``).

Each customer has their own cookies and goes through the search step, then all 50 POST
their form at once (a barrier): every one gets a ticket, every ID is distinct, the SQLite
file holds exactly those 50 tickets, and the background sender writes their 100 e-mails.
The same on PostgreSQL under gunicorn, the production server: tests/test_gunicorn.py.
"""

from __future__ import annotations

import re
import subprocess
import time
import urllib.request

import pytest


from .gunicorn import intake_environment
from .helpers import KB, wait_for_files
from .intake_client import assert_stored_with_their_emails, submit_all_at_once
from .intake_data import DEFINITIONS, valid_data
from .mailserver import free_port

CUSTOMERS = 50
EMAIL_FORM = DEFINITIONS["email"]


@pytest.fixture(scope="module")
def served(tmp_path_factory, kb_index):
    """``kb serve`` in its own process, with its own instance folder (SQLite, mail files); yields (URL, instance)."""
    root = tmp_path_factory.mktemp("served")
    site = root / "site"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html><title>KB</title>", encoding="utf-8")
    instance = root / "instance"
    # 50 customers from one address: the submit limit is raised by configuration, as an
    # operator would for a known office behind one NAT.
    env = intake_environment(KB_INDEX_DIR=str(kb_index), RATELIMIT_SEARCH="1000 per minute", RATELIMIT_SUBMIT="1000 per minute")
    port = free_port()
    with open(root / "server.log", "wb") as log:
        process = subprocess.Popen(
            [str(KB), "serve", "--port", str(port), "--site", str(site), "--instance", str(instance)],
            cwd=root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(base + "/richiesta/", timeout=5).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise AssertionError((root / "server.log").read_text(encoding="utf-8", errors="replace"))
            time.sleep(0.2)
    yield base, instance
    process.terminate()
    process.wait(timeout=15)


def test_fifty_concurrent_submissions_get_fifty_distinct_tickets(served):
    base, instance = served
    ids = submit_all_at_once(base + "/richiesta", valid_data(EMAIL_FORM), CUSTOMERS)

    assert len(ids) == CUSTOMERS and len(set(ids)) == CUSTOMERS
    assert all(re.fullmatch(r"FPL-\d{3}-\d{5}", i) for i in ids)
    assert_stored_with_their_emails(f"sqlite:///{instance / 'intake.sqlite3'}", ids)
    # The background sender of `kb serve` writes every e-mail as a file.
    files = wait_for_files(instance / "mail", 2 * CUSTOMERS, timeout=60)
    assert len(files) == 2 * CUSTOMERS
    assert {f.name.split("-customer-")[0].split("-department-")[0] for f in files} == set(ids)
