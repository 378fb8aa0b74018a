"""Trainee scripts played through the session service: does the customer end the way a reader expects?

``tests/data/dialogue_scripts.yaml`` and ``conversation_scripts_stop27.yaml`` to
``conversation_scripts_stop45.yaml`` (written by someone else; which were development material
is in each file's header and docs/realism.md): a list of
``{id, scenario, lang, style, turns, expect: {outcomes, overall, note}}``. Each script is played
with the offline customer until the customer ends the conversation or the turns run out (then
the session is ended, ``abandoned``). The outcome must be one of ``expect.outcomes``. The overall
score range is the scoring branch's to check; here it is only reported as a figure:

    .venv/bin/python tests/test_dialogue_scripts.py    # pass rates (outcomes, score ranges), failures
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

DATA = Path(__file__).parent / "data" / "dialogue_scripts.yaml"
#: Sets K and L of stop 27, M of stop 28, N of stop 29, O-Q of stop 31, R of stop 32, T of stop 36,
#: U of stop 38, V of stop 39, W of stop 40, X and Y of stop 41, Z of stop 42, AA of stop 43, AB of
#: stop 44, AC of stop 45 (docs/realism.md), written later by other hands in the same format.
MORE = [Path(__file__).parent / "data" / f"conversation_scripts_stop{n}.yaml" for n in (27, 28, 29, 31, 32, 36, 38, 39, 40, 41, 42, 43, 44, 45)]
SCRIPTS = [s for path in (DATA, *MORE) for s in yaml.safe_load(path.read_text(encoding="utf-8"))]


def play(service, script: dict) -> tuple[str, float, list[tuple[str, str]]]:
    """(outcome, overall, transcript) of one script."""
    record = service.start(script["scenario"], script["lang"], seed=0)
    card = None
    for text in script["turns"]:
        result = service.say(record.id, text)
        if result.ended:
            card = result.scorecard
            break
    card = card or service.end(record.id)
    transcript = [(t.speaker, t.text) for t in service.transcript(record.id)]
    return card.outcome, card.overall, transcript


def _in_range(value: float, expected) -> bool | None:
    if not expected:
        return None
    if isinstance(expected, dict):
        low, high = expected.get("min", 0), expected.get("max", 100)
    else:
        low, high = expected[0], expected[1]
    return low <= value <= high


#: Scripts the offline customer still gets wrong, with why (kept visible, not tuned away).
_RUNS_OUT = ("the script ends with the customer still there, which is `abandoned` here; its writer expected the "
             "customer to leave, or `turn_limit` (set T, stop 36)")
KNOWN_FAILURES: dict[str, str] = {
    "catering-stale-food-id-long_uneven-T": _RUNS_OUT,
    "elderly-confused-app-id-offscript-T": _RUNS_OUT,
    "ignored-complaint-en-long_uneven-T": _RUNS_OUT,
    "vehicle-registration-delay-en-long_uneven-T": _RUNS_OUT,
    "water-bill-surge-en-hollow-T": _RUNS_OUT,
    "water-bill-surge-id-long_uneven-T": _RUNS_OUT,
    "prepaid-no-credit-id-excellent-T": "the top-up advice and a 10-minute standby leave the customer still watching, "
                                        "not satisfied, when the script ends (set T, stop 36)",
    # Set V (stop 39), written by someone who saw only the scenario briefs: terse and recovering handlers.
    "elderly-confused-app-id-terse-V": "\"Sy ganti sekarang nggih\" is not heard as updating the number and \"Ketik 6 "
                                       "angka dari SMS. Sudah masuk?\" draws the story of yesterday's expired code; "
                                       "he is still there when the script ends (set V, stop 39)",
    "threat-violence-en-terse-V": "the guard called in a terse turn after \"I hear you\" escalates him to filming "
                                  "(set V, stop 39)",
    "prepaid-no-credit-en-terse-V": "a volatile customer: \"No outage there; your data package ran out\" and \"Easy "
                                    "fix!\" are read as defensive and hostile; he is still there, unsatisfied, when the "
                                    "script ends (set V, stop 39)",
    "threat-violence-en-offers_as_questions-V": "an offer of the claim draws his parcel details again and an offer of "
                                                "a direct number \"I don't really know\"; he is still there when the "
                                                "script ends (set V, stop 39)",
    # Set W (stop 40), by another hand: recovering, terse, defensive and hollow handlers.
    "water-bill-surge-id-hollow-W": _RUNS_OUT.replace("set T, stop 36", "set W, stop 40"),
    # Stop 41, sets X and Y by other hands.
    "catering-stale-food-en-recovering-X": "the admission \"so it's our scheduling mistake, fully ours\" is read as "
                                           "defensive (the analyser, issue 10) and she walks out (set X, stop 41)",
    "elderly-confused-app-id-hollow-X": _RUNS_OUT.replace("set T, stop 36", "set X, stop 41"),
    "catering-stale-food-id-vague-Y": "since stop 42 \"Kalo soal ganti rugi nanti sy tanyain ke atasan dulu, sy blm bisa "
                                      "janji apa2\" meets no refund, but she is still there when the script ends (set Y, "
                                      "stop 41)",
    "prepaid-no-credit-id-defensive-Y": "\"Mohon dicek dulu pulsa & kuotanya sblm komplain di publik\" is read as a "
                                        "question, not blame, and a counter-threat of legal consequences as empty (the "
                                        "analyser, issue 10); he is still there when the script ends (set Y, stop 41)",
    "wrong-agency-id-defensive-Y": "\"Telpon PLN lah Bu, nomornya cari di google aja\" is a right referral without its "
                                   "detail and wins patience back; she is still there when the script ends (set Y, stop 41)",
    # Stop 44: the heads that read the turn's words read one turn of set Z otherwise.
    "wrong-agency-id-defensive-Z": "\"Bu, niki PDAM, ngurus banyu. Listrik mati kok ke sini, ya salah alamat to.\" and "
                                   "\"Ya silakan Ibu cari sendiri kantor listriknya\" are not read as blame (the "
                                   "analyser, issue 10); she is still there when the script ends (set Z, stop 44)",
    # Stop 44, set AB by another hand.
    "prepaid-no-credit-en-terse-AB": "\"Network in your area is normal\" after the check is read as defensive and \"Let me "
                                     "know if it's not back in 5 mins, I'm staying on this chat\" as an empty turn; he "
                                     "leaves for another network though the fix was given (set AB, stop 44)",
    "prepaid-no-credit-id-mixed-AB": "\"Lain kali mending cek sisa pulsa dulu … sebelum posting 😅\" is not read as a "
                                     "lecture (the analyser, issue 10); the fix is given and he is still there, "
                                     "watching, when the script ends (set AB, stop 44)",
    "threat-violence-en-terse-AB": "\"Pak Yusuf, counter please. ... Sir, that's for everyone's safety\" is read as "
                                   "defensive, not as calling the guard; he is still there when the script ends (set "
                                   "AB, stop 44)",
    "vehicle-registration-delay-en-mixed-AB": _RUNS_OUT.replace("set T, stop 36", "set AB, stop 44"),
}


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    from simulator.session import SessionService
    from simulator.store import open_repository

    return SessionService(open_repository(f"sqlite:///{tmp_path_factory.mktemp('scripts') / 'scripts.db'}"))


@pytest.mark.skipif(not SCRIPTS, reason="tests/data/dialogue_scripts.yaml is not there yet")
@pytest.mark.parametrize("script", [
    pytest.param(s, id=s["id"], marks=pytest.mark.xfail(reason=KNOWN_FAILURES[s["id"]], strict=False))
    if s["id"] in KNOWN_FAILURES else pytest.param(s, id=s["id"])
    for s in SCRIPTS
])
def test_script_ends_as_expected(service, script):
    outcome, overall, transcript = play(service, script)
    expected = script["expect"]["outcomes"]
    lines = "\n".join(f"  {speaker}: {text}" for speaker, text in transcript)
    assert outcome in expected, f"{script['id']} ({script['style']}): {outcome}, expected {expected}\n{lines}"


def report(out=sys.stdout, scripts: list[dict] | None = None) -> dict:
    """Pass rates over all scripts: outcomes, and score ranges (a figure, not an assertion)."""
    scripts = SCRIPTS if scripts is None else scripts
    from simulator.session import SessionService
    from simulator.store import open_repository

    service = SessionService(open_repository("sqlite://"))
    outcome_ok = score_ok = scored = 0
    by_style: dict[str, list[int]] = {}
    for script in scripts:
        outcome, overall, _ = play(service, script)
        ok = outcome in script["expect"]["outcomes"]
        outcome_ok += ok
        stats = by_style.setdefault(script["style"], [0, 0])
        stats[0] += ok
        stats[1] += 1
        in_range = _in_range(overall, script["expect"].get("overall"))
        if in_range is not None:
            scored += 1
            score_ok += in_range
        if not ok:
            print(f"FAIL {script['id']} ({script['style']}): {outcome}, expected {script['expect']['outcomes']}", file=out)
    n = len(scripts)
    print(f"outcomes: {outcome_ok}/{n} ({100 * outcome_ok / max(n, 1):.0f}%)", file=out)
    print(f"score ranges: {score_ok}/{scored} ({100 * score_ok / max(scored, 1):.0f}%)", file=out)
    for style, (good, total) in sorted(by_style.items()):
        print(f"  {style}: {good}/{total}", file=out)
    return {"outcomes": (outcome_ok, n), "scores": (score_ok, scored), "by_style": by_style}


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    # Another file of the same format: tests/test_dialogue_scripts.py tests/data/gamed_scripts.yaml
    report(scripts=yaml.safe_load(Path(sys.argv[1]).read_text(encoding="utf-8")) if len(sys.argv) > 1 else None)
