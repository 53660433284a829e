"""The public search API (kb_build.search) on real Whoosh indexes.

Most tests search the index of the committed docs/ (``kb_index``); tests that need a word
in exactly one place build a small index from articles written into ``tmp_path``.
"""

from __future__ import annotations

import html
import threading
from pathlib import Path

import pytest

from kb_build import index as index_module
from kb_build.articles import load_docs
from kb_build.index import IndexBuildError, build_index
from kb_build.search import MAX_QUERY_CHARS, Hit, IndexUnavailable, Searcher, clean_query

EMAIL = "come-richiedere-assistenza-servizi-email"
MIGRATION = "migrazione-programmata-server-dedicati"
FEES = "assistenza-extracontrattuale-server-dedicati-server-virtuali-colocation"


def write_article(docs: Path, slug: str, title: str, body: str, category: str = "assistenza", **meta) -> None:
    folder = docs / category
    folder.mkdir(parents=True, exist_ok=True)
    front = {"title": title, "summary": meta.pop("summary", f"Riassunto di {title}."), "category": category}
    front.update(meta)
    lines = ["---", *(f"{key}: {value}" for key, value in front.items()), "---", "", body, ""]
    (folder / f"{slug}.md").write_text("\n".join(lines), encoding="utf-8")


def small_index(tmp_path: Path, articles: dict[str, tuple[str, str]], name: str = "index") -> Path:
    """Index of ``{slug: (title, body)}`` articles, all in the category 'assistenza'."""
    docs = tmp_path / f"docs-{name}"
    for slug, (title, body) in articles.items():
        write_article(docs, slug, title, body)
    loaded = load_docs(docs)
    assert not loaded.problems, loaded.problems
    return build_index(loaded.articles, tmp_path / name)


@pytest.fixture(scope="module")
def searcher(kb_index):
    with Searcher(kb_index) as searcher:
        yield searcher


def slugs(hits: list[Hit]) -> list[str]:
    return [hit.slug for hit in hits]


# ---------------------------------------------------------------------------
# Results


def test_hit_carries_what_the_intake_shows(searcher):
    hit = searcher.search("la posta non arriva")[0]
    assert hit.slug == EMAIL
    assert hit.url == f"email/{EMAIL}/"
    assert hit.title == "come richiedere assistenza per i servizi email"
    assert hit.summary.startswith("Cosa verificare prima")
    assert hit.category == "email" and hit.ticket_form == "email"
    assert hit.score > 0
    assert "<mark>" in hit.snippet and hit.snippet.count("<mark>") == hit.snippet.count("</mark>")
    assert hit.to_dict()["slug"] == EMAIL


def test_article_by_slug_for_links_and_context(searcher):
    hit = searcher.article(EMAIL)
    assert (hit.title, hit.url, hit.ticket_form) == ("come richiedere assistenza per i servizi email", f"email/{EMAIL}/", "email")
    assert hit.snippet == html.escape(hit.summary, quote=True)  # no query: the summary, escaped
    assert searcher.article("non-esiste") is None
    assert searcher.article("") is None


def test_results_are_ranked_and_limited(searcher):
    hits = searcher.search("assistenza server", limit=3)
    assert len(hits) == 3
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert len(searcher.search("assistenza server", limit=1)) == 1


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("emial non funziona", EMAIL),
        ("migrazzione del server", MIGRATION),
        ("migrazzioni", MIGRATION),  # plural and typo: fuzzy on the stem
        ("tarife notturne", FEES),
    ],
)
def test_typos_of_five_letters_or_more_still_find_the_article(searcher, query, expected):
    assert slugs(searcher.search(query))[0] == expected


def test_assitenza_finds_assistance_articles(searcher):
    hits = searcher.search("assitenza")
    assert hits and all("assistenza" in hit.title.lower() for hit in hits[:3])


def test_short_typos_are_not_fuzzy_matched(searcher):
    assert searcher.search("emal") == []  # 4 letters: too short to guess


