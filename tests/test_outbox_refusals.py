"""E-mails an SMTP server refuses for good: retried a few times, then marked failed, reported by
``kb send-mail`` and requeued with ``--retry-failed``. A real aiosmtpd server gives the answers
(550 to RCPT TO, 552 to DATA, 451 "try again later"); the outbox's clock is injected."""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import smtplib
import subprocess

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from intake.db import OutboxMessage
from intake.outbox import PERMANENT_RETRY_DELAY, backoff, deliver_pending, is_permanent_refusal, queue_status
from intake.transports import transport_from_url
from kb_build.cli import cli

from .helpers import KB, wait_for
from .mailserver import SMTPServer

T0 = dt.datetime(2025, 11, 26, 9, 0, tzinfo=dt.timezone.utc)
HOUR = dt.timedelta(hours=1)
CUSTOMER = "mario.rossi@example.com"  # the customer of store_ticket()


def deliver(database, server_url, tmp_path, at, limit=5):
    return deliver_pending(database.sessions, transport_from_url(server_url, tmp_path), now=at, max_permanent_failures=limit)


def row(database, recipient) -> OutboxMessage:
    with database.session() as session:
        return session.scalars(select(OutboxMessage).where(OutboxMessage.recipient == recipient)).one()


def status(database) -> dict[str, int]:
    with database.session() as session:
        return queue_status(session)


def test_permanent_refusals_mark_the_message_failed_while_the_batch_is_delivered(
    intake_db, store_ticket, smtp_server, tmp_path, caplog
):
    smtp_server.refuse.add(CUSTOMER)  # 550 to RCPT TO
    smtp_server.data_replies["grande@example.com"] = "552 5.3.4 Message size exceeds fixed maximum message size"
    refused = store_ticket(nonce="a", now=T0)
    too_big = store_ticket(nonce="b", now=T0, customer_email="grande@example.com")
    store_ticket(nonce="c", now=T0, customer_email="anna.verdi@example.com")

    with caplog.at_level(logging.INFO, logger="intake.outbox"):
        # The limit is 3: two refusals leave the messages waiting, an hour apart.
        assert (deliver(intake_db, smtp_server.url, tmp_path, T0, limit=3).sent, status(intake_db)["retrying"]) == (4, 2)
        first = row(intake_db, CUSTOMER)
        assert (first.permanent_failures, first.next_attempt_at, first.failed_at) == (1, T0 + HOUR, None)
        assert deliver(intake_db, smtp_server.url, tmp_path, T0 + 59 * dt.timedelta(minutes=1), limit=3).attempted == 0
        second = deliver(intake_db, smtp_server.url, tmp_path, T0 + HOUR, limit=3)
        assert (second.failed, second.gave_up) == (2, 0)
        # The third refusal in a row: failed, never tried again.
        third = deliver(intake_db, smtp_server.url, tmp_path, T0 + 2 * HOUR, limit=3)
        assert (third.sent, third.failed, third.gave_up) == (0, 2, 2)
        assert deliver(intake_db, smtp_server.url, tmp_path, T0 + 48 * HOUR, limit=3).attempted == 0

    assert status(intake_db) == {"sent": 4, "queued": 0, "retrying": 0, "failed": 2, "dismissed": 0}
    for recipient, code in ((CUSTOMER, "550"), ("grande@example.com", "552")):
        message = row(intake_db, recipient)
        assert (message.attempts, message.failed_at, message.sent_at) == (3, T0 + 2 * HOUR, None)
        assert code in message.last_error  # the server's whole answer stays in the row
    delivered = sorted(received.rcpt_tos[0] for received in smtp_server.inbox)
    assert delivered == ["anna.verdi@example.com", "hd@smacloud.it", "hd@smacloud.it", "hd@smacloud.it"]

    # One ERROR line per message given up on: ticket ID, kind, outbox id, SMTP code; no address.
    errors = [r.getMessage() for r in caplog.records if r.name == "intake.outbox" and r.levelno == logging.ERROR]
    customer_id, big_id = row(intake_db, CUSTOMER).id, row(intake_db, "grande@example.com").id
    assert len(errors) == 2
    assert f"customer e-mail of {refused.id} (outbox #{customer_id})" in errors[0]
    assert "SMTPRecipientsRefused 550" in errors[0]
    assert f"customer e-mail of {too_big.id} (outbox #{big_id})" in errors[1] and "SMTPDataError 552" in errors[1]
    assert "kb send-mail --retry-failed" in errors[0]
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "intake.outbox")
    assert "@" not in logged


