"""End to end in headless Chromium (the pattern of test_browser.py): a trainer creates a new
scenario in the Scenario Studio with the raw YAML editor, saves it, test-drives it, runs the
self-play check and publishes it; then a trainee plays it from the practice page."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator import studio
from simulator.store import open_repository
from simulator.store.authoring import AuthoringStore
from ui.i18n import translate

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
PASSWORD = "correct horse 7"
SCENARIO = "e2e-office-hours"
WAIT_MS = 30_000


def _browser_missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -r requirements-dev.txt)"
    return None


_MISSING = _browser_missing()
if _MISSING:
    if os.environ.get("CI"):
        pytest.fail(f"browser tests cannot run in CI: {_MISSING}", pytrace=False)
    pytest.skip(f"browser tests skipped: {_MISSING} (they run in CI)", allow_module_level=True)

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

pytestmark = pytest.mark.timeout(300)


def en(key: str, **values) -> str:
    return translate(key, "en", **values)


def _add_user(env: dict[str, str], name: str, role: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "simulator", "users", "add", name, "--role", role, "--password-stdin"],
        input=PASSWORD + "\n", text=True, capture_output=True, env=env, cwd=ROOT, timeout=60,
    )
    assert done.returncode == 0, done.stderr + done.stdout


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    workdir = tmp_path_factory.mktemp("e2e_studio")
    db_url = f"sqlite:///{workdir / 'tenang.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TENANG_", "STREAMLIT_"))}
    env |= {"DATABASE_URL": db_url, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))}
    _add_user(env, "tia", "trainer")
    _add_user(env, "ana", "trainee")
    repo = open_repository(db_url)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = (workdir / "streamlit.log").open("w")
    command = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"), "--server.headless", "true",
        "--server.address", "127.0.0.1", "--server.port", str(port), "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    proc = subprocess.Popen(command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError((workdir / "streamlit.log").read_text())
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("streamlit did not become healthy within 60 s")
            time.sleep(0.3)
        yield {"base": base, "repo": repo}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        repo.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def new_page(browser: Browser) -> Page:
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1100})
    context.set_default_timeout(WAIT_MS)
    return context.new_page()


def sign_in(page: Page, name: str, role: str) -> None:
    page.get_by_label(en("field_name")).fill(name)
    page.get_by_label(en("field_password"), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=en("auth_button")).click()
    signed_in = en("shell_signed_in_as", name=name, role=en(f"role_{role}")).replace("**", "")
    expect(page.get_by_test_id("stSidebar")).to_contain_text(signed_in)


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
    expect(page.get_by_text("invalid YAML").first).to_be_visible()
    draft = studio.skeleton(SCENARIO, "en").replace("New scenario", "Opening hours complaint")
    expect(editor).to_have_count(1)  # the run after the edit has finished (no stale copy left)
    editor.fill(draft)
    editor.blur()
    expect(page.get_by_text(en("studio_valid"))).to_be_visible()
    page.get_by_role("button", name=en("studio_save")).click()
    expect(page).to_have_url(re.compile(rf"edit={SCENARIO}"))
    expect(page.get_by_text(en("studio_saved", version=1))).to_be_visible()
    assert [v.version for v in store.versions(SCENARIO, "en")] == [1]

    # 2. test drive in place: chat, tags and the mood meter
    page.get_by_role("tab", name=en("studio_tab_drive")).click()
    page.get_by_role("button", name=en("studio_drive_start")).click()
    messages = page.get_by_test_id("stChatMessage")
    expect(messages).to_have_count(1)
    page.get_by_label(en("studio_drive_reply")).fill("I'm sorry about the bill. Since when is your bill this high?")
    page.get_by_role("button", name=en("studio_drive_send")).click()
    expect(messages).to_have_count(3)
    expect(page.get_by_text(re.compile(r"^Tags: .*question"))).to_be_visible()
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
    page.goto(f"{base}/practice?scenario={SCENARIO}&lang=en")  # a new browser session: sign in again
    sign_in(page, "ana", "trainee")
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
