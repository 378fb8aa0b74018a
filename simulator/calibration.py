"""Calibration figures (issue 15): how well the automatic score agrees with trainers, how well
trainers agree with each other, and the analyser's tags against trainers' corrections. Pure:
frames and records in, JSON-ready dicts out (storage is :mod:`simulator.store.calibration`,
permissions and the audit log :mod:`simulator.grading`).

Agreement, per rubric dimension and session language (and over both languages):

* **automatic vs. human**: per session, the automatic score against the mean of the graders'
  scores for that dimension;
* **human vs. human**: per session, the first two graders to submit (a calibration set's pair
  design; a third grader's scores still count in the human mean above).

Measures, each with the number of sessions ``n``:

* ``kappa``: quadratic-weighted Cohen's kappa, :func:`sklearn.metrics.cohen_kappa_score` with
  ``weights="quadratic"`` over the rubric's grading scale (0, step, ..., 100; the labels are
  given explicitly so the weights follow the points, not just the values that happen to occur).
  Automatic scores and human means are first snapped to the nearest step.
* ``spearman``: :func:`scipy.stats.spearmanr` on the unsnapped scores.
* ``mad``: mean absolute difference in points, unsnapped.
* ``*_ci``: percentile bootstrap confidence interval over sessions (resampling whole sessions),
  :func:`scipy.stats.bootstrap` with a fixed seed, so the page and the CLI print the same
  figures. The resampled statistics are computed with the vectorised numpy equivalents in
  :func:`batched_measures` (checked against the library functions in the tests).

Tag agreement: per tag, precision/recall/F1 of the analyser's tags against the corrected tags
(:func:`sklearn.metrics.precision_recall_fscore_support`), micro F1, and how often the
analyser's referral target matches the corrected one.

Export: corrected turns as labelled JSON Lines in the analyser's corpus format
(docs/labelling.md): ``{"id", "lang", "sector", "customer", "trainee", "tags",
"referral_target"}``; :func:`load_corrections` reads such a file back for ``train-analyser``,
and :func:`training_mix` says how much of a training set came from corrections (model card).
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulator.analysis_types import TAG_ORDER

# SciPy and scikit-learn are imported where the figures are computed: importing them costs about
# a second, and the dashboard HR signs in to imports this module for its grading forms.

TAG_NAMES: tuple[str, ...] = tuple(tag.value for tag in TAG_ORDER)
REFERRAL_TARGETS: tuple[str, ...] = ("legal", "security", "other")
LANGS: tuple[str, ...] = ("id", "en")
COMPARISONS: tuple[str, ...] = ("auto_human", "human_human")
MEASURES: tuple[str, ...] = ("kappa", "spearman", "mad")
RESAMPLES = 2000
CONFIDENCE = 0.95
SEED = 15
MIN_SESSIONS = 2  # fewer paired sessions: no figures at all
MIN_SESSIONS_CI = 5  # fewer: figures without an interval
TOP_DISAGREEMENTS = 10

CORPUS_KEYS: tuple[str, ...] = ("id", "lang", "sector", "customer", "trainee", "tags", "referral_target")
#: Records exported from corrections have ids starting with this (see :func:`training_mix`).
CORRECTION_ID_PREFIX = "corr-"


# --------------------------------------------------------------------------- the measures


def grade_scale(step: int) -> list[int]:
    """The grading scale: 0, step, ..., 100."""
    if step < 1 or 100 % step:
        raise ValueError(f"step must divide 100, got {step}")
    return list(range(0, 101, step))


def snap(values: Any, step: int) -> np.ndarray:
    """Scores snapped to the nearest step (halves round up), as integers."""
    values = np.asarray(values, dtype=float)
    return (np.floor(values / step + 0.5) * step).clip(0, 100).astype(int)


def quadratic_kappa(a: Sequence[float], b: Sequence[float], step: int) -> float:
    """Quadratic-weighted Cohen's kappa of two raters' scores on the grading scale (scikit-learn).
    NaN when it is undefined (both raters gave one and the same score throughout)."""
    from sklearn.exceptions import UndefinedMetricWarning
    from sklearn.metrics import cohen_kappa_score

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(cohen_kappa_score(snap(a, step), snap(b, step), weights="quadratic", labels=grade_scale(step),
                                       replace_undefined_by=np.nan))


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman's rank correlation (SciPy); NaN when one side is constant."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan
    from scipy import stats

    return float(stats.spearmanr(a, b).statistic)


def mean_abs_diff(a: Sequence[float], b: Sequence[float]) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.mean(np.abs(a - b))) if len(a) else math.nan


def batched_measures(x: np.ndarray, y: np.ndarray, step: int) -> np.ndarray:
    """Kappa, Spearman and mean absolute difference along the last axis, for many resamples at
    once: shape ``(..., n)`` in, ``(3, ...)`` out. The same definitions as :func:`quadratic_kappa`,
    :func:`spearman` and :func:`mean_abs_diff` (NaN where undefined)."""
    from scipy import stats

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    k = 100 // step + 1
    xi, yi = snap(x, step) // step, snap(y, step) // step
    n = x.shape[-1]
    # observed weighted disagreement and the one expected from the marginals
    i = np.arange(k)
    weights = (i[:, None] - i[None, :]) ** 2 / (k - 1) ** 2
    observed = np.mean(weights[xi, yi], axis=-1)
    px = (xi[..., None] == i).mean(axis=-2)
    py = (yi[..., None] == i).mean(axis=-2)
    expected = np.einsum("...a,ab,...b->...", px, weights, py)
    with np.errstate(invalid="ignore", divide="ignore"):
        kappa = np.where(expected > 0, 1 - observed / np.where(expected > 0, expected, 1), np.nan)
        rx, ry = stats.rankdata(x, axis=-1), stats.rankdata(y, axis=-1)
        rx = rx - rx.mean(axis=-1, keepdims=True)
        ry = ry - ry.mean(axis=-1, keepdims=True)
        denom = np.sqrt((rx**2).sum(axis=-1) * (ry**2).sum(axis=-1))
        rho = np.where(denom > 0, (rx * ry).sum(axis=-1) / np.where(denom > 0, denom, 1), np.nan)
    mad = np.abs(x - y).sum(axis=-1) / n
    return np.stack([kappa, rho, mad])


def _num(value: float | None, digits: int = 3) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


def agreement_figures(x: Sequence[float], y: Sequence[float], step: int, *, resamples: int = RESAMPLES,
                      confidence: float = CONFIDENCE, seed: int = SEED) -> dict[str, Any]:
    """``{"kappa", "kappa_ci", "spearman", "spearman_ci", "mad", "mad_ci", "n"}`` for paired
    scores (one pair per session). Figures are None below :data:`MIN_SESSIONS` pairs, intervals
    None below :data:`MIN_SESSIONS_CI`."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n = len(x)
    out: dict[str, Any] = {"n": n}
    for name in MEASURES:
        out[name] = None
        out[f"{name}_ci"] = None
    if n < MIN_SESSIONS:
        return out
    out["kappa"] = _num(quadratic_kappa(x, y, step))
    out["spearman"] = _num(spearman(x, y))
    out["mad"] = _num(mean_abs_diff(x, y), 2)
    if n < MIN_SESSIONS_CI or resamples < 1:
        return out
    from scipy import stats

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = stats.bootstrap((x, y), lambda a, b, axis=-1: batched_measures(a, b, step), paired=True,
                                 vectorized=True, n_resamples=resamples, confidence_level=confidence,
                                 method="percentile", rng=np.random.default_rng(seed))
    low, high = np.asarray(result.confidence_interval.low), np.asarray(result.confidence_interval.high)
    tail = (1 - confidence) / 2 * 100
    for j, name in enumerate(MEASURES):
        if out[name] is None:
            continue
        lo, hi = low[j], high[j]
        if not (math.isfinite(lo) and math.isfinite(hi)):  # some resamples undefined: leave them out
            dist = result.bootstrap_distribution[j]
            dist = dist[np.isfinite(dist)]
            if len(dist) < resamples / 2:
                continue
            lo, hi = np.percentile(dist, [tail, 100 - tail])
        digits = 2 if name == "mad" else 3
        out[f"{name}_ci"] = [_num(lo, digits), _num(hi, digits)]
    return out


