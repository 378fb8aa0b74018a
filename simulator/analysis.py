"""One trainee turn -> tags, referral target and evidence spans (DESIGN.md "Analysis tags — contract").

The analyser is rule-based and pure: ``analyze(text, lang, customer_last, scenario)`` reads only
its arguments and the per-language cue lists in ``simulator/lexicons/<lang>.yaml`` (loaded
once, validated by :class:`Lexicon`, compiled once per language and cached read-only). All
words and phrases live in the YAML; this module holds the logic that keyword matching alone
gets wrong:

* **negation** — a cue preceded, in the same clause, by a negator ("tidak", "nggak", "don't",
  "no") does not count ("we don't offer refunds" is no compensation, "bukan salah Bapak" is
  no blame); cues that carry their own negation ("bukan salah kami", "not our fault") are
  written as such in the lexicon;
* **blockers** — phrases that contain a cue but mean something else ("sorry you feel that
  way", "maaf kalau Bapak merasa", "kode keamanan", "minta ganti rugi");
* **apology + justification** — an apology followed in the same sentence, or in a next sentence
  opening with "tapi/but", by a defensive or hostile phrase is not an apology; nor is one whose
  "tapi/but" clause neither acts (a time, a remedy, a referral, "we'll ...") nor asks — that
  clause is the justification and is tagged defensive;
* **"excuse me" sorry** — a bare "maaf/sorry" opening a question ("Maaf, dengan Bapak siapa?")
  is politeness, not an apology;
* **questions** — only questions that ask for facts count: offers of help, closing checks,
  offers ("would you like a refund?"), rhetorical and hostile questions, and restatements with a
  confirmation tail ("..., betul?", "..., right?") do not;
* **acknowledge** — a restatement frame ("Jadi ...", "So you ..."), a confirmation question, a
  problem noun next to a problem predicate ("tagihan ... naik", "the chain snapped"), or a strong
  predicate in a sentence that addresses the customer or apologises ("sampah di gang Ibu belum
  diangkut", "sorry the film cut out"), in a turn that is not defensive; with a scenario,
  restating its ``problem_cues`` (two of them, a multi-word or numeric one, or one with a
  problem predicate) also counts, in a statement, not in a question;
* **time** — concrete frames only (durations, "1x24 jam", weekdays, clock times, "besok"),
  not past durations ("sejak tiga hari lalu", "two weeks ago"), opening hours, times inside a
  restatement or a condition on the customer's own action, or frames the trainee says they
  cannot promise; ``time_days`` is the longest concrete frame, in days;
* **referral vs escalation** — directing the customer elsewhere is a referral; passing the
  case to a supervisor or an internal team is not;
* **stuffing** — a turn made of little but repeated cue words keeps at most one of
  apology/empathy/acknowledge (the earliest).

How well this does is measured by ``simulator.analysis_eval`` on the labelled sets in
``tests/data/``; cue lists only catch phrasings someone wrote down, so recall on new wording
(defensive and hostile phrasing above all) is the known weak side.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from simulator.analysis_types import TAG_ORDER, Evidence, Tag, TurnAnalysis

if TYPE_CHECKING:
    from simulator.scenario import Scenario

LEXICON_DIR = Path(__file__).resolve().parent / "lexicons"
LANGUAGES = ("id", "en")
_MACRO = re.compile(r"\{([a-z_]+)\}")
_WORD = re.compile(r"\w+(?:['\-]\w+)*")
# Same-length normalisation, so match offsets are offsets in the original text.
_NORMALISE = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u201c": '"', "\u201d": '"',
                            "\u2013": "-", "\u2014": "-", "\u00a0": " "})


# -- lexicon model -----------------------------------------------------------------------------
def _flatten(value: Any) -> Any:
    """YAML anchors let one list reuse another; nested lists are flattened here."""
    if isinstance(value, list):
        out: list = []
        for item in value:
            out.extend(_flatten(item) if isinstance(item, list) else [item])
        return out
    return value


Patterns = Annotated[list[str], BeforeValidator(_flatten)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CueList(_Strict):
    cues: Patterns = Field(default_factory=list, description="Regex fragments; any one earns the tag.")
    blockers: Patterns = Field(default_factory=list, description="Phrases that contain a cue but do not count.")
    negatable: bool = Field(True, description="A negator before a cue (same clause) cancels it.")


class ApologyLexicon(CueList):
    bare: Patterns = Field(description="Apology words that, opening a question, mean only 'excuse me'.")
    complements: Patterns = Field(description="Words right after a bare apology that make it a real one.")
    follow_ups: Patterns = Field(
        default_factory=list,
        description="Words in a 'tapi/but' clause after an apology showing it goes on to act, not to justify.",
    )


class AcknowledgeLexicon(_Strict):
    frames: Patterns = Field(description="Sentence openers that restate: 'Jadi ...', 'So you ...'.")
    markers: Patterns = Field(description="Restatement markers anywhere: 'you said', 'tadi Ibu bilang'.")
    problem_names: Patterns = Field(description="Phrases that name a problem on their own ('pemadaman').")
    nouns: Patterns = Field(description="Things a complaint is about (bill, meter, parcel).")
    predicates: Patterns = Field(description="What went wrong with them (naik, broke, hasn't arrived).")
    strong_predicates: Patterns = Field(
        default_factory=list,
        description="Predicates that name a problem without a known noun when the sentence addresses the customer "
        "or carries an apology/empathy ('sampah di gang Ibu belum diangkut', 'sorry the film cut out').",
    )
    addressee: Patterns = Field(default_factory=list, description="Words addressing the customer ('Ibu', 'your').")
    window: int = Field(7, ge=1, le=20, description="Max words between a noun and its predicate.")


class QuestionLexicon(_Strict):
    interrogatives: Patterns = Field(description="Words that make a '?' sentence a real question.")
    openers: Patterns = Field(description="Sentence openers that ask even without '?'.")
    closers: Patterns = Field(default_factory=list, description="Sentence endings that ask even without '?'.")
    requests: Patterns = Field(description="Polite requests for information ('boleh saya minta').")
    not_diagnostic: Patterns = Field(description="Offers of help, closing checks, offers: not cause-finding.")
    rhetorical: Patterns = Field(description="Rhetorical questions.")
    confirm_tails: Patterns = Field(description="Tails that turn a restatement into a confirmation ('betul?').")


class ReferralLexicon(_Strict):
    legal: Patterns
    security: Patterns
    security_blockers: Patterns = Field(default_factory=list)
    other: Patterns = Field(description="Phrases that direct the customer somewhere.")
    internal: Patterns = Field(description="Destinations that are internal escalation, not a referral.")


class FixedTime(_Strict):
    pattern: str
    days: float = Field(ge=0)
    soft: bool = Field(False, description="Counts only in a sentence that commits to something.")


class TimeLexicon(_Strict):
    numbers: dict[str, float] = Field(description="Number words -> value.")
    units: dict[str, float] = Field(description="Duration units -> days.")
    ranges: Patterns = Field(description="Words joining a range: '2-3', '3 sampai 5'.")
    multiplier: str = Field(description="Regex for 'N x 24 jam' with group n.")
    fixed: list[FixedTime] = Field(description="Concrete expressions with a fixed value in days.")
    weekdays: Patterns
    weekday_days: float = 1.0
    clock: Patterns = Field(description="Clock times ('jam 9', 'at 3 pm').")
    dates: Patterns = Field(description="Deadline dates ('paling lambat tanggal 15').")
    past_before: Patterns = Field(description="Words shortly before a time that make it past ('sejak', 'since').")
    elapsed_before: Patterns = Field(description="Words before a duration that make it time already spent ('sudah').")
    past_after: Patterns = Field(description="Words right after a time that make it past ('lalu', 'ago').")
    not_frame: Patterns = Field(description="Context before a time that makes it no commitment (opening hours).")
    not_frame_after: Patterns = Field(default_factory=list)
    negators: Patterns = Field(description="'tidak bisa janji', 'can't promise' before a time cancel it.")
    commit_markers: Patterns = Field(description="Words showing a commitment, needed for soft times.")


class StuffingLexicon(_Strict):
    words: Patterns = Field(description="Cue and filler words; anything else is substance.")
    bare_cues: Patterns = Field(description="Bare cue words that count as a cue hit ('paham', 'understand').")
    max_substance: int = Field(1, ge=0)


class NegationLexicon(_Strict):
    words: Patterns
    window: int = Field(3, ge=1, le=8)


class Lexicon(_Strict):
    lang: str
    suffix: str = Field("", description="Optional word ending appended to every cue (Indonesian -nya, -lah).")
    macros: dict[str, str] = Field(default_factory=dict)
    negation: NegationLexicon
    breaks: Patterns = Field(description="Clause breaks within a sentence (besides punctuation).")
    contrast: Patterns = Field(description="'tapi', 'but' — a sentence opening with one continues the last.")
    conditional: Patterns = Field(description="'kalau', 'if' — a condition is not a statement of fact.")
    lead_in: Patterns = Field(description="Interjections and address words around 'maaf/sorry'.")
    apology: ApologyLexicon
    empathy: CueList
    acknowledge: AcknowledgeLexicon
    question: QuestionLexicon
    defensive: CueList
    referral: ReferralLexicon
    time: TimeLexicon
    compensation: CueList
    hostile: CueList
    stuffing: StuffingLexicon


@lru_cache(maxsize=None)
def load_lexicon(lang: str) -> Lexicon:
    """The validated lexicon of one language (cached; treat as read-only)."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language '{lang}'; choose one of: {', '.join(LANGUAGES)}")
    data = yaml.safe_load((LEXICON_DIR / f"{lang}.yaml").read_text(encoding="utf-8"))
    return Lexicon.model_validate(data)


