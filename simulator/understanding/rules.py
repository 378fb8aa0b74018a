"""One trainee turn -> tags, referral target and evidence spans (DESIGN.md "Analysis tags — contract").

The analyser is rule-based and pure: ``analyze(text, lang, customer_last, scenario)`` reads only
its arguments and the per-language cue lists in ``simulator/lexicons/<lang>.yaml`` (loaded
once, validated by :class:`Lexicon`, compiled once per language and cached read-only). All
words and phrases live in the YAML; this module holds the logic that keyword matching alone
gets wrong:

* **normalisation** — typographic quotes and dashes are flattened and contractions expanded
  ("you're" -> "you are", "can't" -> "cannot", "dont" -> "do not"), in the text and in the cue
  patterns alike, so one pattern covers both spellings; the text is lowercased and matched
  case-sensitively (fast), keeping a map back to the original offsets for the evidence spans;
* **negation** — a cue preceded, in the same clause, by a negator ("tidak", "nggak", "don't",
  "no") does not count ("we don't offer refunds" is no compensation, "bukan salah Bapak" is
  no blame); cues that carry their own negation ("bukan salah kami", "not our fault") are
  written as such in the lexicon;
* **blockers** — phrases that contain a cue but mean something else ("sorry you feel that
  way", "maaf kalau Bapak merasa", "kode keamanan", "minta ganti rugi");
* **defensive, by category** — besides plain cues (blame, procedure, "calm down", comparing
  with other customers, telling the customer off), *denials* ("our network is running
  normally", "tagihannya sudah benar", "nggak mungkin salah") count only when the sentence
  shows no checking ("I can see ...", "dari riwayat ..."): after checking they are an
  explanation; *brush-offs* ("handled by a different section", "I can't overrule", "kami cuma
  ngurus air") count only when the turn does not go on to act (a referral that names where to
  go, a time, a remedy, "I'll ..."); a sentence with a defensive cue asks no question;
* **apology + justification** — an apology followed in the same sentence, or in a next sentence
  opening with "tapi/but", by a defensive or hostile phrase is not an apology; nor is one whose
  "tapi/but" clause neither acts (a time, a remedy, a referral, "we'll ...") nor asks — that
  clause is the justification and is tagged defensive;
* **"excuse me" sorry** — a bare "maaf/sorry" opening a question ("Maaf, dengan Bapak siapa?")
  is politeness, not an apology;
* **questions** — only questions that ask for facts count: offers of help, closing checks,
  offers ("would you like a refund?"), rhetorical and hostile questions, restated demands
  ("You want a refund?") and restatements with a confirmation tail ("..., betul?", "...,
  right?") do not; a yes/no question without a question word ("Struknya masih Ibu simpan?")
  asks unless it restates a problem ("STNK-nya belum jadi?");
* **acknowledge** — a restatement frame ("Jadi ...", "So you ..."), a confirmation question, a
  problem noun next to a problem predicate ("tagihan ... naik", "the chain snapped") that is not
  a purpose ("minta kartunya diblokir"), or a strong predicate in a sentence that addresses the
  customer or apologises ("sampah di gang Ibu belum diangkut", "sorry the film cut out"), in a
  turn that is not defensive; with a scenario, restating its ``problem_cues`` (two of them, a
  multi-word or numeric one, or one with a problem predicate) also counts, in a statement, not
  in a question;
* **time** — concrete frames only (durations, "1x24 jam", weekdays, clock times, "besok", under
  a day even when vague: "within a few hours"), not past durations ("sejak tiga hari lalu",
  "two weeks ago", "ran out at 11:48 last night"), rates ("thirty thousand a day"), opening
  hours, times inside a restatement or a condition on the customer's own action, or frames the
  trainee says they cannot promise. A bare duration ("nine days", "empat bulan ini masih
  ditagih") is the wait restated unless the clause promises our next step ("will", "akan",
  "paling lambat"); "today"/"hari ini"/"right now" count only in a sentence that commits to
  something; a time inside a question only when it promises. ``time_days`` is the longest
  frame committed to, in days; a deadline date ("well before the 20th") does not override a
  nearer concrete promise;
* **compensation** — a remedy named in a question that asks for facts ("Modemnya sudah
  dikembalikan?") is no offer; an offer put as a question still is;
* **referral vs escalation** — directing the customer elsewhere is a referral: a directing
  phrase ("please call", "silakan hubungi"), a contact verb opening a clause with a destination
  ("Call PLN 123", "Telepon PLN 123 ya"), "you can / bisa" with a contact verb or a place word and
  a destination ("you can collect the card at the Samsat office", "bisa diambil di Kantor
  Samsat"), or a place described for the customer ("the PLN office is on Jl. ..."). Passing the
  case to a supervisor or an internal team, contacting the customer ourselves, and vague
  destinations ("somewhere else", "tempat lain": a brush-off, defensive) are not.
  ``referral_matches`` looks for the scenario's accept cues near a referral phrase (its sentence
  and the ones either side), not anywhere in the turn;
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

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from simulator.analysis_types import TAG_ORDER, Evidence, Tag, TurnAnalysis
from simulator.datafile import load_yaml
from simulator.understanding.normalise import FLATTEN, Normalised, Normaliser, normaliser

if TYPE_CHECKING:
    from simulator.scenario import Scenario

LEXICON_DIR = Path(__file__).resolve().parent.parent / "lexicons"
LANGUAGES = ("id", "en")
_MACRO = re.compile(r"\{([a-z_]+)\}")
_WORD = re.compile(r"\w+(?:['\-]\w+)*")


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


class DefensiveLexicon(CueList):
    denials: Patterns = Field(
        default_factory=list,
        description="Claims that nothing is wrong on our side ('our network is running normally', 'tagihannya "
        "sudah benar'): defensive unless the sentence shows the trainee checked ('I can see', 'dari riwayat').",
    )
    checked: Patterns = Field(
        default_factory=list, description="Signs of having checked, which make a denial an explanation."
    )
    brush_offs: Patterns = Field(
        default_factory=list,
        description="Disowning the matter ('handled by a different section', 'I can't overrule', 'kami cuma ngurus "
        "air'): defensive unless the turn goes on to act (a referral, a time, a remedy, 'I'll ...').",
    )
    acts: Patterns = Field(
        default_factory=list, description="Words showing the turn goes on to act ('I'll', 'saya bantu')."
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
    purpose: Patterns = Field(
        default_factory=list,
        description="Words before a predicate that make it a purpose or request, not a restatement "
        "('minta kartunya diblokir', 'so it doesn't break').",
    )
    window: int = Field(7, ge=1, le=20, description="Max words between a noun and its predicate.")
    echo_stopwords: list[str] = Field(
        default_factory=list,
        description="Words that do not count when a sentence echoes the customer's own message "
        "(function words, pronouns, honorifics, service verbs).",
    )
    echo_min_shared: int = Field(
        2, ge=2, le=10, description="Distinct content words a sentence must share with the customer's message."
    )


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
    bare: Patterns = Field(
        default_factory=list,
        description="Directions that name a channel but give no help ('refunds only go through the app'): a "
        "referral, but a brush-off beside them still counts.",
    )
    internal: Patterns = Field(description="Destinations that are internal escalation, not a referral.")
    imperatives: Patterns = Field(
        default_factory=list,
        description="Contact verbs that, opening a clause and followed by a destination, direct the customer "
        "('Call PLN 123', 'Telepon PLN 123 ya').",
    )
    openers: Patterns = Field(default_factory=list, description="Words after which a new clause opens ('and', 'lalu').")
    modals: Patterns = Field(
        default_factory=list,
        description="'you can', 'bisa', 'silakan': with a contact verb or a place word and a destination, they direct "
        "('you can collect the card at the Samsat office', 'STNK-nya bisa diambil di Kantor Samsat').",
    )
    locatives: Patterns = Field(default_factory=list, description="'at', 'to', 'di', 'ke' before a destination.")
    destinations: Patterns = Field(
        default_factory=list, description="Where a customer can be sent: named bodies, offices, numbers."
    )
    places: Patterns = Field(
        default_factory=list, description="A place described with where it is ('the PLN office is on Jl. ...')."
    )
    own: Patterns = Field(default_factory=list, description="Words making a destination our own ('our', 'kami').")
    theirs: Patterns = Field(
        default_factory=list,
        description="Words making a destination the customer's own ('your phone', 'nomor HP Abang'): no referral.",
    )
    vague: Patterns = Field(
        default_factory=list, description="Destinations too vague to be a referral ('somewhere else', 'tempat lain')."
    )
    reach: int = Field(6, ge=1, le=12, description="Max words between a directing word and its destination.")


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
    frame_before: Patterns = Field(
        default_factory=list, description="Words right before a duration that make it a frame ('within', 'dalam')."
    )
    frame_after: Patterns = Field(
        default_factory=list, description="Words right after one that do ('lagi', 'from now')."
    )
    weak_frames: Patterns = Field(
        default_factory=list,
        description="Frame words that also describe usage ('in a month', 'dalam sebulan'): the sentence must "
        "commit to something too.",
    )
    promise_markers: Patterns = Field(
        default_factory=list,
        description="A promise of our next step ('will', 'akan', 'paling lambat'): a bare duration ('nine days') "
        "or a time inside a question counts only in a clause that has one.",
    )
    joiners: Patterns = Field(
        default_factory=list, description="'and', 'dan': words before them say nothing about the time after them."
    )
    state_words: Patterns = Field(
        default_factory=list,
        description="Words making a bare duration the time already waited ('still', 'belum', 'masih', 'lebih').",
    )


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
    defensive: DefensiveLexicon
    referral: ReferralLexicon
    time: TimeLexicon
    compensation: CueList
    hostile: CueList
    admission: CueList = Field(default_factory=CueList, description="The trainee owns the institution's fault.")
    reassurance: CueList = Field(
        default_factory=CueList, description="The trainee clears the customer: 'you did nothing wrong', 'bukan salah Bapak'."
    )
    stuffing: StuffingLexicon


class Places(_Strict):
    places: list[list[str]] = Field(description="Towns and cities, each with its other names.")


@lru_cache(maxsize=None)
def load_places() -> Places:
    """The towns a referral may name (``simulator/lexicons/places.yaml``)."""
    return load_yaml(LEXICON_DIR / "places.yaml", Places)


@lru_cache(maxsize=64)
def _other_towns_rx(scenario_text: str) -> re.Pattern | None:
    """The towns (with their other names) that ``scenario_text`` never mentions."""
    low = scenario_text.lower()
    names = [n for group in load_places().places
             if not any(re.search(rf"(?<!\w){re.escape(n)}(?!\w)", low) for n in group) for n in group]
    return _scenario_rx(tuple(names))


@lru_cache(maxsize=None)
def load_lexicon(lang: str) -> Lexicon:
    """The validated lexicon of one language (cached; treat as read-only)."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language '{lang}'; choose one of: {', '.join(LANGUAGES)}")
    return load_yaml(LEXICON_DIR / f"{lang}.yaml", Lexicon)


