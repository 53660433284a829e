"""Cost estimate of extra-contractual work on dedicated, virtual and colocated servers.

Every number below is a line of the article "Assistenza extracontrattuale per server
dedicati, server virtuali ed in colocation"
(``docs/server-dedicati/assistenza-extracontrattuale-server-dedicati-server-virtuali-colocation.md``).
Readings of the article where it leaves room for doubt:

- The quote: "di costo totale presumibilmente superiore ad € 250,00+IVA, verrà prodotto al
  cliente un preventivo". *Superiore* means strictly above, so an estimate of exactly
  € 250,00 needs no quote (a planned junior job of 3-4 hours costs exactly that).
- The article states the quote rule only for the ordinary band and for planned night or
  holiday work. Urgent night or holiday work ("interventi urgenti ed improvvisi", taken over
  within 1h) and the simple urgent tasks are billed "a consuntivo" with no quote step, so
  :data:`QUOTE_BANDS` leaves them out.
- "Urgent" (take-over within 1h and the € 27 fixed fee) is an option of the ordinary band
  only. The urgent night band always carries its own € 75 fee; planned work is by
  definition not urgent; simple urgent tasks cost the ordinary ticket price and no fee.
  Asking for the option in another band is refused with a sentence saying what to pick.
- Take-over time: the article gives 8h (ordinary), 1h (ordinary urgent, urgent night).
  Planned work happens on dates agreed with the customer, and the simple urgent tasks have
  no stated time, so their ``takeover_hours`` is ``None`` and ``takeover_text`` says why.
- Simple urgent tasks are done by the staff on duty "senza coinvolgere sistemisti", so the
  level is optional there and ignored when given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from .errors import RuleInputError, choose
from .italian import euro_cents, format_eur, format_eur_vat, format_minutes

ORDINARY = "ordinaria"
PLANNED = "straordinaria-pianificata"
URGENT = "straordinaria-urgente"
SIMPLE = "straordinaria-semplice"

#: Accepted bands, with the label a customer sees (the article's section titles).
BANDS: dict[str, str] = {
    ORDINARY: "Interventi in fascia ordinaria (dal lunedì al venerdì, dalle 9:00 alle 18:00)",
    PLANNED: "Interventi pianificati in fascia straordinaria (notturni o festivi)",
    URGENT: "Assistenza sistemistica urgente in fascia straordinaria (notturni o festivi)",
    SIMPLE: "Assistenza semplice urgente in fascia straordinaria (notturni o festivi), es. riavvii",
}
#: Accepted levels, with their label.
LEVELS: dict[str, str] = {"junior": "sistemista junior", "senior": "sistemista senior"}

BLOCK_MINUTES = 30
#: "tranche di 30′ o frazioni", per band and level.
HALF_HOUR_RATES: dict[tuple[str, str], Decimal] = {
    (ORDINARY, "junior"): Decimal("27.00"),
    (ORDINARY, "senior"): Decimal("42.00"),
    (URGENT, "junior"): Decimal("39.00"),
    (URGENT, "senior"): Decimal("63.00"),
}
#: "al prezzo del ticket ordinario (€ 27,00 + IVA ogni mezz’ora o frazione)", any level.
SIMPLE_HALF_HOUR_RATE = Decimal("27.00")
#: "Diritto fisso di urgenza" in the ordinary band (only when the 1h take-over is asked).
ORDINARY_URGENCY_FEE = Decimal("27.00")
#: "Questo genere di intervento porta sempre all’addebito di un diritto fisso di urgenza."
NIGHT_URGENCY_FEE = Decimal("75.00")
#: "L’intervento minimo fatturabile è di due ore", then "ogni ora successiva (o frazione)".
PLANNED_MINIMUM_MINUTES = 120
PLANNED_FIRST_TWO_HOURS: dict[str, Decimal] = {"junior": Decimal("150.00"), "senior": Decimal("230.00")}
PLANNED_EXTRA_HOUR: dict[str, Decimal] = {"junior": Decimal("50.00"), "senior": Decimal("83.00")}

QUOTE_THRESHOLD = Decimal("250.00")
QUOTE_BANDS = frozenset({ORDINARY, PLANNED})

CONSUNTIVO = "Stima indicativa: l’addebito avviene a consuntivo, in base al tempo effettivamente impiegato."


@dataclass(frozen=True)
class FeeLine:
    """One line of the breakdown: ``quantity`` × ``unit_price`` = ``amount`` (EUR, VAT excluded)."""

    description: str
    quantity: int
    unit_price: Decimal
    amount: Decimal

    @property
    def amount_text(self) -> str:
        return format_eur_vat(self.amount)

    def to_dict(self) -> dict:
        return {
            "descrizione": self.description,
            "quantita": self.quantity,
            "prezzo_unitario": str(euro_cents(self.unit_price)),
            "importo": str(euro_cents(self.amount)),
        }


@dataclass(frozen=True)
class FeeEstimate:
    """The estimate of one job. ``total`` excludes VAT; every text is Italian, ready to show."""

    band: str
    level: str | None
    minutes: int
    urgent: bool
    billed_minutes: int
    lines: tuple[FeeLine, ...]
    total: Decimal
    takeover_hours: int | None
    takeover_text: str
    quote_required: bool
    quote_text: str | None
    notes: tuple[str, ...]

    @property
    def total_text(self) -> str:
        """``'€ 396,00 + IVA'``."""
        return format_eur_vat(self.total)

    @property
    def duration_text(self) -> str:
        """``'3h 10′ (fatturate 4h)'``: the estimated time and the time it is billed as."""
        return f"{format_minutes(self.minutes)} (fatturate {format_minutes(self.billed_minutes)})"

    def to_dict(self) -> dict:
        """Plain JSON-ready data (amounts as strings like ``'396.00'``), keys in Italian."""
        return {
            "fascia": self.band,
            "livello": self.level,
            "minuti": self.minutes,
            "urgente": self.urgent,
            "minuti_fatturati": self.billed_minutes,
            "righe": [line.to_dict() for line in self.lines],
            "totale": str(euro_cents(self.total)),
            "totale_testo": self.total_text,
            "presa_in_carico_ore": self.takeover_hours,
            "presa_in_carico": self.takeover_text,
            "preventivo_richiesto": self.quote_required,
            "preventivo": self.quote_text,
            "note": list(self.notes),
        }


def estimate_fee(band: str, level: str | None, minutes: int, urgent: bool = False) -> FeeEstimate:
    """Estimate the cost of ``minutes`` of work in ``band`` by a ``level`` technician.

    :param band: one of :data:`BANDS`.
    :param level: ``'junior'`` or ``'senior'``; may be ``None`` for :data:`SIMPLE` only.
    :param minutes: estimated duration, a whole number of minutes above zero.
    :param urgent: the 1h urgent take-over of the ordinary band (€ 27 fixed fee).
    :raise RuleInputError: with an Italian sentence naming the accepted values.
    """
    band = choose("fascia", "la fascia", band, BANDS)
    level = _check_level(band, level)
    _check_minutes(minutes)
    _check_urgent(band, urgent)

    if band == PLANNED:
        lines, billed = _planned_lines(level, minutes)
    else:
        lines, billed = _half_hour_lines(band, level, minutes, urgent)
    total = sum((line.amount for line in lines), Decimal("0.00"))
    quote_required = band in QUOTE_BANDS and total > QUOTE_THRESHOLD
    takeover_hours, takeover_text = _takeover(band, urgent)
    return FeeEstimate(
        band=band,
        level=None if band == SIMPLE else level,
        minutes=minutes,
        urgent=urgent,
        billed_minutes=billed,
        lines=tuple(lines),
        total=total,
        takeover_hours=takeover_hours,
        takeover_text=takeover_text,
        quote_required=quote_required,
        quote_text=_quote_text() if quote_required else None,
        notes=(CONSUNTIVO,),
    )


def _check_level(band: str, level: str | None) -> str | None:
    if level is None and band == SIMPLE:
        return None
    if level is None:
        raise RuleInputError(
            "livello",
            f"Indicare il livello del sistemista per questa fascia. Valori ammessi: {', '.join(LEVELS)}.",
            tuple(LEVELS),
        )
    return choose("livello", "il livello", level, LEVELS)


def _check_minutes(minutes: int) -> None:
    # bool is an int subclass: True minutes is a programming slip, not one minute.
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
        raise RuleInputError(
            "minuti", f"La durata stimata deve essere un numero intero di minuti maggiore di zero (ricevuto: {minutes!r})."
        )


def _check_urgent(band: str, urgent: bool) -> None:
    if not isinstance(urgent, bool):
        raise RuleInputError("urgente", f"L’urgenza deve essere sì o no (ricevuto: {urgent!r}).")
    if not urgent or band == ORDINARY:
        return
    why = {
        URGENT: "la fascia straordinaria-urgente comprende già la presa in carico entro 1h e il diritto fisso di urgenza",
        PLANNED: "un intervento pianificato non è urgente: per un intervento urgente di notte o nei festivi scegliere la fascia straordinaria-urgente",
        SIMPLE: "gli interventi semplici in fascia straordinaria costano quanto il ticket ordinario, senza diritto di urgenza",
    }[band]
    raise RuleInputError(
        "urgente",
        f"La presa in carico urgente (entro 1h, diritto fisso di {format_eur_vat(ORDINARY_URGENCY_FEE)}) "
        f"si richiede solo nella fascia ordinaria: {why}.",
    )


def _half_hour_lines(band: str, level: str | None, minutes: int, urgent: bool) -> tuple[list[FeeLine], int]:
    """Bands billed "a tranche di 30′ o frazioni; il minimo fatturabile è quindi di 30′"."""
    blocks = math.ceil(minutes / BLOCK_MINUTES)
    lines = []
    if band == URGENT:
        lines.append(_line("Diritto fisso di urgenza (fascia straordinaria)", 1, NIGHT_URGENCY_FEE))
    elif urgent:
        lines.append(_line("Diritto fisso di urgenza (presa in carico entro 1h)", 1, ORDINARY_URGENCY_FEE))
    if band == SIMPLE:
        rate = SIMPLE_HALF_HOUR_RATE
        unit = "mezz’ora" if blocks == 1 else "mezz’ore"
        what = f"{blocks} {unit} o frazione di assistenza semplice in fascia straordinaria"
    else:
        rate = HALF_HOUR_RATES[band, level]
        where = "in fascia ordinaria" if band == ORDINARY else "in fascia straordinaria urgente"
        what = f"{blocks} tranche da 30′ o frazione di {LEVELS[level]} {where}"
    lines.append(_line(f"{what} × {format_eur(rate)}", blocks, rate))
    return lines, blocks * BLOCK_MINUTES


def _planned_lines(level: str, minutes: int) -> tuple[list[FeeLine], int]:
    """Planned work: the first two hours as a minimum, then every further hour or fraction."""
    lines = [_line(f"{LEVELS[level].capitalize()}, intervento pianificato: prime 2h (minimo fatturabile)", 1, PLANNED_FIRST_TWO_HOURS[level])]
    extra_hours = math.ceil(max(0, minutes - PLANNED_MINIMUM_MINUTES) / 60)
    if extra_hours:
        unit = "ora successiva" if extra_hours == 1 else "ore successive"
        rate = PLANNED_EXTRA_HOUR[level]
        lines.append(_line(f"{extra_hours} {unit} (o frazione) di {LEVELS[level]} × {format_eur(rate)}", extra_hours, rate))
    return lines, PLANNED_MINIMUM_MINUTES + 60 * extra_hours


def _line(description: str, quantity: int, unit_price: Decimal) -> FeeLine:
    return FeeLine(description, quantity, unit_price, unit_price * quantity)


def _takeover(band: str, urgent: bool) -> tuple[int | None, str]:
    if band == URGENT or (band == ORDINARY and urgent):
        return 1, "Presa in carico entro 1h dalla richiesta."
    if band == ORDINARY:
        return 8, "Presa in carico normalmente entro 8h dalla richiesta."
    if band == PLANNED:
        return None, (
            "Date e orari dell’intervento vengono concordati con il cliente: serve un preavviso minimo "
            "di un giorno lavorativo, ma consigliamo di pianificare con almeno una settimana di anticipo."
        )
    return None, (
        "Intervento eseguito dal personale tecnico di turno, senza coinvolgere sistemisti: "
        "il livello del sistemista non incide sul costo."
    )


def _quote_text() -> str:
    limit = format_eur_vat(QUOTE_THRESHOLD)
    return (
        f"Il costo stimato supera {limit}: prima dell’intervento verrà prodotto un preventivo da approvare. "
        f"In caso di non approvazione verranno addebitate solo le attività già svolte, entro {limit}."
    )

