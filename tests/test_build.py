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
