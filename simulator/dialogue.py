"""The customer's side of the conversation as state: needs, knowledge, patience, what the trainee did.

Pure: ``update(state, text, analysis, scenario, mood)`` returns the next state and reads only its
arguments, the scenario and ``simulator/dialogue.yaml``. Both customer engines voice the state it
returns (the scripted one picks lines for ``state.reply``; the model-voiced one gets it in its
prompt), so they tell the same story.

* **Needs** (``Scenario.needs``, or derived from ``handling`` for older files) are met on the turn
  one of their conditions holds (tags of the analysis, slots extracted from the turn, facts told,
  cue words, example sentences through the matcher, the right referral). Once met they stay met,
  so a commitment can be earned on any later turn; a vague one never uses up the slot.
* **Knowledge and hidden facts** come out when a question (or a request to see something) asks
  for them: a cue word in the asking sentence, or the matcher finding the sentence means one of
  the example questions, in either language.
* **Patience** falls with defensive, hostile, empty and dismissive turns, for every temperament;
  when it runs out the customer leaves, or escalates when they have threatened.
* **Outcome**: ``resolved`` only when the required needs are met, ``referred`` only when the
  referral need (where, which number, what to bring) is, ``walked_away``/``escalated`` from
  patience, threats and the mood model, ``turn_limit`` at the end.
* **Reply**: what the customer answers, by priority: the answer to a question, the evidence
  asked for, a reaction to an admission, a push for a concrete time, a commitment restated, a
  referral's missing detail, a reaction to a one-word reply, a switch of language or a closing
  question; "you are not listening" only when the turn carried nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import lru_cache, reduce
from pathlib import Path
from typing import Literal, NamedTuple, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from simulator.analysis_types import Evidence, Tag, TurnAnalysis
from simulator.datafile import load_yaml
from simulator.mood import Outcome, is_handoff, sends_nowhere
from simulator.turn_flags import flags as turn_flags, function_words
from simulator.understanding.cues import cue_pattern
from simulator.understanding.match import acts_now, is_closing, is_courtesy, is_put_off, without_address
from simulator.understanding.normalise import normalise
from simulator.understanding.rules import asking_without_mark, load_lexicon
from simulator.scenario import (
    Knowledge,
    LineCondition,
    Need,
    NeedCondition,
    NeedReason,
    ReferralTarget,
    Scenario,
    ScenarioWarning,
    Situation,
    Slot,
    Temperament,
    WarningCode,
    candidate_lines,
    line_conditions,
    line_mentions,
    line_text,
)

DIALOGUE_FILE = Path(__file__).with_name("dialogue.yaml")
EVERYDAY_FILE = Path(__file__).with_name("everyday.yaml")


# --- data -----------------------------------------------------------------------------------
class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Patience(_Strict):
    start: dict[Temperament, float]
    cost: dict[str, float]
    regain: float
    max_per_turn: float  # below half of every start: two turns alone never use up all the patience
    fed_up_turns: int  # bad turns in a row with the mood at its limit that end the conversation

    @model_validator(mode="after")
    def _two_turns_never_end_it(self) -> Patience:
        if 2 * self.max_per_turn >= min(self.start.values()):
            raise ValueError(f"max_per_turn {self.max_per_turn} must be below half of every start {dict(self.start)}")
        return self


class DialogueParams(_Strict):
    patience: Patience
    resolve_anger_max: float
    threat_escalates_at: float
    long_turn_words: int = Field(ge=1)
    cues: dict[str, list[str]]
    asked_kinds: dict[str, list[str]]
    missing: dict[str, dict[str, str]]


@lru_cache(maxsize=1)
def load_params(path: Path = DIALOGUE_FILE) -> DialogueParams:
    return load_yaml(path, DialogueParams)


class EverydayItem(_Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    answer: dict[Literal["id", "en"], str]
    asked_by: list[str]
    questions: list[str]
    small_talk: bool = False  # said only when no scenario item answers the question


class EverydayBank(_Strict):
    """What every customer knows about their own life (``everyday.yaml``)."""

    titles: list[str]
    items: list[EverydayItem]


@lru_cache(maxsize=1)
def load_everyday(path: Path = EVERYDAY_FILE) -> EverydayBank:
    return load_yaml(path, EverydayBank)


# --- matching -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Match:
    index: int
    score: float
    explanation: str = ""
    semantic: bool = False  # the encoder's similarity, not shared words


class Matcher(Protocol):
    def __call__(
        self, text: str, candidates: list[str], lang: str | None = None, groups: list[int] | None = None
    ) -> Match | None: ...


_STOP = set(
    "the a an and or of to in on at for is are was were be been it this that you your yours i me my we our "
    "can could would will do does did have has had with about what when where which who how why please may "
    "there here any some just so if then than from by as not no yes ok okay "
    "yang dan atau di ke dari ini itu ada apa apakah kapan mana siapa bagaimana gimana berapa saya kami kita "
    "anda ibu bapak pak bu mas mbak kak dengan untuk sudah belum bisa boleh tidak nggak ya juga lagi nya "
    "tolong mohon coba dulu sih kah "
    # asking whether the customer knows says nothing of what is asked ("Bapak tahu tarifnya?")
    "know remember tahu tau ingat inget kenal".split()
)
_WORD = re.compile(r"[a-z0-9]+")


def _tokens(text: str) -> set[str]:
    return {w[:6] for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in _STOP}


def lexical_match(
    text: str, candidates: list[str], lang: str | None = None, groups: list[int] | None = None
) -> Match | None:
    """The rules-only matcher: content-word overlap (words cut to 6 letters, after lowercasing).
    ``groups`` (phrasings of the same thing) matter only to the semantic matcher's lead."""
    words = _tokens(text)
    if not words:
        return None
    best: Match | None = None
    for i, candidate in enumerate(candidates):
        cand = _tokens(candidate)
        if not cand:
            continue
        shared = words & cand
        if len(shared) < min(2, len(cand)) or (len(cand) == 1 and len(words) > 3):
            continue
        score = len(shared) / len(cand)
        if score >= 0.5 and (best is None or score > best.score):
            best = Match(i, score, f"shared words: {', '.join(sorted(shared))}")
    return best


def default_matcher() -> Matcher:
    """The analyser's semantic matcher when it is installed, else :func:`lexical_match`."""
    try:
        from simulator.understanding.match import best_match  # type: ignore[import-not-found]
    except Exception:  # noqa: BLE001 - not merged yet, or its encoder is missing
        return lexical_match
    return best_match


# --- slots ----------------------------------------------------------------------------------
_DAYS = (
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues?|thu(?:rs?)?|fri|"
    # "sat" and "wed" are English verbs too: as days only before a time, a date or a part of the
    # day ("Sat 10am", "wed between 8am and noon", "wed morning")
    r"(?:wed|sat)\.?(?= ?(?:\d|the \d|jam|pukul|(?:between|from|at) \d|morning|afternoon|evening))|"
    r"senin|selasa|rabu|kamis|jum'?at|sabtu|hari minggu|ahad"
)
_MONTHS = (
    r"jan(?:uary|uari)?|feb(?:ruary|ruari)?|mar(?:ch|et)?|apr(?:il)?|mei|may|jun[ei]?|jul[iy]?|"
    r"aug(?:ust)?|agu(?:stus)?|sep(?:tember)?|o[ck]t(?:ober)?|nov(?:ember)?|de[cs](?:ember)?"
)
_CLOCK_WORD = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|satu|dua belas|dua|tiga|empat|lima|"
    r"enam|tujuh|delapan|sembilan|sepuluh|sebelas"
)
_CLOCK_NUMBER = rf"\d{{1,2}}|{_CLOCK_WORD}"
#: Numbers in words, both languages (clock hours, spans of time, durations).
_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen".split())} | {
    w: i + 1 for i, w in enumerate("satu dua tiga empat lima enam tujuh delapan sembilan sepuluh sebelas".split())} | {
    "dua belas": 12, "empat belas": 14, "a": 1, "an": 1, "se": 1}
#: Days per unit of a span of time.
_UNIT_DAYS = {"minute": 1 / 1440, "menit": 1 / 1440, "hour": 1 / 24, "jam": 1 / 24, "day": 1, "hari": 1, "week": 7,
              "minggu": 7, "pekan": 7, "month": 30, "bulan": 30}
_CLOCK = re.compile(
    rf"(?<![\d.,])(?P<h>\d{{1,2}})[.:](?P<m>\d{{2}})(?![\d.,])"
    rf"|\b(?P<half>half past|setengah) (?P<hh>{_CLOCK_NUMBER})\b"
    rf"|\b(?:jam|pukul|at|around|by) (?P<ha>{_CLOCK_NUMBER})\b(?![.:]\d)"
    rf"|\b(?P<hb>{_CLOCK_NUMBER}) ?(?:o'clock|[ap]\.?m\b|pagi|siang|sore|malam)"
)
_SLOT_RX: dict[str, re.Pattern] = {
    "weekday": re.compile(rf"\b(?:{_DAYS})\b"),
    # not "this morning" / "pagi ini": by the time a complaint is heard that is mostly the past
    "relday": re.compile(r"\b(?:today|tomorrow|tonight|hari ini|besok|lusa|nanti sore|nanti malam|(?:siang|sore|malam) ini|"
                         r"this afternoon|this evening)\b"),
    "date": re.compile(rf"\b(?:\d{{1,2}}(?:st|nd|rd|th)? (?:of )?(?:{_MONTHS})\b|(?:{_MONTHS}) \d{{1,2}}\b|tanggal \d{{1,2}}|the \d{{1,2}}(?:st|nd|rd|th)\b|\d{{1,2}}/\d{{1,2}}(?!\d))"),
    "hours": re.compile(
        r"(?:(?<![\d.,/-])(?:[01]?\d|2[0-4])[.:][0-5]\d(?![\d/-]|[.,]\d)|\b(?:jam|pukul|at|by|before|after|sebelum|sampai) \d{1,2}(?:[.:]\d{2})?(?: ?[ap]\.?m\b\.?)?|\d{1,2} ?(?:a\.?m\.?|p\.?m\.?)|"
        r"\b(?:between|antara) \d{1,2}(?:[.:]\d{2})? (?:and|dan|sampai|-) \d{1,2}|(?<![\d.,/-])\d{1,2}(?:[.:]\d{2})? ?[-–] ?\d{1,2}(?:[.:]\d{2})?(?![\d/-]|[.,]\d)|"
        # "Wednesday, 8 to 12": a range of hours, not of days or boxes
        r"(?<![\d.,/-])\d{1,2}(?:[.:]\d{2})? (?:to|till|until|sampai|hingga|s/d) \d{1,2}(?:[.:]\d{2})?(?![\d/-]|[.,]\d)"
        r"(?! ?(?:days?|hari|weeks?|minggu|months?|bulan|working|business|kerja|years?|tahun|percent|persen|%|boxes|kotak|people|orang))|"
        rf"\b(?:half past|setengah|jam|pukul) (?:{_CLOCK_WORD})\b(?![.:]\d)|\b(?:{_CLOCK_WORD}) ?(?:o'clock|[ap]\.?m\b)|"
        r"noon|midday|morning|afternoon|evening|pagi|siang|sore|malam|within the hour|dalam satu jam|"
        r"\d+ (?:minutes|menit|hours|jam)\b)"
    ),
    "duration": re.compile(
        r"\b(?:\d+|one|two|three|four|five|seven|ten|fourteen|satu|dua|tiga|empat|lima|tujuh|sepuluh|empat belas)"
        r" ?(?:x ?24 ?(?:jam|hours)|(?:working |business )?(?:days?|hours?|minutes?|weeks?)|hari(?: kerja)?|jam|menit|minggu)\b"
    ),
    "amount": re.compile(r"\b(?:rp\.? ?\d[\d.,]*|\d[\d.,]* ?(?:ribu|rb|juta|thousand|million|k)\b|idr ?\d)"),
    "number": re.compile(
        # letters then digits ("ADU-0612-0457"), digits then letters ("0147/PGD/VI"), or digits after its name
        r"\b(?:[a-z]{2,}[-/]?(?:[a-z0-9]+[-/])*\d{2,}[\d/-]*|\d{2,}(?:[-/][a-z0-9]+)*[-/][a-z]{2,}\b|"
        r"(?:complaint|ticket|reference|claim|case|report|nomor|no\.?) "
        r"(?:number |no\.? |(?:pengaduan|aduan|tiket|laporan|klaim)(?:nya)? )?[:#]? ?[a-z]*-?\d[\d-]{2,})"
    ),
    "phone": re.compile(
        r"(?:\(0\d{2,3}\) ?\d[\d ]{3,}|\b0\d{8,}|\+62|\b1500[\d-]*|\b(?:call|phone|ring|hotline|telepon|telp|hubungi|wa|whatsapp|contact|kontak|ext\.?)\b[^.?!]{0,25}?\b\d{3,}|\b\d{3,} ?(?:hotline|call centre|call center))"
    ),
    "place": re.compile(
        r"\b(?:jln?\.?|floor|lantai|gedung|building|office (?:is )?(?:on|at|in)|kantor\w* (?:\w+ )?(?:di|ada di)|"
        r"counter|loket|app\b|aplikasi|website|situs|branch|cabang)"
    ),
}


# A street word is an address only beside a name, matched as typed: "Jalan Pemuda", "Veteran Road";
# not "masih di jalan" (on its way), "surat jalan" (a road permit) or "the whole street".
_STREET = re.compile(r"\b[Jj]alan +[A-Z0-9][\w.]*|\b(?:[A-Z][\w'.-]*|\d+) +(?:[Ss]treet|[Rr]oad)\b")


def _on_the_clock(hours: str) -> bool:
    """Hours that name a time on the clock ("8.30", "jam lima", "five pm"), not a part of the day."""
    return bool(re.search(r"\d", hours) or _CLOCK.search(hours.lower()))


