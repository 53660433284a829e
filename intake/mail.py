"""The two e-mails of a ticket (SPEC I6): to the department, and the customer's confirmation.

Messages are built with :class:`email.message.EmailMessage` under the SMTP policy and stored
whole in the outbox (``intake.outbox`` delivers them). Customer text can never become a
header: every header value goes through :func:`one_line`, and addresses are parsed and
checked with ``email-validator`` before they reach a header.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import TYPE_CHECKING

from email_validator import EmailNotValidError, validate_email

from .attachments import human_size
from .rules import ROME, format_date
from .settings import ConfigError, app_settings

if TYPE_CHECKING:
    from .store import Submission, Upload

# Line breaks of every kind (CR, LF, VT, FF, NEL, U+2028/9) and other control characters.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


@dataclass(frozen=True)
class MailSettings:
    """Who sends, and where each department's tickets go (``helpdesk``, ``sales``)."""

    sender: str
    department_addresses: Mapping[str, str]

    def department_address(self, department: str) -> Address:
        try:
            return parse_address(self.department_addresses[department])
        except KeyError:
            raise ConfigError(
                f"MAIL_DEPARTMENTS: no address for department {department!r} "
                f"(configured: {', '.join(sorted(self.department_addresses)) or 'none'}); "
                f"add '{department}=address@example.com'"
            ) from None


def one_line(value: object) -> str:
    """``value`` as a single header-safe line: control characters and line breaks become spaces."""
    return " ".join(_CONTROL.sub(" ", str(value)).split())


