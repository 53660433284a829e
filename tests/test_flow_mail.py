"""The e-mails of a ticket submitted through the app, over a real SMTP server (aiosmtpd on 127.0.0.1).

The form stores the ticket and both messages in the outbox in one transaction; ``kb
send-mail`` (the sender) delivers them. With the SMTP server down the customer still gets a
ticket, the messages wait, and they arrive once the server is back.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from intake.db import OutboxMessage, utcnow
from intake.outbox import deliver_pending, queue_status
from intake.transports import transport_from_url
from kb_build.cli import cli

from .conftest import customer_app, intake_test_config
from .intake_data import DEFINITIONS, post_multipart, valid_data
from .samples import pdf_bytes

EMAIL_FORM = DEFINITIONS["email"]
SUBJECT = "Errore 550 inviando da info@example.it verso Gmail"


@pytest.fixture
def smtp_app(tmp_path, kb_index, smtp_server):
    app = customer_app(intake_test_config(tmp_path, KB_INDEX_DIR=str(kb_index), SMTP_URL=smtp_server.url))
    yield app
    app.extensions["intake.db"].dispose()


def submit(app) -> str:
    """A customer's e-mail request with a PDF attached, through the search step; its ticket ID."""
    response = post_multipart(app.test_client(), "/modulo/email", valid_data(EMAIL_FORM), [("bounce.pdf", pdf_bytes())])
    assert response.status_code == 303
    return response.location.rsplit("/", 1)[-1]


def send_mail(app) -> str:
    """``kb send-mail`` once, on the app's database and SMTP server, as an operator runs it."""
    settings = app.extensions["intake.settings"]
    result = CliRunner().invoke(
        cli,
        ["send-mail", "--instance", str(settings.instance_path), "--database-url", settings.database_url, "--smtp-url", settings.smtp_url],
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_both_messages_of_a_submitted_ticket_reach_the_smtp_server(smtp_app, smtp_server):
    ticket_id = submit(smtp_app)
    assert smtp_server.inbox == []  # stored, not sent, by the request itself

    assert "sent 2, failed 0" in send_mail(smtp_app)

    mails = {received.rcpt_tos[0]: received.message for received in smtp_server.inbox}
    assert set(mails) == {"hd@smacloud.it", "mario.rossi@example.it"}
    department, customer = mails["hd@smacloud.it"], mails["mario.rossi@example.it"]
    assert department["Subject"] == f"[{ticket_id}] {SUBJECT}"
    assert customer["Subject"] == f"[{ticket_id}] Abbiamo ricevuto la tua richiesta: {SUBJECT}"
    (attachment,) = department.iter_attachments()
    assert attachment.get_filename() == "bounce.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == pdf_bytes()
    assert list(customer.iter_attachments()) == []
    body = customer.get_body(("plain",)).get_content()
    assert ticket_id in body and "Assistenza Tecnica" in body
    assert re.search(r"Il ticket sarà preso in esame (oggi|domani|[a-z]+dì \d+)", body)  # office hours
    text = department.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert text.startswith(f"Nuova richiesta {ticket_id}: Problema con la posta elettronica\n")  # the form's title
    assert 'Ricerca:    "la posta non arriva"' in text  # what the customer searched first
    assert "Caselle con il problema:\n  info@example.it, vendite@example.it" in text


def test_with_the_smtp_server_down_nothing_is_lost(smtp_app, smtp_server):
    smtp_server.stop()
    ticket_id = submit(smtp_app)  # the customer gets the ticket anyway
    assert re.fullmatch(r"FPL-\d{3}-\d{5}", ticket_id)

    assert "sent 0, failed 2" in send_mail(smtp_app)
    database = smtp_app.extensions["intake.db"]
    with database.session() as session:
        assert queue_status(session) == {"sent": 0, "queued": 0, "retrying": 2, "failed": 0, "dismissed": 0}
        errors = [m.last_error for m in session.scalars(select(OutboxMessage))]
    assert all(errors) and all("Connection refused" in e or "ConnectionRefused" in e for e in errors)

    smtp_server.start()
    later = utcnow() + dt.timedelta(minutes=1)  # after the first retry delay (30 s)
    transport = transport_from_url(smtp_app.extensions["intake.settings"].smtp_url, smtp_app.instance_path)
    stats = deliver_pending(database.sessions, transport, now=later)
    assert (stats.sent, stats.failed) == (2, 0)
    assert sorted(r.message["Subject"].split("]")[0] for r in smtp_server.inbox) == [f"[{ticket_id}"] * 2
    with database.session() as session:
        assert queue_status(session) == {"sent": 2, "queued": 0, "retrying": 0, "failed": 0, "dismissed": 0}


def test_a_customer_address_refused_for_good_is_reported_and_the_instance_stays_healthy(smtp_app, smtp_server):
    smtp_server.refuse.add("mario.rossi@example.it")  # the customer's mailbox does not exist
    ticket_id = submit(smtp_app)
    settings = smtp_app.extensions["intake.settings"]
    result = CliRunner().invoke(
        cli,
        [
            "send-mail", "--instance", str(settings.instance_path), "--database-url", settings.database_url,
            "--smtp-url", settings.smtp_url, "--max-permanent-failures", "1",
        ],
    )

    assert result.exit_code == 1
    assert "sent 1, failed 1; waiting: 0 queued, 0 to retry; failed for good: 1" in result.stdout
    assert "kb send-mail --list-failed" in result.stderr
    # The department got the ticket: the refused confirmation holds nothing back.
    [received] = smtp_server.inbox
    assert received.rcpt_tos == ["hd@smacloud.it"] and received.message["Subject"].startswith(f"[{ticket_id}] ")
    # A refused e-mail is no outage of the instance: the load balancer keeps sending customers.
    health = smtp_app.test_client().get("/healthz")
    assert health.status_code == 200 and health.get_json()["status"] == "ok"

    # The address can never work: the operator dismisses the e-mail, the next run is clean again,
    # and /healthz answers exactly as before (mail is no part of it).
    database = smtp_app.extensions["intake.db"]
    with database.session() as session:
        [failed] = session.scalars(select(OutboxMessage.id).where(OutboxMessage.failed_at.is_not(None)))
    common = ["--instance", str(settings.instance_path), "--database-url", settings.database_url, "--smtp-url", settings.smtp_url]
    dismissed = CliRunner().invoke(cli, ["send-mail", *common, "--dismiss", str(failed), "--reason", "no such mailbox"])
    assert dismissed.exit_code == 0, dismissed.output
    clean = CliRunner().invoke(cli, ["send-mail", *common])
    assert clean.exit_code == 0 and clean.stdout.endswith("failed for good: 0; dismissed: 1\n"), clean.output
    assert smtp_app.test_client().get("/healthz").get_json() == health.get_json()
