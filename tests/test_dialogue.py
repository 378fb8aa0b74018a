"""The dialogue state (simulator/dialogue.py) and the needs-driven customer built on it."""

from types import SimpleNamespace

import pytest
import yaml

from simulator.analysis_types import Evidence, Tag, TurnAnalysis
from simulator.dialogue import (
    DialogueState,
    _answers_cover,
    blamed_span,
    asked_items,
    choose_line,
    conditions_hold,
    clock_times,
    default_matcher,
    everyday_knowledge,
    extract_slots,
    initial_state,
    knowledge_answer,
    lexical_match,
    load_everyday,
    lint,
    load_params,
    question_clauses,
    stated_parts,
    update,
)
from simulator.scenario import (
    LineCondition,
    ScenarioError,
    ScenarioLibrary,
    Situation,
    Slot,
    WarningCode,
    line_conditions,
    line_text,
    lines_for,
    parse_scenario,
)
from simulator.session import SessionService
from simulator.turn_flags import stacked_feelings
from simulator.understanding import encoder
from simulator.understanding.match import is_closing, is_put_off

LIB = ScenarioLibrary()


@pytest.fixture
def service(repo):
    return SessionService(repo, LIB)


def play(service, scenario_id, lang, turns, seed=0):
    record = service.start(scenario_id, lang, seed=seed)
    results = []
    for text in turns:
        results.append(service.say(record.id, text))
        if results[-1].ended:
            break
    return record, results


def test_slots_from_a_turn():
    assert extract_slots("A meter reader comes on Wednesday between 8 and 12.")[Slot.when] == "Wednesday between 8 and 12"
    assert Slot.when not in extract_slots("It'll be sorted tomorrow.")  # a day without hours
    assert Slot.when in extract_slots("Kami transfer paling lambat 3 hari kerja.")
    assert extract_slots("Your package ran out at 11:48 last night.") == {}  # the past is no promise
    assert Slot.when not in extract_slots("Selamat pagi, Bu. Jam berapa kotaknya sampai?")
    assert extract_slots("Complaint ADU/DKP/0612/160 is logged.")[Slot.number] == "ADU/DKP/0612/160"
    assert extract_slots("Ref 0147/PGD/VI, sy tulis di sini.")[Slot.number] == "0147/PGD/VI"  # digits first
    assert Slot.number in extract_slots("Nomor aduannya 0147, sy tuliskan di kertas ini ya Pak.")  # its name with -nya
    assert Slot.phone in extract_slots("Call PLN 123 from your mobile.")
    assert extract_slots("The boxes sat on the porch in the heat.") == {}  # "sat" the verb is no Saturday
    assert extract_slots("Sat 10am works.")[Slot.when] == "Sat 10am"
    # a span of time said back is her wait, not a promise, unless framed as one
    said = "Nine days and my parcel still isn't here! I was told two weeks."
    assert extract_slots("ok sir, 9 days with nothing but 'in process' is rubbish.", None, said) == {}
    assert extract_slots("Jadi dulu dijanjikan 2 minggu ya Mas.", None, said) == {}
    bought = "Saya beli motor di sini tanggal 3 Maret. I bought it on the 3rd of March."
    assert extract_slots("Sy ulang ya: motornya dibeli di sini 3 Maret.", None, bought) == {}
    assert extract_slots("So you bought it on the 3rd of March.", None, bought) == {}
    assert extract_slots("Kartunya bisa diambil 12 Maret jam 10.", None, bought)[Slot.when] == "12 Maret jam 10"
    assert extract_slots("Settled within two weeks, at the latest.", None, said)[Slot.duration] == "two weeks"
    # a range of hours in words ("8 to 12"), not one of days or boxes
    assert extract_slots("Re-check Wednesday, 8 to 12.")[Slot.hours] == "8 to 12"
    assert Slot.hours not in extract_slots("It takes 3 to 5 working days.")
    assert Slot.hours not in extract_slots("8 to 12 boxes were sour.")
    # a street word is an address only beside a name: "ati-ati di jalan" sends nobody anywhere
    assert extract_slots("Ke Samsat di Jalan Pemuda 12, Bu.")[Slot.place] == "Jalan Pemuda"
    assert extract_slots("It's the office on Veteran Road.")[Slot.place]
    assert extract_slots("Jln. Slamet Riyadi no 5 ya")[Slot.place] == "Jln."
    for not_a_place in ("Makasih udh sabar, ati-ati di jalan 🙏", "Paketnya masih di jalan kok Pak",
                        "Bawa surat jalan sementara", "Your parcel is on the road.", "The whole street lost power."):
        assert Slot.place not in extract_slots(not_a_place), not_a_place
    slots = extract_slots("a meter reader comes to ur place wed between 8am and noon to re-check")
    assert (slots[Slot.day], slots[Slot.hours]) == ("wed", "8am")
    assert Slot.day not in extract_slots("the kids sat at the table all evening")
    # hours in words, and a part of today ("sore ini")
    assert extract_slots("Sebelum jam lima sore ini saya telepon Abang.")[Slot.when] == "jam lima sore ini"
    assert extract_slots("I'll call you back before five pm today.")[Slot.when] == "five pm today"
    assert extract_slots("We'll get there at one point.") == {}
    # "p.m." ends a sentence when a new one opens after it: the question after it is no part of the promise
    assert extract_slots("Findings by phone Thursday, 4 p.m. Account number for the transfer?")[Slot.when] == "Thursday, 4 p.m."
    assert extract_slots("I'll call you by 5 p.m. today.")[Slot.when] == "by 5 p.m. today"


def test_clock_times_in_either_language_and_spelling():
    assert clock_times("It arrived at half past eight, and the party started at one.") == {(8, 30), (1, 0)}
    assert clock_times("Datangnya jam setengah sembilan pagi, acaranya jam satu siang.") == {(8, 30), (1, 0)}
    assert clock_times("8.30 for a 1 o'clock party") == {(8, 30), (1, 0)}
    assert clock_times("45 thousand a box, Rp 385.000, reading 1.362") == set()


def test_a_time_the_customer_said_restated_is_no_commitment():
    said = "It arrived at half past eight, and the party started at one."
    restated = "So the boxes came at 8.30 for the 1 o'clock party, and sat out on the porch."
    assert Slot.when not in extract_slots(restated, customer_said=said)
    assert Slot.when in extract_slots("I'll call you on Thursday at 3 pm.", customer_said=said)
    state = initial_state(LIB.get("catering-stale-food", "id"))
    state = _turn(state, "Lauk apa yang basi Bu, dan kurir kami datang jam berapa?", ["question"], lang="id",
                  scenario_id="catering-stale-food")
    assert "delivery_time" in state.told
    after = _turn(state, "Jadi dikirim setengah 9 padahal acara jam 1, itu kesalahan kami Bu.", ["time_estimate"],
                  lang="id", scenario_id="catering-stale-food")
    assert after.did.commitment is None and after.reply is not Situation.accept_commitment


def test_lexical_matcher_needs_shared_content_words():
    candidates = ["May I see the bill?", "How many people live in the house?"]
    assert lexical_match("how many people are living in your house", candidates).index == 1
    assert lexical_match("did anyone on your street get a weird bill this month?", candidates) is None


def test_vague_time_is_pushed_and_a_later_concrete_one_earns_the_need(service):
    _, results = play(service, "water-bill-surge", "en", ["It'll be sorted tomorrow."])
    first = results[0]
    assert first.mood.situation is Situation.push_time and "tomorrow" in first.customer.lower()
    state = service.dialogue(service.session(first.session_id))
    assert state.need("recheck").met_turn is None
    second = service.say(first.session_id, "A meter reader will come on Wednesday between 8 and 12.")
    state = service.dialogue(service.session(first.session_id))
    assert state.need("recheck").met_turn == 2
    assert "Wednesday between 8 and 12" in second.customer


@pytest.mark.parametrize("lang, text, met", [
    # the time belongs to the blame: a rule quoted at the customer, not a promise
    ("en", "Santan dishes must be eaten within 4 hours, it is written on the sticker, that is not our responsibility.", False),
    ("id", "Lauk santan harus dimakan dalam 4 jam, itu sudah tertulis di stiker, bukan tanggung jawab kami.", False),
    # the same time promised outside the blame still counts
    ("en", "I'm so sorry. The refund and the findings come to you within 3 working days, by Thursday.", True),
])
def test_a_time_inside_the_blame_meets_no_need(service, lang, text, met):
    record, _ = play(service, "catering-stale-food", lang, [text])
    assert (service.dialogue(service.session(record.id)).need("when").met_turn is not None) is met


def test_blame_is_cut_at_a_contrast_word():
    text = "That is our policy, we cannot refund cash, but a technician will come on Wednesday between 8 and 12."
    analysis = TurnAnalysis(tags=[Tag.defensive], evidence={Tag.defensive: Evidence(text="our policy", start=8, end=18)})
    start, end = blamed_span(text, analysis, "en")
    assert text[start:end].startswith("That is our policy") and "Wednesday" not in text[start:end]
    assert blamed_span(text, TurnAnalysis(tags=[Tag.time_estimate]), "en") is None


def test_keyword_lines_do_not_resolve_the_water_bill(service):
    turns = ["OK, we'll give you compensation.", "It'll be sorted tomorrow."] * 6
    _, results = play(service, "water-bill-surge", "en", turns)
    assert results[-1].outcome != "resolved"


def test_stuffing_earns_nothing(service):
    text = "Sorry I apologise I understand your frustration, meter bill refund compensate Wednesday 8 to 12 complaint number."
    assert stacked_feelings(text, "en")
    assert not stacked_feelings("I'm sorry. A meter reader comes on Wednesday between 8 and 12, complaint number PDM-0219-063.", "en")
    record, results = play(service, "water-bill-surge", "en", [text])
    assert all(n.met_turn is None for n in service.dialogue(service.session(record.id)).needs)


def test_a_turn_flagged_as_nonsense_meets_no_need(service):
    """The scorer and the dialogue skip the same turns: a mash that names the cause finds nothing."""
    record, _ = play(service, "warranty-defect", "en", ["jjjjjjjjjj ;;;;; 🛵🔥🔥 regulator regulator bla"])
    assert all(n.met_turn is None for n in service.dialogue(service.session(record.id)).needs)


@pytest.mark.parametrize(
    "scenario_id",
    ["water-bill-surge", "elderly-confused-app", "prepaid-no-credit", "wrong-agency"],  # angry, confused, threatening, anxious
)
def test_defensive_handling_ends_the_conversation_for_every_temperament(service, scenario_id):
    turns = [
        "That is not our fault, our system is always right.",
        "Please calm down. That is the procedure and I cannot change it.",
        "It is your own responsibility, not ours.",
        "Rules are rules.",
        "Calm down, there is a queue behind you.",
    ]
    _, results = play(service, scenario_id, "en", turns)
    assert results[-1].outcome in ("walked_away", "escalated"), [r.customer for r in results]


def test_the_last_line_of_a_walk_out_says_the_customer_is_leaving(service):
    _, results = play(service, "water-bill-surge", "id", ["Itu bukan salah kami.", "Ibu tenang dulu, itu prosedur.", "Aturannya memang begitu."] * 2)
    last = results[-1]
    assert last.outcome == "walked_away"
    assert any(word in last.customer.lower() for word in ("pergi", "pulang", "permisi"))


def test_a_vague_referral_gets_a_protest_saying_what_is_missing(service):
    record, results = play(service, "wrong-agency", "en", ["Go to PLN."])
    assert not results[0].ended
    assert results[0].mood.situation in (Situation.referral_missing, Situation.wrong_referral)
    done = service.say(record.id, "Call PLN 123, or (0271) 123 from a mobile, and have your customer ID from the token receipt ready.")
    assert done.outcome == "referred"


def test_closing_question_while_needs_are_open(service):
    _, results = play(service, "water-bill-surge", "id", ["Ada lagi yang bisa dibantu, Bu?"])
    assert results[0].mood.situation is Situation.closing_question


def test_a_question_in_the_other_language_is_answered(service):
    _, results = play(service, "water-bill-surge", "id", ["May I see the bill?"])
    assert "512.400" in results[0].customer


@pytest.mark.parametrize("text", [
    "I'm calling our security officer, Pak Yusuf, so everyone stays safe.",
    "I'm buzzing Pak Yusuf at the front post so everyone here feels safe, you included.",
])
def test_security_is_an_event_not_the_end(service, text):
    _, results = play(service, "threat-violence", "en", [text])
    assert not results[0].ended and results[0].mood.situation is Situation.security_called


