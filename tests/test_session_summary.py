"""The analytics read model (revision 0110_session_summary): one wide row per scored session,
written by the repository when a session is scored or ended, back-filled by the migration, and
what the dashboard reads. Marked ``database``: `make test` runs these on PostgreSQL too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import insert, select

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
