"""pandas frames for a trainee's progress and for one conversation's mood trace.

Pure functions over the store's records (sessions, scores, turns): no I/O, no streamlit.
The charts in :mod:`simulator.charts` are built from these frames, and the pages only pass
records in and figures out.

Frames
------
``sessions_frame``   one row per session, with the overall score and one column per dimension
``overall_trend``    scored attempts in order, with the overall score and its rolling mean
``dimension_trend``  the same attempts in long form: one row per (attempt, dimension that applied)
``first_vs_latest``  per dimension: the first and the latest score and the change
``mood_trace``       one row per step of a conversation: the customer's anger/trust/threat
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from simulator.rubric import DIMENSIONS

SESSION_COLUMNS = [
    "session_id",
    "scenario_id",
    "lang",
    "status",
    "outcome",
    "overall",
    "branch",
    "parent_id",
    "started_at",
    "ended_at",
    "when",
]
MOOD_COLUMNS = ["step", "idx", "anger", "trust", "threat"]


def _get(record: Any, name: str, default: Any = None) -> Any:
    """A field of a record (pydantic model, dataclass or mapping)."""
    if isinstance(record, Mapping):
        return record.get(name, default)
    return getattr(record, name, default)


def _timestamp(value: Any) -> pd.Timestamp | None:
    """A UTC timestamp; naive values are taken as UTC (SQLite returns them naive)."""
    if value is None:
        return None
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def sessions_frame(
    sessions: Iterable[Any],
    scores: Mapping[str, Iterable[Any]] | None = None,
) -> pd.DataFrame:
    """One row per session, oldest first.

    ``sessions`` are session records (``id``, ``scenario_id``, ``lang``, ``status``, ``outcome``,
    ``overall``, ``parent_id``, ``started_at``, ``ended_at``); ``scores`` maps a session id to
    its score rows (``dimension``, ``score``, ``applies``). Each rubric dimension becomes a
    column holding the score where the dimension applied and NaN elsewhere. ``when`` is the
    moment the session ended, or started when it has not ended. ``branch`` marks what-if
    branches.
    """
    scores = scores or {}
    rows = []
    for record in sessions:
        sid = _get(record, "id") or _get(record, "session_id")
        started = _timestamp(_get(record, "started_at"))
        ended = _timestamp(_get(record, "ended_at"))
        overall = _get(record, "overall")
        row: dict[str, Any] = {
            "session_id": sid,
            "scenario_id": _get(record, "scenario_id"),
            "lang": _get(record, "lang"),
            "status": _get(record, "status"),
            "outcome": _get(record, "outcome"),
            "overall": float(overall) if overall is not None else float("nan"),
            "branch": _get(record, "parent_id") is not None,
            "parent_id": _get(record, "parent_id"),
            "started_at": started,
            "ended_at": ended,
            "when": ended if ended is not None else started,
        }
        for key in DIMENSIONS:
            row[key] = float("nan")
        for score in scores.get(sid, ()):
            if _get(score, "applies", True):
                row[_get(score, "dimension")] = float(_get(score, "score"))
        rows.append(row)
    extra = [key for row in rows for key in row if key not in SESSION_COLUMNS and key not in DIMENSIONS]
    columns = SESSION_COLUMNS + list(DIMENSIONS) + sorted(set(extra))
    frame = pd.DataFrame(rows, columns=columns)
    for name in ("started_at", "ended_at", "when"):
        frame[name] = pd.to_datetime(frame[name], utc=True)
    frame["overall"] = frame["overall"].astype(float)
    frame["branch"] = frame["branch"].astype(bool)
    return frame.sort_values(["when", "session_id"], kind="stable").reset_index(drop=True)


def scored_attempts(frame: pd.DataFrame, include_branches: bool = False) -> pd.DataFrame:
    """Ended sessions with an overall score, oldest first, numbered ``attempt`` 1..n.

    What-if branches are left out unless ``include_branches``: progress counts real attempts.
    """
    done = frame[(frame["status"] == "ended") & frame["overall"].notna()]
    if not include_branches:
        done = done[~done["branch"]]
    done = done.sort_values(["when", "session_id"], kind="stable").reset_index(drop=True)
    done.insert(0, "attempt", range(1, len(done) + 1))
    return done


def overall_trend(frame: pd.DataFrame, window: int = 3, include_branches: bool = False) -> pd.DataFrame:
    """Columns ``attempt``, ``when``, ``session_id``, ``scenario_id``, ``overall``, ``rolling``:
    the overall score of each scored attempt and the mean of the last ``window`` attempts
    (fewer at the start)."""
    if window < 1:
        raise ValueError(f"window: must be at least 1, got {window}")
    done = same_scenario_context(scored_attempts(frame, include_branches))
    out = done[["attempt", "when", "session_id", "scenario_id", "overall", "lang", "scenario_attempt", "vs_previous",
                "vs_scenario"]].copy()
    out["rolling"] = out["overall"].rolling(window, min_periods=1).mean()
    return out


def same_scenario_context(done: pd.DataFrame) -> pd.DataFrame:
    """Like-with-like columns for scored attempts (oldest first): ``scenario_attempt`` (the n-th
    attempt at this scenario in this language), ``vs_previous`` (overall minus the previous
    attempt at the same scenario and language; NaN for the first) and ``vs_scenario`` (overall
    minus the mean of every attempt at that scenario and language in ``done``: a per-scenario
    normalised score, so a hard scenario does not look like a drop)."""
    out = done.copy()
    keys = [out["scenario_id"], out["lang"]]
    out["scenario_attempt"] = out.groupby(keys).cumcount() + 1
    out["vs_previous"] = out["overall"] - out.groupby(keys)["overall"].shift(1)
    out["vs_scenario"] = out["overall"] - out.groupby(keys)["overall"].transform("mean")
    return out


def dimension_trend(frame: pd.DataFrame, include_branches: bool = False) -> pd.DataFrame:
    """Long form, one row per scored attempt and dimension that applied to it:
    ``dimension``, ``attempt``, ``when``, ``session_id``, ``score``. Dimensions follow the
    rubric order, then attempts in order."""
    done = scored_attempts(frame, include_branches)
    dims = [key for key in DIMENSIONS if key in done.columns]
    long = done.melt(
        id_vars=["attempt", "when", "session_id"], value_vars=dims, var_name="dimension", value_name="score"
    ).dropna(subset=["score"])
    order = {key: i for i, key in enumerate(DIMENSIONS)}
    long = long.assign(_order=long["dimension"].map(order)).sort_values(["_order", "attempt"], kind="stable")
    return long[["dimension", "attempt", "when", "session_id", "score"]].reset_index(drop=True)


def first_vs_latest(frame: pd.DataFrame, include_branches: bool = False, same_scenario: bool = False) -> pd.DataFrame:
    """Per dimension that applied at least once: ``first`` (its score in the earliest attempt
    where it applied), ``latest`` (in the most recent one), ``change`` (latest - first) and
    ``attempts`` (how many attempts it applied to). Rubric order.

    ``same_scenario``: compare like with like: first and latest are taken per scenario and
    language, only where that scenario was attempted at least twice, and averaged over those
    scenarios (so a water-bill session is never compared with a catering one)."""
    if same_scenario:
        return _first_vs_latest_same_scenario(frame, include_branches)
    long = dimension_trend(frame, include_branches)
    rows = []
    for key in DIMENSIONS:
        part = long[long["dimension"] == key]
        if part.empty:
            continue
        first, latest = float(part["score"].iloc[0]), float(part["score"].iloc[-1])
        rows.append(
            {"dimension": key, "first": first, "latest": latest, "change": latest - first, "attempts": len(part)}
        )
    return pd.DataFrame(rows, columns=["dimension", "first", "latest", "change", "attempts"])


def _first_vs_latest_same_scenario(frame: pd.DataFrame, include_branches: bool) -> pd.DataFrame:
    done = scored_attempts(frame, include_branches)
    rows = []
    for key in DIMENSIONS:
        if key not in done.columns:
            continue
        part = done[done[key].notna()]
        firsts, latests, attempts = [], [], 0
        for _, group in part.groupby(["scenario_id", "lang"], sort=True):
            if len(group) < 2:
                continue
            firsts.append(float(group[key].iloc[0]))
            latests.append(float(group[key].iloc[-1]))
            attempts += len(group)
        if not firsts:
            continue
        first, latest = sum(firsts) / len(firsts), sum(latests) / len(latests)
        rows.append({"dimension": key, "first": first, "latest": latest, "change": latest - first, "attempts": attempts})
    return pd.DataFrame(rows, columns=["dimension", "first", "latest", "change", "attempts"])


def mood_trace(turns: Sequence[Any]) -> pd.DataFrame:
    """The customer's mood through a conversation: step 0 is the opening, step k the state
    after the trainee's k-th turn. ``turns`` are turn records (``idx``, ``speaker``, ``mood``);
    the mood stored with each trainee turn is the state after it. Columns ``step``, ``idx``
    (the transcript index the state belongs to), ``anger``, ``trust``, ``threat``."""
    rows = []
    for turn in turns:
        mood = _get(turn, "mood")
        if not mood:
            continue
        speaker, idx = _get(turn, "speaker"), _get(turn, "idx")
        if speaker == "trainee" or not rows:
            rows.append(
                {
                    "step": len(rows),
                    "idx": idx,
                    "anger": float(mood.get("anger", 0.0)),
                    "trust": float(mood.get("trust", 0.0)),
                    "threat": float(mood.get("threat", 0.0)),
                }
            )
    return pd.DataFrame(rows, columns=MOOD_COLUMNS).astype(
        {"step": int, "idx": int, "anger": float, "trust": float, "threat": float}
    )


# =========================================================================== team dashboard
# Frames for HR and trainers across people and teams (views/dashboard.py). The input is the
# wide frame of :meth:`simulator.store.teams.TeamStore.session_scores` (one row per ended,
# scored session with ``user_id``, ``user``, ``role``, ``scenario_id``, ``lang``, ``outcome``,
# ``overall``, ``started_at``, ``ended_at`` and one column per dimension). Everything here is
# vectorised pandas: 50,000 sessions take milliseconds.

DEFAULT_PASS_MARK = 70.0
NO_TEAM = "—"


def prepare_sessions(
    frame: pd.DataFrame,
    memberships: pd.DataFrame | None = None,
    assignments: pd.DataFrame | None = None,
    default_pass_mark: float = DEFAULT_PASS_MARK,
) -> pd.DataFrame:
    """Add ``when`` (ended_at), ``week`` (Monday of that week, UTC), ``team`` (the user's team:
    the first group of kind ``team`` by name, else the first cohort, else "—"), ``attempt``
    (1.. per user in time order), ``pass_mark`` (see :func:`pass_marks`) and ``passed``.
    Sorted by time."""
    out = frame.assign(when=frame["ended_at"].where(frame["ended_at"].notna(), frame["started_at"]))
    out = out.take(chronological(out)).reset_index(drop=True)
    out["week"] = (out["when"].dt.tz_localize(None).dt.normalize()
                   - pd.to_timedelta(out["when"].dt.day_of_week, unit="D"))
    out["team"] = NO_TEAM
    if memberships is not None and not memberships.empty:
        ordered = memberships.assign(_k=memberships["kind"].map({"team": 0, "cohort": 1}).fillna(2)).sort_values(
            ["_k", "group"])
        first = ordered.drop_duplicates("user_id").set_index("user_id")["group"]
        out["team"] = out["user_id"].map(first).fillna(NO_TEAM)
    out["attempt"] = out.groupby("user_id").cumcount() + 1
    # Per-scenario normalised score: 50 is the average of every session on that scenario and
    # language here; 60 is ten points above it. Lets teams that practise different scenarios be
    # compared fairly.
    scenario_mean = out.groupby(["scenario_id", "lang"])["overall"].transform("mean")
    out["normalised"] = (50 + out["overall"] - scenario_mean).clip(0, 100)
    out["pass_mark"] = pass_marks(out, memberships, assignments, default_pass_mark)
    out["passed"] = out["overall"] >= out["pass_mark"]
    return out


def chronological(frame: pd.DataFrame) -> np.ndarray:
    """Positions of ``frame``'s rows in time order: by ``when``, then ``session_id`` (text), in a
    stable sort. Gives the order of ``sort_values(["when", "session_id"], kind="stable")``
    without pandas factorising 50,000 distinct ids (a third of the time of the sort)."""
    when = frame["when"].dt.tz_convert(None).to_numpy()
    return np.lexsort((frame["session_id"].to_numpy(dtype=str), when))


def pass_marks(
    frame: pd.DataFrame,
    memberships: pd.DataFrame | None,
    assignments: pd.DataFrame | None,
    default: float = DEFAULT_PASS_MARK,
) -> pd.Series:
    """The pass mark that applies to each session: the pass mark of an assignment of the same
    scenario and language to the trainee themself, else to a group they belong to (the newest
    such assignment wins), else ``default`` (the rubric's pass mark). Assignments without a
    pass mark fall through to the default."""
    result = pd.Series(default, index=frame.index, dtype=float)
    if assignments is None or assignments.empty:
        return result
    given = assignments.dropna(subset=["pass_mark"]).sort_values("created_at")
    keys = frame[["scenario_id", "lang", "user_id"]]
    keys = keys[keys["scenario_id"].isin(given["scenario_id"])].reset_index()  # only what can match
    # group-level first, then user-level on top (a personal assignment beats a group's)
    groups = given[given["group_id"].notna()]
    if not groups.empty and memberships is not None and not memberships.empty:
        per_user = groups.merge(memberships[["group_id", "user_id"]].astype({"group_id": "Int64"}), on="group_id",
                                suffixes=("_a", ""))
        per_user = per_user.drop_duplicates(["scenario_id", "lang", "user_id"], keep="last")
        hit = keys.merge(per_user[["scenario_id", "lang", "user_id", "pass_mark"]], on=["scenario_id", "lang", "user_id"])
        result.loc[hit["index"].to_numpy()] = hit["pass_mark"].to_numpy()
    users = given[given["user_id"].notna()].astype({"user_id": int})
    if not users.empty:
        users = users.drop_duplicates(["scenario_id", "lang", "user_id"], keep="last")
        hit = keys.merge(users[["scenario_id", "lang", "user_id", "pass_mark"]], on=["scenario_id", "lang", "user_id"])
        result.loc[hit["index"].to_numpy()] = hit["pass_mark"].to_numpy()
    return result


def filter_sessions(
    frame: pd.DataFrame,
    *,
    user_ids: Iterable[int] | None = None,
    start: Any = None,
    end: Any = None,
    scenarios: Iterable[str] | None = None,
    langs: Iterable[str] | None = None,
    roles: Iterable[str] | None = None,
) -> pd.DataFrame:
    """The rows matching every given filter (None or empty: no filter). ``start``/``end`` are
    dates (inclusive) compared with the day the session ended (UTC)."""
    mask = pd.Series(True, index=frame.index)
    if user_ids is not None:
        mask &= frame["user_id"].isin(list(user_ids))
    day = frame["when"].dt.tz_localize(None).dt.normalize()
    if start is not None:
        mask &= day >= pd.Timestamp(start)
    if end is not None:
        mask &= day <= pd.Timestamp(end)
    for column, values in (("scenario_id", scenarios), ("lang", langs), ("role", roles)):
        if values:
            mask &= frame[column].isin(list(values))
    return frame[mask]


def _figures(part: pd.DataFrame) -> dict[str, float]:
    n = len(part)
    return {
        "active_trainees": int(part["user_id"].nunique()),
        "sessions": n,
        "average_overall": float(part["overall"].mean()) if n else float("nan"),
        "pass_rate": float(part["passed"].mean() * 100) if n else float("nan"),
    }


def headline(frame: pd.DataFrame, start: Any, end: Any) -> dict[str, dict[str, float]]:
    """Headline figures for the period ``start``..``end`` (dates, inclusive) and their change
    against the period of the same length just before it. ``frame`` is filtered by everything
    except the dates. Returns ``{name: {"value", "previous", "change"}}`` for
    ``active_trainees``, ``sessions``, ``average_overall`` and ``pass_rate`` (percent)."""
    start, end = pd.Timestamp(start), pd.Timestamp(end)
    length = end - start + pd.Timedelta(days=1)
    now = _figures(filter_sessions(frame, start=start, end=end))
    before = _figures(filter_sessions(frame, start=start - length, end=start - pd.Timedelta(days=1)))
    return {
        key: {"value": now[key], "previous": before[key], "change": now[key] - before[key]}
        for key in now
    }


def weekly_progress(frame: pd.DataFrame, by: str = "team", window: int = 4, value: str = "overall") -> pd.DataFrame:
    """Mean overall score per week and ``by`` (``team`` or ``user``), with ``sessions`` (count)
    and ``rolling``: the session-weighted mean of the last ``window`` weeks that had sessions.
    ``value``: ``overall``, or ``normalised`` (per-scenario normalised, see :func:`prepare_sessions`);
    the result's column is called ``overall`` either way.
    Columns ``key``, ``week``, ``overall``, ``sessions``, ``rolling``."""
    if frame.empty:
        return pd.DataFrame(columns=["key", "week", "overall", "sessions", "rolling"])
    grouped = frame.groupby([by, "week"], sort=True)[value].agg(total="sum", sessions="count").reset_index()
    grouped["overall"] = grouped["total"] / grouped["sessions"]
    rolled = grouped.groupby(by)[["total", "sessions"]].rolling(window, min_periods=1).sum().reset_index(level=0, drop=True)
    grouped["rolling"] = rolled["total"] / rolled["sessions"]
    return grouped.rename(columns={by: "key"})[["key", "week", "overall", "sessions", "rolling"]]


def weekly_dimensions(frame: pd.DataFrame) -> pd.DataFrame:
    """Mean score per week and dimension (long): ``week``, ``dimension``, ``score``."""
    dims = [key for key in DIMENSIONS if key in frame.columns]
    if frame.empty:
        return pd.DataFrame(columns=["week", "dimension", "score"])
    means = frame.groupby("week")[dims].mean().reset_index()
    return means.melt(id_vars="week", var_name="dimension", value_name="score").dropna(subset=["score"])


def latest_levels(frame: pd.DataFrame) -> pd.DataFrame:
    """Trainees × dimensions: each trainee's score in the latest session where the dimension
    applied. Index ``user``, columns the rubric dimensions (NaN: never applied)."""
    dims = [key for key in DIMENSIONS if key in frame.columns]
    if frame.empty:
        return pd.DataFrame(columns=dims)
    ordered = frame.sort_values("when", kind="stable")
    levels = ordered.groupby("user")[dims].last()  # last non-null per column
    return levels.reindex(columns=dims)


def scenario_summary(frame: pd.DataFrame) -> pd.DataFrame:
    """Per scenario: ``sessions``, ``mean``, ``median``, ``pass_rate`` (percent), hardest
    (lowest mean) first."""
    if frame.empty:
        return pd.DataFrame(columns=["scenario_id", "sessions", "mean", "median", "pass_rate"])
    out = frame.groupby("scenario_id").agg(
        sessions=("overall", "count"), mean=("overall", "mean"), median=("overall", "median"),
        pass_rate=("passed", "mean"),
    )
    out["pass_rate"] *= 100
    return out.sort_values(["mean", "sessions"]).reset_index()


OUTCOME_ORDER = ("resolved", "referred", "walked_away", "escalated", "turn_limit", "abandoned")


def outcome_mix(frame: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Share of each outcome (percent), overall or per ``by`` (e.g. ``scenario_id``, ``team``).
    Columns (``key``,) ``outcome``, ``sessions``, ``share``."""
    keys = ([by] if by else []) + ["outcome"]
    counts = frame.assign(outcome=frame["outcome"].fillna("abandoned")).groupby(keys).size().rename("sessions").reset_index()
    total = counts.groupby(by)["sessions"].transform("sum") if by else counts["sessions"].sum()
    counts["share"] = counts["sessions"] / total * 100
    counts["_o"] = counts["outcome"].map({o: i for i, o in enumerate(OUTCOME_ORDER)}).fillna(99)
    counts = counts.sort_values(([by] if by else []) + ["_o"]).drop(columns="_o").reset_index(drop=True)
    return counts.rename(columns={by: "key"}) if by else counts


def learning_curve(frame: pd.DataFrame, by: str | None = None, max_attempt: int | None = None,
                   min_trainees: int = 1) -> pd.DataFrame:
    """Score by attempt number (``attempt`` counted per trainee over all their sessions):
    ``attempt``, ``mean``, ``p25``, ``p75``, ``trainees``; per ``by`` (``key`` column) when given.
    Attempts with fewer than ``min_trainees`` trainees are dropped."""
    part = frame if max_attempt is None else frame[frame["attempt"] <= max_attempt]
    keys = ([by] if by else []) + ["attempt"]
    grouped = part.groupby(keys)["overall"]
    out = pd.DataFrame({
        "mean": grouped.mean(), "p25": grouped.quantile(0.25), "p75": grouped.quantile(0.75), "trainees": grouped.count(),
    }).reset_index()
    out = out[out["trainees"] >= min_trainees].reset_index(drop=True)
    return out.rename(columns={by: "key"}) if by else out


def time_to_proficiency(frame: pd.DataFrame) -> pd.DataFrame:
    """Per trainee: ``first_session`` (when), ``proficient_at`` (the first session reaching its
    pass mark, NaT if none yet), ``attempts`` (attempt number of that session), ``days`` (from
    the first session), ``sessions`` (all), ``team``. Proficient trainees first, fastest first."""
    cols = ["user_id", "user", "team", "first_session", "proficient_at", "attempts", "days", "sessions"]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    used = ["user_id", "user", "team", "when", "overall", "passed", "attempt"]
    ordered = frame[used].sort_values("when", kind="stable")
    base = ordered.groupby("user_id").agg(user=("user", "first"), team=("team", "first"),
                                          first_session=("when", "first"), sessions=("overall", "count"))
    passed = ordered[ordered["passed"]].groupby("user_id").agg(proficient_at=("when", "first"),
                                                               attempts=("attempt", "first"))
    out = base.join(passed, how="left")
    out["days"] = (out["proficient_at"] - out["first_session"]).dt.total_seconds() / 86400
    out["attempts"] = out["attempts"].astype("Int64")
    return out.reset_index().sort_values(["days", "user"], na_position="last")[cols].reset_index(drop=True)


def needs_attention(frame: pd.DataFrame, last_n: int = 6, low: float = 50.0, min_dim_sessions: int = 3) -> pd.DataFrame:
    """Trainees who need help, one row each, worst first:

    * ``no_improvement``: at least ``last_n`` sessions, the mean of the newer half of the last
      ``last_n`` is not above the older half, and that newer mean is below the pass mark;
    * ``stuck_low``: a dimension that applied in at least ``min_dim_sessions`` of the last
      ``last_n`` sessions and stayed below ``low`` in all of them (listed in ``dimensions``).

    Columns ``user_id``, ``user``, ``team``, ``sessions``, ``recent_mean``, ``change``,
    ``no_improvement``, ``stuck_low``, ``dimensions`` (comma-separated keys), ``last_session`` and
    its ``last_when``.
    """
    cols = ["user_id", "user", "team", "sessions", "recent_mean", "change", "no_improvement", "stuck_low",
            "dimensions", "last_session", "last_when"]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    dims = [key for key in DIMENSIONS if key in frame.columns]
    used = ["user_id", "user", "team", "session_id", "when", "overall", "pass_mark", *dims]
    ordered = frame[used].sort_values(["user_id", "when"], kind="stable")
    rank = ordered.groupby("user_id").cumcount(ascending=False)  # 0 = newest
    recent = ordered[rank < last_n].assign(_rank=rank[rank < last_n])
    half = last_n // 2
    newer = recent[recent["_rank"] < last_n - half].groupby("user_id")["overall"].mean()
    older = recent[recent["_rank"] >= last_n - half].groupby("user_id")["overall"].mean()
    counts = ordered.groupby("user_id").size()
    mark = recent.groupby("user_id")["pass_mark"].mean()
    change = newer - older
    no_improvement = (counts >= last_n) & (change.reindex(counts.index) <= 0) & (newer < mark).reindex(counts.index)
    applied = recent.groupby("user_id")[dims].count()
    highest = recent.groupby("user_id")[dims].max()
    stuck = (applied >= min_dim_sessions) & (highest < low)
    # comma-joined names of the stuck dimensions, built column-wise (not one Python call per row)
    stuck_names = pd.Series("", index=stuck.index, dtype=object)
    for key in dims:
        hit = stuck[key].to_numpy(dtype=bool)
        stuck_names.loc[hit] = stuck_names[hit].where(stuck_names[hit] == "", stuck_names[hit] + ",") + key
    info = ordered.groupby("user_id").agg(user=("user", "first"), team=("team", "last"), last_session=("session_id", "last"),
                                          last_when=("when", "last"))
    out = info.assign(
        sessions=counts, recent_mean=newer, change=change.reindex(counts.index),
        no_improvement=no_improvement.fillna(False).astype(bool), stuck_low=stuck.any(axis=1),
        dimensions=stuck_names,
    )
    out = out[out["no_improvement"] | out["stuck_low"]].reset_index()
    return out.sort_values(["recent_mean", "user"]).reset_index(drop=True)[cols]