# -- compiled lexicon --------------------------------------------------------------------------
def _expand(pattern: str, macros: dict[str, str]) -> str:
    for _ in range(5):  # macros may use macros
        new = _MACRO.sub(lambda m: macros.get(m.group(1), m.group(0)), pattern)
        if new == pattern:
            break
        pattern = new
    return pattern.replace(" ", r"\s+")


def _alternation(patterns: list[str], macros: dict[str, str]) -> str:
    return "|".join(f"(?:{_expand(p, macros)})" for p in patterns)


def _rx(patterns: list[str], macros: dict[str, str], suffix: str = "", bounded: bool = True) -> re.Pattern | None:
    if not patterns:
        return None
    body = f"(?:{_alternation(patterns, macros)}){suffix}"
    if bounded:
        body = rf"(?<!\w)(?:{body})(?!\w)"
    return re.compile(body, re.IGNORECASE)


@dataclass(frozen=True)
class _CueSet:
    rx: re.Pattern | None
    blockers: re.Pattern | None
    negatable: bool


@dataclass(frozen=True)
class _Compiled:
    lex: Lexicon
    negator: re.Pattern
    breaks: re.Pattern
    contrast_open: re.Pattern
    conditional: re.Pattern
    lead_in: re.Pattern
    apology: _CueSet
    apology_bare: re.Pattern
    apology_complement: re.Pattern
    apology_follow_up: re.Pattern
    contrast_in: re.Pattern
    empathy: _CueSet
    defensive: _CueSet
    hostile: _CueSet
    compensation: _CueSet
    ack_frames: re.Pattern
    ack_markers: re.Pattern
    ack_names: re.Pattern
    ack_nouns: re.Pattern
    ack_preds: re.Pattern
    ack_strong: re.Pattern
    ack_addressee: re.Pattern
    q_interrogative: re.Pattern
    q_opener: re.Pattern
    q_closer: re.Pattern | None
    q_request: re.Pattern
    q_not_diagnostic: re.Pattern
    q_rhetorical: re.Pattern
    q_confirm_tail: re.Pattern
    ref_legal: re.Pattern
    ref_security: re.Pattern
    ref_security_blockers: re.Pattern | None
    ref_other: re.Pattern
    ref_internal: re.Pattern
    t_duration: re.Pattern
    t_multiplier: re.Pattern
    t_fixed: re.Pattern
    t_fixed_values: dict[str, tuple[float, bool]]
    t_weekday: re.Pattern
    t_clock: re.Pattern
    t_dates: re.Pattern
    t_past_before: re.Pattern
    t_elapsed_before: re.Pattern
    t_past_after: re.Pattern
    t_not_frame: re.Pattern
    t_not_frame_after: re.Pattern | None
    t_negators: re.Pattern
    t_commit: re.Pattern
    numbers: dict[str, float]
    units: dict[str, float]
    stuff_words: re.Pattern
    stuff_bare: re.Pattern


