"""The built site as files: structure, Italian, call to action, links, sitemap (issue 4).

One build per session (``built_site``), published under a sub-path (SITE_URL = .../kb/).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

import pytest

from kb_build.catalog import load_catalog

from .helpers import INTAKE_URL, SITE_URL, html_pages, page_url

ITALIAN_DATE = re.compile(
    r"\b\d{1,2} (gennaio|febbraio|marzo|aprile|maggio|giugno|luglio|agosto|settembre|ottobre|novembre|dicembre) \d{4}\b"
)


class Tags(HTMLParser):
    """Every start tag of a page with its attributes, ids, and the visible text."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.ids: set[str] = set()
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if attributes.get("id"):
            self.ids.add(attributes["id"])

    def handle_data(self, data):
        self.text.append(data)

    def find(self, tag: str, css_class: str | None = None) -> list[dict]:
        return [
            a
            for t, a in self.tags
            if t == tag and (css_class is None or css_class in (a.get("class") or "").split())
        ]

    @property
    def plain(self) -> str:
        return " ".join(" ".join(self.text).split())


def parse(path: Path) -> Tags:
    return Tags(path.read_text(encoding="utf-8"))


def article_file(site: Path, article) -> Path:
    return site / article.category / article.slug / "index.html"


def test_every_article_ends_with_apri_un_ticket_for_its_request_type(built_site, kb_articles):
    assert len(kb_articles) == 9
    for article in kb_articles:
        buttons = parse(article_file(built_site, article)).find("a", "kb-ticket__button")
        assert len(buttons) == 1, article.slug
        href = urlsplit(buttons[0]["href"])
        assert href.path == INTAKE_URL
        assert parse_qs(href.query) == {"tipo": [article.ticket_form or "generico"], "articolo": [article.slug]}


def test_pages_that_are_not_articles_have_no_call_to_action(built_site):
    for rel in ("index.html", "email/index.html", "tags/index.html", "404.html"):
        assert parse(built_site / rel).find("a", "kb-ticket__button") == [], rel


def test_home_page_leads_with_a_search_box_and_the_common_topics(built_site, kb_articles):
    home = parse(built_site / "index.html")
    forms = home.find("form", "kb-search-entry")
    assert len(forms) == 1 and forms[0]["method"] == "get"
    assert [a["name"] for a in home.find("input", "kb-search-entry__input")] == ["q"]
    # The form comes before the writers' text: it is the first thing after the title.
    kinds = [t for t, a in home.tags if t in ("form", "h2") and "md-search__form" not in (a.get("class") or "")]
    assert kinds[0] == "form"
    links = {a.get("href") for a in home.find("a")}
    for category in ("assistenza/", "email/", "server-dedicati/", "rubalo/"):
        assert category in links
    assert "email/come-richiedere-assistenza-servizi-email/" in links


def test_category_pages_list_their_articles_with_summaries(built_site, kb_articles):
    catalog = load_catalog()
    for slug in {a.category for a in kb_articles}:
        page = parse(built_site / slug / "index.html")
        listed = {a.get("href") for a in page.find("a")}
        text = page.plain
        assert catalog.categories[slug].label in text
        for article in (a for a in kb_articles if a.category == slug):
            assert f"{article.slug}/" in listed, article.slug
            assert " ".join(article.summary.split()) in text, article.slug


def test_tags_page_lists_every_tag_with_its_articles(built_site, kb_articles):
    page = parse(built_site / "tags" / "index.html")
    headings = {i.removeprefix("tag:") for i in page.ids if i.startswith("tag:")}
    links = {a.get("href") for a in page.find("a")}
    for article in kb_articles:
        assert f"../{article.url}" in links, article.slug
        for tag in article.tags:
            assert tag.casefold().replace(" ", "-") in headings, (article.slug, tag)


def test_articles_have_breadcrumbs_previous_next_and_an_italian_last_updated_date(built_site, kb_articles):
    catalog = load_catalog()
    for article in kb_articles:
        page = parse(article_file(built_site, article))
        assert page.find("nav", "md-path"), article.slug
        crumbs = page.plain
        assert catalog.categories[article.category].label in crumbs
        assert page.find("a", "md-footer__link--prev") and page.find("a", "md-footer__link--next")
        assert page.find("aside", "kb-updated"), article.slug
        assert re.search(r"Ultimo aggiornamento: " + ITALIAN_DATE.pattern, crumbs), article.slug
        assert [m["content"] for m in page.find("meta") if m.get("name") == "description"] == [article.summary]


