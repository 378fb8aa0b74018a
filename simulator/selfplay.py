"""Self-play check: built-in bot trainees play a scenario on the scripted engine (issue 5).

Five bots answer the customer: ``exemplary`` (restates, apologises, names the feeling, asks
one question per hidden fact, then acts in proportion: a realistic time frame, a remedy only
where one is due, the correct referral), ``defensive``, ``passive``, ``over_reacting`` and
``wrong_referral``. Their turns are built from the scenario's data and the per-language
phrase templates in ``simulator/bots/<lang>.yaml``; the conversation runs through the real
:class:`~simulator.session.SessionService` (same analysis, mood, customer and scoring as a
trainee gets) on a throwaway in-memory database, so the user's data is never touched.

:func:`selfplay` returns a :class:`SelfPlayReport` with each bot's overall score, outcome and
dimension scores, and warnings when the scenario does not work as a test:

* the exemplary bot does not score highest, or a bad bot comes within ``MARGIN`` points of it
  (the scenario does not discriminate);
* the exemplary bot does not end ``resolved``/``referred`` (the scenario cannot be resolved);
* a hidden fact that no question reveals, or that no question asks for on its own (checked
  with the engine's own matching, :func:`simulator.customers.base.facts_asked`);
* a referral target the customer can never accept (the analyser never confirms a referral
  naming any of the accept_cues).

Warnings are findings about the scenario, not errors: the CLI exits 0 with them.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from simulator.analysis import analyze
from simulator.analysis_types import Tag
from simulator.customers.base import facts_asked
from simulator.datafile import load_yaml
from simulator.dialogue import DialogueState, is_question_word
from simulator.mood import MoodState
from simulator.rubric import DIMENSIONS
from simulator.scenario import (
    LANGUAGES,
    MissingCode,
    ReferralTarget,
    Scenario,
    ScenarioError,
    ScenarioLibrary,
    ScenarioWarning,
    Temperament,
    UnknownScenario,
    WarningCode,
    parse_scenario,
)

BOTS_DIR = Path(__file__).resolve().parent / "bots"
EXEMPLARY = "exemplary"
BAD_BOTS = ("defensive", "passive", "over_reacting", "wrong_referral")
ALL = (EXEMPLARY, *BAD_BOTS)
MARGIN = 30.0  # the exemplary bot must beat every bad bot by at least this many points
GOOD_OUTCOMES = ("resolved", "referred")
SEED = 0  # the scripted customer is deterministic for a seed: the check is repeatable
_NEUTRAL = "zqxv"  # a filler no scenario cue matches: what a question template reveals on its own

#: ``progress(done, total, bot)`` is called before each bot plays (``done`` bots finished so
#: far, ``bot`` the one starting) and once at the end with ``done == total`` and ``bot=None``.
ProgressCallback = Callable[[int, int, "str | None"], None]


# -- the phrasebook ------------------------------------------------------------------------------
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TimeFrame(_Strict):
    days: float = Field(ge=0)
    text: str


class ReferralPhrases(_Strict):
    legal: str
    security: str
    other: str
    accept: str


class ExemplaryPhrases(_Strict):
    opening: str
    problem_cues: int = Field(3, ge=1)
    and_: str = Field(alias="and")
    ask: list[str] = Field(min_length=1)
    ask_direct: str
    direct_words: list[str] = Field(default_factory=list)
    ask_bare: str | None = None
    bare_words: list[str] = Field(default_factory=list)
    direct_endings: list[str] = Field(default_factory=list)
    reassure: list[str] = Field(min_length=1)
    time_frames: list[TimeFrame] = Field(min_length=1)
    act: str
    remedy: str
    referral: ReferralPhrases
    follow_up: list[str] = Field(min_length=1)
    # For a need of the scenario the plan above does not meet: said with one of its cue words.
    need: str = "{cue}."


class WrongReferralPhrases(_Strict):
    lines: list[str] = Field(min_length=1)
    places: list[str] = Field(min_length=1)


class CheckPhrases(_Strict):
    refer: str


class Address(_Strict):
    default: str
    prefixes: dict[str, str] = Field(default_factory=dict)


class Phrasebook(_Strict):
    """``simulator/bots/<lang>.yaml``: every word the bots say in one language."""

    lang: str
    address: Address
    exemplary: ExemplaryPhrases
    defensive: list[str] = Field(min_length=1)
    passive: list[str] = Field(min_length=1)
    over_reacting: list[str] = Field(min_length=1)
    wrong_referral: WrongReferralPhrases
    checks: CheckPhrases


@lru_cache(maxsize=None)
def load_phrasebook(lang: str) -> Phrasebook:
    """The bots' phrases for a language (validated, cached; treat as read-only)."""
    if lang not in LANGUAGES:
        raise UnknownScenario(f"unknown language '{lang}'; choose one of: {', '.join(LANGUAGES)}")
    path = BOTS_DIR / f"{lang}.yaml"
    return load_yaml(path, Phrasebook)