@lru_cache(maxsize=None)
def _compiled(lang: str) -> _Compiled:
    lex = load_lexicon(lang)
    m, sfx = lex.macros, lex.suffix

    def cues(c: CueList) -> _CueSet:
        return _CueSet(_rx(c.cues, m, sfx), _rx(c.blockers, m, sfx), c.negatable)

    def rx(p: list[str], suffix: str = sfx) -> re.Pattern:
        compiled = _rx(p, m, suffix)
        return compiled if compiled is not None else re.compile(r"(?!x)x")

    t = lex.time
    num_words = sorted(t.numbers, key=len, reverse=True)
    num = r"\d+(?:[.,]\d+)?|" + "|".join(re.escape(w) for w in num_words)
    units = "|".join(_expand(u, m) for u in sorted(t.units, key=len, reverse=True))
    ranges = _alternation(t.ranges, m)
    duration = re.compile(
        rf"(?<!\w)(?P<n1>{num})(?:\s*(?:{ranges})\s*(?P<n2>{num}))?\s*(?P<unit>{units})(?!\w)", re.IGNORECASE
    )
    return _Compiled(
        lex=lex,
        negator=re.compile(rf"(?:{_alternation(lex.negation.words, m)})", re.IGNORECASE),
        breaks=re.compile(rf"[,;:.!?()\[\]\"]|\s-+\s|(?<!\w)(?:{_alternation(lex.breaks, m)})(?!\w)", re.IGNORECASE),
        contrast_open=re.compile(rf"^\W*(?:{_alternation(lex.contrast, m)})(?!\w)", re.IGNORECASE),
        conditional=rx(lex.conditional, ""),
        lead_in=re.compile(rf"^(?:\W|(?:{_alternation(lex.lead_in, m)})(?!\w))*$", re.IGNORECASE),
        apology=cues(lex.apology),
        apology_bare=rx(lex.apology.bare, ""),
        apology_complement=re.compile(
            rf"^(?:\W|(?:{_alternation(lex.lead_in, m)})(?!\w))*(?:{_alternation(lex.apology.complements, m)})(?!\w)",
            re.IGNORECASE,
        ),
        apology_follow_up=rx(lex.apology.follow_ups, ""),
        contrast_in=rx(lex.contrast, ""),
        empathy=cues(lex.empathy),
        defensive=cues(lex.defensive),
        hostile=cues(lex.hostile),
        compensation=cues(lex.compensation),
        ack_frames=re.compile(
            rf"^(?:\W|(?:{_alternation(lex.lead_in, m)})(?!\w))*(?:{_alternation(lex.acknowledge.frames, m)})",
            re.IGNORECASE,
        ),
        ack_markers=rx(lex.acknowledge.markers),
        ack_names=rx(lex.acknowledge.problem_names),
        ack_nouns=rx(lex.acknowledge.nouns),
        ack_preds=rx(lex.acknowledge.predicates),
        ack_strong=rx(lex.acknowledge.strong_predicates),
        ack_addressee=rx(lex.acknowledge.addressee, ""),
        q_interrogative=rx(lex.question.interrogatives),
        q_opener=re.compile(
            rf"^(?:\W|(?:{_alternation(lex.lead_in, m)})(?!\w))*(?:{_alternation(lex.question.openers, m)}){sfx}(?!\w)",
            re.IGNORECASE,
        ),
        q_closer=(
            re.compile(
                rf"(?<![\w-])(?:{_alternation(lex.question.closers, m)})(?:\W|(?:{_alternation(lex.lead_in, m)})(?!\w))*$",
                re.IGNORECASE,
            )
            if lex.question.closers
            else None
        ),
        q_request=rx(lex.question.requests),
        q_not_diagnostic=rx(lex.question.not_diagnostic),
        q_rhetorical=rx(lex.question.rhetorical),
        q_confirm_tail=re.compile(
            rf"(?<!\w)(?:{_alternation(lex.question.confirm_tails, m)})(?:\W|(?:{_alternation(lex.lead_in, m)})(?!\w))*$",
            re.IGNORECASE,
        ),
        ref_legal=rx(lex.referral.legal),
        ref_security=rx(lex.referral.security),
        ref_security_blockers=_rx(lex.referral.security_blockers, m, sfx),
        ref_other=rx(lex.referral.other),
        ref_internal=re.compile(  # the destination right after the directing verb (no clause break between)
            rf"^\s*(?:(?:{_alternation(lex.lead_in, m)})\s+)*(?:{_alternation(lex.referral.internal, m)})(?!\w)",
            re.IGNORECASE,
        ),
        t_duration=duration,
        t_multiplier=re.compile(_expand(t.multiplier, m), re.IGNORECASE),
        t_fixed=re.compile(
            "|".join(rf"(?P<f{i}>(?<!\w)(?:{_expand(f.pattern, m)})(?!\w))" for i, f in enumerate(t.fixed)),
            re.IGNORECASE,
        ),
        t_fixed_values={f"f{i}": (f.days, f.soft) for i, f in enumerate(t.fixed)},
        t_weekday=rx(t.weekdays, ""),
        t_clock=rx(t.clock, ""),
        t_dates=rx(t.dates, ""),
        t_past_before=rx(t.past_before, ""),
        t_elapsed_before=rx(t.elapsed_before, ""),
        t_past_after=re.compile(rf"^\s*(?:{_alternation(t.past_after, m)})(?!\w)", re.IGNORECASE),
        t_not_frame=rx(t.not_frame),
        t_not_frame_after=(
            re.compile(rf"^\W*(?:{_alternation(t.not_frame_after, m)})(?!\w)", re.IGNORECASE)
            if t.not_frame_after
            else None
        ),
        t_negators=rx(t.negators),
        t_commit=rx(t.commit_markers),
        numbers={k.lower(): v for k, v in t.numbers.items()},
        units={k.lower(): v for k, v in t.units.items()},
        stuff_words=re.compile(rf"(?:{_alternation(lex.stuffing.words, m)})", re.IGNORECASE),
        stuff_bare=rx(lex.stuffing.bare_cues),
    )