def parse_address(value: str) -> Address:
    """``"Name <box@example.com>"`` or ``"box@example.com"`` as a checked :class:`Address`.

    International domains are converted to their ASCII form; a non-ASCII mailbox name is
    refused (it would need SMTPUTF8, which not every server offers).

    :raise ValueError: with the reason, when it is not one plain, valid address.
    """
    text = str(value).strip()
    if _CONTROL.search(text):
        raise ValueError("line breaks or control characters are not allowed")
    match = re.fullmatch(r"(?:(?P<name>[^<>]*?)\s*<(?P<angle>[^<>]+)>|(?P<bare>[^<>\s]+))", text)
    if not match:
        raise ValueError("expected 'box@example.com' or 'Name <box@example.com>'")
    name = (match["name"] or "").strip().strip('"')
    addr = match["angle"] or match["bare"]
    try:
        checked = validate_email(addr, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from exc
    return Address(display_name=one_line(name), addr_spec=checked.ascii_email)


def italian_datetime(moment: dt.datetime) -> str:
    """``mercoledì 26 novembre 2025, 10:32`` in Italian time."""
    local = moment.astimezone(ROME)
    return f"{format_date(local.date())}, {local:%H:%M}"


def format_answers(answers: Sequence) -> str:
    """The customer's answers, one block per field in the form's order: the label, then the value indented."""
    blocks = []
    for answer in answers:
        value = answer.value
        if isinstance(value, (list, tuple)):
            value = ", ".join(str(v) for v in value)
        text = str(value).strip() if value is not None else ""
        lines = text.splitlines() or ["(non indicato)"]
        blocks.append(f"{one_line(answer.label)}:\n" + "\n".join(f"  {line}".rstrip() for line in lines))
    return "\n\n".join(blocks)


def _new_message(sender: Address, to: Address, subject: str, created_at: dt.datetime, reply_to: Address) -> EmailMessage:
    msg = EmailMessage(policy=policy.SMTP)
    msg["From"] = sender
    msg["To"] = to
    msg["Reply-To"] = reply_to
    msg["Subject"] = one_line(subject)
    msg["Date"] = format_datetime(created_at.astimezone(dt.timezone.utc))
    msg["Message-ID"] = make_msgid(domain=sender.domain)
    return msg


def department_message(
    ticket_id: str,
    submission: Submission,
    attachments: Sequence[Upload],
    settings: MailSettings,
    created_at: dt.datetime,
    search_query: str | None = None,
) -> EmailMessage:
    """The ticket for the department: ID in the subject, answers in the form's order, the files attached.

    Reply-To is the customer, so answering the e-mail answers the customer.
    """
    customer = parse_address(submission.customer_email)
    msg = _new_message(
        parse_address(settings.sender),
        settings.department_address(submission.department),
        f"[{ticket_id}] {one_line(submission.subject)}",
        created_at,
        reply_to=customer,
    )
    header = [
        f"Nuova richiesta {ticket_id}: {one_line(submission.request_title or submission.request_type)}",
        "",
        f"Modulo:     {one_line(submission.request_type)}",
        f"Reparto:    {one_line(submission.department_name)}",
        f"Priorità:   {one_line(submission.priority)}",
        f"Cliente:    {customer.addr_spec}",
        f"Ricevuta:   {italian_datetime(created_at)} (ora italiana)",
    ]
    if search_query:
        header.append(f"Ricerca:    \"{one_line(search_query)}\" (nessun articolo ha risolto)")
    parts = ["\n".join(header), "--- Risposte del cliente ---", format_answers(submission.answers)]
    if attachments:
        listing = "\n".join(
            f"  {one_line(upload.filename)} ({one_line(upload.content_type)}, {human_size(len(upload.data))})"
            for upload in attachments
        )
        parts.append(f"--- Allegati ({len(attachments)}) ---\n{listing}")
    msg.set_content("\n\n".join(parts) + "\n", cte="quoted-printable")
    for upload in attachments:
        maintype, _, subtype = upload.content_type.partition("/")
        if not (maintype and subtype) or _CONTROL.search(upload.content_type):
            maintype, subtype = "application", "octet-stream"
        msg.add_attachment(upload.data, maintype=maintype, subtype=subtype, filename=one_line(upload.filename) or "allegato")
    return msg


def customer_message(
    ticket_id: str,
    submission: Submission,
    settings: MailSettings,
    created_at: dt.datetime,
    examined_when: str,
) -> EmailMessage:
    """The customer's confirmation, in Italian: the ID, the department, what happens next and when.

    :param examined_when: a ready Italian sentence from the office-hours rule, e.g.
        "La esamineremo entro oggi alle 17:30." (SPEC I5).
    """
    department = settings.department_address(submission.department)
    msg = _new_message(
        parse_address(settings.sender),
        parse_address(submission.customer_email),
        f"[{ticket_id}] Abbiamo ricevuto la tua richiesta: {one_line(submission.subject)}",
        created_at,
        reply_to=department,
    )
    # RFC 3834: an automatic message; vacation responders must not answer it.
    msg["Auto-Submitted"] = "auto-generated"
    department_name = one_line(submission.department_name)
    text = f"""Gentile cliente,

abbiamo ricevuto la tua richiesta {italian_datetime(created_at)} (ora italiana)
e le abbiamo assegnato il numero {ticket_id}.

Reparto: {department_name}

Cosa succede ora
Il reparto {department_name} esaminerà la richiesta e ti risponderà a questo
indirizzo e-mail. {one_line(examined_when)}

Se vuoi aggiungere informazioni, rispondi a questo messaggio lasciando il numero
{ticket_id} nell'oggetto: la risposta arriva direttamente al reparto.

Riepilogo di quello che ci hai scritto

{format_answers(submission.answers)}

--
Messaggio inviato automaticamente dal sistema di assistenza.
"""
    msg.set_content(text, cte="quoted-printable")
    return msg


def init_app(app) -> MailSettings:
    """Mail settings and the delivery transport of ``app``; starts the background sender if asked.

    Reads ``MAIL_SENDER``, ``MAIL_DEPARTMENTS``, ``SMTP_URL`` (unset: ``.eml`` files in
    ``<instance>/mail``), ``MAIL_MAX_PERMANENT_FAILURES`` and ``MAIL_BACKGROUND_SENDER``
    (true in ``make run``). Needs
    ``intake.db.init_app`` first when the background sender is on.
    """
    from .outbox import SenderThread
    from .transports import transport_from_url

    settings = app_settings(app)
    mail_settings = MailSettings(settings.mail_sender, settings.department_addresses)
    transport = transport_from_url(settings.smtp_url, settings.mail_dir)
    app.extensions["intake.mail"] = mail_settings
    app.extensions["intake.transport"] = transport
    if app.config.get("MAIL_BACKGROUND_SENDER"):
        import atexit

        sender = SenderThread(
            app.extensions["intake.db"].sessions, transport, max_permanent_failures=settings.mail_max_permanent_failures
        )
        sender.start()
        app.extensions["intake.sender"] = sender
        atexit.register(sender.stop)
    return mail_settings