class _Macros(dict):
    """The lexicon's macros, carrying the chat normaliser applied to every pattern."""

    normaliser: Normaliser | None = None


# -- compiled lexicon --------------------------------------------------------------------------
def _expand(pattern: str, macros: dict[str, str]) -> str:
    for _ in range(5):  # macros may use macros
        new = _MACRO.sub(lambda m: macros.get(m.group(1), m.group(0)), pattern)
        if new == pattern:
            break
        pattern = new
    norm = getattr(macros, "normaliser", None)
    if norm is not None:
        pattern = norm.expand_pattern(pattern)
    return pattern.replace(" ", r"\s+")


def _alternation(patterns: list[str], macros: dict[str, str]) -> str:
    return "|".join(f"(?:{_expand(p, macros)})" for p in patterns)


def _rx(patterns: list[str], macros: dict[str, str], suffix: str = "", bounded: bool = True) -> re.Pattern | None:
    if not patterns:
        return None
    body = f"(?:{_alternation(patterns, macros)}){suffix}"
    if bounded:
        body = rf"(?<!\w)(?:{body})(?!\w)"
    return re.compile(body)


@dataclass(frozen=True)
class _CueSet:
    rx: re.Pattern | None
    blockers: re.Pattern | None
    negatable: bool


@dataclass(frozen=True)
class _Compiled:
    lex: Lexicon
    normaliser: Normaliser
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
    denials: _CueSet
    def_checked: re.Pattern
    brush_offs: _CueSet
    def_acts: re.Pattern
    hostile: _CueSet
    compensation: _CueSet
    admission: _CueSet
    reassurance: _CueSet
    ack_frames: re.Pattern
    ack_markers: re.Pattern
    ack_names: re.Pattern
    echo_stop: frozenset[str]
    ack_nouns: re.Pattern
    ack_preds: re.Pattern
    ack_strong: re.Pattern
    ack_addressee: re.Pattern
    ack_purpose: re.Pattern
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
    ref_bare: re.Pattern
    ref_internal: re.Pattern
    ref_imperative: re.Pattern
    ref_opener_end: re.Pattern
    ref_modal: re.Pattern
    ref_link: re.Pattern
    ref_destination: re.Pattern
    ref_places: re.Pattern
    ref_own: re.Pattern
    ref_theirs: re.Pattern
    ref_vague: re.Pattern
    t_duration: re.Pattern
    t_multiplier: re.Pattern
    t_fixed: re.Pattern
    t_fixed_values: list[tuple[re.Pattern, float, bool]]
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
    t_frame_before: re.Pattern
    t_frame_after: re.Pattern
    t_weak_frame: re.Pattern
    t_joiner: re.Pattern
    t_promise: re.Pattern
    t_state: re.Pattern
    numbers: dict[str, float]
    units: dict[str, float]
    stuff_words: re.Pattern
    stuff_bare: re.Pattern


