"""The intake's settings: read from the environment (or a test's mapping), validated once.

In production everything comes from environment variables (:data:`ENVIRONMENT`, the table
the README documents); :func:`config_from_environment` picks them, ``create_app`` lays them
over its defaults, and :func:`load_settings` checks the result. Every problem is reported at
once, each with how to fix it, so an operator corrects the whole configuration in one go
instead of one restart per mistake.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_PREFIX = "FPL"
DEFAULT_TOKEN_MAX_AGE = 2 * 60 * 60
DEFAULT_SENDER = "Assistenza SMACloud <noreply@smacloud.it>"
# Department keys used by the form definitions (SPEC I1) -> where their tickets go.
DEFAULT_DEPARTMENTS = {"helpdesk": "hd@smacloud.it", "sales": "sales@smacloud.it"}
PREFIX_PATTERN = re.compile(r"[A-Z][A-Z0-9]{0,9}")
DEFAULT_INDEX_DIR = os.path.join("build", "kb-index")
DEFAULT_SITE_URL = "/"
# Per client (IP address as seen through the trusted proxies). Generous for a person, tight
# for a script: a customer searches a few times and sends one or two forms.
DEFAULT_RATE_LIMITS = {
    "RATELIMIT_SEARCH": "30 per minute;300 per hour",  # the search step (GET / with ?q=)
    "RATELIMIT_API": "120 per minute;1200 per hour",  # /api/cerca: type-ahead, one call per pause
    "RATELIMIT_SUBMIT": "10 per minute;60 per hour",  # POST of a form (sent, corrected, previewed)
}
DEFAULT_RATELIMIT_STORAGE = "memory://"
# Permanent SMTP refusals (5xx) in a row before an e-mail is marked failed (intake.outbox).
DEFAULT_MAX_PERMANENT_FAILURES = 5
# Days the message bytes of a sent or dismissed e-mail are kept (intake.outbox.prune_messages):
# long enough to look into "I never got the e-mail" complaints, short for personal data.
DEFAULT_MAIL_RETENTION_DAYS = 30
MAX_MAIL_RETENTION_DAYS = 3650
MIN_SECRET_KEY_CHARS = 16
GENERATE_SECRET = 'python -c "import secrets; print(secrets.token_hex(32))"'
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


@dataclass(frozen=True)
class Variable:
    """One environment variable of the intake: its Flask config key, documented default and meaning."""

    name: str
    key: str
    default: str
    meaning: str


#: Every environment variable the intake reads (the README's table is checked against it).
ENVIRONMENT: tuple[Variable, ...] = (
    Variable("SECRET_KEY", "SECRET_KEY", "none: required unless FLASK_DEBUG=1",
             f"Signs sessions, CSRF and search tokens; at least {MIN_SECRET_KEY_CHARS} characters, "
             f"the same on every instance. Generate it with `{GENERATE_SECRET}`."),
    Variable("FLASK_DEBUG", "DEBUG", "0",
             "Development mode (`kb serve` and `make run` set it): a random SECRET_KEY per start is allowed. Never in production."),
    Variable("DATABASE_URL", "DATABASE_URL", "SQLite file `<instance>/intake.sqlite3`",
             "`postgresql://user:password@host:5432/kb` for PostgreSQL (driver psycopg 3), shared by every instance. "
             "The schema is created or upgraded at start (Alembic)."),
    Variable("SMTP_URL", "SMTP_URL", "unset: `.eml` files in `<instance>/mail/`",
             "`smtp://host:25`, `smtp+starttls://user:password@host:587`, `smtps://user:password@host:465` "
             "or `file:///folder`; options `?timeout=30&cafile=/path/ca.pem`. Read by `kb send-mail`."),
    Variable("MAIL_SENDER", "MAIL_SENDER", DEFAULT_SENDER, "From of every e-mail."),
    Variable("MAIL_DEPARTMENTS", "MAIL_DEPARTMENTS",
             ",".join(f"{k}={v}" for k, v in DEFAULT_DEPARTMENTS.items()),
             "Where each department's tickets go (`department=address`, comma-separated)."),
    Variable("MAIL_MAX_PERMANENT_FAILURES", "MAIL_MAX_PERMANENT_FAILURES", str(DEFAULT_MAX_PERMANENT_FAILURES),
             "Permanent refusals in a row (SMTP 5xx, e.g. `550 mailbox unavailable`, tried once an hour) after which "
             "an e-mail is marked failed and no longer tried; `kb send-mail --retry-failed` requeues it. "
             "Temporary failures (server down, 4xx) are retried forever."),
    Variable("MAIL_RETENTION_DAYS", "MAIL_RETENTION_DAYS", str(DEFAULT_MAIL_RETENTION_DAYS),
             f"Days (1-{MAX_MAIL_RETENTION_DAYS}) the whole message of a sent or dismissed e-mail (text and attachments: "
             "customers' personal data) stays in the outbox; then `kb send-mail` drops it and keeps the row "
             "(recipient, ticket, subject, when sent) for the record."),
    Variable("KB_INDEX_DIR", "KB_INDEX_DIR", DEFAULT_INDEX_DIR,
             "The search index written by `kb build` (read-only; each instance has its own copy)."),
    Variable("KB_SITE_URL", "KB_SITE_URL", DEFAULT_SITE_URL,
             "Where the static KB is published: links to articles, and the one origin allowed to call "
             "`/api/cerca` (CORS) when it is an absolute URL."),
    Variable("KB_INSTANCE_PATH", "INSTANCE_PATH", "`instance` (next to the app)",
             "Instance folder: SQLite file, attachments, `.eml` mail files."),
    Variable("TICKET_ID_PREFIX", "TICKET_ID_PREFIX", DEFAULT_PREFIX,
             "Ticket IDs look like `FPL-809-43017` (random, not sequential)."),
    Variable("SEARCH_TOKEN_MAX_AGE", "SEARCH_TOKEN_MAX_AGE", str(DEFAULT_TOKEN_MAX_AGE),
             "Seconds a search stays valid for opening a ticket."),
    Variable("RATELIMIT_SEARCH", "RATELIMIT_SEARCH", DEFAULT_RATE_LIMITS["RATELIMIT_SEARCH"],
             "Searches on the search step per client (limits syntax, `;` between limits)."),
    Variable("RATELIMIT_API", "RATELIMIT_API", DEFAULT_RATE_LIMITS["RATELIMIT_API"],
             "Calls of `/api/cerca` (suggestions, the site's search box) per client."),
    Variable("RATELIMIT_SUBMIT", "RATELIMIT_SUBMIT", DEFAULT_RATE_LIMITS["RATELIMIT_SUBMIT"],
             "Form submissions (POST) per client."),
    Variable("RATELIMIT_STORAGE_URL", "RATELIMIT_STORAGE_URL", DEFAULT_RATELIMIT_STORAGE,
             "Where the counters live: `memory://` counts per process; with several processes or "
             "instances use one Redis, `redis://host:6379/0`."),
    Variable("TRUSTED_PROXIES", "TRUSTED_PROXIES", "0",
             "How many reverse proxies are in front of the intake: their `X-Forwarded-For/-Proto/-Host/-Prefix` "
             "are believed (werkzeug ProxyFix), so rate limits count the real client and HTTPS is recognised."),
)


def config_from_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The Flask config keys of the intake's variables that are set (non-empty) in ``environ``."""
    environ = os.environ if environ is None else environ
    return {v.key: environ[v.name] for v in ENVIRONMENT if environ.get(v.name, "").strip()}


