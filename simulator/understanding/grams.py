"""The turn's own words beside the embedding: tf-idf of words and word pairs.

The sentence encoder blurs the single words that decide a tag: it puts "Our technician made an
error with your reading." nearest to "the parts came late from the supplier, not our fault"
(cosine 0.87). A head that also reads the normalised words can weigh "our" against "not our"
where the embedding cannot. The vocabulary is the
words and word pairs of at least two training turns, with their inverse document frequency; a
turn's vector is sublinear counts times idf, scaled to unit length (the usual tf-idf, as
scikit-learn's ``TfidfVectorizer(sublinear_tf=True)`` computes it, here without scikit-learn so
the app only needs numpy).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

_WORD = re.compile(r"\w+")
#: A term must occur in this many training turns to be learnt.
MIN_TURNS = 2


def terms(normalised_text: str) -> list[str]:
    """Words and neighbouring word pairs of a normalised turn, case folded."""
    words = _WORD.findall(normalised_text.casefold())
    return words + [f"{a} {b}" for a, b in zip(words, words[1:])]


@dataclass(frozen=True)
class GramSpace:
    vocabulary: dict[str, int]
    idf: np.ndarray  # (len(vocabulary),)

    @classmethod
    def fit(cls, texts: Iterable[str]) -> GramSpace:
        """Vocabulary and idf of normalised training turns (sorted terms, so reproducible)."""
        texts = list(texts)
        seen = Counter(t for text in texts for t in set(terms(text)))
        kept = sorted(t for t, n in seen.items() if n >= MIN_TURNS)
        idf = np.array([math.log((1 + len(texts)) / (1 + seen[t])) + 1.0 for t in kept], dtype=np.float32)
        return cls({t: i for i, t in enumerate(kept)}, idf)

    def __len__(self) -> int:
        return len(self.vocabulary)

    def sparse(self, normalised_text: str) -> tuple[np.ndarray, np.ndarray]:
        """(indices, values) of the turn's unit-length tf-idf vector."""
        counts = Counter(self.vocabulary[t] for t in terms(normalised_text) if t in self.vocabulary)
        if not counts:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        idx = np.fromiter(counts, dtype=np.int64, count=len(counts))
        val = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float32, count=len(counts)))) * self.idf[idx]
        return idx, (val / np.linalg.norm(val)).astype(np.float32)

    def vector(self, normalised_text: str) -> np.ndarray:
        """The dense tf-idf vector (length of the vocabulary)."""
        out = np.zeros(len(self), dtype=np.float32)
        idx, val = self.sparse(normalised_text)
        out[idx] = val
        return out