# -- the report -----------------------------------------------------------------------------------
class TranscriptLine(BaseModel):
    speaker: str
    text: str
    tags: list[str] = Field(default_factory=list)


class BotResult(BaseModel):
    overall: float
    outcome: str | None
    dimensions: dict[str, float] = Field(description="{key: score} for the dimensions that apply")
    # For the studio (what the bot said, how the customer ended up); not part of the JSON contract.
    transcript: list[TranscriptLine] = Field(default_factory=list, exclude=True)
    final_mood: MoodState | None = Field(None, exclude=True)


class SelfPlayReport(BaseModel):
    """``{"scenario","lang","bots":{name:{"overall","outcome","dimensions"}},"warnings":[...]}``;
    in JSON each warning is its English message, the studio words them from code and params."""

    scenario: str
    lang: str
    bots: dict[str, BotResult]
    warnings: list[ScenarioWarning] = Field(default_factory=list)

    @field_serializer("warnings")
    def _messages(self, warnings: list[ScenarioWarning]) -> list[str]:
        return [str(w) for w in warnings]


# -- question and referral building (shared by the exemplary bot and the checks) -------------------
def _collapse(text: str) -> str:
    """Whitespace as a person types it: single spaces, no line breaks."""
    return " ".join(text.split())


def _question(book: Phrasebook, template: str, cue: str) -> str:
    """A question about ``cue``: asked directly when the cue holds a question word ("when", "jam berapa")."""
    ex = book.exemplary
    word = cue.strip().lower()
    if any(re.search(rf"(?<!\w){re.escape(w)}(?!\w)", word) for w in ex.direct_words) or any(
        word.endswith(e) for e in ex.direct_endings
    ):
        template = ex.ask_direct
    elif ex.ask_bare and any(word.startswith(w + " ") for w in ex.bare_words):
        template = ex.ask_bare
    return _collapse(template.format(cue=cue))


def _revealed_by(text: str, scenario: Scenario) -> list[str]:
    """The hidden facts a trainee turn would reveal at the start of a conversation (engine matching)."""
    analysis = analyze(text, scenario.lang, scenario=scenario)
    new, _ = facts_asked(text, analysis, scenario, [])
    return new


def _ask_template(book: Phrasebook, scenario: Scenario) -> str:
    """The first question template that reveals no hidden fact by its own words."""
    for template in book.exemplary.ask:
        if not _revealed_by(_question(book, template, _NEUTRAL), scenario):
            return template
    return book.exemplary.ask[0]


def _has_words(cue: str) -> bool:
    return re.search(r"\w", cue) is not None