def test_every_page_is_in_italian(built_site):
    for path in html_pages(built_site):
        html = path.read_text(encoding="utf-8")
        assert '<html lang="it"' in html, path
        assert 'placeholder="Cerca"' in html, path
    not_found = parse(built_site / "404.html").plain
    assert "Pagina non trovata" in not_found and "Not found" not in not_found


def test_builtin_search_is_configured_for_italian(built_site):
    import json

    config = json.loads((built_site / "search" / "search_index.json").read_text(encoding="utf-8"))["config"]
    assert config["lang"] == ["it"]
    separator = re.compile(config["separator"])
    assert [w for w in separator.split("l’email dell'account: «posta»") if w] == ["l", "email", "dell", "account", "posta"]


def test_sitemap_lists_every_article_under_the_published_sub_path(built_site, kb_articles):
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locations = [loc.text for loc in ET.parse(built_site / "sitemap.xml").getroot().findall("s:url/s:loc", ns)]
    assert locations and all(loc.startswith(SITE_URL) for loc in locations)
    for article in kb_articles:
        assert SITE_URL + article.url in locations


def test_no_absolute_link_to_localhost(built_site):
    for path in [*html_pages(built_site), built_site / "sitemap.xml", built_site / "search" / "search_index.json"]:
        text = path.read_text(encoding="utf-8")
        assert "127.0.0.1" not in text and "localhost" not in text, path


# --- every local link of the site published under a sub-path resolves --------------------

_LINK_ATTRS = {"a": "href", "link": "href", "script": "src", "img": "src", "source": "src", "form": "action"}


def _target_file(site: Path, path: str) -> Path | None:
    prefix = urlsplit(SITE_URL).path
    if not path.startswith(prefix):
        return None
    rel = unquote(path[len(prefix):])
    candidate = site / rel
    if rel == "" or rel.endswith("/"):
        candidate = candidate / "index.html"
    elif candidate.is_dir():
        candidate = candidate / "index.html"
    return candidate if candidate.is_file() else None


def test_every_local_link_resolves_under_the_sub_path(built_site):
    """Crawl site/ as published at SITE_URL: every local href/src must reach a built file (and anchor)."""
    site_host = urlsplit(SITE_URL).netloc
    ids_cache: dict[Path, set[str]] = {}
    broken = []
    checked = 0
    for path in html_pages(built_site):
        here = page_url(built_site, path)
        for tag, attrs in parse(path).tags:
            name = _LINK_ATTRS.get(tag)
            value = attrs.get(name) if name else None
            if value is None or value.startswith(("mailto:", "tel:")):
                continue
            if value.startswith(INTAKE_URL):
                continue  # the intake: another application, not part of site/
            url = urlsplit(urljoin(here, value))
            if url.scheme not in ("http", "https"):
                broken.append((path, value, "not a web link"))
                continue
            if url.netloc != site_host:
                continue  # an external site (the customers' panel, ...)
            checked += 1
            target = _target_file(built_site, url.path)
            if target is None:
                broken.append((path.relative_to(built_site), value, "no such file"))
                continue
            if url.fragment and target.suffix == ".html":
                ids = ids_cache.setdefault(target, parse(target).ids)
                if unquote(url.fragment) not in ids:
                    broken.append((path.relative_to(built_site), value, "no such anchor"))
    assert checked > 200
    assert broken == []


@pytest.mark.parametrize("rel", ["404.html", "index.html", "email/come-richiedere-assistenza-servizi-email/index.html"])
def test_assets_are_found_from_any_page(built_site, rel):
    """The 404 page is served at any address, so its links must start from the site's path."""
    page = parse(built_site / rel)
    styles = [a["href"] for a in page.find("link") if a.get("rel") == "stylesheet"]
    scripts = [a["src"] for a in page.find("script") if a.get("src")]
    assert any(s.endswith("assets/stylesheets/kb.css") for s in styles)
    assert any(s.endswith("assets/javascripts/intake-search.js") for s in scripts)
    if rel == "404.html":
        assert all(s.startswith(urlsplit(SITE_URL).path) for s in styles + scripts)
