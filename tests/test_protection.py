"""The intake on the open Internet: security headers everywhere, cookies, proxies, rate limits,
the honeypot, request size limits and static caching (intake/protection.py)."""

from __future__ import annotations

import re
import socket
import subprocess
import time

import pytest
from flask.testing import FlaskClient
from werkzeug.test import encode_multipart

from intake.db import Event, OutboxMessage, Ticket
from intake.protection import CONTENT_SECURITY_POLICY

from .conftest import customer_app, intake_test_config
from .helpers import count
from .intake_data import DEFINITIONS, valid_data
from .mailserver import free_port

EMAIL_FORM = DEFINITIONS["email"]
ARTICLE = "come-richiedere-assistenza-servizi-email"
REQUIRED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


def post_multipart_bytes(client, path: str, data: dict):
    """POST ``data`` as multipart/form-data, encoded here (werkzeug's client would spool a
    large body to a temporary file and leave it open when the server refuses it unread)."""
    boundary, body = encode_multipart(data)
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def make_app(tmp_path, kb_index, **overrides):
    app = customer_app(intake_test_config(tmp_path, KB_INDEX_DIR=str(kb_index), **overrides))
    return app


@pytest.fixture
def limited(tmp_path, kb_index):
    """The intake with low limits, as an operator might set them, behind one trusted proxy."""
    app = make_app(
        tmp_path,
        kb_index,
        RATELIMIT_SEARCH="3 per minute",
        RATELIMIT_API="2 per minute",
        RATELIMIT_SUBMIT="2 per minute",
        TRUSTED_PROXIES="1",
    )
    yield app
    app.extensions["intake.db"].dispose()


# --- security headers on every page ---------------------------------------------------------


def test_every_route_and_error_page_carries_the_security_headers(tmp_path, kb_index):
    """Crawl every route of the app (a new route fails here until it is listed), plus the
    error pages; each answer has the CSP and the other headers, and no HSTS over plain HTTP."""
    app = make_app(tmp_path, kb_index, TESTING=False, RATELIMIT_SEARCH="40 per minute")

    @app.get("/boom")  # an unexpected failure in production: the Italian 500 page
    def boom():
        raise RuntimeError("unexpected")

    client = app.test_client()
    token = client.search_token("extracontrattuale")
    confirmation = client.post("/modulo/email", data=valid_data(EMAIL_FORM))
    pages = {
        "static": [client.get("/static/intake.css"), client.get("/static/forms.js")],
        "flow.search_step": [client.get("/"), client.get("/?q=la+posta+non+arriva")],
        "flow.continue_request": [client.get("/apri?ricerca=x&tipo=email")],
        "flow.open_article": [client.get(f"/vai/{ARTICLE}?q=posta")],
        "flow.solved": [client.post("/risolto", data={"articolo": ARTICLE}), client.post("/risolto", data={"articolo": "x"})],
        "flow.solved_page": [client.get(f"/risolto?articolo={ARTICLE}")],
        "forms.types": [client.get("/tipi")],
        "forms.form": [
            client.get("/modulo/extracontrattuale", query_string={"token": token}),
            client.post("/modulo/email", data={}),
            confirmation,
            FlaskClient(app).post("/modulo/email", data=valid_data(EMAIL_FORM)),  # refused: 428
        ],
        "forms.deflection": [client.get("/deflessione/email/smtp-esterno")],
        "panels.panel": [client.get("/modulo/extracontrattuale/pannello/stima_costi?durata_ore=2")],
        "tickets.confirmation": [client.get(confirmation.location), client.get("/ricevuta/FPL-000-00000")],
        "api.search": [client.get("/api/cerca?q=posta")],
        "health.healthz": [client.get("/healthz")],
        "boom": [client.get("/boom")],
    }
    errors = [
        client.get("/non-esiste"),  # 404
        client.put("/tipi"),  # 405
        post_multipart_bytes(client, "/modulo/email", {"descrizione": "x" * 600_000}),  # 413
    ]
    errors += [client.get("/?q=ancora+posta") for _ in range(40)][-1:]  # 429 after the search limit

    routes = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert routes == set(pages), "list the new route's pages in this test"
    statuses = set()
    for endpoint, responses in [*pages.items(), ("errors", errors)]:
        for response in responses:
            where = f"{endpoint} {response.request.path} {response.status_code}"
            statuses.add(response.status_code)
            assert response.headers.get("Content-Security-Policy") == CONTENT_SECURITY_POLICY, where
            for name, value in REQUIRED_HEADERS.items():
                assert response.headers.get(name) == value, where
            assert "Strict-Transport-Security" not in response.headers, where
            response.close()  # static files are streamed from an open file
    assert {200, 302, 303, 400, 404, 405, 413, 428, 429, 500} <= statuses
    assert "Errore del servizio" in pages["boom"][0].get_data(as_text=True)
    assert "Troppe richieste" in errors[-1].get_data(as_text=True)
    app.extensions["intake.db"].dispose()


