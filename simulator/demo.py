"""Demo data for the dashboards: ``python -m simulator seed-demo --trainees N --sessions M``.

Plausible histories, generated with numpy and written with bulk inserts (no conversation is
actually played, so 1000 trainees × 50 sessions take seconds):

* 3-5 teams (each with a start date a few months back) plus an HR user and a trainer;
* each trainee starts somewhere between weak and fair and learns at their own rate towards
  their own ceiling: fast, steady or slow learners, and some who stall early;
* each trainee has personal strengths and weaknesses per dimension (a few a clear weak spot);
  dimension scores scatter around the trainee's current level, and ``overall`` is their
  weighted mean over the dimensions that apply to the scenario (the rubric's rule), so
  scores and overall always agree;
* outcomes follow the score (good conversations end resolved, or referred where the
  scenario calls for a referral; poor ones walk away or escalate);
* sessions spread over the months since the team started, 3-15 minutes each;
* transcripts: each session gets the transcript a self-play bot of similar quality produced
  on that scenario (played once per scenario and language), so the review page shows a
  conversation that fits the score;
* calibration (issue 15): a calibration set "Demo calibration" of 12 sessions graded by two
  demo trainers, and tag corrections on some of their trainee turns, so the agreement report
  is not empty on a fresh install. Everything here is flagged ``demo`` (the set, the gradings,
  the corrections; ``export-labels`` leaves demo corrections out unless asked). The graders'
  scores are plausible, not real: each dimension has a "true" level near the automatic score,
  and each grader sees it with their own bias and noise, so they agree with each other more
  than with the automatic score.

Demo users get no password (they cannot sign in) unless one shared password is given.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from simulator.rubric import DIMENSIONS, load_rubric
from simulator.scenario import Scenario, ScenarioLibrary
from simulator.scoring import applies
from simulator.store.repository import Repository
from simulator.store.teams import TeamStore

TEAM_NAMES = ("Tim Jakarta", "Tim Bandung", "Tim Surabaya", "Tim Medan", "Tim Makassar")
FIRST = ("Ayu", "Budi", "Citra", "Dewi", "Eko", "Fajar", "Gita", "Hadi", "Indah", "Joko", "Kartika", "Lestari",
         "Made", "Nur", "Oka", "Putri", "Rizky", "Sari", "Taufik", "Umi", "Wahyu", "Yanti", "Zainal", "Agus", "Bayu",
         "Dian", "Fitri", "Gilang", "Hendra", "Intan", "Kevin", "Linda", "Maya", "Nanda", "Rina", "Siti", "Tono",
         "Wulan", "Yoga", "Ratna")
LAST = ("Pratama", "Saputra", "Wijaya", "Santoso", "Lestari", "Hidayat", "Kusuma", "Nugroho", "Siregar",
        "Harahap", "Simanjuntak", "Putra", "Wibowo", "Rahman", "Setiawan", "Gunawan", "Halim", "Susanto",
        "Ramadhan", "Pangestu", "Yusuf", "Anggraini", "Hasibuan", "Tanjung", "Sitompul")
#: bot playing at about this level -> its transcript is reused
TIERS = (("defensive", 0.0), ("passive", 35.0), ("over_reacting", 50.0), ("exemplary", 68.0))

Progress = Callable[[str, int, int], None]


@dataclass
class SeedResult:
    trainees: int
    sessions: int
    scores: int
    turns: int
    teams: list[str]
    calibration_set: str | None = None
    gradings: int = 0
    corrections: int = 0


CALIBRATION_SET = "Demo calibration"
CALIBRATION_SESSIONS = 12
DEMO_GRADERS = ("demo-trainer", "demo-trainer-2")
DEMO_COMMENTS = {
    "en": ("Demo grade: restated the problem only late.", "Demo grade: a concrete day was missing.",
           "Demo grade: calm throughout."),
    "id": ("Nilai demo: masalahnya baru diulang di akhir.", "Nilai demo: belum ada hari yang jelas.",
           "Nilai demo: tenang sepanjang percakapan."),
}


def _names(rng: np.random.Generator, n: int, taken: set[str]) -> list[str]:
    pairs = [f"{f} {l}" for f in FIRST for l in LAST]
    rng.shuffle(pairs)
    out: list[str] = []
    i = 0
    while len(out) < n:
        base = pairs[i % len(pairs)]
        name = base if i < len(pairs) else f"{base} {i // len(pairs) + 1}"
        i += 1
        if name not in taken:
            taken.add(name)
            out.append(name)
    return out


#: The bots' transcripts per scenario (as JSON, so an edited scenario is played again): they are
#: deterministic, and re-seeding in one process (tests, the admin page) need not play them twice.
_BOT_TRANSCRIPTS: dict[str, list[tuple[float, list[tuple[str, str, list]]]]] = {}


def _bot_transcripts(scenario: Scenario) -> list[tuple[float, list[tuple[str, str, list]]]]:
    """(threshold, transcript lines) of each tier's self-play bot on ``scenario``."""
    from simulator.selfplay import BOT_CLASSES, _service, load_phrasebook, play_bot

    key = scenario.model_dump_json()
    if key not in _BOT_TRANSCRIPTS:
        service = _service(scenario)
        book = load_phrasebook(scenario.lang)
        try:
            _BOT_TRANSCRIPTS[key] = [
                (threshold, [(t.speaker, t.text, t.tags) for t in play_bot(service, BOT_CLASSES[bot](scenario, book)).transcript])
                for bot, threshold in TIERS
            ]
        finally:
            service.repo.close()
    return _BOT_TRANSCRIPTS[key]


