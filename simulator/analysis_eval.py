"""Score the analyser against a labelled set (tests/data/analysis_*.jsonl).

Each line: {"lang": "id"|"en", "trainee": "...", "customer"?: "...", "tags": [...],
"referral_target": null|"legal"|"security"|"other"}. Pure functions score predictions against
labels; ``main()`` prints a table: ``python -m simulator.analysis_eval tests/data/analysis_dev.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from simulator.analysis import analyze, warm
from simulator.analysis_types import TAG_ORDER, Tag, TurnAnalysis


@dataclass(frozen=True)
class Item:
    lang: str
    trainee: str
    tags: frozenset[str]
    referral_target: str | None
    customer: str | None = None


@dataclass(frozen=True)
class TagScore:
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else (1.0 if not self.fn else 0.0)

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def support(self) -> int:
        return self.tp + self.fn


@dataclass(frozen=True)
class Report:
    n: int
    per_tag: dict[str, TagScore]
    referral_accuracy: float
    errors: list[dict] = field(default_factory=list)
    exact_match: float = 0.0  # share of turns whose whole tag set is right
    referral_target_accuracy: float = 0.0  # over turns both the labels and the analyser call referrals


    @property
    def macro_f1(self) -> float:
        return sum(s.f1 for s in self.per_tag.values()) / len(self.per_tag)


def load_items(path: Path | str) -> list[Item]:
    items = []
    for i, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        d = json.loads(line)
        unknown = set(d["tags"]) - {t.value for t in Tag}
        if unknown:
            raise ValueError(f"{path}:{i}: unknown tag(s) {sorted(unknown)}")
        items.append(
            Item(d["lang"], d["trainee"], frozenset(d["tags"]), d.get("referral_target"), d.get("customer"))
        )
    return items


def score(items: Sequence[Item], predictions: Sequence[TurnAnalysis]) -> Report:
    """Per-tag precision/recall/F1 over the 9 tags and referral-target accuracy over all items."""
    if len(items) != len(predictions):
        raise ValueError("items and predictions differ in length")
    counts = {t.value: [0, 0, 0] for t in TAG_ORDER}
    right = exact = referrals = target_right = 0
    errors = []
    for item, pred in zip(items, predictions):
        got = {t.value for t in pred.tags}
        for tag, c in counts.items():
            c[0] += tag in got and tag in item.tags
            c[1] += tag in got and tag not in item.tags
            c[2] += tag not in got and tag in item.tags
        right += pred.referral_target == item.referral_target
        exact += got == item.tags
        if item.referral_target and pred.referral_target:
            referrals += 1
            target_right += pred.referral_target == item.referral_target
        if got != item.tags or pred.referral_target != item.referral_target:
            errors.append(
                {
                    "lang": item.lang,
                    "trainee": item.trainee,
                    "missing": sorted(item.tags - got),
                    "extra": sorted(got - item.tags),
                    "target": [item.referral_target, pred.referral_target],
                }
            )
    per_tag = {tag: TagScore(*c) for tag, c in counts.items()}
    return Report(len(items), per_tag, right / len(items) if items else 0.0, errors,
                  exact / len(items) if items else 0.0, target_right / referrals if referrals else 1.0)


def evaluate(items: Iterable[Item], analyse: Callable[..., TurnAnalysis] = analyze) -> Report:
    items = list(items)
    preds = []
    for start in range(0, len(items), 256):  # one encoder batch per chunk (within its cache)
        chunk = items[start : start + 256]
        if analyse is analyze:
            warm([(i.trainee, i.lang) for i in chunk])
        preds += [analyse(i.trainee, i.lang, customer_last=i.customer) for i in chunk]
    return score(items, preds)


def format_report(report: Report, title: str = "") -> str:
    lines = [f"{title} (n={report.n})" if title else f"n={report.n}"]
    lines.append(f"{'tag':<14} {'prec':>6} {'recall':>6} {'f1':>6} {'support':>7}")
    for tag, s in report.per_tag.items():
        lines.append(f"{tag:<14} {s.precision:6.3f} {s.recall:6.3f} {s.f1:6.3f} {s.support:7d}")
    lines.append(f"{'macro-F1':<14} {report.macro_f1:6.3f}")
    lines.append(f"{'referral acc.':<14} {report.referral_accuracy:6.3f}")
    lines.append(f"{'exact match':<14} {report.exact_match:6.3f}")
    lines.append(f"{'target|both':<14} {report.referral_target_accuracy:6.3f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m simulator.analysis_eval", description=__doc__.splitlines()[0])
    ap.add_argument("path", nargs="+", help="labelled JSON Lines file(s)")
    ap.add_argument("--lang", choices=["id", "en"], help="only items in this language")
    ap.add_argument("--errors", action="store_true", help="also list the items the analyser got wrong")
    args = ap.parse_args(argv)
    for path in args.path:
        items = [i for i in load_items(path) if args.lang in (None, i.lang)]
        report = evaluate(items)
        print(format_report(report, f"{path}{' [' + args.lang + ']' if args.lang else ''}"))
        if args.errors:
            for e in report.errors:
                print(json.dumps(e, ensure_ascii=False))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
