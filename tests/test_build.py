"""The committed docs/ build into the site with `mkdocs build --strict` (SPEC K4, K5)."""

from __future__ import annotations

import os
import subprocess
import sys

from .helpers import ROOT


def test_mkdocs_build_strict_is_clean_on_the_committed_docs(tmp_path):
    site = tmp_path / "site"
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    page = site / "email" / "come-richiedere-assistenza-servizi-email" / "index.html"
    html = page.read_text(encoding="utf-8")
    assert '<html lang="it"' in html
    assert "come richiedere assistenza per i servizi email" in html
    # the category page lists its articles with their summaries
    category = (site / "server-dedicati" / "index.html").read_text(encoding="utf-8")
    content = category[category.index("<article") : category.index("</article>")]
    assert content.count('href="cosa-comprende-opzione-') == 3
    assert "Tariffe degli interventi extracontrattuali" in category
    # the example costs are computed at build time by the intake's rules (mkdocs.yml hooks:)
    fees = site / "server-dedicati" / "assistenza-extracontrattuale-server-dedicati-server-virtuali-colocation" / "index.html"
    fees_html = fees.read_text(encoding="utf-8")
    assert 'id="esempi-di-stima"' in fees_html
    assert "<td>3h 10′</td>\n<td>€ 396,00 + IVA</td>" in fees_html
    assert "kb-regole" not in fees_html
