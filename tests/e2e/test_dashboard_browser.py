"""End to end: after `seed-demo`, an HR user signs in to the team dashboard in a real headless
Chromium, sees the headline figures and charts, and opens a trainee's session review from the
drill-down. Same server/browser pattern as test_browser.py (helpers in browser_support.py).

The dashboard is the heaviest page: every wait first lets the script run finish (``idle``, the
``data-test-script-state`` attribute) and then allows ``SLOW_MS`` (tens of seconds) for what it
draws, so a loaded two-core machine is slow here, not failing."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from simulator.store import open_repository
from simulator.store.teams import TeamStore
from tests.e2e.browser_support import (
    PASSWORD,
    ROOT,
    SLOW_MS,
    app_env,
    en,
    fill_sign_in,
    idle,
    new_page,
    require_browser,
    sign_in_when_asked,
    streamlit_server,
)

require_browser()

from playwright.sync_api import Locator, expect  # noqa: E402

pytestmark = pytest.mark.timeout(300)
_DB: dict[str, str] = {}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("e2e-dash")
    env = app_env(f"sqlite:///{workdir / 'tenang.db'}")
    seeded = subprocess.run([sys.executable, "-m", "simulator", "seed-demo", "--trainees", "12", "--sessions", "8",
                             "--password-stdin"], input=PASSWORD + "\n", text=True, capture_output=True, env=env,
                            cwd=ROOT, timeout=180)
    assert seeded.returncode == 0, seeded.stderr
    _DB["url"] = env["DATABASE_URL"]
    with streamlit_server(workdir, env) as base:
        yield base


def visible(locator: Locator) -> None:
    """``expect`` waits 5 s unless told otherwise (its timeout is not the page's)."""
    expect(locator).to_be_visible(timeout=SLOW_MS)


@pytest.fixture
def page(browser) -> Iterator:
    tab = new_page(browser, wait_ms=SLOW_MS)
    yield tab
    tab.context.close()


def test_hr_sees_the_dashboard_and_drills_down_to_a_review(server, page):
    page.goto(f"{server}/dashboard")
    fill_sign_in(page, "demo-hr")
    visible(page.get_by_role("heading", name=en("dash_title")))
    idle(page)
    visible(page.get_by_test_id("stMetricLabel").filter(has_text=en("dash_metric_pass_rate")))
    visible(page.get_by_test_id("stPlotlyChart").first)
    # drill down: pick a trainee, then open one of their sessions' review
    box = page.get_by_role("combobox", name=en("dash_pick_person"), exact=True)
    box.scroll_into_view_if_needed()
    box.click()
    page.get_by_role("option").first.click()
    idle(page)
    visible(page.get_by_test_id("stPlotlyChart").last)
    # the person's session table links to /review?session=<id>: open their newest session as HR
    frame = TeamStore(open_repository(_DB["url"])).session_scores()
    person = frame[frame["user"] == frame.drop_duplicates("user_id")["user"].sort_values().iloc[0]]
    newest = person.sort_values("ended_at")["session_id"].iloc[-1]
    visible(page.get_by_test_id("stDataFrame").last)  # the person's sessions
    page.goto(f"{server}/review?session={newest}")
    sign_in_when_asked(page, "demo-hr")
    idle(page)
    visible(page.get_by_role("heading", name=en("review_title")))
    visible(page.get_by_test_id("stChatMessage").first)
