"""KB tables computed at build time from the provider's rules (intake/kb_tables.py, an MkDocs hook)."""

from __future__ import annotations

import ast
from types import SimpleNamespace

import pytest
from mkdocs.exceptions import PluginError

from intake.kb_tables import UnknownTable, fee_examples_table, on_page_markdown, replace_markers

from .helpers import ROOT

MARKER = '<div class="kb-regole" data-tabella="stima-esempi"></div>'


def table_rows(markdown: str) -> list[list[str]]:
    rows = [line for line in markdown.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]  # no header, no rule


def test_fee_examples_follow_the_article_tariffs():
    # (duration, cost, take-over, quote) per row, worked out by hand from the seed's tariffs
    assert [row[1:] for row in table_rows(fee_examples_table())] == [
        ["31′", "€ 54,00 + IVA", "entro 8h", "no"],  # 2 x 27
        ["31′", "€ 81,00 + IVA", "entro 1h", "no"],  # 27 + 2 x 27
        ["3h", "€ 252,00 + IVA", "entro 8h", "sì"],  # 6 x 42, above 250
        ["4h", "€ 250,00 + IVA", "in data concordata", "no"],  # 150 + 2 x 50: not above 250
        ["3h 10′", "€ 396,00 + IVA", "in data concordata", "sì"],  # 230 + 2 x 83
        ["45′", "€ 201,00 + IVA", "entro 1h", "no"],  # 75 + 2 x 63, billed a consuntivo
        ["45′", "€ 54,00 + IVA", "personale di turno", "no"],  # 2 x 27
    ]


def test_marker_is_replaced_by_the_table_and_the_rest_kept():
    page = f"# Tariffe\n\nTesto.\n\n{MARKER}\n\nFine.\n"
    result = replace_markers(page, "docs/a.md")
    assert result.startswith("# Tariffe\n\nTesto.\n\n## Esempi di stima\n")
    assert result.endswith("| no |\n\nFine.\n")
    assert "kb-regole" not in result


def test_marker_inside_a_line_is_left_alone():
    page = f"Scrivete {MARKER} su una riga a sé.\n"
    assert replace_markers(page, "docs/a.md") == page


def test_unknown_table_names_file_line_and_the_tables():
    page = 'Uno.\n\n<div class="kb-regole" data-tabella="tariffe"></div>\n'
    with pytest.raises(UnknownTable, match=r"^docs/a\.md:3: unknown rules table 'tariffe' \(allowed: stima-esempi\)$"):
        replace_markers(page, "docs/a.md")
    page_object = SimpleNamespace(file=SimpleNamespace(src_uri="server-dedicati/a.md"))
    with pytest.raises(PluginError, match=r"^docs/server-dedicati/a\.md:3: unknown rules table 'tariffe'"):
        on_page_markdown(page, page=page_object, config={"docs_dir": "docs"}, files=None)


def test_the_hook_is_listed_in_mkdocs_yml_and_the_marker_is_in_the_article():
    assert "  - intake/mkdocs_hooks/rule_tables.py" in (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    article = ROOT / "docs/server-dedicati/assistenza-extracontrattuale-server-dedicati-server-virtuali-colocation.md"
    assert MARKER in article.read_text(encoding="utf-8").splitlines()


def test_kb_build_never_imports_the_intake():
    """The one-way flow: the tables reach the site through MkDocs' hooks, not through kb_build."""
    for path in sorted((ROOT / "kb_build").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            assert not any(n == "intake" or n.startswith("intake.") for n in names), f"{path}: imports {names}"
