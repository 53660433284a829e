"""Analytics for writers: events without personal data, and `kb report` on a seeded log."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from intake.analytics import build_report, clean_query, format_report, new_event, record_event
from intake.db import Event
from kb_build.cli import cli

UTC = dt.timezone.utc


@pytest.mark.parametrize(
    ("query", "stored"),
    [
        ("  Non ricevo   POSTA ", "non ricevo posta"),
        ("non ricevo da Mario.Rossi@example.com", "non ricevo da [email]"),
        ("server 192.168.1.10 non risponde", "server [ip] non risponde"),
        ("ip 2001:db8::1, bloccato", "ip [ip], bloccato"),
        ("chiamatemi al +39 333 123 4567", "chiamatemi al [telefono]"),
        ("errore 550 5.7.1 del 12/03/2024", "errore 550 5.7.1 del 12/03/2024"),  # useful, not personal
        ("FPL-809-43017 ancora aperto", "fpl-809-43017 ancora aperto"),
        ("", None),
        (None, None),
    ],
)
def test_queries_are_stored_without_personal_data(query, stored):
    assert clean_query(query) == stored


def test_queries_are_bounded():
    assert len(clean_query("posta " * 100)) == 200


def test_events_have_no_column_for_addresses_or_ips():
    columns = set(Event.__table__.columns.keys())
    assert columns == {
        "id", "kind", "created_at", "query", "result_slugs", "result_count", "article", "request_type", "reason", "ticket_id",
    }


def test_unknown_event_kinds_are_refused():
    with pytest.raises(ValueError, match="allowed: search, click, deflection, ticket"):
        new_event("view")


def test_record_event_saves_it(intake_db):
    with intake_db.session() as session:
        record_event(session, "search", query="PEC scaduta", results=["email/pec", "email/spam"])
    with intake_db.session() as session:
        event = session.scalar(select(Event))
    assert (event.kind, event.query, event.result_slugs, event.result_count) == (
        "search", "pec scaduta", ["email/pec", "email/spam"], 2
    )


def at(day: int, hour: int = 10) -> dt.datetime:
    """A moment in March 2025 (Italian time is UTC+1 then)."""
    return dt.datetime(2025, 3, day, hour, tzinfo=UTC)


# (kind, day, hour UTC, query, results) - the seeded log the expected figures are computed from.
LOG = [
    ("search", 3, 10, "non ricevo posta", ["email/ricezione"]),
    ("search", 3, 11, "Non ricevo  posta", ["email/ricezione"]),
    ("search", 4, 9, "non ricevo posta", ["email/ricezione"]),
    ("search", 4, 9, "pec scaduta", []),
    ("search", 5, 9, "pec scaduta", []),
    ("search", 5, 9, "migrazione server", ["server-dedicati/migrazione"]),
    ("search", 6, 9, "fattura elettronica", []),
    ("click", 3, 10, "non ricevo posta", []),
    ("click", 4, 9, "non ricevo posta", []),
    ("deflection", 3, 10, "non ricevo posta", []),
    ("deflection", 4, 9, "non ricevo posta", []),
    ("deflection", 5, 9, "migrazione server", []),
    ("ticket", 4, 9, "pec scaduta", []),
    # Outside 3-6 March in Italian time: 2 March 23:30 UTC is already 3 March in Rome (inside),
    # 6 March 23:30 UTC is 7 March in Rome (outside), and 1 March is outside.
    ("search", 2, 23, "posta lenta", []),
    ("ticket", 6, 23, "posta lenta", []),
    ("search", 1, 10, "dns", []),
    ("deflection", 1, 10, "dns", []),
]


@pytest.fixture
def seeded(intake_db):
    with intake_db.session() as session:
        for kind, day, hour, query, results in LOG:
            moment = at(day, hour) + (dt.timedelta(minutes=30) if hour == 23 else dt.timedelta())
            session.add(new_event(kind, query=query, results=results, now=moment))
        session.commit()
    return intake_db


def test_report_figures(seeded):
    with seeded.session() as session:
        report = build_report(session, dt.date(2025, 3, 3), dt.date(2025, 3, 6), top=3)
    assert (report.searches, report.clicks, report.deflections, report.tickets) == (8, 2, 3, 1)
    assert report.deflection_rate == 0.75
    assert report.top_queries == [("non ricevo posta", 3), ("pec scaduta", 2), ("fattura elettronica", 1)]
    assert report.empty_queries == [("pec scaduta", 2), ("fattura elettronica", 1), ("posta lenta", 1)]


def test_report_without_deflections_or_tickets_has_no_rate(intake_db):
    with intake_db.session() as session:
        report = build_report(session, dt.date(2025, 3, 3), dt.date(2025, 3, 6))
    assert report.deflection_rate is None
    assert "n/d" in format_report(report)


def invoke(database, *args):
    result = CliRunner().invoke(cli, ["report", "--database-url", database.url, *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_kb_report_prints_the_figures(seeded):
    output = invoke(seeded, "--dal", "2025-03-03", "--al", "2025-03-06", "--top", "2")
    assert output.splitlines() == [
        "Periodo: dal 03/03/2025 al 06/03/2025",
        "",
        "Ricerche:                8",
        "Articoli aperti:         2",
        "Risolti senza ticket:    3",
        "Ticket aperti:           1",
        "Tasso di deflessione:    75,0%",
        "",
        "Ricerche più frequenti:",
        "  3  non ricevo posta",
        "  2  pec scaduta",
        "",
        "Ricerche senza risultati (articoli da scrivere):",
        "  2  pec scaduta",
        "  1  fattura elettronica",
    ]


def test_kb_report_json(seeded):
    data = json.loads(invoke(seeded, "--dal", "2025-03-01", "--al", "2025-03-07", "--json"))
    assert data["start"] == "2025-03-01" and data["end"] == "2025-03-07"
    assert (data["searches"], data["deflections"], data["tickets"]) == (9, 4, 2)
    assert data["deflection_rate"] == pytest.approx(4 / 6)
    assert data["top_queries"][0] == {"query": "non ricevo posta", "count": 3}
    assert {"query": "dns", "count": 1} in data["empty_queries"]


def test_kb_report_one_day(seeded):
    data = json.loads(invoke(seeded, "--dal", "2025-03-05", "--al", "2025-03-05", "--json"))
    assert (data["searches"], data["deflections"], data["tickets"], data["deflection_rate"]) == (2, 1, 0, 1.0)


def test_kb_report_refuses_a_reversed_range(seeded):
    result = CliRunner().invoke(cli, ["report", "--database-url", seeded.url, "--dal", "2025-03-06", "--al", "2025-03-01"])
    assert result.exit_code == 2
    assert "--dal 2025-03-06 is after --al 2025-03-01" in result.output


def test_kb_report_refuses_a_malformed_date(seeded):
    result = CliRunner().invoke(cli, ["report", "--database-url", seeded.url, "--dal", "03/03/2025"])
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.output or "%Y-%m-%d" in result.output
