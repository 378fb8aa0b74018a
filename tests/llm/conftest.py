"""Fixtures for LLM mode: fake chat models (unit tests) and a real local OpenAI-compatible server
(integration tests; ``fake_openai.py``).

``server``       a started :class:`FakeOpenAIServer` on 127.0.0.1, stopped after the test.
``llm_env``      environment for a ``python -m simulator`` subprocess pointed at ``server``,
                 with short timeouts and one retry so failure tests stay fast.
``cli``          ``cli(*args, env=None)`` runs the CLI in a subprocess with ``llm_env``.
``scenario``     the English water-bill-surge scenario.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_openai import FakeOpenAIServer
from llm_fakes import FAST, KEY, MODEL_ENV

from simulator import llm
from simulator.scenario import Scenario, ScenarioLibrary

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_llm_state() -> Iterator[None]:
    llm.reset_caches()
    yield
    llm.reset_caches()


@pytest.fixture(scope="session")
def library() -> ScenarioLibrary:
    return ScenarioLibrary()


@pytest.fixture
def scenario(library: ScenarioLibrary) -> Scenario:
    return library.get("water-bill-surge", "en")


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as srv:
        yield srv


@pytest.fixture
def llm_env(server: FakeOpenAIServer, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in MODEL_ENV and not k.startswith("TENANG_")}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'llm.db'}",
        OPENAI_BASE_URL=server.url,
        OPENAI_API_KEY=KEY,
        TENANG_CUSTOMER_MODEL="fake-customer",
        TENANG_JUDGE_MODEL="fake-judge",
        **FAST,
    )
    return env


@pytest.fixture
def cli(llm_env: dict[str, str]):
    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "simulator", *args],
            capture_output=True, text=True, cwd=ROOT, env=env or llm_env, timeout=timeout,
        )

    return run
