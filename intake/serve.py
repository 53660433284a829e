"""``kb serve``: the static site and the intake together on one address (what ``make run`` starts).

The built site (``site/``) is served at ``/`` and the intake at ``/richiesta/``, the default
``extra.intake_url`` of ``mkdocs.yml``: the articles' "Apri un ticket" buttons and the site's
search box reach the intake without any configuration. The intake keeps its SQLite database,
attachments and ``.eml`` mail files in the instance folder, and a background thread delivers
the mail. For local use and demos: production serves ``site/`` from a static host and runs
the intake under gunicorn (``deploy/gunicorn.conf.py``, see the README's "Deploy").

``kb serve`` is development mode on purpose (``FLASK_DEBUG``): it starts with zero
configuration, making up a SECRET_KEY for the run when none is set. Its request log leaves
out query strings, which hold what customers type (``?q=``) and search tokens.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

import click
from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.middleware.shared_data import SharedDataMiddleware
from werkzeug.security import safe_join
from werkzeug.serving import WSGIRequestHandler
from werkzeug.wrappers import Request, Response

from .commands import instance_option

INTAKE_PREFIX = "/richiesta"

# Debian's mime.types may lack these; a browser refuses a module or a font served as text/plain.
mimetypes.add_type("application/javascript", ".js")
mimetypes.add_type("application/json", ".json")
mimetypes.add_type("font/woff2", ".woff2")


def static_site(site_dir: str | Path):
    """A WSGI app serving a built MkDocs site as a static host does.

    ``/email/x/`` serves ``email/x/index.html``; ``/email/x`` redirects to ``/email/x/``;
    anything else missing gets the site's own ``404.html`` with status 404. Files are
    looked up with werkzeug's ``safe_join`` (``SharedDataMiddleware``): nothing outside
    ``site_dir`` can be read.
    """
    root = Path(site_dir).resolve()
    not_found_page = root / "404.html"

    def not_found(environ, start_response):
        body = not_found_page.read_bytes() if not_found_page.is_file() else b"Not Found"
        return Response(body, status=404, content_type="text/html; charset=utf-8")(environ, start_response)

    files = SharedDataMiddleware(not_found, {"/": str(root)}, cache=False)

    def app(environ, start_response):
        request = Request(environ)
        path = request.path
        if path.endswith("/"):
            environ["PATH_INFO"] = environ.get("PATH_INFO", "/") + "index.html"
        elif "." not in path.rsplit("/", 1)[-1] and _is_page_folder(root, path):
            target = request.root_path + path + "/" + (f"?{request.query_string.decode()}" if request.query_string else "")
            return Response(status=301, headers={"Location": target})(environ, start_response)
        return _read_whole(files(environ, start_response))

    return app


def _read_whole(body) -> list[bytes]:
    """The file's bytes, read and closed before the first byte is sent.

    werkzeug's development server skips ``close()`` of a streamed file when the browser
    drops the connection (a page left before its scripts arrived), leaking the descriptor
    until garbage collection; the site's files are small, so reading them whole is cheap.
    """
    try:
        return [b"".join(body)]
    finally:
        if hasattr(body, "close"):
            body.close()


def _is_page_folder(root: Path, path: str) -> bool:
    folder = safe_join(str(root), path.strip("/"))
    return folder is not None and Path(folder, "index.html").is_file()


def site_and_intake(site_dir: str | Path, intake_app, intake_prefix: str = INTAKE_PREFIX, site_prefix: str = "/"):
    """One WSGI app: the static site at ``site_prefix`` (``/``), ``intake_app`` under ``intake_prefix``."""
    site = static_site(site_dir)
    mounts = {intake_prefix.rstrip("/"): intake_app}
    if site_prefix.strip("/"):  # the site under a sub-path, as a static host may publish it
        mounts["/" + site_prefix.strip("/")] = site
        site = NotFound()  # elsewhere
    return DispatcherMiddleware(site, mounts)


class PathOnlyRequestHandler(WSGIRequestHandler):
    """werkzeug's request log without the query string (no customer text, no tokens)."""

    def log_request(self, code="-", size="-"):
        path = getattr(self, "path", "").split("?", 1)[0].translate(self._control_char_table)
        command, version = getattr(self, "command", "-"), getattr(self, "request_version", "-")
        self.log("info", '"%s %s %s" %s %s', command, path, version, code, size)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option(
    "--site",
    "site_dir",
    default="site",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The built site (`kb build` writes it).",
)
@instance_option
@click.option(
    "--index",
    "index_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="The search index (default: the KB_INDEX_DIR environment variable, else build/kb-index).",
)
def serve(host: str, port: int, site_dir: Path, instance_path: Path, index_dir: Path | None):
    """Serve the built site at / and the ticket intake at /richiesta/, for local use.

    Development mode (FLASK_DEBUG): no configuration needed. Mail is delivered by a
    background thread: as .eml files into <instance>/mail unless SMTP_URL says otherwise.
    For production, run the intake under gunicorn (README, "Deploy").
    """
    from werkzeug.serving import run_simple

    from . import create_app
    from .formspec import FormDefinitionError
    from .settings import ConfigError

    if not (site_dir / "index.html").is_file():
        raise click.ClickException(f"no built site in {site_dir}/: build it first with `kb build` (or `make run`)")
    overrides = {
        "INSTANCE_PATH": str(instance_path),
        "MAIL_BACKGROUND_SENDER": True,
        "KB_SITE_URL": "/",
        "DEBUG": True,  # development mode, said here explicitly: no SECRET_KEY needed
    }
    if index_dir is not None:
        overrides["KB_INDEX_DIR"] = str(index_dir)
    try:
        intake = create_app(overrides=overrides)
    except (ConfigError, FormDefinitionError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Knowledge base: http://{host}:{port}/")
    click.echo(f"Richieste:      http://{host}:{port}{INTAKE_PREFIX}/")
    click.echo(f"Mail:           {intake.extensions['intake.transport']!r}")
    run_simple(host, port, site_and_intake(site_dir, intake), threaded=True, request_handler=PathOnlyRequestHandler)
