"""``kb preventivo``: the fee estimate for support staff answering "quanto costa?".

Registered on the ``kb`` command group through the ``kb.commands`` entry point, so
``kb_build`` never imports the intake. Rule errors become click errors only here.
"""

from __future__ import annotations

import json

import click

from .errors import RuleInputError
from .fees import BANDS, LEVELS, QUOTE_BANDS, QUOTE_THRESHOLD, SIMPLE, FeeEstimate, estimate_fee
from .italian import format_eur_vat



class Minutes(click.ParamType):
    """A whole number of minutes; ``3h`` or ``1:30`` get a hint instead of a bare "not an integer"."""

    name = "minutes"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        try:
            return int(value)
        except ValueError:
            self.fail(f"{value!r} non è un numero intero di minuti (per 3h 10′ scrivere 190).", param, ctx)


# Which option each rule input comes from, to point the error at it.
OPTION_OF_FIELD = {"fascia": "--fascia", "livello": "--livello", "minuti": "--minuti", "urgente": "--urgente"}


@click.command()
@click.option("--fascia", "band", required=True, type=click.Choice(list(BANDS)),
              help="Time band: ordinaria = Mon-Fri 9:00-18:00; straordinaria-* = nights and holidays.")
@click.option("--livello", "level", type=click.Choice(list(LEVELS)),
              help="Technician level (not needed for straordinaria-semplice, where it does not change the price).")
@click.option("--minuti", "minutes", required=True, type=Minutes(), metavar="N",
              help="Estimated duration in minutes, e.g. 190 for 3h 10′.")
@click.option("--urgente", "urgent", is_flag=True,
              help="Urgent take-over within 1h in the ordinary band (fixed fee € 27,00 + IVA).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.pass_context
def preventivo(ctx, band, level, minutes, urgent, as_json):
    """Estimate the cost of extra-contractual work (prices exclude VAT).

    Prints the total, its breakdown, the take-over time and whether the customer must
    approve a quote first (estimates above € 250,00 + IVA in the ordinary and planned bands).
    """
    if level is None and band != SIMPLE:
        param = next(p for p in ctx.command.params if p.name == "level")
        raise click.MissingParameter(ctx=ctx, param=param)
    try:
        estimate = estimate_fee(band, level, minutes, urgent)
    except RuleInputError as exc:
        raise click.BadParameter(exc.message, ctx=ctx, param_hint=f"'{OPTION_OF_FIELD[exc.field]}'") from exc
    if as_json:
        click.echo(json.dumps(estimate.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(render_text(estimate))


def render_text(estimate: FeeEstimate) -> str:
    """The estimate as plain Italian text, to read out or paste into a ticket reply."""
    rows = [(line.description, line.amount_text) for line in estimate.lines]
    rows.append(("Totale", estimate.total_text))
    width = max(len(label) for label, _ in rows)
    out = [
        f"Fascia: {BANDS[estimate.band]}",
        f"Livello: {LEVELS[estimate.level] if estimate.level else 'non rilevante'}",
        f"Durata stimata: {estimate.duration_text}",
        "",
    ]
    out += [f"  {label.ljust(width)}  {amount}" for label, amount in rows]
    out += ["", estimate.takeover_text, _quote_sentence(estimate), *estimate.notes]
    return "\n".join(out)


def _quote_sentence(estimate: FeeEstimate) -> str:
    if estimate.quote_required:
        return "Preventivo da approvare: sì. " + estimate.quote_text
    if estimate.band in QUOTE_BANDS:
        return f"Preventivo da approvare: no (il costo stimato non supera {format_eur_vat(QUOTE_THRESHOLD)})."
    return "Preventivo da approvare: no (per questa fascia l’intervento è addebitato a consuntivo)."
