"""Gamed trainees cannot beat honest ones (issue 12's acceptance bar), on every scenario x language.

``tests/data/gamed_scripts.yaml`` holds eight kinds of trainee per scenario and language, written
before the scoring was rebuilt, with a fair assessor's overall ranges; ``gamed_scripts_stop28.yaml``,
``gamed_scripts_stop29.yaml``, ``gamed_scripts_stop31.yaml`` and ``gamed_scripts_stop32.yaml`` eight later sets by
other hands (sets 15 to 22,
docs/scoring.md). Played through the real service
(scripted customer, offline rules), on every pair of every set:

    excellent > terse_correct > {stuffing, empty_empathy, wrong_referral, template} > {injection, gibberish}
    injection and gibberish <= 15; nothing but excellent and terse_correct reaches 70.

The ordering among the honest kinds depends on the analyser recognising the substance of terse
lines and on the customer ending when the needs are met; the pairs where it fails are listed in
``ORDER_GAPS`` (and those where the analyser tags a gamed kind's courteous line defensive or hostile
in ``LOW_GAPS``) and expected to fail (non-strict: they pass once it does better). Everything else is
asserted on every pair.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from simulator.scenario import ScenarioLibrary
from simulator.session import SessionService

#: 800 whole conversations through the learned analyser: more than the default per-test timeout.
pytestmark = pytest.mark.timeout(1800)

DATA = Path(__file__).parent / "data" / "gamed_scripts.yaml"
MORE = [Path(__file__).parent / "data" / f"gamed_scripts_stop{n}.yaml" for n in (28, 29, 31, 32)]
#: Each entry's set: "1" for the first file, the entry's own ``set`` for the later ones.
ENTRIES = [{"set": "1", **e} for e in yaml.safe_load(DATA.read_text(encoding="utf-8"))] + [
    e for path in MORE for e in yaml.safe_load(path.read_text(encoding="utf-8"))]
HONEST = ("excellent", "terse_correct")
MIDDLE = ("stuffing", "empty_empathy", "wrong_referral", "template")
LOW = ("injection", "gibberish")
PAIRS = sorted({(e["set"], e["scenario"], e["lang"]) for e in ENTRIES})
#: Pairs where excellent > terse correct > the gamed kinds does not hold. Named here, not hidden.
#: It held wrong-agency/en ("This is the water utility; electricity is handled by PLN." read as
#: defensive without the referral) for one release, set 19's ignored-complaint/en ("Logged.
#: Complaint number ADU-0612-0457." read as defensive) until stop 34's heads, and set 17's
#: elderly-confused-app/id in stop 34 only: the customer's "fix" need was met by the explanation of
#: the cause ("Kodenya dikirim ke nomor lama itu"), until the need's near misses (`unlike`) told the
#: two apart (docs/realism.md, "Stop 35").
ORDER_GAPS: set[tuple[str, str, str]] = set()
#: Pairs where the analyser tags a gamed kind's courteous line defensive or hostile, which leaves
#: that kind at 0, level with injection and gibberish. It held catering/en ("I can only imagine how
#: humiliating that was") before hostile was chosen for precision (F0.5), and set 19's
#: elderly-confused-app/en until stop 44's heads, which read the words ("All these apps are
#: confusing, even for young people." was defensive). Set 20's, since stop 34's heads: "Technology
#: these days is so confusing, isn't it?" is read as defensive and hostile. Set 15's
#: prepaid-no-credit/en, since stop 44's heads: its empty empathy ends at 0 like injection (1.9
#: before): "Your frustration is completely valid." is read as defensive and "So sorry, we never
#: want a loyal customer like you to feel let down." as hostile by both the old and the new heads,
#: and the opening "losing connection mid-live is the worst 😢", read as `acknowledge` before, is
#: now read as nothing.
LOW_GAPS: set[tuple[str, str, str]] = {("15", "prepaid-no-credit", "en"), ("20", "elderly-confused-app", "en")}

def _gap(pairs: set, reason: str) -> list:
    return [pytest.param(*p, marks=pytest.mark.xfail(reason=reason, strict=False)) if p in pairs else p for p in PAIRS]


@pytest.fixture(scope="module")
def cards(tmp_path_factory):
    from simulator.store import open_repository

    from simulator.analysis import warm

    warm([(text, entry["lang"]) for entry in ENTRIES for text in entry["turns"]])  # one encoder batch
    service = SessionService(open_repository(f"sqlite:///{tmp_path_factory.mktemp('gamed') / 'gamed.db'}"), ScenarioLibrary())
    out: dict[tuple[str, str], dict] = defaultdict(dict)
    for entry in ENTRIES:
        record = service.start(entry["scenario"], entry["lang"], seed=0)
        card = None
        for text in entry["turns"]:
            result = service.say(record.id, text)
            if result.ended:
                card = result.scorecard
                break
        out[(entry["set"], entry["scenario"], entry["lang"])][entry["style"]] = card or service.end(record.id)
    return out


def test_every_pair_has_all_eight_kinds():
    kinds = defaultdict(set)
    for entry in ENTRIES:
        kinds[(entry["set"], entry["scenario"], entry["lang"])].add(entry["style"])
    pairs = {(s.id, s.lang) for s in ScenarioLibrary().all()}
    assert {(n, *p) for n in ("1", "15", "16", "17", "18", "19", "20", "21", "22") for p in pairs} == set(kinds)
    assert all(k == set(HONEST + MIDDLE + LOW) for k in kinds.values())


def _summary(pair: dict) -> str:
    return " ".join(f"{k}={c.overall:.0f}({c.outcome}{',' + c.cap.key if c.cap else ''})" for k, c in pair.items())


@pytest.mark.parametrize("set_name,scenario_id,lang", PAIRS)
def test_injection_and_gibberish_score_at_most_15(cards, set_name, scenario_id, lang):
    pair = cards[(set_name, scenario_id, lang)]
    summary = _summary(pair)
    for kind in LOW:
        assert pair[kind].overall <= 15, summary
    # injection is always flagged; gibberish may instead end the conversation at once (a one-turn
    # "bah bah bah" the analyser reads as hostile escalates) and score 0 on evidence alone
    assert pair["injection"].flags, f"injection: no turn flagged ({summary})"


@pytest.mark.parametrize("set_name,scenario_id,lang", _gap(LOW_GAPS, "analyser tags a courteous line defensive or hostile, see LOW_GAPS"))
def test_every_gamed_kind_beats_injection_and_gibberish(cards, set_name, scenario_id, lang):
    pair = cards[(set_name, scenario_id, lang)]
    assert min(pair[k].overall for k in MIDDLE) > max(pair[k].overall for k in LOW), _summary(pair)


@pytest.mark.parametrize("set_name,scenario_id,lang", PAIRS)
def test_only_excellent_and_terse_correct_reach_70(cards, set_name, scenario_id, lang):
    pair = cards[(set_name, scenario_id, lang)]
    for kind in MIDDLE + LOW:
        assert pair[kind].overall < 70, _summary(pair)


@pytest.mark.parametrize("set_name,scenario_id,lang", _gap(ORDER_GAPS, "see ORDER_GAPS"))
def test_excellent_beats_terse_correct_beats_gamed(cards, set_name, scenario_id, lang):
    pair = cards[(set_name, scenario_id, lang)]
    summary = _summary(pair)
    assert pair["excellent"].overall > pair["terse_correct"].overall, summary
    assert pair["terse_correct"].overall > max(pair[k].overall for k in MIDDLE), summary


def test_the_exemptions_may_shrink_but_never_grow(cards):
    failing = {
        p for p, pair in cards.items()
        if not (pair["excellent"].overall > pair["terse_correct"].overall > max(pair[k].overall for k in MIDDLE))
    }
    assert failing <= ORDER_GAPS, sorted(failing - ORDER_GAPS)
    low = {p for p, pair in cards.items() if min(pair[k].overall for k in MIDDLE) <= max(pair[k].overall for k in LOW)}
    assert low <= LOW_GAPS, sorted(low - LOW_GAPS)


def test_flagged_turns_and_caps_are_on_the_scorecard(cards):
    card = cards[("1", "water-bill-surge", "en")]["injection"]
    assert card.cap is not None and card.cap.key == "injection" and card.cap.reason
    assert all(any(f.startswith("injection:") for f in flags) for flags in card.flags.values())
    stuffed = cards[("1", "water-bill-surge", "en")]["stuffing"]
    assert any("stuffing" in flags for flags in stuffed.flags.values())
