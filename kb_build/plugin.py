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
from mkdocs.structure.nav import Section

from .articles import Article
from .catalog import load_catalog
from .checks import check_docs
from .analysis import SYNONYMS_FILE
from .config import DEFAULT_INDEX_DIR
from .index import IndexBuildError, build_index
from .swap import swap_in

log = get_plugin_logger(__name__)


class KBConfig(base.Config):
    index_dir = c.Type(str, default=DEFAULT_INDEX_DIR)
    """Where the Whoosh index is written, relative to mkdocs.yml."""
    forms_dir = c.Optional(c.Type(str))
    """The intake's form definitions; when set, each article's ticket_form must name one."""


class KBPlugin(BasePlugin[KBConfig]):
    supports_multiple_instances = False

    def __init__(self):
        self.articles: list[Article] = []
        self.root = Path.cwd()
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
        self.by_src = {str(a.source.rel): a for a in docs.articles}

    def on_nav(self, nav, config, files):
        """Category sections get their catalog label and order instead of the folder name."""
        for item in nav.items:
            if isinstance(item, Section):
                slug = _section_slug(item)
                if slug in self.catalog.categories:
                    item.title = self.catalog.categories[slug].label
        return nav

    def on_page_markdown(self, markdown, page, config, files):
        """Category index pages list their articles with summaries, so nobody maintains a list by hand."""
        src = page.file.src_uri
        parts = src.split("/")
        if len(parts) == 2 and parts[1] == "index.md" and parts[0] in self.catalog.categories:
            listed = sorted((a for a in self.articles if a.category == parts[0]), key=lambda a: a.title.casefold())
            lines = [f"- [{_escape_link_text(a.title)}]({a.slug}.md)  \n  {a.summary}" for a in listed]
            if not lines:
                lines = ["Ancora nessun articolo in questa categoria."]
            markdown = markdown.rstrip() + "\n\n## Articoli\n\n" + "\n".join(lines) + "\n"
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


def _section_slug(section: Section) -> str | None:
    for child in section.children:
        file = getattr(child, "file", None)
        if file is not None:
            return file.src_uri.split("/")[0]
    return None


def _escape_link_text(text: str) -> str:
    return text.replace("[", r"\[").replace("]", r"\]")
