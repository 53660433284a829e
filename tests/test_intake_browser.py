"""The forms in a real browser (Debian's Chromium via Playwright) against a real WSGI server."""

from __future__ import annotations

from datetime import timedelta

import pytest

from intake.validators import today

from .helpers import PHONE, assert_accessible, assert_fits_a_phone, form_url, send_buttons_shown
from .intake_data import DEFINITIONS
from .samples import pdf_bytes

NAMES = list(DEFINITIONS)


@pytest.fixture
def phone(browser):
    context = browser.new_context(locale="it-IT", viewport=PHONE)
    page = context.new_page()
    yield page
    context.close()


def field_shown(page, name: str) -> bool:
    return page.locator(f"#{name}-field").is_visible()


def test_email_form_show_if_error_focus_and_values_kept(page, live_intake):
    page.goto(form_url(live_intake, "email"))
    # conditional questions start hidden once the script runs
    assert not field_shown(page, "messaggio_errore")
    assert not field_shown(page, "server_smtp")
    assert not page.locator(".condition-hint").first.is_visible()

    page.fill("#oggetto", "Errore 550 inviando da info@example.it verso Gmail")
    page.select_option("#servizio", "cronusmail")
    page.fill("#caselle", "info@example.it")
    page.get_by_label("Compare un messaggio d’errore").check()
    assert field_shown(page, "messaggio_errore")  # appears as the customer answers
    page.fill("#messaggio_errore", "550 5.1.1 User unknown")
    page.get_by_label("In trasmissione").check()
    assert field_shown(page, "server_smtp")
    page.get_by_label("Sì, il server in uscita è il vostro").check()
    assert not page.locator("#deflessione-smtp-esterno").is_visible()
    page.get_by_label("No, succede con tutti gli indirizzi").check()
    page.get_by_label("Solo con un programma di posta").check()
    page.fill("#client_nome", "Thunderbird")
    page.fill("#client_versione", "115.3")
    page.fill("#msg_mittente", "info@example.it")
    page.fill("#msg_destinatario", "cliente@gmail.com")
    page.fill("#msg_oggetto", "Preventivo di marzo")
    sent_on = (today() - timedelta(days=2)).isoformat()
    page.fill("#msg_data", sent_on)
    page.fill("#msg_ora", "10:30")
    page.fill("#email", "mario.rossi@example.it")
    # "nome" left empty on purpose
    page.get_by_role("button", name="Invia la richiesta").click()
    page.wait_for_load_state()

    summary = page.locator("#error-summary")
    assert summary.is_visible()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert summary.get_by_role("listitem").all_inner_texts() == ["Compila il campo «Nome e cognome»."]
    # the error sits next to the field, which points at it
    assert page.locator("#nome-error").inner_text().endswith("Compila il campo «Nome e cognome».")
    assert page.get_attribute("#nome", "aria-invalid") == "true"
    assert "nome-error" in page.get_attribute("#nome", "aria-describedby")
    # everything typed is still there, conditional fields included
    assert page.input_value("#oggetto") == "Errore 550 inviando da info@example.it verso Gmail"
    assert page.input_value("#servizio") == "cronusmail"
    assert page.input_value("#messaggio_errore") == "550 5.1.1 User unknown"
    assert page.get_by_label("In trasmissione").is_checked()
    assert field_shown(page, "server_smtp") and field_shown(page, "client_nome")
    assert page.input_value("#client_versione") == "115.3"
    assert page.input_value("#msg_data") == sent_on
    assert page.input_value("#msg_ora") == "10:30"
    assert page.input_value("#email") == "mario.rossi@example.it"
    # the summary link moves the focus to the field
    summary.get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.id") == "nome"

    page.fill("#nome", "Mario Rossi")
    page.get_by_role("button", name="Invia la richiesta").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Richiesta inviata"
    assert "Thunderbird" in page.locator(".summary").inner_text()


def test_foreign_smtp_server_shows_the_deflection_at_once_and_on_submit(page, live_intake):
    page.goto(form_url(live_intake, "email"))
    page.get_by_label("I messaggi non arrivano").check()
    page.get_by_label("In trasmissione").check()
    notice = page.locator("#deflessione-smtp-esterno")
    assert not notice.is_visible()
    page.get_by_label("No, uso il server SMTP di un altro fornitore").check()
    assert notice.is_visible()
    assert "provider di connettività" in notice.inner_text()
    page.get_by_role("button", name="Invia la richiesta").click()
    page.wait_for_url("**/deflessione/email/smtp-esterno?token=*")  # the way back to the form keeps the search
    assert page.locator("[data-deflection='smtp-esterno'] h1").inner_text() == "Rivolgiti a chi gestisce il tuo server SMTP"


