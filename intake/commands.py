"""The intake's ``kb`` commands (registered under the ``kb.commands`` entry point).

``kb send-mail`` delivers the outbox (once, or ``--loop`` as the mail sender process), lists
the e-mails marked failed (``--list-failed``), requeues them (``--retry-failed``) or dismisses
those that can never be delivered (``--dismiss ID --reason TEXT``, ``--list-dismissed``);
each delivering run also drops the message bytes past ``MAIL_RETENTION_DAYS``;
``kb report`` prints the writers' analytics; ``kb prune-attachments`` removes the attachment
files that failed submissions left on disk. They read the same settings as the app:
``DATABASE_URL``, ``SMTP_URL`` and the instance folder (``KB_INSTANCE_PATH``, default
``instance``), as options or environment variables.
"""

from __future__ import annotations

import datetime as dt
import json
import signal
import threading
import time
from pathlib import Path

import click

from .settings import (
    DEFAULT_MAIL_RETENTION_DAYS,
    DEFAULT_MAX_PERMANENT_FAILURES,
    ConfigError,
    attachments_folder,
    default_database_url,
    mail_folder,
    validate_mail_retention_days,
    validate_max_permanent_failures,
)

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


def _checked_by(validate):
    """A click callback checking an option's value with the app's own validator (from
    ``intake.settings``): the same rule and message as when the app starts."""

    def callback(_ctx, _param, value):
        try:
            return validate(value)
        except ConfigError as exc:
            raise click.BadParameter(str(exc)) from exc

    return callback


def _outbox_ids(_ctx, _param, values) -> list[int]:
    """``--dismiss 12`` or ``--dismiss '#12'`` (as ``--list-failed`` prints it) -> 12."""
    ids = []
    for value in values:
        text = value.strip().removeprefix("#")
        if not text.isdigit():
            raise click.BadParameter(f"expected an outbox number as `kb send-mail --list-failed` shows it (12 or #12) but received: {value!r}")
        ids.append(int(text))
    return ids


def _check_one_action(loop, retry_failed, list_failed, dismiss_ids, reason, list_dismissed) -> None:
    """Listing and dismissing are actions of their own: refuse combinations that would be ambiguous."""
    if list_failed and (loop or retry_failed):
        raise click.UsageError("--list-failed only lists: run it without --loop and --retry-failed")
    if list_dismissed and (loop or retry_failed or list_failed):
        raise click.UsageError("--list-dismissed only lists: run it without --loop, --retry-failed and --list-failed")
    if dismiss_ids and (loop or retry_failed or list_failed or list_dismissed):
        raise click.UsageError("--dismiss only dismisses: run it on its own, then `kb send-mail` as usual")
    if dismiss_ids and not (reason or "").strip():
        raise click.UsageError("--dismiss needs --reason: say why the e-mail will never be sent, e.g. --reason 'address with a typo, customer called'")
    if reason is not None and not dismiss_ids:
        raise click.UsageError("--reason goes with --dismiss ID (the failed e-mail to dismiss)")


class RefusedError(click.ClickException):
    """An operator's request that would change nothing sensible: exit status 2, like a usage error."""

    exit_code = 2


