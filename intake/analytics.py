"""Analytics for writers (SPEC I8): what customers search, click, solve alone, or turn into tickets.

Events hold no personal data: queries are stored with e-mail addresses, IP addresses and
long digit runs (phone numbers) replaced by placeholders, and no request metadata (IP,
user agent, e-mail) is recorded at all. :func:`build_report` turns the log into the
figures ``kb report`` prints.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .db import Event, utcnow
from .rules import ROME

KINDS = ("search", "click", "deflection", "ticket")
MAX_QUERY_CHARS = 200

_EMAIL = re.compile(r"[^\s@<>()\[\],;:\"']+@[^\s@<>()\[\],;:\"']+")
# Phone-like: 9+ digits, possibly grouped by single spaces, dots or hyphens (dates and SMTP codes stay).
_PHONE = re.compile(r"\+?\d(?:[ .\-]?\d){8,}")
_PUNCTUATION = ".,;:!?()[]<>\"'"


def _mask_ip(token: str) -> str:
    core = token.strip(_PUNCTUATION)
    try:
        ipaddress.ip_address(core)
    except ValueError:
        return token
    return token.replace(core, "[ip]")


def clean_query(query: str | None) -> str | None:
    """The query as stored and grouped: personal data masked, lower case, single spaces, bounded.

    ``"Non ricevo da Mario.Rossi@example.com "`` -> ``"non ricevo da [email]"``.
    """
    if query is None:
        return None
    text = _EMAIL.sub("[email]", str(query))
    text = " ".join(_mask_ip(token) for token in text.split())
    text = _PHONE.sub("[telefono]", text)
    return text.lower()[:MAX_QUERY_CHARS].strip() or None


def new_event(
    kind: str,
    *,
    query: str | None = None,
    results: Sequence[str] = (),
    article: str | None = None,
    request_type: str | None = None,
    reason: str | None = None,
    ticket_id: str | None = None,
    now: dt.datetime | None = None,
) -> Event:
    """An unsaved event (the store adds its "ticket" event in the ticket's own transaction).

    :param kind: ``search`` (query + the slugs shown), ``click`` (the article opened),
        ``deflection`` (the article that solved it; ``reason`` says how, e.g. ``risolto``),
        ``ticket`` (the ticket stored).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r} (allowed: {', '.join(KINDS)})")
    slugs = [str(slug) for slug in results]
    return Event(
        kind=kind,
        created_at=now or utcnow(),
        query=clean_query(query),
        result_slugs=slugs,
        result_count=len(slugs),
        article=article,
        request_type=request_type,
        reason=reason,
        ticket_id=ticket_id,
    )


def record_event(session: Session, kind: str, **fields) -> Event:
    """Save one event now (its own commit). Fields as in :func:`new_event`."""
    event = new_event(kind, **fields)
    session.add(event)
    session.commit()
    return event


@dataclass(frozen=True)
class Report:
    """The figures of ``kb report`` for the days ``start``..``end`` (both included, Italian time)."""

    start: dt.date
    end: dt.date
    searches: int
    clicks: int
    deflections: int
    tickets: int
    top_queries: list[tuple[str, int]]
    empty_queries: list[tuple[str, int]]

    @property
    def deflection_rate(self) -> float | None:
        """deflections / (deflections + tickets); None when neither happened."""
        total = self.deflections + self.tickets
        return self.deflections / total if total else None

    def to_dict(self) -> dict:
        data = asdict(self)
        data["start"], data["end"] = self.start.isoformat(), self.end.isoformat()
        data["deflection_rate"] = self.deflection_rate
        data["top_queries"] = [{"query": q, "count": n} for q, n in self.top_queries]
        data["empty_queries"] = [{"query": q, "count": n} for q, n in self.empty_queries]
        return data


def day_bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """UTC instants from ``start`` 00:00 to the day after ``end`` 00:00, in Italian time."""
    low = dt.datetime.combine(start, dt.time(), tzinfo=ROME)
    high = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=ROME)
    return low.astimezone(dt.timezone.utc), high.astimezone(dt.timezone.utc)


def build_report(session: Session, start: dt.date, end: dt.date, top: int = 10) -> Report:
    """Count the events of the days ``start``..``end`` and rank the queries (ties: alphabetical)."""
    if end < start:
        raise ValueError(f"the range ends ({end}) before it starts ({start})")
    low, high = day_bounds(start, end)
    in_range = (Event.created_at >= low, Event.created_at < high)
    counts = dict(session.execute(select(Event.kind, func.count()).where(*in_range).group_by(Event.kind)).all())

    def ranked(*conditions) -> list[tuple[str, int]]:
        n = func.count().label("n")
        rows = session.execute(
            select(Event.query, n)
            .where(*in_range, Event.kind == "search", Event.query.is_not(None), *conditions)
            .group_by(Event.query)
            .order_by(n.desc(), Event.query)
            .limit(top)
        ).all()
        return [(query, count) for query, count in rows]

    return Report(
        start=start,
        end=end,
        searches=counts.get("search", 0),
        clicks=counts.get("click", 0),
        deflections=counts.get("deflection", 0),
        tickets=counts.get("ticket", 0),
        top_queries=ranked(),
        empty_queries=ranked(Event.result_count == 0),
    )


def format_report(report: Report) -> str:
    """The report as text for writers (Italian, like the rest of their tools' content)."""
    rate = report.deflection_rate
    rate_text = "n/d (nessuna deflessione e nessun ticket)" if rate is None else f"{rate:.1%}".replace(".", ",")
    lines = [
        f"Periodo: dal {report.start:%d/%m/%Y} al {report.end:%d/%m/%Y}",
        "",
        f"Ricerche:                {report.searches}",
        f"Articoli aperti:         {report.clicks}",
        f"Risolti senza ticket:    {report.deflections}",
        f"Ticket aperti:           {report.tickets}",
        f"Tasso di deflessione:    {rate_text}",
        "",
        "Ricerche più frequenti:",
        *_ranking(report.top_queries),
        "",
        "Ricerche senza risultati (articoli da scrivere):",
        *_ranking(report.empty_queries),
    ]
    return "\n".join(lines)


def _ranking(rows: list[tuple[str, int]]) -> list[str]:
    if not rows:
        return ["  (nessuna)"]
    width = max(len(str(count)) for _, count in rows)
    return [f"  {count:>{width}}  {query}" for query, count in rows]
