"""The search gate holds against a client that skips the search step (curl, scripts, replays).

Every attempt is a plain ``FlaskClient`` that sends only what the test gives it; each is
refused with its status (428: search first; 403: a token that cannot be accepted), an
Italian page that shows the search step again, and no ticket, file or e-mail stored.
"""

from __future__ import annotations

import base64
import json
import re
import time
import zlib

import pytest
from flask.testing import FlaskClient

from intake.gate import SearchGate

from .helpers import NOTHING, stored
from .intake_data import DEFINITIONS, valid_data

SUBJECT = "Errore 550 inviando da info@example.it verso Gmail"


@pytest.fixture
def curl(app):
    """A client that never passes through the search step by itself."""
    return FlaskClient(app)


def real_token(app, tipo: str = "email") -> str:
    """A token as the search step issues it (through HTTP, as a customer would get it)."""
    return app.test_client().search_token(tipo)


def tamper(token: str) -> str:
    """The token with its payload rewritten (type "commerciale") and the old signature kept."""
    compressed = token.startswith(".")
    payload, timestamp, signature = token.lstrip(".").split(".")
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    data = json.loads(zlib.decompress(raw) if compressed else raw)
    data["t"] = "commerciale"
    encoded = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{encoded}.{timestamp}.{signature}"


def assert_refused(response, status: int, message: str):
    page = " ".join(response.get_data(as_text=True).split())
    assert response.status_code == status, page[:500]
    assert 'lang="it"' in page and "La richiesta non è stata inviata" in page
    assert message in page
    # The search step again, ready to search the subject the customer had typed.
    assert "<h1>Descrivi il problema</h1>" in page
    assert '<form class="search-form" method="get" action="/"' in page
    return page


def test_post_without_token_is_refused_with_428_and_the_search_step(curl, app):
    response = curl.post("/modulo/email", data=valid_data(DEFINITIONS["email"]))
    page = assert_refused(response, 428, "Prima di aprire una richiesta cerca il tuo problema nella guida")
    assert f'value="{SUBJECT}"' in page  # the subject becomes the description to search
    assert '<input type="hidden" name="tipo" value="email">' in page
    assert stored(app) == NOTHING


def test_expired_token_is_refused_with_428(curl, app):
    # Genuinely signed with the app's key, three hours ago (the lifetime is two).
    gate = SearchGate(app.config["SECRET_KEY"], clock=lambda: time.time() - 3 * 3600)
    token = gate.issue("la posta non arriva", ["come-richiedere-assistenza-servizi-email"], "email")
    response = curl.post("/modulo/email", data=valid_data(DEFINITIONS["email"]) | {"token": token})
    assert_refused(response, 428, "La ricerca che hai fatto è scaduta: vale 2 ore.")
    assert stored(app) == NOTHING


