"""Scenario model: what a simulated customer is, loaded from YAML and validated with pydantic.

A scenario file lives at ``scenarios/<lang>/<id>.yaml``. Lines a scenario does not give come
from the shared per-language banks in ``scenarios/lines/<lang>.yaml`` (keyed by temperament
and situation), so a trainer can write a working scenario with only the essentials.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    field_validator,
    model_validator,
)

from simulator.datafile import DataFileError, load_yaml, parse_yaml

SCENARIO_ROOT = Path(__file__).resolve().parent.parent / "scenarios"
LANGUAGES = ("id", "en")
ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"


class Temperament(StrEnum):
    angry = "angry"
    confused = "confused"
    threatening = "threatening"
    anxious = "anxious"


class Fault(StrEnum):
    institution = "institution"
    customer = "customer"
    third_party = "third_party"
    unclear = "unclear"
    nobody = "nobody"


class ReferralTarget(StrEnum):
    none = "none"
    legal = "legal"
    security = "security"
    other = "other"


class Situation(StrEnum):
    """Moments the customer engine needs a line for. Scenario lines override the shared bank."""

    calmer = "calmer"  # trainee eased the customer (empathy, acknowledgement), customer softens
    angrier = "angrier"  # trainee was defensive or hostile
    unheard = "unheard"  # trainee said nothing of substance (no restating, no question, no action)
    empty_apology = "empty_apology"  # apology repeated without action
    vague_time = "vague_time"  # "soon" without a concrete time
    asks_when = "asks_when"  # customer wants a concrete time frame
    asks_remedy = "asks_remedy"  # customer wants the loss put right
    unknown_question = "unknown_question"  # trainee asked something no hidden fact answers
    fact_already_given = "fact_already_given"  # trainee asks again for a fact already revealed
    accept_referral = "accept_referral"  # correct referral: customer accepts and leaves
    wrong_referral = "wrong_referral"  # referral to the wrong place / a brush-off
    threat = "threat"  # threat escalates because it was ignored
    resolved = "resolved"  # closing line when satisfied
    walked_away = "walked_away"  # closing line when giving up
    escalated = "escalated"  # closing line when escalating (viral, ombudsman, lawyer, violence)
    turn_limit = "turn_limit"  # closing line when time runs out
    # Reply types of the needs-driven policy (simulator/dialogue.py). Lines may use the slots
    # {day} {time} {amount} {place} {number} {missing} {you} (see docs/architecture.md).
    answer_unknown = "answer_unknown"  # a reasonable question the customer cannot answer: neutral
    other_unknown = "other_unknown"  # beside answers to the turn's other questions: "that one I don't know"
    confirmed = "confirmed"  # the trainee checked their understanding ("so it's been three days?"): yes
    show_evidence = "show_evidence"  # the trainee asked to see something the customer brought
    admission = "admission"  # the trainee owned the institution's fault
    apology_accepted = "apology_accepted"  # a first sincere apology, nothing else yet
    push_time = "push_time"  # a vague time ("tomorrow", "soon"): push for a concrete one
    accept_commitment = "accept_commitment"  # a concrete commitment, restated back
    referral_missing = "referral_missing"  # a referral without enough detail to act on: say what is missing
    one_word = "one_word"  # a one-word reply ("ok", "noted")
    other_language = "other_language"  # the trainee switched language
    closing_question = "closing_question"  # "anything else I can help with?" while needs are still open
    security_called = "security_called"  # the trainee called security: the guard comes (mid-conversation)
    not_convinced = "not_convinced"  # talk about the problem that meets no need (a denial, an explanation that does not land)
    welcomed = "welcomed"  # a greeting or courtesy at the start ("please, have a seat"): the customer goes on
    agree = "agree"  # an offer, a request or a check put as a question ("Can I walk you through it?", "Is that clear?")
    either_way = "either_way"  # a choice offered ("by phone or WhatsApp?", "transfer atau tunai?"): either will do
    progress = "progress"  # a step for the problem (a need met, a remedy, the right place): taken note of, not thanks for manners
    not_yet = "not_yet"  # "has it happened?" about the customer's own side, which nothing they know answers: "No, not yet."


class LineCondition(StrEnum):
    """What a line may assume; a line whose conditions do not all hold is never picked."""

    apologised = "apologised"  # the trainee has apologised (this turn or before)
    not_apologised = "not_apologised"
    time_given = "time_given"  # a concrete time was given
    no_time_given = "no_time_given"
    remedy_offered = "remedy_offered"
    no_remedy = "no_remedy"
    first_turn = "first_turn"  # the trainee's first turn
    later_turn = "later_turn"
    fault_admitted = "fault_admitted"
    threat_made = "threat_made"  # the customer has threatened (a threat line said, or threat level up)
    defensive_turn = "defensive_turn"  # the trainee was defensive this turn (blame, excuses; hostility alone is not)
    referral_made = "referral_made"  # the trainee referred the customer somewhere
    security_called = "security_called"
    number_given = "number_given"  # a complaint, claim or reference number was given
    long_turn = "long_turn"  # the trainee's turn is long (dialogue.yaml's long_turn_words)
    ongoing = "ongoing"  # the conversation goes on after this reply ("Yes. Go on." is no goodbye)
    no_day_named = "no_day_named"  # the trainee named no day this turn ("Which day exactly?" after "tomorrow" is deaf)
    acknowledged = "acknowledged"  # the trainee named or restated the problem this turn ("That makes sense.")
    checking = "checking"  # the trainee checks now or asks about the case this turn ("Finally, someone who checks.")


class Model(BaseModel):
    """Base for scenario parts: unknown fields are errors, so typos surface in validation."""

    model_config = ConfigDict(extra="forbid", use_enum_values=False)


Level = Annotated[float, Field(ge=0, le=10)]
Text = Annotated[str, Field(min_length=1, max_length=2000)]


class Briefing(Model):
    """What the trainee is told before the conversation."""

    role: Text = Field(description="Who the trainee is, e.g. 'Customer service officer at PDAM Tirta Kahuripan'.")
    setting: Text = Field(description="Where and how the conversation happens (counter, phone, chat).")
    goal: Text = Field(description="What the trainee should achieve.")


class MoodLevels(Model):
    """The customer's starting emotional state, each 0-10."""

    anger: Level = 6
    trust: Level = 3
    threat: Level = Field(0, description="How close a threatening customer is to acting on a threat.")


