"""The intake's database: tables, the engine, sessions, and the schema upgrade run at start.

SQLite (a file in the instance folder) by default; PostgreSQL when ``DATABASE_URL`` says so.
Only portable column types are used, and the schema is owned by the Alembic migrations in
``intake/migrations`` (a test keeps them in step with the models below).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker

from .settings import ConfigError, app_settings

UTC = dt.timezone.utc
PG_CONNECT_TIMEOUT_S = 5
SQLITE_BUSY_TIMEOUT_S = 30  # concurrent submissions wait for the write lock instead of failing
# Serializes schema upgrades of several instances starting at once on one PostgreSQL.
_PG_MIGRATION_LOCK = 0x6B62_6462  # "kbdb"


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend.

    SQLite has no time zone type: values are stored as naive UTC (ISO text, so they sort and
    compare correctly in SQL) and come back aware; PostgreSQL stores ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware datetime (UTC)")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(UTC)


class Base(DeclarativeBase):
    # Named constraints, so later migrations can alter them on every backend (SQLite batch mode).
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map = {dt.datetime: UTCDateTime}


class Ticket(Base):
    """One customer request; ``answers`` keeps the form's labels and values in the form's order."""

    __tablename__ = "tickets"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    request_type: Mapped[str] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(Text)
    priority: Mapped[str] = mapped_column(String(16))
    customer_email: Mapped[str] = mapped_column(String(254))
    answers: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(index=True)
    # The search token's nonce: UNIQUE, so one search lets the customer store one ticket.
    token_nonce: Mapped[str] = mapped_column(String(64), unique=True)

    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="ticket", order_by="Attachment.id", cascade="all, delete-orphan"
    )
    outbox: Mapped[list[OutboxMessage]] = relationship(
        back_populates="ticket", order_by="OutboxMessage.id", cascade="all, delete-orphan"
    )


class Attachment(Base):
    """A file of a ticket; the bytes live on disk under their SHA-256 (see ``store.blob_path``)."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(Integer)

    ticket: Mapped[Ticket] = relationship(back_populates="attachments")


class OutboxMessage(Base):
    """One e-mail to one recipient, written with its ticket and delivered later by the sender.

    ``claimed_by``/``claimed_until`` is a lease: a sender owns the row until then, so two
    senders never send it twice, and a crashed sender's rows become due again afterwards.
    A row is sent (``sent_at``), failed (``failed_at``: refused for good, no longer tried),
    dismissed (``dismissed_at``: a failed row an operator gave up on; ``failed_at`` stays) or
    waiting. ``message`` is NULL once the retention period of a sent or dismissed row is over
    (``message_pruned_at``); every other column stays for the record.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "department" or "customer"
    sender: Mapped[str] = mapped_column(String(254))  # envelope sender (addr-spec)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(Text)
    message: Mapped[bytes | None] = mapped_column(LargeBinary)  # the whole RFC 5322 message
    created_at: Mapped[dt.datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(index=True)
    sent_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[dt.datetime | None]
    # Permanent refusals (SMTP 5xx) in a row, and when the sender gave up (see intake.outbox).
    permanent_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    failed_at: Mapped[dt.datetime | None]
    # An operator's "never send it" for a failed message (kb send-mail --dismiss), with why.
    dismissed_at: Mapped[dt.datetime | None]
    dismiss_reason: Mapped[str | None] = mapped_column(Text)
    # When the message bytes were dropped (MAIL_RETENTION_DAYS after sent_at or dismissed_at).
    message_pruned_at: Mapped[dt.datetime | None]

    ticket: Mapped[Ticket] = relationship(back_populates="outbox")


class Event(Base):
    """Analytics for writers (SPEC I8). No personal data: no IPs, no e-mail addresses."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)  # search, click, deflection, ticket
    created_at: Mapped[dt.datetime] = mapped_column(index=True)
    query: Mapped[str | None] = mapped_column(Text)
    result_slugs: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Kept beside the list so "searches that found nothing" is a plain SQL filter everywhere.
    result_count: Mapped[int] = mapped_column(Integer, default=0)
    article: Mapped[str | None] = mapped_column(String(200))
    request_type: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(64))
    ticket_id: Mapped[str | None] = mapped_column(String(32))


