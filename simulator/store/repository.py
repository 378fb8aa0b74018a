"""The repository: the only way the rest of Tenang reads and writes the database.

Every public method opens its own short ORM session and commits before it returns, so each
turn is durable the moment ``append_turn`` returns. Methods return frozen pydantic records,
never live ORM objects. Inputs are validated here (ValueError naming the field and the value).

Errors: :class:`NotFoundError` (also a ``LookupError``) for an unknown user or session id,
:class:`ConflictError` (also a ``ValueError``) for a unique name/email or a non-empty branch.
"""

from __future__ import annotations

import json
import math
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Engine, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from simulator.store.db import read_session, write_session
from simulator.store.models import (
    EMAIL_MAX,
    ENGINES,
    NAME_MAX,
    OUTCOMES,
    ROLES,
    SESSION_LANGS,
    SPEAKERS,
    STATUSES,
    SUMMARY_DIMENSIONS,
    UI_LANGS,
    PracticeSession,
    SignIn,
    Score,
    SessionSummary,
    Turn,
    User,
    utcnow,
)

_APPEND_ATTEMPTS = 8


class StoreError(Exception):
    """Base class of repository errors."""


class NotFoundError(StoreError, LookupError):
    pass


class ConflictError(StoreError, ValueError):
    pass


# --------------------------------------------------------------------------- records


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True)


class UserRecord(_Record):
    id: int
    name: str
    role: str
    email: str | None
    active: bool
    ui_lang: str
    has_password: bool  # the hash itself never leaves the repository except via get_password_hash
    created_at: datetime


class SessionRecord(_Record):
    id: str
    user_id: int | None
    scenario_id: str
    lang: str
    scenario_version: int | None
    engine: str
    seed: int
    status: str
    outcome: str | None
    parent_id: str | None
    branch_turn: int | None
    state: dict[str, Any]
    overall: float | None
    started_at: datetime
    ended_at: datetime | None


class TurnRecord(_Record):
    id: int
    session_id: str
    idx: int
    speaker: str
    text: str
    analysis: dict[str, Any] | None
    mood: dict[str, Any] | None
    notice: str | None
    created_at: datetime
    meta: dict[str, Any] | None = None  # e.g. the model call behind a customer turn (revision 0002)


class ScoreRow(_Record):
    """One rubric dimension's result, as passed to :meth:`Repository.save_scores`."""

    dimension: str = Field(min_length=1, max_length=64)
    score: float
    applies: bool = True
    evidence: list[Any] = Field(default_factory=list)
    feedback: str = ""
    better: str = ""
    needs_review: bool = False  # LLM judge and rules disagree by more than the rubric's margin
    detail: dict[str, Any] | None = None  # how the score came about (rules, judge, quotes)

    @field_validator("score")
    @classmethod
    def _score_range(cls, value: float) -> float:
        if not math.isfinite(value) or not 0 <= value <= 100:
            raise ValueError(f"score must be between 0 and 100, got {value!r}")
        return value


class ScoreRecord(ScoreRow):
    session_id: str


class SessionUsage(_Record):
    """Model usage of one session: the customer's calls (per turn) plus the judge's call."""

    session_id: str
    calls: int = 0  # model calls made (a call that failed after its retries counts once)
    fallbacks: int = 0  # customer turns answered by the scripted engine instead
    tokens_in: int = 0
    tokens_out: int = 0
    latency_ms: float = 0.0  # total time spent waiting for the model
    judge_calls: int = 0

    @property
    def mean_latency_ms(self) -> float:
        return self.latency_ms / self.calls if self.calls else 0.0


