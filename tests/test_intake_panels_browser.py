"""The rule panels in a real browser (Debian's Chromium via Playwright) against a real WSGI server:
live updates with the script, the "Calcola" button without it, accessibility of both, and
Enter in a text box, which sends the form with or without the script."""

from __future__ import annotations

from datetime import timedelta

import pytest

from intake.rules import check_plan, format_date
from intake.validators import today

from .helpers import PHONE, assert_accessible, assert_fits_a_phone, form_url, send_buttons_shown


def total(page) -> str:
    return page.locator("#stima_costi-live .panel-strong dd").inner_text()


def test_estimate_follows_the_answers_live(page, live_intake):
    page.goto(form_url(live_intake, "extracontrattuale"))
    live = page.locator("#stima_costi-live")
    assert live.get_attribute("aria-live") == "polite"
    assert "La stima dei costi compare qui" in live.inner_text()
    # the script computes as the customer answers: the no-script button is gone
    assert page.get_by_role("button", name="Calcola la stima").count() == 0

    page.get_by_label("In fascia ordinaria").check()
    page.get_by_label("Normale: presa in carico entro 8 ore").check()
    page.get_by_label("Sistemista junior").check()
    page.fill("#durata_minuti", "31")
    page.wait_for_function("() => document.querySelector('#stima_costi-live .panel-strong dd')?.textContent === '€ 54,00 + IVA'")
    assert "entro 8h" in live.inner_text()
    assert live.locator(".panel-warning").count() == 0

    page.get_by_label("Pianificato di notte o in un giorno festivo").check()
    page.get_by_label("Sistemista senior").check()
    page.fill("#durata_ore", "3")
    page.fill("#durata_minuti", "10")
    page.wait_for_function("() => document.querySelector('#stima_costi-live .panel-strong dd')?.textContent === '€ 396,00 + IVA'")
    assert "preventivo da approvare" in live.locator(".panel-warning").inner_text()
    assert_accessible(page)

    page.get_by_label("Urgente, di notte o in un giorno festivo").check()
    page.fill("#durata_ore", "")
    page.fill("#durata_minuti", "45")
    page.wait_for_function("() => document.querySelector('#stima_costi-live .panel-strong dd')?.textContent === '€ 201,00 + IVA'")
    assert live.locator(".panel-warning").count() == 0
    assert "entro 1h" in live.inner_text()


def test_estimate_without_javascript_keeps_everything_typed(browser, live_intake):
    context = browser.new_context(locale="it-IT", java_script_enabled=False)
    page = context.new_page()
    page.goto(form_url(live_intake, "extracontrattuale"))
    page.get_by_label("Server virtuale (CronusVPS)").check()
    page.fill("#server", "srv1.example.it")
    page.get_by_label("Pianificato di notte o in un giorno festivo").check()
    page.get_by_label("Sistemista senior").check()
    page.fill("#durata_ore", "3")
    page.fill("#durata_minuti", "10")
    page.fill("#oggetto", "aiuto")  # generic: refused on sending, not now
    page.fill("#descrizione", "Aggiornamento di PHP alla versione 8.3 con il minimo fermo possibile.")
    page.get_by_role("button", name="Calcola la stima").click()
    page.wait_for_load_state()

    assert page.url.split("?")[0].endswith("/modulo/extracontrattuale")
    assert total(page) == "€ 396,00 + IVA"
    assert "preventivo da approvare" in page.locator("#stima_costi-live .panel-warning").inner_text()
    assert "La richiesta non è ancora stata inviata" in page.locator("#stima_costi-live").inner_text()
    assert page.evaluate("document.activeElement.id") == "stima_costi-live"  # autofocus, no script
    assert page.locator("#error-summary").count() == 0
    assert page.get_by_label("Server virtuale (CronusVPS)").is_checked()
    assert page.get_by_label("Sistemista senior").is_checked()
    assert page.input_value("#server") == "srv1.example.it"
    assert page.input_value("#durata_ore") == "3" and page.input_value("#durata_minuti") == "10"
    assert page.input_value("#oggetto") == "aiuto"
    assert page.input_value("#descrizione").startswith("Aggiornamento di PHP")
    context.close()


def test_the_page_the_calcola_button_returns_is_accessible(page, live_intake):
    """axe needs the script, which removes the button: send the form as the button would."""
    page.goto(form_url(live_intake, "extracontrattuale"))
    page.get_by_label("In fascia ordinaria").check()
    page.get_by_label("Urgente: presa in carico entro 1 ora").check()
    page.get_by_label("Sistemista junior").check()
    page.fill("#durata_minuti", "31")
    page.fill("#durata_ore", "x")  # an error next to a field the panel reads
    page.evaluate(
        """() => {
            const form = document.querySelector("form[data-form]");
            const button = Object.assign(document.createElement("input"), {type: "hidden", name: "calcola", value: "stima_costi"});
            form.appendChild(button);
            form.submit();
        }"""
    )
    page.wait_for_load_state()
    assert "Scrivi un numero intero" in page.locator("#durata_ore-error").inner_text()
    assert "La stima dei costi compare qui" in page.locator("#stima_costi-live").inner_text()
    assert_accessible(page)


