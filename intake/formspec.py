"""Request-type definitions: ``intake/forms/<name>.yaml`` read and checked into plain dataclasses.

A definition is data written by support staff (see ``intake/forms/README.md``), so every
problem is reported as ``file:line: field 'x': what is wrong (allowed: ...)`` and all
problems of all files are collected before giving up: a writer fixes them in one pass.
This module knows nothing of Flask or WTForms; ``intake.forms`` turns a definition into a form.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import extras as extras_registry
from . import rule_panels  # noqa: F401 - registers the built-in panels that definitions may name

DEPARTMENTS = {
    "helpdesk": "Assistenza Tecnica",
    "sales": "Informazioni Commerciali ed amministrative",
}
PRIORITIES = {"bassa": "Bassa", "normale": "Normale"}

# Field types and what each one is for; the generator (intake.forms) implements every one.
FIELD_TYPES = {
    "text": "one line of text",
    "textarea": "several lines of text",
    "email": "one e-mail address",
    "emails": "one or more e-mail addresses, separated by commas",
    "domain": "one domain name (IDN allowed), e.g. example.it",
    "select": "one choice from a drop-down list (needs choices)",
    "radio": "one choice among radio buttons (needs choices)",
    "checkbox": "a single yes/no box",
    "date": "a date",
    "time": "a time of day",
    "datetime": "a date and a time",
    "number": "a whole number, e.g. hours or minutes (range with the range validator)",
    "priority": "the ticket priority, bassa or normale (choices are fixed)",
    "files": "attachments (size and type limits apply)",
}
CHOICE_TYPES = {"select", "radio"}
TEXT_TYPES = {"text", "textarea", "email", "emails", "domain"}

# Validators a definition may name, the field types they apply to and their options.
VALIDATORS = {
    "length": (TEXT_TYPES, {"min", "max", "message"}),
    "specific_subject": ({"text"}, {"message"}),
    "date_range": ({"date", "datetime"}, {"min_days", "max_days", "message"}),
    "range": ({"number"}, {"min", "max", "message"}),
}

# Keys that only some field types accept.
TYPE_KEYS = {
    "choices": CHOICE_TYPES,
    "allow_ip": {"domain"},
    "max_items": {"emails"},
}
FIELD_KEYS = {
    "name", "type", "label", "help", "required", "choices", "validators", "show_if",
    "messages", "autocomplete", "placeholder", "allow_ip", "max_items",
}
MESSAGE_KEYS = {"required", "invalid"}
# HTML autocomplete tokens that make sense on a support form.
AUTOCOMPLETE_TOKENS = {"off", "on", "name", "email", "organization", "tel", "url", "username"}
TOP_KEYS = {
    "title", "summary", "intro", "department", "priority", "order", "suggest",
    "sections", "deflections", "extras",
}
REQUIRED_TOP_KEYS = ("title", "summary", "department", "priority", "sections")
SECTION_KEYS = {"legend", "help", "fields"}
SUGGEST_KEYS = {"categories", "tags"}
DEFLECTION_KEYS = {"reason", "when", "title", "message"}
CONDITION_KEYS = {"field", "equals"}
EXTRA_KEYS = {"name", "after"}

# Fields every request type must have, because a ticket cannot exist without them:
# the address replies go to, and the subject that routes the ticket.
CONTRACT_FIELDS = {
    "email": ("email", "the customer's reference address, where replies to the ticket go"),
    "oggetto": ("text", "the ticket subject, checked by the specific_subject validator"),
}

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
FORM_NAME_RE = re.compile(r"^[a-z][a-z0-9-]*$")
REASON_RE = re.compile(r"^[a-z][a-z0-9-]*$")
# "calcola" is the name of the buttons that compute a panel without JavaScript; "token"
# carries the search step's token (intake.tickets).
RESERVED_NAMES = {"csrf_token", "submit", "tipo", "articolo", "calcola", "token"}
SUMMARY_MAX = 160


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class Condition:
    """``show_if`` / ``when``: true when field ``field`` holds one of ``values``."""

    field: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class ValidatorSpec:
    name: str
    options: dict[str, Any]
    message: str | None = None


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    label: str
    help: str = ""
    required: bool = False
    choices: tuple[Choice, ...] = ()
    validators: tuple[ValidatorSpec, ...] = ()
    show_if: Condition | None = None
    messages: dict[str, str] = field(default_factory=dict)
    autocomplete: str | None = None
    placeholder: str | None = None
    allow_ip: bool = False
    max_items: int = 20
    line: int = 0
    show_if_line: int = field(default=0, compare=False, repr=False)

    @property
    def is_choice(self) -> bool:
        """Select, radio or priority: the answer is one of ``choices``."""
        return self.type in CHOICE_TYPES or self.type == "priority"

    def choice_label(self, value) -> str:
        for choice in self.choices:
            if choice.value == value:
                return choice.label
        return str(value)

    def validator(self, name: str) -> ValidatorSpec | None:
        return next((v for v in self.validators if v.name == name), None)


@dataclass(frozen=True)
class Section:
    legend: str
    help: str
    fields: tuple[FieldSpec, ...]


@dataclass(frozen=True)
class Deflection:
    """An answer that means the customer needs someone else, not a ticket (e.g. a foreign SMTP server)."""

    reason: str
    when: Condition
    title: str
    message: str


@dataclass(frozen=True)
class FormDefinition:
    name: str
    title: str
    summary: str
    intro: str
    department: str
    priority: str
    sections: tuple[Section, ...]
    order: int = 100
    suggest_categories: tuple[str, ...] = ()
    suggest_tags: tuple[str, ...] = ()
    deflections: tuple[Deflection, ...] = ()
    extras: tuple[str, ...] = ()
    # (extra name, field it is shown after), one per extra, in the order of ``extras``.
    extra_places: tuple[tuple[str, str], ...] = ()
    source: str = ""

    @property
    def fields(self) -> tuple[FieldSpec, ...]:
        return tuple(f for s in self.sections for f in s.fields)

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def department_label(self) -> str:
        return DEPARTMENTS[self.department]

    def visible_names(self, values) -> set[str]:
        """Names of the fields shown for ``values`` (a mapping name -> submitted value).

        A field whose ``show_if`` is false is hidden, and so is every field that depends on a
        hidden one: the server applies exactly the conditions the browser script applies.
        """
        visible: set[str] = set()
        for spec in self.fields:  # controllers always come first (checked at load time)
            if spec.show_if is None or self.condition_holds(spec.show_if, values, visible):
                visible.add(spec.name)
        return visible

    @staticmethod
    def condition_holds(condition: Condition, values, visible: set[str]) -> bool:
        return condition.field in visible and str(values.get(condition.field) or "") in condition.values


class FormDefinitionError(Exception):
    """One or more definitions are broken; ``problems`` holds one ``file:line: ...`` line each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


