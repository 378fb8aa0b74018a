"""Chat register -> plain text, keeping a map back to the original offsets.

Trainees type the way staff chat: "sy udh cek ya bpk", "sooo sorry, u'll get it tmrw". Before
the rules or the encoder read a turn, abbreviations and casual spellings are expanded, English
contractions opened and letters repeated for emphasis collapsed ("maaaf" -> "maaf"). All words
live in ``simulator/lexicons/normalise/<lang>.yaml``; this module holds only the mechanism.

The same expansion is applied to the rule lexicon's cue patterns, so a cue written as "saya"
also matches "sy". Every character of the normalised text maps back to a span of the original,
so evidence quotes are the trainee's own words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from simulator.datafile import load_yaml

TABLE_DIR = Path(__file__).resolve().parent.parent / "lexicons" / "normalise"
LEXICON_DIR = TABLE_DIR.parent
_LETTER_RUN = re.compile(r"([^\W\d_])\1{2,}")
_WORD = re.compile(r"[^\W\d_]+")
# Words with digits or a slash in them count too ("b4", "2moro", "w/o").
_SHORTHAND_TOKEN = re.compile(r"(?<![\w/])[\w/]+(?![\w/])")
# Same-length typographic flattening, so offsets survive it unchanged.
FLATTEN = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'", "\u201c": '"', "\u201d": '"',
                          "\u2013": "-", "\u2014": "-", "\u00a0": " "})


class ContextRule(BaseModel):
    """A replacement that depends on its neighbours ("5 mnt" is minutes, "mnt tolong" is asking)."""

    model_config = ConfigDict(extra="forbid")
    pattern: str = Field(description="A regular expression, matched case-insensitively on whole words.")
    replace: str = Field(description="The replacement; may name the pattern's groups (\\1).")


class NormalisationTable(BaseModel):
    """One language's chat-register table (YAML)."""

    model_config = ConfigDict(extra="forbid")
    lang: str
    words: dict[str, str] = Field(default_factory=dict, description="Whole words: sy -> saya, pls -> please.")
    context: list[ContextRule] = Field(default_factory=list, description="Replacements that need context.")
    suffixes: dict[str, str] = Field(default_factory=dict, description="Word endings: n't -> ' not'.")
    clitics: list[str] = Field(
        default_factory=list, description="Endings that keep a `words` entry's meaning: hrs+nya -> harusnya."
    )
    is_words: list[str] = Field(default_factory=list, description="Words whose 's is 'is' (it's, that's).")
    has_before: list[str] = Field(default_factory=list, description="Words after 's that make it 'has'.")
    shorthand: list[str] = Field(
        default_factory=list,
        description="Chat shorthand staff should not write to a customer (sy, gk / u, pls, omg): the scorer's register check.",
    )


@dataclass(frozen=True)
class Normalised:
    """Normalised text; ``starts[i]``/``ends[i]`` give the original span of character ``i``."""

    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def original(self, start: int, end: int) -> tuple[int, int]:
        """A span of the normalised text as offsets in the original text."""
        if end <= start or not self.starts:
            return start, end
        return self.starts[start], self.ends[end - 1]


