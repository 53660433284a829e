"""`kb import` on the provider's real legacy exports (SPEC K1)."""

from __future__ import annotations

import re
from pathlib import Path

import markdown
import pytest
from click.testing import CliRunner

from kb_build.cli import cli

from .helpers import ROOT

# The provider's original exports (copied from ../shared/seeds so a clean checkout has them).
SEEDS = sorted((ROOT / "tests" / "data" / "seeds").glob("*.txt"))
TITLES = [
    "Come richiedere assistenza per i nostri servizi",
    "come richiedere assistenza per i servizi email",
    "migrazione programmata di server dedicati",
    "Cosa comprende l’opzione “full management” per i server dedicati?",
    "Come richiedere l’assistenza di Rubalo.it ?",
    "Assistenza extracontrattuale per server dedicati, server virtuali ed in colocation",
    "Cosa comprende l’opzione di assistenza “global” per i server dedicati?",
    "Cosa comprende l’opzione “assistenza basic” per i server dedicati?",
    "Cos’è un “ticket di assistenza” e come aprirlo?",
]


def run_import(docs: Path, *files: Path, force: bool = False):
    args = ["import", "--docs", str(docs), *map(str, files)] + (["--force"] if force else [])
    return CliRunner().invoke(cli, args)


@pytest.fixture
def imported(tmp_path) -> Path:
    docs = tmp_path / "docs"
    result = run_import(docs, *SEEDS)
    assert result.exit_code == 0, result.output
    return docs


def article(docs: Path, title: str) -> str:
    for path in docs.rglob("*.md"):
        text = path.read_text(encoding="utf-8")
        if re.search(rf"^title: '?{re.escape(title)}'?$", text, re.M):
            return text
    raise AssertionError(f"no article titled {title!r}")


def html_of(text: str) -> str:
    """Render an article body the way the site does (same Markdown extensions)."""
    body = text.split("---\n", 2)[2]
    return markdown.markdown(body, extensions=["admonition", "tables", "attr_list", "md_in_html"])


def test_seed_files_are_present():
    assert [p.name for p in SEEDS] == ["000_6c45336baf6f51f4.txt", "001_d1585859e0a84110.txt"]


def test_import_gives_the_nine_articles_with_their_exact_titles(imported):
    files = sorted(imported.rglob("*.md"))
    assert len(files) == 9
    titles = []
    for path in files:
        front = path.read_text(encoding="utf-8").split("---\n")[1]
        titles.append(next(line for line in front.splitlines() if line.startswith("title:")))
    found = sorted(t.removeprefix("title: ").strip("'") for t in titles)
    assert found == sorted(TITLES)


def test_duplicates_are_dropped_and_reported(tmp_path):
    result = run_import(tmp_path / "docs", *SEEDS)
    duplicates = [line for line in result.output.splitlines() if line.startswith("skipped duplicate:")]
    assert len(duplicates) == 2
    assert any("come richiedere assistenza per i servizi email" in line for line in duplicates)
    assert any("Come richiedere assistenza per i nostri servizi" in line and "001_" in line for line in duplicates)
    # the kept e-mail article is the complete copy, with its closing paragraph
    email = article(tmp_path / "docs", TITLES[1])
    assert "Solo in questo modo potremo effettuare delle verifiche" in email


def test_articles_go_to_their_category_folder(imported):
    assert (imported / "email" / "come-richiedere-assistenza-servizi-email.md").exists()
    assert (imported / "rubalo" / "come-richiedere-assistenza-rubalo-it.md").exists()
    assert len(list((imported / "server-dedicati").glob("*.md"))) == 5


def test_sections_stay_inside_their_article(imported):
    first = article(imported, TITLES[0])
    assert "## Metodo B" in first and "## NOTE" in first and "## metodo A (preferibile)" in first
    ticket = article(imported, TITLES[8])
    assert "## Vantaggi del ticket system" in ticket
    fees = article(imported, TITLES[5])
    assert "## INTERVENTI IN FASCIA ORDINARIA (dal lunedì al venerdì, dalle 9:00 alle 18:00)" in fees
    assert "### tariffe" in fees


