"""The form page as customers first get it: rendered once per request type, filled in per request.

The first ``GET /modulo/<tipo>?token=...`` shows the same page to every customer except for
three values: the search token (a hidden field), the search's query (the subject is
prefilled with it, it is shown, and it is in the link back to the results) and the CSRF
token of the customer's session. Rendering the WTForms fields of a form costs 10-15 ms of
CPU, most of the request; so the page is rendered once per type and mount point with
placeholders, and each request puts its own values in, escaped for HTML (the page's only
context for them: element text and double-quoted attributes). ``make bench`` measures the
difference; a test checks the result is, byte for byte, what a full render gives.

Development mode (``FLASK_DEBUG``) renders every time, so template edits show at once.
"""

from __future__ import annotations

import dataclasses
import secrets

from flask import current_app, request
from flask_wtf.csrf import generate_csrf
from markupsafe import escape

from .forms import RequestType
from .tickets import SearchContext

_MARK = secrets.token_hex(8)  # per process: no text a customer types can collide with it
QUERY = f"kbquery{_MARK}"
TOKEN = f"kbtoken{_MARK}"
AGAIN = f"kbagain{_MARK}"
CSRF = f"kbcsrf{_MARK}"


@dataclasses.dataclass(frozen=True)
class _Placeholders(SearchContext):
    """A search whose every value is a placeholder (the link back too, which is URL-encoded)."""

    @property
    def again(self) -> str:
        return AGAIN


def fresh_form_page(item: RequestType, search: SearchContext) -> str:
    """The HTML of ``item``'s form as first shown after the search ``search``."""
    pages: dict = current_app.extensions.setdefault("intake.form_pages", {})
    key = (item.definition.name, request.script_root)
    page = pages.get(key)
    if page is None or current_app.debug:
        page = pages[key] = _render_with_placeholders(item, search)
    page = page.replace(TOKEN, escape(search.token)).replace(AGAIN, escape(search.again))
    page = page.replace(QUERY, escape(search.query))
    if CSRF in page:
        page = page.replace(CSRF, escape(generate_csrf()))
    return page


def _render_with_placeholders(item: RequestType, search: SearchContext) -> str:
    from .views import render_form

    claims = dataclasses.replace(search.claims, query=QUERY)
    form = item.form_class(data={"oggetto": QUERY})
    html, _status = render_form(item, form, search=_Placeholders(TOKEN, claims))
    if form.meta.csrf:
        html = html.replace(str(escape(form.csrf_token.current_token)), CSRF)
    return html