@pytest.mark.parametrize(
    "spoil",
    [
        pytest.param(tamper, id="payload-edited"),
        pytest.param(lambda t: t[:-3] + ("AAA" if not t.endswith("AAA") else "BBB"), id="signature-edited"),
        pytest.param(lambda t: t[: len(t) // 2], id="cut"),
        pytest.param(lambda t: "x" * 40, id="garbage"),
    ],
)
def test_tampered_token_is_refused_with_403(curl, app, spoil):
    token = spoil(real_token(app, "email"))
    response = curl.post("/modulo/email", data=valid_data(DEFINITIONS["email"]) | {"token": token})
    assert_refused(response, 403, "il collegamento con la ricerca che hai fatto è danneggiato o è stato modificato")
    assert stored(app) == NOTHING


def test_token_signed_with_another_key_is_refused(curl, app):
    token = SearchGate("not-our-key").issue("la posta non arriva", [], "email")
    response = curl.post("/modulo/email", data=valid_data(DEFINITIONS["email"]) | {"token": token})
    assert_refused(response, 403, "danneggiato o è stato modificato")
    assert stored(app) == NOTHING


def test_token_of_another_request_type_is_refused_with_403(curl, app):
    token = real_token(app, "generico")
    response = curl.post("/modulo/email", data=valid_data(DEFINITIONS["email"]) | {"token": token})
    assert_refused(response, 403, "La ricerca che hai fatto riguarda un altro tipo di richiesta")
    assert stored(app) == NOTHING


def test_the_results_pages_own_token_opens_no_form(curl, app):
    """The results page signs the search before a type is chosen: that token fits no form."""
    page = app.test_client().get("/?q=la+posta+non+arriva").get_data(as_text=True)
    record = re.search(r'name="ricerca" value="([^"]+)"', page).group(1)
    response = curl.post("/modulo/email", data=valid_data(DEFINITIONS["email"]) | {"token": record})
    assert_refused(response, 403, "riguarda un altro tipo di richiesta")
    assert stored(app) == NOTHING


def test_replayed_token_is_refused_with_403_once_it_stored_a_ticket(app, database_url):  # SQLite and PostgreSQL
    customer = app.test_client()
    token = customer.search_token("email")
    data = valid_data(DEFINITIONS["email"]) | {"token": token}
    assert customer.post("/modulo/email", data=data).status_code == 303
    before = stored(app)
    assert before["tickets"] == 1
    replay = FlaskClient(app).post("/modulo/email", data=data | {"oggetto": "Errore 550 anche verso Libero"})
    page = assert_form_refused_with_answers_kept(replay, data | {"oggetto": "Errore 550 anche verso Libero"})
    assert "Vedi la richiesta" not in page  # another session: nothing about the ticket is shown
    assert stored(app) == before


def assert_form_refused_with_answers_kept(response, data: dict) -> str:
    """403: the form again, the "already sent" refusal on top, every answer typed still in it."""
    page = " ".join(response.get_data(as_text=True).split())
    assert response.status_code == 403, page[:500]
    assert "Questa richiesta è già stata inviata: ogni ricerca permette di aprire una sola richiesta." in page
    assert "Quello che hai scritto è ancora qui sotto" in page
    assert 'class="request-form"' in page
    for name in ("oggetto", "caselle", "client_nome", "nome", "email"):
        assert f'name="{name}"' in page and f'value="{data[name]}"' in page, name
    assert data["descrizione"] in page
    return page


def test_a_used_tokens_form_opened_in_another_browser_is_refused_on_sending_with_everything_kept(app, database_url):  # SQLite and PostgreSQL
    """The form page asks only the browser's own session whether its search was used (the
    database is asked when the form is sent): a link opened elsewhere shows the form, and
    sending it is refused without losing what was typed there."""
    customer = app.test_client()
    token = customer.search_token("email")
    assert customer.post("/modulo/email", data=valid_data(DEFINITIONS["email"]) | {"token": token}).status_code == 303
    before = stored(app)
    elsewhere = FlaskClient(app)
    shown = elsewhere.get("/modulo/email", query_string={"token": token})
    assert shown.status_code == 200
    assert 'class="request-form"' in shown.get_data(as_text=True)
    typed = valid_data(DEFINITIONS["email"]) | {"token": token, "nome": "Giulia Bianchi", "descrizione": "Scritto in un altro browser."}
    page = assert_form_refused_with_answers_kept(elsewhere.post("/modulo/email", data=typed), typed)
    assert f'<input type="hidden" name="token" value="{token}">' in page
    assert stored(app) == before


def test_the_browser_that_sent_the_form_is_told_so_when_it_opens_it_again(app):
    customer = app.test_client()
    token = customer.search_token("email")
    sent = customer.post("/modulo/email", data=valid_data(DEFINITIONS["email"]) | {"token": token})
    assert sent.status_code == 303
    ticket_id = sent.location.rsplit("/", 1)[1]
    page = assert_refused(customer.get("/modulo/email", query_string={"token": token}), 403, "Questa richiesta è già stata inviata")
    assert f'<a href="/ricevuta/{ticket_id}">Vedi la richiesta {ticket_id} che hai già inviato</a>' in page
    assert 'class="request-form"' not in page


@pytest.mark.parametrize(
    ("token", "status"),
    [(None, 303), ("rotto", 403), ("generico", 403)],
)
def test_the_form_page_itself_needs_the_token(curl, app, token, status):
    if token == "generico":
        token = real_token(app, "generico")
    response = curl.get("/modulo/email", query_string={"token": token} if token else {})
    assert response.status_code == status
    if status == 303:
        assert response.location == "/?tipo=email"  # a plain link: straight to the search step
    else:
        assert "<h1>Descrivi il problema</h1>" in response.get_data(as_text=True)
        assert 'class="request-form"' not in response.get_data(as_text=True)


def test_a_refused_post_stores_no_attachment_either(curl, app):
    from .intake_data import post_multipart
    from .samples import pdf_bytes

    response = post_multipart(curl, "/modulo/generico", valid_data(DEFINITIONS["generico"]), [("fattura.pdf", pdf_bytes())])
    assert response.status_code == 428
    assert stored(app) == NOTHING
    assert not (app.extensions["intake.settings"].attachments_dir).exists()