def clock_times(text: str) -> set[tuple[int, int]]:
    """The clock times in ``text`` as (hour on a 12-hour dial, minute): "8.30", "half past eight",
    "setengah sembilan" and "jam 8.30 pagi" are all (8, 30)."""
    def hour(word: str) -> int:
        return int(word) if word.isdigit() else _NUMBER_WORDS[word]

    out = set()
    for m in _CLOCK.finditer(text.lower()):
        if m["h"]:
            h, minute = int(m["h"]), int(m["m"])
        elif m["half"]:
            h, minute = hour(m["hh"]) - (1 if m["half"] == "setengah" else 0), 30
        else:
            h, minute = hour(m["ha"] or m["hb"]), 0
        if h <= 24 and minute < 60:  # "at 45 thousand a box" is no time
            out.add((h % 12, minute))
    return out


def extract_slots(text: str, scenario: Scenario | None = None, customer_said: str = "") -> dict[str, str]:
    """Slots in a trainee turn: each kind present, with the words that filled it (for echoing).
    ``customer_said``: what the customer said so far; the trainee repeating its clock times, days
    ("I'm so sorry about Saturday"), spans of time ("nine days") or reference numbers promises and
    gives nothing."""
    low = _GREETING.sub(lambda m: " " * len(m.group(0)), _unquoted(text.lower()))
    sentences = _sentence_spans(text)  # the same offsets in every blanked copy below
    # Times in a question or told about the past ("ran out at 11:48 last night") are no promise,
    # unless the question offers them ("shall I send someone on Wednesday, 8-11?").
    lang = scenario.lang if scenario else "en"
    timely = low
    for start, end in sentences:
        part = low[start:end]
        if low[end : end + 1] == "?" or part.rstrip().endswith("?"):
            kept = statement_spans(low[start : end + 1], lang)  # only its statement clauses count
            if kept or not _offered(text[start : end + 1], lang):
                part = "".join(c if any(a <= i < b for a, b in kept) else " " for i, c in enumerate(part))
                timely = timely[:start] + part + timely[end:]
        for m in re.finditer(r"[^,;]+", part):
            if _PAST.search(m.group(0)):
                timely = _blank(timely, start + m.start(), start + m.end())
    if customer_said:
        echoes = clock_times(customer_said)
        for m in _SLOT_RX["hours"].finditer(timely):
            if set() < clock_times(m.group(0)) <= echoes:
                timely = _blank(timely, m.start(), m.end())
        # A day is said back unless its sentence gives it hours or makes it the next one ("next Saturday").
        said_days = {m.group(0)[:3] for m in _SLOT_RX["weekday"].finditer(customer_said.lower())}
        for start, end in sentences:
            part = timely[start:end]
            hours = _SLOT_RX["hours"].search(part)
            if (hours and _on_the_clock(hours.group(0))) or _NEXT_DAY.search(part):
                continue
            for m in _SLOT_RX["weekday"].finditer(part):
                if m.group(0)[:3] in said_days:
                    timely = _blank(timely, start + m.start(), start + m.end())
        # A span of time or a date said back ("9 days with nothing but 'in process'", "dibeli
        # 3 Maret, dijanjikan 2 minggu") is her wait or her story, not a promise, unless it is
        # framed as one ("within 14 days").
        said_spans, said_dates = _spans_of_time(customer_said), _dates(customer_said)
        for start, end in sentences:
            part = timely[start:end]
            if _PROMISE_FRAME.search(part):
                continue
            for m in _SLOT_RX["duration"].finditer(part):
                if _spans_of_time(m.group(0)) & said_spans:
                    timely = _blank(timely, start + m.start(), start + m.end())
            for m in _SLOT_RX["date"].finditer(part):
                if _dates(part[m.start():m.end() + 12]) & said_dates:  # "the 3rd" of "the 3rd of March"
                    timely = _blank(timely, start + m.start(), start + m.end())
    # A reference number the customer gave, read back ("KLT7720114539, sent from Glodok"), or a
    # part of it ("PD-0402-118" of "3376-PD-0402-118"), is no number given.
    numbered = low
    if customer_said:
        theirs = {digits for token in re.findall(r"[\w/-]*\d[\w/-]*", customer_said) if len(digits := re.sub(r"\D", "", token)) >= 4}
        for m in _SLOT_RX["number"].finditer(low):
            digits = re.sub(r"\D", "", m.group(0))
            if len(digits) >= 4 and any(digits in number for number in theirs):
                numbered = _blank(numbered, m.start(), m.end())
    found: dict[str, str] = {}
    for name, rx in _SLOT_RX.items():
        m = rx.search(timely if name in _TIME_SLOTS else numbered if name == "number" else low)
        if m:
            found[name] = text[m.start() : m.end()]
    street = _STREET.search(text)
    if "place" not in found and street and low[street.start()].strip():  # not in a quote or greeting
        found["place"] = street.group(0)
    # A day and hours count together only when one sentence holds both ("Wednesday between 8 and 12").
    for start, end in sentences:
        part = timely[start:end]
        h = _SLOT_RX["hours"].search(part)
        days = [m for name in ("weekday", "date", "relday") for m in _SLOT_RX[name].finditer(part)]
        # the day the hours belong to: the nearest ("hari ini nanya status, besok sebelum jam 3")
        d = min(days, key=lambda m: min(abs(m.start() - h.end()), abs(h.start() - m.end()))) if days and h else None
        if d and h:
            found["weekday" if _SLOT_RX["weekday"].fullmatch(d.group(0)) else "relday"] = text[start + d.start() : start + d.end()]
            found["hours"] = text[start + h.start() : start + h.end()]
            found["same_sentence"] = "1"
            break
    else:
        found.pop("hours", None) if ("weekday" in found or "relday" in found or "date" in found) and not _on_the_clock(found.get("hours", "")) else None
    slots: dict[str, str] = {}
    day = found.get("weekday") or found.get("date") or found.get("relday")
    if day:
        slots[Slot.day] = day
    if "hours" in found:
        slots[Slot.hours] = found["hours"]
    if "duration" in found:
        slots[Slot.duration] = found["duration"]
    concrete = (
        (day and "hours" in found)
        or "date" in found
        or "weekday" in found
        or "duration" in found
        or ("hours" in found and _on_the_clock(found["hours"]))
    )
    if concrete:
        m = _when_span(text, timely)
        slots[Slot.when] = m or day or found.get("duration") or found.get("hours", "")
    for name in ("amount", "number", "phone", "place"):
        if name in found:
            slots[name] = found[name]
    if scenario is not None and Slot.place not in slots:
        party = scenario.handling.referral.party or ""
        address = re.search(r"\b(?:jl\.?|jalan) [\w .]+", party.lower())
        if address and address.group(0)[:8] in low:
            slots[Slot.place] = address.group(0)
    return slots


def _blank(text: str, start: int, end: int) -> str:
    """``text`` with ``[start:end]`` blanked out, offsets kept."""
    return text[:start] + " " * (end - start) + text[end:]


_QUOTED = re.compile(r"(?<!\w)['\"‘“][^'\"’”]{1,60}['\"’”](?!\w)")


def _unquoted(low: str) -> str:
    """The text with quoted words blanked: the customer's own words quoted back ('in process')
    are not the trainee's promise."""
    return _QUOTED.sub(lambda m: " " * len(m.group(0)), low)


_TIME_SLOTS = {"weekday", "relday", "date", "hours", "duration"}
_PAST = re.compile(
    r"\b(?:ago|last night|yesterday|since|was|were|had|ran out|expired|arrived|last|stuck|lalu|kemarin|semalam|tadi|"
    r"sejak|sudah lewat|pernah|terakhir|tiba|nyangkut)\b"
)
_NEXT_DAY = re.compile(r"\b(?:next|coming|depan)\b")
_GREETING = re.compile(r"\b(?:selamat|good) (?:pagi|siang|sore|malam|morning|afternoon|evening)\b")
_SPAN_OF_TIME = re.compile(
    rf"\b(?P<n>\d+|{'|'.join(sorted(_NUMBER_WORDS, key=len, reverse=True))})[ -]?(?:working |business )?"
    rf"(?P<unit>{'|'.join(_UNIT_DAYS)})(?:s|\b)"
)
#: A span of time inside a frame like these is a promise, even when the customer named it first.
_PROMISE_FRAME = re.compile(r"\b(?:within|at the latest|at most|maximum|max|dalam|paling lambat|maksimal|paling lama)\b")
#: Indonesian month names by the English first three letters.
_MONTH_KEYS = {"mei": "may", "agu": "aug", "okt": "oct", "des": "dec"}


def _dates(text: str) -> set[tuple[int, str]]:
    """The dates named ("the 3rd of March", "3 Maret"), as (day, month's first three letters)."""
    out, low = set(), text.lower()
    for m in _SLOT_RX["date"].finditer(low):
        day = re.search(r"\d{1,2}", m.group(0))
        # "tanggal 3 Maret": the month may follow the matched "tanggal 3"
        month = re.match(rf"[^.,;]*?\b(?P<month>{_MONTHS})\b", low[m.start():m.end() + 12])
        if day and month:
            key = month.group("month")[:3]
            out.add((int(day.group(0)), _MONTH_KEYS.get(key, key)))
    return out


def _spans_of_time(text: str) -> set[tuple[int, float]]:
    """The spans of time named ("nine days", "2 minggu"), as (number, days per unit)."""
    out = set()
    for m in _SPAN_OF_TIME.finditer(text.lower()):
        n = m.group("n")
        out.add((int(n) if n.isdigit() else _NUMBER_WORDS[n], _UNIT_DAYS[m.group("unit")]))
    return out


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    """Where the sentences of ``text`` (as typed, case kept) are: "5 p.m. today" is one sentence,
    "Thursday, 4 p.m. Account number for the transfer?" two."""
    spans, start = [], 0
    for m in re.finditer(r"(?<![ap]\.m)[.!?\n]+(?:\s|$)|(?<=[ap]\.m\.)\s+(?=[A-Z])", text):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(text)))
    return spans


@lru_cache(maxsize=2)
def _contrast(lang: str) -> re.Pattern:
    return re.compile(r"(?<!\w)(?:" + "|".join(load_lexicon(lang).contrast) + r")(?!\w)")


#: A sentence puts a remedy off only this near an empty promise, with this lead over the other kinds:
#: remedies offered in concrete words reach 0.90 ("Kiproknya kami ganti gratis dan kelistrikannya
#: dicek menyeluruh"), remedies put off 0.94 and more ("utk ganti ruginya nanti dibicarakan ya bu").
REMEDY_PUT_OFF_NEAR = (0.92, 0.03)


def put_off_spans(text: str, lang: str) -> list[tuple[int, int]]:
    """The sentences of ``text`` that hand over a wait and nothing else (:func:`is_put_off`, held
    to :data:`REMEDY_PUT_OFF_NEAR`): a remedy named there ("soal ganti ruginya nanti dibicarakan")
    is put off, not offered."""
    return [(a, b) for a, b in _sentence_spans(text)
            if _WORD.search(text[a:b]) and is_put_off(text[a:b], lang, REMEDY_PUT_OFF_NEAR)]


def _remedy_offered(text: str, evidence: Evidence | None, deferred: list[tuple[int, int]]) -> bool:
    """Whether the remedy the analysis heard is offered: its words are neither in a sentence that
    puts it off (``deferred``) nor denied in their clause ("refund gk bisa", "we can't refund")."""
    if evidence is None or not evidence.text.strip():
        return True
    if any(a <= evidence.start < b for a, b in deferred):
        return False
    start, end = next(((a, b) for a, b in _sentence_spans(text) if a <= evidence.start < max(b, a + 1)), (0, len(text)))
    if evidence.start <= start and evidence.end >= end:  # the learned head heard the whole sentence: no word to check
        return True
    return _has_positive_cue(text[start:end].lower(), [evidence.text])


def blamed_span(text: str, analysis: TurnAnalysis, lang: str) -> tuple[int, int] | None:
    """Where a defensive turn blames: the sentence holding the analysis's defensive evidence, on
    the evidence's side of a contrast word ("No cash refunds, but a technician comes Wednesday"
    blames only before "but"). A time or an amount there is the blame's ("Santan dishes must be
    eaten within 4 hours, it is written on the sticker"), not a promise."""
    evidence = analysis.evidence.get(Tag.defensive)
    if not analysis.has(Tag.defensive) or evidence is None or not evidence.text.strip():
        return None
    low = text.lower()
    for start, end in _sentence_spans(text):
        if start <= evidence.start < max(end, start + 1):
            cuts = [start, *(m.start() for m in _contrast(lang).finditer(low, start, end)), end]
            return next(((a, b) for a, b in zip(cuts, cuts[1:]) if a <= evidence.start < b), (start, end))
    return None


#: Words that join the parts of one time ("Wednesday between 8 and 12", "besok jam 9 sampai 11");
#: "today and call you tomorrow" is two times.
_TIME_JOINS = frozenset(
    "and or at on by from to till until between before after around about the of this next in within "
    "dan atau jam pukul hari tanggal sampai hingga antara sebelum sesudah setelah sekitar ini depan paling lambat telat".split())


def _joins_a_time(gap: str) -> bool:
    """Is ``gap`` (between two time words) only words that join one time, in either spelling ("sblm")?"""
    return set(_WORD.findall(gap)) <= _TIME_JOINS or set(_WORD.findall(normalise(gap, "id").text.lower())) <= _TIME_JOINS


