"""When a ticket will be looked at: office hours Monday to Friday, 9:00-17:30, Europe/Rome.

Source: "Il ticket può esser presentato senza limitazioni di orario, ma verrà preso in esame
dai nostri tecnici in orario d’ufficio (dal lunedì al venerdì, dalle 9:00 alle 17:30)"
(``docs/assistenza/cos-ticket-assistenza-come-aprirlo.md``). Italian national public
holidays are not working days.

The holidays come from the ``holidays`` package rather than a table of our own: Italian law
does change them (4 October, San Francesco, is a national holiday again from 2026 under
law 151/2025), and that package is maintained to follow such changes; Easter Monday is
computed there too. Only national holidays count: local patron saints' days depend on where
the staff sit, which the seed does not say.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from .italian import format_date

ROME = ZoneInfo("Europe/Rome")
OPENS = time(9, 0)
CLOSES = time(17, 30)
#: How the seed words the office hours, for pages that want to repeat them.
OFFICE_HOURS_TEXT = "dal lunedì al venerdì, dalle 9:00 alle 17:30"


@dataclass(frozen=True)
class TicketReview:
    """When a ticket will be examined. ``at`` is in Europe/Rome; ``immediate`` if office is open."""

    submitted_at: datetime
    at: datetime
    immediate: bool
    sentence: str


@lru_cache(maxsize=64)
def _national_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("IT", years=year))


def is_working_day(day: date) -> bool:
    """Monday to Friday and not an Italian national public holiday."""
    return day.weekday() < 5 and day not in _national_holidays(day.year)


def next_working_day(day: date) -> date:
    """The first working day strictly after ``day``."""
    day += timedelta(days=1)
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def ticket_review(submitted_at: datetime) -> TicketReview:
    """When a ticket submitted at ``submitted_at`` (timezone-aware) will be examined.

    Inside office hours: now ("oggi entro le 17:30"). Before 9:00 on a working day: today
    at 9:00. Otherwise (from 17:30 on, week-ends, holidays): the next working day at 9:00.
    :raise ValueError: if ``submitted_at`` is naive (we cannot tell which hour it is in Rome).
    """
    if submitted_at.tzinfo is None or submitted_at.utcoffset() is None:
        raise ValueError("submitted_at must be timezone-aware (e.g. datetime.now(timezone.utc))")
    local = submitted_at.astimezone(ROME)
    today = local.date()
    if is_working_day(today) and OPENS <= local.time() < CLOSES:
        return TicketReview(submitted_at, local, True, "Il ticket sarà preso in esame oggi entro le 17:30.")
    if is_working_day(today) and local.time() < OPENS:
        day, when = today, "oggi"
    else:
        day = next_working_day(today)
        when = f"domani, {format_date(day)}," if day == today + timedelta(days=1) else format_date(day)
    at = datetime.combine(day, OPENS, tzinfo=ROME)
    return TicketReview(submitted_at, at, False, f"Il ticket sarà preso in esame {when} dalle 9:00.")
