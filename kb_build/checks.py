"""``kb check``: every problem a writer can cause in ``docs/``, as ``file:line: message``.

Per-file problems come from :mod:`kb_build.articles`; this module adds the checks that
need the whole tree: internal links, duplicate titles and slugs.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from markdown.extensions.toc import slugify as toc_slugify

from .articles import _SCHEME, Docs, DocsCache, Problem, Source, load_docs
from .text import fold

_ATTR_LIST = re.compile(r"\s*\{[^}]*\}\s*$")


def check_docs(
    docs_dir: Path, ticket_forms: frozenset[str] | None = None, cache: DocsCache | None = None
) -> tuple[Docs, list[Problem]]:
    """Load ``docs_dir`` and return it with every problem found, sorted by file and line.

    ``cache`` (see :class:`~kb_build.articles.DocsCache`) skips the files unchanged since
    the previous call; the checks across files always run on all of them."""
    docs = load_docs(docs_dir, ticket_forms, cache=cache)
    problems = list(docs.problems)
    problems += check_links(docs)
    problems += check_duplicates(docs)
    problems.sort(key=lambda p: (p.path, p.line, p.message))
    return docs, problems


def _anchors(source: Source) -> set[str]:
    """Heading ids as MkDocs' ``toc`` extension makes them (explicit ``{#id}`` included)."""
    anchors = set()
    for heading in source.headings:
        explicit = re.search(r"\{\s*#([\w-]+)[^}]*\}\s*$", heading.text)
        if explicit:
            anchors.add(explicit.group(1))
        anchors.add(toc_slugify(_ATTR_LIST.sub("", heading.text), "-"))
    return anchors


def check_links(docs: Docs) -> list[Problem]:
    """Relative links must point at an existing file of ``docs/`` (and heading, when given)."""
    by_rel = {source.rel: source for source in docs.sources}
    problems: list[Problem] = []
    for source in docs.sources:
        for link in source.links:
            target = link.target
            if not target or _SCHEME.match(target) or target.startswith("//"):
                continue
            parts = urlsplit(target)
            path, fragment = unquote(parts.path), parts.fragment
            if path.startswith("/"):
                problems.append(
                    Problem(
                        source.display,
                        link.line,
                        f"link '{target}' starts with '/': it breaks when the site is published "
                        "under a sub-path; write it relative to this file, e.g. '../email/articolo.md'",
                    )
                )
                continue
            if not path:  # same-page anchor
                resolved = source
            else:
                rel = PurePosixPath(posixpath.normpath(str(source.rel.parent / path)))
                if rel.parts and rel.parts[0] == "..":
                    problems.append(
                        Problem(source.display, link.line, f"link '{target}' points outside docs/")
                    )
                    continue
                if rel.suffix != ".md":
                    if not (docs.docs_dir / rel).exists():
                        problems.append(
                            Problem(source.display, link.line, f"broken link '{target}': no file docs/{rel}")
                        )
                    continue
                resolved = by_rel.get(rel)
                if resolved is None:
                    problems.append(
                        Problem(
                            source.display,
                            link.line,
                            f"broken link '{target}': there is no article docs/{rel}"
                            + _suggest(rel, by_rel),
                        )
                    )
                    continue
            if fragment and fragment not in _anchors(resolved):
                problems.append(
                    Problem(
                        source.display,
                        link.line,
                        f"broken link '{target}': docs/{resolved.rel} has no heading '#{fragment}'"
                        f" (allowed: {', '.join('#' + a for a in sorted(_anchors(resolved))) or 'none'})",
                    )
                )
    return problems


def _suggest(rel: PurePosixPath, by_rel: dict) -> str:
    """Point at the article with the same file name in another folder, a common slip."""
    same_name = sorted(str(r) for r in by_rel if r.name == rel.name)
    return f" (did you mean docs/{same_name[0]}?)" if same_name else ""


def check_duplicates(docs: Docs) -> list[Problem]:
    """Two articles may not share a title (ignoring case/accents/punctuation) or a slug."""
    problems: list[Problem] = []
    titles: dict[str, object] = {}
    slugs: dict[str, object] = {}
    for article in sorted(docs.articles, key=lambda a: str(a.source.rel)):
        line = article.source.meta_lines.get("title", 1)
        key = fold(article.title)
        first = titles.setdefault(key, article)
        if first is not article:
            problems.append(
                Problem(
                    article.source.display,
                    line,
                    f"duplicate title '{article.title}': also used by {first.source.display}; "
                    "merge the two articles or make the titles say how they differ",
                )
            )
        first = slugs.setdefault(article.slug, article)
        if first is not article:
            problems.append(
                Problem(
                    article.source.display,
                    1,
                    f"duplicate slug '{article.slug}': {first.source.display} has the same file name; "
                    "rename one of the two files (the name becomes the page address)",
                )
            )
    return problems