def _when_span(text: str, low: str) -> str | None:
    """The words of the time commitment: a run of day/time words close together in one clause,
    the most specific run of the turn (most time words; the first on a tie): "tomorrow before 3"
    rather than the "today" of "we check today, and I call you tomorrow before 3"."""
    spans = sorted((m.start(), m.end()) for name in ("weekday", "relday", "date", "hours", "duration")
                   for m in _SLOT_RX[name].finditer(low))
    runs: list[list[tuple[int, int]]] = []
    for s, e in spans:
        gap = low[runs[-1][-1][1]:s] if runs else ""
        if runs and s - runs[-1][-1][1] <= 14 and not re.search(r"[.;!?]", gap) and _joins_a_time(gap):
            runs[-1].append((s, e))
        else:
            runs.append([(s, e)])
    if not runs:
        return None
    best = max(runs, key=len)  # max keeps the first of equals
    words = text[best[0][0]:max(e for _s, e in best)].strip(" ,")
    return words[:-1] if words.endswith(".") and not words.endswith(".m.") else words  # "3 pm." ends a sentence


# --- state ----------------------------------------------------------------------------------
class NeedState(BaseModel):
    id: str
    required: bool
    kind: str = "other"
    description: str = ""
    met_turn: int | None = None
    evidence: str | None = None  # the trainee's words that met it


class TurnActs(BaseModel):
    """What the trainee did on one turn, as the customer hears it."""

    asked: list[str] = Field(default_factory=list)  # fact/knowledge ids asked for, new ones
    asked_again: list[str] = Field(default_factory=list)
    unknown_question: bool = False
    restates: bool = False  # its questions mostly repeat what the customer has said (a check)
    evidence_request: bool = False
    admission: bool = False
    apology: bool = False
    empathy: bool = False
    acknowledge: bool = False
    vague_time: bool = False
    put_off: bool = False  # a wait and nothing else ("someone will contact you, be patient") while needs are open
    checking: bool = False  # a step taken now ("let me check that right now") or a question about the case
    commitment: str | None = None  # the words of a concrete time that met a need or was new
    remedy: bool = False
    referral: str | None = None  # "correct", "wrong" or None
    referral_missing: list[str] = Field(default_factory=list)
    defensive: bool = False
    hostile: bool = False
    provoked: bool = False  # said words the customer warned they will not stand to hear (persona.provoked_by)
    empty: bool = False
    one_word: bool = False
    other_language: bool = False
    closing_question: bool = False
    farewell: bool = False  # the trainee says goodbye ("Thank you for choosing us", "Hati-hati di jalan")
    sign_off: bool = False  # ends on a well-wish and moves nothing ("hope everything's ok soon", "semoga cepat beres")
    said: str = ""  # the turn, normalised and lowercased, for lines that echo its words (``mentions``)
    on_topic: bool = False  # about the problem (its words or cues)
    on_topic_only: bool = False  # about the problem, but no need met, no question, nothing owned
    cost_patience: bool = False  # the turn itself cost patience (before a furious customer's extra)
    courtesy: bool = False  # only a greeting or courtesy, early on ("please, have a seat")
    offer_or_check: bool = False  # every question is an offer or a check ("Can I go through it?", "Is that clear?")
    other_questions: list[Situation] = Field(default_factory=list)  # replies its questions for nothing known draw
    other_first: bool = False  # the turn's first question is one of those
    security: bool = False
    slots: dict[str, str] = Field(default_factory=dict)
    needs_met: list[str] = Field(default_factory=list)


class DialogueState(BaseModel):
    """What the customer knows of the conversation after a trainee turn (stored with each turn)."""

    turn: int = 0
    needs: list[NeedState] = Field(default_factory=list)
    told: list[str] = Field(default_factory=list)  # fact and knowledge ids the customer has told
    patience: float = 3.0
    threat: float = 0.0  # the mood model's threat level, mirrored
    threats_made: int = 0  # times the customer has threatened
    apologies: int = 0
    fault_admitted: bool = False
    time_given: bool = False
    promised: str | None = None  # the words of the trainee's latest concrete commitment ("Thursday by 3pm")
    remedy_offered: bool = False
    referral_turn: int | None = None  # first turn with the right referral
    referral_text: str = ""  # what the trainee said since then (details accumulate)
    security_turn: int | None = None
    number_given: bool = False  # a reference / complaint / claim number was given on some turn
    fed_up_turns: int = 0  # bad turns in a row with the mood at its limit (furious, no trust)
    did: TurnActs = Field(default_factory=TurnActs)
    reply: Situation | None = None  # the reply type chosen for this turn
    reveal: list[str] = Field(default_factory=list)  # facts / knowledge to speak now
    echo: dict[str, str] = Field(default_factory=dict)  # slot values lines may echo
    ask_next: str | None = None  # an open need the customer asks about after reacting
    also: list[Situation] = Field(default_factory=list)  # short replies to the turn's other questions
    also_first: bool = False  # said before the answers (the turn asked those first)
    outcome: str | None = None

    def need(self, need_id: str) -> NeedState | None:
        return next((n for n in self.needs if n.id == need_id), None)

    @property
    def open_needs(self) -> list[NeedState]:
        return [n for n in self.needs if n.met_turn is None]

    @property
    def required_met(self) -> bool:
        return all(n.met_turn is not None for n in self.needs if n.required)


# --- needs from older scenario files ----------------------------------------------------------
def effective_needs(scenario: Scenario) -> list[Need]:
    """The scenario's needs; for a file without them, derived from ``handling`` and the facts."""
    if scenario.needs:
        return scenario.needs
    h = scenario.handling
    needs: list[Need] = []
    causes = [f.id for f in scenario.hidden_facts if f.is_cause]
    if h.needs_cause and causes:
        needs.append(
            Need(id="cause", kind="cause", description="the cause found", met_by=[NeedCondition(facts=[c]) for c in causes])
        )
    if h.referral.target is ReferralTarget.none:
        needs.append(
            Need(id="next_step", kind="next_step", description=f"a concrete next step: {h.time_frame}",
                 met_by=[NeedCondition(tags=["time_estimate"], slots=[Slot.when])])
        )
    elif h.referral.target is ReferralTarget.security:
        needs.append(Need(id="safety", kind="safety", description="security called", met_by=[NeedCondition(referral=True)]))
        needs.append(
            Need(id="next_step", kind="next_step", description=f"a concrete next step: {h.time_frame}",
                 met_by=[NeedCondition(tags=["time_estimate"], slots=[Slot.when])])
        )
    else:
        needs.append(
            Need(id="referral", kind="referral", description=f"a referral to {h.referral.party}",
                 met_by=[NeedCondition(referral=True, slots=[Slot.phone]), NeedCondition(referral=True, slots=[Slot.place])])
        )
    if h.compensation_due:
        needs.append(Need(id="remedy", kind="remedy", description="the loss put right", met_by=[NeedCondition(tags=["compensation"])]))
    return needs


def initial_state(scenario: Scenario) -> DialogueState:
    params = load_params()
    opening = scenario.opening.lower()
    return DialogueState(
        threats_made=1 if _has_cue(opening, params.cues["threat"]) else 0,
        needs=[
            NeedState(id=n.id, required=n.required, kind=n.kind, description=n.description) for n in effective_needs(scenario)
        ],
        patience=params.patience.start[scenario.persona.temperament],
        threat=scenario.persona.mood.threat,
    )


# --- what the turn did ------------------------------------------------------------------------
_SUFFIX = r"(?:nya|lah|kah|pun|mu|ku)?(?!\w)"  # Indonesian clitics: "dereknya" holds "derek"


def _rhetorical(question: str, cues: dict[str, list[str]], lang: str) -> bool:
    """Does the question (its part after the last comma) open with a rhetorical opener ("Ya sy gak
    tahu Bu, masa PDAM disuruh benerin listrik?")?"""
    part = without_address(_plain(question, lang)).split(",")[-1]
    words = " ".join(_WORD.findall(part))
    return any(words == o or words.startswith(o + " ") for o in cues["rhetorical_openers"])


def _has_cue(low: str, cues: list[str]) -> bool:
    return any(cue_pattern(c.lower(), _SUFFIX).search(low) for c in cues)


_NEGATORS = re.compile(
    r"\b(?:not|no|never|cannot|can't|won't|don't|isn't|aren't|unable|tidak|nggak|enggak|gak|ga|belum|bukan|tak|"
    r"ndak|ora|mboten|kagak)\b"
)


def _has_positive_cue(low: str, cues: list[str]) -> bool:
    """A cue not denied in its clause ("we can't cover the clinic bill" does not offer it)."""
    for cue in cues:
        for m in cue_pattern(cue.lower(), _SUFFIX).finditer(low):
            window = m.start() - 40
            clause_start = max(max(low.rfind(c, 0, m.start()) for c in ".,;!?:"), window)
            before = low[clause_start + 1 : m.start()]
            if clause_start == window > 0:
                before = re.sub(r"^\w+", "", before)  # "ga" cut from "harga" denies nothing
            stop = re.search(r"[.,;:!?]", low[m.end() :])
            after = low[m.end() : m.end() + min(25, stop.start() if stop else 25)]
            if not stop or stop.start() > 25:
                after = re.sub(r"\w+$", "", after)
            if not _NEGATORS.search(before) and not _NEGATORS.search(after):
                return True
    return False


def _between_alternatives(plain: str, cues: dict[str, list[str]]) -> bool:
    """Alternatives joined by one of ``cues["alternatives"]`` ("the new number or the old one?",
    "dipanasin dulu atau langsung dimakan?"): a question that asks which, never a yes/no check.
    "…or not?" ("udah bisa atau belum?") is a yes/no question."""
    joins = "|".join(re.escape(c) for c in cues["alternatives"])
    return any(not _NEGATORS.match(plain, m.end() + 1)
               for m in re.finditer(rf"(?<!\w)(?:{joins})(?!\w)", plain) if m.start() > 0)


def slot_days(slots: dict[str, str]) -> float | None:
    """Days of a duration slot ("dua minggu" -> 14), when there is one."""
    duration = slots.get(Slot.duration)
    if not duration:
        return None
    low = duration.lower()
    m = re.match(r"(\d+|[a-z]+)", low)
    count = float(m.group(1)) if m and m.group(1).isdigit() else _NUMBER_WORDS.get(m.group(1) if m else "", 1)
    if "x" in low and "24" in low:
        return count
    for unit, days in _UNIT_DAYS.items():
        if unit in low:
            return count * days
    return None


def closing_only(text: str, analysis: TurnAnalysis) -> bool:
    """A closing question ("ada lagi yang bisa dibantu?") with no other question beside it."""
    sentences = _sentences(text)
    closing = [x for x in sentences if _has_cue(x.lower(), load_params().cues["closing_question"])]
    others = [x for x in sentences if x.rstrip().endswith("?") and x not in closing]
    return bool(closing) and not others


def _ends_on_well_wish(sentences: list[str], lang: str, wishes: list[str]) -> bool:
    """Does the turn end on a well-wish, with at most courtesy after it ("Semoga cepet sampai.
    Terima kasih udah sabar ya, Pak.")?"""
    for sentence in reversed(sentences):
        if _has_cue(sentence, wishes):
            return True
        if not is_courtesy(sentence, lang):
            return False
    return False


def _sentences(text: str) -> list[str]:
    pieces: list[str] = []
    for piece in (s.strip() for s in re.split(r"(?<=[.!?])(?<![ap]\.m\.)\s+|\n+", text)):
        if pieces and piece and _NUMBER_ABBREVIATION.search(pieces[-1]) and (piece[0].islower() or piece[0].isdigit()):
            pieces[-1] = f"{pieces[-1]} {piece}"  # "which no. did u give the bank" is one sentence
        elif piece:
            pieces.append(piece)
    return pieces


_NUMBER_ABBREVIATION = re.compile(r"(?<!\w)(?:[Nn]o|[Nn]r|[Tt]el|[Hh]p)\.$")


_ID_WORDS = set("yang dan tidak nggak sudah belum bisa saya kami ibu bapak akan untuk dengan ini itu ya apa kapan mohon maaf".split())
_EN_WORDS = set("the and not have has will you your we our is are to of can please sorry when what".split())


def _language(text: str) -> str | None:
    words = _WORD.findall(text.lower())
    id_n = sum(w in _ID_WORDS for w in words)
    en_n = sum(w in _EN_WORDS for w in words)
    if id_n >= 2 and id_n > 2 * en_n:
        return "id"
    if en_n >= 2 and en_n > 2 * id_n:
        return "en"
    return None


def _items(scenario: Scenario) -> list[tuple[str, list[str], list[str], bool]]:
    """(id, cue words, example questions, can be shown) for hidden facts, knowledge and, last, the
    customer's everyday knowledge (:func:`everyday_knowledge`)."""
    items = [(f.id, list(f.asked_by), list(f.questions), False) for f in scenario.hidden_facts]
    items += [(k.id, list(k.asked_by), list(k.questions), k.evidence) for k in scenario.knowledge]
    items += [(k.id, list(k.asked_by), list(k.questions), False) for k in everyday_knowledge(scenario)]
    return items


class Asked(NamedTuple):
    """What a trainee turn asks of the customer."""

    ids: list[str]  # fact and knowledge ids asked for, in the order of the turn's questions
    asks: bool  # the turn asks something
    evidence: bool  # it asks to see something
    open: tuple[str, ...] = ()  # its questions that ask for nothing the customer knows, in order
    open_first: bool = False  # the turn's first question is one of them
    says_back: frozenset[str] = frozenset()  # its questions that mean a sentence the customer said


NOTHING_ASKED = Asked([], False, False)


@lru_cache(maxsize=4)
def _question_split(joins: tuple[str, ...], openers: tuple[str, ...], comma_openers: tuple[str, ...]) -> re.Pattern:
    """Where a further question may open: a join word before an opener, or a comma before a join
    word or a verb-first opener."""
    join = "|".join(re.escape(j) for j in joins)
    opener, comma_opener = ("|".join(re.escape(o) for o in sorted(words, key=len, reverse=True))
                            for words in (openers, comma_openers))
    return re.compile(rf"\s*,?\s+(?=(?:{join})\s+(?:{opener})\b)|\s*,\s*(?=(?:{comma_opener}|{join})\b)", re.IGNORECASE)


