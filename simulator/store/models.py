"""SQLAlchemy 2 declarative models: users, sessions, turns, scores.

These classes stay inside ``simulator.store``: the :class:`~simulator.store.repository.Repository`
returns plain records, never live ORM objects. Schema changes go through a new Alembic revision
in ``simulator/store/migrations/versions/`` (``tests/test_store.py`` checks that the models and
the migrated schema agree).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Double,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Role(StrEnum):
    trainee = "trainee"
    trainer = "trainer"
    hr = "hr"
    admin = "admin"


ROLES: tuple[str, ...] = tuple(r.value for r in Role)
UI_LANGS: tuple[str, ...] = ("en", "id")
SESSION_LANGS: tuple[str, ...] = ("id", "en")
SPEAKERS: tuple[str, ...] = ("customer", "trainee")
ENGINES: tuple[str, ...] = ("scripted", "llm")
STATUSES: tuple[str, ...] = ("active", "ended")
OUTCOMES: tuple[str, ...] = ("resolved", "referred", "walked_away", "escalated", "turn_limit", "abandoned")

NAME_MAX = 64
EMAIL_MAX = 254

#: JSON on SQLite (text), JSONB on PostgreSQL. ``none_as_null``: Python None is SQL NULL.
JSONType = JSON(none_as_null=True).with_variant(JSONB(none_as_null=True), "postgresql")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(_in("role", ROLES), name="role"),
        CheckConstraint(_in("ui_lang", UI_LANGS), name="ui_lang"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(255))  # NULL: OIDC-only user
    email: Mapped[str | None] = mapped_column(String(EMAIL_MAX), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    ui_lang: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PracticeSession(Base):
    """One practice conversation (table ``sessions``; not to be confused with an ORM Session)."""

    __tablename__ = "sessions"
    __table_args__ = (
        CheckConstraint(_in("engine", ENGINES), name="engine"),
        CheckConstraint(_in("status", STATUSES), name="status"),
        Index("ix_sessions_user_id_started_at", "user_id", "started_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # secrets.token_urlsafe(16)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    scenario_id: Mapped[str] = mapped_column(String(128), index=True)
    lang: Mapped[str] = mapped_column(String(8))
    scenario_version: Mapped[int | None]
    engine: Mapped[str] = mapped_column(String(16))
    seed: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    outcome: Mapped[str | None] = mapped_column(String(32))
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("sessions.id"), index=True)
    branch_turn: Mapped[int | None]
    state_json: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    overall: Mapped[float | None] = mapped_column(Double)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Turn(Base):
    __tablename__ = "turns"
    __table_args__ = (
        UniqueConstraint("session_id", "idx"),
        CheckConstraint(_in("speaker", SPEAKERS), name="speaker"),
        CheckConstraint("idx >= 0", name="idx_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    idx: Mapped[int]
    speaker: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    analysis_json: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    mood_json: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    notice: Mapped[str | None] = mapped_column(Text)
    #: Per-turn metadata, e.g. of the model call that voiced a customer turn (model, tokens
    #: in/out, latency, fallback) or an injection flag on a trainee turn. Revision 0002.
    meta_json: Mapped[dict[str, Any] | None] = mapped_column("meta", JSONType)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Score(Base):
    __tablename__ = "scores"
    __table_args__ = (UniqueConstraint("session_id", "dimension"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    dimension: Mapped[str] = mapped_column(String(64))
    score: Mapped[float] = mapped_column(Double)
    applies: Mapped[bool] = mapped_column(default=True)
    evidence_json: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    feedback: Mapped[str] = mapped_column(Text, default="")
    better: Mapped[str] = mapped_column(Text, default="")
    #: The LLM judge and the rules disagreed by more than the rubric's margin (revision 0002).
    needs_review: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: How the score came about, e.g. {"rules": 40, "judge": 85, "judge_quotes": [...]} (0002).
    detail_json: Mapped[dict[str, Any] | None] = mapped_column("detail", JSONType)


# --------------------------------------------------------------------------- revision 0003
GROUP_KINDS: tuple[str, ...] = ("team", "cohort")


class Group(Base):
    """A team or cohort of users (with a start date), for the dashboards and assignments."""

    __tablename__ = "groups"
    __table_args__ = (CheckConstraint(_in("kind", GROUP_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="team")
    start_date: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class GroupMember(Base):
    __tablename__ = "group_members"

    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)


class AuditEvent(Base):
    """Who looked at or changed what, e.g. HR opening a transcript; visible to admins."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(128))
    detail_json: Mapped[dict[str, Any] | None] = mapped_column("detail", JSONType)


