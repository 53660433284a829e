"""Storing tickets: IDs, attachments by hash, both e-mails in the outbox, all in one transaction."""

from __future__ import annotations

import hashlib
import itertools
import re
import threading

import pytest
from sqlalchemy import func, select, text

from intake import ticket_ids
from intake.db import Attachment, Event, OutboxMessage, Ticket
from intake.gate import TokenUsed
from intake.store import TicketIdExhausted, Upload

from .helpers import refuse_commits

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def counts(database) -> dict[str, int]:
    with database.session() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (Ticket, Attachment, OutboxMessage, Event)
        }


def test_ticket_is_stored_with_its_answers_files_and_both_emails(intake_db, store_ticket, tmp_path):
    ticket = store_ticket(attachments=[Upload("errore.png", "image/png", PNG)])

    assert re.fullmatch(r"FPL-\d{3}-\d{5}", ticket.id)
    with intake_db.session() as session:
        stored = session.get(Ticket, ticket.id)
        assert (stored.request_type, stored.department, stored.priority) == ("email", "helpdesk", "normale")
        assert stored.customer_email == "mario.rossi@example.com"
        assert [a["label"] for a in stored.answers] == ["Oggetto", "Caselle coinvolte", "Direzione", "Messaggio di errore"]
        assert stored.answers[1]["value"] == ["info@rossi.it", "amministrazione@rossi.it"]
        assert stored.created_at.tzinfo is not None
        [attachment] = stored.attachments
        assert (attachment.filename, attachment.content_type, attachment.size) == ("errore.png", "image/png", len(PNG))
        mails = {m.kind: m for m in stored.outbox}
        assert {k: m.recipient for k, m in mails.items()} == {
            "department": "hd@smacloud.it",
            "customer": "mario.rossi@example.com",
        }
        assert mails["department"].subject == f"[{ticket.id}] Non ricevo posta su info@rossi.it da ieri"
        assert all(m.attempts == 0 and m.sent_at is None for m in mails.values())
        assert session.scalars(select(Event.kind)).all() == ["ticket"]
    blob = tmp_path / "attachments" / attachment.sha256[:2] / attachment.sha256
    assert blob.read_bytes() == PNG
    assert attachment.sha256 == hashlib.sha256(PNG).hexdigest()


def test_same_file_twice_is_stored_once_on_disk(intake_db, store_ticket, tmp_path):
    store_ticket(nonce="a", attachments=[Upload("errore.png", "image/png", PNG)])
    store_ticket(nonce="b", attachments=[Upload("copia.png", "image/png", PNG)])
    blobs = [p for p in (tmp_path / "attachments").rglob("*") if p.is_file()]
    assert len(blobs) == 1
    assert counts(intake_db)["attachments"] == 2


@pytest.mark.parametrize(
    ("uploaded", "stored"),
    [("../../etc/passwd", "etc_passwd"), ("fattura\r\nBcc: x.pdf", "fattura_Bcc_x.pdf"), ("...", "allegato")],
)
def test_attachment_names_are_made_safe(intake_db, store_ticket, uploaded, stored):
    ticket = store_ticket(attachments=[Upload(uploaded, "application/pdf", b"%PDF-1.4")])
    assert [a.filename for a in ticket.attachments] == [stored]


def test_reused_token_stores_nothing_more(intake_db, store_ticket):
    store_ticket(nonce="same")
    before = counts(intake_db)
    with pytest.raises(TokenUsed) as info:
        store_ticket(nonce="same", subject="Un'altra richiesta con lo stesso token")
    assert info.value.status == 403
    assert "già stata inviata" in info.value.message
    assert counts(intake_db) == before


def test_a_failure_inside_the_transaction_stores_nothing_partial(intake_db, store_ticket):
    refuse_commits(intake_db)  # the transaction's last insert (the analytics event) fails in the database
    with pytest.raises(Exception, match="disk full"):
        store_ticket(attachments=[Upload("errore.png", "image/png", PNG)])
    assert counts(intake_db) == {"tickets": 0, "attachments": 0, "outbox": 0, "events": 0}