def test_a_temporary_refusal_is_never_marked_failed(intake_db, store_ticket, smtp_server, tmp_path):
    smtp_server.rcpt_replies[CUSTOMER] = "451 4.3.0 Mailbox temporarily unavailable, try again later"
    store_ticket(now=T0)
    at = T0
    for attempt in range(1, 11):  # twice as many tries as the limit of 5
        stats = deliver(intake_db, smtp_server.url, tmp_path, at)
        assert (stats.failed, stats.gave_up) == (1, 0)
        customer = row(intake_db, CUSTOMER)
        assert (customer.attempts, customer.permanent_failures, customer.failed_at) == (attempt, 0, None)
        assert customer.next_attempt_at == at + backoff(attempt)  # the usual backoff, not an hour
        at = customer.next_attempt_at
    assert status(intake_db) == {"sent": 1, "queued": 0, "retrying": 1, "failed": 0, "dismissed": 0}

    del smtp_server.rcpt_replies[CUSTOMER]  # the mailbox is back
    assert deliver(intake_db, smtp_server.url, tmp_path, at).sent == 1
    assert status(intake_db) == {"sent": 2, "queued": 0, "retrying": 0, "failed": 0, "dismissed": 0}


@pytest.mark.parametrize("between", ["451 reply", "server down"])
def test_a_temporary_failure_in_between_starts_the_count_again(intake_db, store_ticket, smtp_server, tmp_path, between):
    refusal = "550 5.1.1 Mailbox unavailable"
    smtp_server.rcpt_replies[CUSTOMER] = refusal
    store_ticket(now=T0)
    deliver(intake_db, smtp_server.url, tmp_path, T0, limit=2)
    assert row(intake_db, CUSTOMER).permanent_failures == 1

    t1 = T0 + HOUR
    if between == "451 reply":
        smtp_server.rcpt_replies[CUSTOMER] = "451 4.7.1 Greylisted, please try again later"
        deliver(intake_db, smtp_server.url, tmp_path, t1, limit=2)
    else:
        smtp_server.stop()
        deliver(intake_db, smtp_server.url, tmp_path, t1, limit=2)
        smtp_server.start()
    customer = row(intake_db, CUSTOMER)
    assert (customer.permanent_failures, customer.next_attempt_at) == (0, t1 + backoff(2))

    # 5xx, temporary, 5xx: one refusal in a row, not two, so the limit of 2 is not reached ...
    smtp_server.rcpt_replies[CUSTOMER] = refusal
    t2 = customer.next_attempt_at
    assert deliver(intake_db, smtp_server.url, tmp_path, t2, limit=2).gave_up == 0
    customer = row(intake_db, CUSTOMER)
    assert (customer.attempts, customer.permanent_failures, customer.failed_at) == (3, 1, None)
    # ... and the next refusal is the second in a row.
    assert deliver(intake_db, smtp_server.url, tmp_path, t2 + PERMANENT_RETRY_DELAY, limit=2).gave_up == 1
    assert row(intake_db, CUSTOMER).failed_at == t2 + PERMANENT_RETRY_DELAY


