"""No personal data in the logs beyond the ticket ID: a whole customer journey with every logger
at DEBUG, including refusals, a bot, a rejected e-mail and SQL statements."""

from __future__ import annotations

import io
import logging
import re

from flask.testing import FlaskClient

from intake.outbox import deliver_pending
from intake.transports import transport_from_url

from .conftest import customer_app, intake_test_config
from .intake_data import DEFINITIONS, valid_data
from .samples import pdf_bytes

EMAIL_FORM = DEFINITIONS["email"]
QUERY = "la casella di Ernesto Bianchini non riceve"
SUBJECT = "Errore 550 dalla casella di Ernesto Bianchini verso Gmail"
CUSTOMER = "ernesto.bianchini@example.it"
ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")


def test_a_whole_submission_logs_no_address_subject_or_query(tmp_path, kb_index, smtp_server, caplog):
    app = customer_app(intake_test_config(tmp_path, KB_INDEX_DIR=str(kb_index), SMTP_URL=smtp_server.url))
    client = app.test_client()
    client.search_query = QUERY
    answers = valid_data(EMAIL_FORM, oggetto=SUBJECT, email=CUSTOMER, msg_oggetto="Fattura di Ernesto")
    smtp_server.refuse.add(CUSTOMER)  # the customer's server refuses our confirmation

    # SQL logging on too, as an operator debugging the database would turn it on: the statements
    # are logged, the customer's values are not (the engines hide parameters).
    with caplog.at_level(logging.DEBUG), caplog.at_level(logging.INFO, logger="sqlalchemy.engine"):
        client.get("/", query_string={"q": QUERY})
        client.post("/modulo/email", data=answers | {"email": "non-un-indirizzo"})  # 422
        token = client.search_token("email")
        files = {"allegati": [(io.BytesIO(pdf_bytes()), "bilancio-bianchini.pdf")]}
        sent = client.post("/modulo/email", data=answers | {"token": token} | files, content_type="multipart/form-data")
        ticket_id = sent.location.rsplit("/", 1)[-1]
        client.get(sent.location)
        client.post("/modulo/email", data=answers | {"token": token})  # the same token again: refused
        FlaskClient(app).post("/modulo/email", data=answers)  # without a search: refused
        client.post("/modulo/email", data=answers | {"website": "x"})  # a bot
        client.get("/api/cerca", query_string={"q": QUERY})
        client.post("/risolto", data={"articolo": "nessuno", "q": QUERY})
        stats = deliver_pending(app.extensions["intake.db"].sessions, transport_from_url(smtp_server.url, tmp_path))

    assert sent.status_code == 303 and (stats.sent, stats.failed) == (1, 1)
    # Everything but the test's own SMTP server (aiosmtpd logs what it receives, as a mail server may).
    ours = [record for record in caplog.records if not record.name.startswith(("mail.log", "asyncio"))]
    assert {"intake", "intake.outbox", "sqlalchemy.engine.Engine"} <= {record.name for record in ours}
    logged = "\n".join(record.getMessage() for record in ours)
    logged += "\n".join(str(record.exc_info) for record in ours if record.exc_info)
    assert ticket_id in logged  # the ticket ID is what operators go by
    assert "INSERT INTO tickets" in logged and "SQL parameters hidden" in logged
    assert "could not send customer e-mail of " + ticket_id in logged
    assert "form email refused" in logged and "honeypot filled" in logged
    for private in ("Bianchini", "bianchini", "Ernesto", "casella", "Gmail", "Fattura"):
        assert private not in logged, private
    assert not ADDRESS.search(logged), ADDRESS.search(logged)
    app.extensions["intake.db"].dispose()
