"""Deterministic synthetic knowledge base for benchmarks: ``docs/<category>/<slug>.md``.

    python -m tests.bench.synth OUT_DIR 1000      # writes OUT_DIR/docs/...

Articles have valid front matter for our model (``kb check`` passes: unique titles and
slugs, known categories, services and request types, summaries <= 160 characters) and an
Italian-like body: real support vocabulary mixed with generated Italian-sounding words,
drawn with a Zipf distribution within 40 topics, so the index sees a realistic, growing
vocabulary (about 36,000 distinct words at 5,000 articles, the commonest in about half of
them) rather than a handful of words repeated in every article. The same ``seed`` and
``count`` always give byte-identical files; article ``n`` does not depend on ``count``,
so the 100-article KB is a prefix of the 1,000-article one.

:func:`generate` writes the articles plus ``docs/index.md`` and one ``index.md`` per
category, so a copy of ``mkdocs.yml`` and ``overrides/`` next to ``docs/`` builds a site.
"""

from __future__ import annotations

import random
import sys
from itertools import accumulate
from pathlib import Path

import yaml

from kb_build.catalog import load_catalog
from kb_build.text import slugify

TICKET_FORMS = ("generico", "email", "commerciale", "extracontrattuale", "migrazione", "rubalo")

FUNCTION_WORDS = """
il lo la i gli le un una di a da in con su per tra del della dei delle al alla nel nella
sul sulla e o ma se che non come anche più già quando dove questo questa quello ogni
è sono può deve viene essere avere ha hanno si ci vi
""".split()

# Real support vocabulary (hosting, mail, servers, tickets), including the synonym table's words.
CONTENT_WORDS = """
server dedicato virtuale vps colocation hosting dominio domini dns record mx cname zona
posta email mail casella caselle messaggio messaggi allegato allegati webmail client
outlook thunderbird smtp imap pop porta autenticazione password utente account pannello
controllo helpdesk ticket richiesta segnalazione assistenza supporto tecnico tecnici
sistemista sistemisti intervento interventi urgente urgenza emergenza notte notturno
festivo festivi domenica weekend orario ufficio lunedì venerdì tariffa tariffe costo
prezzo preventivo fattura fatturazione pagamento rinnovo scadenza contratto servizio
servizi piano piani basic managed global backup restore ripristino copia sicurezza
certificato ssl https sito siti wordpress database mysql php versione aggiornamento
aggiornamenti sistema operativo linux windows riavvio monitoraggio disco spazio memoria
traffico banda rete indirizzo ip firewall attacco hacker virus antivirus spam filtro
migrazione migrare trasferimento spostamento nuovo vecchio dati contenuti applicativi
configurazione configurare installazione installare libreria librerie pannello cpanel
plesk errore errori problema problemi guasto malfunzionamento lento lentezza velocità
invio ricezione inviare ricevere spedire arrivare bloccato bloccata rifiutato coda
registrazione registrare trasferire autorizzazione codice authcode whois titolare
cliente clienti utenti personale farm datacenter hardware disco raid alimentazione
preavviso giorni ore settimana data pianificato pianificazione switch spegnimento
cancellazione archivio log estratti analisi consulenza progetto progettazione
""".split()

TAGS = (
    "email", "smtp", "webmail", "dns", "domini", "ticket", "backup", "migrazione", "tariffe",
    "urgenza", "ssl", "wordpress", "database", "sicurezza", "monitoraggio", "fatturazione",
)

_ONSETS = "b c d f g l m n p r s t v z br cr dr fr gr pr tr st sp sc ch gh gl".split()
_VOWELS = "a e i o u a e i o a".split()
_ENDINGS = "are ere ire ato ata ati ate ione ioni mente ità ore ori ale ali ente enti oso osa ino ina etto etta".split()


def _invented_words(rng: random.Random, count: int) -> list[str]:
    """Italian-sounding words: consonant-vowel syllables plus an Italian ending."""
    words: set[str] = set()
    while len(words) < count:
        syllables = rng.choice((1, 2, 2, 3))
        stem = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(syllables))
        words.add(stem + rng.choice(_ENDINGS))
    return sorted(words)


TOPICS = 40
TOPIC_SHARE = 0.7  # share of an article's content words drawn from its topic


def _zipf(count: int, offset: int = 10, exponent: float = 1.05) -> list[float]:
    return list(accumulate(1.0 / (rank + offset) ** exponent for rank in range(count)))