class ScenarioVersion(Base):
    """A scenario authored in the browser: every save is a new version; built-in files are not here."""

    __tablename__ = "scenario_versions"
    __table_args__ = (UniqueConstraint("scenario_id", "lang", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scenario_id: Mapped[str] = mapped_column(String(128))
    lang: Mapped[str] = mapped_column(String(8))
    version: Mapped[int]
    yaml_text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Assignment(Base):
    """A scenario assigned to a trainee or a group, with an optional due date and pass mark."""

    __tablename__ = "assignments"
    __table_args__ = (
        CheckConstraint("(user_id IS NULL) <> (group_id IS NULL)", name="one_assignee"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scenario_id: Mapped[str] = mapped_column(String(128))
    lang: Mapped[str] = mapped_column(String(8))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"), index=True)
    due_date: Mapped[date | None] = mapped_column(Date)
    pass_mark: Mapped[float | None] = mapped_column(Double)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)



# --------------------------------------------------------------------------- revision 0110
class SessionSummary(Base):
    """Read model for analytics: one wide row per ended, scored session (revision
    0110_session_summary). The repository writes it in the same transaction as the scores and the
    end of the session; the dashboard and the exports read it without pivoting ``scores``."""

    __tablename__ = "session_summary"

    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(index=True)
    scenario_id: Mapped[str] = mapped_column(String(128))
    lang: Mapped[str] = mapped_column(String(8))
    outcome: Mapped[str | None] = mapped_column(String(32))
    overall: Mapped[float | None] = mapped_column(Double)
    branch: Mapped[bool] = mapped_column(default=False)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    listening: Mapped[float | None] = mapped_column(Double)
    empathy: Mapped[float | None] = mapped_column(Double)
    apology: Mapped[float | None] = mapped_column(Double)
    non_defensive: Mapped[float | None] = mapped_column(Double)
    diagnosis: Mapped[float | None] = mapped_column(Double)
    referral: Mapped[float | None] = mapped_column(Double)
    commitment: Mapped[float | None] = mapped_column(Double)
    resolution: Mapped[float | None] = mapped_column(Double)
    composure: Mapped[float | None] = mapped_column(Double)


#: The per-dimension columns of :class:`SessionSummary` (the rubric's dimension keys).
SUMMARY_DIMENSIONS: tuple[str, ...] = ("listening", "empathy", "apology", "non_defensive", "diagnosis", "referral",
                                       "commitment", "resolution", "composure")
class SignIn(Base):
    """One browser's sign-in (the ``tenang_session`` cookie): kept so it can be revoked.

    Only hashes are stored: ``token_hash`` of the cookie's random token (set when the browser
    redeems the one-time ``handoff_hash`` code), so a database leak signs nobody in."""

    __tablename__ = "sign_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    handoff_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AppSecret(Base):
    """Generated secrets every replica shares (the cookie signing key when none is configured)."""

    __tablename__ = "app_secrets"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(255))
# --------------------------------------------------------------------------- revision 0100_calibration
#: Referral targets of a corrected turn (DESIGN.md "Analysis tags"; null: no referral).
REFERRAL_TARGETS: tuple[str, ...] = ("legal", "security", "other")


class CalibrationSet(Base):
    """A named set of sessions that several graders grade blind (issue 15)."""

    __tablename__ = "calibration_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX), unique=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: How the sessions were picked (scenario, language, score range, sample size), for the record.
    filters_json: Mapped[dict[str, Any] | None] = mapped_column("filters", JSONType)
    demo: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CalibrationSetSession(Base):
    __tablename__ = "calibration_set_sessions"

    set_id: Mapped[int] = mapped_column(ForeignKey("calibration_sets.id", ondelete="CASCADE"), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True,
                                            index=True)


class CalibrationSetGrader(Base):
    __tablename__ = "calibration_set_graders"

    set_id: Mapped[int] = mapped_column(ForeignKey("calibration_sets.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)


class GradeSubmission(Base):
    """One grader's grading of one session: who and when. Never replaced: a new grading is a
    new row, and the latest one per (session, grader) is the grader's current grade."""

    __tablename__ = "grade_submissions"
    __table_args__ = (Index("ix_grade_submissions_session_id_grader_id", "session_id", "grader_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    grader_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    set_id: Mapped[int | None] = mapped_column(ForeignKey("calibration_sets.id", ondelete="SET NULL"), index=True)
    demo: Mapped[bool] = mapped_column(default=False, server_default=false())
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class GradeScore(Base):
    """One rubric dimension of a submission: a score on the rubric's steps (NULL: does not apply)."""

    __tablename__ = "grade_scores"
    __table_args__ = (CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)", name="score_range"),)

    submission_id: Mapped[int] = mapped_column(ForeignKey("grade_submissions.id", ondelete="CASCADE"),
                                               primary_key=True)
    dimension: Mapped[str] = mapped_column(String(64), primary_key=True)
    score: Mapped[float | None] = mapped_column(Double)
    comment: Mapped[str | None] = mapped_column(Text)


class TagCorrection(Base):
    """A grader's correction of the analyser's tags on one trainee turn; the latest per turn counts."""

    __tablename__ = "tag_corrections"
    __table_args__ = (
        CheckConstraint(f"referral_target IS NULL OR {_in('referral_target', REFERRAL_TARGETS)}",
                        name="referral_target"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    turn_id: Mapped[int] = mapped_column(ForeignKey("turns.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    corrector_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    tags_json: Mapped[list[str]] = mapped_column("tags", JSONType, default=list)
    referral_target: Mapped[str | None] = mapped_column(String(16))
    demo: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
