"""Many at once, small and fast: concurrent trainees and several app processes on one database.

Marked ``database``: `make test` runs these on SQLite and again on PostgreSQL. The full-size
version (50 trainees, figures in docs/benchmarks.md) is ``python bench/load.py``.
"""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from bench.load import plays_from_events, read_events, run_threads, spawn_worker, verify
from simulator.store import open_repository
from simulator.store.db import current_revision, head_revision

pytestmark = pytest.mark.database


def test_concurrent_trainees_store_every_turn_exactly_once(repo):
    plays, _wall = run_threads(repo, list(range(8)), turns=5, time_limit=120)
    assert [p.error for p in plays if p.error] == []
    assert all(p.ended and len(p.sent) >= 1 for p in plays)
    assert len({p.session_id for p in plays}) == 8
    assert verify(repo, plays) == []


def test_think_time_comes_before_each_turn_and_stays_out_of_its_latency(repo):
    """``--think``: a trainee pauses before every turn (0.5-1.5 x the mean); a turn's latency is
    the turn alone."""
    plays, wall = run_threads(repo, [0, 1], turns=3, time_limit=120, think=0.4)
    assert verify(repo, plays) == []
    for play in plays:
        assert len(play.sent) >= 2
        paused = 0.2 * len(play.sent)  # at least half the mean before each turn
        assert wall >= paused
        assert sum(play.latencies_ms) / 1000 <= wall - paused


def test_verify_notices_a_lost_duplicated_or_foreign_turn(repo):
    """The checker itself: each kind of damage is reported (so a clean result means something)."""
    plays, _ = run_threads(repo, [0, 1], turns=2, time_limit=60)
    assert verify(repo, plays) == []
    lost = replace(plays[0], sent=[*plays[0].sent, "never stored"], replies=[*plays[0].replies, "never stored"])
    assert verify(repo, [lost, plays[1]])
    repo.append_turns(plays[1].session_id, [{"speaker": "trainee", "text": plays[1].sent[-1]},
                                            {"speaker": "customer", "text": plays[1].replies[-1]}])
    problems = verify(repo, plays)
    assert any(plays[1].session_id in p for p in problems) and any("turns stored in all" in p for p in problems)


def test_several_app_processes_share_one_database(db_url):
    """Three OS processes (app replicas) open the same new database at once — each migrates it at
    start-up — and play sessions side by side; nothing lives only in one process."""
    start_at = time.time() + 4.0  # all three begin together, after their imports and migrations
    workers = [spawn_worker(db_url, first, 2, turns=4, time_limit=120, start_at=start_at) for first in (0, 2, 4)]
    events = []
    for worker in workers:
        out, err = worker.communicate(timeout=180)
        assert worker.returncode == 0, err[-3000:]
        events += list(read_events(iter(out.splitlines())))
    pids = {e["pid"] for e in events if e["event"] == "done"}
    assert len(pids) == 3
    plays = plays_from_events(events)
    assert len(plays) == 6 and [p.error for p in plays if p.error] == []
    repo = open_repository(db_url)  # a fourth process's view: everything the others acknowledged
    try:
        assert current_revision(repo.engine) == head_revision()
        assert verify(repo, plays) == []
    finally:
        repo.close()


def test_worker_refuses_unbounded_runs():
    from bench.load import main

    with pytest.raises(SystemExit):
        main(["--trainees", "5000", "--no-report"])
