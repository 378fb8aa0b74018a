"""The sign-in cookie end to end in headless Chromium (`streamlit run app.py`).

A trainee signs in on a deep link, plays four turns, reloads and is still signed in with the
conversation there; a review link opened in a new tab shows the review without a password; after
sign-out the same link asks for the password again; a sign-in revoked on the server (account
disabled) or expired does not survive a reload either.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from simulator.scenario import ScenarioLibrary
from simulator.session import SessionService
from simulator.store import open_repository
from simulator.store.models import SignIn
from tests.e2e import browser_support
from tests.e2e.browser_support import (
    add_user,
    app_env,
    en,
    fill_sign_in,
    idle,
    messages,
    require_browser,
    signed_in_text,
    streamlit_server,
)

require_browser()

from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = pytest.mark.timeout(300)

SCENARIO = "water-bill-surge"
TURNS = [
    "I'm so sorry about this. So your bill jumped from about 80 thousand to 512 thousand?",
    "May I have your customer number, please?",
    "Since when has the bill been this high, and did anything change at home?",
    "I understand how upsetting a bill like that is.",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    workdir = tmp_path_factory.mktemp("e2e_cookie")
    db_url = f"sqlite:///{workdir / 'tenang.db'}"
    env = app_env(db_url)
    for name in ("ana", "cici", "dodi"):
        add_user(env, name)
    repo = open_repository(db_url)
    try:
        with streamlit_server(workdir, env) as base:
            yield {"base": base, "repo": repo}
    finally:
        repo.close()


def signed_in(page: Page, name: str) -> None:
    expect(page.get_by_test_id("stSidebar")).to_contain_text(signed_in_text(name, "trainee"), timeout=40_000)


def asks_for_password(page: Page) -> None:
    expect(page.get_by_label(en("field_password"), exact=True)).to_be_visible(timeout=40_000)


def session_cookie(page: Page) -> dict | None:
    """The cookie once the browser has it (the page posts its one-time code after sign-in)."""
    for _ in range(80):
        found = [c for c in page.context.cookies() if c["name"] == "tenang_session"]
        if found:
            return found[0]
        page.wait_for_timeout(250)
    return None


def send(page: Page, text: str) -> None:
    browser_support.send(page, text, timeout=40_000)


def test_reload_new_tab_and_sign_out(server, page):
    base, repo = server["base"], server["repo"]
    page.goto(f"{base}/practice?scenario={SCENARIO}&lang=en")
    asks_for_password(page)
    fill_sign_in(page, "ana")
    signed_in(page, "ana")
    # the deep link is where the trainee lands
    expect(page.get_by_text(ScenarioLibrary().get(SCENARIO, "en").briefing.goal)).to_be_visible()
    cookie = session_cookie(page)
    assert cookie is not None, "the browser never received the sign-in cookie"
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["expires"] > 0
    assert "ana" not in cookie["value"]

    page.get_by_role("button", name=en("practice_start")).click()
    page.wait_for_url(re.compile(r"/practice\?session="), timeout=40_000)
    session_id = page.url.split("session=", 1)[1].split("&", 1)[0]
    expect(messages(page)).to_have_count(1, timeout=40_000)
    for line in TURNS:
        send(page, line)
    count = messages(page).count()

    page.reload()
    idle(page)
    signed_in(page, "ana")
    expect(page.get_by_label(en("field_password"), exact=True)).to_have_count(0)
    expect(messages(page)).to_have_count(count, timeout=40_000)
    assert f"session={session_id}" in page.url

    # a review link opened in a new tab of the same browser: no password asked
    review_url = f"{base}/review?session={session_id}"
    tab = page.context.new_page()
    tab.goto(review_url)
    idle(tab)
    signed_in(tab, "ana")
    expect(tab.get_by_text(TURNS[1][:30]).first).to_be_visible(timeout=40_000)
    expect(tab.get_by_text(en("not_allowed"))).to_have_count(0)

    # sign out in the new tab: the link asks for the password again, in any tab
    tab.get_by_role("button", name=en("shell_sign_out")).click()
    asks_for_password(tab)
    tab.goto(review_url)
    asks_for_password(tab)
    page.goto(review_url)
    asks_for_password(page)
    row = repo.get_user_by_name("ana")
    assert row is not None


def test_a_revoked_or_expired_sign_in_does_not_survive_a_reload(server, browser):
    from tests.e2e.browser_support import new_page

    base, repo = server["base"], server["repo"]
    for name in ("cici", "dodi"):
        page = new_page(browser)
        try:
            page.goto(f"{base}/progress")
            asks_for_password(page)
            fill_sign_in(page, name)
            signed_in(page, name)
            assert session_cookie(page) is not None
            page.reload()
            signed_in(page, name)
            user = repo.get_user_by_name(name)
            if name == "cici":
                repo.set_user_active(user.id, False)  # an admin disables the account
            else:  # the last use was long ago: past the idle limit (480 minutes by default)
                with repo.engine.begin() as conn:
                    conn.execute(
                        update(SignIn)
                        .where(SignIn.user_id == user.id)
                        .values(last_seen_at=datetime.now(UTC) - timedelta(hours=9))
                    )
            page.reload()
            asks_for_password(page)
        finally:
            page.context.close()


def test_the_sign_in_page_loads_the_chart_code_out_of_sight(server, page):
    """While the form is filled in, the browser fetches Plotly's script (the first chart page after
    a sign-in waited for it), and nothing of it shows or takes room on the page."""
    page.goto(server["base"])
    asks_for_password(page)
    page.wait_for_function(
        "() => performance.getEntriesByType('resource').some(e => /PlotlyChart[.][^/]*[.]js$/.test(e.name))",
        timeout=40_000,
    )
    expect(page.get_by_test_id("stPlotlyChart")).to_have_count(1)
    expect(page.get_by_test_id("stPlotlyChart")).to_be_hidden()
    expect(page.get_by_test_id("stException")).to_have_count(0)  # an error in there would be hidden too
    assert page.locator(".st-key-chart_code").bounding_box() is None  # display: none, no room taken
    fill_sign_in(page, "ana")
    signed_in(page, "ana")
    expect(page.get_by_test_id("stPlotlyChart")).to_have_count(0)  # gone with the form