def test_missing_accents_and_elision_do_not_change_results(searcher):
    assert slugs(searcher.search("perche il server e lento")) == slugs(searcher.search("perché il server è lento"))
    assert slugs(searcher.search("l’email")) == slugs(searcher.search("email"))
    assert slugs(searcher.search("dell'account")) == slugs(searcher.search("account"))


@pytest.mark.parametrize("query", ["", "   ", "come si fa?", "il la di da in con su per tra fra", "perché non"])
def test_empty_or_stop_word_only_query_gives_no_results(searcher, query):
    assert searcher.search(query) == []


# ---------------------------------------------------------------------------
# Synonyms, English words, snippets: on small indexes where each word is in one place


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("small")
    index_dir = small_index(
        tmp,
        {
            "tariffe-interventi": ("Tariffe degli interventi", "La tariffa oraria del sistemista junior."),
            "interventi-festivi": ("Interventi nei giorni festivi", "Lavoriamo anche nei giorni festivi."),
            "noleggio-server-dedicato": ("Noleggio di un server dedicato", "Un server dedicato tutto tuo."),
            "reparto-it": ("Contatti del reparto IT", "Il reparto IT risponde alle richieste interne."),
            "caratteri-speciali": (
                "Messaggi con caratteri speciali",
                'Se la casella mostra 1 < 2 & "x" > y, scriveteci.',
            ),
        },
    )
    with Searcher(index_dir) as searcher:
        yield searcher


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("quanto costa", "tariffe-interventi"),  # multi-word entry -> "tariffa"
        ("prezzo", "tariffe-interventi"),
        ("weekend", "interventi-festivi"),
        ("domenica", "interventi-festivi"),
        ("macchina", "noleggio-server-dedicato"),
        ("posta", "caratteri-speciali"),  # -> "casella"
    ],
)
def test_synonyms_find_articles_that_use_another_word(small, query, expected):
    assert slugs(small.search(query)) == [expected]


def test_english_it_is_a_word_not_a_stop_word(small):
    assert slugs(small.search("supporto IT")) == ["reparto-it"]


def test_snippet_is_escaped_html_with_marks(small):
    snippet = small.search("casella")[0].snippet
    assert "<mark>casella</mark>" in snippet
    assert snippet.endswith("mostra 1 &lt; 2 &amp; &quot;x&quot; &gt; y, scriveteci.")


def test_snippet_falls_back_to_the_summary_when_the_body_does_not_match(tmp_path):
    index_dir = small_index(tmp_path, {"solo-titolo": ("Backup giornaliero dei siti", "Nessuna parola utile qui.")})
    with Searcher(index_dir) as searcher:
        hit = searcher.search("backup")[0]
    assert hit.snippet == "Riassunto di <mark>Backup</mark> giornaliero dei siti."


def test_long_body_snippet_is_cut_around_the_matches(tmp_path):
    filler = " ".join(["parola"] * 300)
    body = f"{filler} il certificato scade domani {filler}"
    index_dir = small_index(tmp_path, {"certificati": ("Rinnovo dei certificati", body)})
    with Searcher(index_dir) as searcher:
        snippet = searcher.search("certificato scade")[0].snippet
    assert snippet.startswith("… ") and snippet.endswith(" …")
    assert "<mark>certificato</mark> <mark>scade</mark>" in snippet
    assert len(snippet) < 300


# ---------------------------------------------------------------------------
# Bad input: never an exception


BAD_QUERIES = {
    "10 KB": "posta non arriva " * 600,
    "10 KB one word": "a" * 10_000,
    "punctuation": "!!! ??? ... ,,, ;;; :: -- __ ** ## @@ $$ %%",
    "unbalanced quotes": '"posta non arriva',
    "single quote": "l'",
    "star": "*",
    "question mark": "?",
    "wildcards": "migr* ema?l",
    "boolean words": "AND OR NOT",
    "boolean syntax": "(posta AND) OR (NOT",
    "field syntax": "title:x",
    "field syntax 2": "slug:* url:email body:(posta)",
    "ranges and boosts": "[a TO z] posta^10 email~2 {x TO}",
    "control characters": "posta\x00\x01\x1b[31m\x7f\u200b\u202e",
    "emoji": "📧🔥 la posta non va 😡",
    "only emoji": "🙂🙂🙂",
    "backslashes": "\\ \\\\ \\posta",
    "html": "<script>alert(1)</script>",
    "sql": "'; DROP TABLE tickets; --",
    "newlines": "posta\n\nnon\r\narriva",
}


