"""The visitor chat in a real browser: the page, the article, the widget on other origins.

Playwright drives Debian's Chromium (/usr/bin/chromium) against a live `assistant serve` on a
free port; partner pages that embed the widget are served from two more ports, one of them in
ASSISTANT_ALLOWED_ORIGINS and one not. `scripts/setup-browser` installs Chromium and axe-core;
when either is missing these tests fail (they never skip). Screenshots go to docs/screenshots/.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from browser import (
    AXE,
    CSP_WATCH,
    SCREENSHOTS,
    SETUP,
    launch_chromium,
    serve,
    server_env,
    sync_playwright,
    watch,
)

ANSWERED = "What is web3.py used for?"
NO_ANSWER = "How tall is the Eiffel tower?"
# The one known axe finding, minor: role=combobox on the <textarea> (the ARIA combobox pattern
# for a multi-line input; HTML-ARIA lists no role for textarea).
KNOWN_MINOR = {("aria-allowed-role", "#question")}


# ------------------------------------------------------------------ servers


PARTNER_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>Acme Travel — partner page</title>
<style>
  /* a host page whose CSS would wreck a widget that did not isolate its styles */
  * { font-family: Georgia, serif !important; }
  button { background: #a00 !important; color: #fff; width: 300px !important; border-radius: 0 !important; }
  body { margin: 0; padding: 2rem; background: #fdf6e3; color: #222; }
  main { max-width: 40rem; }
</style>
</head>
<body>
<main>
<h1>Acme Travel</h1>
<p>Our booking platform runs on a Python backend. Questions about it? Ask our assistant.</p>
<button type="button" id="host-button">A button of the host page</button>
</main>
<script src="{server}/widget.js"></script>
</body>
</html>
"""


class _PartnerSite(BaseHTTPRequestHandler):
    """A page of another origin with the widget's script tag on it."""

    server_url = ""

    def do_GET(self) -> None:  # noqa: N802 - the http.server API
        if self.path != "/":
            self.send_error(404)
            return
        body = PARTNER_PAGE.replace("{server}", self.server_url).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@dataclass
class Servers:
    url: str  # the assistant
    db: Path
    partner: str  # an allowed origin
    stranger: str  # an origin not in ASSISTANT_ALLOWED_ORIGINS


def _start_partner(handler: type) -> tuple[ThreadingHTTPServer, str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """A live `assistant serve`, and two partner sites (one allowed to embed it, one not)."""
    tmp = tmp_path_factory.mktemp("browser")
    handler = type("Partner", (_PartnerSite,), {})
    partner, partner_url = _start_partner(handler)
    stranger, stranger_url = _start_partner(handler)
    env = server_env(tmp / "a.db", ASSISTANT_ALLOWED_ORIGINS=partner_url)
    try:
        with serve(env, tmp / "server.log") as url:
            handler.server_url = url
            yield Servers(url, tmp / "a.db", partner_url, stranger_url)
    finally:
        partner.shutdown()
        stranger.shutdown()


# ------------------------------------------------------------------ the browser


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, driven by Playwright (its own browser downloads do not work here)."""
    with sync_playwright()() as p:
        b = launch_chromium(p)
        yield b
        b.close()


@pytest.fixture()
def context(browser):
    """A fresh browser context (empty sessionStorage) per test."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    ctx.add_init_script(CSP_WATCH)
    yield ctx
    ctx.close()


@pytest.fixture()
def page(context, servers):
    """The chat page; after the test, there must have been no console error or CSP violation."""
    w = watch(context)
    w.page.goto(servers.url + "/")
    yield w.page
    assert w.problems() == []


def ask(page, question: str, root: str = ""):
    """Type a question, press Enter, wait for the reply; return the reply's turn."""
    box = page.locator(f"{root} textarea".strip())
    box.fill(question)
    turns = page.locator(f"{root} .turn.bot:not(.pending)".strip())
    before = turns.count()
    box.press("Enter")
    turns.nth(before).wait_for()
    return turns.nth(before)


def axe_violations(page) -> list[dict]:
    """axe-core's violations on the page (shadow roots included)."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: {SETUP}")
    # Injected through the DevTools protocol: a <script> tag (add_script_tag) is inline code,
    # which the page's own CSP rightly refuses.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    return page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        targets: v.nodes.map(n => n.target.flat().join(" "))}))"""
    )


