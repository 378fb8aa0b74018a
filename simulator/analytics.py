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
    done = scored_attempts(frame, include_branches)
    out = done[["attempt", "when", "session_id", "scenario_id", "overall"]].copy()
    out["rolling"] = out["overall"].rolling(window, min_periods=1).mean()
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


def first_vs_latest(frame: pd.DataFrame, include_branches: bool = False) -> pd.DataFrame:
    """Per dimension that applied at least once: ``first`` (its score in the earliest attempt
    where it applied), ``latest`` (in the most recent one), ``change`` (latest - first) and
    ``attempts`` (how many attempts it applied to). Rubric order."""
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