@dataclass(frozen=True)
class FactReach:
    """What natural questions about each cue of one hidden fact reveal (engine matching)."""

    fact_id: str
    index: int
    by_cue: dict[str, list[str]]  # cue -> facts the question about it reveals, the template's own excluded
    template_reveals: bool  # the question template's own words reveal this fact

    @property
    def reaching(self) -> dict[str, list[str]]:
        """The cues whose question reveals this fact (cues without any word do not count)."""
        return {c: f for c, f in self.by_cue.items() if self.fact_id in f and _has_words(c)}


def fact_reach(scenario: Scenario, book: Phrasebook | None = None) -> list[FactReach]:
    """For each hidden fact and each of its cues, the facts a natural question about the cue reveals.

    The question is the exemplary bot's (e.g. "Could you tell me about the {cue}?"), typed with
    ordinary spacing; what it reveals is decided by the engine's own ``facts_asked``. Facts the
    template's own words reveal (whatever the cue) are left out of the per-cue lists.
    """
    book = book or load_phrasebook(scenario.lang)
    template = _ask_template(book, scenario)
    baseline = set(_revealed_by(_question(book, template, _NEUTRAL), scenario))
    return [
        FactReach(
            fact_id=fact.id,
            index=i,
            by_cue={
                cue: [f for f in _revealed_by(_question(book, template, cue), scenario) if f not in baseline]
                for cue in fact.asked_by
            },
            template_reveals=fact.id in baseline,
        )
        for i, fact in enumerate(scenario.hidden_facts)
    ]


def fact_reach_warnings(scenario: Scenario, book: Phrasebook | None = None) -> list[ScenarioWarning]:
    """Hidden facts no question reveals, facts no question asks for on their own, cues without words."""
    warnings = []
    for reach in fact_reach(scenario, book):
        if reach.template_reveals:
            continue  # any question reveals it
        field = f"hidden_facts.{reach.index}.asked_by"
        where = f"hidden fact '{reach.fact_id}' ({field})"
        cues = ", ".join(repr(c) for c in reach.by_cue)
        params = {"field": field, "fact": reach.fact_id, "cues": list(reach.by_cue)}
        reaching = reach.reaching
        if not reaching:
            warnings.append(ScenarioWarning(
                WarningCode.fact_unreachable,
                f"{where}: no question can reveal it: a question containing any of its cues ({cues}) does not "
                f"bring it out; give it words a trainee would use when asking about it",
                params,
            ))  # fmt: skip
            continue
        if all(len(facts) > 1 for facts in reaching.values()):
            others = sorted({f for facts in reaching.values() for f in facts if f != reach.fact_id})
            warnings.append(ScenarioWarning(
                WarningCode.fact_not_alone,
                f"{where}: no question asks for it on its own: every question about one of its cues ({cues}) also "
                f"reveals {', '.join(repr(o) for o in others)}; give it a cue of its own",
                params | {"others": others},
            ))  # fmt: skip
        for cue in reach.by_cue:
            if not _has_words(cue):
                warnings.append(ScenarioWarning(
                    WarningCode.cue_without_words,
                    f"{where}: the cue {cue!r} has no words, so no question can use it; remove it",
                    {"field": field, "fact": reach.fact_id, "cue": cue},
                ))  # fmt: skip
            elif is_question_word(cue):
                warnings.append(ScenarioWarning(
                    WarningCode.cue_question_word,
                    f"{where}: the cue {cue!r} is only a question word, in every question of its kind, so the "
                    f"customer does not take it as asking for this fact; use words about the fact itself",
                    {"field": field, "fact": reach.fact_id, "cue": cue},
                ))  # fmt: skip
    return warnings


