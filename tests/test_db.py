"""The intake database: schema created and upgraded at start, data kept, portable types."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, Table, func, insert, inspect, select, text

import intake
from intake.db import Base, Database, Event, OutboxMessage, Ticket, normalize_database_url, upgrade_schema
from intake.outbox import deliver_pending, queue_status
from intake.settings import ConfigError
from intake.transports import transport_from_url

MIGRATIONS = Path(intake.__file__).parent / "migrations"
HEAD = "0003"  # the latest revision in intake/migrations/versions

EXTRA_REVISION = '''
"""Add tickets.channel (a later release's migration).

Revision ID: 0099
Revises: {head}
"""
import sqlalchemy as sa
from alembic import op

revision = "0099"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("channel", sa.String(16), nullable=False, server_default="web"))


def downgrade():
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("channel")
'''


def head_revision(engine) -> str:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def test_start_creates_every_table_at_the_latest_revision(intake_db):
    tables = set(inspect(intake_db.engine).get_table_names())
    assert {"tickets", "attachments", "outbox", "events", "alembic_version"} <= tables
    assert head_revision(intake_db.engine) == HEAD


def test_migrations_and_models_describe_the_same_schema(intake_db):
    with intake_db.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []


def test_restart_keeps_the_data(intake_db, store_ticket):
    ticket = store_ticket()
    intake_db.upgrade()  # what every later start does
    again = Database(intake_db.url)
    again.upgrade()
    with again.session() as session:
        assert session.scalar(select(Ticket.subject).where(Ticket.id == ticket.id)) == ticket.subject
    again.dispose()


def test_existing_database_is_upgraded_by_a_new_migration_not_dropped(intake_db, store_ticket, tmp_path):
    ticket = store_ticket()
    # The next release ships one more migration: copy ours and add it.
    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "0099_channel.py").write_text(EXTRA_REVISION.format(head=HEAD))

    intake_db.upgrade(script_location=scripts)

    assert head_revision(intake_db.engine) == "0099"
    with intake_db.engine.connect() as conn:
        rows = conn.execute(text("SELECT id, subject, channel FROM tickets")).all()
        outbox = conn.execute(text("SELECT count(*) FROM outbox")).scalar_one()
    assert rows == [(ticket.id, ticket.subject, "web")]
    assert outbox == 2


def test_upgrade_from_0001_keeps_a_waiting_email_and_it_is_still_sent(database_url, smtp_server, tmp_path):
    # A database of the release before 0002 (no failed_at / permanent_failures), with an
    # e-mail that already failed twice (the SMTP server was down) still waiting.
    t0 = dt.datetime(2025, 11, 26, 9, 0, tzinfo=dt.timezone.utc)
    old = Database(database_url)
    upgrade_schema(old.engine, revision="0001")
    with old.engine.begin() as conn:
        tables = MetaData()
        tickets, outbox = (Table(name, tables, autoload_with=conn) for name in ("tickets", "outbox"))
        assert "failed_at" not in outbox.c
        conn.execute(insert(tickets).values(
            id="FPL-123-45678", request_type="email", department="helpdesk", subject="Posta ferma",
            priority="normale", customer_email="mario.rossi@example.com", answers=[], created_at=t0, token_nonce="n1",
        ))
        conn.execute(insert(outbox).values(
            ticket_id="FPL-123-45678", kind="department", sender="noreply@smacloud.it", recipient="hd@smacloud.it",
            subject="[FPL-123-45678] Posta ferma", created_at=t0, attempts=2, next_attempt_at=t0,
            last_error="ConnectionRefusedError: [Errno 111] Connection refused",
            message=b"From: noreply@smacloud.it\r\nTo: hd@smacloud.it\r\nSubject: [FPL-123-45678] Posta ferma\r\n"
            b"Message-ID: <old-release@smacloud.it>\r\n\r\nLa posta non arriva.\r\n",
        ))
    old.dispose()

    new = Database(database_url)
    new.upgrade()  # what the new release does at start

    assert head_revision(new.engine) == HEAD
    with new.session() as session:
        [row] = session.scalars(select(OutboxMessage))
        assert (row.attempts, row.permanent_failures, row.failed_at, row.sent_at) == (2, 0, None, None)
        assert queue_status(session) == {"sent": 0, "queued": 0, "retrying": 1, "failed": 0, "dismissed": 0}
    stats = deliver_pending(new.sessions, transport_from_url(smtp_server.url, tmp_path), now=t0)
    assert (stats.sent, stats.failed) == (1, 0)
    assert [r.message["Message-ID"] for r in smtp_server.inbox] == ["<old-release@smacloud.it>"]
    new.dispose()


def test_upgrade_from_0002_keeps_every_outbox_row_as_it_was(database_url):
    # A database of the release before 0003 (no dismissal, message bytes NOT NULL) with a
    # sent, a failed and a waiting e-mail.
    t0 = dt.datetime(2025, 11, 26, 9, 0, tzinfo=dt.timezone.utc)
    old = Database(database_url)
    upgrade_schema(old.engine, revision="0002")
    common = dict(ticket_id="FPL-123-45678", sender="noreply@smacloud.it", subject="[FPL-123-45678] Posta ferma", created_at=t0)
    before = {
        "hd@smacloud.it": dict(kind="department", attempts=1, next_attempt_at=t0, sent_at=t0, permanent_failures=0),
        "mario.rosi@example.com": dict(
            kind="customer", attempts=5, next_attempt_at=t0, failed_at=t0 + dt.timedelta(hours=4), permanent_failures=5,
            last_error="SMTPRecipientsRefused: {'mario.rosi@example.com': (550, b'5.1.1 Mailbox unavailable')}",
        ),
        "sales@smacloud.it": dict(kind="department", attempts=0, next_attempt_at=t0, permanent_failures=0),
    }
    with old.engine.begin() as conn:
        tables = MetaData()
        tickets, outbox = (Table(name, tables, autoload_with=conn) for name in ("tickets", "outbox"))
        assert "dismissed_at" not in outbox.c and not outbox.c.message.nullable
        conn.execute(insert(tickets).values(
            id="FPL-123-45678", request_type="email", department="helpdesk", subject="Posta ferma",
            priority="normale", customer_email="mario.rosi@example.com", answers=[], created_at=t0, token_nonce="n1",
        ))
        for recipient, values in before.items():
            conn.execute(insert(outbox).values(recipient=recipient, message=f"To: {recipient}\r\n\r\nciao\r\n".encode(), **common, **values))
    old.dispose()

    new = Database(database_url)
    new.upgrade()  # what the new release does at start

    assert head_revision(new.engine) == HEAD
    outbox = {c["name"]: c for c in inspect(new.engine).get_columns("outbox")}
    assert outbox["message"]["nullable"] and {"dismissed_at", "dismiss_reason", "message_pruned_at"} <= set(outbox)
    with new.session() as session:
        after = {row.recipient: row for row in session.scalars(select(OutboxMessage))}
    assert set(after) == set(before)
    for recipient, values in before.items():
        row = after[recipient]
        assert {name: getattr(row, name) for name in values} == values
        assert row.message == f"To: {recipient}\r\n\r\nciao\r\n".encode()
        assert (row.dismissed_at, row.dismiss_reason, row.message_pruned_at) == (None, None, None)
    new.dispose()


def test_processes_starting_at_once_all_find_the_schema(database_url):
    url = database_url  # empty: the first process to start creates the schema
    code = "import sys; from intake.db import Database; Database(sys.argv[1]).upgrade()"
    starts = [
        subprocess.Popen([sys.executable, "-W", "error", "-c", code, url], stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    outcomes = [(p.communicate(timeout=60)[1], p.returncode) for p in starts]
    failures = [stderr for stderr, code in outcomes if code != 0]
    assert failures == []
    database = Database(url)
    assert head_revision(database.engine) == HEAD
    database.dispose()


def test_times_come_back_as_the_same_utc_instant(intake_db):
    rome = dt.timezone(dt.timedelta(hours=1))
    moment = dt.datetime(2025, 3, 1, 9, 30, 15, 123456, tzinfo=rome)
    with intake_db.session() as session:
        session.add(Event(kind="search", created_at=moment, query="pec", result_slugs=["a"], result_count=1))
        session.commit()
    with intake_db.session() as session:
        stored = session.scalar(select(Event.created_at))
        as_utc = moment.astimezone(dt.timezone.utc)  # 08:30:15.123456 UTC
        same = session.scalar(select(func.count()).select_from(Event).where(Event.created_at == as_utc))
        after_it = session.scalar(
            select(func.count()).select_from(Event).where(Event.created_at > as_utc + dt.timedelta(microseconds=1))
        )
    assert stored == moment and stored.tzinfo is not None
    assert (same, after_it) == (1, 0)  # compared as instants, not as wall-clock text


def test_naive_times_are_refused(intake_db):
    with intake_db.session() as session:
        session.add(Event(kind="search", created_at=dt.datetime(2025, 1, 1), result_slugs=[], result_count=0))
        with pytest.raises(Exception, match="naive datetime"):
            session.commit()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(sqlite_db):
    with sqlite_db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://kb:secret@db.example.com/kb", "postgresql+psycopg://kb:secret@db.example.com/kb"),
        ("postgres://kb@db/kb", "postgresql+psycopg://kb@db/kb"),
        ("postgresql+psycopg://kb@db/kb", "postgresql+psycopg://kb@db/kb"),
        ("sqlite:////var/lib/kb/intake.sqlite3", "sqlite:////var/lib/kb/intake.sqlite3"),
    ],
)
def test_database_urls_accepted(url, expected):
    assert normalize_database_url(url) == expected


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", "cannot parse 'not a url'; use e.g. 'postgresql://"),
        ("mysql://kb@db/kb", "backend 'mysql' is not supported (allowed: postgresql, sqlite)"),
        ("sqlite://", "in-memory SQLite database would lose every ticket"),
        ("sqlite:///:memory:", "in-memory SQLite database would lose every ticket"),
    ],
)
def test_database_urls_refused_with_how_to_fix(url, message):
    with pytest.raises(ConfigError, match="DATABASE_URL") as info:
        normalize_database_url(url)
    assert message in str(info.value)
