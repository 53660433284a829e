"""The article model: every Markdown file of ``docs/`` parsed once, front matter and body.

An *article* lives at ``docs/<category>/<slug>.md`` and carries validated front matter.
Other Markdown files (``docs/index.md``, ``docs/<category>/index.md``, ``docs/tags.md``)
are *pages*: they are checked (links, front matter syntax) but are not search results.

This module knows nothing about MkDocs or Whoosh: the site plugin, the search index and
``kb check`` all start from :func:`load_docs`.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath

import yaml

from .catalog import Catalog, load_catalog
from .text import display_path, fold

SUMMARY_MAX = 160
FRONT_MATTER_KEYS = ("title", "summary", "category", "services", "tags", "ticket_form")
_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_LINK = re.compile(r"!?\[(?P<text>[^\]]*)\]\((?P<target><[^>]*>|[^)\s]+)(?:\s+\"[^\"]*\")?\)")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
# libyaml's safe loader when PyYAML has it (the wheels do): the pure-Python one took about
# 5 ms per article, a third of a 5,000-article build. Same nodes, marks and errors.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Problem:
    """One thing a writer must fix, printed as ``file:line: message``."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class ArticleError(Exception):
    """Raised with every problem found when a caller needs valid articles or nothing."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Heading:
    level: int
    text: str
    line: int


@dataclass(frozen=True)
class Link:
    target: str
    line: int


@dataclass(frozen=True)
class Source:
    """A Markdown file split into front matter and body, with line numbers for messages."""

    path: Path
    rel: PurePosixPath  # relative to docs_dir, always with '/'
    meta: dict
    meta_lines: dict[str, int]  # key -> line of the key in the file
    body: str
    body_line: int  # line number of the first body line
    headings: tuple[Heading, ...]
    links: tuple[Link, ...]

    @property
    def display(self) -> str:
        return display_path(self.path)

    @property
    def is_article(self) -> bool:
        """Articles are ``<category>/<slug>.md``; ``index.md`` files and root pages are not."""
        return len(self.rel.parts) == 2 and self.rel.name != "index.md"


@dataclass(frozen=True)
class Article:
    """A validated KB article: what the site, the search index and the checks share."""

    source: Source
    slug: str
    category: str
    title: str
    summary: str
    services: tuple[str, ...]
    tags: tuple[str, ...]
    ticket_form: str | None

    @cached_property
    def text(self) -> str:
        """The body as plain text, for the index and snippets. Computed on first use: the
        site build leaves it to the index process (:mod:`kb_build.indexer`)."""
        return plain_text(self.source.body)

    @property
    def path(self) -> Path:
        return self.source.path

    @property
    def url(self) -> str:
        """Site-relative URL (MkDocs ``use_directory_urls``): ``email/slug/``."""
        return f"{self.category}/{self.slug}/"

    @property
    def headings(self) -> tuple[str, ...]:
        return tuple(h.text for h in self.source.headings)


@dataclass
class Docs:
    """Everything under ``docs/``: valid articles, all sources, and the problems found."""

    docs_dir: Path
    articles: list[Article]
    sources: list[Source]
    problems: list[Problem]


# ---------------------------------------------------------------------------
# Parsing


def parse_source(path: Path, docs_dir: Path, raw: bytes | None = None) -> tuple[Source | None, list[Problem]]:
    """Split a Markdown file into front matter and body; syntax problems are returned, not raised."""
    shown = display_path(path)
    rel = PurePosixPath(path.relative_to(docs_dir).as_posix())
    raw = path.read_bytes() if raw is None else raw
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Problem(shown, line, "not UTF-8 text: save the file with UTF-8 encoding")]
    text = text.removeprefix("\ufeff")
    lines = text.split("\n")
    meta: dict = {}
    meta_lines: dict[str, int] = {}
    problems: list[Problem] = []
    body_start = 0
    if lines and lines[0].strip() == "---":
        try:
            end = next(i for i in range(1, len(lines)) if lines[i].strip() in ("---", "..."))
        except StopIteration:
            return None, [
                Problem(shown, 1, "front matter is not closed: add a line with '---' after the last field")
            ]
        meta, meta_lines, problems = _parse_front_matter("\n".join(lines[1:end]), shown)
        body_start = end + 1
    body_lines = lines[body_start:]
    body = "\n".join(body_lines)
    headings, links = _scan_body(body_lines, body_start + 1)
    source = Source(path, rel, meta, meta_lines, body, body_start + 1, headings, links)
    return source, problems


def _parse_front_matter(text: str, shown: str) -> tuple[dict, dict[str, int], list[Problem]]:
    """YAML front matter with the line of each key (line 1 of the file is the opening '---')."""
    loader = _SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return {}, {}, []
        if not isinstance(node, yaml.MappingNode):
            return {}, {}, [
                Problem(shown, 2, "front matter must be 'key: value' lines, e.g. 'title: Come configurare la posta'")
            ]
        meta: dict = {}
        lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            meta[str(key)] = loader.construct_object(value_node, deep=True)
            lines[str(key)] = key_node.start_mark.line + 2
        return meta, lines, []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 2
        problem = getattr(exc, "problem", None) or str(exc)
        return {}, {}, [
            Problem(
                shown,
                line,
                f"front matter is not valid YAML ({problem}): "
                "put values containing ':' or starting with a quote inside double quotes",
            )
        ]
    finally:
        loader.dispose()


def _scan_body(lines: list[str], first_line: int) -> tuple[tuple[Heading, ...], tuple[Link, ...]]:
    """Headings and links of the body, skipping fenced code blocks."""
    headings: list[Heading] = []
    links: list[Link] = []
    in_fence = False
    for offset, line in enumerate(lines):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        number = first_line + offset
        match = _HEADING.match(line)
        if match:
            headings.append(Heading(len(match.group(1)), _inline_text(match.group(2)), number))
        for link in _LINK.finditer(line):
            links.append(Link(link.group("target").strip("<>"), number))
    return tuple(headings), tuple(links)


# ---------------------------------------------------------------------------
# Plain text (for the search index): Markdown markup removed, words kept.

_ADMONITION = re.compile(r'^\s*(?:!!!|\?\?\?\+?)\s*\w+(?:\s+"([^"]*)")?\s*$')
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")
_LIST_MARK = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_AUTOLINK = re.compile(r"<((?:https?://|mailto:)[^>]+)>")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_|`)(?=\S)(.+?)(?<=\S)\1")
_HTML_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>|])")


def _inline_text(text: str) -> str:
    # Each substitution only when its marker is there: most lines are plain prose, and
    # this runs on every line of every article.
    if "](" in text:
        text = _LINK.sub(lambda m: m.group("text"), text)
    if "<" in text:
        text = _AUTOLINK.sub(lambda m: m.group(1).removeprefix("mailto:"), text)
        text = _HTML_TAG.sub(" ", text)
    if "*" in text or "_" in text or "`" in text:
        text = _EMPHASIS.sub(r"\2", text)
    if "\\" in text:
        text = _ESCAPE.sub(r"\1", text)
    return " ".join(text.split())


def plain_text(body: str) -> str:
    """Body Markdown as plain text, one line per block, for indexing and snippets."""
    out: list[str] = []
    in_fence = False
    for line in body.split("\n"):
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if _TABLE_RULE.match(line):
            continue
        admonition = _ADMONITION.match(line)
        if admonition:
            if admonition.group(1):
                out.append(admonition.group(1))
            continue
        line = _HEADING.sub(r"\2", line) if not in_fence else line
        line = _LIST_MARK.sub("", line)
        line = line.replace("|", " ").lstrip("> ")
        text = _inline_text(line) if not in_fence else line.strip()
        if text:
            out.append(text)
    return "\n".join(out)


# ---------------------------------------------------------------------------
# Validation of one article's front matter


def build_article(source: Source, catalog: Catalog, ticket_forms: frozenset[str] | None = None):
    """Validate an article's front matter; return ``(article or None, problems)``.

    ``ticket_forms`` is the set of known intake request types; ``None`` skips that check
    (a KB built without the intake).
    """
    meta, lines, shown = source.meta, source.meta_lines, source.display
    problems: list[Problem] = []

    def problem(key: str | None, message: str) -> None:
        line = lines.get(key, 1) if key else 1
        problems.append(Problem(shown, line, message))

    if not lines and not meta:
        problems.append(
            Problem(
                shown,
                1,
                "missing front matter: start the file with '---', then lines such as "
                "'title: ...', 'summary: ...', 'category: ...', and close it with '---'",
            )
        )
        return None, problems

    for key in meta:
        if key not in FRONT_MATTER_KEYS:
            hint = _closest(key, FRONT_MATTER_KEYS)
            problem(
                key,
                f"unknown front matter field '{key}'"
                + (f" (did you mean '{hint}'?)" if hint else "")
                + f" (allowed: {', '.join(FRONT_MATTER_KEYS)})",
            )

    title = _text_field(meta, "title", problem)
    if title is not None and not title:
        problem("title", "title is empty: write what the article answers, e.g. 'Come configurare Outlook'")
    elif title is not None and catalog.is_generic_title(title):
        problem(
            "title",
            f"title '{title}' is too generic: say what the article answers, "
            "e.g. 'Come configurare la posta su Outlook'",
        )
    elif title is not None and len(fold(title).split()) < 2:
        problem("title", f"title '{title}' is a single word: say what the article answers, in a few words")
    if "title" not in meta:
        problem(None, "missing 'title' in the front matter: add a line 'title: ...'")

    summary = _text_field(meta, "summary", problem)
    if "summary" not in meta:
        problem(
            None,
            f"missing 'summary' in the front matter: add 'summary: ...', one sentence of at most "
            f"{SUMMARY_MAX} characters shown in search results",
        )
    elif summary is not None and not summary:
        problem("summary", "summary is empty: write one sentence shown in search results")
    elif summary is not None and len(summary) > SUMMARY_MAX:
        problem(
            "summary",
            f"summary is {len(summary)} characters long (allowed: at most {SUMMARY_MAX}): shorten it",
        )

    folder = source.rel.parts[0]
    category = _text_field(meta, "category", problem)
    allowed_categories = ", ".join(catalog.categories)
    if "category" not in meta:
        problem(None, f"missing 'category' in the front matter (allowed: {allowed_categories})")
    elif category is not None and category not in catalog.categories:
        problem("category", f"unknown category '{category}' (allowed: {allowed_categories})")
    elif category is not None and category != folder:
        problem(
            "category",
            f"category '{category}' does not match the folder '{folder}/': "
            f"move the file to docs/{category}/ or set 'category: {folder}'",
        )
    if folder not in catalog.categories:
        problems.append(
            Problem(
                shown,
                1,
                f"folder '{folder}/' is not a category (allowed: {allowed_categories}): "
                "move the article into one of those folders",
            )
        )

    services = _list_field(meta, "services", problem)
    for service in services:
        if service not in catalog.services:
            problem("services", f"unknown service '{service}' (allowed: {', '.join(catalog.services)})")

    tags = _list_field(meta, "tags", problem)
    for tag in tags:
        if not tag.strip():
            problem("tags", "empty tag: remove it or write a word")
    if len(set(tags)) != len(tags):
        problem("tags", "the same tag is listed twice: remove the repeat")

    ticket_form = meta.get("ticket_form")
    if ticket_form is not None:
        if not isinstance(ticket_form, str):
            problem("ticket_form", f"ticket_form must be the name of a request type, not {ticket_form!r}")
            ticket_form = None
        elif ticket_forms is not None and ticket_form not in ticket_forms:
            problem(
                "ticket_form",
                f"unknown ticket_form '{ticket_form}' (allowed: {', '.join(sorted(ticket_forms))})",
            )

    slug = source.rel.stem
    if slug != slug.lower() or not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", slug):
        problems.append(
            Problem(
                shown,
                1,
                f"file name '{source.rel.name}' is not a valid slug: use lowercase letters, digits "
                "and '-' only, e.g. 'configurare-outlook.md'",
            )
        )

    if problems:
        return None, problems
    article = Article(
        source=source,
        slug=slug,
        category=category,
        title=title,
        summary=summary,
        services=tuple(services),
        tags=tuple(tags),
        ticket_form=ticket_form,
    )
    return article, problems


def _text_field(meta: dict, key: str, problem) -> str | None:
    value = meta.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        problem(key, f"'{key}' must be text, not {type(value).__name__} {value!r}: put it inside double quotes")
        return None
    return " ".join(value.split())


def _list_field(meta: dict, key: str, problem) -> list[str]:
    value = meta.get(key)
    if value is None:
        return []
    if isinstance(value, str):  # a single value written without brackets
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problem(key, f"'{key}' must be a list of words, e.g. '{key}: [uno, due]'")
        return []
    return [v.strip() for v in value]


def _closest(word: str, choices) -> str | None:
    import difflib

    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return found[0] if found else None


# ---------------------------------------------------------------------------
# Loading a whole docs/ tree


def markdown_files(docs_dir: Path) -> list[Path]:
    """Every ``.md`` file MkDocs would build (hidden files and folders are left out)."""
    found = []
    for folder, subfolders, names in os.walk(docs_dir):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        found += [(*Path(folder).relative_to(docs_dir).parts, name) for name in names if name.endswith(".md") and not name.startswith(".")]
    return [docs_dir.joinpath(*parts) for parts in sorted(found)]


# A file whose modification time is this much older than our last read of it cannot have
# changed since without its time changing too (the "racy git" rule): trust its stat().
_SETTLED_NS = 2_000_000_000


class DocsCache:
    """The files of a previous :func:`load_docs`, parsed and validated, reused while they
    are unchanged: ``mkdocs serve`` then re-parses only the files a writer saved.

    A file is unchanged when its ``stat()`` is the same and it was last modified well
    before we read it; otherwise its bytes are read and compared (two saves within one
    tick of the file system's clock would look alike to ``stat()`` alone)."""

    def __init__(self):
        self.entries: dict[Path, tuple] = {}  # path -> (stat key, read at (ns), bytes, result)


def _stat_key(path: Path) -> tuple:
    info = path.stat()
    return info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns


def load_docs(
    docs_dir: Path,
    ticket_forms: frozenset[str] | None = None,
    catalog: Catalog | None = None,
    cache: DocsCache | None = None,
) -> Docs:
    """Parse and validate every Markdown file of ``docs_dir`` (per-file checks only)."""
    catalog = catalog or load_catalog()
    docs_dir = Path(docs_dir)
    articles: list[Article] = []
    sources: list[Source] = []
    problems: list[Problem] = []
    entries = {}
    context = (docs_dir, ticket_forms, id(catalog))
    for path in markdown_files(docs_dir):
        entry = None
        if cache is not None:
            key, now = _stat_key(path), time.time_ns()
            cached = cache.entries.get(path)
            if cached is not None and cached[3][0] == context:
                if cached[0] == key and key[2] < cached[1] - _SETTLED_NS:
                    entry = cached
                else:
                    raw = path.read_bytes()
                    if raw == cached[2]:
                        entry = (key, now, raw, cached[3])
            if entry is None:
                raw = path.read_bytes()
                entry = (key, now, raw, (context, *_load_file(path, docs_dir, raw, catalog, ticket_forms)))
            entries[path] = entry
            result = entry[3]
        else:
            result = (context, *_load_file(path, docs_dir, path.read_bytes(), catalog, ticket_forms))
        _, source, found, article = result
        problems.extend(found)
        if source is not None:
            sources.append(source)
        if article is not None:
            articles.append(article)
    if cache is not None:
        cache.entries = entries  # deleted files are forgotten
    return Docs(docs_dir, articles, sources, problems)


def _load_file(path: Path, docs_dir: Path, raw: bytes, catalog: Catalog, ticket_forms) -> tuple:
    """``(source or None, problems, article or None)`` of one Markdown file."""
    source, problems = parse_source(path, docs_dir, raw)
    if source is None or problems:
        return source, problems, None
    if source.is_article:
        article, found = build_article(source, catalog, ticket_forms)
        return source, problems + found, article
    if len(source.rel.parts) > 2:
        problems = problems + [
            Problem(
                source.display,
                1,
                "articles go directly in a category folder (docs/<category>/<slug>.md): move this file up",
            )
        ]
    return source, problems, None
