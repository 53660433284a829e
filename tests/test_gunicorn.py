"""The intake as production runs it: gunicorn with deploy/gunicorn.conf.py, 2 workers, PostgreSQL,
configured only by environment variables, and the mail sender as its own process."""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.request
from email import message_from_bytes, policy
from pathlib import Path

import pytest


from .gunicorn import INTAKE_APP, command, gunicorn, intake_environment
from .helpers import KB
from .intake_client import assert_stored_with_their_emails, submit_all_at_once
from .intake_data import DEFINITIONS, valid_data
from .mailserver import free_port
from .postgres import fresh_schema

SECRET = "0123456789abcdef-production-test-secret"
CUSTOMERS = 50
EMAIL_FORM = DEFINITIONS["email"]


@pytest.fixture(scope="module")
def production(tmp_path_factory, kb_index, postgres_admin_url):
    """gunicorn (2 workers) on a fresh PostgreSQL schema; yields (URL, log file, env, instance)."""
    root = tmp_path_factory.mktemp("production")
    with fresh_schema(postgres_admin_url) as database_url:
        env = intake_environment(
            SECRET_KEY=SECRET,
            DATABASE_URL=database_url,
            KB_INDEX_DIR=str(kb_index),
            KB_INSTANCE_PATH=str(root / "instance"),
            KB_SITE_URL="https://kb.example.it/",
            TICKET_ID_PREFIX="SMA",
            # 50 customers from one address: raised by configuration, as for an office behind one NAT.
            RATELIMIT_SEARCH="1000 per minute",
            RATELIMIT_SUBMIT="1000 per minute",
        )
        with gunicorn(INTAKE_APP, env, root) as (base, log):
            yield base, log, env, root / "instance"


def log_once_written(log: Path, line: str, timeout: float = 10.0) -> str:
    """The access log once it holds ``line``: gunicorn writes it after the answer is sent."""
    deadline = time.monotonic() + timeout
    while line not in (text := log.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return text


def test_gunicorn_serves_health_and_search_with_an_access_log_without_personal_data(production):
    base, log, _env, _instance = production
    with urllib.request.urlopen(base + "/healthz", timeout=30) as response:
        health = json.loads(response.read())
    assert health["status"] == "ok"
    assert health["index"]["ok"] and health["index"]["articles"] > 5
    assert health["database"] == {"ok": True, "backend": "postgresql"}
    assert SECRET not in json.dumps(health) and "postgresql://" not in json.dumps(health)

    with urllib.request.urlopen(base + "/?q=mario+rossi+non+riceve+posta", timeout=30) as response:
        page = response.read().decode()
        assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert 'class="result"' in page and 'name="ricerca"' in page
    text = log_once_written(log, '"GET / HTTP/1.1" 200')
    assert '"GET / HTTP/1.1" 200' in text and '"GET /healthz HTTP/1.1" 200' in text
    assert "mario" not in text and "q=" not in text and "127.0.0.1 " not in text.replace("127.0.0.1:", "")


def test_fifty_concurrent_submissions_on_postgresql_then_the_mail_sender_process(production):
    base, log, env, instance = production
    ids = submit_all_at_once(base, valid_data(EMAIL_FORM), CUSTOMERS)

    assert len(ids) == CUSTOMERS and len(set(ids)) == CUSTOMERS
    assert all(re.fullmatch(r"SMA-\d{3}-\d{5}", i) for i in ids)
    assert_stored_with_their_emails(env["DATABASE_URL"], ids)
    # No background thread in production: `kb send-mail` is its own process, on the same database.
    sent = subprocess.run([str(KB), "send-mail"], env=env, capture_output=True, text=True, timeout=120)
    assert sent.returncode == 0, sent.stderr
    assert f"sent {2 * CUSTOMERS}, failed 0" in sent.stdout
    files = sorted((instance / "mail").glob("*.eml"))
    assert len(files) == 2 * CUSTOMERS
    subjects = {message_from_bytes(f.read_bytes(), policy=policy.default)["Subject"][:15] for f in files}
    assert subjects == {f"[{ticket_id}]" for ticket_id in ids}
    # Nothing the customers typed reached the access log.
    assert "Errore 550" not in log.read_text() and "mario.rossi" not in log.read_text()


def test_gunicorn_refuses_to_start_without_a_secret_key(tmp_path):
    env = intake_environment(KB_INSTANCE_PATH=str(tmp_path / "instance"), RATELIMIT_SUBMIT="10 a minute")
    result = subprocess.run(command(INTAKE_APP, free_port()), cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "The intake cannot start; fix its environment:" in result.stderr
    assert "SECRET_KEY: not set" in result.stderr
    assert 'python -c "import secrets; print(secrets.token_hex(32))"' in result.stderr
    assert "RATELIMIT_SUBMIT: cannot read '10 a minute'" in result.stderr  # every problem at once
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "instance").exists()  # nothing was created