class Voice(Model):
    """How the customer speaks in shared lines: their words replace the bank's neutral ones."""

    address: str | None = Field(
        None, description="How the customer addresses the trainee, filling {you} in shared lines (e.g. 'Mas', 'lo', 'Nak')."
    )
    words: dict[Annotated[str, Field(min_length=1)], str] = Field(
        default_factory=dict,
        description="Word replacements applied to shared lines, e.g. {saya: gue, kamu: lo, nggak: ndak}.",
    )
    particles: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list, description="Dialect particles added now and then at the end of a shared line (e.g. 'nggih')."
    )
    tone: str | None = Field(None, description="Register: formal, casual, slang... (for the model-voiced customer).")


class Persona(Model):
    name: Text
    age: int | None = Field(None, ge=10, le=110)
    temperament: Temperament
    mood: MoodLevels = Field(default_factory=MoodLevels)
    speaking_style: Text = Field(description="How the customer talks: register, dialect, typical phrases.")
    voice: Voice = Field(default_factory=Voice)
    provoked_by: list[Annotated[str, Field(min_length=2)]] = Field(
        default_factory=list,
        description="Words the customer said they will not stand to hear again (e.g. 'in process'): a turn that says "
        "one provokes them like a defensive one (patience spent, an angry reply; a line that `mentions` them first).",
    )


