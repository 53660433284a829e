"""Server-side computed panels ("extras") that a definition can show inside its form.

A definition lists panel names under ``extras:`` (e.g. ``extras: [stima_costi]``); each name
must be registered here by a small function that receives the customer's valid answers and
returns a :class:`Panel` to display, or ``None`` when the answers are not enough yet. The
built-in panels (``intake.rule_panels``) only call the pure rules of ``intake.rules`` and
format the result: they must not raise for incomplete or odd answers.

An extra also declares the fields it reads (:class:`Input`): a definition naming the extra
must have them, with a fitting type and choice values the rule accepts, or the app does not
start. It may declare a ``check`` that turns answers the rule refuses into an Italian
message next to the field (e.g. a switch date with less than 15 days of notice); the form
applies it like any other validator.

Example::

    @register("stima_costi", inputs=[Input("fascia", CHOICE, tuple(BANDS))], hint="...")
    def cost_estimate(values: Mapping[str, Any]) -> Panel | None:
        if not values.get("fascia"):
            return None
        ...
        return Panel("Stima dei costi", [("Totale stimato", "€ 54,00 + IVA")])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

ExtraFunction = Callable[[Mapping[str, Any]], "Panel | None"]
CheckFunction = Callable[[Mapping[str, Any]], dict[str, str]]

#: Field types an input may have, by kind of value the extra expects.
CHOICE = frozenset({"radio", "select"})
DATE = frozenset({"date"})
NUMBER = frozenset({"number"})


@dataclass(frozen=True)
class Row:
    """One line of a panel. ``tag`` is a short label shown beside it (e.g. who does a step);
    ``strong`` marks the line that matters most (the total)."""

    label: str
    value: str
    tag: str = ""
    strong: bool = False


@dataclass(frozen=True)
class Panel:
    """What a panel shows, all Italian: a heading, rows, a warning to read before sending,
    notes, and the rule's own result as JSON-ready ``data`` (for the JSON endpoint and the ticket)."""

    title: str
    rows: Sequence[Row | tuple[str, str]] = ()
    notes: Sequence[str] = ()
    warning: str = ""
    data: Mapping[str, Any] | None = None
    name: str = ""

    def __post_init__(self):
        # Rows may be written as (label, value) pairs; notes as one text.
        rows = tuple(r if isinstance(r, Row) else Row(*r) for r in self.rows)
        notes = (self.notes,) if isinstance(self.notes, str) else tuple(self.notes)
        object.__setattr__(self, "rows", rows)
        object.__setattr__(self, "notes", tuple(n for n in notes if n))

    def text(self) -> str:
        """The panel as plain text, for the ticket and its e-mails."""
        lines = []
        for row in self.rows:
            tag = f" [{row.tag}]" if row.tag else ""
            lines.append(f"{row.label}: {row.value}{tag}")
        if self.warning:
            lines.append(f"ATTENZIONE: {self.warning}")
        lines.extend(f"Nota: {note}" for note in self.notes)
        return "\n".join(lines)


@dataclass(frozen=True)
class Input:
    """A field an extra reads: the definition must have a field ``name`` of one of ``types``;
    for choice fields, every choice value must be one of ``values`` (the values the rule knows)."""

    name: str
    types: frozenset[str]
    values: tuple[str, ...] = ()

    def describe(self) -> str:
        kinds = " or ".join(sorted(self.types))
        if self.values:
            return f"a {kinds} field with choices among: {', '.join(self.values)}"
        return f"a {kinds} field"


@dataclass(frozen=True)
class Extra:
    """A registered panel: how to compute it, what it reads, what it refuses, how it reads."""

    name: str
    compute: ExtraFunction
    inputs: tuple[Input, ...] = ()
    check: CheckFunction | None = None
    after: str | None = None
    hint: str = ""
    button: str = "Aggiorna"

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.inputs)


_REGISTRY: dict[str, Extra] = {}


def register(
    name: str,
    *,
    inputs: Sequence[Input] = (),
    check: CheckFunction | None = None,
    after: str | None = None,
    hint: str = "",
    button: str = "Aggiorna",
) -> Callable[[ExtraFunction], ExtraFunction]:
    """Decorator: make ``function`` available to definitions as ``extras: [name]``.

    :param inputs: the fields the panel reads (checked against every definition naming it).
    :param check: ``values -> {field name: Italian message}`` for answers the rule refuses.
    :param after: the field the panel is shown after, unless the definition says otherwise
        (default: the last input in the form, or the end of the form).
    :param hint: what the panel says before the answers are enough (e.g. what is missing).
    :param button: label of the button that computes the panel without JavaScript.
    """

    def decorator(function: ExtraFunction) -> ExtraFunction:
        _REGISTRY[name] = Extra(name, function, tuple(inputs), check, after, hint, button)
        return function

    return decorator


def unregister(name: str) -> None:
    """Remove a panel (used by tests that register a throw-away one)."""
    _REGISTRY.pop(name, None)


def names() -> frozenset[str]:
    return frozenset(_REGISTRY)


def get(name: str) -> Extra:
    return _REGISTRY[name]


def compute_one(name: str, values: Mapping[str, Any]) -> Panel | None:
    """The panel ``name`` for ``values``, or ``None`` when there is nothing to show yet."""
    panel = _REGISTRY[name].compute(values)
    return replace(panel, name=name) if panel is not None else None


def compute(extra_names, values: Mapping[str, Any]) -> list[Panel]:
    """The panels of ``extra_names`` for ``values``, skipping those with nothing to show."""
    return [panel for name in extra_names if (panel := compute_one(name, values)) is not None]


def problems(extra_names, values: Mapping[str, Any]) -> dict[str, str]:
    """``{field: message}`` for the answers that the extras' rules refuse (first message wins)."""
    found: dict[str, str] = {}
    for name in extra_names:
        check = _REGISTRY[name].check
        if check is None:
            continue
        for field_name, message in check(values).items():
            found.setdefault(field_name, message)
    return found


__all__ = ["CHOICE", "DATE", "NUMBER", "Extra", "Input", "Panel", "Row", "compute", "get", "names", "problems", "register"]
