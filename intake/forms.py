"""The form generator: a :class:`FormDefinition` becomes a Flask-WTF form class.

``build_form(definition)`` returns a :class:`DefinitionForm` subclass with one WTForms field
per defined field, in order, each with its validators (WTForms' own where they exist, ours
from ``intake.validators`` otherwise) and Italian messages that the YAML can override.
The form applies the definition's ``show_if`` conditions itself: a hidden field is neither
validated nor part of the :class:`Submission`.

``init_app(app)`` loads and checks every definition at startup; a broken one stops the app
with the ``file:line: ...`` problems of :mod:`intake.formspec`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, ClassVar

from flask import current_app, request
from flask_wtf import FlaskForm
from wtforms import fields as wtf
from wtforms import widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, StopValidation, ValidationError

from . import extras, store
from .attachments import ACCEPT_ATTRIBUTE, Attachment, chosen_files
from .formspec import Deflection, FieldSpec, FormDefinition, FormDefinitionError, load_definitions
from .validators import Attachments, DateRange, Domain, EmailAddress, EmailList, SpecificSubject, split_list

PLACEHOLDER_CHOICE = "— Scegli —"
VALIDATOR_ORDER = ["specific_subject", "date_range", "range", "length"]
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
TIME_FORMATS = ["%H:%M", "%H.%M"]
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M"]

INVALID_MESSAGES = {
    "date": "Data non valida: usa il formato gg/mm/aaaa (ad esempio 31/12/2025).",
    "time": "Ora non valida: usa il formato hh:mm (ad esempio 14:30).",
    "datetime": "Data e ora non valide: usa il formato gg/mm/aaaa hh:mm.",
    "priority": "La priorità può essere solo «bassa» o «normale».",
    "number": "Scrivi un numero intero, senza decimali né unità di misura (ad esempio 30).",
}


def required_message(spec: FieldSpec) -> str:
    """The default Italian message for a required field left empty."""
    if spec.is_choice:
        return f"Scegli una risposta per «{spec.label}»."
    if spec.type == "checkbox":
        return f"Seleziona la casella «{spec.label}»."
    if spec.type == "files":
        return f"Allega almeno un file in «{spec.label}»."
    if spec.type in ("date", "time", "datetime"):
        return f"Indica «{spec.label}»."
    return f"Compila il campo «{spec.label}»."


def invalid_choice_message(spec: FieldSpec) -> str:
    if spec.type == "priority":
        return INVALID_MESSAGES["priority"]
    return f"Scegli una delle risposte proposte per «{spec.label}»."


def range_message(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return "Scrivi un numero da %(min)s a %(max)s."
    if minimum is not None:
        return "Scrivi un numero non inferiore a %(min)s."
    return "Scrivi un numero non superiore a %(max)s."


def length_message(minimum: int | None, maximum: int | None) -> str:
    if minimum is not None and maximum is not None:
        return "Scrivi da %(min)d a %(max)d caratteri (ora sono %(length)d)."
    if minimum is not None:
        return "Scrivi almeno %(min)d caratteri (ora sono %(length)d)."
    return "Scrivi al massimo %(max)d caratteri (ora sono %(length)d)."


# --- fields ------------------------------------------------------------------------------

class _ChoiceMixin:
    """Leaves an empty answer to the required/optional check, so it gets one clear message."""

    def pre_validate(self, form):
        if self.data in (None, ""):
            return
        super().pre_validate(form)


class ChoiceSelectField(_ChoiceMixin, wtf.SelectField):
    pass


class ChoiceRadioField(_ChoiceMixin, wtf.RadioField):
    pass


class WholeNumberField(wtf.IntegerField):
    """A whole number typed in a text box with the numeric keypad (``type=number`` changes its
    value on a scroll and hides what was typed wrong, so the box is plain text)."""

    widget = widgets.TextInput()


class Required(DataRequired):
    """DataRequired that keeps "not a valid date" when something unreadable was typed.

    DataRequired alone would replace it with "required", which misleads a customer who
    did type a date.
    """

    def __call__(self, form, field):
        if field.process_errors and typed(field):
            raise StopValidation()  # the field already holds its Italian parse error
        super().__call__(form, field)


class FilesRequired:
    """At least one file chosen (browsers send an empty part when none is)."""

    field_flags = {"required": True}

    def __init__(self, message: str):
        self.message = message

    def __call__(self, form, field):
        if not chosen_files(field.data):
            field.errors[:] = []
            raise StopValidation(self.message)


def _validators(spec: FieldSpec) -> list:
    """The WTForms validator chain of a field, required/optional check first."""
    messages = spec.messages
    invalid = messages.get("invalid")
    chain: list = []
    if spec.required:
        message = messages.get("required") or required_message(spec)
        chain.append(FilesRequired(message) if spec.type == "files" else Required(message=message))
    elif spec.type != "files":
        chain.append(Optional())
    if spec.type == "email":
        chain.append(EmailAddress(message=invalid))
    elif spec.type == "emails":
        chain.append(EmailList(max_items=spec.max_items, message=invalid))
    elif spec.type == "domain":
        chain.append(Domain(allow_ip=spec.allow_ip, message=invalid))
    elif spec.type == "files":
        chain.append(Attachments())
    # The most helpful message first: "this subject is generic" says more than "too short".
    for validator in sorted(spec.validators, key=lambda v: VALIDATOR_ORDER.index(v.name)):
        options = validator.options
        if validator.name == "length":
            minimum, maximum = options.get("min"), options.get("max")
            message = validator.message.replace("%", "%%") if validator.message else length_message(minimum, maximum)
            chain.append(Length(min=-1 if minimum is None else minimum, max=-1 if maximum is None else maximum, message=message))
        elif validator.name == "specific_subject":
            chain.append(SpecificSubject(message=validator.message))
        elif validator.name == "date_range":
            chain.append(DateRange(options.get("min_days"), options.get("max_days"), message=validator.message))
        elif validator.name == "range":
            minimum, maximum = options.get("min"), options.get("max")
            message = validator.message.replace("%", "%%") if validator.message else range_message(minimum, maximum)
            chain.append(NumberRange(min=minimum, max=maximum, message=message))
    return chain


def _render_kw(spec: FieldSpec) -> dict[str, Any]:
    """HTML attributes that help the customer type: keyboard, autofill, spelling."""
    kw: dict[str, Any] = {}
    if spec.autocomplete:
        kw["autocomplete"] = spec.autocomplete
    if spec.placeholder:
        kw["placeholder"] = spec.placeholder
    if spec.type in ("email", "emails", "domain"):
        kw.update(autocapitalize="none", spellcheck="false")
    if spec.type == "emails":
        kw["multiple"] = True
    if spec.type == "domain":
        kw["inputmode"] = "url"
        kw.setdefault("autocomplete", "off")
    if spec.type == "textarea":
        kw["rows"] = 5
    if spec.type == "number":
        kw.update(inputmode="numeric", autocomplete=spec.autocomplete or "off", spellcheck="false")
    if spec.type == "files":
        kw.update(multiple=True, accept=ACCEPT_ATTRIBUTE)
    return kw


def make_field(spec: FieldSpec, definition: FormDefinition):
    """The unbound WTForms field for ``spec``."""
    common = dict(
        label=spec.label,
        description=spec.help,
        validators=_validators(spec),
        render_kw=_render_kw(spec),
    )
    invalid = spec.messages.get("invalid")
    choices = [SelectChoice(value=c.value, label=c.label) for c in spec.choices]
    match spec.type:
        case "text" | "domain":
            return wtf.StringField(**common)
        case "textarea":
            return wtf.TextAreaField(**common)
        case "email" | "emails":
            return wtf.EmailField(**common)
        case "select":
            return ChoiceSelectField(
                choices=[SelectChoice(value="", label=PLACEHOLDER_CHOICE), *choices],
                invalid_choice_message=invalid or invalid_choice_message(spec),
                **common,
            )
        case "radio":
            return ChoiceRadioField(choices=choices, invalid_choice_message=invalid or invalid_choice_message(spec), **common)
        case "priority":
            return ChoiceRadioField(
                choices=choices,
                default=definition.priority,
                invalid_choice_message=invalid or invalid_choice_message(spec),
                **common,
            )
        case "checkbox":
            return wtf.BooleanField(**common)
        case "number":
            return WholeNumberField(invalid_value_message=invalid or INVALID_MESSAGES["number"], **common)
        case "date":
            return wtf.DateField(format=DATE_FORMATS, invalid_value_message=invalid or INVALID_MESSAGES["date"], **common)
        case "time":
            return wtf.TimeField(format=TIME_FORMATS, invalid_value_message=invalid or INVALID_MESSAGES["time"], **common)
        case "datetime":
            return wtf.DateTimeLocalField(
                format=DATETIME_FORMATS, invalid_value_message=invalid or INVALID_MESSAGES["datetime"], **common
            )
        case "files":
            return wtf.MultipleFileField(**common)
    raise AssertionError(f"field type {spec.type!r} passed formspec but has no WTForms field")  # pragma: no cover


# --- the validated request -----------------------------------------------------------------

@dataclass(frozen=True)
class Answer:
    """One answer of a valid request: the value as typed/chosen, and as shown to people.

    ``computed`` answers are the panels (the cost estimate, the timeline) as text: they are
    not typed by the customer, but the ticket and its e-mails carry them like the others.
    """

    name: str
    label: str
    value: Any
    display: str
    computed: bool = False


@dataclass
class Submission:
    """A request that passed validation: what the ticket will be made of (issue 6 stores it)."""

    definition: FormDefinition
    answers: list[Answer]
    attachments: list[Attachment] = field(default_factory=list)
    panels: list[extras.Panel] = field(default_factory=list)

    def value(self, name: str, default=None):
        return next((a.value for a in self.answers if a.name == name), default)

    @property
    def subject(self) -> str:
        return self.value("oggetto", "")

    @property
    def email(self) -> str:
        return self.value("email", "")

    @property
    def priority(self) -> str:
        """The chosen priority (``bassa``/``normale``), or the definition's default."""
        names = [f.name for f in self.definition.fields if f.type == "priority"]
        return (self.value(names[0]) if names else None) or self.definition.priority

    @property
    def department(self) -> str:
        return self.definition.department

    def for_ticket(self) -> store.Submission:
        """This request as the store saves and mails it: each answer as people read it
        (``display``: choice labels, Italian dates), the computed panels included."""
        return store.Submission(
            request_type=self.definition.name,
            department=self.department,
            department_name=self.definition.department_label,
            subject=self.subject,
            priority=self.priority,
            customer_email=self.email,
            answers=[store.Answer(a.name, a.label, a.display) for a in self.answers],
            request_title=self.definition.title,
        )