#: A piece of a split question shorter than this many words stays with the one before ("kapan datang sama siapa?").
MIN_QUESTION_WORDS = 3


def _question_openers(cues: dict[str, list[str]]) -> tuple[str, ...]:
    """Words a question can open with: question words, verb-first openers and offers."""
    return (*cues["question_words"], *cues["question_openers"], *cues["offer_openers"])


def question_clauses(text: str, lang: str) -> list[str]:
    """The turn's questions one by one: each '?' sentence (or one the rules read as asking without
    it: "sama boleh minta no hp nya"), split where a further question opens ("When did it arrive,
    and how many got sick?"). Words before the first question that do not ask anything ("Sorry to
    hear that, when did it arrive?") stay with it."""
    cues = load_params().cues
    openers = _question_openers(cues)
    # After a join word any opener starts a question; after a bare comma only a verb-first one
    # does ("When you opened the account, which number did you give?" is one question).
    split = _question_split(tuple(cues["question_joins"]), openers, (*cues["question_openers"], *cues["offer_openers"]))
    clauses: list[str] = []
    unmarked = set(asking_without_mark(text, lang))
    for sentence in _sentences(text):
        if not sentence.rstrip().endswith("?") and sentence not in unmarked and not _asks_by_form(sentence, cues, lang):
            continue
        spelled = normalise(sentence, lang)  # cut where the spelled-out text opens a question
        cuts = [0, *(spelled.original(m.end(), m.end() + 1)[0] for m in split.finditer(spelled.text)
                     if m.end() < len(spelled.text))]
        spans: list[tuple[int, int]] = []
        for begin, end in zip(cuts, [*cuts[1:], len(sentence)]):
            before = _WORD.findall(_plain(sentence[spans[-1][0]:begin], lang)) if spans else []
            if spans and (len(_WORD.findall(sentence[begin:end].lower())) < MIN_QUESTION_WORDS
                          or (before and is_question_word(before[-1]))):  # "when and how you came"
                spans[-1] = (spans[-1][0], end)
            else:
                spans.append((begin, end))
        # A piece that does not ask on its own ("Sorry to hear that", ", and thanks for waiting")
        # goes with the question after it; the last piece owns the sentence's '?'.
        merged: list[tuple[int, int]] = []
        for i, (begin, end) in enumerate(spans):
            if merged and not merged[-1][2]:
                begin = merged.pop()[0]
            last = i == len(spans) - 1
            asks = (last and sentence.rstrip().endswith("?")) or _asks_on_its_own(sentence[begin:end], openers, cues, lang)
            merged.append((begin, end, asks))
        if len(merged) > 1 and not merged[-1][2]:
            begin, _end, _asks = merged[-2]
            merged[-2:] = [(begin, merged[-1][1], True)]
        clauses.extend(piece for b, e, _asks in merged for piece in _listed_questions(sentence[b:e].strip(" ,"), cues, lang))
    return clauses


#: A comma not inside a number ("Rp 1,5 juta").
_LIST_COMMA = re.compile(r"(?<!\d),|,(?!\d)")


def _listed_questions(clause: str, cues: dict[str, list[str]], lang: str) -> list[str]:
    """Questions listed after commas, each whole ("Could I have the name on the order, how many fell
    ill", "nomor resinya berapa, terakhir tercatat di mana"), one by one: a piece is cut off where it
    is a whole question (it opens verb-first or ends on its question word, and is no leave to ask
    or "can you tell me") and the rest asks on its own. "When you opened the account, which number
    did you give?" is one question."""
    openers = _question_openers(cues)
    pieces: list[str] = []
    start = 0
    for comma in _LIST_COMMA.finditer(clause):
        left, right = clause[start:comma.start()], clause[comma.end():]
        words = _WORD.findall(without_address(_plain(left, lang)))
        while words and words[0] in cues["question_joins"]:
            words = words[1:]
        whole = len(words) >= MIN_QUESTION_WORDS and (words[0] in cues["question_openers"] or words[-1] in cues["question_word_tails"]) \
            and not _is_preamble(left, cues, lang) and not _has_cue(" ".join(words[-2:]), cues["telling_verbs"])
        rest = _WORD.findall(without_address(_plain(right, lang)).rstrip(" ?!."))
        if whole and rest and (_asks_on_its_own(right, openers, cues, lang) or rest[-1] in cues["question_word_tails"]):
            pieces.append(left.strip(" ,"))
            start = comma.end()
    return [*pieces, clause[start:].strip(" ,")]


def _asks_by_form(sentence: str, cues: dict[str, list[str]], lang: str, imperative: bool = False) -> bool:
    """A sentence typed without its '?' that is a question by its form (see ``inverted_subjects``
    in dialogue.yaml): "also do you know how long PLN takes", "where is the meter", "Bpk punya
    email gak", "mulai gk bs konek dr jam brp". An exclamation is not. ``imperative``: the
    sentence may be an imperative, so "Have your ID card ready" does not ask
    (``imperative_openers`` in dialogue.yaml)."""
    if sentence.rstrip().endswith("!"):
        return False
    words = _WORD.findall(without_address(_plain(sentence, lang)))
    leads = [cue.split() for cue in (*cues["question_joins"], *cues["one_word"])]
    while lead := next((cue for cue in leads if words[: len(cue)] == cue), None):
        words = words[len(lead):]  # "also do you know", "ok did you get", "btw did you"
    if len(words) < MIN_QUESTION_WORDS:
        return False
    auxiliaries, subjects = set(cues["question_openers"]), set(cues["inverted_subjects"])
    inverted = words[0] in auxiliaries and words[1] in subjects and not (
        imperative and words[0] in cues["imperative_openers"] and words[1] in cues["determiner_subjects"])
    after_question_word = words[0] in cues["question_words"] and (
        words[1] in auxiliaries or any(a in auxiliaries and s in subjects for a, s in zip(words[1:3], words[2:4])))
    tails = set(cues["unmarked_tails"])
    # a doubled question word is an indefinite, no question ("tidak salah apa-apa", "siapa2")
    asked_last = words[-1] in cues["question_word_tails"] and words[-2] != words[-1] and not set(words) & set(cues["asks_of_us"])
    return inverted or after_question_word or asked_last or words[-1] in tails or " ".join(words[-2:]) in tails


#: Where a statement and a question share one sentence ("The tow I'll reimburse today - can I
#: copy the receipt?", "Ready Monday 10am, ok, and your number?").
_CLAUSE_BREAK = re.compile(r"\s*(?:(?<!\d)[,;:](?!\d)|\s[-\u2013\u2014]\s)\s*")


def statement_spans(sentence: str, lang: str) -> list[tuple[int, int]]:
    """In a '?' sentence, the clauses before its question that ask nothing on their own ("The tow
    I'll reimburse today" in "... - can I copy the receipt?"), as (start, end). None when the last
    clause asks nothing on its own ("So the tow is refunded, right?" is a check: all of it asks)."""
    cues = load_params().cues
    openers = _question_openers(cues)
    bounds = [0, *(x for m in _CLAUSE_BREAK.finditer(sentence) for x in (m.start(), m.end())), len(sentence)]
    clauses = [(a, b) for a, b in zip(bounds[::2], bounds[1::2]) if sentence[a:b].strip()]
    if len(clauses) < 2 or not _asks_on_its_own(sentence[slice(*clauses[-1])], openers, cues, lang):
        return []
    return [(a, b) for a, b in clauses[:-1] if not _asks_on_its_own(sentence[a:b], openers, cues, lang, wh_anywhere=False)]


def stated_parts(text: str, lang: str) -> list[str]:
    """What the turn states, not asks: every sentence without a '?', a '?' sentence that offers or
    leaves a choice ("shall I top it up for you?", "isi sendiri atau sy kirim link?": the offer,
    docs/labelling.md rule 19), and the statement clauses of any other '?' sentence
    (:func:`statement_spans`)."""
    out: list[str] = []
    for sentence in _sentences(text):
        if sentence.rstrip().endswith("?"):
            spans = statement_spans(sentence, lang)
            if not spans and _offered(sentence, lang):
                out.append(sentence)
            out.extend(sentence[a:b] for a, b in spans)
        else:
            out.append(sentence)
    return out


def _offered(question: str, lang: str) -> bool:
    """Whether a question offers something or leaves a choice, asking for nothing ("Would you like
    me to send an officer on Wednesday, 8-11?"): it does what it offers (labelling rule 19)."""
    asks_for, offer, _check, choice = _question_shape(question, load_params().cues, lang)
    return (offer or choice) and not asks_for


def is_question_word(cue: str) -> bool:
    """A cue that is only a question word ("kapan", "why") is in every question of its kind, so it
    asks for no fact in particular."""
    return cue.strip().lower() in load_params().cues["question_words"]


def _asks_on_its_own(piece: str, openers: tuple[str, ...], cues: dict[str, list[str]], lang: str,
                     wh_anywhere: bool = True) -> bool:
    """Does this piece of a '?' sentence ask something: it opens with a question opener, ends with
    a check or a yes/no tail (its last word: "Before I point you in the right direction" asks
    nothing), or (``wh_anywhere``) holds a question word anywhere. Without it, "I'll tell you
    where your parcel is before 5 p.m." is a statement."""
    low = without_address(_plain(piece, lang)).rstrip(" ?!.,")
    words = _WORD.findall(low)
    while words and words[0] in cues["question_joins"]:
        words = words[1:]  # "and is the bill with you", "trus ibu masih simpen ... gak"
    return len(words) >= MIN_QUESTION_WORDS and (
        any(" ".join(words[:4]).startswith(o) for o in openers)
        or (wh_anywhere and _has_cue(low, cues["question_words"]))
        or bool({words[-1], " ".join(words[-2:])} & set(cues["check_enders"] + cues["yes_no_tails"]))
    )


#: An example question the encoder finds near, with none of its item's cue words in the question,
#: asks for the item only this near: questions of the same form about other things ("Do you have
#: an email address?" beside "Do you have your ID card with you?") score 0.85-0.92.
EXAMPLE_ALONE_MIN = 0.92


def asked_items(
    text: str, analysis: TurnAnalysis, scenario: Scenario, matcher: Matcher, told: Collection[str] = ()
) -> Asked:
    """What the turn asks for, question by question (see :func:`question_clauses`). ``told``: items
    already told; a cue word alone does not ask for one again ("the officer's name when you came
    last month?" is no repeat of "last month someone mentioned a duplicate"): the question must
    also be mostly the item's own words, or mean one of its example questions. A question that
    says back what the customer said ("pas keran ditutup meterannya diem kan?") asks for nothing,
    whatever cue words it holds: it is a check, confirmed by the reply policy. Questions that ask
    for nothing the customer knows are returned as ``open``, for a reply of their own."""
    from simulator.customers.base import _mentions

    params = load_params()
    said = _sentences(_customer_said(scenario, list(told)))
    questions = [q for q in question_clauses(text, scenario.lang) if not _rhetorical(q, params.cues, scenario.lang)]
    if not analysis.has(Tag.question):
        # a clause the cues read as asking without a '?' is a question only if the analyser agrees
        # ("pls send our best to Bu Sumi" is a kind word, not a question to confirm or not know),
        # or its form asks ("what time did our driver drop the boxes off", "whats the number pls")
        questions = [q for q in questions
                     if q.rstrip().endswith("?") or _asks_by_form(q, params.cues, scenario.lang, imperative=True)]
    span = analysis.evidence.get(Tag.question)
    marked = any(q.rstrip().endswith("?") for q in questions)
    if span is not None and span.text.strip() and not marked and not any(
            span.text.lower() in q.lower() or q.lower() in span.text.lower() for q in questions):
        # a question without its '?' ("sama boleh minta no hp nya"); beside one with its '?' the
        # tag is that one's, whichever sentence the head liked best ("Ketemu Pak, tiket … ada di sistem.")
        questions.append(span.text.strip())
    # Only her statements can be said back: a question near one she asked ("Has a bill ever gone
    # up like this before?" beside "How does a bill go up six times?") asks something new.
    stated = [x for x in said if not x.rstrip().endswith("?")]
    restating = {q for q in questions if _says_back(q, stated, matcher, scenario.lang)}
    evidence_sentences = [x for x in _sentences(text) if _has_cue(_plain(x, scenario.lang), params.cues["evidence_request"])]
    items = _items(scenario)
    item_by_id = {item[0]: item for item in items}
    # An example written as a statement ("Let me check the status of your file.") is a check the
    # trainee announces: it is matched against the turn's statements.
    checks = [(item_id, q) for item_id, _c, qs, _e in items for q in qs if not q.rstrip().endswith("?")]
    checked: list[str] = []
    if checks:
        for sentence in [x for x in _sentences(text) if not x.rstrip().endswith("?")]:
            m = matcher(sentence, [q for _i, q in checks], scenario.lang, _groups([i for i, _q in checks]))
            if m is not None and checks[m.index][0] not in checked and checks[m.index][0] not in told:
                checked.append(checks[m.index][0])
    asking = [q for q in questions if q not in restating] + [x for x in evidence_sentences if x not in questions]
    if not asking and not checked:
        return Asked([], bool(restating), False, tuple(questions), bool(questions), frozenset(restating))
    examples = [(item_id, q) for item_id, _c, qs, _e in items for q in qs if q.rstrip().endswith("?")]
    everyday = {k.id for k in everyday_knowledge(scenario)}

    def asked_in(question: str) -> list[str]:
        low, plain = question.lower(), _plain(question, scenario.lang)
        # A told item is asked again by a request to repeat it ("could you read the number once
        # more?") or a question for information in its own words ("when did it arrive?"); a yes/no
        # question in them ("so it came at 8.30, right?") is a check.
        repeat = _has_cue(plain, params.cues["repeat"])
        asks_for = _has_cue(plain, params.cues["question_words"])
        hits = {item_id: hit for item_id, cues, _q, _e in items
                if (hit := [c.lower() for c in cues if not is_question_word(c) and (_mentions(low, c) or _mentions(plain, c))])}
        found = [item_id for item_id, _c, qs, _e in items if item_id in hits and (
            item_id not in told or repeat
            or (asks_for and _restates(question, " ".join([knowledge_answer(scenario, item_id) or "", *qs]))))]
        # A told item whose cue words hold another's is the one asked for again ("nomor HP yang baru
        # berapa?" is the new number told, not the story of the old "nomor"), whatever the matcher finds.
        held: dict[str, str] = {}  # item -> the told item whose cue words hold its own
        for again in [a for a in hits if asks_for and a in told and a not in found]:
            for i in hits:
                if _within(hits[i], hits[again]) and not _within(hits[again], hits[i]):
                    held.setdefault(i, again)
        found = list(dict.fromkeys(held.get(i, i) for i in found))
        meant = None
        if examples:
            m = matcher(question, [q for _i, q in examples], scenario.lang, _groups([i for i, _q in examples]))
            meant = examples[m.index][0] if m is not None else None
            # An item meant without its cue words is not added beside one the question's words
            # name: the encoder puts "nomor lamanya masih inget?" next to "nomor barunya berapa?".
            # Small talk its words name gives way to a scenario item the encoder finds, not to another
            # everyday one ("Ibu nggak apa-apa kan?" is no "Ibu ada di rumah hari Rabu?").
            second = meant not in hits and any(i not in small_talk_items() or meant in everyday for i in found)
            # a told item the matcher finds is asked again by a question for information ("what's
            # ur number?"), not by a yes/no question about it ("meterannya muter gak?")
            if meant and meant not in found and meant not in held and not second and (meant not in told or repeat or asks_for) and (
                    meant in hits or not m.semantic or m.score >= EXAMPLE_ALONE_MIN):
                found.append(meant)
        shape = _question_shape(question, params.cues, scenario.lang)
        if shape[1]:  # an offer ("are you okay with a technician on Thursday?") asks for no small talk
            found = [i for i in found if i not in small_talk_items()]
        if shape[3]:
            # a choice ("refunded in cash or taken off next month's bill?") asks for a preference,
            # which only the customer's everyday knowledge holds ("call or WhatsApp?")
            found = [i for i in found if i in everyday]
        found = [i for i in found if _speaks_of_kind_asked(plain, item_by_id[i], hits.get(i, []), scenario, params)]
        if not repeat:  # "nomor barunya berapa?" asks for the new number, not again for the told "nomor"
            fresh = [hits.get(i, []) for i in found if i not in told]
            found = [i for i in found if i not in told or not any(_within(hits.get(i, []), f) for f in fresh)]
        return _scenario_first(found, hits, everyday, meant)

    found = {q: asked_in(q) for q in asking}
    asked = list(dict.fromkeys([*(i for ids in found.values() for i in ids), *checked]))  # in the turn's order
    unanswered = tuple(q for q in questions if not found.get(q))
    return Asked(asked, True, bool(evidence_sentences), unanswered, bool(questions) and questions[0] in unanswered,
                 frozenset(restating))