class ConditionedLine(Model):
    """A line with what it assumes: ``{text, when: [conditions]}``."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    text: Text
    when: tuple[LineCondition, ...] = Field(default=(), description="All must hold for the line to be said.")
    mentions: tuple[Annotated[str, Field(min_length=2)], ...] = Field(
        default=(),
        description="A line that echoes the trainee's words: said only when this turn mentions one of these.",
    )


Line = Text | ConditionedLine


def line_text(line: str | ConditionedLine) -> str:
    return line if isinstance(line, str) else line.text


def line_mentions(line: str | ConditionedLine) -> tuple[str, ...]:
    return () if isinstance(line, str) else line.mentions


def line_conditions(line: str | ConditionedLine) -> list[LineCondition]:
    return [] if isinstance(line, str) else list(line.when)


class Slot(StrEnum):
    """What slot extraction finds in a trainee turn (simulator/dialogue.py)."""

    day = "day"  # a day: a weekday, a date, today/tomorrow
    hours = "hours"  # a clock time or a window ("8-12", "jam 10", "this afternoon")
    duration = "duration"  # "within 3 working days", "1x24 jam", "in 30 minutes"
    when = "when"  # any concrete time: a day with hours, a date, or a duration
    amount = "amount"  # a sum of money
    number = "number"  # a reference, ticket or complaint number
    phone = "phone"  # a phone number or short code
    place = "place"  # the scenario's referral party or an address


class NeedCondition(Model):
    """One way a need can be met on a trainee turn; every part given must hold."""

    tags: list[str] = Field(default_factory=list, description="Analysis tags the turn must all carry.")
    any_tags: list[str] = Field(default_factory=list, description="At least one of these tags.")
    slots: list[Slot] = Field(default_factory=list, description="Slots the turn must all contain.")
    facts: list[str] = Field(default_factory=list, description="Hidden facts / knowledge ids told by now.")
    cues: list[Annotated[str, Field(min_length=2)]] = Field(
        default_factory=list, description="At least one of these words or phrases in the turn."
    )
    with_cues: list[Annotated[str, Field(min_length=2)]] = Field(
        default_factory=list, description="And at least one of these too (e.g. the thing, then what is done with it)."
    )
    examples: list[Text] = Field(
        default_factory=list,
        description="Example statements; the matcher must find a statement of the turn means one of them, with the "
        "same polarity (write them without 'not': a denial then never matches).",
    )
    unlike: list[Text] = Field(
        default_factory=list,
        description="Near misses for `examples`: statements about the same things that do not meet the need (the "
        "cause explained where an action is needed); a statement nearer one of these than to every example does not.",
    )
    referral: bool = Field(False, description="The turn refers to the scenario's correct party.")
    realistic: bool = Field(True, description="A time given must be within handling.max_days.")


class Need(Model):
    """Something that must happen before the customer is satisfied."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
    description: Text = Field(description="What counts, in words (shown to trainers and the model-voiced customer).")
    required: bool = True
    kind: Annotated[str, Field(pattern=r"^(cause|next_step|remedy|number|referral|safety|other)$")] = "other"
    met_by: list[NeedCondition] = Field(min_length=1, description="Ways to meet it; any one is enough.")
    ask: list[Text] = Field(default_factory=list, description="The customer's lines asking for it while it is open.")


class Knowledge(Model):
    """Something the customer knows and answers when asked (not hidden: just not volunteered)."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
    answer: Text = Field(description="The customer's answer.")
    questions: list[Text] = Field(
        default_factory=list, description="Example questions, in both languages; the matcher compares a turn to them."
    )
    asked_by: list[Annotated[str, Field(min_length=2)]] = Field(
        default_factory=list, description="Cue words; a question containing one asks for it."
    )
    evidence: bool = Field(False, description="Something the customer can show (a bill, a photo, a receipt).")


class HiddenFact(Model):
    """A fact the customer reveals only when the trainee asks a fitting question."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
    reveal: Text = Field(description="The customer's line that reveals the fact.")
    asked_by: list[Annotated[str, Field(min_length=2)]] = Field(
        min_length=1,
        description="Words or phrases; a trainee question containing any of them reveals the fact.",
    )
    is_cause: bool = Field(False, description="True when this fact is (part of) the cause of the problem.")
    questions: list[Text] = Field(
        default_factory=list, description="Example questions (either language) the matcher compares a turn to."
    )


class Referral(Model):
    target: ReferralTarget = ReferralTarget.none
    party: str | None = Field(None, description="Name of the office or department to refer to.")
    contact: str | None = Field(None, description="Address, phone number or channel, and what to bring.")
    accept_cues: list[str] = Field(
        default_factory=list,
        description="Words that identify the right party in a trainee's referral (e.g. 'PLN', '123').",
    )

    @model_validator(mode="after")
    def _other_needs_a_party(self) -> Referral:
        if self.target is ReferralTarget.other and not (self.party and self.accept_cues):
            raise ValueError("referral target 'other' needs a party and accept_cues")
        return self


class Handling(Model):
    """What correct handling looks like for this scenario; drives mood and scoring."""

    referral: Referral = Field(default_factory=Referral)
    compensation_due: bool = Field(description="True when the institution caused a loss it should make good.")
    time_frame: Text = Field(description="An acceptable time frame for the next step, in words.")
    max_days: int = Field(14, ge=0, le=60, description="Longest realistic commitment, in days.")
    needs_cause: bool = Field(True, description="The trainee must ask questions to find the cause.")
    key_behaviours: list[str] = Field(default_factory=list, description="Rubric dimension keys that matter most.")