def test_a_relay_refusing_starttls_is_a_session_problem_not_a_refusal_of_the_messages(
    intake_db, store_ticket, tmp_path
):
    server = SMTPServer(broken_starttls=True)  # offers STARTTLS, then answers it with 500
    server.start()
    try:
        store_ticket(now=T0)
        starttls_url = server.url.replace("smtp://", "smtp+starttls://")
        stats = deliver(intake_db, starttls_url, tmp_path, T0, limit=1)
        assert (stats.failed, stats.gave_up) == (2, 0)
        assert status(intake_db) == {"sent": 0, "queued": 0, "retrying": 2, "failed": 0, "dismissed": 0}
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (smtplib.SMTPRecipientsRefused({CUSTOMER: (550, b"5.1.1 Mailbox unavailable")}), True),
        (smtplib.SMTPRecipientsRefused({CUSTOMER: (452, b"4.2.2 Mailbox full")}), False),
        (smtplib.SMTPRecipientsRefused({CUSTOMER: (550, b"no"), "b@example.com": (451, b"later")}), False),
        (smtplib.SMTPDataError(552, b"5.3.4 Message too big"), True),
        (smtplib.SMTPDataError(451, b"4.3.0 Local error"), False),
        (smtplib.SMTPSenderRefused(553, b"5.7.1 Sender not allowed", "noreply@smacloud.it"), True),
        (smtplib.SMTPResponseException(554, b"5.7.1 Rejected"), True),
        (smtplib.SMTPAuthenticationError(535, b"5.7.8 Bad credentials"), False),  # the session: all messages
        (smtplib.SMTPHeloError(501, b"5.5.4 Bad HELO"), False),
        (smtplib.SMTPConnectError(554, b"No SMTP service here"), False),
        (smtplib.SMTPServerDisconnected("Connection unexpectedly closed"), False),
        (ConnectionRefusedError(111, "Connection refused"), False),
    ],
)
def test_which_errors_are_permanent_refusals(error, permanent):
    assert is_permanent_refusal(error) is permanent


# --- kb send-mail ----------------------------------------------------------------------------


def send_mail(database, smtp_server, tmp_path, *options, limit="1"):
    """``kb send-mail`` as an operator runs it, with MAIL_MAX_PERMANENT_FAILURES in the environment."""
    args = ["send-mail", "--database-url", database.url, "--smtp-url", smtp_server.url, "--instance", str(tmp_path)]
    return CliRunner().invoke(cli, [*args, *options], env={"MAIL_MAX_PERMANENT_FAILURES": limit})


def test_kb_send_mail_reports_failed_messages_and_exits_with_status_1(intake_db, store_ticket, smtp_server, tmp_path):
    smtp_server.refuse.add(CUSTOMER)
    ticket = store_ticket()

    result = send_mail(intake_db, smtp_server, tmp_path)

    assert result.exit_code == 1, result.output
    assert result.stdout == "sent 1, failed 1; waiting: 0 queued, 0 to retry; failed for good: 1; dismissed: 0\n"
    assert result.stderr.startswith(
        "1 e-mail failed for good: the SMTP server refused it with a permanent error (5xx reply, 1 times in a row)"
    )
    assert "see which and why (ticket, recipient, the server's answer):  kb send-mail --list-failed" in result.stderr
    assert "once the cause is fixed, requeue and deliver them:           kb send-mail --retry-failed" in result.stderr
    assert "@" not in result.output  # this output may end up in a log (cron, journald)

    # Until someone acts, every run says so again (cron and monitoring keep seeing it).
    again = send_mail(intake_db, smtp_server, tmp_path)
    assert again.exit_code == 1
    assert again.stdout == "sent 0, failed 0; waiting: 0 queued, 0 to retry; failed for good: 1; dismissed: 0\n"

    listing = send_mail(intake_db, smtp_server, tmp_path, "--list-failed")
    assert listing.exit_code == 0, listing.output
    lines = listing.stdout.splitlines()
    customer = row(intake_db, CUSTOMER)
    assert lines[0] == "1 failed e-mail(s), oldest first:"
    assert lines[1].startswith(f"outbox #{customer.id}  {ticket.id}  customer e-mail to {CUSTOMER}  failed ")
    assert lines[1].endswith(" UTC after 1 attempt(s)")
    assert lines[2].startswith("  last answer: SMTPRecipientsRefused: ") and "550" in lines[2]
    assert lines[3] == "once the cause is fixed, requeue and deliver them: kb send-mail --retry-failed"
    assert len(smtp_server.inbox) == 1  # listing sends nothing


