"""simulator/llm.py: options, models built from Settings, error messages without secrets."""

from __future__ import annotations

import logging

import openai
import pytest

from simulator.config import ConfigError, Settings
from simulator.llm import (
    NO_KEY,
    LLMNotConfigured,
    LLMOptions,
    build_chat_model,
    llm_problem,
    describe_error,
    load_llm_options,
    model_name,
    redact,
)

KEY = "sk-live-abcdefghijklmnop"


def test_options_env_then_secrets_then_defaults(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('TENANG_LLM_TIMEOUT = "7.5"\nTENANG_LLM_MAX_RETRIES = 4\nTENANG_JUDGE_METHOD = "json_mode"\n')
    options = load_llm_options({"TENANG_LLM_TIMEOUT": "3", "TENANG_LLM_STREAM_USAGE": "0"}, secrets)
    assert options.timeout == 3.0  # environment wins
    assert options.max_retries == 4 and options.judge_method == "json_mode"  # from secrets.toml
    assert options.stream_usage is False and options.cooldown == 30.0  # env / default
    assert load_llm_options({}, tmp_path / "missing.toml") == LLMOptions()


@pytest.mark.parametrize(
    ("key", "value"),
    [("TENANG_LLM_TIMEOUT", "soon"), ("TENANG_LLM_MAX_RETRIES", "-1"), ("TENANG_JUDGE_METHOD", "telepathy")],
)
def test_bad_options_name_the_key(tmp_path, key, value):
    with pytest.raises(ConfigError, match=key):
        load_llm_options({key: value}, tmp_path / "none.toml")


def test_model_names_and_offline():
    with pytest.raises(LLMNotConfigured, match="OPENAI_BASE_URL"):
        model_name(Settings(), "customer")
    with pytest.raises(LLMNotConfigured, match="TENANG_CUSTOMER_MODEL"):
        model_name(Settings(openai_base_url="http://localhost:11434/v1"), "customer")
    both = Settings(openai_base_url="http://x/v1", customer_model="c", judge_model="j")
    assert (model_name(both, "customer"), model_name(both, "judge")) == ("c", "j")
    assert model_name(Settings(openai_base_url="http://x/v1", customer_model="c"), "judge") == "c"
    assert llm_problem(both) is None and "OPENAI_BASE_URL" in llm_problem(Settings())


def test_chat_model_is_built_for_the_server_with_timeout_and_retries():
    settings = Settings(openai_base_url="http://127.0.0.1:11434/v1", customer_model="qwen2.5:7b", judge_model="big")
    options = LLMOptions(timeout=4, max_retries=3, judge_timeout=50)
    customer = build_chat_model(settings, "customer", options)
    assert customer.model_name == "qwen2.5:7b" and customer.openai_api_base == "http://127.0.0.1:11434/v1"
    assert customer.request_timeout == 4 and customer.max_retries == 3 and customer.use_responses_api is False
    assert customer.openai_api_key.get_secret_value() == NO_KEY  # local servers need no key
    client = customer.root_client  # the real openai client does the retrying
    assert isinstance(client, openai.OpenAI) and client.max_retries == 3
    assert str(client.base_url).startswith("http://127.0.0.1:11434/v1")
    judge = build_chat_model(settings, "judge", options)
    assert judge.model_name == "big" and judge.request_timeout == 50 and judge.temperature == 0.0
    assert build_chat_model(settings, "customer", options) is customer  # cached: the pool is reused


def test_hosted_openai_when_only_a_key_is_set():
    model = build_chat_model(Settings(openai_api_key=KEY, customer_model="gpt-4o-mini"), "customer", LLMOptions())
    assert model.openai_api_base == "https://api.openai.com/v1"
    assert model.openai_api_key.get_secret_value() == KEY
    assert KEY not in repr(model)


def test_errors_are_exact_and_never_carry_the_key():
    settings = Settings(openai_api_key=KEY, openai_base_url="http://x/v1")
    try:
        try:
            raise OSError(f"[Errno 111] refused while sending Authorization: Bearer {KEY}")
        except OSError as cause:
            raise RuntimeError("request failed") from cause
    except RuntimeError as exc:
        message = describe_error(exc, settings)
    assert message.startswith("RuntimeError: request failed (OSError: [Errno 111] refused")
    assert KEY not in message
    assert redact(f"key {KEY} and Bearer abcdefghijkl1234", settings) == "key *** and Bearer ***"
    assert redact("token sk-proj-1234567890abcdef") == "token sk-***"


def test_building_a_model_logs_no_secret(caplog):
    caplog.set_level(logging.DEBUG)
    build_chat_model(Settings(openai_api_key=KEY, customer_model="m"), "customer", LLMOptions())
    assert KEY not in caplog.text
