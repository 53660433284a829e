"""WTForms validators for what the stock ones do not cover, each with an Italian ``message``.

Same shape as ``wtforms.validators``: a small ``(form, field)`` callable that raises
``ValidationError``; the message can be overridden from the YAML definition.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import date, datetime, timedelta

import email_validator
import idna
from flask import current_app
from wtforms.validators import ValidationError

from . import attachments as attachments_module
from .rules import ROME
from .subjects import subject_problem

# What separates several names in one box: commas, semicolons, spaces, new lines.
LIST_SEPARATORS = re.compile(r"[\s,;]+")
LDH_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def today() -> date:
    """Today in Italy (the office's calendar), not the server's time zone."""
    return datetime.now(ROME).date()


class SpecificSubject:
    """Refuses generic subjects ("richiesta assistenza", "aiuto!"): see ``intake.subjects``."""

    def __init__(self, message: str | None = None):
        self.message = message

    def __call__(self, form, field):
        problem = subject_problem(field.data or "")
        if problem:
            raise ValidationError(self.message or problem)


def split_list(value: str) -> list[str]:
    return [item for item in LIST_SEPARATORS.split(value or "") if item]


def normalise_domain(value: str) -> str:
    """The ASCII (punycode) form of a domain, lowercased; raises ValueError if it is not one.

    IDN names are accepted (``città.it`` -> ``xn--citt-3na.it``) through ``idna`` with UTS 46
    mapping, as registries do.
    """
    name = value.strip().rstrip(".")
    if not name:
        raise ValueError("empty")
    try:
        ascii_name = idna.encode(name, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise ValueError(str(exc)) from exc
    labels = ascii_name.split(".")
    if len(labels) < 2 or not all(LDH_LABEL.match(label) for label in labels) or len(ascii_name) > 253:
        raise ValueError("not a domain name")
    if labels[-1].isdigit():
        raise ValueError("numeric top-level label")
    return ascii_name


class Domain:
    """One domain name (IDN allowed), or with ``allow_ip`` also one IP address.

    A list of names is refused with the KB's rule: one service per ticket.
    """

    def __init__(self, allow_ip: bool = False, message: str | None = None):
        self.allow_ip = allow_ip
        self.message = message

    def __call__(self, form, field):
        value = (field.data or "").strip()
        if not value:
            return
        if len(split_list(value)) > 1:
            raise ValidationError(
                "Indica un solo dominio o servizio: in un ticket si affronta un solo servizio. "
                "Per più servizi apri un ticket per ciascuno."
            )
        if re.match(r"^[a-z][a-z0-9+.-]*://", value, re.IGNORECASE) or "/" in value:
            raise ValidationError(
                self.message or "Scrivi solo il nome a dominio, senza «https://» né percorsi: ad esempio example.it."
            )
        if self.allow_ip:
            try:
                ipaddress.ip_address(value)
                return
            except ValueError:
                pass
        try:
            normalise_domain(value)
        except ValueError:
            what = "un nome a dominio o un indirizzo IP valido" if self.allow_ip else "un nome a dominio valido"
            raise ValidationError(self.message or f"«{value}» non è {what}: ad esempio example.it o www.città.it.") from None


def check_address(address: str) -> str:
    """The normalised address, or ValueError; no DNS lookup (the service may be offline)."""
    try:
        return email_validator.validate_email(address, check_deliverability=False).normalized
    except email_validator.EmailNotValidError as exc:
        raise ValueError(str(exc)) from exc


class EmailAddress:
    """One e-mail address (``email-validator``, no DNS lookup)."""

    def __init__(self, message: str | None = None):
        self.message = message

    def __call__(self, form, field):
        value = (field.data or "").strip()
        if not value:
            return
        if len(split_list(value)) > 1:
            raise ValidationError(self.message or "Indica un solo indirizzo email.")
        try:
            check_address(value)
        except ValueError:
            raise ValidationError(
                self.message or f"«{value}» non è un indirizzo email valido: controlla di averlo scritto per intero (es. nome@example.it)."
            ) from None


class EmailList:
    """One or more e-mail addresses separated by commas, spaces or new lines."""

    def __init__(self, max_items: int = 20, message: str | None = None):
        self.max_items = max_items
        self.message = message

    def __call__(self, form, field):
        items = split_list(field.data or "")
        if len(items) > self.max_items:
            raise ValidationError(f"Indica al massimo {self.max_items} indirizzi.")
        wrong = []
        for item in items:
            try:
                check_address(item)
            except ValueError:
                wrong.append(item)
        if wrong:
            listed = ", ".join(f"«{w}»" for w in wrong)
            raise ValidationError(
                self.message or f"Questi indirizzi non sono validi: {listed}. Scrivi gli indirizzi per intero, separati da virgole."
            )


class DateRange:
    """A date between today + ``min_days`` and today + ``max_days`` (Italian calendar)."""

    def __init__(self, min_days: int | None = None, max_days: int | None = None, message: str | None = None):
        self.min_days = min_days
        self.max_days = max_days
        self.message = message

    def __call__(self, form, field):
        value = field.data
        if value is None:
            return
        if isinstance(value, datetime):
            value = value.date()
        now = today()
        if self.min_days is not None and value < now + timedelta(days=self.min_days):
            first = now + timedelta(days=self.min_days)
            raise ValidationError(self.message or f"Scegli una data dal {first:%d/%m/%Y} in poi.")
        if self.max_days is not None and value > now + timedelta(days=self.max_days):
            last = now + timedelta(days=self.max_days)
            raise ValidationError(self.message or f"Scegli una data entro il {last:%d/%m/%Y}.")


class Attachments:
    """The files of a ``files`` field: count, size and type limits of ``intake.attachments``.

    The checked files are left on ``field.attachments`` for whoever handles the request.
    """

    def __call__(self, form, field):
        config = current_app.config
        field.attachments = []
        try:
            field.attachments = attachments_module.check_attachments(
                field.data,
                max_bytes=config["ATTACHMENT_MAX_BYTES"],
                max_total=config["ATTACHMENTS_MAX_TOTAL_BYTES"],
                max_count=config["ATTACHMENTS_MAX_COUNT"],
            )
        except attachments_module.AttachmentError as exc:
            raise ValidationError(str(exc)) from None
