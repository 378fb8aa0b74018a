"""The customer's inner state and its update rule: a pure function of state, analysis and scenario.

Substance moves the customer, words alone barely do: a first sincere apology helps a little and
repeated ones stop helping; restating the problem and asking the right question build trust; a
concrete, realistic time frame and a fitting remedy resolve; defensiveness and hostility raise
anger; threats that are not addressed escalate. The sensitivities per temperament live in
``simulator/mood.yaml``.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from simulator.analysis_types import Tag, TurnAnalysis
from simulator.datafile import load_yaml
from simulator.scenario import ReferralTarget, Scenario, Situation, Temperament

MOOD_PARAMS_FILE = Path(__file__).with_name("mood.yaml")


class Outcome(StrEnum):
    resolved = "resolved"
    referred = "referred"
    walked_away = "walked_away"
    escalated = "escalated"
    turn_limit = "turn_limit"


class Sensitivity(BaseModel):
    """How strongly one temperament reacts; every effect in ``Effects`` is scaled by these."""

    model_config = ConfigDict(extra="forbid")
    anger_up: float  # multiplier for anger increases (defensiveness, hostility, being ignored)
    anger_down: float  # multiplier for anger decreases (substance)
    trust: float  # multiplier for trust changes
    threat_up: float  # threat added per turn a threat is left unaddressed
    patience: int  # turns of no substance before walking away


class Effects(BaseModel):
    """Base effect sizes of trainee behaviours on anger/trust/threat (before sensitivity)."""

    model_config = ConfigDict(extra="forbid")
    acknowledge_first: float
    acknowledge_again: float
    question_fact: float
    cause_found: float
    apology_first: float
    apology_second: float
    empathy: float
    empathy_repeat: float
    time_ok: float
    time_unrealistic: float
    remedy_due: float
    remedy_undue: float
    referral_correct: float
    referral_wrong: float
    defensive: float
    hostile: float
    no_substance: float
    high_anger_threat: float


class MoodParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    temperaments: dict[Temperament, Sensitivity]
    effects: Effects
    resolve_anger_max: float
    resolve_trust_min: float
    accept_referral_trust_min: float
    walk_away_trust_max: float
    walk_away_anger_min: float


@lru_cache(maxsize=1)
def load_params(path: Path = MOOD_PARAMS_FILE) -> MoodParams:
    return load_yaml(path, MoodParams)


class MoodState(BaseModel):
    """The customer's state after a turn, plus what the customer remembers of the conversation."""

    anger: float
    trust: float
    threat: float
    turn: int = 0  # trainee turns so far
    apologies: int = 0
    empathies: int = 0
    acknowledged: bool = False
    revealed: list[str] = Field(default_factory=list)
    cause_found: bool = False
    time_given: bool = False
    remedy_given: bool = False
    referral: str | None = None  # "correct" or "wrong" once the trainee referred
    idle_turns: int = 0
    ignored_threats: int = 0
    situation: Situation | None = None  # what the customer reacts to this turn
    outcome: Outcome | None = None

    def levels(self) -> dict[str, float]:
        return {"anger": round(self.anger, 2), "trust": round(self.trust, 2), "threat": round(self.threat, 2)}


def initial_state(scenario: Scenario) -> MoodState:
    start = scenario.persona.mood
    return MoodState(anger=start.anger, trust=start.trust, threat=start.threat)


def _clamp(value: float) -> float:
    return max(0.0, min(10.0, value))


def sends_nowhere(analysis: TurnAnalysis) -> bool:
    """A referral only the learned head heard ("We will contact you. The issue will be resolved."):
    no phrase sends the customer anywhere, it names no right party and brushes nobody off. The
    customer has nothing to protest, and it is no wrong referral."""
    return (
        analysis.has(Tag.referral)
        and not analysis.referral_phrase
        and analysis.referral_matches is not True
        and not analysis.has(Tag.defensive)
    )


def is_handoff(analysis: TurnAnalysis, scenario: Scenario) -> bool:
    """A referral where none is needed, with a time or a remedy attached ("Pak Wahyu will call you
    by 2 p.m. tomorrow"): the case stays here, handed on with ownership, so it is no brush-off."""
    return (
        analysis.has(Tag.referral)
        and scenario.handling.referral.target is ReferralTarget.none
        and (analysis.has(Tag.time_estimate) or analysis.has(Tag.compensation))
    )


