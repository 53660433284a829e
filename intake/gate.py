"""The search-before-submit gate (SPEC I4): a signed, timestamped, single-use search token.

The search step calls :func:`issue` with what it searched and showed; the form POST must
bring the token back and :func:`verify` checks it. The token carries a random nonce that
the store saves with the ticket under a UNIQUE constraint, so a token stores one ticket
only, while a form sent back with validation errors can be corrected and sent again.

Every refusal is a :class:`GateError` subclass with the HTTP status to answer with and an
Italian explanation for the customer (the view shows it above the search step).
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from itsdangerous import BadData, SignatureExpired, TimestampSigner

from .settings import DEFAULT_TOKEN_MAX_AGE, ConfigError, app_settings
from .signing import Serializer

SALT = "intake.search-gate.v1"
MAX_QUERY_CHARS = 500  # the token travels in a hidden field: keep it small
MAX_ARTICLES = 20


class GateError(Exception):
    """The form was sent without a usable search token; nothing may be stored."""

    status = 403
    message = "Per aprire una richiesta devi prima cercare il tuo problema. Descrivilo qui sotto."

    def __init__(self, detail: str = ""):
        super().__init__(detail or self.__class__.__name__)
        self.detail = detail  # for logs, never shown to the customer


class TokenMissing(GateError):
    status = 428  # Precondition Required: search first
    message = (
        "Prima di aprire una richiesta cerca il tuo problema nella guida: spesso la soluzione "
        "è già lì. Descrivi il problema qui sotto; se nessun articolo ti aiuta, potrai "
        "compilare il modulo."
    )


class TokenInvalid(GateError):
    message = (
        "Non possiamo accettare il modulo: il collegamento con la ricerca che hai fatto è "
        "danneggiato o è stato modificato. Ripeti la ricerca qui sotto per continuare."
    )


class TokenExpired(GateError):
    status = 428  # an honest customer who took long: searching again fixes it
    message = (
        "La ricerca che hai fatto è scaduta: vale {lifetime}. Ripeti la ricerca qui sotto; "
        "se nessun articolo ti aiuta, potrai compilare di nuovo il modulo."
    )

    def __init__(self, detail: str = "", max_age: int = DEFAULT_TOKEN_MAX_AGE):
        super().__init__(detail)
        self.message = self.message.format(lifetime=italian_duration(max_age))


class TokenWrongType(GateError):
    message = (
        "La ricerca che hai fatto riguarda un altro tipo di richiesta. Ripeti la ricerca qui "
        "sotto e scegli il modulo adatto al tuo problema."
    )


class TokenUsed(GateError):
    message = (
        "Questa richiesta è già stata inviata: ogni ricerca permette di aprire una sola "
        "richiesta. Se devi segnalare un altro problema, fai una nuova ricerca qui sotto."
    )


@dataclass(frozen=True)
class GateClaims:
    """What the search step signed: shown to the form view, saved with the ticket."""

    query: str
    article_slugs: tuple[str, ...]
    request_type: str
    nonce: str
    issued_at: dt.datetime


class _ClockSigner(TimestampSigner):
    """itsdangerous' timestamp signer with its clock replaceable (``get_timestamp`` is the hook)."""

    clock: Callable[[], float] = staticmethod(time.time)

    def get_timestamp(self) -> int:
        return int(self.clock())