def test_the_policy_forbids_inline_code_and_framing():
    directives = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"


def test_hsts_and_secure_cookies_over_https_only(csrf_app):
    """The session cookie (which holds the CSRF token) is HttpOnly and SameSite always, Secure over HTTPS."""
    plain = FlaskClient(csrf_app).get("/?q=posta")
    assert "Strict-Transport-Security" not in plain.headers
    cookie = plain.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie

    secure = FlaskClient(csrf_app).get("/?q=posta", base_url="https://assistenza.example.it/")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    cookie = secure.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_https_is_recognised_through_a_trusted_proxy_only(limited, client):
    behind_proxy = limited.test_client().get("/", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"})
    assert behind_proxy.headers["Strict-Transport-Security"] == "max-age=31536000"
    # Without TRUSTED_PROXIES a client cannot claim HTTPS (or another address) by itself.
    direct = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in direct.headers


# --- static files ------------------------------------------------------------------------------


def test_static_files_have_versioned_urls_cached_for_a_year(client):
    page = client.get("/tipi").get_data(as_text=True)
    url = re.search(r'href="(/static/intake\.css\?v=[0-9a-f]{12})"', page).group(1)
    with client.get(url) as response:
        assert response.status_code == 200
        assert response.cache_control.max_age == 31536000 and response.cache_control.immutable
        etag = response.headers["ETag"]
    with client.get(url, headers={"If-None-Match": etag}) as again:
        assert again.status_code == 304
    # Without the version (an old page, a typed URL) an hour, then revalidated with the ETag.
    with client.get("/static/intake.css") as unversioned:
        assert unversioned.cache_control.max_age == 3600 and not unversioned.cache_control.immutable
    with client.get("/static/intake.css?v=000000000000") as stale:
        assert stale.cache_control.max_age == 3600


# --- rate limits -------------------------------------------------------------------------------


def test_too_many_searches_get_the_italian_429_page(limited):
    client = limited.test_client()
    assert client.get("/").status_code == 200  # showing the empty step is not a search
    for _ in range(3):
        assert client.get("/?q=la+posta+non+arriva").status_code == 200
    response = client.get("/?q=la+posta+non+arriva")
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "<h1>Troppe richieste</h1>" in page and "Hai fatto molte ricerche in poco tempo" in page
    assert int(response.headers["Retry-After"]) > 0
    assert count(limited, Event, kind="search") == 3  # the refused search is not counted
    # Another client behind the same (trusted) proxy has its own counter.
    other = limited.test_client().get("/?q=posta", headers={"X-Forwarded-For": "198.51.100.7"})
    assert other.status_code == 200


def test_a_client_cannot_escape_the_limit_by_forging_its_address(tmp_path, kb_index):
    app = make_app(tmp_path, kb_index, RATELIMIT_SEARCH="2 per minute")  # no trusted proxy
    client = app.test_client()
    codes = [client.get("/?q=posta", headers={"X-Forwarded-For": f"192.0.2.{i}"}).status_code for i in range(3)]
    assert codes == [200, 200, 429]
    app.extensions["intake.db"].dispose()


def test_the_api_answers_429_as_json_the_site_can_read(tmp_path, kb_index):
    app = make_app(tmp_path, kb_index, RATELIMIT_API="2 per minute", KB_SITE_URL="https://kb.example.it/")
    client = app.test_client()
    origin = {"Origin": "https://kb.example.it"}
    assert [client.get("/api/cerca?q=posta", headers=origin).status_code for _ in range(2)] == [200, 200]
    response = client.get("/api/cerca?q=posta", headers=origin)
    assert response.status_code == 429
    assert response.get_json()["results"] == [] and "ricerche" in response.get_json()["errore"]
    assert response.headers["Access-Control-Allow-Origin"] == "https://kb.example.it"
    app.extensions["intake.db"].dispose()


def test_a_form_sent_too_often_comes_back_with_everything_typed(limited):
    client = limited.test_client()
    subject = "Da ieri la casella info non riceve i messaggi dai clienti"
    data = valid_data(EMAIL_FORM, oggetto=subject, email="")  # refused (422): no address
    assert [client.post("/modulo/email", data=data).status_code for _ in range(2)] == [422, 422]
    response = client.post("/modulo/email", data=valid_data(EMAIL_FORM, oggetto=subject))
    page = response.get_data(as_text=True)
    assert response.status_code == 429
    assert "Abbiamo ricevuto molti invii da questa connessione" in page
    assert f'value="{subject}"' in page and 'name="token" value="' in page
    assert count(limited, Ticket) == 0


@pytest.fixture
def redis_url(tmp_path):
    """Debian's redis-server on 127.0.0.1 (installed by `make test`), nothing saved to disk."""
    port = free_port()
    command = ["/usr/bin/redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(tmp_path)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert process.poll() is None and time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


def test_instances_sharing_one_redis_share_the_limits(tmp_path, kb_index, redis_url):
    """Two instances (two apps, as two servers would run) behind the same proxy: one counter."""
    apps = [
        make_app(tmp_path / name, kb_index, RATELIMIT_SEARCH="3 per minute", RATELIMIT_STORAGE_URL=redis_url, TRUSTED_PROXIES="1")
        for name in ("uno", "due")
    ]
    client = {"X-Forwarded-For": "203.0.113.50"}
    first, second = (app.test_client() for app in apps)
    codes = [c.get("/?q=posta", headers=client).status_code for c in (first, second, first, second)]
    assert codes == [200, 200, 200, 429]
    for app in apps:
        app.extensions["intake.db"].dispose()


# --- honeypot ---------------------------------------------------------------------------------


def test_every_storing_form_has_the_honeypot_hidden_from_people(client):
    pages = [client.get(f"/modulo/{name}").get_data(as_text=True) for name in DEFINITIONS]
    pages.append(client.get("/?q=la+posta+non+arriva").get_data(as_text=True))  # the "risolto" forms
    for page in pages:
        forms = re.findall(r'<form [^>]*method="post".*?</form>', page, re.S)
        assert forms
        for form in forms:
            assert re.search(r'<div class="hp" aria-hidden="true">\s*<label for="website-[^"]+">', form)
            assert re.search(r'<input type="text" id="website-[^"]+" name="website" value="" tabindex="-1" autocomplete="off">', form)


def test_a_bot_filling_the_honeypot_gets_a_neutral_answer_and_nothing_is_stored(client, app):
    response = client.post("/modulo/email", data=valid_data(EMAIL_FORM) | {"website": "http://spam.example"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Grazie, abbiamo ricevuto il modulo." in page and "FPL-" not in page
    assert count(app, Ticket) == 0 and count(app, OutboxMessage) == 0 and count(app, Event, kind="ticket") == 0
    # A person's submission of the same form is stored as usual.
    assert client.post("/modulo/email", data=valid_data(EMAIL_FORM) | {"website": ""}).status_code == 303
    assert count(app, Ticket) == 1


def test_a_bot_clicking_risolto_is_not_counted(client, app):
    response = client.post("/risolto", data={"articolo": ARTICLE, "q": "posta", "website": "x"})
    assert response.status_code == 303 and response.location.startswith("/risolto?")
    assert count(app, Event, kind="deflection") == 0


# --- request size ----------------------------------------------------------------------------


def test_an_absurdly_long_text_field_is_refused_with_the_italian_page(client, app):
    """The forms are multipart: one text part above MAX_FORM_MEMORY_SIZE (500 kB) is cut unread."""
    response = post_multipart_bytes(client, "/modulo/email", valid_data(EMAIL_FORM, descrizione="x" * 600_000))
    assert response.status_code == 413
    assert "supera il limite" in response.get_data(as_text=True)
    assert count(app, Ticket) == 0
