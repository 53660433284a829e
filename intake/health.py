"""Blueprint "health": ``GET /healthz`` for load balancers, orchestrators and monitoring.

200 when this instance can serve customers (the search index opens, the database answers),
503 otherwise, with a JSON body saying which part is wrong. Nothing secret is shown: no
URL, user or password, and the database's own error text (which may name hosts) stays in
the log.

An index outage does not stop tickets (``intake.kb``), but the instance is still reported
unhealthy: a load balancer should prefer an instance whose customers get articles.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from . import kb

bp = Blueprint("health", __name__)


def index_status() -> dict:
    try:
        articles = kb.searcher().check()
    except kb.IndexUnavailable as exc:
        return {"ok": False, "problem": str(exc)}
    if articles == 0:
        return {"ok": False, "problem": "the search index has no articles: rebuild it with `kb build`"}
    return {"ok": True, "articles": articles}


def database_status() -> dict:
    database = current_app.extensions["intake.db"]
    try:
        with database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "not reachable" for the caller
        current_app.logger.error("healthz: database unreachable: %s", type(exc).__name__)
        return {"ok": False, "problem": f"the database does not answer ({type(exc).__name__}); see the log"}
    return {"ok": True, "backend": database.engine.dialect.name}


@bp.get("/healthz")
def healthz():
    """``{"status": "ok"|"error", "index": {...}, "database": {...}}``; 503 when a part is not ok."""
    checks = {"index": index_status(), "database": database_status()}
    healthy = all(part["ok"] for part in checks.values())
    response = jsonify(status="ok" if healthy else "error", **checks)
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response