def _templates(library: ScenarioLibrary, keys: list[tuple[str, str]], progress: Progress | None):
    """(scenario, lang) -> list of (threshold, transcript lines) from the self-play bots."""
    out = {}
    for n, (sid, lang) in enumerate(keys):
        if progress:
            progress("transcripts", n, len(keys))
        out[(sid, lang)] = _bot_transcripts(library.get(sid, lang))
    if progress:
        progress("transcripts", len(keys), len(keys))
    return out


def seed_demo(
    repo: Repository,
    trainees: int = 40,
    sessions: int = 30,
    *,
    password_hash: str | None = None,
    seed: int = 7,
    transcripts: bool = True,
    calibration: bool = True,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> SeedResult:
    """Fill ``repo``'s database with demo teams, trainees and their sessions (see the module)."""
    if trainees < 1 or sessions < 1:
        raise ValueError("trainees and sessions must be at least 1")
    rng = np.random.default_rng(seed)
    now = now or datetime.now(UTC)
    store = TeamStore(repo)
    library = ScenarioLibrary()
    rubric = load_rubric()
    weights = np.array([rubric.dimensions[k].weight for k in DIMENSIONS])
    scenario_keys = sorted((s.id, s.lang) for s in library.all())
    scen_ids = sorted({k[0] for k in scenario_keys})
    apply_mask = {}
    difficulty = {}
    referral_case = {}
    for sid, lang in scenario_keys:
        sc = library.get(sid, lang)
        apply_mask[(sid, lang)] = np.array([applies(rubric.dimensions[k], sc, []) for k in DIMENSIONS])
        difficulty[sid] = sc.difficulty
        referral_case[sid] = sc.handling.referral.target.value != "none"

    taken = {u.name for u in repo.list_users()}
    # -- teams, staff and trainees
    n_teams = int(min(5, max(3, trainees // 10)))
    teams = []
    existing = {g.name: g for g in store.list_groups()}
    for i in range(n_teams):
        name = TEAM_NAMES[i]
        start = (now - timedelta(days=int(120 + 60 * i + rng.integers(0, 30)))).date()
        if name in existing:
            teams.append(existing[name])
        else:
            teams.append(store.create_group(name, "team", start))
    staff = [("demo-hr", "hr"), *((name, "trainer") for name in DEMO_GRADERS)]
    user_rows = [{"name": n, "role": r, "password_hash": password_hash, "email": None, "active": True, "ui_lang": "en",
                  "created_at": now} for n, r in staff if n not in taken]
    taken |= {n for n, _ in staff}
    names = _names(rng, trainees, taken)
    user_rows += [{"name": n, "role": "trainee", "password_hash": password_hash, "email": None, "active": True,
                   "ui_lang": "id" if rng.random() < 0.6 else "en", "created_at": now} for n in names]
    store.bulk_insert("users", user_rows)
    ids = {u.name: u.id for u in repo.list_users()}
    trainee_ids = np.array([ids[n] for n in names])
    team_of = rng.integers(0, n_teams, trainees)
    store.bulk_insert("group_members", [{"group_id": teams[t].id, "user_id": int(u)} for u, t in zip(trainee_ids, team_of)])
    # one group assignment with a stricter pass mark, so pass rates use assignments too
    store.add_assignment("threat-violence", "id", group_id=teams[0].id, pass_mark=75.0)

    # -- learners
    kind = rng.choice(4, trainees, p=[0.25, 0.4, 0.2, 0.15])  # fast, steady, slow, stalled
    rate = np.array([0.25, 0.1, 0.04, 0.02])[kind] * rng.uniform(0.7, 1.3, trainees)
    start_level = np.clip(rng.normal(45, 9, trainees), 20, 65)
    ceiling = np.where(kind == 3, start_level + rng.uniform(0, 8, trainees), np.clip(rng.normal(86, 6, trainees), 70, 97))
    dim_offset = rng.normal(0, 7, (trainees, len(DIMENSIONS)))
    weak = rng.random(trainees) < 0.3
    dim_offset[weak, rng.integers(0, len(DIMENSIONS), weak.sum())] -= 25
    lang_pref = np.where(rng.random(trainees) < 0.7, "id", "en")

    # -- sessions (vectorised over trainees × attempts)
    m = sessions
    attempt = np.arange(1, m + 1)
    level = start_level[:, None] + (ceiling - start_level)[:, None] * (1 - np.exp(-rate[:, None] * (attempt - 1)))
    scen_idx = rng.integers(0, len(scen_ids), (trainees, m))
    diff = np.array([difficulty[s] for s in scen_ids], dtype=float)
    level = level - (diff[scen_idx] - diff.mean()) * 4 + rng.normal(0, 6, (trainees, m))
    langs = np.where(rng.random((trainees, m)) < 0.85, lang_pref[:, None], np.where(lang_pref[:, None] == "id", "en", "id"))
    dims = np.clip(level[:, :, None] + dim_offset[:, None, :] + rng.normal(0, 7, (trainees, m, len(DIMENSIONS))), 0, 100)
    dims = np.round(dims)
    masks = np.stack([np.stack([apply_mask[(scen_ids[scen_idx[i, j]], langs[i, j])] for j in range(m)])
                      for i in range(trainees)]) if trainees * m <= 5000 else None
    if masks is None:  # same thing, faster for big runs: a lookup table per (scenario, lang)
        table = np.stack([apply_mask[(s, l)] for l in ("en", "id") for s in scen_ids])
        masks = table[(langs == "id").astype(int) * len(scen_ids) + scen_idx]
    overall = np.round((dims * masks * weights).sum(axis=2) / (masks * weights).sum(axis=2), 1)
    # dates: from the team's start, gaps drawn so the M sessions end near today
    team_start = np.array([datetime.combine(teams[t].start_date, datetime.min.time(), UTC).timestamp() for t in team_of])
    first = team_start + rng.uniform(0, 14, trainees) * 86400
    span = np.maximum(now.timestamp() - first - 86400, 86400)
    gaps = rng.exponential(1.0, (trainees, m))
    gaps = gaps / gaps.sum(axis=1, keepdims=True) * (span * rng.uniform(0.7, 1.0, trainees))[:, None]
    started = first[:, None] + np.cumsum(gaps, axis=1) + rng.uniform(8, 17, (trainees, m)) * 3600 % 86400
    started = np.minimum(started, now.timestamp() - 3600)
    duration = rng.uniform(180, 900, (trainees, m))
    # outcomes from the score
    u = rng.random((trainees, m))
    referral = np.array([referral_case[s] for s in scen_ids])[scen_idx]
    good = np.where(referral, "referred", "resolved")
    outcome = np.where(overall >= 70, np.where(u < 0.85, good, "walked_away"),
              np.where(overall >= 50, np.where(u < 0.45, good, np.where(u < 0.85, "walked_away", "turn_limit")),
                       np.where(u < 0.1, good, np.where(u < 0.6, "walked_away", "escalated"))))

    templates = _templates(library, scenario_keys, progress) if transcripts else {}
    session_rows, score_rows, turn_rows = [], [], []
    total = trainees * m
    done = n_scores = n_turns = 0
    for i in range(trainees):
        uid = int(trainee_ids[i])
        for j in range(m):
            sid = secrets.token_urlsafe(16)
            scen, lang = scen_ids[scen_idx[i, j]], str(langs[i, j])
            t0 = datetime.fromtimestamp(started[i, j], UTC)
            t1 = t0 + timedelta(seconds=float(duration[i, j]))
            session_rows.append({
                "id": sid, "user_id": uid, "scenario_id": scen, "lang": lang, "scenario_version": None,
                "engine": "scripted", "seed": int(rng.integers(0, 2**31)), "status": "ended", "outcome": str(outcome[i, j]),
                "parent_id": None, "branch_turn": None, "state_json": {"demo": True}, "overall": float(overall[i, j]),
                "started_at": t0, "ended_at": t1,
            })
            mask = masks[i, j]
            for k, key in enumerate(DIMENSIONS):
                if mask[k]:
                    score_rows.append({"session_id": sid, "dimension": key, "score": float(dims[i, j, k]), "applies": True,
                                       "evidence_json": [], "feedback": "", "better": "", "needs_review": False,
                                       "detail_json": None})
            if transcripts:
                lines = [lines for threshold, lines in templates[(scen, lang)] if overall[i, j] >= threshold][-1]
                step = float(duration[i, j]) / max(len(lines), 1)
                for idx, (speaker, text, tags) in enumerate(lines):
                    turn_rows.append({"session_id": sid, "idx": idx, "speaker": speaker, "text": text,
                                      "analysis_json": {"tags": tags} if speaker == "trainee" else None,
                                      "mood_json": None, "notice": None, "meta_json": None,
                                      "created_at": t0 + timedelta(seconds=idx * step)})
        done += m
        if len(session_rows) >= 5000 or i == trainees - 1:
            store.bulk_insert("sessions", session_rows)
            store.bulk_insert("scores", score_rows)
            if turn_rows:
                store.bulk_insert("turns", turn_rows)
            n_scores, n_turns = n_scores + len(score_rows), n_turns + len(turn_rows)
            session_rows, score_rows, turn_rows = [], [], []
            if progress:
                progress("sessions", done, total)
    store.refresh_summaries()  # the dashboard's read model (the bulk inserts bypass the repository)
    result = SeedResult(trainees=trainees, sessions=total, scores=n_scores, turns=n_turns, teams=[t.name for t in teams])
    if calibration:
        result.calibration_set, result.gradings, result.corrections = seed_calibration(repo, seed=seed, now=now)
        if progress:
            progress("calibration", 1, 1)
    return result


def seed_calibration(repo: Repository, *, seed: int = 7, now: datetime | None = None,
                     sessions: int = CALIBRATION_SESSIONS) -> tuple[str, int, int]:
    """A demo calibration set graded by the two demo trainers, and demo tag corrections on its
    trainee turns (see the module). Returns (set name, gradings, corrections)."""
    from simulator.calibration import TAG_NAMES, pick_sessions, snap
    from sqlalchemy import select

    from simulator.store.calibration import CalibrationStore
    from simulator.store.models import Turn

    rng = np.random.default_rng(seed + 15)
    now = now or datetime.now(UTC)
    store = CalibrationStore(repo)
    step = load_rubric().grade_step
    users = {u.name: u for u in repo.list_users()}
    graders = [users[name].id for name in DEMO_GRADERS]
    candidates = store.candidate_sessions()
    candidates = candidates[candidates["demo"]]
    with repo.engine.connect() as conn:
        with_turns = set(conn.scalars(select(Turn.session_id).where(Turn.speaker == "trainee").distinct()))
    pool = candidates[candidates["session_id"].isin(with_turns)] if len(with_turns) >= sessions else candidates
    chosen = pick_sessions(pool, sample=sessions, seed=seed)
    taken = {s.name for s in store.list_sets()}
    name = CALIBRATION_SET if CALIBRATION_SET not in taken else next(
        f"{CALIBRATION_SET} {n}" for n in range(2, 1000) if f"{CALIBRATION_SET} {n}" not in taken)
    record = store.create_set(name, chosen, graders, created_by=graders[0], demo=True,
                              filters={"sample": sessions, "demo": True})
    auto = store.auto_scores(chosen)
    langs = dict(zip(candidates["session_id"], candidates["lang"], strict=True))
    bias = rng.normal(0, 4, (len(graders), len(DIMENSIONS)))
    gradings = 0
    for sid in chosen:
        mine = auto[auto["session_id"] == sid].set_index("dimension")["score"]
        true = {key: float(np.clip(mine[key] + rng.normal(0, 11), 0, 100)) for key in mine.index}
        for g, grader in enumerate(graders):
            scores = {key: float(snap(np.clip(true[key] + bias[g, DIMENSIONS.index(key)] + rng.normal(0, 6), 0, 100),
                                      step)) for key in true}
            comments = {}
            if scores and rng.random() < 0.4:
                key = min(scores, key=scores.get)
                comments[key] = DEMO_COMMENTS[langs[sid]][int(rng.integers(0, 3))]
            store.submit_grade(sid, grader, scores, comments, step=step, set_id=record.id, demo=True, at=now)
            gradings += 1
    corrections = 0
    for sid in chosen:
        for turn in repo.get_turns(sid):
            if turn.speaker != "trainee" or rng.random() > 0.35:
                continue
            tags = list((turn.analysis or {}).get("tags") or [])
            target = (turn.analysis or {}).get("referral_target")
            if rng.random() < 0.5:  # half the reviewed turns: the trainer fixes one tag; else confirms
                flip = TAG_NAMES[int(rng.integers(0, len(TAG_NAMES)))]
                tags = [t for t in tags if t != flip] if flip in tags else [*tags, flip]
            if "referral" in tags:
                target = target or "other"
            else:
                target = None
            store.add_correction(turn.id, graders[0], tags, target, demo=True)
            corrections += 1
    return name, gradings, corrections

