"""Delivering the outbox: claim due messages, send them, record success or schedule a retry.

A message is claimed with one atomic UPDATE that stamps it with a claim ID and a lease
(``claimed_until``); the row is re-selected by that claim ID, so two senders never hold the
same message. On PostgreSQL the UPDATE picks its rows with ``FOR UPDATE SKIP LOCKED``, so
senders skip each other's rows instead of waiting; on SQLite the UPDATE runs under the
database write lock, which has the same effect. A sender that dies mid-batch leaves its
claims to expire; those messages are then sent by the next round (at-least-once, with the
same Message-ID, so a receiving server can recognise a duplicate).

Temporary failures (server down or unreachable, login refused, an SMTP 4xx reply) are
retried with exponential backoff: 30 s, 1 min, 2 min, ... up to 1 hour between attempts,
forever: nothing is dropped while the SMTP server is down.

A permanent refusal (an SMTP 5xx reply about this message: "550 mailbox unavailable",
"552 message too big") is retried every hour, because it may come from a misconfigured
relay that the operator fixes within hours; after ``max_permanent_failures`` refusals in a
row (``MAIL_MAX_PERMANENT_FAILURES``, default 5, i.e. about 4 hours) the message is marked
failed (``failed_at``): it is no longer tried, one ERROR line names it, ``queue_status`` and
``kb send-mail`` count it, and ``kb send-mail --retry-failed`` (:func:`requeue_failed`) puts
it back in the queue.

A failed message that can never be delivered (a customer's address with a typo) is dismissed
by an operator (``kb send-mail --dismiss``, :func:`dismiss_failed`): it keeps ``failed_at``, so
it is never due, and gets ``dismissed_at`` and the operator's reason; it is then counted apart,
not as failed, and ``--retry-failed`` leaves it alone.

The message bytes (text, attachments: customers' personal data) of a sent or dismissed
message are dropped after the retention period (``MAIL_RETENTION_DAYS``,
:func:`prune_messages`); the row stays for the record. Only such rows are pruned, and they
are never sent again, so nothing ever reads a dropped message.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import smtplib
import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from .db import OutboxMessage, utcnow
from .settings import DEFAULT_MAX_PERMANENT_FAILURES
from .transports import Transport

log = logging.getLogger(__name__)

BACKOFF_BASE = dt.timedelta(seconds=30)
BACKOFF_MAX = dt.timedelta(hours=1)
# The wait after a permanent refusal: long enough for an operator to fix a relay in between.
PERMANENT_RETRY_DELAY = dt.timedelta(hours=1)
LEASE = dt.timedelta(minutes=10)
# How often `kb send-mail --loop` applies the retention period: a day's precision is plenty.
PRUNE_INTERVAL = dt.timedelta(hours=1)
BATCH_SIZE = 20
MAX_ERROR_CHARS = 1000


@dataclass
class DeliveryStats:
    """What one :func:`deliver_pending` call did.

    ``failed`` counts the attempts that did not deliver; ``gave_up`` those of them after
    which the message was marked failed (no more attempts).
    """

    sent: int = 0
    failed: int = 0
    gave_up: int = 0

    @property
    def attempted(self) -> int:
        return self.sent + self.failed


def backoff(attempts: int) -> dt.timedelta:
    """The wait before the next try after ``attempts`` failed ones: 30 s doubling, at most 1 hour."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def _due(now: dt.datetime):
    return and_(
        OutboxMessage.sent_at.is_(None),
        OutboxMessage.failed_at.is_(None),
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
    )


