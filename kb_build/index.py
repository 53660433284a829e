"""The Whoosh search index, built from the article model (never by re-parsing HTML).

Field contract (what :mod:`kb_build.search` and its callers rely on):

==============  ==========================================  =======================
field           content                                     use
==============  ==========================================  =======================
``slug``        file name without ``.md`` (unique)          stored; key for updates
``url``         site-relative URL, e.g. ``email/<slug>/``   stored
``category``    category slug                               stored; exact filter
``ticket_form`` intake request type, or empty               stored
``title``       title                                       stored; searched
``headings``    the article's headings                      searched
``summary``     front matter summary                        stored; searched
``body``        body as plain text                          stored (snippets); searched
``tags``        tags                                        searched
``services``    labels of the services (catalog)            searched
==============  ==========================================  =======================

Every text field uses the Italian analyzer of :mod:`kb_build.analysis`. Field weights
(the title counts most) are applied at query time in :mod:`kb_build.search`, so tuning
them needs no rebuild.

The index directory also holds ``synonyms.txt``, the synonym table it was built with, so
an index copied to another machine searches exactly as it did here.

A build never writes into the live directory: it writes a sibling ``.<name>.tmp-<pid>``
and swaps it in with :func:`kb_build.swap.swap_in`; a failed build removes the temporary
folder and leaves the previous index as it was. Documents are keyed by ``slug``, so a
later per-article update (``writer.update_document``, for ``mkdocs serve``) can reuse
:func:`article_fields`.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.fields import ID, STORED, TEXT, Schema

from .analysis import SYNONYMS_FILE, SynonymError, italian_analyzer, load_synonyms
from .articles import Article
from .catalog import load_catalog
from .swap import swap_in

INDEX_NAME = "kb"  # Whoosh's name for the index inside the directory
SCHEMA_VERSION = "1"  # bump when the schema changes, so old indexes are reported stale
SYNONYMS_NAME = "synonyms.txt"
TEXT_FIELDS = ("title", "headings", "summary", "body", "tags", "services")


class IndexBuildError(Exception):
    """The index could not be built; the previous one (if any) is untouched."""


def make_schema() -> Schema:
    analyzer = italian_analyzer()
    return Schema(
        slug=ID(stored=True, unique=True),
        url=ID(stored=True),
        category=ID(stored=True),
        ticket_form=ID(stored=True),
        title=TEXT(analyzer=analyzer, stored=True),
        headings=TEXT(analyzer=analyzer),
        summary=TEXT(analyzer=analyzer, stored=True),
        body=TEXT(analyzer=analyzer, stored=True),
        tags=TEXT(analyzer=analyzer),
        services=TEXT(analyzer=analyzer),
        schema_version=STORED,
    )


def article_fields(article: Article) -> dict:
    """One article as an index document."""
    catalog = load_catalog()
    services = [catalog.services[s].label if s in catalog.services else s for s in article.services]
    return {
        "slug": article.slug,
        "url": article.url,
        "category": article.category,
        "ticket_form": article.ticket_form or "",
        "title": article.title,
        "headings": "\n".join(article.headings),
        "summary": article.summary,
        "body": article.text,
        "tags": "\n".join(article.tags),
        "services": "\n".join(services),
        "schema_version": SCHEMA_VERSION,
    }


def write_index(articles: Iterable[Article], target: Path, synonyms_file: Path = SYNONYMS_FILE) -> None:
    """Create a complete index in the empty or missing folder ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    schema = make_schema()
    # Check the synonym table before writing anything: a writer's typo there must stop
    # the build with file:line, not silently drop synonyms at search time.
    load_synonyms(schema["body"].analyzer, synonyms_file)
    shutil.copyfile(synonyms_file, target / SYNONYMS_NAME)
    ix = whoosh_index.create_in(str(target), schema, indexname=INDEX_NAME)
    # A bigger sort buffer than Whoosh's 128 MB: fewer runs to merge, ~25% faster builds.
    writer = ix.writer(limitmb=256)
    try:
        for article in articles:
            writer.add_document(**article_fields(article))
    except BaseException:
        writer.cancel()
        raise
    writer.commit()
    ix.close()


def build_index(articles: Iterable[Article], index_dir: str | os.PathLike, synonyms_file: Path = SYNONYMS_FILE) -> Path:
    """Build the index of ``articles`` aside, then swap it into ``index_dir`` atomically.

    Raises :class:`IndexBuildError` (with ``file:line`` for synonym problems, or the
    file-system error); the previous index stays searchable in that case.
    """
    final = Path(index_dir)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = final.with_name(f".{final.name}.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        write_index(articles, staging, synonyms_file)
    except SynonymError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise IndexBuildError(f"search synonyms: {exc}") from exc
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise IndexBuildError(f"cannot write the search index next to {final}: {exc}") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        swap_in(staging, final)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise IndexBuildError(f"cannot replace the search index {final}: {exc}") from exc
    return final
