"""A test client that behaves like a customer: it searches before it opens a form."""

from __future__ import annotations

import re
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.cookiejar import CookieJar
from urllib.parse import parse_qs, urlencode, urlsplit

from flask.testing import FlaskClient

from .helpers import SEARCH_RECORD, NoRedirect

FORM_PATH = re.compile(r"^/modulo/([a-z][a-z0-9-]*)$")


class CustomerClient(FlaskClient):
    """A Flask test client that goes through the search step before every form request.

    A request to ``/modulo/<tipo>`` without a search token first runs the real search step
    over HTTP (``GET /?q=...``, then "Continua con la richiesta" for ``tipo``, ``GET /apri``)
    and sends the token it got: in the query string on GET, in the form data on POST. So the
    form tests exercise the forms as customers reach them; the gate's own tests use a plain
    ``FlaskClient``, which sends only what the test gives it.
    """

    search_query = "la posta non arriva"

    def search_token(self, tipo: str, query: str | None = None) -> str | None:
        """A fresh search token for form ``tipo``, as the search step gives it (None: no such form)."""
        page = self.get("/", query_string={"q": query or self.search_query})
        assert page.status_code == 200, page.status_code
        record = SEARCH_RECORD.search(page.get_data(as_text=True))
        assert record, "the search step issued no search token"
        response = self.get("/apri", query_string={"ricerca": record.group(1), "tipo": tipo})
        assert response.status_code == 303, response.status_code
        return parse_qs(urlsplit(response.location).query).get("token", [None])[0]

    def open(self, *args, **kwargs):
        path = args[0] if args else kwargs.get("path")
        match = FORM_PATH.match(path) if isinstance(path, str) else None
        if match:
            method = kwargs.get("method", "GET").upper()
            if method == "GET" and "token" not in (kwargs.get("query_string") or {}):
                token = self.search_token(match.group(1))
                if token:
                    kwargs["query_string"] = {**(kwargs.get("query_string") or {}), "token": token}
            elif method == "POST" and isinstance(kwargs.get("data"), dict) and "token" not in kwargs["data"]:
                token = self.search_token(match.group(1))
                if token:
                    kwargs["data"] = {**kwargs["data"], "token": token}
        return super().open(*args, **kwargs)


# --- customers of a real server process (kb serve, gunicorn) -------------------------------------


class LiveCustomer:
    """One browser on a served intake (``intake_url`` like ``http://127.0.0.1:8000/richiesta``):
    its own cookie jar (session, CSRF token); searches, opens the e-mail form, sends it."""

    def __init__(self, intake_url: str):
        self.intake_url = intake_url.rstrip("/")
        self.prefix = urlsplit(self.intake_url).path
        self.jar = CookieJar()
        cookies = urllib.request.HTTPCookieProcessor(self.jar)
        self.browse = urllib.request.build_opener(cookies)
        self.post_only = urllib.request.build_opener(cookies, NoRedirect)

    def get(self, path: str) -> str:
        with self.browse.open(self.intake_url + path, timeout=60) as response:
            return response.read().decode("utf-8")

    def open_form(self) -> dict:
        """Search, pick the e-mail form: the hidden fields the form carries."""
        results = self.get("/?" + urlencode({"q": "la posta non arriva"}))
        record = SEARCH_RECORD.search(results).group(1)
        form = self.get("/apri?" + urlencode({"ricerca": record, "tipo": "email"}))
        return {
            "csrf_token": re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1),
            "token": re.search(r'name="token" value="([^"]+)"', form).group(1),
        }

    def cookie_header(self) -> str:
        """The ``Cookie`` header this browser would send (its session)."""
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.jar)

    def submit(self, answers: dict, hidden: dict) -> str:
        """POST the form; the ticket ID from the redirect to the confirmation page."""
        body = urlencode(answers | hidden).encode()
        try:
            self.post_only.open(self.intake_url + "/modulo/email", data=body, timeout=120)
        except urllib.error.HTTPError as answer:
            assert answer.code == 303, answer.read()[:2000]
            location = answer.headers["Location"]
        else:
            raise AssertionError("the form was not accepted")
        assert location.startswith(self.prefix + "/ricevuta/"), location
        ticket_id = location.rsplit("/", 1)[-1]
        assert ticket_id in self.get(location[len(self.prefix):])  # this customer's confirmation page
        return ticket_id


def submit_all_at_once(intake_url: str, answers: dict, customers: int) -> list[str]:
    """``customers`` customers search and open the form (10 at a time), then all POST at the
    same moment (a barrier); returns the ticket IDs they were given, in order."""
    people = [LiveCustomer(intake_url) for _ in range(customers)]
    with ThreadPoolExecutor(max_workers=10) as pool:
        forms = list(pool.map(LiveCustomer.open_form, people))
    start = threading.Barrier(customers)

    def submit_together(pair):
        customer, hidden = pair
        start.wait(timeout=60)
        return customer.submit(answers, hidden)

    with ThreadPoolExecutor(max_workers=customers) as pool:
        return list(pool.map(submit_together, zip(people, forms)))


def assert_stored_with_their_emails(database_url: str, ids: list[str]) -> None:
    """The database holds exactly the tickets ``ids``, each with its two outbox e-mails."""
    from sqlalchemy import func, select

    from intake.db import Database, OutboxMessage, Ticket

    database = Database(database_url)
    try:
        with database.session() as session:
            assert set(session.scalars(select(Ticket.id))) == set(ids)
            assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 2 * len(ids)
    finally:
        database.dispose()
