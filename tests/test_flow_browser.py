"""The whole customer flow in a real browser, with the site and the intake served together.

One real HTTP server on 127.0.0.1 serves what ``make run`` serves (``intake.serve``): the
built site (here under ``/kb/``, as a static host may publish it) and the intake at
``/richiesta/`` (its default ``extra.intake_url``), the intake with CSRF on, a real SQLite
file and file mail delivered by its background sender. Also: the site's search box gives
the same best answer as the search step, and falls back to the built-in search when the
intake is not there (issue 4, "one answer, whichever search box").
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit
from urllib.request import urlopen

import pytest
import yaml
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from click.testing import CliRunner
from sqlalchemy import select

from intake import create_app
from intake.db import Event, Ticket
from intake.serve import site_and_intake
from intake.validators import today
from kb_build.cli import cli

from .conftest import intake_test_config
from .helpers import BUILTIN_RESULTS, INTAKE_RESULTS, ROOT, assert_accessible, assert_fits_a_phone, search_results, serve_app, wait_for_files

EMAIL_ARTICLE = "come-richiedere-assistenza-servizi-email"
EMAIL_TITLE = "come richiedere assistenza per i servizi email"
QUERIES = yaml.safe_load((ROOT / "tests" / "relevance" / "queries.yaml").read_text(encoding="utf-8"))


@dataclass
class Together:
    base: str  # http://127.0.0.1:PORT
    app: object
    instance: Path

    @property
    def site(self) -> str:
        return self.base + "/kb/"

    @property
    def intake(self) -> str:
        return self.base + "/richiesta/"

    def events(self, kind: str) -> list[Event]:
        with self.app.extensions["intake.db"].session() as session:
            return list(session.scalars(select(Event).where(Event.kind == kind).order_by(Event.id)))

    def tickets(self) -> list[Ticket]:
        with self.app.extensions["intake.db"].session() as session:
            return list(session.scalars(select(Ticket)))


@pytest.fixture
def together(built_site, kb_index, tmp_path):
    """The site at /kb/ and a fresh intake (own instance folder) at /richiesta/, on one server."""
    config = intake_test_config(
        tmp_path, KB_INDEX_DIR=str(kb_index), WTF_CSRF_ENABLED=True, KB_SITE_URL="/kb/", MAIL_BACKGROUND_SENDER=True
    )
    config["TESTING"] = False
    app = create_app(config)
    with serve_app(site_and_intake(built_site, app, site_prefix="/kb/")) as base:
        yield Together(base, app, Path(config["INSTANCE_PATH"]))
    app.extensions["intake.sender"].stop()
    app.extensions["intake.db"].dispose()


def describe(page, text: str) -> None:
    """Type the problem in the search step and search."""
    page.fill("#q", text)
    page.get_by_role("button", name="Cerca").click()
    page.wait_for_selector("#risultati-titolo")


def fill_email_form(page) -> None:
    """A complete e-mail problem (the subject keeps what the search step prefilled unless changed)."""
    page.select_option("#servizio", "cronusmail")
    page.fill("#caselle", "info@example.it")
    page.get_by_label("Compare un messaggio d’errore").check()
    page.fill("#messaggio_errore", "550 5.1.1 User unknown")
    page.get_by_label("In trasmissione").check()
    page.get_by_label("Sì, il server in uscita è il vostro").check()
    page.get_by_label("No, succede con tutti gli indirizzi").check()
    page.get_by_label("Solo con un programma di posta").check()
    page.fill("#client_nome", "Thunderbird")
    page.fill("#client_versione", "115.3")
    page.fill("#msg_mittente", "info@example.it")
    page.fill("#msg_destinatario", "cliente@gmail.com")
    page.fill("#msg_oggetto", "Preventivo di marzo")
    page.fill("#msg_data", (today() - timedelta(days=1)).isoformat())
    page.fill("#msg_ora", "10:30")
    page.fill("#nome", "Mario Rossi")
    page.fill("#email", "mario.rossi@example.it")


def test_search_read_an_article_go_back_and_open_a_ticket(page, together):
    page.goto(together.intake)
    assert page.locator("h1").inner_text() == "Descrivi il problema"
    assert page.evaluate("document.activeElement.id") == "q"
    assert_accessible(page)

    describe(page, "la posta non arriva")
    first = page.locator(".result").first
    assert first.get_attribute("data-slug") == EMAIL_ARTICLE
    assert first.locator(".result-snippet mark").count() > 0
    assert_accessible(page)

    # Read the article on the site, then come back to the results.
    first.locator(".result-title a").click()
    page.wait_for_url(together.site + f"email/{EMAIL_ARTICLE}/")
    assert page.locator("article h1").inner_text().strip().lower() == EMAIL_TITLE
    page.go_back()
    page.wait_for_selector(".result")
    assert page.locator(".result").first.get_attribute("data-slug") == EMAIL_ARTICLE

    # "No, apri una richiesta": the article's form, the subject from the search.
    page.locator(".result").first.get_by_role("link", name=re.compile("^No, apri una richiesta")).click()
    page.wait_for_url(re.compile(r"/richiesta/modulo/email\?token="))
    assert page.input_value("#oggetto") == "la posta non arriva"
    assert "Hai cercato «la posta non arriva»." in page.locator(".search-context").inner_text()

    # Typing the subject suggests articles again.
    page.fill("#oggetto", "Errore 550 inviando la posta verso Gmail")
    suggestion = page.locator("#suggerimenti li a").first
    suggestion.wait_for(state="visible", timeout=5_000)
    assert page.locator("#suggerimenti").is_visible()
    assert "/richiesta/vai/" in suggestion.get_attribute("href") and suggestion.get_attribute("target") == "_blank"
    assert_accessible(page)

    fill_email_form(page)
    page.get_by_role("button", name="Invia la richiesta").click()
    page.wait_for_url(re.compile(r"/richiesta/ricevuta/"))
    ticket_id = page.locator("[data-ticket-id]").inner_text()
    assert re.fullmatch(r"FPL-\d{3}-\d{5}", ticket_id)
    assert page.locator("h1").inner_text() == "Richiesta inviata"
    facts = page.locator(".ticket-facts").inner_text()
    assert "Assistenza Tecnica" in facts and "Il ticket sarà preso in esame" in facts
    assert_accessible(page)
    page.set_viewport_size({"width": 375, "height": 812})
    assert_fits_a_phone(page)

    (ticket,) = together.tickets()
    assert (ticket.id, ticket.request_type, ticket.subject) == (ticket_id, "email", "Errore 550 inviando la posta verso Gmail")
    files = wait_for_files(together.instance / "mail", 2)
    assert len(files) == 2
    subjects = sorted(message_from_bytes(f.read_bytes(), policy=policy.default)["Subject"] for f in files)
    assert subjects == [
        f"[{ticket_id}] Abbiamo ricevuto la tua richiesta: Errore 550 inviando la posta verso Gmail",
        f"[{ticket_id}] Errore 550 inviando la posta verso Gmail",
    ]
    assert [e.article for e in together.events("click")] == [EMAIL_ARTICLE]


def test_apri_un_ticket_on_an_article_still_passes_through_the_search_step(page, together):
    page.goto(together.site + f"email/{EMAIL_ARTICLE}/")
    page.get_by_role("link", name="Apri un ticket").click()
    page.wait_for_url(re.compile(r"/richiesta/\?tipo=email&articolo="))
    lead = page.locator(".lead").inner_text()
    assert f"Hai letto «{EMAIL_TITLE}»" in lead
    assert_accessible(page)
    describe(page, "Thunderbird dice password errata")
    assert page.locator("#tipo-email").is_checked()  # the article's form, kept
    page.get_by_role("button", name="Continua con la richiesta").click()
    page.wait_for_url(re.compile(r"/richiesta/modulo/email\?token="))
    assert page.input_value("#oggetto") == "Thunderbird dice password errata"


def test_ha_risolto_ends_the_flow_without_a_ticket_on_a_phone(phone_page, together):
    page = phone_page
    page.goto(together.intake)
    assert_fits_a_phone(page)
    describe(page, "la posta non arriva")
    assert_fits_a_phone(page)
    page.locator(".result").first.get_by_role("button", name=re.compile("^Questo ha risolto il mio problema")).click()
    page.wait_for_url(re.compile(r"/richiesta/risolto\?articolo="))
    assert page.locator("h1").inner_text() == "Bene, problema risolto!"
    assert_fits_a_phone(page)
    assert_accessible(page)
    assert together.tickets() == []
    (deflection,) = together.events("deflection")
    assert (deflection.article, deflection.reason, deflection.query) == (EMAIL_ARTICLE, "risolto", "la posta non arriva")


def test_a_refused_form_shows_the_search_step_on_a_phone(phone_page, together):
    page = phone_page
    response = page.goto(together.intake + "modulo/email?token=modificato")
    assert response.status == 403
    assert page.locator("#rifiuto").is_visible()
    assert page.evaluate("document.activeElement.id") == "rifiuto"  # autofocus: read first
    assert page.locator("#q").is_visible()
    assert_fits_a_phone(page)
    assert_accessible(page)
    assert together.tickets() == []


def test_the_flow_works_without_javascript(browser, together):
    context = browser.new_context(locale="it-IT", java_script_enabled=False)
    page = context.new_page()
    page.goto(together.intake)
    describe(page, "fattura da pagare")
    page.get_by_label(re.compile("^Informazioni commerciali e amministrative")).check()
    page.get_by_role("button", name="Continua con la richiesta").click()
    page.wait_for_url(re.compile(r"/richiesta/modulo/commerciale\?token="))
    assert page.input_value("#oggetto") == "fattura da pagare"
    assert page.locator("#suggerimenti").is_hidden()  # only the script shows suggestions
    page.go_back()
    page.locator(".result").first.get_by_role("button", name=re.compile("^Questo ha risolto")).click()
    page.wait_for_url(re.compile(r"/risolto\?"))
    assert page.locator("h1").inner_text() == "Bene, problema risolto!"
    assert len(together.events("deflection")) == 1
    context.close()


def test_kb_report_on_the_events_of_the_real_flow(page, together):
    # 1. solved by an article
    page.goto(together.intake)
    describe(page, "la posta non arriva")
    page.locator(".result").first.get_by_role("button", name=re.compile("^Questo ha risolto")).click()
    page.wait_for_url(re.compile(r"/risolto\?"))
    # 2. an article opened
    page.goto(together.intake)
    describe(page, "migrazione del server dedicato")
    page.locator(".result-title a").first.click()
    page.wait_for_url(re.compile(r"/kb/server-dedicati/"))
    # 3. nothing found: a ticket
    page.goto(together.intake)
    describe(page, "zzqqxx parola inesistente")
    assert page.locator("#tipo-generico").is_checked()
    page.get_by_role("button", name="Continua con la richiesta").click()
    page.wait_for_url(re.compile(r"/modulo/generico\?token="))
    page.select_option("#servizio", "hosting-pro")
    page.fill("#dominio", "example.it")
    page.fill("#oggetto", "Pannello di controllo example.it irraggiungibile")
    page.fill("#descrizione", "Da stamattina il pannello risponde con un errore 502 a ogni accesso.")
    page.fill("#nome", "Mario Rossi")
    page.fill("#email", "mario.rossi@example.it")
    page.get_by_role("button", name="Invia la richiesta").click()
    page.wait_for_url(re.compile(r"/ricevuta/"))

    settings = together.app.extensions["intake.settings"]
    day = today().isoformat()
    result = CliRunner().invoke(
        cli, ["report", "--json", "--dal", day, "--al", day, "--instance", str(together.instance), "--database-url", settings.database_url]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["searches"], report["clicks"], report["deflections"], report["tickets"]) == (3, 1, 1, 1)
    assert report["deflection_rate"] == 0.5
    assert {q["query"] for q in report["top_queries"]} == {"la posta non arriva", "migrazione del server dedicato", "zzqqxx parola inesistente"}
    assert report["empty_queries"] == [{"query": "zzqqxx parola inesistente", "count": 1}]


# --- issue 4: one answer, whichever search box ------------------------------------------------------


def intake_best(together: Together, query: str) -> str | None:
    """The first article of the intake's search step for ``query`` (its results page, over HTTP)."""
    with urlopen(together.intake + "?" + urlencode({"q": query}), timeout=30) as response:
        found = re.search(r'<li class="result" data-slug="([^"]+)">', response.read().decode("utf-8"))
    return found.group(1) if found else None


