"""During `mkdocs serve` a saved article updates the search index in place, for that article
only, and a searcher in another process sees it at its next query (issue 8)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kb_build.search import Searcher

from .helpers import NEW_ARTICLE, build_environment, make_project

MKDOCS = Path(sys.executable).parent / "mkdocs"
EMAIL = "come-richiedere-assistenza-servizi-email"


def slugs(searcher: Searcher, query: str) -> list[str]:
    return [hit.slug for hit in searcher.search(query)]


def eventually(check, timeout: float = 30.0):
    """Poll ``check()`` until it returns something true (MkDocs rebuilds asynchronously)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


@pytest.fixture
def served(tmp_path):
    """`mkdocs serve` running on a copy of the project; yields the project folder and its log."""
    project = make_project(tmp_path / "project")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log_path = tmp_path / "serve.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [str(MKDOCS), "serve", "-a", f"127.0.0.1:{port}"], cwd=project, env=build_environment(), stdout=log, stderr=log
        )
        try:
            assert eventually(lambda: "Serving on" in log_path.read_text(), timeout=120), log_path.read_text()
            yield project, log_path
        finally:
            server.terminate()
            server.wait(timeout=30)


def test_an_edited_article_is_found_by_a_new_word_without_rebuilding_the_index(served):
    served, log = served
    index_dir = served / "build" / "kb-index"
    searcher = Searcher(index_dir)  # as the intake holds one, in another process
    assert slugs(searcher, "zebrolino") == []
    folder = os.stat(index_dir).st_ino

    article = served / "docs" / "email" / f"{EMAIL}.md"
    article.write_text(article.read_text(encoding="utf-8") + "\nCapita anche con lo zebrolino.\n", encoding="utf-8")

    assert eventually(lambda: slugs(searcher, "zebrolino")) == [EMAIL]
    assert os.stat(index_dir).st_ino == folder  # updated in place, not rebuilt and swapped
    assert "search index: 1 article(s) updated, 0 removed" in log.read_text()
    assert slugs(searcher, "la posta non arriva")[0] == EMAIL  # the rest is still there
    searcher.close()


def test_a_deleted_and_an_added_article_are_seen_at_the_next_query(served):
    served, _ = served
    index_dir = served / "build" / "kb-index"
    searcher = Searcher(index_dir)
    deleted = "cosa-comprende-opzione-assistenza-global-server-dedicati"  # no article links to it
    assert slugs(searcher, "assistenza global")[0] == deleted
    folder = os.stat(index_dir).st_ino

    (served / "docs" / "server-dedicati" / f"{deleted}.md").unlink()
    (served / "docs" / "assistenza" / "certificati-zebrati.md").write_text(NEW_ARTICLE, encoding="utf-8")

    assert eventually(lambda: slugs(searcher, "zebrati")) == ["certificati-zebrati"]
    assert eventually(lambda: deleted not in slugs(searcher, "assistenza global"))
    assert os.stat(index_dir).st_ino == folder
    searcher.close()


class CountingPlugin:
    """Stands in for the kb plugin: counts the refreshes the docs watcher asks for."""

    def __init__(self):
        self.refreshes = 0

    def refresh_index(self, docs_dir):
        self.refreshes += 1
        for article in docs_dir.rglob("*.md"):  # as the real refresh does, for changed files
            article.read_bytes()


def test_the_docs_watcher_refreshes_the_index_on_saves_not_on_reads(tmp_path):
    """MkDocs reads every article on each rebuild, and a refresh reads them too: reads must
    not start refreshes (they did, in a loop that took the CPU from the next save)."""
    from kb_build.plugin import _DocsWatcher

    docs = make_project(tmp_path / "project") / "docs"
    plugin = CountingPlugin()
    watcher = _DocsWatcher(plugin, docs)
    try:
        time.sleep(0.3)
        for article in docs.rglob("*.md"):
            article.read_text(encoding="utf-8")
        time.sleep(0.5)
        assert plugin.refreshes == 0
        article = docs / "email" / f"{EMAIL}.md"
        article.write_text(article.read_text(encoding="utf-8") + "\nUna riga in più.\n", encoding="utf-8")
        assert eventually(lambda: plugin.refreshes >= 1, timeout=10)
        time.sleep(0.5)
        assert plugin.refreshes == 1  # one save, one refresh, and its own reads start none
    finally:
        watcher.stop()
