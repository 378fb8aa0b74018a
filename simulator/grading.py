"""Grading and calibration, the service (issue 15): who may grade, correct tags, build sets and
see whose grades, and the agreement report from the stored data. Never imports streamlit; the
pages and the CLI call it, and every role check happens here, on the server.

Rules:

* trainers, HR and admins grade ended sessions (not their own practice) and correct the tags of
  any trainee turn in them; trainees do neither;
* a grader with a session still to grade in a calibration set assigned to them grades it
  *blind*: they do not see its automatic score or anyone else's grades until they submit;
* the trainee sees the grades and comments on their own sessions; nobody else's;
* trainers and admins build calibration sets;
* grades, corrections and new sets go to the audit log in the same transaction (see
  :mod:`simulator.store.calibration`); the automatic scores are never changed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from simulator import calibration
from simulator.rubric import DIMENSIONS, Rubric, load_rubric
from simulator.scenario import ScenarioLibrary
from simulator.store.calibration import CalibrationStore, CorrectionRecord, GradeRecord, SetRecord
from simulator.store.repository import NotFoundError, Repository, SessionRecord, UserRecord

STAFF = ("trainer", "hr", "admin")
SET_BUILDERS = ("trainer", "admin")


class NotAllowed(PermissionError):
    """The user's role (or relation to the session) does not allow this."""


