"""What protects the intake on the open Internet: headers, proxies, cookies, rate limits, static caching.

- **Security headers** on every response, error pages and static files included: a
  Content-Security-Policy without ``'unsafe-inline'`` (the templates have no inline script,
  style or handler; ``static/*.js`` does everything), no framing, no referrer to other
  origins (the search step's URL holds what the customer typed), ``nosniff``, and HSTS when
  the request came over HTTPS.
- **Proxies**: behind ``TRUSTED_PROXIES`` reverse proxies, werkzeug's ``ProxyFix`` takes the
  client address, scheme, host and prefix from their ``X-Forwarded-*`` headers (and from
  nobody else's), so rate limits count real clients and HTTPS is recognised.
- **Cookies**: the session cookie (which also holds the CSRF token) is HttpOnly and
  SameSite=Lax always, Secure whenever the request came over HTTPS.
- **Rate limits** per client (Flask-Limiter): searches on the search step, ``/api/cerca``,
  and form submissions. Counters live in ``RATELIMIT_STORAGE_URL`` (``memory://`` per
  process; one Redis for several processes or instances). Too many requests get an Italian
  page, JSON on the API, and a form sent too often comes back with everything typed.
- **Honeypot**: every form that stores something carries a field people never see
  (``protection/honeypot.html``); a submission with it filled gets a neutral answer and
  nothing is stored.
- **Static files** get versioned URLs (``?v=`` + a hash of their content), cached for a
  year; without the version, an hour, with an ETag either way.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from flask import current_app, has_request_context, jsonify, request
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

from .signing import app_serializer

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers without CSP level 2
    "X-Content-Type-Options": "nosniff",
    # Full referrer on our own pages (Flask-WTF's CSRF check needs it over HTTPS), none to
    # other origins: the search step's URL holds the customer's words, the form's a token.
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
_SECURITY_HEADER_ITEMS = tuple(SECURITY_HEADERS.items())
HSTS = "max-age=31536000"  # no includeSubDomains: the intake does not speak for sibling hosts
STATIC_VERSION_PARAM = "v"
STATIC_MAX_AGE_VERSIONED = 365 * 24 * 60 * 60

HONEYPOT_FIELD = "website"  # a name form-filling bots recognise and fill

TOO_MANY_SEARCHES = (
    "Hai fatto molte ricerche in poco tempo. Attendi un minuto e riprova: "
    "la guida e il modulo di richiesta restano a tua disposizione."
)
TOO_MANY_SUBMISSIONS = (
    "Abbiamo ricevuto molti invii da questa connessione in poco tempo, perciò questo non è "
    "stato registrato. I dati che hai scritto sono ancora qui: attendi qualche minuto e invia di nuovo."
)


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with the cookie marked Secure whenever the request is HTTPS.

    ``SESSION_COOKIE_SECURE`` stays available to force it; per request, the same app also
    works over plain HTTP on 127.0.0.1 (``make run``, tests) without losing its session.
    """

    def get_cookie_secure(self, app) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or (has_request_context() and request.is_secure)

    def get_signing_serializer(self, app):
        """Flask's serializer of the cookie (the same keys, salt and settings, so the same
        cookies), built once per app and set of keys instead of for every request, with the
        signing work done once per key (``intake.signing``)."""
        if not app.secret_key:
            return None
        keys = [*(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key]  # as Flask: current key last
        signer_kwargs = {"key_derivation": self.key_derivation, "digest_method": self.digest_method}
        return app_serializer(app, "session", keys, salt=self.salt, serializer=self.serializer, signer_kwargs=signer_kwargs)


class SecurityHeaders:
    """WSGI middleware: the headers of the module docstring on every answer of the app it wraps,
    error pages and static files included.

    Added to the header list as the answer starts, not through the response object:
    werkzeug would check and convert each of them again on every request (about 5% of the
    form page's CPU). No view sets these headers itself.
    """

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        https = environ.get("wsgi.url_scheme") == "https"  # after ProxyFix, which wraps this

        def start_with_headers(status, headers, exc_info=None):
            headers.extend(_SECURITY_HEADER_ITEMS)
            if https:
                headers.append(("Strict-Transport-Security", HSTS))
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start_with_headers)


def static_version(filename: str) -> str | None:
    """A short hash of static file ``filename``'s content (None if there is no such file).

    Computed once per process (files change only with a deployment, which restarts it);
    in development (``FLASK_DEBUG``) at every call, so edits show at once.
    """
    cache: dict[str, str | None] = current_app.extensions["intake.static_versions"]
    if filename in cache and not current_app.debug:
        return cache[filename]
    path = Path(current_app.static_folder or "", filename)
    version = hashlib.sha256(path.read_bytes()).hexdigest()[:12] if path.is_file() else None
    cache[filename] = version
    return version


def add_static_version(endpoint: str, values: dict) -> None:
    """``url_for('static', filename=...)`` gets ``?v=<content hash>``: a new file is a new URL."""
    if endpoint == "static" and "filename" in values and STATIC_VERSION_PARAM not in values:
        version = static_version(values["filename"])
        if version:
            values[STATIC_VERSION_PARAM] = version


def cache_static(response):
    """A static file asked for at its current version may be cached for a year."""
    if request.endpoint == "static" and response.status_code in (200, 304):
        filename = (request.view_args or {}).get("filename", "")
        if request.args.get(STATIC_VERSION_PARAM) == static_version(filename):
            response.cache_control.public = True
            response.cache_control.max_age = STATIC_MAX_AGE_VERSIONED
            response.cache_control.immutable = True
    return response