def assert_accessible(page, what: str) -> None:
    found = axe_violations(page)
    serious = [v for v in found if v["impact"] in ("serious", "critical")]
    assert serious == [], f"{what}: {json.dumps(serious, indent=1)}"
    others = [
        v for v in found if not all((v["id"], t.split()[-1]) in KNOWN_MINOR for t in v["targets"])
    ]
    assert others == [], f"{what}: {json.dumps(others, indent=1)}"


def no_sideways_scroll(page) -> bool:
    return page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def screenshot(page, name: str, **kwargs) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), animations="disabled", caret="hide", **kwargs)


# ------------------------------------------------------------------ the chat page


def test_ask_and_see_the_answer(page):
    turn = ask(page, ANSWERED)
    assert page.locator(".turn.user .bubble").inner_text() == ANSWERED
    answer = turn.locator(".answer")
    assert "Ethereum" in answer.locator(".passage").first.inner_text()
    assert answer.locator(".passage").first.locator("strong.best").count() == 1
    assert "web3.py" in [
        m.lower() for m in answer.locator(".passage").first.locator("mark").all_inner_texts()
    ]
    source = answer.locator(".source a").first
    assert source.inner_text() == "Python for Backend"
    assert "/article/python-for-backend#p" in source.get_attribute("href")
    assert "%)" in answer.locator(".confidence").inner_text()
    # the answer is announced, and the input kept the focus, empty, for the next question
    assert page.locator(".log").get_attribute("aria-live") == "polite"
    assert page.evaluate("document.activeElement.id") == "question"
    assert page.locator("textarea").input_value() == ""
    # the runners-up are one click away
    others = answer.locator("details.others")
    assert not others.locator(".other").first.is_visible()
    others.locator("summary").click()
    assert others.locator(".other").first.is_visible()


def test_enter_sends_and_shift_enter_makes_a_new_line(page):
    box = page.locator("textarea")
    box.click()
    box.press_sequentially("What is Django?")
    box.press("Shift+Enter")
    box.press_sequentially("Is it secure?")
    assert box.input_value() == "What is Django?\nIs it secure?"
    assert page.locator(".turn").count() == 0
    box.press("Enter")
    page.locator(".turn.bot:not(.pending)").wait_for()
    assert page.locator(".bubble").inner_text() == "What is Django?\nIs it secure?"
    assert page.evaluate("document.activeElement.id") == "question"


def test_the_source_link_lands_on_the_highlighted_passage(page, servers):
    turn = ask(page, ANSWERED)
    href = turn.locator(".source a").first.get_attribute("href")
    turn.locator(".source a").first.click()
    page.wait_for_url(f"**{href}")
    anchor = href.split("#", 1)[1]
    target = page.locator(":target")
    assert target.get_attribute("id") == anchor
    assert page.evaluate("document.activeElement.id") == anchor  # focused for screen readers
    assert "Ethereum" in target.inner_text()
    background = target.evaluate("el => getComputedStyle(el).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")
    box = target.bounding_box()
    assert box and 0 <= box["y"] < 800  # scrolled into view
    # back to the chat: the conversation is still there (sessionStorage)
    page.go_back()
    page.locator(".turn.bot .answer").wait_for()
    assert page.locator(".bubble").inner_text() == ANSWERED