@lru_cache(maxsize=None)
def _compiled(lang: str) -> _Compiled:
    lex = load_lexicon(lang)
    m, sfx = _Macros(lex.macros), lex.suffix
    m.normaliser = normaliser(lang)
    own = _alternation(lex.referral.own or ["(?!x)x"], m)

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
        rf"(?<!\w)(?P<n1>{num})(?:\s*(?:{ranges})\s*(?P<n2>{num}))?\s*(?P<unit>{units})(?!\w)"
    )
    return _Compiled(
        lex=lex,
        normaliser=m.normaliser,
        negator=re.compile(rf"(?:{_alternation(lex.negation.words, m)})"),
        breaks=re.compile(rf"[,;:.!?()\[\]\"]|\s-+\s|(?<!\w)(?:{_alternation(lex.breaks, m)})(?!\w)"),
        contrast_open=re.compile(rf"^\W*(?:{_alternation(lex.contrast, m)})(?!\w)"),
        conditional=rx(lex.conditional, ""),
        lead_in=re.compile(rf"^(?:\W|(?:{_alternation(lex.lead_in, m)})(?!\w))*$"),
        apology=cues(lex.apology),
        apology_bare=rx(lex.apology.bare, ""),
        apology_complement=re.compile(
            rf"^(?:\W|(?:{_alternation(lex.lead_in, m)})(?!\w))*(?:{_alternation(lex.apology.complements, m)})(?!\w)",
        ),
        apology_follow_up=rx(lex.apology.follow_ups, ""),
        contrast_in=rx(lex.contrast, ""),
        empathy=cues(lex.empathy),
        defensive=cues(lex.defensive),
        denials=_CueSet(_rx(lex.defensive.denials, m, sfx), _rx(lex.defensive.blockers, m, sfx), True),
        def_checked=rx(lex.defensive.checked),
        brush_offs=_CueSet(_rx(lex.defensive.brush_offs, m, sfx), _rx(lex.defensive.blockers, m, sfx), True),
        def_acts=rx(lex.defensive.acts),
        hostile=cues(lex.hostile),
        compensation=cues(lex.compensation),
        admission=cues(lex.admission),
        reassurance=cues(lex.reassurance),
        ack_frames=re.compile(
            rf"^(?:\W|(?:{_alternation(lex.lead_in, m)})(?!\w))*(?:{_alternation(lex.acknowledge.frames, m)})",
        ),
        ack_markers=rx(lex.acknowledge.markers),
        ack_names=rx(lex.acknowledge.problem_names),
        echo_stop=frozenset(w.lower() for w in lex.acknowledge.echo_stopwords),
        ack_nouns=rx(lex.acknowledge.nouns),
        ack_preds=rx(lex.acknowledge.predicates),
        ack_strong=rx(lex.acknowledge.strong_predicates),
        ack_addressee=rx(lex.acknowledge.addressee, ""),
        ack_purpose=rx(lex.acknowledge.purpose or ["(?!x)x"], ""),
        q_interrogative=rx(lex.question.interrogatives),
        q_opener=re.compile(
            rf"^(?:\W|(?:{_alternation(lex.lead_in, m)})(?!\w))*(?:{_alternation(lex.question.openers, m)}){sfx}(?!\w)",
        ),
        q_closer=(
            re.compile(
                rf"(?<![\w-])(?:{_alternation(lex.question.closers, m)})(?:\W|(?:{_alternation(lex.lead_in, m)})(?!\w))*$",
                )
            if lex.question.closers
            else None
        ),
        q_request=rx(lex.question.requests),
        q_not_diagnostic=rx(lex.question.not_diagnostic),
        q_rhetorical=rx(lex.question.rhetorical),
        q_confirm_tail=re.compile(
            rf"(?<!\w)(?:{_alternation(lex.question.confirm_tails, m)})(?:\W|(?:{_alternation(lex.lead_in, m)})(?!\w))*$",
        ),
        ref_legal=rx(lex.referral.legal),
        ref_security=rx(lex.referral.security),
        ref_security_blockers=_rx(lex.referral.security_blockers, m, sfx),
        ref_other=rx(lex.referral.other),
        ref_bare=rx(lex.referral.bare),
        ref_internal=re.compile(  # the destination right after the directing verb (no clause break between)
            rf"^\s*(?:(?:{_alternation(lex.lead_in, m)})\s+)*(?:{_alternation(lex.referral.internal, m)})(?!\w)",
        ),
        ref_imperative=rx(lex.referral.imperatives),
        ref_opener_end=re.compile(
            rf"(?:^|(?<!\w))(?:{_alternation(lex.referral.openers or ['(?!x)x'], m)})\W*$"
        ),
        ref_modal=rx(lex.referral.modals, ""),
        ref_link=rx(lex.referral.imperatives + lex.referral.locatives),
        ref_destination=re.compile(
            rf"(?<!\w)(?!(?:{_alternation(lex.acknowledge.addressee, m)}|{own})(?!\w))"
            rf"(?:{_alternation(lex.referral.destinations or ['(?!x)x'], m)})(?!\w)",
            re.IGNORECASE,  # run on the text as typed: capitals mark names ("PLN", "Samsat")
        ),
        ref_places=rx(lex.referral.places),
        ref_own=rx(lex.referral.own, ""),
        ref_theirs=rx(lex.referral.theirs, ""),
        ref_vague=rx(lex.referral.vague),
        t_duration=duration,
        t_multiplier=re.compile(_expand(t.multiplier, m)),
        t_fixed=re.compile(rf"(?<!\w)(?:{_alternation([f.pattern for f in t.fixed], m)})(?!\w)"),
        t_fixed_values=[
            (re.compile(rf"(?:{_expand(f.pattern, m)})"), f.days, f.soft) for f in t.fixed
        ],
        t_weekday=rx(t.weekdays, ""),
        t_clock=rx(t.clock, ""),
        t_dates=rx(t.dates, ""),
        t_past_before=rx(t.past_before, ""),
        t_elapsed_before=rx(t.elapsed_before, ""),
        t_past_after=re.compile(rf"^\s*(?:{_alternation(t.past_after, m)})(?!\w)"),
        t_not_frame=rx(t.not_frame),
        t_not_frame_after=(
            re.compile(rf"^\W*(?:{_alternation(t.not_frame_after, m)})(?!\w)")
            if t.not_frame_after
            else None
        ),
        t_negators=rx(t.negators),
        t_commit=rx(t.commit_markers),
        t_frame_before=re.compile(rf"(?<!\w)(?:{_alternation(t.frame_before or ['(?!x)x'], m)})\s*$"),
        t_frame_after=re.compile(rf"^\s*(?:{_alternation(t.frame_after or ['(?!x)x'], m)})(?!\w)"),
        t_weak_frame=re.compile(rf"(?<!\w)(?:{_alternation(t.weak_frames or ['(?!x)x'], m)})\s*$"),
        t_joiner=re.compile(rf"(?:{_alternation(t.joiners or ['(?!x)x'], m)})"),
        t_promise=rx(t.promise_markers or ["(?!x)x"]),
        t_state=rx(t.state_words or ["(?!x)x"]),
        numbers={k.lower(): v for k, v in t.numbers.items()},
        units={k.lower(): v for k, v in t.units.items()},
        stuff_words=re.compile(rf"(?:{_alternation(lex.stuffing.words, m)})"),
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
    blaming: bool = False  # carries a defensive cue


_SENTENCE_END = re.compile(r"[.!?]+(?=[\s\"')\]]|$)|\n")


class _Text:
    """The normalised turn with its sentences and clause breaks, for position queries."""

    def __init__(self, text: str, c: _Compiled, normalised: Normalised | None = None):
        self.flat = text.translate(FLATTEN)  # same length as the text
        self.mapped = normalised or c.normaliser.normalise(text)
        self.cased = self.mapped.text
        # patterns are matched case-sensitively on the lowercased text (much faster than IGNORECASE);
        # ``cased`` keeps the capitals for the few patterns that need them (names of bodies)
        self.norm = _lower(self.cased)
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

    def original(self, sp: _Span) -> tuple[int, int]:
        """A span of the normalised text as offsets in the original text."""
        if sp.end <= sp.start:
            return sp.start, sp.end
        start, end = self.mapped.original(sp.start, sp.end)
        flat = self.flat

        def inside(i: int) -> bool:  # between two characters of one word ("that|'s")
            return 0 < i < len(flat) and (flat[i - 1].isalnum() or flat[i - 1] == "'") and (
                flat[i].isalnum() or flat[i] == "'"
            )

        while inside(start):
            start -= 1
        while inside(end):
            end += 1
        return start, end

    def normalise(self, other: str) -> str:
        """Another text (the customer's line) normalised the same way."""
        return _lower(self.c.normaliser.normalise(other).text)

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


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _lower(text: str) -> str:
    """Lowercase, keeping every offset (a few non-ASCII capitals lowercase to two characters)."""
    low = text.lower()
    return low if len(low) == len(text) else text.translate(_ASCII_LOWER)


def _overlaps(a: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(a[0] < e and s < a[1] for s, e in spans)


def _first_word(text: str) -> str:
    m = _WORD.search(text)
    return m.group(0) if m else ""


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
        if cs.negatable and not t.c.negator.fullmatch(_first_word(m.group(0))) and t.negated(m.start()):
            continue  # a cue carrying its own negation ("bukan urusan kami") is not negated again
        out.append(_Span(*m.span()))
    return out


# -- the analysis --------------------------------------------------------------------------------
def analyze(
    text: str,
    lang: str,
    customer_last: str | None = None,
    scenario: Scenario | None = None,
    normalised: Normalised | None = None,
) -> TurnAnalysis:
    """Analyse one trainee turn. Pure: the result depends only on the arguments and the lexicon."""
    c = _compiled(lang)
    t = _Text(text or "", c, normalised)
    n_words = len(_WORD.findall(t.flat))
    if not t.sentences:
        return TurnAnalysis(word_count=0)

    found: dict[Tag, list[_Span]] = {}
    defensive = _find(c.defensive, t)
    hostile = _find(c.hostile, t)
    _mark_sentences(t, c, hostile, defensive)

    # a remedy named in a question that asks for facts is no offer ("Modemnya sudah dikembalikan?")
    compensation = [
        sp for sp in _find(c.compensation, t) if not _asks_for_facts(t.sentences[t.sentence_at(sp.start)])
    ]
    referral_spans, target, helpful = _referral(t, c)
    referral_span = referral_spans[0] if referral_spans else None
    empathy = _find(c.empathy, t)
    time_span, days = _time(t, c, {t.sentence_at(sp.start) for sp in empathy})
    actions = compensation + [sp for sp in (referral_span, time_span) if sp]
    acting = bool(compensation or time_span or helpful)
    # "our meters are not wrong" without checking; "handled by another section" without acting
    for sp in _find(c.denials, t):
        s = t.sentences[t.sentence_at(sp.start)]
        if not c.def_checked.search(t.norm, s.start, s.end):
            defensive.append(sp)
    brush_offs = _find(c.brush_offs, t)
    if brush_offs and not acting and not c.def_acts.search(t.norm):
        defensive.extend(brush_offs)
    defensive.sort(key=lambda sp: sp.start)
    apology_all = _find(c.apology, t)
    apology, justifications = _real_apologies(apology_all, t, c, defensive + hostile, actions)
    defensive = sorted(defensive + justifications, key=lambda sp: sp.start)

    found[Tag.defensive] = defensive
    found[Tag.hostile] = hostile
    found[Tag.apology] = apology
    reassurance = _find(c.reassurance, t)
    # docs/labelling.md: reassurance that takes the customer's side is empathy
    found[Tag.empathy] = sorted(empathy + reassurance, key=lambda sp: sp.start)
    found[Tag.compensation] = compensation
    found[Tag.question] = [_Span(s.start, s.end) for s in t.sentences if s.question]
    warm = {t.sentence_at(sp.start) for sp in apology + found[Tag.empathy]}
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
        start, end = t.original(found[tag][0])
        evidence[tag] = Evidence(text=text[start:end], start=start, end=end)

    matches = None
    if scenario is not None and target is not None:
        matches = _referral_matches(t, referral_spans, target, scenario)
    return TurnAnalysis(
        tags=tags,
        referral_target=target,
        evidence=evidence,
        referral_matches=matches,
        time_days=days,
        stuffing=stuffing,
        admits_fault=bool(_find(c.admission, t)),
        reassures=bool(reassurance),
        word_count=n_words,
    )


def _mark_sentences(t: _Text, c: _Compiled, hostile: list[_Span], defensive: list[_Span]) -> None:
    """Mark the hostile and blaming sentences, then classify each (see :func:`_classify_sentences`)."""
    for sp in hostile:
        t.sentences[t.sentence_at(sp.start)].hostile = True
    for sp in defensive:  # "Please check your own phone first" is blame, not a question
        t.sentences[t.sentence_at(sp.start)].blaming = True
    _classify_sentences(t, c)


def _classify_sentences(t: _Text, c: _Compiled) -> None:
    """Mark each sentence: a real question, a confirmation of a restatement, a restatement frame."""
    for s in t.sentences:
        body = t.norm[s.start : s.end]
        s.asks = body.rstrip(" \"')]").endswith("?")
        s.frame = bool(c.ack_frames.match(body) or c.ack_markers.search(body))
        if _never_asks(s, body, c):
            continue
        asking = bool(c.q_request.search(body) or c.q_opener.match(body))
        if not s.asks and not asking and c.q_closer is not None and not body.endswith("!"):
            asking = bool(c.q_closer.search(body))  # "Nomor pelanggannya berapa, Pak."
        if s.asks and not asking:
            tail = c.q_confirm_tail.search(body)
            head = body[: tail.start()] if tail else body
            asking = bool(c.q_interrogative.search(head)) and not s.frame
            if not asking and not s.frame and tail is None and len(_WORD.findall(head)) >= 3:
                # a yes/no question with no question word ("Struknya masih Ibu simpan?") asks, unless
                # it restates a problem ("STNK-nya belum jadi?", "The chain snapped after a week?")
                asking = not (c.ack_preds.search(head) or c.ack_strong.search(head) or c.ack_names.search(head))
            # otherwise a restatement put as a question: "Jadi tagihannya naik, betul?"
            s.confirm = not asking
        s.question = asking


def _never_asks(s: _Sentence, body: str, c: _Compiled) -> bool:
    """A sentence that asks for nothing whatever its form: rhetorical, hostile, blaming, an offer
    of help or a closing check."""
    return s.hostile or s.blaming or bool(c.q_rhetorical.search(body) or c.q_not_diagnostic.search(body))


def _asks_for_facts(s: _Sentence) -> bool:
    return s.question and s.asks


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
    customer_pred = bool(customer_last) and bool(c.ack_preds.search(t.normalise(customer_last)))
    customer_words = _content_words(t.normalise(customer_last), c) if customer_last else set()
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
                continue
        # 4. the sentence echoes the customer's own account: several of its content words
        if customer_words and not s.question:
            echo = _echo(body, s.start, customer_words, c)
            if echo:
                out.append(echo)
    return out


def _content_words(text: str, c: _Compiled) -> set[str]:
    stop = c.echo_stop
    return {w for w in _WORD.findall(text) if (len(w) >= 4 or w.isdigit()) and w not in stop}


def _echo(body: str, offset: int, customer_words: set[str], c: _Compiled) -> _Span | None:
    """The span of a sentence that repeats enough of the customer's content words, or None."""
    shared = [m for m in _WORD.finditer(body) if m.group(0) in customer_words]
    if len({m.group(0) for m in shared}) < c.lex.acknowledge.echo_min_shared:
        return None
    return _Span(offset + shared[0].start(), offset + shared[-1].end())


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
    def purpose(pos: int) -> bool:  # "minta kartunya diblokir": a request, not what went wrong
        words = _WORD.findall(t.norm[t.clause_start(offset + pos) : offset + pos])[-3:]
        return any(c.ack_purpose.fullmatch(w) for w in words)

    preds = [p for p in c.ack_preds.finditer(body) if not conditional(p.start()) and not purpose(p.start())]
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


def _referral(t: _Text, c: _Compiled) -> tuple[list[_Span], str | None, bool]:
    """The referral phrases of the turn (the first is the evidence), their target, and whether they
    help (name where to go) rather than only point at a channel ("refunds only go through the app")."""

    def valid(m: re.Match) -> bool:
        s = t.sentences[t.sentence_at(m.start())]
        return not s.hostile and not t.negated(m.start())

    for target, rx in (("legal", c.ref_legal), ("security", c.ref_security)):
        blocks = []
        if target == "security" and c.ref_security_blockers is not None:
            blocks = [b.span() for b in c.ref_security_blockers.finditer(t.norm)]
        for m in rx.finditer(t.norm):
            if valid(m) and not _overlaps(m.span(), blocks):
                return [_Span(*m.span())], target, True
    bare: list[_Span] = []
    for m in c.ref_bare.finditer(t.norm):
        if valid(m):
            bare.append(_Span(*m.span()))
    found: list[_Span] = []
    for m in c.ref_other.finditer(t.norm):
        if not valid(m):
            continue
        tail = t.norm[m.end() : m.end() + 60]
        if c.ref_internal.match(tail):
            continue  # "saya sambungkan ke supervisor": internal escalation
        if _vague_after(t, c, m.end()):
            continue  # "tanya ke tempat lain saja": a brush-off, not a referral
        found.append(_Span(*m.span()))
    # "Call PLN 123", "Telepon PLN 123 ya, Bu": a contact verb opening a clause, with a destination
    for m in c.ref_imperative.finditer(t.norm):
        prefix = t.norm[t.clause_start(m.start()) : m.start()]
        if not (c.lead_in.match(prefix) or c.ref_opener_end.search(prefix)) or not valid(m):
            continue
        dest = _destination(t, c, m.end())
        if dest is not None:
            found.append(_Span(m.start(), dest.end))
    # "you can collect the card at the Samsat office", "bisa diambil di Kantor Bersama Samsat"
    for m in c.ref_modal.finditer(t.norm):
        if not valid(m):
            continue
        end = _clause_end(t, m.end(), c.lex.referral.reach)
        for link in c.ref_link.finditer(t.norm, m.end(), end):
            dest = _destination(t, c, link.end())
            if dest is not None:
                found.append(_Span(m.start(), dest.end))
                break
    # "the PLN office is on Jl. Slamet Riyadi": a place described for the customer to go to
    for m in c.ref_places.finditer(t.norm):
        before = _WORD.findall(t.norm[t.clause_start(m.start()) : m.start()])[-3:]
        if valid(m) and not c.ref_own.search(m.group(0)) and not any(c.ref_own.fullmatch(w) for w in before):
            found.append(_Span(*m.span()))
    if not found and not bare:
        return [], None, False
    return sorted(found + bare, key=lambda sp: sp.start), "other", bool(found)


def _clause_end(t: _Text, pos: int, words: int) -> int:
    """The end of the clause around pos, or of the next ``words`` words, whichever comes first."""
    s = t.sentences[t.sentence_at(pos)]
    end = s.end
    for i, w in enumerate(_WORD.finditer(t.norm, pos, end)):
        if i == words:
            end = w.start()
            break
    return end


def _destination(t: _Text, c: _Compiled, pos: int) -> _Span | None:
    """A destination (a body, an office, a number) a few words after a directing word, not our own."""
    if c.ref_internal.match(t.norm[pos : pos + 60]) or _vague_after(t, c, pos):
        return None
    end = _clause_end(t, pos, c.lex.referral.reach)
    for m in c.ref_destination.finditer(t.cased, pos, end):
        if c.ref_vague.match(t.norm, m.start()):
            return None  # "bagian lain", "another office"
        before = _WORD.findall(t.norm[max(pos, m.start() - 20) : m.start()])[-1:]
        after = t.norm[m.end() : m.end() + 12].lstrip()
        if c.ref_own.match(after) or c.ref_own.search(m.group(0)) or (before and c.ref_own.fullmatch(before[0])):
            continue  # "kantor kami", "our office": our own place
        if c.ref_theirs.match(after) or (before and c.ref_theirs.fullmatch(before[0])):
            continue  # "ke nomor HP Abang", "to your WhatsApp": the customer's own, where we reach them
        return _Span(*m.span())
    return None


def _vague_after(t: _Text, c: _Compiled, pos: int) -> bool:
    end = _clause_end(t, pos, 4)
    return bool(c.ref_vague.search(t.norm, pos, end))


def asking_without_mark(text: str, lang: str) -> list[str]:
    """The turn's sentences that ask for facts without a '?', as chat often does ("sama boleh
    minta no hp nya", "Nomor pelanggannya berapa, Pak."), in the turn's own words."""
    c = _compiled(lang)
    t = _Text(text or "", c)
    _mark_sentences(t, c, _find(c.hostile, t), _find(c.defensive, t))
    spans = [t.original(_Span(s.start, s.end)) for s in t.sentences
             if not s.asks and (s.question or _clause_asks(s, t, c))]
    return [text[start:end].strip() for start, end in spans]


def _clause_asks(s: _Sentence, t: _Text, c: _Compiled) -> bool:
    """A clause before a comma that ends in a question word ("trus dgn ibu siapa ya, biar sy
    catat"): chat puts the question first and the reason after it, with no '?'."""
    body = t.norm[s.start : s.end]
    if c.q_closer is None or _never_asks(s, body, c):
        return False
    return any(c.q_closer.search(clause) for clause in body.split(",")[:-1])


def names_party(text: str, target: str, scenario: Scenario) -> bool:
    """Does a referral to ``target`` anywhere in ``text`` name the scenario's right party?"""
    return _referral_matches(None, [], target, scenario, text)


def mentions_party(text: str, scenario: Scenario) -> bool:
    """Does ``text`` name the scenario's right party by one of its accept cues ("Pak Yusuf")?"""
    cue_rx = _scenario_rx(tuple(scenario.handling.referral.accept_cues))
    return cue_rx is not None and bool(cue_rx.search(text.lower()))


def _referral_matches(t: _Text | None, spans: list[_Span], target: str, scenario: Scenario, whole: str = "") -> bool:
    want = scenario.handling.referral.target.value
    if want != target:
        return False
    if target != "other":
        return True
    cue_rx = _scenario_rx(tuple(scenario.handling.referral.accept_cues))
    if cue_rx is None:
        return False
    # The right party in a town the scenario never mentions is another branch ("Samsat Surabaya").
    elsewhere = _other_towns_rx(scenario.case_text())

    def names_it(text: str, lo: int, hi: int) -> bool:
        return bool(cue_rx.search(text, lo, hi)) and not (elsewhere and elsewhere.search(text, lo, hi))

    if t is None:
        return names_it(whole.lower(), 0, len(whole))
    for sp in spans:  # the referral phrase's neighbourhood: its sentence and the ones either side
        i = t.sentence_at(sp.start)
        lo = t.sentences[max(0, i - 1)].start
        hi = t.sentences[min(len(t.sentences) - 1, i + 1)].end
        if names_it(t.norm, lo, hi):
            return True
    return False


def _number(token: str, c: _Compiled) -> float | None:
    token = token.lower().replace(",", ".")
    if token in c.numbers:
        return c.numbers[token]
    try:
        return float(token)
    except ValueError:
        return None


def _time(t: _Text, c: _Compiled, feeling: set[int]) -> tuple[_Span | None, float | None]:
    """The first concrete time frame and the longest frame committed to, in days. ``feeling``: the
    sentences that validate the customer's feeling, where a time is theirs unless we commit."""
    hits: list[tuple[int, int, float, bool, str]] = []  # start, end, days, soft, kind
    taken: list[tuple[int, int]] = []

    def add(m: re.Match, days: float, soft: bool = False, kind: str = "fixed") -> None:
        if not _overlaps(m.span(), taken):
            taken.append(m.span())
            hits.append((m.start(), m.end(), days, soft, kind))

    for m in c.t_multiplier.finditer(t.norm):
        n = _number(m.group("n"), c)
        if n is not None:
            add(m, n, kind="frame")
    for m in c.t_fixed.finditer(t.norm):
        days, soft = next(((d, sf) for rx, d, sf in c.t_fixed_values if rx.fullmatch(m.group(0))), (0.5, True))
        add(m, days, soft)
    for m in c.t_duration.finditer(t.norm):
        n1, n2 = _number(m.group("n1"), c), _number(m.group("n2") or "", c)
        unit = re.sub(r"\s+", " ", m.group("unit").lower())
        per = next((v for k, v in c.units.items() if re.fullmatch(k, unit)), None)
        if n1 is None or per is None:
            continue
        # "a month", "sebulan": one unit named by a word can be a usage period ("in a month you use ...")
        single = n2 is None and n1 == 1 and not m.group("n1")[0].isdigit()
        add(m, max(n1, n2 or 0) * per, kind="single" if single else "duration")
    for m in c.t_dates.finditer(t.norm):
        add(m, 7.0, kind="date")
    for m in c.t_weekday.finditer(t.norm):
        add(m, c.lex.time.weekday_days)
    for m in c.t_clock.finditer(t.norm):
        add(m, 1.0)

    good: list[tuple[int, int, float, str]] = []
    for start, end, days, soft, kind in sorted(hits):
        s = t.sentences[t.sentence_at(start)]
        if s.hostile or s.frame or s.confirm:
            continue  # restating what happened is not a commitment
        clause_at = t.clause_start(start)
        clause = t.norm[clause_at:start]
        words = _WORD.findall(clause)[-3:]
        before = " ".join(words)
        cut = max((i + 1 for i, w in enumerate(words) if c.t_joiner.fullmatch(w)), default=0)
        near = " ".join(words[cut:])  # "... ke supervisor tagihan dan Senin pagi": not a bill period
        framed = kind in ("duration", "single") and bool(c.t_frame_before.search(clause))
        if c.t_past_before.search(before) or (not framed and c.t_not_frame.search(near)):
            continue
        if kind in ("duration", "single") and c.t_elapsed_before.search(" ".join(before.split()[-2:])):
            continue  # "sudah tiga hari", "waited five hours": time already spent
        after = t.norm[end : end + 25]
        if c.t_past_after.match(after) or (c.t_not_frame_after and c.t_not_frame_after.match(after)):
            continue
        if c.t_negators.search(clause):
            continue
        cond = c.conditional.search(clause)
        if cond and c.ack_addressee.match(clause[cond.end() :].lstrip()):
            continue  # "kalau Ibu taruh sampahnya hari Selasa": the customer's action, not our commitment
        sentence = t.norm[s.start : s.end]
        whole_clause = t.norm[clause_at : _clause_stop(t, end)]
        promised = bool(c.t_promise.search(whole_clause))
        rest = t.norm[s.start : start] + " " + t.norm[end : s.end]  # the sentence without the time itself
        if soft and (s.asks or not c.t_commit.search(rest)):
            continue  # "hari ini" / "today" only in a sentence that commits to something
        if s.asks and not promised:
            continue  # "how much do you use in a month?"
        if t.sentence_at(start) in feeling and not c.t_commit.search(rest):
            continue  # "I can see why you're anxious, the exam is on Monday"
        if kind in ("duration", "single"):
            framed = c.t_frame_before.search(clause) or c.t_frame_after.match(after)
            if not framed:
                # a bare duration ("nine days", "empat bulan ini") is the wait restated unless we promise
                if c.t_state.search(whole_clause) or not promised:
                    continue
            elif kind == "single" and c.t_weak_frame.search(clause) and not c.t_commit.search(sentence):
                continue  # "in a month you use about 20 cubic metres"
        good.append((start, end, days, kind))
    if not good:
        return None, None
    first = good[0]
    # a deadline date ("well before the 20th") does not override a nearer concrete promise
    firm = [d for _, _, d, kind in good if kind != "date"] or [d for _, _, d, _ in good]
    return _Span(first[0], first[1]), round(max(firm), 3)


def _clause_stop(t: _Text, pos: int) -> int:
    """Where the clause containing pos ends (the next clause break, or the sentence end)."""
    s = t.sentences[t.sentence_at(pos)]
    i = bisect_right(t._breaks, pos)
    stop = t._breaks[i] if i < len(t._breaks) else s.end
    return min(stop, s.end)


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
