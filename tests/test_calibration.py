"""Calibration (issue 15): the agreement measures against worked examples, grading and blind sets
in the store and the service, tag corrections, the labelled export, seed-demo and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulator import calibration
from simulator.analysis_types import Tag
from simulator.cli import main
from simulator.grading import GradingService, NotAllowed
from simulator.rubric import DIMENSIONS
from simulator.store.calibration import CalibrationStore
from simulator.store.repository import ConflictError
from simulator.store.teams import TeamStore
from simulator.understanding import analyser, encoder, heads, training

ROOT = Path(__file__).resolve().parents[1]

# --------------------------------------------------------------------------- the measures (pure)


def test_quadratic_kappa_worked_example_two_categories():
    """Wikipedia's Cohen's kappa example (50 proposals: 20 yes/yes, 5 yes/no, 10 no/yes,
    15 no/no) is 0.4; with two categories the quadratic weights are 0/1, so weighted = plain."""
    a = [100] * 25 + [0] * 25
    b = [100] * 20 + [0] * 5 + [100] * 10 + [0] * 15
    assert calibration.quadratic_kappa(a, b, 10) == pytest.approx(0.4)


@pytest.mark.parametrize("step", [50, 10])
def test_quadratic_kappa_worked_example_three_levels(step):
    """Worked by hand: O = [[1,1,0],[0,1,1],[0,0,2]] over 0/50/100, weights (i-j)^2/(k-1)^2:
    observed weighted disagreement 0.5/6, expected 1/3, kappa = 1 - (1/12)/(1/3) = 0.75.
    On the 10-point scale the three scores sit at 0, 5 and 10 of 10: the same weights."""
    a = [0, 0, 50, 50, 100, 100]
    b = [0, 50, 50, 100, 100, 100]
    assert calibration.quadratic_kappa(a, b, step) == pytest.approx(0.75)


def test_kappa_weights_follow_the_points_not_the_values_that_occur():
    """The scale's labels are given explicitly: 0 vs 10 is a small disagreement on a 0-100
    scale, even when 10 and 100 are the only other values that occur."""
    a, b = [0, 10, 100, 100], [10, 0, 100, 100]
    close = calibration.quadratic_kappa(a, b, 10)
    assert close > 0.9
    far = calibration.quadratic_kappa([0, 100, 100, 0], [100, 0, 100, 0], 10)
    assert far < 0.1


def test_snap_to_steps():
    assert calibration.snap([0, 4.9, 5, 14.99, 95, 100], 10).tolist() == [0, 0, 10, 10, 100, 100]
    assert calibration.grade_scale(25) == [0, 25, 50, 75, 100]
    with pytest.raises(ValueError):
        calibration.grade_scale(30)


def test_batched_measures_equal_the_library_functions():
    rng = np.random.default_rng(1)
    for _ in range(20):
        a = rng.integers(0, 11, 15) * 10.0
        b = np.clip(a + rng.normal(0, 20, 15), 0, 100)
        kappa, rho, mad = calibration.batched_measures(a, b, 10)
        assert kappa == pytest.approx(calibration.quadratic_kappa(a, b, 10))
        assert rho == pytest.approx(calibration.spearman(a, b))
        assert mad == pytest.approx(calibration.mean_abs_diff(a, b))
    # many resamples at once, and undefined where a side is constant
    out = calibration.batched_measures(np.array([[10, 10, 10], [0, 50, 100]]), np.array([[10, 10, 10], [0, 50, 100]]), 10)
    assert np.isnan(out[0, 0]) and np.isnan(out[1, 0]) and out[0, 1] == pytest.approx(1.0)


def test_agreement_figures_with_bootstrap_intervals():
    rng = np.random.default_rng(2)
    a = rng.integers(0, 11, 30) * 10.0
    b = np.clip(a + rng.normal(0, 10, 30), 0, 100)
    figures = calibration.agreement_figures(a, b, 10, resamples=500)
    assert figures["n"] == 30
    for name in calibration.MEASURES:
        low, high = figures[f"{name}_ci"]
        assert low <= figures[name] <= high
    assert figures == calibration.agreement_figures(a, b, 10, resamples=500)  # fixed seed: reproducible
    few = calibration.agreement_figures(a[:3], b[:3], 10)
    assert few["kappa"] is not None and few["kappa_ci"] is None
    assert calibration.agreement_figures(a[:1], b[:1], 10)["kappa"] is None


def test_tag_agreement_per_tag_f1():
    turns = pd.DataFrame({
        "auto_tags": [["apology"], ["apology", "question"], [], ["referral"]],
        "tags": [["apology"], ["question"], ["empathy"], ["referral"]],
        "auto_referral_target": [None, None, None, "legal"],
        "referral_target": [None, None, None, "other"],
    })
    report = calibration.tag_agreement(turns)
    assert report["turns"] == 4
    assert report["tags"]["apology"] == {"precision": 0.5, "recall": 1.0, "f1": 0.667, "support": 1}
    assert report["tags"]["question"]["f1"] == 1.0
    assert report["tags"]["empathy"]["recall"] == 0.0 and report["tags"]["empathy"]["support"] == 1
    assert report["tags"]["hostile"]["f1"] is None  # never used by either: undefined, not zero
    assert report["referral_target_accuracy"] == 0.0
    assert report["micro_f1"] == pytest.approx(2 * 3 / (2 * 3 + 1 + 1), abs=1e-3)


def test_pick_sessions_filters_and_samples():
    frame = pd.DataFrame({"session_id": list("abcdef"), "scenario_id": ["x", "x", "y", "y", "x", "y"],
                          "lang": ["id", "en", "id", "en", "id", "en"], "overall": [10, 40, 55, 70, 90, 100.0]})
    assert calibration.pick_sessions(frame, scenarios=["x"], langs=["id"]) == ["a", "e"]
    assert calibration.pick_sessions(frame, low=40, high=70) == ["b", "c", "d"]
    sample = calibration.pick_sessions(frame, sample=3, seed=1)
    assert len(sample) == 3 and sample == calibration.pick_sessions(frame, sample=3, seed=1)


# --------------------------------------------------------------------------- export format (pure)


def test_label_records_are_in_the_corpus_format_and_load_back(tmp_path):
    turns = pd.DataFrame([
        {"turn_id": 7, "session_id": "s", "lang": "id", "scenario_id": "water-bill-surge", "trainee": "Maaf Bu.",
         "customer": "Tagihan saya naik!", "auto_tags": [], "auto_referral_target": None,
         "tags": ["apology", "question"], "referral_target": None, "demo": False},
        {"turn_id": 8, "session_id": "s", "lang": "en", "scenario_id": "gone", "trainee": "Please call legal.",
         "customer": "", "auto_tags": [], "auto_referral_target": None, "tags": ["referral"],
         "referral_target": "legal", "demo": False},
    ])
    records = calibration.label_records(turns, {("water-bill-surge", ""): "water-utility"})
    assert records[0] == {"id": "corr-id-water-utility-00007", "lang": "id", "sector": "water-utility",
                          "customer": "Tagihan saya naik!", "trainee": "Maaf Bu.", "tags": ["question", "apology"],
                          "referral_target": None}
    assert list(records[1]) == list(calibration.CORPUS_KEYS) and records[1]["sector"] == "other"
    path = tmp_path / "labels.jsonl"
    path.write_text(calibration.to_jsonl(records) + "\n", encoding="utf-8")
    assert calibration.load_corrections(path) == records
    mix = calibration.training_mix([*records, {"id": "id-bank-0042"}, {"id": "en-bank-0001"}])
    assert mix == {"examples": 4, "from_corrections": 2, "corrections_share": 0.5}


@pytest.mark.parametrize("line, problem", [
    ("not json", "1:"),
    ('{"id": "x", "lang": "fr", "sector": "b", "customer": "", "trainee": "t", "tags": [], "referral_target": null}', "lang"),
    ('{"id": "x", "lang": "en", "sector": "b", "customer": "", "trainee": "t", "tags": ["shouting"], "referral_target": null}', "tags"),
    ('{"id": "x", "lang": "en", "sector": "b", "customer": "", "trainee": "t", "tags": ["referral"], "referral_target": null}', "referral_target"),
    ('{"id": "x", "lang": "en", "sector": "b", "trainee": "t", "tags": [], "referral_target": null}', "missing customer"),
])
def test_load_corrections_names_the_bad_line(tmp_path, line, problem):
    path = tmp_path / "bad.jsonl"
    path.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=problem) as error:
        calibration.load_corrections(path)
    assert f"{path}:1:" in str(error.value)


# --------------------------------------------------------------------------- store and service (database)


def _ended(repo, user_id, scores, lang="en", scenario="water-bill-surge", turns=()):
    record = repo.create_session(scenario_id=scenario, lang=lang, engine="scripted", seed=1, user_id=user_id,
                                 first_turns=turns)
    repo.save_scores(record.id, [{"dimension": k, "score": v} for k, v in scores.items()])
    return repo.update_session(record.id, status="ended", outcome="resolved", overall=sum(scores.values()) / len(scores))


@pytest.fixture
def people(repo):
    return {name: repo.add_user(name, role, None) for name, role in
            [("tina", "trainee"), ("tom", "trainee"), ("ted", "trainer"), ("tia", "trainer"), ("hana", "hr"),
             ("adi", "admin")]}


@pytest.mark.database
def test_grades_are_stored_with_who_and_when_audited_and_never_replace_the_automatic_score(repo, people):
    service = GradingService(repo)
    session = _ended(repo, people["tina"].id, {"listening": 45.0, "empathy": 80.0})
    before = repo.get_scores(session.id)
    first = service.grade(people["ted"], session.id, {"listening": 60, "empathy": 70}, {"listening": "late restating"})
    second = service.grade(people["ted"], session.id, {"listening": 50, "empathy": None})
    assert first.grader == "ted" and first.submitted_at is not None and first.comments == {"listening": "late restating"}
    assert repo.get_scores(session.id) == before and repo.get_session(session.id).overall == session.overall
    current = service.store.grades(session_ids=[session.id])
    assert [g.id for g in current] == [second.id] and current[0].scores == {"listening": 50.0, "empathy": None}
    assert len(service.store.grades(session_ids=[session.id], latest=False)) == 2  # history kept
    events = TeamStore(repo).audit_log(action="grade_session")
    assert [(e.actor, e.target, e.detail["submission"]) for e in events] == [
        ("ted", f"session:{session.id}", second.id), ("ted", f"session:{session.id}", first.id)]


@pytest.mark.database
def test_grades_follow_the_rubric_steps(repo, people):
    service = GradingService(repo)
    session = _ended(repo, people["tina"].id, {"listening": 45.0})
    for bad in ({"listening": 55}, {"listening": 110}, {"listening": -10}, {"shouting": 50}, {}, {"listening": True}):
        with pytest.raises(ValueError):
            service.grade(people["ted"], session.id, bad)
    assert service.store.grades(session_ids=[session.id]) == []


@pytest.mark.database
def test_who_may_grade(repo, people):
    service = GradingService(repo)
    session = _ended(repo, people["tina"].id, {"listening": 45.0})
    own = _ended(repo, people["ted"].id, {"listening": 45.0})
    active = repo.create_session(scenario_id="water-bill-surge", lang="en", engine="scripted", user_id=people["tina"].id)
    for user, sid in [(people["tina"], session.id), (people["tom"], session.id), (people["ted"], own.id),
                      (people["ted"], active.id)]:
        with pytest.raises(NotAllowed):
            service.grade(user, sid, {"listening": 50})
    for name in ("ted", "hana", "adi"):
        service.grade(people[name], session.id, {"listening": 50})
    with pytest.raises(NotAllowed):  # a trainee sees grades of their own sessions only
        service.visible_grades(people["tom"], session.id)
    assert len(service.visible_grades(people["tina"], session.id)) == 3


@pytest.mark.database
def test_blind_grading_in_a_calibration_set(repo, people):
    service = GradingService(repo)
    sessions = [_ended(repo, people["tina"].id, {"listening": 40.0 + 10 * i}) for i in range(3)]
    ids = [s.id for s in sessions]
    with pytest.raises(NotAllowed):
        service.create_set(people["hana"], "HR cannot", ids, [people["ted"].id])
    with pytest.raises(ValueError):  # graders are staff
        service.create_set(people["ted"], "Bad", ids, [people["tom"].id])
    record = service.create_set(people["ted"], "Week 1", ids, [people["ted"].id, people["tia"].id],
                                {"sample": 3})
    with pytest.raises(ConflictError):
        service.create_set(people["ted"], "Week 1", ids, [people["ted"].id])
    assert record.session_ids == tuple(sorted(ids)) and TeamStore(repo).audit_log(action="create_calibration_set")
    assert service.is_blind(people["ted"], ids[0]) and service.is_blind(people["tia"], ids[0])
    assert not service.is_blind(people["hana"], ids[0])  # not assigned to her
    service.grade(people["tia"], ids[0], {"listening": 60}, {"listening": "tia's view"})
    assert service.visible_grades(people["ted"], ids[0]) == []  # ted still grades blind
    assert [g.grader for g in service.visible_grades(people["tia"], ids[0])] == ["tia"]
    graded = service.grade(people["ted"], ids[0], {"listening": 50})
    assert graded.set_id == record.id
    assert not service.is_blind(people["ted"], ids[0]) and service.is_blind(people["ted"], ids[1])
    assert {g.grader for g in service.visible_grades(people["ted"], ids[0])} == {"ted", "tia"}
    assert service.pending(people["ted"]) == {ids[1], ids[2]}
    assert service.set_progress(record) == {people["ted"].id: 1, people["tia"].id: 1}
    # the disagreement list leaves out the viewer's blind sessions
    service.grade(people["tia"], ids[1], {"listening": 90})
    listed = {d["session_id"] for d in service.report(viewer=people["ted"], resamples=0)["disagreements"]}
    assert ids[1] not in listed and ids[0] in listed


@pytest.mark.database
def test_tag_corrections_are_checked_audited_and_the_latest_counts(repo, people):
    service = GradingService(repo)
    turns = [{"speaker": "customer", "text": "My bill is six times higher!"},
             {"speaker": "trainee", "text": "That's procedure.", "analysis": {"tags": ["defensive"]}}]
    session = _ended(repo, people["tina"].id, {"listening": 45.0}, turns=turns)
    customer, trainee = repo.get_turns(session.id)
    with pytest.raises(NotAllowed):
        service.correct_tags(people["tina"], trainee.id, ["defensive"], None)
    with pytest.raises(ValueError):
        service.correct_tags(people["ted"], customer.id, ["apology"], None)
    for tags, target in ((["referral"], None), (["apology"], "legal"), (["shouting"], None)):
        with pytest.raises(ValueError):
            service.correct_tags(people["ted"], trainee.id, tags, target)
    service.correct_tags(people["ted"], trainee.id, ["defensive", "referral"], "other")
    service.correct_tags(people["tia"], trainee.id, ["referral", "defensive", "defensive"], "legal")
    fixes = service.corrections(people["ted"], session.id)
    assert (fixes[trainee.id].tags, fixes[trainee.id].referral_target, fixes[trainee.id].corrector) == (
        ("defensive", "referral"), "legal", "tia")
    assert service.corrections(people["tina"], session.id) == {}
    assert len(TeamStore(repo).audit_log(action="correct_tags")) == 2
    assert repo.get_turns(session.id)[1].analysis == {"tags": ["defensive"]}  # the analyser's tags stay


@pytest.mark.database
def test_a_correction_appears_in_export_labels(repo, people, db_url, monkeypatch, capsys, tmp_path):
    turns = [{"speaker": "customer", "text": "Tagihan saya naik enam kali lipat!"},
             {"speaker": "trainee", "text": "Mohon maaf Bu, sejak kapan?", "analysis": {"tags": ["apology"]}},
             {"speaker": "customer", "text": "Sejak bulan lalu."},
             {"speaker": "trainee", "text": "Silakan ke kantor cabang.", "analysis": {"tags": []}}]
    session = _ended(repo, people["tina"].id, {"listening": 45.0}, lang="id", turns=turns)
    fourth = repo.get_turns(session.id)[3]
    GradingService(repo).correct_tags(people["ted"], fourth.id, ["referral"], "other")
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert main(["export-labels"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line) for line in lines] == [{
        "id": f"corr-id-water-utility-{fourth.id:05d}", "lang": "id", "sector": "water-utility",
        "customer": "Sejak bulan lalu.", "trainee": "Silakan ke kantor cabang.", "tags": ["referral"],
        "referral_target": "other"}]
    out = tmp_path / "labels.jsonl"
    assert main(["export-labels", "--out", str(out)]) == 0
    assert calibration.load_corrections(out) == [json.loads(lines[0])]


@pytest.mark.database
@pytest.mark.skipif(encoder.get_encoder() is None, reason=encoder.status().reason)
def test_retraining_with_a_correction_changes_that_turns_analysis(repo, people, db_url, monkeypatch, tmp_path):
    """Grade -> correct a turn -> export-labels -> train-analyser --corrections -> the turn reads as corrected."""
    pytest.importorskip("sklearn")
    said = "Baik Bu, nanti saya sampaikan ke bagian terkait."
    turns = [{"speaker": "customer", "text": "Air di rumah saya keruh sejak tiga hari."},
             {"speaker": "trainee", "text": said, "analysis": {"tags": []}}]
    session = _ended(repo, people["tina"].id, {"listening": 45.0}, lang="id", turns=turns)
    turn = repo.get_turns(session.id)[1]
    corrected = ["apology", "referral"]  # the trainer reads an apology and a referral elsewhere into it
    GradingService(repo).correct_tags(people["ted"], turn.id, corrected, "other")
    monkeypatch.setenv("DATABASE_URL", db_url)
    labels = tmp_path / "labels.jsonl"
    assert main(["export-labels", "--out", str(labels)]) == 0

    part = tmp_path / "part.jsonl"  # a small training set keeps the test quick; the mechanism is the same
    lines = []
    for lang in ("id", "en"):
        lines += next((ROOT / "corpus" / "train").glob(f"{lang}-*.jsonl")).read_text(encoding="utf-8").splitlines()[:30]
    part.write_text("\n".join(lines) + "\n", encoding="utf-8")

    before = analyser.analyze(said, "id", turns[0]["text"])  # the committed heads
    out = tmp_path / "retrained.npz"
    assert training.main([part], labels, out=out, progress=lambda s: None) == 0
    monkeypatch.setattr(analyser, "cached_heads", lambda: (heads.load_heads(out), ""))
    after = analyser.analyze(said, "id", turns[0]["text"])
    assert sorted(t.value for t in before.tags) != corrected
    assert sorted(t.value for t in after.tags) == corrected and after.referral_target == "other"
    assert after.evidence[Tag.apology].text  # evidence still quotes the trainee's words
    # the same words in other case and punctuation are the same turn; other words are left to the heads
    assert sorted(t.value for t in analyser.analyze("baik bu nanti saya sampaikan ke bagian terkait", "id").tags) == corrected
    assert heads.load_heads(out).meta["n_train"] == len(lines) + 1


@pytest.mark.database
def test_agreement_report_pairs_automatic_and_human_scores(repo, people):
    service = GradingService(repo)
    autos = [20, 40, 60, 80, 100, 30, 50]
    for i, auto in enumerate(autos):
        session = _ended(repo, people["tina"].id, {"listening": float(auto), "empathy": 50.0},
                         lang="id" if i % 2 else "en")
        service.grade(people["ted"], session.id, {"listening": auto, "empathy": 50})
        service.grade(people["tia"], session.id, {"listening": auto, "empathy": None})
    report = service.report(resamples=200)
    listening = report["dimensions"]["listening"]
    assert report["sessions"] == 7 and report["graders"] == 2 and report["demo"] is False
    assert listening["auto_human_kappa"] == 1.0 and listening["human_human_kappa"] == 1.0
    assert listening["auto_human_mad"] == 0.0 and listening["auto_human_n"] == 7
    assert listening["by_lang"]["id"]["auto_human_n"] == 3 and listening["by_lang"]["en"]["auto_human_n"] == 4
    assert report["dimensions"]["empathy"]["human_human_n"] == 0  # tia: does not apply
    assert report["dimensions"]["empathy"]["auto_human_kappa"] is None  # all 50: undefined
    assert all(key in report["dimensions"] for key in DIMENSIONS)


@pytest.mark.database
def test_seed_demo_makes_the_agreement_report_non_empty_and_the_cli_prints_the_same_figures(
        db_url, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert main(["seed-demo", "--trainees", "6", "--sessions", "4", "--no-transcripts"]) == 0
    assert "demo calibration set 'Demo calibration': 24 gradings" in capsys.readouterr().out
    assert main(["agreement", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["sessions"] == 12 and report["graders"] == 2 and report["demo"] is True
    for key in DIMENSIONS:
        entry = report["dimensions"][key]
        assert {"auto_human_kappa", "auto_human_kappa_ci", "human_human_kappa", "human_human_kappa_ci"} <= set(entry)
        assert set(entry["by_lang"]) == {"id", "en"}
    listening = report["dimensions"]["listening"]
    assert listening["auto_human_n"] == 12 and listening["auto_human_kappa_ci"][0] <= listening["auto_human_kappa"]
    assert report["disagreements"] and report["disagreements"][0]["link"].startswith("review?session=")
    from simulator.store import open_repository

    repo = open_repository(db_url)
    try:
        assert GradingService(repo).report() == report  # the dashboard's figures are the CLI's
        assert main(["agreement", "--set", "Demo calibration", "--json", "--resamples", "0"]) == 0
        by_set = json.loads(capsys.readouterr().out)
        assert by_set["set"] == "Demo calibration" and by_set["dimensions"]["listening"]["auto_human_kappa_ci"] is None
        assert by_set["dimensions"]["listening"]["auto_human_kappa"] == listening["auto_human_kappa"]
        assert main(["agreement"]) == 0
        text = capsys.readouterr().out
        assert "12 session(s), 2 grader(s)" in text and "listening" in text
        assert main(["agreement", "--set", "Nope"]) == 1
        assert "calibration set not found" in capsys.readouterr().err
        assert main(["export-labels"]) == 0 and capsys.readouterr().out == ""  # demo labels stay out
        record = CalibrationStore(repo).get_set_by_name("Demo calibration")
        assert record.demo and len(record.session_ids) == 12
    finally:
        repo.close()


def test_agreement_report_on_nothing_graded_is_empty_not_an_error():
    report = calibration.agreement_report(
        auto=pd.DataFrame(columns=["session_id", "dimension", "score"]), grades=[],
        facts=pd.DataFrame(columns=["session_id", "lang", "scenario_id", "overall", "user_id"]),
        corrected=pd.DataFrame(columns=["auto_tags", "tags", "auto_referral_target", "referral_target"]),
        dimensions=DIMENSIONS, step=10)
    assert report["sessions"] == 0 and report["disagreements"] == [] and report["tags"]["turns"] == 0
    assert report["dimensions"]["listening"]["auto_human_kappa"] is None
    assert report["dimensions"]["listening"]["by_lang"]["id"]["human_human_n"] == 0
    json.dumps(report)  # JSON-ready