# --- YAML with line numbers -------------------------------------------------------------

class _Mapping(dict):
    """A YAML mapping that remembers its own line and the line of each key."""

    line = 0
    key_lines: dict
    duplicates: list


# The C parser when PyYAML has it (about 10x faster at startup); both keep line numbers.
class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode):
    data = _Mapping()
    data.line = node.start_mark.line + 1
    data.key_lines = {}
    data.duplicates = []
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int, float, bool)) and key is not None:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping", node.start_mark, "found a key that is not plain text", key_node.start_mark
            )
        if key in data:
            data.duplicates.append((key, key_node.start_mark.line + 1))
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines[key] = key_node.start_mark.line + 1


_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


def display_path(path: Path) -> str:
    """The path as a writer would type it: relative to the current folder when inside it."""
    absolute = Path(os.path.abspath(path))
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


# --- checking one definition --------------------------------------------------------------

class _Checker:
    """Collects the problems of one file; each ``problem()`` names the file and line."""

    def __init__(self, path: Path):
        self.where = display_path(path)
        self.problems: list[str] = []

    def problem(self, line: int, text: str, field_name: str | None = None):
        prefix = f"{self.where}:{line}: " if line else f"{self.where}: "
        if field_name:
            prefix += f"field '{field_name}': "
        self.problems.append(prefix + text)

    def line_of(self, mapping, key) -> int:
        if isinstance(mapping, _Mapping):
            return mapping.key_lines.get(key, mapping.line)
        return 0

    def unknown_keys(self, mapping, allowed: set[str], what: str, field_name: str | None = None):
        for key in mapping:
            if key not in allowed:
                self.problem(
                    self.line_of(mapping, key),
                    f"unknown key '{key}' in {what} (allowed: {', '.join(sorted(allowed))})",
                    field_name,
                )
        for key, line in getattr(mapping, "duplicates", []):
            self.problem(line, f"key '{key}' appears twice in {what}: keep only one", field_name)

    def text(self, mapping, key, what: str, *, required: bool, field_name: str | None = None) -> str:
        value = mapping.get(key)
        if value is None:
            if required:
                self.problem(mapping.line, f"missing '{key}': add the {what}", field_name)
            return ""
        if not isinstance(value, str) or not value.strip():
            self.problem(self.line_of(mapping, key), f"'{key}' must be a text (the {what}), not {value!r}", field_name)
            return ""
        return value.strip()


