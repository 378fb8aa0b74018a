"""Items 6 and 7, against a real local OpenAI-compatible server (tests/llm/fake_openai.py).

6. The API key never reaches a log record (DEBUG included), a database row or an error message,
   also when the server answers 401 and echoes the key; ``repr(settings)`` masks it.
7. Model calls are limited per user and hour (``TENANG_LLM_CALLS_PER_HOUR``): over the limit the
   scripted customer answers, with a notice in the session's language, and no request is sent.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from simulator.config import Settings
from simulator.llm import LLMOptions, load_llm_options, test_connection
from simulator.scenario import ScenarioLibrary
from simulator.session import LIMIT_NOTICE, SessionService
from simulator.store.models import Base
from tests.llm.fake_openai import Reply, Status

FAST_ENV = {"TENANG_LLM_TIMEOUT": "2", "TENANG_LLM_MAX_RETRIES": "0", "TENANG_JUDGE_TIMEOUT": "2", "TENANG_LLM_COOLDOWN": "0"}
LIB = ScenarioLibrary()


@pytest.fixture
def marker() -> str:
    return "sk-MARKER" + secrets.token_hex(12)


@pytest.fixture
def settings(server, marker, monkeypatch, db_url) -> Settings:
    for key, value in FAST_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("OPENAI_API_KEY", marker)
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    return Settings(
        database_url=db_url,
        openai_api_key=SecretStr(marker),
        openai_base_url=server.url,
        customer_model="fake-customer",
        judge_model="fake-judge",
    )


def all_rows(repo) -> str:
    """Every row of every table, as text."""
    parts = []
    with repo.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            parts.extend(repr(tuple(row)) for row in conn.execute(select(table)))
    return "\n".join(parts)


# --------------------------------------------------------------------------- item 6


def test_the_key_is_never_logged_stored_or_shown(repo, server, settings, marker, make_user, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, the HTTP clients' included
    user = make_user("ana", "trainee")
    server.script(
        customer=[
            Reply("Fine, go on."),
            Status(401, f"Incorrect API key provided: {marker}. You can find your API key at ..."),
            Reply("Streamed answer here."),
        ],
        judge=[Status(401, f"Incorrect API key provided: {marker}")],
    )
    svc = SessionService(repo, LIB, engine="llm", judge="llm", settings=settings, llm_calls_per_hour=0)
    record = svc.start("water-bill-surge", "en", user_id=user.id)
    ok = svc.say(record.id, "I'm sorry, that bill must be a shock. What does the meter say?")
    refused = svc.say(record.id, "Let me check the meter reading for you.")
    streamed = svc.say_stream(record.id, "We will send someone on Wednesday between 8 and 12.")
    text = "".join(streamed)
    card = svc.end(record.id)
    probe = test_connection(settings, LLMOptions(timeout=2, max_retries=0))  # the admin's "test" button

    assert len(server.of_kind("customer")) == 4 and server.of_kind("judge")  # 3 turns + the probe: the key was used
    assert all(r.headers.get("authorization", r.headers.get("Authorization", "")).endswith(marker)
               for r in server.of_kind("customer"))
    assert refused.meta.get("fallback") and "401" in (refused.meta.get("error") or "")  # the failure is reported...

    shown = [ok.customer, refused.customer, refused.notice or "", str(refused.meta), text, str(streamed.result.meta),
             card.notice or "", str(card), probe.message or "", repr(probe)]
    secret_part = marker[len("sk-"):]
    for value in shown:  # ...but never with the key in it
        assert secret_part not in value, value
    logged = caplog.text + "\n".join(
        f"{r.getMessage()} {r.exc_text or ''} {r.__dict__}" for r in caplog.records
    )
    assert caplog.records, "DEBUG logging was captured"
    assert secret_part not in logged
    assert secret_part not in all_rows(repo)


def test_settings_repr_and_dumps_mask_the_key(settings, marker):
    for text in (repr(settings), str(settings), settings.model_dump_json(), str(settings.model_dump())):
        assert marker not in text
    assert settings.openai_api_key.get_secret_value() == marker


# --------------------------------------------------------------------------- item 7


def test_default_limit_and_its_environment_key(monkeypatch):
    monkeypatch.delenv("TENANG_LLM_CALLS_PER_HOUR", raising=False)
    assert load_llm_options().calls_per_hour == 200
    monkeypatch.setenv("TENANG_LLM_CALLS_PER_HOUR", "7")
    assert load_llm_options().calls_per_hour == 7


def test_over_the_hourly_limit_the_script_answers_and_no_request_is_sent(repo, server, settings, make_user, app):
    ana, budi = make_user("ana", "trainee"), make_user("budi", "trainee")
    server.script(customer=[Reply(f"Model line {i}") for i in range(1, 10)])
    svc = SessionService(repo, LIB, engine="llm", settings=settings, llm_calls_per_hour=2)
    first = svc.start("water-bill-surge", "en", user_id=ana.id)
    assert svc.say(first.id, "I'm sorry about the bill.").customer == "Model line 1"
    assert "".join(svc.say_stream(first.id, "What does the meter say?")) == "Model line 2"
    assert len(server.of_kind("customer")) == 2

    limited = svc.say(first.id, "Let me check the meter history for you.")
    assert len(server.of_kind("customer")) == 2  # the server saw no request
    assert limited.notice == LIMIT_NOTICE["en"]
    assert limited.meta["rate_limited"] is True and "model" not in limited.meta
    streamed = svc.say_stream(first.id, "I will have it re-read.")
    assert "".join(streamed) and streamed.result.notice == LIMIT_NOTICE["en"]
    # a new session, an Indonesian one, does not reset it: the limit is per user and hour
    second = svc.start("water-bill-surge", "id", user_id=ana.id)
    again = svc.say(second.id, "Mohon maaf atas tagihannya, Bu.")
    assert again.notice == LIMIT_NOTICE["id"]
    assert len(server.of_kind("customer")) == 2
    stored = [t for t in repo.get_turns(first.id) if t.speaker == "customer"]
    assert [t.notice for t in stored[-2:]] == [LIMIT_NOTICE["en"]] * 2  # stored with the turn

    # another user still gets the model
    other = svc.start("water-bill-surge", "en", user_id=budi.id)
    assert svc.say(other.id, "I'm sorry about the bill.").customer == "Model line 3"
    assert len(server.of_kind("customer")) == 3

    # the window is one hour: calls older than that no longer count
    assert repo.model_calls_since(ana.id, datetime.now(UTC) - timedelta(hours=1)) == 2
    assert repo.model_calls_since(ana.id, datetime.now(UTC) + timedelta(seconds=1)) == 0

    # and the trainee sees the notice on the page
    at = app(ana).run()
    at.query_params.update({"session": first.id})
    at.switch_page("views/practice.py").run()
    assert not at.exception
    captions = "\n".join(c.value for c in at.caption).replace("\\", "")
    assert LIMIT_NOTICE["en"] in captions


def test_what_if_branches_do_not_count_copied_turns_twice(repo, server, settings, make_user):
    ana = make_user("ana", "trainee")
    server.script(customer=[Reply(f"Model line {i}") for i in range(1, 10)])
    svc = SessionService(repo, LIB, engine="llm", settings=settings, llm_calls_per_hour=100)
    record = svc.start("water-bill-surge", "en", user_id=ana.id)
    svc.say(record.id, "I'm sorry about the bill.")
    svc.say(record.id, "What does the meter say?")
    trainee_idx = [t.idx for t in repo.get_turns(record.id) if t.speaker == "trainee"]
    svc.branch(record.id, trainee_idx[-1], "Let me check the meter history.")
    assert repo.model_calls_since(ana.id, datetime.now(UTC) - timedelta(hours=1)) == 3 == len(server.of_kind("customer"))
