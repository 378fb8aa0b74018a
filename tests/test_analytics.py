"""simulator.analytics and simulator.charts on small, known data (exact numbers)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pandas as pd
import pytest

from simulator import analytics, charts


def _session(sid, day, overall=None, status="ended", parent=None, scenario="water-bill-surge"):
    return {
        "id": sid,
        "scenario_id": scenario,
        "lang": "en",
        "status": status,
        "outcome": "resolved" if status == "ended" else None,
        "overall": overall,
        "parent_id": parent,
        "started_at": datetime(2025, 3, day, 9, 0),  # naive, as SQLite returns it
        "ended_at": datetime(2025, 3, day, 9, 30, tzinfo=UTC) if status == "ended" else None,
    }


def _scores(**values):
    """dimension=score, or dimension=(score, applies)."""
    rows = []
    for key, value in values.items():
        score, applies = value if isinstance(value, tuple) else (value, True)
        rows.append({"dimension": key, "score": score, "applies": applies})
    return rows


@pytest.fixture
def frame():
    # Given out of order on purpose; a branch and an active session must not count as attempts.
    sessions = [
        _session("c", 5, 70.0),
        _session("a", 1, 40.0),
        _session("active", 6, status="active"),
        _session("b", 3, 55.0),
        _session("branch", 4, 90.0, parent="b"),
        _session("d", 7, 85.0),
    ]
    scores = {
        "a": _scores(listening=30, empathy=50, referral=(0, False)),
        "b": _scores(listening=60, empathy=40, referral=(20, False)),
        "c": _scores(listening=70, empathy=80, referral=100),
        "d": _scores(listening=90, empathy=60, referral=(100, False)),
        "branch": _scores(listening=100, empathy=100),
    }
    return analytics.sessions_frame(sessions, scores)


def test_sessions_frame_orders_by_time_and_spreads_dimensions(frame):
    assert list(frame["session_id"]) == ["a", "b", "branch", "c", "active", "d"]
    assert list(frame["branch"]) == [False, False, True, False, False, False]
    a = frame.iloc[0]
    assert a["listening"] == 30.0 and a["empathy"] == 50.0
    assert math.isnan(a["referral"])  # did not apply
    assert math.isnan(a["commitment"])  # no score row at all
    # naive timestamps are read as UTC; ``when`` is the end, or the start when not ended
    assert a["when"] == pd.Timestamp("2025-03-01 09:30", tz="UTC")
    assert frame.iloc[4]["when"] == pd.Timestamp("2025-03-06 09:00", tz="UTC")
    assert math.isnan(frame.iloc[4]["overall"])


def test_overall_trend_rolling_mean_of_three(frame):
    trend = analytics.overall_trend(frame, window=3)
    assert list(trend["attempt"]) == [1, 2, 3, 4]
    assert list(trend["session_id"]) == ["a", "b", "c", "d"]
    assert list(trend["overall"]) == [40.0, 55.0, 70.0, 85.0]
    assert list(trend["rolling"]) == [40.0, 47.5, 55.0, 70.0]


def test_overall_trend_window_two_and_with_branches(frame):
    trend = analytics.overall_trend(frame, window=2, include_branches=True)
    assert list(trend["session_id"]) == ["a", "b", "branch", "c", "d"]
    assert list(trend["rolling"]) == [40.0, 47.5, 72.5, 80.0, 77.5]
    with pytest.raises(ValueError, match="window"):
        analytics.overall_trend(frame, window=0)


def test_dimension_trend_long_form_in_rubric_order(frame):
    long = analytics.dimension_trend(frame)
    assert list(long.columns) == ["dimension", "attempt", "when", "session_id", "score"]
    assert list(zip(long["dimension"], long["attempt"], long["score"], strict=True)) == [
        ("listening", 1, 30.0),
        ("listening", 2, 60.0),
        ("listening", 3, 70.0),
        ("listening", 4, 90.0),
        ("empathy", 1, 50.0),
        ("empathy", 2, 40.0),
        ("empathy", 3, 80.0),
        ("empathy", 4, 60.0),
        ("referral", 3, 100.0),  # the only attempt where referral applied
    ]


def test_first_vs_latest(frame):
    table = analytics.first_vs_latest(frame)
    assert table.to_dict("records") == [
        {"dimension": "listening", "first": 30.0, "latest": 90.0, "change": 60.0, "attempts": 4},
        {"dimension": "empathy", "first": 50.0, "latest": 60.0, "change": 10.0, "attempts": 4},
        {"dimension": "referral", "first": 100.0, "latest": 100.0, "change": 0.0, "attempts": 1},
    ]


def test_empty_history_gives_empty_frames():
    frame = analytics.sessions_frame([])
    assert frame.empty and "listening" in frame.columns
    assert analytics.overall_trend(frame).empty
    assert analytics.dimension_trend(frame).empty
    assert analytics.first_vs_latest(frame).empty
    # the charts still build from empty frames
    charts.overall_chart(analytics.overall_trend(frame))
    assert charts.dimension_charts(analytics.dimension_trend(frame)) == {}
    charts.first_vs_latest_chart(analytics.first_vs_latest(frame))
    charts.mood_chart(analytics.mood_trace([]))


def _turn(idx, speaker, anger=None, trust=None, threat=0.0):
    mood = None if anger is None else {"anger": anger, "trust": trust, "threat": threat, "turn": idx // 2}
    return {"idx": idx, "speaker": speaker, "text": "...", "mood": mood}


def test_mood_trace_one_step_per_trainee_turn():
    turns = [
        _turn(0, "customer", 7, 2),
        _turn(1, "trainee", 6.5, 2.5),
        _turn(2, "customer", 6.5, 2.5),
        _turn(3, "trainee", 8, 1, threat=2),
        _turn(4, "customer", 8, 1, threat=2),
        _turn(5, "trainee", 4.25, 5),
    ]
    trace = analytics.mood_trace(turns)
    assert trace.to_dict("records") == [
        {"step": 0, "idx": 0, "anger": 7.0, "trust": 2.0, "threat": 0.0},
        {"step": 1, "idx": 1, "anger": 6.5, "trust": 2.5, "threat": 0.0},
        {"step": 2, "idx": 3, "anger": 8.0, "trust": 1.0, "threat": 2.0},
        {"step": 3, "idx": 5, "anger": 4.25, "trust": 5.0, "threat": 0.0},
    ]


def test_charts_carry_the_frames_numbers_and_texts(frame):
    fig = charts.overall_chart(analytics.overall_trend(frame), {"overall": "Skor", "rolling": "Rata-rata"})
    assert [tr.name for tr in fig.data] == ["Skor", "Rata-rata"]
    assert list(fig.data[0].y) == [40.0, 55.0, 70.0, 85.0]
    assert list(fig.data[1].y) == [40.0, 47.5, 55.0, 70.0]

    small = charts.dimension_charts(analytics.dimension_trend(frame), {"listening": "Mendengarkan"})
    assert list(small) == ["listening", "empathy", "referral"]
    assert small["listening"].layout.title.text == "Mendengarkan"
    assert list(small["referral"].data[0].y) == [100.0]

    bars = charts.first_vs_latest_chart(analytics.first_vs_latest(frame))
    assert list(bars.data[0].y) == [30.0, 50.0, 100.0] and list(bars.data[1].y) == [90.0, 60.0, 100.0]

    calm = analytics.mood_trace([_turn(0, "customer", 7, 2), _turn(1, "trainee", 5, 4)])
    assert [tr.name for tr in charts.mood_chart(calm).data] == ["Anger", "Trust"]  # no threat line
    tense = analytics.mood_trace([_turn(0, "customer", 7, 2, 1), _turn(1, "trainee", 8, 1, 3)])
    fig = charts.mood_chart(tense)
    assert [tr.name for tr in fig.data] == ["Anger", "Trust", "Threat"]
    assert list(fig.data[2].y) == [1.0, 3.0]


def test_attempt_axes_label_every_attempt_only_while_there_are_few():
    """Fifty per-attempt labels on each small chart cost the browser seconds (bench/browser.py):
    every whole number up to twelve attempts, Plotly's own whole-number spacing beyond."""
    def trend(n):
        sessions = [_session(f"s{i}", 1 + i % 28, 50.0 + i % 40) for i in range(n)]
        many = analytics.sessions_frame(sessions, {f"s{i}": _scores(listening=50) for i in range(n)})
        return analytics.overall_trend(many), analytics.dimension_trend(many)

    few, few_dims = trend(5)
    assert charts.overall_chart(few).layout.xaxis.dtick == 1
    assert charts.dimension_charts(few_dims)["listening"].layout.xaxis.dtick == 1
    lots, lots_dims = trend(50)
    for fig in (charts.overall_chart(lots), charts.dimension_charts(lots_dims)["listening"]):
        assert fig.layout.xaxis.dtick is None and fig.layout.xaxis.tickformat == "d"


