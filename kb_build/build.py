"""``kb build``: the site (and, through the plugin, the search index) built aside and swapped in.

``mkdocs build`` empties ``site_dir`` before it writes; a build that then fails would leave
customers with half a site. Here MkDocs writes into a sibling folder, and only a build
that succeeded replaces the published one. The ``kb`` plugin is told to stage the search
index the same way, so the site and the index are replaced together or not at all.
"""

from __future__ import annotations

import gc
import logging
import os
import shutil
from pathlib import Path

from .swap import remove_leftovers, staging_dir, swap_in

os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")  # Material's end-of-life banner (PITFALLS.md)


class BuildError(Exception):
    """The build failed; the message carries MkDocs' and our errors."""


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


# _NO_GC: Python's cyclic garbage collector is off while the site is built (here and in the
# processes of kb_build.shards). MkDocs makes a Markdown object per page, full of reference
# cycles, and the collector kept tracing and freeing them: measured at 5,000 articles, a
# process renders its pages with about 20% less CPU without it, and peaks at about 420 MB
# instead of 260 MB (the memory is given back when the build ends).

# Below this many articles per process, starting one more (it reads every page, renders its
# share) saves little: about 2 s of fixed cost each (`make bench`: at 1,000 articles, two
# processes take 11-13 s instead of 15).
SHARD_MIN_ARTICLES = 300


def auto_jobs(docs_dir: Path) -> int:
    """Processes to render the pages in: one per core, for a KB large enough to gain."""
    articles = sum(1 for _ in Path(docs_dir).rglob("*.md"))
    return max(1, min(os.cpu_count() or 1, articles // SHARD_MIN_ARTICLES))


def build_site(config_file: str | Path = "mkdocs.yml", strict: bool = True, jobs: int | None = None) -> Path:
    """Build the site and the index into staging folders and swap both in, or raise
    :class:`BuildError` leaving the published ones as they were. ``jobs``: processes that
    render the pages (:mod:`kb_build.shards`); None picks by the size of the KB."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import Abort, ConfigurationError

    collect = _Collect()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(collect)
    gc_was_enabled = gc.isenabled()
    gc.disable()  # see _NO_GC
    try:
        try:
            config = load_config(str(config_file), strict=strict)
        except ConfigurationError as exc:
            raise BuildError(f"{config_file}: {exc}") from exc
        final = Path(config.site_dir)
        remove_leftovers(final)  # of a build killed half way (kill -9, power cut)
        staging = staging_dir(final, "building")
        config.site_dir = str(staging)
        kb_plugin = config.plugins.get("kb")
        if kb_plugin is not None:
            kb_plugin.begin_kb_build(jobs or auto_jobs(config.docs_dir), final, collect.messages)
        try:
            try:
                build(config)
            except (Abort, Exception) as exc:
                shutil.rmtree(staging, ignore_errors=True)
                if kb_plugin is not None:
                    kb_plugin.discard_staged_index()
                details = "\n".join(m for m in collect.messages if m) or str(exc)
                raise BuildError(f"build failed, the previous site and search index are unchanged:\n{details}") from exc
            if kb_plugin is not None:
                kb_plugin.publish_staged_index()
            swap_in(staging, final)
        finally:
            if kb_plugin is not None:
                kb_plugin.end_kb_build()
        return final
    finally:
        logger.removeHandler(collect)
        if gc_was_enabled:
            gc.enable()
