"""The Italian analyzer and the synonym table (kb_build.analysis)."""

from __future__ import annotations

import pytest

from kb_build.analysis import (
    SYNONYMS_FILE,
    SynonymError,
    analyze_words,
    italian_analyzer,
    load_synonyms,
    parse_synonyms,
)


@pytest.fixture(scope="module")
def analyzer():
    return italian_analyzer()


def words(analyzer, text: str) -> list[str]:
    return [token.text for token in analyzer(text)]


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("l'email", "email"),
        ("l’email", "email"),
        ("dell'account", "account"),
        ("dell’account", "account"),
        ("un'ora", "ora"),
        ("un’altra casella", "altra casella"),
        ("quest'anno", "anno"),
        ("d'accordo", "accordo"),
    ],
)
def test_elision_is_stripped_with_both_apostrophes(analyzer, text, plain):
    assert words(analyzer, text) == words(analyzer, plain)
    assert words(analyzer, "l'email") == ["email"]


def test_elision_keeps_character_offsets_for_highlighting(analyzer):
    text = "Configurare l’email"
    token = [t for t in analyzer(text, chars=True)][-1]
    assert text[token.startchar : token.endchar] == "email"


@pytest.mark.parametrize(("typed", "written"), [("perche", "perché"), ("citta", "città"), ("e", "È"), ("piu", "più")])
def test_accents_do_not_matter(analyzer, typed, written):
    assert words(analyzer, typed) == words(analyzer, written)


def test_italian_stop_words_go_but_english_it_stays(analyzer):
    assert words(analyzer, "il supporto IT della azienda") == ["support", "it", "azi"]
    assert words(analyzer, "come si fa? perché non posso") == []


def test_snowball_stemming_joins_inflections(analyzer):
    assert words(analyzer, "servizi") == words(analyzer, "servizio")
    assert words(analyzer, "tariffe") == words(analyzer, "tariffa")


@pytest.mark.parametrize(("noun", "verb"), [("migrazione", "migrare"), ("telefonica", "telefono"), ("gestione", "gestire")])
def test_derivational_bridge_where_snowball_splits_a_family(analyzer, noun, verb):
    assert words(analyzer, noun) == words(analyzer, verb)


def test_overlong_tokens_are_dropped(analyzer):
    assert words(analyzer, "x" * 41 + " posta") == ["post"]


def test_shipped_synonym_table_has_the_required_groups(analyzer):
    synonyms = load_synonyms(analyzer, SYNONYMS_FILE)
    key = synonyms.index()

    def group(text):
        return key[tuple(w.text for w in analyze_words(analyzer, text))]

    required = [
        ("email", "posta", "mail", "casella"),
        ("ticket", "richiesta", "segnalazione"),
        ("costo", "prezzo", "tariffa", "quanto costa"),
        ("notte", "notturno"),
        ("festivo", "weekend", "domenica"),
        ("server", "macchina"),
        ("urgente", "emergenza"),
        ("migrazione", "trasferimento"),
    ]
    for entries in required:
        assert len({group(entry) for entry in entries}) == 1, entries


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("posta", "a group needs at least two entries"),
        ("posta, , mail", "empty entry"),
        ("posta, il di", "has only common words"),
    ],
)
def test_synonym_file_problems_name_the_line(analyzer, line, message):
    text = "# comment\n\n" + line + "\nemail, mail\n"
    with pytest.raises(SynonymError, match=message) as caught:
        parse_synonyms(text, analyzer, where="synonyms.txt")
    assert str(caught.value).startswith("synonyms.txt:3: ")


def test_multi_word_synonym_entries_keep_their_stop_words_for_matching(analyzer):
    synonyms = parse_synonyms("costo, quanto costa\n", analyzer)
    assert ("quanto", "cost") in synonyms.index()


def chain_postings(analyzer, text: str) -> dict[str, list[int]]:
    """``{term: positions}`` as Whoosh's writer gets them from the analyzer chain."""
    found: dict[str, list[int]] = {}
    for token in analyzer(text, positions=True, mode="index"):
        if not token.stopped:
            found.setdefault(token.text, []).append(token.pos)
    return found


@pytest.mark.parametrize(
    "text",
    [
        "L'email dell’account non arriva: d'accordo, don't panic!",
        "Perché la CITTÀ è un'ora lontana? l'l' 'ciao' un’altra",
        "Servizi, servizio; migrare la migrazione, telefonare al telefono.",
        "x y z " + "a" * 41 + " bb " + "c" * 40 + " foo_bar 3.5 2024 IT supporto it",
        "",
        "il lo la di da",
    ],
)
def test_index_terms_are_the_analyzer_chain_postings(analyzer, text):
    """The indexing fast path gives Whoosh exactly the terms and positions of the chain."""
    from kb_build.analysis import index_terms

    assert index_terms(text) == chain_postings(analyzer, text)


def test_index_terms_match_the_chain_on_every_real_article(analyzer, kb_articles):
    from kb_build.analysis import index_terms

    for article in kb_articles:
        for text in (article.title, article.summary, article.text, "\n".join(article.headings)):
            assert index_terms(text) == chain_postings(analyzer, text), article.slug
