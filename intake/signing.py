"""itsdangerous' signed values, byte for byte, with the work that depends only on the key done once.

Every page of the intake checks or makes two or three signatures: the session cookie, the
search token, the CSRF token. itsdangerous builds a new signer for each of them, derives its
key from the secret key again, and computes the HMAC in pure Python: ``hmac.new`` takes its
slow path because itsdangerous' default digest is a Python function (``_lazy_sha1``), not
hashlib's. Together that was about a fifth of the form page's CPU (``make bench``).

:class:`Serializer` keeps one signer per salt, each signer derives its key once per secret
key, and the HMAC is one call to ``hmac.digest`` with the digest's name. The tokens and
cookies are the same bytes as before (a test compares them with plain itsdangerous), so
nothing issued before a deployment becomes invalid.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from itsdangerous import Signer, TimestampSigner, URLSafeTimedSerializer
from itsdangerous.signer import HMACAlgorithm


class _OneCallHMAC(HMACAlgorithm):
    """HMACAlgorithm's signature in one call into OpenSSL (``hmac.digest``)."""

    def __init__(self, digest_method):
        super().__init__(digest_method)
        self.digest_name = digest_method().name  # "sha1" for itsdangerous' default

    def get_signature(self, key: bytes, value: bytes) -> bytes:
        return hmac.digest(key, value, self.digest_name)


class _KeyOnceMixin:
    """A signer that derives its key once per secret key (the derivation reads only the
    secret key, the salt and the settings, all fixed for the signer's life)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if type(self.algorithm) is HMACAlgorithm:  # the default: same result, one call
            self.algorithm = _OneCallHMAC(self.digest_method)
        self._derived: dict[bytes | str | None, bytes] = {}

    def derive_key(self, secret_key=None) -> bytes:
        key = self._derived.get(secret_key)
        if key is None:
            key = self._derived[secret_key] = super().derive_key(secret_key)
        return key


def key_once(signer: type[Signer]) -> type[Signer]:
    """``signer`` (a Signer class) deriving its key once and signing in one call."""
    return type(signer.__name__, (_KeyOnceMixin, signer), {"__doc__": signer.__doc__})


class Serializer(URLSafeTimedSerializer):
    """URLSafeTimedSerializer with one signer per salt for its whole life, deriving its key
    once (:func:`key_once`); the default signer is a TimestampSigner, as itsdangerous'."""

    default_signer = key_once(TimestampSigner)

    def __init__(self, *args, **kwargs):
        if kwargs.get("signer") is not None:
            kwargs["signer"] = key_once(kwargs["signer"])
        super().__init__(*args, **kwargs)
        self._signers: dict[bytes | str | None, Signer] = {}

    def make_signer(self, salt=None) -> Signer:
        signer = self._signers.get(salt)
        if signer is None:
            signer = self._signers[salt] = super().make_signer(salt)
        return signer


def app_serializer(app, purpose: str, secret_keys: list, **kwargs) -> Serializer:
    """``app``'s :class:`Serializer` for ``purpose``, built once per list of secret keys (the
    newest last, as itsdangerous wants them); ``kwargs`` as URLSafeTimedSerializer takes them."""
    cache: dict = app.extensions.setdefault("intake.serializers", {})
    keys = tuple(secret_keys)
    entry = cache.get(purpose)
    if entry is None or entry[0] != keys:
        entry = cache[purpose] = (keys, Serializer(list(keys), **kwargs))
    return entry[1]


#: Flask-WTF's salt and raw-token recipe (flask_wtf.csrf.generate_csrf): see :func:`csrf_token`.
CSRF_SALT = "wtf-csrf-token"


def csrf_token() -> str:
    """The signed CSRF token of this request, as ``flask_wtf.csrf.generate_csrf()`` makes it,
    with this app's serializer kept for the process instead of built for each call.

    The same token: Flask-WTF's raw token in the session (created when missing), signed with
    ``WTF_CSRF_SECRET_KEY`` or ``SECRET_KEY`` and Flask-WTF's salt, and kept in ``g`` for the
    rest of the request, where Flask-WTF's forms find it too. Flask-WTF checks it on POST;
    a test checks that it accepts it and that both make the same token.
    """
    from flask import current_app, g, session

    config = current_app.config
    field = config.get("WTF_CSRF_FIELD_NAME") or "csrf_token"
    if field not in g:
        if not isinstance(session.get(field), str):
            session[field] = hashlib.sha1(os.urandom(64)).hexdigest()
        secret = config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key
        setattr(g, field, app_serializer(current_app, "csrf", [secret], salt=CSRF_SALT).dumps(session[field]))
    return g.get(field)