# --------------------------------------------------------------------------- pairing scores


def grade_frame(grades: Iterable[Any]) -> pd.DataFrame:
    """Gradings (records with ``session_id``, ``grader_id``, ``submitted_at``, ``scores``) as a long
    frame: ``session_id``, ``grader_id``, ``order`` (0 = first grader to submit on that session),
    ``dimension``, ``score``; dimensions graded "does not apply" (None) are left out."""
    rows = []
    grades = sorted(grades, key=lambda g: (g.submitted_at, g.id))
    order: dict[str, list[int]] = {}
    for grade in grades:
        seen = order.setdefault(grade.session_id, [])
        if grade.grader_id not in seen:
            seen.append(grade.grader_id)
    for grade in grades:
        rank = order[grade.session_id].index(grade.grader_id)
        for key, score in grade.scores.items():
            if score is not None:
                rows.append((grade.session_id, grade.grader_id, rank, key, float(score)))
    return pd.DataFrame(rows, columns=["session_id", "grader_id", "order", "dimension", "score"])


def paired_scores(auto: pd.DataFrame, humans: pd.DataFrame, facts: pd.DataFrame) -> pd.DataFrame:
    """One row per (session, dimension) that at least one grader graded: ``session_id``, ``lang``,
    ``dimension``, ``auto`` (NaN where the automatic scorer says it does not apply),
    ``human`` (the graders' mean), ``graders``, ``first``, ``second`` (NaN without a second grader)."""
    columns = ["session_id", "lang", "dimension", "auto", "human", "graders", "first", "second"]
    if humans.empty:
        return pd.DataFrame(columns=columns)
    latest = humans.sort_values("order")
    grouped = latest.groupby(["session_id", "dimension"])
    frame = grouped["score"].agg(human="mean", graders="count").reset_index()
    firsts = latest[latest["order"] == 0].set_index(["session_id", "dimension"])["score"].rename("first")
    seconds = latest[latest["order"] == 1].set_index(["session_id", "dimension"])["score"].rename("second")
    frame = frame.join(firsts, on=["session_id", "dimension"]).join(seconds, on=["session_id", "dimension"])
    autos = auto.rename(columns={"score": "auto"}).set_index(["session_id", "dimension"])["auto"]
    frame = frame.join(autos, on=["session_id", "dimension"])
    frame = frame.merge(facts[["session_id", "lang"]], on="session_id", how="left")
    return frame[columns].reset_index(drop=True)


