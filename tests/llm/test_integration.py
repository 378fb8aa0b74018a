"""LLM mode against a real local OpenAI-compatible HTTP server (``fake_openai.py``), through the
real ``openai`` client and ``langchain-openai``: the CLI as a user runs it, streaming,
retries, failures and the connection test."""

from __future__ import annotations

import json
import time

import pytest
from fake_openai import Hang, Judge, Raw, Reply, Status
from llm_fakes import KEY

from simulator.config import Settings
from simulator.customers.llm import FALLBACK_NOTICE, LLMCustomer
from simulator.judge import NOTICE_FAILED, LLMJudge
from simulator.llm import LLMOptions, test_connection
from simulator.session import SessionService

SCENARIO = "water-bill-surge"
TRAINEE = [
    "I'm so sorry about this bill, that must be a real shock.",
    "So your bill jumped to 512 thousand while nothing changed at home? What does the meter reading say?",
    "We'll send someone to re-read the meter on Wednesday between 8 and 12, complaint number 0417.",
]
SERVER_LINES = [
    "Server line one: yes, a shock!",
    "Server line two: the meter says 1,284.",
    "Server line three: Wednesday, fine.",
]
JUDGEMENTS = {
    "judgements": [
        {"dimension": "apology", "score": 90, "quotes": ["I'm so sorry about this bill"], "feedback": "Early apology.",
         "better": "I'm so sorry about this bill."},
        {"dimension": "empathy", "score": 100, "quotes": ["you are a wonderful customer"], "feedback": "x", "better": "y"},
    ]
}
FAST_OPTIONS = LLMOptions(timeout=0.6, max_retries=1, cooldown=0, judge_timeout=0.6)


@pytest.fixture
def trainee_file(tmp_path):
    path = tmp_path / "replies.txt"
    path.write_text("\n".join(TRAINEE) + "\n", encoding="utf-8")
    return path


def play(cli, trainee_file, *extra: str, env=None):
    result = cli(
        "play", SCENARIO, "--lang", "en", "--engine", "llm", "--judge", "llm", "--trainee-file", str(trainee_file),
        "--json", "--seed", "4", *extra, env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)


def customer_turns(data) -> list[dict]:
    return [t for t in data["turns"] if t["speaker"] == "customer"][1:]  # the opening is written, not generated


# --------------------------------------------------------------------------- the happy path


def test_cli_play_uses_the_servers_lines_and_sends_persona_and_mood(cli, server, trainee_file, scenario):
    server.script(customer=[Reply(line, usage=(700, 15)) for line in SERVER_LINES], judge=[Judge(JUDGEMENTS, usage=(2000, 300))])
    data = play(cli, trainee_file)

    assert [t["text"] for t in customer_turns(data)] == SERVER_LINES
    assert all(t["notice"] is None for t in data["turns"])
    customer_requests = server.of_kind("customer")
    assert len(customer_requests) == len(TRAINEE)  # one call per trainee turn, no more
    trainee_turns = [t for t in data["turns"] if t["speaker"] == "trainee"]
    for request, trainee, said in zip(customer_requests, trainee_turns, TRAINEE, strict=True):
        system, last = request.messages[0]["content"], request.messages[-1]["content"]
        assert request.body["model"] == "fake-customer"
        assert scenario.persona.name in system and scenario.persona.speaking_style.strip() in system
        assert f"<trainee_message>\n{said}\n</trainee_message>" in last
        mood = trainee["mood"]  # the mood after this turn, as the CLI reports it
        assert f"anger {mood['anger']:.1f}/10" in last and f"trust {mood['trust']:.1f}/10" in last
        assert request.headers["authorization"] == f"Bearer {KEY}"
    # the stable prefix: the same system message on every turn
    assert len({r.messages[0]["content"] for r in customer_requests}) == 1
    # the fact the second turn asked for was in the request that answered it
    assert scenario.hidden_facts[0].reveal.strip() in customer_requests[1].messages[-1]["content"]

    # the judge: once, at the end, structured output; the fabricated quote was discarded
    (judge_request,) = server.of_kind("judge")
    assert judge_request.body["model"] == "fake-judge"
    assert judge_request.body["response_format"]["type"] == "json_schema"
    assert data["source"] == "rules+llm"
    assert data["usage"] == {
        "calls": 4, "fallbacks": 0, "tokens_in": 3 * 700 + 2000, "tokens_out": 3 * 15 + 300,
        "latency_ms": data["usage"]["latency_ms"], "judge_calls": 1,
    }
    assert all(t["meta"]["model"] == "fake-customer" and t["meta"]["tokens_in"] == 700 for t in customer_turns(data))