class GradingService:
    def __init__(self, repo: Repository, rubric: Rubric | None = None, library: ScenarioLibrary | None = None) -> None:
        self.repo = repo
        self.store = CalibrationStore(repo)
        self.rubric = rubric or load_rubric()
        self.step = self.rubric.grade_step
        self._library = library

    @property
    def library(self) -> ScenarioLibrary:
        if self._library is None:
            self._library = ScenarioLibrary()
        return self._library

    # ------------------------------------------------------------------ who may do what
    def _session(self, session_id: str) -> SessionRecord:
        record = self.repo.get_session(session_id)
        if record is None:
            raise NotFoundError(f"session not found: {session_id!r}")
        return record

    def can_grade(self, actor: UserRecord, session: SessionRecord) -> bool:
        return actor.role in STAFF and session.user_id != actor.id and session.status == "ended"

    def is_blind(self, actor: UserRecord, session_id: str) -> bool:
        """True while ``actor`` still has to grade this session in a set assigned to them."""
        return actor.role in STAFF and session_id in self.store.pending_sessions(actor.id)

    def pending(self, actor: UserRecord) -> set[str]:
        return self.store.pending_sessions(actor.id) if actor.role in STAFF else set()

    # ------------------------------------------------------------------ grading
    def grade(self, actor: UserRecord, session_id: str, scores: Mapping[str, float | None],
              comments: Mapping[str, str] | None = None) -> GradeRecord:
        """Store ``actor``'s grading of a session (scores 0-100 on the rubric's steps, None: does
        not apply) with optional comments per dimension; audited."""
        session = self._session(session_id)
        if not self.can_grade(actor, session):
            raise NotAllowed("grade: only trainers, HR and admins grade, and not their own or unfinished sessions")
        assigned = [s for s in self.store.sets_of_session(session_id) if actor.id in s.grader_ids]
        return self.store.submit_grade(session_id, actor.id, scores, comments, step=self.step,
                                       set_id=assigned[0].id if assigned else None)

    def correct_tags(self, actor: UserRecord, turn_id: int, tags: Sequence[str],
                     referral_target: str | None) -> CorrectionRecord:
        """Store ``actor``'s correction of a trainee turn's tags; audited."""
        session_id = self._turn_session(turn_id)
        session = self._session(session_id)
        if not self.can_grade(actor, session):
            raise NotAllowed("correct tags: only trainers, HR and admins, and not on their own or unfinished sessions")
        return self.store.add_correction(turn_id, actor.id, tags, referral_target)

    def _turn_session(self, turn_id: int) -> str:
        from sqlalchemy import select

        from simulator.store.models import Turn

        with self.repo.engine.connect() as conn:
            session_id = conn.scalar(select(Turn.session_id).where(Turn.id == turn_id))
        if session_id is None:
            raise NotFoundError(f"turn not found: {turn_id!r}")
        return session_id

    def visible_grades(self, actor: UserRecord, session_id: str) -> list[GradeRecord]:
        """The current gradings of a session that ``actor`` may see (with their comments)."""
        session = self._session(session_id)
        if actor.role in STAFF:
            if self.is_blind(actor, session_id):
                return []
        elif session.user_id != actor.id:
            raise NotAllowed("grades: a trainee sees only the grades of their own sessions")
        return self.store.grades(session_ids=[session_id])

    def my_grade(self, actor: UserRecord, session_id: str) -> GradeRecord | None:
        mine = self.store.grades(session_ids=[session_id], grader_id=actor.id)
        return mine[-1] if mine else None

    def corrections(self, actor: UserRecord, session_id: str) -> dict[int, CorrectionRecord]:
        """turn id -> the current correction, for staff (trainees see the analyser's tags only)."""
        if actor.role not in STAFF:
            return {}
        return {c.turn_id: c for c in self.store.corrections(session_ids=[session_id])}

    # ------------------------------------------------------------------ calibration sets
    def create_set(self, actor: UserRecord, name: str, session_ids: Sequence[str], grader_ids: Sequence[int],
                   filters: Mapping[str, Any] | None = None) -> SetRecord:
        if actor.role not in SET_BUILDERS:
            raise NotAllowed("calibration sets: only trainers and admins build them")
        return self.store.create_set(name, session_ids, grader_ids, created_by=actor.id, filters=filters)

    def set_progress(self, record: SetRecord) -> dict[int, int]:
        """grader id -> how many of the set's sessions they have graded."""
        grades = self.store.grades(session_ids=list(record.session_ids))
        done = {g: 0 for g in record.grader_ids}
        for grade in grades:
            if grade.grader_id in done:
                done[grade.grader_id] += 1
        return done

    # ------------------------------------------------------------------ the report
    def report(self, set_name: str | None = None, *, viewer: UserRecord | None = None,
               resamples: int = calibration.RESAMPLES, seed: int = calibration.SEED) -> dict[str, Any]:
        """The agreement report (see :func:`simulator.calibration.agreement_report`): over one
        calibration set's sessions and graders, or over every graded session. With a ``viewer``,
        sessions they still have to grade blind are left out of the disagreement list."""
        demo = False
        if set_name is not None:
            record = self.store.get_set_by_name(set_name)
            if record is None:
                raise NotFoundError(f"calibration set not found: {set_name!r}")
            grades = [g for g in self.store.grades(session_ids=list(record.session_ids))
                      if g.grader_id in record.grader_ids]
            corrected = self.store.corrected_turns(include_demo=True)
            corrected = corrected[corrected["session_id"].isin(record.session_ids)]
            demo = record.demo
        else:
            grades = self.store.grades()
            corrected = self.store.corrected_turns(include_demo=True)
        session_ids = sorted({g.session_id for g in grades})
        demo = demo or any(g.demo for g in grades)
        facts = self.store.session_facts(session_ids)
        auto = self.store.auto_scores(session_ids)
        report = calibration.agreement_report(auto=auto, grades=grades, facts=facts, corrected=corrected,
                                              dimensions=DIMENSIONS, step=self.step, set_name=set_name, demo=demo,
                                              resamples=resamples, seed=seed)
        if viewer is not None:
            hidden = self.pending(viewer)
            report["disagreements"] = [d for d in report["disagreements"] if d["session_id"] not in hidden]
        return report

    # ------------------------------------------------------------------ export
    def label_records(self, *, include_demo: bool = False) -> list[dict[str, Any]]:
        """Every corrected trainee turn as a corpus record (docs/labelling.md)."""
        turns = self.store.corrected_turns(include_demo=include_demo)
        # one slug per scenario, from its English file where there is one, so both languages agree
        sectors: dict[tuple[str, str], str] = {}
        for scenario in sorted(self.library.all(), key=lambda s: s.lang != "en"):
            sectors.setdefault((scenario.id, ""), calibration.sector_slug(scenario.sector))
        return calibration.label_records(turns, sectors)
