"""One voice for the customer: everything we write to the customer says "tu", never "voi".

The search flow and the site always spoke in the informal singular; the forms once
mixed in the plural ("Indicate", "il vostro account", "vi contatteremo"), so one customer
read both voices in one visit. These tests read what a customer reads: every request
type's page, its error messages and panels, the list of types, the flow's pages, the
confirmation page and e-mail, the error and deflection pages, the definitions' YAML text
and the site texts we wrote. The imported articles are the writers' text and are not ours
to change: their snippets are left out of the search results page.
"""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from flask.testing import FlaskClient
from sqlalchemy import select

from intake import DEFAULT_FORMS_DIR
from intake.db import OutboxMessage
from intake.protection import HONEYPOT_FIELD

from .intake_data import DEFINITIONS, data_showing, post_multipart, valid_data

ROOT = Path(__file__).resolve().parent.parent
EMAIL_ARTICLE = "come-richiedere-assistenza-servizi-email"

# The typical words of the plural/formal "voi" that our texts used (pronouns, possessives,
# verbs in the second person plural); none of them is the informal singular.
VOI = re.compile(
    r"\b(vostr[oaie]|vi|voi|avete|avevate|potete|dovete|volete|siete|indicate|indicatene|scrivete|"
    r"scegliete|sceglieteli|descrivete|cercate|compilate|allegate|selezionate|esponete|riportate|"
    r"riprovate|tornate|riceverete|troverete|rivolgetevi|contattateci|scriveteci|riducetelo|togliete)\b",
    re.IGNORECASE,
)
# Answers a customer picks are in the customer's own voice, addressed to us: there "vostro"
# is right ("Sì, il server in uscita è il vostro", beside "No, uso il server ... del mio provider").
CUSTOMER_VOICE = {"Sì, il server in uscita è il vostro"}
# The YAML keys whose text the customer reads (labels of choices included).
TEXT_KEYS = {"title", "summary", "intro", "legend", "label", "help", "message", "placeholder", "required", "invalid"}
# Attributes whose text the customer reads or hears (data-msg-*: the attachment checks in forms.js).
TEXT_ATTRIBUTES = {"placeholder", "title", "aria-label", "alt"}


class VisibleText(HTMLParser):
    """The text of a page a customer reads or hears: text nodes (not scripts or styles) and
    the attributes above; result snippets (quotes of the writers' articles) are left out."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping: list[str] = []  # open tags whose content is not ours (scripts, snippets)
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if self.skipping or tag in ("script", "style") or "result-snippet" in (attributes.get("class") or "").split():
            self.skipping.append(tag)
            return
        self.parts += [v for k, v in attributes.items() if v and (k in TEXT_ATTRIBUTES or k.startswith("data-msg-"))]

    def handle_endtag(self, tag):
        if self.skipping and self.skipping[-1] == tag:
            self.skipping.pop()

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.parts).split())


def voi_forms(text: str) -> list[str]:
    """The "voi" words of ``text``, each with a little context, once the customer's own answers are set aside."""
    text = " ".join(text.split())
    for answer in CUSTOMER_VOICE:
        text = text.replace(answer, "")
    return [text[max(0, m.start() - 40) : m.end() + 40] for m in VOI.finditer(text)]


def page_text(response) -> str:
    return VisibleText(response.get_data(as_text=True)).text


def yaml_texts(node, key: str = ""):
    if isinstance(node, dict):
        for name, value in node.items():
            yield from yaml_texts(value, name)
    elif isinstance(node, list):
        for item in node:
            yield from yaml_texts(item, key)
    elif isinstance(node, str) and key in TEXT_KEYS:
        yield node


def spoiled(definition, data: dict) -> dict:
    """``data`` with every shown answer that has a format made wrong, so each format message shows."""
    bad = dict(data)
    for spec in definition.fields:
        if spec.name not in data:
            continue
        length = spec.validator("length")
        if spec.type == "domain":
            bad[spec.name] = "https://example.it/pagina"
        elif spec.type == "email":
            bad[spec.name] = "mario.rossi"
        elif spec.type == "emails":
            bad[spec.name] = "info@example.it, mario"
        elif spec.type in ("date", "datetime"):
            bad[spec.name] = "1999-01-01" if spec.validator("date_range") else "31/02/2025"
        elif spec.type == "time":
            bad[spec.name] = "25:99"
        elif spec.type == "number":
            bad[spec.name] = "3h"
        elif spec.validator("specific_subject"):
            bad[spec.name] = "RICHIESTA ASSISTENZA URGENTE"
        elif length and length.options.get("min"):
            bad[spec.name] = "poco"
    return bad


def emptied(definition, data: dict) -> dict:
    """``data`` with every shown answer removed except those that show other questions."""
    controllers = {spec.show_if.field for spec in definition.fields if spec.show_if}
    return {name: value for name, value in data.items() if name in controllers}


def form_pages(client, name: str):
    """What a customer of form ``name`` can read: the page, its refusals, its panels."""
    definition = DEFINITIONS[name]
    yield f"/modulo/{name}", client.get(f"/modulo/{name}")
    shown_sets = {frozenset(definition.visible_names(data_showing(definition, spec.name))): spec.name for spec in definition.fields}
    for field in shown_sets.values():
        data = data_showing(definition, field)
        yield f"{name}: empty, {field} shown", client.post(f"/modulo/{name}", data=emptied(definition, data))
        yield f"{name}: wrong, {field} shown", client.post(f"/modulo/{name}", data=spoiled(definition, data))
    for extra in definition.extras:
        data = valid_data(definition) | {"calcola": extra}
        yield f"{name}: panel {extra}", client.post(f"/modulo/{name}", data=data)


