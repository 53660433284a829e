"""Every request type, through HTTP: renders, accepts a complete request, refuses each gap."""

from __future__ import annotations

import html
import re

import pytest

from intake.views import request_deflected, request_validated

from .intake_data import DEFINITIONS, data_showing, error_ids, error_text, valid_data

NAMES = list(DEFINITIONS)


def required_cases():
    """(form, field) for every required field, conditional ones included.

    The priority is left out: it always has a value, the definition's default (tested below).
    """
    for name, definition in DEFINITIONS.items():
        for spec in definition.fields:
            if spec.required and spec.type not in ("priority", "files"):
                yield name, spec.name


def choice_cases():
    """(form, field) for every field with choices, conditional ones included."""
    for name, definition in DEFINITIONS.items():
        for spec in definition.fields:
            if spec.type in ("select", "radio", "priority"):
                yield name, spec.name


def test_all_six_request_types_are_defined():
    assert set(NAMES) == {"generico", "email", "commerciale", "extracontrattuale", "migrazione", "rubalo"}
    assert DEFINITIONS["commerciale"].department == "sales"
    assert {DEFINITIONS[n].department for n in NAMES if n != "commerciale"} == {"helpdesk"}


@pytest.mark.parametrize("name", NAMES)
def test_form_renders(client, name):
    response = client.get(f"/modulo/{name}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    definition = DEFINITIONS[name]
    assert f"<h1>{html.escape(definition.title, quote=False)}</h1>" in page
    assert 'lang="it"' in page
    for spec in definition.fields:
        assert f'id="{spec.name}-field"' in page, spec.name
    assert "Invia la richiesta" in page


@pytest.mark.parametrize("name", NAMES)
def test_complete_valid_request_passes(client, app, name):
    definition = DEFINITIONS[name]
    received = []
    request_validated.connect(lambda sender, submission: received.append(submission), app, weak=False)
    response = client.post(f"/modulo/{name}", data=valid_data(definition))
    assert response.status_code == 303, error_ids(response.get_data(as_text=True))
    page = client.get(response.location).get_data(as_text=True)
    assert 'data-outcome="ticket"' in page
    assert "Richiesta inviata" in page
    assert definition.department_label in page
    assert len(received) == 1
    submission = received[0]
    assert submission.subject == "Errore 550 inviando da info@example.it verso Gmail"
    assert submission.email == "mario.rossi@example.it"
    assert submission.department == definition.department


@pytest.mark.parametrize(("name", "field"), list(required_cases()))
def test_each_missing_required_field_gets_its_own_error(client, name, field):
    definition = DEFINITIONS[name]
    data = data_showing(definition, field)
    del data[field]
    response = client.post(f"/modulo/{name}", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert error_ids(page) == [field]
    spec = definition.field(field)
    assert f"«{spec.label}»" in error_text(page, field)
    # the field points at its error, and the summary at the top links to the field
    assert re.search(rf'aria-describedby="[^"]*{field}-error"', page)
    assert 'aria-invalid="true"' in page
    target = f"{field}-0" if spec.type in ("radio", "priority") else field
    assert f'<a href="#{target}">' in page


@pytest.mark.parametrize(("name", "field"), list(choice_cases()))
def test_invalid_choice_is_refused(client, name, field):
    definition = DEFINITIONS[name]
    data = data_showing(definition, field) | {field: "valore-inventato"}
    response = client.post(f"/modulo/{name}", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert field in error_ids(page)
    message = error_text(page, field)
    assert "bassa" in message if field == "priorita" else "risposte proposte" in message


def test_every_typed_value_is_kept_after_an_error(client):
    definition = DEFINITIONS["email"]
    data = valid_data(definition, tipo_problema="errore", direzione="trasmissione", dove="entrambi")
    data["messaggio_errore"] = "550 5.1.1 <x@gmail.com>: Recipient address rejected"
    del data["nome"]
    page = client.post("/modulo/email", data=data).get_data(as_text=True)
    assert error_ids(page) == ["nome"]
    for name, value in data.items():
        spec = definition.field(name)
        if spec.type in ("radio", "priority"):
            assert re.search(rf'checked id="{name}-\d+" name="{name}"[^>]* value="{re.escape(value)}"', page), name
        elif spec.type == "select":
            assert f'<option selected value="{value}">' in page, name
        elif spec.type == "textarea":
            assert html.escape(value) in page, name
        else:
            assert f'value="{html.escape(value)}"' in page, name


def test_hidden_fields_are_neither_required_nor_stored(client, app):
    """tipo_problema 'accesso' hides the failing-message questions and the direction."""
    received = []
    request_validated.connect(lambda sender, submission: received.append(submission), app, weak=False)
    data = valid_data(DEFINITIONS["email"], tipo_problema="accesso")
    assert "msg_mittente" not in data and "direzione" not in data
    data["messaggio_errore"] = "testo scritto prima di cambiare risposta"  # typed, then hidden
    data["server_smtp"] = "valore-inventato"  # hidden: not even its choice is checked
    response = client.post("/modulo/email", data=data, follow_redirects=True)
    assert response.request.path.startswith("/ricevuta/"), error_ids(response.get_data(as_text=True))
    answers = {a.name for a in received[0].answers}
    assert "messaggio_errore" not in answers and "server_smtp" not in answers
    assert "testo scritto prima" not in response.get_data(as_text=True)


def test_conditional_field_is_required_when_shown(client):
    data = valid_data(DEFINITIONS["email"], solo_alcuni_indirizzi="si")
    del data["indirizzi"]
    page = client.post("/modulo/email", data=data).get_data(as_text=True)
    assert error_ids(page) == ["indirizzi"]


def test_a_field_under_a_hidden_field_is_hidden_too(client):
    """server_smtp depends on direzione, which 'accesso' hides: a leftover 'trasmissione' does not count."""
    data = valid_data(DEFINITIONS["email"], tipo_problema="accesso")
    data["direzione"] = "trasmissione"
    response = client.post("/modulo/email", data=data)
    assert response.status_code == 303


def test_foreign_smtp_server_is_a_deflection_not_a_ticket(client, app):
    deflected = []
    request_deflected.connect(lambda sender, **kw: deflected.append(kw["deflection"].reason), app, weak=False)
    # Only the answers that matter: the customer needs no complete ticket to be sent elsewhere.
    response = client.post(
        "/modulo/email", data={"tipo_problema": "errore", "direzione": "trasmissione", "server_smtp": "altro"}
    )
    assert response.status_code == 303
    assert response.headers["Location"].split("?")[0].endswith("/deflessione/email/smtp-esterno")
    assert deflected == ["smtp-esterno"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-deflection="smtp-esterno"' in page
    assert "provider di connettività" in page
    assert 'href="/modulo/email?token=' in page  # back to the form, still after the search


def test_our_smtp_server_is_not_deflected(client):
    data = valid_data(DEFINITIONS["email"], direzione="trasmissione", server_smtp="nostro")
    assert client.post("/modulo/email", data=data).status_code == 303


def test_the_deflection_notice_is_next_to_the_smtp_question(client):
    page = client.get("/modulo/email").get_data(as_text=True)
    notice = re.search(r'<div class="notice deflection-notice" id="deflessione-smtp-esterno"([^>]*)>', page)
    assert notice and 'data-show-if="server_smtp"' in notice.group(1)
    assert page.index('id="server_smtp-field"') < notice.start() < page.index('id="solo_alcuni_indirizzi-field"')


def test_unknown_deflection_reason_is_404(client):
    assert client.get("/deflessione/email/non-esiste").status_code == 404


@pytest.mark.parametrize(
    ("subject", "refused"),
    [
        ("richiesta assistenza", True),
        ("aiuto!", True),  # also too short: only the more helpful message is shown
        ("Aiuto! Problema urgente", True),
        ("URGENTE SITO NON VA!!!", True),
        ("Errore 550 inviando da info@example.it verso Gmail", False),
    ],
)
def test_generic_subject_is_refused_with_an_explanation(client, subject, refused):
    data = valid_data(DEFINITIONS["generico"], oggetto=subject)
    page = client.post("/modulo/generico", data=data).get_data(as_text=True)
    if refused:
        assert error_ids(page) == ["oggetto"]
        assert "indica il servizio o il dominio" in error_text(page, "oggetto")
        assert "caratteri" not in error_text(page, "oggetto")
    else:
        assert error_ids(page) == []


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("example.it, altrodominio.it", "un solo servizio"),
        ("https://www.example.it/", "senza «https://»"),
        ("-esempio-.it", "non è un nome a dominio o un indirizzo IP valido"),
        ("example", "non è un nome a dominio o un indirizzo IP valido"),
    ],
)
def test_bad_domains_are_refused(client, value, message):
    data = valid_data(DEFINITIONS["generico"], dominio=value)
    page = client.post("/modulo/generico", data=data).get_data(as_text=True)
    assert error_ids(page) == ["dominio"]
    assert message in error_text(page, "dominio")


@pytest.mark.parametrize("value", ["città.it", "www.example.it", "XN--CITT-3NA.IT", "192.0.2.10", "2001:db8::1"])
def test_idn_domains_and_server_addresses_are_accepted(client, value):
    data = valid_data(DEFINITIONS["generico"], dominio=value)
    response = client.post("/modulo/generico", data=data)
    assert response.status_code == 303, error_ids(response.get_data(as_text=True))


def test_ip_address_is_refused_where_a_domain_is_asked(client):
    data = valid_data(DEFINITIONS["rubalo"], dominio="192.0.2.10")
    page = client.post("/modulo/rubalo", data=data).get_data(as_text=True)
    assert error_ids(page) == ["dominio"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "mario.rossi@", "non è un indirizzo email valido"),
        ("email", "mario rossi@example.it", "un solo indirizzo"),
        ("caselle", "info@example.it, vendite@", "«vendite@»"),
        ("msg_data", "31/02/2025", "Data non valida"),
        ("msg_ora", "25:99", "Ora non valida"),
        ("client_nome", "x" * 81, "al massimo 80 caratteri (ora sono 81)"),
    ],
)
def test_syntax_checks_give_italian_messages(client, field, value, message):
    data = valid_data(DEFINITIONS["email"], **{field: value})
    page = client.post("/modulo/email", data=data).get_data(as_text=True)
    assert error_ids(page) == [field]
    assert message in error_text(page, field)