def normalize_database_url(url: str) -> str:
    """Check ``DATABASE_URL`` and pick our PostgreSQL driver (psycopg 3) for plain postgresql:// URLs.

    :raise ConfigError: with the accepted forms.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(
            f"DATABASE_URL: cannot parse {url!r}; use e.g. 'postgresql://user:password@host:5432/kb' "
            "or 'sqlite:////absolute/path/intake.sqlite3' (unset: a SQLite file in the instance folder)"
        ) from exc
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(
            f"DATABASE_URL: backend {backend!r} is not supported (allowed: postgresql, sqlite)"
        )
    if backend == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise ConfigError(
            "DATABASE_URL: an in-memory SQLite database would lose every ticket at restart; "
            "give a file, e.g. 'sqlite:////var/lib/kb/intake.sqlite3'"
        )
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (already checked by :func:`normalize_database_url`)."""
    url = normalize_database_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    try:
        # hide_parameters: an error message never quotes a customer's values into a log.
        # connect_timeout: an unreachable server is an error in seconds, not a hung worker.
        connect_args = {} if "connect_timeout" in parsed.query else {"connect_timeout": PG_CONNECT_TIMEOUT_S}
        return create_engine(url, pool_pre_ping=True, hide_parameters=True, connect_args=connect_args)
    except NoSuchModuleError as exc:  # pragma: no cover - depends on the installation
        raise ConfigError(f"DATABASE_URL: no driver for {parsed.drivername!r}; install psycopg") from exc


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers never block the writer; the one writer at a time waits (busy timeout).
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def upgrade_schema(engine: Engine, script_location: str | Path | None = None, revision: str = "head") -> None:
    """Create or migrate the schema to the latest revision (or ``revision``), keeping the data.

    Several processes may start at once (gunicorn workers, the mail sender): the upgrade
    runs under a database-wide lock (PostgreSQL advisory lock, SQLite write lock), so the
    second one finds the schema already at head.
    """
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(script_location or "intake:migrations"))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
        else:
            # pysqlite would autocommit each DDL statement; one immediate transaction makes the
            # upgrade atomic and holds the write lock against a concurrent upgrade.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


class Database:
    """The engine and a session factory for one database URL."""

    def __init__(self, url: str):
        self.url = normalize_database_url(url)
        self.engine = make_engine(self.url)
        # Objects stay readable after commit (the view shows the stored ticket's ID).
        self.sessions: sessionmaker[Session] = sessionmaker(self.engine, expire_on_commit=False)

    def upgrade(self, script_location: str | Path | None = None) -> None:
        upgrade_schema(self.engine, script_location)

    def session(self) -> Session:
        return self.sessions()

    def dispose(self) -> None:
        self.engine.dispose()


def init_app(app) -> Database:
    """Open the database of ``app`` (``DATABASE_URL``), upgrade its schema, close sessions per request.

    Views use :func:`get_session`; the database is ``app.extensions["intake.db"]``.
    """
    settings = app_settings(app)
    database = Database(settings.database_url)
    database.upgrade()
    app.extensions["intake.db"] = database
    app.teardown_appcontext(_close_session)
    return database


def get_session() -> Session:
    """The current request's session (opened on first use, closed at the end of the request)."""
    from flask import current_app, g

    if "intake_db_session" not in g:
        g.intake_db_session = current_app.extensions["intake.db"].session()
    return g.intake_db_session


def discard_session() -> None:
    """Roll back and close the current request's session (after a database error)."""
    from flask import g

    session = g.pop("intake_db_session", None)
    if session is not None:
        try:
            session.rollback()
        except Exception:  # the connection may be gone already: closing is all that is left
            pass
        session.close()


def _close_session(_exc=None) -> None:
    from flask import g

    session = g.pop("intake_db_session", None)
    if session is not None:
        session.close()
