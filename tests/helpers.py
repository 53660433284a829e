"""Test helpers shared by several test modules: a static HTTP server and the browser."""

from __future__ import annotations

import functools
import http.server
import threading
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
# Flags from DEVELOPERS.md: this machine has no network beyond the package registries.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output readable
        pass


@contextmanager
def serve_directory(directory: Path, prefix: str = "/"):
    """Serve ``directory`` on 127.0.0.1 (random port) as a static host would, under ``prefix``.

    Yields the base URL, e.g. ``http://127.0.0.1:41234/kb/``.
    """
    prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"

    class Handler(_QuietHandler):
        def translate_path(self, path):
            if not path.startswith(prefix):
                return str(directory / "__outside_prefix__")
            return super().translate_path("/" + path[len(prefix):])

    handler = functools.partial(Handler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{prefix}"
    finally:
        server.shutdown()
        server.server_close()


def run_axe(page) -> list[dict]:
    """axe-core on the current page; returns the violations of impact serious or critical."""
    # Evaluated through the browser's debugging protocol rather than added as a <script>: the
    # intake's Content-Security-Policy refuses inline scripts, and stays on in every browser test.
    page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document)")
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


def describe_violations(violations: list[dict]) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes']][:3]}" for v in violations
    )


@contextmanager
def serve_app(app):
    """Run a WSGI ``app`` on 127.0.0.1 (random port) with a real threaded server.

    Yields the base URL, e.g. ``http://127.0.0.1:41234``.
    """
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *args, **kwargs):  # keep test output readable
            pass

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def run_vnu(paths: list[Path]) -> list[dict]:
    """The Nu HTML checker on ``paths``; returns its error messages (warnings left out)."""
    import json
    import subprocess

    result = subprocess.run(
        ["java", "-jar", str(VNU_JAR), "--errors-only", "--format", "json", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    # vnu writes its JSON report to stderr and exits 1 when it found errors.
    report = json.loads(result.stderr or '{"messages": []}')
    return [m for m in report["messages"] if m.get("type") in ("error", "non-document-error")]


# ---------------------------------------------------------------------------
# The built site (issue 4). Tests publish it under a sub-path, as an operator may.

SITE_URL = "https://kb.example.it/kb/"  # KB_SITE_URL of the test builds
SITE_PREFIX = "/kb/"  # where serve_directory() publishes them on 127.0.0.1
INTAKE_URL = "/richiesta/"  # extra.intake_url's default in mkdocs.yml: a separate app


def mkdocs_build(site_dir: Path, config_file: Path = ROOT / "mkdocs.yml", **env: str) -> None:
    """``mkdocs build --strict`` of ``config_file`` into ``site_dir``; ``env`` sets KB_* variables.

    A subprocess: mkdocs.yml reads KB_SITE_URL and KB_INTAKE_URL from the environment when
    it is loaded, and the git-date plugin forks a process pool, which is best kept away from
    the threads of the test process.
    """
    import os
    import subprocess
    import sys

    environment = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    environment.update(env, NO_MKDOCS_2_WARNING="1")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-f", str(config_file), "-d", str(site_dir)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"mkdocs build failed:\n{result.stdout}\n{result.stderr}"


def html_pages(site_dir: Path) -> list[Path]:
    return sorted(site_dir.rglob("*.html"))


def page_url(site_dir: Path, path: Path, base: str = SITE_URL) -> str:
    """The address a built file is published at: ``email/x/index.html`` -> ``{base}email/x/``."""
    rel = path.relative_to(site_dir).as_posix()
    return base + (rel[: -len("index.html")] if rel.endswith("index.html") else rel)


# Material's own result list, and the panel assets/javascripts/intake-search.js adds beside it.
BUILTIN_RESULTS = "[data-md-component=search-result]"
INTAKE_RESULTS = ".kb-intake-result"


def search_results(page, container: str = BUILTIN_RESULTS, timeout_ms: int = 10_000) -> list[str]:
    """Absolute URLs of the pages listed in a visible search result list, best first.

    Waits until the list answers the query (its count line is not a prompt) and has stopped
    changing: Material re-renders it for every key typed, and its search worker answers
    asynchronously. A list that says "Nessun documento trovato" gives [].
    """
    import time

    read = """(container) => {
        const box = document.querySelector(container);
        if (!box || box.offsetParent === null) return null;
        const meta = box.querySelector(".md-search-result__meta").textContent.trim();
        const links = [...box.querySelectorAll(".md-search-result__item > .md-search-result__link")]
            .map(a => a.href.split("?")[0].split("#")[0]);
        return {meta, links};
    }"""
    prompts = {"", "Inizializza la ricerca", "Scrivi per iniziare a cercare"}
    deadline = time.monotonic() + timeout_ms / 1000
    previous = None
    while time.monotonic() < deadline:
        current = page.evaluate(read, container)
        if current and current["meta"] not in prompts and current == previous:
            return current["links"]
        previous = current
        page.wait_for_timeout(250)
    raise AssertionError(f"no stable search results in {container} after {timeout_ms} ms (last: {previous})")


def folder_size(path: Path) -> int:
    """Bytes of the files under ``path`` (0 when it does not exist)."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def make_project(target: Path, docs: bool = True) -> Path:
    """What a writer's checkout holds, copied to ``target`` (no git history): mkdocs.yml,
    docs/ (unless ``docs`` is false: the caller writes its own), overrides/, the intake's
    form definitions that articles' ticket_form names and the MkDocs hook that renders the
    rule tables."""
    import shutil

    target.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "mkdocs.yml", target)
    if docs:
        shutil.copytree(ROOT / "docs", target / "docs")
    shutil.copytree(ROOT / "overrides", target / "overrides")
    shutil.copytree(ROOT / "intake" / "forms", target / "intake" / "forms")
    shutil.copytree(ROOT / "intake" / "mkdocs_hooks", target / "intake" / "mkdocs_hooks")
    return target


# ---------------------------------------------------------------------------
# The intake's search step (issue 6): every form is reached through it.

SEARCH_RECORD = r'name="ricerca" value="([^"]+)"'


def form_url(intake_url: str, tipo: str, query: str = "la posta non arriva") -> str:
    """The address of form ``tipo`` with a fresh search token, as the search step gives it.

    Fetched over HTTP as a browser would: ``GET /?q=...``, then "Continua con la richiesta"
    for ``tipo`` (``GET /apri``), whose redirect is the form's address.
    """
    import re
    import urllib.error
    import urllib.request
    from urllib.parse import urlencode, urljoin

    base = intake_url.rstrip("/") + "/"
    with urllib.request.urlopen(base + "?" + urlencode({"q": query}), timeout=30) as response:
        record = re.search(SEARCH_RECORD, response.read().decode("utf-8")).group(1)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    try:
        urllib.request.build_opener(NoRedirect).open(base + "apri?" + urlencode({"ricerca": record, "tipo": tipo}), timeout=30)
    except urllib.error.HTTPError as answer:
        assert answer.code == 303, answer.code
        return urljoin(base, answer.headers["Location"])
    raise AssertionError("the search step did not lead to a form")