def load_definition(path: Path) -> FormDefinition:
    """Read and check one definition file; raise FormDefinitionError listing every problem."""
    definition, problems = _load(path)
    if problems:
        raise FormDefinitionError(problems)
    return definition


def load_definitions(forms_dir: Path) -> dict[str, FormDefinition]:
    """Every ``*.yaml`` of ``forms_dir`` by name, sorted for the request-type list.

    Raises FormDefinitionError with the problems of all files at once.
    """
    forms_dir = Path(forms_dir)
    if not forms_dir.is_dir():
        raise FormDefinitionError(
            [f"{display_path(forms_dir)}: the form definitions folder does not exist; set FORMS_DIR to the folder of the *.yaml files"]
        )
    problems: list[str] = []
    found: dict[str, FormDefinition] = {}
    for path in sorted(forms_dir.glob("*.yaml")):
        definition, file_problems = _load(path)
        problems.extend(file_problems)
        if definition is not None and not file_problems:
            found[definition.name] = definition
    if not problems and not found:
        problems.append(f"{display_path(forms_dir)}: no request type defined: add at least one <name>.yaml (see README.md there)")
    if problems:
        raise FormDefinitionError(problems)
    return dict(sorted(found.items(), key=lambda item: (item[1].order, item[1].title)))


def _load(path: Path) -> tuple[FormDefinition | None, list[str]]:
    check = _Checker(path)
    name = path.stem
    if not FORM_NAME_RE.match(name):
        check.problem(0, f"the file name '{path.name}' must be lowercase letters, digits and '-' (it becomes the address /modulo/<name>)")
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        check.problem(line, f"YAML syntax error: {exc.problem or exc}; check indentation, colons and quotes")
        return None, check.problems
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        check.problem(0, f"cannot read the definition: {exc}")
        return None, check.problems
    if not isinstance(raw, _Mapping):
        check.problem(1, "a definition must be a set of 'key: value' lines (title, summary, department, priority, sections, ...)")
        return None, check.problems
    definition = _definition(name, raw, check, path)
    return definition, check.problems


def _definition(name: str, raw: _Mapping, check: _Checker, path: Path) -> FormDefinition | None:
    check.unknown_keys(raw, TOP_KEYS, "the definition")
    for key in REQUIRED_TOP_KEYS:
        if key not in raw:
            check.problem(raw.line, f"missing '{key}' (every definition needs: {', '.join(REQUIRED_TOP_KEYS)})")
    title = check.text(raw, "title", "title shown to the customer", required=False)
    summary = check.text(raw, "summary", "one-line description on the request-type list", required=False)
    if len(summary) > SUMMARY_MAX:
        check.problem(check.line_of(raw, "summary"), f"'summary' is {len(summary)} characters long: keep it within {SUMMARY_MAX}")
    intro = check.text(raw, "intro", "introduction", required=False)

    department = raw.get("department")
    if "department" in raw and department not in DEPARTMENTS:
        check.problem(
            check.line_of(raw, "department"),
            f"unknown department {department!r} (allowed: {', '.join(DEPARTMENTS)})",
        )
    priority = raw.get("priority")
    if "priority" in raw and priority not in PRIORITIES:
        check.problem(
            check.line_of(raw, "priority"),
            f"unknown priority {priority!r} (allowed: {', '.join(PRIORITIES)})",
        )
    order = raw.get("order", 100)
    if not isinstance(order, int) or isinstance(order, bool):
        check.problem(check.line_of(raw, "order"), f"'order' must be a whole number, not {order!r}")
        order = 100

    categories, tags = _suggest(raw.get("suggest"), raw, check)
    sections = _sections(raw.get("sections"), raw, check)
    fields = [f for s in sections for f in s.fields]
    by_name = _check_names(fields, check)
    _check_conditions(fields, by_name, check)
    _check_contract(fields, by_name, raw, check)
    deflections = _deflections(raw.get("deflections"), raw, by_name, fields, check)
    extras, extra_places = _extras(raw.get("extras"), raw, by_name, fields, check)

    if check.problems:
        return None
    return FormDefinition(
        name=name,
        title=title,
        summary=summary,
        intro=intro,
        department=department,
        priority=priority,
        sections=tuple(sections),
        order=order,
        suggest_categories=categories,
        suggest_tags=tags,
        deflections=deflections,
        extras=extras,
        extra_places=extra_places,
        source=str(path),
    )