def test_the_conversation_survives_a_reload_and_can_be_cleared(page):
    ask(page, ANSWERED)
    page.reload()
    page.locator(".turn.bot .answer").wait_for()
    assert page.locator(".bubble").all_inner_texts() == [ANSWERED]
    assert page.locator(".starters").is_hidden()
    page.get_by_role("button", name="Clear conversation").click()
    assert page.locator(".turn").count() == 0
    assert page.locator(".starters").is_visible()
    assert page.evaluate("sessionStorage.length") == 0
    assert page.evaluate("document.activeElement.id") == "question"


def test_a_question_without_answer_offers_suggestions_that_answer(page):
    turn = ask(page, NO_ANSWER)
    card = turn.locator(".no-answer")
    assert "doesn't mention" in card.locator(".message").inner_text()
    assert turn.locator(".passage").count() == 0  # the nearest passages are not shown as an answer
    buttons = card.locator("button.suggestion")
    assert buttons.count() >= 1
    question = buttons.first.inner_text()
    buttons.first.click()
    page.locator(".turn.bot:not(.pending)").nth(1).wait_for()
    assert page.locator(".bubble").nth(1).inner_text() == question
    assert page.locator(".turn.bot").nth(1).locator(".answer:not(.no-answer)").count() == 1


def test_a_starter_question_is_asked_by_clicking_it(page):
    starter = page.locator(".starters button.suggestion").first
    question = starter.inner_text()
    starter.click()
    page.locator(".turn.bot:not(.pending)").wait_for()
    assert page.locator(".bubble").inner_text() == question


def test_a_follow_up_uses_the_conversation_and_shows_its_topic(page):
    sent = []
    page.on(
        "request",
        lambda r: sent.append(json.loads(r.post_data)) if r.url.endswith("/api/ask") else None,
    )
    ask(page, "What is Django?")
    assert page.locator(".chip").is_hidden()
    turn = ask(page, "Is it secure?")
    assert sent[-1]["history"] == ["What is Django?"]
    chip = page.locator(".chip")
    assert chip.is_visible() and chip.locator(".chip-text").inner_text() == "About: Django"
    assert "secur" in turn.locator(".passage").first.inner_text().lower()
    # forgetting the topic: the next question is sent without the conversation before it
    chip.get_by_role("button", name="Forget this topic").click()
    assert chip.is_hidden()
    assert page.evaluate("document.activeElement.id") == "question"
    ask(page, "What is Flask?")
    assert sent[-1]["history"] == []


def test_feedback_is_stored(page, servers):
    turn = ask(page, ANSWERED)
    turn.get_by_role("button", name="Yes").click()
    thanks = turn.locator(".thanks")
    thanks.wait_for()
    assert "Thanks" in thanks.inner_text()
    assert page.evaluate("document.activeElement.classList.contains('thanks')")
    answer_id = page.evaluate(
        "JSON.parse(sessionStorage.getItem('faq-assistant:page')).turns[0].reply.answers[0].id"
    )
    with sqlite3.connect(servers.db) as db:
        rows = db.execute(
            "SELECT question, answer_id, helpful FROM feedback WHERE question = ?", (ANSWERED,)
        ).fetchall()
    assert rows == [(ANSWERED, answer_id, 1)]
    page.reload()  # the thank-you stays: no second vote from the same conversation
    page.locator(".turn.bot .thanks").wait_for()
    assert page.get_by_role("button", name="Yes").count() == 0


def test_html_in_a_question_is_shown_as_text_and_runs_nothing(page):
    evil = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script><b>bold</b>'
    ask(page, evil)
    assert page.locator(".bubble").inner_text() == evil
    assert page.locator(".log img, .log script, .log b").count() == 0
    assert page.evaluate("window.__pwned") is None


