"""The committed docs/ build into the site with `mkdocs build --strict` (SPEC K4, K5)."""

from __future__ import annotations


def test_mkdocs_build_strict_is_clean_on_the_committed_docs(built_site):
    """`built_site` is `mkdocs build --strict` of the real docs/ (it fails on any warning)."""
    page = built_site / "email" / "come-richiedere-assistenza-servizi-email" / "index.html"
    html = page.read_text(encoding="utf-8")
    assert '<html lang="it"' in html
    assert "come richiedere assistenza per i servizi email" in html
    # the category page lists its articles with their summaries
    category = (built_site / "server-dedicati" / "index.html").read_text(encoding="utf-8")
    content = category[category.index("<article") : category.index("</article>")]
    assert content.count('href="cosa-comprende-opzione-') == 3
    assert "Tariffe degli interventi extracontrattuali" in content
    # the example costs are computed at build time by the intake's rules (mkdocs.yml hooks:)
    fees = built_site / "server-dedicati" / "assistenza-extracontrattuale-server-dedicati-server-virtuali-colocation" / "index.html"
    fees_html = fees.read_text(encoding="utf-8")
    assert 'id="esempi-di-stima"' in fees_html
    assert "<td>3h 10′</td>\n<td>€ 396,00 + IVA</td>" in fees_html
    assert "kb-regole" not in fees_html