@lru_cache(maxsize=256)
def _scenario_rx(cues: tuple[str, ...]) -> re.Pattern | None:
    """Literal scenario cue words (problem cues, referral accept cues) as one regex."""
    parts = [re.escape(c.strip()).replace(r"\ ", r"\s+") for c in cues if c.strip()]
    if not parts:
        return None
    return re.compile(rf"(?<!\w)(?:{'|'.join(sorted(parts, key=len, reverse=True))})(?!\w)", re.IGNORECASE)


# -- the text, split -----------------------------------------------------------------------------
@dataclass(frozen=True)
class _Span:
    start: int
    end: int


@dataclass
class _Sentence:
    start: int
    end: int
    text: str
    asks: bool = False  # ends with '?'
    question: bool = False  # a real, cause-finding question
    confirm: bool = False  # a restatement put as a question ("..., betul?")
    frame: bool = False  # opens with a restatement frame
    hostile: bool = False


_SENTENCE_END = re.compile(r"[.!?]+(?=[\s\"')\]]|$)|\n")


class _Text:
    """The normalised turn with its sentences and clause breaks, for position queries."""

    def __init__(self, text: str, c: _Compiled):
        self.norm = text.translate(_NORMALISE)
        self.c = c
        self.sentences: list[_Sentence] = []
        bounds = [0] + [m.end() for m in _SENTENCE_END.finditer(self.norm)] + [len(self.norm)]
        for s, e in zip(bounds, bounds[1:]):
            chunk = self.norm[s:e]
            if not chunk.strip():
                continue
            lead = len(chunk) - len(chunk.lstrip())
            trail = len(chunk.rstrip())
            self.sentences.append(_Sentence(s + lead, s + trail, chunk.strip()))
        self._starts = [s.start for s in self.sentences]
        self._breaks = sorted({m.end() for m in c.breaks.finditer(self.norm)})

    def sentence_at(self, pos: int) -> int:
        return max(0, bisect_right(self._starts, pos) - 1)

    def clause_start(self, pos: int) -> int:
        sent = self.sentences[self.sentence_at(pos)] if self.sentences else None
        i = bisect_right(self._breaks, pos) - 1
        start = self._breaks[i] if i >= 0 else 0
        return max(start, sent.start if sent else 0)

    def words_before(self, pos: int, n: int) -> list[str]:
        return _WORD.findall(self.norm[self.clause_start(pos) : pos])[-n:]

    def negated(self, pos: int) -> bool:
        words = self.words_before(pos, self.c.lex.negation.window)
        return any(self.c.negator.fullmatch(w) for w in words)


