"""End to end in a real headless Chromium: `streamlit run streamlit_app.py` on a free port with a
fresh database, driven by Playwright for Python with Debian's /usr/bin/chromium.

A trainee signs in, opens a deep link, plays four turns, ends the session and sees the
scorecard; in a second run reloads the page mid-conversation and sees it resumed from the
database; after seven turns still sees the customer's mood at the bottom of the chat, on a wide
screen and on a phone; on a phone sees each new answer above the chat input without scrolling;
and is refused another trainee's review.

Without /usr/bin/chromium (or Playwright) the tests are skipped on a developer machine and
fail in CI (``CI`` set), where .ci/run installs Chromium.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from simulator.scenario import ScenarioLibrary
from simulator.session import SessionService
from simulator.store import open_repository
from tests.e2e.browser_support import (
    add_user,
    app_env,
    en,
    idle,
    messages,
    require_browser,
    send,
    sign_in_when_asked,
    signed_in_text,
    streamlit_server,
)

SCENARIO = "water-bill-surge"
TURNS = [
    "I'm so sorry about this. So your bill jumped from about 80 thousand to 512 thousand?",
    "May I have your customer number, please?",
    "Since when has the bill been this high, and did anything change at home?",
    "I understand how upsetting a bill like that is.",
]
MORE_TURNS = [  # questions: the conversation goes on, and the chat grows far taller than a screen
    "Could you tell me whether the meter reading on the bill matches your meter?",
    "Have you noticed any wet patches or leaks around the house?",
    "Did anyone else live in the house last month?",
]

require_browser()

from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The app on 127.0.0.1:<free port> with its own database and users ana and bob; bob has
    an ended session of his own."""
    workdir = tmp_path_factory.mktemp("e2e")
    db_url = f"sqlite:///{workdir / 'tenang.db'}"
    env = app_env(db_url)
    for name in ("ana", "bob"):
        add_user(env, name)

    repo = open_repository(db_url)
    service = SessionService(repo, ScenarioLibrary())
    bob = repo.get_user_by_name("bob")
    record = service.start(SCENARIO, "en", user_id=bob.id, seed=3)
    bob_line = "Bob's private reply about the water meter, number 4711."
    service.say(record.id, bob_line)
    service.end(record.id)

    try:
        with streamlit_server(workdir, env) as base:
            yield {"base": base, "repo": repo, "bob_session": record.id, "bob_line": bob_line}
    finally:
        repo.close()


def sign_in_if_asked(page: Page, name: str = "ana") -> None:
    """Each new browser session starts signed out; the URL (deep link) survives the sign-in."""
    sign_in_when_asked(page, name)
    try:
        expect(page.get_by_test_id("stSidebar")).to_contain_text(signed_in_text(name, "trainee"))
    except AssertionError as exc:
        raise AssertionError(
            f"{page.url} showed neither the sign-in form nor the signed-in app"
        ) from exc


def open_deep_link_and_start(page: Page, base: str) -> str:
    scenario = ScenarioLibrary().get(SCENARIO, "en")
    page.goto(f"{base}/practice?scenario={SCENARIO}&lang=en")
    sign_in_if_asked(page)
    expect(page.get_by_text(scenario.briefing.goal)).to_be_visible()
    page.get_by_role("button", name=en("practice_start")).click()
    page.wait_for_url(re.compile(r"/practice\?session="))
    expect(messages(page)).to_have_count(1)
    expect(messages(page).first).to_contain_text(scenario.opening[:40])
    return page.url.split("session=", 1)[1].split("&", 1)[0]


