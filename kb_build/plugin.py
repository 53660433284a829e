"""The ``kb`` MkDocs plugin: keeps the site, the checks and the search index in step.

Thin by design: the work is done by :mod:`kb_build.checks` (validation),
:mod:`kb_build.index` and :mod:`kb_build.indexer` (the search index) and
:mod:`kb_build.gitdates` (dates); the hooks only call them at the right moment.

How a build stays linear and fast (README, "Performance"):

- ``on_pre_build`` parses and checks every article once; everything later (category
  lists, dates, the index) uses that parse, never a scan of all articles per page.
- The index is written by a separate process (:class:`kb_build.indexer.IndexJob`)
  while MkDocs renders the pages, and collected in ``on_post_build``.
- Dates come from one ``git log`` for the whole docs folder (:mod:`kb_build.gitdates`).
- ``kb build`` of a large KB renders the pages in several processes, one per core
  (:mod:`kb_build.shards`); this plugin is what each of them runs, and the main one (shard
  0) starts the others and merges their pages.
- During ``mkdocs serve`` the plugin object lives across rebuilds: files are re-parsed
  only when their content changed, and the index is updated in place for the articles
  added, changed or deleted, at the start of the rebuild (before MkDocs renders).
"""

from __future__ import annotations

import pickle
import shutil
import threading
import time
from pathlib import Path

from jinja2 import ChoiceLoader, DictLoader
from mkdocs.config import base
from mkdocs.config import config_options as c
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, get_plugin_logger
from mkdocs.structure.nav import Navigation, Section
from mkdocs.structure.pages import Page

from .analysis import SYNONYMS_FILE
from .articles import Article, DocsCache
from .catalog import load_catalog
from .checks import check_docs
from .config import DEFAULT_INDEX_DIR
from .gitdates import iso_date, italian_date, last_changes
from .index import (
    SYNONYMS_NAME,
    IndexBuildError,
    document_from_raw,
    index_stamp,
    raw_fields,
    update_index,
    write_documents,
    write_staged,
)
from .indexer import IndexJob
from .shards import (
    SKIP_TEMPLATE,
    Shard,
    ShardWorker,
    anchor_report,
    foreign_anchor_problems,
    merge_search_index,
    merge_site,
)
from .swap import remove_leftovers, staging_dir, swap_in

log = get_plugin_logger(__name__)

# Seconds MkDocs waits after a change before rebuilding, during `mkdocs serve` (on_serve).
INDEX_HEAD_START = 0.5

