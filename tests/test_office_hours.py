"""When a ticket will be examined, from the seed article "Cos’è un “ticket di assistenza” e come aprirlo?"."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from intake.rules import is_working_day, ticket_review

ROME = ZoneInfo("Europe/Rome")


def rome(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ROME)


# "Il ticket può esser presentato senza limitazioni di orario, ma verrà preso in esame dai nostri
#  tecnici in orario d’ufficio (dal lunedì al venerdì, dalle 9:00 alle 17:30)"
# Italian national public holidays are not working days.
REVIEWS = [
    # submitted (Rome time), examined from (Rome time; None = at once), sentence
    # -- inside and around the office hours of a plain Wednesday
    ("2026-12-02 10:00", None, "Il ticket sarà preso in esame oggi entro le 17:30."),
    ("2026-12-02 09:00", None, "Il ticket sarà preso in esame oggi entro le 17:30."),
    ("2026-12-02 17:29", None, "Il ticket sarà preso in esame oggi entro le 17:30."),
    ("2026-12-02 17:29:59", None, "Il ticket sarà preso in esame oggi entro le 17:30."),
    ("2026-12-02 08:59", "2026-12-02 09:00", "Il ticket sarà preso in esame oggi dalle 9:00."),
    ("2026-12-02 00:00", "2026-12-02 09:00", "Il ticket sarà preso in esame oggi dalle 9:00."),
    ("2026-12-02 17:30", "2026-12-03 09:00", "Il ticket sarà preso in esame domani, giovedì 3 dicembre 2026, dalle 9:00."),
    ("2026-12-02 23:59", "2026-12-03 09:00", "Il ticket sarà preso in esame domani, giovedì 3 dicembre 2026, dalle 9:00."),
    # -- week-ends
    ("2026-12-04 17:30", "2026-12-07 09:00", "Il ticket sarà preso in esame lunedì 7 dicembre 2026 dalle 9:00."),
    ("2026-12-05 11:00", "2026-12-07 09:00", "Il ticket sarà preso in esame lunedì 7 dicembre 2026 dalle 9:00."),
    ("2026-12-06 23:59", "2026-12-07 09:00", "Il ticket sarà preso in esame domani, lunedì 7 dicembre 2026, dalle 9:00."),
    # -- 8 December (Immacolata), a Tuesday in 2026
    ("2026-12-07 17:45", "2026-12-09 09:00", "Il ticket sarà preso in esame mercoledì 9 dicembre 2026 dalle 9:00."),
    ("2026-12-08 10:00", "2026-12-09 09:00", "Il ticket sarà preso in esame domani, mercoledì 9 dicembre 2026, dalle 9:00."),
    # -- 25 December 2026 is a Friday: Christmas, then the week-end
    ("2026-12-24 17:30", "2026-12-28 09:00", "Il ticket sarà preso in esame lunedì 28 dicembre 2026 dalle 9:00."),
    ("2026-12-25 10:00", "2026-12-28 09:00", "Il ticket sarà preso in esame lunedì 28 dicembre 2026 dalle 9:00."),
    # -- 25 and 26 December 2025, Thursday and Friday
    ("2025-12-24 18:00", "2025-12-29 09:00", "Il ticket sarà preso in esame lunedì 29 dicembre 2025 dalle 9:00."),
    # -- 1 January 2027 is a Friday
    ("2026-12-31 18:00", "2027-01-04 09:00", "Il ticket sarà preso in esame lunedì 4 gennaio 2027 dalle 9:00."),
    # -- 6 January 2027 (Epifania), a Wednesday
    ("2027-01-05 17:30", "2027-01-07 09:00", "Il ticket sarà preso in esame giovedì 7 gennaio 2027 dalle 9:00."),
    # -- Easter Monday 2027 is 29 March (Easter: 28 March)
    ("2027-03-26 17:30", "2027-03-30 09:00", "Il ticket sarà preso in esame martedì 30 marzo 2027 dalle 9:00."),
    ("2027-03-29 10:00", "2027-03-30 09:00", "Il ticket sarà preso in esame domani, martedì 30 marzo 2027, dalle 9:00."),
    # -- 1 May 2026 is a Friday
    ("2026-04-30 17:30", "2026-05-04 09:00", "Il ticket sarà preso in esame lunedì 4 maggio 2026 dalle 9:00."),
    # -- 2 June 2027 (Festa della Repubblica), a Wednesday
    ("2027-06-01 20:00", "2027-06-03 09:00", "Il ticket sarà preso in esame giovedì 3 giugno 2027 dalle 9:00."),
    ("2027-06-02 10:00", "2027-06-03 09:00", "Il ticket sarà preso in esame domani, giovedì 3 giugno 2027, dalle 9:00."),
    # -- 29 June (patron saints of Rome) is a local holiday only: a working day here
    ("2027-06-28 18:00", "2027-06-29 09:00", "Il ticket sarà preso in esame domani, martedì 29 giugno 2027, dalle 9:00."),
    # -- 15 August 2028 (Ferragosto), a Tuesday
    ("2028-08-14 18:00", "2028-08-16 09:00", "Il ticket sarà preso in esame mercoledì 16 agosto 2028 dalle 9:00."),
    # -- 4 October (San Francesco) is a national holiday again from 2026: a Monday in 2027
    ("2027-10-01 17:30", "2027-10-05 09:00", "Il ticket sarà preso in esame martedì 5 ottobre 2027 dalle 9:00."),
    # -- 1 November 2027 (Ognissanti), a Monday
    ("2027-10-29 18:00", "2027-11-02 09:00", "Il ticket sarà preso in esame martedì 2 novembre 2027 dalle 9:00."),
]


@pytest.mark.parametrize(("submitted", "examined", "sentence"), REVIEWS)
def test_when_a_ticket_is_examined(submitted, examined, sentence):
    review = ticket_review(rome(submitted))
    assert review.sentence == sentence
    assert review.immediate is (examined is None)
    assert review.at == (rome(submitted) if examined is None else rome(examined))
    assert review.at.tzinfo == ROME


# The clock the server runs on does not matter: the office is in Rome (CET in winter, CEST in summer).
UTC_SUBMISSIONS = [
    ("2026-12-02 16:29", True),  # 17:29 in Rome
    ("2026-12-02 16:30", False),  # 17:30 in Rome
    ("2026-12-02 07:59", False),  # 8:59 in Rome
    ("2026-12-02 08:00", True),  # 9:00 in Rome
    ("2027-07-07 15:29", True),  # 17:29 in Rome, summer time
    ("2027-07-07 15:30", False),
    ("2027-07-07 07:00", True),  # 9:00 in Rome, summer time
]


@pytest.mark.parametrize(("submitted", "immediate"), UTC_SUBMISSIONS)
def test_submission_times_in_utc_are_read_in_rome_time(submitted, immediate):
    review = ticket_review(datetime.fromisoformat(submitted).replace(tzinfo=timezone.utc))
    assert review.immediate is immediate


def test_next_period_starts_at_nine_rome_time_across_the_summer_time_change():
    # Sunday 28 March 2027 is Easter and the night clocks go forward; Monday is Easter Monday.
    review = ticket_review(datetime(2027, 3, 27, 12, 0, tzinfo=timezone.utc))
    assert review.at == datetime(2027, 3, 30, 7, 0, tzinfo=timezone.utc)  # 9:00 CEST


WORKING_DAYS = [
    (date(2027, 3, 26), True),  # Friday
    (date(2027, 3, 27), False),  # Saturday
    (date(2027, 3, 28), False),  # Sunday (Easter)
    (date(2027, 3, 29), False),  # Easter Monday
    (date(2027, 4, 26), True),  # Monday after Liberation Day on a Sunday: no substitute day in Italy
    (date(2026, 12, 8), False),
    (date(2026, 12, 25), False),
    (date(2026, 12, 28), True),
]


@pytest.mark.parametrize(("day", "working"), WORKING_DAYS)
def test_working_days(day, working):
    assert is_working_day(day) is working


def test_a_naive_datetime_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        ticket_review(datetime(2026, 12, 2, 10, 0))