def test_sign_in_deep_link_four_turns_end_and_scorecard(server, page):
    session_id = open_deep_link_and_start(page, server["base"])
    expect(page.get_by_text(en("practice_anger"), exact=True)).to_be_visible()
    for line in TURNS:
        send(page, line)
        expect(messages(page).nth(messages(page).count() - 2)).to_contain_text(line[:30])
    turns = server["repo"].get_turns(session_id)
    assert [t.speaker for t in turns] == ["customer"] + ["trainee", "customer"] * len(TURNS)
    assert [t.text for t in turns if t.speaker == "trainee"] == TURNS

    if server["repo"].get_session(session_id).status == "active":
        page.get_by_role("button", name=en("practice_end")).click()
    expect(page.get_by_role("heading", name=en("practice_scorecard"))).to_be_visible()
    record = server["repo"].get_session(session_id)
    assert record.status == "ended" and record.overall is not None
    expect(page.get_by_test_id("stMetricValue").first).to_have_text(f"{record.overall:.0f} / 100")
    expect(page.get_by_test_id("stChatInputTextArea")).to_have_count(0)
    # the scorecard quotes the trainee's own words
    quotes = [q["quote"] for row in server["repo"].get_scores(session_id) if row.applies for q in row.evidence]
    assert quotes and all(any(q in line for line in TURNS) for q in quotes)
    expect(page.get_by_text(f'"{quotes[0]}"').first).to_be_visible()


def test_reload_mid_session_resumes_the_conversation(server, page):
    session_id = open_deep_link_and_start(page, server["base"])
    for line in TURNS[:2]:
        send(page, line)
    page.reload()  # a refresh, a closed tab or a dropped connection: a brand-new browser session
    sign_in_if_asked(page)
    assert f"session={session_id}" in page.url
    expect(messages(page)).to_have_count(5)
    for line in TURNS[:2]:
        expect(page.get_by_test_id("stChatMessage").filter(has_text=line[:30])).to_have_count(1)
    send(page, TURNS[2])  # and the conversation goes on where it was
    assert len(server["repo"].get_turns(session_id)) == 7


def test_mood_meter_stays_in_sight_at_the_bottom_of_a_long_chat(server, page):
    session_id = open_deep_link_and_start(page, server["base"])
    for line in TURNS + MORE_TURNS:
        send(page, line)
    assert server["repo"].get_session(session_id).status == "active"
    idle(page)
    meter = page.locator(".st-key-practice_side")
    for width, height in ((1400, 900), (390, 844)):  # a laptop, a phone (the columns stack)
        page.set_viewport_size({"width": width, "height": height})
        messages(page).last.scroll_into_view_if_needed()
        page.mouse.move(width // 2, height // 2)
        page.mouse.wheel(0, 20_000)  # to the bottom, where the trainee types
        expect(messages(page).first).not_to_be_in_viewport()  # the page did scroll
        expect(meter.get_by_text(en("practice_mood"))).to_be_in_viewport()
        expect(meter).to_be_in_viewport(ratio=1)  # all of it: anger, trust and the buttons


#: True when the newest chat message starts on screen, with at least its first line above the
#: chat input (which floats over the bottom of the page).
NEWEST_ABOVE_THE_INPUT = """() => {
  const all = document.querySelectorAll('[data-testid="stChatMessage"]');
  const input = document.querySelector('[data-testid="stChatInput"]');
  if (!all.length || !input) return false;
  const newest = all[all.length - 1].getBoundingClientRect();
  return newest.top >= 0 && newest.top + 40 <= input.getBoundingClientRect().top;
}"""


def test_each_new_answer_comes_into_sight_on_a_phone(server, page):
    """On a phone the columns stack and the page stayed where it was: from the third turn on, the
    customer's answer sat below the chat input until the trainee scrolled."""
    page.set_viewport_size({"width": 390, "height": 844})
    open_deep_link_and_start(page, server["base"])
    for line in TURNS:
        send(page, line)
        idle(page)
        page.wait_for_function(NEWEST_ABOVE_THE_INPUT, timeout=30_000)


def test_another_trainees_review_is_refused(server, page):
    page.goto(f"{server['base']}/review?session={server['bob_session']}")
    sign_in_if_asked(page)
    expect(page.get_by_text(en("not_allowed"))).to_be_visible()
    expect(page.get_by_text(server["bob_line"])).to_have_count(0)
    expect(messages(page)).to_have_count(0)
