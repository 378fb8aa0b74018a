"""The customer engine interface and what every engine shares: which hidden facts a turn asks for."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from typing import TYPE_CHECKING

from simulator.analysis_types import Tag, TurnAnalysis
from simulator.mood import MoodState
from simulator.scenario import Scenario
from simulator.understanding.cues import cue_pattern

if TYPE_CHECKING:
    from simulator.dialogue import DialogueState


@dataclass(frozen=True)
class Line:
    speaker: str  # "customer" or "trainee"
    text: str


@dataclass(frozen=True)
class CustomerContext:
    """Everything an engine may use to voice the customer's next line."""

    scenario: Scenario
    mood: MoodState  # the state after the trainee's turn (situation and outcome included)
    transcript: list[Line]  # the conversation so far, the trainee's latest turn last
    new_facts: list[str] = field(default_factory=list)  # hidden fact ids to reveal now
    repeated_fact: bool = False  # the trainee asked again for something already told
    seed: int = 0
    dialogue: DialogueState | None = None  # needs, knowledge, what the trainee did, the reply type


@dataclass(frozen=True)
class Reply:
    """The customer's line, with a notice for the trainee (e.g. a fallback) and call metadata."""

    text: str
    notice: str | None = None
    meta: dict | None = None  # e.g. model, tokens in/out, latency, for engines that call a model


class CustomerEngine(ABC):
    """Voices the customer. The mood model decides how the customer feels; the engine says it."""

    name: str

    @abstractmethod
    def opening(self, scenario: Scenario, seed: int) -> str:
        """The customer's first message."""

    @abstractmethod
    def reply(self, ctx: CustomerContext) -> Reply:
        """The customer's answer to the trainee's latest turn."""


def _mentions(text: str, cue: str) -> bool:
    return cue_pattern(cue.lower(), "").search(text) is not None


def _asking_text(text: str, analysis: TurnAnalysis) -> str:
    """The part of a turn that asks: its '?' sentences and the span the analysis tagged question."""
    parts = [sentence for sentence in re.split(r"(?<=[.!?])\s+", text) if sentence.rstrip().endswith("?")]
    evidence = analysis.evidence.get(Tag.question)
    if evidence is not None:
        parts.append(evidence.text)
    return " ".join(parts).lower()


def facts_asked(text: str, analysis: TurnAnalysis, scenario: Scenario, revealed: list[str]) -> tuple[list[str], bool]:
    """Hidden facts a trainee turn asks for: (newly revealed ids, whether it re-asked a told one).

    A fact comes out only when a question (or a request to check) mentions one of its cues in
    the asking sentence itself, not anywhere in the turn.
    """
    asking = _asking_text(text, analysis)
    if not asking:
        return [], False
    asked = [f.id for f in scenario.hidden_facts if any(_mentions(asking, c) for c in f.asked_by)]
    new = [fid for fid in asked if fid not in revealed]
    return new, bool(asked) and not new
