"""The built site in a real browser (Debian Chromium via Playwright), served on 127.0.0.1
under a sub-path: search from the home page, the call to action, a phone's screen,
accessibility (issue 4).

Here the intake is absent (the static server answers 404 at /richiesta/), so the site's
search falls back to Material's built-in one: this is also the fallback test of
assets/javascripts/intake-search.js.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from .helpers import INTAKE_RESULTS, assert_accessible, search_results

EMAIL = "email/come-richiedere-assistenza-servizi-email/"
TARIFFS = "server-dedicati/assistenza-extracontrattuale-server-dedicati-server-virtuali-colocation/"


def no_horizontal_overflow(page) -> dict:
    return page.evaluate(
        """() => ({
            page: document.documentElement.scrollWidth,
            body: document.body.scrollWidth,
            viewport: document.documentElement.clientWidth,
        })"""
    )


def assert_fits(page, where: str) -> None:
    sizes = no_horizontal_overflow(page)
    assert sizes["page"] <= sizes["viewport"] and sizes["body"] <= sizes["viewport"], (where, sizes)


def open_email_article_from_results(page, site_base) -> None:
    results = search_results(page)
    assert results[0] == site_base + EMAIL, results
    page.locator(f'[data-md-component=search-result] a.md-search-result__link[href*="{EMAIL}"]').first.click()
    page.wait_for_url(lambda url: urlsplit(url).path == urlsplit(site_base + EMAIL).path)


def assert_ticket_button(page, site_base) -> None:
    button = page.get_by_role("link", name="Apri un ticket")
    button.scroll_into_view_if_needed()
    assert button.is_visible()
    target = urlsplit(button.evaluate("a => a.href"))
    assert target.netloc == urlsplit(site_base).netloc and target.path == "/richiesta/"
    assert parse_qs(target.query) == {"tipo": ["email"], "articolo": ["come-richiedere-assistenza-servizi-email"]}


def test_home_search_box_finds_the_email_article_and_its_ticket_button(page, site_base):
    page.goto(site_base)
    page.click("#kb-search-entry-q")  # the box on the home page, not the header's icon
    page.keyboard.type("posta non arriva")
    assert page.locator("[data-md-component=search-query]").input_value() == "posta non arriva"
    assert page.locator(INTAKE_RESULTS).is_hidden()  # no intake here: built-in results, silently
    open_email_article_from_results(page, site_base)
    assert_ticket_button(page, site_base)


def test_home_search_box_works_from_the_keyboard_and_finds_words_of_the_body(page, site_base):
    page.goto(site_base)
    page.focus("#kb-search-entry-q")
    page.keyboard.type("Thunderbird")  # only in the e-mail article's body, not in a title
    page.keyboard.press("Enter")
    assert search_results(page)[0] == site_base + EMAIL


def test_search_link_with_a_query_opens_the_results(page, site_base):
    """What the home page's form submits without JavaScript (?q=...), Material opens as a search."""
    page.goto(site_base + "?q=tariffe+notturne")
    assert site_base + TARIFFS in search_results(page)[:3]


def test_phone_search_from_the_home_page_and_ticket_button(phone_page, site_base):
    page = phone_page
    page.goto(site_base)
    assert_fits(page, "home")
    page.tap("#kb-search-entry-q")
    page.keyboard.type("posta non arriva")
    open_email_article_from_results(page, site_base)
    assert_fits(page, EMAIL)
    assert_ticket_button(page, site_base)


def test_phone_every_article_fits_and_tables_scroll_inside_their_wrapper(phone_page, site_base, kb_articles):
    page = phone_page
    tables_seen = 0
    for article in kb_articles:
        page.goto(site_base + article.url)
        assert_fits(page, article.url)
        tables = page.evaluate(
            """() => [...document.querySelectorAll("article table")].map(table => {
                const wrap = table.closest(".md-typeset__scrollwrap");
                const box = (wrap || table).getBoundingClientRect();
                const prices = [...table.querySelectorAll("td:last-child")].filter(td => td.textContent.trim());
                return {
                    scrolls: wrap ? getComputedStyle(wrap).overflowX : "none",
                    right: box.right,
                    width: document.documentElement.clientWidth,
                    brokenPrices: prices.filter(td => {
                        const range = document.createRange();
                        range.selectNodeContents(td);
                        return new Set([...range.getClientRects()].map(r => Math.round(r.top))).size > 1;
                    }).map(td => td.textContent),
                };
            })"""
        )
        for table in tables:
            tables_seen += 1
            assert table["scrolls"] in ("auto", "scroll"), (article.url, table)
            assert table["right"] <= table["width"], (article.url, table)
            assert table["brokenPrices"] == [], (article.url, table)
    assert tables_seen >= 3  # the tariff tables


@pytest.mark.parametrize("path", ["", "server-dedicati/", TARIFFS, "404.html"])
def test_no_serious_accessibility_violations(page, site_base, path):
    page.goto(site_base + path)
    assert_accessible(page)