def test_the_sites_search_box_gives_the_search_steps_best_answer(page, together, kb_articles):
    """Every public relevance query: the site box's first result is the search step's first result."""
    page.goto(together.site)
    page.click("#kb-search-entry-q")  # the home page's box opens Material's search dialog
    page.locator("[data-md-component=search-query]").wait_for(state="visible")
    first_link = f"{INTAKE_RESULTS} .md-search-result__item > .md-search-result__link"
    urls = {article.slug: article.url for article in kb_articles}
    differences = []
    for item in QUERIES:
        query = item["query"]
        best = intake_best(together, query)
        expected = together.site + urls[best] if best else None
        with page.expect_response(lambda r, q=query: "/richiesta/api/cerca?" in r.url and parse_qs(urlsplit(r.url).query).get("q") == [q]):
            page.keyboard.press("Control+A")
            page.keyboard.insert_text(query)  # one input event: typing each key is tested in test_site_intake_search
        try:  # the answer is rendered right after it arrives
            page.wait_for_function(
                "([selector, expected]) => { const a = document.querySelector(selector); return a && a.href === expected; }",
                arg=[first_link, expected],
                timeout=3_000,
            )
        except PlaywrightTimeout:
            shown = page.locator(first_link).first
            differences.append((query, shown.get_attribute("href") if shown.count() else None, expected))
    assert page.locator(INTAKE_RESULTS).is_visible() and page.locator(BUILTIN_RESULTS).is_hidden()  # never the fallback
    assert differences == []


def test_without_the_intake_the_site_uses_its_built_in_search(page, site_base):
    """The site alone on a static host (no /richiesta/ there): Material's own results show."""
    page.goto(site_base)
    page.click("#kb-search-entry-q")
    page.keyboard.type("posta non arriva")
    results = search_results(page, BUILTIN_RESULTS, timeout_ms=10_000)
    assert results[0] == site_base + f"email/{EMAIL_ARTICLE}/"
    assert page.locator(INTAKE_RESULTS).is_hidden()
