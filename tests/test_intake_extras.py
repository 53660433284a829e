"""Extras: server-side computed panels a definition names (the cost estimate, the timeline)."""

from __future__ import annotations

import pytest

from intake import create_app, extras
from intake.formspec import FormDefinitionError

from .conftest import intake_test_config
from .test_intake_formspec import VALID


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
    return create_app(intake_test_config(tmp_path, FORMS_DIR=str(forms))).test_client()


def test_panel_is_computed_from_the_answers(tmp_path, echo_panel):
    client = make_client(tmp_path, VALID + "extras: [direzione_scelta]\n")
    assert "Riepilogo calcolato" not in client.get("/modulo/prova").get_data(as_text=True)
    answers = {"oggetto": "Errore di invio verso libero.it", "direzione": "trasmissione", "email": "a@example.it"}
    page = client.post("/modulo/prova", data=answers).get_data(as_text=True)
    assert "La richiesta è completa" in page
    assert "<h2>Riepilogo calcolato</h2>" in page and "<dd>TRASMISSIONE</dd>" in page
    # also next to a form sent back with errors, from the answers that are valid
    page = client.post("/modulo/prova", data=answers | {"email": ""}).get_data(as_text=True)
    assert "<dd>TRASMISSIONE</dd>" in page and 'id="email-error"' in page


def test_unknown_extra_stops_the_app(tmp_path):
    with pytest.raises(FormDefinitionError, match=r"prova\.yaml:29: unknown extra panel 'stima_costi' \(registered: "):
        make_client(tmp_path, VALID + "extras: [stima_costi]\n")
