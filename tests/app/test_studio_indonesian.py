"""The studio for an Indonesian trainer: an Indonesian template, every form field labelled in
Indonesian (never a YAML key), problems in plain Indonesian with the right line and column,
readable test-drive tags, and self-play warnings in Indonesian."""

from __future__ import annotations

import re

import pytest

from simulator import selfplay as selfplay_module
from simulator import studio
from simulator.dialogue import lint
from simulator.mood import MoodState
from simulator.scenario import Scenario, ScenarioLibrary, ScenarioWarning, WarningCode
from simulator.selfplay import (
    EXEMPLARY,
    BotResult,
    SelfPlayReport,
    discrimination_warnings,
    fact_reach_warnings,
    referral_warnings,
)
from simulator.store.authoring import AuthoringStore
from tests.app.page_support import open_page, texts, tr, unescape

PAGE = "views/studio.py"
YAML_KEY = re.compile(r"^[a-z_]+(\.[a-z0-9_]+)+$|^[a-z_]+$")


@pytest.fixture
def trainer(make_user, repo):
    user = make_user("Bu Ratna (Pelatih)", "trainer")
    return repo.set_user_lang(user.id, "id")


def _button(at, key):
    return next(b for b in at.button if b.key == key)


def test_new_scenario_in_indonesian_from_the_form(app, trainer, repo):
    at = open_page(app(trainer), PAGE)
    _button(at, "studio_new").click().run()
    assert not at.exception
    assert at.query_params["lang"] in ("id", ["id"])
    draft = at.text_area(key="st_yaml").value
    assert "lang: id" in draft and "Skenario baru" in draft and "New scenario" not in draft

    labels = [w.label for kind in ("text_input", "text_area", "number_input", "selectbox", "checkbox", "multiselect")
              for w in getattr(at, kind) if str(w.key or "").startswith("sf_")]
    assert len(labels) > 30
    raw = [label for label in labels if YAML_KEY.match(label) or label in studio.FORM_FIELDS]
    assert not raw, raw
    temperament = at.selectbox(key="sf_persona.temperament")
    assert "Marah" in temperament.options and "angry" not in temperament.options

    at.text_input(key="sf_id").set_value("air-mati")
    at.text_input(key="sf_title").set_value("Air mati tiga hari")
    _button(at, "studio_form_apply").click().run()
    assert not at.exception and tr("studio_valid", "id") in texts(at)
    _button(at, "studio_save").click().run()
    saved = AuthoringStore(repo).latest("air-mati", "id")
    assert saved is not None and "Air mati tiga hari" in saved.yaml_text


def test_problems_are_plain_indonesian_with_line_and_column(app, trainer):
    at = open_page(app(trainer), PAGE, new="1", lang="id")
    broken = studio.skeleton("air-mati", "id").replace("title: Skenario baru", 'title: "Skenario baru', 1)
    line = next(i for i, text in enumerate(broken.splitlines(), 1) if text.startswith("title:"))
    at.text_area(key="st_yaml").set_value(broken).run()
    shown = texts(at)
    assert tr("sferr_where", "id", line=line, column=8) in shown, shown
    assert tr("sferr_yaml_unclosed", "id") in shown

    bad = studio.skeleton("air-mati", "id").replace("anger: 6", "anger: 12").replace("difficulty: 1", "difficulty: x")
    at.text_area(key="st_yaml").set_value(bad).run()
    shown = texts(at)
    assert tr("sf_persona_mood_anger", "id") in shown and tr("sferr_less_than_equal", "id", le="10") in shown
    assert tr("sf_difficulty", "id") in shown and tr("sferr_whole_number", "id") in shown
    for english in ("Input should", "valid integer", "persona.mood.anger", "less than or equal"):
        assert english not in shown


def test_test_drive_tags_are_words(app, trainer, repo):
    store = AuthoringStore(repo)
    store.save_version("air-mati", "id", studio.skeleton("air-mati", "id"), trainer.id)
    at = open_page(app(trainer), PAGE, edit="air-mati", lang="id")
    _button(at, "drive_start").click().run()
    at.text_input(key="drive_reply").input("Mohon maaf, Bu. Sejak kapan tagihannya naik?")
    next(b for b in at.button if b.label == tr("studio_drive_send", "id")).click().run()
    assert not at.exception
    captions = [c.value for c in at.caption if c.value.startswith(tr("studio_drive_tags", "id", tags="")[:4])]
    assert captions, [c.value for c in at.caption]
    assert tr("review_tag_question", "id") in captions[-1] or tr("review_tag_apology", "id") in captions[-1]
    assert not re.search(r"\b(question|apology|time_estimate)\b", captions[-1])