def dimension_agreement(pairs: pd.DataFrame, dimensions: Sequence[str], step: int, *, resamples: int = RESAMPLES,
                        seed: int = SEED) -> dict[str, dict[str, Any]]:
    """``{dimension: {"auto_human_kappa", "auto_human_kappa_ci", ..., "human_human_n",
    "by_lang": {lang: {same keys}}}}``: the figures over both languages next to the dimension
    key, and per session language under ``by_lang``."""

    def cell(part: pd.DataFrame) -> dict[str, Any]:
        out: dict[str, Any] = {}
        both = part.dropna(subset=["auto", "human"])
        for key, value in agreement_figures(both["auto"], both["human"], step, resamples=resamples, seed=seed).items():
            out[f"auto_human_{key}"] = value
        two = part.dropna(subset=["first", "second"])
        for key, value in agreement_figures(two["first"], two["second"], step, resamples=resamples, seed=seed).items():
            out[f"human_human_{key}"] = value
        return out

    report: dict[str, dict[str, Any]] = {}
    for key in dimensions:
        part = pairs[pairs["dimension"] == key] if not pairs.empty else pairs
        entry = cell(part)
        entry["by_lang"] = {lang: cell(part[part["lang"] == lang]) for lang in LANGS}
        report[key] = entry
    return report


def disagreements(pairs: pd.DataFrame, facts: pd.DataFrame, top: int = TOP_DISAGREEMENTS) -> list[dict[str, Any]]:
    """The sessions where the automatic score and the graders' mean differ most (mean absolute
    difference over the dimensions both scored), biggest first, with a link to the review page."""
    both = pairs.dropna(subset=["auto", "human"]) if not pairs.empty else pairs
    if both.empty:
        return []
    both = both.assign(diff=(both["auto"] - both["human"]).abs())
    per = both.groupby("session_id").agg(mean_diff=("diff", "mean"), graders=("graders", "max"),
                                         dimensions=("diff", "count")).reset_index()
    worst = both.loc[both.groupby("session_id")["diff"].idxmax(), ["session_id", "dimension", "auto", "human"]]
    per = per.merge(worst, on="session_id").merge(facts, on="session_id", how="left")
    per = per.sort_values(["mean_diff", "session_id"], ascending=[False, True]).head(top)
    return [
        {"session_id": r.session_id, "scenario_id": r.scenario_id, "lang": r.lang, "overall": _num(r.overall, 1),
         "mean_diff": _num(r.mean_diff, 1), "graders": int(r.graders), "worst_dimension": r.dimension,
         "worst_auto": _num(r.auto, 1), "worst_human": _num(r.human, 1), "link": f"review?session={r.session_id}"}
        for r in per.itertuples(index=False)
    ]


# --------------------------------------------------------------------------- tags