def test_bullets_with_continuations_and_nested_notes_become_lists(imported):
    html = html_of(article(imported, TITLES[2]))
    # the "–" notes under the IP switch step are a list nested inside the step's item
    nested = re.search(r"<li>\s*<p>quando il cliente ha concluso.*?</ul>\s*</li>", html, re.S).group(0)
    assert nested.count("<li>") == 4  # the step itself and its three notes
    assert "a seconda del profilo di assistenza" in nested
    assert "il vecchio server viene lasciato" not in nested  # the next step is not swallowed
    first = html_of(article(imported, TITLES[0]))
    item = re.search(r"<li>\s*<p>selezionare il tipo di assistenza.*?</li>", first, re.S).group(0)
    assert "Helpdesk (Assistenza Tecnica)" in item  # continuation lines stay in their item


def test_boxes_become_admonitions(imported):
    assert '<div class="admonition note">' in html_of(article(imported, TITLES[0]))
    assert '<div class="admonition info">' in html_of(article(imported, TITLES[4]))


def test_tariff_blocks_become_tables(imported):
    html = html_of(article(imported, TITLES[5]))
    assert html.count("<table>") == 3
    assert re.search(r"<td>sistemista senior</td>\s*<td>prime 2h</td>\s*<td>€ 230,00 \+ IVA</td>", html)
    # the follow-on hour belongs to the senior row above it
    assert re.search(
        r"<td>sistemista senior</td>\s*<td>ogni ora successiva \(o frazione\)</td>\s*<td>€ 83,00 \+ IVA</td>", html
    )
    assert re.search(r"<td>Diritto fisso di urgenza</td>\s*<td></td>\s*<td>€ 27,00 \+ IVA</td>", html)


def test_urls_and_addresses_become_links(imported):
    html = html_of(article(imported, TITLES[0]))
    assert '<a href="https://helpdesk.smacloud.it/PanelNML">https://helpdesk.smacloud.it/PanelNML</a>' in html
    assert '<a href="https://panel.newmedialabs.it">panel.newmedialabs.it</a>' in html
    assert '<a href="mailto:hd@smacloud.it">hd@smacloud.it</a>' in html
    assert '<a href="mailto:sales@smacloud.it">sales@smacloud.it</a>' in html


def test_writers_wording_and_typos_are_kept(imported):
    assert "Di norma, NON è disponibile per server in colocati0n." in article(imported, TITLES[6])
    assert "quando ncessario" in article(imported, TITLES[3])
    assert "“non funziona l’email!”" in article(imported, TITLES[1])


