"""Dismissing a failed e-mail that can never be delivered (``kb send-mail --dismiss ID --reason``):
kept for the record, never sent, no longer counted as failed, left alone by ``--retry-failed``.
The failures come from a real aiosmtpd server refusing the customer's address (550)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from intake.db import OutboxMessage
from intake.outbox import queue_status
from kb_build.cli import cli

CUSTOMER = "mario.rossi@example.com"  # the customer of store_ticket()
TYPO = "mario.rosi@example.com"
REASON = "address with a typo; the customer got the ticket number by phone"


def send_mail(database_url, smtp_url, tmp_path, *options):
    """``kb send-mail`` as an operator runs it; one permanent refusal marks an e-mail failed."""
    args = ["send-mail", "--database-url", database_url, "--smtp-url", smtp_url, "--instance", str(tmp_path)]
    return CliRunner().invoke(cli, [*args, *options], env={"MAIL_MAX_PERMANENT_FAILURES": "1"})


def rows(database) -> dict[int, OutboxMessage]:
    with database.session() as session:
        return {m.id: m for m in session.scalars(select(OutboxMessage))}


def states(messages: dict[int, OutboxMessage]) -> dict[int, tuple]:
    return {i: (m.sent_at, m.failed_at, m.dismissed_at, m.dismiss_reason, m.attempts) for i, m in messages.items()}


def outbox_id(database, recipient) -> int:
    return next(m.id for m in rows(database).values() if m.recipient == recipient)


def status(database) -> dict[str, int]:
    with database.session() as session:
        return queue_status(session)


@pytest.fixture
def failed_confirmation(intake_db, store_ticket, smtp_server, tmp_path):
    """A ticket whose customer confirmation went to a mistyped address: refused, marked failed."""
    smtp_server.refuse.add(TYPO)
    ticket = store_ticket(customer_email=TYPO)
    result = send_mail(intake_db.url, smtp_server.url, tmp_path)
    assert result.exit_code == 1 and "failed for good: 1" in result.stdout, result.output
    assert "kb send-mail --dismiss ID --reason TEXT" in result.stderr
    return ticket, outbox_id(intake_db, TYPO)


def test_a_dismissed_email_is_kept_never_sent_and_no_longer_fails_the_run(
    intake_db, failed_confirmation, smtp_server, tmp_path
):
    ticket, failed_id = failed_confirmation
    before = rows(intake_db)[failed_id]

    dismissed = send_mail(intake_db.url, smtp_server.url, tmp_path, "--dismiss", f"#{failed_id}", "--reason", REASON)

    assert dismissed.exit_code == 0, dismissed.output
    assert dismissed.stdout.splitlines() == [
        f"dismissed outbox #{failed_id}  {ticket.id}  customer e-mail, failed {before.failed_at:%Y-%m-%d %H:%M} UTC: "
        "kept for the record, never sent, no longer counted as failed",
        "see them with: kb send-mail --list-dismissed",
    ]
    row = rows(intake_db)[failed_id]
    assert row.dismiss_reason == REASON and row.dismissed_at is not None and row.dismissed_at >= before.failed_at
    # Everything else stays as the record of what happened.
    assert (row.failed_at, row.attempts, row.last_error, row.message, row.sent_at) == (
        before.failed_at, 1, before.last_error, before.message, None,
    )

    # The next run is clean again (cron and monitoring see exit status 0) and says why.
    run = send_mail(intake_db.url, smtp_server.url, tmp_path)
    assert run.exit_code == 0, run.output
    assert run.stdout == "sent 0, failed 0; waiting: 0 queued, 0 to retry; failed for good: 0; dismissed: 1\n"
    assert run.stderr == ""
    assert status(intake_db) == {"sent": 1, "queued": 0, "retrying": 0, "failed": 0, "dismissed": 1}

    listing = send_mail(intake_db.url, smtp_server.url, tmp_path, "--list-failed")
    assert (listing.exit_code, listing.stdout) == (0, "no failed e-mails\n")
    dismissed_list = send_mail(intake_db.url, smtp_server.url, tmp_path, "--list-dismissed")
    assert dismissed_list.exit_code == 0, dismissed_list.output
    lines = dismissed_list.stdout.splitlines()
    assert lines[0] == "1 dismissed e-mail(s), oldest first:"
    assert lines[1].startswith(f"outbox #{failed_id}  {ticket.id}  customer e-mail to {TYPO}  dismissed ")
    assert lines[1].endswith(f" UTC: {REASON}")
    assert lines[2].startswith("  last answer: SMTPRecipientsRefused: ") and "550" in lines[2]

    # --retry-failed leaves it alone, even once the server would accept the address.
    smtp_server.refuse.clear()
    retry = send_mail(intake_db.url, smtp_server.url, tmp_path, "--retry-failed")
    assert retry.exit_code == 0, retry.output
    assert retry.stdout == (
        "requeued 0 failed e-mail(s)\nsent 0, failed 0; waiting: 0 queued, 0 to retry; failed for good: 0; dismissed: 1\n"
    )
    assert [r.rcpt_tos for r in smtp_server.inbox] == [["hd@smacloud.it"]]  # the department's copy only
    assert rows(intake_db)[failed_id].dismissed_at == row.dismissed_at


def test_only_failed_emails_can_be_dismissed_and_a_refusal_changes_nothing(
    intake_db, failed_confirmation, store_ticket, smtp_server, tmp_path
):
    _ticket, failed_id = failed_confirmation
    sent_id = outbox_id(intake_db, "hd@smacloud.it")
    store_ticket(nonce="later", customer_email="anna.verdi@example.com")  # not delivered yet: queued
    queued_id = outbox_id(intake_db, "anna.verdi@example.com")
    unknown_id = max(rows(intake_db)) + 100
    before = rows(intake_db)

    # One good ID among bad ones: all or nothing.
    ids = [failed_id, sent_id, queued_id, unknown_id]
    result = send_mail(intake_db.url, smtp_server.url, tmp_path, *(f"--dismiss={i}" for i in ids), "--reason", REASON)

    assert result.exit_code == 2, result.output
    sent_at = before[sent_id].sent_at
    assert result.stderr == (
        "Error: nothing was dismissed:\n"
        f"  outbox #{sent_id}: it was sent on {sent_at:%Y-%m-%d %H:%M} UTC; only e-mails marked failed can be dismissed\n"
        f"  outbox #{queued_id}: it is still waiting to be sent (0 failed attempt(s) so far); "
        "only e-mails marked failed can be dismissed (see `kb send-mail --list-failed`)\n"
        f"  outbox #{unknown_id}: no such e-mail (the numbers are those `kb send-mail --list-failed` shows)\n"
    )
    assert states(rows(intake_db)) == states(before)
    assert status(intake_db)["failed"] == 1 and status(intake_db)["dismissed"] == 0

    # Dismissed once; a second time is refused too, saying when and why it was.
    assert send_mail(intake_db.url, smtp_server.url, tmp_path, "--dismiss", str(failed_id), "--reason", REASON).exit_code == 0
    again = send_mail(intake_db.url, smtp_server.url, tmp_path, "--dismiss", str(failed_id), "--reason", "again")
    assert again.exit_code == 2
    assert f"outbox #{failed_id}: already dismissed on " in again.stderr and f"(reason: {REASON})" in again.stderr
    assert rows(intake_db)[failed_id].dismiss_reason == REASON


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--dismiss", "3"], "--dismiss needs --reason: say why the e-mail will never be sent"),
        (["--dismiss", "3", "--reason", "  "], "--dismiss needs --reason"),
        (["--reason", "typo"], "--reason goes with --dismiss ID"),
        (["--dismiss", "three", "--reason", "typo"], "expected an outbox number as `kb send-mail --list-failed` shows it (12 or #12) but received: 'three'"),
        (["--dismiss", "3", "--reason", "typo", "--retry-failed"], "--dismiss only dismisses: run it on its own"),
        (["--dismiss", "3", "--reason", "typo", "--loop"], "--dismiss only dismisses"),
        (["--list-dismissed", "--retry-failed"], "--list-dismissed only lists"),
    ],
)
def test_unclear_dismiss_requests_are_refused_before_anything_is_opened(tmp_path, options, message):
    database = tmp_path / "intake.sqlite3"
    result = send_mail(f"sqlite:///{database}", "smtp://127.0.0.1:9", tmp_path, *options)
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split())  # click may wrap long lines
    assert not database.exists()


def test_with_nothing_dismissed_the_list_says_so(intake_db, smtp_server, tmp_path):
    listing = send_mail(intake_db.url, smtp_server.url, tmp_path, "--list-dismissed")
    assert (listing.exit_code, listing.stdout) == (0, "no dismissed e-mails\n")
