"""The self-play check (issue 5): bot trainees play a scenario; the report warns when it does not work.

Acceptance bar of the issue: on every built-in scenario in both languages, no warnings and the
exemplary bot beats every bad bot by at least 30 points; a deliberately broken scenario (a
hidden fact no question reaches, a referral target the customer can never accept) gets the
matching warning.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from simulator.scenario import MissingCode, ReferralTarget, Scenario, ScenarioLibrary, WarningCode
from simulator.selfplay import (
    ALL,
    BAD_BOTS,
    EXEMPLARY,
    GOOD_OUTCOMES,
    MARGIN,
    BotResult,
    SelfPlayReport,
    discrimination_warnings,
    load_phrasebook,
    selfplay,
)

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ScenarioLibrary()
CASES = [(s.id, s.lang) for s in LIBRARY.all()]


def _summary(report: SelfPlayReport) -> str:
    return "; ".join(f"{n} {r.overall} {r.outcome} {r.dimensions}" for n, r in report.bots.items())


def _broken(scenario_id: str, lang: str, edit) -> Scenario:
    """A built-in scenario, changed by ``edit(data)`` and validated again (so it is a valid scenario)."""
    data = LIBRARY.get(scenario_id, lang).model_dump(mode="json")
    edit(data)
    return Scenario.model_validate(data)


# -- the phrasebooks -----------------------------------------------------------------------------------
SLOTS = {"problem", "cue", "when", "ref", "party", "contact", "accept", "place", "you"}


def _templates(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _templates(v)
    elif isinstance(value, list):
        for v in value:
            yield from _templates(v)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_phrasebook_templates_use_only_known_slots(lang):
    import string

    book = load_phrasebook(lang)
    assert book.lang == lang
    for template in _templates(book.model_dump()):
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        assert names <= SLOTS, (template, names - SLOTS)


# -- the built-in scenarios ------------------------------------------------------------------------
def test_there_are_twenty_builtin_cases():
    assert len(CASES) == 20


@pytest.mark.parametrize("scenario_id,lang", CASES)
def test_builtin_scenario_discriminates_without_warnings(scenario_id, lang):
    scenario = LIBRARY.get(scenario_id, lang)
    report = selfplay(scenario)
    summary = _summary(report)
    assert report.scenario == scenario_id and report.lang == lang
    assert list(report.bots) == list(ALL)
    assert report.warnings == [], (report.warnings, summary)
    best = report.bots[EXEMPLARY]
    assert best.outcome in GOOD_OUTCOMES, summary
    for name in BAD_BOTS:
        assert best.overall - report.bots[name].overall >= MARGIN, (name, summary)
        assert report.bots[name].outcome not in GOOD_OUTCOMES, (name, summary)
    if scenario.handling.referral.target is not ReferralTarget.none:
        assert best.dimensions["referral"] >= 70, summary
        assert report.bots["wrong_referral"].dimensions["referral"] <= 40, summary
    if not scenario.handling.compensation_due:  # a remedy nobody owed is over-reaction
        assert report.bots["over_reacting"].dimensions["resolution"] < best.dimensions["resolution"], summary


def test_exemplary_bot_asks_one_question_per_hidden_fact_then_acts():
    report = selfplay(LIBRARY.get("water-bill-surge", "en"), bots=[EXEMPLARY])
    trainee = [t for t in report.bots[EXEMPLARY].transcript if t.speaker == "trainee"]
    assert {"acknowledge", "apology", "empathy"} <= set(trainee[0].tags)
    questions = trainee[1:-1]
    assert len(questions) == 4 and all("question" in t.tags and t.text.endswith("?") for t in questions)
    assert {"time_estimate", "compensation"} <= set(trainee[-1].tags)


def test_bots_subset_and_progress():
    calls = []
    report = selfplay(LIBRARY.get("wrong-agency", "id"), bots=["passive", EXEMPLARY], progress=lambda *a: calls.append(a))
    assert list(report.bots) == ["passive", EXEMPLARY]
    assert calls == [(0, 2, "passive"), (1, 2, EXEMPLARY), (2, 2, None)]


def test_only_bad_bots_gives_no_discrimination_warnings():
    report = selfplay(LIBRARY.get("water-bill-surge", "en"), bots=["passive"])
    assert report.warnings == []


def test_unknown_bot_is_refused():
    with pytest.raises(ValueError, match="unknown bot"):
        selfplay(LIBRARY.get("water-bill-surge", "en"), bots=["genius"])


def test_report_json_has_exactly_the_contract_keys():
    report = selfplay(LIBRARY.get("threat-violence", "en"))
    data = report.model_dump(mode="json")
    assert set(data) == {"scenario", "lang", "bots", "warnings"}
    for result in data["bots"].values():
        assert set(result) == {"overall", "outcome", "dimensions"}


# -- broken scenarios get the matching warning ---------------------------------------------------------
def test_fact_whose_cues_all_belong_to_another_fact_is_flagged():
    def edit(data):  # a second fact asked only with the meter fact's words
        data["hidden_facts"].append({"id": "meter_photo", "reveal": "I have a photo.", "asked_by": ["meter", "reading"]})

    report = selfplay(_broken("water-bill-surge", "en", edit))
    matching = [w for w in report.warnings if w.params.get("fact") == "meter_photo"]
    assert len(matching) == 1, report.warnings
    assert matching[0].code is WarningCode.fact_not_alone
    assert matching[0].params["field"] == "hidden_facts.4.asked_by" and "meter_reading" in matching[0].params["others"]
    assert "hidden_facts.4.asked_by" in str(matching[0])
    assert "no question asks for it on its own" in str(matching[0]) and "'meter_reading'" in str(matching[0])
    assert all(w.params.get("fact") != "meter_reading" for w in report.warnings)  # the original fact is fine


@pytest.mark.parametrize("lang", ["id", "en"])
def test_fact_with_empty_ish_cues_cannot_be_revealed(lang):
    def edit(data):
        data["hidden_facts"][1]["asked_by"] = ["  ", "--", "?!"]

    scenario = _broken("water-bill-surge", lang, edit)
    fact_id = scenario.hidden_facts[1].id
    report = selfplay(scenario)
    matching = [w for w in report.warnings if w.params.get("fact") == fact_id]
    assert len(matching) == 1, report.warnings
    assert matching[0].code is WarningCode.fact_unreachable and matching[0].params["cues"] == ["  ", "--", "?!"]
    assert "no question can reveal it" in str(matching[0]) and "hidden_facts.1.asked_by" in str(matching[0])


def test_one_cue_without_words_is_flagged_even_when_the_fact_is_reachable():
    def edit(data):
        data["hidden_facts"][2]["asked_by"].append("  ")

    report = selfplay(_broken("water-bill-surge", "en", edit), bots=[EXEMPLARY])
    assert [str(w) for w in report.warnings] == [
        "hidden fact 'no_leak' (hidden_facts.2.asked_by): the cue '  ' has no words, so no question can use it; remove it"
    ]
    assert report.warnings[0].code is WarningCode.cue_without_words
    assert report.warnings[0].params == {"field": "hidden_facts.2.asked_by", "fact": "no_leak", "cue": "  "}


@pytest.mark.parametrize(
    "lang,cues",
    [
        ("en", ["   "]),  # nothing to match
        ("id", ["PLN\u2019s office"]),  # a typographic apostrophe: typed text is normalised to "'" and never matches
    ],
)
def test_referral_target_the_customer_can_never_accept(lang, cues):
    def edit(data):
        data["handling"]["referral"].update(accept_cues=cues, party="the electricity company", contact="their office")

    report = selfplay(_broken("wrong-agency", lang, edit))
    referral = [w for w in report.warnings if w.code is WarningCode.referral_unaccepted]
    assert len(referral) == 1, report.warnings
    assert referral[0].params["party"] == "the electricity company" and referral[0].params["cues"] == cues
    assert str(referral[0]).startswith("handling.referral.accept_cues: the customer can never accept the referral "
                                       "to 'the electricity company'")
    # and so the exemplary bot cannot finish the case either
    assert report.bots[EXEMPLARY].outcome not in GOOD_OUTCOMES
    assert any(w.code is WarningCode.unresolvable and str(w).startswith("cannot be resolved")
               for w in report.warnings), report.warnings


def test_too_few_turns_cannot_be_resolved():
    # Three turns: not enough to hear the customer out, ask and act, so the conversation cannot be
    # resolved. (Under the evidence-based score the bots are still ordered, so it may discriminate.)
    def edit(data):
        data["max_turns"] = 3

    report = selfplay(_broken("water-bill-surge", "en", edit))
    summary = (report.warnings, _summary(report))
    unresolvable = [w for w in report.warnings if w.code is WarningCode.unresolvable]
    assert len(unresolvable) == 1, summary
    assert unresolvable[0].params["outcome"] == "turn_limit" and unresolvable[0].params["max_turns"] == 3
    assert MissingCode.out_of_turns in unresolvable[0].params["missing"]
    assert str(unresolvable[0]).startswith("cannot be resolved: the exemplary bot ended with outcome 'turn_limit'")
    assert "ran out of turns (max_turns 3)" in str(unresolvable[0])


def test_discrimination_rules():
    def result(overall, outcome="walked_away"):
        return BotResult(overall=overall, outcome=outcome, dimensions={})

    bots = {EXEMPLARY: result(60.0, "resolved"), "passive": result(65.0), "defensive": result(40.0), "over_reacting": result(20.0)}
    warnings = discrimination_warnings(bots)
    assert [str(w) for w in warnings] == [
        "does not discriminate: the exemplary bot does not score highest; 'passive' scores 65.0, the exemplary bot 60.0",
        "does not discriminate: 'defensive' scores 40.0, within 30 points of the exemplary bot's 60.0",
    ]
    assert [(w.code, w.params) for w in warnings] == [
        (WarningCode.not_highest, {"bot": "passive", "score": 65.0, "best": 60.0}),
        (WarningCode.too_close, {"bot": "defensive", "score": 40.0, "best": 60.0, "margin": 30}),
    ]
    assert discrimination_warnings({EXEMPLARY: result(90.0, "resolved"), "passive": result(60.0)}) == []


# -- the command line ---------------------------------------------------------------------------------
@pytest.fixture
def cli(tmp_path):
    db = tmp_path / "user.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db}"}
    env.pop("OPENAI_API_KEY", None)

    def run(*args: str) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "-m", "simulator", "selfplay", *args],
            capture_output=True, text=True, cwd=ROOT, env=env, timeout=120,
        )
        assert "Traceback" not in result.stdout + result.stderr, result.stderr
        assert not db.exists(), "selfplay must not touch the user's database"
        return result

    return run


def test_cli_json_shape(cli):
    result = cli("vehicle-registration-delay", "--lang", "id", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert list(data) == ["scenario", "lang", "bots", "warnings"]
    assert data["scenario"] == "vehicle-registration-delay" and data["lang"] == "id"
    assert list(data["bots"]) == list(ALL)
    for result_ in data["bots"].values():
        assert list(result_) == ["overall", "outcome", "dimensions"]
        assert isinstance(result_["overall"], float) and isinstance(result_["outcome"], str)
        assert all(isinstance(v, float) for v in result_["dimensions"].values())
    assert data["warnings"] == []
    assert result.stderr == ""  # no progress lines in JSON mode


def test_cli_text_table_and_progress(cli):
    result = cli("water-bill-surge", "--lang", "en")
    assert result.returncode == 0, result.stderr
    assert "Self-play check: water-bill-surge (en)" in result.stdout
    for name in ALL:
        assert name in result.stdout
        assert f"{name} playing" in result.stderr
    assert "No warnings." in result.stdout


def test_cli_broken_file_exits_0_with_warnings(cli, tmp_path):
    data = LIBRARY.get("wrong-agency", "en").model_dump(mode="json")
    data["handling"]["referral"]["accept_cues"] = ["   "]
    data["hidden_facts"][0]["asked_by"] = ["  "]
    path = tmp_path / "my draft.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = cli(str(path), "--json")
    assert result.returncode == 0, result.stderr
    warnings = json.loads(result.stdout)["warnings"]
    assert any("'neighbours_have_power'" in w and "no question can reveal it" in w for w in warnings), warnings
    assert any(w.startswith("handling.referral.accept_cues") for w in warnings), warnings
    text = cli(str(path))
    assert text.returncode == 0 and "Warnings (" in text.stdout


@pytest.mark.parametrize(
    "args,message",
    [
        (("no-such-scenario", "--lang", "en"), "error: unknown scenario 'no-such-scenario' in language 'en'; known ids:"),
        (("missing/draft.yaml",), "error: missing/draft.yaml: (file): no such file"),
        (("water-bill-surge",), "error: give the language of scenario 'water-bill-surge' with --lang"),
        (("scenarios/en/wrong-agency.yaml", "--lang", "id"), "lang: the scenario is in 'en', not 'id'"),
    ],
)
def test_cli_bad_input_exits_1_with_a_message(cli, args, message):
    result = cli(*args)
    assert result.returncode == 1
    assert message in result.stderr
    assert result.stdout == ""


def test_cli_invalid_file_names_file_and_field(cli, tmp_path):
    path = tmp_path / "draft.yaml"
    path.write_text("id: draft\nlang: en\ntitle: x\n", encoding="utf-8")
    result = cli(str(path))
    assert result.returncode == 1
    assert f"{path}: persona: Field required" in result.stderr


def test_a_cue_that_is_only_a_question_word_is_flagged():
    def edit(data):
        data["hidden_facts"][2]["asked_by"].append("when")

    report = selfplay(_broken("water-bill-surge", "en", edit), bots=[EXEMPLARY])
    flagged = [w for w in report.warnings if w.code is WarningCode.cue_question_word]
    assert [w.params for w in flagged] == [{"field": "hidden_facts.2.asked_by", "fact": "no_leak", "cue": "when"}]
    assert "only a question word" in str(flagged[0])
