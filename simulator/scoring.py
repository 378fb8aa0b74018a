"""Rule-based scoring: the trainee's analysed turns + scenario + rubric (+ the customer's needs)
-> a scorecard.

Pure and deterministic: the same transcript always gets the same scores. The contract
(DESIGN.md "Scores"): every dimension is *earned from evidence* in the trainee's turns; a
dimension with no evidence is "not shown" and scores low; "not applicable" comes from the
scenario only. ``overall`` is the weighted mean over the applicable dimensions, capped by how
the conversation ended (``caps`` in the rubric YAML, shown with their reason).

How the turns are read (thresholds in the rubric's ``rules``):

- **Flags.** A turn that addresses the simulator or the grading (``injection:<cue>``) or that is
  no reply at all (``nonsense``) is flagged (``simulator/turn_flags.py``), shown to reviewers,
  and never earns anything.
- **Repeats.** A turn whose normalised text is nearly the same as an earlier one (a template
  pasted again) earns nothing and costs listening.
- **Substance.** A turn has substance when it asks a question, brings out a hidden fact, gives a
  time frame, offers a remedy or makes the right referral. Apology and empathy count once per
  distinct expression and saturate; in a turn with no substance (in it or the next turn) while
  the customer's needs are still open they earn only ``idle_factor`` of their credit.
- **Needs.** The customer's needs (``NeedResult``: from the dialogue engine when given, derived
  from the analyses otherwise) drive ``resolution`` and ``commitment`` and the caps.
- **Referral.** A wrong referral or a brush-off ("not our business") caps referral and, unless
  the right referral follows, the overall.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import BaseModel, Field

from simulator.analysis_types import Tag, TurnAnalysis
from simulator.mood import MoodState, Outcome, is_handoff, sends_nowhere
from simulator.rubric import DIMENSIONS, Dimension, Rubric
from simulator.scenario import ReferralTarget, Scenario
from simulator.turn_flags import flags as turn_flags
from simulator.understanding.normalise import normaliser

ABANDONED = "abandoned"


@dataclass(frozen=True)
class TraineeTurn:
    """One trainee turn as the scorer sees it: its index in the transcript, text and analysis.

    ``facts``: ids of the hidden facts this turn brought out (empty when unknown); ``small_talk``:
    its questions asked only about the customer's own life beyond the complaint ("did you come by
    motorbike?"); ``filler``: a one- or two-word turn ("ok", "hmm", "1 sec") — both from the
    dialogue state, False when unknown."""

    index: int
    text: str
    analysis: TurnAnalysis
    facts: tuple[str, ...] = ()
    small_talk: bool = False
    filler: bool = False


class NeedResult(BaseModel):
    """One of the customer's needs, as the dialogue engine reports it at the end.

    ``met_turn``: the transcript index of the trainee turn that met it (None: never met).
    ``id`` names the need; ids (or ``kind``) among :data:`COMMITMENT_NEEDS` count for the
    commitment dimension, all required needs for resolution."""

    id: str
    required: bool = True
    met_turn: int | None = None
    kind: str | None = None


#: Needs that are a commitment (a concrete next step, a complaint number, a follow-up).
COMMITMENT_NEEDS = {"next_step", "time", "commitment", "follow_up", "complaint_number", "number", "ticket"}


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
    status: str = "shown"  # "shown", "not_shown" (no evidence: scores low), "not_applicable"


class CapInfo(BaseModel):
    """A cap on the overall score that this conversation triggered."""

    key: str
    value: float
    reason: str


class Fix(BaseModel):
    """One of the top things to fix: the dimension, the turn it came from, what to do instead."""

    dimension: str
    label: str
    turn: int | None
    quote: str | None
    feedback: str
    better: str


class Scorecard(BaseModel):
    lang: str
    outcome: str | None
    overall: float
    dimensions: dict[str, DimensionScore]
    source: str = "rules"  # "rules", or "rules+llm" when an LLM judge contributed
    notice: str | None = None
    rubric_version: str | None = None
    uncapped: float | None = None  # the weighted mean before the cap
    cap: CapInfo | None = None  # the cap that bounds ``overall`` (the lowest triggered)
    caps: list[CapInfo] = Field(default_factory=list)  # every cap triggered
    fixes: list[Fix] = Field(default_factory=list)
    learning_points: list[str] = Field(default_factory=list)
    flags: dict[int, list[str]] = Field(default_factory=dict)  # transcript index -> turn flags
    needs: list[NeedResult] = Field(default_factory=list)

    def scores(self) -> dict[str, float]:
        """{key: score} for the dimensions that apply (the CLI/JSON contract)."""
        return {k: d.score for k, d in self.dimensions.items() if d.applies}

    def weakest(self, n: int = 2) -> list[DimensionScore]:
        applied = [d for d in self.dimensions.values() if d.applies]
        return sorted(applied, key=lambda d: d.score)[:n]

    def extras(self) -> dict:
        """What the score rows do not hold, for the session record."""
        out = self.model_dump(
            mode="json",
            include={"rubric_version", "uncapped", "cap", "caps", "fixes", "learning_points", "flags", "needs"},
        )
        out["status"] = {k: d.status for k, d in self.dimensions.items()}
        return out


# --------------------------------------------------------------------------- reading the turns


def normalise(text: str) -> str:
    """Lower case, NFKC, punctuation dropped, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text or "").casefold()
    text = re.sub(r"[^\w\s]", " ", text)
    return " ".join(text.split())