@lru_cache(maxsize=4)
def _question_parts(joins: tuple[str, ...]) -> re.Pattern:
    """Where one question asks two things: a comma or a join word ("your connection number, and
    what tariff group are you on?")."""
    return re.compile(r"[,;]|\b(?:" + "|".join(re.escape(j) for j in joins) + r")\b")


def _speaks_of_kind_asked(plain_question: str, item: tuple[str, list[str], list[str], bool], hits: list[str],
                          scenario: Scenario, params: DialogueParams) -> bool:
    """Does the item (one of :func:`_items`) speak of a kind of thing the question asks for
    (``asked_kinds``: a name, a brand, a rule...)? True when the part of the question that holds
    the item's cue words (``hits``; all of it without them) names no kind. Whole words: "serius"
    names no "seri"."""
    from simulator.customers.base import _mentions

    def names(text: str, word: str) -> bool:
        return cue_pattern(word).search(text) is not None

    split = _question_parts(tuple(params.cues["question_joins"]))
    parts = [x for x in split.split(plain_question) if any(_mentions(x, c) for c in hits)] or [plain_question]
    kinds = params.asked_kinds
    said = _plain(" ".join([*item[1], *item[2], knowledge_answer(scenario, item[0]) or ""]), scenario.lang)
    for part in parts:
        named = [words for words in kinds.values() if any(names(part, w) for w in words)]
        if not named or any(names(said, w) for words in named for w in words):
            return True
    return False


def _scenario_first(found: list[str], hits: dict[str, list[str]], everyday: set[str], meant: str | None) -> list[str]:
    """Between the scenario's items and the customer's everyday ones that one question's cue words
    ask for: a scenario item whose cue words cover an everyday item's longest cue hit ("phone" and
    "number" in "which phone number is registered?") is the one meant, and the everyday item goes;
    one whose every cue hit is only part of it ("number" in "whats ur number?") gives way. When
    neither covers the other ("transfer" of the order's payment, "which account should the
    transfer go to"), the item whose example questions the question is nearest (``meant``) stays.
    Small talk gives way to a scenario item asked by its cue words (said again if told), and a
    scenario item the matcher finds without them gives way to small talk."""
    if any(i in small_talk_items() for i in found):
        # "Mas kerja di mana?" is the scenario's "Saya kerja di Rungkut…", told or not
        named = [i for i in hits if i not in everyday]
        if named:
            found = [i for i in found if i not in small_talk_items()] + [i for i in named if i not in found]
        else:  # small talk asked in its own words is no fact the matcher finds nearby
            found = [i for i in found if i in everyday]
    ours = [i for i in found if i not in everyday and hits.get(i)]
    theirs = [i for i in found if i in everyday and hits.get(i)]
    if not ours or not theirs:
        return found
    dropped: set[str] = set()
    for e in theirs:
        longest = max(hits[e], key=len)
        for i in ours:
            words = {w for c in hits[i] for w in _WORD.findall(c)}
            if set(_WORD.findall(longest)) <= words:
                dropped.add(e)
            elif _within(hits[i], hits[e]):
                dropped.add(i)
            elif meant == e:
                dropped.add(i)
            elif meant == i:
                dropped.add(e)
    return [i for i in found if i not in dropped]


def _within(inner: list[str], outer: list[str]) -> bool:
    """Is every cue hit of ``inner`` part of one of ``outer``'s ("nomor" of "nomor barunya")?"""
    return all(any(c in h for h in outer) for c in inner)


def _customer_said(scenario: Scenario, told: list[str]) -> str:
    """What the customer has said so far, as far as the scenario knows: the opening and the facts told."""
    return " ".join([scenario.opening, *filter(None, (knowledge_answer(scenario, i) for i in told))])


#: Up to this turn, a greeting or courtesy alone draws a plain "go on", not "you're not listening".
COURTESY_TURNS = 2

#: A checking question is confirmed when at least this share of its content words, and two of them
#: (or all), are the customer's own.
RESTATE_MIN_SHARE = 0.5


def _restates(text: str, customer_said: str) -> bool:
    """Does the turn's question repeat what the customer said ("so you've waited since the 3rd?")?"""
    asked = _tokens(" ".join(x for x in _sentences(text) if x.rstrip().endswith("?")) or text)
    shared = asked & _tokens(customer_said)
    # one shared word of two is a topic, not a restatement ("Ada yang lain di rumah?")
    return bool(asked) and (shared == asked or len(shared) >= 2) and len(shared) / len(asked) >= RESTATE_MIN_SHARE


#: A checking question in other words ("pas keran ditutup meterannya diem kan?") is confirmed when
#: the matcher finds it means a sentence the customer said, at least this near.
RESTATE_MIN_SIMILARITY = 0.9


def _says_back(question: str, customer_said: list[str], matcher: Matcher, lang: str) -> bool:
    """Does the question mean a sentence the customer said (at least :data:`RESTATE_MIN_SIMILARITY`)?
    One with a question word asks for something ("which dishes went off?"), whatever it is near."""
    cues = load_params().cues
    if _has_cue(_plain(question, lang), cues["question_words"]) or _between_alternatives(_plain(question, lang), cues):
        return False
    m = matcher(question, customer_said, lang, [0] * len(customer_said))
    if m is None or m.score < RESTATE_MIN_SIMILARITY:
        return False
    # The encoder puts sentences about the same things close whatever they say ("Sebelumnya pernah
    # nggak naik kayak gini juga?" beside "Tukang ledeng juga nggak pernah dipanggil": 0.905); a
    # check says back at least two of the sentence's content words.
    return len(_content_tokens(_plain(question, lang)) & _content_tokens(_plain(customer_said[m.index], lang))) >= 2


def _content_tokens(text: str) -> set[str]:
    return _tokens(" ".join(w for w in _WORD.findall(text) if w not in function_words()))


def _plain(text: str, lang: str) -> str:
    """Chat register spelled out ("sy ganti no hp bpk", "langkah2nya") for the needs' cue words."""
    return normalise(text, lang).text.lower()


def _groups(ids: list[str]) -> list[int]:
    """Candidates that are phrasings of the same item share a group (see ``best_match``)."""
    return [ids.index(i) for i in ids]


def _condition_parts(
    cond: NeedCondition,
    *,
    tags: set[str],
    slots: dict[str, str],
    told: set[str],
    low: str,
    stated: str,
    text: str,
    referral_ok: bool,
    time_ok: bool,
    matcher: Matcher,
    lang: str,
) -> list[str]:
    """The parts of a condition that do not hold (empty: the condition is met)."""
    missing: list[str] = []
    missing += [f"tag:{t}" for t in cond.tags if t not in tags]
    if cond.any_tags and not (set(cond.any_tags) & tags):
        missing.append("tags:" + "|".join(cond.any_tags))
    missing += [s.value for s in cond.slots if s.value not in slots]
    promised = re.search(r"\b(?:within|in the next|no later than|at the latest|dalam|paling lambat|maksimal|maks\.?) \S*\s?\d", low)
    if Slot.when in cond.slots and "time_estimate" not in tags and not (Slot.day in slots and Slot.hours in slots) and not promised:
        missing.append("tag:time_estimate")  # a restated wait ("ten weeks") is no commitment
    missing += [f"fact:{f}" for f in cond.facts if f not in told]
    if cond.cues and not _has_positive_cue(low, cond.cues):
        missing.append("cues")
    if cond.with_cues and not _has_positive_cue(low, cond.with_cues):
        missing.append("cues")
    cue_lists = [c for c in (cond.cues, cond.with_cues) if c]
    if cue_lists and "cues" not in missing and not any(_has_positive_cue(stated, c) for c in cue_lists):
        missing.append("stated")  # every cue sits in a question: asking does nothing
    if cond.referral and not referral_ok:
        missing.append("party")
    if cond.realistic and not time_ok and (Slot.when in cond.slots or "time_estimate" in cond.tags):
        missing.append("realistic")
    if cond.examples and not missing and not _means_an_example(text, cond.examples, cond.unlike, tags, matcher, lang):
        missing.append("examples")
    return missing


#: An inverted question this long that ends in "ok" or "right" (no comma before) asks how
#: something went ("did it go in ok?") rather than checks; "clear", "paham" always check.
SHORT_CHECK_WORDS = 4
_ADVERB_ENDERS = {"ok", "okay", "oke", "alright", "right"}


def _question_shape(question: str, cues: dict[str, list[str]], lang: str) -> tuple[bool, bool, bool, bool]:
    """(asks for information: has a question word or asks which of two, opens with an offer or asks the
    customer to do something, ends with a check, offers a choice). "Can I go through it with you?" is an offer,
    "Can you take a step back for me?" a request, "Sampai sini jelas?" a check, "Lebih enak
    ditelp atau di-WA?" a choice; none of them asks for information. "May I have your number?"
    is no offer (an asking verb after the opener). "Can you tell me the date?"
    asks for information (a telling verb after the request)."""
    q = _after_preamble(without_address(_plain(question, lang)).rstrip(" ?!."), cues)
    words = _WORD.findall(q)
    opening = _offer_opening(tuple(cues["question_joins"]), tuple(cues["offer_openers"])).search(q)
    verb = _WORD.findall(q[opening.end():])[:1] if opening else []
    offer = opening is not None and not (verb and verb[0] in cues["asking_verbs"])
    request = _offer_opening(tuple(cues["question_joins"]), tuple(cues["request_openers"])).search(q)
    tail = " ".join(words[-2:])
    # the telling verb is the request's own ("Kita cek skrg, boleh lanjut lewat DM?" asks to go on)
    offer = offer or (request is not None and not _has_cue(q[request.start():], cues["telling_verbs"])
                      and not _has_cue(tail, cues["yes_no_tails"]))
    choice = _has_cue(q, cues["alternatives"]) and (offer or _has_cue(q, cues["preference"]))
    enders = set(words[-3:]) & set(cues["check_enders"])
    check = bool(enders)
    if enders <= _ADVERB_ENDERS and len(words) > SHORT_CHECK_WORDS and words[0] in cues["question_openers"] \
            and words[1] in cues["inverted_subjects"] and "," not in " ".join(question.split()[-3:]):
        check = False  # "did your last top-up go in ok?" asks; "Is that clear so far?", "…, right?" check
    # "pagi atau siang?" asks which, as a question word does; a choice asks what the customer prefers
    return (_has_cue(q, cues["question_words"]) or (_between_alternatives(q, cues) and not choice), offer, check, choice)


