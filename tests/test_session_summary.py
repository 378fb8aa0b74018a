"""The analytics read model (revision 0110_session_summary): one wide row per scored session,
written by the repository when a session is scored or ended, back-filled by the migration, and
what the dashboard reads. Marked ``database``: `make test` runs these on PostgreSQL too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pandas as pd
import pytest
from alembic import command
from sqlalchemy import String, false, insert, select, type_coerce

from simulator.demo import seed_demo
from simulator.rubric import DIMENSIONS
from simulator.session import SessionService
from simulator.store import Repository, make_engine
from simulator.store.db import IMMEDIATE, alembic_config, migrate
from simulator.store.models import PracticeSession, Score, SessionSummary, User
from simulator.store.teams import TeamStore

pytestmark = pytest.mark.database


def _summary(repo: Repository, session_id: str) -> dict | None:
    with repo.engine.connect() as conn:
        row = conn.execute(select(SessionSummary).where(SessionSummary.session_id == session_id)).mappings().first()
    return dict(row) if row else None


def test_scoring_a_session_writes_its_summary_row(repo):
    ana = repo.add_user("ana", "trainee", None)
    svc = SessionService(repo)
    record = svc.start("water-bill-surge", "en", user_id=ana.id, seed=1)
    svc.say(record.id, "I'm so sorry, so your bill jumped to 512 thousand? When did you last see the meter reader?")
    assert _summary(repo, record.id) is None  # active: no summary yet
    card = svc.end(record.id)
    row = _summary(repo, record.id)
    assert row is not None
    assert row["user_id"] == ana.id and row["scenario_id"] == "water-bill-surge" and row["lang"] == "en"
    assert row["overall"] == pytest.approx(card.overall) and row["outcome"] == repo.get_session(record.id).outcome
    assert row["branch"] is False or row["branch"] == 0
    for dim in card.dimensions.values():
        expected = dim.score if dim.applies else None
        assert row[dim.key] == (pytest.approx(expected) if expected is not None else None)
    # re-scoring (save_scores again) rewrites the row
    repo.save_scores(record.id, [{"dimension": "listening", "score": 12.0}])
    row = _summary(repo, record.id)
    assert row["listening"] == 12.0 and all(row[k] is None for k in DIMENSIONS if k != "listening")
    # and the dashboard reads exactly that
    frame = TeamStore(repo).session_scores()
    assert list(frame["session_id"]) == [record.id] and frame["listening"].item() == 12.0


def test_branches_and_unscored_sessions_stay_off_the_dashboard(repo):
    ana = repo.add_user("ana", "trainee", None)
    svc = SessionService(repo)
    record = svc.start("water-bill-surge", "en", user_id=ana.id, seed=1)
    svc.say(record.id, "I'm sorry about the bill. Could you tell me your customer number?")
    svc.end(record.id)
    branch = svc.branch(record.id, 1, "So your bill went up and nothing changed at home?")
    svc.end(branch.session_id)
    assert _summary(repo, branch.session_id)["branch"] in (True, 1)
    repo.update_session(svc.start("water-bill-surge", "en", user_id=ana.id).id, status="ended")  # no scores
    assert list(TeamStore(repo).session_scores()["session_id"]) == [record.id]


def test_migration_back_fills_summaries_of_existing_sessions(db_url):
    """A database at revision 0003 with ended, scored sessions (and an active one) gains one
    summary row per scored session when upgraded to head."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(**{IMMEDIATE: True})
            with conn.begin():
                command.upgrade(alembic_config(conn), "0003")
        start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
        with engine.begin() as conn:
            uid = conn.execute(insert(User).values(name="ana", role="trainee", active=True, ui_lang="en",
                                                   created_at=start).returning(User.id)).scalar_one()
            for i, status in enumerate(("ended", "ended", "active")):
                conn.execute(insert(PracticeSession).values(
                    id=f"s{i}", user_id=uid, scenario_id="water-bill-surge", lang="en", engine="scripted", seed=i,
                    status=status, outcome="resolved" if status == "ended" else None, state_json={},
                    overall=60.0 + i if status == "ended" else None, started_at=start + timedelta(days=i),
                    ended_at=start + timedelta(days=i, minutes=9) if status == "ended" else None))
            conn.execute(insert(Score), [
                {"session_id": "s0", "dimension": "listening", "score": 70.0, "applies": True, "evidence_json": [],
                 "feedback": "", "better": "", "needs_review": False},
                {"session_id": "s0", "dimension": "referral", "score": 10.0, "applies": False, "evidence_json": [],
                 "feedback": "", "better": "", "needs_review": False},
                {"session_id": "s1", "dimension": "empathy", "score": 55.0, "applies": True, "evidence_json": [],
                 "feedback": "", "better": "", "needs_review": False},
            ])
        migrate(engine)
        repo = Repository(engine)
        assert _summary(repo, "s0")["listening"] == 70.0 and _summary(repo, "s0")["referral"] is None
        assert _summary(repo, "s1")["empathy"] == 55.0 and _summary(repo, "s1")["overall"] == 61.0
        assert _summary(repo, "s2") is None
        frame = TeamStore(repo).session_scores()
        assert sorted(frame["session_id"]) == ["s0", "s1"]
        assert set(frame["user"]) == {"ana"} and set(frame["role"]) == {"trainee"}
        assert frame.set_index("session_id").loc["s1", "ended_at"] == start + timedelta(days=1, minutes=9)
    finally:
        engine.dispose()


