"""`kb prune-attachments`: the files of failed submissions removed after the grace period, never a ticket's.

Real SQLite files and the real PostgreSQL server (``database_url``), real files; the orphans
come from real failed commits (a trigger refusing the transaction's last insert, or the
outbox table locked while the customer sends the form).
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shlex
import time

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine

from intake import attachment_prune
from intake.store import Upload, blob_path, store_blob
from kb_build.cli import cli

from .conftest import customer_app, intake_test_config
from .helpers import ROOT, refuse_commits, stored
from .intake_data import DEFINITIONS, valid_data
from .mailserver import free_port
from .postgres import fresh_schema
from .samples import pdf_bytes

HOUR = 3600
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # the file of the ticket that was stored
PDF = pdf_bytes("Contratto firmato")  # the file of the submission whose commit failed


def accept_commits(database) -> None:
    with database.engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER refuse_events" + ("" if conn.dialect.name == "sqlite" else " ON events"))


def age(path, hours: float) -> None:
    """Make ``path`` look last written or reused ``hours`` ago."""
    then = time.time() - hours * HOUR
    os.utime(path, (then, then))


def prune(database_url, instance, *args):
    return CliRunner().invoke(
        cli, ["prune-attachments", "--database-url", database_url, "--instance", str(instance), *args]
    )


@pytest.fixture
def failed_submission(intake_db, store_ticket, tmp_path):
    """A stored ticket with PNG, then a submission with PDF whose commit failed: ``(kept, orphan)`` paths."""
    ticket = store_ticket(nonce="stored", attachments=[Upload("errore.png", "image/png", PNG)])
    refuse_commits(intake_db)
    with pytest.raises(Exception, match="disk full"):
        store_ticket(nonce="failed", attachments=[Upload("contratto.pdf", "application/pdf", PDF)])
    accept_commits(intake_db)
    attachments = tmp_path / "attachments"
    kept, orphan = blob_path(attachments, ticket.attachments[0].sha256), blob_path(attachments, sha(PDF))
    assert kept.read_bytes() == PNG and orphan.read_bytes() == PDF  # written before the failed commit
    return kept, orphan


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_the_files_of_a_failed_commit_are_removed_once_older_than_the_grace_period(
    database_url, failed_submission, tmp_path
):
    kept, orphan = failed_submission

    fresh = prune(database_url, tmp_path)
    assert fresh.exit_code == 0, fresh.output
    assert "removed 0 attachment file(s)" in fresh.output
    assert orphan.exists()  # a request may still be about to reference it

    age(orphan, 23)
    age(kept, 400)
    assert prune(database_url, tmp_path).exit_code == 0
    assert orphan.exists() and kept.exists()

    age(orphan, 25)
    assert prune(database_url, tmp_path, "--grace-hours", "48").exit_code == 0
    assert orphan.exists()

    result = prune(database_url, tmp_path)
    assert result.exit_code == 0, result.output
    assert not orphan.exists()
    assert kept.read_bytes() == PNG  # a stored ticket's file, 400 hours old, stays
    assert f"removed {orphan} ({len(PDF):,} bytes, last used " in result.output
    assert (
        f"removed 1 attachment file(s) no ticket references ({len(PDF)} bytes) "
        f"and 0 unfinished upload(s) (0 bytes), all older than 24 hours, from {tmp_path / 'attachments'}"
    ) in result.output


def test_a_dry_run_lists_and_removes_nothing(database_url, failed_submission, tmp_path):
    kept, orphan = failed_submission
    age(orphan, 30)
    age(kept, 30)

    result = prune(database_url, tmp_path, "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"would remove {orphan} ({len(PDF):,} bytes" in result.output
    assert "would remove 1 attachment file(s) no ticket references" in result.output
    assert str(kept) not in result.output
    assert "dry run: nothing was removed" in result.output
    assert orphan.read_bytes() == PDF


def test_store_blob_refreshes_the_age_of_a_file_it_reuses(tmp_path):
    digest = store_blob(tmp_path, PDF)
    path = blob_path(tmp_path, digest)
    age(path, 30)
    inode = path.stat().st_ino

    assert store_blob(tmp_path, PDF) == digest
    assert time.time() - path.stat().st_mtime < 60  # "in use now": not an old orphan any more
    assert path.stat().st_ino == inode and path.read_bytes() == PDF  # reused, not rewritten


def test_an_orphan_reused_by_a_new_ticket_is_kept(database_url, failed_submission, store_ticket, tmp_path):
    _kept, orphan = failed_submission
    age(orphan, 30)
    store_ticket(nonce="again", attachments=[Upload("contratto.pdf", "application/pdf", PDF)])

    result = prune(database_url, tmp_path)
    assert result.exit_code == 0, result.output
    assert "removed 0 attachment file(s)" in result.output
    assert orphan.read_bytes() == PDF


def test_a_request_reusing_the_orphan_while_the_command_runs_keeps_it(
    intake_db, failed_submission, store_ticket, tmp_path, monkeypatch
):
    """The race: the orphan is old and unreferenced when the database is asked, and a submission
    of the same file reuses it right then, committing its ticket after the command has finished."""
    _kept, orphan = failed_submission
    age(orphan, 30)
    ask_database = attachment_prune.referenced_hashes

    def meanwhile_a_submission_reuses_it(database, hashes):
        found = ask_database(database, hashes)
        store_blob(tmp_path / "attachments", PDF)  # its ticket is not committed yet
        return found

    monkeypatch.setattr(attachment_prune, "referenced_hashes", meanwhile_a_submission_reuses_it)
    result = prune(intake_db.url, tmp_path)
    assert result.exit_code == 0, result.output
    assert "kept 1 file(s) a submission reused while this ran" in result.output
    assert "removed 0 attachment file(s)" in result.output
    monkeypatch.undo()

    ticket = store_ticket(nonce="in-flight", attachments=[Upload("contratto.pdf", "application/pdf", PDF)])
    assert blob_path(tmp_path / "attachments", ticket.attachments[0].sha256).read_bytes() == PDF
    assert not list((tmp_path / "attachments").rglob(".prune-*"))


def test_a_removed_file_sent_again_is_stored_again(database_url, failed_submission, store_ticket, tmp_path):
    _kept, orphan = failed_submission
    age(orphan, 30)
    assert prune(database_url, tmp_path).exit_code == 0
    assert not orphan.exists()

    store_ticket(nonce="later", attachments=[Upload("contratto.pdf", "application/pdf", PDF)])
    assert orphan.read_bytes() == PDF


def test_unfinished_uploads_are_removed_after_the_grace_period(database_url, failed_submission, tmp_path):
    kept, _orphan = failed_submission
    # What store_blob leaves when its process is killed while writing (mkstemp's name).
    stale = kept.parent / ".tmp-k3j_9x2q"
    stale.write_bytes(b"x" * 2500)
    age(stale, 30)
    writing = kept.parent / ".tmp-a8f0zz1c"
    writing.write_bytes(b"y" * 10)

    result = prune(database_url, tmp_path)
    assert result.exit_code == 0, result.output
    assert not stale.exists() and writing.exists()
    assert f"removed {stale} (2,500 bytes" in result.output
    assert "and 1 unfinished upload(s) (2,500 bytes, 2.5 kB)" in result.output


def test_files_set_aside_by_an_interrupted_run_are_put_back(database_url, failed_submission, tmp_path):
    kept, _orphan = failed_submission
    aside = kept.with_name(attachment_prune.ASIDE_PREFIX + kept.name)
    kept.rename(aside)  # the run was killed between its rename and its second look
    age(aside, 30)

    result = prune(database_url, tmp_path)
    assert result.exit_code == 0, result.output
    assert "put back 1 file(s) an interrupted run had set aside" in result.output
    assert kept.read_bytes() == PNG and not aside.exists()  # a stored ticket's file: kept


def test_the_files_of_a_form_refused_by_a_locked_database_are_removed_later(postgres_admin_url, tmp_path, kb_index):
    """Through the app: the customer's POST fails mid-transaction (outbox locked, lock_timeout)."""
    with fresh_schema(postgres_admin_url) as url:
        url += "%20-clock_timeout%3D1000"  # the URL's options: give up on a lock after 1 s
        app = customer_app(intake_test_config(tmp_path, KB_INDEX_DIR=str(kb_index), DATABASE_URL=url))
        client = app.test_client()
        locker = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
        instance = tmp_path / "instance"
        orphan = blob_path(instance / "attachments", sha(PDF))
        try:
            assert post_form(client, pdf_bytes("Fattura di prova")).status_code == 303  # one ticket stored
            with locker.begin() as connection:
                connection.exec_driver_sql("LOCK TABLE outbox IN ACCESS EXCLUSIVE MODE")
                assert post_form(client, PDF).status_code == 503
            assert stored(app) == {"tickets": 1, "attachments": 1, "outbox": 2, "ticket events": 1}
            assert orphan.read_bytes() == PDF
            age(orphan, 25)

            result = prune(url, instance)
            assert result.exit_code == 0, result.output
            assert "removed 1 attachment file(s) no ticket references" in result.output
            assert not orphan.exists()
            assert len([p for p in (instance / "attachments").rglob("*") if p.is_file()]) == 1  # the ticket's
        finally:
            locker.dispose()
            app.extensions["intake.db"].dispose()


