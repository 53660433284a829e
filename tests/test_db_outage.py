"""The database briefly unavailable while a customer sends a form (real PostgreSQL servers).

The customer gets an Italian page with everything typed (the token still unused, so sending
again works), nothing partial is stored, and once the database is back the same form is
accepted once. ``/healthz`` says 503 meanwhile.
"""

from __future__ import annotations

import html
import io

import pytest
from sqlalchemy import create_engine


from .conftest import customer_app, intake_test_config
from .helpers import NOTHING, stored
from .intake_data import DEFINITIONS, valid_data
from .postgres import fresh_schema, postgres_instance
from .samples import pdf_bytes

EMAIL_FORM = DEFINITIONS["email"]
SUBJECT = "La casella info@rossi.it non riceve più nulla da stamattina"
DOWN_MESSAGE = "Non è stato possibile registrare la richiesta per un problema temporaneo del servizio"


def form_data(client) -> dict:
    """A complete e-mail form with an attachment and the token of a real search."""
    data = valid_data(EMAIL_FORM, oggetto=SUBJECT) | {"token": client.search_token("email")}
    return data | {"allegati": [(io.BytesIO(pdf_bytes()), "errore.pdf")]}


def again(data: dict) -> dict:
    """The same answers sent once more (a file object is read by the first POST)."""
    return data | {"allegati": [(io.BytesIO(pdf_bytes()), "errore.pdf")]}


def assert_form_kept(response):
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    assert 'lang="it"' in page and DOWN_MESSAGE in page
    assert f'value="{SUBJECT}"' in page  # what the customer typed is still there
    assert 'name="token" value="' in page  # and the search, so sending again works
    assert "gli allegati vanno scelti di nuovo" in page  # browsers never send files back


@pytest.fixture
def own_server():
    """A PostgreSQL server of this test only: it will be stopped and started again."""
    with postgres_instance() as server:
        yield server


def test_database_down_during_the_post_then_back(own_server, tmp_path, kb_index):
    app = customer_app(intake_test_config(tmp_path, KB_INDEX_DIR=str(kb_index), DATABASE_URL=own_server.url))
    client = app.test_client()
    data = form_data(client)
    assert client.get("/healthz").status_code == 200

    own_server.stop()
    try:
        response = client.post("/modulo/email", data=data, content_type="multipart/form-data")
        assert_form_kept(response)
        health = client.get("/healthz")
        assert health.status_code == 503
        assert health.get_json()["database"]["ok"] is False and health.get_json()["index"]["ok"] is True
        assert "postgres@" not in health.get_data(as_text=True)
    finally:
        own_server.start()

    assert stored(app) == NOTHING
    resent = client.post("/modulo/email", data=again(data), content_type="multipart/form-data")
    assert resent.status_code == 303 and resent.location.startswith("/ricevuta/")
    assert stored(app) == {"tickets": 1, "attachments": 1, "outbox": 2, "ticket events": 1}
    assert client.get("/healthz").status_code == 200
    app.extensions["intake.db"].dispose()


def test_a_failure_in_the_middle_of_the_transaction_stores_nothing_partial(postgres_admin_url, tmp_path, kb_index):
    """The outbox table is locked by another session: the ticket and attachment rows are
    already inserted when the outbox insert gives up (lock_timeout), and all of it is rolled back."""
    with fresh_schema(postgres_admin_url) as url:
        url += "%20-clock_timeout%3D1000"  # the URL's options: give up on a lock after 1 s
        app = customer_app(intake_test_config(tmp_path, KB_INDEX_DIR=str(kb_index), DATABASE_URL=url))
        client = app.test_client()
        data = form_data(client)
        locker = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        try:
            with locker.begin() as connection:
                connection.exec_driver_sql("LOCK TABLE outbox IN ACCESS EXCLUSIVE MODE")
                response = client.post("/modulo/email", data=data, content_type="multipart/form-data")
            assert_form_kept(response)
            assert stored(app) == NOTHING

            resent = client.post("/modulo/email", data=again(data), content_type="multipart/form-data")
            assert resent.status_code == 303
            assert stored(app) == {"tickets": 1, "attachments": 1, "outbox": 2, "ticket events": 1}
        finally:
            locker.dispose()
            app.extensions["intake.db"].dispose()
