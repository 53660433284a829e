"""The site's search box asks the intake's JSON endpoint first (assets/javascripts/intake-search.js).

The real endpoint comes with the intake (issue 6). Here a tiny real HTTP server on 127.0.0.1,
on another port (so another origin, with CORS headers), stands in for it with fixed answers,
only to exercise the browser side: results shown in Material's search dialog, untrusted
fields escaped, links resolved under the site's sub-path, debounce, stale answers dropped,
and the silent fallback to the built-in search on every kind of failure.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from .helpers import BUILTIN_RESULTS, INTAKE_RESULTS, SITE_PREFIX, SITE_URL, mkdocs_build, search_results, serve_directory

EMAIL = "email/come-richiedere-assistenza-servizi-email/"
TARIFFS = "server-dedicati/assistenza-extracontrattuale-server-dedicati-server-virtuali-colocation/"
MIGRATION = "server-dedicati/migrazione-programmata-server-dedicati/"


def result(url: str, title: str, snippet: str = "", score: float = 1.0) -> dict:
    slug = url.rstrip("/").rsplit("/", 1)[-1]
    return {"title": title, "url": url, "slug": slug, "summary": f"Riassunto di {title}", "snippet": snippet, "score": score}


# An answer that ranks on purpose differently from the built-in search ("posta non arriva"
# finds the e-mail article first there), carries markup in every field, and links that
# must never be followed.
HOSTILE = [
    result(
        TARIFFS,
        "Tariffe degli interventi",
        'la <mark>posta</mark> &amp; altro <img src="x" onerror="window.__pwned=1">'
        '<script>window.__pwned=2</script><b>grassetto</b> <mark><i>arriva</i></mark>',
        9.5,
    ),
    result(EMAIL, '<img src="x" onerror="window.__pwned=3">Posta che non arriva', "", 7.0),
    result("https://evil.example/phish/", "Fuori dal sito", "", 6.0),
    result("javascript:window.__pwned=4", "Codice", "", 5.0),
    result("//evil.example/x/", "Altro host", "", 4.0),
]


class FakeIntake:
    """The intake's GET /richiesta/api/cerca, answering as ``mode`` says."""

    def __init__(self):
        self.mode = "json"  # json | error | slow | nocors | notjson | drop
        self.answers: dict[str, list[dict]] = {}
        self.default: list[dict] = HOSTILE
        self.delays: dict[str, float] = {}
        self.requests: list[dict] = []
        self.site_origin = ""

    def handler(self):
        intake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                url = urlsplit(self.path)
                params = {k: v[0] for k, v in parse_qs(url.query).items()}
                intake.requests.append({"path": url.path, "origin": self.headers.get("Origin"), **params})
                query = params.get("q", "")
                time.sleep(intake.delays.get(query, 0))
                if intake.mode == "drop":
                    self.close_connection = True
                    return  # no answer at all: the browser sees a network error
                if intake.mode == "slow":
                    time.sleep(3)  # longer than the page waits
                if intake.mode == "error":
                    return self.answer(500, "text/plain", b"errore interno")
                if intake.mode == "notjson":
                    return self.answer(200, "text/html", b"<!doctype html><p>Manutenzione</p>")
                body = json.dumps({"query": query, "results": intake.answers.get(query, intake.default)})
                self.answer(200, "application/json", body.encode(), cors=intake.mode != "nocors")

            def answer(self, status, content_type, body, cors=True):
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    if cors:
                        self.send_header("Access-Control-Allow-Origin", intake.site_origin)
                        self.send_header("Vary", "Origin")
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the page gave up on this request (stale or timed out)

        return Handler


@pytest.fixture(scope="module")
def intake():
    fake = FakeIntake()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), fake.handler())
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/richiesta/"
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def site_with_intake(intake, tmp_path_factory):
    """The site built with KB_INTAKE_URL pointing at the fake intake, served under the sub-path."""
    site = tmp_path_factory.mktemp("with-intake") / "site"
    mkdocs_build(site, KB_SITE_URL=SITE_URL, KB_INTAKE_URL=intake.url)
    with serve_directory(site, SITE_PREFIX) as base:
        intake.site_origin = base[: -len(SITE_PREFIX)]
        yield base


@pytest.fixture
def fresh(intake):
    intake.mode = "json"
    intake.answers, intake.delays, intake.default = {}, {}, HOSTILE
    intake.requests.clear()
    return intake


def type_query(page, base, text: str) -> None:
    page.goto(base)
    page.click("#kb-search-entry-q")
    page.keyboard.type(text)


COUNT_REQUESTS = """
    window.__intakeRequests = 0;
    const fetch = window.fetch;
    window.fetch = function (url, options) {
        if (String(url).includes("/api/cerca")) window.__intakeRequests += 1;
        return fetch.call(this, url, options);
    };
"""


