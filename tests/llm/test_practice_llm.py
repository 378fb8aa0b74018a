"""views/practice.py in LLM mode (AppTest against the local OpenAI-compatible server)."""

from __future__ import annotations

import os
from pathlib import Path

from fake_openai import Reply, Status
from llm_fakes import FAST, KEY, MODEL_ENV
from streamlit.testing.v1 import AppTest

from simulator.auth import create_user

PAGE = Path(__file__).resolve().parents[2] / "views" / "practice.py"


def open_practice(monkeypatch, tmp_path, db_url, repo, server) -> AppTest:
    for key in [*MODEL_ENV, *(k for k in os.environ if k.startswith("TENANG_"))]:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("TENANG_CUSTOMER_MODEL", "fake-customer")
    for key, value in FAST.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    user = create_user(repo, "dewi", "trainee", "correct horse 7")
    at = AppTest.from_file(str(PAGE), default_timeout=30)
    at.session_state["user_id"] = user.id
    at.query_params["scenario"] = "water-bill-surge"
    at.query_params["lang"] = "en"
    at.run()
    at.button(key="start").click().run()
    return at


def chat_texts(at: AppTest) -> list[str]:
    return [str(block.value).replace("\\", "") for message in at.chat_message for block in message.markdown]


def test_the_model_voices_the_customer_and_the_turn_is_stored(monkeypatch, tmp_path, db_url, repo, server):
    server.script(customer=[Reply("Fine. But who pays for the 512 thousand?")])
    at = open_practice(monkeypatch, tmp_path, db_url, repo, server)
    at.chat_input(key="reply").set_value("I'm so sorry, a bill like that would shock anyone.").run()
    assert not at.exception
    assert "Fine. But who pays for the 512 thousand?" in chat_texts(at)
    [session] = repo.list_sessions()
    turns = repo.get_turns(session.id)
    assert [t.speaker for t in turns] == ["customer", "trainee", "customer"]
    assert turns[2].text == "Fine. But who pays for the 512 thousand?"
    assert "shock anyone" in server.requests[-1].text()


def test_a_failing_model_falls_back_to_the_scripted_customer_with_a_notice(monkeypatch, tmp_path, db_url, repo, server):
    server.script(customer=[Status(500)] * 4)
    at = open_practice(monkeypatch, tmp_path, db_url, repo, server)
    at.chat_input(key="reply").set_value("I'm so sorry, a bill like that would shock anyone.").run()
    assert not at.exception
    [session] = repo.list_sessions()
    turns = repo.get_turns(session.id)
    assert [t.speaker for t in turns] == ["customer", "trainee", "customer"]
    assert turns[2].notice  # the scripted fallback says so
