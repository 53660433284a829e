"""A large site rendered by several processes at once (``kb build``, SPEC K4).

MkDocs renders pages one after the other, in one process: about 12 ms a page with Material,
so a minute for 5,000 articles while the other cores wait. ``kb build`` therefore splits the
pages into shards, one per core:

- every process runs the whole MkDocs build on the same configuration: it reads every page
  (front matter, titles), builds the whole navigation, and renders the Markdown and the
  template only of the pages of its own shard (the others get no content and an empty
  template, which MkDocs skips: see :meth:`Shard.skip`);
- the main build (shard 0) starts the others (:class:`ShardWorker`, ``python -m
  kb_build.shards``) once its checks have passed, each writing to a folder of its own;
- at the end the main build moves their pages into its site (:func:`merge_site`), joins
  their parts of the built-in search index (:func:`merge_search_index`), and checks the
  links to anchors of pages that another process rendered (:func:`foreign_anchor_problems`),
  which MkDocs could not check in either.

The result is the site a single process builds, byte for byte (a test compares them).
"""

from __future__ import annotations

import functools
import gc
import json
import logging
import os
import shutil
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .children import Child, start_child

# A page outside a process's shard is rendered with this template, which is empty: MkDocs
# writes no file for an empty page ("Page skipped").
SKIP_TEMPLATE = "kb-shard-skip.html"
SEARCH_INDEX = Path("search") / "search_index.json"


@dataclass(frozen=True)
class Shard:
    """The pages that process ``number`` of ``count`` renders: every count-th one, by path."""

    number: int
    count: int

    def others(self, src_uris: Iterable[str]) -> frozenset[str]:
        """The pages of ``src_uris`` that the other processes render."""
        return frozenset(uri for n, uri in enumerate(sorted(src_uris)) if n % self.count != self.number)

    @staticmethod
    def skip(page) -> None:
        """Make MkDocs skip ``page`` (called before it is read): no Markdown conversion, no
        template, no search entry. Its front matter is still read, so its title is right in
        the navigation and in the previous/next links of the pages that are rendered."""
        page.render = functools.partial(_render_nothing, page)


def _render_nothing(page, config, files) -> None:
    # Stands in for Page.render. present_anchor_ids stays None: MkDocs then skips the links
    # to this page's anchors, and foreign_anchor_problems() checks them instead.
    page.content = ""
    page.meta["template"] = SKIP_TEMPLATE
    page.meta["search"] = {**(page.meta.get("search") or {}), "exclude": True}


# ---------------------------------------------------------------------------
# The main build's side


class ShardWorker:
    """``python -m kb_build.shards``: shard ``shard`` of the build of ``config_file``, written
    to ``site_dir``. ``state``: the pickled articles and dates (what the kb plugin's
    ``handed_over`` takes), on its standard input; its anchors report on standard output,
    its messages on standard error."""

    def __init__(self, config_file: Path, site_dir: Path, shard: Shard, build_time: int, state: bytes):
        self.site_dir = Path(site_dir)
        shutil.rmtree(self.site_dir, ignore_errors=True)
        args = [str(config_file), str(self.site_dir), str(shard.number), str(shard.count), str(build_time)]
        self.child = Child("kb_build.shards", args, state)

    def wait(self) -> tuple[dict | None, list[tuple[int, str]]]:
        """The shard's anchors report (:func:`anchor_report`), None when it failed; and its
        messages (MkDocs' warnings and errors) as (logging level, text)."""
        code, report, errors = self.child.wait()
        messages = []
        for line in errors.splitlines():
            try:
                level, text = json.loads(line)
            except ValueError:  # not ours: Python itself (a crash)
                level, text = logging.ERROR, line
            messages.append((level, text))
        if code != 0:
            if not messages:
                messages.append((logging.ERROR, f"the page-rendering process ended with status {code}"))
            return None, messages
        return json.loads(report), messages

    def cancel(self) -> None:
        """Stop the process if it still runs, and remove its folder."""
        self.child.kill()
        shutil.rmtree(self.site_dir, ignore_errors=True)


