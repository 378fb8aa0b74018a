"""The Scenario Studio (/studio) through the real entry point: access, list, raw YAML editing with
validation, save (new versions), publish, and a published authored scenario reaching trainees."""

from __future__ import annotations

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from simulator.store.authoring import AuthoringStore
from simulator import studio
from simulator.scenario import ScenarioLibrary
from tests.app import page_support
from ui.i18n import translate

PAGE = "views/studio.py"


def tr(key: str, **values) -> str:
    return translate(key, "en", **values)


def open_page(at: AppTest, page: str = PAGE, **params: str) -> AppTest:
    return page_support.open_page(at, page, **params)


texts = page_support.raw_texts  # Markdown source as rendered (escape_md's backslashes kept)


def button(at: AppTest, key: str):
    return next(b for b in at.button if b.key == key)


@pytest.mark.parametrize("role", ["trainee", "hr"])
def test_trainee_and_hr_are_refused(app, make_user, role):
    at = open_page(app(make_user("someone", role)))
    assert not at.exception
    assert [e.value for e in at.error] == [tr("not_allowed")]
    assert not at.text_area and not at.dataframe


def test_list_shows_builtins(app, make_user):
    at = open_page(app(make_user("tia", "trainer")))
    assert not at.exception, at.exception
    rows = at.dataframe[0].value
    assert len(rows) == 20  # ten built-ins in two languages


def test_trainer_saves_sees_errors_and_publishes(app, make_user, repo):
    trainer = make_user("tia", "trainer")
    at = open_page(app(trainer), new="1", lang="en")
    assert not at.exception, at.exception
    assert tr("studio_valid") in texts(at)

    # a built-in id is refused, naming the field
    draft = studio.skeleton("water-bill-surge", "en")
    at.text_area(key="st_yaml").set_value(draft).run()
    assert page_support.unescape(f"{tr('sf_id')} ({tr('sferr_where', line=1, column=5)}): {tr('sferr_builtin_id')}") in page_support.texts(at)
    # an unknown field and a bad value are pointed at
    bad = studio.skeleton("office-hours", "en").replace("difficulty: 1", "difficulty: 7") + "colour: blue\n"
    at.text_area(key="st_yaml").set_value(bad).run()
    shown = page_support.texts(at)
    assert f"{tr('sf_difficulty')} (" in shown and tr("sferr_less_than_equal", le=3) in shown
    assert tr("sferr_extra_forbidden") in shown
    assert "Input should" not in shown and "Extra inputs" not in shown  # no pydantic English
    button(at, "studio_save").click().run()
    assert tr("studio_save_invalid") in texts(at)
    store = AuthoringStore(repo)
    assert store.summaries() == []

    good = studio.skeleton("office-hours", "en")
    at.text_area(key="st_yaml").set_value(good).run()
    button(at, "studio_save").click().run()
    assert not at.exception, at.exception
    assert at.query_params["edit"] == ["office-hours"] or at.query_params["edit"] == "office-hours"
    assert tr("studio_saved", version=1) in texts(at)
    assert [v.version for v in store.versions("office-hours", "en")] == [1]
    assert store.versions("office-hours", "en")[0].author_id == trainer.id

    # the form edits the draft, a second save is version 2
    at.text_input(key="sf_title").set_value("Office hours complaint")
    button(at, "studio_form_apply").click().run()  # a form: typing alone reruns nothing
    assert "title: Office hours complaint" in at.text_area(key="st_yaml").value
    button(at, "studio_save").click().run()
    assert [v.version for v in store.versions("office-hours", "en")] == [2, 1]
    assert store.published("office-hours", "en") is None

    button(at, "studio_publish").click().run()
    assert store.published("office-hours", "en").version == 2
    assert tr("studio_published_is", version=2) in texts(at)


def test_published_authored_scenario_is_playable_and_records_version(app, make_user, repo):
    trainer = make_user("tia", "trainer")
    trainee = make_user("ana", "trainee")
    store = AuthoringStore(repo)
    store.save_version("office-hours", "en", studio.skeleton("office-hours", "en"), trainer.id)
    at = open_page(app(trainee), "views/practice.py")
    assert not [b for b in at.button if b.key == "open_office-hours_en"]  # not published yet
    store.set_published("office-hours", "en", 1)
    store.assign("office-hours", "en", user_id=trainee.id, pass_mark=70, created_by=trainer.id)
    at = open_page(app(trainee), "views/practice.py")
    assert not at.exception, at.exception
    assert tr("practice_assign_heading") in texts(at)
    at = open_page(app(trainee), "views/practice.py", scenario="office-hours", lang="en")
    next(b for b in at.button if b.key == "start").click().run()
    assert not at.exception, at.exception
    sessions = repo.list_sessions(user_id=trainee.id)
    assert len(sessions) == 1 and sessions[0].scenario_version == 1


def test_a_valid_draft_shows_its_authoring_warnings_in_the_interface_language(app, make_user, repo):
    trainer = make_user("tia", "trainer")
    repo.set_user_lang(trainer.id, "id")
    at = open_page(app(trainer), new="1", lang="id")
    assert not at.exception, at.exception
    assert not at.warning  # the template raises nothing
    scenario = ScenarioLibrary().get("water-bill-surge", "id").model_dump(mode="json", exclude_none=True)
    scenario["id"] = "tagihan-air-baru"
    scenario["knowledge"][0]["questions"] = []  # nobody can ask for it by example
    at.text_area(key="st_yaml").set_value(yaml.safe_dump(scenario, allow_unicode=True, sort_keys=False)).run()
    assert not at.exception, at.exception
    assert translate("studio_valid", "id") in texts(at)
    shown = [page_support.unescape(w.value) for w in at.warning]
    assert len(shown) == 1 and scenario["knowledge"][0]["id"] in shown[0], shown
    assert "example question" not in shown[0]  # worded in Indonesian, not the CLI's English