def _overlaps(a: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(a[0] < e and s < a[1] for s, e in spans)


def _find(cs: _CueSet, t: _Text) -> list[_Span]:
    if cs.rx is None:
        return []
    matches = list(cs.rx.finditer(t.norm))
    if not matches:
        return []
    blocks = [m.span() for m in cs.blockers.finditer(t.norm)] if cs.blockers else []
    out = []
    for m in matches:
        if blocks and _overlaps(m.span(), blocks):
            continue
        if cs.negatable and t.negated(m.start()):
            continue
        out.append(_Span(*m.span()))
    return out


# -- the analysis --------------------------------------------------------------------------------
def analyze(
    text: str, lang: str, customer_last: str | None = None, scenario: Scenario | None = None
) -> TurnAnalysis:
    """Analyse one trainee turn. Pure: the result depends only on the arguments and the lexicon."""
    c = _compiled(lang)
    t = _Text(text or "", c)
    n_words = len(_WORD.findall(t.norm))
    if not t.sentences:
        return TurnAnalysis(word_count=0)

    found: dict[Tag, list[_Span]] = {}
    defensive = _find(c.defensive, t)
    hostile = _find(c.hostile, t)
    for sp in hostile:
        t.sentences[t.sentence_at(sp.start)].hostile = True
    _classify_sentences(t, c)

    compensation = _find(c.compensation, t)
    referral_span, target = _referral(t, c)
    time_span, days = _time(t, c)
    actions = compensation + [sp for sp in (referral_span, time_span) if sp]
    apology_all = _find(c.apology, t)
    apology, justifications = _real_apologies(apology_all, t, c, defensive + hostile, actions)
    defensive = sorted(defensive + justifications, key=lambda sp: sp.start)
    empathy = _find(c.empathy, t)

    found[Tag.defensive] = defensive
    found[Tag.hostile] = hostile
    found[Tag.apology] = apology
    found[Tag.empathy] = empathy
    found[Tag.compensation] = compensation
    found[Tag.question] = [_Span(s.start, s.end) for s in t.sentences if s.question]
    warm = {t.sentence_at(sp.start) for sp in apology + empathy}
    found[Tag.acknowledge] = _acknowledge(t, c, bool(defensive or hostile), warm, customer_last, scenario)

    if referral_span:
        found[Tag.referral] = [referral_span]
    if time_span:
        found[Tag.time_estimate] = [time_span]

    stuffing = _stuffing(t, c, apology_all, empathy, n_words)
    if stuffing:
        cue_tags = [(found[g][0].start, g) for g in (Tag.apology, Tag.empathy, Tag.acknowledge) if found.get(g)]
        for _, g in sorted(cue_tags)[1:]:
            found[g] = []

    tags = [tag for tag in TAG_ORDER if found.get(tag)]
    evidence = {}
    for tag in tags:
        sp = found[tag][0]
        evidence[tag] = Evidence(text=text[sp.start : sp.end], start=sp.start, end=sp.end)

    matches = None
    if scenario is not None and target is not None:
        matches = _referral_matches(t, target, scenario)
    return TurnAnalysis(
        tags=tags,
        referral_target=target,
        evidence=evidence,
        referral_matches=matches,
        time_days=days,
        stuffing=stuffing,
        word_count=n_words,
    )


def _classify_sentences(t: _Text, c: _Compiled) -> None:
    """Mark each sentence: a real question, a confirmation of a restatement, a restatement frame."""
    for s in t.sentences:
        body = t.norm[s.start : s.end]
        s.asks = body.rstrip(" \"')]").endswith("?")
        s.frame = bool(c.ack_frames.match(body) or c.ack_markers.search(body))
        if s.hostile or c.q_rhetorical.search(body) or c.q_not_diagnostic.search(body):
            continue  # rhetorical, hostile, an offer of help or a closing check
        asking = bool(c.q_request.search(body) or c.q_opener.match(body))
        if not s.asks and not asking and c.q_closer is not None and not body.endswith("!"):
            asking = bool(c.q_closer.search(body))  # "Nomor pelanggannya berapa, Pak."
        if s.asks and not asking:
            tail = c.q_confirm_tail.search(body)
            head = body[: tail.start()] if tail else body
            asking = bool(c.q_interrogative.search(head)) and not s.frame
            # otherwise a restatement put as a question: "Jadi tagihannya naik, betul?",
            # "The chain snapped after a week?"
            s.confirm = not asking
        s.question = asking


def _real_apologies(
    spans: list[_Span], t: _Text, c: _Compiled, negative: list[_Span], actions: list[_Span]
) -> tuple[list[_Span], list[_Span]]:
    """The apologies that count, and the justifications that cancelled others (they are defensive)."""
    out: list[_Span] = []
    justifications: list[_Span] = []
    for sp in spans:
        si = t.sentence_at(sp.start)
        s = t.sentences[si]
        # "Maaf, dengan Bapak siapa?" — a bare sorry opening a question is an "excuse me"
        if (
            c.apology_bare.fullmatch(t.norm[sp.start : sp.end])
            and c.lead_in.match(t.norm[s.start : sp.start])
            and not c.apology_complement.match(t.norm[sp.end : s.end])
            and (s.question or (s.asks and not s.confirm))
        ):
            continue
        # "Maaf, tapi itu sudah prosedur" — an apology followed by a justification is none
        justified = False
        for n in negative:
            if n.start < sp.end:
                continue
            ni = t.sentence_at(n.start)
            if ni == si or (ni == si + 1 and c.contrast_open.match(t.sentences[ni].text)):
                justified = True
                break
        if justified:
            continue
        # "Mohon maaf kalau Bapak kecewa, tapi barang sudah diperiksa": a 'but' clause that neither
        # acts nor asks is a justification
        clause = _but_clause(sp, si, t, c)
        if clause is not None:
            body = t.norm[clause.start : clause.end]
            acts = any(a.start < clause.end and clause.start < a.end for a in actions)
            asks = body.rstrip().endswith("?") or bool(c.q_request.search(body))
            if not acts and not asks and not c.apology_follow_up.search(body):
                justifications.append(clause)
                continue
        out.append(sp)
    return out, justifications


def _but_clause(sp: _Span, si: int, t: _Text, c: _Compiled) -> _Span | None:
    """The 'tapi/but ...' clause right after an apology (same sentence, or the next one opening with it)."""
    s = t.sentences[si]
    m = c.contrast_in.search(t.norm, sp.end, s.end)
    if m and len(_WORD.findall(t.norm[sp.end : m.start()])) <= 6:
        return _Span(m.start(), s.end)
    if si + 1 < len(t.sentences) and len(_WORD.findall(t.norm[sp.end : s.end])) <= 6:
        nxt = t.sentences[si + 1]
        if c.contrast_open.match(nxt.text):
            return _Span(nxt.start, nxt.end)
    return None


def _acknowledge(
    t: _Text,
    c: _Compiled,
    negative_turn: bool,
    warm: set[int],
    customer_last: str | None,
    scenario: Scenario | None,
) -> list[_Span]:
    out: list[_Span] = []
    window = c.lex.acknowledge.window
    customer_pred = bool(customer_last) and bool(c.ack_preds.search(customer_last.translate(_NORMALISE)))
    cue_rx = _scenario_rx(tuple(scenario.problem_cues)) if scenario is not None else None
    for i, s in enumerate(t.sentences):
        if s.question and not (s.frame or s.confirm):
            continue
        body = t.norm[s.start : s.end]
        if s.hostile:
            continue
        addressed = bool(c.ack_addressee.search(body))
        # 1. a restatement frame or a confirmation question of some length
        n = len(_WORD.findall(body))
        if (s.frame or s.confirm) and n >= 4:
            if (
                s.frame
                or c.ack_nouns.search(body)
                or c.ack_preds.search(body)
                or c.ack_names.search(body)
                or c.ack_strong.search(body)
                or (addressed and n >= 5)
            ):
                out.append(_Span(s.start, s.end))
                continue
        if negative_turn:
            continue
        # 2. a problem named on its own, or a noun with what went wrong with it
        hit = _problem_in(body, s.start, t, c, window, customer_pred, addressed or i in warm)
        if hit:
            out.append(hit)
            continue
        # 3. the scenario's problem cues, restated
        if cue_rx is not None:
            cues = list(cue_rx.finditer(body))
            distinct = {m.group(0).lower() for m in cues}
            strong = any(" " in m.group(0).strip() or any(ch.isdigit() for ch in m.group(0)) for m in cues)
            if cues and (len(distinct) >= 2 or strong or c.ack_preds.search(body)):
                out.append(_Span(s.start + cues[0].start(), s.start + cues[-1].end()))
    return out


def _problem_in(
    body: str, offset: int, t: _Text, c: _Compiled, window: int, customer_pred: bool, addressed: bool
) -> _Span | None:
    def conditional(pos: int) -> bool:
        return bool(c.conditional.search(t.norm[t.clause_start(offset + pos) : offset + pos]))

    for m in c.ack_names.finditer(body):
        if not conditional(m.start()) and not t.negated(offset + m.start()):
            return _Span(offset + m.start(), offset + m.end())
    if addressed:  # "sampah di gang Ibu belum diangkut", "I'm sorry the film cut out"
        for m in c.ack_strong.finditer(body):
            if not conditional(m.start()) and not t.negated(offset + m.start()):
                return _Span(offset + m.start(), offset + m.end())
    preds = [p for p in c.ack_preds.finditer(body) if not conditional(p.start())]
    if not preds:
        return None
    nouns = list(c.ack_nouns.finditer(body))
    for p in preds:
        for n in nouns:
            lo, hi = (n, p) if n.start() < p.start() else (p, n)
            gap = len(_WORD.findall(body[lo.end() : hi.start()]))
            if gap <= window:
                return _Span(offset + lo.start(), offset + hi.end())
    if customer_pred:  # "baru dipakai sekali sudah rusak" after the customer said it broke
        p = preds[0]
        return _Span(offset + p.start(), offset + p.end())
    return None


def _referral(t: _Text, c: _Compiled) -> tuple[_Span | None, str | None]:
    def valid(m: re.Match) -> bool:
        s = t.sentences[t.sentence_at(m.start())]
        return not s.hostile and not t.negated(m.start())

    for target, rx in (("legal", c.ref_legal), ("security", c.ref_security)):
        blocks = []
        if target == "security" and c.ref_security_blockers is not None:
            blocks = [b.span() for b in c.ref_security_blockers.finditer(t.norm)]
        for m in rx.finditer(t.norm):
            if valid(m) and not _overlaps(m.span(), blocks):
                return _Span(*m.span()), target
    for m in c.ref_other.finditer(t.norm):
        if not valid(m):
            continue
        if c.ref_internal.match(t.norm[m.end() : m.end() + 60]):
            continue  # "saya sambungkan ke supervisor": internal escalation
        return _Span(*m.span()), "other"
    return None, None


def _referral_matches(t: _Text, target: str, scenario: Scenario) -> bool:
    want = scenario.handling.referral.target.value
    if want != target:
        return False
    if target != "other":
        return True
    cue_rx = _scenario_rx(tuple(scenario.handling.referral.accept_cues))
    return bool(cue_rx and cue_rx.search(t.norm))


def _number(token: str, c: _Compiled) -> float | None:
    token = token.lower().replace(",", ".")
    if token in c.numbers:
        return c.numbers[token]
    try:
        return float(token)
    except ValueError:
        return None


def _time(t: _Text, c: _Compiled) -> tuple[_Span | None, float | None]:
    """The first concrete time frame and the longest frame committed to, in days."""
    hits: list[tuple[int, int, float, bool, bool]] = []  # start, end, days, soft, duration
    taken: list[tuple[int, int]] = []

    def add(m: re.Match, days: float, soft: bool = False, duration: bool = False) -> None:
        if not _overlaps(m.span(), taken):
            taken.append(m.span())
            hits.append((m.start(), m.end(), days, soft, duration))

    for m in c.t_multiplier.finditer(t.norm):
        n = _number(m.group("n"), c)
        if n is not None:
            add(m, n, duration=True)
    for m in c.t_duration.finditer(t.norm):
        n1, n2 = _number(m.group("n1"), c), _number(m.group("n2") or "", c)
        unit = re.sub(r"\s+", " ", m.group("unit").lower())
        per = next((v for k, v in c.units.items() if re.fullmatch(k, unit)), None)
        if n1 is None or per is None:
            continue
        add(m, max(n1, n2 or 0) * per, duration=True)
    for m in c.t_fixed.finditer(t.norm):
        days, soft = c.t_fixed_values[m.lastgroup]
        add(m, days, soft)
    for m in c.t_dates.finditer(t.norm):
        add(m, 7.0)
    for m in c.t_weekday.finditer(t.norm):
        add(m, c.lex.time.weekday_days)
    for m in c.t_clock.finditer(t.norm):
        add(m, 1.0)

    good: list[tuple[int, int, float]] = []
    for start, end, days, soft, duration in sorted(hits):
        s = t.sentences[t.sentence_at(start)]
        if s.hostile or s.frame or s.confirm:
            continue  # restating what happened is not a commitment
        clause = t.norm[t.clause_start(start) : start]
        before = " ".join(_WORD.findall(clause)[-3:])
        if c.t_past_before.search(before) or c.t_not_frame.search(before):
            continue
        if duration and c.t_elapsed_before.search(" ".join(before.split()[-2:])):
            continue  # "sudah tiga hari", "waited five hours": time already spent
        after = t.norm[end : end + 25]
        if c.t_past_after.match(after) or (c.t_not_frame_after and c.t_not_frame_after.match(after)):
            continue
        if c.t_negators.search(clause):
            continue
        cond = c.conditional.search(clause)
        if cond and c.ack_addressee.match(clause[cond.end() :].lstrip()):
            continue  # "kalau Ibu taruh sampahnya hari Selasa": the customer's action, not our commitment
        if soft and (s.asks or not c.t_commit.search(t.norm[s.start : s.end])):
            continue  # "hari ini" / "today" only in a sentence that commits to something
        good.append((start, end, days))
    if not good:
        return None, None
    first = good[0]
    return _Span(first[0], first[1]), round(max(d for _, _, d in good), 3)


def _stuffing(t: _Text, c: _Compiled, apology: list[_Span], empathy: list[_Span], n_words: int) -> bool:
    """Little but cue words: 'maaf maaf saya paham', 'sorry sorry I understand'."""
    hits = len(apology) + len(empathy)
    covered = [(sp.start, sp.end) for sp in apology + empathy]
    bare = [m for m in c.stuff_bare.finditer(t.norm) if not _overlaps(m.span(), covered)]
    hits += len(bare)
    if hits < 2 or n_words == 0:
        return False
    repeated = len(apology) >= 2 or len(empathy) >= 2 or hits >= 3
    if not repeated:
        return False
    substance = [
        w
        for w in _WORD.finditer(t.norm)
        if not _overlaps(w.span(), covered) and not c.stuff_words.fullmatch(w.group(0))
    ]
    return len(substance) <= c.lex.stuffing.max_substance
