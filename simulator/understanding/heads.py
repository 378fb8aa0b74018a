"""Learned per-tag heads over the sentence embedding, fused with the rules.

Features of one turn: the embedding of the normalised turn (384 numbers) and what the rules
found (one 0/1 per tag, the referral target, a time frame, stuffing, length). Each tag has a
logistic head over those features (weights, bias, decision threshold) and a *mode* chosen by
cross-validation when the heads are trained (``python -m simulator train-analyser``):

* ``rules`` — the tag is the rules' decision (where the rules beat every head);
* ``head``  — the tag is the head's decision; the head sees the rule flags as features, so it
  keeps what the rules do well and overrules them where the data says they are wrong. A head may
  also read the turn's words and word pairs (``grams.py``), where cross-validation says so.

The referral target comes from a three-way head (legal / security / other) when its mode says so,
else from the rules. Turns that trainers corrected (``train-analyser --corrections``) are also
remembered by a hash of their normalised words: the same turn is then read exactly as the
trainer labelled it, whatever the heads would say. Weights are plain numpy arrays in ``heads.npz`` beside this file (written by
the training command, with a model card in ``docs/analyser.md``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from simulator.analysis_types import TAG_ORDER, Tag, TurnAnalysis
from simulator.understanding.encoder import DIM
from simulator.understanding.grams import GramSpace

log = logging.getLogger(__name__)

HEADS_FILE = Path(__file__).resolve().parent / "heads.npz"
REBUILD_COMMAND = "python -m simulator train-analyser"
TARGETS = ("legal", "security", "other")
FEATURE_VERSION = 2
RULE_FEATURES = [f"rule:{t.value}" for t in TAG_ORDER] + [f"rule_target:{t}" for t in TARGETS] + [
    "rule:time_days", "rule:stuffing", "log_words", "asks", "rule:admits_fault"]
N_FEATURES = DIM + len(RULE_FEATURES)


def rule_features(rules: TurnAnalysis, text: str) -> np.ndarray:
    """What the rules found, as numbers (the last ``len(RULE_FEATURES)`` features)."""
    f = [1.0 if rules.has(t) else 0.0 for t in TAG_ORDER]
    f += [1.0 if rules.referral_target == t else 0.0 for t in TARGETS]
    f += [1.0 if rules.time_days is not None else 0.0, 1.0 if rules.stuffing else 0.0,
          math.log1p(rules.word_count), 1.0 if "?" in text else 0.0, 1.0 if rules.admits_fault else 0.0]
    return np.asarray(f, dtype=np.float32)


def features(embedding: np.ndarray, rules: TurnAnalysis, text: str) -> np.ndarray:
    return np.concatenate([embedding.astype(np.float32), rule_features(rules, text)])


_SENTENCE_END = re.compile(r"(?<=[?.!])\s+")


#: A sentence this short beside the questions is a courtesy or a receipt ("thx.", "Got it.").
COURTESY_WORDS = 2


def only_questions(text: str) -> bool:
    """The turn asks and does nothing else: every sentence ends with '?', or is a word or two of
    courtesy ("thx. so which dishes smelled sour? and when did our driver drop them?"). On such
    turns a head may be told to leave the decision to the rules (``TagHead.questions_by_rules``)."""
    sentences = [s for s in _SENTENCE_END.split(text.strip()) if s.strip()]
    asks = [s for s in sentences if s.rstrip().endswith("?")]
    return bool(asks) and all(s in asks or len(s.split()) <= COURTESY_WORDS for s in sentences)


def turn_key(normalised_text: str, lang: str) -> str:
    """A turn's identity for the correction memory: a hash of its words, case and punctuation
    aside (so the file holds no trainee text)."""
    words = " ".join(re.findall(r"\w+", normalised_text.casefold()))
    return hashlib.sha256(f"{lang}:{words}".encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Correction:
    """How a trainer labelled one turn."""

    tags: frozenset[Tag]
    referral_target: str | None


class HeadsError(Exception):
    """The heads file is missing or unusable; the message names the file and the rebuild command."""


@dataclass(frozen=True)
class TagHead:
    mode: str  # "rules" or "head"
    weights: np.ndarray
    bias: float
    threshold: float
    # On a turn made only of questions the rules decide (chosen by cross-validation per tag): the
    # corpus's diagnostic questions ("Do the neighbours have power?") are read as blame by the head.
    questions_by_rules: bool = False
    gram_weights: np.ndarray | None = None  # over the words' tf-idf, scale folded in; None: words unread

    def probability(self, z: np.ndarray, grams: np.ndarray | None = None) -> np.ndarray:
        """Of standardised features ``z`` and the words' tf-idf ``grams`` (one row each, or one turn)."""
        logit = z @ self.weights + self.bias
        if self.gram_weights is not None and grams is not None:
            logit = logit + grams @ self.gram_weights
        return 1.0 / (1.0 + np.exp(-logit))