# Below this many articles the index is written in this process: starting a second
# Python (about 0.3 s) would cost more than it saves.
PARALLEL_MIN_ARTICLES = 200


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
        self.by_category: dict[str, list[Article]] = {}
        self.root = Path.cwd()
        self.short_sections: dict[int, Page | None] = {}
        # `kb build` sets stage_index: the index is then written aside and published by
        # publish_staged_index() only once the whole build (site included) succeeded.
        self.stage_index = False
        self.staged_index: Path | None = None
        # Kept across the rebuilds of `mkdocs serve` (see on_startup):
        self.docs_cache = DocsCache()
        self.indexed: dict[str, dict] | None = None  # slug -> raw_fields(), in the live index
        self.indexed_stamp = None  # index_stamp() of the live index when we last wrote it
        self.raw_made: dict[str, tuple[Article, dict]] = {}  # see _raw_documents
        # This build's index: a child process, or documents to write here in on_post_build.
        self.job: IndexJob | None = None
        self.pending: dict[str, dict] | None = None
        self.dates: dict[Path, int] = {}
        self.build_time = 0
        # Several processes (kb_build.shards): `kb build` sets jobs; a worker process gets its
        # shard, the main build's time (dates agree) and, handed over, the articles and dates
        # the main build checked (it neither checks them again nor writes the index). The main
        # build keeps its workers, and the messages already logged, to report each only once.
        self.jobs = 1
        self.published_site: Path | None = None  # `kb build`: the site_dir that staging replaces
        self.shard: Shard | None = None
        self.fixed_build_time: int | None = None
        self.handed_over: tuple[list[Article], dict[Path, int]] | None = None
        self.workers: list[ShardWorker] = []
        self.logged: list[str] = []
        self.files = None
        self.skipped: frozenset[str] = frozenset()  # the pages another process renders
        # `mkdocs serve`: a thread that updates the index on save (see refresh_index); the
        # lock keeps it and the build's on_pre_build from checking and writing at once.
        self.watcher: _DocsWatcher | None = None
        self.lock = threading.RLock()

    def on_startup(self, *, command, dirty):
        """Defined so that MkDocs keeps this object across the rebuilds of `mkdocs serve`:
        a rebuild then re-parses and re-indexes only the articles that changed."""

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
        """Check every article before MkDocs touches site_dir, so a bad article keeps the old
        site; then update the index in place (serve) or start writing it (a full build)."""
        docs_dir = Path(config.docs_dir)
        self.docs_root = docs_dir.resolve()
        if self.handed_over is not None:  # a worker of `kb build`: the main build checked them
            self.articles, self.dates = self.handed_over
        else:
            self._check_and_index(docs_dir)
            # After the index, which a writer waits for during `mkdocs serve`.
            self.dates = last_changes(self.docs_root)
        self.by_category = {}
        for article in sorted(self.articles, key=lambda a: a.title.casefold()):
            self.by_category.setdefault(article.category, []).append(article)
        self.build_time = self.fixed_build_time or int(time.time())
        if self.jobs > 1 and self.shard is None:
            self._start_workers(config)

    def _check_and_index(self, docs_dir: Path) -> None:
        with self.lock:
            docs, problems = check_docs(docs_dir, self.ticket_forms(), cache=self.docs_cache)
            if problems:
                listing = "\n".join(str(p) for p in problems)
                raise PluginError(f"kb check found {len(problems)} problem(s):\n{listing}")
            self.articles = docs.articles
            # Compared and handed over with their bodies still in Markdown: the plain text
            # is made only for the articles that changed, or by the index process.
            documents = self._raw_documents(self.articles)
            if not self._update_in_place(documents):
                self._start_full_index(documents)

    def _start_workers(self, config) -> None:
        """This build renders shard 0; a process for each other shard starts now, into a
        folder of its own (removed as a leftover if this build is killed)."""
        self.shard = Shard(0, self.jobs)
        # Beside the published site, where the next build finds them if this one is killed.
        site_dir = self.published_site or Path(config.site_dir)
        state = pickle.dumps((self.articles, self.dates), protocol=pickle.HIGHEST_PROTOCOL)
        for number in range(1, self.jobs):
            folder = staging_dir(site_dir, f"shard{number}")
            shard = Shard(number, self.jobs)
            self.workers.append(ShardWorker(Path(config.config_file_path), folder, shard, self.build_time, state))

    def on_files(self, files, config):
        """With several processes: the pages that the others render (see kb_build.shards)."""
        self.files = files
        self.skipped = frozenset()
        if self.shard is not None:
            self.skipped = self.shard.others(file.src_uri for file in files.documentation_pages())
        return files

    def on_pre_page(self, page, config, files):
        if page.file.src_uri in self.skipped:
            Shard.skip(page)
        return page

    def on_env(self, env, config, files):
        """The empty template of the pages another process renders."""
        if self.shard is not None:
            env.loader = ChoiceLoader([DictLoader({SKIP_TEMPLATE: ""}), env.loader])
        return env

    def _raw_documents(self, articles: list[Article]) -> dict[str, dict]:
        """Each article's raw_fields(), made again only for the articles re-parsed since the
        last call (the docs cache returns the same object for an unchanged file)."""
        previous, self.raw_made = self.raw_made, {}
        documents = {}
        for article in articles:
            made = previous.get(article.slug)
            raw = made[1] if made is not None and made[0] is article else raw_fields(article)
            self.raw_made[article.slug] = (article, raw)
            documents[article.slug] = raw
        return documents

    def _update_in_place(self, documents: dict[str, dict]) -> bool:
        """Apply to the live index what changed since we last wrote it; False when it has
        to be rebuilt instead (first build, `kb build`, synonym table edited, index
        replaced or damaged meanwhile)."""
        if self.stage_index or self.indexed is None or not self._index_is_ours():
            return False
        started = time.perf_counter()
        changed = [document for slug, document in documents.items() if self.indexed.get(slug) != document]
        deleted = [slug for slug in self.indexed if slug not in documents]
        if changed or deleted:
            try:
                update_index(self.index_dir, [document_from_raw(raw) for raw in changed], deleted)
            except IndexBuildError as exc:
                log.warning(f"search index: {exc}; rebuilding it")
                return False
            log.info(
                f"search index: {len(changed)} article(s) updated, {len(deleted)} removed "
                f"in {(time.perf_counter() - started) * 1000:.0f} ms"
            )
        self.indexed = documents
        self.indexed_stamp = index_stamp(self.index_dir)
        return True

    def _index_is_ours(self) -> bool:
        try:
            if index_stamp(self.index_dir) != self.indexed_stamp:
                return False
            return (self.index_dir / SYNONYMS_NAME).read_bytes() == SYNONYMS_FILE.read_bytes()
        except OSError:
            return False

    def _start_full_index(self, documents: dict[str, dict]) -> None:
        self.indexed = None  # until on_post_build has put the new index in place
        remove_leftovers(self.index_dir)
        if len(documents) >= PARALLEL_MIN_ARTICLES:
            target = self._index_staging()
            self.job = IndexJob(list(documents.values()), target, self.index_dir)
        self.pending = documents

    def _index_staging(self) -> Path:
        """Where this build's index is written: staged for `kb build`, else a temporary folder."""
        return staging_dir(self.index_dir, "staged" if self.stage_index else "tmp")

    def on_build_error(self, error):
        """Stop an index build and page-rendering processes still running for a build that failed."""
        self._cancel_job()
        self._cancel_workers()

    def _cancel_workers(self) -> None:
        workers, self.workers = self.workers, []
        for worker in workers:
            worker.cancel()

    def _cancel_job(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.job = None
        self.pending = None

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
        """Category index pages list their articles with summaries, so nobody maintains a
        list by hand; articles get the date of their last change ("Ultimo aggiornamento")."""
        if page.meta.get("summary") and not page.meta.get("description"):
            page.meta["description"] = page.meta["summary"]  # Material's <meta name="description">
        src = page.file.src_uri
        parts = src.split("/")
        if len(parts) == 2 and parts[1] != "index.md":
            # The newest commit that changed the article; the build date when it has none
            # (not committed yet, a copy without history).
            when = self.dates.get(self.docs_root / src, self.build_time)
            page.meta["kb_updated"] = italian_date(when)
            page.meta["kb_updated_iso"] = iso_date(when)
        if len(parts) == 2 and parts[1] == "index.md" and parts[0] in self.catalog.categories:
            listed = self.by_category.get(parts[0], [])
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
        """Merge the pages rendered by the other processes; collect the index written beside
        the pages and put it in place (or stage it)."""
        if self.workers:
            self._merge_workers(config)
        documents, self.pending = self.pending, None
        if documents is None:  # updated in place in on_pre_build
            return
        started = time.perf_counter()
        try:
            if self.job is not None:
                job, self.job = self.job, None
                target = job.wait()
            else:
                target = self._index_staging()
                prepared = (document_from_raw(raw) for raw in documents.values())
                write_staged(lambda: write_documents(prepared, target), target, self.index_dir)
        except IndexBuildError as exc:
            raise PluginError(str(exc)) from exc
        if self.stage_index:
            self.staged_index = target
        else:
            try:
                swap_in(target, self.index_dir)
            except OSError as exc:
                raise PluginError(f"cannot replace the search index {self.index_dir}: {exc}") from exc
            self.indexed, self.indexed_stamp = documents, index_stamp(self.index_dir)
        waited = time.perf_counter() - started
        log.info(f"search index: {len(documents)} articles written to {target} (waited {waited:.1f} s for it)")

    def _merge_workers(self, config) -> None:
        """Wait for the other processes, relay their messages (once: the warnings about the
        configuration or the navigation are the same in every process), move their pages
        into this site, and check the links to anchors that no single process could."""
        workers, self.workers = self.workers, []
        site_dir = Path(config.site_dir)
        pages = [file.page for file in self.files.documentation_pages()]
        reports, failures, seen = [anchor_report(pages, self.skipped)], [], set(self.logged)
        try:
            for worker in workers:
                report, messages = worker.wait()
                for level, text in messages:
                    if text in seen:
                        continue
                    seen.add(text)
                    if report is None:
                        failures.append(text)
                    else:
                        log.log(level, text)
                if report is not None:
                    reports.append(report)
            if len(reports) < 1 + len(workers):  # a worker failed: no report of its own
                listing = "\n".join(failures) or "a page-rendering process failed"
                raise PluginError(f"rendering the pages in {len(workers) + 1} processes failed:\n{listing}")
            merge_search_index(site_dir, [w.site_dir for w in workers], {p.url: n for n, p in enumerate(pages)})
            for worker in workers:
                merge_site(worker.site_dir, site_dir)
        finally:
            for worker in workers:
                worker.cancel()  # and its folder: what it rendered has been moved
        for problem in foreign_anchor_problems(reports):
            log.log(config.validation.links.anchors, problem)

    def on_serve(self, server, config, builder):
        """Rebuild on save of the synonym table too, so writers see its effect live; and
        update the index as soon as an article is saved, without waiting for MkDocs."""
        server.watch(str(SYNONYMS_FILE))
        if self.watcher is None:
            self.watcher = _DocsWatcher(self, Path(config.docs_dir))
        # MkDocs starts its rebuild (reloading mkdocs.yml, plugins and theme: a few tenths of
        # a second of CPU) this long after it notices a change. Later than its 0.1 s, the
        # index update above runs first instead of sharing the CPU with it; the rebuild of
        # a large KB takes a minute anyway.
        server.build_delay = max(server.build_delay, INDEX_HEAD_START)
        return server

    def on_shutdown(self):
        """Stop watching docs/ when `mkdocs serve` stops."""
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None

    def refresh_index(self, docs_dir: Path) -> None:
        """Bring the live index up to date with docs/ now (during `mkdocs serve`, on save).

        MkDocs handles a save only once the rebuild in progress is over, and a rebuild of a
        large KB renders for a minute: the index would wait as long. Articles with problems
        are left to the next rebuild, which reports them (and refuses them, as always)."""
        with self.lock:
            if self.indexed is None or self.stage_index:
                return
            docs, problems = check_docs(docs_dir, self.ticket_forms(), cache=self.docs_cache)
            if not problems:
                self._update_in_place(self._raw_documents(docs.articles))

    def begin_kb_build(self, jobs: int, published_site: Path, logged: list[str]) -> None:
        """`kb build` (:func:`kb_build.build.build_site`): the index is staged, to be published
        with the site or not at all; the pages are rendered by ``jobs`` processes, whose
        folders go beside ``published_site``; ``logged`` is the list of the messages shown so
        far (a worker's copy of one is not shown again)."""
        self.stage_index, self.jobs, self.published_site, self.logged = True, jobs, published_site, logged

    def end_kb_build(self) -> None:
        """MkDocs keeps one instance of this plugin per process (it has on_startup): a later
        plain `mkdocs build` in this process neither stages its index nor starts workers."""
        self.stage_index, self.jobs, self.shard, self.published_site, self.logged = False, 1, None, None, []

    def publish_staged_index(self) -> None:
        """Swap the index staged by a successful `kb build` into place."""
        if self.staged_index is not None:
            swap_in(self.staged_index, self.index_dir)
            self.staged_index = None

    def discard_staged_index(self) -> None:
        """Forget the index staged by a failed `kb build`; the published one is untouched."""
        self._cancel_job()
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


class _DocsWatcher:
    """Calls ``plugin.refresh_index`` shortly after Markdown files under ``docs_dir`` change
    (watchdog, which MkDocs itself uses to watch files)."""

    QUIET = 0.05  # seconds without further events: an editor's save is several events

    def __init__(self, plugin: KBPlugin, docs_dir: Path):
        from watchdog import events
        from watchdog.observers import Observer

        # Changes only, not "opened" and "closed_no_write": MkDocs reads every article on
        # each rebuild, and so does a refresh; reacting to reads kept the index refreshing
        # in a loop, taking the CPU from the writer's next save.
        changes = frozenset(
            {
                events.EVENT_TYPE_CREATED,
                events.EVENT_TYPE_MODIFIED,
                events.EVENT_TYPE_MOVED,
                events.EVENT_TYPE_DELETED,
                events.EVENT_TYPE_CLOSED,
            }
        )
        self.plugin, self.docs_dir = plugin, docs_dir
        self.changed = threading.Event()
        self.stopping = False
        watcher = self

        class Handler(events.FileSystemEventHandler):
            def on_any_event(self, event):
                if event.is_directory or event.event_type not in changes:
                    return
                paths = (str(event.src_path), str(getattr(event, "dest_path", "") or ""))
                if any(p.endswith(".md") for p in paths):
                    watcher.changed.set()

        self.observer = Observer()
        self.observer.schedule(Handler(), str(docs_dir), recursive=True)
        self.observer.daemon = True
        self.observer.start()
        self.thread = threading.Thread(target=self.run, name="kb-index-watcher", daemon=True)
        self.thread.start()

    def run(self) -> None:
        while True:
            self.changed.wait()
            if self.stopping:
                return
            while self.changed.is_set():  # until the save is over
                self.changed.clear()
                time.sleep(self.QUIET)
            try:
                self.plugin.refresh_index(self.docs_dir)
            except Exception as exc:  # never kill the thread: the next rebuild reports it
                log.warning(f"search index: could not update it on save ({exc}); the rebuild will")

    def stop(self) -> None:
        self.stopping = True
        self.changed.set()
        self.observer.stop()
        self.observer.join(timeout=5)
        self.thread.join(timeout=5)
