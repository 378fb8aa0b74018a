"""Rubric model: the scored dimensions, their weights, points, feedback and levels, from YAML."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from simulator.datafile import load_yaml

RUBRIC_DIR = Path(__file__).resolve().parent.parent / "rubrics"
DIMENSIONS = (
    "listening",
    "empathy",
    "apology",
    "non_defensive",
    "diagnosis",
    "referral",
    "commitment",
    "resolution",
    "composure",
)

Applies = Literal["always", "needs_cause", "referral", "commitment"]


class Localised(BaseModel):
    model_config = ConfigDict(extra="forbid")
    en: str
    id: str

    def get(self, lang: str) -> str:
        return self.id if lang == "id" else self.en


class Feedback(BaseModel):
    model_config = ConfigDict(extra="forbid")
    good: Localised
    weak: Localised


class Dimension(BaseModel):
    model_config = ConfigDict(extra="forbid")
    weight: float = Field(gt=0)
    applies: Applies
    label: Localised
    description: Localised
    points: dict[str, float]
    feedback: Feedback
    better: Localised
    #: Better phrasings that fit what the trainee already did, by the situation the scorer finds
    #: (e.g. ``dig_cause`` once the basic questions were asked); ``better`` otherwise.
    better_when: dict[str, Localised] = Field(default_factory=dict)
    levels: dict[int, Localised]


class JudgeSettings(BaseModel):
    """How the LLM judge's scores combine with the rules' (see ``simulator/judge.py``).

    Per dimension, where the judge's judgement survived the quote check:
    ``combined = (1 - weight) * rules + weight * judge``; where it did not, the rules alone.
    ``review_margin``: judge and rules further apart than this mark the dimension
    "needs human review".
    """

    model_config = ConfigDict(extra="forbid")
    weight: float = Field(0.5, ge=0, le=1)
    review_margin: float = Field(25, ge=0, le=100)


class Cap(BaseModel):
    """An upper bound on the overall score, with the reason the scorecard shows."""

    model_config = ConfigDict(extra="forbid")
    value: float = Field(ge=0, le=100)
    reason: Localised


class RuleSettings(BaseModel):
    """How the rules read turns (see ``simulator/scoring.py``)."""

    model_config = ConfigDict(extra="forbid")
    repeat_similarity: float = Field(0.8, gt=0, le=1)
    distinct_similarity: float = Field(0.75, gt=0, le=1)
    idle_factor: float = Field(0.3, ge=0, le=1)
    nonsense_share: float = Field(0.5, gt=0, le=1)
    untagged_credit: float = Field(0.7, ge=0, le=1)
    shorthand_words: int = Field(2, ge=1)
    shorthand_share: float = Field(0.5, gt=0, le=1)


CAP_KEYS = (
    "walked_away",
    "escalated",
    "abandoned_needs_open",
    "turn_limit_needs_open",
    "no_need_met",
    "wrong_referral",
    "injection",
    "nonsense",
    "no_turns",
    "chat_shorthand",
)


class Rubric(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    #: Recorded with every stored score; bump it whenever a change moves scores.
    version: str = "1"
    pass_mark: float = Field(ge=0, le=100)
    #: Human grades (calibration, issue 15) are given 0-100 in steps of this many points.
    grade_step: int = Field(10, ge=1, le=50)
    rules: RuleSettings = Field(default_factory=RuleSettings)
    caps: dict[str, Cap] = Field(default_factory=dict)
    judge: JudgeSettings = Field(default_factory=JudgeSettings)
    dimensions: dict[str, Dimension]

    @model_validator(mode="after")
    def _all_dimensions(self) -> Rubric:
        missing = [k for k in DIMENSIONS if k not in self.dimensions]
        extra = [k for k in self.dimensions if k not in DIMENSIONS]
        if missing or extra:
            raise ValueError(f"rubric dimensions must be exactly {', '.join(DIMENSIONS)}; missing {missing}, unknown {extra}")
        if 100 % self.grade_step:
            raise ValueError(f"grade_step must divide 100, got {self.grade_step}")
        unknown_caps = [k for k in self.caps if k not in CAP_KEYS]
        if unknown_caps:
            raise ValueError(f"unknown caps {unknown_caps}; known: {', '.join(CAP_KEYS)}")
        return self


@lru_cache(maxsize=8)
def load_rubric(name: str = "default", folder: Path = RUBRIC_DIR) -> Rubric:
    return load_yaml(folder / f"{name}.yaml", Rubric)
