"""Tables for the KB articles, computed at build time by the same rules as the forms.

A writer puts a marker on a line of its own where a table goes, e.g. in the article on
extra-contractual work::

    <div class="kb-regole" data-tabella="stima-esempi"></div>

and the MkDocs hook ``intake/mkdocs_hooks/rule_tables.py`` (listed under ``hooks:`` in
mkdocs.yml) replaces it with the table. So the site and the forms can never disagree, and
``kb_build`` still never imports the intake: MkDocs loads the hook by path, a generic
mechanism. Without the hook (another static-site generator) the marker is an empty
``<div>`` that shows nothing, and the search index ignores it (``kb_build`` drops tags).
"""

from __future__ import annotations

import re

from .rules import estimate_fee, format_minutes
from .rules.fees import ORDINARY, PLANNED, SIMPLE, URGENT

MARKER = re.compile(r'^<div class="kb-regole" data-tabella="(?P<name>[^"]*)"></div>[ \t]*$', re.M)

# (what the customer asks for, band, level, minutes, urgent take-over): the examples of issue 7,
# one per tariff line of the article, and the € 250 quote threshold from both sides.
FEE_EXAMPLES = [
    ("Sistemista junior in fascia ordinaria", ORDINARY, "junior", 31, False),
    ("Sistemista junior in fascia ordinaria, presa in carico urgente", ORDINARY, "junior", 31, True),
    ("Sistemista senior in fascia ordinaria", ORDINARY, "senior", 180, False),
    ("Sistemista junior, intervento pianificato notturno o festivo", PLANNED, "junior", 240, False),
    ("Sistemista senior, intervento pianificato notturno o festivo", PLANNED, "senior", 190, False),
    ("Sistemista senior, intervento urgente notturno o festivo", URGENT, "senior", 45, False),
    ("Assistenza semplice urgente notturna o festiva (es. un riavvio)", SIMPLE, None, 45, False),
]


# What the take-over column says where the article gives no time (the rule's takeover_hours is None).
TAKEOVER_WITHOUT_HOURS = {PLANNED: "in data concordata", SIMPLE: "personale di turno"}


def fee_examples_table() -> str:
    """Markdown: a heading, a sentence and one row per example of :data:`FEE_EXAMPLES`."""
    lines = [
        "## Esempi di stima",
        "",
        "Alcuni esempi calcolati con le tariffe indicate sopra, con lo stesso calcolo del modulo di "
        "richiesta: la tariffazione effettiva avviene a consuntivo, in base al tempo impiegato.",
        "",
        "| Intervento | Durata stimata | Costo stimato | Presa in carico | Preventivo da approvare |",
        "| --- | --- | --- | --- | --- |",
    ]
    for what, band, level, minutes, urgent in FEE_EXAMPLES:
        estimate = estimate_fee(band, level, minutes, urgent)
        takeover = f"entro {estimate.takeover_hours}h" if estimate.takeover_hours else TAKEOVER_WITHOUT_HOURS[band]
        quote = "sì" if estimate.quote_required else "no"
        lines.append(f"| {what} | {format_minutes(minutes)} | {estimate.total_text} | {takeover} | {quote} |")
    return "\n".join(lines)


TABLES = {"stima-esempi": fee_examples_table}


class UnknownTable(ValueError):
    """A marker names a table that does not exist; the message says where and what exists."""


def replace_markers(markdown: str, source: str) -> str:
    """``markdown`` with every marker replaced by its table.

    :raise UnknownTable: ``source:line: unknown rules table 'x' (allowed: ...)``.
    """

    def table(match: re.Match) -> str:
        name = match.group("name")
        if name not in TABLES:
            line = markdown.count("\n", 0, match.start()) + 1
            raise UnknownTable(f"{source}:{line}: unknown rules table '{name}' (allowed: {', '.join(TABLES)})")
        return TABLES[name]()

    return MARKER.sub(table, markdown)


def on_page_markdown(markdown: str, page, config, files) -> str:
    """MkDocs event: put the tables in the page's Markdown."""
    from mkdocs.exceptions import PluginError

    try:
        return replace_markers(markdown, f"{config['docs_dir']}/{page.file.src_uri}")
    except UnknownTable as error:
        raise PluginError(str(error)) from None