class Vocabulary:
    """Words with Zipf frequencies, real support words first, then invented ones.

    KB articles are about topics (mail, DNS, migrations...): each article has one of
    :data:`TOPICS` topics and takes :data:`TOPIC_SHARE` of its content words from that
    topic's own ranking (25 support words and 800 invented words), the rest from the
    global ranking. So a common word is common in its topic's articles, not in all of them.
    """

    def __init__(self, seed: int, invented: int = 40_000):
        rng = random.Random(seed)
        invented_words = _invented_words(rng, invented)
        rng.shuffle(invented_words)
        self.content = CONTENT_WORDS + invented_words
        self._cumulative = _zipf(len(self.content))
        self.topics = []
        for _ in range(TOPICS):
            words = rng.sample(CONTENT_WORDS, 25) + rng.sample(invented_words, 800)
            self.topics.append(words)
        self._topic_cumulative = _zipf(825, offset=3, exponent=1.0)
        self._function_cumulative = list(accumulate(1.0 / (rank + 1) for rank in range(len(FUNCTION_WORDS))))

    def words(self, rng: random.Random, count: int, topic: int | None = None) -> list[str]:
        if topic is None:
            return rng.choices(self.content, cum_weights=self._cumulative, k=count)
        local = sum(1 for _ in range(count) if rng.random() < TOPIC_SHARE)
        words = rng.choices(self.topics[topic], cum_weights=self._topic_cumulative, k=local)
        words += rng.choices(self.content, cum_weights=self._cumulative, k=count - local)
        rng.shuffle(words)
        return words

    def sentence(self, rng: random.Random, low: int = 8, high: int = 18, topic: int | None = None) -> str:
        length = rng.randint(low, high)
        content = self.words(rng, length, topic)
        glue = rng.choices(FUNCTION_WORDS, cum_weights=self._function_cumulative, k=length)
        words = [w for pair in zip(glue, content) for w in pair][rng.randint(0, 1) :][:length]
        text = " ".join(words)
        return text[0].upper() + text[1:] + rng.choice((".", ".", ".", "?", ":"))


def article_markdown(vocabulary: Vocabulary, number: int, seed: int, titles: set[str]) -> tuple[str, str, str]:
    """``(category, slug, markdown)`` of article ``number``; ``titles`` keeps titles unique."""
    rng = random.Random(f"{seed}-{number}")
    catalog = load_catalog()
    category = rng.choice(sorted(catalog.categories))
    topic = rng.randrange(TOPICS)
    while True:
        words = vocabulary.words(rng, rng.randint(3, 6), topic)
        title = f"Come gestire {' '.join(words)}"
        if title.casefold() not in titles:
            titles.add(title.casefold())
            break
    slug = f"{slugify(title, max_length=60)}-{number}"
    summary = vocabulary.sentence(rng, 10, 20, topic)
    if len(summary) > 160:
        summary = summary[:157].rsplit(" ", 1)[0] + "."
    meta = {
        "title": title,
        "summary": summary,
        "category": category,
        "services": sorted(rng.sample(sorted(catalog.services), rng.randint(0, 3))),
        "tags": sorted(rng.sample(TAGS, rng.randint(1, 4))),
        "ticket_form": rng.choice(TICKET_FORMS),
    }
    body = [vocabulary.sentence(rng, topic=topic) + " " + vocabulary.sentence(rng, topic=topic), ""]
    for _ in range(rng.randint(2, 5)):
        heading = " ".join(vocabulary.words(rng, rng.randint(2, 4), topic))
        body += [f"## {heading.capitalize()}", ""]
        for _ in range(rng.randint(1, 3)):
            body += [" ".join(vocabulary.sentence(rng, topic=topic) for _ in range(rng.randint(2, 5))), ""]
        if rng.random() < 0.4:
            body += [f"- {vocabulary.sentence(rng, 4, 10, topic)}" for _ in range(rng.randint(2, 5))] + [""]
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1000)
    return category, slug, f"---\n{front}---\n\n" + "\n".join(body)


def generate(out_dir: Path, count: int, seed: int = 1) -> Path:
    """Write ``count`` articles (plus home and category pages) under ``out_dir/docs``."""
    docs = Path(out_dir) / "docs"
    vocabulary = Vocabulary(seed)
    titles: set[str] = set()
    catalog = load_catalog()
    for slug, category in catalog.categories.items():
        folder = docs / slug
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "index.md").write_text(f"---\ntitle: {category.label}\n---\n\n# {category.label}\n", encoding="utf-8")
    (docs / "index.md").write_text("---\ntitle: Knowledge base sintetica\n---\n\n# Knowledge base sintetica\n", encoding="utf-8")
    for number in range(count):
        category, slug, markdown = article_markdown(vocabulary, number, seed, titles)
        (docs / category / f"{slug}.md").write_text(markdown, encoding="utf-8")
    return docs


def queries(count: int, seed: int = 1) -> list[str]:
    """Customer-like queries over the same vocabulary: 1-4 words, some typos, stop words."""
    rng = random.Random(f"queries-{seed}")
    vocabulary = Vocabulary(seed)
    found = []
    for _ in range(count):
        # A customer's words come from the topic of their problem, like the articles'.
        words = vocabulary.words(rng, rng.randint(1, 4), topic=rng.randrange(TOPICS))
        if rng.random() < 0.15:
            long = [i for i, w in enumerate(words) if len(w) >= 6]
            if long:
                i = rng.choice(long)
                j = rng.randrange(1, len(words[i]) - 1)
                words[i] = words[i][:j] + words[i][j + 1] + words[i][j] + words[i][j + 2 :]
        if rng.random() < 0.3:
            words.insert(0, rng.choice(("come", "non", "il", "perché", "quanto costa", "la mia")))
        found.append(" ".join(words))
    return found


if __name__ == "__main__":  # pragma: no cover
    target, number = Path(sys.argv[1]), int(sys.argv[2])
    print(generate(target, number))
