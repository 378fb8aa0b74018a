"""Flags on a trainee turn that is not a reply to the customer: prompt injection, nonsense and
keyword stuffing.

Pure and offline. ``injection:<cue>`` comes from the cue lists in ``lexicons/injection.yaml``
(the same ones the LLM customer and judge use). ``nonsense`` marks a turn that is no reply:
keyboard mashing, random letters, bare markup or code, or — when the analyser found nothing in
it — a string of words with none of the function words that hold a sentence together
(``lexicons/function_words.yaml``). ``stuffing`` marks courtesy cue words (apology, empathy) run
together with commitment, remedy or referral cue words in telegraphic text, with hardly any
function words: a list of keywords, not a sentence to this customer; so are feeling words stacked
in fragments (``lexicons/feeling_words.yaml``) and any tagged turn of words strung together with
no punctuation and hardly a function word. A turn with one sentence
that reads as a sentence is not a keyword list, however many names, hours and document numbers
the rest of it lists (an office's address is telegraphic too). A flagged turn is shown to
reviewers on the turn, never earns points (``simulator/scoring.py``) and meets none of the
customer's needs (``simulator/dialogue.py``).

Word-likeness needs no dictionary: a character-trigram model trained on the project's own
Indonesian and English text (scenarios, shared customer lines, lexicons) scores each token;
tokens the model finds improbable, tokens with no vowel or long consonant runs, and tokens made
of one syllable repeated ("wkwkwk", "lalala") are not words. A turn is nonsense when fewer than
half of its tokens are word-like, or none are.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

from simulator.analysis_types import Tag
from pydantic import RootModel

from simulator.datafile import load_yaml
from simulator.scenario import Scenario
from simulator.llm import injection_cues
from simulator.understanding.normalise import normalise

ROOT = Path(__file__).resolve().parent.parent
SOURCES = (ROOT / "scenarios", Path(__file__).resolve().parent / "lexicons")

_MARKUP = re.compile(r"</?\s*[a-zA-Z][^<>]{0,200}>")
_CODE = re.compile(r"[(){};=<>\[\]$\\|`]")
_TOKEN = re.compile(r"[^\W\d_]+", re.UNICODE)
_VOWELS = set("aeiouy")
#: Mean log-probability per character transition below which a token is not word-like.
WORDLIKE_MIN_LOGP = -3.2
#: A token of this many characters or fewer is judged by its vowels alone (too short for trigrams).
SHORT_TOKEN = 3
ALPHABET = 28  # letters plus the two word boundaries
FUNCTION_WORDS_FILE = Path(__file__).resolve().parent / "lexicons" / "function_words.yaml"
#: A tagless turn of at least this many words with no function word (and no question) is nonsense.
UNCONNECTED_MIN_WORDS = 3
#: Stuffing: function words make up less than this share of a turn of at least STUFFING_MIN_WORDS.
STUFFING_MAX_FUNCTION_SHARE = 0.22
STUFFING_MIN_WORDS = 10
#: A sentence of at least this many words with a normal function-word share makes a turn prose.
STUFFING_SENTENCE_MIN_WORDS = 5
#: A keyword list: at least this many words, no punctuation between them, hardly a function word.
KEYWORD_LIST_MIN_WORDS = 8
#: A punctuated keyword list: at least this many items, nearly all of at most ITEM_MAX_WORDS words,
#: and hardly any naming something specific (a number, a name): "Top up, package, data ran out,
#: recharge, right away, today, reference number, priority, we care."
ITEM_LIST_MIN_ITEMS = 6
ITEM_MAX_WORDS = 3
ITEM_LIST_MIN_SHORT_SHARE = 0.8
ITEM_LIST_MAX_SPECIFIC_SHARE = 0.2
#: Stacked feeling words: at least STACKED_MIN_FEELINGS of them, and after the first clause at least
#: STACKED_MIN_WORDS words with at most this share of function words. One "maaf" among terse
#: fragments ("Glodok tgl 3, LCD+baterai 4,2 jt. Maaf, kelamaan.") is a terse agent, not stuffing.
STACKED_MIN_FEELINGS = 2
STACKED_MIN_WORDS = 6
STACKED_MAX_FUNCTION_SHARE = 0.1
FEELING_WORDS_FILE = Path(__file__).resolve().parent / "lexicons" / "feeling_words.yaml"
# Punctuation that separates the items of a list: not inside a number (15.00, 4,2, 10:30, 512,400),
# not a hyphen inside a word (re-check, kartu-kartu), not brackets around digits ("(0271) 123").
_INNER_PUNCTUATION = re.compile(r"(?<!\d)[,.:]|[,.:](?!\d)|[;?!>+/–]|(?<!\w)-|-(?!\w)|\((?![\d\s]+\))|(?<!\d)\)")
# The first clause of a turn ends at a comma, full stop, semicolon or colon that is not inside a number.
_CLAUSE_END = re.compile(r"(?<!\d)[,.;:]|[,.;:](?!\d)")
_COURTESY = {Tag.apology, Tag.empathy}
_ACTION = {Tag.time_estimate, Tag.compensation, Tag.referral}


@lru_cache(maxsize=1)
def function_words() -> frozenset[str]:
    data = load_yaml(FUNCTION_WORDS_FILE, RootModel[dict[str, list[str]]]).root
    return frozenset(w.casefold() for words in data.values() for w in words)


def _words(text: str) -> list[str]:
    return [w.casefold() for w in _TOKEN.findall(_MARKUP.sub(" ", text or ""))]


@lru_cache(maxsize=1)
def _feeling_words() -> re.Pattern:
    data = load_yaml(FEELING_WORDS_FILE, RootModel[dict[str, list[str]]]).root
    words = sorted({w.casefold() for ws in data.values() for w in ws}, key=len, reverse=True)
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b")


def function_share(text: str) -> float:
    words = _words(text)
    fw = function_words()
    return sum(1 for w in words if w in fw) / len(words) if words else 0.0


@lru_cache(maxsize=1)
def _model() -> tuple[Counter[str], Counter[str], frozenset[str]]:
    """Trigram and bigram log-probabilities and the vocabulary, from the project's own text."""
    text = []
    for folder in SOURCES:
        for path in sorted(folder.rglob("*.yaml")):
            if path.name == "injection.yaml":
                continue
            text.append(path.read_text(encoding="utf-8"))
    words = [w.casefold() for w in _TOKEN.findall("\n".join(text)) if len(w) > 1]
    tri: Counter[str] = Counter()
    bi: Counter[str] = Counter()
    for w in words:
        padded = f"^{w}$"
        for i in range(len(padded) - 2):
            tri[padded[i : i + 3]] += 1
            bi[padded[i : i + 2]] += 1
    return tri, bi, frozenset(words)