@pytest.mark.parametrize("query", BAD_QUERIES.values(), ids=BAD_QUERIES.keys())
def test_bad_input_returns_a_list(searcher, query):
    hits = searcher.search(query)
    assert isinstance(hits, list) and all(isinstance(hit, Hit) for hit in hits)


def test_long_query_is_bounded_and_still_answers(searcher):
    query = "posta non arriva " * 600
    assert len(clean_query(query)) <= MAX_QUERY_CHARS
    assert slugs(searcher.search(query))[0] == EMAIL


def test_query_syntax_is_plain_text(searcher):
    # "title:" is not a field prefix: the result is that of the words alone.
    assert slugs(searcher.search("title:migrazione")) == slugs(searcher.search("title migrazione"))
    assert slugs(searcher.search("migr*")) == slugs(searcher.search("migr"))


# ---------------------------------------------------------------------------
# Index lifecycle: missing, corrupt, rebuilt, swapped


def test_missing_index_says_how_to_build_it_and_is_found_once_built(tmp_path):
    searcher = Searcher(tmp_path / "index")  # an intake may start before the first build
    with pytest.raises(IndexUnavailable, match=r"no search index at .*: build it with `kb build`"):
        searcher.search("backup")
    with pytest.raises(IndexUnavailable, match="kb build"):
        searcher.check()
    small_index(tmp_path, {"backup-siti": ("Backup dei siti web", "Copie giornaliere.")})
    assert searcher.check() == 1
    assert slugs(searcher.search("backup")) == ["backup-siti"]


@pytest.mark.parametrize("damage", ["garbage toc", "no segment", "empty folder", "no synonyms"])
def test_corrupt_index_says_how_to_rebuild_it(tmp_path, damage):
    index_dir = small_index(tmp_path, {"uno-articolo": ("Un articolo di prova", "testo")})
    if damage == "garbage toc":
        for toc in index_dir.glob("*.toc"):
            toc.write_bytes(b"\x00garbage" * 10)
    elif damage == "no segment":
        for segment in index_dir.glob("*.seg"):
            segment.unlink()
    elif damage == "empty folder":
        for path in index_dir.iterdir():
            path.unlink()
    else:
        (index_dir / "synonyms.txt").unlink()
    with pytest.raises(IndexUnavailable, match=r"damaged .* rebuild it with `kb build`"):
        Searcher(index_dir).search("articolo")


def test_index_removed_after_opening_gives_the_same_clear_error(tmp_path):
    import shutil

    index_dir = small_index(tmp_path, {"uno-articolo": ("Un articolo di prova", "testo")})
    searcher = Searcher(index_dir)
    shutil.rmtree(index_dir)
    with pytest.raises(IndexUnavailable, match="kb build"):
        searcher.search("articolo")


def test_searcher_sees_a_rebuilt_index_without_being_reopened(tmp_path):
    first = {"backup-siti": ("Backup dei siti web", "Copie giornaliere.")}
    index_dir = small_index(tmp_path, first)
    searcher = Searcher(index_dir)
    assert slugs(searcher.search("backup")) == ["backup-siti"]
    assert searcher.search("certificato") == []
    docs = tmp_path / "docs-second"
    write_article(docs, "certificati-ssl", "Certificati SSL gratuiti", "Il certificato si rinnova da solo.")
    build_index(load_docs(docs).articles, index_dir)
    assert slugs(searcher.search("certificato")) == ["certificati-ssl"]
    assert searcher.search("backup") == []
    searcher.close()