def test_kb_send_mail_with_nothing_failed_lists_nothing(intake_db, smtp_server, tmp_path):
    listing = send_mail(intake_db, smtp_server, tmp_path, "--list-failed")
    assert (listing.exit_code, listing.output) == (0, "no failed e-mails\n")
    both = send_mail(intake_db, smtp_server, tmp_path, "--list-failed", "--retry-failed")
    assert both.exit_code == 2 and "--list-failed only lists" in both.output


def test_kb_send_mail_refuses_a_bad_limit_with_the_fix(intake_db, smtp_server, tmp_path):
    result = send_mail(intake_db, smtp_server, tmp_path, limit="0")
    assert result.exit_code == 2
    assert "MAIL_MAX_PERMANENT_FAILURES: expected a whole number above 0 but received: '0'" in result.output


def test_retry_failed_requeues_and_delivers_once_the_server_accepts(intake_db, store_ticket, smtp_server, tmp_path):
    smtp_server.refuse.add(CUSTOMER)
    store_ticket()
    assert send_mail(intake_db, smtp_server, tmp_path).exit_code == 1  # failed at the first refusal (limit 1)

    # Requeued while the cause is still there: tried once more, failed again.
    still = send_mail(intake_db, smtp_server, tmp_path, "--retry-failed")
    assert still.exit_code == 1
    assert still.stdout == "requeued 1 failed e-mail(s)\nsent 0, failed 1; waiting: 0 queued, 0 to retry; failed for good: 1; dismissed: 0\n"

    smtp_server.refuse.clear()  # the operator fixed it
    fixed = send_mail(intake_db, smtp_server, tmp_path, "--retry-failed")
    assert fixed.exit_code == 0, fixed.output
    assert fixed.stdout == "requeued 1 failed e-mail(s)\nsent 1, failed 0; waiting: 0 queued, 0 to retry; failed for good: 0; dismissed: 0\n"
    assert fixed.stderr == ""
    assert sorted(r.rcpt_tos[0] for r in smtp_server.inbox) == ["hd@smacloud.it", CUSTOMER]
    customer = row(intake_db, CUSTOMER)
    assert customer.sent_at is not None and customer.failed_at is None and customer.last_error is None


def run_loop(env, *options):
    return subprocess.Popen(
        [str(KB), "send-mail", "--loop", "--interval", "0.2", *options],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def stop(process) -> tuple[str, str]:
    try:
        process.send_signal(signal.SIGTERM)
        return process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def test_the_sender_process_marks_failed_keeps_running_and_retry_failed_works_with_loop(
    intake_db, store_ticket, smtp_server, tmp_path
):
    env = {
        **os.environ, "DATABASE_URL": intake_db.url, "SMTP_URL": smtp_server.url,
        "KB_INSTANCE_PATH": str(tmp_path), "MAIL_MAX_PERMANENT_FAILURES": "1",
    }
    smtp_server.refuse.add(CUSTOMER)
    store_ticket()

    sender = run_loop(env)
    try:
        wait_for(lambda: status(intake_db)["failed"] == 1)
    finally:
        out, err = stop(sender)
    assert sender.returncode == 0, err  # the service keeps running: stopping it is no error
    assert "sent 1, failed 1; waiting: 0 queued, 0 to retry; failed for good: 1; dismissed: 0" in out
    assert err.count("1 e-mail failed for good") == 1 and "kb send-mail --retry-failed" in err

    smtp_server.refuse.clear()
    sender = run_loop(env, "--retry-failed")
    try:
        wait_for(lambda: len(smtp_server.inbox) == 2)
    finally:
        out, err = stop(sender)
    assert sender.returncode == 0, err
    assert "requeued 1 failed e-mail(s)" in out and "sent 1, failed 0" in out
    assert status(intake_db) == {"sent": 2, "queued": 0, "retrying": 0, "failed": 0, "dismissed": 0}