def referral_warnings(scenario: Scenario, book: Phrasebook | None = None) -> list[ScenarioWarning]:
    """A referral target 'other' the customer can never accept: the analyser does not confirm a
    referral naming any of its accept_cues as the correct one."""
    book = book or load_phrasebook(scenario.lang)
    referral = scenario.handling.referral
    if referral.target is not ReferralTarget.other:
        return []
    tried = []
    for cue in referral.accept_cues:
        if not _has_words(cue):
            continue
        text = _collapse(book.checks.refer.format(cue=cue.strip()))
        analysis = analyze(text, scenario.lang, scenario=scenario)
        if analysis.has(Tag.referral) and analysis.referral_matches:
            return []
        tried.append(text)
    cues = ", ".join(repr(c) for c in referral.accept_cues)
    example = f" (e.g. {tried[0]!r} is not taken as the right referral)" if tried else " (none of them has any words)"
    return [
        ScenarioWarning(
            WarningCode.referral_unaccepted,
            f"handling.referral.accept_cues: the customer can never accept the referral to {referral.party!r}: "
            f"no referral naming one of its accept_cues ({cues}) is recognised{example}; use the words a trainee "
            f"would use to name that party: its name, number or office, typed plainly",
            {"field": "handling.referral.accept_cues", "party": referral.party or "",
             "cues": list(referral.accept_cues), "example": tried[0] if tried else ""},
        )
    ]


# -- the bots ---------------------------------------------------------------------------------------
@dataclass
class _View:
    """What a bot sees of the conversation: the customer's last line and mood memory."""

    turn: int = 0
    customer_last: str = ""
    mood: MoodState | None = None
    dialogue: DialogueState | None = None

    @property
    def revealed(self) -> list[str]:
        return self.mood.revealed if self.mood else []


class Bot(ABC):
    """A bot trainee: one turn at a time, from the scenario and the phrasebook; None to stop."""

    name = "bot"

    def __init__(self, scenario: Scenario, book: Phrasebook):
        self.scenario = scenario
        self.book = book

    @abstractmethod
    def next_turn(self, view: _View) -> str | None:
        """The bot's next turn given the conversation so far, or None when it has nothing more to say."""

    @property
    def you(self) -> str:
        """How to address the customer: from the first word of the persona's name."""
        address = self.book.address
        first = (self.scenario.persona.name.split() or [""])[0].rstrip(".")
        return address.prefixes.get(first, address.default)

    def _say(self, template: str, **slots: str) -> str:
        return _collapse(template.format(you=self.you, **slots))

    def _cycle(self, lines: list[str], view: _View, **slots: str) -> str:
        return self._say(lines[view.turn % len(lines)], **slots)


