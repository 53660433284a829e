"""Delivering the outbox: a real SMTP server, an outage, retries with backoff, files, several senders."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import threading
from email import message_from_bytes, policy

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from intake.db import OutboxMessage
from intake.outbox import SenderThread, backoff, claim, deliver_pending, queue_status
from intake.store import Upload
from intake.transports import FileTransport, transport_from_url
from kb_build.cli import cli

from .helpers import KB, wait_for
from .mailserver import SMTPServer, self_signed_certificate

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
T0 = dt.datetime(2025, 11, 26, 9, 0, tzinfo=dt.timezone.utc)


def outbox_rows(database) -> list[OutboxMessage]:
    with database.session() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def by_recipient(inbox) -> dict:
    return {r.rcpt_tos[0]: r.message for r in inbox}


def test_a_real_smtp_server_receives_both_messages(intake_db, store_ticket, smtp_server, tmp_path):
    ticket = store_ticket(attachments=[Upload("errore.png", "image/png", PNG)])

    stats = deliver_pending(intake_db.sessions, transport_from_url(smtp_server.url, tmp_path))

    assert (stats.sent, stats.failed) == (2, 0)
    mails = by_recipient(smtp_server.inbox)
    assert set(mails) == {"hd@smacloud.it", "mario.rossi@example.com"}
    assert all(r.mail_from == "noreply@smacloud.it" for r in smtp_server.inbox)
    department, customer = mails["hd@smacloud.it"], mails["mario.rossi@example.com"]
    assert department["Subject"] == f"[{ticket.id}] Non ricevo posta su info@rossi.it da ieri"
    assert customer["Subject"].startswith(f"[{ticket.id}] Abbiamo ricevuto la tua richiesta")
    [attachment] = list(department.iter_attachments())
    assert (attachment.get_filename(), attachment.get_content()) == ("errore.png", PNG)
    assert not list(customer.iter_attachments())
    assert all(row.sent_at is not None and row.attempts == 0 for row in outbox_rows(intake_db))
    # Delivered once: a second round finds nothing to do.
    assert deliver_pending(intake_db.sessions, transport_from_url(smtp_server.url, tmp_path)).attempted == 0
    assert len(smtp_server.inbox) == 2


def test_nothing_is_lost_while_the_smtp_server_is_down(intake_db, store_ticket, smtp_server, tmp_path):
    transport = transport_from_url(smtp_server.url, tmp_path)
    smtp_server.stop()
    ticket = store_ticket(now=T0)  # the customer's submission succeeds anyway

    stats = deliver_pending(intake_db.sessions, transport, now=T0)
    assert (stats.sent, stats.failed) == (0, 2)
    rows = outbox_rows(intake_db)
    assert [(r.attempts, r.next_attempt_at, r.sent_at) for r in rows] == [(1, T0 + dt.timedelta(seconds=30), None)] * 2
    assert all("Connection refused" in r.last_error for r in rows)

    # Not due yet: the sender leaves them alone.
    assert deliver_pending(intake_db.sessions, transport, now=T0 + dt.timedelta(seconds=29)).attempted == 0
    # Still down at the next try: the wait doubles.
    t1 = T0 + dt.timedelta(seconds=30)
    assert deliver_pending(intake_db.sessions, transport, now=t1).failed == 2
    assert {(r.attempts, r.next_attempt_at) for r in outbox_rows(intake_db)} == {(2, t1 + dt.timedelta(seconds=60))}

    smtp_server.start()  # back, on the same port
    t2 = t1 + dt.timedelta(seconds=60)
    stats = deliver_pending(intake_db.sessions, transport, now=t2)
    assert (stats.sent, stats.failed) == (2, 0)
    assert {r.message["Subject"].split("]")[0] for r in smtp_server.inbox} == {f"[{ticket.id}"}
    assert {(r.attempts, r.sent_at, r.last_error) for r in outbox_rows(intake_db)} == {(2, t2, None)}


def test_backoff_doubles_up_to_one_hour():
    assert [backoff(n).total_seconds() for n in range(1, 10)] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


def test_a_refused_recipient_does_not_hold_back_the_others(intake_db, store_ticket, smtp_server, tmp_path):
    smtp_server.refuse.add("mario.rossi@example.com")
    store_ticket(now=T0)
    stats = deliver_pending(intake_db.sessions, transport_from_url(smtp_server.url, tmp_path), now=T0)
    assert (stats.sent, stats.failed) == (1, 1)
    rows = {r.kind: r for r in outbox_rows(intake_db)}
    assert rows["department"].sent_at == T0
    assert rows["customer"].attempts == 1 and "550" in rows["customer"].last_error
    with intake_db.session() as session:
        assert queue_status(session) == {"sent": 1, "queued": 0, "retrying": 1, "failed": 0, "dismissed": 0}


def test_several_senders_never_send_a_message_twice(intake_db, store_ticket, smtp_server, tmp_path):
    for i in range(25):
        store_ticket(nonce=f"n{i}")
    errors = []
    barrier = threading.Barrier(4)

    def sender():
        barrier.wait()
        try:
            deliver_pending(intake_db.sessions, transport_from_url(smtp_server.url, tmp_path), batch_size=5)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    ids = [r.message["Message-ID"] for r in smtp_server.inbox]
    assert len(ids) == 50 and len(set(ids)) == 50
    assert all(row.sent_at is not None for row in outbox_rows(intake_db))


def test_a_crashed_senders_messages_are_sent_after_its_lease(intake_db, store_ticket, smtp_server, tmp_path):
    store_ticket(now=T0)
    with intake_db.session() as session:
        assert len(claim(session, T0)) == 2  # claimed, then the sender died
    transport = transport_from_url(smtp_server.url, tmp_path)
    assert deliver_pending(intake_db.sessions, transport, now=T0 + dt.timedelta(minutes=5)).attempted == 0
    assert deliver_pending(intake_db.sessions, transport, now=T0 + dt.timedelta(minutes=11)).sent == 2


def test_file_delivery_writes_two_eml_files(intake_db, store_ticket, tmp_path):
    ticket = store_ticket(attachments=[Upload("errore.png", "image/png", PNG)])
    mail_dir = tmp_path / "instance" / "mail"

    assert deliver_pending(intake_db.sessions, transport_from_url(None, mail_dir)).sent == 2

    files = sorted(mail_dir.glob("*.eml"))
    assert [f.name for f in files] == [f"{ticket.id}-customer-2.eml", f"{ticket.id}-department-1.eml"]
    customer, department = (message_from_bytes(f.read_bytes(), policy=policy.default) for f in files)
    assert (customer["To"], department["To"]) == ("mario.rossi@example.com", "hd@smacloud.it")
    assert customer["From"] == department["From"] == "Assistenza SMACloud <noreply@smacloud.it>"
    assert department["Subject"] == f"[{ticket.id}] Non ricevo posta su info@rossi.it da ieri"
    assert customer["Subject"].startswith(f"[{ticket.id}] ")
    assert [a.get_filename() for a in department.iter_attachments()] == ["errore.png"]
    assert not list(mail_dir.glob(".tmp-*"))


def test_smtp_login_from_the_url(intake_db, store_ticket, tmp_path):
    server = SMTPServer(credentials=("kb-intake", "s3cr3t"))
    server.start()
    try:
        store_ticket(now=T0)
        wrong = server.url.replace("s3cr3t", "wrong")
        stats = deliver_pending(intake_db.sessions, transport_from_url(wrong, tmp_path), now=T0)
        assert (stats.sent, stats.failed) == (0, 2)
        assert all("SMTPAuthenticationError" in r.last_error for r in outbox_rows(intake_db))
        later = T0 + dt.timedelta(seconds=30)
        assert deliver_pending(intake_db.sessions, transport_from_url(server.url, tmp_path), now=later).sent == 2
        assert server.logins == ["kb-intake"]
    finally:
        server.stop()


@pytest.mark.parametrize("tls", ["starttls", "ssl"])
def test_tls_connections_verify_the_server(intake_db, store_ticket, tmp_path, tls):
    server = SMTPServer(credentials=("kb", "pw"), tls=tls, certificate=self_signed_certificate(tmp_path))
    server.start()
    try:
        store_ticket(now=T0)
        untrusted = server.url.split("?")[0]  # without cafile the self-signed certificate is refused
        assert deliver_pending(intake_db.sessions, transport_from_url(untrusted, tmp_path), now=T0).failed == 2
        assert all("CERTIFICATE_VERIFY_FAILED" in r.last_error for r in outbox_rows(intake_db))
        later = T0 + dt.timedelta(seconds=30)
        assert deliver_pending(intake_db.sessions, transport_from_url(server.url, tmp_path), now=later).sent == 2
        assert len(server.inbox) == 2 and server.logins == ["kb"]
    finally:
        server.stop()


def test_background_sender_delivers_and_stops_cleanly(intake_db, store_ticket, tmp_path):
    mail_dir = tmp_path / "mail"
    sender = SenderThread(intake_db.sessions, FileTransport(mail_dir), interval=30)
    sender.start()
    try:
        store_ticket()
        sender.wake()  # no need to wait for the 30 s tick
        wait_for(lambda: len(list(mail_dir.glob("*.eml"))) == 2)
    finally:
        sender.stop()
    assert not sender.running


def test_kb_send_mail_delivers_one_round(intake_db, store_ticket, smtp_server, tmp_path):
    store_ticket()
    result = CliRunner().invoke(
        cli, ["send-mail", "--database-url", intake_db.url, "--smtp-url", smtp_server.url, "--instance", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "sent 2, failed 0; waiting: 0 queued, 0 to retry; failed for good: 0; dismissed: 0"
    assert len(smtp_server.inbox) == 2


def test_kb_send_mail_reports_a_bad_smtp_url(intake_db, tmp_path):
    result = CliRunner().invoke(cli, ["send-mail", "--database-url", intake_db.url, "--smtp-url", "smtp//x"])
    assert result.exit_code == 1
    assert "SMTP_URL: unknown scheme" in result.output and "smtp+starttls://" in result.output


def test_kb_send_mail_loop_runs_as_a_process_until_sigterm(intake_db, store_ticket, smtp_server, tmp_path):
    env = {**os.environ, "DATABASE_URL": intake_db.url, "SMTP_URL": smtp_server.url, "KB_INSTANCE_PATH": str(tmp_path)}
    process = subprocess.Popen(
        [str(KB), "send-mail", "--loop", "--interval", "0.2"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        store_ticket()  # stored while the sender runs: picked up at its next round
        wait_for(lambda: len(smtp_server.inbox) == 2)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "sent 2, failed 0" in out