def display_value(spec: FieldSpec, value) -> str:
    """How an answer reads in the summary and in the ticket (Italian formats)."""
    if spec.is_choice:
        return spec.choice_label(value)
    if spec.type == "checkbox":
        return "Sì" if value else "No"
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if spec.type == "emails":
        return ", ".join(split_list(value))
    return str(value).strip()


# --- the form class --------------------------------------------------------------------------

class DefinitionForm(FlaskForm):
    """Base class of every generated form; ``definition`` is set by :func:`build_form`."""

    definition: ClassVar[FormDefinition]
    #: Fields whose only error comes from a provider rule (set by :meth:`validate`).
    rule_refused: frozenset[str] = frozenset()

    class Meta:
        # WTForms' own Italian catalogue for the few messages we do not write ourselves.
        locales = ["it"]

    def values(self) -> dict[str, Any]:
        return {spec.name: self[spec.name].data for spec in self.definition.fields}

    def visible_names(self) -> set[str]:
        return self.definition.visible_names(self.values())

    def validate(self, extra_validators=None) -> bool:
        """Validate the shown fields only; a field hidden by ``show_if`` is neither required nor kept."""
        hidden = {spec.name for spec in self.definition.fields} - self.visible_names()
        success = True
        for name, form_field in self._fields.items():
            if name in hidden:
                form_field.errors = []
                continue
            extra = (extra_validators or {}).get(name, ())
            if not form_field.validate(self, extra):
                success = False
                # One message per field, the first: the customer fixes one thing at a time.
                form_field.errors = form_field.errors[:1]
        # Then the provider's rules on the answers that passed (e.g. the 15-day notice).
        self.rule_refused = frozenset()
        refused = set()
        for name, message in extras.problems(self.definition.extras, self.valid_values()).items():
            if name in self._fields and name not in hidden and not self[name].errors:
                self[name].errors = [message]
                refused.add(name)
                success = False
        self.rule_refused = frozenset(refused)
        return success

    @property
    def preview_requested(self) -> str | None:
        """The extra whose "Calcola" button sent the form (no JavaScript), if one did."""
        name = request.form.get(PREVIEW_BUTTON) if request else None
        return name if name in self.definition.extras else None

    def validate_for_preview(self, extra_names) -> None:
        """Validate only what the panels of ``extra_names`` read, for a preview.

        Errors stay on those fields only, and only where the customer typed or picked
        something: fields not reached yet get no message.
        """
        self.validate()
        keep = {name for extra in extra_names for name in extras.get(extra).input_names}
        for name, form_field in self._fields.items():
            if name not in keep or not typed(form_field):
                form_field.errors = []

    @property
    def csrf_failed(self) -> bool:
        """True when CSRF is on and the token is missing, expired or forged."""
        token = getattr(self, "csrf_token", None)
        if not self.meta.csrf or token is None:
            return False
        try:
            token.pre_validate(self)  # CSRFTokenField checks the signed token here
        except (ValidationError, StopValidation):
            return True
        return False

    def deflection(self) -> Deflection | None:
        """The definition's deflection matching the answers (e.g. a foreign SMTP server), if any."""
        values = self.values()
        visible = self.definition.visible_names(values)
        for deflection in self.definition.deflections:
            if self.definition.condition_holds(deflection.when, values, visible):
                return deflection
        return None

    def files_chosen(self) -> bool:
        """Whether the customer had chosen files (browsers never send them back on an error page)."""
        return any(chosen_files(self[s.name].data) for s in self.definition.fields if s.type == "files")

    def error_list(self) -> list[tuple[str, str, str]]:
        """``(field id, text)`` for the error summary at the top, in form order ("" = no field)."""
        found = [("", message) for message in self.form_errors]
        token = getattr(self, "csrf_token", None)
        if token is not None and token.errors:
            found.append(("", CSRF_MESSAGE))
        for spec in self.definition.fields:
            form_field = self[spec.name]
            for message in form_field.errors:
                target = f"{form_field.id}-0" if spec.type in ("radio", "priority") else form_field.id
                # Most messages name the field already; the others get its label in front.
                text = message if f"«{spec.label}»" in message else f"{spec.label}: {message}"
                found.append((target, text))
        return found

    def valid_values(self) -> dict[str, Any]:
        """Shown fields without errors: what the extras panels may compute from.

        An answer refused only by a rule stays in: the panel explains the refusal (e.g. the
        timeline says why the proposed switch date does not work).
        """
        visible = self.visible_names()
        refused = self.rule_refused
        return {
            spec.name: self[spec.name].data
            for spec in self.definition.fields
            if spec.name in visible
            and (not self[spec.name].errors or spec.name in refused)
            and spec.type != "files"
        }

    def blocked_extras(self) -> set[str]:
        """Extras with an answer refused by its own format (not by a rule): no panel for them,
        since one computed without that answer would mislead (31 minutes when "3x" hours were typed)."""
        return {
            name
            for name in self.definition.extras
            if any(self[f].errors and f not in self.rule_refused for f in extras.get(name).input_names if f in self._fields)
        }

    def panels(self) -> list[extras.Panel]:
        return extras.compute(self.definition.extras, self.valid_values())

    def submission(self) -> Submission:
        """The validated request; call only after :meth:`validate` returned True."""
        visible = self.visible_names()
        answers = []
        attachments: list[Attachment] = []
        for spec in self.definition.fields:
            if spec.name not in visible:
                continue
            form_field = self[spec.name]
            if spec.type == "files":
                attachments.extend(getattr(form_field, "attachments", []))
                continue
            value = form_field.data
            if isinstance(value, str):
                value = value.strip()
            if value in (None, "") and spec.type != "checkbox":
                continue
            answers.append(Answer(spec.name, spec.label, value, display_value(spec, value)))
        panels = self.panels()
        for panel in panels:
            text = panel.text()
            answers.append(Answer(panel.name, panel.title, text, text, computed=True))
        return Submission(self.definition, answers, attachments, panels)


