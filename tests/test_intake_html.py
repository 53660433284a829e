"""Our own intake pages are valid HTML (the Nu checker, run once on every kind of page:
the search step, the forms, the confirmation of a ticket, the refusals)."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient

from intake import create_app
from intake.validators import today

from .conftest import intake_test_config
from .helpers import run_vnu
from .intake_data import DEFINITIONS, post_multipart, valid_data
from .samples import pdf_bytes



def test_pages_validate_clean(app, client, tmp_path):
    pages = {"tipi": client.get("/tipi"), "404": client.get("/modulo/vpn")}
    for name, definition in DEFINITIONS.items():
        pages[name] = client.get(f"/modulo/{name}")
        pages[f"{name}-errors"] = client.post(f"/modulo/{name}", data={})
        pages[f"{name}-ricevuta"] = post_multipart(  # the confirmation page of the ticket
            client, f"/modulo/{name}", valid_data(definition), [("fattura.pdf", pdf_bytes())], follow_redirects=True
        )
    # the rule panels: a preview (no script) with a quote warning, a refused switch date, a refused plan
    fees = {"fascia": "straordinaria-pianificata", "livello": "senior", "durata_ore": "3", "durata_minuti": "10"}
    pages["stima-calcola"] = client.post("/modulo/extracontrattuale", data=fees | {"calcola": "stima_costi"})
    notice = today() - timedelta(days=3)
    dates = {"data_comunicazione": notice.isoformat(), "data_switch": (notice + timedelta(days=8)).isoformat(), "piano": "basic"}
    pages["date-calcola"] = client.post("/modulo/migrazione", data=dates | {"calcola": "linea_temporale"})
    plan = {"argomento": "attivazione_piano", "tipo_server": "colocation", "sistema_operativo": "linux", "piano_richiesto": "global"}
    pages["piano-rifiutato"] = client.post("/modulo/commerciale", data=valid_data(DEFINITIONS["commerciale"], **plan))
    pages["deflection"] = client.get("/deflessione/email/smtp-esterno")
    pages["files-lost"] = post_multipart(
        client, "/modulo/generico", valid_data(DEFINITIONS["generico"], oggetto="aiuto"), [("a.pdf", pdf_bytes())]
    )
    # the search step (issue 6): empty, with results, without, from an article, refused, solved
    pages["cerca"] = client.get("/")
    pages["cerca-vuota"] = client.get("/?q=+")
    pages["cerca-risultati"] = client.get("/", query_string={"q": "la posta non arriva"})
    pages["cerca-nessun-risultato"] = client.get("/?q=zzzqqxx")
    pages["cerca-da-articolo"] = client.get("/?tipo=email&articolo=come-richiedere-assistenza-servizi-email")
    pages["rifiuto-428"] = FlaskClient(app).post("/modulo/email", data=valid_data(DEFINITIONS["email"]))
    pages["rifiuto-403"] = client.post("/modulo/email", data=valid_data(DEFINITIONS["email"]) | {"token": "x.y.z"})
    pages["risolto"] = client.get("/risolto?articolo=come-richiedere-assistenza-servizi-email")
    outage = create_app(intake_test_config(tmp_path / "outage"))  # no search index at all
    pages["cerca-indice-assente"] = outage.test_client().get("/?q=posta")
    outage.extensions["intake.db"].dispose()
    assert [pages[p].status_code for p in ("rifiuto-428", "rifiuto-403")] == [428, 403]
    assert 'data-results="5"' in pages["cerca-risultati"].get_data(as_text=True)
    assert "La ricerca nella guida non è disponibile" in pages["cerca-indice-assente"].get_data(as_text=True)
    paths = []
    assert "Totale stimato" in pages["stima-calcola"].get_data(as_text=True)
    assert 'id="data_switch-error"' in pages["date-calcola"].get_data(as_text=True)
    assert 'id="piano_richiesto-error"' in pages["piano-rifiutato"].get_data(as_text=True)
    for name, response in pages.items():
        assert response.status_code in (200, 403, 404, 422, 428), name
        path = tmp_path / f"{name}.html"
        path.write_bytes(response.data)
        paths.append(path)
    errors = run_vnu(paths)
    assert errors == [], "\n".join(f"{e['url'].rsplit('/', 1)[-1]}:{e.get('lastLine')}: {e['message']}" for e in errors)