def _string_list(value, mapping, key, check: _Checker, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        check.problem(check.line_of(mapping, key), f"'{key}' must be a list of {what}, e.g. [email, smtp]")
        return ()
    return tuple(v.strip() for v in value)


def _suggest(value, raw, check: _Checker) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if value is None:
        return (), ()
    if not isinstance(value, _Mapping):
        check.problem(check.line_of(raw, "suggest"), "'suggest' must hold 'categories' and/or 'tags' lists")
        return (), ()
    check.unknown_keys(value, SUGGEST_KEYS, "suggest")
    return (
        _string_list(value.get("categories"), value, "categories", check, "KB categories"),
        _string_list(value.get("tags"), value, "tags", check, "KB tags"),
    )


def _sections(value, raw, check: _Checker) -> list[Section]:
    if value is None:
        return []
    if not isinstance(value, list) or not value:
        check.problem(check.line_of(raw, "sections"), "'sections' must be a list of sections, each with a 'legend' and 'fields'")
        return []
    sections = []
    for item in value:
        if not isinstance(item, _Mapping):
            check.problem(check.line_of(raw, "sections"), f"each section must be a mapping with 'legend' and 'fields', not {item!r}")
            continue
        check.unknown_keys(item, SECTION_KEYS, "a section")
        legend = check.text(item, "legend", "section heading", required=True)
        help_text = check.text(item, "help", "section help text", required=False)
        fields_raw = item.get("fields")
        if not isinstance(fields_raw, list) or not fields_raw:
            check.problem(item.line, "a section needs 'fields': a list of at least one field")
            continue
        fields = [f for f in (_field(entry, item, check) for entry in fields_raw) if f is not None]
        sections.append(Section(legend=legend, help=help_text, fields=tuple(fields)))
    return sections


def _field(raw, section, check: _Checker) -> FieldSpec | None:
    if not isinstance(raw, _Mapping):
        check.problem(check.line_of(section, "fields"), f"each field must be a mapping (name, type, label, ...), not {raw!r}")
        return None
    name = raw.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        check.problem(
            raw.line,
            f"field name {name!r} must be lowercase letters, digits and '_', starting with a letter (e.g. server_smtp)",
        )
        return None
    if name in RESERVED_NAMES:
        check.problem(raw.line, f"'{name}' is reserved: choose another name (reserved: {', '.join(sorted(RESERVED_NAMES))})", name)
        return None
    ok = True
    check.unknown_keys(raw, FIELD_KEYS, "a field", name)
    ftype = raw.get("type")
    if ftype not in FIELD_TYPES:
        check.problem(
            check.line_of(raw, "type"),
            f"unknown field type {ftype!r} (allowed: {', '.join(FIELD_TYPES)})",
            name,
        )
        return None
    for key, types in TYPE_KEYS.items():
        if key in raw and ftype not in types:
            check.problem(check.line_of(raw, key), f"'{key}' applies only to fields of type {', '.join(sorted(types))} (this field is '{ftype}')", name)
            ok = False
    label = check.text(raw, "label", "label shown next to the field", required=True, field_name=name)
    help_text = check.text(raw, "help", "help text", required=False, field_name=name)
    required = raw.get("required", False)
    if not isinstance(required, bool):
        check.problem(check.line_of(raw, "required"), f"'required' must be true or false, not {required!r}", name)
        ok = False

    choices = _choices(raw, ftype, check, name)
    validators = _validators(raw, ftype, check, name)
    show_if = _condition(raw.get("show_if"), raw, "show_if", check, name) if "show_if" in raw else None
    messages = raw.get("messages") or {}
    if not isinstance(messages, dict):
        check.problem(check.line_of(raw, "messages"), "'messages' must map 'required'/'invalid' to a text", name)
        messages = {}
    else:
        check.unknown_keys(messages, MESSAGE_KEYS, "messages", name)
        if not all(isinstance(v, str) and v.strip() for v in messages.values()):
            check.problem(check.line_of(raw, "messages"), "each message must be a text", name)
    autocomplete = raw.get("autocomplete")
    if autocomplete is not None and autocomplete not in AUTOCOMPLETE_TOKENS:
        check.problem(
            check.line_of(raw, "autocomplete"),
            f"unknown autocomplete {autocomplete!r} (allowed: {', '.join(sorted(AUTOCOMPLETE_TOKENS))})",
            name,
        )
    placeholder = raw.get("placeholder")
    if placeholder is not None and not isinstance(placeholder, str):
        check.problem(check.line_of(raw, "placeholder"), "'placeholder' must be a text", name)
    allow_ip = raw.get("allow_ip", False)
    if not isinstance(allow_ip, bool):
        check.problem(check.line_of(raw, "allow_ip"), f"'allow_ip' must be true or false, not {allow_ip!r}", name)
    max_items = raw.get("max_items", 20)
    if not isinstance(max_items, int) or isinstance(max_items, bool) or max_items < 1:
        check.problem(check.line_of(raw, "max_items"), f"'max_items' must be a whole number of at least 1, not {max_items!r}", name)
        max_items = 20
    if not ok:
        return None
    return FieldSpec(
        name=name,
        type=ftype,
        label=label,
        help=help_text,
        required=bool(required),
        choices=choices,
        validators=validators,
        show_if=show_if,
        messages={k: v.strip() for k, v in messages.items() if isinstance(v, str)},
        autocomplete=autocomplete,
        placeholder=placeholder,
        allow_ip=bool(allow_ip),
        max_items=max_items,
        line=raw.line,
        show_if_line=check.line_of(raw, "show_if"),
    )


def _choices(raw, ftype: str, check: _Checker, name: str) -> tuple[Choice, ...]:
    if ftype == "priority":
        return tuple(Choice(value, label) for value, label in PRIORITIES.items())
    if ftype not in CHOICE_TYPES:
        return ()
    value = raw.get("choices")
    if not isinstance(value, list) or not value:
        check.problem(
            check.line_of(raw, "choices"),
            "a select or radio field needs 'choices': a list of {value: ..., label: ...}",
            name,
        )
        return ()
    choices: list[Choice] = []
    for item in value:
        if not isinstance(item, _Mapping) or set(item) != {"value", "label"}:
            check.problem(
                getattr(item, "line", check.line_of(raw, "choices")),
                f"each choice needs exactly 'value' and 'label', e.g. {{value: ricezione, label: Ricezione}}; got {dict(item) if isinstance(item, dict) else item!r}",
                name,
            )
            continue
        cvalue, clabel = item["value"], item["label"]
        if isinstance(cvalue, bool) or not isinstance(cvalue, (str, int)) or not str(cvalue).strip():
            check.problem(item.line, f"choice value {cvalue!r} must be a short text, e.g. ricezione (quote yes/no: 'si', 'no')", name)
            continue
        if not isinstance(clabel, str) or not clabel.strip():
            check.problem(item.line, f"choice label for {cvalue!r} must be a text", name)
            continue
        if any(c.value == str(cvalue) for c in choices):
            check.problem(item.line, f"choice value '{cvalue}' appears twice: each value must be unique", name)
            continue
        choices.append(Choice(str(cvalue), clabel.strip()))
    return tuple(choices)


def _validators(raw, ftype: str, check: _Checker, name: str) -> tuple[ValidatorSpec, ...]:
    value = raw.get("validators")
    if value is None:
        return ()
    if not isinstance(value, _Mapping):
        check.problem(
            check.line_of(raw, "validators"),
            "'validators' must map validator names to options, e.g. {length: {max: 120}, specific_subject: {}}",
            name,
        )
        return ()
    found = []
    for vname, options in value.items():
        line = check.line_of(value, vname)
        if vname not in VALIDATORS:
            check.problem(line, f"unknown validator {vname!r} (allowed: {', '.join(VALIDATORS)})", name)
            continue
        types, allowed = VALIDATORS[vname]
        if ftype not in types:
            check.problem(line, f"validator '{vname}' applies only to fields of type {', '.join(sorted(types))} (this field is '{ftype}')", name)
            continue
        if options is None or options is True:
            options = {}
        if not isinstance(options, dict):
            check.problem(line, f"options of '{vname}' must be a mapping ({', '.join(sorted(allowed))}), not {options!r}", name)
            continue
        bad = [k for k in options if k not in allowed]
        if bad:
            check.problem(line, f"unknown option '{bad[0]}' of validator '{vname}' (allowed: {', '.join(sorted(allowed))})", name)
            continue
        numbers = {k: v for k, v in options.items() if k != "message"}
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in numbers.values()):
            check.problem(line, f"options of '{vname}' must be whole numbers, not {numbers!r}", name)
            continue
        low, high = numbers.get("min", numbers.get("min_days")), numbers.get("max", numbers.get("max_days"))
        if vname in ("length", "range") and not numbers:
            check.problem(line, f"validator '{vname}' needs 'min' and/or 'max'", name)
            continue
        if low is not None and high is not None and low > high:
            check.problem(line, f"validator '{vname}': the minimum ({low}) is above the maximum ({high})", name)
            continue
        message = options.get("message")
        if message is not None and not (isinstance(message, str) and message.strip()):
            check.problem(line, f"'message' of validator '{vname}' must be a text", name)
            continue
        found.append(ValidatorSpec(vname, numbers, message.strip() if message else None))
    return tuple(found)


