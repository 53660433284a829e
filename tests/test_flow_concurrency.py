"""50 customers submitting at the same moment to a real server process (``kb serve``, as ``make run``).

Each customer has their own cookies and goes through the search step, then all 50 POST
their form at once (a barrier): every one gets a ticket, every ID is distinct, the SQLite
file holds exactly those 50 tickets, and the background sender writes their 100 e-mails.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import func, select

from intake import DEFAULT_FORMS_DIR
from intake.db import Database, OutboxMessage, Ticket
from intake.formspec import load_definitions

from .intake_data import valid_data
from .mailserver import free_port

KB = Path(sys.executable).with_name("kb")
CUSTOMERS = 50
EMAIL_FORM = load_definitions(DEFAULT_FORMS_DIR)["email"]


@pytest.fixture(scope="module")
def served(tmp_path_factory, kb_index):
    """``kb serve`` in its own process, with its own instance folder (SQLite, mail files); yields (URL, instance)."""
    root = tmp_path_factory.mktemp("served")
    site = root / "site"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html><title>KB</title>", encoding="utf-8")
    instance = root / "instance"
    instance.mkdir()
    (instance / "config.py").write_text(f"SECRET_KEY = 'concurrency'\nKB_INDEX_DIR = {str(kb_index)!r}\n", encoding="utf-8")
    port = free_port()
    with open(root / "server.log", "wb") as log:
        process = subprocess.Popen(
            [str(KB), "serve", "--port", str(port), "--site", str(site), "--instance", str(instance)],
            cwd=root,
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


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Customer:
    """One browser: its own cookie jar (session, CSRF token)."""

    def __init__(self, base: str):
        self.base = base
        cookies = urllib.request.HTTPCookieProcessor(CookieJar())
        self.browse = urllib.request.build_opener(cookies)
        self.post_only = urllib.request.build_opener(cookies, NoRedirect)

    def get(self, path: str) -> str:
        with self.browse.open(self.base + path, timeout=60) as response:
            return response.read().decode("utf-8")

    def open_form(self) -> dict:
        """Search, pick the e-mail form: the hidden fields the form carries."""
        results = self.get("/richiesta/?" + urlencode({"q": "la posta non arriva"}))
        record = re.search(r'name="ricerca" value="([^"]+)"', results).group(1)
        form = self.get("/richiesta/apri?" + urlencode({"ricerca": record, "tipo": "email"}))
        return {
            "csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1),
            "token": re.search(r'name="token" value="([^"]+)"', form).group(1),
        }

    def submit(self, hidden: dict) -> str:
        """POST the form; the ticket ID from the redirect to the confirmation page."""
        body = urlencode(valid_data(EMAIL_FORM) | hidden).encode()
        try:
            self.post_only.open(self.base + "/richiesta/modulo/email", data=body, timeout=120)
        except urllib.error.HTTPError as answer:
            assert answer.code == 303, answer.read()[:2000]
            location = answer.headers["Location"]
        else:
            raise AssertionError("the form was not accepted")
        assert location.startswith("/richiesta/ricevuta/"), location
        ticket_id = location.rsplit("/", 1)[-1]
        assert ticket_id in self.get(location)  # this customer's confirmation page
        return ticket_id


def test_fifty_concurrent_submissions_get_fifty_distinct_tickets(served):
    base, instance = served
    customers = [Customer(base) for _ in range(CUSTOMERS)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        forms = list(pool.map(Customer.open_form, customers))
    start = threading.Barrier(CUSTOMERS)

    def submit_together(pair):
        customer, hidden = pair
        start.wait(timeout=60)
        return customer.submit(hidden)

    with ThreadPoolExecutor(max_workers=CUSTOMERS) as pool:
        ids = list(pool.map(submit_together, zip(customers, forms)))

    assert len(ids) == CUSTOMERS and len(set(ids)) == CUSTOMERS
    assert all(re.fullmatch(r"FPL-\d{3}-\d{5}", i) for i in ids)
    database = Database(f"sqlite:///{instance / 'intake.sqlite3'}")
    try:
        with database.session() as session:
            assert set(session.scalars(select(Ticket.id))) == set(ids)
            assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 2 * CUSTOMERS
    finally:
        database.dispose()
    # The background sender of `kb serve` writes every e-mail as a file.
    mail = instance / "mail"
    deadline = time.monotonic() + 60
    while len(list(mail.glob("*.eml"))) < 2 * CUSTOMERS and time.monotonic() < deadline:
        time.sleep(0.2)
    files = list(mail.glob("*.eml"))
    assert len(files) == 2 * CUSTOMERS
    assert {f.name.split("-customer-")[0].split("-department-")[0] for f in files} == set(ids)