def test_the_assignment_list_shows_and_removes_assignments(app, trainer, repo, make_user):
    trainee = make_user("dewi", "trainee")
    AuthoringStore(repo).assign("water-bill-surge", "id", user_id=trainee.id, pass_mark=70.0)
    at = open_page(app(trainer), PAGE)
    assert not at.exception
    rows = [m.value for m in at.markdown if "dewi" in m.value]
    assert rows and "water-bill-surge" not in rows[0] and "Bahasa Indonesia" in rows[0], rows
    remove = next(b for b in at.button if str(b.key).startswith("as_del_"))
    remove.click().run()
    assert not at.exception
    assert AuthoringStore(repo).assignments() == []
    assert not [m.value for m in at.markdown if "dewi" in m.value]


def every_warning() -> list[ScenarioWarning]:
    """One of each warning the self-play check gives, from the core's own checks on broken scenarios."""
    library = ScenarioLibrary()
    water = library.get("water-bill-surge", "id").model_dump(mode="json", exclude_none=True)
    facts = water["hidden_facts"]
    facts.append({"id": "foto_meter", "reveal": "Ada fotonya.", "asked_by": list(facts[0]["asked_by"])})
    facts[1]["asked_by"] = ["  ", "--"]
    facts[2]["asked_by"].extend(["  ", "kapan"])
    water["knowledge"][0]["questions"] = []
    water["needs"].append({"id": "rujukan", "description": "Dirujuk", "kind": "referral", "met_by": [{"referral": True}]})
    lines = water.setdefault("lines", {})
    lines.setdefault("calmer", []).extend([{"text": "Baik.", "when": ["apologised", "not_apologised"]},
                                           {"text": "Terima kasih.", "when": ["security_called"]}])
    lines.setdefault("apology_accepted", []).append({"text": "Ya.", "when": ["not_apologised"]})
    lines.setdefault("accept_referral", []).append({"text": "Oke.", "when": ["referral_made"]})
    water = Scenario.model_validate(water)
    agency = library.get("wrong-agency", "id").model_dump(mode="json", exclude_none=True)
    agency["handling"]["referral"].update(accept_cues=["PLN\u2019s"], party="kantor PLN")
    agency = Scenario.model_validate(agency)
    tired = MoodState(anger=7.25, trust=2.5, threat=0.0)
    bots = {EXEMPLARY: BotResult(overall=50.0, outcome="walked_away", dimensions={}, final_mood=tired),
            "passive": BotResult(overall=55.5, outcome="walked_away", dimensions={}),
            "defensive": BotResult(overall=31.0, outcome="escalated", dimensions={})}
    return [*discrimination_warnings(bots, water), *fact_reach_warnings(water), *referral_warnings(agency), *lint(water)]


def test_self_play_warnings_are_in_the_interface_language(app, trainer, monkeypatch):
    warnings = every_warning()
    assert {w.code for w in warnings} == set(WarningCode)  # a new kind of warning needs words here too
    report = SelfPlayReport(scenario="water-bill-surge", lang="id", bots={}, warnings=warnings)
    monkeypatch.setattr(selfplay_module, "selfplay", lambda scenario, progress=None: report)
    at = open_page(app(trainer), PAGE, edit="water-bill-surge", lang="id")
    _button(at, "selfplay_run").click().run()
    assert not at.exception
    shown = [unescape(w.value) for w in at.warning]
    assert len(shown) == len(warnings), shown
    assert all("None" not in text and "{" not in text for text in shown), shown
    everything = "\n".join(shown)
    for indonesian in (tr("studio_bot_passive", "id"), "55,5", "marah 7,2", tr("practice_outcome_walked_away", "id"),
                       tr("sf_hidden_facts", "id"), "“foto_meter”", "misalnya “", "Kebutuhan pelanggan “rujukan”",
                       tr("sf_lines_apology_accepted", "id"), "percaya 2,5; penyebabnya tidak ditemukan",
                       "“kapan” pada fakta", "hanya kata tanya"):
        assert indonesian in everything, (indonesian, everything)
    for english in ("does not discriminate", "cannot be resolved", "hidden fact", "never hold", "Model trainee", "question word",
                    "walked_away", "asked_by", "accept_cues", "lines.calmer"):
        assert english not in everything, (english, everything)