def _condition(value, parent, key: str, check: _Checker, name: str | None) -> Condition | None:
    line = check.line_of(parent, key)
    if not isinstance(value, _Mapping) or "field" not in value or "equals" not in value:
        check.problem(line, f"'{key}' must be {{field: <name of a select or radio field>, equals: <value or list of values>}}", name)
        return None
    check.unknown_keys(value, CONDITION_KEYS, key, name)
    target = value["field"]
    equals = value["equals"]
    values = equals if isinstance(equals, list) else [equals]
    if not values or not all(isinstance(v, (str, int)) and not isinstance(v, bool) for v in values):
        check.problem(line, f"'{key}.equals' must be a choice value or a list of them (quote yes/no: 'si', 'no'), not {equals!r}", name)
        return None
    return Condition(str(target), tuple(str(v) for v in values))


def _check_names(fields: list[FieldSpec], check: _Checker) -> dict[str, FieldSpec]:
    by_name: dict[str, FieldSpec] = {}
    for spec in fields:
        if spec.name in by_name:
            check.problem(
                spec.line,
                f"duplicate field name: already used at line {by_name[spec.name].line}; rename one of them",
                spec.name,
            )
            continue
        by_name[spec.name] = spec
    for ftype in ("files", "priority"):
        same = [f for f in fields if f.type == ftype]
        if len(same) > 1:
            check.problem(same[1].line, f"only one field of type '{ftype}' per form (also '{same[0].name}')", same[1].name)
    return by_name