def test_shared_lines_speak_in_the_persona_voice(service):
    _, results = play(service, "prepaid-no-credit", "id", ["Mohon maaf ya, Kak."])
    assert "saya" not in results[0].customer.lower().split()


def test_line_conditions():
    state = DialogueState(turn=1)
    assert conditions_hold(state, [LineCondition.not_apologised, LineCondition.first_turn])
    assert not conditions_hold(state, [LineCondition.apologised])
    assert not conditions_hold(None, [LineCondition.apologised])
    short = state.model_copy(update={"did": state.did.model_copy(update={"said": "your complaint has been noted"})})
    long = state.model_copy(update={"did": state.did.model_copy(update={"said": "word " * 30})})
    assert not conditions_hold(short, [LineCondition.long_turn]) and conditions_hold(long, [LineCondition.long_turn])
    tomorrow = _turn(initial_state(LIB.get("water-bill-surge", "en")), "We'll sort it tomorrow.", ["time_estimate"])
    assert not conditions_hold(tomorrow, [LineCondition.no_day_named])
    assert conditions_hold(short, [LineCondition.no_day_named])
    sympathy = _turn(initial_state(LIB.get("water-bill-surge", "en")), "That sounds really stressful.", ["empathy"])
    named = _turn(initial_state(LIB.get("water-bill-surge", "en")), "A bill of 512 thousand out of nowhere.", ["acknowledge"])
    assert not conditions_hold(sympathy, [LineCondition.acknowledged]) and conditions_hold(named, [LineCondition.acknowledged])
    assert not conditions_hold(sympathy, [LineCondition.checking])


@pytest.mark.parametrize("lang,sympathy,check", [
    ("en", "Oh no, that must be so stressful.",
     "That sounds really stressful. Let me pull up your account right now."),
    ("id", "Waduh, pasti bikin pusing banget ya Bu.",
     "Pasti bikin pusing ya Bu. Sebentar, saya cek datanya sekarang."),
])
def test_a_calmer_line_that_assumes_a_check_follows_a_check_not_bare_sympathy(service, lang, sympathy, check):
    """"Finally, someone who wants to actually check" after "that sounds stressful" reacts to
    something nobody said (set T's readers, stop 36); after "let me check now" it fits."""
    scenario = LIB.get("water-bill-surge", lang)
    checking = {line_text(line) for line in scenario.lines[Situation.calmer]
                if LineCondition.checking in line_conditions(line)}
    assert checking
    after_sympathy, after_check = set(), set()
    for seed in range(8):
        for text, replies in ((sympathy, after_sympathy), (check, after_check)):
            _, results = play(service, "water-bill-surge", lang, [text], seed=seed)
            assert results[0].mood.situation is Situation.calmer, text
            replies.add(results[0].customer)
    assert not any(line in reply for line in checking for reply in after_sympathy), after_sympathy
    assert any(line in reply for line in checking for reply in after_check), after_check


@pytest.mark.parametrize("lang,blame", [("en", "my fault"), ("id", "salah")])
def test_a_line_that_answers_blame_is_said_only_to_a_defensive_turn(lang, blame):
    """"So now it's my fault?" answers blame; a hostile turn draws anger too, but not that line."""
    scenario = LIB.get("water-bill-surge", lang)
    texts: dict[str, list[str]] = {}
    for kind in ("hostile", "defensive"):
        state = _turn(initial_state(scenario), "Whatever. Go cry to someone else.", [kind], lang=lang)
        assert state.reply is Situation.angrier
        choose_line(scenario, Situation.angrier, state, set(), lambda lines, kind=kind: texts.setdefault(kind, lines)[0])
    assert not any(blame in t.lower() for t in texts["hostile"]), texts["hostile"]
    assert any(blame in t.lower() for t in texts["defensive"]), texts["defensive"]


def test_a_line_about_many_words_is_not_said_to_four(service):
    for seed in range(6):
        _, results = play(service, "water-bill-surge", "en", ["Your complaint has been noted."] * 3, seed=seed)
        assert not any("Lots of words" in r.customer for r in results)


def test_a_dont_know_is_not_said_beside_the_turns_answers():
    """Neither for a question the answer speaks of ("What about the rendang?") nor for a side one
    ("was that you in the video?"): "Not sure, sorry" before the facts reads as a contradiction (a
    side question for information gets "that one I don't know", see above). Alone, an unknown
    question still gets its "I don't know"."""
    for scenario_id, text in (("catering-stale-food", "Which dishes smelled off? What about the rendang?"),
                              ("threat-violence", "What's in the parcel, and did the courier say anything odd?"),
                              ("water-bill-surge", "What's your customer number? And was the queue long today?")):
        state = initial_state(LIB.get(scenario_id, "en"))
        both = _turn(state, text, ["question"], scenario_id=scenario_id)
        assert both.reveal and Situation.answer_unknown not in [both.reply, *both.also], (scenario_id, both)
    alone = _turn(initial_state(LIB.get("water-bill-surge", "en")), "And was the queue long today?", ["question"],
                  scenario_id="water-bill-surge")
    assert alone.reply is Situation.answer_unknown


def test_how_can_we_help_after_the_whole_story_is_not_met_with_i_dont_know():
    state = initial_state(LIB.get("ignored-complaint", "en"))
    after = _turn(state, "Good morning sir, sorry for the inconvenience. How can we help?", ["apology", "question"],
                  scenario_id="ignored-complaint")
    assert after.reply is Situation.unheard


#: An excellent catering conversation up to its closing promise; the last turn adds one question.
CATERING_CLOSING = [
    "Mrs Wulan, I'm so sorry about the food at your baby's aqiqah and about yesterday's call. Which dishes went off?",
    "What time did our driver drop the boxes off?",
    "Half past eight for a one o'clock party: that was our mistake, coconut-milk dishes can't sit that long. "
    "How many guests were ill?",
    "We refund the two spoiled dishes for all 150 boxes plus the Rp 385,000 clinic bill by transfer by Thursday, "
    "and I'll call you Thursday between 2 and 4 with what the kitchen review found.",
]


def _closing_with(question: str) -> list[str]:
    return [*CATERING_CLOSING[:-1], f"{CATERING_CLOSING[-1]} {question}"]


def test_a_choice_asked_on_the_ending_turn_is_answered_before_the_closing_line(service):
    excellent = _closing_with("Would you rather have it by transfer or in cash?")
    _, results = play(service, "catering-stale-food", "en", excellent)
    last = results[-1]
    assert last.ended
    scenario = LIB.get("catering-stale-food", "en")
    either = lines_for(scenario, Situation.either_way)
    assert any(line in last.customer for line in either), last.customer


def test_an_offer_on_the_ending_turn_is_agreed_to_but_not_with_go_on(service):
    excellent = _closing_with("Shall I write it all down for you?")
    scenario = LIB.get("catering-stale-food", "en")
    agreed = [line for line in lines_for(scenario, Situation.agree) if "Go on" not in line]
    for seed in range(4):
        _, results = play(service, "catering-stale-food", "en", excellent, seed=seed)
        last = results[-1]
        assert last.ended and "Go on" not in last.customer
        assert any(line in last.customer for line in agreed), last.customer
    ending = initial_state(scenario).model_copy(update={"outcome": "resolved"})
    assert not conditions_hold(ending, [LineCondition.ongoing])
    assert conditions_hold(initial_state(scenario), [LineCondition.ongoing])


def test_state_is_stored_with_each_turn_for_scoring(service):
    record, results = play(service, "water-bill-surge", "en", ["What does your meter show?"])
    stored = service.session(record.id).state["dialogue"]
    assert {"id", "required", "met_turn"} <= set(stored["needs"][0])
    turn = service.transcript(record.id)[-1]
    assert turn.mood["dialogue"]["needs"][0]["met_turn"] == 1  # the cause came out