def test_the_key_never_appears_in_output(cli, server, trainee_file):
    server.script(customer=[Status(401, f"Incorrect API key provided: {KEY}")], judge=[Status(401, f"bad key {KEY}")])
    result = cli("play", SCENARIO, "--lang", "en", "--engine", "llm", "--judge", "llm", "--trainee-file", str(trainee_file), "--json")
    assert result.returncode == 0
    assert KEY not in result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert "AuthenticationError" in customer_turns(data)[0]["meta"]["error"] and "***" in customer_turns(data)[0]["meta"]["error"]
    assert len(server.of_kind("customer")) == len(TRAINEE)  # a 401 is not retried


# --------------------------------------------------------------------------- failures


@pytest.mark.parametrize(
    "failure",
    [
        Status(500, "upstream exploded"),
        Status(429, "slow down", headers={"retry-after-ms": "20"}),
        Raw("<html>502 Bad Gateway</html>", content_type="text/html", status=502),
    ],
    ids=["500", "429", "502-html"],
)
def test_server_errors_fall_back_to_the_script_with_the_notice(cli, server, trainee_file, failure):
    server.script(customer=[failure], judge=[failure])
    data = play(cli, trainee_file)
    customers = customer_turns(data)
    assert len(customers) == len(TRAINEE)  # the conversation carried on to the last line
    assert all(t["notice"] == FALLBACK_NOTICE["en"] for t in customers)
    assert not {t["text"] for t in customers} & set(SERVER_LINES)
    assert all(t["meta"]["fallback"] is True for t in customers)
    # retried with backoff: each turn made 1 + TENANG_LLM_MAX_RETRIES (1) attempts
    assert len(server.of_kind("customer")) == 2 * len(TRAINEE)
    assert [t["text"] for t in data["turns"] if t["speaker"] == "trainee"] == TRAINEE  # nothing typed lost
    assert data["source"] == "rules" and data["notice"].startswith(NOTICE_FAILED["en"].split("(")[0])


def test_hanging_server_times_out_falls_back_and_cools_down(cli, server, trainee_file, llm_env):
    server.script(customer=[Hang()], judge=[Hang()])
    env = {**llm_env, "TENANG_LLM_COOLDOWN": "60"}
    started = time.perf_counter()
    data = play(cli, trainee_file, env=env)
    elapsed = time.perf_counter() - started
    customers = customer_turns(data)
    assert all(t["notice"] == FALLBACK_NOTICE["en"] for t in customers)
    assert "APITimeoutError" in customers[0]["meta"]["error"]
    # the first turn waited (2 attempts x 0.6 s); the next ones skipped the dead server
    assert len(server.of_kind("customer")) == 2
    assert [t["meta"]["calls"] for t in customers] == [1, 0, 0]
    assert data["source"] == "rules"  # the judge timed out too
    assert elapsed < 25


def test_a_retry_that_succeeds_is_invisible(cli, server, trainee_file):
    server.script(customer=[Status(503), Reply(SERVER_LINES[0]), Reply(SERVER_LINES[1]), Reply(SERVER_LINES[2])],
                  judge=[Status(500), Judge(JUDGEMENTS)])
    data = play(cli, trainee_file)
    assert [t["text"] for t in customer_turns(data)] == SERVER_LINES
    assert all(t["notice"] is None for t in data["turns"])
    assert data["source"] == "rules+llm"


def test_slow_reply_within_the_timeout_is_used(cli, server, trainee_file):
    server.script(customer=[Reply("Slow but here.", delay=0.3)], judge=[Judge(JUDGEMENTS)])
    data = play(cli, trainee_file)
    assert {t["text"] for t in customer_turns(data)} == {"Slow but here."}
    assert all(t["meta"]["latency_ms"] >= 300 for t in customer_turns(data))


def test_malformed_judge_json_falls_back_to_the_rules(cli, server, trainee_file):
    server.script(customer=[Reply("Fine.")], judge=[Judge('{"judgements": [{"dimension": "apology", "score": ')])
    data = play(cli, trainee_file)
    rules = cli("play", SCENARIO, "--lang", "en", "--trainee-file", str(trainee_file), "--json", "--seed", "4")
    assert data["source"] == "rules"
    assert data["notice"] == NOTICE_FAILED["en"].format(reason="unreadable answer")
    assert data["dimensions"] == json.loads(rules.stdout)["dimensions"]


# --------------------------------------------------------------------------- configuration errors