def honeypot_filled() -> bool:
    """True when a POST filled the field no person can see: a bot."""
    return request.method == "POST" and bool(request.form.get(HONEYPOT_FIELD, "").strip())


# --- rate limits --------------------------------------------------------------------------


def init_rate_limits(app, settings) -> Limiter:
    """One limiter per app (its own counters), limits on the views that search or store.

    Applied by wrapping the registered view functions, so the limits are this app's own
    even when one process creates several apps (tests).
    """
    limiter = Limiter(
        get_remote_address,  # the client address, as ProxyFix corrected it
        app=app,
        storage_uri=settings.ratelimit_storage_url,
        strategy="fixed-window",
        key_prefix="intake",
        headers_enabled=False,  # X-RateLimit-* on every answer is noise; 429s get Retry-After below
        # An unreachable Redis must not take the intake down: requests pass, the error is logged.
        swallow_errors=True,
    )
    limits = settings.rate_limits
    searched = limiter.limit(limits["RATELIMIT_SEARCH"])
    api = limiter.limit(limits["RATELIMIT_API"])
    submitted = limiter.shared_limit(limits["RATELIMIT_SUBMIT"], scope="submit")
    # Flask-Limiter hooks into every request three times: before it, for default, application
    # and meta limits (none here); after it, for X-RateLimit headers (off) and deduct_when
    # limits (none); at teardown, to reset its per-request state, which lives on the request
    # context and goes with it anyway. Together a good part of a page's CPU, for nothing
    # here: the hooks go, and the limits live only in the wrappers below, entered only by the
    # requests a limit counts. (Private names: if a new Flask-Limiter renames one, the
    # removal fails at start-up, in every test.)
    _remove_hooks(app, limiter)
    for endpoint, limit, counts in [
        ("flow.search_step", searched, _has_query),  # a search, not the empty page
        ("api.search", api, _always),
        ("forms.form", submitted, _is_post),  # a submission, not the form page
        ("flow.solved", submitted, _is_post),
    ]:
        app.view_functions[endpoint] = _limited_when(app.view_functions[endpoint], limit, counts)
    app.register_error_handler(RateLimitExceeded, too_many_requests)
    app.extensions["intake.limiter"] = limiter
    return limiter


def _remove_hooks(app, limiter: Limiter) -> None:
    app.before_request_funcs[None].remove(limiter._check_request_limit)
    app.teardown_request_funcs[None].remove(limiter._Limiter__release_context)
    after = app.after_request_funcs[None]
    injects = [f for f in after if isinstance(f, functools.partial) and f.func is Limiter._Limiter__inject_headers]
    if len(injects) != 1:
        raise RuntimeError("Flask-Limiter's after_request hook (__inject_headers) not found: see _remove_hooks")
    after.remove(injects[0])


def _has_query() -> bool:
    return bool(request.args.get("q", "").strip())


def _always() -> bool:
    return True


def _is_post() -> bool:
    return request.method == "POST"


def _limited_when(view, limit, counts):
    """``view`` wrapped by Flask-Limiter's ``limit``, which counts the requests ``counts()`` is
    true for; the others go straight to ``view``."""
    limited = limit(view)

    @functools.wraps(view)
    def dispatch(*args, **kwargs):
        return (limited if counts() else view)(*args, **kwargs)

    return dispatch


def too_many_requests(error: RateLimitExceeded):
    """429 in Italian: JSON for the API, the form again (values kept) for a form, else a page."""
    current_app.logger.info("rate limit reached on %s (%s)", request.endpoint, error.description)
    response = _too_many_requests_answer()
    response.headers["Retry-After"] = str(retry_after())
    return response


def _too_many_requests_answer():
    from flask import render_template

    from .errors import render_form_again

    if request.blueprint == "api":
        from .api import allow_site_origin

        response = jsonify(query="", results=[], errore=TOO_MANY_SEARCHES)
        response.status_code = 429
        allow_site_origin(response)  # so the site's box can read it and fall back
        return response
    page = None
    if request.endpoint == "forms.form" and request.method == "POST":
        page = render_form_again(TOO_MANY_SUBMISSIONS, 429)
    if page is None:
        message = TOO_MANY_SEARCHES if request.endpoint == "flow.search_step" else TOO_MANY_SUBMISSIONS
        page = render_template("errors/error.html", title="Troppe richieste", message=message, code=429), 429
    return current_app.make_response(page)


def retry_after() -> int:
    """Seconds until the limit that was hit resets (at least 1)."""
    import time

    limit = current_app.extensions["intake.limiter"].current_limit
    return max(1, int(limit.reset_at - time.time())) if limit else 60


def init_app(app) -> None:
    """Install everything of this module on ``app`` (after its blueprints are registered)."""
    settings = app.extensions["intake.settings"]
    app.wsgi_app = SecurityHeaders(app.wsgi_app)
    if settings.trusted_proxies:  # outside: the headers see the scheme as the proxies gave it
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_prefix=n)
    app.session_interface = SessionInterface()
    app.add_template_global(HONEYPOT_FIELD, "honeypot_field")
    app.extensions["intake.static_versions"] = {}
    app.url_defaults(add_static_version)
    app.after_request(cache_static)
    init_rate_limits(app, settings)
