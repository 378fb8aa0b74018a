"""One trainee turn -> TurnAnalysis: normalise, apply the rules, embed, fuse with the learned heads.

Pure apart from the read-only, once-per-process encoder and heads. Where either is missing the
analysis is the rules' alone (``engine()`` says which and why). Rules keep what rules do well:
time frames and ``time_days``, amounts, referral targets and whether a referral names the
scenario's party, evidence spans, negation; the heads decide the tags where cross-validation
showed they generalise better (see ``heads.py`` and ``docs/analyser.md``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from simulator.analysis_types import TAG_ORDER, Evidence, Tag, TurnAnalysis
from simulator.understanding import rules
from simulator.understanding.encoder import get_encoder, status
from simulator.understanding.heads import Heads, cached_heads, features, only_questions
from simulator.understanding.normalise import normalise

if TYPE_CHECKING:
    from simulator.scenario import Scenario

ENCODER_MAX_CHARS = 2000  # the encoder reads at most 512 tokens; a longer turn is cut here first
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")


@dataclass(frozen=True)
class Engine:
    """Which analyser is running: ``learned`` (rules + encoder + heads) or ``rules`` (and why)."""

    mode: str
    reason: str = ""  # in English, for logs and the CLI
    code: str = ""  # for interfaces: "no_encoder", "encoder_failed" or "heads"


def engine() -> Engine:
    enc = status()
    if not enc.available:
        return Engine("rules", enc.reason, enc.code)
    heads, reason = cached_heads()
    if heads is None:
        return Engine("rules", reason, "heads")
    return Engine("learned")


@dataclass(frozen=True)
class TagDecision:
    tag: Tag
    rule: bool
    probability: float | None
    mode: str
    decided: bool


def warm(turns: list[tuple[str, str]]) -> None:
    """Embed many (text, lang) turns in one encoder batch, so analysing them next hits the cache."""
    if _learned() is None or not turns:
        return
    texts = [normalise(text or "", lang).text[:ENCODER_MAX_CHARS] for text, lang in turns]
    get_encoder().embed([t for t in texts if t.strip()])


def _learned() -> Heads | None:
    return cached_heads()[0] if get_encoder() is not None else None


def analyze(
    text: str, lang: str, customer_last: str | None = None, scenario: Scenario | None = None
) -> TurnAnalysis:
    """Analyse one trainee turn (DESIGN.md "Analysis tags — contract")."""
    return _analyse(text, lang, customer_last, scenario)[0]


def explain(
    text: str, lang: str, customer_last: str | None = None, scenario: Scenario | None = None
) -> tuple[TurnAnalysis, list[TagDecision]]:
    """The analysis and, per tag, the rule hit, the head's probability and the decision."""
    return _analyse(text, lang, customer_last, scenario)