def update(
    state: MoodState,
    analysis: TurnAnalysis,
    scenario: Scenario,
    new_facts: list[str],
    repeated_fact: bool = False,
) -> MoodState:
    """The state after one trainee turn. ``new_facts`` are hidden fact ids this turn revealed;
    ``repeated_fact``: the turn asked again for a fact already told (not idle, not progress)."""
    params = load_params()
    fx = params.effects
    sens = params.temperaments[scenario.persona.temperament]
    s = state.model_copy(deep=True)
    s.turn += 1
    s.situation = None
    d_anger = 0.0  # negative calms
    d_trust = 0.0
    substance = False
    threat_addressed = False

    def calm(amount: float) -> None:
        nonlocal d_anger, d_trust
        d_anger -= amount * sens.anger_down
        d_trust += amount * sens.trust

    has = analysis.has
    if has(Tag.acknowledge) and not analysis.stuffing:
        calm(fx.acknowledge_again if s.acknowledged else fx.acknowledge_first)
        substance = substance or not s.acknowledged
        s.acknowledged = True
        threat_addressed = True
    if new_facts:
        calm(fx.question_fact * len(new_facts))
        s.revealed.extend(new_facts)
        substance = True
        cause_ids = {f.id for f in scenario.hidden_facts if f.is_cause}
        if cause_ids & set(new_facts) and not s.cause_found:
            s.cause_found = True
            calm(fx.cause_found)
    if has(Tag.apology) and not analysis.stuffing:
        s.apologies += 1
        if s.apologies == 1:
            calm(fx.apology_first)
            substance = True
        elif s.apologies == 2:
            calm(fx.apology_second)
    if has(Tag.empathy) and not analysis.stuffing:
        s.empathies += 1
        calm(fx.empathy if s.empathies <= 2 else fx.empathy_repeat)
        substance = substance or s.empathies == 1
        threat_addressed = True
    if has(Tag.time_estimate):
        realistic = analysis.time_days is None or analysis.time_days <= scenario.handling.max_days
        if realistic:
            calm(fx.time_ok if not s.time_given else fx.time_ok / 3)
            substance = substance or not s.time_given
            s.time_given = True
        else:
            d_trust -= fx.time_unrealistic * sens.trust
    if has(Tag.compensation):
        if scenario.handling.compensation_due:
            calm(fx.remedy_due if not s.remedy_given else fx.remedy_due / 4)
            substance = substance or not s.remedy_given
        else:
            calm(fx.remedy_undue)
        s.remedy_given = True
    if has(Tag.referral):
        target = scenario.handling.referral.target
        correct = target is not ReferralTarget.none and analysis.referral_matches is True
        if correct:
            calm(fx.referral_correct)
            s.referral = "correct"
            substance = True
            threat_addressed = True
        elif not is_handoff(analysis, scenario) and not sends_nowhere(analysis):
            d_anger += fx.referral_wrong * sens.anger_up
            d_trust -= fx.referral_wrong * sens.trust
            s.referral = s.referral if s.referral == "correct" else "wrong"
            s.situation = Situation.wrong_referral
    if has(Tag.defensive):
        d_anger += fx.defensive * sens.anger_up
        d_trust -= fx.defensive * sens.trust
        s.situation = s.situation or Situation.angrier
    if has(Tag.hostile):
        d_anger += fx.hostile * sens.anger_up
        d_trust -= fx.hostile * sens.trust
        s.threat += fx.hostile
        s.situation = s.situation or Situation.angrier
    if not substance and not repeated_fact and not (has(Tag.defensive) or has(Tag.hostile)):
        s.idle_turns += 1
        d_anger += fx.no_substance * sens.anger_up
    elif substance:
        s.idle_turns = 0

    # Threats: a threatening customer's threat grows every turn it is not addressed, and anyone
    # pushed to high anger starts to threaten (the Ombudsman, going viral, a lawyer).
    if scenario.threatening and not threat_addressed:
        s.ignored_threats += 1
        s.threat += sens.threat_up
    elif threat_addressed:
        s.threat -= 1.5
    if s.anger + d_anger >= 8:
        s.threat += fx.high_anger_threat

    s.anger = _clamp(s.anger + d_anger)
    s.trust = _clamp(s.trust + d_trust)
    s.threat = _clamp(s.threat)
    s.outcome = _outcome(s, scenario, params, sens)
    if s.situation is None:
        s.situation = _situation(s, state, analysis, scenario, new_facts, d_anger)
        if s.situation is Situation.unknown_question and repeated_fact:
            s.situation = Situation.fact_already_given
    return s


def _needs_met(s: MoodState, scenario: Scenario) -> bool:
    h = scenario.handling
    return (
        (s.cause_found or not h.needs_cause)
        and s.time_given
        and (s.remedy_given or not h.compensation_due)
    )


def _outcome(s: MoodState, scenario: Scenario, params: MoodParams, sens: Sensitivity) -> Outcome | None:
    if s.threat >= 10:
        return Outcome.escalated
    if s.trust <= params.walk_away_trust_max and s.anger >= params.walk_away_anger_min:
        return Outcome.walked_away
    if s.idle_turns >= sens.patience:
        return Outcome.walked_away
    if s.referral == "correct" and s.trust >= params.accept_referral_trust_min:
        return Outcome.referred
    if (
        scenario.handling.referral.target is ReferralTarget.none
        and s.anger <= params.resolve_anger_max
        and s.trust >= params.resolve_trust_min
        and _needs_met(s, scenario)
    ):
        return Outcome.resolved
    if s.turn >= scenario.max_turns:
        return Outcome.turn_limit
    return None


def _situation(
    s: MoodState,
    before: MoodState,
    analysis: TurnAnalysis,
    scenario: Scenario,
    new_facts: list[str],
    d_anger: float,
) -> Situation:
    """What the customer reacts to, when nothing forced a reaction (defensiveness, wrong referral)."""
    if s.outcome is Outcome.referred:
        return Situation.accept_referral
    if s.outcome is not None:
        return Situation(s.outcome.value)
    if new_facts:
        return Situation.calmer  # the engine speaks the facts; calmer is the fallback
    if scenario.threatening and s.threat > before.threat:
        return Situation.threat
    if analysis.has(Tag.question):
        return Situation.unknown_question
    if analysis.has(Tag.apology) and s.apologies > 2 and d_anger >= 0:
        return Situation.empty_apology
    if d_anger >= 0 or analysis.stuffing:
        return Situation.unheard
    h = scenario.handling
    if h.compensation_due and not s.remedy_given and (s.cause_found or not h.needs_cause):
        return Situation.asks_remedy
    if not s.time_given and h.referral.target is ReferralTarget.none:
        return Situation.asks_when
    return Situation.calmer