def test_malformed_needs_name_their_field():
    text = (LIB.root / "en" / "water-bill-surge.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    data["needs"][0]["met_by"][0]["facts"] = ["no_such_fact"]
    data["knowledge"][0]["asked_by"] = [""]
    with pytest.raises(ScenarioError) as info:
        parse_scenario(yaml.safe_dump(data, allow_unicode=True), "x.yaml")
    assert "x.yaml: knowledge.0.asked_by.0: " in str(info.value)
    del data["knowledge"][0]["asked_by"]
    with pytest.raises(ScenarioError) as info:
        parse_scenario(yaml.safe_dump(data, allow_unicode=True), "x.yaml")
    assert "x.yaml: needs.0.met_by.0.facts.0: unknown hidden fact or knowledge id 'no_such_fact'" in str(info.value)


def test_lint_warns_about_needs_knowledge_and_lines():
    scenario = LIB.get("water-bill-surge", "en")
    assert lint(scenario) == []
    data = scenario.model_dump(mode="json", exclude_none=True)
    data["knowledge"][0]["questions"] = []
    data["lines"]["calmer"].append({"text": "Thanks for the apology.", "when": ["apologised", "not_apologised"]})
    broken = parse_scenario(yaml.safe_dump(data, allow_unicode=True))
    warnings = lint(broken)
    assert any(w.code is WarningCode.knowledge_no_question and w.params == {"knowledge": "bill"} for w in warnings)
    assert any("knowledge 'bill'" in str(w) for w in warnings)
    clash = [w for w in warnings if w.code is WarningCode.line_conditions_clash]
    assert [w.params["conditions"] for w in clash] == [["apologised", "not_apologised"]]
    assert "never hold together" in str(clash[0])


def test_lint_says_why_a_need_can_never_be_met():
    data = LIB.get("water-bill-surge", "en").model_dump(mode="json", exclude_none=True)
    data["handling"]["max_days"] = 0
    data["needs"] = [{"id": "when", "description": "a date", "kind": "next_step",
                      "met_by": [{"slots": ["duration"], "realistic": True}]}]
    [warning] = lint(parse_scenario(yaml.safe_dump(data, allow_unicode=True)))
    assert warning.code is WarningCode.need_never_met
    assert warning.params == {"need": "when", "reasons": ["no_duration"], "facts": []}
    assert str(warning) == "need 'when' can never be met: it needs a duration and handling.max_days is 0"


# -- the reply policy on given analyses (no analyser involved) -----------------------------------
def _turn(state, text, tags, anger=6.0, trust=3.0, lang="en", scenario_id="water-bill-surge"):
    scenario = LIB.get(scenario_id, lang)
    mood = SimpleNamespace(anger=anger, trust=trust, threat=0.0, outcome=None, situation=None)
    return update(state, text, TurnAnalysis(tags=[Tag(t) for t in tags]), scenario, mood, lexical_match)


def test_two_bad_turns_at_the_end_of_the_mood_scale_draw_replies_and_a_third_ends_it():
    state = initial_state(LIB.get("water-bill-surge", "en"))
    first = _turn(state, "Please wait.", ["defensive"], anger=10.0, trust=0.0)
    assert first.outcome is None and first.reply is Situation.angrier
    second = _turn(first, "Rules are rules.", ["defensive"], anger=10.0, trust=0.0)
    assert second.outcome is None and second.reply is Situation.angrier  # the trainee can still turn it round
    assert _turn(second, "Not my problem.", ["defensive"], anger=10.0, trust=0.0).outcome == "walked_away"


def test_a_good_turn_after_a_bad_one_starts_the_count_again():
    state = initial_state(LIB.get("water-bill-surge", "en"))
    state = _turn(state, "Please wait.", ["defensive"], anger=10.0, trust=0.0)
    assert state.fed_up_turns == 1
    state = _turn(state, "What is your connection number?", ["question"], anger=10.0, trust=0.0)
    assert state.outcome is None and state.fed_up_turns == 0


@pytest.mark.parametrize("text,tags,reply", [
    ("So nothing at all is different at home?", ["acknowledge"], Situation.confirmed),
    ("So your bill went from about 80 thousand to 512 thousand this month?", ["acknowledge"], Situation.confirmed),
    ("So nothing at all is different at home?", ["question"], Situation.confirmed),
    ("Have you had the house repainted recently?", ["question"], Situation.not_yet),
    # a "check" of something the customer never said is not confirmed
    ("So there is a wet patch on the wall and the toilet keeps running?", ["acknowledge"], Situation.answer_unknown),
])
def test_a_checking_question_is_confirmed_only_when_it_repeats_the_customer(text, tags, reply):
    assert _turn(initial_state(LIB.get("water-bill-surge", "en")), text, tags).reply is reply


def test_one_shared_word_of_a_short_question_is_a_topic_not_a_check(service):
    # "rumah" is the customer's word, "lain" is not: a question about the household, not a restatement
    record, _ = play(service, "water-bill-surge", "id", ["Mungkin ada pemakaian yang tidak disadari, Bu. Ada yang lain di rumah?"])
    assert service.dialogue(service.session(record.id)).reply is not Situation.confirmed


def test_a_fact_asked_for_again_is_said_again_after_the_impatience():
    state = initial_state(LIB.get("water-bill-surge", "en"))
    state = _turn(state, "What is your connection number?", ["question"])
    assert state.reveal == ["customer_number"]
    again = _turn(state, "Sorry, what was your connection number?", ["question"])
    assert again.reply is Situation.fact_already_given and again.reveal == ["customer_number"]


def test_the_scripted_customer_says_the_repeated_fact_after_its_reaction(service):
    _, results = play(service, "water-bill-surge", "en",
                      ["What is your connection number?", "Sorry, could you give me the connection number again?"])
    assert "04-11-02387" in results[0].customer
    assert "04-11-02387" in results[1].customer


def test_a_question_naming_an_action_does_not_do_it():
    state = initial_state(LIB.get("elderly-confused-app", "en"))
    asked = _turn(state, "Is this a new number? Did your son register your new number with us?", ["question"],
                  scenario_id="elderly-confused-app")
    assert asked.need("fix").met_turn is None
    done = _turn(asked, "I'll register your new number here at the desk now, with your ID card.", [],
                 scenario_id="elderly-confused-app")
    assert done.need("fix").met_turn == 2


def test_a_question_may_name_what_a_stated_action_is_about():
    state = initial_state(LIB.get("warranty-defect", "en"))
    done = _turn(state, "How much did the tow truck cost you? We'll reimburse it today, before you leave.",
                 ["question", "compensation"], scenario_id="warranty-defect")
    assert done.need("towing").met_turn == 1


def test_a_check_the_trainee_announces_brings_out_what_the_customer_knows(service):
    # ignored-complaint's cause is written as a statement example: "Let me check the status of your file."
    _, results = play(service, "ignored-complaint", "en",
                      ["I've checked the system: your file is still pending since April, it got stuck on our side."])
    assert "duplicate record" in results[0].customer


def test_two_turns_never_use_up_all_the_patience_however_many_costs_they_stack():
    state = initial_state(LIB.get("threat-lawsuit", "en"))
    # defensive, hostile and furious at once: more than the whole patience, but one turn
    first = _turn(state, "That's your problem, not ours. Sue us if you like.", ["defensive", "hostile"], anger=9.8, trust=0.7)
    assert first.outcome is None and first.patience > 0
    second = _turn(first, "Like I said, not our problem.", ["defensive", "hostile"], anger=10.0, trust=0.7)
    assert second.outcome is None and second.patience > 0
    third = _turn(second, "Go on then, sue us.", ["defensive"], anger=10.0, trust=0.7)
    assert third.outcome == "escalated"


def test_only_progress_wins_patience_back_after_a_bad_turn():
    state = initial_state(LIB.get("water-bill-surge", "en"))
    bad = _turn(state, "The meter doesn't lie.", ["defensive"])
    kind_words = _turn(bad, "We're always here for you, ma'am.", ["empathy"])
    assert kind_words.patience <= bad.patience  # warm words alone do not undo it
    progress = _turn(bad, "I'm sorry. May I see your bill and the meter photo?", ["apology", "question"])
    assert progress.patience > bad.patience


def test_a_sorry_that_comes_with_blame_is_no_apology_so_a_later_real_one_still_turns_it_round():
    state = initial_state(LIB.get("catering-stale-food", "en"))
    sorry_but = _turn(state, "Sorry ma'am, but food goes off if it's left out in the heat.", ["apology", "defensive"],
                      scenario_id="catering-stale-food")
    assert sorry_but.apologies == 0 and sorry_but.reply is not Situation.apology_accepted
    blame = _turn(sorry_but, "We can't know where you kept the boxes.", ["defensive"], scenario_id="catering-stale-food")
    owning = _turn(blame, "I'm sorry, what I just said was wrong, and so was our admin yesterday.",
                   ["apology", "acknowledge"], scenario_id="catering-stale-food")
    assert owning.apologies == 1 and owning.patience > blame.patience and owning.outcome is None
    assert owning.reply is Situation.apology_accepted


def test_kind_words_again_while_nothing_moves_wear_patience_down_from_the_third_turn():
    state = initial_state(LIB.get("water-bill-surge", "en"))
    first = _turn(state, "I understand how upsetting this is.", ["empathy"])
    second = _turn(first, "That must be really stressful for you.", ["empathy"])
    assert second.patience == first.patience == state.patience  # early kind words cost nothing
    third = _turn(second, "We truly value you as our customer.", ["empathy"])
    assert third.patience < second.patience
    asked = _turn(second, "When did you first notice the higher bill?", ["question"])
    assert asked.patience == second.patience
    checking = _turn(second, "Let me check that for you right now.", ["acknowledge"])
    assert checking.patience == second.patience  # a step taken now is no empty kindness


def test_a_step_taken_now_on_the_customers_problem_costs_no_patience_and_is_taken_as_one():
    state = initial_state(LIB.get("water-bill-surge", "en"))
    on_topic = "Your meter reading jumped from last month's. Calling the meter team now."
    step = _turn(state, on_topic, [])
    assert step.did.checking and not step.did.on_topic_only
    assert step.patience == state.patience and step.reply is Situation.calmer
    explained = _turn(state, "Your meter reading jumped from last month's.", [])
    assert explained.did.on_topic_only and explained.patience < state.patience  # talk that moves nothing


@pytest.mark.parametrize("lang, sign_off, then_asks, first_apology", [
    ("en", "Thank you for your patience ma'am, hope everything is ok soon. 🙏", "May I see the bill?",
     "I'm so sorry about this bill. Take care, ma'am."),
    ("id", "Terima kasih atas kesabarannya Bu, semoga tagihannya cepat beres nggih. 🙏", "Boleh lihat tagihannya?",
     "Mohon maaf ya Bu soal tagihannya. Sehat selalu."),
])
def test_a_well_wish_that_moves_nothing_ends_it_once_patience_is_half_gone(lang, sign_off, then_asks, first_apology):
    state = initial_state(LIB.get("water-bill-surge", lang))
    worn = state.model_copy(update={"patience": state.patience / 2})
    assert _turn(worn, sign_off, ["empathy"], lang=lang).outcome == "walked_away"
    assert _turn(state, sign_off, ["empathy"], lang=lang).outcome is None  # patience left: still there
    assert _turn(worn, f"{sign_off} {then_asks}", ["empathy", "question"], lang=lang).outcome is None  # not the end
    nearly_out = state.model_copy(update={"patience": state.patience / 6})  # still at most half after the regain
    assert _turn(nearly_out, first_apology, ["apology"], lang=lang).outcome is None  # a first apology moves it


@pytest.mark.parametrize("lang, send_off", [
    ("en", "Hope it gets sorted soon, ma'am. Thank you so much for your patience."),  # courtesy after the wish
    ("id", "Semoga cepet beres ya Bu. Terima kasih udah sabar ya."),
    ("en", "Sorry again ma'am. Is there anything else I can help with today?"),  # "anything else?", needs open
    ("id", "Mohon maaf sekali lagi Bu. Ada lagi yang bisa saya bantu?"),
])
def test_a_send_off_with_needs_open_ends_it_once_patience_is_half_gone(lang, send_off):
    state = initial_state(LIB.get("water-bill-surge", lang))
    worn = state.model_copy(update={"patience": state.patience / 2})
    assert _turn(worn, send_off, ["apology"], lang=lang).outcome == "walked_away"
    assert _turn(state.model_copy(update={"apologies": 1}), send_off, ["apology"], lang=lang).outcome is None


def test_kind_words_that_cost_patience_do_not_draw_a_calmer_reply():
    state = initial_state(LIB.get("water-bill-surge", "en"))
    first = _turn(state, "I understand how upsetting this is.", ["empathy"])
    assert first.reply is Situation.calmer
    second = _turn(first, "That must be really stressful for you.", ["empathy"])
    third = _turn(second, "I really do understand how you feel, ma'am.", ["empathy"])
    assert third.patience < second.patience and third.reply is Situation.unheard
    about_it = _turn(second, "I really do understand how worrying a water bill this high is, ma'am.", ["empathy"])
    assert about_it.reply is Situation.calmer  # about her problem: heard, even when it moves nothing yet


@pytest.mark.parametrize("lang, asked_to_sit, patience", [
    ("id", "Silakan duduk dulu, Bang, saya cek resinya.", "Mohon kesabarannya ya, Bang."),
    ("en", "Please take a seat, Sir, I'll check the tracking.", "Thank you for your patience, Sir."),
])
def test_the_customer_sits_down_only_when_asked_to(lang, asked_to_sit, patience):
    scenario = LIB.get("threat-violence", lang)
    state = initial_state(scenario)

    def calmer_lines(text):
        after = _turn(state, text, ["empathy"], lang=lang, scenario_id="threat-violence")
        return {choose_line(scenario, Situation.calmer, after, set(), lambda options, i=i: options[i % len(options)])
                for i in range(12)}

    sitting = ("I'll sit down", "aku duduk. Tapi")
    assert not any(s in line for line in calmer_lines(patience) for s in sitting)
    assert any(s in line for line in calmer_lines(asked_to_sit) for s in sitting)


def test_a_line_that_echoes_the_trainees_words_needs_them_said():
    scenario = LIB.get("catering-stale-food", "en")
    state = initial_state(scenario)

    def angry_lines(text):
        after = _turn(state, text, ["defensive"], scenario_id="catering-stale-food")
        return {choose_line(scenario, Situation.angrier, after, set(), lambda options, i=i: options[i % len(options)])
                for i in range(12)}

    plain = angry_lines("Our kitchen follows the standard, ma'am.")
    weather = angry_lines("It was the hot weather, ma'am, food goes off fast in this heat.")
    assert not any("weather" in line for line in plain)
    assert any("Don't blame the weather" in line for line in weather)


def test_a_greeting_at_the_start_is_welcomed_not_called_empty():
    state = initial_state(LIB.get("water-bill-surge", "id"))
    first = _turn(state, "Selamat siang Bu, silakan duduk dulu. Ada yang bisa saya bantu?", [], lang="id")
    assert first.reply is Situation.welcomed and not first.did.empty and not first.did.unknown_question
    assert first.patience >= state.patience
    later = _turn(_turn(first, "Baik.", []), "Selamat siang Bu, silakan duduk dulu.", [], lang="id")
    assert later.reply is not Situation.welcomed  # past the opening, a greeting says nothing


def test_an_empty_promise_announces_no_check():
    state = initial_state(LIB.get("ignored-complaint", "en"))
    for text in ("The ID card will be finished soon.", "We will follow up with the relevant section."):
        after = update(state, text, TurnAnalysis(tags=[]), LIB.get("ignored-complaint", "en"),
                       SimpleNamespace(anger=6.0, trust=3.0, threat=0.0, outcome=None, situation=None))
        assert after.did.asked == [] and after.reveal == []


def test_a_told_item_is_not_asked_again_by_a_side_question_or_a_second_check():
    from simulator.understanding.match import best_match

    scenario = LIB.get("ignored-complaint", "en")
    mood = SimpleNamespace(anger=6.0, trust=3.0, threat=0.0, outcome=None, situation=None)
    state = update(initial_state(scenario), "Let me check the status of your file.", TurnAnalysis(tags=[]), scenario,
                   mood, best_match)
    assert "file_flagged" in state.told
    side = ("thx. while it loads: when u came in June, do u remember the officer's name or which desk? "
            "I wanna find that yellow note.")
    after = update(state, side, TurnAnalysis(tags=[Tag.question]), scenario, mood, best_match)
    assert after.did.asked_again == [] and after.reply is not Situation.fact_already_given
    again = update(state, "Sorry, what was the status of my file?", TurnAnalysis(tags=[Tag.question]), scenario,
                   mood, best_match)
    assert again.did.asked_again == ["file_flagged"]  # the item's own words: asked again


def test_a_told_item_named_by_longer_cue_words_is_asked_again_not_the_one_they_hold():
    from simulator.understanding.match import best_match

    scenario = LIB.get("elderly-confused-app", "id")
    told = ["old_number", "contact_number", "restarted", "brought"]
    question = "Kalau begitu nomornya saya ganti sekarang. Nomor HP yang baru berapa, Pak?"
    asked = asked_items(question, TurnAnalysis(tags=[Tag.question]), scenario, best_match, told)
    assert asked.ids == ["contact_number"]  # "nomor hp yang baru" holds the old-number story's "nomor"


def test_a_doubled_question_word_asks_nothing():
    assert question_clauses("HP-nya tidak rusak, Bapak juga tidak salah apa-apa.", "id") == []
    assert question_clauses("Td ditelpon siapa2 gak, Pak", "id") == ["Td ditelpon siapa2 gak, Pak"]


@pytest.mark.parametrize("scenario_id, lang, question, item", [
    ("vehicle-registration-delay", "id", "motornya warna apa mas?", "bike_colour"),
    ("elderly-confused-app", "en", "what brand is ur phone sir?", "phone_model"),
    ("threat-violence", "en", "was it regular or express delivery?", "service_type"),
    ("prepaid-no-credit", "id", "hp nya iphone ya kak?", "phone_model"),
    ("prepaid-no-credit", "en", "do u see any signal bars on ur phone rn?", "signal_bars"),
])
def test_the_customer_knows_the_everyday_details_of_their_own_case(scenario_id, lang, question, item):
    after = _turn(initial_state(LIB.get(scenario_id, lang)), question, ["question"], lang=lang, scenario_id=scenario_id)
    assert after.reveal == [item] and after.reply is not Situation.answer_unknown


def test_the_scenarios_guard_called_by_name_is_security():
    scenario = LIB.get("threat-violence", "id")
    state = initial_state(scenario)
    after = _turn(state, "Supaya aman, saya panggil Pak Yusuf dari pos depan ya Bang.", ["referral"], lang="id",
                  scenario_id="threat-violence")
    assert after.did.security and after.need("safety").met_turn == 1


@pytest.mark.parametrize("text, met", [
    ("We'll register your new number here at the desk today.", True),
    ("We can't register your new number here, sorry.", False),  # the encoder puts these side by side
    ("Has your new number been registered here?", False),  # a question promises nothing
    ("Should we register your new number here?", True),  # an offer put as a question is the offer (labelling rule 19)
])
def test_a_need_met_by_example_needs_a_statement_of_the_same_polarity(text, met):
    scenario = LIB.get("elderly-confused-app", "en")
    from simulator.understanding.match import best_match

    state = initial_state(scenario)
    after = update(state, text, TurnAnalysis(tags=[]), scenario,
                   SimpleNamespace(anger=3.0, trust=3.0, threat=0.0, outcome=None, situation=None), best_match)
    assert ("fix" in after.did.needs_met) is met


def test_the_closing_line_restates_the_time_the_trainee_gave_not_the_scenarios():
    state = initial_state(LIB.get("threat-violence", "en"))
    state = _turn(state, "Just so everyone is safe, I'm calling Pak Yusuf from security to the counter.", ["referral"],
                  anger=4.0, trust=5.0, scenario_id="threat-violence")
    state = _turn(state, "I'll call you before 5pm today with exactly where it is.", ["time_estimate"],
                  anger=3.0, trust=6.0, scenario_id="threat-violence")
    assert state.outcome == "resolved" and state.promised and "5pm today" in state.promised
    assert state.echo["when"] == state.promised
    line = choose_line(LIB.get("threat-violence", "en"), Situation.resolved, state, set(),
                       lambda lines: next((x for x in lines if "5pm today" in x), lines[0]))
    assert "5pm today" in line


@pytest.mark.parametrize("question, confirmed, reveal", [
    ("Buat mastiin aja Bu, pas semua keran ditutup meterannya diem kan?", True, []),  # her words, in chat spelling
    ("Tetangga ada yang ngalamin hal yang sama juga nggak?", False, []),  # new, and nothing she knows
    # near "Tukang ledeng juga nggak pernah dipanggil" (0.905) sharing only "pernah": a question
    # about her bills, which she answers
    ("Sebelumnya pernah nggak Bu tagihannya naik mendadak kayak gini juga?", False, ["usage_history"]),
])
def test_a_check_in_other_words_of_what_the_customer_said_is_confirmed(question, confirmed, reveal):
    from simulator.understanding.match import best_match

    scenario = LIB.get("water-bill-surge", "id")
    mood = SimpleNamespace(anger=6.0, trust=3.0, threat=0.0, outcome=None, situation=None)
    state = update(initial_state(scenario), "Ada kebocoran di rumah, Bu?", TurnAnalysis(tags=[Tag.question]), scenario,
                   mood, best_match)
    assert "no_leak" in state.told
    after = update(state, question, TurnAnalysis(tags=[Tag.question]), scenario, mood, best_match)
    assert (after.reply is Situation.confirmed) is confirmed
    assert after.reveal == reveal
    if not confirmed and not reveal:
        assert after.reply is Situation.answer_unknown


def test_a_question_near_one_the_customer_asked_is_no_check_of_it():
    """"How does a bill go up six times in one month?" is her question, not a fact to confirm."""
    from simulator.understanding.match import best_match

    scenario = LIB.get("water-bill-surge", "en")
    mood = SimpleNamespace(anger=6.0, trust=3.0, threat=0.0, outcome=None, situation=None)
    state = update(initial_state(scenario), "Has a bill ever gone up like this in a month before?",
                   TurnAnalysis(tags=[Tag.question]), scenario, mood, best_match)
    assert state.reply is not Situation.confirmed


@pytest.mark.parametrize("phrase, wrong", [(True, True), (False, False)])
def test_a_referral_only_the_model_heard_sends_nowhere_and_draws_no_protest(phrase, wrong):
    # "We will contact you. The issue will be resolved." reads as a referral to the learned head
    # alone; no phrase sends the customer anywhere, so there is nothing to protest.
    scenario = LIB.get("vehicle-registration-delay", "en")
    analysis = TurnAnalysis(tags=[Tag.referral], referral_target="other", referral_matches=False, referral_phrase=phrase)
    after = update(initial_state(scenario), "We will contact you. The issue will be resolved.", analysis, scenario,
                   SimpleNamespace(anger=5.0, trust=3.0, threat=0.0, outcome=None, situation=None), lexical_match)
    assert (after.did.referral == "wrong") is wrong
    assert (after.reply is Situation.wrong_referral) is wrong


def test_a_keyword_list_meets_no_need_even_with_the_right_words():
    scenario = LIB.get("wrong-agency", "id")
    text = "PLN 123 PLN Mobile pengaduan ULP rujuk wewenang bukan PDAM listrik padam"
    analysis = TurnAnalysis(tags=[Tag.referral], referral_target="other", referral_matches=True)
    after = update(initial_state(scenario), text, analysis, scenario,
                   SimpleNamespace(anger=3.0, trust=5.0, threat=0.0, outcome=None, situation=None), lexical_match)
    assert after.referral_turn is None and after.did.needs_met == [] and after.outcome is None


@pytest.mark.parametrize("question, reply", [
    ("Can I go through it with you properly?", Situation.agree),  # an offer put as a question
    ("Is that clear so far?", Situation.agree),
    ("Sampai sini jelas, Bu?", Situation.agree),  # the form of address is no part of the question
    ("Who did you speak to at the desk last time?", Situation.answer_unknown),  # asks for something
    ("Have you had the house repainted recently?", Situation.not_yet),  # yes/no, but for information
    ("We'll sort it out together, slowly, alright?", Situation.agree),
])
def test_an_unknown_offer_or_check_is_agreed_to_not_met_with_i_dont_know(question, reply):
    state = initial_state(LIB.get("water-bill-surge", "en"))
    assert _turn(state, question, ["question"]).reply is reply


@pytest.mark.parametrize("text, clauses", [
    ("When did it arrive, and how many guests got sick?", ["When did it arrive", "and how many guests got sick?"]),
    ("Jam brp dtgnya trus boleh sy liat notanya?", ["Jam brp dtgnya", "trus boleh sy liat notanya?"]),
    ("Sorry to hear that, when did it arrive?", ["Sorry to hear that, when did it arrive?"]),  # no question before
    ("Ibu datang sama siapa?", ["Ibu datang sama siapa?"]),  # "sama" as "with": a two-word piece stays
    ("Do you have the bill and the receipt?", ["Do you have the bill and the receipt?"]),  # one question, two things
    ("I'll check. What does your meter show? Can I see it?", ["What does your meter show?", "Can I see it?"]),
    # chat puts the question first and its reason after a comma, with no '?'
    ("Resinya brp Bang? sm nama abang siapa, sy catat dulu", ["Resinya brp Bang?", "sm nama abang siapa, sy catat dulu"]),
    ("Sy cek dulu ya Bu, nanti sy kabari.", []),
    # chat drops the '?' of a question whose form asks: an inverted auxiliary, a question word
    # before one, a yes/no tail; a statement of the same words does not ask
    ("Noted. btw did you get any warning SMS before it ran out", ["btw did you get any warning SMS before it ran out"]),
    ("I'll call you back today. also do you know how long PLN takes",
     ["also do you know how long PLN takes"]),
    ("Ok what time can you come in tomorrow", ["Ok what time can you come in tomorrow"]),
    ("Bpk punya email gak", ["Bpk punya email gak"]),
    ("Will call you at 3 today. Have checked the meter already.", []),
    ("What you can do is bring the bill tomorrow.", []),
    ("sy udh cek tp blm ada hasil, sabar ya Pak", []),
    # questions listed after commas, each whole, are asked one by one (stop 38's probe set)
    ("Could you give me the receipt number, what time it arrived, and how many got sick?",
     ["Could you give me the receipt number", "what time it arrived", "and how many got sick?"]),
    ("Nomor resinya brp, terakhir tercatat di mana, dan Abang sdh brp kali ke sini?",
     ["Nomor resinya brp", "terakhir tercatat di mana", "dan Abang sdh brp kali ke sini?"]),
    ("When you opened the account, which number did you give?", ["When you opened the account, which number did you give?"]),
    ("Can you tell me, what time did it arrive?", ["Can you tell me, what time did it arrive?"]),
    # "no." for a number ends no sentence
    ("it goes by sms to the no. registered w the bank. which no. did u give the bank back then?",
     ["which no. did u give the bank back then?"]),
])
def test_a_turn_is_split_into_its_questions(text, clauses):
    assert question_clauses(text, "id" if any(w in text for w in ("Ibu", "brp", "Bpk", "sy ")) else "en") == clauses


def test_every_question_of_a_turn_gets_an_answer_not_only_the_one_the_customer_knows():
    """An offer beside a question is agreed to; a question the customer knows nothing of beside
    one they answer draws "that one I don't know" (not the bare "Not sure, sorry" that would read
    as a contradiction of the answer) when it asks for information with a '?'."""
    state = initial_state(LIB.get("water-bill-surge", "en"))
    both = _turn(state, "What does your meter show, and who else in your street complained?", ["question"])
    assert both.reveal == ["meter_reading"] and both.also == [Situation.other_unknown]
    unmarked = _turn(state, "What does your meter show? i'll help you sort out where it goes wrong", ["question"])
    assert unmarked.reveal == ["meter_reading"] and unmarked.also == []
    # whether something has happened: "not that I know of"
    happened = _turn(state, "What does your meter show, and did anyone else in your street complain?", ["question"])
    assert happened.reveal == ["meter_reading"] and happened.also == [Situation.not_yet]
    # another yes/no question may be an offer the cues do not know: left to the answer
    yes_no = _turn(state, "What does your meter show, and is your house painted blue?", ["question"])
    assert yes_no.reveal == ["meter_reading"] and yes_no.also == []
    offer_first = _turn(state, "Can I go through it with you properly? And what does your meter show?", ["question"])
    assert offer_first.reveal == ["meter_reading"] and offer_first.also == [Situation.agree] and offer_first.also_first
    one = _turn(state, "What does your meter show?", ["question"])
    assert one.reveal == ["meter_reading"] and one.also == []


@pytest.mark.parametrize("question, check", [
    ("did your last token top-up go in ok?", False),  # asks whether it went in
    ("Is that clear?", True),
    ("Is that clear so far?", True),
    ("So it came at 8.30, right?", True),
    ("Did you understand?", True),
])
def test_a_check_ends_in_ok_or_clear_but_a_long_inverted_question_asks(question, check):
    from simulator.dialogue import _question_shape, load_params
    assert _question_shape(question, load_params().cues, "en")[2] is check


def test_the_question_tags_evidence_is_no_question_beside_one_with_its_mark():
    """The head's favourite sentence for `question` may be a statement ("Ketemu Pak, tiket … ada
    di sistem."): beside a question with its '?', it is no second question to confirm."""
    scenario = LIB.get("threat-lawsuit", "id")
    text = "Ketemu Pak, tiket BRK-0115-8842 ada di sistem. Modemnya wkt itu udh dibalikin jg ya Pak?"
    first = text.split(". ")[0] + "."
    analysis = TurnAnalysis(tags=[Tag.question], evidence={Tag.question: Evidence(text=first, start=0, end=len(first))})
    asked = asked_items(text, analysis, scenario, lexical_match, ["cancel_ticket"])
    assert asked.ids == ["modem_return"] and asked.open == ()


def test_answers_that_speak_of_the_other_question_leave_it_to_them():
    """One question in two clauses ("What's in it, and what's it worth?") is answered by one answer."""
    answer = "LCD screens and phone batteries, worth four million two hundred."
    assert _answers_cover("and what's it worth?", answer, [], lexical_match, "en")
    assert _answers_cover("what was inside the parcel?", "A bag of documents.", ["What was in the parcel?"], lexical_match, "en")
    assert not _answers_cover("did anyone at the hub call you?", answer, ["What was in the parcel?"], lexical_match, "en")


def test_a_check_on_a_told_fact_is_confirmed_and_a_question_for_it_again_is_a_repeat():
    state = initial_state(LIB.get("catering-stale-food", "en"))
    state = _turn(state, "When was the food delivered?", ["question"], scenario_id="catering-stale-food")
    assert "delivery_time" in state.told
    check = _turn(state, "So it came at half past eight in the morning, right?", ["question"],
                  scenario_id="catering-stale-food")
    assert check.reply is Situation.confirmed and check.did.asked_again == []
    again = _turn(state, "When was the food delivered again?", ["question"], scenario_id="catering-stale-food")
    assert again.reply is Situation.fact_already_given


def test_the_customer_voices_an_answer_and_a_short_reply_to_the_other_question(service):
    _record, results = play(service, "water-bill-surge", "en",
                            ["What does your meter show, and is it OK if I write this down?"])
    reply = results[0].customer
    scenario = LIB.get("water-bill-surge", "en")
    fact = next(f.reveal for f in scenario.hidden_facts if f.id == "meter_reading")
    assert reply.startswith(fact.strip())
    assert reply[len(fact.strip()):].strip() in lines_for(scenario, Situation.agree)


@pytest.mark.parametrize("scenario_id, lang, text", [
    ("wrong-agency", "id", "Ya sy gak tahu Bu, masa PDAM disuruh benerin listrik? Ibu salah kantor."),
    ("water-bill-surge", "en", "How would I know what your neighbours use?"),
    ("water-bill-surge", "id", "Lho Bu, mana saya tahu pemakaian di rumah Ibu?"),
])
def test_a_rhetorical_question_asks_nothing_and_draws_no_i_dont_know(scenario_id, lang, text):
    asked = asked_items(text, TurnAnalysis(tags=[Tag.question]), LIB.get(scenario_id, lang), default_matcher())
    assert not asked.asks and not asked.open
    state = _turn(initial_state(LIB.get(scenario_id, lang)), text, ["question"], scenario_id=scenario_id, lang=lang)
    assert state.reply is not Situation.answer_unknown


def test_the_customers_own_name_said_back_is_confirmed():
    state = initial_state(LIB.get("water-bill-surge", "id"))
    assert _turn(state, "Dengan Bu Endang ya?", ["question"], lang="id").reply is Situation.confirmed
    assert _turn(state, "Dengan Bu Sari ya?", ["question"], lang="id").reply is not Situation.confirmed


def test_a_question_word_alone_asks_for_no_fact():
    scenario = LIB.get("catering-stale-food", "en").model_copy(deep=True)
    scenario.hidden_facts[1].asked_by.append("when")  # an author's cue that is only a question word
    assert "delivery_time" == scenario.hidden_facts[1].id
    question = TurnAnalysis(tags=[Tag.question])
    assert "delivery_time" not in asked_items("When are you free for a call back?", question, scenario, lexical_match).ids
    assert asked_items("When did our driver drop the boxes off?", question, scenario, lexical_match).ids == ["delivery_time"]


@pytest.mark.parametrize("question, reply", [
    ("Would you rather we phone you or send a WhatsApp?", Situation.either_way),  # a choice offered
    ("Shall I call you back or would you rather come in?", Situation.either_way),
    # a choice draws no fact its words name ("bill")
    ("Would you like the overcharge refunded in cash or taken off next month's bill?", Situation.either_way),
    ("Do you still have the old SIM or did you throw it away?", Situation.answer_unknown),  # alternatives, no choice
    ("Would you mind if I look at your phone?", Situation.agree),
    ("So the water is for the three of you at home, is that right?", Situation.confirmed),
])
def test_a_question_for_nothing_known_gets_a_reply_of_its_kind(question, reply):
    state = initial_state(LIB.get("water-bill-surge", "en"))
    assert _turn(state, question, ["question"]).reply is reply


def test_one_more_question_is_no_request_to_repeat_a_told_fact():
    state = initial_state(LIB.get("water-bill-surge", "id"))
    state = _turn(state, "Ibu sempat cek meteran di rumah? Angkanya berapa?", ["question"], lang="id")
    assert "meter_reading" in state.told
    after = _turn(state, "Satu lagi Bu, semalam pas semua keran ditutup, meterannya muter gak?", ["question"], lang="id")
    assert after.reveal == ["no_leak"]  # "satu lagi" is "one more thing", not "again"


def test_a_question_for_a_told_fact_in_other_words_is_answered_again(service):
    _, results = play(service, "prepaid-no-credit", "en", [
        "Can u DM us ur number so we can check rn?", "ok what's ur number and since what time no signal?"])
    number = knowledge_answer(LIB.get("prepaid-no-credit", "en"), "contact_number")
    assert number in results[0].customer and number in results[1].customer


def test_a_request_to_repeat_a_told_fact_is_answered_again():
    state = initial_state(LIB.get("water-bill-surge", "en"))
    state = _turn(state, "What does your meter show?", ["question"])
    assert "meter_reading" in state.told
    again = _turn(state, "Sorry, could you tell me the meter reading once more?", ["question"])
    assert again.reply is Situation.fact_already_given and again.reveal == ["meter_reading"]


def test_two_question_words_joined_ask_one_question():
    assert question_clauses("Can you take me through when and how you contacted us?", "en") == [
        "Can you take me through when and how you contacted us?"]
    assert question_clauses("Kapan dan di mana ibu bayarnya?", "id") == ["Kapan dan di mana ibu bayarnya?"]


@pytest.mark.parametrize("question", [
    "So sorry about this 🙏 mind if we continue in DM?",
    "And shall I walk you through the app step by step?",
    "Boleh kita lanjut lewat DM kak?",
])
def test_an_offer_after_a_preamble_or_a_join_word_is_agreed_to(question):
    lang = "id" if "kak" in question else "en"
    state = initial_state(LIB.get("elderly-confused-app", lang)).model_copy(update={"turn": 3})  # past the greetings
    after = _turn(state, question, ["question"], lang=lang, scenario_id="elderly-confused-app")
    # the offer to walk him through step by step is that promise: a need met, and the offer agreed to beside it
    assert after.reply is Situation.agree or (after.reply is Situation.progress and after.also == [Situation.agree])


def test_a_question_typed_without_a_question_mark_is_still_answered():
    assert question_clauses("Jam brp makanannya dtg? sama boleh liat fotonya", "id") == [
        "Jam brp makanannya dtg?", "sama boleh liat fotonya"]
    state = initial_state(LIB.get("catering-stale-food", "id"))
    after = _turn(state, "Ibu punya kucing gak", ["question"], lang="id", scenario_id="catering-stale-food")
    assert after.reply is Situation.answer_unknown  # a question for something the scenario does not say


@pytest.mark.parametrize("question, reply, lang", [
    ("Can you take one step back for me?", Situation.agree, "en"),  # a request to do something
    ("Bisa duduk dulu sebentar, Bu?", Situation.agree, "id"),
    ("Can you tell me who you spoke to last time?", Situation.answer_unknown, "en"),  # a request to tell
    ("Bisa login nggak, Bu?", Situation.answer_unknown, "id"),  # a yes/no tail: a question for information
])
def test_a_request_to_do_something_is_agreed_to_a_request_to_tell_is_a_question(question, reply, lang):
    scenario = LIB.get("water-bill-surge", lang)
    state = initial_state(scenario)
    for text in ("Let me look at your bill.", "The reading was taken on the 3rd.") if lang == "en" else (
            "Saya cek tagihannya.", "Meternya dibaca tanggal 3."):
        state = _turn(state, text, [], lang=lang)  # past the first two turns, where courtesy is welcomed
    assert _turn(state, question, ["question"], lang=lang).reply is reply


@pytest.mark.parametrize("text, stated", [
    ("The Rp 150,000 for the tow I'll reimburse today - can I take a copy of the receipt?",
     ["The Rp 150,000 for the tow I'll reimburse today"]),
    ("Ongkos derek kami ganti hari ini, boleh minta struknya?", ["Ongkos derek kami ganti hari ini"]),
    ("So the tow is reimbursed, right?", []),  # a check: all of it is asked
    ("Would you like us to reimburse the tow?", ["Would you like us to reimburse the tow?"]),  # the offer (rule 19)
    ("Has the tow been reimbursed yet?", []),
    ("We replace it free. Can I see the receipt?", ["We replace it free."]),
])
def test_what_a_turn_states_includes_the_statement_before_a_question_in_one_sentence(text, stated):
    assert stated_parts(text, "en") == stated


def test_a_promise_before_a_question_in_the_same_sentence_is_a_commitment():
    scenario = LIB.get("threat-violence", "en")
    promise = "I'll tell you where your parcel is before 5 p.m. today - what's the best number to call you on?"
    assert extract_slots(promise, scenario).get(Slot.day) == "today"
    assert Slot.when in extract_slots(promise, scenario)
    assert Slot.when not in extract_slots("Are you free before 5 p.m. today?", scenario)  # asks, promises nothing
    assert Slot.when in extract_slots("Can I call you before 5 p.m. today?", scenario)  # the offer (labelling rule 19)
    assert Slot.when not in extract_slots("It came before 5 p.m. yesterday - can you check?", scenario)  # the past


def test_a_need_example_met_by_the_encoder_alone_must_be_near():
    """Statements about the same things in other words sit at 0.85-0.89: below the bar; a paraphrase
    at 0.9 or more, or a match on shared words, meets the example."""
    from simulator.dialogue import NEED_EXAMPLE_MIN, Match, _means_an_example

    def matcher_at(score, semantic=True):
        return lambda text, candidates, lang=None, groups=None: Match(0, score, semantic=semantic)

    example = ["Let's do it together, one step at a time."]
    text = "The registered number is the old one."
    assert not _means_an_example(text, example, [], set(), matcher_at(NEED_EXAMPLE_MIN - 0.03), "en")
    assert _means_an_example(text, example, [], set(), matcher_at(NEED_EXAMPLE_MIN), "en")
    assert _means_an_example(text, example, [], set(), matcher_at(0.6, semantic=False), "en")


def test_a_statement_nearest_a_near_miss_meets_no_need():
    """The matcher sees the examples and the near misses together; the nearest decides."""
    from simulator.dialogue import Match, _means_an_example

    def nearest(index):
        return lambda text, candidates, lang=None, groups=None: Match(index, 0.97, semantic=True)

    examples, unlike = ["We'll register your new number here."], ["The bank still has your old number."]
    assert _means_an_example("The bank has your old one.", examples, unlike, set(), nearest(0), "en")
    assert not _means_an_example("The bank has your old one.", examples, unlike, set(), nearest(1), "en")


@pytest.mark.skipif(encoder.get_encoder() is None, reason="the near misses are told apart by the encoder")
@pytest.mark.parametrize("lang, text, met", [
    # set R's excellent handler explaining the cause (stop 32: it had met "number updated" at 0.975)
    ("id", "Oh, pantas, Pak. Begini: kodenya itu dikirim bank ke nomor yang dulu Bapak daftarkan di sini. Kalau yang "
           "tercatat masih nomor lama, yang kartunya hilang di pasar, kodenya ya lari ke sana, bukan ke HP baru ini.", False),
    ("id", "Nah, itu sebabnya Pak: kode angka dari bank itu dikirim ke nomor yg tercatat di bank, yaitu nomor lama "
           "Bapak. Jadi kodenya nyasar ke nomor lama, ndak sampai ke HP ini.", False),
    ("id", "Sy daftarin nomor yg baru ya pak skrg", True),
    ("en", "I'll put your new number on your account right now.", True),
])
def test_explaining_the_cause_is_not_doing_the_fix(lang, text, met):
    from simulator.understanding.match import best_match

    scenario = LIB.get("elderly-confused-app", lang)
    after = update(initial_state(scenario), text, TurnAnalysis(tags=[]), scenario,
                   SimpleNamespace(anger=3.0, trust=3.0, threat=0.0, outcome=None, situation=None), best_match)
    assert ("fix" in after.did.needs_met) is met


# --- everyday knowledge: the customer's own name, number, time and channel ---------------------
def test_everyday_knowledge_is_in_the_persona_language_and_voice():
    kiki = {k.id: k.answer for k in everyday_knowledge(LIB.get("prepaid-no-credit", "id"))}
    assert "HP gue" in kiki["reach_time"]  # Kiki's gue, not saya
    endang = {k.id: k.answer for k in everyday_knowledge(LIB.get("water-bill-surge", "en"))}
    assert endang["customer_name"] == "Endang Sulastri."  # no "Mrs"
    ibu_endang = {k.id: k.answer for k in everyday_knowledge(LIB.get("water-bill-surge", "id"))}
    number = endang["contact_number"].split()[2].rstrip(".")
    assert number.startswith("08") and number in ibu_endang["contact_number"]  # one number in both languages


def test_a_scenario_item_with_an_everyday_id_replaces_it():
    from simulator.scenario import Knowledge

    scenario = LIB.get("water-bill-surge", "en").model_copy(deep=True)
    scenario.knowledge.append(Knowledge(id="contact_number", answer="Only my landline, 0281 635 112.",
                                        asked_by=["reach you on"]))
    assert "contact_number" not in {k.id for k in everyday_knowledge(scenario)}
    assert knowledge_answer(scenario, "contact_number") == "Only my landline, 0281 635 112."
    # the prepaid customer's phone number is the one with no credit: a hidden fact under that id
    assert "contact_number" not in {k.id for k in everyday_knowledge(LIB.get("prepaid-no-credit", "en"))}


@pytest.mark.parametrize("scenario_id, lang, question, expected", [
    # the customer's own life, which no scenario writes down
    ("water-bill-surge", "en", "And a mobile number for the complaint form, please?", ["contact_number"]),
    ("threat-violence", "en", "Whats ur number ah?", ["contact_number"]),
    ("water-bill-surge", "id", "Nomor WA Ibu yg bisa dihubungi brp?", ["contact_number"]),
    ("catering-stale-food", "id", "Maaf, dengan Ibu siapa ya?", ["customer_name"]),
    ("threat-lawsuit", "id", "Bpk bisanya dihubungi hari & jam brp, Pak?", ["reach_time"]),
    ("water-bill-surge", "id", "Rabu pagi itu ada org di rumah gak Bu?", ["be_there"]),
    ("threat-lawsuit", "en", "Could I get your email address pls?", ["email"]),
    ("warranty-defect", "id", "Mbak lebih suka WA atau ditelpon?", ["contact_preference"]),
    ("catering-stale-food", "en", "We'll refund it by Thursday. Which account should the transfer go to?",
     ["bank_account"]),  # not the order's payment "by transfer": the question means the refund's account
    ("catering-stale-food", "id", "Uangnya sy transfer Kamis ya bu, ke rekening mana?", ["bank_account"]),
    ("catering-stale-food", "id", "No rek nya bisa sy catet bu?", ["bank_account"]),
    ("catering-stale-food", "en", "Which bank is it with?", ["bank_account"]),
    ("water-bill-surge", "id", "Nomor rekening PDAM Ibu berapa?", ["customer_number"]),  # the utility's account
    ("threat-violence", "en", "On which number?", ["contact_number"]),  # not the tracking number
    # the small talk of a counter
    ("water-bill-surge", "en", "Morning Bu! You came by motorbike? :)", ["getting_here"]),
    ("ignored-complaint", "en", "How did you get home after that?", ["getting_here"]),
    ("threat-lawsuit", "en", "Eh Pak, you still stay in Bekasi town?", ["home_area"]),
    ("vehicle-registration-delay", "id", "Pagi Mas! Udah sarapan? hehe", ["wellbeing"]),
    ("threat-violence", "id", "Mau minum dulu, Bang?", ["wellbeing"]),
    # small talk is asked by its cue words only, and a scenario fact comes first
    ("water-bill-surge", "en", "When will the technician get here?", []),
    ("vehicle-registration-delay", "id", "Sekarang Mas ke kantor naik apa?", []),
    ("vehicle-registration-delay", "id", "Mas kerja di mana?", []),  # his "Saya kerja di Rungkut…"
    ("warranty-defect", "id", "Mbak kerja di mana to?", ["work"]),
    # the scenario's own items come first
    ("water-bill-surge", "en", "What's the connection number on your bill?", ["customer_number"]),
    ("prepaid-no-credit", "en", "What's your phone number?", ["contact_number"]),  # its own, under the everyday id
    ("threat-violence", "en", "whats ur phone no.?", ["contact_number"]),
    # the scenario's cue words cover the everyday cue: the scenario's item is meant
    ("elderly-confused-app", "en", "Which phone number did you give us when you opened the account?", []),
    ("elderly-confused-app", "en", "Which number did you register with the bank?", []),
    # someone else's name is not the customer's
    ("catering-stale-food", "id", "Ibu tau gak kurir yg nganter Sabtu itu namanya siapa?", []),
])
def test_everyday_questions_are_answered_and_scenario_items_come_first(scenario_id, lang, question, expected):
    scenario = LIB.get(scenario_id, lang)
    asked = asked_items(question, TurnAnalysis(tags=[Tag.question]), scenario, default_matcher())
    everyday = {item.id for item in load_everyday().items}
    assert [i for i in asked.ids if i in everyday | {"customer_number"}] == expected
    if scenario_id == "elderly-confused-app":
        assert asked.ids == ["old_number"]


def test_small_talk_gives_way_to_what_the_customer_already_told(service):
    _, results = play(service, "vehicle-registration-delay", "id",
                      ["Motornya dipakai kerja tiap hari, Mas?", "Oh gitu. Mas kerja di mana?"])
    assert "Rungkut" in results[0].customer
    assert "seharian" not in results[1].customer  # not the small talk "Saya kerja, nggak bisa seharian…"


def test_small_talk_is_answered_briefly_and_steers_back_to_the_problem(service):
    """Not "I don't know" to "did you come by motorbike?"; and a proposal ("are you okay with…?")
    is agreed to."""
    _, results = play(service, "water-bill-surge", "en", ["Morning Bu! You came by motorbike? Parking out there ok?"])
    assert results[0].customer.startswith("I managed, thanks.")
    state = initial_state(LIB.get("water-bill-surge", "en"))
    proposal = _turn(state, "Are you okay with a technician on Thursday between 9 and 12?", ["question"],
                     scenario_id="water-bill-surge")
    assert proposal.did.other_questions == [Situation.agree]


def test_the_elderly_customer_gives_his_new_number_after_telling_the_old_one_is_gone(service):
    _, results = play(service, "elderly-confused-app", "id",
                      ["Nomor HP yang terdaftar di bank yang mana, Pak?", "Nomor barunya berapa, Pak?"])
    assert "ndak aktif" in results[0].customer and "0813 2771 4590" not in results[0].customer
    assert "0813 2771 4590" in results[1].customer and "ndak aktif" not in results[1].customer


def test_the_refund_account_names_its_bank(service):
    _, results = play(service, "catering-stale-food", "id", ["Rekeningnya bank apa bu? Biar refund-nya sy transfer."])
    account = knowledge_answer(LIB.get("catering-stale-food", "id"), "bank_account")
    assert "BRI" in account and account in results[0].customer


def test_the_customer_gives_their_number_when_asked(service):
    _, results = play(service, "water-bill-surge", "en", ["What's the best number to reach you on, Ma'am?"])
    number = knowledge_answer(LIB.get("water-bill-surge", "en"), "contact_number")
    assert number in results[0].customer
    assert "04-11-02387" not in results[0].customer  # not the connection number


def test_a_day_the_customer_named_said_back_is_no_promise():
    said = LIB.get("catering-stale-food", "en").opening  # the party was on Saturday
    assert "Saturday" in said
    assert Slot.when not in extract_slots("I'm so sorry about Saturday, that should never have happened.", None, said)
    assert Slot.when not in extract_slots("I'm checking the whole saturday batch today.", None, said)
    assert extract_slots("I'll call you Saturday at 10 with the findings.", None, said)[Slot.when] == "Saturday at 10"
    assert Slot.when in extract_slots("The refund is in your account by next Saturday.", None, said)
    assert Slot.when in extract_slots("I'm so sorry about Saturday.")  # without what the customer said


def test_the_promise_said_back_is_the_most_specific_time_of_the_turn():
    """A check today and a call tomorrow before 3: the customer holds the trainee to the call."""
    for text, when in (("Our desk checks with Samsat today, and I'll call you tomorrow before 3 pm.", "tomorrow before 3 pm"),
                       ("Bagian STNK kami hari ini nanya status ke Samsat, besok sebelum jam 3 sore sy telp Mas.",
                        "besok sebelum jam 3 sore"),
                       ("Today I'll raise it, and on Thursday between 2 and 4 I call you back.", "Thursday between 2 and 4"),
                       ("It will be done by 5 pm today.", "by 5 pm today")):
        slots = extract_slots(text)
        assert slots[Slot.when] == when, text
    assert extract_slots("Bagian STNK kami hari ini nanya status, besok sebelum jam 3 sy telp.")[Slot.day] == "besok"


def test_a_time_ending_in_a_full_stop_does_not_double_the_lines_own():
    from simulator.dialogue import fill

    assert fill("OK, {when}. Don't make me come back.", {"when": "tomorrow before 3 p.m."}) == \
        "OK, tomorrow before 3 p.m. Don't make me come back."
    assert fill("OK, {when}, I'll wait.", {"when": "at 3 p.m."}) == "OK, at 3 p.m., I'll wait."


def test_a_line_that_answers_the_trainees_own_words_comes_first(service):
    """A counter-threat naming the police draws "Are you threatening me back?", not a generic
    angry line, whichever line the seed would pick."""
    for seed in range(5):
        _, results = play(service, "threat-violence", "en",
                          ["Sir, don't shout at me. You break that glass, you pay for it, and I'll call the police on you."],
                          seed=seed)
        assert "threatening me back" in results[0].customer, results[0].customer


def test_a_reference_number_the_customer_gave_read_back_is_no_number_given():
    said = "Tracking number KLT7720114539. It left Glodok on the 3rd."
    assert Slot.number not in extract_slots("Thank you. KLT7720114539, sent from Glodok on the 3rd.", None, said)
    assert "0508" in extract_slots("KLT7720114539 noted; your claim number is KLM-0508-221.", None, said)[Slot.number]
    assert Slot.number in extract_slots("Thank you. KLT7720114539, sent from Glodok.")  # without what the customer said


def test_a_promise_beside_a_question_is_restated_after_the_answer(service):
    _, results = play(service, "catering-stale-food", "en",
                      ["I'll ring you Thursday before 3 with what the kitchen finds. Whats the best no to reach u on?"])
    number = knowledge_answer(LIB.get("catering-stale-food", "en"), "contact_number")
    reply = results[0].customer
    assert reply.startswith(number)
    assert "Thursday before 3" in reply[len(number):]


def test_answers_follow_the_order_of_the_questions():
    scenario = LIB.get("water-bill-surge", "en")
    asked = asked_items("What's your full name? And what does your meter show?", TurnAnalysis(tags=[Tag.question]),
                        scenario, default_matcher())
    assert asked.ids == ["customer_name", "meter_reading"]


def test_a_malformed_everyday_bank_names_the_file_and_field(tmp_path):
    from simulator.datafile import DataFileError

    bad = tmp_path / "everyday.yaml"
    bad.write_text("titles: [mrs]\nitems:\n  - id: contact_number\n    answer: {en: 'x', fr: 'y'}\n"
                   "    asked_by: [phone number]\n    questions: []\n", encoding="utf-8")
    with pytest.raises(DataFileError) as err:
        load_everyday.__wrapped__(bad)
    assert "everyday.yaml: items.0.answer.fr" in str(err.value)


@pytest.mark.parametrize("scenario_id, lang, turns, outcome", [
    ("vehicle-registration-delay", "en", ["We apologise for the inconvenience.", "Your complaint has been noted.",
                                          "Thank you for choosing Sinar Jaya Motor, have a nice day."], "walked_away"),
    ("threat-violence", "id", ["Mohon sabar ya Pak.", "Paketnya masih dalam proses.",
                               "Terima kasih telah menghubungi kami, selamat siang."], "escalated"),  # a threatening customer
])
def test_a_goodbye_with_the_problem_still_open_ends_on_a_leaving_line(service, scenario_id, lang, turns, outcome):
    _, results = play(service, scenario_id, lang, turns)
    assert results[-1].ended and results[-1].scorecard.outcome == outcome
    assert results[-1].customer in lines_for(LIB.get(scenario_id, lang), Situation(outcome))


@pytest.mark.parametrize("scenario_id, lang, turns, outcome", [
    # put off again and again, nothing else: the customer leaves before the trainee runs out of put-offs
    ("water-bill-surge", "id", ["Nanti datanya kami proses, mohon ditunggu kabarnya.",
                                "Nanti ada petugas yang menghubungi Ibu. Mohon bersabar nggih.",
                                "Keluhan Ibu sudah kami catat dan akan segera ditindaklanjuti."], "walked_away"),
    # a closing in words no goodbye list holds, with the problem still open
    ("vehicle-registration-delay", "id", ["Mohon maaf atas keterlambatannya Pak.",
                                          "Terima kasih atas kepercayaannya kepada Sinar Jaya Motor."], "walked_away"),
])
def test_put_offs_and_closings_with_the_problem_open_end_the_conversation(service, scenario_id, lang, turns, outcome):
    _, results = play(service, scenario_id, lang, turns)
    assert results[-1].ended and results[-1].scorecard.outcome == outcome
    assert not any(r.ended for r in results[:-1])
    assert results[-1].customer in lines_for(LIB.get(scenario_id, lang), Situation(outcome))


@pytest.mark.parametrize("text, reply", [
    ("Someone from our team will contact you about it.", Situation.not_convinced),  # no time said: "and then what?"
    ("We'll get back to you soon.", Situation.push_time),  # a vague time: "when exactly?"
])
def test_a_put_off_costs_patience_and_is_pushed_on(service, text, reply):
    record, _ = play(service, "water-bill-surge", "en", [text])
    state = service.dialogue(service.session(record.id))
    assert state.did.put_off and state.reply is reply
    assert state.patience < load_params().patience.start["angry"]


@pytest.mark.parametrize("lang, text", [
    ("en", "Let me check that for you right now."),  # a step taken while the customer waits
    ("id", "Petugas kami datang Rabu jam 8-12 untuk cek meteran, nanti sy kabari hasilnya."),  # a concrete time
    ("id", "Boleh minta nomor HP Ibu? Nanti ada yang menghubungi Ibu."),  # a question the customer answers
])
def test_a_step_a_concrete_time_or_a_question_is_no_put_off(service, lang, text):
    record, _ = play(service, "water-bill-surge", lang, [text])
    assert not service.dialogue(service.session(record.id)).did.put_off


def test_a_wait_or_a_closing_is_read_by_meaning_not_by_a_word_list():
    assert is_put_off("Nanti ada petugas yang menghubungi Ibu.", "id")
    assert is_put_off("Someone will get back to you soon.", "en")
    assert not is_put_off("One moment, I'm pulling up your account.", "en")
    assert not is_put_off("Paket Kakak udah abis dan masa aktifnya lewat.", "id")
    assert is_closing("Terima kasih atas masukannya Bu, jadi bahan evaluasi kami.", "id")
    assert not is_closing("Jadi yg dibilang bagian STNK kami itu bener.", "id")
    assert not is_closing("Thank you for your patience.", "en")  # a courtesy mid-conversation


@pytest.mark.skipif(encoder.get_encoder() is None, reason="a put-off is told from a step by the encoder")
def test_a_hedge_or_a_wait_for_time_is_a_put_off():
    assert is_put_off("Sorry ah, nothing I can promise at this point.", "en")
    assert is_put_off("Sabar ya Bu, prosesnya memang makan waktu.", "id")
    assert not is_put_off("Refundnya kami transfer paling lambat Rabu jam 3 sore.", "id")


@pytest.mark.skipif(encoder.get_encoder() is None, reason="a put-off is told from a step by the encoder")
def test_a_refund_not_yet_promised_meets_no_refund(service):
    record, _ = play(service, "catering-stale-food", "id", [
        "Kalo soal ganti rugi nanti sy tanyain ke atasan dulu ya Bu, sy blm bisa janji apa2 skrg."])
    assert service.dialogue(service.session(record.id)).need("refund").met_turn is None


def test_the_scorer_hears_which_turns_were_small_talk_or_fillers(service):
    record, _ = play(service, "water-bill-surge", "en", ["How did you get here today?", "ok", "What does your meter show?"])
    turns = service.trainee_turns(record.id)
    assert [(t.small_talk, t.filler) for t in turns] == [(True, False), (False, True), (False, False)]


def test_an_opening_greeting_asks_for_nothing():
    # "Pagi" greets; it is not the "pagi" of "Besok pagi ada orang di rumah?"
    scenario = LIB.get("vehicle-registration-delay", "id")
    asked = asked_items("Pagi Mas, udah sarapan?", TurnAnalysis(tags=[Tag.question]), scenario, default_matcher())
    assert asked.ids == ["wellbeing"]
    later = asked_items("Pagi Bu, besok pagi ada orang di rumah?", TurnAnalysis(tags=[Tag.question]),
                        LIB.get("water-bill-surge", "id"), default_matcher())
    assert later.ids == ["be_there"]


def test_a_request_read_as_asking_is_not_confirmed_or_met_with_not_knowing(service):
    """"Please send our best to Bu Sumi and your nephew" names people she spoke of: it is no check
    to confirm ("That's right.") and no question she cannot answer."""
    record, results = play(service, "catering-stale-food", "en",
                           ["How many guests got sick, and did anyone go to the clinic?",
                            "I'm so sorry. Please send our best wishes to Bu Sumi and your nephew."])
    state = service.dialogue(service.session(record.id))
    assert "guests_ill" in state.told
    assert state.reply not in (Situation.confirmed, Situation.answer_unknown), results[-1].customer


@pytest.mark.parametrize("text, tags, unknown", [
    # a wish read as a question (the heads can: "please send" asks for something) is no question
    ("I'm so sorry. Please send our best wishes to Bu Sumi and your nephew.", ["question", "apology"], False),
    ("Tolong sampaikan salam kami buat Bu Sumi ya.", ["question"], False),
    # asked of our side, or a question by its form, it still draws "I don't know"
    ("Tell me the colour of your car.", ["question"], True),
    ("Ibu punya kucing gak", ["question"], True),
])
def test_a_request_or_a_wish_is_not_met_with_not_knowing(text, tags, unknown):
    lang = "id" if "Bu Sumi ya" in text or "kucing" in text else "en"
    state = initial_state(LIB.get("catering-stale-food", lang)).model_copy(update={"turn": 3})
    after = _turn(state, text, tags, lang=lang, scenario_id="catering-stale-food")
    assert (after.reply is Situation.answer_unknown) is unknown, after.reply


def test_a_leave_to_ask_is_not_agreed_to_like_an_offer(service):
    """"Can I ask, ..." split off its question drew "Yes. Go on." before the answer."""
    record, _ = play(service, "elderly-confused-app", "en", [
        "Good morning Pak. Can I ask, the phone number the bank has for you, is it the number of this phone or an older one?"])
    state = service.dialogue(service.session(record.id))
    assert "old_number" in state.told
    assert Situation.agree not in state.did.other_questions


@pytest.mark.parametrize("lang,text", [
    ("id", "Boleh saya tanya, nomor di HP ini nomor lama atau nomor baru, Pak?"),
    ("en", "Can I ask whether the number on this phone is the old one or a new one?"),
])
def test_a_question_between_facts_after_a_leave_to_ask_is_answered(service, lang, text):
    """"May I ask" opens no offer, so "old or new number?" is no choice to leave to the trainee
    ("Kedengarannya itu bisa membantu, nggih" was the answer)."""
    record, _ = play(service, "elderly-confused-app", lang, [text])
    state = service.dialogue(service.session(record.id))
    assert state.told[:1] == ["old_number"] and Situation.agree not in state.did.other_questions


def test_a_time_is_said_back_in_the_customers_words_not_the_trainees_shorthand(service):
    record, results = play(service, "water-bill-surge", "id", [
        "Baik Bu, kami jadwalkan cek meter besok (Jumat) sblm jam 12 siang ya, nomor aduan ADK-123."])
    state = service.dialogue(service.session(record.id))
    assert state.echo["when"] == "besok (Jumat) sebelum jam 12 siang"
    assert "sblm" not in results[-1].customer


@pytest.mark.parametrize("question, lang, reply, said", [
    ("Have you called the water company's hotline yet?", "en", Situation.not_yet, "No, not yet."),
    ("Did you get a letter from us about the new tariff?", "en", Situation.not_yet, "No, I didn't."),
    ("Tagihan bulan ini udh dibayar blm, Bu?", "id", Situation.not_yet, None),
    ("Ibu pernah dapat surat dari kami soal tarif baru?", "id", Situation.not_yet, "Belum pernah"),
    # a question between alternatives, and one that does not ask whether something happened
    ("Udh dibayar atau masih ditahan dulu, Bu?", "id", Situation.answer_unknown, None),
    ("Does the bank accept a letter if the card is ever late?", "en", Situation.answer_unknown, None),
])
def test_whether_something_has_happened_is_answered_not_yet_not_i_dont_know(service, question, lang, reply, said):
    """A customer who came to complain has not done what nobody wrote down ("have you called
    them yet?"): "No, not yet", not "I don't know" about their own life."""
    state = _turn(initial_state(LIB.get("water-bill-surge", lang)), question, ["question"], lang=lang)
    assert state.reply is reply
    if said:
        _record, results = play(service, "water-bill-surge", lang, [question])
        assert said in results[-1].customer


@pytest.mark.parametrize("question, lang", [
    # "cek" is ours, not asked of her
    ("Mohon maaf ya Kak, pasti kesel bgt. Kita bantu cek skrg, boleh lanjut lewat DM biar datanya aman?", "id"),
    ("So sorry about the live sale. Once it's fixed, want us to send you the details by DM?", "en"),
])
def test_an_offer_after_a_statement_is_agreed_to(question, lang):
    state = _turn(initial_state(LIB.get("prepaid-no-credit", lang)), question, ["apology", "empathy", "question"],
                  lang=lang, scenario_id="prepaid-no-credit")
    assert state.reply is Situation.agree


def test_a_step_for_the_problem_draws_progress_lines_not_thanks_for_manners(service):
    """A remedy, a need met or the right place is taken note of ("OK. That's something concrete");
    a scenario's calmer line is said for it only when it says what it answers."""
    scenario = LIB.get("prepaid-no-credit", "en")
    texts = lines_for(scenario, Situation.progress)
    assert "Hm, OK, I'll check what you asked." in texts  # answers the trainee's own words
    assert "OK, thanks for not biting back." not in texts and "OK, thanks for not biting back." in lines_for(
        scenario, Situation.calmer)
    state = _turn(initial_state(scenario), "We'll give you 5 GB of free data as compensation.", ["compensation"],
                  scenario_id="prepaid-no-credit")
    assert state.reply is Situation.progress


def test_part_of_a_number_the_customer_gave_is_no_number_given():
    said = "Application number 3376-PD-0402-118. ID number 3376 0214 0879 0003."
    assert "number" not in extract_slots("Got it, 3376-PD-0402-118. What were you told?", None, said)
    assert extract_slots("Your complaint number is PGD-0613-07.", None, said)["number"] == "PGD-0613-07"


def test_two_times_in_one_sentence_are_not_one_echo():
    """"today and call you tomorrow, Friday, before 12" holds two times; the customer restates the
    promise ("tomorrow, Friday, before 12 noon"), not a run of words joined across a verb."""
    assert extract_slots("He will clear the flag today and call you tomorrow, Friday, before 12 noon.")["when"] == (
        "tomorrow, Friday, before 12 noon")
    assert extract_slots("Petugas datang besok jam 9 sampai 11 ya Bu")["when"] == "besok jam 9 sampai 11"


@pytest.mark.parametrize("text, lang", [
    ("It'll be sorted by tonight.", "en"),
    ("Hari ini beres kok, Kak.", "id"),
])
def test_a_day_without_a_time_is_pushed_on_like_soon(text, lang):
    """"By tonight" names no time a customer can hold anyone to, as "tomorrow" does not."""
    state = _turn(initial_state(LIB.get("prepaid-no-credit", lang)), text, ["time_estimate"], lang=lang,
                  scenario_id="prepaid-no-credit")
    assert state.did.vague_time and state.reply is Situation.push_time
    assert state.echo["when"].lower() in ("tonight", "hari ini")


def test_a_day_beside_a_step_taken_now_is_not_pushed_on():
    state = _turn(initial_state(LIB.get("threat-lawsuit", "id")),
                  "Ibu Bapak sudah 76 tahun, itu mestinya tidak terjadi. Hari ini juga tagihan Bapak saya tandai dalam "
                  "sengketa, dan penagihan saya hentikan mulai sekarang.", ["empathy", "acknowledge", "time_estimate"],
                  lang="id", scenario_id="threat-lawsuit")
    assert not state.did.vague_time and state.reply is not Situation.push_time


@pytest.mark.parametrize("scenario_id, lang, question, expected", [
    # her own wellbeing is small talk, not "I couldn't tell you offhand"
    ("warranty-defect", "en", "you ok tho? nothing happened to you while you were stuck out there?", ["wellbeing"]),
    ("warranty-defect", "id", "Ibu nggak apa-apa kan waktu mogok malam itu?", ["wellbeing"]),
    # the number on his new phone is not the old number he told
    ("elderly-confused-app", "id", "Nomor yg di HP baru ini berapa, Pak?", ["old_number", "contact_number"]),
    # a restart asked about is answered, and is no question about his phone number
    ("elderly-confused-app", "id", "Bapak sdh coba matiin terus nyalain lagi HP-nya?", ["restarted"]),
    ("elderly-confused-app", "en", "Have you tried switching the phone off and on again?", ["restarted"]),
])
def test_what_a_question_asks_for(scenario_id, lang, question, expected):
    scenario = LIB.get(scenario_id, lang)
    assert asked_items(question, TurnAnalysis(tags=[Tag.question]), scenario, default_matcher()).ids == expected


def test_a_told_fact_asked_to_be_confirmed_is_said_again(service):
    _, results = play(service, "water-bill-surge", "en", [
        "What's your connection number please?",
        "Can you confirm your connection number so the re-check goes to the right house?"])
    assert "04-11-02387" in results[1].customer


@pytest.mark.parametrize("text, when", [
    ("A meter reader comes to re-check wednesday 8-12, then the bill's corrected.", "wednesday 8-12"),
    ("Technician Thursday 9 to 12, then I call you.", "Thursday 9 to 12"),
    ("Rabu 10.30, nanti saya telp Ibu.", "Rabu 10.30"),
])
def test_hours_before_a_comma_are_hours(text, when):
    assert extract_slots(text)["when"] == when


def test_a_question_whether_the_customer_knows_something_is_answered_beside_the_others():
    """"Do you know X?" asks for X: beside an answer to the turn's other question the customer
    says they don't know it, instead of leaving it unanswered."""
    state = initial_state(LIB.get("water-bill-surge", "en"))
    known = _turn(state, "What does your meter show? Do you know the name of the man who read it last month?", ["question"])
    assert known.reveal == ["meter_reading"] and known.also == [Situation.other_unknown]
    state = initial_state(LIB.get("wrong-agency", "id"))
    kenal = _turn(state, "Meterannya nunjukin apa, Bu? Ibu kenal Pak Joko, petugas lapangan PLN di Gumpang?", ["question"],
                  lang="id", scenario_id="wrong-agency")
    assert kenal.reveal == ["meter_display"] and kenal.also == [Situation.other_unknown]


def test_a_question_on_the_same_topic_as_an_answered_one_is_not_taken_as_answered():
    """The parcel's weight is not in the tracking number's answer, though the encoder puts the two
    questions near each other: the customer says they don't know it."""
    scenario = LIB.get("threat-violence", "id")
    mood = SimpleNamespace(anger=6.0, trust=3.0, threat=0.0, outcome=None, situation=None)
    text = "Resinya berapa, Bang? Waktu ditimbang di Glodok, berat paketnya berapa kilo?"
    state = update(initial_state(scenario), text, TurnAnalysis(tags=[Tag.question]), scenario, mood, default_matcher())
    assert state.reveal == ["receipt"] and state.also == [Situation.other_unknown]


@pytest.mark.parametrize("scenario_id, lang, question, ids", [
    # the question asks for a kind of thing (a name, an identifier, a rule, a measure) that the
    # item its words touch never speaks of
    ("threat-lawsuit", "en", "Do you remember the name of the officer who took your cancellation?", []),
    ("threat-lawsuit", "id", "Bapak ingat nama petugas yang menerima pemutusan tanggal 15 Januari itu?", []),
    ("water-bill-surge", "en", "What's the serial number on your meter?", []),
    ("warranty-defect", "id", "Lampu LED yang dipasang itu berapa watt, Mbak?", []),
    ("vehicle-registration-delay", "id", "Bapak tahu kebijakan kami soal surat jalan sementara?", []),
    # a kind the item speaks of is still asked for
    ("catering-stale-food", "en", "What's your order number, and the name it's under?", ["order_detail"]),
    # only the part that holds the item's words: the rate asked beside it is another question
    ("water-bill-surge", "id", "Nomor sambungan Ibu berapa, terus meterannya merk apa?", ["customer_number"]),
])
def test_a_question_for_a_kind_of_thing_an_item_never_speaks_of_does_not_ask_for_it(scenario_id, lang, question, ids):
    asked = asked_items(question, TurnAnalysis(tags=[Tag.question]), LIB.get(scenario_id, lang), default_matcher())
    assert asked.ids == ids


@pytest.mark.parametrize("lang, offered", [("en", "Don't waste it"), ("id", "Jangan disia-siakan")])
def test_a_line_about_something_offered_needs_an_offer(lang, offered):
    """"Don't waste it" after the cause is found (nothing offered yet) refers to nothing."""
    scenario = LIB.get("prepaid-no-credit", lang)
    state = initial_state(scenario)
    found = [choose_line(scenario, Situation.progress, state, set(), lambda lines, i=i: lines[i % len(lines)])
             for i in range(10)]
    assert found and not any(offered in (line or "") for line in found)
    state.remedy_offered = True
    offers = [choose_line(scenario, Situation.progress, state, set(), lambda lines, i=i: lines[i % len(lines)])
              for i in range(10)]
    assert any(offered in (line or "") for line in offers)


@pytest.mark.parametrize("scenario_id, lang, situation, assumes", [
    ("vehicle-registration-delay", "en", Situation.calmer, "explaining it slowly"),
    ("vehicle-registration-delay", "id", Situation.calmer, "dijelasin pelan-pelan"),
    ("water-bill-surge", "en", Situation.angrier, "Easy for you to say"),
    ("water-bill-surge", "id", Situation.angrier, "Gampang ngomongnya"),
])
def test_a_line_that_answers_what_the_trainee_said_needs_it_said(scenario_id, lang, situation, assumes):
    """After a bare "Hmm" the customer neither thanks the trainee for explaining slowly nor calls
    a reassurance nobody gave "easy for you to say"."""
    scenario = LIB.get(scenario_id, lang)
    state = _turn(initial_state(scenario), "Hmm.", [], lang=lang, scenario_id=scenario_id)
    said = [choose_line(scenario, situation, state, set(), lambda lines, i=i: lines[i % len(lines)]) for i in range(12)]
    assert said and not any(assumes in (line or "") for line in said)
    calming = "Tenang saja, Bu, wajar kok." if lang == "id" else "Just stay calm, it's fine."
    explained = " ".join(["Saya jelaskan pelan-pelan ya." if lang == "id" else "Let me explain it slowly."] * 6)
    state = _turn(initial_state(scenario), calming if situation is Situation.angrier else explained, [],
                  lang=lang, scenario_id=scenario_id)
    said = [choose_line(scenario, situation, state, set(), lambda lines, i=i: lines[i % len(lines)]) for i in range(12)]
    assert any(assumes in (line or "") for line in said)


def test_that_one_i_dont_know_comes_after_the_answers(service):
    """A check confirmed first still comes first; "That part I couldn't tell you" speaks of a
    question beside the answered ones, so it follows the answer (it came between them)."""
    turn = "So nothing's changed at home, right? What does your meter show now? And do you know the name of the man who read it?"
    _record, (result,) = play(service, "water-bill-surge", "en", [turn])
    scenario = LIB.get("water-bill-surge", "en")
    fact = next(f.reveal.strip() for f in scenario.hidden_facts if f.id == "meter_reading")
    dont_know = lines_for(scenario, Situation.other_unknown)
    assert fact in result.customer
    assert any(result.customer.endswith(line) for line in dont_know), result.customer
    assert any(result.customer.startswith(line) for line in lines_for(scenario, Situation.confirmed)), result.customer


@pytest.mark.parametrize("scenario_id, lang, text, ids", [
    # chat drops the '?' and the analyser may not tag the turn a question: its form still asks
    ("catering-stale-food", "en", "what time did the boxes get to you", ["delivery_time"]),
    ("water-bill-surge", "en", "whats ur connection number pls", ["customer_number"]),
    # Indonesian chat puts the question word last; beside the trainee's own side it is a plan
    ("prepaid-no-credit", "id", "kak, internetnya mati dr jam brp", ["since_when"]),
    ("vehicle-registration-delay", "id", "pak, dulu yg janjiin plat jadi 2 minggu itu siapa", ["promise"]),
    ("water-bill-surge", "id", "Biar saya cek dulu meterannya di mana.", []),
    # an imperative opens the same way: it asks nothing
    ("wrong-agency", "en", "Have your customer ID from the token receipt and your ID card ready.", []),
    # "may I have" asks for something; between two names for it, it is no choice to leave open
    ("water-bill-surge", "en", "May I have your connection number or your customer number?", ["customer_number"]),
    ("water-bill-surge", "id", "Boleh sy minta nomor sambungan atau nomor pelanggan Ibu?", ["customer_number"]),
])
def test_a_question_by_its_form_or_a_request_for_something_asks_for_it(scenario_id, lang, text, ids):
    asked = asked_items(text, TurnAnalysis(tags=[]), LIB.get(scenario_id, lang), default_matcher())
    assert asked.ids == ids


@pytest.mark.parametrize("lang, text, provoked", [
    ("en", "Sorry Sir, your parcel is still in process.", True),
    ("id", "Mohon maaf Pak, paketnya lg diproses ya.", True),
    ("id", "Pak, saya tidak akan bilang 'dalam proses'. Saya cek resinya sekarang.", False),  # his words quoted back
])
def test_the_words_the_customer_warned_about_provoke_him(lang, text, provoked):
    """The courier customer said one more "in process" and the glass goes: an apology around the
    words does not calm him, and his angry line quotes them."""
    scenario = LIB.get("threat-violence", lang)
    after = update(initial_state(scenario), text, TurnAnalysis(tags=[Tag.apology]), scenario,
                   SimpleNamespace(anger=8.0, trust=1.0, threat=6.0, outcome=None, situation=None))
    assert after.did.provoked is provoked
    assert (after.reply is Situation.angrier) is provoked
    if provoked:
        line = choose_line(scenario, after.reply, after, set(), lambda lines: lines[0])
        assert ("in process" if lang == "en" else "dalam proses") in line.lower()


@pytest.mark.parametrize("scenario_id,lang,text,item", [
    ("elderly-confused-app", "en", "Sir, does the bank have this new phone's number, or the old one?", "old_number"),
    ("catering-stale-food", "id", "Jadi yang bau asem itu sambal gorengnya atau sayurnya, Bu?", "which_dish"),
])
def test_a_question_between_two_alternatives_is_answered_not_confirmed(service, scenario_id, lang, text, item):
    """"New number or old?" asks which: "Yes, exactly" answers nothing (issue 11, stop 37's note)."""
    record, results = play(service, scenario_id, lang, [text])
    state = service.dialogue(service.session(record.id))
    assert item in state.did.asked and state.reply is not Situation.confirmed, results[0].customer


@pytest.mark.parametrize("scenario_id,lang,text,items", [
    ("water-bill-surge", "id", "Ibu sudah berapa lama tinggal di situ? Sy liat dl tagihannya ya bu", ["bill"]),
    ("catering-stale-food", "en", "Let me see the photos you took, and how many guests got sick?", ["photos", "guests_ill"]),
])
def test_asking_to_see_something_as_a_step_is_asking_to_see_it(service, scenario_id, lang, text, items):
    """"sy liat dl tagihannya ya" asks to see the bill as much as "boleh saya lihat?" does."""
    record, results = play(service, scenario_id, lang, [text])
    state = service.dialogue(service.session(record.id))
    assert state.did.evidence_request and set(items) <= set(state.did.asked), results[0].customer