class ExemplaryBot(Bot):
    name = EXEMPLARY

    def __init__(self, scenario: Scenario, book: Phrasebook):
        super().__init__(scenario, book)
        ex = book.exemplary
        self.template = _ask_template(book, scenario)
        fitting = [tf for tf in ex.time_frames if tf.days <= scenario.handling.max_days] or [ex.time_frames[0]]
        self.when = max(fitting, key=lambda tf: tf.days).text
        self.ref = "".join(w[0] for w in scenario.id.split("-")).upper() + "-0417-052"
        self.stage = "opening"
        self.asked: set[str] = set()
        self.follow_ups = 0

    def _slots(self) -> dict[str, str]:
        return {"when": self.when, "ref": self.ref}

    def _problem(self) -> str:
        ex = self.book.exemplary
        cues = self.scenario.problem_cues[: ex.problem_cues]
        return cues[0] if len(cues) == 1 else f"{', '.join(cues[:-1])} {ex.and_} {cues[-1]}"

    def _question_for(self, fact_id: str) -> str:
        fact = next(f for f in self.scenario.hidden_facts if f.id == fact_id)
        cue = next(
            (c for c in fact.asked_by if fact_id in _revealed_by(_question(self.book, self.template, c), self.scenario)),
            fact.asked_by[0],
        )
        question = _question(self.book, self.template, cue)
        if self.scenario.persona.temperament is Temperament.threatening:
            reassure = self.book.exemplary.reassure
            question = f"{self._say(reassure[(len(self.asked) - 1) % len(reassure)])} {question}"
        return question

    def _need_phrases(self, text: str, view: _View | None) -> list[str]:
        """A phrase for each need the plan ``text`` does not meet yet: an example sentence of the
        scenario's language, else the phrasebook's ``need`` template with one of its cue words."""
        from simulator.dialogue import _language, effective_needs, extract_slots
        from simulator.scenario import Slot

        met = {n.id for n in (view.dialogue.needs if view and view.dialogue else []) if n.met_turn is not None}
        low = text.lower()
        slots = extract_slots(text, self.scenario)
        phrases = []
        for need in effective_needs(self.scenario):
            if need.id in met:
                continue
            for cond in need.met_by:
                if cond.facts or cond.referral or cond.tags or cond.any_tags:
                    continue  # met by asking, referring or the plan's tags
                if not cond.cues and not cond.examples and cond.slots:
                    if Slot.when not in slots and {x.value for x in cond.slots} <= {Slot.when.value}:
                        step = self._say(self.book.exemplary.act, **self._slots())  # a next step with a time
                        phrases.append(step)
                        slots.update(extract_slots(step, self.scenario))
                        break
                    continue
                if cond.cues and any(c.lower() in low for c in cond.cues) and all(x.value in slots for x in cond.slots):
                    break
                examples = [e for e in cond.examples if _language(e) in (None, self.scenario.lang)]
                if examples:
                    phrases.append(examples[0])
                    break
                if cond.cues and all(x.value in slots for x in cond.slots):
                    phrases.append(self._say(self.book.exemplary.need, cue=cond.cues[0]))
                    break
        return phrases

    def _act(self, view: _View | None = None) -> str:
        plan = self._plan()
        return _collapse(" ".join([plan, *self._need_phrases(plan, view)]))

    def _plan(self) -> str:
        ex, h = self.book.exemplary, self.scenario.handling
        parts = []
        target = h.referral.target
        if target is ReferralTarget.none:
            parts.append(self._say(ex.act, **self._slots()))
        if h.compensation_due:
            parts.append(self._say(ex.remedy))
        if target is not ReferralTarget.none:
            referral = h.referral
            party = (referral.party or "").strip().rstrip(".")
            contact = (referral.contact or "").strip()
            if contact and not contact.endswith((".", "!", "?")):
                contact += "."
            named = f"{party} {contact}".lower()
            cues = [c.strip() for c in referral.accept_cues if _has_words(c)]
            # Name the party with one of its accept_cues when its name and contact do not already.
            accept = None if any(c.lower() in named for c in cues) else next(iter(cues), None)
            template = getattr(ex.referral, target.value)
            parts.append(
                self._say(
                    template,
                    party=party,
                    contact=contact,
                    accept=ex.referral.accept.format(cue=accept) if accept else "",
                    **self._slots(),
                )
            )
        return _collapse(" ".join(parts))

    def next_turn(self, view: _View) -> str | None:
        ex = self.book.exemplary
        if self.stage == "opening":
            self.stage = "asking"
            return self._say(ex.opening, problem=self._problem(), **self._slots())
        if self.stage == "asking":
            pending = [f.id for f in self.scenario.hidden_facts if f.id not in view.revealed and f.id not in self.asked]
            if pending:
                self.asked.add(pending[0])
                return self._question_for(pending[0])
            self.stage = "acting"
        if self.stage == "acting":
            self.stage = "following_up"
            return self._act(view)
        if self.follow_ups >= len(ex.follow_up):
            return None
        self.follow_ups += 1
        return self._say(ex.follow_up[self.follow_ups - 1], **self._slots())


class _LinesBot(Bot):
    """Says its lines in order, over and over, until the customer ends the conversation."""

    def lines(self) -> list[str]:
        return getattr(self.book, self.name)

    def next_turn(self, view: _View) -> str | None:
        return self._cycle(self.lines(), view)


class DefensiveBot(_LinesBot):
    name = "defensive"


class PassiveBot(_LinesBot):
    name = "passive"


class OverReactingBot(_LinesBot):
    name = "over_reacting"