@dataclass(frozen=True)
class Heads:
    mean: np.ndarray
    scale: np.ndarray
    tags: dict[Tag, TagHead]
    target_mode: str  # "rules" or "head"
    target_weights: np.ndarray  # (3, N_FEATURES)
    target_bias: np.ndarray  # (3,)
    meta: dict
    corrections: dict[str, Correction] = field(default_factory=dict)  # turn_key -> the trainer's labels
    grams: GramSpace | None = None  # the vocabulary the heads' word weights are over

    def standardise(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean) / self.scale

    def gram_vector(self, normalised_text: str) -> np.ndarray | None:
        return self.grams.vector(normalised_text) if self.grams is not None else None

    def probabilities(self, x: np.ndarray, grams: np.ndarray | None = None) -> dict[Tag, float]:
        z = self.standardise(x)
        return {tag: float(head.probability(z, grams)) for tag, head in self.tags.items()}

    def target(self, x: np.ndarray) -> tuple[str, float]:
        logits = self.target_weights @ self.standardise(x) + self.target_bias
        p = np.exp(logits - logits.max())
        p /= p.sum()
        i = int(p.argmax())
        return TARGETS[i], float(p[i])

    def correction(self, normalised_text: str, lang: str) -> Correction | None:
        return self.corrections.get(turn_key(normalised_text, lang))

    def save(self, path: Path = HEADS_FILE) -> None:
        arrays = {"mean": self.mean, "scale": self.scale, "target_weights": self.target_weights,
                  "target_bias": self.target_bias}
        for tag, head in self.tags.items():
            arrays[f"w_{tag.value}"] = head.weights
            if head.gram_weights is not None:
                arrays[f"g_{tag.value}"] = head.gram_weights
        if self.grams is not None:
            arrays["gram_idf"] = self.grams.idf
        meta = dict(self.meta, feature_version=FEATURE_VERSION, n_features=N_FEATURES, target_mode=self.target_mode,
                    tags={t.value: {"mode": h.mode, "bias": h.bias, "threshold": h.threshold,
                                    "questions_by_rules": h.questions_by_rules}
                          for t, h in self.tags.items()},
                    corrections={k: {"tags": sorted(t.value for t in c.tags), "referral_target": c.referral_target}
                                 for k, c in self.corrections.items()})
        arrays = {k: np.asarray(v, dtype=np.float32) for k, v in arrays.items()}
        arrays["meta"] = np.frombuffer(json.dumps(meta, sort_keys=True).encode(), dtype=np.uint8)
        if self.grams is not None:  # terms in index order, as one string (no pickled objects)
            arrays["gram_terms"] = np.frombuffer("\n".join(self.grams.vocabulary).encode(), dtype=np.uint8)
        with path.open("wb") as fh:  # np.savez_compressed on a path would add ".npz" to other names
            np.savez_compressed(fh, **arrays)


def load_heads(path: Path | None = None) -> Heads:
    """Read the heads file; :class:`HeadsError` with the file and the rebuild command if it is unusable."""
    path = path or HEADS_FILE
    hint = f"rebuild it with `{REBUILD_COMMAND}`"
    if not path.exists():
        raise HeadsError(f"{path}: the analyser's heads file is missing; {hint}")
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(bytes(data["meta"]).decode())
            if meta.get("feature_version") != FEATURE_VERSION or meta.get("n_features") != N_FEATURES:
                raise HeadsError(f"{path}: made for another feature layout; {hint}")
            tags = {}
            grams = None
            if "gram_terms" in data:
                words = bytes(data["gram_terms"]).decode().split("\n")
                grams = GramSpace({t: i for i, t in enumerate(words)}, data["gram_idf"])
            for name, spec in meta["tags"].items():
                gram_weights = data[f"g_{name}"] if f"g_{name}" in data else None
                if gram_weights is not None and (grams is None or gram_weights.shape != (len(grams),)):
                    raise HeadsError(f"{path}: the word weights of `{name}` do not fit its vocabulary; {hint}")
                tags[Tag(name)] = TagHead(spec["mode"], data[f"w_{name}"], float(spec["bias"]), float(spec["threshold"]),
                                          bool(spec.get("questions_by_rules", False)), gram_weights)
            corrections = {k: Correction(frozenset(Tag(t) for t in c["tags"]), c["referral_target"])
                           for k, c in meta.get("corrections", {}).items()}
            heads = Heads(data["mean"], data["scale"], tags, meta["target_mode"], data["target_weights"],
                          data["target_bias"], meta, corrections, grams)
    except HeadsError:
        raise
    except Exception as exc:  # zip, key, JSON or shape problems: a corrupt file
        raise HeadsError(f"{path}: the analyser's heads file cannot be read ({exc}); {hint}") from None
    if set(heads.tags) != set(TAG_ORDER) or heads.mean.shape != (N_FEATURES,):
        raise HeadsError(f"{path}: the analyser's heads file is incomplete; {hint}")
    return heads


@lru_cache(maxsize=1)
def cached_heads() -> tuple[Heads | None, str]:
    """The committed heads, loaded once per process, or None with the reason (logged once)."""
    try:
        return load_heads(), ""
    except HeadsError as exc:
        log.warning("turn analyser: %s; using the rules alone", exc)
        return None, str(exc)
