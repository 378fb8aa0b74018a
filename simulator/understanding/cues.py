"""Cue words as regular expressions, compiled once.

The dialogue and the customers look for scenario and lexicon cue words in every turn; building a
pattern per cue and call overflowed ``re``'s own small cache and recompiled thousands per session.
"""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=None)
def cue_pattern(cue: str, end: str = r"(?!\w)") -> re.Pattern:
    """``cue`` (literal) starting at a word boundary and followed by ``end``."""
    return re.compile(r"(?<!\w)" + re.escape(cue) + end)