@click.command("send-mail")
@instance_option
@database_option
@click.option("--smtp-url", envvar="SMTP_URL", help="Where mail goes (env SMTP_URL); unset: .eml files in <instance>/mail.")
@click.option("--loop", is_flag=True, help="Keep running, delivering every --interval seconds, until stopped (SIGTERM, Ctrl-C).")
@click.option("--interval", type=click.FloatRange(min=0.1), default=5.0, show_default=True, help="Seconds between rounds with --loop.")
@click.option(
    "--max-permanent-failures",
    envvar="MAIL_MAX_PERMANENT_FAILURES",
    default=str(DEFAULT_MAX_PERMANENT_FAILURES),
    show_default=True,
    callback=_checked_by(validate_max_permanent_failures),
    metavar="N",
    help="Permanent refusals (SMTP 5xx) in a row after which an e-mail is marked failed (env MAIL_MAX_PERMANENT_FAILURES).",
)
@click.option(
    "--retention-days",
    envvar="MAIL_RETENTION_DAYS",
    default=str(DEFAULT_MAIL_RETENTION_DAYS),
    show_default=True,
    callback=_checked_by(validate_mail_retention_days),
    metavar="DAYS",
    help="Drop the message (text, attachments) of e-mails sent or dismissed more than DAYS ago, keeping their rows; "
    "each run, hourly with --loop (env MAIL_RETENTION_DAYS).",
)
@click.option("--retry-failed", is_flag=True, help="First put the e-mails marked failed back in the queue, then deliver as usual.")
@click.option("--list-failed", is_flag=True, help="List the e-mails marked failed (recipient, the server's answer); send nothing.")
@click.option(
    "--dismiss",
    "dismiss_ids",
    multiple=True,
    callback=_outbox_ids,
    metavar="ID",
    help="Dismiss the failed e-mail with this number (as --list-failed shows it; repeat for several): "
    "kept for the record, never sent, no longer counted as failed. Needs --reason; sends nothing.",
)
@click.option("--reason", help="Why the e-mails given with --dismiss are dismissed (kept with them).")
@click.option("--list-dismissed", is_flag=True, help="List the dismissed e-mails (when, the reason); send nothing.")
def send_mail(
    instance_path, database_url, smtp_url, loop, interval, max_permanent_failures, retention_days, retry_failed,
    list_failed, dismiss_ids, reason, list_dismissed,
):
    """Deliver the e-mails waiting in the outbox, retrying failed ones with backoff.

    Without --loop, one round: prints what was sent and what is still queued, and exits
    with status 1 when e-mails are marked failed (refused for good by the SMTP server).
    Every round also drops the message of e-mails older than the retention period.
    """
    from .outbox import PRUNE_INTERVAL, deliver_pending, queue_status, requeue_failed
    from .transports import transport_from_url

    _check_one_action(loop, retry_failed, list_failed, dismiss_ids, reason, list_dismissed)
    if list_failed or list_dismissed or dismiss_ids:
        database = _open_database(database_url, instance_path)
        try:
            if list_failed:
                _list_failed(database)
            elif list_dismissed:
                _list_dismissed(database)
            else:
                _dismiss(database, dismiss_ids, reason.strip())
        finally:
            database.dispose()
        return
    try:
        transport = transport_from_url(smtp_url, mail_folder(instance_path))
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    database = _open_database(database_url, instance_path)
    stop = threading.Event()
    if loop:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        click.echo(f"delivering the outbox through {transport!r} every {interval:g} s; stop with Ctrl-C")
    try:
        if retry_failed:
            with database.session() as session:
                requeued = requeue_failed(session)
            click.echo(f"requeued {requeued} failed e-mail(s)")
        first = True
        pruned_at = None  # monotonic time of the last pruning
        while True:
            stats = deliver_pending(database.sessions, transport, max_permanent_failures=max_permanent_failures)
            if first or stats.attempted:
                with database.session() as session:
                    status = queue_status(session)
                if stats.attempted or not loop:
                    click.echo(
                        f"sent {stats.sent}, failed {stats.failed}; "
                        f"waiting: {status['queued']} queued, {status['retrying']} to retry; "
                        f"failed for good: {status['failed']}; dismissed: {status['dismissed']}"
                    )
                # With --loop: said at start and whenever more e-mails fail, not every round.
                if status["failed"] and (first or stats.gave_up):
                    _warn_failed(status["failed"], max_permanent_failures)
            if pruned_at is None or time.monotonic() - pruned_at >= PRUNE_INTERVAL.total_seconds():
                _prune(database, retention_days)
                pruned_at = time.monotonic()
            first = False
            if not loop or stop.wait(interval):
                break
    finally:
        database.dispose()
    if not loop and status["failed"]:
        click.get_current_context().exit(1)  # for cron and monitoring: someone has to look


