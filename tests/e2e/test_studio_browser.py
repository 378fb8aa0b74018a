"""End to end in headless Chromium (the pattern of test_browser.py): a trainer creates a new
scenario in the Scenario Studio with the raw YAML editor, saves it, test-drives it, runs the
self-play check and publishes it; then a trainee plays it from the practice page."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from simulator import studio
from simulator.store import open_repository
from simulator.store.authoring import AuthoringStore
from tests.e2e import browser_support
from tests.e2e.browser_support import (
    add_user,
    app_env,
    en,
    fill_sign_in,
    idle,
    require_browser,
    signed_in_text,
    streamlit_server,
)

SCENARIO = "e2e-office-hours"
WAIT_MS = 30_000

require_browser()

from playwright.sync_api import Browser, Page, expect  # noqa: E402

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    workdir = tmp_path_factory.mktemp("e2e_studio")
    db_url = f"sqlite:///{workdir / 'tenang.db'}"
    env = app_env(db_url)
    add_user(env, "tia", "trainer")
    add_user(env, "ana", "trainee")
    repo = open_repository(db_url)
    try:
        with streamlit_server(workdir, env) as base:
            yield {"base": base, "repo": repo}
    finally:
        repo.close()


def new_page(browser: Browser) -> Page:
    return browser_support.new_page(browser, height=1100, wait_ms=WAIT_MS)


def sign_in(page: Page, name: str, role: str) -> None:
    fill_sign_in(page, name)
    expect(page.get_by_test_id("stSidebar")).to_contain_text(signed_in_text(name, role))


def test_trainer_authors_drives_checks_publishes_and_trainee_plays(server, browser):
    base, repo = server["base"], server["repo"]
    store = AuthoringStore(repo)
    page = new_page(browser)

    # 1. a new scenario, written in the raw YAML editor
    page.goto(f"{base}/studio?new=1&lang=en")
    sign_in(page, "tia", "trainer")
    editor = page.get_by_label(en("studio_yaml_label"))
    expect(editor).to_have_count(1)
    editor.fill("id: [broken")
    editor.blur()
    expect(page.get_by_text(en("studio_invalid"))).to_be_visible()
    expect(page.get_by_text(en("sf_yaml") + " (" + en("sferr_where", line=1, column=12)).first).to_be_visible()
    draft = studio.skeleton(SCENARIO, "en").replace("New scenario", "Opening hours complaint")
    expect(editor).to_have_count(1)  # the run after the edit has finished (no stale copy left)
    # On a loaded machine a rerun still finishing can put the old text back into the editor after
    # a fill: wait until the app is idle, and check the draft is what the editor holds.
    idle(page)
    editor.fill(draft)
    expect(editor).to_have_value(draft)
    editor.blur()
    expect(page.get_by_text(en("studio_valid"))).to_be_visible()
    page.get_by_role("button", name=en("studio_save")).click()
    expect(page).to_have_url(re.compile(rf"edit={SCENARIO}"))
    expect(page.get_by_text(en("studio_saved", version=1))).to_be_visible()
    assert [v.version for v in store.versions(SCENARIO, "en")] == [1]

    # 2. test drive in place: chat, tags and the mood meter (on a loaded machine the save's runs
    # may still be going: a tab picked during one is drawn again by the next)
    idle(page)
    drive = page.get_by_role("tab", name=en("studio_tab_drive"))
    drive.click()
    expect(drive).to_have_attribute("aria-selected", "true")
    page.get_by_role("button", name=en("studio_drive_start")).click()
    messages = page.get_by_test_id("stChatMessage")
    expect(messages).to_have_count(1)
    idle(page)
    expect(drive).to_have_attribute("aria-selected", "true")
    page.get_by_label(en("studio_drive_reply")).fill("I'm sorry about the bill. Since when is your bill this high?")
    page.get_by_role("button", name=en("studio_drive_send")).click()
    expect(messages).to_have_count(3)
    expect(page.get_by_text(re.compile(r"^Tags: .*" + re.escape(en("review_tag_question"))))).to_be_visible()
    expect(page.get_by_text(re.compile(r"Anger: \d+\.\d / 10"))).to_be_visible()

    # 3. the self-play check with its progress bar
    page.get_by_role("tab", name=en("studio_tab_selfplay")).click()
    page.get_by_role("button", name=en("studio_selfplay_run")).click()
    expect(page.get_by_text(en("studio_selfplay_done"))).to_be_visible(timeout=120_000)
    expect(page.get_by_test_id("stDataFrame").filter(visible=True).first).to_be_visible()

    # 4. publish
    page.get_by_role("button", name=en("studio_publish")).click()
    expect(page.get_by_text(en("studio_published_done", version=1))).to_be_visible()
    assert store.published(SCENARIO, "en").version == 1
    page.context.close()

    # 5. a trainee finds it on the practice page and plays it
    page = new_page(browser)
    page.goto(f"{base}/practice")
    sign_in(page, "ana", "trainee")
    page.get_by_label(en("practice_filter_lang")).click()
    page.get_by_role("option", name=en("practice_lang_en")).click()
    expect(page.get_by_text("Opening hours complaint")).to_be_visible()
    page.goto(f"{base}/practice?scenario={SCENARIO}&lang=en")  # a new browser session: still signed in
    expect(page.get_by_test_id("stSidebar")).to_contain_text(signed_in_text("ana", "trainee"))
    expect(page.get_by_role("heading", name="Opening hours complaint")).to_be_visible()
    page.get_by_role("button", name=en("practice_start")).click()
    expect(page).to_have_url(re.compile(r"/practice\?session="))
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill("I'm sorry. Your bill is too high this month, since when?")
    box.press("Enter")
    expect(page.get_by_test_id("stChatMessage")).to_have_count(3)
    ana = repo.get_user_by_name("ana")
    sessions = repo.list_sessions(user_id=ana.id)
    assert [(s.scenario_id, s.scenario_version) for s in sessions] == [(SCENARIO, 1)]
    page.context.close()