def tag_agreement(turns: pd.DataFrame) -> dict[str, Any]:
    """The analyser's tags (``auto_tags``) against the corrected ``tags`` of corrected turns:
    ``{"turns", "micro_f1", "referral_target_accuracy", "tags": {tag: {"precision", "recall",
    "f1", "support"}}}`` (scikit-learn; None where a measure is undefined)."""
    n = len(turns)
    out: dict[str, Any] = {"turns": n, "micro_f1": None, "referral_target_accuracy": None,
                           "tags": {tag: {"precision": None, "recall": None, "f1": None, "support": 0}
                                    for tag in TAG_NAMES}}
    if not n:
        return out
    truth = np.array([[tag in tags for tag in TAG_NAMES] for tags in turns["tags"]], dtype=int)
    guess = np.array([[tag in tags for tag in TAG_NAMES] for tags in turns["auto_tags"]], dtype=int)
    from sklearn.metrics import precision_recall_fscore_support

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p, r, f, s = precision_recall_fscore_support(truth, guess, average=None, labels=list(range(len(TAG_NAMES))),
                                                     zero_division=np.nan)
        _, _, micro, _ = precision_recall_fscore_support(truth, guess, average="micro", zero_division=np.nan)
    for j, tag in enumerate(TAG_NAMES):
        out["tags"][tag] = {"precision": _num(p[j]), "recall": _num(r[j]), "f1": _num(f[j]), "support": int(s[j])}
    out["micro_f1"] = _num(micro)
    referred = turns[turns["tags"].map(lambda tags: "referral" in tags)]
    if len(referred):
        same = (referred["auto_referral_target"].fillna("") == referred["referral_target"].fillna("")).mean()
        out["referral_target_accuracy"] = _num(same)
    return out


# --------------------------------------------------------------------------- the report


def agreement_report(*, auto: pd.DataFrame, grades: Iterable[Any], facts: pd.DataFrame, corrected: pd.DataFrame,
                     dimensions: Sequence[str], step: int, set_name: str | None = None, demo: bool = False,
                     resamples: int = RESAMPLES, seed: int = SEED, top: int = TOP_DISAGREEMENTS) -> dict[str, Any]:
    """The whole report, JSON-ready (what ``python -m simulator agreement --json`` prints and the
    dashboard's agreement tab shows). ``auto``: the automatic scores, long (``session_id``,
    ``dimension``, ``score``); ``grades``: the current gradings; ``facts``: ``session_id``,
    ``lang``, ``scenario_id``, ``overall``; ``corrected``: corrected turns (see
    :meth:`simulator.store.calibration.CalibrationStore.corrected_turns`)."""
    grades = list(grades)
    humans = grade_frame(grades)
    pairs = paired_scores(auto, humans, facts)
    graded = sorted(set(humans["session_id"])) if not humans.empty else []
    return {
        "set": set_name,
        "demo": demo,
        "sessions": len(graded),
        "graders": int(humans["grader_id"].nunique()) if not humans.empty else 0,
        "gradings": len(grades),
        "step": step,
        "confidence": CONFIDENCE,
        "resamples": resamples,
        "dimensions": dimension_agreement(pairs, dimensions, step, resamples=resamples, seed=seed),
        "tags": tag_agreement(corrected),
        "disagreements": disagreements(pairs, facts, top),
    }


def kappa_table(report: Mapping[str, Any], lang: str | None = None) -> pd.DataFrame:
    """The report's dimension figures as a table (one row per dimension), over both languages or
    for one session language: the columns are the flat keys (``auto_human_kappa``, ...)."""
    rows = []
    for key, entry in report["dimensions"].items():
        cell = entry if lang is None else entry["by_lang"][lang]
        rows.append({"dimension": key, **{k: v for k, v in cell.items() if k != "by_lang"}})
    return pd.DataFrame(rows)


def format_ci(value: float | None, ci: Sequence[float | None] | None, digits: int = 2) -> str:
    """``0.61 [0.42, 0.77]``; ``—`` where there is no figure."""
    if value is None:
        return "—"
    text = f"{value:.{digits}f}"
    if ci and ci[0] is not None and ci[1] is not None:
        text += f" [{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]"
    return text


# --------------------------------------------------------------------------- labelled export


def sector_slug(text: str) -> str:
    """A scenario's sector as a corpus slug: "water utility (PDAM)" -> "water-utility"."""
    import re

    plain = re.sub(r"\(.*?\)", " ", text or "").lower()
    return "-".join(re.findall(r"[a-z0-9]+", plain)) or "other"