def test_suggestions_while_typing_work_with_the_keyboard(page):
    box = page.locator("textarea")
    assert box.get_attribute("role") == "combobox"
    box.press_sequentially("djan")
    options = page.locator("#question-suggestions [role=option]")
    options.first.wait_for()
    assert box.get_attribute("aria-expanded") == "true"
    assert all("django" in o.lower() for o in options.all_inner_texts()[:2])
    box.press("ArrowDown")
    box.press("ArrowDown")
    second = options.nth(1)
    assert box.get_attribute("aria-activedescendant") == second.get_attribute("id")
    assert second.get_attribute("aria-selected") == "true"
    box.press("ArrowUp")
    assert box.get_attribute("aria-activedescendant") == options.nth(0).get_attribute("id")
    box.press("Escape")
    assert page.locator("#question-suggestions").is_hidden()
    assert box.get_attribute("aria-expanded") == "false"
    assert box.input_value() == "djan"
    box.press_sequentially("go")
    options.first.wait_for()
    chosen = options.first.inner_text()
    box.press("ArrowDown")
    box.press("Enter")
    page.locator(".turn.bot:not(.pending)").wait_for()
    assert page.locator(".bubble").inner_text() == chosen


def test_the_page_works_without_javascript(browser, servers):
    ctx = browser.new_context(java_script_enabled=False)
    try:
        page = ctx.new_page()
        page.goto(servers.url + "/")
        page.fill("textarea", "What is Django?")
        page.get_by_role("button", name="Ask", exact=True).click()
        page.locator(".turn.bot .answer").wait_for()
        assert page.locator(".bubble").all_inner_texts() == ["What is Django?"]
        # a follow-up: the conversation travels in hidden fields
        page.fill("textarea", "Is it secure?")
        page.get_by_role("button", name="Ask", exact=True).click()
        page.locator(".turn.bot").nth(1).wait_for()
        assert page.locator(".bubble").all_inner_texts() == ["What is Django?", "Is it secure?"]
        assert page.locator(".turn.bot").nth(1).locator(".context").inner_text() == "About: Django"
        # a question without an answer: its suggestions are buttons that ask them
        page.fill("textarea", NO_ANSWER)
        page.get_by_role("button", name="Ask", exact=True).click()
        suggestion = page.locator(".turn.bot").nth(2).locator("button.suggestion").first
        question = suggestion.inner_text()
        suggestion.click()
        page.locator(".turn.bot").nth(3).wait_for()
        assert page.locator(".bubble").nth(3).inner_text() == question
        assert page.locator(".turn.bot").nth(3).locator(".source a").count() >= 1
    finally:
        ctx.close()


# ------------------------------------------------------------------ the widget


def open_widget(page, url: str) -> None:
    page.goto(url)
    page.locator(".launcher").wait_for()  # Playwright's CSS selectors pierce open shadow roots
    page.locator(".launcher").click()
    page.locator(".panel textarea").wait_for()


def test_the_widget_on_an_allowed_origin_answers(context, servers):
    w = watch(context)
    page = w.page
    open_widget(page, servers.partner + "/")
    # the host page's CSS did not get in, and the widget's did not get out
    launcher = page.locator(".launcher")
    assert launcher.evaluate("el => getComputedStyle(el).width") == "56px"
    title = page.locator(".panel-head h2")
    assert "Georgia" not in title.evaluate("el => getComputedStyle(el).fontFamily")
    assert page.locator("#host-button").evaluate("el => getComputedStyle(el).width") == "300px"
    assert page.evaluate("document.activeElement.tagName") == "FAQ-ASSISTANT-WIDGET"
    turn = ask(page, ANSWERED, root=".panel")
    assert "Ethereum" in turn.locator(".passage").first.inner_text()
    source = turn.locator(".source a").first
    assert source.get_attribute("href").startswith(servers.url + "/article/")
    assert source.get_attribute("target") == "_blank"
    turn.get_by_role("button", name="Yes").click()
    turn.locator(".thanks").wait_for()
    assert page.evaluate("document.cookie") == ""
    screenshot(page, "widget.png")
    # Escape closes the panel and gives the focus back to the button
    page.locator(".panel textarea").press("Escape")
    assert page.locator(".panel").is_hidden()
    assert launcher.get_attribute("aria-expanded") == "false"
    assert w.problems() == []


