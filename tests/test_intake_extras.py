"""Extras: server-side computed panels a definition names (the cost estimate, the timeline)."""

from __future__ import annotations

import pytest

from intake import extras
from intake.formspec import FormDefinitionError

from .conftest import customer_app, intake_test_config
from .intake_data import SMALL_DEFINITION


@pytest.fixture
def echo_panel():
    """A throw-away panel that shows the chosen direction (real ones call intake.rules)."""

    @extras.register("direzione_scelta")
    def panel(values):
        if not values.get("direzione"):
            return None
        return extras.Panel("Riepilogo calcolato", [("Direzione", values["direzione"].upper())], "Calcolato dal server.")

    yield
    extras.unregister("direzione_scelta")


def make_client(tmp_path, text):
    forms = tmp_path / "forms"
    forms.mkdir()
    (forms / "prova.yaml").write_text(text, encoding="utf-8")
    return customer_app(intake_test_config(tmp_path, FORMS_DIR=str(forms))).test_client()


def test_panel_is_computed_from_the_answers(tmp_path, echo_panel):
    client = make_client(tmp_path, SMALL_DEFINITION + "extras: [direzione_scelta]\n")
    assert "Riepilogo calcolato" not in client.get("/modulo/prova").get_data(as_text=True)
    answers = {"oggetto": "Errore di invio verso libero.it", "direzione": "trasmissione", "email": "a@example.it"}
    page = client.post("/modulo/prova", data=answers, follow_redirects=True).get_data(as_text=True)
    assert "Richiesta inviata" in page
    assert "<dt>Riepilogo calcolato</dt>" in page and "Direzione: TRASMISSIONE" in page  # in the ticket
    # also next to a form sent back with errors, from the answers that are valid
    page = client.post("/modulo/prova", data=answers | {"email": ""}).get_data(as_text=True)
    assert "<dd>TRASMISSIONE</dd>" in page and 'id="email-error"' in page


def test_unknown_extra_stops_the_app(tmp_path):
    with pytest.raises(FormDefinitionError, match=r"prova\.yaml:29: unknown extra panel 'meteo' \(registered: .*stima_costi"):
        make_client(tmp_path, SMALL_DEFINITION + "extras: [meteo]\n")


# A request type that reads the migration panel's inputs (each case below spoils one thing).
TIMELINE_FORM = SMALL_DEFINITION.replace(
    "      - name: email\n",
    """\
      - name: data_comunicazione
        type: date
        label: Giorno X
      - name: piano
        type: radio
        label: Piano
        choices:
          - {value: basic, label: Basic}
          - {value: global, label: Global}
      - name: data_switch
        type: date
        label: Switch
      - name: email
""",
) + "extras:\n  - {name: linea_temporale, after: direzione}\n"


def line_of(text: str, start: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith(start))


def test_a_definition_that_fits_the_panel_loads(tmp_path):
    client = make_client(tmp_path, TIMELINE_FORM)
    page = client.get("/modulo/prova").get_data(as_text=True)
    # placed where 'after' says
    assert page.index('id="direzione-field"') < page.index('id="linea_temporale-panel"') < page.index('id="server_smtp-field"')


@pytest.mark.parametrize(
    ("old", "new", "line", "message"),
    [
        (
            "{value: global, label: Global}",
            "{value: completa, label: Completa}",
            "  - {name: linea",
            "extra panel 'linea_temporale' reads field 'piano', a radio or select field with choices "
            "among: basic, managed, global, non_so, but it is a radio field with choices basic, completa",
        ),
        (
            "      - name: data_switch\n        type: date",
            "      - name: data_switch\n        type: text",
            "  - {name: linea",
            "extra panel 'linea_temporale' reads field 'data_switch', a date field, but it is a text field",
        ),
        (
            "      - name: data_comunicazione",
            "      - name: giorno_x",
            "  - {name: linea",
            "extra panel 'linea_temporale' reads field 'data_comunicazione', a date field, but it is missing",
        ),
        (
            "after: direzione}",
            "after: ora_switch}",
            "  - {name: linea",
            "extra panel 'linea_temporale': 'after' names 'ora_switch', which is not a field of this form "
            "(fields: oggetto, direzione, server_smtp, data_comunicazione, piano, data_switch, email)",
        ),
        (
            "{name: linea_temporale, after: direzione}",
            "{name: linea_temporale, dopo: direzione}",
            "  - {name: linea",
            "unknown key 'dopo' in an extra (allowed: after, name)",
        ),
        (
            "  - {name: linea_temporale, after: direzione}\n",
            "  - {name: linea_temporale, after: direzione}\n  - linea_temporale\n",
            "extras:",
            "extra panel 'linea_temporale' is listed twice: keep only one",
        ),
    ],
)
def test_a_definition_that_does_not_fit_the_panel_stops_the_app(tmp_path, old, new, line, message):
    assert old in TIMELINE_FORM
    text = TIMELINE_FORM.replace(old, new)
    with pytest.raises(FormDefinitionError) as caught:
        make_client(tmp_path, text)
    expected = f"prova.yaml:{line_of(text, line)}: {message}"
    assert any(problem.endswith(expected) for problem in caught.value.problems), caught.value.problems


def test_calcola_is_a_reserved_field_name(tmp_path):
    with pytest.raises(FormDefinitionError, match="'calcola' is reserved"):
        make_client(tmp_path, SMALL_DEFINITION.replace("name: server_smtp", "name: calcola"))