def similarity(a: str, b: str) -> float:
    """0-1 similarity of two normalised texts (difflib ratio)."""
    if not a or not b:
        return 1.0 if a == b else 0.0
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


_SUBSTANCE = {Tag.question, Tag.time_estimate, Tag.compensation}
_POSITIVE = set(Tag) - {Tag.defensive, Tag.hostile}


@dataclass
class _Turn:
    t: TraineeTurn
    pos: int  # 1-based position among the trainee's turns
    flags: list[str]  # injection:<cue>, nonsense: not a reply; stuffing: keywords, not sentences
    repeat: bool
    tags: set[Tag]  # the tags that count (none for a flagged, stuffed or repeated turn)
    facts: tuple[str, ...]
    substance: bool = False

    @property
    def stuffed(self) -> bool:
        return "stuffing" in self.flags

    @property
    def disqualified(self) -> bool:
        """Not a reply to the customer at all: injection or nonsense."""
        return any(f != "stuffing" for f in self.flags)

    @property
    def reply(self) -> bool:
        """A meaningful reply of its own: not disqualified, not stuffed, not a repeat."""
        return not self.disqualified and not self.stuffed and not self.repeat

    @property
    def index(self) -> int:
        return self.t.index

    def has(self, tag: Tag) -> bool:
        return tag in self.tags

    @property
    def negative(self) -> set[Tag]:
        """Defensive/hostile tags: they count in stuffing too, but a repeat of an earlier turn is
        the same expression again and is not counted twice (it costs listening instead)."""
        if self.disqualified or self.repeat:
            return set()
        return {tag for tag in (Tag.defensive, Tag.hostile) if self.t.analysis.has(tag)}


def read_turns(turns: list[TraineeTurn], scenario: Scenario, rubric: Rubric) -> list[_Turn]:
    out: list[_Turn] = []
    seen: list[str] = []
    target = scenario.handling.referral.target
    for pos, turn in enumerate(turns, 1):
        text = normalise(turn.text)
        a = turn.analysis
        flagged = turn_flags(turn.text, a.tags, scenario.lang, scenario)
        if a.stuffing and "stuffing" not in flagged:
            flagged.append("stuffing")  # the analyser's own judgement
        repeat = any(similarity(text, before) >= rubric.rules.repeat_similarity for before in seen)
        seen.append(text)
        tags: set[Tag] = set() if flagged or repeat else set(a.tags)
        facts = () if flagged else tuple(turn.facts)
        if facts and not repeat:
            tags.add(Tag.question)  # the customer told a hidden fact because this turn asked for it
        r = _Turn(turn, pos, flagged, repeat, tags, facts)
        right_referral = Tag.referral in tags and target is not ReferralTarget.none and a.referral_matches is True
        r.substance = bool(tags & _SUBSTANCE) or right_referral or bool(facts)
        out.append(r)
    return out


