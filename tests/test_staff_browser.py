"""The staff workspace in a real browser (Playwright, Debian's Chromium, a live server): the
whole loop — a visitor's question goes unanswered, shows up in the staff list, staff look the
answer up and teach it, and the next visitor gets that passage. Screenshot: docs/screenshots/
staff.png."""

from __future__ import annotations

import json

import pytest
from browser import (
    AXE,
    CSP_WATCH,
    SCREENSHOTS,
    Watched,
    launch_chromium,
    serve,
    server_env,
    sync_playwright,
    watch,
)

from assistant import auth
from assistant.store import Store

NAME, PASSWORD = "alice", "correct horse battery staple"
# Nothing in the article, its alternates or glossary says "nerves" or "fire" (so a visitor
# gets no answer), but one passage is about software for neuroscience laboratories.
QUESTION = "Did you ever help people who study how nerves fire?"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A live `assistant serve` with one staff account. This module signs in more often than
    the default sign-in limit allows in a minute (5); tests/test_staff.py covers that limit."""
    tmp = tmp_path_factory.mktemp("staff-browser")
    store = Store.open(tmp / "a.db")
    store.add_staff(NAME, auth.hash_password(PASSWORD))
    store.close()
    env = server_env(tmp / "a.db", ASSISTANT_LOGIN_RATE="100")
    with serve(env, tmp / "server.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with sync_playwright()() as p:
        b = launch_chromium(p)
        yield b
        b.close()


def new_page(browser, **options) -> Watched:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, **options)
    context.add_init_script(CSP_WATCH)
    return watch(context)


def visitor_asks(browser, url: str, question: str):
    """A new visitor asks on the chat page; the reply's turn."""
    page = new_page(browser).page
    page.goto(url + "/")
    page.locator("textarea").fill(question)
    page.locator("textarea").press("Enter")
    turn = page.locator(".turn.bot:not(.pending)").first
    turn.wait_for()
    return turn


def sign_in(page, url: str) -> None:
    page.goto(url + "/staff")
    page.wait_for_url("**/staff/login")
    page.get_by_label("Name").fill(NAME)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    # a refused sign-in renders the form again with its reason: show it rather than time out
    errors = page.locator("p.error").all_inner_texts()
    assert page.url == url + "/staff", f"sign-in ended on {page.url}: {errors}"


