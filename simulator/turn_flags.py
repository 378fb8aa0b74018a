"""Flags on a trainee turn that is not a reply to the customer: prompt injection and nonsense.

Pure and offline. ``injection:<cue>`` comes from the cue lists in ``lexicons/injection.yaml``
(the same ones the LLM customer and judge use); ``nonsense`` marks a turn with no word-like
text in it: keyboard mashing, random letters, bare markup or code. A flagged turn is shown to
reviewers on the turn and never earns points (``simulator/scoring.py``).

Word-likeness needs no dictionary: a character-trigram model trained on the project's own
Indonesian and English text (scenarios, shared customer lines, lexicons) scores each token;
tokens the model finds improbable, and tokens with no vowel or long consonant runs, are not
words. A turn is nonsense when fewer than half of its tokens are word-like, or none are.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path

from simulator.llm import injection_cues

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
    if not _VOWELS & set(word) or re.search(r"[^aeiouy]{5,}", word) or re.search(r"(.)\1\1", word):
        return False
    if len(word) <= SHORT_TOKEN:
        return True
    return _logp(word) >= WORDLIKE_MIN_LOGP


def is_nonsense(text: str) -> bool:
    """No meaningful words: mashing, random letters, bare markup or code."""
    stripped = _MARKUP.sub(" ", text or "")
    tokens = []
    for chunk in stripped.split():
        if _CODE.search(chunk):
            continue  # code, not words
        tokens.extend(_TOKEN.findall(chunk))
    if not tokens:
        return True
    good = sum(1 for t in tokens if wordlike(t))
    return good == 0 or good / len(tokens) < 0.5


def flags(text: str) -> list[str]:
    """``injection:<cue>`` for each injection cue the turn matches, and ``nonsense``."""
    out = [f"injection:{cue}" for cue in injection_cues(text)]
    if is_nonsense(text):
        out.append("nonsense")
    return out
