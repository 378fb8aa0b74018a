"""views/model.py (AppTest): admins only; mode, connection test against the local server, usage."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fake_openai import Reply, Status
from llm_fakes import KEY, MODEL_ENV
from streamlit.testing.v1 import AppTest

from simulator.auth import create_user
from ui.i18n import translate

PAGE = Path(__file__).resolve().parents[2] / "views" / "model.py"
PASSWORD = "correct horse 7"


@pytest.fixture
def page_env(db_url, monkeypatch, tmp_path):
    monkeypatch.setenv("DATABASE_URL", db_url)
    for key in [*MODEL_ENV, *(k for k in os.environ if k.startswith("TENANG_"))]:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)  # no developer secrets.toml
    yield monkeypatch
    from ui import context

    context._repository.clear()


@pytest.fixture
def open_page(page_env, repo):
    def _open(role: str = "admin", name: str | None = None) -> AppTest:
        user = create_user(repo, name or f"{role}-user", role, PASSWORD)
        at = AppTest.from_file(str(PAGE), default_timeout=30)
        at.session_state["user_id"] = user.id
        return at.run()

    return _open


def everything(at: AppTest) -> str:
    kinds = ("title", "subheader", "markdown", "caption", "error", "warning", "info", "success")
    parts = [str(e.value) for kind in kinds for e in getattr(at, kind)]
    parts += [df.value.to_csv() for df in at.dataframe]
    parts += [str(m.value) for m in at.metric]
    return "\n".join(parts)


@pytest.mark.parametrize("role", ["trainee", "trainer", "hr"])
def test_only_admins_see_the_page(open_page, role, page_env, server):
    page_env.setenv("OPENAI_BASE_URL", server.url)
    page_env.setenv("TENANG_CUSTOMER_MODEL", "fake-customer")
    at = open_page(role)
    assert not at.exception
    assert [e.value for e in at.error] == [translate("not_allowed", "en")]
    assert not at.title and not at.dataframe and not at.button
    assert server.requests == []


def test_offline_mode_is_said_plainly(open_page):
    at = open_page()
    assert not at.exception
    assert at.title[0].value == translate("model_title", "en")
    assert [i.value for i in at.info] == [translate("model_mode_offline", "en")]
    assert not at.button  # nothing to test
    assert translate("model_value_offline", "en") in everything(at)


def test_llm_mode_shows_url_and_models_but_never_the_key(open_page, page_env, server):
    page_env.setenv("OPENAI_BASE_URL", server.url)
    page_env.setenv("OPENAI_API_KEY", KEY)
    page_env.setenv("TENANG_CUSTOMER_MODEL", "fake-customer")
    page_env.setenv("TENANG_JUDGE_MODEL", "fake-judge")
    server.script(customer=[Reply("OK", delay=0.02)])
    at = open_page()
    assert not at.exception
    text = everything(at)
    assert [s.value for s in at.success] == [translate("model_mode_llm", "en")]
    assert server.url in text and "fake-customer" in text and "fake-judge" in text
    assert translate("model_value_key_set", "en") in text and KEY not in text

    at.button(key="model_test").click().run()
    assert not at.exception
    messages = [s.value for s in at.success][1:]
    assert len(messages) == 2  # the customer's and the judge's model, both asked
    assert messages[0].startswith("Customer: fake-customer answered in") and messages[1].startswith("Judge: fake-judge")
    assert {r.body["model"] for r in server.requests} == {"fake-customer", "fake-judge"}
    assert KEY not in everything(at)


def test_connection_test_shows_the_exact_error(open_page, page_env, server):
    page_env.setenv("OPENAI_BASE_URL", server.url)
    page_env.setenv("OPENAI_API_KEY", KEY)
    page_env.setenv("TENANG_CUSTOMER_MODEL", "fake-customer")
    server.script(customer=[Status(401, f"Incorrect API key provided: {KEY}")])
    at = open_page()
    at.button(key="model_test").click().run()
    assert not at.exception
    (error,) = [e.value for e in at.error]
    assert "AuthenticationError: Error code: 401 - Incorrect API key provided: ***" in error
    assert KEY not in everything(at)


def test_usage_per_session(open_page, page_env, repo):
    page_env.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    page_env.setenv("TENANG_CUSTOMER_MODEL", "m")
    used = repo.create_session(scenario_id="water-bill-surge", lang="en", engine="llm", seed=1)
    repo.append_turns(
        used.id,
        [
            {"speaker": "customer", "text": "opening"},
            {"speaker": "trainee", "text": "hi"},
            {"speaker": "customer", "text": "a", "meta": {"model": "m", "tokens_in": 1200, "tokens_out": 34, "latency_ms": 800}},
            {"speaker": "trainee", "text": "hello"},
            {"speaker": "customer", "text": "b", "meta": {"model": "m", "fallback": True, "latency_ms": 1200}},
        ],
    )
    repo.create_session(scenario_id="wrong-agency", lang="id", engine="scripted", seed=1)  # no model use
    at = open_page()
    assert not at.exception
    (config, usage) = at.dataframe
    frame = usage.value
    assert len(frame) == 1 and frame.iloc[0][translate("model_col_session", "en")] == used.id
    row = frame.iloc[0]
    assert (row[translate("model_col_calls", "en")], row[translate("model_col_fallbacks", "en")]) == (2, 1)
    assert (row[translate("model_col_tokens_in", "en")], row[translate("model_col_tokens_out", "en")]) == (1200, 34)
    assert row[translate("model_col_mean", "en")] == 1000
    assert dict((m.label, m.value) for m in at.metric)[translate("model_total_calls", "en")] == "2"


def test_indonesian_interface(open_page, repo):
    at = open_page()
    user = repo.get_user_by_name("admin-user")
    repo.set_user_lang(user.id, "id")
    at.run()
    assert at.title[0].value == translate("model_title", "id")
    assert [i.value for i in at.info] == [translate("model_mode_offline", "id")]


def test_the_page_says_which_analyser_runs_and_how_to_rebuild_missing_heads(open_page, monkeypatch, tmp_path):
    from simulator.understanding import analyser, heads

    at = open_page()
    expected = "model_analyser_learned" if analyser.engine().mode == "learned" else "model_analyser_rules_no_encoder"
    assert translate(expected, "en", file=heads.HEADS_FILE.name, command=heads.REBUILD_COMMAND) in everything(at)

    monkeypatch.setattr(heads, "HEADS_FILE", tmp_path / "heads.npz")
    heads.cached_heads.cache_clear()
    try:
        text = everything(open_page(name="admin-2"))
    finally:
        heads.cached_heads.cache_clear()
    if analyser.status().available:
        assert "heads.npz" in text and heads.REBUILD_COMMAND in text