def test_a_customer_address_that_cannot_receive_mail_stores_nothing(intake_db, store_ticket):
    with pytest.raises(ValueError):
        store_ticket(customer_email="mario\r\nBcc: tutti@example.com")
    assert counts(intake_db)["tickets"] == 0


def test_ids_are_random_not_sequential(intake_db, store_ticket):
    ids = [store_ticket(nonce=f"n{i}").id for i in range(20)]
    numbers = [int(i.replace("FPL", "").replace("-", "")) for i in ids]
    steps = {b - a for a, b in zip(numbers, numbers[1:])}
    assert len(set(ids)) == 20
    assert len(steps) > 15  # no fixed stride: the next ID cannot be guessed from the last


def test_prefix_is_configurable(store_ticket):
    assert store_ticket(prefix="RUB").id.startswith("RUB-")


def scripted(monkeypatch, numbers):
    """Make the ID source return ``numbers`` in order (pairs make one ID: 3 digits, 5 digits)."""
    it = iter(numbers)
    monkeypatch.setattr(ticket_ids, "_randbelow", lambda n: next(it))


def test_an_id_collision_is_retried_with_a_fresh_id(intake_db, store_ticket, monkeypatch):
    scripted(monkeypatch, [809, 43017, 809, 43017, 123, 45678])
    first = store_ticket(nonce="a")
    second = store_ticket(nonce="b")
    assert (first.id, second.id) == ("FPL-809-43017", "FPL-123-45678")
    assert counts(intake_db)["tickets"] == 2
    with intake_db.session() as session:
        assert session.get(Ticket, "FPL-809-43017").token_nonce == "a"  # the first one untouched


def test_a_broken_random_source_gives_up_cleanly(intake_db, store_ticket, monkeypatch):
    store_ticket(nonce="a")
    with intake_db.session() as session:
        existing = session.scalar(select(Ticket.id))
    first, second = (int(part) for part in existing.split("-")[1:])
    monkeypatch.setattr(ticket_ids, "_randbelow", lambda n: first if n == 1000 else second)
    with pytest.raises(TicketIdExhausted):
        store_ticket(nonce="b")
    assert counts(intake_db)["tickets"] == 1


def test_fifty_concurrent_submissions_get_fifty_distinct_ids(intake_db, store_ticket):
    results, errors = [], []
    barrier = threading.Barrier(50)

    def submit(i):
        barrier.wait()  # all threads hit the database together
        try:
            results.append(store_ticket(nonce=f"nonce-{i}").id)
        except Exception as exc:  # collected: the assertion shows it
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(set(results)) == 50
    assert counts(intake_db) == {"tickets": 50, "attachments": 0, "outbox": 100, "events": 50}


def test_the_same_token_sent_twice_at_once_stores_one_ticket(intake_db, store_ticket):
    outcomes = []
    barrier = threading.Barrier(8)

    def submit():
        barrier.wait()
        try:
            outcomes.append(store_ticket(nonce="double-click").id)
        except TokenUsed:
            outcomes.append("refused")

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes, key=lambda o: o == "refused")[1:] == ["refused"] * 7
    assert counts(intake_db)["tickets"] == 1


def test_collisions_under_concurrency_are_retried(intake_db, store_ticket, monkeypatch):
    # Every thread first draws the same ID, then a distinct one: 9 of 10 must retry.
    lock = threading.Lock()
    draws: dict[int, int] = {}
    fresh = itertools.count(1)

    def randbelow(n):
        with lock:
            me = threading.get_ident()
            draws[me] = draws.get(me, 0) + 1
            if draws[me] <= 2:  # each thread's first ID: FPL-007-07777
                return 7 if n == 1000 else 7777
            return next(fresh)  # then distinct ones

    monkeypatch.setattr(ticket_ids, "_randbelow", randbelow)
    ids, errors = [], []
    barrier = threading.Barrier(10)

    def submit(i):
        barrier.wait()
        try:
            ids.append(store_ticket(nonce=f"c{i}").id)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(ids)) == 10 and "FPL-007-07777" in ids
    with intake_db.session() as session:
        assert session.scalar(text("SELECT count(*) FROM tickets")) == 10
