"""`kb build` of a copy of the project: bad articles fail with `kb check`'s file:line message
and leave the published site as it was; dates come from git and never break a build (issue 4).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from .helpers import KB, ROOT, build_environment, make_project, snapshot

EMAIL_ARTICLE = Path("docs/email/come-richiedere-assistenza-servizi-email.md")
REQUEST_TYPES = ("generico", "email", "commerciale", "extracontrattuale", "migrazione", "rubalo")
ITALIAN_DATE = re.compile(
    r"Ultimo aggiornamento: <span[^>]*>(\d{1,2} (?:gennaio|febbraio|marzo|aprile|maggio|giugno|luglio|"
    r"agosto|settembre|ottobre|novembre|dicembre) \d{4})</span>"
)
NEW_ARTICLE = """\
---
title: Come configurare la posta su Outlook
summary: Le impostazioni del server in entrata e in uscita per usare la casella con Outlook.
category: email
services: [cronusmail]
tags: [outlook]
---

Apri Outlook e aggiungi un nuovo account di posta.
"""


def run(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(KB), *args], cwd=project, env=build_environment(), capture_output=True, text=True, timeout=300
    )


def updated(page: Path) -> str:
    found = ITALIAN_DATE.search(page.read_text(encoding="utf-8"))
    assert found, f"no 'Ultimo aggiornamento' date in {page}"
    return found.group(1)


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    """A project copy without git history, built once: the site customers currently see."""
    project = make_project(tmp_path_factory.mktemp("published") / "project")
    result = run(project, "build")
    assert result.returncode == 0, result.stderr
    return project


@pytest.fixture
def project(published, tmp_path) -> Path:
    copy = tmp_path / "project"
    shutil.copytree(published, copy)
    return copy


def plant_broken_link(project: Path) -> str:
    path = project / EMAIL_ARTICLE
    text = path.read_text(encoding="utf-8") + "\nVedi anche [la guida a Outlook](outlook.md).\n"
    path.write_text(text, encoding="utf-8")
    line = text.split("\n").index("Vedi anche [la guida a Outlook](outlook.md).") + 1
    return f"{EMAIL_ARTICLE}:{line}: broken link 'outlook.md': there is no article docs/email/outlook.md"


def plant_unknown_ticket_form(project: Path) -> str:
    # mkdocs.yml's forms_dir points at intake/forms: the request types articles may name
    path = project / EMAIL_ARTICLE
    lines = path.read_text(encoding="utf-8").split("\n")
    line = lines.index("ticket_form: email") + 1
    lines[line - 1] = "ticket_form: posta"
    path.write_text("\n".join(lines), encoding="utf-8")
    return f"{EMAIL_ARTICLE}:{line}: unknown ticket_form 'posta' (allowed: {', '.join(sorted(REQUEST_TYPES))})"


def plant_missing_title(project: Path) -> str:
    path = project / EMAIL_ARTICLE
    lines = [x for x in path.read_text(encoding="utf-8").split("\n") if not x.startswith("title:")]
    path.write_text("\n".join(lines), encoding="utf-8")
    return f"{EMAIL_ARTICLE}:1: missing 'title' in the front matter"


@pytest.mark.parametrize("plant", [plant_broken_link, plant_unknown_ticket_form, plant_missing_title])
def test_a_bad_article_fails_the_build_and_leaves_the_published_site_intact(project, plant):
    before = snapshot(project / "site")
    expected = plant(project)

    check = run(project, "check")
    assert check.returncode == 1
    assert expected in check.stderr

    build = run(project, "build")
    assert build.returncode != 0
    assert expected in build.stderr  # the same file:line message as `kb check`
    assert snapshot(project / "site") == before
    assert sorted(p.name for p in project.iterdir() if p.name.startswith(".site")) == []


def test_a_copy_without_git_history_builds_with_the_build_date(published):
    """An export or a tmp copy of docs/ has no history: every article gets today's date."""
    page = published / "site" / "email" / "come-richiedere-assistenza-servizi-email" / "index.html"
    assert updated(page)


def test_dates_come_from_git_and_an_uncommitted_article_still_builds(tmp_path):
    project = make_project(tmp_path / "project")
    git = ["git", "-c", "user.name=Redazione", "-c", "user.email=redazione@example.org", "-c", "commit.gpgsign=false"]
    dated = {**os.environ, "GIT_AUTHOR_DATE": "2024-03-15T10:00:00+01:00", "GIT_COMMITTER_DATE": "2024-03-15T10:00:00+01:00"}
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "Articoli"]):
        subprocess.run(git + command, cwd=project, env=dated, check=True, capture_output=True)
    # A writer's new article, not committed yet, and without ticket_form.
    (project / "docs" / "email" / "configurare-outlook.md").write_text(NEW_ARTICLE, encoding="utf-8")

    result = run(project, "build")
    assert result.returncode == 0, result.stderr

    site = project / "site"
    assert updated(site / "email" / "come-richiedere-assistenza-servizi-email" / "index.html") == "15 marzo 2024"
    new_page = site / "email" / "configurare-outlook" / "index.html"
    assert updated(new_page) != "15 marzo 2024"  # the build date
    button = re.search(r'class="[^"]*kb-ticket__button[^"]*"\s+href="([^"]+)"', new_page.read_text(encoding="utf-8"))
    assert button, "no 'Apri un ticket' button"
    query = parse_qs(urlsplit(button.group(1).replace("&amp;", "&")).query)
    assert query == {"tipo": ["generico"], "articolo": ["configurare-outlook"]}


def test_large_categories_get_a_short_sidebar(tmp_path):
    """Above sidebar_max_articles a category's pages list only themselves in the sidebar (the
    build stays linear in the number of articles); the category page still lists them all."""
    project = make_project(tmp_path / "project")
    config = project / "mkdocs.yml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("      index_dir: build/kb-index\n", "      index_dir: build/kb-index\n      sidebar_max_articles: 3\n"))
    result = run(project, "build")
    assert result.returncode == 0, result.stderr
    site = project / "site"

    def sidebar_links(page: Path) -> set[str]:
        html = page.read_text(encoding="utf-8")
        sidebar = html[html.index('md-sidebar--primary'):html.index('md-sidebar--secondary')]
        return set(re.findall(r'href="([^"]+)"', sidebar))

    large = sorted(p.stem for p in (ROOT / "docs" / "server-dedicati").glob("*.md") if p.stem != "index")
    assert len(large) > 3
    reading = site / "server-dedicati" / large[0] / "index.html"
    links = sidebar_links(reading)
    assert "./" in links and "../" in links  # the article itself and its category page
    assert [slug for slug in large[1:] if f"../{slug}/" in links] == []  # no sibling
    html = reading.read_text(encoding="utf-8")
    assert "md-footer__link--prev" in html and "md-footer__link--next" in html
    category = (site / "server-dedicati" / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{slug}/"' in category for slug in large)
    # A small category keeps its full list.
    assistenza = sorted(p.stem for p in (ROOT / "docs" / "assistenza").glob("*.md") if p.stem != "index")
    small = sidebar_links(site / "assistenza" / assistenza[0] / "index.html")
    assert f"../{assistenza[1]}/" in small