def test_changing_an_answer_hides_the_dependent_chain(page, live_intake):
    page.goto(form_url(live_intake, "email"))
    page.get_by_label("I messaggi arrivano in ritardo").check()
    page.get_by_label("In trasmissione").check()
    assert field_shown(page, "server_smtp")
    page.get_by_label("Non riesco ad accedere alla casella").check()
    assert not field_shown(page, "direzione")
    assert not field_shown(page, "server_smtp")  # its controller is hidden, so it is too
    assert not field_shown(page, "msg_mittente")


def test_without_javascript_every_question_is_shown_with_its_condition(browser, live_intake):
    context = browser.new_context(locale="it-IT", java_script_enabled=False)
    page = context.new_page()
    page.goto(form_url(live_intake, "email"))
    assert field_shown(page, "server_smtp")
    hint = page.locator("#server_smtp-field .condition-hint")
    assert hint.inner_text() == "Solo se a «Il problema è in ricezione o in trasmissione?» hai risposto «In trasmissione (messaggi che invio)»."
    page.get_by_role("button", name="Invia la richiesta").click()
    page.wait_for_load_state()
    assert "problemi da correggere" in page.locator("#error-summary").inner_text()
    assert page.evaluate("document.activeElement.id") == "error-summary"  # autofocus, no script
    context.close()


def test_too_big_file_is_reported_before_the_upload(page, live_intake, tmp_path):
    big = tmp_path / "enorme.log"
    big.write_bytes(b"x" * (1024 * 1024 + 1))
    page.goto(form_url(live_intake, "generico"))
    page.fill("#oggetto", "Sito example.it lento da stamattina")
    page.set_input_files("#allegati", str(big))
    check = page.locator("#allegati-check")
    assert check.is_visible()
    assert "«enorme.log» supera la dimensione massima di 1 MB" in check.inner_text()
    page.get_by_role("button", name="Invia la richiesta").click()
    assert page.url.split("?")[0].endswith("/modulo/generico")  # nothing sent, nothing lost
    assert page.input_value("#oggetto") == "Sito example.it lento da stamattina"
    assert page.evaluate("document.activeElement.id") == "allegati"


def test_attachment_upload_through_the_browser(page, live_intake, tmp_path):
    pdf = tmp_path / "fattura.pdf"
    pdf.write_bytes(pdf_bytes())
    page.goto(form_url(live_intake, "generico"))
    page.select_option("#servizio", "hosting-pro")
    page.fill("#dominio", "città.it")
    page.fill("#oggetto", "Sito città.it lento da stamattina")
    page.fill("#descrizione", "Le pagine impiegano più di dieci secondi ad aprirsi, da stamattina alle 8.")
    page.set_input_files("#allegati", str(pdf))
    page.fill("#nome", "Mario Rossi")
    page.fill("#email", "mario.rossi@example.it")
    page.get_by_role("button", name="Invia la richiesta").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Richiesta inviata"
    assert "fattura.pdf" in page.locator(".attachments").inner_text()


def address(live_intake: str, name: str) -> str:
    """The list of types, or a form as the search step opens it."""
    return f"{live_intake}/tipi" if name == "tipi" else form_url(live_intake, name)


@pytest.mark.parametrize("name", ["tipi", *NAMES])
def test_no_horizontal_overflow_on_a_phone(phone, live_intake, name):
    phone.goto(address(live_intake, name))
    # show every conditional field, the widest state of the form
    phone.evaluate("document.querySelectorAll('[data-show-if]').forEach(e => e.hidden = false)")
    assert_fits_a_phone(phone)
    assert phone.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 16


@pytest.mark.parametrize("name", ["tipi", *NAMES])
def test_axe_finds_no_serious_violations(page, live_intake, name):
    page.goto(address(live_intake, name))
    assert_accessible(page)
    assert send_buttons_shown(page) == ((0, 0) if name == "tipi" else (1, 1))


def test_axe_on_a_form_with_errors_and_every_field_shown(page, live_intake):
    page.goto(form_url(live_intake, "email"))
    page.get_by_label("Compare un messaggio d’errore").check()
    page.get_by_label("In trasmissione").check()
    page.get_by_label("Sì, solo da (o verso)").check()
    page.get_by_label("Sia con il programma di posta").check()
    page.get_by_role("button", name="Invia la richiesta").click()
    page.wait_for_load_state()
    assert page.locator("#error-summary").is_visible()
    assert_accessible(page)
