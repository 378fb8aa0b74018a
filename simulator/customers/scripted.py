"""The offline customer: deterministic for a seed, a reply policy over scenario and shared lines.

With the dialogue state (``ctx.dialogue``, see ``simulator.dialogue``) the engine voices what the
state decided: the answers due now, a reaction of the chosen reply type, a short reply to each
other question (that's right / all right / either will do / I'm not sure), and — after a
reaction that helps — what the customer still needs. Lines whose conditions do not hold, or
whose slots have no value, are never said; the scenario's own lines come before the shared
bank's, which are put in the persona's voice. On the ending turn, answers due come first and the
closing line last.
"""

from __future__ import annotations

import random

from simulator.customers.base import CustomerContext, CustomerEngine, Reply
from simulator.dialogue import choose_line, knowledge_answer, need_asks
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
    Situation.admission: [Situation.calmer],
    Situation.apology_accepted: [Situation.calmer],
    Situation.push_time: [Situation.vague_time, Situation.asks_when],
    Situation.accept_commitment: [Situation.calmer],
    Situation.referral_missing: [Situation.wrong_referral],
    Situation.one_word: [Situation.unheard],
    Situation.other_language: [Situation.unheard],
    Situation.closing_question: [Situation.unheard],
    Situation.security_called: [Situation.calmer],
    Situation.answer_unknown: [],
    Situation.other_unknown: [],
    Situation.confirmed: [Situation.calmer],
    Situation.either_way: [Situation.agree],
    Situation.progress: [Situation.calmer],
    Situation.not_yet: [Situation.answer_unknown],
    Situation.show_evidence: [],
}
_REACTIONS_BEFORE_FACTS = {Situation.angrier, Situation.wrong_referral, Situation.threat}
_BEFORE_ANSWERS = _REACTIONS_BEFORE_FACTS | {Situation.show_evidence, Situation.security_called,
                                              Situation.fact_already_given}
#: Reactions said after the answers of the same turn ("My number's 0812…. Thursday before 3, right.").
_AFTER_ANSWERS = {Situation.accept_commitment}
_ASK_SITUATION = {"next_step": Situation.asks_when, "remedy": Situation.asks_remedy}


class ScriptedCustomer(CustomerEngine):
    name = "scripted"

    def opening(self, scenario: Scenario, seed: int) -> str:
        return scenario.opening

    def reply(self, ctx: CustomerContext) -> Reply:
        if ctx.dialogue is not None:
            return Reply(self._policy(ctx))
        return Reply(self._text(ctx))

    # -- the needs-driven policy ----------------------------------------------------------------
    def _policy(self, ctx: CustomerContext) -> str:
        d, scenario = ctx.dialogue, ctx.scenario
        said = {line.text for line in ctx.transcript if line.speaker == "customer"}
        rng = random.Random(f"{ctx.seed}:{d.turn}")
        answers = [a for a in (knowledge_answer(scenario, i) for i in d.reveal) if a]
        reaction = self._line(scenario, d.reply, d, said, rng) if d.reply is not None else None
        also = [(r, line) for r in d.also if (line := self._line(scenario, r, d, said, rng))]
        if d.outcome is not None:
            return " ".join([*answers, *(line for _r, line in also), reaction or ""]).strip()
        parts: list[str] = []
        if reaction and d.reply in _BEFORE_ANSWERS:
            parts = [reaction, *answers]
        elif answers:
            parts = [*answers, *([reaction] if reaction and d.reply in _AFTER_ANSWERS else [])]
        elif reaction:
            parts = [reaction]
        # "The other thing, I don't know" speaks of a question beside the answered ones: after them
        first = [d.also_first and r is not Situation.other_unknown for r, _line in also]
        parts = [*(line for (_r, line), f in zip(also, first) if f), *parts,
                 *(line for (_r, line), f in zip(also, first) if not f)]
        if d.ask_next:
            ask = self._ask(scenario, d, said | set(parts), rng)
            if ask:
                parts.append(ask)
        return " ".join(parts).strip() or self._line(scenario, Situation.unheard, d, said, rng) or ""

    def _line(self, scenario: Scenario, situation: Situation, d, said: set[str], rng: random.Random) -> str | None:
        pick = rng.choice
        for candidate in [situation, *_FALLBACK.get(situation, [])]:
            line = choose_line(scenario, candidate, d, said, pick)
            if line:
                return line
        # Every fitting line was said already: repeat one rather than say something unfitting.
        return choose_line(scenario, situation, d, set(), pick)

    def _ask(self, scenario: Scenario, d, said: set[str], rng: random.Random) -> str | None:
        own = [line for line in need_asks(scenario, d.ask_next) if not any(line in earlier for earlier in said)]
        if own:
            return rng.choice(own)
        need = d.need(d.ask_next)
        situation = _ASK_SITUATION.get(need.kind) if need else None
        if situation is None:
            return None
        return choose_line(scenario, situation, d, said, rng.choice)

    # -- the situation-driven engine (a context without dialogue state) ---------------------------
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
