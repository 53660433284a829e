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


@pytest.fixture(scope="session")
def kb_index(tmp_path_factory) -> Path:
    """The search index built from the committed docs/, as `kb build` would (read-only: share it)."""
    from kb_build.articles import load_docs
    from kb_build.index import build_index

    docs = load_docs(ROOT / "docs")
    assert docs.articles and not docs.problems, docs.problems
    return build_index(docs.articles, tmp_path_factory.mktemp("kb") / "kb-index")