def _int_or_zero(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _ms(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) else 0.0


def usage_totals(session_id: str, metas: Iterable[Mapping[str, Any] | None], judge: Mapping[str, Any] | None = None) -> SessionUsage:
    """Per-session totals from the turns' ``meta`` (and the judge's call metadata, if any).

    A meta counts when it describes a model call: ``calls`` (default 1 when ``model`` is set),
    ``tokens_in``, ``tokens_out``, ``latency_ms``; ``fallback: true`` marks a scripted answer.
    Pure, so pages and tests can use it on turns they already have.
    """
    calls = fallbacks = tokens_in = tokens_out = judge_calls = 0
    latency = 0.0
    for meta in [*metas, judge]:
        if not isinstance(meta, Mapping) or "model" not in meta:
            continue
        n = meta.get("calls", 1)
        n = n if isinstance(n, int) and not isinstance(n, bool) and n >= 0 else 1
        calls += n
        if meta is judge:
            judge_calls += n
        fallbacks += 1 if meta.get("fallback") is True else 0
        tokens_in += _int_or_zero(meta.get("tokens_in"))
        tokens_out += _int_or_zero(meta.get("tokens_out"))
        latency += _ms(meta.get("latency_ms"))
    return SessionUsage(
        session_id=session_id,
        calls=calls,
        fallbacks=fallbacks,
        tokens_in=tokens_in,
        tokens_out=tokens_out,
        latency_ms=round(latency, 1),
        judge_calls=judge_calls,
    )


# --------------------------------------------------------------------------- helpers


def _new_turn(turn: Mapping[str, Any]) -> dict[str, Any]:
    """Validate one turn for :meth:`Repository.append_turns` into Turn column values."""
    speaker = _choice("speaker", turn.get("speaker"), SPEAKERS)
    text = turn.get("text")
    if not isinstance(text, str):
        raise ValueError(f"text: expected a string, got {type(text).__name__}")
    notice = turn.get("notice")
    if notice is not None and not isinstance(notice, str):
        raise ValueError(f"notice: expected a string or None, got {type(notice).__name__}")
    analysis, mood, meta = turn.get("analysis"), turn.get("mood"), turn.get("meta")
    return {
        "speaker": speaker,
        "text": text,
        "analysis_json": _json_object("analysis", analysis) if analysis is not None else None,
        "mood_json": _json_object("mood", mood) if mood is not None else None,
        "notice": notice,
        "meta_json": _json_object("meta", meta) if meta is not None else None,
    }


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything we store is UTC."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def _choice(field: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{field}: unknown value {value!r}; expected one of {', '.join(allowed)}")
    return value


