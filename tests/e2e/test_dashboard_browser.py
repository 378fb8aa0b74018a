"""End to end: after `seed-demo`, an HR user signs in to the team dashboard in a real headless
Chromium, sees the headline figures and charts, and opens a trainee's session review from the
drill-down. Same server/browser pattern as test_browser.py (whose helpers are reused)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

from tests.e2e.test_browser import CHROMIUM, CHROMIUM_ARGS, PASSWORD, ROOT, WAIT_MS, _free_port, browser, en  # noqa: F401

from playwright.sync_api import Page, expect  # noqa: E402

from simulator.store import open_repository  # noqa: E402
from simulator.store.teams import TeamStore  # noqa: E402

pytestmark = pytest.mark.timeout(300)
_DB: dict[str, str] = {}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("e2e-dash")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TENANG_", "STREAMLIT_"))}
    env |= {"DATABASE_URL": f"sqlite:///{workdir / 'tenang.db'}",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))}
    seeded = subprocess.run([sys.executable, "-m", "simulator", "seed-demo", "--trainees", "12", "--sessions", "8",
                             "--password-stdin"], input=PASSWORD + "\n", text=True, capture_output=True, env=env,
                            cwd=ROOT, timeout=180)
    assert seeded.returncode == 0, seeded.stderr
    _DB["url"] = env["DATABASE_URL"]
    port = _free_port()
    log = (workdir / "streamlit.log").open("w")
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"), "--server.headless", "true",
               "--server.address", "127.0.0.1", "--server.port", str(port), "--server.fileWatcherType", "none",
               "--browser.gatherUsageStats", "false"]
    proc = subprocess.Popen(command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (workdir / "streamlit.log").read_text()
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "streamlit did not become healthy within 60 s"
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture
def page(browser) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(WAIT_MS)
    tab = context.new_page()
    yield tab
    context.close()


def test_hr_sees_the_dashboard_and_drills_down_to_a_review(server, page):
    page.goto(f"{server}/dashboard")
    page.get_by_label(en("field_name")).fill("demo-hr")
    page.get_by_label(en("field_password"), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=en("auth_button")).click()
    expect(page.get_by_role("heading", name=en("dash_title"))).to_be_visible()
    expect(page.get_by_test_id("stMetricLabel").filter(has_text=en("dash_metric_pass_rate"))).to_be_visible()
    expect(page.get_by_test_id("stPlotlyChart").first).to_be_visible()
    # drill down: pick a trainee, then open one of their sessions' review
    box = page.get_by_role("combobox", name=en("dash_pick_person"), exact=True)
    box.scroll_into_view_if_needed()
    box.click()
    page.get_by_role("option").first.click()
    expect(page.get_by_test_id("stPlotlyChart").last).to_be_visible()
    # the person's session table links to /review?session=<id>: open their newest session as HR
    frame = TeamStore(open_repository(_DB["url"])).session_scores()
    person = frame[frame["user"] == frame.drop_duplicates("user_id")["user"].sort_values().iloc[0]]
    newest = person.sort_values("ended_at")["session_id"].iloc[-1]
    expect(page.get_by_test_id("stDataFrame").last).to_be_visible()  # the person's sessions
    page.goto(f"{server}/review?session={newest}")
    page.get_by_label(en("field_name")).or_(page.get_by_test_id("stSidebar")).first.wait_for()
    if page.get_by_label(en("field_name")).count():
        page.get_by_label(en("field_name")).fill("demo-hr")
        page.get_by_label(en("field_password"), exact=True).fill(PASSWORD)
        page.get_by_role("button", name=en("auth_button")).click()
    expect(page.get_by_role("heading", name=en("review_title"))).to_be_visible()
    expect(page.get_by_test_id("stChatMessage").first).to_be_visible()
