"""Production configuration: only environment variables, checked at start, documented in the README;
and ``/healthz``."""

from __future__ import annotations

import logging
import re

import pytest

from intake import create_app
from intake.settings import ENVIRONMENT, ConfigError

from .conftest import customer_app, intake_test_config
from .helpers import ROOT

SECRET = "f" * 32


@pytest.fixture
def environment(monkeypatch, tmp_path):
    """A clean environment for ``create_app()``: no intake variable set but the instance folder."""
    for variable in ENVIRONMENT:
        monkeypatch.delenv(variable.name, raising=False)
    monkeypatch.setenv("KB_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("KB_INDEX_DIR", str(tmp_path / "kb-index"))

    def set_(**values):
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_


def test_start_is_refused_without_a_secret_key_outside_debug(environment):
    with pytest.raises(ConfigError) as info:
        create_app()
    message = str(info.value)
    assert message.startswith("SECRET_KEY: not set")
    assert 'python -c "import secrets; print(secrets.token_hex(32))"' in message
    assert "FLASK_DEBUG=1" in message


@pytest.mark.parametrize("weak", ["dev", "short-secret"])
def test_a_guessable_secret_key_is_refused(environment, weak):
    environment(SECRET_KEY=weak)
    with pytest.raises(ConfigError, match="SECRET_KEY: too easy to guess"):
        create_app()


def test_debug_starts_without_a_key_and_makes_one_up_for_the_run(environment, caplog):
    environment(FLASK_DEBUG="1")
    with caplog.at_level(logging.WARNING):
        app = create_app()
    assert app.debug and len(app.config["SECRET_KEY"]) == 64
    assert "a random SECRET_KEY for this run" in caplog.text
    assert create_app().config["SECRET_KEY"] != app.config["SECRET_KEY"]


def test_every_setting_comes_from_the_environment(environment, tmp_path):
    environment(
        SECRET_KEY=SECRET,
        DATABASE_URL=f"sqlite:///{tmp_path / 'altrove.sqlite3'}",
        SMTP_URL="smtp+starttls://kb:pw@mail.example.it:587",
        MAIL_SENDER="Supporto <supporto@example.it>",
        MAIL_DEPARTMENTS="helpdesk=noc@example.it",
        MAIL_MAX_PERMANENT_FAILURES="3",
        MAIL_RETENTION_DAYS="7",
        KB_SITE_URL="https://kb.example.it/",
        TICKET_ID_PREFIX="RUB",
        SEARCH_TOKEN_MAX_AGE="600",
        RATELIMIT_SEARCH="5/minute",
        RATELIMIT_API="50/minute",
        RATELIMIT_SUBMIT="1/minute",
        RATELIMIT_STORAGE_URL="memory://",
        TRUSTED_PROXIES="1",
    )
    app = create_app()
    settings = app.extensions["intake.settings"]
    assert app.config["SECRET_KEY"] == SECRET and not app.debug
    assert app.instance_path == str(tmp_path / "instance")
    assert settings.database_url == f"sqlite:///{tmp_path / 'altrove.sqlite3'}" and (tmp_path / "altrove.sqlite3").exists()
    assert settings.smtp_url.startswith("smtp+starttls://") and settings.mail_sender == "Supporto <supporto@example.it>"
    assert settings.department_addresses["helpdesk"] == "noc@example.it" and settings.mail_max_permanent_failures == 3
    assert settings.mail_retention_days == 7
    assert settings.index_dir == tmp_path / "kb-index" and settings.site_url == "https://kb.example.it/"
    assert (settings.ticket_id_prefix, settings.token_max_age, settings.trusted_proxies) == ("RUB", 600, 1)
    assert settings.rate_limits == {"RATELIMIT_SEARCH": "5/minute", "RATELIMIT_API": "50/minute", "RATELIMIT_SUBMIT": "1/minute"}
    assert SECRET not in repr(settings) and "pw@" not in repr(settings)
    # The limit applies: the second form submitted within a minute is refused.
    client = app.test_client()
    assert [client.post("/modulo/email", data={}).status_code for _ in range(2)] == [428, 429]
    app.extensions["intake.db"].dispose()


def test_every_bad_value_is_named_once_with_its_fix(environment):
    environment(
        SECRET_KEY=SECRET,
        FLASK_DEBUG="maybe",
        KB_SITE_URL="kb.example.it",
        RATELIMIT_SEARCH="30 a minute",
        RATELIMIT_STORAGE_URL="mysql://x",
        TRUSTED_PROXIES="-1",
    )
    with pytest.raises(ConfigError) as info:
        create_app()
    lines = str(info.value).splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "FLASK_DEBUG", "KB_SITE_URL", "RATELIMIT_SEARCH", "RATELIMIT_STORAGE_URL", "TRUSTED_PROXIES",
    ]
    assert "e.g. 'https://kb.example.it/' or '/'" in lines[1]
    assert "'30 per minute;300 per hour'" in lines[2]
    assert "redis://" in lines[3]


def test_a_test_configuration_ignores_the_environment(environment, tmp_path):
    environment(TICKET_ID_PREFIX="ENV", SECRET_KEY="")
    app = create_app(intake_test_config(tmp_path))
    assert app.extensions["intake.settings"].ticket_id_prefix == "FPL"
    app.extensions["intake.db"].dispose()


def test_the_readme_documents_every_environment_variable():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("### Configuration (environment variables)") :]
    table = table[: table.index("\n\n", table.index("| --- |"))]
    documented = re.findall(r"^\| `([A-Z_]+)` \|", table, re.M)
    assert documented == [variable.name for variable in ENVIRONMENT]


# --- /healthz --------------------------------------------------------------------------------


def test_healthz_is_200_with_what_was_checked(client):
    response = client.get("/healthz")
    body = response.get_json()
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert body["status"] == "ok"
    assert body["index"]["ok"] and body["index"]["articles"] > 5
    assert body["database"] == {"ok": True, "backend": "sqlite"}


def test_healthz_fails_when_the_index_is_missing(tmp_path):
    app = customer_app(intake_test_config(tmp_path))  # KB_INDEX_DIR points at nothing
    response = app.test_client().get("/healthz")
    body = response.get_json()
    assert response.status_code == 503 and body["status"] == "error"
    assert body["index"]["ok"] is False and "kb build" in body["index"]["problem"]
    assert body["database"]["ok"] is True
    assert app.config["SECRET_KEY"] not in response.get_data(as_text=True)
    app.extensions["intake.db"].dispose()


def test_the_deploy_environment_example_is_a_valid_configuration(tmp_path):
    """deploy/intake.env.example, as systemd reads it (comments skipped, quotes removed), with
    the key filled in and the commented defaults switched on: every name known, every value valid."""
    from intake.settings import config_from_environment, load_settings

    values = {}
    for line in (ROOT / "deploy" / "intake.env.example").read_text(encoding="utf-8").splitlines():
        line = line.removeprefix("#") if re.match(r"#[A-Z_]+=", line) else line
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name] = value.strip('"')
    assert set(values) <= {variable.name for variable in ENVIRONMENT}
    values["SECRET_KEY"] = SECRET
    settings = load_settings(config_from_environment(values), tmp_path)
    assert settings.rate_limits["RATELIMIT_SEARCH"] == "30 per minute;300 per hour"
    assert settings.mail_max_permanent_failures == 5 and settings.trusted_proxies == 1
    assert settings.mail_retention_days == 30
