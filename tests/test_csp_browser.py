"""The intake's Content-Security-Policy in a real browser: enforced, and nothing of ours breaks it.

Chromium reports every blocked script, style, fetch or frame as a ``securitypolicyviolation``
event; the pages are driven through what their scripts do (suggestions while typing, a panel
computed live, fields shown and hidden) and no violation may occur. The other browser tests
run under the same policy too (axe-core is evaluated through the debugging protocol).
"""

from __future__ import annotations

from .helpers import form_url

RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def test_no_policy_violation_while_the_scripts_work(page, live_intake):
    page.add_init_script(RECORD_VIOLATIONS)  # runs before the page's own scripts, whatever the policy
    console = []
    page.on("console", lambda message: console.append(message.text))

    response = page.goto(live_intake + "/?q=la+posta+non+arriva")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert page.locator(".result").count() > 0

    page.goto(form_url(live_intake, "email"))
    with page.expect_response(lambda r: "/api/cerca?" in r.url):
        page.fill("#oggetto", "la posta non arriva su outlook")
    page.locator("#suggerimenti li").first.wait_for()  # suggest.js filled and showed the box
    violations = page.evaluate("() => window.__cspViolations")

    page.goto(form_url(live_intake, "extracontrattuale"))
    page.get_by_label("In fascia ordinaria").check()
    page.get_by_label("Normale: presa in carico entro 8 ore").check()
    page.get_by_label("Sistemista junior").check()
    page.fill("#durata_minuti", "31")
    page.wait_for_function("() => document.querySelector('#stima_costi-live .panel-strong dd')?.textContent === '€ 54,00 + IVA'")
    violations += page.evaluate("() => window.__cspViolations")

    assert violations == []
    assert not [text for text in console if "Content Security Policy" in text]


def test_an_inline_script_would_be_refused(page, live_intake):
    """The policy really is enforced: a script injected into the page does not run."""
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(live_intake + "/tipi")
    page.evaluate("""() => {
        const script = document.createElement("script");
        script.textContent = "window.__injected = true";
        document.body.appendChild(script);
    }""")
    assert page.evaluate("() => window.__injected === undefined")
    assert page.evaluate("() => window.__cspViolations")[0].startswith("script-src")
