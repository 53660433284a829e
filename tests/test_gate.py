"""The search token: issued by the search step, required by the form POST, single use."""

from __future__ import annotations

import base64
import json
import time

import pytest

from intake.gate import (
    GateError,
    SearchGate,
    TokenExpired,
    TokenInvalid,
    TokenMissing,
    TokenUsed,
    TokenWrongType,
    italian_duration,
)
from intake.settings import ConfigError

SECRET = "test-secret-key"


class Clock:
    """Seconds since the epoch, moved by the test."""

    def __init__(self, now: float = 1_764_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def gate(clock):
    return SearchGate(SECRET, clock=clock)


def test_a_fresh_token_gives_back_what_was_searched(gate):
    token = gate.issue("non ricevo posta", ["email/configurare-outlook", "email/spam"], "email")
    claims = gate.verify(token, "email")
    assert claims.query == "non ricevo posta"
    assert claims.article_slugs == ("email/configurare-outlook", "email/spam")
    assert claims.request_type == "email"
    assert len(claims.nonce) >= 16
    assert claims.issued_at.tzinfo is not None


def test_each_search_gets_its_own_nonce(gate):
    first = gate.verify(gate.issue("pec", [], "generico"), "generico")
    second = gate.verify(gate.issue("pec", [], "generico"), "generico")
    assert first.nonce != second.nonce


def test_a_type_chosen_after_the_search_keeps_the_searchs_nonce(gate):
    # The search step signs what it showed before a type is chosen; the token of the type
    # picked carries the same nonce, so one search stores one ticket whatever the type.
    shown = gate.verify(gate.issue("pec", ["pec-scaduta"], ""), "")
    chosen = gate.verify(gate.issue(shown.query, shown.article_slugs, "commerciale", nonce=shown.nonce), "commerciale")
    assert (chosen.query, chosen.article_slugs, chosen.nonce) == ("pec", ("pec-scaduta",), shown.nonce)
    with pytest.raises(TokenWrongType):
        gate.verify(gate.issue("pec", [], ""), "commerciale")  # no type chosen: no form accepts it


def test_verifying_does_not_consume_the_token(gate):
    # A form sent back with validation errors is corrected and sent again with the same token.
    token = gate.issue("dns", [], "generico")
    assert gate.verify(token, "generico") == gate.verify(token, "generico")


@pytest.mark.parametrize("token", [None, "", "   "])
def test_missing_token_asks_to_search_first(gate, token):
    with pytest.raises(TokenMissing) as info:
        gate.verify(token, "email")
    assert info.value.status == 428
    assert "cerca il tuo problema" in info.value.message


def test_token_just_before_expiry_is_accepted_and_after_it_refused(gate, clock):
    token = gate.issue("pec", [], "email")
    clock.now += 2 * 60 * 60
    assert gate.verify(token, "email").query == "pec"
    clock.now += 1
    with pytest.raises(TokenExpired) as info:
        gate.verify(token, "email")
    assert info.value.status == 428
    assert "è scaduta: vale 2 ore" in info.value.message


def test_lifetime_is_configurable(clock):
    gate = SearchGate(SECRET, max_age=15 * 60, clock=clock)
    token = gate.issue("pec", [], "email")
    clock.now += 15 * 60 + 1
    with pytest.raises(TokenExpired) as info:
        gate.verify(token, "email")
    assert "vale 15 minuti" in info.value.message


def test_expiry_with_the_real_clock():
    real = SearchGate(SECRET)
    token = real.issue("pec", [], "email")
    time.sleep(1.1)
    with pytest.raises(TokenExpired):
        real.verify(token, "email", max_age=0)


def _payload(token: str) -> dict:
    body = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def _with_payload(token: str, payload: dict) -> str:
    body = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).rstrip(b"=").decode()
    return ".".join([body, *token.split(".")[1:]])


def tampered_tokens(gate):
    token = gate.issue("non ricevo posta", ["email/spam"], "email")
    other_type = _with_payload(token, {**_payload(token), "t": "commerciale"})
    other_articles = _with_payload(token, {**_payload(token), "a": []})
    flipped = token[:-3] + ("AAA" if token[-3:] != "AAA" else "BBB")
    foreign = SearchGate("another-secret").issue("non ricevo posta", ["email/spam"], "email")
    return {
        "request type edited": other_type,
        "articles edited": other_articles,
        "signature edited": flipped,
        "signed with another key": foreign,
        "garbage": "not-a-token",
        "truncated": token[: len(token) // 2],
    }


@pytest.mark.parametrize(
    "case",
    ["request type edited", "articles edited", "signature edited", "signed with another key", "garbage", "truncated"],
)
def test_tampered_or_malformed_tokens_are_refused(gate, case):
    token = tampered_tokens(gate)[case]
    with pytest.raises(TokenInvalid) as info:
        gate.verify(token, "commerciale" if case == "request type edited" else "email")
    assert info.value.status == 403
    assert "danneggiato o è stato modificato" in info.value.message


def test_token_for_another_request_type_is_refused(gate):
    token = gate.issue("preventivo server", [], "commerciale")
    with pytest.raises(TokenWrongType) as info:
        gate.verify(token, "extracontrattuale")
    assert info.value.status == 403
    assert "un altro tipo di richiesta" in info.value.message


def test_replayed_token_is_refused_once_a_ticket_was_stored(gate, store_ticket, intake_db):
    token = gate.issue("non ricevo posta", [], "email")
    claims = gate.verify(token, "email")
    store_ticket(nonce=claims.nonce)

    replay = gate.verify(token, "email")  # still genuine and fresh...
    with pytest.raises(TokenUsed) as info:  # ...but its ticket is already stored
        store_ticket(nonce=replay.nonce)
    assert info.value.status == 403
    assert "già stata inviata" in info.value.message


def test_every_refusal_has_its_own_italian_explanation(gate):
    kinds = [TokenMissing(), TokenInvalid(), TokenExpired(max_age=7200), TokenWrongType(), TokenUsed()]
    assert all(isinstance(k, GateError) for k in kinds)
    messages = [k.message for k in kinds]
    assert len(set(messages)) == len(messages)
    assert all("qui sotto" in m for m in messages)  # each one points at the search step shown below it


def test_long_queries_are_bounded_in_the_token(gate):
    claims = gate.verify(gate.issue("x" * 5000, [f"a/{i}" for i in range(100)], "email"), "email")
    assert len(claims.query) == 500 and len(claims.article_slugs) == 20


@pytest.mark.parametrize(
    ("seconds", "text"), [(7200, "2 ore"), (3600, "1 ora"), (5400, "90 minuti"), (60, "1 minuto"), (1, "1 minuto")]
)
def test_lifetime_in_italian(seconds, text):
    assert italian_duration(seconds) == text


@pytest.mark.parametrize(("secret", "max_age"), [("", 7200), (None, 7200), ("k", 0), ("k", -5)])
def test_gate_refuses_unusable_configuration(secret, max_age):
    with pytest.raises(ConfigError):
        SearchGate(secret, max_age=max_age)
