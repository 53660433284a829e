"""The back end's configuration and its Flask hooks (init_app), on a minimal Flask app."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest
from flask import Flask
from sqlalchemy import func, inspect, select

from intake import db, gate, mail
from intake.db import Ticket
from intake.settings import ConfigError, load_settings
from intake.store import create_ticket

from .helpers import wait_for_files


def test_defaults(tmp_path):
    settings = load_settings({"SECRET_KEY": "a-long-enough-secret-key"}, tmp_path)
    assert settings.database_url == f"sqlite:///{tmp_path.resolve()}/intake.sqlite3"
    assert settings.smtp_url is None and settings.mail_dir == tmp_path / "mail"
    assert settings.attachments_dir == tmp_path / "attachments"
    assert settings.department_addresses == {"helpdesk": "hd@smacloud.it", "sales": "sales@smacloud.it"}
    assert (settings.ticket_id_prefix, settings.token_max_age) == ("FPL", 7200)


def test_values_from_the_environment_as_strings(tmp_path):
    settings = load_settings(
        {
            "DATABASE_URL": "postgresql://kb@db.internal/kb",
            "SMTP_URL": "smtp+starttls://kb:pw@mail.internal",
            "MAIL_SENDER": "Supporto <supporto@example.com>",
            "MAIL_DEPARTMENTS": "helpdesk=noc@example.com, sales=vendite@example.com",
            "TICKET_ID_PREFIX": "RUB",
            "SEARCH_TOKEN_MAX_AGE": "3600",
            "SECRET_KEY": "0123456789abcdef0123",
        },
        tmp_path,
    )
    assert settings.database_url == "postgresql+psycopg://kb@db.internal/kb"
    assert settings.department_addresses == {"helpdesk": "noc@example.com", "sales": "vendite@example.com"}
    assert (settings.ticket_id_prefix, settings.token_max_age) == ("RUB", 3600)


def test_every_problem_is_reported_at_once_with_how_to_fix_it(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_settings(
            {
                "DATABASE_URL": "mysql://x@y/z",
                "SMTP_URL": "smtp//mail.example.com",
                "MAIL_SENDER": "noreply",
                "MAIL_DEPARTMENTS": "helpdesk hd@example.com",
                "TICKET_ID_PREFIX": "fpl-",
                "SEARCH_TOKEN_MAX_AGE": "2h",
            },
            tmp_path,
        )
    lines = str(info.value).splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "DATABASE_URL", "SMTP_URL", "MAIL_SENDER", "MAIL_DEPARTMENTS", "TICKET_ID_PREFIX", "SEARCH_TOKEN_MAX_AGE",
        "SECRET_KEY",
    ]
    assert "allowed: postgresql, sqlite" in lines[0]
    assert "e.g. smtp+starttls://" in lines[1]
    assert "'Display Name <name@example.com>'" in lines[2]
    assert "'helpdesk=hd@example.com,sales=sales@example.com'" in lines[3]
    assert "e.g. 'FPL'" in lines[4]
    assert "whole number of seconds" in lines[5]


@pytest.mark.parametrize("value", ["0", "five", "-2", True])
def test_a_bad_permanent_failure_limit_is_named_with_its_fix(tmp_path, value):
    with pytest.raises(ConfigError) as info:
        load_settings({"MAIL_MAX_PERMANENT_FAILURES": value, "TESTING": True}, tmp_path)
    message = str(info.value)
    assert message.startswith(f"MAIL_MAX_PERMANENT_FAILURES: expected a whole number above 0 but received: {value!r}")
    assert "(the default is 5:" in message


def test_a_bad_department_address_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"MAIL_DEPARTMENTS\[sales\]: 'vendite' is not a usable e-mail address"):
        load_settings({"MAIL_DEPARTMENTS": {"sales": "vendite"}, "TESTING": True}, tmp_path)


@pytest.fixture
def app(tmp_path):
    """A bare Flask app with only the back end's hooks (the real factory is create_app)."""
    app = Flask("backend_test", instance_path=str(tmp_path / "instance"))
    app.config.update(SECRET_KEY="test", TESTING=True, MAIL_BACKGROUND_SENDER=True)
    db.init_app(app)
    gate.init_app(app)
    mail.init_app(app)
    yield app
    app.extensions["intake.sender"].stop()
    app.extensions["intake.db"].dispose()


def test_init_app_wires_database_gate_and_mail_sender(app, make_submission, tmp_path):
    instance = tmp_path / "instance"
    database = app.extensions["intake.db"]
    assert {"tickets", "outbox"} <= set(inspect(database.engine).get_table_names())
    assert (instance / "intake.sqlite3").is_file()

    with app.test_request_context():
        token = gate.issue("non ricevo posta", ["email/ricezione"], "email")
        claims = gate.verify(token, "email")
        session = db.get_session()
        assert db.get_session() is session  # one session per request
        settings = app.extensions["intake.settings"]
        ticket = create_ticket(
            session,
            make_submission(),
            [],
            claims.nonce,
            mail=app.extensions["intake.mail"],
            attachments_dir=settings.attachments_dir,
            examined_when="La esamineremo entro oggi alle 17:30.",
            prefix=settings.ticket_id_prefix,
            search_query=claims.query,
        )
        assert session.scalar(select(func.count()).select_from(Ticket)) == 1

    app.extensions["intake.sender"].wake()
    files = wait_for_files(instance / "mail", 2, timeout=15)
    subjects = [message_from_bytes(f.read_bytes(), policy=policy.default)["Subject"] for f in files]
    assert len(subjects) == 2 and all(s.startswith(f"[{ticket.id}] ") for s in subjects)


def test_init_app_refuses_a_bad_configuration_with_the_fix(tmp_path):
    app = Flask("backend_test", instance_path=str(tmp_path / "instance"))
    app.config.update(SECRET_KEY="test", TESTING=True, SMTP_URL="smtp://:pw@host")
    with pytest.raises(ConfigError, match="SMTP_URL: a password without a user"):
        db.init_app(app)


def test_gate_needs_a_secret_key(tmp_path):
    app = Flask("backend_test", instance_path=str(tmp_path / "instance"))
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        gate.init_app(app)