class ConfigError(ValueError):
    """The configuration cannot be used; the message says what to change."""


@dataclass(frozen=True)
class BackendSettings:
    """Everything the store, the gate and the mail sender need, already validated."""

    instance_path: Path
    database_url: str = field(repr=False)  # may hold a password
    smtp_url: str | None = field(repr=False)
    mail_sender: str
    department_addresses: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_DEPARTMENTS))
    mail_max_permanent_failures: int = DEFAULT_MAX_PERMANENT_FAILURES
    mail_retention_days: int = DEFAULT_MAIL_RETENTION_DAYS
    ticket_id_prefix: str = DEFAULT_PREFIX
    token_max_age: int = DEFAULT_TOKEN_MAX_AGE
    debug: bool = False
    index_dir: Path = Path(DEFAULT_INDEX_DIR)
    site_url: str = DEFAULT_SITE_URL
    rate_limits: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    ratelimit_storage_url: str = field(default=DEFAULT_RATELIMIT_STORAGE, repr=False)
    trusted_proxies: int = 0

    @property
    def attachments_dir(self) -> Path:
        return attachments_folder(self.instance_path)

    @property
    def mail_dir(self) -> Path:
        return mail_folder(self.instance_path)


def default_database_url(instance_path: Path) -> str:
    return f"sqlite:///{(Path(instance_path) / 'intake.sqlite3').resolve()}"


