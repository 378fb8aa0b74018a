"""Shared by the end-to-end browser tests (tests/e2e): the skip/fail rule when Chromium or
Playwright is missing, the environment and users of a throwaway app, ``streamlit run app.py`` on a free
port until healthy, a configured browser tab and the sign-in form.

Playwright is imported only inside the functions that need it, so that importing this module
works without it and :func:`require_browser` can skip (or, in CI, fail) the tests.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ui.i18n import translate

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

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
WAIT_MS = 20_000  # one Streamlit rerun on a busy CI machine
SLOW_MS = 40_000  # a page full of data (a dashboard, a long chat) on a busy two-core machine


def en(key: str, **values) -> str:
    return translate(key, "en", **values)


def browser_missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -r requirements-dev.txt)"
    return None


def require_browser() -> None:
    """Call at the top of a browser test module: without /usr/bin/chromium (or Playwright) skip
    the module on a developer machine, fail it in CI (``CI`` set), where .ci/run installs Chromium."""
    missing = browser_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run in CI: {missing}", pytrace=False)
        pytest.skip(f"browser tests skipped: {missing} (they run in CI)", allow_module_level=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_env(db_url: str) -> dict[str, str]:
    """This process's environment for the app on ``db_url``: no model keys, no TENANG_/STREAMLIT_
    settings of the developer's, and the repository on PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "TENANG_", "STREAMLIT_"))}
    pythonpath = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env | {"DATABASE_URL": db_url, "PYTHONPATH": pythonpath}


def add_user(env: dict[str, str], name: str, role: str = "trainee") -> None:
    """The documented way: `python -m simulator users add NAME --role ROLE --lang en --password-stdin`
    (English: the tests read the English interface strings)."""
    done = subprocess.run(
        [sys.executable, "-m", "simulator", "users", "add", name, "--role", role, "--lang", "en", "--password-stdin"],
        input=PASSWORD + "\n",
        text=True,
        capture_output=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr + done.stdout


@contextmanager
def streamlit_server(workdir: Path, env: dict[str, str]) -> Iterator[str]:
    """`streamlit run app.py` (the app with its sign-in cookie routes, as `make run` starts it) on
    127.0.0.1:<free port>; yields its base URL once
    /_stcore/health answers (60 s at most), and stops it afterwards. Its output goes to
    ``workdir/streamlit.log``."""
    port = free_port()
    log_path = workdir / "streamlit.log"
    log = log_path.open("w")
    command = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
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
                raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("streamlit did not become healthy within 60 s")
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


def new_page(browser: Browser, *, height: int = 1000, wait_ms: int = WAIT_MS) -> Page:
    """A tab in a fresh browser context (its own cookies: a new Streamlit session), English."""
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": height})
    context.set_default_timeout(wait_ms)
    return context.new_page()


def idle(page: Page, timeout: float = SLOW_MS) -> None:
    """Wait until the app has finished its script run (``data-test-script-state`` on stApp).

    Right after a click the run may not have started yet: follow this with an ``expect`` on what
    the run shows, which waits for it."""
    page.wait_for_function(
        "() => { const el = document.querySelector('[data-test-script-state]');"
        " return el && el.getAttribute('data-test-script-state') !== 'running'; }",
        timeout=timeout,
    )


def fill_sign_in(page: Page, name: str) -> None:
    """Fill in and submit the sign-in form (with ``PASSWORD``)."""
    page.get_by_label(en("field_name")).fill(name)
    page.get_by_label(en("field_password"), exact=True).fill(PASSWORD)
    page.get_by_role("button", name=en("auth_button")).click()


def sign_in_when_asked(page: Page, name: str) -> None:
    """Wait for the sign-in form or the signed-in app; sign in if it is the form."""
    page.get_by_label(en("field_name")).or_(page.get_by_test_id("stSidebar")).first.wait_for()
    if page.get_by_label(en("field_name")).count():
        fill_sign_in(page, name)


def signed_in_text(name: str, role: str) -> str:
    """The sidebar's "signed in as" line, as the browser shows it."""
    return en("shell_signed_in_as", name=name, role=en(f"role_{role}")).replace("**", "")


def messages(page: Page):
    return page.get_by_test_id("stChatMessage")


def send(page: Page, text: str, timeout: float | None = None) -> None:
    """Type a trainee turn and wait for it and the customer's answer to be on screen."""
    from playwright.sync_api import expect

    before = messages(page).count()
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(text)
    box.press("Enter")
    expect(messages(page)).to_have_count(before + 2, timeout=timeout)
