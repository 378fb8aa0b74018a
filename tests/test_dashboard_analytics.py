"""Team dashboard frames (simulator.analytics) on small known data, with exact numbers; the
SQL side (simulator.store.teams) on a real database."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from simulator import analytics
from simulator.rubric import DIMENSIONS
from simulator.store.teams import TeamStore


def raw(rows):
    """A frame shaped like TeamStore.session_scores()."""
    out = []
    for sid, uid, user, scenario, lang, outcome, overall, day, dims in rows:
        ended = pd.Timestamp(day, tz="UTC") + pd.Timedelta(hours=10)
        row = {"session_id": sid, "user_id": uid, "user": user, "role": "trainee", "scenario_id": scenario,
               "lang": lang, "outcome": outcome, "overall": float(overall), "started_at": ended - pd.Timedelta(minutes=10),
               "ended_at": ended}
        row.update({k: np.nan for k in DIMENSIONS})
        row.update(dims)
        out.append(row)
    return pd.DataFrame(out)


MEMBERS = pd.DataFrame({"group_id": [1, 2, 3], "group": ["T1", "T2", "C1"], "kind": ["team", "team", "cohort"],
                        "start_date": [None] * 3, "user_id": [1, 2, 1]})
DATA = raw([
    ("s1", 1, "ana", "x", "id", "walked_away", 50, "2026-01-05", {"listening": 40, "empathy": 60}),
    ("s2", 1, "ana", "y", "id", "resolved", 60, "2026-01-07", {"listening": 45, "empathy": 75}),
    ("s3", 1, "ana", "x", "en", "resolved", 80, "2026-01-14", {"listening": 90}),
    ("s4", 2, "bob", "x", "id", "escalated", 40, "2026-01-06", {"listening": 30, "empathy": 20}),
    ("s5", 2, "bob", "y", "id", "walked_away", 45, "2026-01-13", {"listening": 35, "empathy": 30}),
])
ASSIGN = pd.DataFrame({"scenario_id": ["x", "x"], "lang": ["id", "id"], "user_id": pd.array([pd.NA, 2], dtype="Int64"),
                       "group_id": pd.array([1, pd.NA], dtype="Int64"), "pass_mark": [55.0, 35.0],
                       "created_at": [datetime(2026, 1, 1, tzinfo=UTC)] * 2})


@pytest.fixture
def frame():
    return analytics.prepare_sessions(DATA, MEMBERS, ASSIGN)


def test_prepare_team_week_attempt_and_pass_marks(frame):
    assert list(frame["session_id"]) == ["s1", "s4", "s2", "s5", "s3"]
    assert dict(zip(frame["session_id"], frame["team"])) == {"s1": "T1", "s2": "T1", "s3": "T1", "s4": "T2", "s5": "T2"}
    assert dict(zip(frame["session_id"], frame["attempt"])) == {"s1": 1, "s2": 2, "s3": 3, "s4": 1, "s5": 2}
    assert set(frame["week"].dt.strftime("%Y-%m-%d")) == {"2026-01-05", "2026-01-12"}
    # s1: x/id via team T1 -> 55; s4: x/id personal -> 35; s3 is x/en: no assignment -> rubric 70
    marks = dict(zip(frame["session_id"], frame["pass_mark"]))
    assert marks == {"s1": 55.0, "s2": 70.0, "s3": 70.0, "s4": 35.0, "s5": 70.0}
    assert dict(zip(frame["session_id"], frame["passed"])) == {"s1": False, "s2": False, "s3": True, "s4": True, "s5": False}


def test_time_order_breaks_ties_by_session_id_like_sort_values():
    """prepare_sessions orders by (when, session_id) without pandas' sort: same order, ties included."""
    days = {"s10": "2026-01-06", "s9": "2026-01-05", "s2": "2026-01-06", "a": "2026-01-05", "s1": "2026-01-04"}
    data = raw([(sid, 1, "ana", "x", "id", "resolved", 50, day, {}) for sid, day in days.items()])
    data.loc[4, "ended_at"] = pd.NaT  # not ended: ordered by when it started
    expected = data.assign(when=data["ended_at"].fillna(data["started_at"]))
    expected = expected.sort_values(["when", "session_id"], kind="stable")["session_id"]
    assert list(analytics.prepare_sessions(data)["session_id"]) == list(expected) == ["s1", "a", "s9", "s10", "s2"]


def test_headline_and_change_against_previous_period(frame):
    head = analytics.headline(frame, date(2026, 1, 12), date(2026, 1, 18))
    assert head["sessions"] == {"value": 2, "previous": 3, "change": -1}
    assert head["active_trainees"]["value"] == 2
    assert head["average_overall"]["value"] == pytest.approx(62.5)
    assert head["average_overall"]["previous"] == pytest.approx(50.0)
    assert head["average_overall"]["change"] == pytest.approx(12.5)
    assert head["pass_rate"]["value"] == pytest.approx(50.0)
    assert head["pass_rate"]["previous"] == pytest.approx(100 / 3)


def test_filters(frame):
    assert list(analytics.filter_sessions(frame, user_ids=[2])["session_id"]) == ["s4", "s5"]
    assert list(analytics.filter_sessions(frame, start=date(2026, 1, 7), end=date(2026, 1, 13))["session_id"]) == ["s2", "s5"]
    assert list(analytics.filter_sessions(frame, scenarios=["y"], langs=["id"])["session_id"]) == ["s2", "s5"]
    assert analytics.filter_sessions(frame, roles=["hr"]).empty


