"""The ``kb`` MkDocs plugin: keeps the site, the checks and the search index in step.

Thin by design: the work is done by :mod:`kb_build.checks` (validation) and
:mod:`kb_build.index` (the search index); the hooks only call them at the right moment.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, get_plugin_logger
from mkdocs.structure.nav import Navigation, Section
from mkdocs.structure.pages import Page

from .articles import Article
from .catalog import load_catalog
from .analysis import SYNONYMS_FILE
from .checks import check_docs
from .config import DEFAULT_INDEX_DIR
from .index import IndexBuildError, build_index
from .swap import swap_in

log = get_plugin_logger(__name__)


class KBConfig(base.Config):
    index_dir = c.Type(str, default=DEFAULT_INDEX_DIR)
    """Where the Whoosh index is written, relative to mkdocs.yml."""
    forms_dir = c.Optional(c.Type(str))
    """The intake's form definitions; when set, each article's ticket_form must name one."""
    sidebar_max_articles = c.Type(int, default=30)
    """A category with more articles shows, in its pages' sidebar, only its own page and the
    article being read. Material renders every listed sibling into every page, so N articles
    in a category cost N x N (measured: 1,000 articles in 4 categories, 48 s and 121 MB of
    site instead of 10 s and 30 MB). The category page still lists them all, with summaries."""


class KBPlugin(BasePlugin[KBConfig]):
    supports_multiple_instances = False

    def __init__(self):
        self.articles: list[Article] = []
        self.root = Path.cwd()
        self.short_sections: dict[int, Page | None] = {}
        # `kb build` sets stage_index: the index is then written aside and published by
        # publish_staged_index() only once the whole build (site included) succeeded.
        self.stage_index = False
        self.staged_index: Path | None = None

    def on_config(self, config):
        """Resolve our paths against mkdocs.yml's folder and check that they exist."""
        self.root = Path(config.config_file_path).resolve().parent
        self.catalog = load_catalog()
        forms = self.config.forms_dir
        self.forms_dir = self.root / forms if forms else None
        if self.forms_dir is not None and not self.forms_dir.is_dir():
            raise PluginError(
                f"plugins.kb.forms_dir: '{forms}' is not a folder (relative to mkdocs.yml); "
                "fix the path or remove the option"
            )
        self.index_dir = self.root / self.config.index_dir
        return config

    def ticket_forms(self) -> frozenset[str] | None:
        if self.forms_dir is None:
            return None
        return frozenset(p.stem for p in self.forms_dir.glob("*.yaml"))

    def on_pre_build(self, config):
        """Check every article before MkDocs touches site_dir, so a bad article keeps the old site."""
        docs, problems = check_docs(Path(config.docs_dir), self.ticket_forms())
        if problems:
            listing = "\n".join(str(p) for p in problems)
            raise PluginError(f"kb check found {len(problems)} problem(s):\n{listing}")
        self.articles = docs.articles

    def on_nav(self, nav, config, files):
        """Category sections get their catalog label and order instead of the folder name."""
        order = {slug: n for n, slug in enumerate(self.catalog.categories)}
        for item in nav.items:
            if isinstance(item, Section):
                slug = _section_slug(item)
                if slug in self.catalog.categories:
                    item.title = self.catalog.categories[slug].label
        # Sections too large to list in every page's sidebar, with their index page.
        self.short_sections = {
            id(item): next((c for c in item.children if isinstance(c, Page) and c.is_index), None)
            for item in nav.items
            if isinstance(item, Section) and len(item.children) > self.config.sidebar_max_articles
        }
        # Home page first, then the categories in catalog order, then other pages (tags);
        # previous/next follow the same order.
        nav.items.sort(key=lambda item: _nav_rank(item, order))
        nav.pages = list(_pages(nav.items))
        for before, after in zip([None, *nav.pages], [*nav.pages, None]):
            if before is not None:
                before.next_page = after
            if after is not None:
                after.previous_page = before
        return nav

    def on_page_context(self, context, page, config, nav):
        """Large categories get a short sidebar (option sidebar_max_articles): the build stays linear."""
        if self.short_sections:
            context["nav"] = self._short_sidebar(nav, page)
        return context

    def _short_sidebar(self, nav: Navigation, page: Page) -> Navigation:
        """``nav`` with each large section cut to its index page (and ``page``, when in it)."""
        items = []
        for item in nav.items:
            if id(item) in self.short_sections:
                index = self.short_sections[id(item)]
                children = [index] if index is not None else []
                if page.parent is item and page is not index:
                    children.append(page)
                short = Section(item.title, children)  # the pages keep their real parent
                short.active = page.parent is item
                item = short
            items.append(item)
        sidebar = Navigation(items, [])
        sidebar.homepage, sidebar.pages = nav.homepage, nav.pages
        return sidebar

    def on_page_markdown(self, markdown, page, config, files):
        """Category index pages list their articles with summaries, so nobody maintains a list by hand."""
        if page.meta.get("summary") and not page.meta.get("description"):
            page.meta["description"] = page.meta["summary"]  # Material's <meta name="description">
        src = page.file.src_uri
        parts = src.split("/")
        if len(parts) == 2 and parts[1] == "index.md" and parts[0] in self.catalog.categories:
            listed = sorted((a for a in self.articles if a.category == parts[0]), key=lambda a: a.title.casefold())
            lines = [f"- [{_escape_link_text(a.title)}]({a.slug}.md)  \n  {a.summary}" for a in listed]
            if not lines:
                lines = ["Ancora nessun articolo in questa categoria."]
            listing = "\n".join(lines)
            # The heading is raw HTML, kept out of the table of contents: on a section index
            # page Material's table of contents labels a control it never renders (invalid HTML).
            markdown = (
                markdown.rstrip()
                + '\n\n<h2 id="articoli">Articoli</h2>\n\n'
                + f'<div class="kb-article-list" markdown>\n\n{listing}\n\n</div>\n'
            )
        return markdown

    def on_post_build(self, config):
        """Build the search index from the articles checked in on_pre_build."""
        target = self.index_dir
        if self.stage_index:
            target = self.index_dir.with_name(f".{self.index_dir.name}.staged-{os.getpid()}")
            shutil.rmtree(target, ignore_errors=True)
            self.staged_index = target
        try:
            build_index(self.articles, target)
        except IndexBuildError as exc:
            raise PluginError(str(exc)) from exc
        log.info(f"search index: {len(self.articles)} articles written to {target}")

    def on_serve(self, server, config, builder):
        """Rebuild on save of the synonym table too, so writers see its effect live."""
        server.watch(str(SYNONYMS_FILE))
        return server

    def publish_staged_index(self) -> None:
        """Swap the index staged by a successful `kb build` into place."""
        if self.staged_index is not None:
            swap_in(self.staged_index, self.index_dir)
            self.staged_index = None

    def discard_staged_index(self) -> None:
        """Forget the index staged by a failed `kb build`; the published one is untouched."""
        if self.staged_index is not None:
            shutil.rmtree(self.staged_index, ignore_errors=True)
            self.staged_index = None


def _nav_rank(item, order: dict[str, int]) -> tuple[int, int]:
    if getattr(item, "is_homepage", False):
        return (0, 0)
    if isinstance(item, Section) and _section_slug(item) in order:
        return (1, order[_section_slug(item)])
    return (2, 0)  # sort() is stable: the rest keep MkDocs' order


def _pages(items):
    for item in items:
        if isinstance(item, Page):
            yield item
        elif isinstance(item, Section):
            yield from _pages(item.children)


def _section_slug(section: Section) -> str | None:
    for child in section.children:
        file = getattr(child, "file", None)
        if file is not None:
            return file.src_uri.split("/")[0]
    return None


def _escape_link_text(text: str) -> str:
    return text.replace("[", r"\[").replace("]", r"\]")
