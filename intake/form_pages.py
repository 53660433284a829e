"""The form page as customers first get it: rendered once per request type, filled in per request.

The first ``GET /modulo/<tipo>?token=...`` shows the same page to every customer except for
three values: the search token (a hidden field), the search's query (the subject is
prefilled with it, it is shown, and it is in the link back to the results, URL-encoded) and
the CSRF token of the customer's session. Rendering the WTForms fields of a form costs 10-15 ms of
CPU, most of the request; so the page is rendered once per type and mount point with
placeholders, and each request puts its own values in, escaped for HTML (the page's only
context for them: element text and double-quoted attributes). ``make bench`` measures the
difference; a test checks the result is, byte for byte, what a full render gives.

Development mode (``FLASK_DEBUG``) renders every time, so template edits show at once.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from urllib.parse import urlencode

from flask import current_app, request, url_for
from markupsafe import escape

from .forms import RequestType
from .signing import csrf_token
from .tickets import SearchContext

_MARK = secrets.token_hex(8)  # per process: no text a customer types can collide with it
QUERY = f"kbquery{_MARK}"
TOKEN = f"kbtoken{_MARK}"
AGAIN_QUERY = f"kbagainquery{_MARK}"
CSRF = f"kbcsrf{_MARK}"
_PLACEHOLDER = re.compile(f"({QUERY}|{TOKEN}|{AGAIN_QUERY}|{CSRF})")  # captured: split() keeps them


@dataclasses.dataclass(frozen=True)
class _Placeholders(SearchContext):
    """A search whose every value is a placeholder; in the link back, the query's place in
    the URL is one too (URL-encoded there, not only HTML-escaped)."""

    @property
    def again(self) -> str:
        return url_for("flow.search_step", q=AGAIN_QUERY, tipo=self.claims.request_type)


def _url_encoded(value: str) -> str:
    """``value`` as werkzeug's ``url_for`` encodes a query parameter (werkzeug.urls._urlencode)."""
    return urlencode([("", value)], safe="!$'()*,/:;?@")[1:]


def fresh_form_page(item: RequestType, search: SearchContext) -> bytes:
    """The HTML of ``item``'s form as first shown after the search ``search``, UTF-8 encoded."""
    pages: dict = current_app.extensions.setdefault("intake.form_pages", {})
    key = (item.definition.name, request.script_root)
    parts = pages.get(key)
    if parts is None or current_app.debug:
        parts = pages[key] = _split(_render_with_placeholders(item, search))
    values = {TOKEN: _html(search.token), QUERY: _html(search.query), AGAIN_QUERY: _html(_url_encoded(search.query))}
    if CSRF in parts:
        values[CSRF] = _html(csrf_token())
    return b"".join([values[part] if i % 2 else part for i, part in enumerate(parts)])


def _split(page: str) -> list:
    """``page`` split at its placeholders once, so that each request joins the pieces in one
    pass instead of searching the page for each of them: the text between them encoded
    (encoding 22 KB of text with accented letters was a sixth of the page's CPU), the
    placeholders, at the odd places, as they are."""
    return [part if i % 2 else part.encode() for i, part in enumerate(_PLACEHOLDER.split(page))]


def _html(value: str) -> bytes:
    return str(escape(value)).encode()


def _render_with_placeholders(item: RequestType, search: SearchContext) -> str:
    from .views import render_form

    claims = dataclasses.replace(search.claims, query=QUERY)
    form = item.form_class(data={"oggetto": QUERY})
    html, _status = render_form(item, form, search=_Placeholders(TOKEN, claims))
    if form.meta.csrf:
        html = html.replace(str(escape(form.csrf_token.current_token)), CSRF)
    return html
