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
``tags``        tags, one per line                          stored; searched
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
from whoosh.codec.whoosh3 import W3Codec
from whoosh.fields import ID, STORED, TEXT, Schema

from .analysis import SYNONYMS_FILE, SynonymError, index_terms, italian_analyzer, load_synonyms
from .articles import Article, plain_text
from .catalog import load_catalog
from .swap import staging_dir, swap_in

INDEX_NAME = "kb"  # Whoosh's name for the index inside the directory
SCHEMA_VERSION = "2"  # bump when the schema changes, so old indexes are reported stale
SYNONYMS_NAME = "synonyms.txt"
TEXT_FIELDS = ("title", "headings", "summary", "body", "tags", "services")


class IndexBuildError(Exception):
    """The index could not be built; the previous one (if any) is untouched."""


class ItalianText(TEXT):
    """A ``TEXT`` field of the Italian analyzer that indexes through
    :func:`kb_build.analysis.index_terms` (same postings, several times faster).

    The analyzer stays in the field for everything else: queries, snippets, and any tool
    that reads the schema. Pickled into the index by name, like the analyzer.
    """

    def index(self, value, **kwargs):
        if not isinstance(value, str):
            yield from super().index(value, **kwargs)
            return
        encode, boost = self.format.encode, self.format.field_boost
        for term, positions in index_terms(value).items():
            yield term.encode("utf-8"), len(positions), len(positions) * boost, encode(positions)


class FullBuildCodec(W3Codec):
    """Whoosh's codec for a full build: without the shortest and longest field of each block
    of postings, and without compressing the blocks.

    The lengths serve only to skip blocks that cannot reach the top results (Whoosh's "block
    quality"); :mod:`kb_build.ranking` scores every posting, and Whoosh's own search falls
    back to a safe bound (a length of 0 scores highest). Writing them costs a read of the
    document's field length per posting: about 15% of a full build. Compressing the blocks
    (zlib) took another 30% of the rest, for an index about 40% smaller (at 5,000 articles,
    34 MB instead of 56 MB), which every query then decompresses. Pickled into the index
    (by name, with its settings); updates in place (``update_index``) use Whoosh's default
    codec, and segments of both kinds read alike.
    """

    length_stats = False

    def __init__(self):
        super().__init__(compression=0)


def make_schema() -> Schema:
    analyzer = italian_analyzer()
    return Schema(
        slug=ID(stored=True, unique=True),
        url=ID(stored=True),
        category=ID(stored=True),
        ticket_form=ID(stored=True),
        title=ItalianText(analyzer=analyzer, stored=True),
        headings=ItalianText(analyzer=analyzer),
        summary=ItalianText(analyzer=analyzer, stored=True),
        body=ItalianText(analyzer=analyzer, stored=True),
        tags=ItalianText(analyzer=analyzer, stored=True),  # stored: Searcher.related()
        services=ItalianText(analyzer=analyzer),
        schema_version=STORED,
    )


def article_fields(article: Article, body: str | None = None) -> dict:
    """One article as an index document (``body``: instead of the article's plain text)."""
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
        "body": article.text if body is None else body,
        "tags": "\n".join(article.tags),
        "services": "\n".join(services),
        "schema_version": SCHEMA_VERSION,
    }


def raw_fields(article: Article) -> dict:
    """:func:`article_fields` with the body still in Markdown: cheap to make, so the plugin
    compares articles by it and hands it to the index process, which turns it into a
    document with :func:`document_from_raw` (where the plain text costs nothing to the site)."""
    return article_fields(article, body=article.source.body)


def document_from_raw(raw: dict) -> dict:
    return {**raw, "body": plain_text(raw["body"])}


def write_index(articles: Iterable[Article], target: Path, synonyms_file: Path = SYNONYMS_FILE) -> None:
    """Create a complete index of ``articles`` in the empty or missing folder ``target``."""
    write_documents((article_fields(article) for article in articles), target, synonyms_file)


