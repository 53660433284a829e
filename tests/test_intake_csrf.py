"""CSRF protection is on in production: a POST without the page's token is refused."""

from __future__ import annotations

import re


from .intake_data import DEFINITIONS, error_ids, valid_data

GENERICO = DEFINITIONS["generico"]


def token_of(page: str) -> str:
    return re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_post_without_token_is_refused_and_keeps_the_values(csrf_app):
    client = csrf_app.test_client()
    client.get("/modulo/generico")
    response = client.post("/modulo/generico", data=valid_data(GENERICO))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Il modulo è scaduto oppure non è stato inviato da questa pagina" in page
    assert "La richiesta è completa" not in page
    assert 'value="Errore 550 inviando da info@example.it verso Gmail"' in page
    assert token_of(page)  # a fresh token to send the form again


def test_post_with_a_forged_token_is_refused(csrf_app):
    client = csrf_app.test_client()
    client.get("/modulo/generico")
    response = client.post("/modulo/generico", data=valid_data(GENERICO) | {"csrf_token": "forged.token.value"})
    assert response.status_code == 400


def test_token_from_another_session_is_refused(csrf_app):
    other = csrf_app.test_client()
    token = token_of(other.get("/modulo/generico").get_data(as_text=True))
    client = csrf_app.test_client()
    client.get("/modulo/generico")
    assert client.post("/modulo/generico", data=valid_data(GENERICO) | {"csrf_token": token}).status_code == 400


def test_post_with_the_page_token_passes(csrf_app):
    client = csrf_app.test_client()
    token = token_of(client.get("/modulo/generico").get_data(as_text=True))
    response = client.post("/modulo/generico", data=valid_data(GENERICO) | {"csrf_token": token})
    assert response.status_code == 303, error_ids(response.get_data(as_text=True))
    assert "Richiesta inviata" in client.get(response.location).get_data(as_text=True)


def test_deflection_also_needs_the_token(csrf_app):
    client = csrf_app.test_client()
    client.get("/modulo/email")
    data = {"tipo_problema": "errore", "direzione": "trasmissione", "server_smtp": "altro"}
    assert client.post("/modulo/email", data=data).status_code == 400
