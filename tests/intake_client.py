"""A test client that behaves like a customer: it searches before it opens a form."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from flask.testing import FlaskClient

FORM_PATH = re.compile(r"^/modulo/([a-z][a-z0-9-]*)$")
RECORD = re.compile(r'name="ricerca" value="([^"]+)"')


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
        record = RECORD.search(page.get_data(as_text=True))
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
