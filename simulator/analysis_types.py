"""The analysis vocabulary (DESIGN.md contract): tags, referral targets and the result of one turn."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field


class Tag(StrEnum):
    acknowledge = "acknowledge"
    question = "question"
    apology = "apology"
    empathy = "empathy"
    defensive = "defensive"
    referral = "referral"
    time_estimate = "time_estimate"
    compensation = "compensation"
    hostile = "hostile"


TAG_ORDER = list(Tag)


class Evidence(BaseModel):
    """The span of the trainee's text that earned a tag."""

    text: str
    start: int
    end: int


class TurnAnalysis(BaseModel):
    """One trainee turn, analysed. ``tags`` follow TAG_ORDER; extra fields serve mood and scoring."""

    tags: list[Tag] = Field(default_factory=list)
    referral_target: str | None = Field(None, description="legal, security, other, or null")
    evidence: dict[Tag, Evidence] = Field(default_factory=dict)
    # Context-aware details (need the scenario; None/False without it):
    referral_matches: bool | None = Field(
        None, description="With a scenario: does the referral name the scenario's correct party/target?"
    )
    time_days: float | None = Field(None, description="The concrete time frame, in days, when one was given.")
    stuffing: bool = Field(False, description="Keyword stuffing: cue words with no substance around them.")
    admits_fault: bool = Field(False, description="The turn owns the institution's fault ('that's on us'), not negated.")
    reassures: bool = Field(False, description="The turn clears the customer ('you did nothing wrong'), not negated.")
    referral_phrase: bool = Field(
        True, description="False when only the learned head hears a referral: no rule phrase sends the customer anywhere."
    )
    word_count: int = 0

    def has(self, tag: Tag) -> bool:
        return tag in self.tags

    def contract_dict(self) -> dict:
        """The DESIGN.md shape: {"tags", "referral_target", "evidence"}."""
        return {
            "tags": [t.value for t in self.tags],
            "referral_target": self.referral_target,
            "evidence": {t.value: e.model_dump() for t, e in self.evidence.items()},
        }
