"""The back end's settings: read from a plain mapping (Flask config or environment), validated once.

Every problem is reported at once, each with how to fix it, so an operator corrects the
whole configuration in one go instead of one restart per mistake.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_PREFIX = "FPL"
DEFAULT_TOKEN_MAX_AGE = 2 * 60 * 60
DEFAULT_SENDER = "Assistenza SMACloud <noreply@smacloud.it>"
# Department keys used by the form definitions (SPEC I1) -> where their tickets go.
DEFAULT_DEPARTMENTS = {"helpdesk": "hd@smacloud.it", "sales": "sales@smacloud.it"}
PREFIX_PATTERN = re.compile(r"[A-Z][A-Z0-9]{0,9}")


class ConfigError(ValueError):
    """The configuration cannot be used; the message says what to change."""


@dataclass(frozen=True)
class BackendSettings:
    """Everything the store, the gate and the mail sender need, already validated."""

    instance_path: Path
    database_url: str
    smtp_url: str | None
    mail_sender: str
    department_addresses: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_DEPARTMENTS))
    ticket_id_prefix: str = DEFAULT_PREFIX
    token_max_age: int = DEFAULT_TOKEN_MAX_AGE

    @property
    def attachments_dir(self) -> Path:
        """Uploaded files, by content hash; inside the instance folder, never under a web root."""
        return self.instance_path / "attachments"

    @property
    def mail_dir(self) -> Path:
        """Where the embedded default delivers mail as ``.eml`` files when ``SMTP_URL`` is unset."""
        return self.instance_path / "mail"


def default_database_url(instance_path: Path) -> str:
    return f"sqlite:///{(Path(instance_path) / 'intake.sqlite3').resolve()}"


def load_settings(config: Mapping[str, Any], instance_path: str | Path) -> BackendSettings:
    """Build :class:`BackendSettings` from ``config`` (Flask config names, see the README table).

    Names read: ``DATABASE_URL``, ``SMTP_URL``, ``MAIL_SENDER``, ``MAIL_DEPARTMENTS``,
    ``TICKET_ID_PREFIX``, ``SEARCH_TOKEN_MAX_AGE``. Missing names take their defaults.

    :raise ConfigError: one line per problem, each saying how to fix it.
    """
    # Imported here: these modules import this one for ConfigError.
    from .db import normalize_database_url
    from .mail import parse_address
    from .transports import parse_transport_url

    instance = Path(instance_path)
    problems: list[str] = []

    def check(func, *args):
        try:
            return func(*args)
        except ConfigError as exc:
            problems.append(str(exc))
            return None

    raw_db = config.get("DATABASE_URL") or default_database_url(instance)
    database_url = check(normalize_database_url, raw_db)
    smtp_url = config.get("SMTP_URL") or None
    check(parse_transport_url, smtp_url, instance / "mail")
    sender = config.get("MAIL_SENDER") or DEFAULT_SENDER
    check(_address, "MAIL_SENDER", sender, parse_address)
    departments = check(parse_departments, config.get("MAIL_DEPARTMENTS"))
    if departments:
        for key, address in departments.items():
            check(_address, f"MAIL_DEPARTMENTS[{key}]", address, parse_address)
    prefix = check(validate_prefix, config.get("TICKET_ID_PREFIX") or DEFAULT_PREFIX)
    max_age = check(validate_max_age, config.get("SEARCH_TOKEN_MAX_AGE", DEFAULT_TOKEN_MAX_AGE))
    if problems:
        raise ConfigError("\n".join(problems))
    return BackendSettings(
        instance_path=instance,
        database_url=database_url,
        smtp_url=smtp_url,
        mail_sender=sender,
        department_addresses=departments,
        ticket_id_prefix=prefix,
        token_max_age=max_age,
    )


def _address(name: str, value: str, parse) -> None:
    try:
        parse(value)
    except ValueError as exc:
        raise ConfigError(
            f"{name}: {value!r} is not a usable e-mail address ({exc}); "
            "write it as 'name@example.com' or 'Display Name <name@example.com>'"
        ) from exc


def parse_departments(value: Mapping[str, str] | str | None) -> dict[str, str]:
    """``{"helpdesk": "hd@x", ...}`` or the environment form ``helpdesk=hd@x,sales=sales@x``.

    Departments not mentioned keep their default address.
    """
    result = dict(DEFAULT_DEPARTMENTS)
    if value is None or value == "":
        return result
    if isinstance(value, str):
        pairs = {}
        for item in filter(None, (part.strip() for part in value.split(","))):
            key, sep, address = item.partition("=")
            if not sep or not key.strip() or not address.strip():
                raise ConfigError(
                    f"MAIL_DEPARTMENTS: cannot read {item!r}; "
                    "write department=address pairs separated by commas, e.g. "
                    "'helpdesk=hd@example.com,sales=sales@example.com'"
                )
            pairs[key.strip()] = address.strip()
        value = pairs
    if not isinstance(value, Mapping):
        raise ConfigError(
            f"MAIL_DEPARTMENTS: expected a mapping or 'department=address,...' but received: {value!r}"
        )
    result.update(value)
    return result


def validate_prefix(prefix: str) -> str:
    if not isinstance(prefix, str) or not PREFIX_PATTERN.fullmatch(prefix):
        raise ConfigError(
            f"TICKET_ID_PREFIX: {prefix!r} is not allowed; use 1-10 capital letters or digits "
            "starting with a letter, e.g. 'FPL' (IDs then look like FPL-809-43017)"
        )
    return prefix


def validate_max_age(value: Any) -> int:
    # An int from Flask config, or a string of digits from the environment.
    if isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    elif isinstance(value, str) and value.strip().isdigit():
        seconds = int(value.strip())
    else:
        seconds = 0
    if seconds <= 0:
        raise ConfigError(
            f"SEARCH_TOKEN_MAX_AGE: expected a whole number of seconds above 0 but received: {value!r} "
            f"(the default is {DEFAULT_TOKEN_MAX_AGE}, i.e. 2 hours)"
        )
    return seconds
