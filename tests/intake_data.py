"""Answers that pass a request type's validation, made from its definition.

Used to test every definition the same way: start from a complete valid request, then
remove or spoil one answer at a time.
"""

from __future__ import annotations

import re
import textwrap
from datetime import timedelta

from intake import DEFAULT_FORMS_DIR
from intake.formspec import FormDefinition, load_definitions
from intake.validators import today

# The request types of intake/forms/, read once for the whole test session (they are frozen).
DEFINITIONS = load_definitions(DEFAULT_FORMS_DIR)

SAMPLE_TEXT = {
    "oggetto": "Errore 550 inviando da info@example.it verso Gmail",
    "nome": "Mario Rossi",
    "azienda": "Rossi Srl",
    "sistema_operativo": "Debian 12",
    "msg_oggetto": "Preventivo di marzo",
    "client_nome": "Thunderbird",
    "client_versione": "115.3",
}
# Dates some rules tie to another answer: the migration switch comes at least 15 days after
# day X (data_comunicazione, which can only be today or earlier, so it becomes today).
SAMPLE_DAYS = {"data_switch": 20}
LONG_TEXT = "Da ieri mattina il problema si ripete ogni volta che proviamo, anche da altri computer."


def _date_for(spec) -> str:
    """A week from today (or the field's SAMPLE_DAYS), moved inside the field's date_range if it has one."""
    rule = spec.validator("date_range")
    low = rule.options.get("min_days", 0) if rule else 0
    high = rule.options.get("max_days", 30) if rule else 30
    days = SAMPLE_DAYS.get(spec.name, 7)
    return (today() + timedelta(days=min(max(days, low), high))).isoformat()


def _value(spec, definition: FormDefinition):
    if spec.type in ("select", "radio"):
        for choice in spec.choices:  # the first answer that does not deflect the request
            if not any(d.when.field == spec.name and choice.value in d.when.values for d in definition.deflections):
                return choice.value
    if spec.type == "priority":
        return "normale"
    if spec.type == "checkbox":
        return "y"
    if spec.type == "email":
        return "mario.rossi@example.it"
    if spec.type == "emails":
        return "info@example.it, vendite@example.it"
    if spec.type == "domain":
        return "example.it"
    if spec.type == "date":
        return _date_for(spec)
    if spec.type == "time":
        return "10:30"
    if spec.type == "datetime":
        return _date_for(spec) + "T10:30"
    if spec.type == "files":
        return None
    if spec.type == "number":
        rule = spec.validator("range")
        low = rule.options.get("min", 0) if rule else 0
        high = rule.options.get("max", 1) if rule else 1
        return str(min(max(1, low), high))
    if spec.name in SAMPLE_TEXT:
        return SAMPLE_TEXT[spec.name]
    length = spec.validator("length")
    maximum = length.options.get("max", 200) if length else 200
    text = LONG_TEXT if spec.type == "textarea" else "Valore di prova"
    return text[:maximum]


def valid_data(definition: FormDefinition, **overrides) -> dict:
    """A complete valid request for ``definition``: every shown field answered.

    ``overrides`` replace answers before later fields are decided, so a different answer
    to a controlling question shows (and fills) the fields that depend on it.
    """
    unknown = set(overrides) - {f.name for f in definition.fields}
    assert not unknown, f"not fields of '{definition.name}': {unknown}"
    data: dict = {}
    for spec in definition.fields:
        if spec.name in overrides:
            data[spec.name] = overrides[spec.name]
            continue
        # Controllers come first, so the answers so far decide whether this field is shown.
        if spec.name not in definition.visible_names(data):
            continue
        value = _value(spec, definition)
        if value is not None:
            data[spec.name] = value
    return data


def data_showing(definition: FormDefinition, name: str) -> dict:
    """A complete valid request in which field ``name`` is shown (its conditions answered)."""
    overrides = {}
    spec = definition.field(name)
    while spec.show_if is not None:
        overrides[spec.show_if.field] = spec.show_if.values[0]
        spec = definition.field(spec.show_if.field)
    data = valid_data(definition, **overrides)
    assert name in definition.visible_names(data)
    return data


def post_multipart(client, url: str, data: dict, files: list[tuple[str, bytes]], field: str = "allegati", **kwargs):
    """POST ``data`` plus ``files`` as multipart/form-data, the body built in memory.

    (The test client spools big bodies to a temporary file it never closes, which the
    warnings-as-errors setting rightly reports; an in-memory body avoids that.)
    """
    from io import BytesIO

    from werkzeug.datastructures import FileStorage, MultiDict
    from werkzeug.test import encode_multipart

    values = MultiDict(data)
    if hasattr(client, "search_token") and "token" not in values:  # a CustomerClient searches first
        values.add("token", client.search_token(url.rstrip("/").rsplit("/", 1)[-1]))
    for name, content in files:
        values.add(field, FileStorage(BytesIO(content), filename=name))
    boundary, body = encode_multipart(values)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}", **kwargs)


def error_ids(html: str) -> list[str]:
    """The fields that show an error next to them (``<p ... id="<name>-error">``)."""
    return re.findall(r'class="error-message" id="([a-z0-9_]+)-error"', html)


def error_text(html: str, name: str) -> str:
    match = re.search(rf'id="{name}-error">(.*?)</p>', html, re.S)
    assert match, f"no error shown next to '{name}'"
    return re.sub(r"<[^>]+>", "", match.group(1)).replace("&#39;", "'").replace("&amp;", "&").strip()


# A small valid definition; test_intake_formspec's cases each change one thing in
# it, and the line numbers of their expected messages refer to this text (line 1 = "title: ...").
SMALL_DEFINITION = textwrap.dedent(
    """\
    title: Problema con la posta
    summary: Messaggi che non arrivano o non partono.
    department: helpdesk
    priority: normale
    sections:
      - legend: La richiesta
        fields:
          - name: oggetto
            type: text
            label: Oggetto
            required: true
            validators:
              specific_subject: {}
          - name: direzione
            type: radio
            label: Ricezione o trasmissione?
            required: true
            choices:
              - {value: ricezione, label: Ricezione}
              - {value: trasmissione, label: Trasmissione}
          - name: server_smtp
            type: text
            label: Server SMTP usato
            show_if: {field: direzione, equals: trasmissione}
          - name: email
            type: email
            label: La tua email
            required: true
    """
)