def derive_needs(turns: list[_Turn], scenario: Scenario, final: MoodState) -> list[NeedResult]:
    """The customer's needs and when they were met, from the analyses (no dialogue state)."""
    h = scenario.handling
    needs: list[NeedResult] = []
    causes = {f.id for f in scenario.hidden_facts if f.is_cause}
    if h.needs_cause and causes:
        met = next((r.index for r in turns if causes & set(r.facts)), None)
        if met is None and final.cause_found and not any(r.facts for r in turns):
            # Per-turn facts unknown: the cause came out on one of the questions.
            met = next((r.index for r in turns if r.has(Tag.question)), None)
        needs.append(NeedResult(id="cause", met_turn=met))
    if h.referral.target is ReferralTarget.none:
        met = next(
            (r.index for r in turns if r.has(Tag.time_estimate) and _realistic(r, scenario)), None
        )
        needs.append(NeedResult(id="next_step", met_turn=met))
    else:
        met = next((r.index for r in turns if r.has(Tag.referral) and r.t.analysis.referral_matches), None)
        needs.append(NeedResult(id="referral", met_turn=met))
    if h.compensation_due:
        met = next((r.index for r in turns if r.has(Tag.compensation)), None)
        needs.append(NeedResult(id="remedy", met_turn=met))
    return needs


def _realistic(r: _Turn, scenario: Scenario) -> bool:
    days = r.t.analysis.time_days
    return days is None or days <= scenario.handling.max_days


def _is_commitment(need: NeedResult) -> bool:
    return need.id in COMMITMENT_NEEDS or (need.kind or "") in COMMITMENT_NEEDS


# --------------------------------------------------------------------------- the dimensions


@dataclass
class _Context:
    turns: list[_Turn]
    scenario: Scenario
    rubric: Rubric
    final: MoodState
    outcome: str | None
    needs: list[NeedResult]
    points: dict[str, float] = field(default_factory=dict)

    def with_tag(self, tag: Tag) -> list[_Turn]:
        return [r for r in self.turns if r.has(tag)]

    def negative(self, tag: Tag) -> list[_Turn]:
        return [r for r in self.turns if tag in r.negative]

    def open_at(self, index: int) -> bool:
        """Are some required needs still unmet at transcript index ``index``?"""
        return any(n.required and (n.met_turn is None or n.met_turn > index) for n in self.needs)

    def idle(self, r: _Turn) -> bool:
        """No substance in this turn or the next while the customer's needs are open."""
        nxt = self.turns[r.pos] if r.pos < len(self.turns) else None
        return not r.substance and not (nxt is not None and nxt.substance) and self.open_at(r.index)


@dataclass
class _Result:
    score: float
    evidence: list[Quote]
    shown: bool
    variant: str | None = None  # which better phrasing fits what the trainee did


def _quote(r: _Turn, tag: Tag | None, positive: bool = True) -> Quote:
    ev = r.t.analysis.evidence.get(tag) if tag else None
    return Quote(turn=r.index, quote=ev.text if ev else r.t.text, tag=tag.value if tag else None, positive=positive)


def _distinct(ctx: _Context, tag: Tag) -> list[tuple[_Turn, float]]:
    """Turns with a new expression of ``tag`` (not like an earlier one), each with its credit
    factor (``idle_factor`` in a turn without substance while needs are open)."""
    out: list[tuple[_Turn, float]] = []
    seen: list[str] = []
    for r in ctx.with_tag(tag):
        ev = r.t.analysis.evidence.get(tag)
        text = normalise(ev.text if ev else r.t.text)
        if any(similarity(text, s) >= ctx.rubric.rules.distinct_similarity for s in seen):
            continue
        seen.append(text)
        out.append((r, ctx.rubric.rules.idle_factor if ctx.idle(r) else 1.0))
    return out


