"""The built-in panels: the provider's rules (``intake.rules``) where customers meet them.

- ``stima_costi`` (form ``extracontrattuale``): the cost estimate of ``estimate_fee`` as the
  customer picks band, level, urgency and duration; warns when a quote will be required.
- ``linea_temporale`` (form ``migrazione``): the dated steps of ``migration_timeline`` from
  day X, whose they are, and the 15-day notice rule on the proposed switch date.
- ``piani_disponibili`` (form ``commerciale``): which support plan fits the server
  (``check_plan``), and the refusal of a plan request that does not.

Each function gets the valid, shown answers (hidden or wrong fields are absent) and only
formats what the rule returns: every figure and sentence comes from ``intake.rules``.
Importing this module registers the panels (``intake.formspec`` does, so definitions can
name them).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from .extras import CHOICE, DATE, NUMBER, Input, Panel, Row, register
from .rules import (
    BANDS,
    LEVELS,
    OPERATING_SYSTEMS,
    PLANS,
    SERVER_TYPES,
    FeeEstimate,
    MigrationTimeline,
    RuleInputError,
    check_plan,
    eligible_plans,
    estimate_fee,
    format_date,
    migration_timeline,
    switch_date_problem,
)
from .rules.fees import SIMPLE

Values = Mapping[str, Any]

# --- stima_costi: the extra-contractual fee estimate ----------------------------------------

URGENT_CHOICE = "urgente"
DURATION_FIELDS = ("durata_ore", "durata_minuti")
# Which form field each input of estimate_fee is about, to show its refusals there.
FEE_FIELDS = {"fascia": "fascia", "livello": "livello", "urgente": "urgenza"}


def estimate_minutes(values: Values) -> int | None:
    """Hours and minutes as typed -> minutes; ``None`` when neither was given."""
    hours, minutes = (values.get(name) for name in DURATION_FIELDS)
    if hours is None and minutes is None:
        return None
    return (hours or 0) * 60 + (minutes or 0)


def _fee_inputs(values: Values) -> tuple[str, str | None, int, bool] | None:
    band = values.get("fascia")
    minutes = estimate_minutes(values)
    level = None if band == SIMPLE else values.get("livello")
    if not band or minutes is None or (band != SIMPLE and not level):
        return None
    return band, level, minutes, values.get("urgenza") == URGENT_CHOICE


def fee_estimate(values: Values) -> FeeEstimate | None:
    """The estimate for the answers, or ``None`` while they are incomplete or refused."""
    inputs = _fee_inputs(values)
    if inputs is None:
        return None
    band, level, minutes, urgent = inputs
    try:
        return estimate_fee(band, level, minutes, urgent)
    except RuleInputError:
        return None  # said next to the field by fee_problems


def fee_problems(values: Values) -> dict[str, str]:
    inputs = _fee_inputs(values)
    if inputs is None:
        return {}
    try:
        estimate_fee(*inputs)
    except RuleInputError as error:
        if error.field == "minuti":
            # Next to the duration box the customer typed into (the minutes, if both).
            name = next((n for n in reversed(DURATION_FIELDS) if values.get(n) is not None), DURATION_FIELDS[-1])
            return {name: "Indica una durata stimata maggiore di zero (ore e/o minuti)."}
        name = FEE_FIELDS.get(error.field)
        return {name: error.message} if name in values else {}
    return {}


@register(
    "stima_costi",
    inputs=[
        Input("fascia", CHOICE, tuple(BANDS)),
        Input("urgenza", CHOICE, ("normale", URGENT_CHOICE)),
        Input("livello", CHOICE, tuple(LEVELS)),
        Input("durata_ore", NUMBER),
        Input("durata_minuti", NUMBER),
    ],
    check=fee_problems,
    hint=(
        "La stima dei costi compare qui quando hai scelto la fascia oraria e il sistemista "
        "e indicato la durata stimata dell’intervento."
    ),
    button="Calcola la stima",
)
def cost_estimate(values: Values) -> Panel | None:
    """The breakdown, the total in Italian format, the take-over time and the quote warning."""
    estimate = fee_estimate(values)
    if estimate is None:
        return None
    rows = [Row(line.description, line.amount_text) for line in estimate.lines]
    rows += [
        Row("Totale stimato", estimate.total_text, strong=True),
        Row("Durata stimata", estimate.duration_text),
        Row("Presa in carico", estimate.takeover_text),
    ]
    return Panel(
        "Stima dei costi",
        rows,
        notes=estimate.notes,
        warning=estimate.quote_text or "",
        data=estimate.to_dict(),
    )


# --- linea_temporale: the migration timeline --------------------------------------------------

UNKNOWN_PLAN = "non_so"
SWITCH_EITHER = "A cura del cliente (assistenza basic) o del nostro personale (assistenza managed o global)"
PLAN_NEEDED = (
    "Indica il piano di assistenza per sapere chi esegue lo switch degli IP: con l’assistenza basic "
    "è a cura del cliente, con managed o global del nostro personale."
)


def _switch_problem(values: Values) -> str | None:
    notice, switch = values.get("data_comunicazione"), values.get("data_switch")
    if isinstance(notice, date) and isinstance(switch, date):
        return switch_date_problem(notice, switch)
    return None


def timeline_problems(values: Values) -> dict[str, str]:
    problem = _switch_problem(values)
    return {"data_switch": problem} if problem else {}


def _capitalised(text: str) -> str:
    """The first letter upper-case, the rest as it is (``str.capitalize`` would lower it)."""
    return text[:1].upper() + text[1:]


def _step_label(step) -> str:
    if step.day is None:
        return _capitalised(step.when_text)
    code = "X" if step.offset == 0 else f"X+{step.offset}"
    return f"{'Entro il giorno' if step.by else 'Giorno'} {code}: {format_date(step.day)}"


@register(
    "linea_temporale",
    inputs=[
        Input("data_comunicazione", DATE),
        Input("piano", CHOICE, (*PLANS, UNKNOWN_PLAN)),
        Input("data_switch", DATE),
    ],
    check=timeline_problems,
    hint=(
        "Le date della migrazione compaiono qui quando hai indicato il giorno della nostra "
        "comunicazione (giorno X)."
    ),
    button="Mostra le date",
)
def timeline(values: Values) -> Panel | None:
    """The dated steps from day X, each marked as the customer's or ours."""
    notice = values.get("data_comunicazione")
    if not isinstance(notice, date):
        return None
    problem = _switch_problem(values)
    switch = None if problem else values.get("data_switch")
    plan = values.get("piano")
    known = plan in PLANS
    result: MigrationTimeline = migration_timeline(notice, plan if known else "basic", switch)
    rows = []
    for step in result.steps:
        tag = SWITCH_EITHER if step.key == "switch" and not known else _capitalised(step.actor_text)
        rows.append(Row(_step_label(step), step.text, tag=tag))
    notes = list(result.notes)
    data = result.to_dict()
    if not known:
        # Only the notes that hold whatever the plan, and what the plan would decide.
        other = migration_timeline(notice, "managed", switch).notes
        notes = [note for note in notes if note in other] + [PLAN_NEEDED]
        data["piano"] = None
    return Panel("Le date della migrazione", rows, notes=notes, warning=problem or "", data=data)


