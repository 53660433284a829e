"""Our own intake pages are valid HTML (the Nu checker, run once on every kind of page)."""

from __future__ import annotations

from intake import DEFAULT_FORMS_DIR
from intake.formspec import load_definitions

from .helpers import run_vnu
from .intake_data import post_multipart, valid_data
from .samples import pdf_bytes

DEFINITIONS = load_definitions(DEFAULT_FORMS_DIR)


def test_pages_validate_clean(client, tmp_path):
    pages = {"tipi": client.get("/tipi"), "404": client.get("/modulo/vpn")}
    for name, definition in DEFINITIONS.items():
        pages[name] = client.get(f"/modulo/{name}")
        pages[f"{name}-errors"] = client.post(f"/modulo/{name}", data={})
        pages[f"{name}-valid"] = post_multipart(
            client, f"/modulo/{name}", valid_data(definition), [("fattura.pdf", pdf_bytes())]
        )
    pages["deflection"] = client.get("/deflessione/email/smtp-esterno")
    pages["files-lost"] = post_multipart(
        client, "/modulo/generico", valid_data(DEFINITIONS["generico"], oggetto="aiuto"), [("a.pdf", pdf_bytes())]
    )
    paths = []
    for name, response in pages.items():
        assert response.status_code in (200, 404, 422), name
        path = tmp_path / f"{name}.html"
        path.write_bytes(response.data)
        paths.append(path)
    errors = run_vnu(paths)
    assert errors == [], "\n".join(f"{e['url'].rsplit('/', 1)[-1]}:{e.get('lastLine')}: {e['message']}" for e in errors)