def _analyse(
    text: str, lang: str, customer_last: str | None, scenario: Scenario | None
) -> tuple[TurnAnalysis, list[TagDecision]]:
    text = text or ""
    norm = normalise(text, lang)
    by_rules = rules.analyze(text, lang, customer_last, scenario, normalised=norm)
    heads = _learned()
    if heads is None or not norm.text.strip():
        return by_rules, [TagDecision(t, by_rules.has(t), None, "rules", by_rules.has(t)) for t in TAG_ORDER]

    x = features(get_encoder().embed([norm.text[:ENCODER_MAX_CHARS]])[0], by_rules, text)
    probs = heads.probabilities(x, heads.gram_vector(norm.text))
    decisions = []
    for tag in TAG_ORDER:
        head = heads.tags[tag]
        rule_hit = by_rules.has(tag)
        mode = "questions" if head.mode == "head" and head.questions_by_rules and only_questions(text) else head.mode
        decided = probs[tag] >= head.threshold if mode == "head" else rule_hit
        if tag in (Tag.defensive, Tag.hostile) and decided and not rule_hit and (
                by_rules.admits_fault or by_rules.reassures):
            # The labelling guide: owning the fault and reassurance are never defensive nor hostile.
            # The encoder reads "our fault" and "not our fault", "you did nothing wrong" and "you
            # did it wrong" alike, so the rules' negation-aware flags decide.
            decided, mode = False, "admission" if by_rules.admits_fault else "reassurance"
        elif tag == Tag.empathy and not decided and by_rules.reassures:
            decided, mode = True, "reassurance"  # the guide: clearing the customer is empathy
        decisions.append(TagDecision(tag, rule_hit, probs[tag], mode, decided))
    decisions = _hostile_excludes_positive(decisions)
    corrected = heads.correction(norm.text, lang)
    if corrected is not None:  # a trainer labelled this very turn: their word stands
        decisions = [replace(d, mode="correction", decided=d.tag in corrected.tags) for d in decisions]
    tags = [d.tag for d in decisions if d.decided]

    evidence = {t: e for t, e in by_rules.evidence.items() if t in tags}
    missing = [t for t in tags if t not in evidence]
    if missing:
        evidence.update(_sentence_evidence(text, norm, lang, by_rules, heads, missing))

    target = None
    if Tag.referral in tags and corrected is not None:
        target = corrected.referral_target
    elif Tag.referral in tags:
        target = by_rules.referral_target
        if target is None or heads.target_mode == "head":
            target = heads.target(x)[0]
    if scenario is not None and target == "other" and scenario.handling.referral.target.value == "security" \
            and rules.mentions_party(text, scenario):
        target = "security"  # the scenario's guard by name ("panggil Pak Yusuf")
    matches = None
    if scenario is not None and target is not None:
        matches = by_rules.referral_matches if by_rules.referral_target == target else \
            rules.names_party(text, target, scenario)
    analysis = TurnAnalysis(
        tags=tags,
        referral_target=target,
        evidence=evidence,
        referral_matches=matches,
        time_days=by_rules.time_days if Tag.time_estimate in tags else None,
        stuffing=by_rules.stuffing,
        admits_fault=by_rules.admits_fault,
        reassures=by_rules.reassures,
        referral_phrase=by_rules.has(Tag.referral),
        word_count=by_rules.word_count,
    )
    return analysis, decisions


#: Tags a hostile turn never carries in the labels (docs/labelling.md: a mocking question is no
#: `question`, a sarcastic "maaf" no `apology`).
_POSITIVE = (Tag.acknowledge, Tag.question, Tag.apology, Tag.empathy, Tag.compensation)


def _hostile_excludes_positive(decisions: list[TagDecision]) -> list[TagDecision]:
    """Where the heads say both `hostile` and a positive tag, the more probable side stands: the
    labels never pair them, and a kind question read as mockery ("Terakhir isi pulsa kapan Kak,
    inget gak?") should not anger the customer."""
    by_tag = {d.tag: d for d in decisions}
    hostile = by_tag[Tag.hostile]
    positive = [by_tag[t] for t in _POSITIVE if by_tag[t].decided and by_tag[t].mode == "head"]
    if not (hostile.decided and hostile.mode == "head" and positive):
        return decisions
    hostile_wins = (hostile.probability or 0.0) > max(d.probability or 0.0 for d in positive)
    losers = {d.tag for d in positive} if hostile_wins else {Tag.hostile}
    return [replace(d, decided=False, mode="exclusive") if d.tag in losers else d for d in decisions]


def _sentence_evidence(text, norm, lang, by_rules, heads: Heads, tags: list[Tag]) -> dict[Tag, Evidence]:
    """For tags the rules did not find: the sentence the tag's head likes best."""
    spans = [m.span() for m in _SENTENCE.finditer(norm.text) if m.group(0).strip()]
    if len(spans) <= 1:
        start = len(text) - len(text.lstrip())
        end = len(text.rstrip())
        return {t: Evidence(text=text[start:end], start=start, end=end) for t in tags}
    sentences = [norm.text[a:b].strip() for a, b in spans]
    embeddings = get_encoder().embed([s[:ENCODER_MAX_CHARS] for s in sentences])
    z = np.stack([heads.standardise(features(e, by_rules, text)) for e in embeddings])
    grams = np.stack([heads.gram_vector(s) for s in sentences]) if heads.grams is not None else None
    out = {}
    for tag in tags:
        best = int(np.argmax(heads.tags[tag].probability(z, grams)))
        a, b = spans[best]
        while a < b and norm.text[a].isspace():
            a += 1
        start, end = norm.original(a, b)
        out[tag] = Evidence(text=text[start:end], start=start, end=end)
    return out