def _listening(ctx: _Context) -> _Result:
    p = ctx.points
    score, evidence = 0.0, []
    acks = _distinct(ctx, Tag.acknowledge)
    if acks:
        r, factor = acks[0]
        score += (p["acknowledged_early"] if r.pos <= 2 else p["acknowledged_late"]) * factor
        evidence.append(_quote(r, Tag.acknowledge))
    questions = [r for r in ctx.with_tag(Tag.question) if not r.t.small_talk]
    if questions:
        score += p["asked"]
        evidence.append(_quote(questions[0], Tag.question))
    first = ctx.turns[0] if ctx.turns else None
    if first is not None and first.tags & _POSITIVE and not first.negative:
        score += p["open_first_turn"]
    early_denial = [r for r in ctx.turns[:2] if Tag.defensive in r.negative]
    score += p["early_denial"] * len(early_denial)
    repeats = [r for r in ctx.turns if r.repeat and not r.flags]
    stuffed = [r for r in ctx.turns if r.stuffed and not r.disqualified and not r.repeat]
    score += p["per_repeat_turn"] * len(repeats) + p["per_stuffing_turn"] * len(stuffed)
    # Chat about the customer's day, or a bare "ok", while their problem waits.
    off_topic = [r for r in ctx.turns if (r.t.small_talk or r.t.filler) and r.reply and ctx.open_at(r.index)]
    score += p["per_off_topic_turn"] * len(off_topic)
    evidence += [_quote(r, Tag.defensive, False) for r in early_denial[:1]]
    evidence += [Quote(turn=r.index, quote=r.t.text, tag="repeat", positive=False) for r in repeats[:2]]
    evidence += [Quote(turn=r.index, quote=r.t.text, tag="stuffing", positive=False) for r in stuffed[:1]]
    evidence += [Quote(turn=r.index, quote=r.t.text, tag="off_topic", positive=False) for r in off_topic[:2]]
    variant = "no_repeat" if repeats else "stay_on_problem" if off_topic else (
        "restate_after_questions" if questions and not acks else None)
    return _Result(score, evidence, bool(acks or questions), variant)


def _empathy(ctx: _Context) -> _Result:
    p = ctx.points
    found = _distinct(ctx, Tag.empathy)
    score = 0.0
    steps = [p["first"], p["second"], p["third"]]
    for (r, factor), points in zip(found, steps, strict=False):
        score += points * factor
    if found and found[0][0].pos <= 2:
        score += p["early_bonus"] * found[0][1]
    hostile, defensive = ctx.negative(Tag.hostile), ctx.negative(Tag.defensive)
    score += p["per_hostile_turn"] * len(hostile) + p["per_defensive_turn"] * len(defensive)
    evidence = [_quote(r, Tag.empathy) for r, _ in found[:2]] + [_quote(r, Tag.hostile, False) for r in hostile[:1]]
    idle = bool(found) and all(f < 1 for _, f in found)
    return _Result(score, evidence, bool(found), "pair_with_action" if idle else None)


def _apology(ctx: _Context) -> _Result:
    p = ctx.points
    found = _distinct(ctx, Tag.apology)
    if not found:
        return _Result(0.0, [_quote(r, Tag.defensive, False) for r in ctx.negative(Tag.defensive)[:1]], False)
    r, factor = found[0]
    base = p["by_turn_2"] if r.pos <= 2 else p["by_turn_3"] if r.pos == 3 else p["later"]
    excuse = Tag.defensive in r.negative
    score = base * factor * (p["with_excuse_factor"] if excuse else 1.0)
    if len(found) > 1:
        score += p["second"] * found[1][1]
    apology_turns = ctx.with_tag(Tag.apology)
    excess = max(0, len(apology_turns) - int(p["excessive_after"]))
    score += p["per_excessive"] * excess
    variant = "no_excuse" if excuse else ("once" if excess else None)
    return _Result(score, [_quote(r, Tag.apology, not excuse)], True, variant)


def _credit(ctx: _Context, r: _Turn) -> float:
    """How much a turn shows engagement: full with something the analyser recognised in it (or,
    for a repeat or stuffing, in the turn it copies), ``untagged_credit`` for words to the
    customer in which nothing was recognised (a polite form letter — or "don't shout at me")."""
    return 1.0 if set(r.t.analysis.tags) & _POSITIVE else ctx.rubric.rules.untagged_credit


def _open_share(ctx: _Context) -> tuple[float, list[_Turn]]:
    """Share of the trainee's turns that are open replies to the customer: a meaningful reply of
    its own (not flagged, stuffed or repeated) with nothing defensive or hostile in it."""
    open_turns = [r for r in ctx.turns if r.reply and not r.negative]
    total = sum(_credit(ctx, r) for r in open_turns)
    return (total / len(ctx.turns) if ctx.turns else 0.0), open_turns


