"""Remedies offered, put off or refused (``tests/data/remedy_turns_stop39.yaml``, written by a helper who
saw only the scenario briefs; docs/realism.md "Stop 39"). A remedy word in a put-off ("soal ganti rugi nanti
dibahas dulu ya bu") or in a refusal meets no remedy need; a remedy offered, even with a wait after it or
as a question, does.

Floors, not targets: on stop 38's code, 28 of 30 offers met a remedy need and 19 of 30 put-offs and 9 of 12
refusals met none; at stop 39, 28, 24 and 9. Semantic matching only (put-offs are found by the encoder).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from simulator import dialogue
from simulator.analysis import analyze
from simulator.scenario import ScenarioLibrary
from simulator.understanding import encoder

TURNS = yaml.safe_load((Path(__file__).parent / "data" / "remedy_turns_stop39.yaml").read_text(encoding="utf-8"))
REMEDY_NEEDS = {"catering-stale-food": {"refund", "clinic"}, "warranty-defect": {"remedy", "towing"},
                "water-bill-surge": {"credit"}}
#: Share of each kind of turn read right: an offer meets a remedy need, a put-off or refusal none.
FLOORS = {"offered": 0.90, "put_off": 0.75, "refused": 0.70}


def _remedy_needs_met(turn: dict, library: ScenarioLibrary, matcher: dialogue.Matcher) -> set[str]:
    scenario = library.get(turn["scenario"], turn["lang"])
    after = dialogue.update(dialogue.initial_state(scenario), turn["text"],
                            analyze(turn["text"], turn["lang"], scenario=scenario), scenario, matcher=matcher)
    return {n.id for n in after.needs if n.met_turn is not None} & REMEDY_NEEDS[turn["scenario"]]


@pytest.mark.skipif(encoder.get_encoder() is None, reason=encoder.status().reason)
def test_remedies_put_off_or_refused_meet_no_need_and_offers_do():
    library, matcher = ScenarioLibrary(), dialogue.default_matcher()
    right, total, wrong = Counter(), Counter(), []
    for turn in TURNS:
        met = _remedy_needs_met(turn, library, matcher)
        total[turn["kind"]] += 1
        if bool(met) == bool(turn["meets"]):
            right[turn["kind"]] += 1
        else:
            wrong.append(f"{turn['kind']} {turn['lang']}: {turn['text']} (met {sorted(met)})")
    assert set(total) == set(FLOORS)
    for kind, floor in FLOORS.items():
        assert right[kind] / total[kind] >= floor, f"{kind}: {right[kind]}/{total[kind]}\n" + "\n".join(wrong)


def test_a_remedy_put_off_in_its_own_sentence_is_not_offered():
    text = "Mohon maaf bu atas kejadiannya. Soal ganti ruginya nanti dibicarakan ya bu."
    start = text.index("ganti")
    evidence = dialogue.Evidence(text="ganti rugi", start=start, end=start + 10)
    deferred = [(32, len(text))]
    assert not dialogue._remedy_offered(text, evidence, deferred)
    assert dialogue._remedy_offered(text, evidence, [])
    refused = "Maaf bu, kami tidak bisa refund."
    at = refused.index("refund")
    assert not dialogue._remedy_offered(refused, dialogue.Evidence(text="refund", start=at, end=at + 6), [])