def test_seed_demo_writes_summaries(repo):
    result = seed_demo(repo, 4, 3, transcripts=False)
    frame = TeamStore(repo).session_scores()
    assert len(frame) == result.sessions
    with repo.engine.connect() as conn:
        scores = conn.execute(select(Score.session_id, Score.dimension, Score.score)).all()
    by_key = {(sid, dim): score for sid, dim, score in scores}
    for row in frame.itertuples():
        for key in DIMENSIONS:
            value = getattr(row, key)
            assert (value != value and (row.session_id, key) not in by_key) or by_key[(row.session_id, key)] == value


def _read_with_row_objects(store: TeamStore) -> pd.DataFrame:
    """The dashboard read as it was before it fetched driver tuples (frozen copy): SQLAlchemy row
    objects, timestamps as text on SQLite and as datetimes elsewhere. The reference for the next test."""
    s = SessionSummary
    stamps = [s.started_at, s.ended_at]
    if store.engine.dialect.name == "sqlite":
        stamps = [type_coerce(c, String()).label(c.key) for c in stamps]
    query = select(s.session_id, s.user_id, s.scenario_id, s.lang, s.outcome, s.overall, *stamps,
                   *[s.__table__.c[key] for key in DIMENSIONS]).where(
        s.overall.is_not(None), s.branch == false(), s.user_id.is_not(None))
    columns = ["session_id", "user_id", "scenario_id", "lang", "outcome", "overall", "started_at", "ended_at",
               *DIMENSIONS]
    with store.engine.connect() as conn:
        rows = conn.execute(query).all()
        users = conn.execute(select(User.id, User.name, User.role)).all()
    data = list(zip(*rows)) if rows else [()] * len(columns)
    frame = pd.DataFrame({name: pd.Series(values, dtype=object) for name, values in zip(columns, data, strict=True)})
    frame["user_id"] = frame["user_id"].astype(int)
    names = {uid: (name, role) for uid, name, role in users}
    frame = frame[frame["user_id"].isin(list(names))]
    frame.insert(2, "user", frame["user_id"].map(lambda u: names[u][0]).astype(object))
    frame.insert(3, "role", frame["user_id"].map(lambda u: names[u][1]).astype(object))
    frame = frame.reset_index(drop=True)
    for name in ("started_at", "ended_at"):
        frame[name] = pd.to_datetime(frame[name], utc=True, format="ISO8601")
    for name in ("overall", *DIMENSIONS):
        frame[name] = frame[name].astype(float)
    return frame


def test_dashboard_read_gives_the_frame_of_the_row_object_read(repo):
    """session_scores() reads the driver's tuples: the frame must be the one SQLAlchemy's rows
    gave (columns, dtypes, values, Python types, order), including missing scores, a missing
    outcome, a whole-second time, a time given in another zone and a summary of a deleted user."""
    seed_demo(repo, 5, 4, transcripts=False)
    jakarta = timezone(timedelta(hours=7))
    with repo.engine.begin() as conn:
        uid = conn.execute(select(User.id).limit(1)).scalar_one()
        for sid, user, outcome, ended in (("odd-1", uid, None, datetime(2026, 5, 4, 10, 0, 0, tzinfo=UTC)),
                                          ("odd-2", uid, "resolved", datetime(2026, 5, 4, 17, 0, 0, 12, tzinfo=jakarta)),
                                          ("odd-3", 99_999, "resolved", datetime(2026, 5, 5, tzinfo=UTC))):
            conn.execute(insert(PracticeSession).values(
                id=sid, user_id=uid, scenario_id="water-bill-surge", lang="en", engine="scripted", seed=1,
                status="ended", outcome=outcome, state_json={}, overall=42.5, started_at=ended - timedelta(minutes=5),
                ended_at=ended))
            conn.execute(insert(SessionSummary).values(
                session_id=sid, user_id=user, scenario_id="water-bill-surge", lang="en", outcome=outcome, overall=42.5,
                branch=False, started_at=ended - timedelta(minutes=5), ended_at=ended))
    store = TeamStore(repo)
    new, old = store.session_scores(), _read_with_row_objects(store)
    assert len(new) == len(old) > 12 and "odd-3" not in set(new["session_id"])
    assert new[new["session_id"] == "odd-1"][list(DIMENSIONS)].isna().all(axis=None)
    pd.testing.assert_frame_equal(new, old, check_exact=True)
    for name in new.columns[new.dtypes == object]:
        assert [type(v) for v in new[name]] == [type(v) for v in old[name]], name