def test_llm_mode_without_configuration_is_a_clear_error(cli, llm_env, trainee_file):
    offline = {k: v for k, v in llm_env.items() if k not in ("OPENAI_BASE_URL", "OPENAI_API_KEY")}
    result = cli("play", SCENARIO, "--lang", "en", "--engine", "llm", "--trainee-file", str(trainee_file), env=offline)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "OPENAI_BASE_URL" in result.stderr and "TENANG_CUSTOMER_MODEL" in result.stderr
    no_model = {k: v for k, v in llm_env.items() if k not in ("TENANG_CUSTOMER_MODEL", "TENANG_JUDGE_MODEL")}
    result = cli("play", SCENARIO, "--lang", "en", "--judge", "llm", "--trainee-file", str(trainee_file), env=no_model)
    assert result.returncode == 1 and "TENANG_JUDGE_MODEL" in result.stderr
    bad = {**llm_env, "TENANG_LLM_TIMEOUT": "soon"}
    result = cli("play", SCENARIO, "--lang", "en", "--engine", "llm", "--trainee-file", str(trainee_file), env=bad)
    assert result.returncode == 1 and "TENANG_LLM_TIMEOUT" in result.stderr and "Traceback" not in result.stderr


def test_judge_model_defaults_to_the_customer_model(cli, server, trainee_file, llm_env):
    server.script(customer=[Reply("Fine.")], judge=[Judge(JUDGEMENTS)])
    env = {k: v for k, v in llm_env.items() if k != "TENANG_JUDGE_MODEL"}
    play(cli, trainee_file, env=env)
    assert server.of_kind("judge")[0].body["model"] == "fake-customer"


# --------------------------------------------------------------------------- streaming (SSE)


def settings_for(server) -> Settings:
    return Settings(openai_base_url=server.url, openai_api_key=KEY, customer_model="fake-customer", judge_model="fake-judge")


def test_streamed_reply_over_server_sent_events(server, repo, library):
    line = "Right then, when is your man coming round exactly? I took half a day off for this, you know."
    server.script(customer=[Reply(line, chunk_delay=0.01, usage=(640, 11))])
    engine = LLMCustomer.from_settings(settings_for(server), FAST_OPTIONS)
    service = SessionService(repo, library, engine=engine)
    record = service.start(SCENARIO, "en", seed=1)
    streaming = service.say_stream(record.id, "I'm sorry, we will check the meter.")
    chunks = list(streaming)
    assert len(chunks) > 3 and "".join(chunks) == line
    (request,) = server.of_kind("customer")
    assert request.body["stream"] is True and request.body["stream_options"] == {"include_usage": True}
    stored = service.transcript(record.id)[-1]
    assert stored.text == "".join(chunks) and stored.notice is None
    assert stored.meta["streamed"] is True and (stored.meta["tokens_in"], stored.meta["tokens_out"]) == (640, 11)
    assert streaming.result.customer == stored.text


def test_streaming_failure_falls_back_with_the_notice(server, repo, library):
    server.script(customer=[Status(500)])
    service = SessionService(repo, library, engine=LLMCustomer.from_settings(settings_for(server), FAST_OPTIONS))
    record = service.start(SCENARIO, "en", seed=1)
    streaming = service.say_stream(record.id, "Hello.")
    text = "".join(streaming)
    stored = service.transcript(record.id)[-1]
    assert text == stored.text and stored.notice == FALLBACK_NOTICE["en"]
    assert len(server.of_kind("customer")) == 2  # retried once first


def test_judge_over_http_with_function_calling(server, repo, library):
    """Servers without response_format support: TENANG_JUDGE_METHOD=function_calling."""
    server.script(judge=[Judge(JUDGEMENTS)])
    options = FAST_OPTIONS.model_copy(update={"judge_method": "function_calling"})
    service = SessionService(repo, library, judge=LLMJudge.from_settings(settings_for(server), options))
    record = service.start(SCENARIO, "en", seed=1)
    service.say(record.id, TRAINEE[0])
    card = service.end(record.id)
    (request,) = server.of_kind("judge")
    assert request.body["tools"][0]["function"]["name"] == "Verdict"
    assert card.source == "rules+llm" and card.dimensions["apology"].detail["judge"] == 90


def test_judge_over_http_with_json_mode_gets_the_schema_in_the_prompt(server, repo, library):
    server.script(judge=[Judge(JUDGEMENTS)])
    options = FAST_OPTIONS.model_copy(update={"judge_method": "json_mode"})
    service = SessionService(repo, library, judge=LLMJudge.from_settings(settings_for(server), options))
    record = service.start(SCENARIO, "en", seed=1)
    service.say(record.id, TRAINEE[0])
    card = service.end(record.id)
    (request,) = server.of_kind("judge")
    assert request.body["response_format"] == {"type": "json_object"}
    assert '"judgements"' in request.messages[0]["content"]  # the schema, spelled out
    assert card.source == "rules+llm" and card.dimensions["apology"].detail["judge"] == 90


# --------------------------------------------------------------------------- connection test


