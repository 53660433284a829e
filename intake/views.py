"""Blueprint "forms": the list of request types, the forms, and the deflection pages."""

from __future__ import annotations

from blinker import Namespace
from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from markupsafe import Markup, escape

from . import form_pages, panels, protection, tickets
from .attachments import ALLOWED_DESCRIPTION, human_size
from .formspec import Condition, Deflection, FormDefinition
from .forms import DefinitionForm, RequestType, request_type, request_types
from .gate import GateError
from .tickets import SearchContext

bp = Blueprint("forms", __name__)
bp.add_app_template_filter(human_size, "filesize")

# Signals for whoever counts outcomes (analytics, issue 6): sent with the app as sender.
_signals = Namespace()
request_deflected = _signals.signal("request-deflected")   # kwargs: definition, deflection
request_validated = _signals.signal("request-validated")   # kwargs: submission


@bp.get("/tipi")
def types():
    """List the request types, one line each, grouped by the department they reach."""
    by_department: dict[str, list[FormDefinition]] = {}
    for item in request_types().values():
        by_department.setdefault(item.definition.department_label, []).append(item.definition)
    return render_template("forms/types.html", by_department=by_department)


@bp.route("/modulo/<tipo>", methods=["GET", "POST"])
def form(tipo: str):
    """Show the form of request type ``tipo``; on POST deflect, refuse with errors, or accept.

    :raise 404: ``tipo`` is not a defined request type.
    """
    item = _request_type_or_404(tipo)
    if protection.honeypot_filled():  # a bot: a neutral answer, nothing read or stored
        return tickets.honeypot_answer(tipo)
    try:  # the search step first (SPEC I4): without its token nothing is read or stored
        search = tickets.check_gate(tipo)
    except GateError as refusal:
        return tickets.refused(refusal, tipo)
    if request.method == "GET":  # the form as first shown: rendered once, filled in per request
        return form_pages.fresh_form_page(item, search)
    form = item.form_class()
    if form.preview_requested:  # "Calcola la stima" without JavaScript: show the panels, keep all
        form.validate_for_preview(item.definition.extras)
        return render_form(item, form, preview=form.preview_requested, search=search)
    if form.csrf_failed:
        form.validate()  # show every other problem at once as well
        return render_form(item, form, status=400, search=search)
    deflection = form.deflection()
    if deflection is not None:
        return deflect(item.definition, deflection, search.token)
    if form.validate():
        return handle_valid_submission(item, form, search)
    return render_form(item, form, status=422, search=search)


@bp.get("/deflessione/<tipo>/<motivo>")
def deflection(tipo: str, motivo: str):
    """Tell the customer whom to contact instead of opening a ticket (e.g. their SMTP provider).

    :raise 404: unknown request type or reason.
    """
    item = _request_type_or_404(tipo)
    found = next((d for d in item.definition.deflections if d.reason == motivo), None)
    if found is None:
        abort(404)
    return render_template("forms/deflection.html", definition=item.definition, deflection=found)


def deflect(definition: FormDefinition, deflection: Deflection, token: str | None = None):
    """The answers say a ticket is not the way (a deflection): send the customer to its page
    (with the search token, so its way back to the form still works)."""
    request_deflected.send(current_app._get_current_object(), definition=definition, deflection=deflection)
    return redirect(url_for(".deflection", tipo=definition.name, motivo=deflection.reason, token=token), code=303)


def handle_valid_submission(item: RequestType, form: DefinitionForm, search: SearchContext):
    """A valid request after a valid search: store the ticket (and its e-mails), then show
    its confirmation (Post/Redirect/Get, so reloading never submits twice)."""
    submission = form.submission()
    request_validated.send(current_app._get_current_object(), submission=submission)
    try:
        ticket = tickets.store_ticket(submission, search.claims)
    except tickets.UndeliverableAddress as problem:
        form["email"].errors.append(problem.message)
        return render_form(item, form, status=422, search=search)
    except tickets.AlreadySubmitted as refusal:  # the same form sent twice at once
        return tickets.refused(refusal, item.definition.name)
    return redirect(url_for("tickets.confirmation", ticket_id=ticket.id), code=303)


def render_form(
    item: RequestType,
    form: DefinitionForm,
    status: int = 200,
    *,
    lost_values: bool = False,
    preview: str | None = None,
    search: SearchContext | None = None,
):
    """The form page; after a POST also the error summary and the computed panels.

    A ``preview`` (the panel whose button was pressed) shows no error summary: only the
    panel, with the focus on it, and the errors of the answers it reads. ``search`` is the
    search the form comes from: its token goes back with the form.
    """
    submitted = request.method == "POST"
    values = form.valid_values() if submitted and not lost_values else {}
    return (
        render_template(
            "forms/form.html",
            definition=item.definition,
            form=form,
            errors=[] if preview else form.error_list(),
            files_lost=submitted and form.files_chosen(),
            regions=panels.regions(item.definition, values, focus=preview, blocked=form.blocked_extras()),
            lost_values=lost_values,
            limits=attachment_limits(),
            search=search,
        ),
        status,
    )


def attachment_limits() -> dict:
    config = current_app.config
    return {
        "max_bytes": config["ATTACHMENT_MAX_BYTES"],
        "max_total": config["ATTACHMENTS_MAX_TOTAL_BYTES"],
        "max_count": config["ATTACHMENTS_MAX_COUNT"],
        "max_size": human_size(config["ATTACHMENT_MAX_BYTES"]),
        "total_size": human_size(config["ATTACHMENTS_MAX_TOTAL_BYTES"]),
        "allowed": ALLOWED_DESCRIPTION,
    }


def _request_type_or_404(tipo: str) -> RequestType:
    item = request_type(tipo)
    if item is None:
        abort(404)
    return item


@bp.app_template_filter("paragraphs")
def paragraphs(text: str) -> Markup:
    """Text with blank-line-separated paragraphs -> escaped ``<p>`` elements."""
    parts = [" ".join(p.split()) for p in (text or "").split("\n\n") if p.strip()]
    return Markup("\n").join(Markup("<p>%s</p>") % escape(p) for p in parts)


@bp.app_template_global()
def condition_text(definition: FormDefinition, condition: Condition) -> str:
    """``show_if`` in words, for customers without JavaScript (who see every field)."""
    controller = definition.field(condition.field)
    answers = " o ".join(f"«{controller.choice_label(v)}»" for v in condition.values)
    return f"Solo se a «{controller.label}» hai risposto {answers}."
