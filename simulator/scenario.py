"""Scenario model: what a simulated customer is, loaded from YAML and validated with pydantic.

A scenario file lives at ``scenarios/<lang>/<id>.yaml``. Lines a scenario does not give come
from the shared per-language banks in ``scenarios/lines/<lang>.yaml`` (keyed by temperament
and situation), so a trainer can write a working scenario with only the essentials.
"""

from __future__ import annotations

import json
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

    calmer = "calmer"  # trainee did something substantive, customer softens
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


class Persona(Model):
    name: Text
    age: int | None = Field(None, ge=10, le=110)
    temperament: Temperament
    mood: MoodLevels = Field(default_factory=MoodLevels)
    speaking_style: Text = Field(description="How the customer talks: register, dialect, typical phrases.")


class HiddenFact(Model):
    """A fact the customer reveals only when the trainee asks a fitting question."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9_]+$")]
    reveal: Text = Field(description="The customer's line that reveals the fact.")
    asked_by: list[Annotated[str, Field(min_length=2)]] = Field(
        min_length=1,
        description="Words or phrases; a trainee question containing any of them reveals the fact.",
    )
    is_cause: bool = Field(False, description="True when this fact is (part of) the cause of the problem.")


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
    lines: dict[Situation, list[Text]] = Field(
        default_factory=dict, description="Customer lines per situation; missing ones come from the shared bank."
    )
    max_turns: int = Field(12, ge=3, le=40)

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


def parse_scenario(text: str, source: str = "<text>") -> Scenario:
    """Parse and validate scenario YAML text. Raises ScenarioError naming source and field."""
    return parse_yaml(text, Scenario, source, "a mapping of scenario fields")


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


class LineBank(RootModel[dict[Temperament, dict[Situation, list[Text]]]]):
    """``scenarios/lines/<lang>.yaml``: customer lines per temperament and situation.

    The bank is the fallback for every scenario, so it must be complete: every temperament
    with every situation, each with at least one line.
    """

    @model_validator(mode="after")
    def _complete(self) -> LineBank:
        problems = []
        for temperament in Temperament:
            situations = self.root.get(temperament)
            if situations is None:
                problems.append(f"missing temperament '{temperament}'")
                continue
            for situation in Situation:
                if not situations.get(situation):
                    problems.append(f"'{temperament}' has no lines for situation '{situation}'")
        if problems:
            raise ValueError("; ".join(problems))
        return self


def parse_line_bank(text: str, source: str = "<text>") -> dict[Temperament, dict[Situation, list[str]]]:
    """Parse and validate a line bank. Raises ScenarioError naming source and field."""
    return parse_yaml(text, LineBank, source, "a mapping of temperament -> situation -> lines").root


@lru_cache(maxsize=None)
def load_line_bank(lang: str, root: Path = LINE_BANK_DIR) -> dict[Temperament, dict[Situation, list[str]]]:
    """The shared line bank for a language (``<root>/<lang>.yaml``), validated and cached.

    Treat the result as read-only: it is shared between callers.
    """
    if lang not in LANGUAGES:
        raise UnknownScenario(f"unknown language '{lang}'; choose one of: {', '.join(LANGUAGES)}")
    return load_yaml(Path(root) / f"{lang}.yaml", LineBank, "a mapping of temperament -> situation -> lines").root


def lines_for(scenario: Scenario, situation: Situation | str) -> list[str]:
    """Customer lines for a situation: the scenario's own first, then the shared bank's lines for
    the persona's temperament, without duplicates (order kept)."""
    situation = Situation(situation)
    bank = load_line_bank(scenario.lang)
    candidates = [*scenario.lines.get(situation, []), *bank[scenario.persona.temperament][situation]]
    seen: set[str] = set()
    result = []
    for line in candidates:
        key = line.strip()
        if key and key not in seen:
            seen.add(key)
            result.append(line)
    return result
