"""Test helpers shared by several test modules: a static HTTP server and the browser."""

from __future__ import annotations

import functools
import http.server
import re
import sys
import threading
import urllib.request
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
KB = Path(sys.executable).with_name("kb")  # the `kb` console script of the installed project
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output readable
        pass


@contextmanager
def _serving(server):
    """Run ``server`` (a socketserver bound to a free port) in a thread; yields its port."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


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
    with _serving(http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)) as port:
        yield f"http://127.0.0.1:{port}{prefix}"


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


def assert_accessible(page) -> None:
    """axe-core finds no serious or critical violation on the current page."""
    violations = run_axe(page)
    assert violations == [], f"{page.url}\n{describe_violations(violations)}"


PHONE = {"width": 375, "height": 812}  # a phone's viewport


def send_buttons_shown(page) -> tuple[int, int]:
    """How many "Invia la richiesta" buttons the customer sees on the current page, and how
    many a screen reader announces. A form has one of each: its hidden default button
    (intake/templates/forms/form.html) is neither seen nor announced."""
    seen = page.locator("button:visible", has_text="Invia la richiesta").count()
    announced = page.get_by_role("button", name="Invia la richiesta").count()
    return seen, announced


def assert_fits_a_phone(page) -> None:
    """The page scrolls only vertically: nothing wider than the window."""
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{page.url}: {widths}"


@contextmanager
def serve_app(app):
    """Run a WSGI ``app`` on 127.0.0.1 (random port) with a real threaded server.

    Yields the base URL, e.g. ``http://127.0.0.1:41234``.
    """
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *args, **kwargs):  # keep test output readable
            pass

    with _serving(make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)) as port:
        yield f"http://127.0.0.1:{port}"


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


def build_environment(**env: str) -> dict[str, str]:
    """The environment of a build subprocess: this one without its KB_* variables (``env``
    sets those the test wants), and without Material's end-of-life banner."""
    import os

    environment = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    environment.update(env, NO_MKDOCS_2_WARNING="1")
    return environment


def mkdocs_build(site_dir: Path, config_file: Path = ROOT / "mkdocs.yml", **env: str) -> None:
    """``mkdocs build --strict`` of ``config_file`` into ``site_dir``; ``env`` sets KB_* variables.

    A subprocess: mkdocs.yml reads KB_SITE_URL and KB_INTAKE_URL from the environment when
    it is loaded, and the git-date plugin forks a process pool, which is best kept away from
    the threads of the test process.
    """
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-f", str(config_file), "-d", str(site_dir)],
        env=build_environment(**env),
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


# An article a writer adds to a project copy: one word ("zebrati") no other article uses.
NEW_ARTICLE = """---
title: Rinnovo dei certificati zebrati
summary: Un articolo nuovo con una parola che nessun altro usa.
category: assistenza
---

I certificati zebrati si rinnovano da soli.
"""


def snapshot(site: Path) -> dict[str, str]:
    """Every file of a built site with the SHA-256 of its content."""
    import hashlib

    return {str(p.relative_to(site)): hashlib.sha256(p.read_bytes()).hexdigest() for p in site.rglob("*") if p.is_file()}


def leftovers(project: Path) -> list[str]:
    """Temporary or staged folders a build may leave next to site/ and the index."""
    return sorted(p.name for folder in (project, project / "build") for p in folder.iterdir() if p.name.startswith("."))


# ---------------------------------------------------------------------------
# What the intake stored, read back from its database.


def count(app, model, **where) -> int:
    """Rows of ``model`` in ``app``'s database (those whose columns equal ``where``)."""
    from sqlalchemy import func, select

    with app.extensions["intake.db"].session() as session:
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return session.scalar(query)


def stored(app) -> dict[str, int]:
    """What a sent form leaves behind: tickets, attachments, outbox e-mails, "ticket" events."""
    from sqlalchemy import func, select

    from intake.db import Attachment, Event, OutboxMessage, Ticket

    with app.extensions["intake.db"].session() as session:
        counts = {m.__tablename__: session.scalar(select(func.count()).select_from(m)) for m in (Ticket, Attachment, OutboxMessage)}
        counts["ticket events"] = session.scalar(select(func.count()).select_from(Event).where(Event.kind == "ticket"))
    return counts


NOTHING = {"tickets": 0, "attachments": 0, "outbox": 0, "ticket events": 0}  # stored() of a refused form


def refuse_commits(database) -> None:
    """From now on every ticket's transaction fails in the database itself (SQLite or PostgreSQL),
    at its last insert (the analytics event): "disk full"."""
    with database.engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse_events BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'disk full'); END"
            )
        else:
            conn.exec_driver_sql(
                "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$ LANGUAGE plpgsql"
            )
            conn.exec_driver_sql("CREATE TRIGGER refuse_events BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION refuse()")


def wait_for(condition, timeout: float = 15.0) -> None:
    """Return once ``condition()`` is true (polled every 50 ms); fail after ``timeout`` seconds.
    For what a background thread or process does later (the outbox sender, a server)."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def wait_for_files(folder: Path, count: int, timeout: float = 20.0) -> list[Path]:
    """The e-mails the file transport wrote to ``folder`` (``*.eml``), once there are ``count``
    of them or ``timeout`` seconds have passed: the background sender writes them later."""
    import time

    deadline = time.monotonic() + timeout
    while len(list(folder.glob("*.eml"))) < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return sorted(folder.glob("*.eml"))


# ---------------------------------------------------------------------------
# The intake's search step (issue 6): every form is reached through it.

SEARCH_RECORD = re.compile(r'name="ricerca" value="([^"]+)"')  # the search step's record, for /apri


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """A urllib handler that leaves redirects to the caller (raised as HTTPError 3xx)."""

    def redirect_request(self, *args, **kwargs):
        return None


def form_url(intake_url: str, tipo: str, query: str = "la posta non arriva") -> str:
    """The address of form ``tipo`` with a fresh search token, as the search step gives it.

    Fetched over HTTP as a browser would: ``GET /?q=...``, then "Continua con la richiesta"
    for ``tipo`` (``GET /apri``), whose redirect is the form's address.
    """
    import urllib.error
    from urllib.parse import urlencode, urljoin

    base = intake_url.rstrip("/") + "/"
    with urllib.request.urlopen(base + "?" + urlencode({"q": query}), timeout=30) as response:
        record = SEARCH_RECORD.search(response.read().decode("utf-8")).group(1)

    try:
        urllib.request.build_opener(NoRedirect).open(base + "apri?" + urlencode({"ricerca": record, "tipo": tipo}), timeout=30)
    except urllib.error.HTTPError as answer:
        assert answer.code == 303, answer.code
        return urljoin(base, answer.headers["Location"])
    raise AssertionError("the search step did not lead to a form")