def _condition_problem(condition: Condition, by_name, position: dict[str, int], here: int | None, fields) -> str | None:
    """What is wrong with ``condition`` (None when it is fine)."""
    target = by_name.get(condition.field)
    if target is None:
        return (
            f"names '{condition.field}', which is not a field of this form "
            f"(fields: {', '.join(f.name for f in fields)})"
        )
    if not target.is_choice:
        return f"names '{condition.field}', a field of type '{target.type}': only select and radio fields can control others"
    if here is not None and position[condition.field] >= here:
        return f"names '{condition.field}', which is not above this field: move '{condition.field}' before it (the customer answers from the top)"
    allowed = [c.value for c in target.choices]
    wrong = [v for v in condition.values if v not in allowed]
    if wrong:
        return f"value '{wrong[0]}' is not a choice of '{condition.field}' (choices: {', '.join(allowed)})"
    return None


def _check_conditions(fields: list[FieldSpec], by_name, check: _Checker):
    position = {f.name: i for i, f in enumerate(fields)}
    for index, spec in enumerate(fields):
        condition = spec.show_if
        if condition is None:
            continue
        problem = _condition_problem(condition, by_name, position, index, fields)
        if problem:
            check.problem(spec.show_if_line or spec.line, f"show_if {problem}", spec.name)


