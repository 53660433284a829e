"""`kb forms`: list and check the definitions; `--json-schema NAME` exports one."""

from __future__ import annotations

import json
import shutil

import jsonschema
import pytest

from intake import DEFAULT_FORMS_DIR
from kb_build.cli import cli

from .intake_data import DEFINITIONS, valid_data



def test_kb_forms_lists_every_request_type(runner):
    result = runner.invoke(cli, ["forms"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[-1] == "6 request types OK"
    assert [line.split()[0] for line in lines[:-1]] == list(DEFINITIONS)
    assert any(line.split()[:2] == ["commerciale", "sales"] for line in lines)


def test_kb_forms_fails_on_a_broken_definition(runner, tmp_path):
    forms = tmp_path / "forms"
    shutil.copytree(DEFAULT_FORMS_DIR, forms)
    path = forms / "email.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("field: dove,", "field: client_tipo,"), encoding="utf-8")
    result = runner.invoke(cli, ["forms", "--forms-dir", str(forms)])
    assert result.exit_code == 1
    assert f"{path}:" in result.output
    assert "field 'client_nome': show_if names 'client_tipo', which is not a field of this form (fields: oggetto," in result.output
    assert "the intake will not start" in result.output


@pytest.mark.parametrize("name", list(DEFINITIONS))
def test_json_schema_export_is_valid_and_matches_the_form(runner, name):
    result = runner.invoke(cli, ["forms", "--json-schema", name])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.output)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    definition = DEFINITIONS[name]
    good = valid_data(definition)
    assert list(validator.iter_errors(good)) == []
    required = next(f.name for f in definition.fields if f.required and f.show_if is None)
    assert not validator.is_valid({k: v for k, v in good.items() if k != required})
    assert schema["x-department"] == definition.department


def test_json_schema_keeps_show_if_as_conditional_requirements(runner):
    schema = json.loads(runner.invoke(cli, ["forms", "--json-schema", "email"]).output)
    validator = jsonschema.Draft202012Validator(schema)
    request = valid_data(DEFINITIONS["email"], tipo_problema="accesso")
    assert validator.is_valid(request)  # no failing message needed for a login problem
    request["tipo_problema"] = "errore"
    missing = {e.message for e in validator.iter_errors(request)}
    assert "'msg_mittente' is a required property" in missing
    assert "'messaggio_errore' is a required property" in missing
    assert schema["properties"]["servizio"]["oneOf"][0] == {"const": "cronusmail", "title": "CronusMail"}


def test_json_schema_of_unknown_type_names_the_allowed_ones(runner):
    result = runner.invoke(cli, ["forms", "--json-schema", "vpn"])
    assert result.exit_code == 2
    assert "unknown request type 'vpn' (allowed: generico, email," in result.output