def test_dates_in_italian_format_are_accepted(client, app):
    received = []
    request_validated.connect(lambda sender, submission: received.append(submission), app, weak=False)
    from intake.validators import today

    data = valid_data(DEFINITIONS["email"], msg_data=today().strftime("%d/%m/%Y"))
    assert client.post("/modulo/email", data=data).status_code == 303
    assert received[0].value("msg_data") == today()


def test_failing_message_date_in_the_future_is_refused(client):
    from datetime import timedelta

    from intake.validators import today

    data = valid_data(DEFINITIONS["email"], msg_data=(today() + timedelta(days=2)).isoformat())
    page = client.post("/modulo/email", data=data).get_data(as_text=True)
    assert error_ids(page) == ["msg_data"]


def test_planned_work_needs_a_date_at_least_one_day_ahead(client):
    from intake.validators import today

    data = valid_data(DEFINITIONS["extracontrattuale"], fascia="straordinaria-pianificata", data_preferita=today().isoformat())
    page = client.post("/modulo/extracontrattuale", data=data).get_data(as_text=True)
    assert error_ids(page) == ["data_preferita"]
    assert "Scegli una data dal" in error_text(page, "data_preferita")


def test_priority_defaults_to_the_definition_and_only_accepts_bassa_or_normale(client, app):
    page = client.get("/modulo/commerciale").get_data(as_text=True)
    assert re.search(r'checked id="priorita-\d" name="priorita"[^>]*value="bassa"', page)
    received = []
    request_validated.connect(lambda sender, submission: received.append(submission), app, weak=False)
    data = valid_data(DEFINITIONS["commerciale"])
    del data["priorita"]  # a client that sends no priority gets the default
    assert client.post("/modulo/commerciale", data=data).status_code == 303
    assert received[0].priority == "bassa"
    data["priorita"] = "urgente"
    page = client.post("/modulo/commerciale", data=data).get_data(as_text=True)
    assert "La priorità può essere solo «bassa» o «normale»." in error_text(page, "priorita")


