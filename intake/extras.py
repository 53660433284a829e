"""Server-side computed panels ("extras") that a definition can show next to its form.

A definition lists panel names under ``extras:`` (e.g. ``extras: [stima_costi]``); each name
must be registered here by a small function that receives the customer's answers and
returns a :class:`Panel` to display, or ``None`` when the answers are not enough yet.
The panel is shown on the form page after a submission (with or without errors) and on the
summary page. The functions only call pure rules (``intake.rules``) and format the result:
they must not raise for incomplete or odd answers.

Example, once a rule exists::

    @register("stima_costi")
    def cost_estimate(values: Mapping[str, Any]) -> Panel | None:
        if not values.get("fascia"):
            return None
        estimate = fees.estimate(band=values["fascia"], ...)
        return Panel("Stima dei costi", [("Totale stimato", f"€ {estimate.total} + IVA")])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

ExtraFunction = Callable[[Mapping[str, Any]], "Panel | None"]


@dataclass(frozen=True)
class Panel:
    """What a panel shows: a heading, label/value rows and an optional note (all Italian)."""

    title: str
    rows: list[tuple[str, str]] = field(default_factory=list)
    note: str = ""


_REGISTRY: dict[str, ExtraFunction] = {}


def register(name: str) -> Callable[[ExtraFunction], ExtraFunction]:
    """Decorator: make ``function`` available to definitions as ``extras: [name]``."""

    def decorator(function: ExtraFunction) -> ExtraFunction:
        _REGISTRY[name] = function
        return function

    return decorator


def unregister(name: str) -> None:
    """Remove a panel (used by tests that register a throw-away one)."""
    _REGISTRY.pop(name, None)


def names() -> frozenset[str]:
    return frozenset(_REGISTRY)


def compute(extra_names, values: Mapping[str, Any]) -> list[Panel]:
    """The panels of ``extra_names`` for ``values``, skipping those with nothing to show."""
    panels = []
    for name in extra_names:
        panel = _REGISTRY[name](values)
        if panel is not None:
            panels.append(panel)
    return panels
