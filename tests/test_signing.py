"""The intake signs with less work per request (intake/signing.py) but the same bytes: a
customer's session, search token and CSRF token issued before a deployment still work after
it, and the other way round (a rollback), and forged ones are still refused."""

from __future__ import annotations

import re

import pytest
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import generate_csrf, validate_csrf
from itsdangerous import BadSignature, URLSafeTimedSerializer
from wtforms import ValidationError

from intake import gate, signing

from .intake_data import DEFINITIONS, error_ids, valid_data

GENERICO = DEFINITIONS["generico"]
CSRF_FIELD = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def plain_session_serializer(app):
    """The cookie serializer of Flask's own session interface, as the intake used it before."""
    return SecureCookieSessionInterface().get_signing_serializer(app)


def test_a_session_of_plain_flask_opens_and_ours_opens_in_plain_flask(csrf_app):
    client = csrf_app.test_client()
    page = client.get("/modulo/generico").get_data(as_text=True)  # the session gets its CSRF token
    ours = client.get_cookie("session").value
    content = plain_session_serializer(csrf_app).loads(ours)
    assert set(content) >= {"csrf_token"}

    # A browser with a cookie of the previous version sends the form: its CSRF token is accepted.
    before_deploy = plain_session_serializer(csrf_app).dumps(content)
    browser = csrf_app.test_client()
    browser.set_cookie("session", before_deploy)
    token = CSRF_FIELD.search(page).group(1)
    response = browser.post("/modulo/generico", data=valid_data(GENERICO) | {"csrf_token": token})
    assert response.status_code == 303, error_ids(response.get_data(as_text=True))


def test_a_session_signed_with_a_retired_key_still_opens(csrf_app):
    """SECRET_KEY_FALLBACKS: a key rotation keeps the customers' sessions."""
    old_key = csrf_app.secret_key
    old_cookie = plain_session_serializer(csrf_app).dumps({"csrf_token": "a" * 40})
    csrf_app.config.update(SECRET_KEY="k" * 64, SECRET_KEY_FALLBACKS=[old_key])
    assert csrf_app.session_interface.get_signing_serializer(csrf_app).loads(old_cookie) == {"csrf_token": "a" * 40}
    fresh = csrf_app.session_interface.get_signing_serializer(csrf_app).dumps({"x": 1})
    csrf_app.config.update(SECRET_KEY_FALLBACKS=[])
    assert csrf_app.session_interface.get_signing_serializer(csrf_app).loads(fresh) == {"x": 1}
    with pytest.raises(BadSignature):
        csrf_app.session_interface.get_signing_serializer(csrf_app).loads(old_cookie)


def test_a_forged_session_opens_empty(csrf_app):
    cookie = plain_session_serializer(csrf_app).dumps({"searches": [["nonce", "FPL-000-00001"]]})
    payload, timestamp, signature = cookie.rsplit(".", 2)
    forged = f"{payload}.{timestamp}.{signature[:-2]}AA"
    with csrf_app.test_request_context(headers={"Cookie": f"session={forged}"}):
        from flask import session

        assert dict(session) == {}


def test_search_tokens_of_plain_itsdangerous_verify_and_ours_load_in_it():
    key = "s" * 64
    plain = URLSafeTimedSerializer(key, salt=gate.SALT)
    search_gate = gate.SearchGate(key)
    issued_before = plain.dumps({"q": "la posta non arriva", "a": ["posta"], "t": "email", "n": "n1"})
    assert search_gate.verify(issued_before, "email").query == "la posta non arriva"
    ours = search_gate.issue("errore 550", ["errore-550"], "email")
    assert plain.loads(ours)["q"] == "errore 550"
    with pytest.raises(gate.TokenInvalid):
        search_gate.verify(issued_before[:-3] + "xyz", "email")
    with pytest.raises(gate.TokenInvalid):
        gate.SearchGate("t" * 64).verify(ours, "email")  # another secret key


def test_the_csrf_token_is_flask_wtfs(csrf_app):
    """Flask-WTF checks the token the form page carries, and makes the same one."""
    with csrf_app.test_request_context("/modulo/generico"):
        ours = signing.csrf_token()
        validate_csrf(ours)  # raises ValidationError if Flask-WTF refused it
        assert generate_csrf() == ours  # one token per request, in g, for WTForms' fields too
        from flask import g

        del g.csrf_token
        theirs = generate_csrf()
        assert theirs.split(".")[0] == ours.split(".")[0]  # the same raw token; signed at its own time
        validate_csrf(theirs)
    with csrf_app.test_request_context("/modulo/generico"):  # another session: refused
        signing.csrf_token()
        with pytest.raises(ValidationError):
            validate_csrf(ours)
