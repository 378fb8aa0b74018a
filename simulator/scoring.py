"""Rule-based scoring: the trainee's analysed turns + scenario + rubric -> a scorecard.

Pure: the same transcript always gets the same scores. Scenario-aware: referral is judged
against the scenario's correct target, a remedy is expected only where the institution is at
fault, and over-reaction (a remedy nobody owed) costs points. Point values live in the rubric.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import BaseModel

from simulator.analysis_types import Tag, TurnAnalysis
from simulator.mood import MoodState, Outcome
from simulator.rubric import DIMENSIONS, Dimension, Rubric
from simulator.scenario import ReferralTarget, Scenario


@dataclass(frozen=True)
class TraineeTurn:
    """One trainee turn as the scorer sees it: its index in the transcript, text and analysis."""

    index: int
    text: str
    analysis: TurnAnalysis


class Quote(BaseModel):
    turn: int
    quote: str
    tag: str | None = None
    positive: bool = True


class DimensionScore(BaseModel):
    key: str
    label: str
    score: float
    applies: bool
    weight: float
    evidence: list[Quote]
    feedback: str
    better: str
    needs_review: bool = False
    detail: dict | None = None  # with an LLM judge: {"rules": .., "judge": .., "judge_quotes": [..], ...}


class Scorecard(BaseModel):
    lang: str
    outcome: str | None
    overall: float
    dimensions: dict[str, DimensionScore]
    source: str = "rules"  # "rules", or "rules+llm" when an LLM judge contributed
    notice: str | None = None

    def scores(self) -> dict[str, float]:
        """{key: score} for the dimensions that apply (the CLI/JSON contract)."""
        return {k: d.score for k, d in self.dimensions.items() if d.applies}

    def weakest(self, n: int = 2) -> list[DimensionScore]:
        applied = [d for d in self.dimensions.values() if d.applies]
        return sorted(applied, key=lambda d: d.score)[:n]


@dataclass(frozen=True)
class _Context:
    turns: list[TraineeTurn]
    scenario: Scenario
    final: MoodState
    outcome: str | None
    points: dict[str, float]

    def with_tag(self, tag: Tag) -> list[TraineeTurn]:
        return [t for t in self.turns if t.analysis.has(tag) and not (t.analysis.stuffing and tag in _STUFFABLE)]

    def count(self, tag: Tag) -> int:
        return len(self.with_tag(tag))


_STUFFABLE = {Tag.apology, Tag.empathy, Tag.acknowledge}


def _quotes(turns: list[TraineeTurn], tag: Tag, positive: bool = True) -> list[Quote]:
    out = []
    for t in turns:
        ev = t.analysis.evidence.get(tag)
        out.append(Quote(turn=t.index, quote=ev.text if ev else t.text, tag=tag.value, positive=positive))
    return out


def _position(ctx: _Context, turn: TraineeTurn) -> int:
    """1-based position of a turn among the trainee's turns."""
    return ctx.turns.index(turn) + 1


def _listening(ctx: _Context) -> tuple[float, list[Quote]]:
    p = ctx.points
    acks = ctx.with_tag(Tag.acknowledge)
    score = 0.0
    if acks:
        score += p["acknowledged_early"] if _position(ctx, acks[0]) <= 2 else p["acknowledged_late"]
    first = ctx.turns[0] if ctx.turns else None
    if first is not None and not first.analysis.has(Tag.defensive) and not first.analysis.has(Tag.hostile):
        score += p["no_early_denial"]
    stuffed = [t for t in ctx.turns if t.analysis.stuffing]
    score += p["per_stuffing_turn"] * len(stuffed)
    evidence = _quotes(acks[:2], Tag.acknowledge)
    if first is not None and first.analysis.has(Tag.defensive):
        evidence += _quotes([first], Tag.defensive, positive=False)
    return score, evidence