@lru_cache(maxsize=4)
def _offer_opening(joins: tuple[str, ...], openers: tuple[str, ...]) -> re.Pattern:
    """An offer opening the question or one of its parts: "mind if we continue in DM?", "sorry 🙏
    mind if we…", "and may I have a look?"."""
    join = "|".join(re.escape(j) for j in joins)
    opener = "|".join(re.escape(o) for o in sorted(openers, key=len, reverse=True))
    return re.compile(rf"(?:^|[^\w\s']\s*|\b(?:{join})\s+)(?:{opener})\b")


def _asks_nothing(question: str, cues: dict[str, list[str]], lang: str) -> bool:
    """A request or a wish read as a question: no '?', no question word, and nothing asked of the
    trainee's side ("Please send our best wishes to Bu Sumi and your nephew")."""
    return not (question.rstrip().endswith("?") or _has_cue(question.lower(), cues["asks_of_us"])
                or _asks_by_form(question, cues, lang) or _question_shape(question, cues, lang)[0])


def _preamble(low: str, cues: dict[str, list[str]]) -> str | None:
    """The leave to ask ("can i ask", "boleh saya tanya") that opens ``low``, the longest one."""
    return next((p for p in sorted(cues["question_preambles"], key=len, reverse=True) if low.startswith(p)), None)


def _after_preamble(low: str, cues: dict[str, list[str]]) -> str:
    """What a question asks after its leave to ask ("boleh saya tanya, nomornya lama atau baru" ->
    "nomornya lama atau baru"): "may I ask" is no offer to agree to. The question itself when
    nothing follows."""
    preamble = _preamble(low, cues)
    rest = low[len(preamble):].lstrip(" ,:;-") if preamble else ""
    return rest or low


def _is_preamble(clause: str, cues: dict[str, list[str]], lang: str) -> bool:
    """A leave to ask ("Can I ask, ...") opening the clause."""
    return _preamble(without_address(_plain(clause, lang)), cues) is not None


def _open_replies(asked: Asked, customer_said: str, answered: str, answered_asks: list[str], matcher: Matcher,
                  cues: dict[str, list[str]], lang: str) -> list[Situation]:
    """The reply each question that asks for nothing the customer knows draws, once each, in order:
    a choice is left to the trainee, an offer agreed to, a check confirmed, anything else met with
    "I don't know", or "not yet" when it asks whether something has happened. Beside answers
    (``answered``, to questions like ``answered_asks``) a question for information marked with '?',
    or one whether the customer knows something ("Ibu kenal Pak Joko?"), draws "that one I don't
    know" (or "not yet"), unless the answers speak of it: "What's in it, and what's it worth?" is
    one question in two clauses, and "LCD screens, worth four million" answers both."""
    replies: list[Situation] = []
    for q in asked.open:
        if _has_cue(q.lower(), cues["closing_question"]):
            continue  # "anything else?" has its own reaction
        if _asks_nothing(q, cues, lang) or (_is_preamble(q, cues, lang) and len(asked.open) + len(asked.ids) > 1):
            continue
        asks_for, offer, check, choice = _question_shape(q, cues, lang)
        plain = _plain(q, lang)
        done_yet = not asks_for and _has_cue(plain, cues["done_yet"]) and not _has_cue(plain, cues["alternatives"])
        if _has_cue(q.lower(), cues["help_offer"]):
            reply = Situation.unheard
        elif choice:
            reply = Situation.either_way
        elif offer and not asks_for:
            reply = Situation.agree  # an offer restates nothing, whatever words it shares
        elif q in asked.says_back or (not asks_for and _restates(q, customer_said)):
            if answered and _answers_cover(q, answered, answered_asks, matcher, lang):
                continue  # "Modemnya udh dibalikin jg ya?" answered with the modem: no "Iya, itu dia" after it
            reply = Situation.confirmed
        elif check and not asks_for:
            reply = Situation.agree
        elif answered:
            # Only a question for information, marked with '?': a clause without one beside real
            # questions is seldom one ("tp sy bantu sampe Ibu tau hrs ke mana"), and a yes/no
            # question may be an offer in words the cues miss ("pindah ke DM aja?").
            known = _has_cue(plain, cues["asks_if_known"])
            if not ((asks_for or done_yet or known) and q.rstrip().endswith("?")) or _answers_cover(q, answered, answered_asks, matcher, lang):
                continue
            reply = Situation.not_yet if done_yet else Situation.other_unknown
        else:
            reply = Situation.not_yet if done_yet else Situation.answer_unknown
        if reply not in replies:
            replies.append(reply)
    return replies


def _answers_cover(question: str, answered: str, answered_asks: list[str], matcher: Matcher, lang: str) -> bool:
    """Do the turn's answers speak of ``question``: half its content words are in them, or it means
    one of the questions they answer (at least :data:`EXAMPLE_ALONE_MIN` near)?"""
    words = _content_tokens(_plain(question, lang))
    if not words or len(words & _content_tokens(_plain(answered, lang))) / len(words) >= RESTATE_MIN_SHARE:
        return True
    if not answered_asks:
        return False
    # as near as an example meant without its cue words: a question on the same topic is near
    # too ("berat paketnya berapa kilo?" beside "no resinya brp?")
    m = matcher(question, answered_asks, lang, [0] * len(answered_asks))
    return m is not None and (not m.semantic or m.score >= EXAMPLE_ALONE_MIN)


def _negated(text: str, lang: str) -> bool:
    return _NEGATORS.search(_plain(text, lang)) is not None


#: A statement meets a need by the encoder's similarity to one of its examples only this near:
#: statements about the same things in other words score 0.85-0.89 ("the registered number is
#: the old one" beside "First, open the app. Then type in your account number": 0.87), the
#: paraphrases the examples stand for 0.9 and more.
NEED_EXAMPLE_MIN = 0.9


def _means_an_example(
    text: str, examples: list[str], unlike: list[str], tags: set[str], matcher: Matcher, lang: str
) -> bool:
    """Whether a statement of the turn means one of ``examples`` rather than one of its near misses
    ``unlike``. A question promises nothing (an offer put as one does: :func:`stated_parts`); a
    defensive or hostile turn's paraphrase is no commitment; and the polarity must agree, because
    the encoder puts "we can't stop the collector" next to "I'll stop the collector"."""
    if tags & {"defensive", "hostile"}:
        return False
    candidates = [*examples, *unlike]
    groups = [0] * len(examples) + [1] * len(unlike)
    for sentence in stated_parts(text, lang):
        m = matcher(sentence, candidates, lang, groups)
        if (m is not None and m.index < len(examples) and (not m.semantic or m.score >= NEED_EXAMPLE_MIN)
                and _negated(sentence, lang) == _negated(examples[m.index], lang)):
            return True
    return False


