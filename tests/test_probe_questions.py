"""Questions a trainee asks for what the customer knows, written by people who never saw the scenario's cue
words or example questions (``tests/data/probe_questions_stop32.yaml``, docs/realism.md "Stop 32").

A floor, not a target: at stop 32, 73% of the questions for an item asked for it first (in each language), and
35-40% of the questions no customer can answer asked for nothing. The floors are a little below that, so a
change that makes the customer understand fewer questions fails here. Semantic matching only: without the
encoder, the word-overlap matcher reads a different share and this is skipped.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from simulator.analysis import analyze
from simulator.dialogue import asked_items, default_matcher
from simulator.scenario import ScenarioLibrary
from simulator.understanding import encoder

PROBES = yaml.safe_load((Path(__file__).parent / "data" / "probe_questions_stop32.yaml").read_text(encoding="utf-8"))
#: Share of an item's questions that must ask for it first, and of the unanswerable ones that must ask for nothing.
ITEM_FLOOR = 0.70
UNKNOWABLE_FLOOR = 0.30


@pytest.mark.skipif(encoder.get_encoder() is None, reason=encoder.status().reason)
@pytest.mark.parametrize("lang", ["id", "en"])
def test_questions_written_by_others_ask_for_their_item(lang):
    library, matcher = ScenarioLibrary(), default_matcher()
    counts: Counter[str] = Counter()
    for probe in (p for p in PROBES if p["lang"] == lang):
        scenario = library.get(probe["scenario"], lang)
        ids = asked_items(probe["text"], analyze(probe["text"], lang=lang, scenario=scenario), scenario, matcher).ids
        kind = "item" if probe["item"] else "unknowable"
        counts[kind] += 1
        counts[f"{kind} right"] += (ids[:1] == [probe["item"]]) if probe["item"] else not ids
    assert counts["item"] >= 150 and counts["unknowable"] >= 30
    assert counts["item right"] / counts["item"] >= ITEM_FLOOR, counts
    assert counts["unknowable right"] / counts["unknowable"] >= UNKNOWABLE_FLOOR, counts
