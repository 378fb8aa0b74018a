"""Groups (teams and cohorts), the audit log, assignments' pass marks and the dashboard's bulk reads.

Kept apart from :mod:`simulator.store.repository` so the per-conversation repository stays small.
:class:`TeamStore` takes the :class:`~simulator.store.repository.Repository` (or an Engine) and
returns frozen pydantic records or pandas frames; the dashboard's data come out of a handful of
SQL queries on the ``session_summary`` read model (one wide row per scored session, written when
the session is scored), never one query per session and no pivot at read time.

Also here: :meth:`TeamStore.bulk_insert` for ``seed-demo`` (executemany in large batches).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict
from sqlalchemy import (Connection, Engine, Select, String, delete, false, func, insert, select, text, type_coerce,
                        update)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement

from simulator.rubric import DIMENSIONS
from simulator.store.models import (
    GROUP_KINDS,
    NAME_MAX,
    Assignment,
    AuditEvent,
    Group,
    GroupMember,
    PracticeSession,
    Score,
    SessionSummary,
    Turn,
    User,
    utcnow,
)
from simulator.store.repository import ConflictError, NotFoundError, Repository, _aware, _choice

#: Audit action written when someone other than the owner opens a transcript.
VIEW_TRANSCRIPT = "view_transcript"


class GroupRecord(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: int
    name: str
    kind: str
    start_date: date | None
    members: int = 0


class AuditRecord(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: int
    at: datetime
    actor_id: int | None
    actor: str | None
    action: str
    target: str | None
    detail: dict[str, Any] | None


def _group_name(name: Any) -> str:
    if not isinstance(name, str) or name != name.strip() or not 1 <= len(name) <= NAME_MAX:
        raise ValueError(f"name: must be 1-{NAME_MAX} characters without surrounding spaces, got {name!r}")
    return name


class TeamStore:
    """Groups, members, audit events and the dashboard's frames on one database."""

    def __init__(self, repo_or_engine: Repository | Engine) -> None:
        self.engine: Engine = repo_or_engine.engine if isinstance(repo_or_engine, Repository) else repo_or_engine

    # ------------------------------------------------------------------ groups
    def create_group(self, name: str, kind: str = "team", start_date: date | None = None) -> GroupRecord:
        name = _group_name(name)
        kind = _choice("kind", kind, GROUP_KINDS)
        try:
            with self.engine.begin() as conn:
                if conn.scalar(select(Group.id).where(Group.name == name)) is not None:
                    raise ConflictError(f"name: already taken: {name!r}")
                gid = conn.execute(
                    insert(Group).values(name=name, kind=kind, start_date=start_date, created_at=utcnow()).returning(Group.id)
                ).scalar_one()
        except IntegrityError:
            raise ConflictError(f"name: already taken: {name!r}") from None
        return GroupRecord(id=gid, name=name, kind=kind, start_date=start_date)

    def update_group(self, group_id: int, *, name: str | None = None, kind: str | None = None,
                     start_date: date | None = None) -> GroupRecord:
        values: dict[str, Any] = {}
        if name is not None:
            values["name"] = _group_name(name)
        if kind is not None:
            values["kind"] = _choice("kind", kind, GROUP_KINDS)
        if start_date is not None:
            values["start_date"] = start_date
        try:
            with self.engine.begin() as conn:
                if values:
                    done = conn.execute(update(Group).where(Group.id == group_id).values(**values))
                    if not done.rowcount:
                        raise NotFoundError(f"group not found: {group_id!r}")
        except IntegrityError:
            raise ConflictError(f"name: already taken: {name!r}") from None
        return self.get_group(group_id)

    def delete_group(self, group_id: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(GroupMember).where(GroupMember.group_id == group_id))
            conn.execute(delete(Group).where(Group.id == group_id))

    def get_group(self, group_id: int) -> GroupRecord:
        for group in self.list_groups():
            if group.id == group_id:
                return group
        raise NotFoundError(f"group not found: {group_id!r}")

    def list_groups(self) -> list[GroupRecord]:
        """All groups by name, with their member counts."""
        count = select(GroupMember.group_id, func.count().label("n")).group_by(GroupMember.group_id).subquery()
        query = (
            select(Group.id, Group.name, Group.kind, Group.start_date, func.coalesce(count.c.n, 0))
            .outerjoin(count, count.c.group_id == Group.id)
            .order_by(Group.name)
        )
        with self.engine.connect() as conn:
            return [
                GroupRecord(id=i, name=n, kind=k, start_date=s, members=m) for i, n, k, s, m in conn.execute(query)
            ]

    def members(self, group_id: int) -> list[int]:
        with self.engine.connect() as conn:
            return list(conn.scalars(select(GroupMember.user_id).where(GroupMember.group_id == group_id)))

    def set_members(self, group_id: int, user_ids: Iterable[int]) -> None:
        """Replace the group's members with ``user_ids``."""
        ids = sorted(set(int(u) for u in user_ids))
        with self.engine.begin() as conn:
            if conn.scalar(select(Group.id).where(Group.id == group_id)) is None:
                raise NotFoundError(f"group not found: {group_id!r}")
            conn.execute(delete(GroupMember).where(GroupMember.group_id == group_id))
            if ids:
                conn.execute(insert(GroupMember), [{"group_id": group_id, "user_id": u} for u in ids])

    def add_member(self, group_id: int, user_id: int) -> None:
        self.set_members(group_id, {*self.members(group_id), user_id})

    def memberships(self) -> pd.DataFrame:
        """Columns ``group_id``, ``group``, ``kind``, ``start_date``, ``user_id``."""
        query = select(Group.id, Group.name, Group.kind, Group.start_date, GroupMember.user_id).join(
            GroupMember, GroupMember.group_id == Group.id
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return pd.DataFrame(rows, columns=["group_id", "group", "kind", "start_date", "user_id"])

    # ------------------------------------------------------------------ assignments
    def add_assignment(self, scenario_id: str, lang: str, *, user_id: int | None = None, group_id: int | None = None,
                       pass_mark: float | None = None, due_date: date | None = None,
                       created_by: int | None = None) -> int:
        if (user_id is None) == (group_id is None):
            raise ValueError("assignee: give exactly one of user_id and group_id")
        with self.engine.begin() as conn:
            return conn.execute(
                insert(Assignment)
                .values(scenario_id=scenario_id, lang=lang, user_id=user_id, group_id=group_id, pass_mark=pass_mark,
                        due_date=due_date, created_by=created_by, created_at=utcnow())
                .returning(Assignment.id)
            ).scalar_one()

    def assignments(self) -> pd.DataFrame:
        """Columns ``scenario_id``, ``lang``, ``user_id``, ``group_id``, ``pass_mark``, ``created_at``."""
        query = select(Assignment.scenario_id, Assignment.lang, Assignment.user_id, Assignment.group_id,
                       Assignment.pass_mark, Assignment.created_at)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        frame = pd.DataFrame(rows, columns=["scenario_id", "lang", "user_id", "group_id", "pass_mark", "created_at"])
        frame["user_id"] = frame["user_id"].astype("Int64")
        frame["group_id"] = frame["group_id"].astype("Int64")
        frame["pass_mark"] = frame["pass_mark"].astype(float)
        return frame

    # ------------------------------------------------------------------ audit
    def record(self, actor_id: int | None, action: str, target: str | None = None,
               detail: Mapping[str, Any] | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(AuditEvent).values(at=utcnow(), actor_id=actor_id, action=action[:64],
                                                   target=target[:128] if target else None,
                                                   detail_json=dict(detail) if detail else None))

    def count_events(self, action: str, target: str, since: datetime) -> int:
        """How many ``action`` events on ``target`` were recorded at or after ``since``."""
        query = select(func.count()).where(
            AuditEvent.action == action, AuditEvent.target == target[:128], AuditEvent.at >= since
        )
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def audit_log(self, limit: int = 500, action: str | None = None) -> list[AuditRecord]:
        query = select(AuditEvent.id, AuditEvent.at, AuditEvent.actor_id, User.name, AuditEvent.action,
                       AuditEvent.target, AuditEvent.detail_json).outerjoin(User, User.id == AuditEvent.actor_id)
        if action:
            query = query.where(AuditEvent.action == action)
        query = query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [
                AuditRecord(id=i, at=_aware(at), actor_id=a, actor=n, action=ac, target=tg, detail=d)
                for i, at, a, n, ac, tg, d in conn.execute(query)
            ]

    # ------------------------------------------------------------------ dashboard reads
    def data_version(self) -> tuple[int, str]:
        """(number of ended sessions, latest end time): changes whenever a session lands.
        The dashboard keys its cache on it."""
        query = select(func.count(), func.max(PracticeSession.ended_at)).where(PracticeSession.status == "ended")
        with self.engine.connect() as conn:
            n, latest = conn.execute(query).one()
        return int(n or 0), str(latest)

    def session_scores(self) -> pd.DataFrame:
        """Every ended, scored, non-branch session with its user and dimension scores, one row
        each. Columns: ``session_id``, ``user_id``, ``user``, ``role``, ``scenario_id``,
        ``lang``, ``outcome``, ``overall``, ``started_at``, ``ended_at``, then one column per
        rubric dimension (NaN where it did not apply).

        Read from the ``session_summary`` read model (one wide row per scored session, written
        with the scores), so nothing is pivoted at read time; only these columns are fetched,
        as the driver's plain tuples (see :func:`driver_rows`). The timestamps come back as text
        (see :func:`_stamp_text`) and are parsed by pandas in one vectorised step."""
        s = SessionSummary
        stamps = [_stamp_text(c, self.engine.dialect.name) for c in (s.started_at, s.ended_at)]
        dims = [s.__table__.c[key] for key in DIMENSIONS]
        query = select(s.session_id, s.user_id, s.scenario_id, s.lang, s.outcome, s.overall, *stamps, *dims).where(
            s.overall.is_not(None), s.branch == false(), s.user_id.is_not(None))
        columns = ["session_id", "user_id", "scenario_id", "lang", "outcome", "overall", "started_at", "ended_at",
                   *DIMENSIONS]
        with self.engine.connect() as conn:
            rows = driver_rows(conn, query)
            users = driver_rows(conn, select(User.id, User.name, User.role))
        frame = pd.DataFrame(rows, columns=columns, dtype=object).astype(
            {"user_id": int, "overall": float, **dict.fromkeys(DIMENSIONS, float)})
        for name in ("scenario_id", "lang", "outcome"):
            frame[name] = _shared_values(frame[name])
        # names and roles are joined here from the (small) users table instead of per row in SQL
        people = pd.DataFrame(users, columns=["user_id", "user", "role"], dtype=object).astype({"user_id": int})
        people = people.set_index("user_id")
        frame = frame[frame["user_id"].isin(people.index)].reset_index(drop=True)
        for position, name in enumerate(("user", "role"), start=2):
            frame.insert(position, name, people[name].reindex(frame["user_id"]).set_axis(frame.index))
        for name in ("started_at", "ended_at"):
            frame[name] = pd.to_datetime(frame[name], utc=True, format="ISO8601")
        return frame

    def refresh_summaries(self) -> int:
        """Write the missing ``session_summary`` rows (ended sessions with scores but no summary),
        e.g. after :meth:`bulk_insert` of sessions and scores. Returns how many were written."""
        sql = summary_insert_sql(where="s.id NOT IN (SELECT session_id FROM session_summary)")
        with self.engine.begin() as conn:
            return conn.execute(text(sql)).rowcount or 0

    # ------------------------------------------------------------------ bulk (seed-demo)
    def bulk_insert(self, table: str, rows: Sequence[Mapping[str, Any]], chunk: int = 20_000) -> None:
        """Insert many rows into ``users``, ``groups``, ``group_members``, ``sessions``,
        ``scores``, ``turns`` or ``assignments`` with executemany, committed per chunk."""
        tables = {"users": User, "groups": Group, "group_members": GroupMember, "sessions": PracticeSession,
                  "scores": Score, "turns": Turn, "assignments": Assignment, "audit_log": AuditEvent,
                  "session_summary": SessionSummary}
        target = tables[table].__table__
        for start in range(0, len(rows), chunk):
            with self.engine.begin() as conn:
                conn.execute(target.insert(), list(rows[start:start + chunk]))


def summary_insert_sql(where: str = "") -> str:
    """INSERT ... SELECT of the ``session_summary`` rows of ended sessions with scores, the scores
    pivoted in SQL (``where``: an extra condition on ``s``, the sessions table). Portable between
    SQLite and PostgreSQL; migration 0110 back-fills with a frozen copy of this."""
    dims = ", ".join(DIMENSIONS)
    pivots = ", ".join(
        f"MAX(CASE WHEN sc.dimension = '{key}' AND sc.applies THEN sc.score END) AS {key}" for key in DIMENSIONS
    )
    return (
        f"INSERT INTO session_summary (session_id, user_id, scenario_id, lang, outcome, overall, branch, "
        f"started_at, ended_at, {dims}) "
        f"SELECT s.id, s.user_id, s.scenario_id, s.lang, s.outcome, s.overall, s.parent_id IS NOT NULL, "
        f"s.started_at, s.ended_at, {', '.join('p.' + k for k in DIMENSIONS)} "
        f"FROM sessions s JOIN (SELECT sc.session_id, {pivots} FROM scores sc GROUP BY sc.session_id) p "
        f"ON p.session_id = s.id WHERE s.status = 'ended'{' AND ' + where if where else ''}"
    )


def driver_rows(conn: Connection, query: Select[Any]) -> list[tuple[Any, ...]]:
    """The rows of ``query`` as the DB driver returns them: plain tuples, without SQLAlchemy's
    row objects and result processing (a third of the time of a 50,000-row read). Values stay
    bound parameters, in the driver's own style."""
    compiled = query.compile(dialect=conn.dialect)
    params: Any = compiled.params
    if compiled.positional:
        params = tuple(params[name] for name in compiled.positiontup or ())
    cursor = conn.connection.cursor()
    try:
        cursor.execute(str(compiled), params)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _shared_values(column: pd.Series) -> pd.Series:
    """``column`` (few distinct values) with one object per distinct value: the driver makes a
    new string for every row, and pandas groups and merges shared strings faster (about 45 ms
    less over the dashboard's frames at 50,000 sessions). Same values, still dtype object."""
    shared: dict[Any, Any] = {}
    values = column.to_numpy()
    return pd.Series(list(map(shared.setdefault, values, values)), index=column.index, dtype=object)


def _stamp_text(column: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """``column`` (a timestamp) as ISO text in UTC: parsing text with pandas in one step is
    cheaper than the driver building a datetime per value. SQLite stores the text already;
    PostgreSQL formats it (microseconds kept); other databases return datetimes."""
    if dialect == "sqlite":
        return type_coerce(column, String()).label(column.key)
    if dialect == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24:MI:SS.US").label(column.key)
    return column


def ensure_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
