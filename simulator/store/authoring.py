"""Data access for the Scenario Studio: authored scenario versions and assignments (revision 0003).

Like :class:`~simulator.store.repository.Repository`, every public method opens its own short
ORM session, commits before it returns and hands back frozen records, never ORM objects.

Versions: every save is a new row ``(scenario_id, lang, version)`` with version = last + 1.
At most one version of a scenario/language is published at a time; trainees play the
published one. :meth:`AuthoringStore.save_many` saves several scenarios all-or-nothing (imports).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine, and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from simulator.store.db import read_session, write_session
from simulator.store.models import (
    SESSION_LANGS,
    Assignment,
    Group,
    GroupMember,
    PracticeSession,
    ScenarioVersion,
    User,
)
from simulator.store.repository import ConflictError, NotFoundError, Repository

YAML_MAX = 1_000_000  # characters of one scenario's YAML (uploads over 1 MB are refused earlier)


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True)


class VersionRecord(_Record):
    id: int
    scenario_id: str
    lang: str
    version: int
    yaml_text: str
    author_id: int | None
    author_name: str | None
    published: bool
    created_at: datetime


class AuthoredSummary(_Record):
    """One authored scenario/language: its latest version and the published one (if any)."""

    scenario_id: str
    lang: str
    latest: int
    published_version: int | None
    updated_at: datetime


class PlayStats(_Record):
    played: int = 0  # trainees' ended sessions (test drives not counted)
    average: float | None = None  # mean overall of those


class AssignmentRecord(_Record):
    id: int
    scenario_id: str
    lang: str
    user_id: int | None
    user_name: str | None
    group_id: int | None
    group_name: str | None
    due_date: date | None
    pass_mark: float | None
    created_by: int | None
    created_at: datetime


class GroupRecord(_Record):
    id: int
    name: str
    kind: str


def _check_key(scenario_id: Any, lang: Any) -> tuple[str, str]:
    if not isinstance(scenario_id, str) or not 1 <= len(scenario_id) <= 128:
        raise ValueError(f"scenario_id: expected 1-128 characters, got {scenario_id!r}")
    if lang not in SESSION_LANGS:
        raise ValueError(f"lang: expected one of {', '.join(SESSION_LANGS)}, got {lang!r}")
    return scenario_id, lang


def _to_version(row: ScenarioVersion, author: str | None) -> VersionRecord:
    return VersionRecord(
        id=row.id,
        scenario_id=row.scenario_id,
        lang=row.lang,
        version=row.version,
        yaml_text=row.yaml_text,
        author_id=row.author_id,
        author_name=author,
        published=row.published,
        created_at=row.created_at,
    )


class AuthoringStore:
    """Authored scenario versions and assignments. Thread-safe (one short session per call)."""

    def __init__(self, engine_or_repo: Engine | Repository) -> None:
        self.engine = engine_or_repo.engine if isinstance(engine_or_repo, Repository) else engine_or_repo

    def _read(self):
        return read_session(self.engine)

    def _write(self):
        """A write transaction, committed on success (see ``db.write_session``)."""
        return write_session(self.engine)

    # -- versions ------------------------------------------------------------------------------
    def _versions_query(self):
        return select(ScenarioVersion, User.name).outerjoin(User, User.id == ScenarioVersion.author_id)

    def save_version(self, scenario_id: str, lang: str, yaml_text: str, author_id: int | None) -> VersionRecord:
        """Store ``yaml_text`` as the next version (unpublished). The caller validated it."""
        return self.save_many([(scenario_id, lang, yaml_text)], author_id)[0]

    def save_many(self, items: Iterable[tuple[str, str, str]], author_id: int | None) -> list[VersionRecord]:
        """Save each ``(scenario_id, lang, yaml_text)`` as a new version, in one transaction:
        all are saved or none (e.g. an import)."""
        items = [(*_check_key(sid, lang), text) for sid, lang, text in items]
        for sid, lang, text in items:
            if not isinstance(text, str) or not text.strip() or len(text) > YAML_MAX:
                raise ValueError(f"yaml_text: {sid}/{lang}: expected 1-{YAML_MAX} characters")
        keys = [(sid, lang) for sid, lang, _ in items]
        if len(set(keys)) != len(keys):
            raise ConflictError("scenario_id: the same scenario and language appears twice")
        try:
            with self._write() as session:
                author = session.get(User, author_id) if author_id is not None else None
                if author_id is not None and author is None:
                    raise NotFoundError(f"user not found: {author_id!r}")
                rows = []
                for sid, lang, text in items:
                    last = session.scalar(
                        select(func.max(ScenarioVersion.version)).where(
                            ScenarioVersion.scenario_id == sid, ScenarioVersion.lang == lang
                        )
                    )
                    row = ScenarioVersion(
                        scenario_id=sid, lang=lang, version=(last or 0) + 1, yaml_text=text, author_id=author_id
                    )
                    session.add(row)
                    rows.append(row)
                session.flush()
                return [_to_version(row, author.name if author else None) for row in rows]
        except IntegrityError:  # a concurrent save took the same version number
            raise ConflictError("version: someone saved this scenario at the same moment; save again") from None

    def versions(self, scenario_id: str, lang: str) -> list[VersionRecord]:
        """All versions of a scenario in a language, newest first."""
        with self._read() as session:
            rows = session.execute(
                self._versions_query()
                .where(ScenarioVersion.scenario_id == scenario_id, ScenarioVersion.lang == lang)
                .order_by(ScenarioVersion.version.desc())
            )
            return [_to_version(row, name) for row, name in rows]

    def get_version(self, scenario_id: str, lang: str, version: int) -> VersionRecord | None:
        with self._read() as session:
            found = session.execute(
                self._versions_query().where(
                    ScenarioVersion.scenario_id == scenario_id,
                    ScenarioVersion.lang == lang,
                    ScenarioVersion.version == version,
                )
            ).first()
            return _to_version(*found) if found else None

    def latest(self, scenario_id: str, lang: str) -> VersionRecord | None:
        found = self.versions(scenario_id, lang)
        return found[0] if found else None

    def published(self, scenario_id: str, lang: str) -> VersionRecord | None:
        """The published version (the newest, should there ever be several), or None."""
        with self._read() as session:
            found = session.execute(
                self._versions_query()
                .where(
                    ScenarioVersion.scenario_id == scenario_id,
                    ScenarioVersion.lang == lang,
                    ScenarioVersion.published.is_(True),
                )
                .order_by(ScenarioVersion.version.desc())
            ).first()
            return _to_version(*found) if found else None

    def all_published(self, lang: str | None = None) -> list[VersionRecord]:
        """The published version of every authored scenario (in ``lang``), by id."""
        with self._read() as session:
            query = self._versions_query().where(ScenarioVersion.published.is_(True))
            if lang is not None:
                query = query.where(ScenarioVersion.lang == lang)
            newest: dict[tuple[str, str], VersionRecord] = {}
            for row, name in session.execute(query.order_by(ScenarioVersion.version)):
                newest[(row.scenario_id, row.lang)] = _to_version(row, name)
            return [newest[key] for key in sorted(newest)]

    def summaries(self) -> list[AuthoredSummary]:
        """Every authored scenario/language with its latest and published version numbers."""
        with self._read() as session:
            rows = session.execute(
                select(
                    ScenarioVersion.scenario_id,
                    ScenarioVersion.lang,
                    ScenarioVersion.version,
                    ScenarioVersion.published,
                    ScenarioVersion.created_at,
                ).order_by(ScenarioVersion.version)
            )
            found: dict[tuple[str, str], dict[str, Any]] = {}
            for sid, lang, version, published, created in rows:
                entry = found.setdefault((sid, lang), {"published_version": None})
                entry["latest"], entry["updated_at"] = version, created
                if published:
                    entry["published_version"] = version
            return [AuthoredSummary(scenario_id=s, lang=lg, **v) for (s, lg), v in sorted(found.items())]

    def set_published(self, scenario_id: str, lang: str, version: int | None) -> None:
        """Publish ``version`` (every other version of the scenario is unpublished), or with
        ``None`` unpublish the scenario altogether."""
        with self._write() as session:
            where = and_(ScenarioVersion.scenario_id == scenario_id, ScenarioVersion.lang == lang)
            if version is not None:
                exists = session.scalar(select(ScenarioVersion.id).where(where, ScenarioVersion.version == version))
                if exists is None:
                    raise NotFoundError(f"version not found: {scenario_id}/{lang} v{version}")
            session.execute(update(ScenarioVersion).where(where).values(published=False))
            if version is not None:
                session.execute(
                    update(ScenarioVersion).where(where, ScenarioVersion.version == version).values(published=True)
                )

    # -- statistics ----------------------------------------------------------------------------
    def play_stats(self) -> dict[tuple[str, str], PlayStats]:
        """Trainees' ended sessions per (scenario_id, lang) and their mean overall score. What-if
        branches and the sessions of trainers and admins (studio test drives) are not counted."""
        with self._read() as session:
            rows = session.execute(
                select(PracticeSession.scenario_id, PracticeSession.lang, PracticeSession.overall)
                .join(User, User.id == PracticeSession.user_id)
                .where(
                    PracticeSession.status == "ended",
                    PracticeSession.parent_id.is_(None),
                    User.role == "trainee",
                )
            )
            scores: dict[tuple[str, str], list[float | None]] = {}
            for sid, lang, overall in rows:
                scores.setdefault((sid, lang), []).append(overall)
        result = {}
        for key, values in scores.items():
            known = [v for v in values if v is not None]
            result[key] = PlayStats(played=len(values), average=sum(known) / len(known) if known else None)
        return result

    # -- assignments ---------------------------------------------------------------------------
    def _assignment_query(self):
        return (
            select(Assignment, User.name, Group.name)
            .outerjoin(User, User.id == Assignment.user_id)
            .outerjoin(Group, Group.id == Assignment.group_id)
        )

    @staticmethod
    def _to_assignment(row: Assignment, user_name: str | None, group_name: str | None) -> AssignmentRecord:
        return AssignmentRecord(
            id=row.id,
            scenario_id=row.scenario_id,
            lang=row.lang,
            user_id=row.user_id,
            user_name=user_name,
            group_id=row.group_id,
            group_name=group_name,
            due_date=row.due_date,
            pass_mark=row.pass_mark,
            created_by=row.created_by,
            created_at=row.created_at,
        )

    def assign(
        self,
        scenario_id: str,
        lang: str,
        *,
        user_id: int | None = None,
        group_id: int | None = None,
        due_date: date | None = None,
        pass_mark: float | None = None,
        created_by: int | None = None,
    ) -> AssignmentRecord:
        scenario_id, lang = _check_key(scenario_id, lang)
        if (user_id is None) == (group_id is None):
            raise ValueError("assignee: give a trainee or a group, not both")
        if pass_mark is not None and not 0 <= float(pass_mark) <= 100:
            raise ValueError(f"pass_mark: expected 0-100, got {pass_mark!r}")
        with self._write() as session:
            if user_id is not None and session.get(User, user_id) is None:
                raise NotFoundError(f"user not found: {user_id!r}")
            if group_id is not None and session.get(Group, group_id) is None:
                raise NotFoundError(f"group not found: {group_id!r}")
            row = Assignment(
                scenario_id=scenario_id,
                lang=lang,
                user_id=user_id,
                group_id=group_id,
                due_date=due_date,
                pass_mark=None if pass_mark is None else float(pass_mark),
                created_by=created_by,
            )
            session.add(row)
            session.flush()
            row_id = row.id
        return next(a for a in self.assignments() if a.id == row_id)

    def assignments(self) -> list[AssignmentRecord]:
        """Every assignment, newest first."""
        with self._read() as session:
            rows = session.execute(self._assignment_query().order_by(Assignment.id.desc()))
            return [self._to_assignment(*row) for row in rows]

    def assignments_for(self, user_id: int) -> list[AssignmentRecord]:
        """A user's assignments, directly or through a group: soonest due first (no date last)."""
        with self._read() as session:
            groups = select(GroupMember.group_id).where(GroupMember.user_id == user_id)
            rows = session.execute(
                self._assignment_query().where(or_(Assignment.user_id == user_id, Assignment.group_id.in_(groups)))
            )
            found = [self._to_assignment(*row) for row in rows]
        return sorted(found, key=lambda a: (a.due_date is None, a.due_date or date.max, a.id))

    def delete_assignment(self, assignment_id: int) -> None:
        with self._write() as session:
            row = session.get(Assignment, assignment_id)
            if row is None:
                raise NotFoundError(f"assignment not found: {assignment_id!r}")
            session.delete(row)

    def groups(self) -> list[GroupRecord]:
        """Groups to assign to (managed on the groups page, not here)."""
        with self._read() as session:
            return [GroupRecord(id=g.id, name=g.name, kind=g.kind) for g in session.scalars(select(Group).order_by(Group.name))]

    def best_scores(self, user_id: int) -> dict[tuple[str, str], float]:
        """A user's best overall per (scenario_id, lang) over ended sessions (for pass marks)."""
        with self._read() as session:
            rows = session.execute(
                select(PracticeSession.scenario_id, PracticeSession.lang, func.max(PracticeSession.overall))
                .where(PracticeSession.user_id == user_id, PracticeSession.status == "ended")
                .group_by(PracticeSession.scenario_id, PracticeSession.lang)
            )
            return {(sid, lang): best for sid, lang, best in rows if best is not None}
