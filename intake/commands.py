"""The intake's ``kb`` commands (registered under the ``kb.commands`` entry point).

``kb send-mail`` delivers the outbox (once, or ``--loop`` as the mail sender process);
``kb report`` prints the writers' analytics. Both read the same settings as the app:
``DATABASE_URL``, ``SMTP_URL`` and the instance folder (``KB_INSTANCE_PATH``, default
``instance``), as options or environment variables.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import threading
from pathlib import Path

import click

from .settings import ConfigError, default_database_url

instance_option = click.option(
    "--instance",
    "instance_path",
    envvar="KB_INSTANCE_PATH",
    default="instance",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The intake's instance folder (SQLite database, attachments, mail files). Env: KB_INSTANCE_PATH.",
)
database_option = click.option(
    "--database-url",
    envvar="DATABASE_URL",
    help="Database URL (env DATABASE_URL); default: intake.sqlite3 in the instance folder.",
)


def _open_database(database_url: str | None, instance_path: Path):
    from .db import Database

    try:
        database = Database(database_url or default_database_url(instance_path))
        database.upgrade()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    return database


@click.command("send-mail")
@instance_option
@database_option
@click.option("--smtp-url", envvar="SMTP_URL", help="Where mail goes (env SMTP_URL); unset: .eml files in <instance>/mail.")
@click.option("--loop", is_flag=True, help="Keep running, delivering every --interval seconds, until stopped (SIGTERM, Ctrl-C).")
@click.option("--interval", type=click.FloatRange(min=0.1), default=5.0, show_default=True, help="Seconds between rounds with --loop.")
def send_mail(instance_path, database_url, smtp_url, loop, interval):
    """Deliver the e-mails waiting in the outbox, retrying failed ones with backoff.

    Without --loop, one round: prints what was sent and what is still queued.
    """
    from .outbox import deliver_pending, queue_status
    from .transports import transport_from_url

    try:
        transport = transport_from_url(smtp_url, instance_path / "mail")
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    database = _open_database(database_url, instance_path)
    stop = threading.Event()
    if loop:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        click.echo(f"delivering the outbox through {transport!r} every {interval:g} s; stop with Ctrl-C")
    try:
        while True:
            stats = deliver_pending(database.sessions, transport)
            if stats.attempted or not loop:
                with database.session() as session:
                    status = queue_status(session)
                click.echo(
                    f"sent {stats.sent}, failed {stats.failed}; "
                    f"waiting: {status['queued']} queued, {status['retrying']} to retry"
                )
            if not loop or stop.wait(interval):
                break
    finally:
        database.dispose()


@click.command("report")
@instance_option
@database_option
@click.option("--dal", "start", type=click.DateTime(formats=["%Y-%m-%d"]), help="First day (YYYY-MM-DD); default: 30 days before --al.")
@click.option("--al", "end", type=click.DateTime(formats=["%Y-%m-%d"]), help="Last day, included (YYYY-MM-DD); default: today.")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True, help="How many queries to list.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def report(instance_path, database_url, start, end, top, as_json):
    """Print the deflection rate, the top queries and the queries that found nothing.

    Days are Italian calendar days; both ends are included.
    """
    from .analytics import ROME, build_report, format_report

    end_day = end.date() if end else dt.datetime.now(ROME).date()
    start_day = start.date() if start else end_day - dt.timedelta(days=30)
    if end_day < start_day:
        raise click.UsageError(f"--dal {start_day} is after --al {end_day}: swap them")
    database = _open_database(database_url, instance_path)
    try:
        with database.session() as session:
            result = build_report(session, start_day, end_day, top=top)
    finally:
        database.dispose()
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(format_report(result))
