"""End to end in a real headless Chromium: `streamlit run streamlit_app.py` on a free port with a
fresh database, driven by Playwright for Python with Debian's /usr/bin/chromium.

A trainee signs in, opens a deep link, plays four turns, ends the session and sees the
scorecard; in a second run reloads the page mid-conversation and sees it resumed from the
database; and is refused another trainee's review.

Without /usr/bin/chromium (or Playwright) the tests are skipped on a developer machine and
fail in CI (``CI`` set), where .ci/run installs Chromium.
"""

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

from simulator.scenario import ScenarioLibrary
from simulator.session import SessionService
from simulator.store import open_repository
from ui.i18n import translate

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse 7"
SCENARIO = "water-bill-surge"
TURNS = [
    "I'm so sorry about this. So your bill jumped from about 80 thousand to 512 thousand?",
    "May I have your customer number, please?",
    "Since when has the bill been this high, and did anything change at home?",
    "I understand how upsetting a bill like that is.",
]
WAIT_MS = 20_000  # one Streamlit rerun on a busy CI machine


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

pytestmark = pytest.mark.timeout(240)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _add_user(env: dict[str, str], name: str) -> None:
    """The documented way: `python -m simulator users add NAME --role trainee --password-stdin`."""
    done = subprocess.run(
        [sys.executable, "-m", "simulator", "users", "add", name, "--role", "trainee", "--password-stdin"],
        input=PASSWORD + "\n",
        text=True,
        capture_output=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr + done.stdout


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The app on 127.0.0.1:<free port> with its own database and users ana and bob; bob has
    an ended session of his own."""
    workdir = tmp_path_factory.mktemp("e2e")
    db_url = f"sqlite:///{workdir / 'tenang.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TENANG_", "STREAMLIT_"))}
    pythonpath = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env |= {"DATABASE_URL": db_url, "PYTHONPATH": pythonpath}
    for name in ("ana", "bob"):
        _add_user(env, name)

    repo = open_repository(db_url)
    service = SessionService(repo, ScenarioLibrary())
    bob = repo.get_user_by_name("bob")
    record = service.start(SCENARIO, "en", user_id=bob.id, seed=3)
    bob_line = "Bob's private reply about the water meter, number 4711."
    service.say(record.id, bob_line)
    service.end(record.id)

    port = _free_port()
    log = (workdir / "streamlit.log").open("w")
    command = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"),
        "--server.headless", "true",
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    # cwd is the temporary folder, so no developer .streamlit/secrets.toml is picked up.
    proc = subprocess.Popen(command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{(workdir / 'streamlit.log').read_text()}")
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("streamlit did not become healthy within 60 s")
            time.sleep(0.3)
        yield {"base": base, "repo": repo, "bob_session": record.id, "bob_line": bob_line}
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


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(WAIT_MS)
    tab = context.new_page()
    yield tab
    context.close()


def en(key: str, **values) -> str:
    return translate(key, "en", **values)


def sign_in_if_asked(page: Page, name: str = "ana") -> None:
    """Each new browser session starts signed out; the URL (deep link) survives the sign-in."""
    form_or_app = page.get_by_label(en("field_name")).or_(page.get_by_test_id("stSidebar"))
    form_or_app.first.wait_for()
    if page.get_by_label(en("field_name")).count():
        page.get_by_label(en("field_name")).fill(name)
        page.get_by_label(en("field_password"), exact=True).fill(PASSWORD)
        page.get_by_role("button", name=en("auth_button")).click()
    signed_in = en("shell_signed_in_as", name=name, role=en("role_trainee")).replace("**", "")
    try:
        expect(page.get_by_test_id("stSidebar")).to_contain_text(signed_in)
    except AssertionError as exc:
        raise AssertionError(
            f"{page.url} showed neither the sign-in form nor the signed-in app"
        ) from exc


def messages(page: Page):
    return page.get_by_test_id("stChatMessage")


def send(page: Page, text: str) -> None:
    before = messages(page).count()
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(text)
    box.press("Enter")
    expect(messages(page)).to_have_count(before + 2)  # the trainee's turn and the customer's answer


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


def test_another_trainees_review_is_refused(server, page):
    page.goto(f"{server['base']}/review?session={server['bob_session']}")
    sign_in_if_asked(page)
    expect(page.get_by_text(en("not_allowed"))).to_be_visible()
    expect(page.get_by_text(server["bob_line"])).to_have_count(0)
    expect(messages(page)).to_have_count(0)