def post_form(client, attachment: bytes):
    data = valid_data(DEFINITIONS["email"], oggetto="La casella info@rossi.it non riceve più nulla da stamattina") | {"token": client.search_token("email")}
    data["allegati"] = [(io.BytesIO(attachment), "documento.pdf")]
    return client.post("/modulo/email", data=data, content_type="multipart/form-data")


def test_the_daily_unit_runs_the_command_as_written(database_url, failed_submission, tmp_path):
    service = (ROOT / "deploy" / "kb-prune-attachments.service").read_text(encoding="utf-8")
    timer = (ROOT / "deploy" / "kb-prune-attachments.timer").read_text(encoding="utf-8")
    assert re.search(r"^OnCalendar=daily$", timer, re.M) and re.search(r"^Type=oneshot$", service, re.M)
    [command] = re.findall(r"^ExecStart=(.*)$", service, re.M)
    program, name, *options = shlex.split(command)
    assert (program, name) == ("/srv/kb/app/.venv/bin/kb", "prune-attachments")
    kept, orphan = failed_submission
    age(orphan, 25)

    result = prune(database_url, tmp_path, *options)
    assert result.exit_code == 0, result.output
    assert not orphan.exists() and kept.exists()


# --- what an operator gets wrong -------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "abc", "1.5", "-3"])
def test_a_bad_grace_period_is_refused_with_what_to_write(sqlite_db, tmp_path, value):
    result = prune(sqlite_db.url, tmp_path, "--grace-hours", value)
    assert result.exit_code == 2
    assert "Invalid value for '--grace-hours': expected a whole number of hours, at least 1" in result.output
    assert repr(value) in result.output


