"""Blueprint "flow": the search step every request starts from (SPEC I4).

``GET /`` asks "Descrivi il problema", searches the knowledge base and lists the best
articles. From there the customer either says an article solved the problem (``POST
/risolto``: the flow ends, a deflection is counted) or continues to a request form (``GET
/apri``). Opening an article goes through ``GET /vai/<slug>``, which counts the click and
redirects to the article on the static site, and only there.

The results page signs what it searched and showed as a search token with no request type
yet (:data:`UNBOUND`). ``/apri`` turns it into the token of the type the customer picks,
keeping its nonce: the form accepts only a token of its own type, and one search stores at
most one ticket, whichever type is picked (``intake.gate``).

When the index cannot be read, the step says so and lets the customer continue: an
outage of the search must not stop tickets. The customer has still described the problem
first, and the token then records that no article was shown.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from markupsafe import Markup
from wtforms import HiddenField

from . import analytics, gate, kb, protection
from .db import get_session
from .forms import request_type, request_types
from .gate import GateError
from .kb import MAX_QUERY_CHARS, Hit, IndexUnavailable

bp = Blueprint("flow", __name__)

RESULTS_SHOWN = 5
#: The request type of the token the results page signs: none chosen yet, so no form takes it.
UNBOUND = ""
DEFAULT_TYPE = "generico"
EMPTY_QUERY_MESSAGE = (
    "Scrivi in poche parole che cosa non funziona, ad esempio «la posta non arriva» "
    "o «il sito è lento»."
)


@dataclass(frozen=True)
class Result:
    """One article on the results page."""

    hit: Hit
    link: str  # through /vai/<slug>, which counts the click
    request_type: str  # the form its "No, apri una richiesta" opens

    @property
    def snippet(self) -> Markup | None:
        """The matched passage (HTML), or None when it would only repeat the summary."""
        if self.hit.snippet == html.escape(self.hit.summary, quote=True):
            return None
        # kb_build.search escapes the text and adds only <mark>: the one field shown as HTML.
        return Markup(self.hit.snippet)


class SolvedForm(FlaskForm):
    """"Questo ha risolto il mio problema": which article, after which search (CSRF protected)."""

    articolo = HiddenField()
    q = HiddenField()


@bp.get("/")
def search_step():
    """The search step: the form to describe the problem and, once searched, the best articles."""
    query = clean_query(request.args.get("q", ""))
    chosen = known_type(request.args.get("tipo"))
    origin = kb.article(request.args.get("articolo", ""))
    if "q" not in request.args or not query:
        problem = EMPTY_QUERY_MESSAGE if "q" in request.args else None
        return render_search(query=query, chosen=chosen, origin=origin, problem=problem, usual=usual_articles(chosen, origin))
    try:
        hits = kb.search(query, RESULTS_SHOWN)
        available = True
    except IndexUnavailable as exc:
        current_app.logger.error("search step without results: %s", exc)
        hits, available = [], False
    slugs = [hit.slug for hit in hits]
    if available:  # an outage is not a content gap: no "search without results" for writers
        log_event("search", query=query, results=slugs, request_type=chosen)
    suggested = suggested_type(chosen, hits)
    results = [
        Result(hit, url_for(".open_article", slug=hit.slug, q=query), known_type(hit.ticket_form) or suggested)
        for hit in hits
    ]
    record = gate.issue(query, slugs, UNBOUND)
    return render_search(
        query=query,
        chosen=chosen,
        origin=origin,
        searched=True,
        available=available,
        results=results,
        record=record,
        suggested=suggested,
    )


@bp.get("/apri")
def continue_request():
    """"No, apri una richiesta": the search token for the type picked, then its form."""
    try:
        claims = gate.verify(request.args.get("ricerca"), UNBOUND)
    except GateError as refusal:
        return refusal_page(refusal, chosen=known_type(request.args.get("tipo")))
    chosen = known_type(request.args.get("tipo"))
    if chosen is None:
        return redirect(url_for(".search_step", q=claims.query), code=303)
    token = gate.issue(claims.query, claims.article_slugs, chosen, nonce=claims.nonce)
    return redirect(url_for("forms.form", tipo=chosen, token=token), code=303)


@bp.get("/vai/<slug>")
def open_article(slug: str):
    """Count the click on a result, then show the article on the static site.

    Redirects only to the page of an article of the index: never to an address taken
    from the request.

    :raise 404: no such article.
    """
    hit = kb.article(slug)
    if hit is None:
        abort(404)
    log_event("click", query=clean_query(request.args.get("q", "")) or None, article=hit.slug)
    return redirect(kb.site_link(hit), code=302)


@bp.post("/risolto")
def solved():
    """"Questo ha risolto il mio problema": count the deflection; no ticket.

    :raise 400: forged or expired form (CSRF), or an article that does not exist.
    """
    form = SolvedForm()
    hit = kb.article(form.articolo.data or "")
    if protection.honeypot_filled():  # a bot: the same answer, nothing counted
        current_app.logger.info("risolto: honeypot filled, nothing counted")
        return redirect(url_for(".solved_page", articolo=hit.slug if hit else ""), code=303)
    if not form.validate() or hit is None:
        abort(400)
    log_event("deflection", query=clean_query(form.q.data or "") or None, article=hit.slug, reason="risolto")
    # Post/Redirect/Get: reloading the thank-you page does not count the deflection again.
    return redirect(url_for(".solved_page", articolo=hit.slug), code=303)


@bp.get("/risolto")
def solved_page():
    """The end of a flow without a ticket."""
    return render_template("flow/solved.html", article=kb.article(request.args.get("articolo", "")))


def render_search(status: int = 200, **context):
    """The search step page; ``context`` as the template expects (see search_step)."""
    context.setdefault("searched", False)
    context.setdefault("results", [])
    context.setdefault("chosen", None)
    context.setdefault("origin", None)
    context.setdefault("query", "")
    context.setdefault("usual", [])
    context.setdefault("suggested", context["chosen"] or DEFAULT_TYPE)
    solved_form = SolvedForm(formdata=None)  # only for its CSRF token, in each result's form
    return render_template("flow/search.html", types=request_types(), solved_form=solved_form, **context), status


def refusal_page(refusal: GateError, *, chosen: str | None = None, query: str = "", ticket_id: str | None = None):
    """The search step again, with why the form was not accepted (HTTP 428 or 403); nothing stored."""
    return render_search(
        status=refusal.status,
        query=clean_query(query),
        chosen=chosen,
        refusal=refusal.message,
        refused_ticket=ticket_id,
    )


def usual_articles(chosen: str | None, origin: Hit | None) -> list[Result]:
    """The articles a request type's definition names (``suggest``), for a customer who picked
    the type before describing the problem, except the one they come from; linked through
    /vai like search results."""
    definition = request_type(chosen).definition if chosen else None
    if definition is None or not (definition.suggest_categories or definition.suggest_tags):
        return []
    hits = kb.related(definition.suggest_categories, definition.suggest_tags, RESULTS_SHOWN + 1)
    hits = [hit for hit in hits if origin is None or hit.slug != origin.slug][:RESULTS_SHOWN]
    return [Result(hit, url_for(".open_article", slug=hit.slug), chosen) for hit in hits]


def suggested_type(chosen: str | None, hits: list[Hit]) -> str:
    """The type to preselect: the one the customer came with, else the ``ticket_form`` of the
    best article that names one, else the generic form."""
    if chosen:
        return chosen
    return next((t for t in (known_type(hit.ticket_form) for hit in hits) if t), DEFAULT_TYPE)


def log_event(kind: str, **fields) -> None:
    """Record an analytics event (``intake.analytics``), except for HEAD requests: link
    checkers and prefetchers are not customers."""
    if request.method != "HEAD":
        analytics.record_event(get_session(), kind, **fields)


def known_type(name: str | None) -> str | None:
    """``name`` if it is a request type of this intake, else None (links may be old or edited)."""
    return name if name and request_type(name) is not None else None


def clean_query(text: str) -> str:
    """What the customer typed, on one line, bounded."""
    return " ".join(str(text).split())[:MAX_QUERY_CHARS]