def test_a_question_goes_unanswered_is_taught_and_the_next_visitor_gets_the_answer(browser, server):
    # 1. a visitor says hello, then asks; the article has no answer in those words
    assert "Hello!" in visitor_asks(browser, server, "hello").inner_text()
    turn = visitor_asks(browser, server, QUESTION)
    assert turn.locator(".no-answer").count() == 1
    assert turn.locator(".source a").count() == 0

    # 2. staff sign in and see it among the unanswered questions
    staff = new_page(browser)
    page = staff.page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server)
    sign_in(page, server)
    item = page.locator("#questions li.question", has_text=QUESTION)
    item.wait_for()
    assert "asked 1×" in item.inner_text()
    # the greeting is counted under the list, not listed: there is nothing to teach
    assert page.locator("#questions li.question", has_text="hello").count() == 0
    assert "Not listed: 1 small-talk message" in page.locator("#small-talk").inner_text()

    # 3. the lookup, as they type: top passages, words marked, id, copy and link
    page.locator("#q").press_sequentially("neuroscience", delay=20)
    first = page.locator("#results .result").first
    first.wait_for()
    page.wait_for_function(
        "document.querySelector('#results .result') && "
        "document.querySelector('#results .result').textContent.includes('Biochips')"
    )
    assert first.locator("mark").all_inner_texts() == ["neuroscience"]
    assert "score 0." in first.locator(".score").inner_text()
    passage_id = first.locator(".pid").inner_text()
    assert passage_id.startswith("python-for-backend#p")
    link = first.get_by_role("link", name="Open in article")
    assert link.get_attribute("href") == f"/article/{passage_id}"
    first.get_by_role("button", name="Copy passage #1 with its link").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "Diagnostic Biochips" in copied and copied.endswith(f"{server}/article/{passage_id}")
    assert page.locator("#results .result").count() <= 10

    # 4. teach: from the question, pick the passage with the lookup, save
    item.get_by_role("button", name=f"Teach “{QUESTION}”").click()
    assert page.locator("#teaching").is_visible()
    assert page.locator("#teaching-question").inner_text() == QUESTION
    assert page.locator("#q").input_value() == QUESTION
    page.locator("#q").fill("neuroscience laboratories")
    # the lookup has caught up with the new words (not the question's results still shown)
    page.locator("#results .result mark", has_text="laboratories").first.wait_for()
    target = page.locator("#results .result", has_text=passage_id)
    target.get_by_role("button", name="Teach this passage").wait_for()
    page.evaluate("window.scrollTo(0, 0)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "staff.png"), animations="disabled", caret="hide")
    target.get_by_role("button", name="Teach this passage").click()
    status = page.locator("#status")
    status.get_by_text("Taught").wait_for()
    assert passage_id in status.inner_text()
    assert page.locator("#teaching").is_hidden()
    item.locator(".taught-badge").wait_for()
    taught = page.locator("#taught li", has_text=QUESTION)
    taught.wait_for()
    assert f"by {NAME}" in taught.inner_text()

    # 5. the next visitor gets that passage
    turn = visitor_asks(browser, server, QUESTION)
    assert turn.locator(".no-answer").count() == 0
    assert turn.locator(".source a").first.get_attribute("href").endswith(f"/article/{passage_id}")
    assert "Diagnostic Biochips" in turn.locator(".passage").first.inner_text()
    assert staff.problems() == []


def test_the_assistants_best_guess_is_taught_with_one_click(browser, server):
    # refused for words the article lacks, though the Django paragraph was ranked first
    question = "Which goodies come bundled with Django?"
    assert visitor_asks(browser, server, question).locator(".no-answer").count() == 1
    staff = new_page(browser)
    page = staff.page
    sign_in(page, server)
    item = page.locator("#questions li.question", has_text=question)
    item.wait_for()
    assert "Django" in item.locator(".guess").inner_text()
    item.get_by_role("button", name=f"Right answer: teach the best guess for “{question}”").click()
    page.locator("#status").get_by_text("Taught").wait_for()
    item = page.locator("#questions li.question", has_text=question)
    item.locator(".taught-badge").wait_for()
    assert item.locator(".guess").count() == 0
    turn = visitor_asks(browser, server, question)
    assert turn.locator(".no-answer").count() == 0
    assert "batteries-included" in turn.locator(".passage").first.inner_text()
    assert staff.problems() == []


def test_signing_out_ends_the_session(browser, server):
    staff = new_page(browser)
    page = staff.page
    sign_in(page, server)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/staff/login")
    page.goto(server + "/staff")
    page.wait_for_url("**/staff/login")
    assert all(c["name"] != "assistant_session" for c in page.context.cookies())
    assert staff.problems() == []


def test_signing_in_works_without_javascript(browser, server):
    page = new_page(browser, java_script_enabled=False).page
    sign_in(page, server)
    assert page.get_by_text(f"Signed in as {NAME}").is_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "assistant_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violation_on_the_staff_pages(browser, server, scheme):
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run ./scripts/setup-browser")
    page = new_page(browser, color_scheme=scheme).page

    def violations(what: str) -> None:
        page.evaluate(AXE.read_text(encoding="utf-8"))
        found = page.evaluate(
            """async () => (await axe.run(document, {resultTypes: ["violations"]})).violations
                .map(v => ({id: v.id, impact: v.impact, help: v.help,
                            targets: v.nodes.map(n => n.target.flat().join(" "))}))"""
        )
        assert found == [], f"{what} ({scheme}): {json.dumps(found, indent=1)}"

    page.goto(server + "/staff/login")
    violations("sign-in page")
    sign_in(page, server)
    page.locator("#q").fill("django security")
    page.locator("#results .result").first.wait_for()
    page.locator("#taught li").first.wait_for()
    violations("workspace")
