"""The analyser against the hand-labelled sets in tests/data/.

``analysis_dev.jsonl`` is what the lexicons were tuned on; ``analysis_heldout.jsonl`` was written
before tuning, in other sectors and wording, and its per-item errors are never looked at: it
estimates how the analyser does on fresh material. Both were written by the lexicons' author, so
both are optimistic; ``analysis_blind.jsonl`` was written later, with the lexicons frozen, in yet
other sectors (it is not asserted here: it is the honest estimate, see the eval table);
``analysis_check2.jsonl`` is a second small blind check, written before the generalisation work
of issue 3 and scored once at its end (not asserted either). ``analysis_fresh.jsonl`` (180
replies) was written by someone who never saw the analyser, its lexicons or the other sets; it
is the acceptance bar of issue 2 (macro-F1 >= 0.80, referral target >= 0.80) and is asserted,
but only its totals are ever looked at. Print the tables with
``python -m simulator.analysis_eval tests/data/analysis_*.jsonl``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from simulator.analysis_eval import Item, TagScore, evaluate, format_report, load_items, score
from simulator.analysis_types import TAG_ORDER, Tag, TurnAnalysis

DATA = Path(__file__).resolve().parent / "data"
MIN_MACRO_F1 = 0.80
MIN_REFERRAL_ACCURACY = 0.80


@pytest.fixture(scope="module", params=["analysis_dev.jsonl", "analysis_heldout.jsonl", "analysis_fresh.jsonl"])
def labelled(request) -> tuple[str, list[Item]]:
    return request.param, load_items(DATA / request.param)


def test_sets_are_big_enough_and_well_formed(labelled):
    name, items = labelled
    minimum = 170 if "dev" in name else 80
    assert len(items) >= minimum
    langs = Counter(i.lang for i in items)
    assert set(langs) == {"id", "en"} and min(langs.values()) >= len(items) * 0.4
    for i in items:
        assert i.trainee.strip()
        assert (Tag.referral.value in i.tags) == (i.referral_target is not None), i.trainee
        assert i.referral_target in (None, "legal", "security", "other")
    seen = Counter(t for i in items for t in i.tags)
    assert all(seen[t.value] > 0 for t in TAG_ORDER), "every tag needs labelled examples"


def test_sets_do_not_share_replies():
    dev = {i.trainee for i in load_items(DATA / "analysis_dev.jsonl")}
    for name in ("analysis_heldout.jsonl", "analysis_blind.jsonl", "analysis_check2.jsonl", "analysis_fresh.jsonl"):
        if (DATA / name).exists():
            assert not dev & {i.trainee for i in load_items(DATA / name)}, name


def test_dev_has_no_duplicates():
    dev = [i.trainee for i in load_items(DATA / "analysis_dev.jsonl")]
    assert len(dev) == len(set(dev))


@pytest.mark.parametrize("name", ["analysis_blind.jsonl", "analysis_check2.jsonl"])
def test_blind_sets_are_well_formed(name):
    path = DATA / name
    if not path.exists():
        pytest.skip(f"{name} not present")
    items = load_items(path)
    assert {i.lang for i in items} == {"id", "en"}
    for i in items:
        assert i.trainee.strip()
        assert (Tag.referral.value in i.tags) == (i.referral_target is not None), i.trainee


def test_quality(labelled):
    name, items = labelled
    report = evaluate(items)
    table = format_report(report, name)
    assert report.macro_f1 >= MIN_MACRO_F1, table
    assert report.referral_accuracy >= MIN_REFERRAL_ACCURACY, table


def test_scoring_arithmetic():
    items = [
        Item("en", "a", frozenset({"apology"}), None),
        Item("en", "b", frozenset({"referral"}), "legal"),
        Item("en", "c", frozenset(), None),
    ]
    preds = [
        TurnAnalysis(tags=[Tag.apology, Tag.empathy]),
        TurnAnalysis(tags=[Tag.referral], referral_target="security"),
        TurnAnalysis(),
    ]
    report = score(items, preds)
    assert report.per_tag["apology"] == TagScore(1, 0, 0)
    assert report.per_tag["empathy"] == TagScore(0, 1, 0)
    assert report.per_tag["empathy"].f1 == 0.0
    assert report.per_tag["referral"].f1 == 1.0
    # a tag never labelled and never predicted is perfect, not undefined
    assert report.per_tag["hostile"].f1 == 1.0
    assert report.referral_accuracy == pytest.approx(2 / 3)
    assert len(report.errors) == 2
