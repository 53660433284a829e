"""``kb forms``: list and check the intake's request types, or export one as JSON Schema.

Registered under the ``kb.commands`` entry point, so ``kb_build`` never imports the intake.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from . import DEFAULT_FORMS_DIR
from .formspec import FormDefinitionError, load_definitions
from .schema_export import form_schema


@click.command("forms")
@click.option(
    "--forms-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_FORMS_DIR,
    show_default="intake/forms",
    help="Folder of the request-type definitions (*.yaml).",
)
@click.option("--json-schema", "schema_name", metavar="NAME", help="Print request type NAME as JSON Schema instead.")
def forms(forms_dir: Path, schema_name: str | None):
    """List the intake's request types and check their definitions.

    Exits with status 1 and one 'file:line: problem' line each when a definition is broken.
    """
    try:
        definitions = load_definitions(forms_dir)
    except FormDefinitionError as exc:
        for problem in exc.problems:
            click.echo(problem, err=True)
        raise click.ClickException(f"{len(exc.problems)} problem(s) in the form definitions; the intake will not start") from exc
    if schema_name is not None:
        definition = definitions.get(schema_name)
        if definition is None:
            raise click.UsageError(f"unknown request type '{schema_name}' (allowed: {', '.join(definitions)})")
        click.echo(json.dumps(form_schema(definition), ensure_ascii=False, indent=2))
        return
    width = max(len(name) for name in definitions)
    for name, definition in definitions.items():
        click.echo(f"{name:<{width}}  {definition.department:<8}  {len(definition.fields):>2} fields  {definition.title}")
    click.echo(f"{len(definitions)} request types OK")