def test_weekly_progress_with_rolling_mean(frame):
    weekly = analytics.weekly_progress(frame, "team", window=2)
    t1 = weekly[weekly["key"] == "T1"]
    assert list(t1["overall"]) == [55.0, 80.0]
    assert list(t1["sessions"]) == [2, 1]
    assert list(t1["rolling"]) == [55.0, pytest.approx(190 / 3)]
    per_user = analytics.weekly_progress(frame, "user", window=1)
    assert list(per_user.loc[per_user["key"] == "bob", "rolling"]) == [40.0, 45.0]


def test_latest_levels_heatmap(frame):
    levels = analytics.latest_levels(frame)
    assert levels.loc["ana", "listening"] == 90 and levels.loc["ana", "empathy"] == 75  # s3 had no empathy
    assert levels.loc["bob", "empathy"] == 30
    assert np.isnan(levels.loc["ana", "referral"])


def test_scenarios_and_outcomes(frame):
    summary = analytics.scenario_summary(frame)
    assert list(summary["scenario_id"]) == ["y", "x"]  # y is harder (52.5 < 56.67)
    assert summary.loc[0, "mean"] == 52.5 and summary.loc[1, "median"] == 50.0
    assert summary.loc[1, "pass_rate"] == pytest.approx(200 / 3)
    mix = analytics.outcome_mix(frame)
    assert dict(zip(mix["outcome"], mix["sessions"])) == {"resolved": 2, "walked_away": 2, "escalated": 1}
    assert list(mix["outcome"]) == ["resolved", "walked_away", "escalated"]
    assert mix["share"].sum() == pytest.approx(100)
    by = analytics.outcome_mix(frame, by="scenario_id")
    assert by[(by["key"] == "y") & (by["outcome"] == "resolved")]["share"].item() == 50.0


def test_learning_curve_and_time_to_proficiency(frame):
    curve = analytics.learning_curve(frame)
    assert list(curve["attempt"]) == [1, 2, 3]
    assert list(curve["mean"]) == [45.0, 52.5, 80.0]
    assert list(curve["trainees"]) == [2, 2, 1]
    assert list(analytics.learning_curve(frame, min_trainees=2)["attempt"]) == [1, 2]
    prof = analytics.time_to_proficiency(frame).set_index("user")
    assert prof.loc["ana", "attempts"] == 3 and prof.loc["ana", "days"] == 9.0
    assert prof.loc["bob", "attempts"] == 1 and prof.loc["bob", "days"] == 0.0


def test_needs_attention():
    base = datetime(2026, 2, 2)
    rows = []
    for i, score in enumerate([60, 62, 58, 55, 57, 56]):  # flat and below 70
        rows.append((f"f{i}", 1, "flat", "x", "id", "walked_away", score, str((base + timedelta(days=i)).date()),
                     {"listening": 70, "empathy": 70}))
    for i, score in enumerate([50, 55, 60, 70, 80, 90]):  # improving; empathy stuck low
        rows.append((f"g{i}", 2, "grow", "x", "id", "resolved", score, str((base + timedelta(days=i)).date()),
                     {"listening": 90, "empathy": 30 + i, "composure": 40}))
    for i, score in enumerate([80, 82, 79, 81, 80, 80]):  # flat but above the pass mark: fine
        rows.append((f"h{i}", 3, "good", "x", "id", "resolved", score, str((base + timedelta(days=i)).date()),
                     {"listening": 80}))
    out = analytics.needs_attention(analytics.prepare_sessions(raw(rows)), last_n=6, low=50).set_index("user")
    assert list(out.index) == ["flat", "grow"]
    assert out.loc["flat", "no_improvement"] and not out.loc["flat", "stuck_low"]
    assert out.loc["flat", "change"] == pytest.approx(56 - 60)
    assert out.loc["grow", "stuck_low"] and not out.loc["grow", "no_improvement"]
    assert out.loc["grow", "dimensions"] == "empathy,composure"
    assert out.loc["grow", "last_session"] == "g5"
    assert out.loc["grow", "last_when"].date() == (base + timedelta(days=5)).date()


@pytest.mark.database
def test_team_store_reads_and_pass_marks_from_assignments(repo):
    from simulator.session import SessionService

    store = TeamStore(repo)
    ana = repo.add_user("ana", "trainee", None)
    team = store.create_group("T1", "team", date(2026, 1, 1))
    store.set_members(team.id, [ana.id])
    store.add_assignment("water-bill-surge", "en", group_id=team.id, pass_mark=10.0)
    svc = SessionService(repo)
    record = svc.start("water-bill-surge", "en", user_id=ana.id, seed=1)
    svc.say(record.id, "I'm sorry, so your bill jumped to 512 thousand?")
    card = svc.end(record.id)
    svc.start("water-bill-surge", "en", user_id=ana.id, seed=2)  # active: not on the dashboard
    assert store.data_version()[0] == 1
    raw_frame = store.session_scores()
    assert list(raw_frame["session_id"]) == [record.id]
    assert raw_frame["overall"].item() == pytest.approx(card.overall)
    for key, score in card.scores().items():
        assert raw_frame[key].item() == pytest.approx(score)
    prepared = analytics.prepare_sessions(raw_frame, store.memberships(), store.assignments())
    assert prepared["team"].item() == "T1" and prepared["pass_mark"].item() == 10.0
    assert [g.members for g in store.list_groups()] == [1]
    store.record(ana.id, "view_transcript", f"session:{record.id}", {"trainee": "ana"})
    assert store.audit_log()[0].actor == "ana"