def label_records(turns: pd.DataFrame, sectors: Mapping[tuple[str, str], str]) -> list[dict[str, Any]]:
    """Corrected turns (see ``CalibrationStore.corrected_turns``) as corpus records, in
    docs/labelling.md's format and key order. ``sectors``: (scenario id, lang) or (scenario id,
    "") -> sector slug ("other" when the scenario is unknown)."""
    records = []
    for row in turns.itertuples(index=False):
        sector = sectors.get((row.scenario_id, row.lang)) or sectors.get((row.scenario_id, "")) or "other"
        records.append({
            "id": f"{CORRECTION_ID_PREFIX}{row.lang}-{sector}-{int(row.turn_id):05d}",
            "lang": row.lang,
            "sector": sector,
            "customer": row.customer or "",
            "trainee": row.trainee,
            "tags": [tag for tag in TAG_NAMES if tag in row.tags],
            "referral_target": row.referral_target if "referral" in row.tags else None,
        })
    return records


def to_jsonl(records: Iterable[Mapping[str, Any]]) -> str:
    return "".join(json.dumps(dict(record), ensure_ascii=False) + "\n" for record in records)


def check_record(data: Any) -> dict[str, Any]:
    """One corpus record, validated and reduced to the corpus keys (ValueError otherwise)."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    missing = [key for key in CORPUS_KEYS if key not in data]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    for key in ("id", "sector", "customer", "trainee"):
        if not isinstance(data[key], str):
            raise ValueError(f"{key}: expected a string")
    if not data["id"] or not data["trainee"].strip():
        raise ValueError("id and trainee must not be empty")
    if data["lang"] not in LANGS:
        raise ValueError(f"lang: expected one of {', '.join(LANGS)}, got {data['lang']!r}")
    tags = data["tags"]
    if not isinstance(tags, list) or any(tag not in TAG_NAMES for tag in tags):
        raise ValueError(f"tags: expected a list of {', '.join(TAG_NAMES)}")
    target = data["referral_target"]
    if target is not None and target not in REFERRAL_TARGETS:
        raise ValueError(f"referral_target: expected one of {', '.join(REFERRAL_TARGETS)} or null")
    if ("referral" in tags) != (target is not None):
        raise ValueError("referral_target: must be set exactly when referral is a tag")
    return {key: data[key] for key in CORPUS_KEYS}


def load_corrections(path: str | Path) -> list[dict]:
    """Corrected turns from a JSON Lines file written by ``python -m simulator export-labels``,
    as corpus records (docs/labelling.md) ready to be added to the analyser's training data.
    Empty lines are skipped; a bad line raises ``ValueError("<file>:<line>: <problem>")``;
    a record id given twice keeps the last one."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read: {exc}") from None
    records: dict[str, dict] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = check_record(json.loads(line))
        except (json.JSONDecodeError, ValueError) as exc:
            raise ValueError(f"{path}:{number}: {exc}") from None
        records.pop(record["id"], None)
        records[record["id"]] = record
    return list(records.values())


def training_mix(records: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """For the analyser's model card: ``{"examples", "from_corrections", "corrections_share"}``,
    counting the records whose id marks them as exported corrections."""
    ids = [str(record.get("id", "")) for record in records]
    corrected = sum(1 for i in ids if i.startswith(CORRECTION_ID_PREFIX))
    return {"examples": len(ids), "from_corrections": corrected,
            "corrections_share": round(corrected / len(ids), 4) if ids else 0.0}


# --------------------------------------------------------------------------- picking a set


def pick_sessions(candidates: pd.DataFrame, *, scenarios: Sequence[str] = (), langs: Sequence[str] = (),
                  low: float | None = None, high: float | None = None, sample: int | None = None,
                  seed: int | None = None) -> list[str]:
    """Session ids for a calibration set from ``candidates`` (``session_id``, ``scenario_id``,
    ``lang``, ``overall``): filtered by scenario, language and automatic overall score range
    (inclusive), then a random sample of ``sample`` (all when None or more than there are)."""
    frame = candidates
    if scenarios:
        frame = frame[frame["scenario_id"].isin(list(scenarios))]
    if langs:
        frame = frame[frame["lang"].isin(list(langs))]
    if low is not None:
        frame = frame[frame["overall"] >= low]
    if high is not None:
        frame = frame[frame["overall"] <= high]
    ids = sorted(frame["session_id"])
    if sample is not None and sample < len(ids):
        rng = np.random.default_rng(seed)
        ids = sorted(rng.choice(ids, size=sample, replace=False).tolist())
    return ids
