from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .helpers import CHROMIUM, CHROMIUM_ARGS, PHONE, ROOT


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (installed by `make test`, never downloaded)."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Chromium is missing: run `make test`, which installs it"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="it-IT")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def docs_copy(tmp_path) -> Path:
    """A throw-away copy of the committed docs/ to plant defects in."""
    target = tmp_path / "docs"
    shutil.copytree(ROOT / "docs", target)
    return target


# --- intake back end: database, mail, submissions -------------------------------------


@pytest.fixture(scope="session")
def postgres_admin_url():
    """A real PostgreSQL 15 server for the whole session (installed by `make test`)."""
    from .postgres import postgres_server

    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """An empty database: a SQLite file in tmp_path, or a fresh schema on the PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'intake.sqlite3'}"
        return
    from .postgres import fresh_schema

    with fresh_schema(request.getfixturevalue("postgres_admin_url")) as url:
        yield url


@pytest.fixture
def intake_db(database_url):
    """The intake database (each test runs on SQLite and on PostgreSQL), schema at the latest migration."""
    from intake.db import Database

    database = Database(database_url)
    database.upgrade()
    yield database
    database.dispose()


@pytest.fixture
def sqlite_db(tmp_path):
    """For the tests about SQLite itself: a real SQLite file in tmp_path, schema upgraded."""
    from intake.db import Database

    database = Database(f"sqlite:///{tmp_path / 'intake.sqlite3'}")
    database.upgrade()
    yield database
    database.dispose()


@pytest.fixture
def smtp_server():
    """A real aiosmtpd server on 127.0.0.1 (``.inbox``, ``.url``, ``.stop()``, ``.start()``)."""
    from .mailserver import SMTPServer

    server = SMTPServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail_settings():
    from intake.mail import MailSettings

    return MailSettings(
        sender="Assistenza SMACloud <noreply@smacloud.it>",
        department_addresses={"helpdesk": "hd@smacloud.it", "sales": "sales@smacloud.it"},
    )


@pytest.fixture
def make_submission():
    """Build an e-mail-problem submission; keyword arguments override its fields."""
    from intake.store import Answer, Submission

    def make(**overrides):
        fields = dict(
            request_type="email",
            department="helpdesk",
            department_name="Assistenza Tecnica",
            subject="Non ricevo posta su info@rossi.it da ieri",
            priority="normale",
            customer_email="mario.rossi@example.com",
            answers=[
                Answer("subject", "Oggetto", "Non ricevo posta su info@rossi.it da ieri"),
                Answer("mailboxes", "Caselle coinvolte", ["info@rossi.it", "amministrazione@rossi.it"]),
                Answer("direction", "Direzione", "ricezione"),
                Answer("error", "Messaggio di errore", "550 5.7.1 Relaying denied\nsecond line of the bounce"),
            ],
        )
        fields.update(overrides)
        return Submission(**fields)

    return make


@pytest.fixture
def store_ticket(intake_db, mail_settings, make_submission, tmp_path):
    """``store_ticket(nonce=..., attachments=[...], **submission_overrides)`` -> the stored Ticket."""
    from intake.store import create_ticket

    def store(nonce="nonce-1", attachments=(), now=None, prefix="FPL", **overrides):
        with intake_db.session() as session:
            return create_ticket(
                session,
                make_submission(**overrides),
                list(attachments),
                nonce,
                mail=mail_settings,
                attachments_dir=tmp_path / "attachments",
                examined_when="La esamineremo entro oggi alle 17:30.",
                prefix=prefix,
                search_query="non ricevo posta",
                now=now,
            )

    return store
# --- intake ---------------------------------------------------------------------------------

def intake_test_config(tmp_path: Path, **overrides) -> dict:
    """The intake's test configuration: real form definitions, throw-away paths.

    The instance folder (SQLite database, attachments, mail files) is ``tmp_path/instance``;
    the search index is missing unless ``KB_INDEX_DIR`` is given (the search step then says
    the guide cannot be searched, and still lets the customer continue).
    """
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-of-the-test-suite",
        "WTF_CSRF_ENABLED": False,
        "KB_INDEX_DIR": str(tmp_path / "kb-index"),
        "FORMS_DIR": str(ROOT / "intake" / "forms"),
        "INSTANCE_PATH": str(tmp_path / "instance"),
        # One test client makes many requests from one address in a second: the limits have
        # their own tests (test_protection.py), which set them low.
        "RATELIMIT_SEARCH": "10000 per minute",
        "RATELIMIT_API": "10000 per minute",
        "RATELIMIT_SUBMIT": "10000 per minute",
    }
    config.update(overrides)
    return config


def customer_app(config: dict):
    """``create_app(config)`` whose ``test_client()`` searches before every form (CustomerClient)."""
    from intake import create_app

    from .intake_client import CustomerClient

    app = create_app(config)
    app.test_client_class = CustomerClient
    return app


@pytest.fixture
def app(request, tmp_path, kb_index):
    """The intake app on the real definitions in intake/forms/ and the real index (CSRF off: see csrf_app).

    A test that also asks for ``database_url`` runs twice: on SQLite and on PostgreSQL.
    """
    database = {"DATABASE_URL": request.getfixturevalue("database_url")} if "database_url" in request.fixturenames else {}
    app = customer_app(intake_test_config(tmp_path, KB_INDEX_DIR=str(kb_index), **database))
    yield app
    app.extensions["intake.db"].dispose()


@pytest.fixture
def client(app):
    """A customer: searches first, then fills the forms (see tests/intake_client.py)."""
    return app.test_client()


@pytest.fixture
def runner():
    """Click runner for the `kb` command group (which also loads `kb forms`)."""
    from click.testing import CliRunner

    return CliRunner()


@pytest.fixture
def csrf_app(tmp_path, kb_index):
    """The intake app with CSRF protection on, as in production."""
    app = customer_app(intake_test_config(tmp_path, KB_INDEX_DIR=str(kb_index), WTF_CSRF_ENABLED=True))
    yield app
    app.extensions["intake.db"].dispose()


@pytest.fixture(scope="module")
def live_intake(tmp_path_factory, kb_index):
    """The intake served by a real threaded WSGI server on 127.0.0.1 (CSRF on); yields its URL."""
    from intake import create_app

    from .helpers import serve_app

    tmp = tmp_path_factory.mktemp("intake")
    config = intake_test_config(tmp, KB_INDEX_DIR=str(kb_index), WTF_CSRF_ENABLED=True)
    config["TESTING"] = False
    app = create_app(config)
    with serve_app(app) as url:
        yield url
    app.extensions["intake.db"].dispose()


# ---------------------------------------------------------------------------
# The static site (issue 4): built ONCE per session, served under a sub-path.


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """The committed docs/ built with `mkdocs build --strict`, published at SITE_URL (a sub-path)."""
    from .helpers import SITE_URL, mkdocs_build

    site = tmp_path_factory.mktemp("built") / "site"
    mkdocs_build(site, KB_SITE_URL=SITE_URL)
    return site


@pytest.fixture(scope="session")
def site_base(built_site) -> str:
    """The built site served over HTTP on 127.0.0.1 under SITE_PREFIX, as a static host would."""
    from .helpers import SITE_PREFIX, serve_directory

    with serve_directory(built_site, SITE_PREFIX) as base:
        yield base


@pytest.fixture(scope="session")
def kb_articles():
    """The articles of the committed docs/, as the build sees them."""
    from kb_build.articles import load_docs

    return load_docs(ROOT / "docs").articles


@pytest.fixture
def phone_page(browser):
    """A page at a phone's viewport (375x812), with touch."""
    context = browser.new_context(
        locale="it-IT", viewport=PHONE, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    yield page
    context.close()
@pytest.fixture(scope="session")
def kb_index(tmp_path_factory) -> Path:
    """The search index built from the committed docs/, as `kb build` would (read-only: share it)."""
    from kb_build.articles import load_docs
    from kb_build.index import build_index

    docs = load_docs(ROOT / "docs")
    assert docs.articles and not docs.problems, docs.problems
    return build_index(docs.articles, tmp_path_factory.mktemp("kb") / "kb-index")
