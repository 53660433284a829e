"""The ``kb`` command line. Domain errors become ``click`` errors only here."""

from __future__ import annotations

import html
import json
import re
import sys
from importlib.metadata import entry_points
from pathlib import Path

import click

from .config import ConfigError, load_project
from .importer import ImportProblem, import_exports


class KBGroup(click.Group):
    """Our commands plus those other packages register under the ``kb.commands`` entry point.

    The intake adds its own (``kb forms``, ``kb report``, ...) this way, so this package
    never imports the intake.
    """

    def _extra(self) -> dict[str, click.Command]:
        found = {}
        for entry in entry_points(group="kb.commands"):
            found[entry.name] = entry.load()
        return found

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(self._extra()))

    def get_command(self, ctx, name):
        return super().get_command(ctx, name) or self._extra().get(name)


config_option = click.option(
    "--config",
    "config_file",
    default="mkdocs.yml",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The site configuration, which says where docs/ and the index are.",
)


def project(config_file: str):
    try:
        return load_project(config_file)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group(cls=KBGroup)
@click.version_option(package_name="smacloud-kb")
def cli():
    """Support knowledge base: import, check, build and search the articles in docs/."""


@cli.command("import")
@click.argument("exports", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--docs", "docs_dir", type=click.Path(file_okay=False, path_type=Path), help="Target folder (default: docs_dir of mkdocs.yml).")
@click.option("--force", is_flag=True, help="Overwrite articles edited since the last import.")
@config_option
def import_command(exports, docs_dir, force, config_file):
    """Convert legacy WordPress text exports into Markdown articles.

    Every export is read and checked before anything is written. Repeated articles are
    dropped and reported; articles edited since the last import are kept unless --force.
    """
    target = docs_dir or project(config_file).docs_dir
    try:
        report = import_exports(list(exports), target, force=force)
    except ImportProblem as exc:
        raise click.ClickException(f"{exc}\nNothing was written.") from exc
    for line in report.duplicates:
        click.echo(line)
    for path in report.written:
        click.echo(f"written: {path}")
    for path in report.unchanged:
        click.echo(f"unchanged: {path}")
    for path in report.kept_edited:
        click.echo(f"kept (edited since the last import; use --force to overwrite): {path}", err=True)
    total = len(report.written) + len(report.unchanged) + len(report.kept_edited)
    click.echo(f"{total} articles, {len(report.duplicates)} duplicates skipped")
    if report.kept_edited:
        sys.exit(1)


@cli.command()
@config_option
def check(config_file):
    """Check every article in docs/: front matter, links, duplicates.

    Prints one 'file:line: problem' line each and exits with status 1 when there is any.
    """
    from .checks import check_docs

    settings = project(config_file)
    docs, problems = check_docs(settings.docs_dir, settings.ticket_forms())
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        click.echo(f"{len(problems)} problem(s) in {settings.docs_dir.name}/", err=True)
        sys.exit(1)
    click.echo(f"{len(docs.articles)} articles OK")


@cli.command()
@config_option
@click.option("--strict/--no-strict", default=True, show_default=True, help="Treat MkDocs warnings as errors.")
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    help="Processes rendering the pages [default: one per core, for a KB of 300 articles per core or more].",
)
def build(config_file, strict, jobs):
    """Build the static site and the search index (the previous ones stay if it fails)."""
    from .build import BuildError, build_site

    try:
        site_dir = build_site(config_file, strict=strict, jobs=jobs)
    except BuildError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"site built in {site_dir}")
    index_dir = project(config_file).index_dir
    if index_dir.is_dir():
        click.echo(f"search index built in {index_dir}")


@cli.command()
@click.argument("query")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of results (with '-': one array per line).")
@click.option("--limit", default=5, show_default=True, type=click.IntRange(1, 50), help="Results per query.")
@click.option(
    "--index",
    "index_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="The index folder (default: index_dir of the kb plugin in mkdocs.yml).",
)
@config_option
def search(query, as_json, limit, index_dir, config_file):
    """Search the articles the way the intake does.

    QUERY is any text, as a customer would type it. With '-' one query per line is read
    from standard input; with --json each line's results are printed as one JSON array
    per line, in order (for evaluation scripts).
    """
    from .search import IndexUnavailable, Searcher

    searcher = Searcher(index_dir or project(config_file).index_dir)
    try:
        searcher.check()
    except IndexUnavailable as exc:
        raise click.ClickException(str(exc)) from exc
    queries = _stdin_lines() if query == "-" else [query]
    with searcher:
        for text in queries:
            try:
                hits = searcher.search(text, limit=limit)
            except IndexUnavailable as exc:
                raise click.ClickException(str(exc)) from exc
            if as_json:
                click.echo(json.dumps([hit.to_dict() for hit in hits], ensure_ascii=False))
                sys.stdout.flush()
            else:
                if query == "-":
                    click.echo(f"== {text}")
                _print_hits(hits)


def _stdin_lines():
    """Lines of standard input as they arrive; bytes that are not UTF-8 become U+FFFD."""
    binary = getattr(sys.stdin, "buffer", None)
    if binary is None:
        for line in sys.stdin:
            yield line.rstrip("\r\n")
        return
    for raw in binary:
        yield raw.decode("utf-8", errors="replace").rstrip("\r\n")


def _print_hits(hits) -> None:
    if not hits:
        click.echo("no results")
    for number, hit in enumerate(hits, start=1):
        click.echo(f"{number}. {hit.title}")
        click.echo(f"   {hit.url}  (score {hit.score:.2f})")
        click.echo(f"   {_terminal_snippet(hit.snippet)}")


def _terminal_snippet(snippet: str) -> str:
    """The HTML snippet for a terminal: marks in bold, entities decoded."""
    parts = re.split(r"<mark>(.*?)</mark>", snippet)
    return "".join(
        click.style(html.unescape(part), bold=True) if odd else html.unescape(part)
        for odd, part in ((n % 2 == 1, p) for n, p in enumerate(parts))
    )


def main():  # pragma: no cover - console entry
    cli()