def test_migration_dates_and_the_15_day_rule_live(browser, live_intake):
    context = browser.new_context(locale="it-IT", viewport=PHONE)
    page = context.new_page()
    x = today() - timedelta(days=3)
    page.goto(form_url(live_intake, "migrazione"))
    page.fill("#data_comunicazione", x.isoformat())
    page.get_by_label("Assistenza basic").check()
    live = page.locator("#linea_temporale-live")
    x15 = f"Giorno X+15: {format_date(x + timedelta(days=15))}"
    page.wait_for_function(f"() => document.querySelector('#linea_temporale-live')?.textContent.includes({x15!r})")
    assert f"Giorno X+31: {format_date(x + timedelta(days=31))}" in live.inner_text()

    page.fill("#data_switch", (x + timedelta(days=8)).isoformat())
    error = page.locator("#data_switch-error")
    error.wait_for()
    assert "è ad appena 8 giorni dalla comunicazione" in error.inner_text()
    assert page.get_attribute("#data_switch", "aria-invalid") == "true"
    assert "data_switch-error" in page.get_attribute("#data_switch", "aria-describedby")
    assert "preavviso minimo di 15 giorni solari" in live.locator(".panel-warning").inner_text()
    assert_fits_a_phone(page)
    assert_accessible(page)

    page.fill("#data_switch", (x + timedelta(days=16)).isoformat())
    error.wait_for(state="detached")
    assert page.get_attribute("#data_switch", "aria-invalid") is None
    page.wait_for_function("() => !document.querySelector('#linea_temporale-live .panel-warning')")
    assert f"Giorno X+16: {format_date(x + timedelta(days=16))}" in live.inner_text()
    context.close()


@pytest.mark.parametrize(("plan", "label"), [("managed", "Assistenza managed (full management)")])
def test_an_ineligible_plan_is_refused_live_with_the_reason(page, live_intake, plan, label):
    page.goto(form_url(live_intake, "commerciale"))
    region = page.locator("#piani_disponibili-panel")
    assert not region.is_visible()  # only with the plan questions
    page.get_by_label("Attivazione o cambio del piano di assistenza").check()
    assert region.is_visible()
    page.get_by_label("Server in colocation").check()
    page.get_by_label("Linux").check()
    page.wait_for_function("() => document.querySelector('#piani_disponibili-live .panel-strong dd')?.textContent === 'assistenza basic'")
    page.locator("#piano_richiesto-field").get_by_label(label).check()
    error = page.locator("#piano_richiesto-error")
    error.wait_for()
    assert error.inner_text().endswith(check_plan(plan, "colocation", "linux").reason)
    assert_accessible(page)
    page.locator("#piano_richiesto-field").get_by_label("Assistenza basic").check()
    error.wait_for(state="detached")


def fill_the_estimate(page) -> None:
    """The answers the panel reads, and one text field with its own answer."""
    page.get_by_label("Server virtuale (CronusVPS)").check()
    page.get_by_label("In fascia ordinaria").check()
    page.get_by_label("Normale: presa in carico entro 8 ore").check()
    page.get_by_label("Sistemista junior").check()
    page.fill("#durata_minuti", "31")
    page.fill("#server", "srv1.example.it")


def assert_sent_with_errors(page) -> None:
    """The form was sent, not previewed: the server's validation answered."""
    assert page.url.split("?")[0].endswith("/modulo/extracontrattuale")
    assert "La richiesta non è ancora stata inviata" not in page.locator("#stima_costi-live").inner_text()
    assert "problemi da correggere" in page.locator("#error-summary").inner_text()
    assert "Compila il campo «Nome e cognome»." in page.locator("#error-summary").inner_text()
    assert page.input_value("#server") == "srv1.example.it"  # nothing typed is lost


def fill_the_rest(page) -> None:
    page.fill("#oggetto", "Aggiornamento PHP 8.3 su srv1.example.it")
    page.fill("#descrizione", "Aggiornamento di PHP alla versione 8.3 con il minimo fermo possibile.")
    page.get_by_label("Normale", exact=True).check()
    page.fill("#email", "mario.rossi@example.it")
    page.fill("#nome", "Mario Rossi")


def test_enter_without_javascript_sends_the_form_not_the_preview(browser, live_intake):
    """Enter in a text box sends the form as "Invia la richiesta" does, though a panel's
    "Calcola" button comes first in the page; clicking "Calcola" still shows the preview."""
    context = browser.new_context(locale="it-IT", java_script_enabled=False)
    page = context.new_page()
    page.goto(form_url(live_intake, "extracontrattuale"))
    assert page.get_by_role("button", name="Calcola la stima").is_visible()
    assert send_buttons_shown(page) == (1, 1)
    fill_the_estimate(page)
    page.press("#server", "Enter")
    page.wait_for_load_state()
    assert_sent_with_errors(page)
    assert send_buttons_shown(page) == (1, 1)

    page.get_by_role("button", name="Calcola la stima").click()
    page.wait_for_load_state()
    assert "La richiesta non è ancora stata inviata" in page.locator("#stima_costi-live").inner_text()
    assert total(page) == "€ 54,00 + IVA"
    assert page.locator("#error-summary").count() == 0

    fill_the_rest(page)
    page.press("#nome", "Enter")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Richiesta inviata"
    assert "€ 54,00 + IVA" in page.locator(".summary").inner_text()
    context.close()


def test_enter_with_javascript_sends_the_form(page, live_intake):
    page.goto(form_url(live_intake, "extracontrattuale"))
    assert send_buttons_shown(page) == (1, 1)
    fill_the_estimate(page)
    page.wait_for_function("() => document.querySelector('#stima_costi-live .panel-strong dd')?.textContent === '€ 54,00 + IVA'")
    page.press("#server", "Enter")
    page.wait_for_load_state()
    assert_sent_with_errors(page)

    fill_the_rest(page)
    page.press("#durata_minuti", "Enter")  # a field the panel reads
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Richiesta inviata"
