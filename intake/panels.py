"""The panels on the form page: where they sit, and the JSON endpoint that keeps them live.

Each extra a definition names (``intake.extras``) gets a region inside the form, right after
its field (``FormDefinition.extra_places``). The region holds the panel, or a hint of what is
missing, and a "Calcola" button that re-renders the form without JavaScript. With
JavaScript, ``static/forms.js`` asks ``GET /modulo/<tipo>/pannello/<nome>`` for the same
panel as the customer answers and swaps it in: the server computes every figure, the
browser only shows them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, get_template_attribute, jsonify, request, url_for

from . import extras
from .formspec import FieldSpec, FormDefinition
from .forms import request_type, typed

bp = Blueprint("panels", __name__)


@dataclass(frozen=True)
class Region:
    """One panel's place in the form, as the template needs it."""

    extra: extras.Extra
    panel: extras.Panel | None
    anchor: FieldSpec
    sent: tuple[str, ...]
    url: str
    focus: bool = False

    @property
    def name(self) -> str:
        return self.extra.name


def fields_to_send(definition: FormDefinition, extra: extras.Extra) -> tuple[str, ...]:
    """The inputs of ``extra`` plus the questions that show or hide them, in form order.

    The script sends only these (never the description or the e-mail address), and the
    server needs the controllers to apply the same ``show_if`` as on submission.
    """
    wanted = set()
    for name in extra.input_names:
        spec = definition.field(name)
        while spec is not None and spec.name not in wanted:
            wanted.add(spec.name)
            spec = definition.field(spec.show_if.field) if spec.show_if else None
    return tuple(spec.name for spec in definition.fields if spec.name in wanted)


def regions(
    definition: FormDefinition, values: Mapping[str, Any], focus: str | None = None, blocked: set[str] | frozenset[str] = frozenset()
) -> dict[str, list[Region]]:
    """The regions by the field they follow, each with its panel computed from ``values``
    (none for the ``blocked`` extras, whose answers have errors)."""
    placed: dict[str, list[Region]] = {}
    for name, after in definition.extra_places:
        extra = extras.get(name)
        region = Region(
            extra=extra,
            panel=extras.compute_one(name, values) if values and name not in blocked else None,
            anchor=definition.field(after),
            sent=fields_to_send(definition, extra),
            url=url_for("panels.panel", tipo=definition.name, nome=name),
            focus=name == focus,
        )
        placed.setdefault(after, []).append(region)
    return placed


@bp.get("/modulo/<tipo>/pannello/<nome>")
def panel(tipo: str, nome: str):
    """Panel ``nome`` of form ``tipo`` for the answers in the query string, as JSON.

    Nothing is stored: the answers are only the panel's inputs. ``html`` is the region's
    content exactly as the form page renders it; ``dati`` the rule's result; ``errori`` the
    messages for the inputs the customer filled in (format or rule), ``campi`` those inputs.

    :raise 404: unknown request type, or a panel the type does not show.
    """
    item = request_type(tipo)
    if item is None or nome not in item.definition.extras:
        abort(404)
    form = item.form_class(formdata=request.args, meta={"csrf": False})
    form.validate_for_preview([nome])
    extra = extras.get(nome)
    result = None if nome in form.blocked_extras() else extras.compute_one(nome, form.valid_values())
    content = get_template_attribute("forms/macros.html", "panel_content")
    filled = [name for name in extra.input_names if typed(form[name])]
    response = jsonify(
        nome=nome,
        pronto=result is not None,
        html=str(content(result, extra.hint)),
        dati=result.data if result is not None else None,
        errori={name: form[name].errors[0] for name in filled if form[name].errors},
        campi=filled,
    )
    response.headers["Cache-Control"] = "no-store"
    return response
