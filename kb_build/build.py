"""``kb build``: the site (and, through the plugin, the search index) built aside and swapped in.

``mkdocs build`` empties ``site_dir`` before it writes; a build that then fails would leave
customers with half a site. Here MkDocs writes into a sibling folder, and only a build
that succeeded replaces the published one. The ``kb`` plugin is told to stage the search
index the same way, so the site and the index are replaced together or not at all.
"""

from __future__ import annotations

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


def build_site(config_file: str | Path = "mkdocs.yml", strict: bool = True) -> Path:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import Abort, ConfigurationError

    collect = _Collect()
    logger = logging.getLogger("mkdocs")
    logger.addHandler(collect)
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
            kb_plugin.stage_index = True
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
            # MkDocs keeps one instance of our plugin per process (it has on_startup), so
            # a later plain `mkdocs build` in this process must not stage its index.
            if kb_plugin is not None:
                kb_plugin.stage_index = False
        return final
    finally:
        logger.removeHandler(collect)
