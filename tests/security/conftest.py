"""Fixtures for the security pass (issue 7, item 4): the AppTest fixtures of tests/app
(``app``, ``app_env``, ``make_user``) and a local fake OpenAI-compatible server (tests/llm)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.app.conftest import PASSWORD, app, app_env, make_user  # noqa: F401 - fixtures re-used here
from tests.llm.fake_openai import FakeOpenAIServer


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as srv:
        yield srv


@pytest.fixture(autouse=True)
def _fresh_llm_state() -> Iterator[None]:
    from simulator import llm

    llm.reset_caches()
    yield
    llm.reset_caches()