def test_the_widget_is_refused_on_an_origin_not_allowed(browser, servers):
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        open_widget(page, servers.stranger + "/")
        page.locator(".panel textarea").fill(ANSWERED)
        page.locator(".panel textarea").press("Enter")
        failed = page.locator(".panel .failed")
        failed.wait_for()
        assert "Couldn't reach the assistant" in failed.inner_text()
        assert page.locator(".panel .answer:not(.failed)").count() == 0
        # the browser itself refuses: no CORS headers for this origin
        refused = page.evaluate(
            """async (url) => {
                try {
                    await fetch(url + "/api/ask", {method: "POST",
                        headers: {"Content-Type": "application/json"},
                        body: JSON.stringify({question: "What is Django?"})});
                    return false;
                } catch (e) { return e instanceof TypeError; }
            }""",
            servers.url,
        )
        assert refused
    finally:
        ctx.close()


# ------------------------------------------------------------------ quality bar


def test_no_console_errors_or_csp_violations_anywhere(context, servers):
    w = watch(context)
    page = w.page
    page.goto(servers.url + "/")
    ask(page, ANSWERED)
    ask(page, NO_ANSWER)
    page.locator("textarea").press_sequentially("flask")
    page.locator("#question-suggestions [role=option]").first.wait_for()
    page.locator(".turn.bot .source a").first.click()
    page.locator(":target").wait_for()
    page.goto(servers.url + "/widget.js")
    page.goto(servers.url + "/nope")
    assert [e for e in w.problems() if "404" not in e] == []


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_serious_violation(browser, servers, scheme):
    ctx = browser.new_context(color_scheme=scheme, viewport={"width": 1280, "height": 800})
    try:
        page = ctx.new_page()
        page.goto(servers.url + "/")
        assert_accessible(page, f"empty chat page ({scheme})")
        ask(page, ANSWERED)
        page.locator("details.others summary").first.click()
        ask(page, NO_ANSWER)
        page.locator("textarea").press_sequentially("djan")
        page.locator("#question-suggestions [role=option]").first.wait_for()
        page.locator("textarea").press("ArrowDown")
        assert_accessible(page, f"chat page with answers and suggestions ({scheme})")
        page.locator("textarea").press("Escape")
        page.locator(".turn.bot .source a").first.click()
        page.locator(":target").wait_for()
        assert_accessible(page, f"article page ({scheme})")
        open_widget(page, servers.partner + "/")
        ask(page, ANSWERED, root=".panel")
        assert_accessible(page, f"widget on a partner page ({scheme})")
    finally:
        ctx.close()


@pytest.mark.parametrize("width", [375, 360])
def test_a_phone_has_no_sideways_scroll(browser, servers, width):
    ctx = browser.new_context(
        viewport={"width": width, "height": 740}, is_mobile=True, has_touch=True
    )
    try:
        page = ctx.new_page()
        page.goto(servers.url + "/")
        ask(page, "How does Django protect against XSS and CSRF?")
        ask(page, NO_ANSWER)
        page.locator("details.others summary").first.click()
        assert no_sideways_scroll(page), "chat page"
        if width == 375:
            page.locator(".turn.user").first.scroll_into_view_if_needed()
            screenshot(page, "phone.png")
        page.locator(".turn.bot .source a").first.click()
        page.locator(":target").wait_for()
        assert no_sideways_scroll(page), "article page"
        open_widget(page, servers.partner + "/")
        ask(page, ANSWERED, root=".panel")
        assert no_sideways_scroll(page), "widget"
        panel = page.locator(".panel").bounding_box()
        assert panel and panel["width"] <= width
    finally:
        ctx.close()


def test_desktop_screenshot(page):
    ask(page, "How does Django protect against XSS and CSRF?")
    page.locator("details.others summary").first.click()
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "desktop.png")
