"""Offers and remedies as a trainer counts them, on turns written by helpers who saw only the scenario briefs
(docs/realism.md "Stop 39").

- ``remedy_turns_stop39.yaml``: a remedy word in a put-off ("soal ganti rugi nanti dibahas dulu ya bu") or
  in a refusal meets no remedy need; a remedy offered, even with a wait after it or as a question, does. On
  stop 38's code 28 of 30 offers met a remedy need and 19 of 30 put-offs and 9 of 12 refusals met none; at
  stop 39, 28, 21 and 9.
- ``offer_questions_stop39.yaml``: an offer or a choice put as a question does the thing it offers ("shall
  I top it up for you?", docs/labelling.md rule 19); a plain question about it does nothing. On stop 38's
  code offers and choices met their need in 16 of 50 (en) and 6 of 50 (id) turns; at stop 39, 33 and 21
  (the rest are mostly needs whose cue words the turn does not use). Plain questions met none (60 of 60).

Floors, not targets. Semantic matching only (put-offs are found by the encoder).
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

DATA = Path(__file__).parent / "data"
TURNS = yaml.safe_load((DATA / "remedy_turns_stop39.yaml").read_text(encoding="utf-8"))
OFFERS = yaml.safe_load((DATA / "offer_questions_stop39.yaml").read_text(encoding="utf-8"))
#: Per language, share of the offers and choices put as questions that meet their need.
OFFER_FLOORS = {"en": 0.60, "id": 0.36}
#: Share of the plain questions about the same things that meet nothing.
ASK_FLOOR = 0.95
REMEDY_NEEDS = {"catering-stale-food": {"refund", "clinic"}, "warranty-defect": {"remedy", "towing"},
                "water-bill-surge": {"credit"}}
#: Share of each kind of turn read right: an offer meets a remedy need, a put-off or refusal none.
FLOORS = {"offered": 0.90, "put_off": 0.66, "refused": 0.70}


def _needs_met(turn: dict, library: ScenarioLibrary, matcher: dialogue.Matcher) -> set[str]:
    """The needs a first turn meets."""
    scenario = library.get(turn["scenario"], turn["lang"])
    after = dialogue.update(dialogue.initial_state(scenario), turn["text"],
                            analyze(turn["text"], turn["lang"], scenario=scenario), scenario, matcher=matcher)
    return {n.id for n in after.needs if n.met_turn is not None}


@pytest.mark.skipif(encoder.get_encoder() is None, reason=encoder.status().reason)
def test_remedies_put_off_or_refused_meet_no_need_and_offers_do():
    library, matcher = ScenarioLibrary(), dialogue.default_matcher()
    right, total, wrong = Counter(), Counter(), []
    for turn in TURNS:
        met = _needs_met(turn, library, matcher) & REMEDY_NEEDS[turn["scenario"]]
        total[turn["kind"]] += 1
        if bool(met) == bool(turn["meets"]):
            right[turn["kind"]] += 1
        else:
            wrong.append(f"{turn['kind']} {turn['lang']}: {turn['text']} (met {sorted(met)})")
    assert set(total) == set(FLOORS)
    for kind, floor in FLOORS.items():
        assert right[kind] / total[kind] >= floor, f"{kind}: {right[kind]}/{total[kind]}\n" + "\n".join(wrong)


@pytest.mark.skipif(encoder.get_encoder() is None, reason=encoder.status().reason)
@pytest.mark.parametrize("lang", ["id", "en"])
def test_offers_put_as_questions_do_what_they_offer_and_plain_questions_nothing(lang):
    library, matcher = ScenarioLibrary(), dialogue.default_matcher()
    right, total, wrong = Counter(), Counter(), []
    for turn in (t for t in OFFERS if t["lang"] == lang):
        kind = "ask" if turn["kind"] == "ask" else "offer"
        met = turn["need"] in _needs_met(turn, library, matcher)
        total[kind] += 1
        if met == turn["meets"]:
            right[kind] += 1
        else:
            wrong.append(f"{turn['kind']} {turn['scenario']}/{turn['need']}: {turn['text']}")
    report = "\n".join(wrong)
    assert right["offer"] / total["offer"] >= OFFER_FLOORS[lang], f"offers {right['offer']}/{total['offer']}\n{report}"
    assert right["ask"] / total["ask"] >= ASK_FLOOR, f"plain questions {right['ask']}/{total['ask']}\n{report}"


def test_stated_parts_keep_an_offer_or_a_choice_put_as_a_question():
    assert dialogue.stated_parts("Shall I top up your credit for you?", "en") == ["Shall I top up your credit for you?"]
    choice = "kakak mau isi pulsa sendiri, atau sy kirimin link isi ulang?"
    assert dialogue.stated_parts(choice, "id") == [choice]
    assert dialogue.stated_parts("udah coba isi pulsa blm kak?", "id") == []
    assert dialogue.stated_parts("Is the number new or old?", "en") == []


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


def test_a_word_cut_at_the_edge_of_the_clause_window_denies_nothing():
    offer = "begini penyelesaiannya, bu: harga lauk yang basi untuk 150 kotak kami kembalikan, ditambah biaya klinik"
    assert dialogue._has_positive_cue(offer, ["kembalikan"])  # "ga" cut from "harga" is no "ga" (not)
    assert not dialogue._has_positive_cue("maaf bu, kami tidak bisa kembalikan uangnya", ["kembalikan"])