def _empathy(ctx: _Context) -> tuple[float, list[Quote]]:
    p = ctx.points
    emp = ctx.with_tag(Tag.empathy)
    score = 0.0
    if emp:
        score = p["first"]
        if _position(ctx, emp[0]) <= 2:
            score += p["early_bonus"]
        if len(emp) >= 2:
            score += p["sustained_bonus"]
    hostile, defensive = ctx.with_tag(Tag.hostile), ctx.with_tag(Tag.defensive)
    score += p["per_hostile_turn"] * len(hostile) + p["per_defensive_turn"] * len(defensive)
    return score, _quotes(emp[:2], Tag.empathy) + _quotes(hostile[:1], Tag.hostile, positive=False)


def _apology(ctx: _Context) -> tuple[float, list[Quote]]:
    p = ctx.points
    apologies = ctx.with_tag(Tag.apology)
    if not apologies:
        return 0.0, _quotes(ctx.with_tag(Tag.defensive)[:1], Tag.defensive, positive=False)
    first = _position(ctx, apologies[0])
    score = p["by_turn_2"] if first <= 2 else p["by_turn_3"] if first == 3 else p["later"]
    excess = max(0, len(apologies) - int(p["excessive_after"]))
    score += p["per_excessive"] * excess
    return score, _quotes(apologies[:1], Tag.apology)


def _non_defensive(ctx: _Context) -> tuple[float, list[Quote]]:
    p = ctx.points
    defensive, hostile = ctx.with_tag(Tag.defensive), ctx.with_tag(Tag.hostile)
    score = p["start"] + p["per_defensive_turn"] * len(defensive) + p["per_hostile_turn"] * len(hostile)
    return score, _quotes(defensive[:3], Tag.defensive, positive=False) + _quotes(hostile[:2], Tag.hostile, False)


def _diagnosis(ctx: _Context) -> tuple[float, list[Quote]]:
    p = ctx.points
    facts = ctx.scenario.hidden_facts
    revealed = set(ctx.final.revealed)
    share = len(revealed & {f.id for f in facts}) / len(facts) if facts else (1.0 if ctx.count(Tag.question) else 0.0)
    score = p["per_fact_share"] * share + (p["cause_bonus"] if ctx.final.cause_found else 0.0)
    questions = ctx.with_tag(Tag.question)
    acted = [t for t in ctx.turns if t.analysis.has(Tag.compensation) or t.analysis.has(Tag.time_estimate)]
    if acted and (not questions or acted[0].index < questions[0].index):
        score += p["acted_before_asking"]
    return score, _quotes(questions[:3], Tag.question)


def _referral(ctx: _Context) -> tuple[float, list[Quote]]:
    p = ctx.points
    target = ctx.scenario.handling.referral.target
    referrals = ctx.with_tag(Tag.referral)
    brush_offs = [t for t in ctx.with_tag(Tag.defensive) if not t.analysis.has(Tag.referral)]
    if target is ReferralTarget.none:
        return (p["unneeded"] if referrals else 100.0), _quotes(referrals[:2], Tag.referral, positive=False)
    correct = [t for t in referrals if t.analysis.referral_matches]
    if correct:
        first = correct[0].analysis
        courteous = first.has(Tag.apology) or first.has(Tag.empathy) or ctx.count(Tag.apology) > 0
        score = p["correct"] + (p["courteous_bonus"] if courteous else 0.0)
        evidence = _quotes(correct[:1], Tag.referral)
    elif referrals:
        score, evidence = p["wrong"], _quotes(referrals[:2], Tag.referral, positive=False)
    else:
        score, evidence = p["none"], []
    score += p["per_brush_off"] * len(brush_offs)
    return score, evidence + _quotes(brush_offs[:2], Tag.defensive, positive=False)


def _commitment(ctx: _Context) -> tuple[float, list[Quote]]:
    p = ctx.points
    times = ctx.with_tag(Tag.time_estimate)
    if not times:
        return p["none"], []
    days = [t.analysis.time_days for t in times]
    realistic = any(d is None or d <= ctx.scenario.handling.max_days for d in days)
    score = p["concrete"] + p["realistic_bonus"] if realistic else p["unrealistic"]
    return score, _quotes(times[:2], Tag.time_estimate, positive=realistic)