def merge_site(part: Path, site_dir: Path) -> None:
    """Move into ``site_dir`` the files of ``part`` it lacks: the pages ``part``'s process
    rendered. The files both have (the theme's, the sitemap, 404.html) are the same."""
    for folder, _dirs, names in os.walk(part):
        relative = Path(folder).relative_to(part)
        for name in names:
            target = site_dir / relative / name
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(Path(folder) / name, target)


def merge_search_index(site_dir: Path, parts: list[Path], page_order: dict[str, int]) -> None:
    """Join the parts of Material's search index, in the order of the pages (so the index is
    the one a single process writes): each process indexed the pages it rendered."""
    path = site_dir / SEARCH_INDEX
    if not path.is_file():  # the search plugin is not used
        return
    data = json.loads(path.read_text(encoding="utf-8"))
    for part in parts:
        data["docs"].extend(json.loads((part / SEARCH_INDEX).read_text(encoding="utf-8"))["docs"])
    last = len(page_order)
    data["docs"].sort(key=lambda entry: page_order.get(entry["location"].split("#")[0], last))  # stable
    # As Material writes it (material/plugins/search/plugin.py).
    path.write_text(json.dumps(data, separators=(",", ":"), default=str), encoding="utf-8")


def anchor_report(pages: Iterable, skipped: frozenset[str]) -> dict:
    """For the pages this process rendered (all but ``skipped``): the anchors they have, and
    their links to anchors of the pages it skipped, which MkDocs could not check."""
    present, links = {}, {}
    for page in pages:
        uri = page.file.src_uri
        if uri in skipped:
            continue
        present[uri] = sorted(page.present_anchor_ids or ())
        foreign = {
            to_file.src_uri: anchors
            for to_file, anchors in (page.links_to_anchors or {}).items()
            if to_file.src_uri in skipped
        }
        if foreign:
            links[uri] = foreign
    return {"present": present, "links": links}


def foreign_anchor_problems(reports: list[dict]) -> list[str]:
    """MkDocs' own message for each link to an anchor that the page linked to lacks."""
    present = {uri: set(anchors) for report in reports for uri, anchors in report["present"].items()}
    problems = []
    for report in reports:
        for uri, targets in sorted(report["links"].items()):
            for target, anchors in sorted(targets.items()):
                for anchor, original in anchors.items():
                    if target in present and anchor not in present[target]:
                        problems.append(
                            f"Doc file '{uri}' contains a link '{original}', but the doc '{target}' "
                            f"does not contain an anchor '#{anchor}'."
                        )
    return problems


# ---------------------------------------------------------------------------
# The worker process


class _JSONLines(logging.Handler):
    """MkDocs' warnings and errors, one JSON ``[level, message]`` per line: the main build
    logs them again, so they count in its --strict (a message may span several lines)."""

    def emit(self, record):
        print(json.dumps([record.levelno, record.getMessage()]), file=sys.stderr, flush=True)


def main(argv: list[str]) -> int:
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    config_file, site_dir = argv[0], argv[1]
    shard, build_time = Shard(int(argv[2]), int(argv[3])), int(argv[4])
    state = start_child(argv)
    gc.disable()  # as in the main build (kb_build.build, _NO_GC); the process ends with the build
    logging.getLogger("mkdocs").addHandler(_JSONLines(logging.WARNING))
    try:
        # Not strict: the main build decides, once it has every process's warnings.
        config = load_config(config_file, site_dir=site_dir, strict=False)
        plugin = config.plugins["kb"]
        plugin.shard, plugin.fixed_build_time, plugin.handed_over = shard, build_time, state
        build(config)
    except Exception as exc:  # MkDocs' Abort, a plugin's error: the main build reports it
        print(json.dumps([logging.ERROR, str(exc)]), file=sys.stderr, flush=True)
        return 1
    pages = (file.page for file in plugin.files.documentation_pages())
    print(json.dumps(anchor_report(pages, plugin.skipped)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