def _logp(token: str) -> float:
    """Mean log-probability of each character given the two before it (add-one smoothing)."""
    tri, bi, _ = _model()
    padded = f"^{token}$"
    steps = [padded[i : i + 3] for i in range(len(padded) - 2)]
    return sum(math.log((tri[s] + 1) / (bi[s[:2]] + ALPHABET)) for s in steps) / max(len(steps), 1)


def wordlike(token: str) -> bool:
    """Does ``token`` (letters only) look like an Indonesian or English word?"""
    word = token.casefold()
    if word in _model()[2]:
        return True
    if not _VOWELS & set(word) or re.search(r"[^aeiouy]{5,}", word) or re.search(r"(.{1,3})\1{2,}", word):
        return False
    if len(word) <= SHORT_TOKEN:
        return True
    return _logp(word) >= WORDLIKE_MIN_LOGP


def _asks(text: str) -> bool:
    """A question of at least two word-like words ("Connection number?"), however terse."""
    for part in re.findall(r"[^?.!]*\?", text):
        words = _TOKEN.findall(part)
        if len(words) >= 2 and all(wordlike(t) for t in words):
            return True
    return False


def is_nonsense(
    text: str, tags: set[Tag] | None = None, lang: str | None = None, scenario: Scenario | None = None
) -> bool:
    """No meaningful words: mashing, random letters, bare markup or code; or words with no function
    word to connect them (the chat register spelled out in ``lang`` first: "sdh" is "sudah") when
    the analyser found no tag but perhaps `defensive` (``tags`` given), or, whatever the tags, when
    none of them is a word of the ``scenario`` (``Scenario.case_text``). "lol banana
    tuesday" earns a time from "tuesday" and "purple engine spoon ???" a question from its marks;
    a terse agent's "Connection number? Usual monthly usage?" speaks of the case."""
    stripped = _MARKUP.sub(" ", text or "")
    tokens = []
    for chunk in stripped.split():
        if _CODE.search(chunk):
            continue  # code, not words
        tokens.extend(_TOKEN.findall(chunk))
    if not tokens:
        return True
    good = sum(1 for t in tokens if wordlike(t))
    # `defensive` is what a sentence says (blame, denial, procedure); on words with no sentence
    # to hold them it is the head's guess on noise, and no reason to read the turn as a reply.
    untagged = tags is not None and not (tags - {Tag.defensive})
    if good == 0 or good / len(tokens) < 0.5 or (untagged and good / len(tokens) <= 0.5):
        return True
    if len(tokens) < UNCONNECTED_MIN_WORDS or any(t in function_words() for t in _words(_spelled_out(stripped, lang))):
        return False
    if untagged and not _asks(stripped):
        return True
    return scenario is not None and not any(t.lower()[:6] in _case_words(scenario.case_text())
                                            for t in tokens if len(t) > 2)


