"""End to end (issue 15): two trainers grade the same ten sessions of a calibration set blind in a
real headless Chromium — the automatic score and the other's grade stay hidden until each submits —
and the dashboard's agreement tab then shows kappa for both comparisons. Same server/browser
pattern as test_dashboard_browser.py (helpers in browser_support.py)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator

import pytest

from simulator.grading import GradingService
from simulator.store import open_repository
from simulator.store.calibration import CalibrationStore
from tests.e2e.browser_support import (
    PASSWORD,
    ROOT,
    WAIT_MS,
    add_user,
    app_env,
    en,
    fill_sign_in,
    new_page,
    require_browser,
    sign_in_when_asked,
    streamlit_server,
)

require_browser()

from playwright.sync_api import expect  # noqa: E402

SLOW_MS = 3 * WAIT_MS  # ten review pages per grader on a busy two-core machine
expect.set_options(timeout=SLOW_MS)

pytestmark = [pytest.mark.timeout(600), pytest.mark.database]
GRADERS = ("grace", "gita")
UNANCHORED = (10, 20, 30, 40, 60, 70, 80, 90)  # options named by their number alone
_DB: dict[str, object] = {}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("e2e-calibration")
    env = app_env(f"sqlite:///{workdir / 'tenang.db'}")
    seeded = subprocess.run([sys.executable, "-m", "simulator", "seed-demo", "--trainees", "4", "--sessions", "4",
                             "--no-calibration", "--no-transcripts", "--password-stdin"], input=PASSWORD + "\n", text=True,
                            capture_output=True, env=env, cwd=ROOT, timeout=180)
    assert seeded.returncode == 0, seeded.stderr
    for name in GRADERS:
        add_user(env, name, "trainer")
    repo = open_repository(env["DATABASE_URL"])
    store = CalibrationStore(repo)
    sessions = sorted(store.candidate_sessions()["session_id"])[:10]
    graders = [repo.get_user_by_name(name).id for name in GRADERS]
    store.create_set("Browser week", sessions, graders, created_by=graders[0])
    _DB.update(repo=repo, sessions=sessions)
    with streamlit_server(workdir, env) as base:
        yield base
    repo.close()


def grade_next(page, n: int, level: int) -> None:
    """From the calibration page: open the set's session number ``n``, grade Listening blind."""
    page.get_by_role("link", name=re.compile(rf"(?<!\d){n}\. ")).click()
    blind = page.get_by_text(en("grade_blind"))
    expect(blind).to_be_visible()
    overall = page.get_by_test_id("stMetricLabel").filter(has_text=en("practice_overall"))
    expect(overall).to_have_count(0)  # no automatic score while grading blind
    box = page.get_by_role("combobox", name="Listening", exact=True)
    box.scroll_into_view_if_needed()
    box.click()
    page.get_by_role("option", name=str(level), exact=True).click()
    page.get_by_role("button", name=en("grade_submit")).click()
    expect(page.get_by_text(en("grade_saved"))).to_be_visible()
    expect(blind).to_have_count(0)  # submitted: the score is no longer hidden
    expect(overall).to_be_visible()
    page.get_by_role("link", name=en("nav_calibration")).click()
    expect(page.get_by_role("heading", name=en("calib_title"), exact=True)).to_be_visible()


def test_two_graders_grade_ten_sessions_blind_and_the_agreement_tab_shows_kappa(server, browser):
    repo, sessions = _DB["repo"], _DB["sessions"]
    assert len(sessions) == 10
    service = GradingService(repo)
    for g, grader in enumerate(GRADERS):
        page = new_page(browser, wait_ms=SLOW_MS)
        try:
            page.goto(f"{server}/calibration")
            fill_sign_in(page, grader)
            expect(page.get_by_role("heading", name=en("calib_title"), exact=True)).to_be_visible()
            for i in range(len(sessions)):
                grade_next(page, i + 1, level=UNANCHORED[(i + g) % len(UNANCHORED)])
        finally:
            page.context.close()
    grades = service.store.grades(session_ids=sessions)
    assert sorted((g.grader, g.session_id) for g in grades) == sorted((n, s) for n in GRADERS for s in sessions)
    report = service.report("Browser week", resamples=200)
    assert report["dimensions"]["listening"]["human_human_n"] == 10
    assert report["dimensions"]["listening"]["human_human_kappa"] is not None
    page = new_page(browser, wait_ms=SLOW_MS)
    try:
        page.goto(f"{server}/dashboard")
        sign_in_when_asked(page, GRADERS[0])
        expect(page.get_by_role("heading", name=en("dash_title"))).to_be_visible()
        expect(page.get_by_test_id("stPlotlyChart").first).to_be_visible()
        page.get_by_role("tab", name=en("dash_tab_agreement")).click(timeout=60_000)
        expect(page.get_by_role("heading", name=en("agree_title"))).to_be_visible()
        expect(page.get_by_text(en("agree_facts", sessions=10, graders=2, gradings=20))).to_be_visible()
    finally:
        page.context.close()
