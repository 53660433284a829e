"""A request type as JSON Schema (draft 2020-12), for API clients and documentation.

The schema says what the HTML form says: types, formats, lengths, choices (with their
Italian labels as ``title``), required fields, and ``show_if`` as ``if``/``then``: a
conditional field is required only when its condition holds. Attachments are described but
travel as multipart uploads, not JSON. Extensions keep the routing facts: ``x-department``,
``x-default-priority``, ``x-show-if``.
"""

from __future__ import annotations

from typing import Any

from .attachments import BINARY_TYPES, DEFAULT_MAX_BYTES
from .formspec import FieldSpec, FormDefinition

DRAFT = "https://json-schema.org/draft/2020-12/schema"

FORMATS = {"email": "email", "domain": "idn-hostname", "date": "date"}


def field_schema(spec: FieldSpec) -> dict[str, Any]:
    schema: dict[str, Any] = {"title": spec.label}
    if spec.help:
        schema["description"] = spec.help
    if spec.is_choice:
        schema["type"] = "string"
        schema["oneOf"] = [{"const": c.value, "title": c.label} for c in spec.choices]
    elif spec.type == "checkbox":
        schema["type"] = "boolean"
    elif spec.type == "number":
        # A number in JSON, or its digits as the HTML form sends them (the range applies to numbers).
        schema["type"] = ["integer", "string"]
        schema["pattern"] = r"^[0-9]+$"
    elif spec.type == "files":
        schema["type"] = "array"
        schema["items"] = {
            "type": "string",
            "contentEncoding": "base64",
            "contentMediaType": ", ".join([*BINARY_TYPES, "text/plain", "message/rfc822"]),
        }
        schema["description"] = (schema.get("description", "") + f" (multipart upload; max {DEFAULT_MAX_BYTES} bytes each)").strip()
    elif spec.type == "emails":
        schema["type"] = "string"
        schema["description"] = (schema.get("description", "") + " (e-mail addresses separated by commas)").strip()
    elif spec.type == "datetime":
        schema["type"] = "string"
        schema["pattern"] = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$"
    elif spec.type == "time":
        # HH:MM as the form sends it (JSON Schema's "time" format wants seconds and an offset).
        schema["type"] = "string"
        schema["pattern"] = r"^([01]\d|2[0-3]):[0-5]\d$"
    else:
        schema["type"] = "string"
        if spec.type in FORMATS:
            schema["format"] = FORMATS[spec.type]
        if spec.type == "domain" and spec.allow_ip:
            schema.pop("format")
            schema["anyOf"] = [{"format": "idn-hostname"}, {"format": "ipv4"}, {"format": "ipv6"}]
    length = spec.validator("length")
    if length is not None:
        if "min" in length.options:
            schema["minLength"] = length.options["min"]
        if "max" in length.options:
            schema["maxLength"] = length.options["max"]
    number_range = spec.validator("range")
    if number_range is not None:
        if "min" in number_range.options:
            schema["minimum"] = number_range.options["min"]
        if "max" in number_range.options:
            schema["maximum"] = number_range.options["max"]
    if spec.show_if is not None:
        schema["x-show-if"] = {"field": spec.show_if.field, "equals": list(spec.show_if.values)}
    return schema


def _visible_when(definition: FormDefinition, spec: FieldSpec) -> dict[str, Any]:
    """The ``if`` clause: every condition up the chain (a field under a hidden one is hidden)."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    current = spec
    while current.show_if is not None:
        condition = current.show_if
        properties[condition.field] = {"enum": list(condition.values)}
        required.append(condition.field)
        current = definition.field(condition.field)
    return {"properties": properties, "required": required}


def form_schema(definition: FormDefinition) -> dict[str, Any]:
    """The JSON Schema of ``definition``."""
    properties = {spec.name: field_schema(spec) for spec in definition.fields}
    always = [s.name for s in definition.fields if s.required and s.show_if is None and s.type != "files"]
    conditional = [
        {"if": _visible_when(definition, s), "then": {"required": [s.name]}}
        for s in definition.fields
        if s.required and s.show_if is not None
    ]
    schema: dict[str, Any] = {
        "$schema": DRAFT,
        "title": definition.title,
        "description": definition.summary,
        "type": "object",
        "properties": properties,
        "required": always,
        "additionalProperties": False,
        "x-request-type": definition.name,
        "x-department": definition.department,
        "x-default-priority": definition.priority,
    }
    if conditional:
        schema["allOf"] = conditional
    return schema