@lru_cache(maxsize=64)
def _case_words(context: str) -> frozenset[str]:
    """The context's words of three letters or more, cut to six ("tagihannya" and "tagihan" meet)."""
    return frozenset(w[:6] for w in _TOKEN.findall(context.lower()) if len(w) > 2)


def _spelled_out(text: str, lang: str | None) -> str:
    """Chat register spelled out ("krn udh sy" -> "karena sudah saya"), so that its function words count."""
    return normalise(text, lang).text if lang in ("id", "en") else text


def is_keyword_list(text: str, lang: str | None = None) -> bool:
    """Words strung together with hardly a function word between them: with no punctuation ("PLN 123
    PLN Mobile pengaduan ULP rujuk wewenang bukan PDAM listrik padam"), or as a list of short items
    that name nothing specific (see ITEM_LIST_*), whatever function words its items hold ("we value
    you, full refund, security, tomorrow for sure"). Terse agents punctuate their lists and fill
    them with specifics ("PLN 123, or the PLN Mobile app > Pengaduan"); a keyword dump does neither."""
    inner = text.strip().rstrip(".!?")
    if len(_words(text)) < KEYWORD_LIST_MIN_WORDS:
        return False
    if _INNER_PUNCTUATION.search(inner):
        return _unspecific_items(inner)
    return function_share(_spelled_out(text, lang)) < STUFFING_MAX_FUNCTION_SHARE


def _unspecific_items(text: str) -> bool:
    items = [i.strip() for i in _INNER_PUNCTUATION.split(text) if i and _words(i)]
    if len(items) < ITEM_LIST_MIN_ITEMS:
        return False
    short = sum(len(_words(i)) <= ITEM_MAX_WORDS for i in items)
    # a digit, or a capital past the turn's first letter (a name: "PLN", "Selaras")
    specific = sum(bool(re.search(r"\d", i)) or any(w[0].isupper() for w in i.split()[k == 0:]) for k, i in enumerate(items))
    return short / len(items) >= ITEM_LIST_MIN_SHORT_SHARE and specific / len(items) <= ITEM_LIST_MAX_SPECIFIC_SHARE


def stacked_feelings(text: str, lang: str | None = None) -> bool:
    """Feeling words stacked in fragments with hardly a function word after the first clause ("We
    apologise, sorry, understand frustration, refund, tomorrow, 3 days"): see the STACKED_* constants."""
    spelled = _spelled_out(text, lang).lower()
    parts = _CLAUSE_END.split(spelled, maxsplit=1)
    rest = re.findall(r"[^\W_]+", parts[1] if len(parts) > 1 else spelled)  # numbers count as words here
    fw = function_words()
    if len(rest) < STACKED_MIN_WORDS or sum(w in fw for w in rest) / len(rest) > STACKED_MAX_FUNCTION_SHARE:
        return False
    return len(_feeling_words().findall(spelled)) >= STACKED_MIN_FEELINGS


def is_stuffing(text: str, tags: set[Tag], lang: str | None = None) -> bool:
    """Courtesy and action cue words run together in telegraphic text, stacked feeling words, or
    any tagged keyword list (see the module doc, :func:`stacked_feelings` and
    :func:`is_keyword_list`). ``lang``: the chat register is spelled out first (a "sy rujuk ke
    Bagian Hukum" turn is no keyword list)."""
    if is_keyword_list(text, lang) or stacked_feelings(text, lang):
        return True
    text = _spelled_out(text, lang)
    if not (tags & _COURTESY and tags & _ACTION) or Tag.question in tags or not _feeling_words().search(text.lower()):
        return False  # the courtesy must be in words: a terse line the analyser reads as apologetic is no stuffing
    if len(_words(text)) < STUFFING_MIN_WORDS or function_share(text) >= STUFFING_MAX_FUNCTION_SHARE:
        return False
    sentences = re.split(r"(?<=[.!?])\s+", text.strip())
    return not any(
        len(_words(s)) >= STUFFING_SENTENCE_MIN_WORDS and function_share(s) >= STUFFING_MAX_FUNCTION_SHARE
        for s in sentences
    )


def flags(
    text: str, tags: set[Tag] | list[Tag] | None = None, lang: str | None = None, scenario: Scenario | None = None
) -> list[str]:
    """``injection:<cue>`` for each injection cue the turn matches, ``nonsense``, and — given the
    analyser's ``tags`` — ``stuffing`` (``lang``: the session's language, for its chat register;
    ``scenario``: the case, whose words a turn of unconnected words must share, see :func:`is_nonsense`)."""
    tag_set = set(tags) if tags is not None else None
    out = [f"injection:{cue}" for cue in injection_cues(text)]
    if is_nonsense(text, tag_set, lang, scenario):
        out.append("nonsense")
    elif tag_set is not None and is_stuffing(text, tag_set, lang):
        out.append("stuffing")
    return out
