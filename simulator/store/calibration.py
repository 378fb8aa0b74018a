"""Storage for calibration (issue 15): human grades, blind calibration sets and tag corrections.

:class:`CalibrationStore` takes the :class:`~simulator.store.repository.Repository` (or an
Engine) and returns frozen pydantic records or pandas frames. It stores and reads; who may do
what (and the audit log) is decided in :mod:`simulator.grading`.

* A grading is a *submission* (who, when, which set) with one row per rubric dimension (score on
  the rubric's steps, NULL where the grader says it does not apply, an optional comment). A new
  grading never replaces an old one: the latest submission per (session, grader) is current.
* A tag correction is stored per trainee turn; the latest one per turn counts.
* The automatic scores (``scores``) are only read here, never written.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from simulator.analysis_types import TAG_ORDER
from simulator.rubric import DIMENSIONS
from simulator.store.db import read_session
from simulator.store.models import (
    AuditEvent,
    NAME_MAX,
    REFERRAL_TARGETS,
    CalibrationSet,
    CalibrationSetGrader,
    CalibrationSetSession,
    GradeScore,
    GradeSubmission,
    PracticeSession,
    Score,
    TagCorrection,
    Turn,
    User,
    utcnow,
)
from simulator.store.repository import ConflictError, NotFoundError, Repository, _aware

TAG_NAMES: tuple[str, ...] = tuple(tag.value for tag in TAG_ORDER)
COMMENT_MAX = 2000
#: Audit actions, written in the same transaction as the change they record.
GRADE_SESSION = "grade_session"
CORRECT_TAGS = "correct_tags"
CREATE_SET = "create_calibration_set"


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True)


class SetRecord(_Record):
    id: int
    name: str
    created_by: int | None
    filters: dict[str, Any] | None
    demo: bool
    created_at: datetime
    session_ids: tuple[str, ...] = ()
    grader_ids: tuple[int, ...] = ()


class GradeRecord(_Record):
    """A grader's grading of a session: scores per dimension (None: does not apply) and comments."""

    id: int
    session_id: str
    grader_id: int
    grader: str
    set_id: int | None
    demo: bool
    submitted_at: datetime
    scores: dict[str, float | None]
    comments: dict[str, str]


class CorrectionRecord(_Record):
    id: int
    turn_id: int
    session_id: str
    corrector_id: int | None
    corrector: str | None
    tags: tuple[str, ...]
    referral_target: str | None
    demo: bool
    created_at: datetime


def check_grades(scores: Mapping[str, Any], step: int) -> dict[str, float | None]:
    """Validate human scores: known dimensions, None or a number 0-100 on the rubric's ``step``."""
    out: dict[str, float | None] = {}
    for key, value in scores.items():
        if key not in DIMENSIONS:
            raise ValueError(f"dimension: unknown {key!r}; expected one of {', '.join(DIMENSIONS)}")
        if value is None:
            out[key] = None
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"score: {key}: expected a number or None, got {value!r}")
        if not 0 <= value <= 100 or round(value) % step or value != round(value):
            raise ValueError(f"score: {key}: must be 0-100 in steps of {step}, got {value!r}")
        out[key] = float(value)
    if not out:
        raise ValueError("score: grade at least one dimension")
    return out


def check_tags(tags: Iterable[str], referral_target: str | None) -> tuple[list[str], str | None]:
    """Corrected tags in the vocabulary's order; ``referral_target`` set exactly when ``referral`` is a tag."""
    tags = list(dict.fromkeys(tags))
    unknown = [tag for tag in tags if tag not in TAG_NAMES]
    if unknown:
        raise ValueError(f"tags: unknown {', '.join(map(repr, unknown))}; expected some of {', '.join(TAG_NAMES)}")
    if referral_target is not None and referral_target not in REFERRAL_TARGETS:
        raise ValueError(f"referral_target: unknown {referral_target!r}; expected one of {', '.join(REFERRAL_TARGETS)} or null")
    if ("referral" in tags) != (referral_target is not None):
        raise ValueError("referral_target: give one exactly when the turn is tagged referral")
    return [tag for tag in TAG_NAMES if tag in tags], referral_target