class Scenario(Model):
    id: Annotated[str, Field(pattern=ID_PATTERN)]
    lang: Annotated[str, Field(pattern=r"^(id|en)$")]
    title: Text
    summary: Text
    sector: Text = Field(description="e.g. water utility, telecom, caterer, vehicle dealer.")
    difficulty: int = Field(ge=1, le=3)
    briefing: Briefing
    persona: Persona
    opening: Text = Field(description="The customer's first message.")
    problem_cues: list[Annotated[str, Field(min_length=2)]] = Field(
        min_length=1,
        description="Words naming the specific problem; restating them counts as acknowledging it.",
    )
    hidden_facts: list[HiddenFact] = Field(default_factory=list)
    fault: Fault
    handling: Handling
    learning_points: list[Text] = Field(min_length=1)
    lines: dict[Situation, list[Line]] = Field(
        default_factory=dict,
        description="Customer lines per situation (text, or {text, when: [conditions]}); missing ones come from the shared bank.",
    )
    needs: list[Need] = Field(
        default_factory=list,
        description="What must happen before the customer is satisfied; empty: derived from handling.",
    )
    knowledge: list[Knowledge] = Field(default_factory=list, description="What the customer knows and answers when asked.")
    max_turns: int = Field(12, ge=3, le=40)

    def case_text(self) -> str:
        """What the case is about, in the scenario's words: the customer's opening, facts and
        knowledge, the briefing, the handling and the needs (not the customer's reaction lines)."""
        h = self.handling
        return " ".join([
            self.title, self.summary, self.sector, self.opening, *self.problem_cues,
            self.briefing.role, self.briefing.setting, self.briefing.goal,
            *(x for f in self.hidden_facts for x in (f.reveal, *f.asked_by, *f.questions)),
            *(x for k in self.knowledge for x in (k.answer, *k.asked_by, *k.questions)),
            *(n.description for n in self.needs), h.referral.party or "", h.referral.contact or "",
            *h.referral.accept_cues, h.time_frame, *self.learning_points,
        ])

    def reference_problems(self) -> list[tuple[str, str]]:
        """(field path, message) for needs that name unknown facts or tags, duplicate ids, a
        referral condition without a referral, an empty condition (met by any turn)."""
        from simulator.analysis_types import Tag

        known = {f.id for f in self.hidden_facts} | {k.id for k in self.knowledge}
        tags = {t.value for t in Tag}
        problems: list[tuple[str, str]] = []
        ids = [n.id for n in self.needs]
        for i, need in enumerate(self.needs):
            if ids.count(need.id) > 1 and ids.index(need.id) != i:
                problems.append((f"needs.{i}.id", f"duplicate need id '{need.id}'"))
            for j, cond in enumerate(need.met_by):
                where = f"needs.{i}.met_by.{j}"
                for k, fact in enumerate(cond.facts):
                    if fact not in known:
                        problems.append((f"{where}.facts.{k}", f"unknown hidden fact or knowledge id '{fact}'"))
                for field in ("tags", "any_tags"):
                    for k, tag in enumerate(getattr(cond, field)):
                        if tag not in tags:
                            problems.append((f"{where}.{field}.{k}", f"unknown tag '{tag}'; use one of: {', '.join(sorted(tags))}"))
                if cond.referral and self.handling.referral.target is ReferralTarget.none:
                    problems.append((f"{where}.referral", "the scenario has no referral target (handling.referral.target is none)"))
                if not (cond.tags or cond.any_tags or cond.slots or cond.facts or cond.cues or cond.with_cues
                        or cond.examples or cond.referral):
                    problems.append((where, "an empty condition would be met by any turn"))
        facts = {f.id for f in self.hidden_facts}
        for i, item in enumerate(self.knowledge):
            if item.id in facts:
                problems.append((f"knowledge.{i}.id", f"'{item.id}' is also a hidden fact id"))
            elif [k.id for k in self.knowledge].index(item.id) != i:
                problems.append((f"knowledge.{i}.id", f"duplicate knowledge id '{item.id}'"))
        return problems

    @field_validator("hidden_facts")
    @classmethod
    def _unique_fact_ids(cls, facts: list[HiddenFact]) -> list[HiddenFact]:
        ids = [f.id for f in facts]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate hidden fact id(s): {', '.join(dupes)}")
        return facts

    @property
    def threatening(self) -> bool:
        return self.persona.temperament is Temperament.threatening


