"""Retention of the outbox's message bytes (``MAIL_RETENTION_DAYS``): the message of an e-mail sent
or dismissed more than N days ago is dropped, its row kept; waiting and failed ones keep theirs.
A real aiosmtpd server delivers and refuses; the outbox's clock is injected where it can be."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from intake.db import OutboxMessage, utcnow
from intake.outbox import deliver_pending, dismiss_failed, prune_messages, requeue_failed
from intake.settings import ConfigError, load_settings
from intake.transports import transport_from_url
from kb_build.cli import cli

from .helpers import KB, wait_for

T0 = dt.datetime(2025, 11, 26, 9, 0, tzinfo=dt.timezone.utc)
DAY = dt.timedelta(days=1)


def deliver(database, smtp_server, tmp_path, at):
    transport = transport_from_url(smtp_server.url, tmp_path / "unused")
    return deliver_pending(database.sessions, transport, now=at, max_permanent_failures=1)


def rows(database) -> list[OutboxMessage]:
    with database.session() as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def ids_of(database, tickets, kind: str | None = None) -> set[int]:
    """The outbox rows of ``tickets`` (all, or only the ``kind`` ones: department, customer)."""
    wanted = {ticket.id for ticket in tickets}
    return {m.id for m in rows(database) if m.ticket_id in wanted and (kind is None or m.kind == kind)}


def test_only_the_bytes_of_old_sent_and_dismissed_emails_are_dropped(intake_db, store_ticket, smtp_server, tmp_path):
    smtp_server.refuse.update({"fallita@example.com", "archiviata@example.com", "archiviata.ora@example.com"})
    smtp_server.rcpt_replies["lenta@example.com"] = "451 4.7.1 Greylisted, please try again later"
    customers = ["mario.rossi@example.com", "fallita@example.com", "lenta@example.com", "archiviata@example.com",
                 "archiviata.ora@example.com"]
    sent, failed, retrying, dismissed, dismissed_late = (
        store_ticket(nonce=f"old-{n}", now=T0, customer_email=customer) for n, customer in enumerate(customers)
    )
    deliver(intake_db, smtp_server, tmp_path, T0)  # 6 sent, 3 failed (limit 1), 1 retrying
    with intake_db.session() as session:
        dismiss_failed(session, ids_of(intake_db, [dismissed], "customer"), "typo", now=T0 + dt.timedelta(hours=1))
        dismiss_failed(session, ids_of(intake_db, [dismissed_late], "customer"), "typo", now=T0 + 39 * DAY)
    store_ticket(nonce="recent", now=T0 + 35 * DAY, customer_email="recente@example.com")
    deliver(intake_db, smtp_server, tmp_path, T0 + 35 * DAY)  # sent 35 days after T0 (the 451 one: still waiting)
    store_ticket(nonce="queued", now=T0, customer_email="in.coda@example.com")  # waiting since T0, never tried
    before = {m.id: m for m in rows(intake_db)}

    now = T0 + 40 * DAY  # retention 30 days: sent or dismissed before T0 + 10 days
    with intake_db.session() as session:
        assert prune_messages(session, 30, now=now) == 7

    expected = (
        ids_of(intake_db, [sent])
        | ids_of(intake_db, [dismissed], "customer")  # dismissed an hour after it failed
        | ids_of(intake_db, [failed, retrying, dismissed, dismissed_late], "department")  # sent at T0
    )
    after = {m.id: m for m in rows(intake_db)}
    assert {i for i, m in after.items() if m.message is None} == expected
    for i, m in after.items():
        if i in expected:
            assert m.message_pruned_at == now
            # The record stays: who, which ticket, what, when.
            record = ("ticket_id", "kind", "recipient", "subject", "sent_at", "failed_at", "dismissed_at", "last_error")
            assert [getattr(m, name) for name in record] == [getattr(before[i], name) for name in record]
        else:  # sent recently, failed (not dismissed), retrying, queued, dismissed recently
            assert (m.message, m.message_pruned_at) == (before[i].message, None) and m.message.startswith(b"From: ")
    with intake_db.session() as session:
        assert prune_messages(session, 30, now=now + DAY) == 0  # nothing twice

    # Delivering goes on as before and never touches a dropped message: the requeued failed
    # e-mail is refused again (its bytes are there), the queued ones are sent, nothing else.
    inbox = len(smtp_server.inbox)
    with intake_db.session() as session:
        assert requeue_failed(session, now=now) == 1
    stats = deliver(intake_db, smtp_server, tmp_path, now)
    assert (stats.sent, stats.failed) == (2, 2)  # queued ticket's two; the 550 and the 451 again
    assert sorted(r.rcpt_tos[0] for r in smtp_server.inbox[inbox:]) == ["hd@smacloud.it", "in.coda@example.com"]


def send_mail(database, smtp_server, tmp_path, *options, **env):
    args = ["send-mail", "--database-url", database.url, "--smtp-url", smtp_server.url, "--instance", str(tmp_path)]
    return CliRunner().invoke(cli, [*args, *options], env=env)


def test_kb_send_mail_applies_the_retention_period_each_run(intake_db, store_ticket, smtp_server, tmp_path):
    long_ago = utcnow() - 40 * DAY
    store_ticket(nonce="old", now=long_ago)
    deliver(intake_db, smtp_server, tmp_path, long_ago)
    store_ticket(nonce="new", customer_email="anna.verdi@example.com")  # waiting: sent by the run below

    result = send_mail(intake_db, smtp_server, tmp_path, MAIL_RETENTION_DAYS="30")

    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "sent 2, failed 0; waiting: 0 queued, 0 to retry; failed for good: 0; dismissed: 0\n"
        "dropped the message of 2 e-mail(s) sent or dismissed more than 30 day(s) ago (MAIL_RETENTION_DAYS); "
        "their rows stay for the record\n"
    )
    assert "@" not in result.output
    assert sorted((m.recipient, m.message is None) for m in rows(intake_db)) == [
        ("anna.verdi@example.com", False), ("hd@smacloud.it", False), ("hd@smacloud.it", True),
        ("mario.rossi@example.com", True),
    ]
    again = send_mail(intake_db, smtp_server, tmp_path)  # the default, 30 days: nothing new to drop
    assert again.stdout == "sent 0, failed 0; waiting: 0 queued, 0 to retry; failed for good: 0; dismissed: 0\n"


@pytest.mark.parametrize("value", ["0", "a month", "-5", "3651"])
def test_a_bad_retention_period_is_refused_with_its_fix(tmp_path, value):
    with pytest.raises(ConfigError) as info:
        load_settings({"MAIL_RETENTION_DAYS": value, "TESTING": True}, tmp_path)
    message = str(info.value)
    assert message.startswith(f"MAIL_RETENTION_DAYS: expected a whole number of days from 1 to 3650 but received: {value!r}")
    assert "(the default is 30:" in message
    # kb send-mail reads the same variable and refuses it the same way, before opening anything.
    database = tmp_path / "intake.sqlite3"
    result = CliRunner().invoke(
        cli, ["send-mail", "--database-url", f"sqlite:///{database}", "--instance", str(tmp_path)],
        env={"MAIL_RETENTION_DAYS": value},
    )
    assert result.exit_code == 2 and "MAIL_RETENTION_DAYS: expected a whole number of days" in result.output
    assert not database.exists()


def test_the_retention_period_defaults_to_30_days(tmp_path):
    assert load_settings({"TESTING": True}, tmp_path).mail_retention_days == 30
    assert load_settings({"TESTING": True, "MAIL_RETENTION_DAYS": "7"}, tmp_path).mail_retention_days == 7


def test_the_sender_process_drops_old_messages_as_it_starts(intake_db, store_ticket, smtp_server, tmp_path):
    long_ago = utcnow() - 8 * DAY
    store_ticket(now=long_ago)
    deliver(intake_db, smtp_server, tmp_path, long_ago)
    env = {
        **os.environ, "DATABASE_URL": intake_db.url, "SMTP_URL": smtp_server.url,
        "KB_INSTANCE_PATH": str(tmp_path), "MAIL_RETENTION_DAYS": "7",
    }
    sender = subprocess.Popen(
        [str(KB), "send-mail", "--loop", "--interval", "0.2"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: all(m.message is None for m in rows(intake_db)))
    finally:
        sender.send_signal(signal.SIGTERM)
        out, err = sender.communicate(timeout=15)
    assert sender.returncode == 0, err
    assert "dropped the message of 2 e-mail(s) sent or dismissed more than 7 day(s) ago" in out