def attachments_folder(instance_path: Path) -> Path:
    """Uploaded files, by content hash; inside the instance folder, never under a web root."""
    return Path(instance_path) / "attachments"


def mail_folder(instance_path: Path) -> Path:
    """Where the embedded default delivers mail as ``.eml`` files when ``SMTP_URL`` is unset."""
    return Path(instance_path) / "mail"


def load_settings(config: Mapping[str, Any], instance_path: str | Path) -> BackendSettings:
    """Build :class:`BackendSettings` from ``config`` (Flask config names, see the README table).

    Names read: the keys of :data:`ENVIRONMENT`, plus ``TESTING``. Missing names take their
    defaults. ``SECRET_KEY`` is required unless ``DEBUG`` or ``TESTING`` is on.

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
    max_permanent_failures = check(
        validate_max_permanent_failures, config.get("MAIL_MAX_PERMANENT_FAILURES", DEFAULT_MAX_PERMANENT_FAILURES)
    )
    retention_days = check(
        validate_mail_retention_days, config.get("MAIL_RETENTION_DAYS", DEFAULT_MAIL_RETENTION_DAYS)
    )
    prefix = check(validate_prefix, config.get("TICKET_ID_PREFIX") or DEFAULT_PREFIX)
    max_age = check(validate_max_age, config.get("SEARCH_TOKEN_MAX_AGE", DEFAULT_TOKEN_MAX_AGE))
    debug = check(parse_flag, "FLASK_DEBUG", config.get("DEBUG", False))
    check(validate_secret_key, config.get("SECRET_KEY"), bool(debug) or bool(config.get("TESTING")))
    index_dir = check(validate_index_dir, config.get("KB_INDEX_DIR") or DEFAULT_INDEX_DIR)
    site_url = check(validate_site_url, config.get("KB_SITE_URL") or DEFAULT_SITE_URL)
    rate_limits = {
        name: check(validate_rate_limit, name, config.get(name) or default)
        for name, default in DEFAULT_RATE_LIMITS.items()
    }
    storage = check(validate_ratelimit_storage, config.get("RATELIMIT_STORAGE_URL") or DEFAULT_RATELIMIT_STORAGE)
    proxies = check(validate_trusted_proxies, config.get("TRUSTED_PROXIES", 0))
    if problems:
        raise ConfigError("\n".join(problems))
    return BackendSettings(
        instance_path=instance,
        database_url=database_url,
        smtp_url=smtp_url,
        mail_sender=sender,
        department_addresses=departments,
        mail_max_permanent_failures=max_permanent_failures,
        mail_retention_days=retention_days,
        ticket_id_prefix=prefix,
        token_max_age=max_age,
        debug=debug,
        index_dir=index_dir,
        site_url=site_url,
        rate_limits=rate_limits,
        ratelimit_storage_url=storage,
        trusted_proxies=proxies,
    )


def app_settings(app) -> BackendSettings:
    """``app``'s validated settings: those ``create_app`` loaded, else loaded now and kept.

    Lets each ``init_app`` (database, gate, mail) also run on a bare Flask app, while the
    configuration is still validated only once per app.
    """
    settings = app.extensions.get("intake.settings")
    if settings is None:
        settings = app.extensions["intake.settings"] = load_settings(app.config, app.instance_path)
    return settings


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


def _whole_number(value: Any) -> int | None:
    """An int from Flask config, or a string of digits from the environment; None otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def validate_max_permanent_failures(value: Any) -> int:
    count = _whole_number(value)
    if count is None or count <= 0:
        raise ConfigError(
            f"MAIL_MAX_PERMANENT_FAILURES: expected a whole number above 0 but received: {value!r} "
            f"(the default is {DEFAULT_MAX_PERMANENT_FAILURES}: an e-mail the SMTP server refuses with a 5xx reply "
            f"{DEFAULT_MAX_PERMANENT_FAILURES} times in a row, once an hour, is marked failed)"
        )
    return count