def test_summary_page_shows_labels_and_italian_values(client):
    from intake.validators import today

    data = valid_data(DEFINITIONS["email"], direzione="trasmissione", server_smtp="nostro", msg_data=today().isoformat())
    page = client.post("/modulo/email", data=data, follow_redirects=True).get_data(as_text=True)
    assert "<dt>Il problema è in ricezione o in trasmissione?</dt>" in page
    assert "<dd>In trasmissione (messaggi che invio)</dd>" in page
    assert f"<dd>{today():%d/%m/%Y}</dd>" in page
    assert "<dd>info@example.it, vendite@example.it</dd>" in page


def test_types_page_lists_every_type_with_one_line_by_department(client):
    page = client.get("/tipi").get_data(as_text=True)
    assert "<h2>Assistenza Tecnica</h2>" in page
    assert "<h2>Informazioni Commerciali ed amministrative</h2>" in page
    for name, definition in DEFINITIONS.items():
        assert f'<a href="/modulo/{name}">{html.escape(definition.title, quote=False)}</a>' in page
        assert f"<p>{html.escape(definition.summary, quote=False)}</p>" in page
    sales = page.index("Informazioni Commerciali ed amministrative</h2>")
    assert page.index('href="/modulo/commerciale"') > sales > page.index('href="/modulo/email"')


def test_unknown_request_type_is_an_italian_404(client):
    response = client.get("/modulo/vpn")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Pagina non trovata" in page and 'lang="it"' in page
    assert 'href="/">Descrivi il problema per aprire una richiesta</a>' in page


def test_links_follow_the_mount_point(client):
    """Mounted under /richiesta/ (make run), every link and the form action keep the prefix."""
    page = client.get("/modulo/email", base_url="http://localhost/richiesta/").get_data(as_text=True)
    assert 'action="/richiesta/modulo/email"' in page
    assert re.search(r'href="/richiesta/static/intake\.css\?v=[0-9a-f]+"', page)
    assert re.search(r'src="/richiesta/static/forms\.js\?v=[0-9a-f]+"', page)
    assert 'href="/richiesta/tipi"' in page
    assert not re.search(r'(?:href|src|action)="/(?!richiesta/)[^"]', page.replace('href="/"', ""))


def test_no_inline_script_style_or_handler(client):
    """A strict Content-Security-Policy comes later: nothing inline may depend on it."""
    for path in ["/tipi", *(f"/modulo/{n}" for n in NAMES)]:
        page = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), path
        assert "<style" not in page and " style=" not in page, path
        assert not re.search(r"\son[a-z]+=", page), path
