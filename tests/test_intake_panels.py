"""The provider's rules in the forms, through HTTP: the cost estimate, the migration dates and
the support plans, with the JSON endpoint (the script) and with the "Calcola" button (no script)."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from intake.rules import check_plan, format_date
from intake.validators import today
from intake.views import request_deflected, request_validated

from .intake_data import DEFINITIONS, error_ids, error_text, valid_data

FEES = "/modulo/extracontrattuale"
MIGRATION = "/modulo/migrazione"
SALES = "/modulo/commerciale"


@pytest.fixture
def outcomes(app):
    """Every request the app accepted or deflected (nothing may be, for a preview)."""
    seen = []
    request_validated.connect(lambda sender, submission: seen.append(submission), app, weak=False)
    request_deflected.connect(lambda sender, **kw: seen.append(kw), app, weak=False)
    return seen


def panel_json(client, form: str, panel: str, **answers):
    response = client.get(f"{form}/pannello/{panel}", query_string=answers)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_json()


def preview(client, form: str, panel: str, data: dict):
    """The no-script "Calcola" button: the whole form sent with calcola=<panel>."""
    response = client.post(form, data=data | {"calcola": panel})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def row(page: str, label: str) -> str:
    """The value of the panel row ``label`` (tag and text), as the customer reads it."""
    match = re.search(rf"<dt>{re.escape(html.escape(label, quote=False))}</dt>\s*<dd>(.*?)</dd>", page, re.S)
    assert match, f"no panel row {label!r}"
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip()


def warning(page: str) -> str:
    match = re.search(r'<p class="panel-warning">(.*?)</p>', page, re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).strip() if match else ""


# --- the cost estimate (extracontrattuale) ------------------------------------------------------

# (answers, total, quote required, take-over) from the seed article's tariffs:
# ordinary 27/42 per 30' or fraction, urgency fee 27; planned night 150/230 for the first 2h, then
# 50/83 per hour or fraction; urgent night fee 75 plus 39/63 per 30'; simple urgent 27 per 30'.
ESTIMATES = [
    ({"fascia": "ordinaria", "urgenza": "normale", "livello": "junior", "durata_minuti": "31"}, "€ 54,00 + IVA", False, "entro 8h"),
    ({"fascia": "ordinaria", "urgenza": "urgente", "livello": "junior", "durata_minuti": "31"}, "€ 81,00 + IVA", False, "entro 1h"),
    ({"fascia": "ordinaria", "urgenza": "normale", "livello": "senior", "durata_ore": "3"}, "€ 252,00 + IVA", True, "entro 8h"),
    ({"fascia": "straordinaria-pianificata", "livello": "senior", "durata_ore": "3", "durata_minuti": "10"}, "€ 396,00 + IVA", True, "concordati"),
    ({"fascia": "straordinaria-pianificata", "livello": "junior", "durata_minuti": "240"}, "€ 250,00 + IVA", False, "concordati"),
    ({"fascia": "straordinaria-urgente", "livello": "senior", "durata_minuti": "45"}, "€ 201,00 + IVA", False, "entro 1h"),
    ({"fascia": "straordinaria-semplice", "durata_ore": "0", "durata_minuti": "45"}, "€ 54,00 + IVA", False, "senza coinvolgere sistemisti"),
]


@pytest.mark.parametrize(("answers", "total", "quote", "takeover"), ESTIMATES)
def test_estimate_from_the_json_endpoint(client, answers, total, quote, takeover):
    data = panel_json(client, FEES, "stima_costi", **answers)
    assert data["pronto"] is True and data["errori"] == {}
    assert data["dati"]["totale_testo"] == total
    assert data["dati"]["preventivo_richiesto"] is quote
    page = data["html"]
    assert row(page, "Totale stimato") == total
    assert takeover in row(page, "Presa in carico")
    assert ("preventivo da approvare" in warning(page)) is quote


@pytest.mark.parametrize(("answers", "total", "quote", "takeover"), ESTIMATES)
def test_estimate_without_javascript(client, outcomes, answers, total, quote, takeover):
    page = preview(client, FEES, "stima_costi", answers)
    assert row(page, "Totale stimato") == total
    assert takeover in row(page, "Presa in carico")
    assert ("preventivo da approvare" in warning(page)) is quote
    assert 'aria-live="polite"' in page
    assert "error-summary" not in page and error_ids(page) == []
    assert outcomes == []


def test_estimate_breakdown_shows_each_line(client):
    page = panel_json(client, FEES, "stima_costi", fascia="straordinaria-urgente", livello="senior", durata_minuti="45")["html"]
    assert row(page, "Diritto fisso di urgenza (fascia straordinaria)") == "€ 75,00 + IVA"
    assert row(page, "2 tranche da 30′ o frazione di sistemista senior in fascia straordinaria urgente × € 63,00") == "€ 126,00 + IVA"
    assert row(page, "Durata stimata") == "45′ (fatturate 1h)"


def test_urgency_counts_only_in_the_ordinary_band(client):
    """An 'urgente' left over from the ordinary band is hidden with the night band: no € 27 fee."""
    answers = {"fascia": "straordinaria-urgente", "urgenza": "urgente", "livello": "senior", "durata_minuti": "45"}
    assert panel_json(client, FEES, "stima_costi", **answers)["dati"]["totale"] == "201.00"


def test_the_panel_says_what_is_missing_until_it_can_estimate(client):
    page = client.get(FEES).get_data(as_text=True)
    region = page[page.index('id="stima_costi-panel"'):]
    assert "La stima dei costi compare qui" in region
    assert re.search(r'<button type="submit" name="calcola" value="stima_costi"[^>]*>Calcola la stima</button>', region)
    data = panel_json(client, FEES, "stima_costi", fascia="ordinaria", livello="junior")
    assert data["pronto"] is False and data["dati"] is None
    assert "La stima dei costi compare qui" in data["html"]
    assert data["errori"] == {}  # the duration is not reached yet: no message


@pytest.mark.parametrize(
    ("answers", "field", "message"),
    [
        ({"durata_minuti": "mezz’ora"}, "durata_minuti", "Scrivi un numero intero"),
        # no estimate from the minutes alone: it would be for 10 minutes instead of 3 hours
        ({"durata_ore": "3x", "durata_minuti": "10"}, "durata_ore", "Scrivi un numero intero"),
        ({"durata_ore": "100"}, "durata_ore", "da 0 a 99"),
        ({"durata_ore": "0", "durata_minuti": "0"}, "durata_minuti", "maggiore di zero"),
    ],
)
def test_a_wrong_duration_is_said_next_to_the_field(client, answers, field, message):
    answers = {"fascia": "ordinaria", "urgenza": "normale", "livello": "junior"} | answers
    data = panel_json(client, FEES, "stima_costi", **answers)
    assert data["pronto"] is False
    assert message in data["errori"][field]
    page = preview(client, FEES, "stima_costi", answers)
    assert error_ids(page) == [field] and message in error_text(page, field)
    assert "Totale stimato" not in page
    # and on sending, the request is refused with the same message
    request = valid_data(DEFINITIONS["extracontrattuale"], **answers)
    page = client.post(FEES, data=request).get_data(as_text=True)
    assert error_ids(page) == [field] and message in error_text(page, field)


def test_calcola_keeps_every_typed_value_and_stores_nothing(client, outcomes):
    definition = DEFINITIONS["extracontrattuale"]
    data = valid_data(
        definition, fascia="straordinaria-pianificata", livello="senior", durata_ore="3", durata_minuti="10"
    )
    data["oggetto"] = "aiuto"  # refused on sending; not reached by the estimate, so not said now
    del data["nome"]  # required, not reached yet either
    page = preview(client, FEES, "stima_costi", data)
    assert row(page, "Totale stimato") == "€ 396,00 + IVA"
    assert "preventivo da approvare" in warning(page)
    assert "error-summary" not in page and error_ids(page) == []
    assert "La richiesta non è ancora stata inviata" in page
    assert re.search(r'id="stima_costi-live" aria-live="polite" tabindex="-1" autofocus', page)
    for name, value in data.items():
        spec = definition.field(name)
        if spec.type in ("radio", "priority"):
            assert re.search(rf'checked id="{name}-\d+" name="{name}"[^>]* value="{re.escape(value)}"', page), name
        elif spec.type == "textarea":
            assert html.escape(value) in page, name
        else:
            assert f'value="{html.escape(value)}"' in page, name
    assert outcomes == []


def test_the_estimate_travels_with_the_request(client, outcomes):
    data = valid_data(
        DEFINITIONS["extracontrattuale"], fascia="straordinaria-pianificata", livello="senior", durata_ore="3", durata_minuti="10"
    )
    response = client.post(FEES, data=data)
    assert response.status_code == 303
    page = html.unescape(client.get(response.location).get_data(as_text=True))
    assert "Richiesta inviata" in page
    assert "Totale stimato: € 396,00 + IVA" in page  # the estimate in the ticket's summary
    (submission,) = outcomes
    estimate = next(a for a in submission.answers if a.name == "stima_costi")
    assert estimate.computed and estimate.label == "Stima dei costi"
    assert "Totale stimato: € 396,00 + IVA" in estimate.value.splitlines()
    assert "ATTENZIONE: Il costo stimato supera € 250,00 + IVA" in estimate.value
    assert submission.panels[0].data["totale"] == "396.00"
    # shown once, as the estimate, not again among the typed answers
    assert page.count("Totale stimato") == 1


def test_a_request_without_duration_has_no_estimate(client, outcomes):
    data = valid_data(DEFINITIONS["extracontrattuale"])
    del data["durata_ore"], data["durata_minuti"]
    page = client.post(FEES, data=data, follow_redirects=True).get_data(as_text=True)
    assert "Richiesta inviata" in page and "Totale stimato" not in page
    assert [a.name for a in outcomes[0].answers if a.computed] == []


# --- the migration dates (migrazione) -------------------------------------------------------------

X = today() - timedelta(days=3)  # day X: the notice can only be today or earlier


def day(offset: int) -> str:
    return (X + timedelta(days=offset)).isoformat()


def test_timeline_is_dated_from_day_x(client):
    data = panel_json(client, MIGRATION, "linea_temporale", data_comunicazione=X.isoformat(), piano="basic")
    steps = {s["passo"]: s for s in data["dati"]["passi"]}
    assert {k: s["data"] for k, s in steps.items()} == {
        "comunicazione": day(0),
        "configurazione": day(10),
        "nuovo_server": day(15),
        "migrazione_dati": day(22),
        "switch": None,
        "spegnimento": day(29),
        "cancellazione": day(31),
    }
    page = data["html"]
    x10 = X + timedelta(days=10)
    assert row(page, f"Giorno X+10: {format_date(x10)}").startswith("A cura del cliente")
    assert row(page, f"Giorno X+15: {format_date(X + timedelta(days=15))}").startswith("A cura del nostro personale")
    assert row(page, f"Entro il giorno X+22: {format_date(X + timedelta(days=22))}").startswith("A cura del cliente")
    # basic: the customer switches the IPs
    assert row(page, "Quando il cliente ha concluso la migrazione").startswith("A cura del cliente Switch degli IP")


@pytest.mark.parametrize(
    ("plan", "switcher"),
    [
        ("managed", "A cura del nostro personale"),
        ("global", "A cura del nostro personale"),
        ("non_so", "A cura del cliente (assistenza basic) o del nostro personale (assistenza managed o global)"),
    ],
)
def test_who_switches_the_ips_depends_on_the_plan(client, plan, switcher):
    data = panel_json(client, MIGRATION, "linea_temporale", data_comunicazione=X.isoformat(), piano=plan)
    assert row(data["html"], "Quando il cliente ha concluso la migrazione").startswith(switcher + " Switch")


def test_an_accepted_switch_date_takes_its_place_in_the_timeline(client):
    data = panel_json(client, MIGRATION, "linea_temporale", data_comunicazione=X.isoformat(), piano="managed", data_switch=day(15))
    assert data["errori"] == {} and warning(data["html"]) == ""
    assert [s["passo"] for s in data["dati"]["passi"]][2:4] == ["nuovo_server", "switch"]
    assert next(s for s in data["dati"]["passi"] if s["passo"] == "switch")["data"] == day(15)


@pytest.mark.parametrize(
    ("offset", "words"),
    [
        (8, ["è ad appena 8 giorni dalla comunicazione", "preavviso minimo di 15 giorni solari",
             f"la prima data possibile è {format_date(X + timedelta(days=15))}"]),
        (14, ["è ad appena 14 giorni", "preavviso minimo di 15 giorni solari"]),
        (29, ["è troppo tardi", f"il vecchio server viene spento {format_date(X + timedelta(days=29))}",
              f"entro {format_date(X + timedelta(days=28))}"]),
    ],
)
def test_a_switch_date_the_rule_refuses_is_said_next_to_the_field(client, outcomes, offset, words):
    answers = {"data_comunicazione": X.isoformat(), "piano": "basic", "data_switch": day(offset)}
    # with the script: the message for the field, and the timeline without that date
    data = panel_json(client, MIGRATION, "linea_temporale", **answers)
    for word in words:
        assert word in data["errori"]["data_switch"]
        assert word in warning(data["html"])
    assert next(s for s in data["dati"]["passi"] if s["passo"] == "switch")["data"] is None
    # without: "Mostra le date" keeps everything and says it next to the field, nothing else
    page = preview(client, MIGRATION, "linea_temporale", answers)
    assert error_ids(page) == ["data_switch"]
    for word in words:
        assert word in error_text(page, "data_switch")
    assert f'value="{day(offset)}"' in page
    # sending it: refused, with the same message next to the field
    request = valid_data(DEFINITIONS["migrazione"], **answers)
    response = client.post(MIGRATION, data=request)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and error_ids(page) == ["data_switch"]
    assert words[0] in error_text(page, "data_switch")
    assert outcomes == []


def test_migration_request_carries_the_timeline(client, outcomes):
    request = valid_data(DEFINITIONS["migrazione"], data_comunicazione=X.isoformat(), piano="global", data_switch=day(20))
    assert client.post(MIGRATION, data=request).status_code == 303
    timeline = next(a for a in outcomes[0].answers if a.name == "linea_temporale")
    assert f"Giorno X+20: {format_date(X + timedelta(days=20))}: Switch degli IP" in timeline.value
    assert "[A cura del nostro personale]" in timeline.value


# --- the support plans (commerciale) ----------------------------------------------------------------

# From the three "Cosa comprende ..." articles: basic for every server; managed only for rented
# Linux servers; global for rented servers and VPS with Linux (not colocation, as a rule).
ELIGIBLE = {
    ("basic", server, system) for server in ("noleggio", "colocation", "vps") for system in ("linux", "windows", "altro")
} | {("managed", "noleggio", "linux"), ("global", "noleggio", "linux"), ("global", "vps", "linux")}
COMBINATIONS = [
    (plan, server, system)
    for plan in ("basic", "managed", "global")
    for server in ("noleggio", "colocation", "vps")
    for system in ("linux", "windows", "altro")
]


@pytest.mark.parametrize(("plan", "server", "system"), COMBINATIONS)
def test_plan_request_is_refused_with_the_reason_when_the_plan_does_not_fit(client, outcomes, plan, server, system):
    answers = {"argomento": "attivazione_piano", "tipo_server": server, "sistema_operativo": system, "piano_richiesto": plan}
    request = valid_data(DEFINITIONS["commerciale"], **answers)
    response = client.post(SALES, data=request)
    page = response.get_data(as_text=True)
    if (plan, server, system) in ELIGIBLE:
        assert response.status_code == 303, error_ids(page)
        assert len(outcomes) == 1
        return
    reason = check_plan(plan, server, system).reason
    assert response.status_code == 422
    assert error_ids(page) == ["piano_richiesto"]
    assert error_text(page, "piano_richiesto") == f"Errore: {reason}"
    assert outcomes == []
    # the script gets the same sentence while the customer picks
    data = panel_json(client, SALES, "piani_disponibili", **answers)
    assert data["errori"] == {"piano_richiesto": reason}


@pytest.mark.parametrize(
    ("server", "system", "available"),
    [
        ("noleggio", "linux", "assistenza basic, assistenza managed (full management), assistenza global"),
        ("vps", "linux", "assistenza basic, assistenza global"),
        ("colocation", "linux", "assistenza basic"),
        ("noleggio", "windows", "assistenza basic"),
    ],
)
def test_the_plans_available_for_the_server_are_shown(client, server, system, available):
    # also for a question about plans, where no plan is requested
    answers = {"argomento": "piani", "tipo_server": server, "sistema_operativo": system}
    data = panel_json(client, SALES, "piani_disponibili", **answers)
    assert row(data["html"], "Disponibili per questo server") == available
    assert row(data["html"], "Assistenza basic").startswith("Disponibile L’assistenza basic si applica")
    page = preview(client, SALES, "piani_disponibili", answers)
    assert row(page, "Disponibili per questo server") == available


def test_plan_panel_sits_between_the_server_questions_and_the_plan(client):
    page = client.get(SALES).get_data(as_text=True)
    region = page.index('id="piani_disponibili-panel"')
    assert page.index('id="sistema_operativo-field"') < region < page.index('id="piano_richiesto-field"')
    # shown only with the plan questions (and, without the script, said so)
    assert re.search(r'id="piani_disponibili-panel"[^>]*data-show-if="argomento"', page)


def test_the_script_sends_only_the_panel_answers_and_their_controllers(client):
    page = client.get(SALES).get_data(as_text=True)
    sent = re.search(r'id="piani_disponibili-panel"[^>]*data-inputs=\'([^\']*)\'', page).group(1)
    assert html.unescape(sent) == '["argomento", "tipo_server", "sistema_operativo", "piano_richiesto"]'


@pytest.mark.parametrize(
    "url",
    [
        "/modulo/vpn/pannello/stima_costi",
        "/modulo/extracontrattuale/pannello/meteo",
        "/modulo/email/pannello/stima_costi",  # a registered panel the form does not show
    ],
)
def test_unknown_panels_are_404(client, url):
    assert client.get(url).status_code == 404
