"""The offline customer: deterministic for a seed, lines from the scenario and the shared banks."""

from __future__ import annotations

import random

from simulator.customers.base import CustomerContext, CustomerEngine, Reply
from simulator.scenario import Scenario, Situation, lines_for

# Where to look when a situation's lines are used up, so no line is ever said twice.
_FALLBACK = {
    Situation.unknown_question: [Situation.unheard],
    Situation.fact_already_given: [Situation.unknown_question, Situation.unheard],
    Situation.empty_apology: [Situation.unheard],
    Situation.asks_remedy: [Situation.asks_when, Situation.calmer],
    Situation.asks_when: [Situation.vague_time, Situation.calmer],
    Situation.threat: [Situation.angrier],
    Situation.wrong_referral: [Situation.angrier],
}
_REACTIONS_BEFORE_FACTS = {Situation.angrier, Situation.wrong_referral, Situation.threat}


class ScriptedCustomer(CustomerEngine):
    name = "scripted"

    def opening(self, scenario: Scenario, seed: int) -> str:
        return scenario.opening

    def reply(self, ctx: CustomerContext) -> Reply:
        return Reply(self._text(ctx))

    def _text(self, ctx: CustomerContext) -> str:
        situation = ctx.mood.situation or Situation.unheard
        said = {line.text for line in ctx.transcript if line.speaker == "customer"}
        rng = random.Random(f"{ctx.seed}:{ctx.mood.turn}")
        facts = [f.reveal for f in ctx.scenario.hidden_facts if f.id in ctx.new_facts]
        if facts and ctx.mood.outcome is None:
            if situation in _REACTIONS_BEFORE_FACTS:
                return f"{self._pick(ctx.scenario, situation, said, rng)} {' '.join(facts)}"
            return " ".join(facts)
        return self._pick(ctx.scenario, situation, said, rng)

    def _pick(self, scenario: Scenario, situation: Situation, said: set[str], rng: random.Random) -> str:
        order = [situation, *_FALLBACK.get(situation, []), *Situation]
        for candidate in order:
            fresh = [line for line in lines_for(scenario, candidate) if line not in said]
            if fresh:
                return rng.choice(fresh)
        # Every line of every situation was said already: a long session on a tiny bank.
        return rng.choice(lines_for(scenario, situation))