def update(
    state: DialogueState,
    text: str,
    analysis: TurnAnalysis,
    scenario: Scenario,
    mood: object | None = None,
    matcher: Matcher | None = None,
    asked: Asked | None = None,
) -> DialogueState:
    """The dialogue state after one trainee turn. ``mood``: the mood model's state after the same
    turn (its anger, threat and outcome feed patience and endings); ``matcher``: see :class:`Matcher`."""
    matcher = matcher or default_matcher()
    params = load_params()
    cues = params.cues
    s = state.model_copy(deep=True)
    s.turn += 1
    s.reply, s.reveal, s.echo, s.ask_next, s.also, s.also_first = None, [], {}, None, [], False
    low = text.lower()
    has = analysis.has
    tags = {t.value for t in analysis.tags}
    customer_said = _customer_said(scenario, s.told)  # before this turn's answers
    blamed = blamed_span(text, analysis, scenario.lang)
    unblamed = _blank(text, *blamed) if blamed else text  # what the turn says outside its blame
    slots = extract_slots(unblamed, scenario, customer_said)
    did = TurnActs(slots=slots, said=_plain(text, scenario.lang))

    # Questions and evidence.
    questions = asked or asked_items(text, analysis, scenario, matcher, s.told)
    if closing_only(text, analysis):
        questions = NOTHING_ASKED  # "anything else I can help with?" asks for no fact
    asked, asks, evidence = questions.ids, questions.asks, questions.evidence
    did.asked = [i for i in asked if i not in s.told]
    did.asked_again = [i for i in asked if i in s.told]
    did.evidence_request = evidence and bool(did.asked)
    # A greeting or courtesy on the first turns ("Selamat siang Pak, ada yang bisa saya bantu?")
    # is neither an unknown question nor an empty turn.
    did.courtesy = s.turn <= COURTESY_TURNS and not tags - {"question"} and not asked and is_courtesy(text, scenario.lang)
    did.unknown_question = asks and not asked and not did.courtesy and not (
        questions.open and all(_asks_nothing(q, cues, scenario.lang) for q in questions.open))
    if did.unknown_question or asked:
        # Every question gets an answer: one asking for nothing the customer knows gets a short
        # reply of its kind (see _open_replies), beside the answers to the others.
        answered = " ".join(knowledge_answer(scenario, i) or "" for i in asked)
        answered_asks = [q for item_id, _c, qs, _e in _items(scenario) if item_id in asked for q in qs]
        # the customer knows their own name: "You're Pak Hendra?" is a check to confirm
        own = f"{customer_said} {customer_name(scenario)}"
        did.other_questions = _open_replies(questions, own, answered, answered_asks, matcher, cues, scenario.lang)
        did.other_first = questions.open_first
    if did.unknown_question:
        did.restates = Situation.confirmed in did.other_questions
        did.offer_or_check = did.other_questions == [Situation.agree]
    s.told.extend(did.asked)

    did.apology = has(Tag.apology) and not analysis.stuffing
    did.empathy = has(Tag.empathy) and not analysis.stuffing
    did.acknowledge = has(Tag.acknowledge) and not analysis.stuffing
    did.defensive = has(Tag.defensive)
    did.hostile = has(Tag.hostile)
    provoking = [w.lower() for w in scenario.persona.provoked_by]
    did.provoked = bool(provoking) and any(_has_cue(_unquoted(t), provoking) for t in (low, _plain(text, scenario.lang)))
    did.admission = analysis.admits_fault and not did.defensive
    deferred = put_off_spans(_unquoted(text), scenario.lang)
    did.remedy = has(Tag.compensation) and _remedy_offered(text, analysis.evidence.get(Tag.compensation), deferred)
    did.closing_question = _has_cue(low, cues["closing_question"])
    did.farewell = _has_cue(low, cues["farewell"]) or (not s.required_met and is_closing(text, scenario.lang))
    guard_words = cues["security"] + (
        scenario.handling.referral.accept_cues if scenario.handling.referral.target is ReferralTarget.security else []
    )  # the scenario's guard by name ("panggil Pak Yusuf") is security too
    did.security = _has_cue(low, guard_words) and (
        analysis.referral_target == "security" or _has_cue(low, cues["summon"])
    )
    words = _WORD.findall(low)
    did.one_word = len(words) <= 2 and not tags and (not words or _has_cue(low, cues["one_word"]) or len(words) == 1)
    other = _language(text)
    did.other_language = other is not None and other != scenario.lang

    # A turn that is no reply (injection, nonsense) or keyword stuffing earns nothing: no need, no
    # referral, no commitment. The scorer flags the same turns (simulator/turn_flags.py).
    void = analysis.stuffing or bool(turn_flags(text, analysis.tags, scenario.lang, scenario))
    if void:
        did.apology = did.empathy = did.acknowledge = did.admission = did.remedy = did.security = False
        tags = set()
        slots = {}
        did.slots = {}

    # Referral.
    target = scenario.handling.referral.target
    named = [c for c in scenario.handling.referral.accept_cues if len(c) > 1 and _has_cue(low, [c])]
    names_party = (
        not void
        and target in (ReferralTarget.other, ReferralTarget.legal)
        and analysis.referral_matches is not False
        and len(named) >= 2  # one generic word ("Samsat") does not say which office
        and (Slot.place in slots or Slot.phone in slots)
    )
    if names_party and not has(Tag.referral):
        # the right party with where or how to reach it is a referral, even in words the analysis missed
        did.referral = "correct"
        if s.referral_turn is None:
            s.referral_turn = s.turn
    if not void and (has(Tag.referral) or (did.security and target is ReferralTarget.security)):
        correct = target is not ReferralTarget.none and (
            analysis.referral_matches is True or (did.security and target is ReferralTarget.security)
        )
        did.referral = "correct" if correct else "wrong"
        if correct and s.referral_turn is None:
            s.referral_turn = s.turn
    if s.referral_turn is not None:
        s.referral_text = (s.referral_text + " " + text).strip()[-3000:]
    if did.security and s.security_turn is None:
        s.security_turn = s.turn

    # Needs: the best so far counts; met needs stay met.
    # The nearest concrete promise counts: "by 5 p.m. today, and a claim within 14 days if lost".
    frames = [d for d in (analysis.time_days, slot_days(slots)) if d is not None]
    if Slot.day in slots and Slot.hours in slots and _SLOT_RX["relday"].search(slots[Slot.day].lower()):
        frames.append(1.0)
    realistic = not frames or min(frames) <= scenario.handling.max_days
    needs = {n.id: n for n in effective_needs(scenario)}

    @lru_cache(maxsize=None)
    def plain(scope_text: str, stated_only: bool) -> str:
        """The scope's text (or its statements only), normalised for the needs' cue words."""
        if stated_only:
            scope_text = " ".join(stated_parts(scope_text, scenario.lang))
        return _plain(scope_text, scenario.lang)

    for ns in s.needs:
        spec = needs.get(ns.id)
        if spec is None or ns.met_turn is not None or void:
            continue
        referral_kind = spec.kind in ("referral", "safety") and s.referral_turn is not None
        scope_text = s.referral_text if referral_kind else unblamed
        need_tags = tags | ({"referral"} if referral_kind else set())
        if spec.kind == "remedy":  # a remedy put off ("we'll discuss the refund later") meets nothing
            scope_text = reduce(lambda t, span: _blank(t, *span), deferred, scope_text)
            need_tags = need_tags if did.remedy else need_tags - {Tag.compensation.value}
        scope_slots = extract_slots(scope_text, scenario) if referral_kind else slots
        # A question does nothing ("is the number new or old?" updates no number): a condition's
        # cues may sit in a question ("the tow? we'll reimburse it") but one must be stated, except
        # for the cause (naming it in a question finds it) and referrals.
        stated_only = spec.kind not in ("cause", "referral", "safety")
        closest: list[str] | None = None
        for cond in spec.met_by:
            missing = _condition_parts(
                cond,
                tags=need_tags,
                slots=scope_slots,
                told=set(s.told),
                low=plain(scope_text, False),
                stated=plain(scope_text, stated_only),
                text=scope_text,
                referral_ok=s.referral_turn is not None,
                time_ok=realistic,
                matcher=matcher,
                lang=scenario.lang,
            )
            if not missing:
                ns.met_turn = s.turn
                ns.evidence = text[:200]
                did.needs_met.append(ns.id)
                closest = None
                break
            if closest is None or len(missing) < len(closest):
                closest = missing
        if ns.met_turn is None and spec.kind == "referral" and did.referral == "correct" and closest:
            did.referral_missing = closest

    if did.referral == "wrong" and (did.needs_met or is_handoff(analysis, scenario) or sends_nowhere(analysis)):
        did.referral = None  # a self-service channel as part of a fix, or no place at all, is no brush-off
    # Times: a concrete commitment restated back; a vague one pushed on.
    time_needs = [n for n in s.needs if needs.get(n.id) and needs[n.id].kind == "next_step"]
    time_met_now = any(n.id in did.needs_met for n in time_needs)
    if time_met_now:
        did.commitment = slots.get(Slot.when) or slots.get(Slot.day) or slots.get(Slot.duration)
    elif Slot.when in slots and "time_estimate" in tags and realistic and not any(n.met_turn for n in time_needs):
        # concrete but not what the need asks (e.g. a day without hours): push for the rest
        did.vague_time = bool(time_needs)
    # a day without a time is as vague as "soon" when it is all the turn offers ("sorted by
    # tonight"), not beside a step taken ("hari ini juga saya hentikan penagihannya")
    day_only = Slot.day in slots and Slot.when not in slots and tags == {"time_estimate"} and not did.needs_met
    vague = not void and (_has_cue(_unquoted(low), cues["vague_time"]) or day_only) and not time_met_now
    if vague and not time_met_now and not did.commitment:
        did.vague_time = did.vague_time or not all(n.met_turn for n in time_needs) or not time_needs
    if time_met_now or ("time_estimate" in tags and realistic and Slot.when in slots and not did.vague_time):
        s.time_given = True
        s.promised = did.commitment or slots.get(Slot.when)
    if did.remedy:
        s.remedy_offered = True
    if Slot.number in slots:
        s.number_given = True
    if did.apology and not (did.defensive or did.hostile):
        s.apologies += 1  # "sorry, but it was left out too long" is no apology to the customer
    if did.admission:
        s.fault_admitted = True

    # A put-off: a wait ("someone will contact you", "mohon ditunggu kabarnya") and nothing that
    # moves a need (no question, no concrete time, remedy, referral or admission) while one is open.
    moved = did.needs_met or did.asked or did.asked_again or did.unknown_question or did.commitment or did.remedy \
        or did.admission or did.referral == "correct" or did.security or Slot.when in slots
    did.put_off = not (void or moved or s.required_met) and (vague or is_put_off(_unquoted(text), scenario.lang))
    # "sy blm bisa janji apa2 sekarang" is near "Saya cek sekarang ya" and checks nothing
    did.checking = not void and bool(did.asked or did.asked_again or did.unknown_question or any(
        acts_now(sentence, scenario.lang) for sentence in _sentences(_unquoted(text)) if not _negated(sentence, scenario.lang)))

    # On topic: the turn talks about the customer's problem or what they told (an explanation,
    # a restatement), even when no tag or need fits.
    topic = _tokens(" ".join([*scenario.problem_cues, *(knowledge_answer(scenario, i) or "" for i in s.told)]))
    did.on_topic = len(_tokens(text) & topic) >= 2 or _has_cue(low, [c for c in scenario.problem_cues if len(c) > 3])
    substance = bool(
        (did.on_topic and not did.defensive and not did.hostile) or
        did.asked or did.needs_met or did.admission or did.commitment or did.remedy
        or (did.acknowledge and s.turn <= 2) or (did.apology and s.apologies == 1)
        or (did.empathy and not did.defensive) or did.referral == "correct" or did.unknown_question
        or did.asked_again or did.courtesy or did.checking
    )
    did.empty = not substance and not (did.defensive or did.hostile) and not did.put_off
    # Talking about the problem without meeting a need, asking, owning or committing: not empty,
    # not progress either (a denial the analysis missed, or an explanation that does not land).
    did.on_topic_only = did.on_topic and not did.empty and not did.put_off and not (
        did.asked or did.needs_met or did.admission or did.commitment or did.remedy or did.apology or did.empathy
        or did.acknowledge or did.referral or did.unknown_question or did.asked_again or did.checking
    )

    # Patience, for every temperament. Only progress wins some back: kind words alone do not undo
    # a bad turn ("We're here for you" after "network performance can vary").
    progress = not did.put_off and bool(
        did.needs_met or did.asked or did.admission or did.commitment or did.remedy or did.referral == "correct"
        or (did.apology and s.apologies == 1)
    )
    worded = [t for t in (x.lower() for x in _sentences(text)) if _WORD.search(t)]  # a closing "🙏" is no sentence
    did.sign_off = not progress and _ends_on_well_wish(worded, scenario.lang, params.cues["sign_off"])
    cost = params.patience.cost
    spent = 0.0
    if did.defensive or did.provoked:
        spent += cost["defensive"]
    if did.hostile:
        spent += cost["hostile"]
    if did.referral == "wrong":
        spent += cost["wrong_referral"]
    if did.security and target is not ReferralTarget.security:
        spent += cost["defensive"]  # calling the guard on a customer who did not threaten anyone
    if did.empty:
        spent += cost["one_word"] if did.one_word else cost["empty"]
    if did.on_topic_only:
        spent += cost["on_topic_only"]
    if did.put_off:
        spent += cost["put_off"]
    if did.closing_question and not s.required_met:
        spent += cost["closing_question"]
    if did.apology and s.apologies > 2 and not substance:
        spent += cost["repeated_apology"]
    if (s.turn > 2 and substance and not s.required_met
            and not (progress or did.checking or did.unknown_question or did.on_topic_only or did.put_off)):
        spent += cost["kind_words_only"]  # warm words again while nothing moves (a step taken now moves it)
    did.cost_patience = spent > 0
    if getattr(mood, "anger", 0.0) >= 9.5 and not did.needs_met:
        spent += cost["furious"]  # a furious customer has less patience left for anything short of progress
    if getattr(getattr(mood, "outcome", None), "value", None) == "escalated" or getattr(mood, "threat", 0) >= 10:
        # the mood model's threat is at its peak: pressure on patience, not a one-shot ending
        s.threats_made += 1
        if not substance:
            spent += cost["defensive"]
    start = params.patience.start[scenario.persona.temperament]
    if spent:
        s.patience = max(0.0, s.patience - min(spent, params.patience.max_per_turn))
    elif progress:
        s.patience = min(start, s.patience + params.patience.regain)

    # At the end of the mood scale after bad turns: ``fed_up_turns`` of them in a row end it. The
    # first ones draw angry replies, so a trainee who starts badly can still turn it round.
    at_limit = getattr(mood, "anger", 0.0) >= 9.5 and getattr(mood, "trust", 10.0) <= 0.5
    s.fed_up_turns = s.fed_up_turns + 1 if at_limit and did.cost_patience else 0

    s.did = did
    m_threat = getattr(mood, "threat", None)
    if m_threat is not None:
        s.threat = float(m_threat)
    s.outcome = _outcome(s, scenario, mood, params)
    _plan_reply(s, scenario, mood)
    return s


def _outcome(s: DialogueState, scenario: Scenario, mood: object | None, params: DialogueParams) -> str | None:
    threatened = s.threats_made > 0 or s.threat >= params.threat_escalates_at or scenario.threatening
    if s.patience <= 0 or s.fed_up_turns >= params.patience.fed_up_turns:
        return "escalated" if threatened else "walked_away"
    anger = getattr(mood, "anger", 0.0)
    if s.needs and s.required_met and anger <= params.resolve_anger_max:
        kinds = {n.kind for n in s.needs if n.required}
        if "referral" in kinds:
            return "referred"
        return "resolved"
    worn_out = s.patience <= params.patience.start[scenario.persona.temperament] / 2
    # Sent off with what they came for still open ("hope it's sorted soon", "anything else?"): they leave, or escalate.
    if s.did.farewell or ((s.did.sign_off or s.did.closing_question) and worn_out):
        return "escalated" if threatened else "walked_away"
    if s.turn >= scenario.max_turns:
        return "turn_limit"
    return None


_CLOSING = {
    "resolved": Situation.resolved,
    "referred": Situation.accept_referral,
    "walked_away": Situation.walked_away,
    "escalated": Situation.escalated,
    "turn_limit": Situation.turn_limit,
}


def _plan_reply(s: DialogueState, scenario: Scenario, mood: object | None) -> None:
    """Choose what the customer answers (``s.reply``), what they tell (``s.reveal``) and echo."""
    d = s.did
    # Beside something new, a fact asked again is simply said again (alone, after some impatience).
    s.reveal = [*d.asked, *d.asked_again] if d.asked else []

    def spoken(words: str) -> str:  # said back in the customer's words: "sblm jam 12" -> "sebelum jam 12"
        return normalise(words, scenario.lang).text

    if d.commitment:
        s.echo["when"] = spoken(d.commitment)
    elif d.vague_time:
        when = d.slots.get(Slot.when) or d.slots.get(Slot.day)
        if when:
            s.echo["when"] = spoken(when)
    for key in ("day", "hours", "amount", "place", "number"):
        if key in d.slots:
            s.echo[key if key != "hours" else "time"] = spoken(d.slots[key]) if key in ("day", "hours") else d.slots[key]
    if d.referral_missing:
        s.echo["missing"] = _missing_words(d.referral_missing, scenario)
    if s.outcome is not None:
        if s.promised:
            s.echo.setdefault("when", s.promised)  # a closing line restates the time in the trainee's words
        s.reply = _CLOSING[s.outcome]
        # A satisfied customer still answers a choice, a check or an offer ("Either is fine." before
        # "All right, I accept that."); "I don't know" would not fit a goodbye, nor agreeing on the way out.
        if s.outcome in (Outcome.resolved, Outcome.referred):
            s.also = [r for r in d.other_questions if r in _ANSWERED_ON_THE_WAY_OUT]
        return
    mood_situation = getattr(mood, "situation", None)
    threat_rose = scenario.threatening and mood_situation is Situation.threat
    if d.security and s.security_turn == s.turn:
        s.reply = Situation.security_called if scenario.handling.referral.target is ReferralTarget.security else Situation.angrier
    elif d.asked:
        if d.defensive or d.hostile or d.provoked:
            s.reply = Situation.angrier
        elif d.evidence_request:
            s.reply = Situation.show_evidence
        elif d.commitment:
            s.reply = Situation.accept_commitment  # said after the answers: "…, Thursday before 3, right."
        else:
            s.reply = None  # the answers are the reply
    elif d.defensive or d.hostile or d.provoked:
        s.reply = Situation.angrier
    elif d.referral == "wrong":
        s.reply = Situation.wrong_referral
    elif d.referral_missing:
        s.reply = Situation.referral_missing
    elif d.admission and s.fault_admitted and not d.commitment:
        s.reply = Situation.admission
    elif d.commitment:
        s.reply = Situation.accept_commitment
    elif d.vague_time:
        s.reply = Situation.push_time
    elif d.put_off:  # "your complaint has been noted": and then what? ("When exactly?" would assume a time was said)
        s.reply = Situation.not_convinced
    elif d.asked_again:
        s.reply = Situation.fact_already_given
        s.reveal = list(d.asked_again)  # said again, after the impatience
    elif d.closing_question:
        s.reply = Situation.closing_question
    elif d.needs_met or d.remedy or d.referral == "correct":
        s.reply = Situation.progress
    elif d.courtesy:
        s.reply = Situation.welcomed
    elif d.unknown_question:
        # The first question's own reply: a check ("so you've waited since the 3rd?") is
        # confirmed, an offer agreed to, a choice left to the trainee; the rest go in ``also``.
        s.reply = d.other_questions[0] if d.other_questions else Situation.answer_unknown
    elif threat_rose and not (d.empathy or d.acknowledge):
        s.reply = Situation.threat
    elif d.apology and s.apologies == 1:
        s.reply = Situation.apology_accepted
    elif d.apology and s.apologies > 2:
        s.reply = Situation.empty_apology
    elif (d.empathy or d.acknowledge or d.apology or d.checking) and not (d.cost_patience and not d.on_topic):
        # Kind words about nothing in particular that cost patience get no "Now that's more like it."
        s.reply = Situation.calmer  # a step taken now ("Calling the hub now") too: "Hm. Fine. Check it, quickly."
    elif d.on_topic_only:
        s.reply = Situation.not_convinced
    elif d.one_word:
        s.reply = Situation.one_word
    elif d.other_language:
        s.reply = Situation.other_language
    else:
        s.reply = Situation.unheard
    if s.reply is Situation.threat:
        s.threats_made += 1
    if s.reply in _ANSWERS_OTHER_QUESTIONS:
        s.also = [r for r in d.other_questions if r is not s.reply]
        s.also_first = d.other_first and s.reply in (None, Situation.show_evidence, Situation.fact_already_given)
    # After a reaction that helps, the customer says what is still open.
    if s.reply in (Situation.calmer, Situation.progress, Situation.admission, Situation.accept_commitment,
                   Situation.apology_accepted, Situation.confirmed, Situation.welcomed):
        s.ask_next = _next_open(s, scenario)