def _prune(database, retention_days: int) -> None:
    from .outbox import prune_messages

    with database.session() as session:
        pruned = prune_messages(session, retention_days)
    if pruned:
        click.echo(
            f"dropped the message of {pruned} e-mail(s) sent or dismissed more than {retention_days} day(s) ago "
            "(MAIL_RETENTION_DAYS); their rows stay for the record"
        )


def _warn_failed(count: int, max_permanent_failures: int) -> None:
    """Tell the operator that e-mails were given up on, and what to do about them."""
    emails, them, they_are = ("e-mail", "it", "it is") if count == 1 else ("e-mails", "them", "they are")
    click.echo(
        f"{count} {emails} failed for good: the SMTP server refused {them} with a permanent error (5xx reply, "
        f"{max_permanent_failures} times in a row), so {they_are} no longer tried.\n"
        "  see which and why (ticket, recipient, the server's answer):  kb send-mail --list-failed\n"
        "  once the cause is fixed, requeue and deliver them:           kb send-mail --retry-failed\n"
        "  one that can never be delivered (e.g. a mistyped address):   kb send-mail --dismiss ID --reason TEXT",
        err=True,
    )


def _list_failed(database) -> None:
    from .outbox import failed_messages

    def failed_at(m):
        return f"failed {m.failed_at:%Y-%m-%d %H:%M} UTC after {m.attempts} attempt(s)"

    if _list_messages(database, failed_messages, "failed", failed_at):
        click.echo("once the cause is fixed, requeue and deliver them: kb send-mail --retry-failed")
        click.echo("one that can never be delivered (e.g. a mistyped address): kb send-mail --dismiss ID --reason TEXT")


def _list_messages(database, query, state: str, when) -> bool:
    """Print the outbox messages ``query(session)`` returns, oldest first, one entry each: ID,
    ticket, kind, recipient, ``when(message)`` and the server's last answer."""
    with database.session() as session:
        messages = query(session)
    if not messages:
        click.echo(f"no {state} e-mails")
        return False
    click.echo(f"{len(messages)} {state} e-mail(s), oldest first:")
    for m in messages:
        click.echo(f"outbox #{m.id}  {m.ticket_id}  {m.kind} e-mail to {m.recipient}  {when(m)}\n  last answer: {m.last_error}")
    return True


def _dismiss(database, ids: list[int], reason: str) -> None:
    from .outbox import DismissRefused, dismiss_failed

    with database.session() as session:
        try:
            messages = dismiss_failed(session, ids, reason)
        except DismissRefused as exc:
            raise RefusedError("\n".join(["nothing was dismissed:", *(f"  {p}" for p in exc.problems)])) from exc
    for m in messages:
        click.echo(
            f"dismissed outbox #{m.id}  {m.ticket_id}  {m.kind} e-mail, failed {m.failed_at:%Y-%m-%d %H:%M} UTC: "
            "kept for the record, never sent, no longer counted as failed"
        )
    click.echo("see them with: kb send-mail --list-dismissed")


def _list_dismissed(database) -> None:
    from .outbox import dismissed_messages

    _list_messages(database, dismissed_messages, "dismissed", lambda m: f"dismissed {m.dismissed_at:%Y-%m-%d %H:%M} UTC: {m.dismiss_reason}")


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


def _grace_hours(_ctx, _param, value) -> int:
    from .attachment_prune import DEFAULT_GRACE_HOURS, MIN_GRACE_HOURS

    text = str(value).strip()
    if not text.isdigit() or int(text) < MIN_GRACE_HOURS:
        raise click.BadParameter(
            f"expected a whole number of hours, at least {MIN_GRACE_HOURS}, but received: {value!r} "
            f"(the default, {DEFAULT_GRACE_HOURS}, leaves a day to any request still storing its ticket)"
        )
    return int(text)


