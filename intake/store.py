"""Storing a ticket: the row, its files, both e-mails and the analytics event, all or nothing.

The attachment bytes are written first, to ``<instance>/attachments/ab/abcdef...`` (by
SHA-256, so the same file is stored once; never under a web root). Then one database
transaction inserts the ticket, its attachment rows, the department and customer e-mails
(outbox) and the "ticket" event: a failure anywhere stores none of them.

A failed transaction leaves its files on disk: deleting them at once is not safe, because a
concurrent request may be about to reference an identical file it found already there.
``kb prune-attachments`` (:mod:`intake.attachment_prune`) removes them once no ticket
references them and they are older than a grace period; :func:`store_blob` refreshes the
modification time of a file it reuses, so a file an in-flight request needs is never that old.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.utils import secure_filename

from . import analytics
from .attachments import Attachment as Upload  # a file as the form checked it (size, type by content)
from .db import Attachment, OutboxMessage, Ticket, utcnow
from .gate import TokenUsed
from .mail import MailSettings, customer_message, department_message, parse_address
from .settings import DEFAULT_PREFIX
from .ticket_ids import new_ticket_id

MAX_ID_ATTEMPTS = 10  # 10^8 IDs: even one collision is rare; ten in a row means a bug
TMP_PREFIX = ".tmp-"  # a file being written by store_blob (left behind if the process dies)


@dataclass(frozen=True)
class Answer:
    """One form field as the customer filled it: ``value`` is text, or a list for multiple choices."""

    name: str
    label: str
    value: str | list[str]


@dataclass(frozen=True)
class Submission:
    """A validated form: what the ticket and both e-mails are made of.

    :param department: the department key of the form definition (``helpdesk``, ``sales``).
    :param department_name: its Italian name, shown to the customer ("Assistenza Tecnica").
    :param answers: every field in the form's order (subject and e-mail included if the form has them).
    :param request_title: the request type as the form's title says it, for the department's
        e-mail (staff read "Migrazione programmata di un server dedicato", not "migrazione").
    """

    request_type: str
    department: str
    department_name: str
    subject: str
    priority: str
    customer_email: str
    answers: Sequence[Answer]
    request_title: str = ""



class TicketIdExhausted(RuntimeError):
    """No free ticket ID after :data:`MAX_ID_ATTEMPTS` tries (the random source is broken)."""


def safe_filename(name: str) -> str:
    """A file name safe in a header and on any disk: no path, no control characters."""
    cleaned = secure_filename(name or "")[:200]
    return cleaned or "allegato"


def blob_path(attachments_dir: Path, sha256: str) -> Path:
    return Path(attachments_dir) / sha256[:2] / sha256


def store_blob(attachments_dir: Path, data: bytes) -> str:
    """Write ``data`` under its SHA-256 (once: an identical file is already there) and return the hash.

    An identical file already on disk is reused, and its modification time set to now: it
    may be an orphan of a failed submission, which ``kb prune-attachments`` removes once it
    is older than the grace period. Refreshed here, before the ticket referencing it is
    committed, it is never that old while this request is in flight. If the pruner took it
    away meanwhile, ``os.utime`` fails and the file is written again.
    """
    digest = hashlib.sha256(data).hexdigest()
    target = blob_path(attachments_dir, digest)
    if _reuse(target, len(data)):
        return digest
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=TMP_PREFIX)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())  # on disk before the ticket that points at it is committed
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return digest


def _reuse(target: Path, size: int) -> bool:
    """True if ``target`` holds the file already (same size: same hash) and its age is now reset."""
    try:
        if target.stat().st_size != size:
            return False  # not this file (a damaged copy): write it again
        os.utime(target)  # "in use now": see store_blob and intake.attachment_prune
    except OSError:  # gone (pruned meanwhile), or not ours to touch: a fresh copy is as good
        return False
    return True


def create_ticket(
    session: Session,
    submission: Submission,
    attachments: Sequence[Upload],
    token_nonce: str,
    *,
    mail: MailSettings,
    attachments_dir: Path,
    examined_when: str,
    prefix: str = DEFAULT_PREFIX,
    search_query: str | None = None,
    now: dt.datetime | None = None,
) -> Ticket:
    """Store the ticket, its attachments, both outbox e-mails and a "ticket" event; commit; return the ticket.

    :param session: a session with nothing pending; this function commits it (or rolls it back).
    :param token_nonce: ``GateClaims.nonce`` of the verified search token; saved UNIQUE.
    :param examined_when: Italian sentence for the customer's e-mail (office-hours rule).
    :param search_query: the query of the search token, for the department and the analytics.
    :raise TokenUsed: the token already stored a ticket (replayed form); nothing is stored.
    :raise ValueError: the customer address cannot receive mail; nothing is stored.
    """
    if not token_nonce:
        raise ValueError("token_nonce is required: verify the search token first")
    parse_address(submission.customer_email)  # refuse before writing anything
    now = now or utcnow()
    uploads = [Upload(safe_filename(u.filename), u.content_type, u.data) for u in attachments]
    if _nonce_used(session, token_nonce):  # the common replay, answered without a failed insert
        raise TokenUsed(f"nonce {token_nonce} already stored a ticket")
    hashes = [store_blob(attachments_dir, upload.data) for upload in uploads]

    for _attempt in range(MAX_ID_ATTEMPTS):
        ticket = _ticket_rows(submission, uploads, hashes, token_nonce, mail, examined_when, prefix, search_query, now)
        ticket_id = ticket.id
        session.add(ticket)
        session.add(
            analytics.new_event(
                "ticket", query=search_query, request_type=submission.request_type, ticket_id=ticket_id, now=now
            )
        )
        try:
            session.commit()
            return ticket
        except IntegrityError:
            session.rollback()
            # A concurrent request stored this token first, or the ID collided (retry with a
            # new one); any other violation is a real error and propagates.
            if _nonce_used(session, token_nonce):
                raise TokenUsed(f"nonce {token_nonce} already stored a ticket") from None
            if not _id_taken(session, ticket_id):
                raise
        except BaseException:
            session.rollback()
            raise
    raise TicketIdExhausted(f"no free ticket ID after {MAX_ID_ATTEMPTS} attempts")


def _id_taken(session: Session, ticket_id: str) -> bool:
    found = session.scalar(select(Ticket.id).where(Ticket.id == ticket_id))
    session.rollback()
    return found is not None


def ticket_for_nonce(session: Session, token_nonce: str) -> str | None:
    """The ID of the ticket the search token with ``token_nonce`` stored, if it stored one.

    Lets the form refuse a replayed token before validating anything, and send a customer
    who submits twice (a double click, Back and submit) to the ticket already stored.
    """
    found = session.scalar(select(Ticket.id).where(Ticket.token_nonce == token_nonce))
    session.rollback()  # end the read, so the write transaction starts fresh (SQLite WAL snapshots)
    return found


def _nonce_used(session: Session, token_nonce: str) -> bool:
    return ticket_for_nonce(session, token_nonce) is not None


def _ticket_rows(submission, uploads, hashes, token_nonce, mail, examined_when, prefix, search_query, now) -> Ticket:
    ticket_id = new_ticket_id(prefix)
    ticket = Ticket(
        id=ticket_id,
        request_type=submission.request_type,
        department=submission.department,
        subject=submission.subject,
        priority=submission.priority,
        customer_email=submission.customer_email,
        answers=[{"name": a.name, "label": a.label, "value": a.value} for a in submission.answers],
        created_at=now,
        token_nonce=token_nonce,
    )
    ticket.attachments = [
        Attachment(sha256=digest, filename=u.filename, content_type=u.content_type, size=len(u.data))
        for u, digest in zip(uploads, hashes, strict=True)
    ]
    messages = [
        (
            "department",
            mail.department_address(submission.department),
            department_message(ticket_id, submission, uploads, mail, now, search_query),
        ),
        (
            "customer",
            parse_address(submission.customer_email),
            customer_message(ticket_id, submission, mail, now, examined_when),
        ),
    ]
    envelope_from = parse_address(mail.sender).addr_spec
    ticket.outbox = [
        OutboxMessage(
            kind=kind,
            sender=envelope_from,
            recipient=recipient.addr_spec,
            subject=str(msg["Subject"]),
            message=msg.as_bytes(),
            created_at=now,
            attempts=0,
            next_attempt_at=now,
        )
        for kind, recipient, msg in messages
    ]
    return ticket
