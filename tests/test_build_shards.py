"""`kb build --jobs N` renders the pages in N processes (kb_build.shards, issue 8): customers
get the same site as from one process, and writers the same problems, each said once."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .helpers import KB, build_environment, leftovers, make_project, snapshot

EMAIL = "come-richiedere-assistenza-servizi-email"


def kb_build(project: Path, jobs: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(KB), "build", "--jobs", str(jobs)], cwd=project, env=build_environment(), capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def one_process(tmp_path_factory) -> Path:
    """The real docs built by a single process: the reference."""
    project = make_project(tmp_path_factory.mktemp("shards") / "project")
    result = kb_build(project, 1)
    assert result.returncode == 0, result.stderr
    return project


@pytest.mark.parametrize("jobs", [2, 3])
def test_several_processes_build_the_same_site_byte_for_byte(one_process, tmp_path, jobs):
    project = tmp_path / "project"
    shutil.copytree(one_process, project)
    shutil.rmtree(project / "site")
    result = kb_build(project, jobs)
    assert result.returncode == 0, result.stderr
    # Every page, the navigation in it, the dates, the sitemap and the site's own search
    # index (joined from the processes' parts, in page order) as a single process makes them.
    assert snapshot(project / "site") == snapshot(one_process / "site")
    assert leftovers(project) == []  # the other processes' folders are gone


def broken_anchors(project: Path) -> list[Path]:
    """A page linking to a section of every article that `kb check` sees but MkDocs does not
    render (a heading inside an HTML comment): MkDocs' own anchor check must catch them,
    also when another process rendered the article linked to."""
    articles = sorted(p for p in (project / "docs").glob("*/*.md") if p.name != "index.md")
    for article in articles:
        article.write_text(article.read_text(encoding="utf-8") + "\n<!--\n## Sezione nascosta\n-->\n", encoding="utf-8")
    links = "\n".join(f"- [vedi]({relative_link(a)}#sezione-nascosta)" for a in articles)
    (project / "docs" / "email" / "collegamenti.md").write_text(
        "---\ntitle: Collegamenti alle altre guide\nsummary: Una pagina di prova con collegamenti.\n"
        f"category: email\n---\n\nAltre guide:\n\n{links}\n",
        encoding="utf-8",
    )
    return articles


def relative_link(article: Path) -> str:
    """From docs/email/."""
    return article.name if article.parent.name == "email" else f"../{article.parent.name}/{article.name}"


def problems(output: str) -> list[str]:
    return sorted(re.findall(r"Doc file '[^']+' contains a link '[^']+', but [^\n]*", output))


def test_missing_anchors_in_pages_of_any_process_fail_the_build_each_reported_once(one_process, tmp_path):
    found = {}
    for jobs in (1, 2):
        project = tmp_path / f"jobs-{jobs}"
        shutil.copytree(one_process, project)
        articles = broken_anchors(project)
        site_before = snapshot(project / "site")
        result = kb_build(project, jobs)
        assert result.returncode != 0
        assert snapshot(project / "site") == site_before  # customers keep the published site
        assert leftovers(project) == []
        found[jobs] = problems(result.stderr)
    # One per article linked to, whichever process rendered it, as a single process says it.
    assert len(found[1]) == len(articles)
    assert (
        "Doc file 'email/collegamenti.md' contains a link '"
        f"{EMAIL}.md#sezione-nascosta', but the doc 'email/{EMAIL}.md' does not contain an anchor '#sezione-nascosta'."
    ) in found[1]
    assert found[2] == found[1]