#: Questions for nothing known that still get their short answer on an ending turn.
_ANSWERED_ON_THE_WAY_OUT = (Situation.either_way, Situation.confirmed, Situation.agree, Situation.not_yet)
#: Replies beside which the turn's other questions get their own short answer (not an angry one).
_ANSWERS_OTHER_QUESTIONS = {
    None, Situation.show_evidence, Situation.fact_already_given, Situation.confirmed, Situation.agree,
    Situation.either_way, Situation.answer_unknown, Situation.not_yet, Situation.calmer, Situation.progress,
    Situation.admission, Situation.accept_commitment, Situation.apology_accepted,
}


def _next_open(s: DialogueState, scenario: Scenario) -> str | None:
    """The open required need the customer asks about next (remedy and time first; causes are the
    trainee's to find)."""
    order = {"next_step": 0, "remedy": 1, "number": 2}
    open_ = [n for n in s.open_needs if n.required and n.kind in order]
    if not open_ or s.turn < 2:
        return None
    if any(n.kind == "cause" and n.required for n in s.open_needs):
        return None  # the cause is not found yet: a remedy or a date would be premature
    return min(open_, key=lambda n: order[n.kind]).id


def _missing_words(parts: list[str], scenario: Scenario) -> str:
    words = load_params().missing.get(scenario.lang, {})
    names = []
    for part in parts:
        key = part if part in words else ("party" if part == "party" else None)
        if key and words.get(key) and words[key] not in names:
            names.append(words[key])
    if not names:
        names = [words.get("place", "")]
    joiner = " dan " if scenario.lang == "id" else " and "
    return joiner.join(n for n in names if n)


# --- what a line may assume -------------------------------------------------------------------
def conditions_hold(state: DialogueState | None, conditions: list[LineCondition]) -> bool:
    if not conditions:
        return True
    if state is None:
        return False
    d = state.did
    facts = {
        LineCondition.apologised: state.apologies > 0,
        LineCondition.not_apologised: state.apologies == 0,
        LineCondition.time_given: state.time_given,
        LineCondition.no_time_given: not state.time_given,
        LineCondition.remedy_offered: state.remedy_offered,
        LineCondition.no_remedy: not state.remedy_offered,
        LineCondition.first_turn: state.turn <= 1,
        LineCondition.later_turn: state.turn > 1,
        LineCondition.fault_admitted: state.fault_admitted,
        LineCondition.threat_made: state.threats_made > 0 or state.threat >= load_params().threat_escalates_at,
        LineCondition.defensive_turn: d.defensive,
        LineCondition.referral_made: state.referral_turn is not None or d.referral is not None,
        LineCondition.security_called: state.security_turn is not None,
        LineCondition.number_given: state.number_given,
        LineCondition.long_turn: len(_WORD.findall(d.said)) >= load_params().long_turn_words,
        LineCondition.ongoing: state.outcome is None,
        LineCondition.no_day_named: Slot.day not in d.slots and Slot.when not in d.slots,
        LineCondition.acknowledged: d.acknowledge,
        LineCondition.checking: d.checking,
    }
    return all(facts[c] for c in conditions)


# --- authoring checks (self-play, the studio) -------------------------------------------------
# Conditions a line of a situation can never meet (the situation implies the opposite).
_NEVER = {
    Situation.apology_accepted: {LineCondition.not_apologised},
    Situation.empty_apology: {LineCondition.not_apologised, LineCondition.first_turn},
    Situation.accept_commitment: {LineCondition.no_time_given},
    Situation.fact_already_given: {LineCondition.first_turn},
    Situation.security_called: set(),
}
_CONTRADICTIONS = [
    {LineCondition.apologised, LineCondition.not_apologised},
    {LineCondition.time_given, LineCondition.no_time_given},
    {LineCondition.remedy_offered, LineCondition.no_remedy},
    {LineCondition.first_turn, LineCondition.later_turn},
]


_NEED_REASONS = {
    NeedReason.no_referral: "it needs a referral and the scenario has none",
    NeedReason.unknown_facts: "it needs facts nobody can tell ({facts})",
    NeedReason.no_duration: "it needs a duration and handling.max_days is 0",
}


def _never_met(need: Need, scenario: Scenario, known: set[str]) -> ScenarioWarning | None:
    """A warning when no condition of ``need`` can ever hold (each one's reason, once)."""
    h = scenario.handling
    reasons: dict[NeedReason, None] = {}
    facts: list[str] = []
    for cond in need.met_by:
        if cond.referral and h.referral.target is ReferralTarget.none:
            reasons[NeedReason.no_referral] = None
        elif set(cond.facts) - known:
            reasons[NeedReason.unknown_facts] = None
            facts += [f for f in sorted(set(cond.facts) - known) if f not in facts]
        elif cond.realistic and h.max_days == 0 and Slot.duration in cond.slots:
            reasons[NeedReason.no_duration] = None
        else:
            return None
    if not reasons:
        return None
    facts_text = ", ".join(facts)
    why = "; ".join(_NEED_REASONS[r].format(facts=facts_text) for r in reasons)
    return ScenarioWarning(
        WarningCode.need_never_met,
        f"need '{need.id}' can never be met: {why}",
        {"need": need.id, "reasons": [r.value for r in reasons], "facts": facts},
    )


def lint(scenario: Scenario) -> list[ScenarioWarning]:
    """Authoring warnings: needs that can never be met, knowledge nobody can ask for by example,
    line conditions that can never hold."""
    warnings = []
    h = scenario.handling
    known = {f.id for f in scenario.hidden_facts} | {k.id for k in scenario.knowledge}
    for need in effective_needs(scenario):
        problem = _never_met(need, scenario, known)
        if problem is not None:
            warnings.append(problem)
    for item in scenario.knowledge:
        if not item.questions:
            warnings.append(ScenarioWarning(
                WarningCode.knowledge_no_question,
                f"knowledge '{item.id}' has no example question: only its cue words can ask for it",
                {"knowledge": item.id},
            ))  # fmt: skip
    for situation, lines in scenario.lines.items():
        for i, line in enumerate(lines):
            conds = set(line_conditions(line))
            where = f"lines.{situation.value}.{i}"
            for pair in _CONTRADICTIONS:
                if pair <= conds:
                    names = sorted(c.value for c in pair)
                    warnings.append(ScenarioWarning(
                        WarningCode.line_conditions_clash,
                        f"{where}: the conditions {' and '.join(names)} can never hold together",
                        {"field": where, "conditions": names},
                    ))  # fmt: skip
            never = sorted(c.value for c in conds & _NEVER.get(situation, set()))
            if never:
                warnings.append(ScenarioWarning(
                    WarningCode.line_never_holds,
                    f"{where}: '{', '.join(never)}' can never hold when the customer says a '{situation.value}' line",
                    {"field": where, "conditions": never, "situation": situation.value},
                ))  # fmt: skip
            if LineCondition.referral_made in conds and h.referral.target is ReferralTarget.none and situation is Situation.accept_referral:
                warnings.append(ScenarioWarning(
                    WarningCode.line_no_referral,
                    f"{where}: the scenario has no referral, so this line is never said",
                    {"field": where},
                ))  # fmt: skip
            if LineCondition.security_called in conds and h.referral.target is not ReferralTarget.security:
                warnings.append(ScenarioWarning(
                    WarningCode.line_security_only,
                    f"{where}: 'security_called' only holds in a scenario whose referral target is security",
                    {"field": where},
                ))  # fmt: skip
    return warnings


# --- picking a line ---------------------------------------------------------------------------
_SLOT_IN_LINE = re.compile(r"\{(\w+)\}")


def fill(text: str, values: dict[str, str]) -> str | None:
    """``text`` with its {slots} filled, or None when a slot has no value."""
    names = _SLOT_IN_LINE.findall(text)
    if any(not values.get(n) for n in names):
        return None
    def value(m: re.Match) -> str:
        v = values[m.group(1)]
        starts_sentence = not text[: m.start()].strip() or text[: m.start()].rstrip()[-1] in ".!?"
        if v.endswith(".") and text[m.end():m.end() + 1] == ".":
            v = v[:-1]  # "3 p.m." before the line's own full stop
        return v[0].upper() + v[1:] if starts_sentence else v

    return _SLOT_IN_LINE.sub(value, text)


def voiced(text: str, scenario: Scenario, turn: int) -> str:
    """A shared line in the persona's voice: their words for the bank's neutral ones, and now and
    then one of their particles."""
    voice = scenario.persona.voice
    for plain, own in voice.words.items():
        def repl(m: re.Match, own: str = own) -> str:
            word = m.group(0)
            return own[0].upper() + own[1:] if word[0].isupper() and own else own

        text = re.sub(r"(?<!\w)" + re.escape(plain) + r"(?!\w)", repl, text, flags=re.IGNORECASE)
    if voice.particles and turn % 2 == 1:
        particle = voice.particles[turn // 2 % len(voice.particles)]
        m = re.search(r"([.!?…]+)\s*$", text)
        if m and particle.lower() not in text.lower():
            text = f"{text[: m.start()]}, {particle}{m.group(1)}"
    return text


def choose_line(
    scenario: Scenario,
    situation: Situation,
    state: DialogueState | None,
    said: set[str],
    pick: Callable[[list[str]], str],
    values: dict[str, str] | None = None,
) -> str | None:
    """A fresh line for ``situation`` whose conditions hold and whose slots can be filled:
    the scenario's own lines first, then the shared bank's in the persona's voice, and in each a
    line quoting the trainee's words (`mentions`) first. None: none fits. A walk-out or a time-out
    line must say the customer is leaving: lines that do come first."""
    values = {**(state.echo if state else {}), **(values or {})}
    if scenario.persona.voice.address:
        values.setdefault("you", scenario.persona.voice.address)
    own: list[str] = []
    shared: list[str] = []
    quoting: set[str] = set()  # lines whose `mentions` the turn said
    turn = state.turn if state else 0
    for line, is_own in candidate_lines(scenario, situation):
        if not conditions_hold(state, line_conditions(line)):
            continue
        mentions = line_mentions(line)
        if mentions and not (state is not None and _has_cue(state.did.said, list(mentions))):
            continue  # it quotes words this turn did not say
        text = fill(line_text(line), values)
        if text is None:
            continue
        if not is_own:
            text = voiced(text, scenario, turn)
        if any(text in earlier for earlier in said):
            continue
        (own if is_own else shared).append(text)
        if mentions:
            quoting.add(text)
    if situation in (Situation.walked_away, Situation.turn_limit):
        leaving = load_params().cues["leaving"]
        own = [t for t in own if _has_cue(t.lower(), leaving)] or ([] if any(_has_cue(t.lower(), leaving) for t in shared) else own)
        shared = [t for t in shared if _has_cue(t.lower(), leaving)] or shared
    # a line that answers the trainee's own words ("Are you threatening me back?" to "I'll call the
    # police") is the most fitting of its bank
    own = [t for t in own if t in quoting] or own
    shared = [t for t in shared if t in quoting] or shared
    if own:
        return pick(own)
    if shared:
        return pick(shared)
    return None


def need_asks(scenario: Scenario, need_id: str) -> list[str]:
    need = next((n for n in effective_needs(scenario) if n.id == need_id), None)
    return list(need.ask) if need else []


def knowledge_answer(scenario: Scenario, item_id: str) -> str | None:
    for f in scenario.hidden_facts:
        if f.id == item_id:
            return f.reveal.strip()
    for k in [*scenario.knowledge, *everyday_knowledge(scenario)]:
        if k.id == item_id:
            return k.answer.strip()
    return None


def customer_name(scenario: Scenario) -> str:
    """The persona's name without its titles ("Mrs Endang Sulastri" -> "Endang Sulastri")."""
    titles = {t.rstrip(".") for t in load_everyday().titles}
    words = scenario.persona.name.split()
    while len(words) > 1 and words[0].lower().rstrip(".") in titles:
        words = words[1:]
    return " ".join(words)


def _made_up_digits(scenario: Scenario) -> str:
    """Digits for the customer's made-up numbers, the same for a scenario every time."""
    return str(int(hashlib.sha256(scenario.id.encode()).hexdigest(), 16))


def contact_number(scenario: Scenario) -> str:
    """A made-up mobile number for the customer."""
    digits = _made_up_digits(scenario)
    return f"081{int(digits[0]) % 9 + 1}-{digits[1:5]}-{digits[5:9]}"


def bank_account(scenario: Scenario) -> str:
    """A made-up bank account number for the customer (for a refund)."""
    digits = _made_up_digits(scenario)
    return f"{digits[9:12]}-{digits[12:15]}-{digits[15:19]}"


@lru_cache(maxsize=1)
def small_talk_items() -> frozenset[str]:
    """Everyday items that are small talk (``small_talk: true`` in ``everyday.yaml``)."""
    return frozenset(item.id for item in load_everyday().items if item.small_talk)


def everyday_knowledge(scenario: Scenario) -> list[Knowledge]:
    """What the customer knows about their own life (``everyday.yaml``), in their language and
    voice; an item the scenario has under the same id is the scenario's."""
    own = {f.id for f in scenario.hidden_facts} | {k.id for k in scenario.knowledge}
    values = {"name": customer_name(scenario), "phone": contact_number(scenario), "account": bank_account(scenario)}
    return [
        Knowledge(id=item.id, answer=voiced(fill(item.answer[scenario.lang], values) or "", scenario, 0),
                  questions=item.questions, asked_by=item.asked_by)
        for item in load_everyday().items if item.id not in own
    ]
