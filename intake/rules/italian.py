"""Italian formatting of money, dates and durations, independent of the system locale.

The machine running the intake may have no Italian locale (containers often only have
C.UTF-8), and ``locale.setlocale`` is process-wide anyway, so the few names we need are
spelled out here.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
WEEKDAYS = ("lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica")
MONTHS = (
    "gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno",
    "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre",
)


def euro_cents(amount: Decimal) -> Decimal:
    """Round to the cent the way invoices do (half up): ``Decimal('54') -> Decimal('54.00')``."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def format_eur(amount: Decimal) -> str:
    """``Decimal('1234.5')`` -> ``'€ 1.234,50'`` (dot for thousands, comma for decimals)."""
    english = f"{euro_cents(amount):,.2f}"  # '1,234.50'
    return "€ " + english.replace(",", "_").replace(".", ",").replace("_", ".")


def format_eur_vat(amount: Decimal) -> str:
    """``Decimal('396')`` -> ``'€ 396,00 + IVA'``: every price in the tariff excludes VAT."""
    return f"{format_eur(amount)} + IVA"


def format_date(day: date) -> str:
    """``date(2026, 12, 7)`` -> ``'lunedì 7 dicembre 2026'``."""
    return f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]} {day.year}"


def format_minutes(minutes: int) -> str:
    """``190`` -> ``'3h 10′'``, ``45`` -> ``'45′'``, ``120`` -> ``'2h'`` (the seed's own notation)."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest}′"
    return f"{hours}h {rest}′" if rest else f"{hours}h"