# --- piani_disponibili: which support plan fits the server --------------------------------------


def plan_problems(values: Values) -> dict[str, str]:
    plan, server, system = (values.get(n) for n in ("piano_richiesto", "tipo_server", "sistema_operativo"))
    if not (plan and server and system):
        return {}
    answer = check_plan(plan, server, system)
    return {} if answer.eligible else {"piano_richiesto": answer.reason}


@register(
    "piani_disponibili",
    inputs=[
        Input("tipo_server", CHOICE, tuple(SERVER_TYPES)),
        Input("sistema_operativo", CHOICE, tuple(OPERATING_SYSTEMS)),
        Input("piano_richiesto", CHOICE, tuple(PLANS)),
    ],
    check=plan_problems,
    after="sistema_operativo",
    hint="I piani di assistenza disponibili compaiono qui quando hai indicato il tipo di server e il sistema operativo.",
    button="Mostra i piani disponibili",
)
def available_plans(values: Values) -> Panel | None:
    """Every plan with yes/no and the rule's reason; a warning if the requested one does not fit."""
    server, system = values.get("tipo_server"), values.get("sistema_operativo")
    if not (server and system):
        return None
    answers = [check_plan(plan, server, system) for plan in PLANS]
    fitting = eligible_plans(server, system)
    rows = [Row("Disponibili per questo server", ", ".join(PLANS[p] for p in fitting), strong=True)]
    rows += [Row(_capitalised(PLANS[a.plan]), a.reason, tag="Disponibile" if a.eligible else "Non disponibile") for a in answers]
    requested = values.get("piano_richiesto")
    refused = next((a for a in answers if a.plan == requested and not a.eligible), None)
    return Panel(
        f"Piani di assistenza per un {SERVER_TYPES[server]} con {OPERATING_SYSTEMS[system]}",
        rows,
        warning=refused.reason if refused else "",
        data={"applicabili": fitting, "piani": [a.to_dict() for a in answers]},
    )