def claim(session: Session, now: dt.datetime, limit: int = BATCH_SIZE, lease: dt.timedelta = LEASE) -> list[OutboxMessage]:
    """Atomically take up to ``limit`` due messages for this sender and return them (committed)."""
    claim_id = secrets.token_hex(16)
    candidates = (
        select(OutboxMessage.id)
        .where(_due(now))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite serializes the UPDATE instead
    )
    # The due condition is repeated on the UPDATE itself: a row claimed by a concurrent
    # sender between the sub-select and the update is re-checked and left alone.
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(candidates.scalar_subquery()), _due(now))
        .values(claimed_by=claim_id, claimed_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return list(
        session.scalars(select(OutboxMessage).where(OutboxMessage.claimed_by == claim_id).order_by(OutboxMessage.id))
    )


def _file_name(message: OutboxMessage) -> str:
    return f"{message.ticket_id}-{message.kind}-{message.id}"


def _finish(session: Session, message: OutboxMessage, values: dict) -> None:
    # Only while we still hold the claim: never overwrite a row another sender took over.
    session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.claimed_by == message.claimed_by)
        .values(claimed_by=None, claimed_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def deliver_pending(
    session_factory: Callable[[], Session],
    transport: Transport,
    now: dt.datetime | None = None,
    *,
    batch_size: int = BATCH_SIZE,
    max_permanent_failures: int = DEFAULT_MAX_PERMANENT_FAILURES,
) -> DeliveryStats:
    """Send every message due at ``now`` (default: the current time); return what happened.

    A failed message gets ``attempts + 1``, ``last_error`` and its next attempt: after
    :func:`backoff` for a temporary failure, after :data:`PERMANENT_RETRY_DELAY` for a
    permanent refusal (:func:`is_permanent_refusal`), or none when that was the
    ``max_permanent_failures``-th refusal in a row (the message is marked failed). When the
    server cannot be reached, the rest of the batch is postponed the same way without trying
    each one against a dead server.
    """
    stats = DeliveryStats()
    clock = (lambda: now) if now is not None else utcnow
    with session_factory() as session, transport:
        while True:
            batch = claim(session, clock(), limit=batch_size)
            if not batch:
                return stats
            unreachable: Exception | None = None
            for message in batch:
                error = unreachable
                if error is None:
                    try:
                        transport.send(message.sender, message.recipient, message.message, _file_name(message))
                    except Exception as exc:  # any failure is recorded and retried, never lost
                        error = exc
                        if _is_connection_error(exc):
                            unreachable = exc
                if error is None:
                    _finish(session, message, {"sent_at": clock(), "last_error": None, "permanent_failures": 0})
                    stats.sent += 1
                    log.info("sent %s e-mail of %s (outbox #%s)", message.kind, message.ticket_id, message.id)
                else:
                    stats.failed += 1
                    if _record_failure(session, message, error, clock(), max_permanent_failures):
                        stats.gave_up += 1


def _record_failure(
    session: Session, message: OutboxMessage, error: Exception, now: dt.datetime, max_permanent_failures: int
) -> bool:
    """Store a failed attempt and schedule the next one; True when the message is now marked failed.

    Consecutive permanent refusals are counted in the row (``permanent_failures``) rather
    than derived: the row keeps only the last error, not the history of attempts. A
    temporary failure sets the count back to 0, so "5xx, 4xx, 5xx" is one refusal in a row,
    not two: the 4xx shows the server is still deciding about this message.
    """
    attempts = message.attempts + 1
    permanent = is_permanent_refusal(error)
    refusals = message.permanent_failures + 1 if permanent else 0
    values = {
        "attempts": attempts,
        "permanent_failures": refusals,
        "last_error": f"{type(error).__name__}: {error}"[:MAX_ERROR_CHARS],
    }
    gave_up = permanent and refusals >= max_permanent_failures
    if gave_up:
        values["failed_at"] = now
    elif permanent:
        values["next_attempt_at"] = now + PERMANENT_RETRY_DELAY
    else:
        values["next_attempt_at"] = now + backoff(attempts)
    _finish(session, message, values)
    # The error's text may quote the recipient's address: the log gets its kind and SMTP
    # code only (the full text is in the row's last_error).
    if gave_up:
        log.error(
            "gave up on %s e-mail of %s (outbox #%s): the SMTP server refused it %d times in a row, last: %s; "
            "no more attempts until `kb send-mail --retry-failed`",
            message.kind, message.ticket_id, message.id, refusals, describe_error(error),
        )
    elif permanent:
        log.warning(
            "could not send %s e-mail of %s (outbox #%s, attempt %d): %s, refused %d of %d times before giving up",
            message.kind, message.ticket_id, message.id, attempts, describe_error(error), refusals, max_permanent_failures,
        )
    else:
        log.warning(
            "could not send %s e-mail of %s (outbox #%s, attempt %d): %s",
            message.kind, message.ticket_id, message.id, attempts, describe_error(error),
        )
    return gave_up


def describe_error(exc: Exception) -> str:
    """``SMTPRecipientsRefused 550`` or ``ConnectionRefusedError``: what went wrong, without personal data."""
    codes = smtp_codes(exc)
    return f"{type(exc).__name__} {'/'.join(map(str, codes))}" if codes else type(exc).__name__


def smtp_codes(exc: Exception) -> list[int]:
    """The SMTP reply codes ``exc`` carries: one per refused recipient, or the one of the reply."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return sorted({code for code, _text in exc.recipients.values()})
    code = getattr(exc, "smtp_code", None)
    return [code] if isinstance(code, int) and code > 0 else []


def is_permanent_refusal(exc: Exception) -> bool:
    """True for an SMTP 5xx reply about this message (recipient, sender or content refused).

    4xx replies ("try again later") and everything about the session (server down,
    login refused, HELO refused) are temporary: retried forever.
    """
    if not isinstance(exc, smtplib.SMTPException) or _is_connection_error(exc):
        return False
    codes = smtp_codes(exc)
    return bool(codes) and all(500 <= code <= 599 for code in codes)


def _is_connection_error(exc: Exception) -> bool:
    """True when no message could get through now (server down, login refused, disk full).

    A refusal of one message (e.g. 550 for its recipient) is not: the others are still tried.
    """
    session_level = (
        smtplib.SMTPServerDisconnected,
        smtplib.SMTPConnectError,
        smtplib.SMTPAuthenticationError,
        smtplib.SMTPHeloError,  # the server refuses us, not this message
        smtplib.SMTPNotSupportedError,  # e.g. no AUTH offered: a configuration problem
    )
    if isinstance(exc, session_level):
        return True
    if isinstance(exc, smtplib.SMTPException):  # an SMTP answer about this message
        return False
    return isinstance(exc, OSError)  # refused connection, timeout, TLS failure, file system


def queue_status(session: Session, now: dt.datetime | None = None) -> dict[str, int]:
    """Counts for operators: ``sent``, ``queued`` (waiting, never failed), ``retrying`` (failed at
    least once, will be tried again), ``failed`` (refused for good, no longer tried) and
    ``dismissed`` (failed, then dismissed by an operator: never sent, nothing to do)."""
    from sqlalchemy import case, func

    state = case(
        (OutboxMessage.sent_at.is_not(None), "sent"),
        (OutboxMessage.dismissed_at.is_not(None), "dismissed"),
        (OutboxMessage.failed_at.is_not(None), "failed"),
        (OutboxMessage.attempts > 0, "retrying"),
        else_="queued",
    )
    rows = session.execute(select(state, func.count()).group_by(state)).all()
    counts = {"sent": 0, "queued": 0, "retrying": 0, "failed": 0, "dismissed": 0}
    counts.update({name: n for name, n in rows})
    return counts


def _failed():
    """Marked failed and not dismissed: what ``--list-failed`` shows and ``--retry-failed`` requeues."""
    return and_(OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_not(None), OutboxMessage.dismissed_at.is_(None))


def failed_messages(session: Session) -> list[OutboxMessage]:
    """The messages marked failed (not dismissed), oldest first (for ``kb send-mail --list-failed``)."""
    query = select(OutboxMessage).where(_failed()).order_by(OutboxMessage.failed_at, OutboxMessage.id)
    return list(session.scalars(query))


def dismissed_messages(session: Session) -> list[OutboxMessage]:
    """The dismissed messages, oldest dismissal first (for ``kb send-mail --list-dismissed``)."""
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.dismissed_at.is_not(None))
        .order_by(OutboxMessage.dismissed_at, OutboxMessage.id)
    )
    return list(session.scalars(query))


def requeue_failed(session: Session, now: dt.datetime | None = None) -> int:
    """Put every failed message back in the queue, due at ``now``, as if never tried; return how many.

    Dismissed messages stay dismissed. ``last_error`` stays until the message is sent, so the
    reason is still there if it fails again.
    """
    now = now or utcnow()
    result = session.execute(
        update(OutboxMessage)
        .where(_failed())
        .values(failed_at=None, attempts=0, permanent_failures=0, next_attempt_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount


def prune_messages(session: Session, retention_days: int, now: dt.datetime | None = None) -> int:
    """Drop the message bytes of the e-mails sent or dismissed more than ``retention_days`` ago;
    return how many. The rows stay (recipient, ticket, subject, times, last answer).

    Waiting and failed (not dismissed) messages keep their bytes whatever their age: they may
    still be sent. Sent and dismissed ones never are, so nothing reads a dropped message.
    """
    now = now or utcnow()
    cutoff = now - dt.timedelta(days=retention_days)
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.message.is_not(None),
            or_(OutboxMessage.sent_at < cutoff, OutboxMessage.dismissed_at < cutoff),
        )
        .values(message=None, message_pruned_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return result.rowcount


class DismissRefused(ValueError):
    """Some of the messages asked for cannot be dismissed; nothing was changed.

    ``problems`` holds one line per message, each saying what the message is instead.
    """

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def dismiss_failed(session: Session, ids: list[int], reason: str, now: dt.datetime | None = None) -> list[OutboxMessage]:
    """Dismiss the failed messages ``ids`` with the operator's ``reason``: all of them, or none.

    :raise DismissRefused: when an ID is unknown or its message is not marked failed (sent,
        still waiting, already dismissed), with one line per such ID; nothing is changed.
    """
    now = now or utcnow()
    wanted = sorted(set(ids))
    rows = {
        message.id: message
        for message in session.scalars(
            select(OutboxMessage).where(OutboxMessage.id.in_(wanted)).with_for_update()  # PostgreSQL; SQLite: see below
        )
    }
    problems = [problem for problem in (_not_dismissible(i, rows.get(i)) for i in wanted) if problem]
    if problems:
        session.rollback()
        raise DismissRefused(problems)
    # The failed condition is checked again by the UPDATE itself: on SQLite a concurrent
    # `--retry-failed` may have requeued a row since the SELECT (no row locks there).
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(wanted), _failed())
        .values(dismissed_at=now, dismiss_reason=reason)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != len(wanted):
        session.rollback()
        raise DismissRefused(
            ["the outbox changed meanwhile (another `kb send-mail --retry-failed`?); look again with --list-failed"]
        )
    session.commit()
    for message in rows.values():
        session.refresh(message)
    return [rows[i] for i in wanted]


def _not_dismissible(outbox_id: int, message: OutboxMessage | None) -> str | None:
    """Why ``message`` cannot be dismissed, for the operator; None when it can (it is marked failed)."""
    if message is None:
        return f"outbox #{outbox_id}: no such e-mail (the numbers are those `kb send-mail --list-failed` shows)"
    if message.sent_at is not None:
        return f"outbox #{outbox_id}: it was sent on {message.sent_at:%Y-%m-%d %H:%M} UTC; only e-mails marked failed can be dismissed"
    if message.dismissed_at is not None:
        return (
            f"outbox #{outbox_id}: already dismissed on {message.dismissed_at:%Y-%m-%d %H:%M} UTC "
            f"(reason: {message.dismiss_reason})"
        )
    if message.failed_at is None:
        return (
            f"outbox #{outbox_id}: it is still waiting to be sent ({message.attempts} failed attempt(s) so far); "
            "only e-mails marked failed can be dismissed (see `kb send-mail --list-failed`)"
        )
    return None


class SenderThread:
    """Delivers the outbox in the background (``make run``): every ``interval`` seconds, or at :meth:`wake`."""

    def __init__(
        self,
        session_factory: Callable[[], Session],
        transport: Transport,
        interval: float = 5.0,
        max_permanent_failures: int = DEFAULT_MAX_PERMANENT_FAILURES,
    ):
        self.session_factory = session_factory
        self.transport = transport
        self.interval = interval
        self.max_permanent_failures = max_permanent_failures
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="intake-mail-sender", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Deliver now (e.g. right after a ticket was stored) instead of at the next tick."""
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the current round and end the thread."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        self._wake.set()
        thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                deliver_pending(self.session_factory, self.transport, max_permanent_failures=self.max_permanent_failures)
            except Exception:  # a database hiccup must not kill the sender: log, retry next tick
                log.exception("mail sender round failed")
            self._wake.wait(self.interval)
            self._wake.clear()
