"""The mood model: substance calms, words alone barely do, defensiveness and ignored threats escalate."""

from simulator.analysis_types import Tag, TurnAnalysis
from simulator.mood import Outcome, initial_state, update
from simulator.scenario import Situation
from tests.scenario_factory import make_scenario


def turn(*tags: Tag, **extra) -> TurnAnalysis:
    return TurnAnalysis(tags=list(tags), **extra)


def play(scenario, analyses, facts_per_turn=None):
    state = initial_state(scenario)
    states = []
    for i, analysis in enumerate(analyses):
        facts = (facts_per_turn or {}).get(i, [])
        state = update(state, analysis, scenario, facts)
        states.append(state)
    return states


def test_update_is_pure():
    scenario = make_scenario()
    state = initial_state(scenario)
    before = state.model_dump()
    update(state, turn(Tag.defensive), scenario, [])
    assert state.model_dump() == before


def test_defensiveness_raises_anger_and_lowers_trust():
    scenario = make_scenario()
    start = initial_state(scenario)
    after = update(start, turn(Tag.defensive), scenario, [])
    assert after.anger > start.anger
    assert after.trust < start.trust
    assert after.situation is Situation.angrier


def test_repeated_apologies_stop_helping():
    scenario = make_scenario()
    states = play(scenario, [turn(Tag.apology)] * 4)
    first_drop = initial_state(scenario).anger - states[0].anger
    later_change = states[2].anger - states[3].anger
    assert first_drop > 0.5
    assert later_change <= 0  # the fourth apology without action calms nothing
    assert states[3].situation is Situation.empty_apology or states[3].outcome is not None


def test_words_alone_do_not_resolve():
    scenario = make_scenario()
    states = play(scenario, [turn(Tag.apology, Tag.empathy)] * 12)
    assert all(s.outcome is not Outcome.resolved for s in states)
    assert states[-1].outcome in (Outcome.walked_away, Outcome.turn_limit)


def test_substance_resolves():
    scenario = make_scenario()
    analyses = [
        turn(Tag.acknowledge, Tag.apology, Tag.empathy),
        turn(Tag.question),
        turn(Tag.question),
        turn(Tag.time_estimate, Tag.compensation, time_days=3),
    ]
    states = play(scenario, analyses, facts_per_turn={1: ["meter"], 2: ["since"]})
    assert states[1].cause_found
    assert states[-1].outcome is Outcome.resolved


def test_remedy_is_needed_where_the_institution_is_at_fault():
    scenario = make_scenario()
    analyses = [
        turn(Tag.acknowledge, Tag.apology, Tag.empathy),
        turn(Tag.question),
        turn(Tag.time_estimate, time_days=3),
        turn(Tag.empathy),
    ]
    states = play(scenario, analyses, facts_per_turn={1: ["meter"]})
    assert all(s.outcome is not Outcome.resolved for s in states)


def test_unrealistic_time_frame_does_not_count():
    scenario = make_scenario()
    good = update(initial_state(scenario), turn(Tag.time_estimate, time_days=3), scenario, [])
    bad = update(initial_state(scenario), turn(Tag.time_estimate, time_days=30), scenario, [])
    assert good.time_given and not bad.time_given
    assert bad.trust < good.trust


def test_correct_referral_ends_referred_and_wrong_one_angers():
    scenario = make_scenario(
        id="test-wrong-agency",
        fault="third_party",
        handling={
            "compensation_due": False,
            "time_frame": "today",
            "referral": {"target": "other", "party": "PLN", "contact": "123", "accept_cues": ["pln"]},
        },
        persona={"name": "Bu Rini", "temperament": "confused", "mood": {"anger": 4, "trust": 4}, "speaking_style": "polite"},
    )
    start = initial_state(scenario)
    right = update(start, turn(Tag.apology, Tag.referral, referral_target="other", referral_matches=True), scenario, [])
    wrong = update(start, turn(Tag.referral, referral_target="other", referral_matches=False), scenario, [])
    assert right.outcome is Outcome.referred
    assert right.situation is Situation.accept_referral
    assert wrong.outcome is None and wrong.anger > start.anger
    assert wrong.situation is Situation.wrong_referral


def test_ignored_threats_escalate_and_addressed_ones_calm():
    scenario = make_scenario(
        persona={"name": "Pak Joko", "temperament": "threatening", "mood": {"anger": 8, "trust": 2, "threat": 6}, "speaking_style": "loud"},
        handling={"compensation_due": False, "time_frame": "now", "referral": {"target": "security"}},
    )
    ignored = play(scenario, [turn(Tag.question)] * 4)
    assert ignored[-1].outcome is Outcome.escalated
    assert any(s.situation is Situation.threat for s in ignored[:-1])
    addressed = play(scenario, [turn(Tag.empathy, Tag.acknowledge), turn(Tag.referral, referral_target="security", referral_matches=True)])
    assert addressed[0].threat < 6
    assert addressed[-1].outcome is Outcome.referred


def test_turn_limit():
    scenario = make_scenario(max_turns=3, persona={"name": "Bu Sri", "temperament": "anxious", "mood": {"anger": 3, "trust": 5}, "speaking_style": "worried"})
    states = play(scenario, [turn(Tag.acknowledge), turn(Tag.empathy), turn(Tag.apology)])
    assert states[-1].outcome is Outcome.turn_limit


def test_a_hand_off_with_a_time_where_no_referral_is_needed_is_no_brush_off():
    scenario = make_scenario()  # handling.referral.target: none
    start = initial_state(scenario)
    brush_off = update(start, turn(Tag.referral, referral_target="other"), scenario, [])
    hand_off = update(start, turn(Tag.referral, Tag.time_estimate, referral_target="other", time_days=1.0), scenario, [])
    assert brush_off.anger > start.anger and brush_off.situation is Situation.wrong_referral
    assert hand_off.anger <= start.anger and hand_off.referral is None