def _calm_share(ctx: _Context) -> tuple[float, list[_Turn]]:
    """Share of the trainee's turns that answered the customer calmly: words to the customer
    (not injection or nonsense; a repeat or stuffing is still calm) with nothing hostile in them.
    Defensive turns are calm but cost composure points of their own."""
    calm = [r for r in ctx.turns if not r.disqualified and not r.t.analysis.has(Tag.hostile)]
    total = sum(_credit(ctx, r) for r in calm)
    return (total / len(ctx.turns) if ctx.turns else 0.0), calm


def _non_defensive(ctx: _Context) -> _Result:
    p = ctx.points
    share, open_turns = _open_share(ctx)
    defensive, hostile = ctx.negative(Tag.defensive), ctx.negative(Tag.hostile)
    score = p["open_share"] * share + p["per_defensive_turn"] * len(defensive) + p["per_hostile_turn"] * len(hostile)
    evidence = [_quote(r, Tag.defensive, False) for r in defensive[:3]] + [_quote(r, Tag.hostile, False) for r in hostile[:2]]
    return _Result(score, evidence, bool(open_turns))


def _composure(ctx: _Context) -> _Result:
    p = ctx.points
    share, open_turns = _calm_share(ctx)
    hostile, defensive = ctx.negative(Tag.hostile), ctx.negative(Tag.defensive)
    score = p["calm_share"] * share + p["per_hostile_turn"] * len(hostile) + p["per_defensive_turn"] * len(defensive)
    if hostile:
        score = min(score, p["hostile_max"])
    if ctx.outcome == Outcome.escalated:
        score += p["escalated"]
    return _Result(score, [_quote(r, Tag.hostile, False) for r in hostile[:2]], bool(open_turns))


def _diagnosis(ctx: _Context) -> _Result:
    p = ctx.points
    facts = {f.id for f in ctx.scenario.hidden_facts}
    known = [r for r in ctx.turns if r.facts]
    revealed = {f for r in known for f in r.facts} if known else set(ctx.final.revealed)
    if ctx.turns and all(r.disqualified for r in ctx.turns):
        revealed = set()
    questions = ctx.with_tag(Tag.question)
    if facts:
        cause = any("cause" in (n.id, n.kind) and n.met_turn is not None for n in ctx.needs)
        # Finding the cause completes the diagnosis; short of it, the share of facts brought out.
        score = p["cause_found"] if cause else p["per_fact_share"] * len(revealed & facts) / len(facts)
    else:
        score = (p["first_question"] if questions else 0.0) + (p["more_questions"] if len(questions) > 1 else 0.0)
    acted = [r for r in ctx.turns if r.has(Tag.compensation) or r.has(Tag.time_estimate)]
    if acted and (not questions or acted[0].index < questions[0].index):
        score += p["acted_before_asking"]
    evidence = [_quote(r, Tag.question) for r in questions[:3]]
    return _Result(score, evidence, bool(questions or revealed), "dig_cause" if questions else None)


def _referral(ctx: _Context) -> _Result:
    p = ctx.points
    target = ctx.scenario.handling.referral.target
    referrals = [r for r in ctx.with_tag(Tag.referral) if not sends_nowhere(r.t.analysis)]
    if target is ReferralTarget.none:
        referrals = [r for r in referrals if not is_handoff(r.t.analysis, ctx.scenario)]
        return _Result(
            p["unneeded"] if referrals else 0.0, [_quote(r, Tag.referral, False) for r in referrals[:2]],
            bool(referrals), "not_needed",
        )
    correct = [r for r in referrals if r.t.analysis.referral_matches] or _referral_need_met(ctx)
    wrong = _wrong_referrals(ctx)
    if correct:
        first = correct[0]
        courteous = (
            first.has(Tag.apology) or first.has(Tag.empathy) or bool(ctx.with_tag(Tag.apology))
        )
        score = p["correct"] + (p["courteous_bonus"] if courteous else 0.0)
        score += p["per_wrong_before_correct"] * len([r for r in wrong if r.index < first.index])
        evidence = [_quote(first, Tag.referral)]
    else:
        score = p["wrong"] if wrong else p["none"]
        evidence = []
    evidence += [_quote(r, Tag.referral if r.has(Tag.referral) else Tag.defensive, False) for r in wrong[:2]]
    return _Result(score, evidence, bool(correct or wrong), "right_party")