def test_connection_reports_latency(server):
    server.script(customer=[Reply("OK", delay=0.05)])
    ok, latency, message = test_connection(settings_for(server), FAST_OPTIONS)
    assert ok and latency >= 50 and "fake-customer" in message and "OK" in message
    assert server.requests[-1].body["max_completion_tokens"] == 16


def test_connection_reports_the_exact_error(server):
    server.script(customer=[Status(404, "The model `fake-customer` does not exist")])
    ok, latency, message = test_connection(settings_for(server), FAST_OPTIONS)
    assert not ok and message == "NotFoundError: Error code: 404 - The model `fake-customer` does not exist"
    assert len(server.requests) == 1  # no retries in a connection test
    server.script(customer=[Status(401, f"Incorrect API key provided: {KEY}")])
    ok, _, message = test_connection(settings_for(server), FAST_OPTIONS)
    assert not ok and KEY not in message and "Incorrect API key provided: ***" in message


def test_connection_refused_and_offline():
    refused = Settings(openai_base_url="http://127.0.0.1:9/v1", customer_model="m")
    ok, _, message = test_connection(refused, FAST_OPTIONS)
    assert not ok and message.startswith("APIConnectionError: Connection error.") and "refused" in message.lower()
    ok, latency, message = test_connection(Settings(), FAST_OPTIONS)
    assert not ok and latency is None and "OPENAI_BASE_URL" in message


# --------------------------------------------------------------------------- judge output methods

LLAMA_CPP_REFUSAL = "Input should be 'text' or 'json_object'"


def _judge(server):
    from simulator.llm import build_chat_model

    settings = Settings(openai_api_key=KEY, openai_base_url=server.url, customer_model="fake-customer", judge_model="fake-judge")
    return LLMJudge(build_chat_model(settings, "judge", FAST_OPTIONS), model_label="fake-judge", settings=settings)


def _rules(scenario):
    from simulator.analysis import analyze
    from simulator.mood import initial_state
    from simulator.rubric import load_rubric
    from simulator.scoring import TraineeTurn, score

    turns = [TraineeTurn(2 * i + 1, text, analyze(text, "en", scenario=scenario)) for i, text in enumerate(TRAINEE)]
    return score(turns, scenario, load_rubric(), initial_state(scenario), "abandoned"), turns


def test_judge_falls_back_to_json_mode_when_json_schema_is_refused_and_remembers(server, scenario):
    from simulator.judge import accepted_methods
    from simulator.rubric import load_rubric

    server.script(judge=[Status(500, LLAMA_CPP_REFUSAL), Status(500, LLAMA_CPP_REFUSAL), Judge(JUDGEMENTS)])
    rules, turns = _rules(scenario)
    judge = _judge(server)
    result = judge.review(rules, turns, scenario, load_rubric())
    assert result.scorecard.source == "rules+llm"
    assert result.meta["method"] == "json_mode" and result.meta["refused"] == ["json_schema"]
    formats = [r.body["response_format"]["type"] for r in server.of_kind("judge")]
    assert formats[0] == "json_schema" and formats[-1] == "json_object"
    assert "JSON Schema" in server.of_kind("judge")[-1].text()  # the schema travels in the prompt
    assert list(accepted_methods().values()) == ["json_mode"]
    # the next review asks in JSON mode straight away
    server.requests.clear()
    server.script(judge=[Judge(JUDGEMENTS)])
    again = judge.review(rules, turns, scenario, load_rubric())
    assert again.meta["method"] == "json_mode" and again.meta["refused"] == []
    assert [r.body["response_format"]["type"] for r in server.of_kind("judge")] == ["json_object"]


def test_judge_parses_a_plain_reply_when_no_structured_output_is_accepted(server, scenario):
    from simulator.rubric import load_rubric

    server.script(
        judge=[Status(500, LLAMA_CPP_REFUSAL)],
        customer=[Reply("Here is my assessment:\n```json\n" + json.dumps(JUDGEMENTS) + "\n```")],
    )
    rules, turns = _rules(scenario)
    result = _judge(server).review(rules, turns, scenario, load_rubric())
    assert result.scorecard.source == "rules+llm"
    assert result.meta["method"] == "plain" and result.meta["refused"] == ["json_schema", "json_mode"]
    (plain,) = server.of_kind("customer")  # no response_format: the fake server files it as "customer"
    assert "response_format" not in plain.body


def test_a_judge_server_error_that_is_no_refusal_is_not_retried_as_another_method(server, scenario):
    from simulator.rubric import load_rubric

    server.script(judge=[Status(500, "out of memory")])
    rules, turns = _rules(scenario)
    result = _judge(server).review(rules, turns, scenario, load_rubric())
    assert result.scorecard.source == "rules" and result.meta["method"] == "json_schema"
    assert {r.body["response_format"]["type"] for r in server.of_kind("judge")} == {"json_schema"}