def test_failed_build_leaves_the_previous_index_searchable(tmp_path, monkeypatch):
    index_dir = small_index(tmp_path, {"backup-siti": ("Backup dei siti web", "Copie giornaliere.")})
    searcher = Searcher(index_dir)
    before = searcher.search("backup")
    docs = tmp_path / "docs-next"
    write_article(docs, "primo-articolo", "Primo articolo nuovo", "uno")
    write_article(docs, "secondo-articolo", "Secondo articolo nuovo", "due")
    real_fields = index_module.article_fields
    calls = []

    def failing_fields(article):
        calls.append(article.slug)
        if len(calls) == 2:
            raise OSError("disk full")
        return real_fields(article)

    monkeypatch.setattr(index_module, "article_fields", failing_fields)
    with pytest.raises(IndexBuildError, match=f"cannot write the search index next to {index_dir}: disk full"):
        build_index(load_docs(docs).articles, index_dir)
    assert len(calls) == 2
    assert searcher.search("backup") == before and before
    assert Searcher(index_dir).search("backup") == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no temp folder left


def test_bad_synonym_file_fails_the_build_with_file_and_line(tmp_path):
    index_dir = small_index(tmp_path, {"backup-siti": ("Backup dei siti web", "Copie giornaliere.")})
    bad = tmp_path / "synonyms.txt"
    bad.write_text("# header\nposta, mail\nbackup\n", encoding="utf-8")
    docs = load_docs(tmp_path / "docs-index").articles
    with pytest.raises(IndexBuildError, match=r"synonyms.txt:3: a group needs at least two entries"):
        build_index(docs, index_dir, synonyms_file=bad)
    assert slugs(Searcher(index_dir).search("backup")) == ["backup-siti"]


def test_index_carries_its_synonym_table(tmp_path):
    table = tmp_path / "synonyms.txt"
    table.write_text("copia di sicurezza, backup\n", encoding="utf-8")
    docs = tmp_path / "docs"
    write_article(docs, "backup-siti", "Backup dei siti web", "Copie giornaliere.")
    index_dir = build_index(load_docs(docs).articles, tmp_path / "index", synonyms_file=table)
    with Searcher(index_dir) as searcher:
        assert slugs(searcher.search("copia di sicurezza")) == ["backup-siti"]
        assert searcher.search("posta") == []  # the shipped table is not used by this index


def test_concurrent_searches_from_threads_agree(searcher):
    queries = ["la posta non arriva", "migrazione server", "tariffe notturne", "emial", "come apro un ticket"]
    expected = {query: slugs(searcher.search(query)) for query in queries}
    failures = []

    def work():
        try:
            for _ in range(10):
                for query in queries:
                    if slugs(searcher.search(query)) != expected[query]:
                        failures.append(query)
        except Exception as exc:  # pragma: no cover - reported below
            failures.append(repr(exc))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


# ---------------------------------------------------------------------------
# Updates in place (mkdocs serve): seen at the next query, with fresh scores


def test_searcher_sees_updates_in_place_even_within_one_clock_tick(tmp_path):
    """Two in-place updates whose folder keeps its modification time are both seen: the
    searcher compares Whoosh's generation, not the folder's mtime."""
    import os

    from kb_build.index import article_fields, update_index

    index_dir = small_index(tmp_path, {"backup-siti": ("Backup dei siti web", "Copie giornaliere.")})
    searcher = Searcher(index_dir)
    assert searcher.search("certificato") == []
    frozen = os.stat(index_dir)
    docs = tmp_path / "docs-updates"
    for number, word in enumerate(("certificato", "firewall")):
        write_article(docs, f"nuovo-{number}", f"Articolo nuovo {number}", f"Parla di {word}.")
        article = next(a for a in load_docs(docs).articles if a.slug == f"nuovo-{number}")
        update_index(index_dir, [article_fields(article)])
        os.utime(index_dir, ns=(frozen.st_atime_ns, frozen.st_mtime_ns))  # same tick, as far as mtime tells
        assert slugs(searcher.search(word)) == [f"nuovo-{number}"]
    update_index(index_dir, [], deleted=["nuovo-0"])
    os.utime(index_dir, ns=(frozen.st_atime_ns, frozen.st_mtime_ns))
    assert searcher.search("certificato") == []
    assert slugs(searcher.search("backup")) == ["backup-siti"]
    searcher.close()