def test_intake_results_replace_the_builtin_list(page, site_with_intake, fresh):
    page.add_init_script(COUNT_REQUESTS)
    type_query(page, site_with_intake, "posta non arriva")
    # Only pages of this site, in the intake's order, resolved under the sub-path.
    assert search_results(page, INTAKE_RESULTS) == [site_with_intake + TARIFFS, site_with_intake + EMAIL]
    assert page.locator(BUILTIN_RESULTS).is_hidden()
    assert page.locator(INTAKE_RESULTS + " .md-search-result__meta").inner_text() == "2 documenti trovati"
    # One request for the whole text, not one per key (debounced), cross-origin, with the
    # documented parameters.
    assert page.evaluate("window.__intakeRequests") <= 2
    assert fresh.requests[-1] == {
        "path": "/richiesta/api/cerca",
        "origin": fresh.site_origin,
        "q": "posta non arriva",
        "limit": "8",
    }


def test_intake_fields_are_text_and_only_mark_survives(page, site_with_intake, fresh):
    type_query(page, site_with_intake, "posta non arriva")
    search_results(page, INTAKE_RESULTS)
    panel = page.locator(INTAKE_RESULTS)
    titles = panel.locator("h1").all_inner_texts()
    assert titles == ["Tariffe degli interventi", '<img src="x" onerror="window.__pwned=3">Posta che non arriva']
    snippet = panel.locator("article p").first
    assert snippet.inner_text() == "la posta & altro grassetto arriva"
    assert snippet.locator("mark").all_inner_texts() == ["posta", "arriva"]
    assert panel.locator("img, script, b, i").count() == 0
    page.wait_for_timeout(300)
    assert page.evaluate("window.__pwned") is None


def test_enter_and_click_open_the_intakes_best_answer(page, site_with_intake, fresh):
    type_query(page, site_with_intake, "posta non arriva")
    page.keyboard.press("Enter")  # before or after the answer: the intake's first result
    page.wait_for_url(site_with_intake + TARIFFS, timeout=5_000)

    type_query(page, site_with_intake, "posta non arriva")
    search_results(page, INTAKE_RESULTS)
    page.locator(INTAKE_RESULTS + " .md-search-result__link").nth(1).click()
    page.wait_for_url(site_with_intake + EMAIL, timeout=5_000)


def test_arrow_keys_move_through_the_intake_results(page, site_with_intake, fresh):
    type_query(page, site_with_intake, "posta non arriva")
    search_results(page, INTAKE_RESULTS)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.href") == site_with_intake + EMAIL
    page.keyboard.press("ArrowUp")
    assert page.evaluate("document.activeElement.href") == site_with_intake + TARIFFS


def test_a_stale_answer_never_replaces_a_newer_one(page, site_with_intake, fresh):
    fresh.answers = {
        "migrazione": [result(MIGRATION, "Migrazione")],
        "migrazione server": [result(TARIFFS, "Tariffe")],
    }
    fresh.delays = {"migrazione": 1.0}  # the first answer comes late, still within the timeout
    type_query(page, site_with_intake, "migrazione")
    page.wait_for_timeout(500)  # its request is on its way
    page.keyboard.type(" server")
    assert search_results(page, INTAKE_RESULTS) == [site_with_intake + TARIFFS]
    page.wait_for_timeout(1200)  # the late answer arrives and must be dropped
    assert search_results(page, INTAKE_RESULTS) == [site_with_intake + TARIFFS]


@pytest.mark.parametrize("mode", ["error", "slow", "nocors", "notjson", "drop"])
def test_falls_back_to_the_builtin_search_silently(page, site_with_intake, fresh, mode):
    fresh.mode = mode
    type_query(page, site_with_intake, "posta non arriva")
    results = search_results(page, BUILTIN_RESULTS, timeout_ms=8_000)
    assert results[0] == site_with_intake + EMAIL
    assert page.locator(INTAKE_RESULTS).is_hidden()
    # The intake is left alone for a while: the next search asks nobody.
    asked = len(fresh.requests)
    page.keyboard.press("Control+A")
    page.keyboard.type("Thunderbird")
    assert search_results(page, BUILTIN_RESULTS)[0] == site_with_intake + EMAIL
    assert len(fresh.requests) == asked


def test_an_empty_answer_says_so(page, site_with_intake, fresh):
    fresh.default = []
    type_query(page, site_with_intake, "zzzz")
    assert search_results(page, INTAKE_RESULTS) == []
    assert page.locator(INTAKE_RESULTS + " .md-search-result__meta").inner_text() == "Nessun documento trovato"


def test_a_failed_intake_is_not_asked_again_on_the_next_pages(page, site_with_intake, fresh):
    fresh.mode = "error"
    type_query(page, site_with_intake, "posta non arriva")
    search_results(page, BUILTIN_RESULTS)
    asked = len(fresh.requests)
    page.goto(site_with_intake + "server-dedicati/")  # a new page of the same visit
    page.click("[data-md-component=search-query]")
    page.keyboard.type("migrazione")
    assert site_with_intake + MIGRATION in search_results(page, BUILTIN_RESULTS)
    assert len(fresh.requests) == asked
