"""Questions a trainee asks for what the customer knows, written by people who never saw the scenario's cue
words or example questions (``tests/data/probe_questions_stop32.yaml`` and ``_stop33.yaml``; turns with two
questions in ``two_question_turns_stop33.yaml``; chat, polite and embedded questions and statements in
``probe_questions_stop34.yaml``; either/or questions, requests to see something beside a question, and three
questions in one turn in ``multi_part_turns_stop38.yaml``; docs/realism.md "Stop 32" to "Stop 38").

Floors, not targets: at stop 33, 72% (id) and 78% (en) of the questions for an item asked for it first, 65% and
57% of the questions no customer can answer asked for nothing; in turns with an item and a question no customer
can answer, the item was asked in 28 of 30 per language and "I don't know" said in 9 of 30. The floors are a
little below that, so a change that makes the customer understand fewer questions fails here. Semantic matching
only: without the encoder, the word-overlap matcher reads a different share and this is skipped.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from simulator.analysis import analyze
from simulator.dialogue import asked_items, default_matcher
from simulator.scenario import ScenarioLibrary, Situation
from simulator.session import SessionService
from simulator.understanding import encoder

DATA = Path(__file__).parent / "data"
PROBES = [p for name in ("probe_questions_stop32.yaml", "probe_questions_stop33.yaml")
          for p in yaml.safe_load((DATA / name).read_text(encoding="utf-8"))]
REGISTERS = yaml.safe_load((DATA / "probe_questions_stop34.yaml").read_text(encoding="utf-8"))
#: Set 34: share of the chat questions (often typed without '?') that ask for their item first. At
#: stop 34, 43 of 52 (id) and 42 of 52 (en); on stop 33's code 31 and 19, the head having learnt the '?'.
CHAT_FLOOR = 0.75
#: Set 34: share of the statements on the items' topics that ask for nothing (28 of 30 per language).
STATEMENT_FLOOR = 0.85
TWO_QUESTIONS = yaml.safe_load((DATA / "two_question_turns_stop33.yaml").read_text(encoding="utf-8"))
#: Share of an item's questions that must ask for it first, and of the unanswerable ones that must ask for nothing.
ITEM_FLOOR = 0.68
UNKNOWABLE_FLOOR = 0.50
#: In a turn with an item and a question no customer can answer: share of the items asked, and of the
#: unanswerable questions that draw "I don't know" (or "not yet").
SECOND_ITEM_FLOOR = 0.85
DONT_KNOW_FLOOR = 0.22
MULTI_PART = yaml.safe_load((DATA / "multi_part_turns_stop38.yaml").read_text(encoding="utf-8"))
#: Set 38, per language: share of the either/or questions that ask for their item (stop 38: 19 of 20 en,
#: 17 of 20 id), of the requests to see something read as one (17 and 17; 16 and 11 before), and of the
#: items asked beside them or three in one turn (59 and 57 of 64; 59 and 52 before).
EITHER_OR_FLOOR = 0.80
SEE_FLOOR = 0.80
MULTI_ITEM_FLOOR = 0.85


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
    assert counts["item"] >= 400 and counts["unknowable"] >= 120
    assert counts["item right"] / counts["item"] >= ITEM_FLOOR, counts
    assert counts["unknowable right"] / counts["unknowable"] >= UNKNOWABLE_FLOOR, counts


@pytest.mark.skipif(encoder.get_encoder() is None, reason=encoder.status().reason)
@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_question_nobody_can_answer_beside_one_they_can_gets_i_dont_know(lang, repo):
    """Played as a first turn: the item is told, and the other question is met with "that one I
    don't know" rather than another fact or silence."""
    service = SessionService(repo, ScenarioLibrary())
    unknown = {Situation.other_unknown, Situation.answer_unknown, Situation.not_yet}
    turns = [t for t in TWO_QUESTIONS if t["lang"] == lang and None in t["items"]]
    asked = dont_know = 0
    for turn in turns:
        record = service.start(turn["scenario"], lang, seed=0)
        service.say(record.id, turn["text"])
        did = service.transcript(record.id)[-2].mood["dialogue"]["did"]
        item = next(i for i in turn["items"] if i)
        asked += item in (did.get("asked") or [])
        replies = set(did.get("other_questions") or []) | ({"answer_unknown"} if did.get("unknown_question") else set())
        dont_know += bool(replies & {s.value for s in unknown})
    assert len(turns) >= 30
    assert asked / len(turns) >= SECOND_ITEM_FLOOR, (asked, len(turns))
    assert dont_know / len(turns) >= DONT_KNOW_FLOOR, (dont_know, len(turns))


@pytest.mark.skipif(encoder.get_encoder() is None, reason=encoder.status().reason)
@pytest.mark.parametrize("lang", ["id", "en"])
def test_chat_questions_without_their_mark_ask_and_statements_do_not(lang):
    library, matcher = ScenarioLibrary(), default_matcher()
    counts: Counter[str] = Counter()
    for probe in (p for p in REGISTERS if p["lang"] == lang and p["register"] in ("chat", "statement")):
        scenario = library.get(probe["scenario"], lang)
        ids = asked_items(probe["text"], analyze(probe["text"], lang=lang, scenario=scenario), scenario, matcher).ids
        counts[probe["register"]] += 1
        counts[f"{probe['register']} right"] += (ids[:1] == [probe["item"]]) if probe["item"] else not ids
    assert counts["chat"] >= 50 and counts["statement"] >= 30
    assert counts["chat right"] / counts["chat"] >= CHAT_FLOOR, counts
    assert counts["statement right"] / counts["statement"] >= STATEMENT_FLOOR, counts


@pytest.mark.skipif(encoder.get_encoder() is None, reason=encoder.status().reason)
@pytest.mark.parametrize("lang", ["id", "en"])
def test_either_or_and_several_questions_in_one_turn_ask_for_each_item(lang):
    """"Pagi atau siang?" asks which (no check to confirm); "May I see the photos? And when did you
    open the boxes?" asks for both; three questions listed in one sentence ask for three items."""
    library, matcher = ScenarioLibrary(), default_matcher()
    counts: Counter[str] = Counter()
    for probe in (p for p in MULTI_PART if p["lang"] == lang and p["kind"] != "sympathy_only"):
        scenario = library.get(probe["scenario"], lang)
        asked = asked_items(probe["text"], analyze(probe["text"], lang=lang, scenario=scenario), scenario, matcher)
        items = [i for i in probe["items"] if i]
        group = "either_or" if probe["kind"] == "either_or" else "items"
        counts[group] += len(items)
        counts[f"{group} right"] += sum(i in asked.ids for i in items)
        if probe["kind"] == "evidence_and_question":
            counts["see"] += 1
            counts["see right"] += asked.evidence
    assert counts["either_or"] >= 20 and counts["see"] >= 20 and counts["items"] >= 60, counts
    assert counts["either_or right"] / counts["either_or"] >= EITHER_OR_FLOOR, counts
    assert counts["see right"] / counts["see"] >= SEE_FLOOR, counts
    assert counts["items right"] / counts["items"] >= MULTI_ITEM_FLOOR, counts
