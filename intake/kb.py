"""The intake's handle on the knowledge base: one shared searcher, and links to the static site.

The searcher comes from ``kb_build.search`` (the only module of ``kb_build`` the intake
imports), so a query is analysed and ranked exactly as the site's index was built. One
:class:`~kb_build.search.Searcher` per index serves the whole process (every app on it): it
is thread-safe, caches what queries need and reopens the index by itself after ``kb build``
swapped in a new one.

An unusable index does not stop the app: customers must still be able to open a ticket
during an outage (the search step says the guide cannot be searched right now). The
start-up check only logs the problem, so the operator sees it at once.
"""

from __future__ import annotations

import os
import threading
from urllib.parse import urljoin, urlsplit

from flask import current_app

from kb_build.search import MAX_QUERY_CHARS, Hit, IndexUnavailable, Searcher

__all__ = ["MAX_QUERY_CHARS", "Hit", "IndexUnavailable", "article", "init_app", "search", "site_link"]


_searchers: dict[str, Searcher] = {}
_searchers_lock = threading.Lock()


def shared_searcher(index_dir: str | os.PathLike) -> Searcher:
    """The process's searcher of ``index_dir``: apps on the same index share it (and its caches)."""
    key = os.path.abspath(index_dir)
    with _searchers_lock:
        if key not in _searchers:
            _searchers[key] = Searcher(key)
        return _searchers[key]


def init_app(app) -> Searcher:
    """Open the index of ``KB_INDEX_DIR`` for ``app``; log (do not raise) when it is unusable."""
    searcher = shared_searcher(app.config["KB_INDEX_DIR"])
    try:
        count = searcher.check()
    except IndexUnavailable as exc:
        app.logger.warning("search step without articles until the index is rebuilt: %s", exc)
    else:
        app.logger.info("search index %s: %d articles", app.config["KB_INDEX_DIR"], count)
    app.extensions["intake.kb"] = searcher
    app.add_template_global(site_link)
    app.add_template_global(site_root)
    return searcher


def searcher() -> Searcher:
    return current_app.extensions["intake.kb"]


def search(query: str, limit: int) -> list[Hit]:
    """The best articles for ``query``. :raise IndexUnavailable: the index cannot be read."""
    return searcher().search(query, limit)


def related(categories, tags, limit: int) -> list[Hit]:
    """The articles of ``categories`` or ``tags`` (a request type's ``suggest``), or ``[]``
    when the index cannot be read: they are a help, never a reason to stop the page."""
    try:
        return searcher().related(categories, tags, limit)
    except IndexUnavailable:
        return []


def article(slug: str) -> Hit | None:
    """The article ``slug``, or None when it is unknown or the index cannot be read."""
    try:
        return searcher().article(slug)
    except IndexUnavailable:
        return None


def site_link(hit: Hit) -> str:
    """The address of ``hit``'s page on the static site (``KB_SITE_URL`` + its site-relative URL).

    The index is ours, but its URL is still checked to be a plain relative path, so a link
    built here can only ever point inside the site.
    """
    parts = urlsplit(hit.url)
    if parts.scheme or parts.netloc or hit.url.startswith(("/", "\\")) or ".." in hit.url.split("/"):
        raise ValueError(f"article {hit.slug!r} has a URL outside the site: {hit.url!r}")
    return urljoin(site_root(), hit.url)


def site_root() -> str:
    """``KB_SITE_URL`` with a final slash (an absolute URL, or a path from the host's root)."""
    root = current_app.config["KB_SITE_URL"] or "/"
    return root if root.endswith("/") else root + "/"
