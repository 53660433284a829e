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
        locale="it-IT", viewport={"width": 375, "height": 812}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    yield page
    context.close()
