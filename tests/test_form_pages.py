"""The form page as first shown is rendered once per type and filled in per request
(intake/form_pages.py): it must be, byte for byte, the page a full render gives."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from intake import form_pages, tickets
from intake.forms import request_type
from intake.views import render_form

from .intake_data import DEFINITIONS

NAMES = sorted(DEFINITIONS)
QUERIES = [
    "la posta non arriva",
    'Errore "550" <b>dal</b> server & l’invio di info@rossi.it',
    "costo 100% + IVA? rete a/b #1 = ok; (sì) ~ [x]",  # URL-encoded in the link back to the results
]


@pytest.mark.parametrize("name", NAMES)
def test_the_filled_in_page_is_the_fully_rendered_page(csrf_app, name):
    client = csrf_app.test_client()
    for query in QUERIES:  # the first fills the cache, the second comes from it
        token = client.search_token(name, query)
        client.get("/modulo/" + name, query_string={"token": token})  # the session gets its CSRF token
        with csrf_app.test_request_context(f"/modulo/{name}?token={token}", headers={"Cookie": cookie(client)}):
            search = tickets.check_gate(name)
            item = request_type(name)
            filled = form_pages.fresh_form_page(item, search).decode()
            full, _status = render_form(item, item.form_class(data={"oggetto": search.query}), search=search)
        assert filled == full
        assert form_pages.QUERY not in filled and form_pages.TOKEN not in filled and form_pages.CSRF not in filled


def cookie(client: FlaskClient) -> str:
    return f"session={client.get_cookie('session').value}"


def test_each_customer_gets_their_own_token_query_and_csrf_token(csrf_app):
    pages = []
    for query in QUERIES:
        client = csrf_app.test_client()
        token = client.search_token("email", query)
        page = client.get("/modulo/email", query_string={"token": token}).get_data(as_text=True)
        pages.append((page, token))
    for page, token in pages:
        assert f'name="token" value="{token}"' in page
        assert page.count('name="csrf_token" type="hidden" value="') == 1
    first, second = pages[0][0], pages[1][0]
    assert "Hai cercato «la posta non arriva»" in first
    assert "Hai cercato «Errore &#34;550&#34; &lt;b&gt;dal&lt;/b&gt; server &amp; l’invio di info@rossi.it»" in second
    csrf = [p.split('name="csrf_token" type="hidden" value="')[1].split('"')[0] for p in (first, second)]
    assert csrf[0] != csrf[1]