def _referral_need_met(ctx: _Context) -> list[_Turn]:
    """The turn that met the customer's referral need (the dialogue engine heard where to go, what
    to bring and how to reach them, in words the analyser did not tag as a referral: "Kantor
    Bersama Samsat Sidoarjo, Jl. Raya Buduran… Bawa KTP asli"; a safety need is met by calling
    security: "Saya panggil Pak Yusuf dari pos satpam"), when it is a reply of its own and neither
    defensive nor hostile."""
    met = {n.met_turn for n in ctx.needs if {"referral", "safety"} & {n.id, n.kind} and n.met_turn is not None}
    return [r for r in ctx.turns if r.index in met and r.reply and not r.negative & {Tag.defensive, Tag.hostile}][:1]


def _wrong_referrals(ctx: _Context) -> list[_Turn]:
    """Referrals to the wrong place, and brush-offs (a defensive turn that sends the customer
    nowhere) where a referral is due."""
    target = ctx.scenario.handling.referral.target
    out = []
    for r in ctx.turns:
        if r.has(Tag.referral) and not sends_nowhere(r.t.analysis):
            if (target is ReferralTarget.none and not is_handoff(r.t.analysis, ctx.scenario)) or (
                target is not ReferralTarget.none and not r.t.analysis.referral_matches
            ):
                out.append(r)
        elif target is not ReferralTarget.none and Tag.defensive in r.negative:
            out.append(r)
    return out


def _commitment(ctx: _Context) -> _Result:
    p = ctx.points
    times = ctx.with_tag(Tag.time_estimate)
    realistic = [r for r in times if _realistic(r, ctx.scenario)]
    commitments = [n for n in ctx.needs if _is_commitment(n) and n.required]
    if commitments and any(n.id != "next_step" for n in commitments):
        # The dialogue engine's needs: the share of commitment needs met, plus a realistic time.
        share = sum(1 for n in commitments if n.met_turn is not None) / len(commitments)
        score = p["per_need_share"] * share + (p["realistic_bonus"] if realistic else 0.0)
    elif realistic:
        score = p["concrete"] + p["realistic_bonus"]
    elif not commitments and not times and (done := _done_on_the_spot(ctx)) is not None:
        # Nothing was left to promise: every required need was met in the conversation (the
        # number updated at the desk), so the step taken is the commitment kept.
        text = next(r.t.text for r in ctx.turns if r.index == done.met_turn)
        return _Result(p["concrete"] + p["realistic_bonus"], [Quote(turn=done.met_turn, quote=text, tag=f"need:{done.id}")], True)
    elif times:
        score = p["unrealistic"]
    else:
        score = p["none"]
    evidence = [_quote(r, Tag.time_estimate, _realistic(r, ctx.scenario)) for r in times[:2]]
    return _Result(score, evidence, bool(times), "realistic" if times and not realistic else None)


def _done_on_the_spot(ctx: _Context) -> NeedResult | None:
    """The required need met last, when every required need was met by a trainee turn of this
    conversation (None otherwise)."""
    required = [n for n in ctx.needs if n.required]
    indices = {r.index for r in ctx.turns}
    if not required or any(n.met_turn not in indices for n in required):
        return None
    return max(required, key=lambda n: n.met_turn)


def _resolution(ctx: _Context) -> _Result:
    p = ctx.points
    required = [n for n in ctx.needs if n.required]
    met = [n for n in required if n.met_turn is not None]
    share = len(met) / len(required) if required else 0.0
    score = p["per_need_share"] * share
    if ctx.outcome in (Outcome.resolved, Outcome.referred):
        score += p["outcome_resolved"]
    remedies = ctx.with_tag(Tag.compensation)
    due = ctx.scenario.handling.compensation_due
    undue = bool(remedies) and not due
    if undue:
        score += p["undue_remedy"]
    evidence = [_quote(r, Tag.compensation, due) for r in remedies[:2]]
    by_turn = {r.index: r for r in ctx.turns}
    evidence += [Quote(turn=n.met_turn, quote=by_turn[n.met_turn].t.text, tag=f"need:{n.id}") for n in met
                 if n.met_turn in by_turn and not any(q.turn == n.met_turn for q in evidence)][:2]
    variant = "no_overreaction" if undue else ("close_needs" if len(met) < len(required) and (not due or remedies) else None)
    return _Result(score, evidence, bool(met or remedies), variant)


