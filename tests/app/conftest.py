"""Fixtures for AppTest (``streamlit.testing.v1``) tests of the app shell and its pages.

``app_env``   points the app at this test's own database (``DATABASE_URL`` = ``db_url`` from
              tests/conftest.py), forces offline mode and runs in tmp_path, so a developer's
              ``.streamlit/secrets.toml`` never leaks in. The app's cached repository for the URL
              is dropped afterwards.
``repo``      (from tests/conftest.py) the same database, migrated, for seeding and checking.
``make_user`` ``make_user("ana", "trainee")``: a user with password ``PASSWORD``.
``app``       ``app(user=None, script=ENTRY)``: an AppTest, optionally signed in as ``user``.
``service``   a :class:`simulator.session.SessionService` on ``repo`` with the built-in scenarios.
``ana``       trainee "ana" (``make_user("ana", "trainee")``).
``nav_log``   every ``st.navigation`` call of the app: a list of ``{url_path: visibility}``.

Autouse: ``_no_legacy_pages_mode`` (see its docstring).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit
from streamlit.testing.v1 import AppTest

from simulator.auth import create_user
from simulator.scenario import ScenarioLibrary
from simulator.session import SessionService
from simulator.store.repository import Repository, UserRecord

ROOT = Path(__file__).resolve().parents[2]
ENTRY = ROOT / "streamlit_app.py"
ADMIN_PAGE = ROOT / "views" / "admin.py"
PASSWORD = "correct horse 7"
TIMEOUT = 30  # seconds per script run: argon2 and the first imports are slow on a busy machine

_MODEL_KEYS = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "TENANG_CUSTOMER_MODEL", "TENANG_JUDGE_MODEL")


@pytest.fixture
def app_env(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    monkeypatch.setenv("DATABASE_URL", db_url)
    for key in _MODEL_KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)
    yield db_url
    from ui import context

    context._repository.clear()


@pytest.fixture
def make_user(repo: Repository) -> Callable[..., UserRecord]:
    def _make(
        name: str, role: str = "trainee", password: str = PASSWORD, email: str | None = None
    ) -> UserRecord:
        return create_user(repo, name, role, password, email=email)

    return _make


@pytest.fixture
def service(repo: Repository) -> SessionService:
    return SessionService(repo, ScenarioLibrary())


@pytest.fixture
def ana(make_user: Callable[..., UserRecord]) -> UserRecord:
    return make_user("ana", "trainee")


@pytest.fixture
def app(app_env: str) -> Callable[..., AppTest]:
    def _app(user: UserRecord | None = None, script: Path = ENTRY) -> AppTest:
        at = AppTest.from_file(str(script), default_timeout=TIMEOUT)
        if user is not None:
            at.session_state["user_id"] = user.id
        return at

    return _app


@pytest.fixture
def nav_log(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, str]]:
    calls: list[dict[str, str]] = []
    real = streamlit.navigation

    def recording(pages, *args, **kwargs):
        calls.append({page.url_path: page.visibility for page in pages})
        return real(pages, *args, **kwargs)

    monkeypatch.setattr(streamlit, "navigation", recording)
    return calls