class WrongReferralBot(Bot):
    name = "wrong_referral"

    def __init__(self, scenario: Scenario, book: Phrasebook):
        super().__init__(scenario, book)
        phrases = book.wrong_referral
        self.place = next((p for p in phrases.places if not self._accepted(p)), phrases.places[0])

    def _accepted(self, place: str) -> bool:
        text = self._say(self.book.wrong_referral.lines[0], place=place)
        return bool(analyze(text, self.scenario.lang, scenario=self.scenario).referral_matches)

    def next_turn(self, view: _View) -> str | None:
        return self._cycle(self.book.wrong_referral.lines, view, place=self.place)


BOT_CLASSES: dict[str, type[Bot]] = {
    cls.name: cls for cls in (ExemplaryBot, DefensiveBot, PassiveBot, OverReactingBot, WrongReferralBot)
}


# -- running ----------------------------------------------------------------------------------------
class _OneScenario:
    """The library the session service sees: just the scenario under test."""

    def __init__(self, scenario: Scenario):
        self.scenario = scenario

    def get(self, scenario_id: str, lang: str) -> Scenario:
        if (scenario_id, lang) != (self.scenario.id, self.scenario.lang):
            raise UnknownScenario(f"unknown scenario '{scenario_id}' in language '{lang}'")
        return self.scenario

    def all(self, lang: str | None = None) -> list[Scenario]:
        return [self.scenario] if lang in (None, self.scenario.lang) else []

    def ids(self) -> list[str]:
        return [self.scenario.id]


def _service(scenario: Scenario):
    """A session service on a throwaway in-memory database with the scripted customer."""
    from simulator.customers.scripted import ScriptedCustomer
    from simulator.session import SessionService
    from simulator.store.db import open_repository

    return SessionService(open_repository("sqlite://"), _OneScenario(scenario), engine=ScriptedCustomer())


def play_bot(service, bot: Bot) -> BotResult:
    """One conversation of ``bot`` on ``service`` until the customer ends it (or the bot stops)."""
    scenario = bot.scenario
    record = service.start(scenario.id, scenario.lang, seed=SEED)
    view = _View(customer_last=service.transcript(record.id)[0].text, mood=service.mood(record), dialogue=service.dialogue(record))
    card = None
    for _ in range(scenario.max_turns):  # the customer ends at max_turns; this only guards the loop
        text = bot.next_turn(view)
        if text is None:
            break
        result = service.say(record.id, text)
        view = _View(
            turn=view.turn + 1,
            customer_last=result.customer,
            mood=result.mood,
            dialogue=service.dialogue(service.session(record.id), scenario),
        )
        if result.ended:
            card = result.scorecard
            break
    card = card or service.end(record.id)
    transcript = [
        TranscriptLine(speaker=t.speaker, text=t.text, tags=(t.analysis or {}).get("tags", []))
        for t in service.transcript(record.id)
    ]
    return BotResult(
        overall=card.overall,
        outcome=card.outcome,
        dimensions=card.scores(),
        transcript=transcript,
        final_mood=service.mood(service.session(record.id)),
    )


_MISSING = {
    MissingCode.out_of_turns: "ran out of turns (max_turns {max_turns})",
    MissingCode.cause_not_found: "cause not found",
    MissingCode.no_time_frame: "no time frame within max_days ({max_days}) accepted",
    MissingCode.no_remedy: "no remedy accepted",
    MissingCode.no_referral: "no referral to '{target}' made",
    MissingCode.referral_not_recognised: "the referral to '{target}' was not recognised as correct",
}