ScenarioError = DataFileError  # a scenario file or line bank that could not be loaded


class UnknownScenario(LookupError):
    """An id/language pair that is not in the library; the message lists what exists."""


class WarningCode(StrEnum):
    """What a :class:`ScenarioWarning` is about, and the ``params`` it carries.

    Field paths (``field``) are the scenario's own (``hidden_facts.0.asked_by``, ``lines.calmer.2``);
    ``missing`` and ``reasons`` are lists of the codes below; ``bot`` and ``outcome`` are codes too;
    everything else is an id, a list of the author's words or a number.
    """

    unresolvable = "unresolvable"  # outcome, anger, trust, missing (MissingCode), max_turns, max_days, target (None: unknown)
    not_highest = "not_highest"  # bot, score, best
    too_close = "too_close"  # bot, score, best, margin
    fact_unreachable = "fact_unreachable"  # field, fact, cues
    fact_not_alone = "fact_not_alone"  # field, fact, cues, others
    cue_without_words = "cue_without_words"  # field, fact, cue
    cue_question_word = "cue_question_word"  # field, fact, cue
    referral_unaccepted = "referral_unaccepted"  # field, party, cues, example ("" when no cue has words)
    need_never_met = "need_never_met"  # need, reasons (NeedReason), facts
    knowledge_no_question = "knowledge_no_question"  # knowledge
    line_conditions_clash = "line_conditions_clash"  # field, conditions
    line_never_holds = "line_never_holds"  # field, conditions, situation
    line_no_referral = "line_no_referral"  # field
    line_security_only = "line_security_only"  # field


class MissingCode(StrEnum):
    """Why the exemplary bot's customer did not settle (``unresolvable``'s ``missing``)."""

    out_of_turns = "out_of_turns"
    cause_not_found = "cause_not_found"
    no_time_frame = "no_time_frame"
    no_remedy = "no_remedy"
    no_referral = "no_referral"
    referral_not_recognised = "referral_not_recognised"


class NeedReason(StrEnum):
    """Why a need can never be met (``need_never_met``'s ``reasons``)."""

    no_referral = "no_referral"
    unknown_facts = "unknown_facts"
    no_duration = "no_duration"