PREVIEW_BUTTON = "calcola"


def typed(form_field) -> bool:
    """Whether the customer typed or picked something in ``form_field``."""
    return any(isinstance(v, str) and v.strip() for v in form_field.raw_data or [])


CSRF_MESSAGE = (
    "Il modulo è scaduto oppure non è stato inviato da questa pagina: controlla i dati "
    "e invialo di nuovo."
)


def build_form(definition: FormDefinition) -> type[DefinitionForm]:
    """A form class for ``definition``: one WTForms field per defined field, in order."""
    attributes: dict[str, Any] = {"definition": definition}
    for spec in definition.fields:
        attributes[spec.name] = make_field(spec, definition)
    class_name = "".join(part.capitalize() for part in definition.name.split("-")) + "Form"
    return type(class_name, (DefinitionForm,), attributes)


# --- the app's registry -------------------------------------------------------------------------

@dataclass(frozen=True)
class RequestType:
    definition: FormDefinition
    form_class: type[DefinitionForm]


def init_app(app) -> None:
    """Load, check and compile every definition of ``FORMS_DIR``; refuse to start if one is broken."""
    definitions = load_definitions(app.config["FORMS_DIR"])
    app.extensions["intake_forms"] = {
        name: RequestType(definition, build_form(definition)) for name, definition in definitions.items()
    }


def request_types() -> dict[str, RequestType]:
    return current_app.extensions["intake_forms"]


def request_type(name: str) -> RequestType | None:
    return request_types().get(name)


__all__ = [
    "Answer",
    "DefinitionForm",
    "FormDefinitionError",
    "RequestType",
    "Submission",
    "build_form",
    "init_app",
    "request_type",
    "request_types",
]
