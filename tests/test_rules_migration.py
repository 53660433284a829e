"""The migration timeline, line by line from the seed article "migrazione programmata di server dedicati"."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest

from intake.rules import RuleInputError, format_date, migration_timeline, switch_date_problem

# "giorno X: ... viene comunicata la data proposta per la sotituzione (con un preavviso minimo di 15 gg. solari)"
# "giorno x+10: il cliente comunica (attraverso ticket system) eventuali necessità di configurazione"
# "giorno x+15: viene messo a disposizione del cliente il nuovo server, con un IP provvisorio."
# "entro il giorno x+22 il cliente può procedere all’installazione di eventuali applicativi, ..."
# "il giorno X+29 il vecchio server viene spento" / "il giorno X+31 il vecchio server viene cancellato"
TIMELINES = [
    # X, X+10, X+15, X+22, X+29, X+31
    (date(2026, 11, 27), date(2026, 12, 7), date(2026, 12, 12), date(2026, 12, 19), date(2026, 12, 26), date(2026, 12, 28)),
    # across the year end
    (date(2026, 12, 20), date(2026, 12, 30), date(2027, 1, 4), date(2027, 1, 11), date(2027, 1, 18), date(2027, 1, 20)),
    # across the end of a 28-day February
    (date(2027, 1, 31), date(2027, 2, 10), date(2027, 2, 15), date(2027, 2, 22), date(2027, 3, 1), date(2027, 3, 3)),
    # a leap year: X+15 is 29 February
    (date(2028, 2, 14), date(2028, 2, 24), date(2028, 2, 29), date(2028, 3, 7), date(2028, 3, 14), date(2028, 3, 16)),
]


@pytest.mark.parametrize(("x", "x10", "x15", "x22", "x29", "x31"), TIMELINES)
def test_steps_are_dated_from_day_x(x, x10, x15, x22, x29, x31):
    timeline = migration_timeline(x, "basic")
    dates = {step.key: step.day for step in timeline.steps}
    assert dates == {
        "comunicazione": x,
        "configurazione": x10,
        "nuovo_server": x15,
        "migrazione_dati": x22,
        "switch": None,
        "spegnimento": x29,
        "cancellazione": x31,
    }
    assert [step.key for step in timeline.steps] == [
        "comunicazione", "configurazione", "nuovo_server", "migrazione_dati", "switch", "spegnimento", "cancellazione",
    ]


def test_steps_read_as_italian_dates():
    steps = {step.key: step for step in migration_timeline(date(2026, 11, 27), "managed").steps}
    assert steps["comunicazione"].when_text == "venerdì 27 novembre 2026"
    assert steps["configurazione"].when_text == "lunedì 7 dicembre 2026"
    # "entro il giorno x+22"
    assert steps["migrazione_dati"].when_text == "entro sabato 19 dicembre 2026"
    # "quando il cliente ha concluso la migrazione, si procede allo switch degli IP"
    assert steps["switch"].when_text == "quando il cliente ha concluso la migrazione"
    assert "IP ufficiale" in steps["switch"].text
    assert "IP provvisorio" in steps["nuovo_server"].text
    # "Durante questo periodo l’utente può completare la migrazione dei dati, ... recuperare dati “dimenticati”"
    assert "dati dimenticati" in steps["spegnimento"].text


# "a seconda del profilo di assistenza, tale operazione deve esser eseguita dal cliente (assistenza
#  basic) oppure dal nostro personale (assistenza managed o global)"
OWNERS = [
    ("basic", "cliente"),
    ("managed", "staff"),
    ("global", "staff"),
]


@pytest.mark.parametrize(("plan", "switcher"), OWNERS)
def test_who_does_each_step_depends_on_the_plan_only_for_the_switch(plan, switcher):
    owners = {step.key: step.actor for step in migration_timeline(date(2026, 11, 27), plan).steps}
    assert owners == {
        "comunicazione": "staff",  # "dal nostro servizio viene comunicato all’utente"
        "configurazione": "cliente",  # "il cliente comunica"
        "nuovo_server": "staff",  # "viene messo a disposizione del cliente il nuovo server"
        "migrazione_dati": "cliente",  # "il cliente può procedere all’installazione"
        "switch": switcher,
        "spegnimento": "staff",
        "cancellazione": "staff",
    }
    switch = next(step for step in migration_timeline(date(2026, 11, 27), plan).steps if step.key == "switch")
    assert switch.actor_text == ("a cura del cliente" if plan == "basic" else "a cura del nostro personale")


# "con un preavviso minimo di 15 gg. solari"; and the old server is switched off on X+29.
SWITCH_DATES = [
    # X, proposed switch, accepted, words of the refusal
    (date(2026, 11, 27), date(2026, 12, 12), True, []),  # X+15
    (date(2026, 11, 27), date(2026, 12, 11), False, ["ad appena 14 giorni", "15 giorni solari", "sabato 12 dicembre 2026"]),
    (date(2026, 11, 27), date(2026, 11, 28), False, ["ad appena 1 giorno dalla comunicazione (venerdì 27 novembre 2026)", "sabato 12 dicembre 2026"]),
    (date(2026, 11, 27), date(2026, 11, 27), False, ["non viene dopo il giorno della comunicazione", "sabato 12 dicembre 2026"]),
    (date(2026, 11, 27), date(2026, 11, 1), False, ["non viene dopo", "venerdì 27 novembre 2026"]),
    (date(2026, 11, 27), date(2026, 12, 25), True, []),  # X+28, the last day before the old server is off
    (date(2026, 11, 27), date(2026, 12, 26), False, ["troppo tardi", "spento sabato 26 dicembre 2026", "entro venerdì 25 dicembre 2026"]),
    # across the year end
    (date(2026, 12, 20), date(2027, 1, 4), True, []),
    (date(2026, 12, 20), date(2027, 1, 3), False, ["ad appena 14 giorni", "lunedì 4 gennaio 2027"]),
]


@pytest.mark.parametrize(("x", "switch", "accepted", "words"), SWITCH_DATES)
def test_switch_date_needs_15_days_notice(x, switch, accepted, words):
    problem = switch_date_problem(x, switch)
    if accepted:
        assert problem is None
        timeline = migration_timeline(x, "managed", switch)
        assert next(s for s in timeline.steps if s.key == "switch").day == switch
        return
    for word in words:
        assert word in problem
    with pytest.raises(RuleInputError) as caught:
        migration_timeline(x, "managed", switch)
    assert caught.value.field == "data_switch"
    assert caught.value.message == problem


def test_an_early_switch_is_listed_in_date_order():
    timeline = migration_timeline(date(2026, 11, 27), "global", date(2026, 12, 14))
    assert [step.key for step in timeline.steps] == [
        "comunicazione", "configurazione", "nuovo_server", "switch", "migrazione_dati", "spegnimento", "cancellazione",
    ]
    switch = timeline.steps[3]
    assert switch.when_text == "lunedì 14 dicembre 2026"
    assert switch.to_dict()["giorno"] == "X+17"


# "si consiglia di effettuare l’operazione durante il normale orario lavorativo"
# "i titolari di piani di assistenza “global” possono concordare gratuitamente che l’intervento
#  venga eseguito in fasce orarie “morbide” (notturna o in giorni festivi)"
WEEKEND_WARNINGS = [
    # plan, switch, warned
    ("basic", date(2026, 12, 12), True),  # Saturday
    ("managed", date(2026, 12, 25), True),  # Christmas, a Friday
    ("managed", date(2026, 12, 14), False),  # Monday
    ("global", date(2026, 12, 12), False),  # global may agree holiday work for free
]


@pytest.mark.parametrize(("plan", "switch", "warned"), WEEKEND_WARNINGS)
def test_a_switch_outside_working_days_gets_a_warning(plan, switch, warned):
    notes = migration_timeline(date(2026, 11, 27), plan, switch).notes
    warning = f"La data proposta per lo switch ({format_date(switch)}) non è un giorno lavorativo"
    assert any(note.startswith(warning) for note in notes) is warned
    assert any("fascia notturna o in un giorno festivo" in note for note in notes) is (plan == "global")


# NOTE: "prima di eseguire le operazioni di migrazione, si consiglia di effettuare un backup
#  straordinario di tutti i contenuti del server"
def test_notes_remind_of_the_backup_and_who_switches():
    basic = migration_timeline(date(2026, 11, 27), "basic").notes
    managed = migration_timeline(date(2026, 11, 27), "managed").notes
    assert any("backup straordinario" in note for note in basic)
    assert any("lo switch degli IP è a cura del cliente" in note for note in basic)
    assert any("lo switch degli IP è eseguito dal nostro personale" in note for note in managed)


def test_unknown_plan_is_refused_with_the_accepted_ones():
    with pytest.raises(RuleInputError) as caught:
        migration_timeline(date(2026, 11, 27), "estesa")
    assert caught.value.field == "piano"
    assert "basic, managed, global" in caught.value.message


def test_a_datetime_is_not_taken_for_a_date():
    with pytest.raises(TypeError, match="datetime.date"):
        migration_timeline(datetime(2026, 11, 27, 10, 0), "basic")


def test_json_ready_data():
    data = migration_timeline(date(2026, 12, 20), "basic", date(2027, 1, 5)).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["giorno_x"] == "2026-12-20"
    assert [(p["giorno"], p["data"], p["chi"]) for p in data["passi"]] == [
        ("X", "2026-12-20", "staff"),
        ("X+10", "2026-12-30", "cliente"),
        ("X+15", "2027-01-04", "staff"),
        ("X+16", "2027-01-05", "cliente"),
        ("X+22", "2027-01-11", "cliente"),
        ("X+29", "2027-01-18", "staff"),
        ("X+31", "2027-01-20", "staff"),
    ]


ITALIAN_DATES = [
    (date(2026, 12, 7), "lunedì 7 dicembre 2026"),
    (date(2026, 12, 8), "martedì 8 dicembre 2026"),
    (date(2027, 1, 6), "mercoledì 6 gennaio 2027"),
    (date(2027, 2, 25), "giovedì 25 febbraio 2027"),
    (date(2027, 1, 1), "venerdì 1 gennaio 2027"),
    (date(2027, 3, 27), "sabato 27 marzo 2027"),
    (date(2027, 3, 28), "domenica 28 marzo 2027"),
    (date(2027, 4, 25), "domenica 25 aprile 2027"),
    (date(2027, 5, 1), "sabato 1 maggio 2027"),
    (date(2027, 6, 2), "mercoledì 2 giugno 2027"),
    (date(2027, 7, 14), "mercoledì 14 luglio 2027"),
    (date(2027, 8, 15), "domenica 15 agosto 2027"),
    (date(2027, 9, 30), "giovedì 30 settembre 2027"),
    (date(2027, 10, 4), "lunedì 4 ottobre 2027"),
    (date(2027, 11, 1), "lunedì 1 novembre 2027"),
]


@pytest.mark.parametrize(("day", "text"), ITALIAN_DATES)
def test_dates_are_written_in_italian_whatever_the_system_locale(day, text):
    assert format_date(day) == text
