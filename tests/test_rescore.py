"""Determinism and versioning: the same transcript always gets the same offline score; every
stored score records the rubric version; ``python -m simulator rescore`` re-scores old sessions
under the current rubric and keeps the old figures; a what-if branch and its original are
compared under the same rules."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import yaml

from simulator import cli
from simulator.rubric import load_rubric
from simulator.scenario import ScenarioLibrary
from simulator.session import SessionService
from simulator.store import open_repository

CONVERSATIONS = yaml.safe_load((Path(__file__).parent / "data" / "conversations.yaml").read_text(encoding="utf-8"))
GOOD = CONVERSATIONS["water-bill-surge"]["en"]["good"]


@pytest.fixture
def db_url(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'rescore.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    return url


@pytest.fixture
def service(db_url):
    return SessionService(open_repository(db_url), ScenarioLibrary())


def play(service, turns, scenario="water-bill-surge", lang="en"):
    record = service.start(scenario, lang, seed=0)
    for text in turns:
        if service.say(record.id, text).ended:
            break
    card = service.scorecard(record.id) or service.end(record.id)
    return record.id, card


def test_the_same_transcript_always_gets_the_same_score(service):
    a, card_a = play(service, GOOD)
    b, card_b = play(service, GOOD)
    assert card_a.model_dump(exclude={"dimensions"}) == card_b.model_dump(exclude={"dimensions"})
    assert card_a.scores() == card_b.scores()
    assert service.rescored(a).scores() == card_a.scores() == service.rescored(b).scores()


def test_stored_scores_record_the_rubric_version_and_read_back_the_same(service):
    sid, card = play(service, GOOD[:2])
    assert card.rubric_version == load_rubric().version
    stored = service.scorecard(sid)
    assert stored.rubric_version == card.rubric_version
    assert stored.overall == card.overall and stored.cap == card.cap and stored.fixes == card.fixes
    assert {k: d.status for k, d in stored.dimensions.items()} == {k: d.status for k, d in card.dimensions.items()}


def _age(service, sid, overall=99.0):
    """Make a session look scored under an older rubric (version 1, a different overall)."""
    record = service.session(sid)
    state = dict(record.state)
    state["scorecard"] = {**state.get("scorecard", {}), "rubric_version": "1"}
    service.repo.update_session(sid, state=state, overall=overall)


def test_rescore_cli_rescores_old_sessions_and_keeps_the_old_figures(service):
    old_sid, card = play(service, GOOD[:2])
    current_sid, _ = play(service, GOOD)
    _age(service, old_sid)
    out = io.StringIO()
    assert cli.main(["rescore", "--json"], out=out) == 0
    report = json.loads(out.getvalue())
    assert report["rescored"] == 1 and [s["session"] for s in report["sessions"]] == [old_sid]
    entry = report["sessions"][0]
    assert entry["overall_before"] == 99.0 and entry["overall_after"] == card.overall
    record = service.session(old_sid)
    assert record.overall == card.overall
    (history,) = record.state["score_history"]
    assert history["rubric_version"] == "1" and history["overall"] == 99.0 and history["dimensions"]
    assert service.scorecard(old_sid).rubric_version == load_rubric().version
    # nothing left to do: every session is on the current version
    out = io.StringIO()
    assert cli.main(["rescore"], out=out) == 0
    assert "re-scored 0 session(s)" in out.getvalue()
    assert "score_history" not in service.session(current_sid).state


def test_rescore_dry_run_stores_nothing(service):
    sid, _ = play(service, GOOD[:2])
    _age(service, sid)
    out = io.StringIO()
    assert cli.main(["rescore", "--dry-run"], out=out) == 0
    assert "would re-score 1 session(s)" in out.getvalue()
    assert service.session(sid).overall == 99.0


def test_rescore_an_unknown_session_is_a_clear_error(service, capsys):
    assert cli.main(["rescore", "--session", "nope"], out=io.StringIO()) == 1
    assert "nope" in capsys.readouterr().err


def test_a_branch_that_solves_the_problem_faster_is_not_scored_lower(service):
    """The original takes six turns; the branch replaces the second turn with one that asks the
    question and commits at once (same substance, fewer turns)."""
    sid, original = play(service, GOOD)
    record_turns = service.transcript(sid)
    second = [t.idx for t in record_turns if t.speaker == "trainee"][1]
    faster = (
        "Let me check it now: may I have your connection number and the meter reading you see at home? "
        "If our reader got it wrong that's our mistake: complaint number PGD-0217-045, a meter reader re-checks it "
        "on Wednesday between 8 and 12, and the overpayment is credited to next month's bill."
    )
    result = service.branch(sid, second, faster)
    branch_id = result.session_id
    for text in GOOD[4:]:
        if service.session(branch_id).status != "active":
            break
        service.say(branch_id, text)
    branch = service.scorecard(branch_id) or service.end(branch_id)
    assert branch.rubric_version == original.rubric_version
    assert len(service.trainee_turns(branch_id)) < len(service.trainee_turns(sid))
    assert branch.outcome in ("resolved", "referred"), (branch.outcome, branch.scores())
    assert branch.overall >= original.overall, (branch.scores(), original.scores(), [t.text for t in service.trainee_turns(branch_id)])