def _json(field: str, value: Any) -> Any:
    """Accept dicts/lists (or pydantic models) and make sure they survive a JSON round trip."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as error:
        raise ValueError(f"{field}: not JSON-serialisable: {error}") from None


def _json_object(field: str, value: Any) -> dict[str, Any]:
    data = _json(field, value)
    if not isinstance(data, dict):
        raise ValueError(f"{field}: expected a JSON object, got {type(data).__name__}")
    return data


def _user_name(name: Any) -> str:
    if not isinstance(name, str):
        raise ValueError(f"name: expected a string, got {type(name).__name__}")
    if name != name.strip() or not 1 <= len(name) <= NAME_MAX:
        raise ValueError(f"name: must be 1-{NAME_MAX} characters without surrounding spaces, got {name!r}")
    return name


def normalize_email(email: str | None) -> str | None:
    """Lower-cased and stripped; None stays None. Raises ValueError for an implausible address."""
    if email is None:
        return None
    if not isinstance(email, str):
        raise ValueError(f"email: expected a string, got {type(email).__name__}")
    value = email.strip().lower()
    local, at, domain = value.partition("@")
    if not at or not local or not domain or "@" in domain or any(c.isspace() for c in value) or len(value) > EMAIL_MAX:
        raise ValueError(f"email: not a valid address: {email!r}")
    return value


def _int(field: str, value: Any, *, minimum: int | None = None, optional: bool = False) -> int | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{field}: expected an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{field}: must be >= {minimum}, got {value!r}")
    return value


def _to_user(row: User) -> UserRecord:
    return UserRecord(
        id=row.id,
        name=row.name,
        role=row.role,
        email=row.email,
        active=row.active,
        ui_lang=row.ui_lang,
        has_password=row.password_hash is not None,
        created_at=_aware(row.created_at),
    )


def _to_session(row: PracticeSession) -> SessionRecord:
    return SessionRecord(
        id=row.id,
        user_id=row.user_id,
        scenario_id=row.scenario_id,
        lang=row.lang,
        scenario_version=row.scenario_version,
        engine=row.engine,
        seed=row.seed,
        status=row.status,
        outcome=row.outcome,
        parent_id=row.parent_id,
        branch_turn=row.branch_turn,
        state=row.state_json or {},
        overall=row.overall,
        started_at=_aware(row.started_at),
        ended_at=_aware(row.ended_at),
    )


def _to_turn(row: Turn) -> TurnRecord:
    return TurnRecord(
        id=row.id,
        session_id=row.session_id,
        idx=row.idx,
        speaker=row.speaker,
        text=row.text,
        analysis=row.analysis_json,
        mood=row.mood_json,
        notice=row.notice,
        created_at=_aware(row.created_at),
        meta=row.meta_json,
    )


def _to_score(row: Score) -> ScoreRecord:
    return ScoreRecord(
        session_id=row.session_id,
        dimension=row.dimension,
        score=row.score,
        applies=row.applies,
        evidence=row.evidence_json or [],
        feedback=row.feedback,
        better=row.better,
        needs_review=row.needs_review,
        detail=row.detail_json,
    )


def _refresh_summary(session: Session, row: PracticeSession) -> None:
    """Rewrite the session's analytics summary row (revision 0110) in the caller's transaction:
    an ended session with scores gets one wide row (NULL where a dimension did not apply); any
    other session has none."""
    session.flush()
    session.execute(delete(SessionSummary).where(SessionSummary.session_id == row.id))
    if row.status != "ended":
        return
    scores = session.execute(select(Score.dimension, Score.score, Score.applies).where(Score.session_id == row.id)).all()
    if not scores:
        return
    dims: dict[str, float | None] = dict.fromkeys(SUMMARY_DIMENSIONS)
    for dimension, value, applies in scores:
        if applies and dimension in dims:
            dims[dimension] = value
    session.add(SessionSummary(session_id=row.id, user_id=row.user_id, scenario_id=row.scenario_id, lang=row.lang,
                               outcome=row.outcome, overall=row.overall, branch=row.parent_id is not None,
                               started_at=row.started_at, ended_at=row.ended_at, **dims))


def _is_lock_error(error: OperationalError) -> bool:
    return "locked" in str(error.orig).lower() or "busy" in str(error.orig).lower()


# --------------------------------------------------------------------------- repository


class Repository:
    """Typed access to users, sessions, turns and scores. Thread-safe (one short session per call)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def close(self) -> None:
        """Release the engine's pooled connections."""
        self.engine.dispose()

    # -- sessions plumbing

    def _read(self):
        return read_session(self.engine)

    def _write(self):
        """A write transaction, committed on success (see ``db.write_session``)."""
        return write_session(self.engine)

    @staticmethod
    def _user_row(session: Session, user_id: int) -> User:
        row = session.get(User, user_id)
        if row is None:
            raise NotFoundError(f"user not found: {user_id!r}")
        return row

    @staticmethod
    def _session_row(session: Session, session_id: str, *, lock: bool = False) -> PracticeSession:
        row = session.get(PracticeSession, session_id, with_for_update=lock or None)
        if row is None:
            raise NotFoundError(f"session not found: {session_id!r}")
        return row

    # -- users

    def add_user(
        self, name: str, role: str, password_hash: str | None, email: str | None = None, ui_lang: str = "en"
    ) -> UserRecord:
        name = _user_name(name)
        role = _choice("role", role, ROLES)
        ui_lang = _choice("ui_lang", ui_lang, UI_LANGS)
        email = normalize_email(email)
        if password_hash is not None and (not isinstance(password_hash, str) or not password_hash):
            raise ValueError("password_hash: expected a non-empty string or None")
        try:
            with self._write() as session:
                if session.scalar(select(User.id).where(User.name == name)) is not None:
                    raise ConflictError(f"name: already taken: {name!r}")
                if email is not None and session.scalar(select(User.id).where(User.email == email)) is not None:
                    raise ConflictError(f"email: already taken: {email!r}")
                row = User(name=name, role=role, password_hash=password_hash, email=email, active=True, ui_lang=ui_lang)
                session.add(row)
                session.flush()
                return _to_user(row)
        except IntegrityError:  # lost a race with a concurrent add_user (PostgreSQL)
            if self.get_user_by_name(name) is not None:
                raise ConflictError(f"name: already taken: {name!r}") from None
            if email is not None and self.get_user_by_email(email) is not None:
                raise ConflictError(f"email: already taken: {email!r}") from None
            raise

    def get_user(self, user_id: int) -> UserRecord | None:
        with self._read() as session:
            row = session.get(User, user_id)
            return _to_user(row) if row else None

    def get_user_by_name(self, name: str) -> UserRecord | None:
        with self._read() as session:
            row = session.scalar(select(User).where(User.name == name))
            return _to_user(row) if row else None

    def get_user_by_email(self, email: str) -> UserRecord | None:
        try:
            email = normalize_email(email)
        except ValueError:
            return None
        with self._read() as session:
            row = session.scalar(select(User).where(User.email == email))
            return _to_user(row) if row else None

    def list_users(self) -> list[UserRecord]:
        """All users, by name."""
        with self._read() as session:
            return [_to_user(row) for row in session.scalars(select(User).order_by(User.name))]

    def count_users(self) -> int:
        with self._read() as session:
            return session.scalar(select(func.count()).select_from(User)) or 0

    def set_user_active(self, user_id: int, active: bool) -> UserRecord:
        if not isinstance(active, bool):
            raise ValueError(f"active: expected a bool, got {active!r}")
        with self._write() as session:
            row = self._user_row(session, user_id)
            row.active = active
            if not active:  # a disabled user's browsers are signed out too
                session.execute(
                    update(SignIn)
                    .where(SignIn.user_id == user_id, SignIn.revoked_at.is_(None))
                    .values(revoked_at=utcnow())
                )
            return _to_user(row)

    def set_user_lang(self, user_id: int, lang: str) -> UserRecord:
        lang = _choice("ui_lang", lang, UI_LANGS)
        with self._write() as session:
            row = self._user_row(session, user_id)
            row.ui_lang = lang
            return _to_user(row)

    def set_user_role(self, user_id: int, role: str) -> UserRecord:
        role = _choice("role", role, ROLES)
        with self._write() as session:
            row = self._user_row(session, user_id)
            row.role = role
            return _to_user(row)

    def get_password_hash(self, user_id: int) -> str | None:
        """The stored hash (None: no password, e.g. an OIDC user). For simulator.auth only."""
        with self._read() as session:
            return session.scalar(select(User.password_hash).where(User.id == user_id))

    def set_password_hash(self, user_id: int, password_hash: str | None) -> None:
        if password_hash is not None and (not isinstance(password_hash, str) or not password_hash):
            raise ValueError("password_hash: expected a non-empty string or None")
        with self._write() as session:
            self._user_row(session, user_id).password_hash = password_hash

    # -- practice sessions

    def create_session(
        self,
        *,
        scenario_id: str,
        lang: str,
        engine: str,
        seed: int | None = None,
        state: Mapping[str, Any] | BaseModel | None = None,
        user_id: int | None = None,
        scenario_version: int | None = None,
        parent_id: str | None = None,
        branch_turn: int | None = None,
        first_turns: Sequence[Mapping[str, Any]] = (),
    ) -> SessionRecord:
        """A new active session with an unguessable id. ``seed`` None: a random seed is drawn
        and stored. A what-if branch gives ``parent_id`` and ``branch_turn``. ``first_turns``
        (e.g. the customer's opening line) are stored in the same transaction as the session."""
        turns = [_new_turn(turn) for turn in first_turns]
        if not isinstance(scenario_id, str) or not 1 <= len(scenario_id) <= 128:
            raise ValueError(f"scenario_id: expected 1-128 characters, got {scenario_id!r}")
        lang = _choice("lang", lang, SESSION_LANGS)
        engine = _choice("engine", engine, ENGINES)
        seed = secrets.randbelow(2**31) if seed is None else _int("seed", seed)
        state_data = _json_object("state", state if state is not None else {})
        scenario_version = _int("scenario_version", scenario_version, optional=True)
        branch_turn = _int("branch_turn", branch_turn, minimum=0, optional=True)
        if (parent_id is None) != (branch_turn is None):
            raise ValueError("parent_id and branch_turn go together: give both for a branch, or neither")
        with self._write() as session:
            if user_id is not None:
                self._user_row(session, user_id)
            if parent_id is not None:
                self._session_row(session, parent_id)
            row = PracticeSession(
                id=secrets.token_urlsafe(16),
                user_id=user_id,
                scenario_id=scenario_id,
                lang=lang,
                scenario_version=scenario_version,
                engine=engine,
                seed=seed,
                status="active",
                parent_id=parent_id,
                branch_turn=branch_turn,
                state_json=state_data,
            )
            session.add(row)
            session.flush()
            session.add_all(Turn(session_id=row.id, idx=i, **turn) for i, turn in enumerate(turns))
            return _to_session(row)

    def get_session(self, session_id: str) -> SessionRecord | None:
        with self._read() as session:
            row = session.get(PracticeSession, session_id)
            return _to_session(row) if row else None

    def list_sessions(self, user_id: int | None = None, status: str | None = None) -> list[SessionRecord]:
        """Sessions, newest first, optionally for one user and/or with one status."""
        query = select(PracticeSession)
        if user_id is not None:
            query = query.where(PracticeSession.user_id == user_id)
        if status is not None:
            query = query.where(PracticeSession.status == _choice("status", status, STATUSES))
        query = query.order_by(PracticeSession.started_at.desc(), PracticeSession.id)
        with self._read() as session:
            return [_to_session(row) for row in session.scalars(query)]

    def update_session(
        self,
        session_id: str,
        *,
        state: Mapping[str, Any] | BaseModel | None = None,
        status: str | None = None,
        outcome: str | None = None,
        overall: float | None = None,
        ended_at: datetime | None = None,
    ) -> SessionRecord:
        """Change the given fields (None leaves a field as it is). Setting ``status='ended'``
        stamps ``ended_at`` with the current time unless one is given or already stored."""
        state_data = _json_object("state", state) if state is not None else None
        if status is not None:
            _choice("status", status, STATUSES)
        if outcome is not None:
            _choice("outcome", outcome, OUTCOMES)
        if overall is not None:
            if isinstance(overall, bool) or not isinstance(overall, (int, float)) or not math.isfinite(overall):
                raise ValueError(f"overall: expected a finite number, got {overall!r}")
            if not 0 <= overall <= 100:
                raise ValueError(f"overall: must be between 0 and 100, got {overall!r}")
        if ended_at is not None and not isinstance(ended_at, datetime):
            raise ValueError(f"ended_at: expected a datetime, got {ended_at!r}")
        with self._write() as session:
            row = self._session_row(session, session_id)
            if state_data is not None:
                row.state_json = state_data
            if status is not None:
                row.status = status
            if outcome is not None:
                row.outcome = outcome
            if overall is not None:
                row.overall = float(overall)
            if ended_at is not None:
                row.ended_at = ended_at if ended_at.tzinfo else ended_at.replace(tzinfo=UTC)
            elif status == "ended" and row.ended_at is None:
                row.ended_at = utcnow()
            if status is not None or outcome is not None or overall is not None or ended_at is not None:
                _refresh_summary(session, row)
            session.flush()
            return _to_session(row)

    # -- turns

    def append_turn(
        self,
        session_id: str,
        speaker: str,
        text: str,
        analysis: Mapping[str, Any] | BaseModel | None = None,
        mood: Mapping[str, Any] | BaseModel | None = None,
        notice: str | None = None,
    ) -> TurnRecord:
        """Store the next turn of a session and commit (see :meth:`append_turns`)."""
        turn = {"speaker": speaker, "text": text, "analysis": analysis, "mood": mood, "notice": notice}
        return self.append_turns(session_id, [turn])[0]

    def append_turns(
        self,
        session_id: str,
        turns: Sequence[Mapping[str, Any]],
        state: Mapping[str, Any] | BaseModel | None = None,
    ) -> list[TurnRecord]:
        """Store the next turns of a session (mappings with speaker, text and optional analysis,
        mood, notice, meta) and, if given, the session's new state, all in one transaction, then
        commit: a trainee turn and the customer's answer land together or not at all. Indexes
        are the next free ones, chosen in the same transaction; concurrent writers are
        serialised (SQLite: BEGIN IMMEDIATE; PostgreSQL: a row lock on the session) and, as a
        last resort, a unique-index clash is retried with the next index."""
        parsed = [_new_turn(turn) for turn in turns]
        state_data = _json_object("state", state) if state is not None else None
        for attempt in range(_APPEND_ATTEMPTS):
            try:
                with self._write() as session:
                    row_session = self._session_row(session, session_id, lock=True)
                    last = session.scalar(select(func.max(Turn.idx)).where(Turn.session_id == session_id))
                    first = 0 if last is None else last + 1
                    rows = [Turn(session_id=session_id, idx=first + i, **turn) for i, turn in enumerate(parsed)]
                    session.add_all(rows)
                    if state_data is not None:
                        row_session.state_json = state_data
                    session.flush()
                    return [_to_turn(row) for row in rows]
            except IntegrityError:
                if attempt == _APPEND_ATTEMPTS - 1:
                    raise
            except OperationalError as error:  # busy beyond the timeout; try again
                if not _is_lock_error(error) or attempt == _APPEND_ATTEMPTS - 1:
                    raise
            time.sleep(0.005 * (attempt + 1) + secrets.randbelow(10) / 1000)
        raise AssertionError("unreachable")

    def get_turns(self, session_id: str) -> list[TurnRecord]:
        """The session's turns in order (empty for an unknown session)."""
        with self._read() as session:
            rows = session.scalars(select(Turn).where(Turn.session_id == session_id).order_by(Turn.idx))
            return [_to_turn(row) for row in rows]

    def copy_turns(self, src_session_id: str, dst_session_id: str, upto_idx: int) -> int:
        """Copy turns ``0..upto_idx`` (inclusive) of one session into another, keeping their
        indexes and timestamps; for what-if branches. ``upto_idx=-1`` copies nothing. The
        destination must have no turns yet. Returns the number of turns copied."""
        upto_idx = _int("upto_idx", upto_idx, minimum=-1)
        if src_session_id == dst_session_id:
            raise ValueError("copy_turns: source and destination are the same session")
        with self._write() as session:
            self._session_row(session, src_session_id)
            self._session_row(session, dst_session_id, lock=True)
            if session.scalar(select(func.count()).where(Turn.session_id == dst_session_id)):
                raise ConflictError(f"session {dst_session_id!r} already has turns")
            rows = session.scalars(
                select(Turn).where(Turn.session_id == src_session_id, Turn.idx <= upto_idx).order_by(Turn.idx)
            ).all()
            for row in rows:
                session.add(
                    Turn(
                        session_id=dst_session_id,
                        idx=row.idx,
                        speaker=row.speaker,
                        text=row.text,
                        analysis_json=row.analysis_json,
                        mood_json=row.mood_json,
                        notice=row.notice,
                        meta_json=row.meta_json,
                        created_at=row.created_at,
                    )
                )
            return len(rows)

    # -- scores

    def save_scores(self, session_id: str, rows: Iterable[ScoreRow | Mapping[str, Any] | Any]) -> list[ScoreRecord]:
        """Replace the session's scores with ``rows`` (ScoreRow, mappings or objects with the
        same attributes: dimension, score, applies, evidence, feedback, better, and optionally
        needs_review and detail)."""
        parsed: list[ScoreRow] = []
        for row in rows:
            if isinstance(row, ScoreRow):
                parsed.append(row)
            elif isinstance(row, Mapping):
                parsed.append(ScoreRow.model_validate(dict(row)))
            else:
                parsed.append(ScoreRow.model_validate(row, from_attributes=True))
        seen: set[str] = set()
        for row in parsed:
            if row.dimension in seen:
                raise ValueError(f"dimension: given twice: {row.dimension!r}")
            seen.add(row.dimension)
        evidence = [_json("evidence", row.evidence) for row in parsed]
        details = [_json_object("detail", row.detail) if row.detail is not None else None for row in parsed]
        with self._write() as session:
            session_row = self._session_row(session, session_id, lock=True)
            session.execute(delete(Score).where(Score.session_id == session_id))
            for row, ev, detail in zip(parsed, evidence, details, strict=True):
                session.add(
                    Score(
                        session_id=session_id,
                        dimension=row.dimension,
                        score=float(row.score),
                        applies=row.applies,
                        evidence_json=ev,
                        feedback=row.feedback,
                        better=row.better,
                        needs_review=row.needs_review,
                        detail_json=detail,
                    )
                )
            _refresh_summary(session, session_row)
        return self.get_scores(session_id)

    def scores_for_sessions(self, session_ids: Sequence[str]) -> dict[str, list[ScoreRecord]]:
        """:meth:`get_scores` of several sessions in one query (an empty list for a session
        without scores), for pages that show many sessions at once."""
        ids = list(dict.fromkeys(session_ids))
        out: dict[str, list[ScoreRecord]] = {sid: [] for sid in ids}
        with self._read() as session:
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                rows = session.scalars(select(Score).where(Score.session_id.in_(chunk)).order_by(Score.id))
                for row in rows:
                    out[row.session_id].append(_to_score(row))
        return out

    def get_scores(self, session_id: str) -> list[ScoreRecord]:
        """The session's scores in the order they were saved."""
        with self._read() as session:
            rows = session.scalars(select(Score).where(Score.session_id == session_id).order_by(Score.id))
            return [_to_score(row) for row in rows]

    # -- model usage

    def session_usage(self, session_id: str) -> SessionUsage:
        """Model calls, tokens in/out and time waited in one session (see :func:`usage_totals`);
        the judge's call is read from the session state (``state["judge"]["meta"]``)."""
        return self.usage_by_session([session_id])[session_id]

    def model_calls_since(self, user_id: int, since: datetime) -> int:
        """Model calls made for ``user_id``'s customer turns at or after ``since`` (from the
        turns' ``meta``, see :func:`usage_totals`); turns a what-if branch copied from its
        original are not counted twice. For the per-user hourly limit in the session service."""
        with self._read() as session:
            rows = session.execute(
                select(Turn.meta_json)
                .join(PracticeSession, PracticeSession.id == Turn.session_id)
                .where(
                    PracticeSession.user_id == user_id,
                    Turn.created_at >= since,
                    Turn.meta_json.is_not(None),
                    or_(PracticeSession.branch_turn.is_(None), Turn.idx >= PracticeSession.branch_turn),
                )
            )
            return usage_totals("", [meta for (meta,) in rows]).calls

    def usage_by_session(self, session_ids: Sequence[str]) -> dict[str, SessionUsage]:
        """:meth:`session_usage` for several sessions with two queries (zeros for unknown ids)."""
        ids = list(dict.fromkeys(session_ids))
        metas: dict[str, list[Any]] = {sid: [] for sid in ids}
        judges: dict[str, Any] = {}
        if ids:
            with self._read() as session:
                rows = session.execute(
                    select(Turn.session_id, Turn.meta_json).where(Turn.session_id.in_(ids), Turn.meta_json.is_not(None))
                )
                for sid, meta in rows:
                    metas[sid].append(meta)
                for sid, state in session.execute(
                    select(PracticeSession.id, PracticeSession.state_json).where(PracticeSession.id.in_(ids))
                ):
                    judge = (state or {}).get("judge") if isinstance(state, dict) else None
                    judges[sid] = judge.get("meta") if isinstance(judge, dict) else None
        return {sid: usage_totals(sid, metas[sid], judges.get(sid)) for sid in ids}
