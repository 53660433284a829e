"""The real form definitions agree with the KB they sit next to (STYLE.md: content tested like code)."""

from __future__ import annotations

import pytest

from intake import DEFAULT_FORMS_DIR
from kb_build.articles import load_docs
from kb_build.catalog import load_catalog

from .helpers import ROOT
from .intake_data import DEFINITIONS

CATALOG = load_catalog()
DOCS = load_docs(ROOT / "docs", frozenset(DEFINITIONS))


@pytest.mark.parametrize("name", list(DEFINITIONS))
def test_suggested_categories_and_tags_exist_in_the_kb(name):
    definition = DEFINITIONS[name]
    tags = {tag for article in DOCS.articles for tag in article.tags}
    assert set(definition.suggest_categories) <= set(CATALOG.categories)
    assert set(definition.suggest_tags) <= tags, set(definition.suggest_tags) - tags
    assert definition.suggest_categories, "suggest at least one KB category"


@pytest.mark.parametrize("name", list(DEFINITIONS))
def test_service_choices_are_catalog_services(name):
    spec = DEFINITIONS[name].field("servizio")
    if spec is not None:
        assert {c.value for c in spec.choices} <= set(CATALOG.services)


def test_every_article_opens_an_existing_request_type():
    assert DOCS.problems == []
    used = {article.ticket_form for article in DOCS.articles}
    assert used <= set(DEFINITIONS)
    assert {"generico", "email", "extracontrattuale", "migrazione", "commerciale", "rubalo"} <= used


def test_forms_readme_documents_every_type_key_and_validator():
    from intake.formspec import FIELD_KEYS, FIELD_TYPES, TOP_KEYS, VALIDATORS

    readme = (DEFAULT_FORMS_DIR / "README.md").read_text(encoding="utf-8")
    for word in [*FIELD_TYPES, *VALIDATORS, *FIELD_KEYS, *TOP_KEYS]:
        assert f"`{word}`" in readme, word


def test_forms_readme_documents_every_built_in_panel_and_its_fields():
    from intake import extras

    readme = (DEFAULT_FORMS_DIR / "README.md").read_text(encoding="utf-8")
    built_in = [name for name in extras.names() if extras.get(name).compute.__module__ == "intake.rule_panels"]
    assert built_in
    for name in built_in:
        assert f"| `{name}` |" in readme, name
        for needed in extras.get(name).inputs:
            assert f"`{needed.name}`" in readme, (name, needed.name)
            for value in needed.values:
                assert f"`{value}`" in readme, (name, needed.name, value)