def test_without_the_database_nothing_is_removed(tmp_path):
    orphan = blob_path(tmp_path / "attachments", store_blob(tmp_path / "attachments", PDF))
    age(orphan, 30)

    result = CliRunner().invoke(cli, ["prune-attachments", "--instance", str(tmp_path)], env={"DATABASE_URL": ""})
    assert result.exit_code == 1
    assert f"DATABASE_URL is not set, and the default SQLite file {tmp_path / 'intake.sqlite3'} does not exist" in result.output
    assert "nothing was removed; set DATABASE_URL as the intake has it" in result.output
    assert orphan.exists() and not (tmp_path / "intake.sqlite3").exists()


def test_a_database_without_tickets_is_not_trusted_to_say_what_is_an_orphan(intake_db, tmp_path):
    """E.g. DATABASE_URL names an empty staging database: every file would look unreferenced."""
    orphan = blob_path(tmp_path / "attachments", store_blob(tmp_path / "attachments", PDF))
    age(orphan, 30)
    unfinished = orphan.with_name(".tmp-k3j_9x2q")
    unfinished.write_bytes(b"x")
    age(unfinished, 30)

    result = prune(intake_db.url, tmp_path)
    assert result.exit_code == 1
    assert "the database holds no ticket at all, yet 1 old attachment file(s) are on disk: nothing was removed" in result.output
    assert "Check that DATABASE_URL is the intake's database" in result.output
    assert orphan.exists() and unfinished.exists()


def test_an_unreachable_database_removes_nothing(tmp_path):
    orphan = blob_path(tmp_path / "attachments", store_blob(tmp_path / "attachments", PDF))
    age(orphan, 30)

    result = prune(f"postgresql://kb@127.0.0.1:{free_port()}/kb", tmp_path)  # no server listens there
    assert result.exit_code == 1
    assert "cannot read the tickets from the database (OperationalError): nothing was removed" in result.output
    assert orphan.exists()


def test_a_missing_attachments_folder_is_fine_only_before_the_first_attachment(intake_db, store_ticket, tmp_path):
    elsewhere = tmp_path / "other-instance"
    result = prune(intake_db.url, elsewhere)
    assert result.exit_code == 0, result.output
    assert "removed 0 attachment file(s)" in result.output

    store_ticket(attachments=[Upload("errore.png", "image/png", PNG)])
    result = prune(intake_db.url, elsewhere)
    assert result.exit_code == 1
    assert re.search(r"other-instance/attachments does not exist, while tickets reference 1 attachment file", result.output)
    assert "--instance or KB_INSTANCE_PATH" in result.output