def validate_mail_retention_days(value: Any) -> int:
    days = _whole_number(value)
    if days is None or not 1 <= days <= MAX_MAIL_RETENTION_DAYS:
        raise ConfigError(
            f"MAIL_RETENTION_DAYS: expected a whole number of days from 1 to {MAX_MAIL_RETENTION_DAYS} but received: "
            f"{value!r} (the default is {DEFAULT_MAIL_RETENTION_DAYS}: the message of an e-mail sent or dismissed "
            f"{DEFAULT_MAIL_RETENTION_DAYS} days ago is dropped, its row kept)"
        )
    return days


def validate_prefix(prefix: str) -> str:
    if not isinstance(prefix, str) or not PREFIX_PATTERN.fullmatch(prefix):
        raise ConfigError(
            f"TICKET_ID_PREFIX: {prefix!r} is not allowed; use 1-10 capital letters or digits "
            "starting with a letter, e.g. 'FPL' (IDs then look like FPL-809-43017)"
        )
    return prefix


def validate_max_age(value: Any) -> int:
    seconds = _whole_number(value)
    if seconds is None or seconds <= 0:
        raise ConfigError(
            f"SEARCH_TOKEN_MAX_AGE: expected a whole number of seconds above 0 but received: {value!r} "
            f"(the default is {DEFAULT_TOKEN_MAX_AGE}, i.e. 2 hours)"
        )
    return seconds


def parse_flag(name: str, value: Any) -> bool:
    """``True``/``False`` from Flask config, or ``1/true/yes/on``, ``0/false/no/off`` from the environment."""
    if isinstance(value, bool):
        return value
    text = str(value if value is not None else "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(f"{name}: expected 1 or 0 (true/false) but received: {value!r}")


def validate_secret_key(key: Any, development: bool) -> None:
    """Outside development the key must be set, not the old placeholder, and long enough to guess at."""
    if development:
        return
    how = (
        f"generate one with `{GENERATE_SECRET}` and set it in the environment of every instance "
        "(the same value everywhere); for local development set FLASK_DEBUG=1 instead"
    )
    if not key:
        raise ConfigError(f"SECRET_KEY: not set; the intake signs sessions, CSRF and search tokens with it: {how}")
    if key in ("dev", "change-me", "changeme", "secret") or len(str(key)) < MIN_SECRET_KEY_CHARS:
        raise ConfigError(
            f"SECRET_KEY: too easy to guess (at least {MIN_SECRET_KEY_CHARS} random characters are needed): {how}"
        )


def validate_index_dir(value: Any) -> Path:
    # The folder may be missing at start (the search step then says so): only the form is checked.
    if not isinstance(value, (str, os.PathLike)) or not str(value).strip():
        raise ConfigError(f"KB_INDEX_DIR: expected a folder path (e.g. /srv/kb/kb-index) but received: {value!r}")
    return Path(value)


def validate_site_url(value: Any) -> str:
    text = str(value).strip()
    parts = urlsplit(text)
    absolute = parts.scheme in ("http", "https") and bool(parts.netloc)
    if not (absolute or (text.startswith("/") and not text.startswith("//") and not parts.netloc)):
        raise ConfigError(
            f"KB_SITE_URL: {value!r} is neither an absolute http(s) URL nor a path from the host's root; "
            "use e.g. 'https://kb.example.it/' or '/'"
        )
    return text


def validate_rate_limit(name: str, value: Any) -> str:
    from limits import parse_many

    try:
        if not parse_many(str(value)):
            raise ValueError
    except ValueError:
        raise ConfigError(
            f"{name}: cannot read {value!r}; write limits like '30 per minute;300 per hour' "
            "(also '30/minute'; the units: second, minute, hour, day)"
        ) from None
    return str(value)


def validate_ratelimit_storage(value: Any) -> str:
    from limits.storage import SCHEMES

    scheme = urlsplit(str(value)).scheme
    if scheme not in SCHEMES or scheme.startswith("async+"):
        raise ConfigError(
            f"RATELIMIT_STORAGE_URL: unknown storage {value!r}; use 'memory://' (one process) "
            "or a Redis URL such as 'redis://redis.internal:6379/0' shared by every instance"
        )
    return str(value)


def validate_trusted_proxies(value: Any) -> int:
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or int(text) > 5:
        raise ConfigError(
            f"TRUSTED_PROXIES: expected the number of reverse proxies in front of the intake (0-5) "
            f"but received: {value!r} (1 behind one nginx, 0 when clients connect directly)"
        )
    return int(text)
