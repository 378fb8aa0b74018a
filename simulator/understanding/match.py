"""Semantic matching: "which of these candidate texts does this turn mean?", across languages.

Used by the customer engine to tell which fact or piece of knowledge a question asks for, and
whether a referral names the right place. With the encoder, the score is the cosine similarity of
the two (normalised) texts plus a small bonus for shared content words; without it, the share of
the candidate's content words found in the turn. A match needs a score over the threshold and,
semantically, a clear lead over the runner-up and over every background sentence
(``background.yaml``: greetings, courtesy, empathy, empty promises), because e5 similarities sit close together
and "Mohon maaf sudah menunggu" is otherwise 0.88 from "Saya ganti nomor HP Bapak".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from pydantic import RootModel

from simulator.datafile import load_yaml

from simulator.understanding.encoder import get_encoder
from simulator.understanding.normalise import normalise

SEMANTIC_THRESHOLD = 0.85
SEMANTIC_MARGIN = 0.015
LEXICAL_WEIGHT = 0.1
LEXICAL_THRESHOLD = 0.5
_WORD = re.compile(r"[^\W_]+")
# Words too common to say what a text is about, in either language.
_STOP = frozenset(
    "a an the and or but if to of in on at for with from by is are was were be been am do does did have has had "
    "i you he she we they it my your our their me us him her them this that these those what which who when where "
    "why how can could will would should please sir madam mrs mr ms yes no not "
    "saya aku kami kita anda ibu bu bapak pak kak kakak mas mbak dia mereka ini itu yang dan atau tapi di ke dari "
    "untuk dengan pada sudah belum akan bisa boleh apa apakah berapa kapan mana bagaimana kenapa ya nggih tidak "
    "nggak ada adalah juga saja lagi mohon tolong".split()
)


BACKGROUND_FILE = Path(__file__).resolve().parent / "background.yaml"


@lru_cache(maxsize=None)
def background(kind: str | None = None) -> tuple[str, ...]:
    """Sentences that mean nothing a scenario asks for, in both languages (see the module doc):
    all of them, or one kind (one of :data:`BACKGROUND_KINDS`)."""
    data = load_yaml(BACKGROUND_FILE, RootModel[dict[str, dict[str, list[str]]]]).root
    return tuple(line for kinds in data.values() for k, lines in kinds.items() if kind in (None, k) for line in lines)


#: A sentence at least this near (semantic score) to a background sentence is a courtesy.
COURTESY_THRESHOLD = 0.9
#: A sentence nearest an empty promise, at least this near and this far ahead of every other kind
#: of background sentence, puts the customer off ("Mohon ditunggu kabarnya"); one nearest a
#: closing ends the conversation. e5 similarities sit close together, hence the lead.
PUT_OFF_NEAR = (0.9, 0.01)
CLOSING_NEAR = (0.92, 0.02)
BACKGROUND_KINDS = ("courtesy", "empty_promises", "actions_now", "closings")


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+|\n+", text) if _WORD.search(s)]


def is_courtesy(text: str, lang: str | None = None) -> bool:
    """Whether every sentence of ``text`` is a greeting, courtesy or filler ("Good morning, please
    have a seat."): near a background sentence, semantically or, without the encoder, by words."""
    sentences = _sentences(text)
    if not sentences:
        return False
    for sentence in sentences:
        scores, semantic = similarities(sentence, list(background("courtesy")), lang)
        if float(scores.max()) < (COURTESY_THRESHOLD if semantic else LEXICAL_THRESHOLD):
            return False
    return True


def _nearest_kind(sentence: str, lang: str | None, near: tuple[float, float]) -> str | None:
    """The background kind whose sentence is nearest ``sentence``, if at least ``near[0]`` near and
    ``near[1]`` ahead of every other kind (semantically; by shared words without the encoder)."""
    kinds = [(kind, line) for kind in BACKGROUND_KINDS for line in background(kind)]
    scores, semantic = similarities(sentence, [line for _, line in kinds], lang)
    best = int(np.argmax(scores))
    top = float(scores[best])
    if not semantic:
        return kinds[best][0] if top >= LEXICAL_THRESHOLD else None
    runner_up = max((float(x) for x, (kind, _) in zip(scores, kinds) if kind != kinds[best][0]), default=-1.0)
    return kinds[best][0] if top >= near[0] and top - runner_up >= near[1] else None


def is_put_off(text: str, lang: str | None = None, near: tuple[float, float] = PUT_OFF_NEAR) -> bool:
    """Whether a sentence of ``text`` hands the customer a wait and nothing else ("Someone will
    contact you, please be patient"): its nearest background sentence is an empty promise, not
    an action taken now ("Let me check that right now"), a courtesy or a closing, at least
    ``near`` (similarity, lead over the other kinds)."""
    return any(_nearest_kind(s, lang, near) == "empty_promises" for s in _sentences(text))


def acts_now(text: str, lang: str | None = None) -> bool:
    """Whether a sentence of ``text`` takes a step while the customer waits ("Saya cek sekarang
    ya", "let me pull up your account"): its nearest background sentence is an action taken now."""
    return any(_nearest_kind(s, lang, PUT_OFF_NEAR) == "actions_now" for s in _sentences(text))


def is_closing(text: str, lang: str | None = None) -> bool:
    """Whether ``text`` ends on a line that closes the conversation ("Terima kasih atas
    kepercayaannya", "Thanks for your feedback, we'll use it to improve")."""
    sentences = _sentences(text)
    return bool(sentences) and _nearest_kind(sentences[-1], lang, CLOSING_NEAR) == "closings"


@dataclass(frozen=True)
class Match:
    index: int
    score: float
    explanation: str
    semantic: bool = False  # the encoder's similarity, not shared words


def _content(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 1}


def _lexical(text: str, candidates: list[str]) -> np.ndarray:
    words = _content(text)
    out = []
    for c in candidates:
        want = _content(c)
        out.append(len(words & want) / len(want) if want else 0.0)
    return np.asarray(out, dtype=np.float32)


# Forms of address say nothing about what is asked, but in a short question e5 leans on them:
# "Sekarang ke pabrik naik apa, Mas?" is otherwise nearest "Tanda terimanya dibawa, Mas?".
_ADDRESS = re.compile(
    r"(?<!\w)(?:sir|madam|ma'am|maam|mr|mrs|ms|miss|bro|sis|boss|pak|bapak|bu|ibu|mas|mbak|kak|kakak|bang|abang|"
    r"dik|om|tante|teh|aa|akang|neng|bos|min|gan)(?!\w)\.?",
    re.IGNORECASE,
)


# A greeting that opens a turn says nothing either, but its time of day leads e5: "Pagi Mas, udah
# sarapan?" is otherwise nearest "Besok pagi ada orang di rumah?".
_OPENING_GREETING = re.compile(
    r"^\s*(?:(?:selamat|good)\s+)?(?:pagi|siang|sore|malam|morning|afternoon|evening)\b[\s,.!]*", re.IGNORECASE)


def without_address(text: str) -> str:
    """``text`` without its forms of address ("Sampai sini jelas, Bu?" -> "Sampai sini jelas?");
    the text itself when nothing else is left."""
    stripped = re.sub(r"[\s,]+([,.?!])", r"\1", re.sub(r"\s{2,}", " ", _ADDRESS.sub("", text))).strip(" ,")
    return stripped if _WORD.search(stripped) else text


def _without_greeting(text: str) -> str:
    """A turn without its opening greeting ("udah sarapan?"); itself when nothing else is left (a
    greeting alone is still a greeting, near the background's)."""
    stripped = _OPENING_GREETING.sub("", text)
    return stripped if _WORD.search(stripped) else text


def _plain(text: str, lang: str | None) -> str:
    return without_address(normalise(text, lang).text if lang in ("id", "en") else text)


def similarities(text: str, candidates: list[str], lang: str | None = None) -> tuple[np.ndarray, bool]:
    """Per candidate, the match score; and whether it is semantic (encoder) or lexical only."""
    plain = _without_greeting(_plain(text, lang))
    cands = [_plain(c, lang) for c in candidates]
    lexical = _lexical(plain, cands)
    enc = get_encoder()
    if enc is None or not candidates:
        return lexical, False
    vectors = enc.embed([plain] + cands)
    return vectors[1:] @ vectors[0] + LEXICAL_WEIGHT * lexical, True


def best_match(
    text: str, candidates: list[str], lang: str | None = None, groups: list[int] | None = None
) -> Match | None:
    """The candidate ``text`` means, or None when none is clearly meant. ``groups`` says which
    candidates are phrasings of the same thing (the lead is measured over other groups only)."""
    if not text.strip() or not candidates:
        return None
    groups = groups if groups is not None else list(range(len(candidates)))
    everything, semantic = similarities(text, candidates + list(background()), lang)
    scores, background_scores = everything[: len(candidates)], everything[len(candidates) :]
    best = int(np.argmax(scores))
    top = float(scores[best])
    others = [float(s) for s, g in zip(scores, groups) if g != groups[best]]
    if semantic:
        others += [float(s) for s in background_scores]
    second = max(others, default=-1.0)
    how = "semantic" if semantic else "shared words"
    if semantic:
        ok = top >= SEMANTIC_THRESHOLD and top - second >= SEMANTIC_MARGIN
        why = f"{how}: {top:.3f} (threshold {SEMANTIC_THRESHOLD}, lead {top - second:.3f} over the next)"
    else:
        ok = top >= LEXICAL_THRESHOLD
        why = f"{how}: {top:.2f} of the candidate's words (threshold {LEXICAL_THRESHOLD})"
    return Match(best, top, why, semantic) if ok else None