_SCORERS: dict[str, Callable[[_Context], _Result]] = {
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
#: Where a missing behaviour was due, when no turn shows the problem: the first or the last turn.
_DUE_AT_START = {"listening", "empathy", "apology", "diagnosis", "non_defensive", "composure"}


def applies(dimension: Dimension, scenario: Scenario, turns: list[TraineeTurn]) -> bool:
    """Whether a dimension counts for this scenario (and, for referral, this conversation:
    a referral made where none is due is judged as a wrong one; one only the learned head hears,
    sending the customer nowhere, is none, as in :func:`_referral`)."""
    target = scenario.handling.referral.target
    match dimension.applies:
        case "needs_cause":
            return scenario.handling.needs_cause
        case "referral":
            return target is not ReferralTarget.none or any(
                t.analysis.has(Tag.referral) and not sends_nowhere(t.analysis) and not is_handoff(t.analysis, scenario)
                for t in turns
            )
        case "commitment":
            # Where the customer is sent elsewhere, the other party sets the time frame.
            return target is ReferralTarget.none
        case _:
            return True


def _fill(template: str, scenario: Scenario) -> str:
    h = scenario.handling
    values = {
        "party": (h.referral.party or "").strip().rstrip("."),  # the templates end their own sentences
        "contact": (h.referral.contact or "").strip().rstrip("."),
        "time_frame": (h.time_frame.strip().rstrip(".") + ".") if h.time_frame.strip() else "",  # a trainer's note: a sentence
    }
    return template.format(**values)


def _caps(ctx: _Context, rubric: Rubric) -> list[CapInfo]:
    lang = ctx.scenario.lang
    keys: list[str] = []
    turns = ctx.turns
    if not turns:
        keys.append("no_turns")
    if any(f.startswith("injection:") for r in turns for f in r.flags):
        keys.append("injection")
    nonsense = [r for r in turns if "nonsense" in r.flags]
    if turns and len(nonsense) / len(turns) >= rubric.rules.nonsense_share:
        keys.append("nonsense")
    needs_open = ctx.open_at(10**9)
    if ctx.outcome == Outcome.walked_away:
        keys.append("walked_away")
    elif ctx.outcome == Outcome.escalated:
        keys.append("escalated")
    elif ctx.outcome == ABANDONED and needs_open:
        keys.append("abandoned_needs_open")
    elif ctx.outcome == Outcome.turn_limit and needs_open:
        keys.append("turn_limit_needs_open")
    if ctx.needs and ctx.outcome not in (Outcome.resolved, Outcome.referred) and all(n.met_turn is None for n in ctx.needs):
        keys.append("no_need_met")  # warm words that move nothing forward (empathy with no substance)
    examples: dict[str, str] = {}
    shorthand = _shorthand_turns(ctx)
    if turns and len(shorthand) / len(turns) >= rubric.rules.shorthand_share:
        keys.append("chat_shorthand")
        examples["chat_shorthand"] = ", ".join(list(dict.fromkeys(w.lower() for words in shorthand for w in words))[:3])
    if _wrong_referrals(ctx):
        target = ctx.scenario.handling.referral.target
        correct = any(r.has(Tag.referral) and r.t.analysis.referral_matches for r in turns)
        # Where no referral is due, sending the customer elsewhere scores low on referral; the
        # overall is then bounded by the needs it leaves open (the ending's cap), not here.
        if target is not ReferralTarget.none and not correct:
            keys.append("wrong_referral")
    out = []
    for key in keys:
        cap = rubric.caps.get(key)
        if cap is not None:
            out.append(CapInfo(key=key, value=cap.value, reason=cap.reason.get(lang).format(examples=examples.get(key, ""))))
    return sorted(out, key=lambda c: c.value)


def _shorthand_turns(ctx: _Context) -> list[list[str]]:
    """The chat-shorthand words of each trainee turn written in shorthand (a staff member writes
    words in full to a customer; "sy udh cek ya bpk" reads as a private chat)."""
    words = (normaliser(ctx.scenario.lang).shorthand_words(r.t.text) for r in ctx.turns if not r.disqualified)
    return [w for w in words if len(w) >= ctx.rubric.rules.shorthand_words]


def score(
    turns: list[TraineeTurn],
    scenario: Scenario,
    rubric: Rubric,
    final: MoodState,
    outcome: str | None,
    needs: list[NeedResult] | None = None,
) -> Scorecard:
    """Score a conversation. ``final`` is the customer's state after the last trainee turn;
    ``needs`` the dialogue engine's needs (derived from the analyses when None)."""
    lang = scenario.lang
    read = read_turns(turns, scenario, rubric)
    needs = list(needs) if needs is not None else derive_needs(read, scenario, final)
    dims: dict[str, DimensionScore] = {}
    due: dict[str, int | None] = {}
    for key in DIMENSIONS:
        dim = rubric.dimensions[key]
        ctx = _Context(read, scenario, rubric, final, outcome, needs, dim.points)
        result = _SCORERS[key](ctx) if read else _Result(0.0, [], False)
        value = round(max(0.0, min(100.0, result.score)), 1)
        applied = applies(dim, scenario, turns)
        good = value >= rubric.pass_mark
        better = dim.better_when.get(result.variant) if result.variant else None
        dims[key] = DimensionScore(
            key=key,
            label=dim.label.get(lang),
            score=value,
            applies=applied,
            weight=dim.weight,
            evidence=result.evidence,
            feedback=(dim.feedback.good if good else dim.feedback.weak).get(lang),
            better=_fill((better or dim.better).get(lang), scenario),
            status="not_applicable" if not applied else ("shown" if result.shown else "not_shown"),
        )
        if read:
            due[key] = read[0].index if key in _DUE_AT_START else read[-1].index
    ctx = _Context(read, scenario, rubric, final, outcome, needs)
    caps = _caps(ctx, rubric)
    cap = caps[0] if caps else None
    uncapped = overall(dims)
    card = Scorecard(
        lang=lang,
        outcome=outcome,
        overall=overall(dims, cap.value if cap else None),
        dimensions=dims,
        rubric_version=rubric.version,
        uncapped=uncapped,
        cap=cap,
        caps=caps,
        learning_points=[str(p) for p in scenario.learning_points],
        flags={r.index: r.flags for r in read if r.flags},
        needs=needs,
    )
    card.fixes = top_fixes(card, {r.index: r.t.text for r in read}, due, rubric.pass_mark)
    return card


def top_fixes(card: Scorecard, texts: dict[int, str], due: dict[str, int | None], pass_mark: float, n: int = 3) -> list[Fix]:
    """The ``n`` applicable dimensions that cost the most (weight x points missing) below the
    pass mark, each with the turn it came from: its first negative quote, else the turn where
    the behaviour was due."""
    weak = [d for d in card.dimensions.values() if d.applies and d.score < pass_mark]
    weak.sort(key=lambda d: (-(d.weight * (100 - d.score)), DIMENSIONS.index(d.key) if d.key in DIMENSIONS else 99))
    out = []
    for d in weak[:n]:
        bad = next((q for q in d.evidence if not q.positive), None)
        turn = bad.turn if bad else due.get(d.key)
        quote = bad.quote if bad else (texts.get(turn) if turn is not None else None)
        if quote and len(quote) > 160:
            quote = quote[:157] + "..."
        out.append(Fix(dimension=d.key, label=d.label, turn=turn, quote=quote, feedback=d.feedback, better=d.better))
    return out


def overall(dims: dict[str, DimensionScore], cap: float | None = None) -> float:
    """Weighted mean over the dimensions that apply, at most ``cap``."""
    applied = [d for d in dims.values() if d.applies]
    total_weight = sum(d.weight for d in applied)
    if not total_weight:
        return 0.0
    mean = round(sum(d.score * d.weight for d in applied) / total_weight, 1)
    return min(mean, cap) if cap is not None else mean
