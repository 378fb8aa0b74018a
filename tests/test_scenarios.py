"""The built-in scenarios, the shared line banks and the loader's error reporting."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from simulator.datafile import format_problem
from simulator.scenario import (
    LANGUAGES,
    SCENARIO_ROOT,
    Fault,
    ReferralTarget,
    Scenario,
    ScenarioError,
    ScenarioLibrary,
    Situation,
    Temperament,
    UnknownScenario,
    line_text,
    lines_for,
    load_line_bank,
    load_scenario_file,
    parse_scenario,
)

# DESIGN.md "Built-in scenario ids — contract".
CONTRACT_IDS = {
    "water-bill-surge",
    "prepaid-no-credit",
    "catering-stale-food",
    "vehicle-registration-delay",
    "threat-violence",
    "threat-lawsuit",
    "elderly-confused-app",
    "wrong-agency",
    "ignored-complaint",
    "warranty-defect",
}

# What DOMAIN.md says about each situation: whose fault, where to refer, whether a remedy is due.
EXPECTED = {
    "water-bill-surge": (Fault.institution, ReferralTarget.none, True),
    "prepaid-no-credit": (Fault.customer, ReferralTarget.none, False),
    "catering-stale-food": (Fault.institution, ReferralTarget.none, True),
    "vehicle-registration-delay": (Fault.third_party, ReferralTarget.other, False),
    "threat-violence": (Fault.unclear, ReferralTarget.security, False),
    "threat-lawsuit": (Fault.unclear, ReferralTarget.legal, False),
    "elderly-confused-app": (Fault.nobody, ReferralTarget.none, False),
    "wrong-agency": (Fault.third_party, ReferralTarget.other, False),
    "ignored-complaint": (Fault.institution, ReferralTarget.none, False),
    "warranty-defect": (Fault.institution, ReferralTarget.none, True),
}

BUILTIN_FILES = sorted(p for lang in LANGUAGES for p in (SCENARIO_ROOT / lang).glob("*.yaml"))


@pytest.fixture(scope="module")
def library() -> ScenarioLibrary:
    return ScenarioLibrary()


def both(library: ScenarioLibrary, scenario_id: str) -> tuple[Scenario, Scenario]:
    return library.get(scenario_id, "id"), library.get(scenario_id, "en")


def all_builtin() -> list[tuple[str, str]]:
    return [(sid, lang) for sid in sorted(CONTRACT_IDS) for lang in LANGUAGES]


# --- the library as a whole -------------------------------------------------------------------


def test_library_holds_exactly_the_contract_ids_in_both_languages(library):
    assert library.problems == []
    assert set(library.ids()) == CONTRACT_IDS
    for lang in LANGUAGES:
        assert {s.id for s in library.all(lang)} == CONTRACT_IDS, lang
    assert len(BUILTIN_FILES) == 2 * len(CONTRACT_IDS)


@pytest.mark.parametrize("path", BUILTIN_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_builtin_file_loads_on_its_own(path):
    scenario = load_scenario_file(path)
    assert scenario.id == path.stem
    assert scenario.lang == path.parent.name


def test_unknown_id_lists_the_known_ids(library):
    with pytest.raises(UnknownScenario) as info:
        library.get("no-such-scenario", "id")
    message = str(info.value)
    assert "no-such-scenario" in message
    for sid in CONTRACT_IDS:
        assert sid in message


def test_unknown_language_is_reported(library):
    with pytest.raises(UnknownScenario, match="choose one of: id, en"):
        library.get("water-bill-surge", "fr")


# --- the two languages agree ------------------------------------------------------------------


@pytest.mark.parametrize("scenario_id", sorted(CONTRACT_IDS))
def test_languages_agree_on_structure(library, scenario_id):
    ind, eng = both(library, scenario_id)
    assert [f.id for f in ind.hidden_facts] == [f.id for f in eng.hidden_facts]
    assert {f.id for f in ind.hidden_facts if f.is_cause} == {f.id for f in eng.hidden_facts if f.is_cause}
    assert ind.fault == eng.fault
    assert ind.handling.referral.target == eng.handling.referral.target
    assert ind.handling.compensation_due == eng.handling.compensation_due
    assert ind.handling.needs_cause == eng.handling.needs_cause
    assert ind.handling.max_days == eng.handling.max_days
    assert ind.persona.temperament == eng.persona.temperament
    assert ind.persona.mood == eng.persona.mood
    assert ind.difficulty == eng.difficulty
    assert ind.max_turns == eng.max_turns
    assert set(ind.lines) == set(eng.lines)
    # Written separately in each language, not left untranslated.
    assert ind.opening != eng.opening
    assert ind.briefing.goal != eng.briefing.goal


@pytest.mark.parametrize("scenario_id", sorted(CONTRACT_IDS))
def test_handling_matches_the_domain_table(library, scenario_id):
    fault, target, compensation = EXPECTED[scenario_id]
    for scenario in both(library, scenario_id):
        assert scenario.fault is fault
        assert scenario.handling.referral.target is target
        assert scenario.handling.compensation_due is compensation


def test_cause_finding_matters_except_where_it_does_not(library):
    for lang in LANGUAGES:
        assert library.get("threat-violence", lang).handling.needs_cause is False
        assert library.get("wrong-agency", lang).handling.needs_cause is False
        for sid in ("water-bill-surge", "prepaid-no-credit", "catering-stale-food", "warranty-defect",
                    "elderly-confused-app"):
            assert library.get(sid, lang).handling.needs_cause is True, sid


def test_referrals_name_the_right_party(library):
    for lang in LANGUAGES:
        wrong = library.get("wrong-agency", lang).handling.referral
        assert {"pln", "123", "ulp"} <= set(wrong.accept_cues)
        assert "PLN" in wrong.party and "123" in wrong.contact
        vehicle = library.get("vehicle-registration-delay", lang).handling.referral
        assert "samsat" in vehicle.accept_cues and "Samsat" in vehicle.party
        legal = library.get("threat-lawsuit", lang).handling.referral
        assert legal.party and legal.contact and "ext. 304" in legal.contact


# --- content quality of each scenario ---------------------------------------------------------


@pytest.mark.parametrize(("scenario_id", "lang"), all_builtin())
def test_scenario_content_is_complete(library, scenario_id, lang):
    s = library.get(scenario_id, lang)
    assert 2 <= len(s.hidden_facts) <= 4
    if s.handling.needs_cause:
        assert any(f.is_cause for f in s.hidden_facts), "the cause must be findable by a question"
    assert 3 <= len(s.learning_points) <= 5
    assert 10 <= s.max_turns <= 14
    cues = [*s.problem_cues, *(c for f in s.hidden_facts for c in f.asked_by), *s.handling.referral.accept_cues]
    for cue in cues:
        assert cue == cue.lower() and cue == cue.strip(), f"cue {cue!r} must be lower-case and trimmed"
    if s.handling.referral.target is not ReferralTarget.none:
        assert s.handling.referral.party and s.handling.referral.contact


@pytest.mark.parametrize(("scenario_id", "lang"), all_builtin())
def test_persona_mood_fits_the_temperament(library, scenario_id, lang):
    persona = library.get(scenario_id, lang).persona
    mood = persona.mood
    match persona.temperament:
        case Temperament.angry:
            assert mood.anger >= 6 and mood.trust <= 3
        case Temperament.threatening:
            assert mood.anger >= 7 and 3 <= mood.threat <= 7
        case Temperament.confused:
            assert mood.anger <= 4 and mood.trust >= 3
        case Temperament.anxious:
            assert mood.anger <= 5 and mood.trust <= 4
    if persona.temperament is not Temperament.threatening:
        assert mood.threat == 0


@pytest.mark.parametrize(("scenario_id", "lang"), all_builtin())
def test_scenario_gives_its_own_lines_where_it_has_its_own_flavour(library, scenario_id, lang):
    s = library.get(scenario_id, lang)
    required = {Situation.resolved, Situation.walked_away, Situation.escalated, Situation.calmer, Situation.angrier}
    if s.threatening or scenario_id in {"ignored-complaint", "prepaid-no-credit"}:
        required.add(Situation.threat)
    if s.handling.referral.target is not ReferralTarget.none:
        required |= {Situation.accept_referral, Situation.wrong_referral}
    if s.handling.compensation_due:
        required.add(Situation.asks_remedy)
    missing = required - set(s.lines)
    assert not missing, f"missing scenario lines for {sorted(missing)}"
    for situation, lines in s.lines.items():
        stripped = [line_text(line).strip() for line in lines]
        assert all(stripped), situation
        assert len(set(stripped)) == len(stripped), f"duplicate lines in {situation}"
        assert len(stripped) >= 2, f"{situation} needs several distinct lines"


# Natural trainee questions: each must reach exactly the hidden fact it is meant for.
QUESTIONS = {
    ("water-bill-surge", "id"): {
        "meter_reading": "Boleh saya tahu angka meteran di rumah Ibu sekarang berapa?",
        "usage_history": "Biasanya tagihan Ibu per bulan berapa?",
        "no_leak": "Apakah ada kebocoran pipa di rumah?",
        "customer_number": "Boleh saya minta nomor sambungan Ibu?",
    },
    ("water-bill-surge", "en"): {
        "meter_reading": "What does your meter show right now?",
        "usage_history": "How much is your bill usually?",
        "no_leak": "Could there be a leak somewhere in the pipes?",
        "customer_number": "Could I have your connection number, please?",
    },
    ("prepaid-no-credit", "id"): {
        "balance_zero": "Boleh dicek dulu, pulsa atau kuota Kakak masih ada?",
        "contact_number": "Boleh minta nomor HP-nya lewat DM?",
        "others_fine": "Teman-teman di sekitar Kakak juga mengalami hal yang sama?",
        "since_when": "Sejak jam berapa gangguannya terjadi?",
    },
    ("prepaid-no-credit", "en"): {
        "balance_zero": "Could you check whether you still have credit on your package?",
        "contact_number": "Could you DM me your number?",
        "others_fine": "Is anyone around you having the same problem?",
        "since_when": "Since when has it been down?",
    },
    ("catering-stale-food", "id"): {
        "which_dish": "Lauk yang mana saja yang basi, Bu?",
        "delivery_time": "Makanannya datang jam berapa, Bu?",
        "guests_ill": "Berapa orang tamu yang sakit?",
        "order_detail": "Boleh saya lihat notanya, pesanan atas nama siapa?",
    },
    ("catering-stale-food", "en"): {
        "which_dish": "Which dishes were spoiled?",
        "delivery_time": "What time was the food delivered?",
        "guests_ill": "How many guests got sick?",
        "order_detail": "Could I see your receipt and the name on the order?",
    },
    ("vehicle-registration-delay", "id"): {
        "purchase": "Mas belinya tanggal berapa?",
        "promise": "Waktu itu sales kami menjanjikan berapa lama?",
        "samsat_receipt": "Apakah Mas sudah dapat tanda terima dari Samsat?",
        "daily_need": "Motornya biasanya dipakai untuk kerja?",
    },
    ("vehicle-registration-delay", "en"): {
        "purchase": "When did you buy the bike?",
        "promise": "How long did our salesman say it would take?",
        "samsat_receipt": "Did the registration desk give you anything from Samsat?",
        "daily_need": "Do you use the bike to get to work?",
    },
    ("threat-violence", "id"): {
        "receipt": "Boleh saya minta nomor resinya, Bang?",
        "tracking_stuck": "Status terakhir di aplikasi bagaimana?",
        "customers_waiting": "Paket ini untuk usaha Abang, ya?",
    },
    ("threat-violence", "en"): {
        "receipt": "Can I have your tracking number?",
        "tracking_stuck": "What's the last status it shows in the app?",
        "customers_waiting": "Is this stock for your shop?",
    },
    ("threat-lawsuit", "id"): {
        "cancel_ticket": "Bapak mengajukan pemutusan tanggal berapa?",
        "modem_return": "Modemnya sudah dikembalikan, Pak?",
        "collector_calls": "Penagihnya menghubungi siapa saja, Pak?",
        "account": "Boleh saya minta nomor pelanggan Bapak?",
    },
    ("threat-lawsuit", "en"): {
        "cancel_ticket": "Do you have the cancellation ticket?",
        "modem_return": "Did you return the modem?",
        "collector_calls": "Who has the collector been calling?",
        "account": "Could I have your customer number?",
    },
    ("elderly-confused-app", "id"): {
        "old_number": "Nomor HP yang Bapak daftarkan di bank itu nomor yang ini?",
        "otp_expired": "Apakah kodenya pernah masuk sebelumnya, Pak?",
        "pin_written": "PIN-nya Bapak simpan di mana?",
        "purpose": "Aplikasinya mau Bapak pakai untuk apa?",
    },
    ("elderly-confused-app", "en"): {
        "old_number": "Which phone number did you give the bank?",
        "otp_expired": "Have you ever received a code before?",
        "pin_written": "How do you remember your PIN?",
        "purpose": "What would you like to use the app for?",
    },
    ("wrong-agency", "id"): {
        "neighbours_have_power": "Rumah tetangga juga padam, Bu?",
        "meter_display": "Layar meteran listriknya menunjukkan apa, Bu?",
        "pln_id": "Ibu punya ID pelanggan PLN-nya?",
        "nobody_called": "Ibu sudah coba telepon PLN?",
    },
    ("wrong-agency", "en"): {
        "neighbours_have_power": "Do your neighbours have power?",
        "meter_display": "What does the screen on your meter say?",
        "pln_id": "Do you have your PLN customer ID?",
        "nobody_called": "Have you called PLN yet?",
    },
    ("ignored-complaint", "id"): {
        "previous_complaints": "Bapak sebelumnya mengadu lewat mana saja?",
        "registration_no": "Boleh saya lihat tanda terima permohonannya?",
        "file_flagged": "Apa kendalanya waktu Bapak datang bulan lalu?",
        "deadline": "KTP-nya Bapak butuhkan untuk apa?",
    },
    ("ignored-complaint", "en"): {
        "previous_complaints": "How did you complain before?",
        "registration_no": "Do you have your application number?",
        "file_flagged": "Did anyone tell you what the problem with your file was?",
        "deadline": "Is there a deadline you need it by?",
    },
    ("warranty-defect", "id"): {
        "symptoms": "Bagaimana kronologinya waktu motornya mogok?",
        "led_from_dealer": "Lampu LED-nya dipasang di mana, Mbak?",
        "regulator_burnt": "Hasil diagnosa mekanik kemarin apa?",
        "purchase_and_costs": "Motornya dibeli kapan dan sudah berapa kilometer?",
    },
    ("warranty-defect", "en"): {
        "symptoms": "What happened before it broke down?",
        "led_from_dealer": "Who installed the LED lamp?",
        "regulator_burnt": "What did the mechanic find?",
        "purchase_and_costs": "When did you buy it and what's the mileage?",
    },
}


def facts_reached(scenario: Scenario, question: str) -> set[str]:
    text = question.lower()
    return {f.id for f in scenario.hidden_facts if any(cue in text for cue in f.asked_by)}


def test_question_table_covers_every_builtin_fact(library):
    assert set(QUESTIONS) == set(all_builtin())
    for (sid, lang), questions in QUESTIONS.items():
        assert set(questions) == {f.id for f in library.get(sid, lang).hidden_facts}, (sid, lang)


@pytest.mark.parametrize(("scenario_id", "lang"), all_builtin())
def test_every_hidden_fact_is_reached_by_a_natural_question(library, scenario_id, lang):
    scenario = library.get(scenario_id, lang)
    for fact_id, question in QUESTIONS[(scenario_id, lang)].items():
        assert facts_reached(scenario, question) == {fact_id}, question


@pytest.mark.parametrize(("scenario_id", "lang"), all_builtin())
def test_restating_the_opening_problem_uses_the_problem_cues(library, scenario_id, lang):
    scenario = library.get(scenario_id, lang)
    opening = scenario.opening.lower()
    assert any(cue in opening for cue in scenario.problem_cues)


# --- shared line banks ------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_bank_covers_every_temperament_and_situation(lang):
    """Every temperament x situation has lines, in its own section or in the shared ``any``
    section (the reply types of the dialogue policy); the mood situations keep 5+ per temperament."""
    raw = yaml.safe_load((SCENARIO_ROOT / "lines" / f"{lang}.yaml").read_text(encoding="utf-8"))
    assert set(raw) == {t.value for t in Temperament} | {"any"}

    def text(line):
        return line if isinstance(line, str) else line["text"]

    shared = raw["any"]
    for temperament in Temperament:
        for situation in Situation:
            lines = raw[temperament.value].get(situation.value, []) + shared.get(situation.value, [])
            texts = [text(line) for line in lines]
            assert all(isinstance(t, str) and t.strip() for t in texts), (temperament, situation)
            assert len({t.strip() for t in texts}) == len(texts), f"duplicate in {temperament}/{situation}"
            if situation.value in raw[temperament.value]:
                assert len(texts) >= 5, (temperament, situation)
            else:
                assert len(texts) >= 2, (temperament, situation)
    bank = load_line_bank(lang)
    assert set(bank) == set(Temperament)
    assert all(set(bank[t]) == set(Situation) for t in Temperament)


def test_banks_are_in_their_own_language():
    ind, eng = load_line_bank("id"), load_line_bank("en")
    for temperament in Temperament:
        for situation in Situation:
            assert not set(ind[temperament][situation]) & set(eng[temperament][situation])
    assert load_line_bank("id") is ind  # cached


def test_lines_for_puts_scenario_lines_first_then_the_bank_without_duplicates(library):
    scenario = library.get("water-bill-surge", "id")
    bank = load_line_bank("id")[Temperament.angry][Situation.resolved]
    own = [line_text(line) for line in scenario.lines[Situation.resolved]]
    combined = lines_for(scenario, Situation.resolved)
    assert combined[: len(own)] == own
    assert combined[len(own):] == [line for line in bank if line not in own]
    assert len(combined) == len(set(combined))
    assert lines_for(scenario, "resolved") == combined

    # A line both in the scenario and in the bank appears once, in the scenario's position.
    bank_line = load_line_bank("id")[Temperament.angry][Situation.turn_limit][2]
    duplicated = scenario.model_copy(update={"lines": {Situation.turn_limit: ["Baru", bank_line, "Baru "]}})
    result = lines_for(duplicated, Situation.turn_limit)
    assert result[:2] == ["Baru", bank_line]
    assert result.count(bank_line) == 1
    assert len(result) == 1 + len(load_line_bank("id")[Temperament.angry][Situation.turn_limit])


def test_lines_for_falls_back_to_the_bank_of_the_persona_temperament(library):
    scenario = library.get("elderly-confused-app", "en")
    assert Situation.vague_time not in scenario.lines
    bank = load_line_bank("en")[Temperament.confused][Situation.vague_time]
    assert lines_for(scenario, Situation.vague_time) == [line_text(line) for line in bank]


def test_incomplete_bank_is_reported_with_file_and_field(tmp_path):
    raw = yaml.safe_load((SCENARIO_ROOT / "lines" / "en.yaml").read_text(encoding="utf-8"))
    del raw["anxious"]["turn_limit"]
    raw["angry"]["calmer"] = ["fine", ""]
    (tmp_path / "en.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_line_bank("en", root=tmp_path)
    text = str(info.value)
    source = str(tmp_path / "en.yaml")
    assert f"{source}: angry.calmer.1: " in text
    assert all(line.startswith(f"{source}: ") for line in text.splitlines())


def test_bank_missing_a_situation_is_reported(tmp_path):
    raw = yaml.safe_load((SCENARIO_ROOT / "lines" / "id.yaml").read_text(encoding="utf-8"))
    del raw["anxious"]["turn_limit"]
    (tmp_path / "id.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ScenarioError, match="'anxious' has no lines for situation 'turn_limit'"):
        load_line_bank("id", root=tmp_path)


# --- malformed files --------------------------------------------------------------------------


def _good_yaml() -> str:
    return (SCENARIO_ROOT / "id" / "water-bill-surge.yaml").read_text(encoding="utf-8")


def test_malformed_file_is_reported_and_the_others_still_load(tmp_path):
    folder = tmp_path / "id"
    folder.mkdir()
    shutil.copy(SCENARIO_ROOT / "id" / "water-bill-surge.yaml", folder / "water-bill-surge.yaml")
    shutil.copy(SCENARIO_ROOT / "id" / "wrong-agency.yaml", folder / "wrong-agency.yaml")
    broken = _good_yaml().replace("id: water-bill-surge", "id: broken", 1)
    broken = broken.replace("difficulty: 2", "difficulty: 9", 1).replace("temperament: angry", "temperament: furious", 1)
    bad_path = folder / "broken.yaml"
    bad_path.write_text(broken, encoding="utf-8")

    library = ScenarioLibrary(tmp_path)

    assert library.ids() == ["water-bill-surge", "wrong-agency"]
    fields = {field for file, field, _ in library.problems}
    assert {file for file, _, _ in library.problems} == {str(bad_path)}
    assert fields == {"difficulty", "persona.temperament"}

    with pytest.raises(ScenarioError) as info:
        load_scenario_file(bad_path)
    lines = str(info.value).splitlines()
    assert len(lines) == 2
    assert any(re.fullmatch(rf"{re.escape(str(bad_path))}: difficulty: .*less than or equal to 3", ln) for ln in lines)
    assert any(line.startswith(f"{bad_path}: persona.temperament: ") and "angry" in line for line in lines)
    assert all(line == format_problem(*p) for line, p in zip(lines, info.value.problems, strict=True))


def test_invalid_yaml_and_name_mismatch_are_reported(tmp_path):
    folder = tmp_path / "en"
    folder.mkdir()
    (folder / "syntax.yaml").write_text("id: [unclosed\ntitle: x\n", encoding="utf-8")
    (folder / "renamed.yaml").write_text(_good_yaml(), encoding="utf-8")  # id and lang disagree with the path
    (folder / "list.yaml").write_text("- just\n- a list\n", encoding="utf-8")

    library = ScenarioLibrary(tmp_path)

    assert library.ids() == []
    by_file = {}
    for file, field, message in library.problems:
        by_file.setdefault(Path(file).name, []).append((field, message))
    assert by_file["syntax.yaml"][0][0].startswith("line ")
    assert "invalid YAML" in by_file["syntax.yaml"][0][1]
    assert {field for field, _ in by_file["renamed.yaml"]} == {"id", "lang"}
    assert by_file["list.yaml"] == [("(root)", "expected a mapping of scenario fields")]


def test_missing_and_misspelled_fields_name_their_path():
    data = yaml.safe_load(_good_yaml())
    del data["persona"]["speaking_style"]
    data["handling"]["refferal"] = {"target": "legal"}
    data["hidden_facts"][1]["id"] = "meter_reading"
    with pytest.raises(ScenarioError) as info:
        parse_scenario(yaml.safe_dump(data, allow_unicode=True), "x.yaml")
    fields = {field for _, field, _ in info.value.problems}
    assert fields == {"persona.speaking_style", "handling.refferal", "hidden_facts"}
    assert "x.yaml: hidden_facts: " in str(info.value) and "meter_reading" in str(info.value)


def test_referral_other_without_accept_cues_is_rejected():
    data = yaml.safe_load((SCENARIO_ROOT / "en" / "wrong-agency.yaml").read_text(encoding="utf-8"))
    data["handling"]["referral"]["accept_cues"] = []
    with pytest.raises(ScenarioError, match="handling.referral: .*accept_cues"):
        parse_scenario(yaml.safe_dump(data, allow_unicode=True), "w.yaml")


def test_an_unclosed_quote_is_reported_on_its_own_line():
    """The scanner only notices at the end of the file; the problem is where the quote opened."""
    from simulator.scenario import ScenarioError, parse_scenario

    text = 'id: x\nlang: id\ntitle: "Tagihan naik\n' + "summary: a\n" * 6
    with pytest.raises(ScenarioError) as refused:
        parse_scenario(text, "f.yaml")
    (problem,) = refused.value.problems
    assert problem[:2] == ("f.yaml", "line 3") and "column 8" in problem[2]