def test_import_is_deterministic_and_idempotent(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert run_import(a, *SEEDS).exit_code == 0
    assert run_import(b, *SEEDS).exit_code == 0
    first = {p.relative_to(a): p.read_bytes() for p in a.rglob("*") if p.is_file()}
    second = {p.relative_to(b): p.read_bytes() for p in b.rglob("*") if p.is_file()}
    assert first == second
    again = run_import(a, *SEEDS)
    assert again.exit_code == 0
    assert "9 articles" in again.output and "written:" not in again.output
    assert {p.relative_to(a): p.read_bytes() for p in a.rglob("*") if p.is_file()} == first


def test_an_edited_article_is_not_overwritten_without_force(imported):
    target = imported / "email" / "come-richiedere-assistenza-servizi-email.md"
    edited = target.read_text(encoding="utf-8").replace("tags: []", "tags: [smtp]")
    target.write_text(edited, encoding="utf-8")
    result = run_import(imported, *SEEDS)
    assert result.exit_code == 1
    assert "kept (edited since the last import; use --force to overwrite)" in result.output
    assert target.read_text(encoding="utf-8") == edited
    forced = run_import(imported, *SEEDS, force=True)
    assert forced.exit_code == 0, forced.output
    assert "tags: [smtp]" not in target.read_text(encoding="utf-8")


def test_an_article_written_by_hand_is_not_overwritten(imported):
    """A file the import never wrote (not in its manifest) counts as edited."""
    (imported / ".kb-import.json").unlink()
    result = run_import(imported, *SEEDS)
    assert result.exit_code == 0  # identical content: nothing to protect
    target = imported / "rubalo" / "come-richiedere-assistenza-rubalo-it.md"
    target.write_text(target.read_text(encoding="utf-8") + "\nNuovo paragrafo.\n", encoding="utf-8")
    (imported / ".kb-import.json").unlink()
    assert run_import(imported, *SEEDS).exit_code == 1
    assert target.read_text(encoding="utf-8").endswith("Nuovo paragrafo.\n")


BAD_EXPORTS = [
    # (file content, expected "name:line: message" fragment)
    (b"Titolo di prova valido\n\n[gallery ids=\"1,2\"]\n", "bad.txt:3: unknown shortcode '[gallery ids=\"1,2\"]'"),
    (b"Titolo di prova valido\n\nTesto.\n\n[box]Nota senza fine\n\nUn altro paragrafo.\n", "bad.txt:5: '[box]' is never closed"),
    (b"", "bad.txt:1: empty export: no articles found"),
    (b"   \n\n", "bad.txt:1: empty export: no articles found"),
    (b"Titolo\n\n\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "bad.txt:5: binary data (NUL byte)"),
    ("Titolo di prova\n\nperché la posta non arriva\n".encode("latin-1"), "bad.txt:3: not UTF-8 text (byte 0xe9 at column 6)"),
    (b"[box type=\"rainbow\"]x[/box]\n", "bad.txt:1: text before the first article title"),
    (b"Titolo di prova valido\n\n[box type=\"rainbow\"]x[/box]\n", "bad.txt:3: unknown box type 'rainbow' (allowed:"),
]


@pytest.mark.parametrize(("content", "message"), BAD_EXPORTS)
def test_a_malformed_export_is_refused_and_nothing_is_written(tmp_path, content, message):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    docs = tmp_path / "docs"
    result = run_import(docs, SEEDS[0], bad)  # the good export must not be written either
    assert result.exit_code == 1
    assert message in result.output
    assert "Nothing was written." in result.output
    assert not docs.exists()


def test_the_same_title_with_different_text_is_refused(tmp_path):
    a = tmp_path / "a.txt"
    b = tmp_path / "b.txt"
    a.write_text("Come configurare Outlook\n\nPrimo testo.\n", encoding="utf-8")
    b.write_text("Come configurare Outlook\n\nTesto diverso.\n", encoding="utf-8")
    result = run_import(tmp_path / "docs", a, b)
    assert result.exit_code == 1
    assert "b.txt:1: article 'Come configurare Outlook' appears again with different text" in result.output


def test_bracketed_words_in_prose_are_not_shortcodes(tmp_path):
    export = tmp_path / "x.txt"
    export.write_text("Titolo di prova valido\n\nIl testo [sic] resta così.\n", encoding="utf-8")
    result = run_import(tmp_path / "docs", export)
    assert result.exit_code == 0, result.output
    text = next((tmp_path / "docs").rglob("*.md")).read_text(encoding="utf-8")
    assert r"Il testo \[sic\] resta così." in text


def test_every_bullet_of_the_export_is_a_list_item_on_the_page(imported):
    """No bullet is swallowed into a neighbour's paragraph (a classic Markdown trap)."""
    lines = SEEDS[0].read_text(encoding="utf-8").splitlines()
    for title in TITLES:
        start = lines.index(title) if title in lines else next(i for i, l in enumerate(lines) if l.strip() == title)
        following = [i for i, l in enumerate(lines) if l.strip() in TITLES and i > start]
        end = following[0] if following else len(lines)
        bullets = sum(
            1
            for l in lines[start:end]
            if l.lstrip().startswith("•") or (l.lstrip()[:1] == "–" and not re.search(r"\S {3,}\S", l.replace("\u00a0", " ")))
        )
        html = html_of(article(imported, title))
        assert html.count("<li>") == bullets, title
