from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from .helpers import CHROMIUM, CHROMIUM_ARGS, ROOT


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


# --- intake ---------------------------------------------------------------------------------

def intake_test_config(tmp_path: Path, **overrides) -> dict:
    """The intake's test configuration: real form definitions, throw-away paths."""
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "WTF_CSRF_ENABLED": False,
        "KB_INDEX_DIR": str(tmp_path / "kb-index"),
        "FORMS_DIR": str(ROOT / "intake" / "forms"),
    }
    config.update(overrides)
    return config


@pytest.fixture
def app(tmp_path):
    """The intake app on the real definitions in intake/forms/ (CSRF off: see csrf_app)."""
    from intake import create_app

    return create_app(intake_test_config(tmp_path))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner():
    """Click runner for the `kb` command group (which also loads `kb forms`)."""
    from click.testing import CliRunner

    return CliRunner()


@pytest.fixture
def csrf_app(tmp_path):
    """The intake app with CSRF protection on, as in production."""
    from intake import create_app

    return create_app(intake_test_config(tmp_path, WTF_CSRF_ENABLED=True))


@pytest.fixture(scope="module")
def live_intake(tmp_path_factory):
    """The intake served by a real threaded WSGI server on 127.0.0.1 (CSRF on); yields its URL."""
    from intake import create_app

    from .helpers import serve_app

    tmp = tmp_path_factory.mktemp("intake")
    config = intake_test_config(tmp, WTF_CSRF_ENABLED=True)
    config["TESTING"] = False
    with serve_app(create_app(config)) as url:
        yield url