def test_simulator_does_not_import_streamlit():
    import ast
    from pathlib import Path

    for module in ("analytics.py", "charts.py"):
        tree = ast.parse((Path(analytics.__file__).parent / module).read_text())
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert not any(name.split(".")[0] == "streamlit" for name in names), module


def test_progress_compares_like_with_like():
    """A catering session after a water-bill one is not a '-80' drop: the change is against the
    previous attempt at the same scenario, and first-vs-latest is taken per scenario."""
    sessions = [
        _session("w1", 1, 60.0),
        _session("w2", 2, 90.0),
        _session("c1", 3, 10.0, scenario="catering-stale-food"),
        _session("w3", 4, 95.0),
    ]
    scores = {
        "w1": _scores(empathy=40), "w2": _scores(empathy=80), "c1": _scores(empathy=0), "w3": _scores(empathy=90),
    }
    frame = analytics.sessions_frame(sessions, scores)
    trend = analytics.overall_trend(frame)
    by_id = trend.set_index("session_id")
    assert math.isnan(by_id.loc["w1", "vs_previous"]) and math.isnan(by_id.loc["c1", "vs_previous"])
    assert by_id.loc["w2", "vs_previous"] == 30.0 and by_id.loc["w3", "vs_previous"] == 5.0
    assert list(by_id["scenario_attempt"]) == [1, 2, 1, 3]
    assert by_id.loc["c1", "vs_scenario"] == 0.0  # the only catering attempt: average for that scenario
    table = analytics.first_vs_latest(frame, same_scenario=True).set_index("dimension")
    assert table.loc["empathy", "first"] == 40 and table.loc["empathy", "latest"] == 90  # water bill only
    assert table.loc["empathy", "attempts"] == 3
    only_once = analytics.sessions_frame(sessions[2:3], {"c1": scores["c1"]})
    assert analytics.first_vs_latest(only_once, same_scenario=True).empty