def _missing(mood: MoodState, scenario: Scenario | None) -> list[MissingCode]:
    """Why the customer did not settle: the needs still open."""
    if scenario is None:
        return []
    h = scenario.handling
    missing = []
    if mood.outcome is not None and mood.outcome.value == "turn_limit":
        missing.append(MissingCode.out_of_turns)
    if h.referral.target is ReferralTarget.none:
        if h.needs_cause and not mood.cause_found:
            missing.append(MissingCode.cause_not_found)
        if not mood.time_given:
            missing.append(MissingCode.no_time_frame)
        if h.compensation_due and not mood.remedy_given:
            missing.append(MissingCode.no_remedy)
    elif mood.referral is None:
        missing.append(MissingCode.no_referral)
    elif mood.referral != "correct":
        missing.append(MissingCode.referral_not_recognised)
    return missing


def _unresolvable(best: BotResult, scenario: Scenario | None) -> ScenarioWarning:
    """The exemplary bot's conversation did not end resolved or referred: how the customer felt
    and the needs still open."""
    mood = best.final_mood
    missing = _missing(mood, scenario) if mood is not None else []
    params: dict[str, object] = {
        "outcome": best.outcome or "",
        "anger": round(mood.anger, 1) if mood is not None else None,
        "trust": round(mood.trust, 1) if mood is not None else None,
        "missing": [m.value for m in missing],
        "max_turns": scenario.max_turns if scenario is not None else None,
        "max_days": scenario.handling.max_days if scenario is not None else None,
        "target": scenario.handling.referral.target.value if scenario is not None else None,
    }
    detail = ""
    if mood is not None:
        parts = [f"anger {mood.anger:.1f}, trust {mood.trust:.1f}", *(_MISSING[m].format(**params) for m in missing)]
        detail = f" ({'; '.join(parts)})"
    return ScenarioWarning(
        WarningCode.unresolvable,
        f"cannot be resolved: the exemplary bot ended with outcome '{best.outcome}', not resolved or "
        f"referred{detail}; check handling (max_days, compensation_due, referral) and the hidden facts",
        params,
    )


def discrimination_warnings(
    bots: dict[str, BotResult], scenario: Scenario | None = None, margin: float = MARGIN
) -> list[ScenarioWarning]:
    """Warnings from the bots' results: the exemplary bot must win clearly and resolve the case."""
    best = bots.get(EXEMPLARY)
    if best is None:
        return []
    warnings = []
    if best.outcome not in GOOD_OUTCOMES:
        warnings.append(_unresolvable(best, scenario))
    for name, result in bots.items():
        if name == EXEMPLARY:
            continue
        params = {"bot": name, "score": round(result.overall, 1), "best": round(best.overall, 1)}
        if result.overall >= best.overall:
            warnings.append(ScenarioWarning(
                WarningCode.not_highest,
                f"does not discriminate: the exemplary bot does not score highest; '{name}' scores "
                f"{result.overall:.1f}, the exemplary bot {best.overall:.1f}",
                params,
            ))  # fmt: skip
        elif best.overall - result.overall < margin:
            warnings.append(ScenarioWarning(
                WarningCode.too_close,
                f"does not discriminate: '{name}' scores {result.overall:.1f}, within {margin:.0f} points of "
                f"the exemplary bot's {best.overall:.1f}",
                params | {"margin": round(margin)},
            ))  # fmt: skip
    return warnings


def dialogue_warnings(scenario: Scenario) -> list[ScenarioWarning]:
    """Needs that can never be met, knowledge without an example question, line conditions that
    can never hold (see :func:`simulator.dialogue.lint`)."""
    from simulator.dialogue import lint

    return lint(scenario)