def write_documents(documents: Iterable[dict], target: Path, synonyms_file: Path = SYNONYMS_FILE) -> None:
    """Create a complete index in the empty or missing folder ``target`` from index documents
    (:func:`article_fields`): what :mod:`kb_build.indexer` runs in a separate process."""
    target.mkdir(parents=True, exist_ok=True)
    schema = make_schema()
    # Check the synonym table before writing anything: a writer's typo there must stop
    # the build with file:line, not silently drop synonyms at search time.
    load_synonyms(schema["body"].analyzer, synonyms_file)
    shutil.copyfile(synonyms_file, target / SYNONYMS_NAME)
    ix = whoosh_index.create_in(str(target), schema, indexname=INDEX_NAME)
    # A bigger sort buffer than Whoosh's 128 MB: everything is sorted in memory, in one run.
    writer = ix.writer(limitmb=512, codec=FullBuildCodec())
    try:
        for document in documents:
            writer.add_document(**document)
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
    staging = staging_dir(final, "tmp")
    write_staged(lambda: write_index(articles, staging, synonyms_file), staging, final)
    try:
        swap_in(staging, final)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise IndexBuildError(f"cannot replace the search index {final}: {exc}") from exc
    return final


def write_staged(write, staging: Path, final: Path) -> None:
    """Run ``write()`` (which fills ``staging``); on failure remove ``staging`` and raise
    :class:`IndexBuildError` saying what went wrong."""
    try:
        write()
    except SynonymError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise IndexBuildError(f"search synonyms: {exc}") from exc
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise IndexBuildError(f"cannot write the search index next to {final}: {exc}") from exc
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def update_index(index_dir: str | os.PathLike, documents: Iterable[dict], deleted: Iterable[str] = ()) -> None:
    """Replace or add ``documents`` (by slug) and delete the articles ``deleted`` (slugs),
    in place, in one Whoosh commit: for ``mkdocs serve``, where a full rebuild per save
    would take many seconds.

    Whoosh writes the changes as a new segment and then a new table of contents (the
    *generation*) with a rename, so a reader sees the index before or after the commit,
    never between; :class:`kb_build.search.Searcher` notices the new generation at its
    next query. Raises :class:`IndexBuildError`; the index is unchanged in that case.
    """
    try:
        ix = whoosh_index.open_dir(str(index_dir), indexname=INDEX_NAME)
    except Exception as exc:  # missing, damaged: the caller rebuilds it
        raise IndexBuildError(f"cannot open the search index {index_dir} for an update: {exc}") from exc
    try:
        writer = ix.writer(timeout=5.0)
        try:
            for slug in deleted:
                writer.delete_by_term("slug", slug)
            for document in documents:
                writer.update_document(**document)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
    except OSError as exc:
        raise IndexBuildError(f"cannot update the search index {index_dir}: {exc}") from exc
    except whoosh_index.LockError as exc:
        raise IndexBuildError(f"the search index {index_dir} is being written by another process: {exc}") from exc
    finally:
        ix.close()


def index_stamp(index_dir: str | os.PathLike) -> tuple:
    """Changes whenever the index at ``index_dir`` changes: swapped for another folder
    (its inode) or updated in place (a new generation of Whoosh's table of contents,
    ``_kb_<generation>.toc``, written by every commit).

    Comparing the folder's modification time instead would miss an update made within
    the same tick of the file system's clock; a generation number cannot repeat. The TOC
    file's own inode and time tell two folders that reused an inode apart.
    Raises ``FileNotFoundError`` when there is no index folder.
    """
    folder = os.stat(index_dir)
    prefix = f"_{INDEX_NAME}_"
    generation, toc = -1, None
    for name in os.listdir(index_dir):
        if name.startswith(prefix) and name.endswith(".toc"):
            number = name[len(prefix) : -len(".toc")]
            if number.isdigit() and int(number) > generation:
                generation, toc = int(number), name
    info = os.stat(os.path.join(index_dir, toc)) if toc else None
    return folder.st_ino, generation, info and (info.st_ino, info.st_mtime_ns)