class CalibrationStore:
    """Grades, calibration sets and corrections on one database."""

    def __init__(self, repo_or_engine: Repository | Engine) -> None:
        self.engine: Engine = repo_or_engine.engine if isinstance(repo_or_engine, Repository) else repo_or_engine

    # ------------------------------------------------------------------ sets
    def create_set(self, name: str, session_ids: Sequence[str], grader_ids: Sequence[int], *,
                   created_by: int | None = None, filters: Mapping[str, Any] | None = None,
                   demo: bool = False) -> SetRecord:
        if not isinstance(name, str) or name != name.strip() or not 1 <= len(name) <= NAME_MAX:
            raise ValueError(f"name: must be 1-{NAME_MAX} characters without surrounding spaces, got {name!r}")
        sessions = list(dict.fromkeys(session_ids))
        graders = sorted({int(g) for g in grader_ids})
        if not sessions:
            raise ValueError("sessions: pick at least one session")
        if not graders:
            raise ValueError("graders: assign at least one grader")
        try:
            with self.engine.begin() as conn:
                if conn.scalar(select(CalibrationSet.id).where(CalibrationSet.name == name)) is not None:
                    raise ConflictError(f"name: already taken: {name!r}")
                known = set(conn.scalars(select(PracticeSession.id).where(PracticeSession.id.in_(sessions))))
                if missing := [s for s in sessions if s not in known]:
                    raise NotFoundError(f"session not found: {missing[0]!r}")
                staff = set(conn.scalars(select(User.id).where(User.id.in_(graders),
                                                               User.role.in_(("trainer", "hr", "admin")))))
                if missing := [g for g in graders if g not in staff]:
                    raise ValueError(f"graders: user {missing[0]!r} is not a trainer, HR or admin")
                set_id = conn.execute(insert(CalibrationSet).values(
                    name=name, created_by=created_by, filters_json=dict(filters) if filters else None, demo=demo,
                    created_at=utcnow()).returning(CalibrationSet.id)).scalar_one()
                conn.execute(insert(CalibrationSetSession), [{"set_id": set_id, "session_id": s} for s in sessions])
                conn.execute(insert(CalibrationSetGrader), [{"set_id": set_id, "user_id": g} for g in graders])
                conn.execute(insert(AuditEvent).values(
                    at=utcnow(), actor_id=created_by, action=CREATE_SET, target=f"calibration_set:{set_id}",
                    detail_json={"name": name, "sessions": len(sessions), "graders": graders, "demo": demo}))
        except IntegrityError:
            raise ConflictError(f"name: already taken: {name!r}") from None
        return self.get_set(set_id)

    def list_sets(self) -> list[SetRecord]:
        """All sets, newest first, with their sessions and graders."""
        with read_session(self.engine) as conn:
            rows = conn.scalars(select(CalibrationSet).order_by(CalibrationSet.created_at.desc(),
                                                                CalibrationSet.id.desc())).all()
            members: dict[int, list[str]] = {}
            for set_id, session_id in conn.execute(select(CalibrationSetSession.set_id,
                                                          CalibrationSetSession.session_id)):
                members.setdefault(set_id, []).append(session_id)
            graders: dict[int, list[int]] = {}
            for set_id, user_id in conn.execute(select(CalibrationSetGrader.set_id, CalibrationSetGrader.user_id)):
                graders.setdefault(set_id, []).append(user_id)
        return [
            SetRecord(id=r.id, name=r.name, created_by=r.created_by, filters=r.filters_json, demo=r.demo,
                      created_at=_aware(r.created_at), session_ids=tuple(sorted(members.get(r.id, []))),
                      grader_ids=tuple(sorted(graders.get(r.id, []))))
            for r in rows
        ]

    def get_set(self, set_id: int) -> SetRecord:
        for record in self.list_sets():
            if record.id == set_id:
                return record
        raise NotFoundError(f"calibration set not found: {set_id!r}")

    def get_set_by_name(self, name: str) -> SetRecord | None:
        return next((record for record in self.list_sets() if record.name == name), None)

    def sets_of_session(self, session_id: str) -> list[SetRecord]:
        return [record for record in self.list_sets() if session_id in record.session_ids]

    # ------------------------------------------------------------------ grades
    def submit_grade(self, session_id: str, grader_id: int, scores: Mapping[str, float | None],
                     comments: Mapping[str, str] | None = None, *, step: int = 10, set_id: int | None = None,
                     demo: bool = False, at: datetime | None = None) -> GradeRecord:
        """Store a new grading (scores checked with :func:`check_grades`); never replaces one."""
        checked = check_grades(scores, step)
        notes = {}
        for key, text in (comments or {}).items():
            if key not in checked:
                raise ValueError(f"comment: {key}: comments go with a graded dimension")
            if not isinstance(text, str):
                raise ValueError(f"comment: {key}: expected a string")
            if len(text) > COMMENT_MAX:
                raise ValueError(f"comment: {key}: at most {COMMENT_MAX} characters")
            if text.strip():
                notes[key] = text.strip()
        with self.engine.begin() as conn:
            if conn.scalar(select(PracticeSession.id).where(PracticeSession.id == session_id)) is None:
                raise NotFoundError(f"session not found: {session_id!r}")
            sub_id = conn.execute(insert(GradeSubmission).values(
                session_id=session_id, grader_id=grader_id, set_id=set_id, demo=demo,
                submitted_at=at or utcnow()).returning(GradeSubmission.id)).scalar_one()
            conn.execute(insert(GradeScore), [
                {"submission_id": sub_id, "dimension": key, "score": value, "comment": notes.get(key)}
                for key, value in checked.items()
            ])
            conn.execute(insert(AuditEvent).values(
                at=utcnow(), actor_id=grader_id, action=GRADE_SESSION, target=f"session:{session_id}"[:128],
                detail_json={"submission": sub_id, "set": set_id, "scores": checked, "comments": sorted(notes),
                             "demo": demo}))
        return next(g for g in self.grades(session_ids=[session_id], latest=False) if g.id == sub_id)

    def grades(self, *, session_ids: Sequence[str] | None = None, grader_id: int | None = None,
               latest: bool = True) -> list[GradeRecord]:
        """Gradings (the latest per session and grader unless ``latest`` is False), oldest first."""
        query = (select(GradeSubmission, User.name).join(User, User.id == GradeSubmission.grader_id)
                 .order_by(GradeSubmission.submitted_at, GradeSubmission.id))
        if session_ids is not None:
            query = query.where(GradeSubmission.session_id.in_(list(session_ids)))
        if grader_id is not None:
            query = query.where(GradeSubmission.grader_id == grader_id)
        with read_session(self.engine) as conn:
            subs = conn.execute(query).all()
            ids = [sub.id for sub, _ in subs]
            scores: dict[int, list[tuple[str, float | None, str | None]]] = {}
            for chunk in range(0, len(ids), 500):
                part = ids[chunk:chunk + 500]
                for sub_id, dim, score, comment in conn.execute(
                        select(GradeScore.submission_id, GradeScore.dimension, GradeScore.score, GradeScore.comment)
                        .where(GradeScore.submission_id.in_(part))):
                    scores.setdefault(sub_id, []).append((dim, score, comment))
        records = []
        for sub, name in subs:
            rows = scores.get(sub.id, [])
            records.append(GradeRecord(
                id=sub.id, session_id=sub.session_id, grader_id=sub.grader_id, grader=name, set_id=sub.set_id,
                demo=sub.demo, submitted_at=_aware(sub.submitted_at),
                scores={d: s for d, s, _ in sorted(rows, key=lambda r: DIMENSIONS.index(r[0]) if r[0] in DIMENSIONS else 99)},
                comments={d: c for d, _, c in rows if c},
            ))
        if latest:
            last: dict[tuple[str, int], GradeRecord] = {}
            for record in records:
                last[(record.session_id, record.grader_id)] = record
            records = sorted(last.values(), key=lambda r: (r.submitted_at, r.id))
        return records

    def version(self) -> tuple[int, int, int, int]:
        """(gradings, latest grading id, corrections, latest correction id): changes with every
        new grade or correction; the dashboard keys its cache on it."""
        with self.engine.connect() as conn:
            subs = conn.execute(select(func.count(), func.max(GradeSubmission.id))).one()
            fixes = conn.execute(select(func.count(), func.max(TagCorrection.id))).one()
        return int(subs[0] or 0), int(subs[1] or 0), int(fixes[0] or 0), int(fixes[1] or 0)

    def has_submitted(self, session_id: str, grader_id: int) -> bool:
        query = select(func.count()).where(GradeSubmission.session_id == session_id,
                                           GradeSubmission.grader_id == grader_id)
        with self.engine.connect() as conn:
            return bool(conn.scalar(query))

    def pending_sessions(self, grader_id: int) -> set[str]:
        """Sessions in sets assigned to ``grader_id`` that they have not graded yet (blind)."""
        assigned = (select(CalibrationSetSession.session_id)
                    .join(CalibrationSetGrader, CalibrationSetGrader.set_id == CalibrationSetSession.set_id)
                    .where(CalibrationSetGrader.user_id == grader_id))
        graded = select(GradeSubmission.session_id).where(GradeSubmission.grader_id == grader_id)
        with self.engine.connect() as conn:
            return set(conn.scalars(assigned.where(CalibrationSetSession.session_id.not_in(graded))))

    # ------------------------------------------------------------------ corrections
    def add_correction(self, turn_id: int, corrector_id: int | None, tags: Iterable[str],
                       referral_target: str | None, *, demo: bool = False) -> CorrectionRecord:
        tags, referral_target = check_tags(tags, referral_target)
        with self.engine.begin() as conn:
            turn = conn.execute(select(Turn.session_id, Turn.speaker).where(Turn.id == turn_id)).first()
            if turn is None:
                raise NotFoundError(f"turn not found: {turn_id!r}")
            if turn.speaker != "trainee":
                raise ValueError("turn: only trainee turns carry tags")
            cid = conn.execute(insert(TagCorrection).values(
                turn_id=turn_id, session_id=turn.session_id, corrector_id=corrector_id, tags_json=tags,
                referral_target=referral_target, demo=demo, created_at=utcnow()).returning(TagCorrection.id)).scalar_one()
            conn.execute(insert(AuditEvent).values(
                at=utcnow(), actor_id=corrector_id, action=CORRECT_TAGS, target=f"turn:{turn_id}",
                detail_json={"session": turn.session_id, "tags": tags, "referral_target": referral_target,
                             "correction": cid, "demo": demo}))
        return next(c for c in self.corrections(latest=False, turn_ids=[turn_id]) if c.id == cid)

    def corrections(self, *, session_ids: Sequence[str] | None = None, turn_ids: Sequence[int] | None = None,
                    include_demo: bool = True, latest: bool = True) -> list[CorrectionRecord]:
        """Tag corrections (the latest per turn unless ``latest`` is False), oldest first."""
        query = (select(TagCorrection, User.name).outerjoin(User, User.id == TagCorrection.corrector_id)
                 .order_by(TagCorrection.created_at, TagCorrection.id))
        if session_ids is not None:
            query = query.where(TagCorrection.session_id.in_(list(session_ids)))
        if turn_ids is not None:
            query = query.where(TagCorrection.turn_id.in_(list(turn_ids)))
        if not include_demo:
            query = query.where(TagCorrection.demo.is_(False))
        with read_session(self.engine) as conn:
            rows = conn.execute(query).all()
        records = [CorrectionRecord(id=c.id, turn_id=c.turn_id, session_id=c.session_id, corrector_id=c.corrector_id,
                                    corrector=name, tags=tuple(c.tags_json or ()), referral_target=c.referral_target,
                                    demo=c.demo, created_at=_aware(c.created_at)) for c, name in rows]
        if latest:
            last = {record.turn_id: record for record in records}
            records = sorted(last.values(), key=lambda r: (r.created_at, r.id))
        return records

    def corrected_turns(self, *, include_demo: bool = False) -> pd.DataFrame:
        """One row per corrected trainee turn, with what the export and the tag agreement need.

        Columns: ``turn_id``, ``session_id``, ``lang``, ``scenario_id``, ``trainee`` (the text),
        ``customer`` (the customer's message just before it, "" if none), ``auto_tags`` (the
        analyser's), ``auto_referral_target``, ``tags``, ``referral_target`` (the correction),
        ``demo``."""
        records = self.corrections(include_demo=include_demo)
        columns = ["turn_id", "session_id", "lang", "scenario_id", "trainee", "customer", "auto_tags",
                   "auto_referral_target", "tags", "referral_target", "demo"]
        if not records:
            return pd.DataFrame(columns=columns)
        by_turn = {r.turn_id: r for r in records}
        session_ids = sorted({r.session_id for r in records})
        with self.engine.connect() as conn:
            sessions = {sid: (lang, scen) for sid, lang, scen in conn.execute(
                select(PracticeSession.id, PracticeSession.lang, PracticeSession.scenario_id)
                .where(PracticeSession.id.in_(session_ids)))}
            turns = conn.execute(select(Turn.id, Turn.session_id, Turn.idx, Turn.speaker, Turn.text, Turn.analysis_json)
                                 .where(Turn.session_id.in_(session_ids)).order_by(Turn.session_id, Turn.idx)).all()
        rows = []
        last_customer: dict[str, str] = {}
        for tid, sid, _idx, speaker, text, analysis in turns:
            if speaker == "customer":
                last_customer[sid] = text
                continue
            if tid not in by_turn:
                continue
            fix = by_turn[tid]
            lang, scenario_id = sessions[sid]
            auto = analysis or {}
            rows.append({"turn_id": tid, "session_id": sid, "lang": lang, "scenario_id": scenario_id, "trainee": text,
                         "customer": last_customer.get(sid, ""), "auto_tags": list(auto.get("tags") or []),
                         "auto_referral_target": auto.get("referral_target"), "tags": list(fix.tags),
                         "referral_target": fix.referral_target, "demo": fix.demo})
        return pd.DataFrame(rows, columns=columns).sort_values("turn_id", ignore_index=True)

    # ------------------------------------------------------------------ reads for the agreement report
    def candidate_sessions(self) -> pd.DataFrame:
        """Ended, scored, non-branch sessions with a trainee: ``session_id``, ``user_id``,
        ``scenario_id``, ``lang``, ``overall``, ``ended_at``, ``demo``."""
        query = (select(PracticeSession.id, PracticeSession.user_id, PracticeSession.scenario_id, PracticeSession.lang,
                        PracticeSession.overall, PracticeSession.ended_at, PracticeSession.state_json)
                 .where(PracticeSession.status == "ended", PracticeSession.overall.is_not(None),
                        PracticeSession.parent_id.is_(None), PracticeSession.user_id.is_not(None)))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        frame = pd.DataFrame(
            [(i, u, s, l, o, e, bool((st or {}).get("demo")) if isinstance(st, dict) else False)
             for i, u, s, l, o, e, st in rows],
            columns=["session_id", "user_id", "scenario_id", "lang", "overall", "ended_at", "demo"])
        frame["overall"] = frame["overall"].astype(float)
        return frame

    def auto_scores(self, session_ids: Sequence[str]) -> pd.DataFrame:
        """The automatic scores of these sessions, long: ``session_id``, ``dimension``, ``score``
        (only dimensions that apply)."""
        ids = list(dict.fromkeys(session_ids))
        rows: list[tuple] = []
        with self.engine.connect() as conn:
            for chunk in range(0, len(ids), 500):
                rows += conn.execute(select(Score.session_id, Score.dimension, Score.score).where(
                    Score.session_id.in_(ids[chunk:chunk + 500]), Score.applies.is_(True))).all()
        return pd.DataFrame(rows, columns=["session_id", "dimension", "score"])

    def session_facts(self, session_ids: Sequence[str]) -> pd.DataFrame:
        """``session_id``, ``lang``, ``scenario_id``, ``overall``, ``user_id`` of these sessions."""
        ids = list(dict.fromkeys(session_ids))
        rows: list[tuple] = []
        with self.engine.connect() as conn:
            for chunk in range(0, len(ids), 500):
                rows += conn.execute(select(PracticeSession.id, PracticeSession.lang, PracticeSession.scenario_id,
                                            PracticeSession.overall, PracticeSession.user_id)
                                     .where(PracticeSession.id.in_(ids[chunk:chunk + 500]))).all()
        return pd.DataFrame(rows, columns=["session_id", "lang", "scenario_id", "overall", "user_id"])


__all__ = ["CalibrationStore", "CorrectionRecord", "GradeRecord", "SetRecord", "TAG_NAMES", "check_grades",
           "check_tags"]