class Normaliser:
    """Applies one language's table to trainee text (with offsets) and to cue patterns."""

    def __init__(self, table: NormalisationTable, vocabulary: frozenset[str]):
        self.words = {k.lower(): v for k, v in table.words.items()}
        self.suffixes = {k.lower(): v for k, v in table.suffixes.items()}
        self.context = [(re.compile(rf"(?<![\w'\\])(?:{r.pattern})(?![\w'])", re.IGNORECASE), r.replace)
                        for r in table.context]
        self.vocabulary = vocabulary | set(self.words) | {w for v in self.words.values() for w in v.split()}
        words = "|".join(re.escape(w) for w in sorted(self.words, key=len, reverse=True))
        clitics = "|".join(re.escape(c) for c in table.clitics)
        ending = rf"(?P<clitic>{clitics})?" if clitics else ""
        self.word_rx = re.compile(rf"(?<![\w'\\])(?P<base>{words}){ending}(?![\w'])", re.IGNORECASE) if words else None
        # irregular contractions ("can't" -> "cannot") go before the regular endings ("n't" -> " not")
        irregular = "|".join(re.escape(w) for w in sorted(self.words, key=len, reverse=True) if "'" in w)
        parts = [rf"(?P<word>(?<![\w'\\])(?:{irregular})(?![\w']))"] if irregular else []
        if table.is_words:
            parts.append(rf"(?<![\w'])(?P<is>{'|'.join(table.is_words)})'s(?![\w'])")
        if table.has_before:
            parts.append(rf"(?<=\w)(?P<has>'s)(?=\s+(?:{'|'.join(table.has_before)})(?!\w))")
        if self.suffixes:
            alt = "|".join(re.escape(w) for w in sorted(self.suffixes, key=len, reverse=True))
            parts.append(rf"(?<=\w)(?P<suffix>{alt})(?![\w'])")
        self.contraction_rx = re.compile("|".join(parts), re.IGNORECASE) if parts else None
        self.shorthand = frozenset(w.lower() for w in table.shorthand)

    def shorthand_words(self, text: str) -> list[str]:
        """The chat-shorthand words of ``text``, in order ("sy udh cek" -> ["sy", "udh"])."""
        return [m.group(0) for m in _SHORTHAND_TOKEN.finditer(text) if m.group(0).lower() in self.shorthand]

    # -- passes of (start, end, kept prefix length, replacement) edits, applied with an offset map ----
    def _word_edits(self, text: str) -> list[tuple[int, int, int, str]]:
        """Whole words and context rules (context first: it decides the ambiguous words)."""
        edits: list[tuple[int, int, int, str]] = []
        for rx, repl in self.context:
            edits.extend((m.start(), m.end(), 0, m.expand(repl)) for m in rx.finditer(text))
        taken = [(a, b) for a, b, _, _ in edits]
        if self.word_rx is not None:
            for m in self.word_rx.finditer(text):
                if not any(a < m.end() and m.start() < b for a, b in taken):
                    clitic = m.groupdict().get("clitic") or ""
                    edits.append((m.start(), m.end(), 0, self.words[m.group("base").lower()] + clitic))
        return sorted(edits)

    def _contraction_edits(self, text: str) -> list[tuple[int, int, int, str]]:
        """"you're" -> "you are", "it's" -> "it is", "u'll" -> "u will" (the word itself comes next)."""
        if self.contraction_rx is None:
            return []
        edits = []
        for m in self.contraction_rx.finditer(text):
            kind = m.lastgroup
            if kind == "word":
                edits.append((m.start(), m.end(), 0, self.words[m.group(0).lower()]))
            elif kind == "is":
                edits.append((m.start(), m.end(), len(m.group("is")), " is"))
            elif kind == "has":
                edits.append((m.start(), m.end(), 0, " has"))
            else:
                edits.append((m.start(), m.end(), 0, self.suffixes[m.group(0).lower()]))
        return edits

    def _collapse(self, word: str) -> str:
        """'maaaf' -> 'maaf', 'sooo' -> 'so', 'pleaseee' -> 'please': the first known spelling."""
        two = _LETTER_RUN.sub(r"\1\1", word)
        one = _LETTER_RUN.sub(r"\1", word)
        for candidate in (two, one):
            if candidate.lower() in self.vocabulary:
                return candidate
        return two

    def normalise(self, text: str) -> Normalised:
        out = text.translate(FLATTEN)
        starts: list[int] | None = None
        ends: list[int] | None = None
        passes = (
            lambda t: [(m.start(), m.end(), 0, self._collapse(m.group(0)))
                       for m in _WORD.finditer(t) if _LETTER_RUN.search(m.group(0))],
            self._contraction_edits,
            self._word_edits,
        )
        for edits_of in passes:
            out, s2, e2 = _apply(out, edits_of(out))
            if s2 is None:
                continue
            if starts is None:
                starts, ends = s2, e2
            else:  # compose: this pass's offsets point into the previous pass's text
                starts, ends = [starts[i] for i in s2], [ends[i - 1] for i in e2]
        if starts is None:
            return Normalised(out, tuple(range(len(out))), tuple(range(1, len(out) + 1)))
        return Normalised(out, tuple(starts), tuple(ends))

    def expand_pattern(self, pattern: str) -> str:
        """A cue pattern with the same expansions (no offsets, no letter collapsing)."""
        out, _, _ = _apply(pattern, self._contraction_edits(pattern))
        out, _, _ = _apply(out, self._word_edits(out))
        return out


def _apply(text: str, edits: list[tuple[int, int, int, str]]) -> tuple[str, list[int] | None, list[int] | None]:
    """Apply non-overlapping edits; per output character, the original start and end offsets."""
    if not edits:
        return text, None, None
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    last = 0
    for a, b, keep, rest in edits:
        if a < last:
            continue
        out.append(text[last:a])
        starts.extend(range(last, a))
        ends.extend(range(last + 1, a + 1))
        out.append(text[a : a + keep] + rest)
        starts.extend(range(a, a + keep))
        ends.extend(range(a + 1, a + keep + 1))
        starts.extend([a + keep] * len(rest))
        ends.extend([b] * len(rest))
        last = b
    out.append(text[last:])
    starts.extend(range(last, len(text)))
    ends.extend(range(last + 1, len(text) + 1))
    return "".join(out), starts, ends


@lru_cache(maxsize=None)
def normaliser(lang: str) -> Normaliser:
    """The normaliser of one language (cached). Its vocabulary for collapsing repeated letters is
    every word of that language's cue lexicon and table."""
    table = load_yaml(TABLE_DIR / f"{lang}.yaml", NormalisationTable)
    lexicon = (LEXICON_DIR / f"{lang}.yaml").read_text(encoding="utf-8").lower()
    return Normaliser(table, frozenset(_WORD.findall(lexicon)))


@lru_cache(maxsize=16384)
def normalise(text: str, lang: str) -> Normalised:
    """``text`` in plain spelling (cached: the matcher normalises the same candidates every turn)."""
    return normaliser(lang).normalise(text)