@pytest.mark.parametrize("name", list(DEFINITIONS))
def test_every_form_page_error_and_panel_says_tu(client, name):
    found = {}
    for what, response in form_pages(client, name):
        assert response.status_code in (200, 422), (what, response.status_code)
        text = page_text(response)
        assert text, what
        if problems := voi_forms(text):
            found[what] = problems
    assert found == {}


def test_the_refusals_of_the_forms_were_really_shown(client):
    """The pages above do show the messages they are meant to check (or they would prove nothing)."""
    definition = DEFINITIONS["email"]
    data = data_showing(definition, "msg_data")
    empty = page_text(client.post("/modulo/email", data=emptied(definition, data)))
    wrong = page_text(client.post("/modulo/email", data=spoiled(definition, data)))
    assert "Compila il campo «Nome e cognome»." in empty
    assert "Scegli una risposta per «Servizio di posta»." in empty
    assert "«mario.rossi» non è un indirizzo email valido: controlla" in wrong
    assert "Scrivi l'oggetto senza usare solo lettere maiuscole" in wrong
    definition = DEFINITIONS["extracontrattuale"]
    wrong = page_text(client.post("/modulo/extracontrattuale", data=spoiled(definition, data_showing(definition, "data_preferita"))))
    assert "Scegli una data dal" in wrong
    assert "Scrivi un numero intero" in wrong


def test_flow_confirmation_deflection_and_error_pages_say_tu(app, client):
    pages = {
        "search step": client.get("/"),
        "search results": client.get("/", query_string={"q": "la posta non arriva"}),
        "no results": client.get("/", query_string={"q": "zzzz qqqq"}),
        "types": client.get("/tipi"),
        "not found": client.get("/non-esiste"),
        "refused without search": FlaskClient(app).post("/modulo/email", data=valid_data(DEFINITIONS["email"])),
        "bot": client.post("/modulo/email", data=valid_data(DEFINITIONS["email"]) | {HONEYPOT_FIELD: "x"}),
        "attachment too big": post_multipart(client, "/modulo/email", valid_data(DEFINITIONS["email"]), [("log.txt", b"x" * 2_000_000)]),
    }
    solved = client.post("/risolto", data={"articolo": EMAIL_ARTICLE, "q": "la posta non arriva"})
    pages["solved"] = client.get(solved.location)
    smtp = {"tipo_problema": "errore", "direzione": "trasmissione", "server_smtp": "altro"}
    deflected = client.post("/modulo/email", data=data_showing(DEFINITIONS["email"], "server_smtp") | smtp)
    pages["deflection"] = client.get(deflected.location)
    sent = client.post("/modulo/email", data=valid_data(DEFINITIONS["email"]))
    pages["confirmation"] = client.get(sent.location)

    texts = {what: page_text(response) for what, response in pages.items()}
    assert "Rivolgiti a chi gestisce il tuo server SMTP" in texts["deflection"]
    assert "Richiesta inviata" in texts["confirmation"]
    assert "Pagina non trovata" in texts["not found"]
    with app.app_context():
        session = app.extensions["intake.db"].session()
        (raw,) = session.scalars(select(OutboxMessage.message).where(OutboxMessage.kind == "customer")).all()
        session.close()
    mail = message_from_bytes(raw, policy=policy.default)
    texts["confirmation e-mail"] = f"{mail['Subject']}\n{mail.get_content()}"
    assert "abbiamo ricevuto la tua richiesta" in texts["confirmation e-mail"]
    assert {what: voi_forms(text) for what, text in texts.items() if voi_forms(text)} == {}


@pytest.mark.parametrize("path", sorted(DEFAULT_FORMS_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_every_text_of_the_definitions_says_tu(path):
    texts = list(yaml_texts(yaml.safe_load(path.read_text(encoding="utf-8"))))
    assert len(texts) > 20  # the titles, labels and help texts really were read
    assert [t for t in texts if voi_forms(t)] == []


def test_the_answers_in_the_customers_voice_are_choices_of_a_definition():
    """The exemption covers only answers the customer picks, never a text addressed to the customer."""
    choices = {choice.label for d in DEFINITIONS.values() for spec in d.fields for choice in spec.choices}
    assert CUSTOMER_VOICE <= choices


def test_the_site_texts_we_wrote_say_tu(kb_articles):
    jinja_comment = re.compile(r"\{#.*?#\}", re.S)
    templates = sorted((ROOT / "overrides").rglob("*.html"))
    pages = [ROOT / "docs" / "index.md", ROOT / "docs" / "tags.md", *sorted((ROOT / "docs").glob("*/index.md"))]
    texts = {str(p.relative_to(ROOT)): VisibleText(jinja_comment.sub("", p.read_text(encoding="utf-8"))).text for p in templates}
    texts |= {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in pages}
    texts |= {f"summary of {a.slug}": a.summary for a in kb_articles}
    assert "Non hai trovato la risposta?" in texts["overrides/main.html"]
    assert {what: voi_forms(text) for what, text in texts.items() if voi_forms(text)} == {}


def test_the_voi_forms_are_recognised():
    """The word list catches the plural the forms used to speak, and lets the singular through."""
    assert voi_forms("Le risposte al ticket vi saranno notificate: indicate il vostro dominio.")
    assert voi_forms("Scegliete una data dal 01/01/2026 in poi.")
    assert voi_forms("Potete allegare al massimo 5 file: ne avete scelti 6.")
    assert not voi_forms("Le risposte al ticket ti saranno notificate: indica il tuo dominio.")
    assert not voi_forms("Puoi allegare al massimo 5 file: ne hai scelti 6. Sì, il server in uscita è il vostro")
