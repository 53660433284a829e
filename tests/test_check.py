"""`kb check` (SPEC K6): each defect a writer can make, reported as `file:line: problem`."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from kb_build.cli import cli

from .helpers import ROOT

EMAIL = "email/come-richiedere-assistenza-servizi-email.md"
RUBALO = "rubalo/come-richiedere-assistenza-rubalo-it.md"


@pytest.fixture
def project(tmp_path, docs_copy, monkeypatch) -> Path:
    """A project folder with a copy of the real docs/ and a minimal mkdocs.yml; cwd set to it."""
    forms = tmp_path / "forms"
    forms.mkdir()
    for name in ("generico", "email", "commerciale", "extracontrattuale", "migrazione", "rubalo"):
        (forms / f"{name}.yaml").write_text("title: x\n", encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: Prova\nplugins:\n  - search\n  - kb:\n      forms_dir: forms\n", encoding="utf-8"
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


def kb_check():
    return CliRunner().invoke(cli, ["check"])


def edit(project: Path, rel: str, old: str, new: str) -> None:
    path = project / "docs" / rel
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {rel}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_committed_docs_are_clean():
    result = CliRunner().invoke(cli, ["check", "--config", str(ROOT / "mkdocs.yml")])
    assert result.exit_code == 0, result.output
    assert "9 articles OK" in result.output


def test_the_copy_is_clean_before_planting_defects(project):
    result = kb_check()
    assert result.exit_code == 0, result.output


# (file, old text, new text, expected "file:line: message" line or its start)
DEFECTS = [
    (
        EMAIL,
        "category: email",
        "category: posta",
        f"docs/{EMAIL}:4: unknown category 'posta' (allowed: assistenza, email, hosting, domini, server-dedicati, rubalo)",
    ),
    (
        EMAIL,
        "services: [cronusmail, server-smtp]",
        "services: [cronusmail, smtp-server]",
        f"docs/{EMAIL}:5: unknown service 'smtp-server' (allowed: hosting-basic-illimitato, hosting-pro,",
    ),
    (
        EMAIL,
        "title: come richiedere assistenza per i servizi email",
        "title: FAQ",
        f"docs/{EMAIL}:2: title 'FAQ' is too generic: say what the article answers",
    ),
    (
        EMAIL,
        "title: come richiedere assistenza per i servizi email",
        "title: ''",
        f"docs/{EMAIL}:2: title is empty",
    ),
    (
        EMAIL,
        "title: come richiedere assistenza per i servizi email\n",
        "",
        f"docs/{EMAIL}:1: missing 'title' in the front matter: add a line 'title: ...'",
    ),
    (
        EMAIL,
        "summary: Cosa verificare prima",
        "summary: " + "Molto lungo " * 12 + "Cosa verificare prima",
        f"docs/{EMAIL}:3: summary is 287 characters long (allowed: at most 160): shorten it",
    ),
    (
        EMAIL,
        "ticket_form: email",
        "ticket_form: posta",
        f"docs/{EMAIL}:7: unknown ticket_form 'posta' (allowed: commerciale, email, extracontrattuale, generico, migrazione, rubalo)",
    ),
    (
        EMAIL,
        "tags: [",
        "categoria: email\ntags: [",
        f"docs/{EMAIL}:6: unknown front matter field 'categoria' (did you mean 'category'?)",
    ),
    (
        EMAIL,
        "summary: Cosa",
        "summary: Cosa: verificare: [",
        f"docs/{EMAIL}:3: front matter is not valid YAML",
    ),
    (
        EMAIL,
        "---\ntitle:",
        "title:",
        f"docs/{EMAIL}:1: missing front matter: start the file with '---'",
    ),
    (
        EMAIL,
        "category: email",
        "category: rubalo",
        f"docs/{EMAIL}:4: category 'rubalo' does not match the folder 'email/': move the file to docs/rubalo/ or set 'category: email'",
    ),
    (
        RUBALO,
        "- indicate sempre il dominio",
        "- indicate sempre il [dominio](../domini/registrare-dominio.md)",
        f"docs/{RUBALO}:22: broken link '../domini/registrare-dominio.md': there is no article docs/domini/registrare-dominio.md",
    ),
    (
        RUBALO,
        "- indicate sempre il dominio",
        "- indicate sempre il [dominio](come-richiedere-assistenza-servizi-email.md)",
        f"docs/{RUBALO}:22: broken link 'come-richiedere-assistenza-servizi-email.md': there is no article "
        f"docs/rubalo/come-richiedere-assistenza-servizi-email.md (did you mean docs/{EMAIL}?)",
    ),
    (
        RUBALO,
        "- indicate sempre il dominio",
        f"- indicate sempre il [dominio](../{EMAIL}#non-esiste)",
        f"docs/{RUBALO}:22: broken link '../{EMAIL}#non-esiste': docs/{EMAIL} has no heading '#non-esiste'",
    ),
    (
        RUBALO,
        "title: Come richiedere l’assistenza di Rubalo.it ?",
        "title: Come richiedere assistenza per i servizi EMAIL",
        f"docs/{RUBALO}:2: duplicate title 'Come richiedere assistenza per i servizi EMAIL': also used by docs/{EMAIL}",
    ),
]


@pytest.mark.parametrize(("rel", "old", "new", "expected"), DEFECTS)
def test_each_defect_is_reported_with_file_and_line(project, rel, old, new, expected):
    edit(project, rel, old, new)
    result = kb_check()
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(line.startswith(expected) for line in lines), result.output
    assert lines[-1].endswith("problem(s) in docs/")


def test_a_link_to_an_existing_heading_is_fine(project):
    edit(project, RUBALO, "- indicate sempre il dominio", f"- indicate sempre il [dominio](../{EMAIL}#specificate-altresi)")
    result = kb_check()
    assert result.exit_code == 0, result.output


def test_duplicate_slug_in_two_categories(project):
    source = project / "docs" / EMAIL
    copy = project / "docs" / "rubalo" / source.name
    copy.write_text(
        source.read_text(encoding="utf-8")
        .replace("category: email", "category: rubalo")
        .replace("title: come richiedere", "title: Come chiedere"),
        encoding="utf-8",
    )
    result = kb_check()
    assert result.exit_code == 1
    assert (
        f"docs/rubalo/{source.name}:1: duplicate slug 'come-richiedere-assistenza-servizi-email': "
        f"docs/{EMAIL} has the same file name"
    ) in result.output


def test_article_outside_a_category_folder(project):
    target = project / "docs" / "email" / "vecchi" / "nota.md"
    target.parent.mkdir()
    target.write_text("---\ntitle: Una nota vecchia\n---\n", encoding="utf-8")
    result = kb_check()
    assert result.exit_code == 1
    assert "docs/email/vecchi/nota.md:1: articles go directly in a category folder" in result.output


def test_a_file_that_is_not_utf8(project):
    (project / "docs" / "email" / "latin.md").write_bytes("---\ntitle: Perché\n---\n".encode("latin-1"))
    result = kb_check()
    assert result.exit_code == 1
    assert "docs/email/latin.md:2: not UTF-8 text: save the file with UTF-8 encoding" in result.output


def test_every_problem_is_listed_not_only_the_first(project):
    edit(project, EMAIL, "category: email", "category: posta")
    edit(project, RUBALO, "title: Come richiedere l’assistenza di Rubalo.it ?", "title: FAQ")
    result = kb_check()
    assert "2 problem(s) in docs/" in result.output
