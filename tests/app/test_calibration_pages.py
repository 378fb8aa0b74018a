"""Calibration in the app (issue 15): grading on the review page (blind inside a calibration set),
tag corrections, the calibration page, the dashboard's agreement tab, and who may see what."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from simulator.grading import GradingService
from simulator.store.calibration import CalibrationStore
from simulator.store.teams import TeamStore
from tests.app.page_support import open_page, open_tab, texts, tr

REVIEW = "views/review.py"
CALIBRATION = "views/calibration.py"
DASHBOARD = "views/dashboard.py"
LINES = [
    "That is our procedure, the meter readings are always correct.",
    "I'm sorry. So your bill jumped six times while nothing changed at home?",
    "May I have your customer number, and since when is the bill this high?",
]
pytestmark = pytest.mark.database


@pytest.fixture
def played(service, ana):
    record = service.start("water-bill-surge", "en", user_id=ana.id, seed=11)
    for line in LINES:
        service.say(record.id, line)
    service.end(record.id)
    return service.session(record.id)


def metric_labels(at: AppTest) -> list[str]:
    return [m.label for m in at.metric]


def grade_selectbox(at: AppTest, session_id: str, key: str):
    return at.selectbox(key=f"grade_{session_id}_{key}")


def test_grader_in_a_set_grades_blind_then_sees_the_score_and_the_other_grade(app, make_user, repo, played):
    ted, tia = make_user("ted", "trainer"), make_user("tia", "trainer")
    automatic = repo.get_scores(played.id)
    store = CalibrationStore(repo)
    store.create_set("Week 1", [played.id], [ted.id, tia.id], created_by=ted.id)
    GradingService(repo).grade(tia, played.id, {"listening": 40.0, "empathy": 60.0}, {"listening": "Tia's secret note"})

    at = open_page(app(ted), REVIEW, session=played.id)
    assert not at.exception
    shown = texts(at)
    assert tr("grade_blind") in shown
    assert tr("practice_overall") not in metric_labels(at)  # no scorecard
    assert f"{tr('practice_overall')}: {played.overall:.0f}" not in shown
    assert "Tia's secret note" not in shown and "tia" not in " ".join(str(d.value.columns) for d in at.dataframe)

    grade_selectbox(at, played.id, "listening").select(70)
    grade_selectbox(at, played.id, "empathy").select(50)
    grade_selectbox(at, played.id, "referral").select("na")
    at.text_input(key=f"grade_{played.id}_listening_comment").input("Restated late")
    at.button[[b.label for b in at.button].index(tr("grade_submit"))].click().run()
    assert not at.exception
    shown = texts(at)
    assert tr("grade_saved") in shown and tr("grade_blind") not in shown
    assert tr("practice_overall") in metric_labels(at)  # the automatic score, now
    assert "Tia's secret note" in shown and "Restated late" in shown
    grades = GradingService(repo).store.grades(session_ids=[played.id])
    assert {g.grader: g.scores for g in grades}["ted"] == {"listening": 70.0, "empathy": 50.0, "referral": None}
    assert repo.get_scores(played.id) == automatic  # the automatic scores are untouched
    assert repo.get_session(played.id).overall == played.overall
    assert [e.action for e in TeamStore(repo).audit_log(action="grade_session")].count("grade_session") == 2


def test_trainee_sees_grades_on_own_session_but_cannot_grade(app, ana, make_user, repo, played):
    ted = make_user("ted", "trainer")
    GradingService(repo).grade(ted, played.id, {"empathy": 80.0}, {"empathy": "Warm <b>tone</b>"})
    at = open_page(app(ana), REVIEW, session=played.id)
    assert not at.exception
    shown = texts(at)
    assert "Warm <b>tone</b>" in shown  # inert: escaped Markdown, shown as typed
    assert tr("grade_submit") not in [b.label for b in at.button]
    assert tr("grade_tags_title") not in [e.label for e in at.expander]


def test_other_trainee_is_refused_the_session_and_its_grades(app, make_user, repo, played):
    ted = make_user("ted", "trainer")
    GradingService(repo).grade(ted, played.id, {"empathy": 80.0}, {"empathy": "Private remark"})
    at = open_page(app(make_user("bob", "trainee")), REVIEW, session=played.id)
    assert [e.value for e in at.error] == [tr("not_allowed")]
    assert "Private remark" not in texts(at)


def test_trainer_corrects_a_turns_tags(app, make_user, repo, played):
    ted = make_user("ted", "trainer")
    at = open_page(app(ted), REVIEW, session=played.id)
    first = [turn for turn in repo.get_turns(played.id) if turn.speaker == "trainee"][0]
    at.multiselect(key=f"tags_{first.id}").set_value(["defensive", "referral"])
    at.selectbox(key=f"target_{first.id}").select("legal")
    at.button[[b.label for b in at.button].index(tr("grade_tags_save"))].click().run()
    assert not at.exception
    fixes = CalibrationStore(repo).corrections(session_ids=[played.id])
    assert [(f.turn_id, f.tags, f.referral_target, f.corrector) for f in fixes] == [
        (first.id, ("defensive", "referral"), "legal", "ted")]
    assert TeamStore(repo).audit_log(action="correct_tags")[0].target == f"turn:{first.id}"


@pytest.mark.parametrize("lang", ["en", "id"])
def test_calibration_page_builds_a_set_and_lists_my_sets(app, make_user, repo, played, lang):
    ted, hana = make_user("ted", "trainer"), make_user("hana", "hr")
    repo.set_user_lang(ted.id, lang)
    at = open_page(app(ted), CALIBRATION)
    assert not at.exception
    at.text_input(key="calib_name").input("Week 2")
    at.multiselect(key="calib_graders").set_value([ted.id, hana.id])
    at.button(key="calib_create").click().run()
    assert not at.exception
    assert tr("calib_created", lang, name="Week 2", n=1) in texts(at)
    record = CalibrationStore(repo).get_set_by_name("Week 2")
    assert record.session_ids == (played.id,) and record.grader_ids == tuple(sorted([ted.id, hana.id]))
    # HR grades but does not build sets
    at = open_page(app(hana), CALIBRATION)
    assert not at.exception
    assert "Week 2" in " ".join(e.label for e in at.expander)
    assert not [b for b in at.button if b.key == "calib_create"]


def test_trainee_is_refused_the_calibration_page(app, ana):
    at = open_page(app(ana), CALIBRATION)
    assert [e.value for e in at.error] == [tr("not_allowed")]


@pytest.mark.parametrize("lang", ["en", "id"])
def test_dashboard_agreement_tab_shows_kappa_per_dimension_with_intervals(app, make_user, repo, lang):
    from simulator.demo import seed_demo

    seed_demo(repo, 6, 4, transcripts=False)
    hr = make_user("helen", "hr")
    repo.set_user_lang(hr.id, lang)
    at = open_tab(open_page(app(hr), DASHBOARD), "dash_tab", tr("dash_tab_agreement", lang))
    assert not at.exception
    table = next(d.value for d in at.dataframe if tr("agree_col_ah_kappa", lang) in d.value.columns)
    assert len(table) == 9
    cells = [*zip(table[tr("agree_col_ah_kappa", lang)], table[tr("agree_col_ah_n", lang)], strict=True),
             *zip(table[tr("agree_col_hh_kappa", lang)], table[tr("agree_col_hh_n", lang)], strict=True)]
    assert all("[" in cell for cell, n in cells if n >= 5)  # value [low, high] from 5 sessions on
    assert sum("[" in cell for cell, _ in cells) >= 8
    assert tr("agree_demo", lang) in texts(at)


def test_dashboard_leaves_out_a_session_its_viewer_still_grades_blind(app, make_user, repo, service, ana, played):
    other = service.start("water-bill-surge", "en", user_id=ana.id, seed=12)
    service.say(other.id, LINES[1])
    service.end(other.id)
    ted = make_user("ted", "trainer")
    CalibrationStore(repo).create_set("Week 1", [played.id], [ted.id], created_by=ted.id)

    def person_rows(at: AppTest) -> int:
        at.selectbox(key="dash_person").select(ana.id).run()
        assert not at.exception
        return len([d.value for d in at.dataframe if tr("progress_col_when") in d.value.columns][-1])

    at = open_page(app(ted), DASHBOARD)
    assert tr("dash_blind_left_out", n=1) in texts(at)
    assert person_rows(at) == 1  # the blind session's score is nowhere on the page
    GradingService(repo).grade(ted, played.id, {"listening": 70.0})
    at = open_page(app(ted), DASHBOARD)
    assert tr("dash_blind_left_out", n=1) not in texts(at)
    assert person_rows(at) == 2