def selfplay(
    scenario: Scenario,
    bots: Iterable[str] = ALL,
    progress: ProgressCallback | None = None,
) -> SelfPlayReport:
    """Let the bot trainees play ``scenario`` on the scripted engine and check the scenario.

    ``bots``: names from :data:`ALL` (unknown ones raise ``ValueError``). ``progress``: see
    :data:`ProgressCallback`. Runs on a throwaway in-memory database.
    """
    names = list(dict.fromkeys(bots))
    unknown = [n for n in names if n not in BOT_CLASSES]
    if unknown:
        raise ValueError(f"unknown bot(s): {', '.join(unknown)}; choose from: {', '.join(ALL)}")
    book = load_phrasebook(scenario.lang)
    service = _service(scenario)
    results: dict[str, BotResult] = {}
    try:
        for done, name in enumerate(names):
            if progress is not None:
                progress(done, len(names), name)
            results[name] = play_bot(service, BOT_CLASSES[name](scenario, book))
    finally:
        service.repo.close()  # the in-memory database goes with its connection
    if progress is not None:
        progress(len(names), len(names), None)
    warnings = [
        *discrimination_warnings(results, scenario),
        *fact_reach_warnings(scenario, book),
        *dialogue_warnings(scenario),
        *referral_warnings(scenario, book),
    ]
    return SelfPlayReport(scenario=scenario.id, lang=scenario.lang, bots=results, warnings=warnings)


# -- loading and printing (the CLI; the studio calls selfplay() directly) ---------------------------
def _looks_like_path(value: str) -> bool:
    return "/" in value or "\\" in value or value.lower().endswith((".yaml", ".yml")) or Path(value).is_file()


def load_target(id_or_file: str, lang: str | None, library: ScenarioLibrary | None = None) -> Scenario:
    """The scenario to check: a built-in id (with ``lang``) or a YAML file (its own language;
    ``lang``, when given, must match). Raises ``UnknownScenario`` for a bad id or language and
    ``ScenarioError`` (file, field, message) for a missing, unreadable or invalid file."""
    if _looks_like_path(id_or_file):
        path = Path(id_or_file)
        if not path.is_file():
            raise ScenarioError([(str(path), "(file)", "no such file")])
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ScenarioError([(str(path), "(file)", f"cannot read: {exc}")]) from None
        scenario = parse_scenario(text, str(path))
        if lang is not None and scenario.lang != lang:
            raise ScenarioError([(str(path), "lang", f"the scenario is in '{scenario.lang}', not '{lang}' (--lang)")])
        return scenario
    if lang is None:
        raise UnknownScenario(f"give the language of scenario '{id_or_file}' with --lang ({' or '.join(LANGUAGES)})")
    return (library or ScenarioLibrary()).get(id_or_file, lang)


def format_report(report: SelfPlayReport) -> str:
    """The report as a table for people, then the warnings."""
    seen = {k for result in report.bots.values() for k in result.dimensions}
    dims = [k for k in DIMENSIONS if k in seen] + sorted(seen - set(DIMENSIONS))
    name_w = max([len("bot"), *(len(n) for n in report.bots)])
    out_w = max([len("outcome"), *(len(r.outcome or "-") for r in report.bots.values())])
    header = f"{'bot':<{name_w}}  {'overall':>7}  {'outcome':<{out_w}}" + "".join(f"  {k:>{max(len(k), 5)}}" for k in dims)
    lines = [f"Self-play check: {report.scenario} ({report.lang})", "", header, "-" * len(header)]
    for name, r in report.bots.items():
        cells = "".join(
            f"  {(f'{r.dimensions[k]:.0f}' if k in r.dimensions else '-'):>{max(len(k), 5)}}" for k in dims
        )
        lines.append(f"{name:<{name_w}}  {r.overall:>7.1f}  {(r.outcome or '-'):<{out_w}}{cells}")
    best = report.bots.get(EXEMPLARY)
    bad = {n: r for n, r in report.bots.items() if n != EXEMPLARY}
    if best is not None and bad:
        worst = max(bad, key=lambda n: bad[n].overall)
        lines += ["", f"exemplary - best bad bot ({worst}): {best.overall - bad[worst].overall:+.1f} points "
                      f"(at least {MARGIN:.0f} wanted)"]
    lines.append("")
    if report.warnings:
        lines.append(f"Warnings ({len(report.warnings)}):")
        lines.extend(f"  - {w}" for w in report.warnings)
    else:
        lines.append("No warnings.")
    return "\n".join(lines)
