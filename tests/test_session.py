"""The session service against a real SQLite database: turns committed, bad input refused, branches."""

import pytest

from simulator.scenario import UnknownScenario
from simulator.session import MAX_TURN_CHARS, InputError, SessionService
from simulator.store import Repository, make_engine


@pytest.fixture
def service(repo):
    return SessionService(repo)


def test_every_turn_is_committed_as_it_happens(service, db_url):
    record = service.start("water-bill-surge", "en", seed=1)
    service.say(record.id, "I'm sorry, that bill must be a shock.")
    fresh = Repository(make_engine(db_url))  # a second connection sees the turns at once
    turns = fresh.get_turns(record.id)
    assert [t.speaker for t in turns] == ["customer", "trainee", "customer"]
    assert turns[1].analysis["tags"] and turns[1].mood["anger"] >= 0


@pytest.mark.parametrize("text", ["", "   \n ", "x" * (MAX_TURN_CHARS + 1)])
def test_empty_or_overlong_turns_are_refused_and_nothing_stored(service, text):
    record = service.start("water-bill-surge", "en", seed=1)
    with pytest.raises(InputError) as exc:
        service.say(record.id, text)
    assert "empty" in str(exc.value) or str(MAX_TURN_CHARS) in str(exc.value)
    assert len(service.transcript(record.id)) == 1


def test_unknown_scenario_lists_known_ids(service):
    with pytest.raises(UnknownScenario) as exc:
        service.start("no-such", "en")
    assert "water-bill-surge" in str(exc.value)
    with pytest.raises(UnknownScenario) as exc:
        service.start("water-bill-surge", "fr")
    assert "id, en" in str(exc.value)


def test_end_scores_and_stores_the_scorecard(service):
    record = service.start("water-bill-surge", "en", seed=1)
    service.say(record.id, "I'm so sorry, a bill like that would shock anyone.")
    card = service.end(record.id)
    assert card.outcome == "abandoned"
    stored = service.scorecard(record.id)
    assert stored.overall == card.overall and stored.scores() == card.scores()
    assert service.session(record.id).status == "ended"
    with pytest.raises(InputError):
        service.say(record.id, "one more thing")
    assert service.end(record.id).overall == card.overall  # idempotent


def test_what_if_branch_continues_from_a_turn_and_leaves_the_original(service):
    record = service.start("water-bill-surge", "en", seed=1)
    service.say(record.id, "I'm sorry, that bill must be a shock.")
    service.say(record.id, "That's not our problem, the system is never wrong.")
    original = [t.text for t in service.transcript(record.id)]
    result = service.branch(record.id, 3, "Could you tell me what the meter showed?")
    branch = service.session(result.session_id)
    assert branch.parent_id == record.id and branch.branch_turn == 3
    branch_turns = service.transcript(branch.id)
    assert [t.text for t in branch_turns[:3]] == original[:3]
    assert branch_turns[3].text == "Could you tell me what the meter showed?"
    assert [t.text for t in service.transcript(record.id)] == original
    assert result.mood.revealed  # the question found a fact in the branch
    with pytest.raises(InputError):
        service.branch(record.id, 2, "customer turns cannot be replaced")


def test_a_turn_that_is_no_reply_asks_nothing_and_calms_nobody(service):
    """"lol banana tuesday" earns a time from "tuesday"; flagged as nonsense it gives none, and the
    customer is no calmer for it than for a plain keyboard mash."""
    angers = {}
    for text in ("🍛🍛🤢🤢 lol banana tuesday", "asdfgh jkl;; qwe"):
        record = service.start("catering-stale-food", "en", seed=0)
        result = service.say(record.id, text)
        angers[text] = result.mood.anger
        assert result.mood.time_given is False and result.mood.revealed == []
    assert angers["🍛🍛🤢🤢 lol banana tuesday"] == angers["asdfgh jkl;; qwe"]


def test_warm_up_loads_what_the_first_turn_of_each_language_needs():
    from simulator.session import WARM_UP_TURNS, warm_up
    from simulator.understanding import rules

    rules._compiled.cache_clear()
    warm_up()  # one throwaway turn per language, on an in-memory database
    assert set(WARM_UP_TURNS) == {"en", "id"}
    assert rules._compiled.cache_info().currsize == 2