@dataclass(frozen=True)
class ScenarioWarning:
    """A valid scenario that will not behave as its author likely meant (self-play, lint).

    ``code`` and ``params`` let an interface say it in its own language (the studio does);
    ``str()`` is the English message the command line prints."""

    code: WarningCode
    message: str
    params: Mapping[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


def parse_scenario(text: str, source: str = "<text>") -> Scenario:
    """Parse and validate scenario YAML text. Raises ScenarioError naming source and field."""
    scenario = parse_yaml(text, Scenario, source, "a mapping of scenario fields")
    problems = scenario.reference_problems()
    if problems:
        raise ScenarioError([(source, path, message) for path, message in problems])
    return scenario


def load_scenario_file(path: Path) -> Scenario:
    """Load one scenario file; its id and lang must match its path ``<lang>/<id>.yaml``."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([(source, "(file)", f"cannot read: {exc}")]) from None
    scenario = parse_scenario(text, source)
    problems = []
    if scenario.id != path.stem:
        problems.append((source, "id", f"'{scenario.id}' does not match the file name '{path.stem}'"))
    if path.parent.name in LANGUAGES and scenario.lang != path.parent.name:
        problems.append((source, "lang", f"'{scenario.lang}' does not match the folder '{path.parent.name}'"))
    if problems:
        raise ScenarioError(problems)
    return scenario


def scenario_files(paths: list[Path]) -> list[Path]:
    """Expand folders into the scenario YAML files below them (the line banks are not scenarios)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.y*ml") if p.parent.name != "lines"))
        else:
            files.append(path)
    return files


class ScenarioLibrary:
    """The scenarios found under a root folder. Invalid files are skipped and kept in ``problems``."""

    def __init__(self, root: Path = SCENARIO_ROOT):
        self.root = root
        self.problems: list[tuple[str, str, str]] = []
        self._scenarios: dict[tuple[str, str], Scenario] = {}
        for path in scenario_files([root]):
            try:
                scenario = load_scenario_file(path)
            except ScenarioError as exc:
                self.problems.extend(exc.problems)
                continue
            self._scenarios[(scenario.id, scenario.lang)] = scenario

    def all(self, lang: str | None = None) -> list[Scenario]:
        return [s for (sid, slang), s in sorted(self._scenarios.items()) if lang in (None, slang)]

    def ids(self) -> list[str]:
        return sorted({sid for sid, _ in self._scenarios})

    def get(self, scenario_id: str, lang: str) -> Scenario:
        if lang not in LANGUAGES:
            raise UnknownScenario(f"unknown language '{lang}'; choose one of: {', '.join(LANGUAGES)}")
        try:
            return self._scenarios[(scenario_id, lang)]
        except KeyError:
            known = ", ".join(s.id for s in self.all(lang)) or "(none)"
            raise UnknownScenario(
                f"unknown scenario '{scenario_id}' in language '{lang}'; known ids: {known}"
            ) from None


def schema_json() -> str:
    """The JSON Schema of a scenario file, for editor completion (written to scenarios/schema.json)."""
    schema = Scenario.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Tenang scenario"
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"



# --- Shared line banks -------------------------------------------------------------------------

LINE_BANK_DIR = SCENARIO_ROOT / "lines"


ANY = "any"  # the bank's section for lines every temperament shares


class LineBank(RootModel[dict[str, dict[Situation, list[Line]]]]):
    """``scenarios/lines/<lang>.yaml``: customer lines per temperament (or ``any``) and situation.

    The bank is the fallback for every scenario, so it must be complete: every temperament
    with every situation, each with at least one line, in its own section or in ``any``.
    """

    @model_validator(mode="after")
    def _complete(self) -> LineBank:
        problems = []
        for key in self.root:
            if key != ANY and key not in {t.value for t in Temperament}:
                problems.append(f"unknown temperament '{key}'")
        shared = self.root.get(ANY, {})
        for temperament in Temperament:
            situations = self.root.get(temperament.value)
            if situations is None:
                problems.append(f"missing temperament '{temperament}'")
                continue
            for situation in Situation:
                if not situations.get(situation) and not shared.get(situation):
                    problems.append(f"'{temperament}' has no lines for situation '{situation}'")
        if problems:
            raise ValueError("; ".join(problems))
        return self


BankData = dict[Temperament, dict[Situation, list[Line]]]


def _bank_data(bank: LineBank) -> BankData:
    shared = bank.root.get(ANY, {})
    return {
        t: {s: [*bank.root[t.value].get(s, []), *shared.get(s, [])] for s in Situation}
        for t in Temperament
    }


def parse_line_bank(text: str, source: str = "<text>") -> BankData:
    """Parse and validate a line bank. Raises ScenarioError naming source and field."""
    return _bank_data(parse_yaml(text, LineBank, source, "a mapping of temperament -> situation -> lines"))


@lru_cache(maxsize=None)
def load_line_bank(lang: str, root: Path = LINE_BANK_DIR) -> BankData:
    """The shared line bank for a language (``<root>/<lang>.yaml``), validated and cached: per
    temperament, its own lines then the ``any`` lines. Treat the result as read-only."""
    if lang not in LANGUAGES:
        raise UnknownScenario(f"unknown language '{lang}'; choose one of: {', '.join(LANGUAGES)}")
    return _bank_data(load_yaml(Path(root) / f"{lang}.yaml", LineBank, "a mapping of temperament -> situation -> lines"))


def candidate_lines(scenario: Scenario, situation: Situation | str) -> list[tuple[str | ConditionedLine, bool]]:
    """(line, is the scenario's own) for a situation: the scenario's own first, then the shared
    bank's for the persona's temperament, without duplicate texts (order kept)."""
    situation = Situation(situation)
    bank = load_line_bank(scenario.lang)
    own = list(scenario.lines.get(situation, []))
    if situation is Situation.progress:
        # a scenario's calmer line that says what it answers fits a step too ("OK. Logged with a
        # number this time" when a number was given); one that thanks for manners does not
        own += [line for line in scenario.lines.get(Situation.calmer, []) if line_conditions(line) or line_mentions(line)]
    candidates = [
        *((line, True) for line in own),
        *((line, False) for line in bank[scenario.persona.temperament][situation]),
    ]
    seen: set[str] = set()
    result = []
    for line, own in candidates:
        key = line_text(line).strip()
        if key and key not in seen:
            seen.add(key)
            result.append((line, own))
    return result


def lines_for(scenario: Scenario, situation: Situation | str) -> list[str]:
    """The texts of :func:`candidate_lines` (conditions and voice not applied)."""
    return [line_text(line) for line, _own in candidate_lines(scenario, situation)]
