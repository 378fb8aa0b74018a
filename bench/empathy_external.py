"""`empathy` on an external English data set of peer-support replies (issue 10).

EPITOME's "emotional reactions" file (Sharma et al., 2020; `dataset/emotional-reactions-reddit.csv`
in the public Empathy-Mental-Health repository): a Reddit reply to a help-seeking post, with the
level of emotional reaction it expresses (0 none, 1 weak, 2 strong). A reply counts as empathic
at level >= 1. The data set is not shipped with Tenang; pass its path:

    python bench/empathy_external.py path/to/emotional-reactions-reddit.csv

Prints recall and precision of the `empathy` tag for the learned analyser and for the rules alone.
"""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from simulator.analysis import analyze, warm  # noqa: E402
from simulator.analysis_types import Tag  # noqa: E402
from simulator.understanding import rules  # noqa: E402


def figures(rows: list[dict], analyse) -> tuple[float, float, int, int]:
    tp = fp = fn = 0
    for i, row in enumerate(rows):
        if analyse is analyze and i % 256 == 0:  # one encoder batch per chunk, within its cache
            warm([(r["response_post"], "en") for r in rows[i : i + 256]])
        said = analyse(row["response_post"], "en", customer_last=row["seeker_post"]).has(Tag.empathy)
        truth = int(row["level"]) >= 1
        tp += said and truth
        fp += said and not truth
        fn += truth and not said
    recall = tp / (tp + fn) if tp + fn else 0.0
    precision = tp / (tp + fp) if tp + fp else 0.0
    return recall, precision, tp + fn, len(rows)


def main(path: str) -> None:
    with open(path, encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["response_post"].strip()]
    print(f"{len(rows)} replies, load average {os.getloadavg()[0]:.1f}")
    for label, fn in (("learned", analyze), ("rules alone", rules.analyze)):
        recall, precision, positives, n = figures(rows, fn)
        print(f"{label:<12} empathy recall {recall:.3f}  precision {precision:.3f}  ({positives} empathic of {n})")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
