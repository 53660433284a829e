"""One build, site and search index in step (K5): `kb build`, `mkdocs build`, failures."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kb_build import plugin as plugin_module
from kb_build.cli import cli
from kb_build.plugin import KBPlugin
from kb_build.search import Searcher

from .helpers import NEW_ARTICLE, leftovers, make_project

EMAIL = "come-richiedere-assistenza-servizi-email"


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the site project to build in isolation."""
    return make_project(tmp_path)


def kb_build(project: Path):
    return CliRunner().invoke(cli, ["build", "--config", str(project / "mkdocs.yml")])


def search(index_dir: Path, query: str) -> list[str]:
    with Searcher(index_dir) as searcher:
        return [hit.slug for hit in searcher.search(query)]


def test_kb_build_writes_site_and_index_then_a_failed_build_keeps_both(project, monkeypatch):
    result = kb_build(project)
    assert result.exit_code == 0, result.output
    index_dir = project / "build" / "kb-index"
    assert f"search index built in {index_dir}" in result.output
    assert (project / "site" / "email" / EMAIL / "index.html").exists()
    assert search(index_dir, "emial")[0] == EMAIL

    # A new article, then a build that fails *after* the index was written (a strict-mode
    # warning is only turned into a failure at the very end of the MkDocs build).
    (project / "docs" / "assistenza" / "certificati-zebrati.md").write_text(NEW_ARTICLE, encoding="utf-8")
    original = KBPlugin.on_post_build

    def post_build_then_warn(self, config):
        original(self, config)
        assert self.staged_index is not None and self.staged_index.is_dir()
        plugin_module.log.warning("a late warning")

    monkeypatch.setattr(KBPlugin, "on_post_build", post_build_then_warn)
    result = kb_build(project)
    assert result.exit_code == 1
    assert "the previous site and search index are unchanged" in result.output
    assert "a late warning" in result.output
    assert search(index_dir, "zebrati") == []
    assert not (project / "site" / "assistenza" / "certificati-zebrati").exists()
    assert leftovers(project) == []

    monkeypatch.setattr(KBPlugin, "on_post_build", original)
    result = kb_build(project)
    assert result.exit_code == 0, result.output
    assert search(index_dir, "zebrati") == ["certificati-zebrati"]
    assert (project / "site" / "assistenza" / "certificati-zebrati" / "index.html").exists()
    assert leftovers(project) == []


def test_plain_mkdocs_build_writes_the_index_too(project):
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    settings = project / "mkdocs.yml"
    text = settings.read_text(encoding="utf-8")
    assert "index_dir: build/kb-index" in text
    settings.write_text(text.replace("index_dir: build/kb-index", "index_dir: elsewhere/index"), encoding="utf-8")
    build(load_config(str(settings)))
    assert search(project / "elsewhere" / "index", "migrazzione") == ["migrazione-programmata-server-dedicati"]


def test_article_problem_stops_the_build_before_the_index_changes(project):
    assert kb_build(project).exit_code == 0
    index_dir = project / "build" / "kb-index"
    before = sorted(p.name for p in index_dir.iterdir())
    broken = project / "docs" / "email" / "come-richiedere-assistenza-servizi-email.md"
    broken.write_text(broken.read_text(encoding="utf-8").replace("category: email", "category: posta"), encoding="utf-8")
    result = kb_build(project)
    assert result.exit_code == 1
    assert "unknown category 'posta'" in result.output
    assert sorted(p.name for p in index_dir.iterdir()) == before
    assert search(index_dir, "emial")[0] == EMAIL