class SearchGate:
    """Issue and verify search tokens signed with ``secret_key``.

    :param max_age: lifetime in seconds (default 2 hours).
    :param clock: seconds since the epoch; tests pass a fake one to move time.
    """

    def __init__(self, secret_key: str | bytes, max_age: int = DEFAULT_TOKEN_MAX_AGE, clock: Callable[[], float] | None = None):
        if not secret_key:
            raise ConfigError("SECRET_KEY: the search gate needs a secret key to sign its tokens")
        if max_age <= 0:
            raise ConfigError(f"SEARCH_TOKEN_MAX_AGE: expected seconds above 0 but received: {max_age!r}")
        signer = type("Signer", (_ClockSigner,), {"clock": staticmethod(clock or time.time)})
        self.max_age = max_age
        self._serializer = Serializer(secret_key, salt=SALT, signer=signer)

    def issue(self, query: str, article_slugs: Sequence[str], request_type: str, nonce: str | None = None) -> str:
        """A token for a search of ``query`` that showed ``article_slugs``, valid for ``request_type``.

        :param nonce: the nonce of an earlier token of the same search (default: a new one).
            The search step first signs what it showed with no type chosen yet, then issues
            the token of the type the customer picks with that token's nonce, so one search
            still stores at most one ticket, whichever type is picked.
        """
        payload = {
            "q": str(query)[:MAX_QUERY_CHARS],
            "a": [str(slug) for slug in list(article_slugs)[:MAX_ARTICLES]],
            "t": str(request_type),
            "n": nonce or secrets.token_urlsafe(16),
        }
        return self._serializer.dumps(payload)

    def verify(self, token: str | None, request_type: str, max_age: int | None = None) -> GateClaims:
        """The claims of ``token`` if it is genuine, unexpired and issued for ``request_type``.

        Does not consume it: the store does, when it saves the ticket with ``claims.nonce``.

        :raise TokenMissing, TokenInvalid, TokenExpired, TokenWrongType:
        """
        max_age = self.max_age if max_age is None else max_age
        if not token or not str(token).strip():
            raise TokenMissing("no search token in the request")
        try:
            payload, issued_at = self._serializer.loads(str(token).strip(), max_age=max_age, return_timestamp=True)
        except SignatureExpired as exc:
            raise TokenExpired(str(exc), max_age=max_age) from exc
        except BadData as exc:  # bad signature, bad timestamp, undecodable payload
            raise TokenInvalid(str(exc)) from exc
        claims = _claims(payload, issued_at)
        if claims.request_type != request_type:
            raise TokenWrongType(f"token for {claims.request_type!r}, form {request_type!r}")
        return claims


def _claims(payload, issued_at: dt.datetime) -> GateClaims:
    # A genuine signature over a payload of another shape (an old token format) is refused too.
    try:
        query, slugs, request_type, nonce = payload["q"], payload["a"], payload["t"], payload["n"]
        if not isinstance(slugs, list) or not all(isinstance(v, str) for v in (query, request_type, nonce, *slugs)):
            raise TypeError
        if not nonce:
            raise TypeError
    except (TypeError, KeyError) as exc:
        # The payload holds the customer's query: its shape only goes into the detail (logged).
        raise TokenInvalid(f"unexpected payload of type {type(payload).__name__}") from exc
    return GateClaims(query, tuple(slugs), request_type, nonce, issued_at)


def italian_duration(seconds: int) -> str:
    """``7200`` -> ``"2 ore"``, ``5400`` -> ``"90 minuti"``, ``60`` -> ``"1 minuto"``."""
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return "1 ora" if hours == 1 else f"{hours} ore"
    minutes = max(1, round(seconds / 60))
    return "1 minuto" if minutes == 1 else f"{minutes} minuti"


def init_app(app) -> SearchGate:
    """Create the app's gate from ``SECRET_KEY`` and ``SEARCH_TOKEN_MAX_AGE``."""
    settings = app_settings(app)
    gate = SearchGate(app.config.get("SECRET_KEY"), max_age=settings.token_max_age)
    app.extensions["intake.gate"] = gate
    return gate


def issue(query: str, article_slugs: Sequence[str], request_type: str, nonce: str | None = None) -> str:
    """:meth:`SearchGate.issue` with the current app's gate."""
    from flask import current_app

    return current_app.extensions["intake.gate"].issue(query, article_slugs, request_type, nonce)


def verify(token: str | None, request_type: str, max_age: int | None = None) -> GateClaims:
    """:meth:`SearchGate.verify` with the current app's gate."""
    from flask import current_app

    return current_app.extensions["intake.gate"].verify(token, request_type, max_age)
