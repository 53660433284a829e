"""The extra-contractual fee estimator, line by line from the seed article
"Assistenza extracontrattuale per server dedicati, server virtuali ed in colocation"."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import pytest

from intake.rules import RuleInputError, estimate_fee, format_eur, format_eur_vat

# INTERVENTI IN FASCIA ORDINARIA (dal lunedì al venerdì, dalle 9:00 alle 18:00)
# "La tariffazione avviene a consuntivo, su base oraria, in base al tempo effettivo impiegato
#  dal ns. personale a tranche di 30′ o frazioni; il minimo fatturabile è quindi di 30′, e le
#  tranche successive sono 1h, 1h 30′, 2h ecc."
# "– sistemista junior 30′ € 27,00 + IVA" / "– sistemista senior 30′ € 42,00 + IVA"
# "Non vi è nessun diritto fisso di intervento."
# "viene preso in carico normalmente entro 8h dalla richiesta."
ORDINARY = [
    # level, minutes, billed minutes, total
    ("junior", 1, 30, "27.00"),
    ("junior", 30, 30, "27.00"),
    ("junior", 31, 60, "54.00"),  # the issue's example: 2 blocks
    ("junior", 60, 60, "54.00"),
    ("junior", 61, 90, "81.00"),
    ("junior", 90, 90, "81.00"),
    ("junior", 120, 120, "108.00"),
    ("senior", 1, 30, "42.00"),
    ("senior", 30, 30, "42.00"),
    ("senior", 31, 60, "84.00"),
    ("senior", 90, 90, "126.00"),
    ("senior", 150, 150, "210.00"),
]


@pytest.mark.parametrize(("level", "minutes", "billed", "total"), ORDINARY)
def test_ordinary_band_bills_started_half_hours_with_no_fixed_fee(level, minutes, billed, total):
    estimate = estimate_fee("ordinaria", level, minutes)
    assert estimate.total == Decimal(total)
    assert estimate.billed_minutes == billed
    assert len(estimate.lines) == 1, "no fixed fee in the ordinary band unless urgent"
    assert estimate.lines[0].quantity == billed // 30
    assert estimate.takeover_hours == 8
    assert "entro 8h" in estimate.takeover_text


# "Vi è la possibilità di richiedere un intervento urgente, con presa in carico entro 1h dalla
#  richiesta, ed addebito del relativo diritto." / "Diritto fisso di urgenza € 27,00 + IVA"
ORDINARY_URGENT = [
    ("junior", 31, "81.00"),  # 27 + 2 x 27
    ("junior", 30, "54.00"),  # 27 + 27
    ("senior", 30, "69.00"),  # 27 + 42
    ("senior", 100, "195.00"),  # 27 + 4 x 42
]


@pytest.mark.parametrize(("level", "minutes", "total"), ORDINARY_URGENT)
def test_urgent_take_over_in_ordinary_hours_adds_27_and_takes_one_hour(level, minutes, total):
    estimate = estimate_fee("ordinaria", level, minutes, urgent=True)
    assert estimate.total == Decimal(total)
    fee = estimate.lines[0]
    assert (fee.description, fee.amount) == ("Diritto fisso di urgenza (presa in carico entro 1h)", Decimal("27.00"))
    assert estimate.takeover_hours == 1
    assert "entro 1h" in estimate.takeover_text


# INTERVENTI PIANIFICATI IN FASCIA STRAORDINARIA (notturni o festivi)
# "L’intervento minimo fatturabile è di due ore; nel caso di interventi di durata maggiore
#  vengono addebitate le singole ore ulteriori (o frazione)"
# "– sistemista junior prime 2h € 150,00 + IVA" / "– ogni ora successiva (o frazione) € 50,00 + IVA"
# "– sistemista senior prime 2h € 230,00 + IVA" / "– ogni ora successiva (o frazione) € 83,00 + IVA"
PLANNED = [
    # level, minutes, billed minutes, total
    ("junior", 1, 120, "150.00"),
    ("junior", 120, 120, "150.00"),
    ("junior", 121, 180, "200.00"),
    ("junior", 180, 180, "200.00"),
    ("junior", 181, 240, "250.00"),
    ("senior", 30, 120, "230.00"),
    ("senior", 120, 120, "230.00"),
    ("senior", 121, 180, "313.00"),
    ("senior", 190, 240, "396.00"),  # the issue's example: 3h10m = 230 + 2 x 83
    ("senior", 300, 300, "479.00"),
]


@pytest.mark.parametrize(("level", "minutes", "billed", "total"), PLANNED)
def test_planned_night_or_holiday_work_has_a_two_hour_minimum_then_started_hours(level, minutes, billed, total):
    estimate = estimate_fee("straordinaria-pianificata", level, minutes)
    assert estimate.total == Decimal(total)
    assert estimate.billed_minutes == billed
    assert "prime 2h" in estimate.lines[0].description


def test_planned_breakdown_of_the_issue_example():
    estimate = estimate_fee("straordinaria-pianificata", "senior", 190)
    assert [(line.quantity, line.unit_price, line.amount) for line in estimate.lines] == [
        (1, Decimal("230.00"), Decimal("230.00")),
        (2, Decimal("83.00"), Decimal("166.00")),
    ]
    assert estimate.lines[1].description == "2 ore successive (o frazione) di sistemista senior × € 83,00"
    assert estimate.duration_text == "3h 10′ (fatturate 4h)"
    # Planned work happens on agreed dates: no take-over time is promised.
    assert estimate.takeover_hours is None
    assert "preavviso minimo di un giorno lavorativo" in estimate.takeover_text


# ASSISTENZA SISTEMISTICA URGENTE IN FASCIA STRAORDINARIA (notturni o festivi)
# "viene preso in carico entro 1h." / "Questo genere di intervento porta sempre all’addebito di
#  un diritto fisso di urgenza." / "a tranche di 30′ o frazioni"
# "– diritto fisso di urgenza € 75,00 + IVA" / "– sistemista junior 30′ € 39,00 + IVA" /
# "– sistemista senior 30′ € 63,00 + IVA"
URGENT = [
    ("senior", 45, "201.00"),  # the issue's example: 75 + 2 x 63
    ("senior", 1, "138.00"),  # 75 + 63
    ("senior", 30, "138.00"),
    ("junior", 30, "114.00"),  # 75 + 39
    ("junior", 31, "153.00"),  # 75 + 2 x 39
    ("junior", 120, "231.00"),  # 75 + 4 x 39
]


@pytest.mark.parametrize(("level", "minutes", "total"), URGENT)
def test_urgent_night_work_always_adds_75_and_takes_one_hour(level, minutes, total):
    estimate = estimate_fee("straordinaria-urgente", level, minutes)
    assert estimate.total == Decimal(total)
    assert estimate.lines[0].amount == Decimal("75.00")
    assert estimate.lines[0].description.startswith("Diritto fisso di urgenza")
    assert estimate.takeover_hours == 1


def test_urgent_night_breakdown_of_the_issue_example():
    estimate = estimate_fee("straordinaria-urgente", "senior", 45)
    assert [(line.quantity, line.amount) for line in estimate.lines] == [(1, Decimal("75.00")), (2, Decimal("126.00"))]
    assert "sistemista senior" in estimate.lines[1].description


# ASSISTENZA SEMPLICE URGENTE IN FASCIA STRAORDINARIA (notturni o festivi)
# "Semplici interventi di assistenza, che possano esser eseguiti dal personale tecnico di turno
#  senza coinvolgere sistemisti (es. riavvii), verranno addebitati al prezzo del ticket ordinario
#  (€ 27,00 + IVA ogni mezz’ora o frazione)"
SIMPLE = [(1, "27.00"), (30, "27.00"), (31, "54.00"), (45, "54.00"), (95, "108.00")]


@pytest.mark.parametrize(("minutes", "total"), SIMPLE)
@pytest.mark.parametrize("level", [None, "junior", "senior"])
def test_simple_urgent_tasks_cost_27_per_half_hour_whatever_the_level(level, minutes, total):
    estimate = estimate_fee("straordinaria-semplice", level, minutes)
    assert estimate.total == Decimal(total)
    assert len(estimate.lines) == 1, "no urgency fee: the price of an ordinary ticket"
    assert estimate.level is None
    assert "non incide sul costo" in estimate.takeover_text


# "Nel caso di interventi particolarmente onerosi, di costo totale presumibilmente superiore ad
#  € 250,00+IVA, verrà prodotto al cliente un preventivo che dovrà approvare"
# (stated in the ordinary and the planned sections only; "superiore" = strictly above)
QUOTE = [
    # band, level, minutes, urgent, total, quote required
    ("ordinaria", "junior", 270, False, "243.00", False),
    ("ordinaria", "junior", 271, False, "270.00", True),
    ("ordinaria", "senior", 150, False, "210.00", False),
    ("ordinaria", "senior", 180, False, "252.00", True),
    ("ordinaria", "junior", 240, True, "243.00", False),
    ("ordinaria", "junior", 270, True, "270.00", True),  # the urgency fee is part of the "costo totale"
    ("straordinaria-pianificata", "junior", 240, False, "250.00", False),  # exactly 250: not "superiore"
    ("straordinaria-pianificata", "junior", 241, False, "300.00", True),
    ("straordinaria-pianificata", "senior", 120, False, "230.00", False),
    ("straordinaria-pianificata", "senior", 121, False, "313.00", True),
    # Urgent and simple night work: billed "a consuntivo", the article asks for no quote.
    ("straordinaria-urgente", "senior", 180, False, "453.00", False),
    ("straordinaria-semplice", None, 600, False, "540.00", False),
]


@pytest.mark.parametrize(("band", "level", "minutes", "urgent", "total", "quote"), QUOTE)
def test_a_quote_must_be_approved_above_250_euro(band, level, minutes, urgent, total, quote):
    estimate = estimate_fee(band, level, minutes, urgent)
    assert estimate.total == Decimal(total)
    assert estimate.quote_required is quote
    if quote:
        assert "supera € 250,00 + IVA" in estimate.quote_text
        assert "preventivo da approvare" in estimate.quote_text
    else:
        assert estimate.quote_text is None


def test_every_breakdown_adds_up_to_the_total():
    for band, level in [("ordinaria", "senior"), ("straordinaria-pianificata", "junior"),
                        ("straordinaria-urgente", "junior"), ("straordinaria-semplice", None)]:
        for minutes in (1, 29, 30, 31, 119, 120, 121, 185, 600):
            estimate = estimate_fee(band, level, minutes, urgent=band == "ordinaria")
            assert sum(line.amount for line in estimate.lines) == estimate.total
            assert all(line.amount == line.unit_price * line.quantity for line in estimate.lines)


def test_json_ready_data_uses_strings_for_amounts():
    data = estimate_fee("straordinaria-pianificata", "senior", 190).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["totale"] == "396.00"
    assert data["totale_testo"] == "€ 396,00 + IVA"
    assert data["preventivo_richiesto"] is True
    assert data["presa_in_carico_ore"] is None
    assert [row["importo"] for row in data["righe"]] == ["230.00", "166.00"]


MONEY = [
    ("0", "€ 0,00"),
    ("27", "€ 27,00"),
    ("396.00", "€ 396,00"),
    ("1234.5", "€ 1.234,50"),
    ("1234567.891", "€ 1.234.567,89"),
    ("0.005", "€ 0,01"),  # invoices round half up
]


@pytest.mark.parametrize(("amount", "text"), MONEY)
def test_amounts_are_written_the_italian_way(amount, text):
    assert format_eur(Decimal(amount)) == text
    assert format_eur_vat(Decimal(amount)) == text + " + IVA"


BAD_INPUT = [
    # band, level, minutes, urgent, field, words the message must contain
    ("notturna", "junior", 30, False, "fascia",
     ["'notturna'", "ordinaria, straordinaria-pianificata, straordinaria-urgente, straordinaria-semplice"]),
    (None, "junior", 30, False, "fascia", ["ordinaria"]),
    ("ordinaria", "medio", 30, False, "livello", ["'medio'", "junior, senior"]),
    ("ordinaria", None, 30, False, "livello", ["livello", "junior, senior"]),
    ("straordinaria-urgente", None, 30, False, "livello", ["junior, senior"]),
    ("straordinaria-semplice", "stagista", 30, False, "livello", ["junior, senior"]),
    ("ordinaria", "junior", 0, False, "minuti", ["maggiore di zero", "0"]),
    ("ordinaria", "junior", -30, False, "minuti", ["maggiore di zero", "-30"]),
    ("ordinaria", "junior", 1.5, False, "minuti", ["numero intero"]),
    ("ordinaria", "junior", "30", False, "minuti", ["numero intero"]),
    ("ordinaria", "junior", True, False, "minuti", ["numero intero"]),
    ("ordinaria", "junior", 30, "sì", "urgente", ["sì o no"]),
    ("straordinaria-urgente", "senior", 30, True, "urgente", ["solo nella fascia ordinaria", "comprende già"]),
    ("straordinaria-pianificata", "senior", 30, True, "urgente", ["solo nella fascia ordinaria", "straordinaria-urgente"]),
    ("straordinaria-semplice", None, 30, True, "urgente", ["solo nella fascia ordinaria", "ticket ordinario"]),
]


@pytest.mark.parametrize(("band", "level", "minutes", "urgent", "field", "words"), BAD_INPUT)
def test_bad_input_is_refused_with_an_italian_sentence(band, level, minutes, urgent, field, words):
    with pytest.raises(RuleInputError) as caught:
        estimate_fee(band, level, minutes, urgent)
    assert caught.value.field == field
    for word in words:
        assert word in str(caught.value)


def test_the_rules_import_neither_flask_nor_mkdocs():
    # The same functions run inside the intake and at build time.
    code = "import sys, intake.rules, intake.rules.cli; print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'mkdocs', 'whoosh')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