@click.command("prune-attachments")
@instance_option
@database_option
@click.option(
    "--grace-hours",
    default="24",
    show_default=True,
    callback=_grace_hours,
    metavar="HOURS",
    help="Remove only files last written or reused at least this many hours ago (at least 1).",
)
@click.option("--dry-run", is_flag=True, help="List what would be removed; remove nothing.")
def prune_attachments(instance_path, database_url, grace_hours, dry_run):
    """Remove attachment files that no ticket references, once older than --grace-hours.

    A submission whose database transaction failed leaves its files in
    <instance>/attachments; so does a file upload interrupted while writing (.tmp-*).
    Run this daily on every intake instance, with the intake's environment.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from .attachment_prune import PruneRefused
    from .attachment_prune import prune_attachments as prune

    database = _open_existing_database(database_url, instance_path)
    attachments_dir = attachments_folder(instance_path)
    try:
        result = prune(database, attachments_dir, dt.timedelta(hours=grace_hours), dry_run=dry_run)
    except PruneRefused as exc:
        raise click.ClickException(
            f"{exc}: nothing was removed. Check that DATABASE_URL is the intake's database "
            f"(as in /etc/kb/intake.env) and that {attachments_dir} is its attachments folder "
            "(--instance or KB_INSTANCE_PATH)."
        ) from exc
    except SQLAlchemyError as exc:
        raise click.ClickException(
            f"cannot read the tickets from the database ({type(exc).__name__}): nothing was removed; "
            "run again once the database answers (DATABASE_URL)"
        ) from exc
    finally:
        database.dispose()
    _print_pruned(result, attachments_dir, grace_hours)
    if result.problems:
        click.echo(
            f"{len(result.problems)} file(s) could not be removed:\n  "
            + "\n  ".join(result.problems)
            + "\nrun the command as the user the intake runs as (the owner of the attachments folder)",
            err=True,
        )
        click.get_current_context().exit(1)


def _open_existing_database(database_url: str | None, instance_path: Path):
    """The intake's database, never a new one: an empty database would make every file an orphan."""
    from sqlalchemy.engine import make_url

    from .db import Database, normalize_database_url

    url = database_url or default_database_url(instance_path)
    try:
        parsed = make_url(normalize_database_url(url))
        if parsed.get_backend_name() == "sqlite" and not Path(parsed.database).is_file():
            problem = (
                f"DATABASE_URL names the SQLite file {parsed.database}, which does not exist"
                if database_url
                else f"DATABASE_URL is not set, and the default SQLite file {parsed.database} does not exist"
            )
            raise ConfigError(
                f"{problem}: nothing was removed; set DATABASE_URL as the intake has it "
                "(e.g. from /etc/kb/intake.env), or --instance to its instance folder"
            )
        return Database(url)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def _print_pruned(result, attachments_dir: Path, grace_hours: int) -> None:
    removed = "would remove" if result.dry_run else "removed"
    for f in [*result.orphans, *result.temporaries]:
        click.echo(f"{removed} {f.path} ({f.size:,} bytes, last used {f.modified:%Y-%m-%d %H:%M} UTC)")
    if result.restored:
        click.echo(f"put back {result.restored} file(s) an interrupted run had set aside")
    click.echo(
        f"{removed} {len(result.orphans)} attachment file(s) no ticket references "
        f"({_size(result.orphan_bytes)}) and {len(result.temporaries)} unfinished upload(s) "
        f"({_size(result.temporary_bytes)}), all older than {grace_hours} hours, from {attachments_dir}"
    )
    if result.kept_in_use:
        click.echo(f"kept {result.kept_in_use} file(s) a submission reused while this ran")
    if result.dry_run:
        click.echo("dry run: nothing was removed")


def _size(count: int) -> str:
    """``1,234,567 bytes, 1.2 MB``: exact for checking, rounded for reading."""
    exact = f"{count:,} bytes"
    for unit, factor in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if count >= factor:
            return f"{exact}, {count / factor:.1f} {unit}"
    return exact