def test_cached_scores_are_dropped_when_the_index_changes_in_place(tmp_path):
    """After an update every score is the one a new searcher computes: document counts and
    average lengths changed, so no cached term score may survive."""
    from kb_build.index import article_fields, update_index

    articles = {f"posta-{n}": (f"Posta caso {n}", "La posta arriva lenta. " * (n + 1)) for n in range(4)}
    index_dir = small_index(tmp_path, articles)
    searcher = Searcher(index_dir)
    before = searcher.search("posta lenta", limit=10)
    docs = tmp_path / "docs-more"
    for n in range(3):
        write_article(docs, f"altro-{n}", f"Altro argomento {n}", "Il server dedicato. " * 30)
    write_article(docs, "posta-0", "Posta caso 0", "Tutt'altro: il server, la posta lenta e la posta persa.")
    update_index(index_dir, [article_fields(a) for a in load_docs(docs).articles])
    after = searcher.search("posta lenta", limit=10)
    with Searcher(index_dir) as fresh:
        expected = fresh.search("posta lenta", limit=10)
    assert [(h.slug, h.score) for h in after] == [(h.slug, h.score) for h in expected]
    assert [(h.slug, h.score) for h in after] != [(h.slug, h.score) for h in before]
    searcher.close()


# ---------------------------------------------------------------------------
# Related articles: a request type's usual articles, before any query


def test_related_articles_share_the_most_tags_first_then_the_category(tmp_path):
    docs = tmp_path / "docs"
    write_article(docs, "ip-aggiuntivi", "Indirizzi IP aggiuntivi", "Testo.", category="server-dedicati", tags="[IP, rete]")
    write_article(docs, "spostare-server", "Spostare un server", "Testo.", category="server-dedicati", tags="[Migrazione, IP]")
    write_article(docs, "backup-notturni", "Backup notturni", "Testo.", category="server-dedicati")
    write_article(docs, "posta-lenta", "Posta lenta", "Testo.", category="email", tags="[migrazione]")
    write_article(docs, "fatture", "Fatture non pagate", "Testo.", category="assistenza")
    loaded = load_docs(docs)
    assert not loaded.problems, loaded.problems
    with Searcher(build_index(loaded.articles, tmp_path / "index")) as searcher:
        related = searcher.related(["server-dedicati"], ["migrazione", "ip"], limit=10)
        assert slugs(related) == ["spostare-server", "ip-aggiuntivi", "posta-lenta", "backup-notturni"]
        assert related[0].tags == ("Migrazione", "IP") and related[0].snippet == "Riassunto di Spostare un server."
        assert slugs(searcher.related(["server-dedicati"], [], limit=2)) == ["backup-notturni", "ip-aggiuntivi"]
        assert searcher.related(["domini"], ["nessuno"]) == []


def test_related_articles_follow_an_update_in_place(tmp_path):
    docs = tmp_path / "docs"
    write_article(docs, "a", "Articolo A", "Testo.", tags="[dns]")
    write_article(docs, "b", "Articolo B", "Testo.")
    index_dir = build_index(load_docs(docs).articles, tmp_path / "index")
    with Searcher(index_dir) as searcher:
        assert slugs(searcher.related([], ["dns"])) == ["a"]
        write_article(docs, "b", "Articolo B", "Testo.", tags="[DNS]")
        [article_b] = [a for a in load_docs(docs).articles if a.slug == "b"]
        index_module.update_index(index_dir, [index_module.article_fields(article_b)], deleted=["a"])
        assert slugs(searcher.related([], ["dns"])) == ["b"]
