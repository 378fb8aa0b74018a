"""The scripted customer: deterministic, reacts to what the trainee did, never repeats a line."""

from simulator.analysis import analyze
from simulator.customers.base import facts_asked
from simulator.scenario import ScenarioLibrary, Situation, lines_for
from simulator.session import SessionService

LIB = ScenarioLibrary()


def test_facts_come_out_only_for_a_fitting_question():
    scenario = LIB.get("water-bill-surge", "en")
    question = "Could you tell me what the meter showed when you checked it?"
    new, repeated = facts_asked(question, analyze(question, "en", scenario=scenario), scenario, [])
    assert new and not repeated
    cause = next(f.id for f in scenario.hidden_facts if f.is_cause)
    assert cause in new
    statement = "The meter is fine."
    assert facts_asked(statement, analyze(statement, "en", scenario=scenario), scenario, [])[0] == []
    again = facts_asked(question, analyze(question, "en", scenario=scenario), scenario, new)
    assert again == ([], True)


def test_same_seed_same_conversation_and_no_repeated_lines(repo):
    service = SessionService(repo, LIB)
    replies = ["ok", "hmm", "right", "I see", "yes", "fine", "well", "sure", "okay then", "and?"]
    transcripts = []
    for _ in range(2):
        record = service.start("warranty-defect", "en", seed=42)
        for text in replies:
            if service.say(record.id, text).ended:
                break
        transcripts.append([t.text for t in service.transcript(record.id)])
    assert transcripts[0] == transcripts[1]
    customer_lines = transcripts[0][0::2]
    assert len(customer_lines) == len(set(customer_lines))


def test_customer_reveals_fact_in_scenario_language(repo):
    service = SessionService(repo, LIB)
    scenario = LIB.get("water-bill-surge", "id")
    record = service.start("water-bill-surge", "id", seed=1)
    result = service.say(record.id, "Mohon maaf, Bu. Boleh saya tahu angka di meteran Ibu berapa?")
    cause = next(f for f in scenario.hidden_facts if f.is_cause)
    assert cause.reveal.strip() in result.customer
    assert cause.id in result.mood.revealed


def test_defensiveness_gets_an_angrier_line(repo):
    service = SessionService(repo, LIB)
    scenario = LIB.get("water-bill-surge", "en")
    record = service.start("water-bill-surge", "en", seed=5)
    result = service.say(record.id, "Our meters are never wrong, that is not our fault.")
    assert result.mood.situation in (Situation.angrier, Situation.walked_away)
    assert result.customer in lines_for(scenario, result.mood.situation)


def test_correct_referral_is_accepted_wrong_one_protested(repo):
    service = SessionService(repo, LIB)
    scenario = LIB.get("wrong-agency", "en")
    party_cue = scenario.handling.referral.accept_cues[0]
    wrong = service.start("wrong-agency", "en", seed=2)
    protest = service.say(wrong.id, "Please take this to the city hall's public works office.")
    assert protest.mood.situation is Situation.wrong_referral and not protest.ended
    right = service.start("wrong-agency", "en", seed=2)
    service.say(right.id, "I'm so sorry for the trouble of coming all the way here, that is frustrating.")
    accepted = service.say(right.id, f"Electricity is handled by {party_cue.upper()}; you can contact {scenario.handling.referral.contact}")
    assert accepted.ended and accepted.outcome == "referred"
    # Answers due come first (the reply policy): "have the customer ID ready" may read as asking for it.
    assert any(accepted.customer.endswith(line) for line in lines_for(scenario, Situation.accept_referral))
