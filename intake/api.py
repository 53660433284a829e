"""Blueprint "api": ``GET /api/cerca``, the knowledge base search as JSON.

One endpoint for two callers, so that a customer never gets a different best answer: the
form's suggestions while the subject is typed (``static/suggest.js``) and the static site's
search box (``docs/assets/javascripts/intake-search.js``), which may live on another
origin. Cross-origin reads are allowed for the site's origin only (from ``KB_SITE_URL``).

Any input gets a JSON answer: the query is plain text for ``kb_build.search`` (no syntax,
bounded length), and ``limit`` is clamped. These type-ahead searches are not logged as
searches: every prefix typed would count as one (the search step logs the real ones).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, jsonify, request

from . import kb

bp = Blueprint("api", __name__, url_prefix="/api")

DEFAULT_LIMIT = 8
MAX_LIMIT = 20
RESULT_FIELDS = ("title", "url", "slug", "summary", "snippet", "score")


@bp.get("/cerca")
def search():
    """``{"query": ..., "results": [{title, url, slug, summary, snippet, score}]}``, best first.

    ``url`` is relative to the site root; ``snippet`` is escaped HTML whose only markup is
    ``<mark>``. 503 with no results while the index cannot be read.
    """
    query = request.args.get("q", "")[: kb.MAX_QUERY_CHARS]
    limit = min(max(request.args.get("limit", DEFAULT_LIMIT, type=int), 1), MAX_LIMIT)
    status = 200
    try:
        hits = kb.search(query, limit) if query.strip() else []
    except kb.IndexUnavailable as exc:
        current_app.logger.error("api/cerca without results: %s", exc)
        hits, status = [], 503
    results = [{name: getattr(hit, name) for name in RESULT_FIELDS} for hit in hits]
    response = jsonify(query=query, results=results)
    response.status_code = status
    allow_site_origin(response)
    return response


def site_origin() -> str | None:
    """The origin of ``KB_SITE_URL`` (``https://kb.example.it``), or None when it is a path
    (the site is then served from the intake's own origin and needs no CORS)."""
    parts = urlsplit(current_app.config.get("KB_SITE_URL") or "")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def allow_site_origin(response) -> None:
    """CORS for the static site's origin only; every other origin gets no permission."""
    response.vary.add("Origin")
    origin = request.headers.get("Origin", "")
    if origin and origin.lower() == site_origin():
        response.headers["Access-Control-Allow-Origin"] = origin