def _resolution(ctx: _Context) -> tuple[float, list[Quote]]:
    p = ctx.points
    remedies = ctx.with_tag(Tag.compensation)
    due = ctx.scenario.handling.compensation_due
    if due:
        score = p["remedy_due_given"] if remedies else p["remedy_due_missing"]
    else:
        score = p["undue_remedy"] if remedies else p["no_remedy_needed"]
    if ctx.outcome in (Outcome.resolved, Outcome.referred):
        score += p["outcome_resolved"]
    elif ctx.outcome == Outcome.turn_limit:
        score += p["outcome_partial"]
    return score, _quotes(remedies[:2], Tag.compensation, positive=due)


def _composure(ctx: _Context) -> tuple[float, list[Quote]]:
    p = ctx.points
    hostile, defensive = ctx.with_tag(Tag.hostile), ctx.with_tag(Tag.defensive)
    score = p["start"] + p["per_hostile_turn"] * len(hostile) + p["per_defensive_turn"] * len(defensive)
    if ctx.outcome == Outcome.escalated:
        score += p["escalated"]
    return score, _quotes(hostile[:2], Tag.hostile, positive=False)


_SCORERS: dict[str, Callable[[_Context], tuple[float, list[Quote]]]] = {
    "listening": _listening,
    "empathy": _empathy,
    "apology": _apology,
    "non_defensive": _non_defensive,
    "diagnosis": _diagnosis,
    "referral": _referral,
    "commitment": _commitment,
    "resolution": _resolution,
    "composure": _composure,
}


def applies(dimension: Dimension, scenario: Scenario, turns: list[TraineeTurn]) -> bool:
    """Whether a dimension counts for this scenario (and, for referral, this conversation)."""
    target = scenario.handling.referral.target
    match dimension.applies:
        case "needs_cause":
            return scenario.handling.needs_cause
        case "referral":
            return target is not ReferralTarget.none or any(t.analysis.has(Tag.referral) for t in turns)
        case "commitment":
            # Where the customer is sent elsewhere, the other party sets the time frame.
            return target is ReferralTarget.none
        case _:
            return True


def _fill(template: str, scenario: Scenario) -> str:
    h = scenario.handling
    values = {
        "party": h.referral.party or "",
        "contact": h.referral.contact or "",
        "time_frame": h.time_frame,
    }
    return template.format(**values)


def score(
    turns: list[TraineeTurn],
    scenario: Scenario,
    rubric: Rubric,
    final: MoodState,
    outcome: str | None,
) -> Scorecard:
    """Score a conversation. ``final`` is the customer's state after the last trainee turn."""
    lang = scenario.lang
    dims: dict[str, DimensionScore] = {}
    for key in DIMENSIONS:
        dim = rubric.dimensions[key]
        ctx = _Context(turns=turns, scenario=scenario, final=final, outcome=outcome, points=dim.points)
        value, evidence = _SCORERS[key](ctx) if turns else (0.0, [])
        value = round(max(0.0, min(100.0, value)), 1)
        good = value >= rubric.pass_mark
        dims[key] = DimensionScore(
            key=key,
            label=dim.label.get(lang),
            score=value,
            applies=applies(dim, scenario, turns),
            weight=dim.weight,
            evidence=evidence,
            feedback=(dim.feedback.good if good else dim.feedback.weak).get(lang),
            better=_fill(dim.better.get(lang), scenario),
        )
    return Scorecard(lang=lang, outcome=outcome, overall=overall(dims), dimensions=dims)


def overall(dims: dict[str, DimensionScore]) -> float:
    """Weighted mean over the dimensions that apply."""
    applied = [d for d in dims.values() if d.applies]
    total_weight = sum(d.weight for d in applied)
    if not total_weight:
        return 0.0
    return round(sum(d.score * d.weight for d in applied) / total_weight, 1)
