"""Definition checking: a broken YAML definition stops the app with file:line, field and fix."""

from __future__ import annotations

import pytest

from intake import create_app
from intake.formspec import FormDefinitionError, load_definition, load_definitions

from .conftest import customer_app, intake_test_config
from .intake_data import SMALL_DEFINITION

CASES = [
    # (what to replace, replacement, expected message after "<file>:")
    (
        "show_if: {field: direzione,",
        "show_if: {field: client_tipo,",
        "24: field 'server_smtp': show_if names 'client_tipo', which is not a field of this form "
        "(fields: oggetto, direzione, server_smtp, email)",
    ),
    (
        "equals: trasmissione}",
        "equals: invio}",
        "24: field 'server_smtp': show_if value 'invio' is not a choice of 'direzione' (choices: ricezione, trasmissione)",
    ),
    (
        "show_if: {field: direzione,",
        "show_if: {field: oggetto,",
        "24: field 'server_smtp': show_if names 'oggetto', a field of type 'text': only select and radio fields can control others",
    ),
    (
        "        type: radio\n",
        "        type: radiobutton\n",
        "15: field 'direzione': unknown field type 'radiobutton' (allowed: text, textarea, email, emails, domain, "
        "select, radio, checkbox, date, time, datetime, number, priority, files)",
    ),
    (
        "specific_subject: {}",
        "oggetto_specifico: {}",
        "13: field 'oggetto': unknown validator 'oggetto_specifico' (allowed: length, specific_subject, date_range, range)",
    ),
    (
        "specific_subject: {}",
        "date_range: {min_days: 1}",
        "13: field 'oggetto': validator 'date_range' applies only to fields of type date, datetime (this field is 'text')",
    ),
    (
        "specific_subject: {}",
        "length: {min: 50, max: 10}",
        "13: field 'oggetto': validator 'length': the minimum (50) is above the maximum (10)",
    ),
    (
        "      - name: server_smtp",
        "      - name: direzione",
        "21: field 'direzione': duplicate field name: already used at line 14; rename one of them",
    ),
    (
        "department: helpdesk",
        "department: tecnico",
        "3: unknown department 'tecnico' (allowed: helpdesk, sales)",
    ),
    (
        "priority: normale",
        "priority: urgente",
        "4: unknown priority 'urgente' (allowed: bassa, normale)",
    ),
    (
        "title: Problema con la posta\n",
        "",
        "1: missing 'title' (every definition needs: title, summary, department, priority, sections)",
    ),
    (
        "        label: Oggetto\n",
        "        lable: Oggetto\n",
        "10: field 'oggetto': unknown key 'lable' in a field (allowed: allow_ip, autocomplete, choices, help, "
        "label, max_items, messages, name, placeholder, required, show_if, type, validators)",
    ),
    (
        "          - {value: trasmissione, label: Trasmissione}",
        "          - {value: trasmissione}",
        "20: field 'direzione': each choice needs exactly 'value' and 'label', e.g. {value: ricezione, label: Ricezione}; "
        "got {'value': 'trasmissione'}",
    ),
    (
        "          - {value: ricezione, label: Ricezione}",
        "          - {value: no, label: No}",
        "19: field 'direzione': choice value False must be a short text, e.g. ricezione (quote yes/no: 'si', 'no')",
    ),
    (
        "        type: text\n        label: Server SMTP usato",
        "        type: text\n        allow_ip: true\n        label: Server SMTP usato",
        "23: field 'server_smtp': 'allow_ip' applies only to fields of type domain (this field is 'text')",
    ),
    (
        "summary: Messaggi che non arrivano o non partono.",
        "summary: [Messaggi, che non arrivano",
        "3: YAML syntax error: did not find expected ',' or ']'; check indentation, colons and quotes",
    ),
    (
        "        label: La tua email\n        required: true\n",
        "        label: La tua email\n",
        "1: every request type needs a required, always-visible field 'email' of type 'email' "
        "(the customer's reference address, where replies to the ticket go)",
    ),
    (
        "      - name: direzione\n",
        "      - name: Direzione!\n",
        "14: field name 'Direzione!' must be lowercase letters, digits and '_', starting with a letter (e.g. server_smtp)",
    ),
    (
        "        show_if: {field: direzione, equals: trasmissione}\n",
        "        show_if: direzione\n",
        "24: field 'server_smtp': 'show_if' must be {field: <name of a select or radio field>, "
        "equals: <value or list of values>}",
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), CASES)
def test_broken_definition_is_refused_with_file_line_field_and_fix(tmp_path, old, new, expected):
    assert old in SMALL_DEFINITION
    path = tmp_path / "email.yaml"
    path.write_text(SMALL_DEFINITION.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(FormDefinitionError) as caught:
        load_definition(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:{expected}") or f"\n{path}:{expected}" in message, message


def test_valid_definition_loads(tmp_path):
    path = tmp_path / "email.yaml"
    path.write_text(SMALL_DEFINITION, encoding="utf-8")
    definition = load_definition(path)
    assert [f.name for f in definition.fields] == ["oggetto", "direzione", "server_smtp", "email"]
    assert definition.field("server_smtp").show_if.values == ("trasmissione",)
    assert definition.department_label == "Assistenza Tecnica"


def test_controller_must_come_before_the_field_it_controls(tmp_path):
    lines = SMALL_DEFINITION.splitlines(keepends=True)
    # move server_smtp (lines 21-24) above direzione (line 14)
    reordered = lines[:13] + lines[20:24] + lines[13:20] + lines[24:]
    path = tmp_path / "email.yaml"
    path.write_text("".join(reordered), encoding="utf-8")
    with pytest.raises(FormDefinitionError) as caught:
        load_definition(path)
    assert str(caught.value) == (
        f"{path}:17: field 'server_smtp': show_if names 'direzione', which is not above this field: "
        "move 'direzione' before it (the customer answers from the top)"
    )


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / "email.yaml"
    path.write_text(SMALL_DEFINITION.replace("label: Oggetto\n", "label: Oggetto: errore\n", 1), encoding="utf-8")
    with pytest.raises(FormDefinitionError) as caught:
        load_definition(path)
    assert str(caught.value).startswith(f"{path}:10: YAML syntax error: mapping values are not allowed in this context")
    assert "check indentation, colons and quotes" in str(caught.value)


def test_problems_of_all_files_are_reported_together(tmp_path):
    (tmp_path / "uno.yaml").write_text(SMALL_DEFINITION.replace("priority: normale", "priority: alta"), encoding="utf-8")
    (tmp_path / "due.yaml").write_text(SMALL_DEFINITION.replace("department: helpdesk", "department: vendite"), encoding="utf-8")
    with pytest.raises(FormDefinitionError) as caught:
        load_definitions(tmp_path)
    assert [p.split(":")[0] for p in caught.value.problems] == [str(tmp_path / "due.yaml"), str(tmp_path / "uno.yaml")]


def test_app_refuses_to_start_on_a_broken_definition(tmp_path):
    forms = tmp_path / "forms"
    forms.mkdir()
    (forms / "email.yaml").write_text(SMALL_DEFINITION.replace("equals: trasmissione}", "equals: invio}"), encoding="utf-8")
    with pytest.raises(FormDefinitionError, match=r"email\.yaml:24: field 'server_smtp': show_if value 'invio'"):
        create_app(intake_test_config(tmp_path, FORMS_DIR=str(forms)))


def test_adding_a_request_type_is_adding_one_yaml_file(tmp_path):
    """No Python: a new file is a new form at /modulo/<name>, listed on /tipi."""
    import shutil

    from intake import DEFAULT_FORMS_DIR

    forms = tmp_path / "forms"
    shutil.copytree(DEFAULT_FORMS_DIR, forms)
    (forms / "vpn.yaml").write_text(SMALL_DEFINITION.replace("Problema con la posta", "Accesso VPN aziendale"), encoding="utf-8")
    client = customer_app(intake_test_config(tmp_path, FORMS_DIR=str(forms))).test_client()
    assert "Accesso VPN aziendale" in client.get("/tipi").get_data(as_text=True)
    page = client.get("/modulo/vpn")
    assert page.status_code == 200
    response = client.post(
        "/modulo/vpn",
        data={"oggetto": "Errore di autenticazione VPN dal portatile", "direzione": "ricezione", "email": "a@example.it"},
    )
    assert response.status_code == 303
    assert "Accesso VPN aziendale" in client.get(response.location).get_data(as_text=True)


def test_missing_forms_folder_says_which_setting_to_fix(tmp_path):
    with pytest.raises(FormDefinitionError, match="set FORMS_DIR"):
        load_definitions(tmp_path / "nope")