def _check_contract(fields, by_name, raw, check: _Checker):
    if not fields:
        return
    for name, (ftype, why) in CONTRACT_FIELDS.items():
        spec = by_name.get(name)
        if spec is None or spec.type != ftype or not spec.required or spec.show_if is not None:
            check.problem(
                raw.line,
                f"every request type needs a required, always-visible field '{name}' of type '{ftype}' ({why})",
            )


def _deflections(value, raw, by_name, fields, check: _Checker) -> tuple[Deflection, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        check.problem(check.line_of(raw, "deflections"), "'deflections' must be a list of {reason, when, title, message}")
        return ()
    position = {f.name: i for i, f in enumerate(fields)}
    found: list[Deflection] = []
    for item in value:
        if not isinstance(item, _Mapping):
            check.problem(check.line_of(raw, "deflections"), "each deflection must be a mapping {reason, when, title, message}")
            continue
        check.unknown_keys(item, DEFLECTION_KEYS, "a deflection")
        reason = item.get("reason")
        if not isinstance(reason, str) or not REASON_RE.match(reason):
            check.problem(item.line, f"deflection 'reason' {reason!r} must be a code of lowercase letters and '-', e.g. smtp-esterno")
            continue
        if any(d.reason == reason for d in found):
            check.problem(item.line, f"deflection reason '{reason}' appears twice")
            continue
        title = check.text(item, "title", "heading of the deflection page", required=True)
        message = check.text(item, "message", "text telling the customer whom to contact", required=True)
        if "when" not in item:
            check.problem(item.line, "a deflection needs 'when': {field: ..., equals: ...}")
            continue
        when = _condition(item["when"], item, "when", check, None)
        if when is None:
            continue
        problem = _condition_problem(when, by_name, position, None, fields)
        if problem:
            check.problem(check.line_of(item, "when"), f"deflection '{reason}': when {problem}")
            continue
        found.append(Deflection(reason, when, title, message))
    return tuple(found)


def _extras(value, raw, by_name, fields, check: _Checker) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """``extras:`` items are names, or ``{name: ..., after: <field>}`` to place the panel.

    Each extra must be registered, and the definition must have the fields it reads with
    the types and choice values its rule accepts: a mismatch would silently show no panel.
    """
    if value is None:
        return (), ()
    line = check.line_of(raw, "extras")
    if not isinstance(value, list):
        check.problem(line, "'extras' must be a list of panel names, e.g. [stima_costi]")
        return (), ()
    known = extras_registry.names()
    names: list[str] = []
    places: list[tuple[str, str]] = []
    for item in value:
        item_line = getattr(item, "line", line)
        after = None
        if isinstance(item, _Mapping):
            check.unknown_keys(item, EXTRA_KEYS, "an extra")
            name, after = item.get("name"), item.get("after")
        else:
            name = item
        if not isinstance(name, str) or not name.strip():
            check.problem(item_line, f"each extra must be a panel name or {{name: ..., after: <field>}}, not {item!r}")
            continue
        if name not in known:
            check.problem(
                item_line,
                f"unknown extra panel {name!r} (registered: {', '.join(sorted(known)) or 'none yet'}; see intake/extras.py)",
            )
            continue
        if name in names:
            check.problem(item_line, f"extra panel '{name}' is listed twice: keep only one")
            continue
        extra = extras_registry.get(name)
        for needed in extra.inputs:
            spec = by_name.get(needed.name)
            wrong = spec is not None and (
                spec.type not in needed.types or (needed.values and not {c.value for c in spec.choices} <= set(needed.values))
            )
            if spec is None or wrong:
                got = "it is missing" if spec is None else f"it is a {spec.type} field" + (
                    f" with choices {', '.join(c.value for c in spec.choices)}" if spec.choices else ""
                )
                check.problem(item_line, f"extra panel '{name}' reads field '{needed.name}', {needed.describe()}, but {got}")
        if after is None:
            after = extra.after if extra.after in by_name else next(
                (f.name for f in reversed(fields) if f.name in extra.input_names), fields[-1].name if fields else ""
            )
        elif not isinstance(after, str) or after not in by_name:
            check.problem(
                check.line_of(item, "after"),
                f"extra panel '{name}': 'after' names {after!r}, which is not a field of this form "
                f"(fields: {', '.join(f.name for f in fields)})",
            )
            continue
        names.append(name)
        places.append((name, after))
    return tuple(names), tuple(places)
