"""The practice page (/practice) through the real entry point: deep links, the chat, the mood
meter, the coach, refusals, ending, the scorecard, resuming and access."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from simulator.scenario import ScenarioLibrary
from simulator.session import MAX_TURN_CHARS
from tests.app.page_support import chat, open_page, refusal, texts, tr, unescape
from ui.i18n import translate

PAGE = "views/practice.py"
SCENARIO = "water-bill-surge"
NOT_ALLOWED = translate("not_allowed", "en")
GOOD, BAD = ":green[:material/check_circle:]", ":orange[:material/warning:]"  # quote marks


def say(at: AppTest, text: str) -> AppTest:
    return at.chat_input(key="reply").set_value(text).run()


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def started(app, user, scenario: str = SCENARIO, lang: str = "en") -> AppTest:
    at = open_page(app(user), PAGE, scenario=scenario, lang=lang)
    at.button(key="start").click().run()
    assert not at.exception
    return at


# --------------------------------------------------------------------------- choosing


def test_deep_link_opens_the_briefing(app, ana):
    at = open_page(app(ana), PAGE, scenario=SCENARIO, lang="en")
    assert not at.exception
    scenario = ScenarioLibrary().get(SCENARIO, "en")
    assert at.subheader[0].value == scenario.title
    page = texts(at)
    for part in (scenario.briefing.role, scenario.briefing.setting, scenario.briefing.goal, scenario.persona.name):
        assert part in page
    assert at.button(key="start").label == tr("practice_start")
    assert not at.chat_input  # nothing started yet


def test_deep_link_in_indonesian(app, ana):
    at = open_page(app(ana), PAGE, scenario=SCENARIO, lang="id")
    scenario = ScenarioLibrary().get(SCENARIO, "id")
    assert at.subheader[0].value == scenario.title
    assert scenario.briefing.goal in texts(at)


def test_unknown_scenario_says_so_and_offers_the_list(app, ana):
    at = open_page(app(ana), PAGE, scenario="no-such-thing", lang="en")
    assert not at.exception
    # the id comes from the URL, so it is shown escaped (ui.context.escape_md)
    assert [unescape(w.value) for w in at.warning] == [tr("practice_unknown_scenario", id="no-such-thing", language="en")]
    offered = {b.key for b in at.button if b.key and b.key.startswith("open_")}
    assert f"open_{SCENARIO}_en" in offered
    at.button(key=f"open_{SCENARIO}_en").click().run()
    assert at.query_params == {"scenario": SCENARIO, "lang": "en"}
    assert at.button(key="start")


def test_picker_filters_by_language_difficulty_and_temperament(app, ana):
    library = ScenarioLibrary()
    at = open_page(app(ana), PAGE)

    def offered() -> set[str]:
        return {b.key.removeprefix("open_") for b in at.button if b.key and b.key.startswith("open_")}

    assert offered() == {f"{s.id}_en" for s in library.all("en")}
    at.selectbox(key="pick_lang").set_value("id").run()
    assert offered() == {f"{s.id}_id" for s in library.all("id")}
    at.selectbox(key="pick_temperament").set_value("threatening").run()
    expected = {f"{s.id}_id" for s in library.all("id") if s.persona.temperament.value == "threatening"}
    assert expected and offered() == expected
    level = library.get(sorted(expected)[0].removesuffix("_id"), "id").difficulty
    at.selectbox(key="pick_difficulty").set_value(level).run()
    assert offered() == {
        f"{s.id}_id" for s in library.all("id") if s.persona.temperament.value == "threatening" and s.difficulty == level
    }
    missing = ({1, 2, 3} - {s.difficulty for s in library.all("id") if s.persona.temperament.value == "threatening"})
    if missing:
        at.selectbox(key="pick_difficulty").set_value(min(missing)).run()
        assert offered() == set()
        assert tr("practice_no_match") in [i.value for i in at.main.info]


# --------------------------------------------------------------------------- the conversation


def test_start_puts_the_session_in_the_url_and_the_customer_opens(app, ana, repo):
    at = started(app, ana)
    [record] = repo.list_sessions(user_id=ana.id)
    assert at.query_params == {"session": record.id}
    assert record.scenario_id == SCENARIO and record.lang == "en" and record.status == "active"
    opening = ScenarioLibrary().get(SCENARIO, "en").opening
    assert chat(at) == [("assistant", opening)]
    assert set(metrics(at)) == {tr("practice_anger"), tr("practice_trust")}
    assert at.chat_input(key="reply")
    assert at.button(key="end").label == tr("practice_end")


def test_turns_get_an_answer_and_move_the_mood_meter(app, ana, repo):
    at = started(app, ana)
    sid = at.query_params["session"]
    before = metrics(at)
    say(at, "I'm so sorry about this. So your bill jumped from about 80 thousand to 512 thousand this month?")
    assert not at.exception
    assert not at.error
    turns = repo.get_turns(sid)
    assert [t.speaker for t in turns] == ["customer", "trainee", "customer"]
    assert chat(at) == [("assistant", turns[0].text), ("user", turns[1].text), ("assistant", turns[2].text)]
    after = metrics(at)
    mood = turns[2].mood
    assert after[tr("practice_anger")] == f"{mood['anger']:.1f} / 10"
    assert after[tr("practice_trust")] == f"{mood['trust']:.1f} / 10"
    assert after != before  # a substantive first turn moves the customer
    anger = next(m for m in at.metric if m.label == tr("practice_anger"))
    assert anger.delta is not None

    say(at, "May I have your customer number, and since when has the bill been this high?")
    assert len(repo.get_turns(sid)) == 5
    assert len(at.chat_message) == 5


@pytest.mark.parametrize("text", ["   ", "x" * (MAX_TURN_CHARS + 1)])
def test_empty_and_overlong_messages_are_refused_and_nothing_is_stored(app, ana, repo, text):
    at = started(app, ana)
    sid = at.query_params["session"]
    say(at, text)
    assert not at.exception
    assert [e.value for e in at.error] == [refusal(text)]
    assert len(repo.get_turns(sid)) == 1
    assert len(at.chat_message) == 1
    assert repo.get_session(sid).status == "active"


def test_end_session_shows_the_scorecard(app, ana, repo):
    at = started(app, ana)
    sid = at.query_params["session"]
    first = "I'm sorry. So your bill went up six times and nothing changed at home?"
    say(at, first)
    say(at, "That is our procedure, the meter is always right, please calm down.")
    at.button(key="end").click().run()
    assert not at.exception
    record = repo.get_session(sid)
    assert record.status == "ended" and record.outcome == "abandoned"
    assert not at.chat_input  # nothing more can be said
    page = texts(at)
    assert tr("practice_scorecard") in [s.value for s in at.subheader]
    m = metrics(at)
    assert m[tr("practice_overall")] == f"{record.overall:.0f} / 100"
    assert m[tr("practice_outcome")] == tr("practice_outcome_abandoned")
    scores = {row.dimension: row for row in repo.get_scores(sid)}
    for row in scores.values():
        if row.applies:
            assert row.feedback in page
    # quotes from the trainee's own turns, numbered as the trainee counts them
    quotes = [c.value for c in at.caption if c.value.startswith((GOOD, BAD))]
    assert quotes and all('"' in q for q in quotes)
    assert any(q.startswith(BAD) and tr("practice_turn_n", n=2) in q for q in quotes)
    # better phrasing for the weakest dimensions
    better = [s.value for s in at.success]
    assert better and all(s.startswith(tr("practice_better", text="")) for s in better)
    # the cap and its reason, the top things to fix with their turn, the learning points
    from simulator.session import SessionService

    card = SessionService(repo).scorecard(sid)
    assert card.cap is not None and card.cap.key == "no_need_met"  # an apology and a brush-off meet no need
    assert card.cap.reason in page
    assert card.fixes and len(card.fixes) <= 3
    assert tr("score_fixes_heading") in page
    assert all(f.feedback in page for f in card.fixes)
    assert any(e.label == tr("score_learning_points") for e in at.expander)
    # idempotent: running again shows the same stored card
    at.run()
    assert metrics(at)[tr("practice_overall")] == f"{record.overall:.0f} / 100"


def test_the_session_ends_when_the_customer_does(app, ana, repo):
    at = started(app, ana)
    sid = at.query_params["session"]
    limit = ScenarioLibrary().get(SCENARIO, "en").max_turns
    for _ in range(limit + 1):
        if repo.get_session(sid).status != "active":
            break
        say(at, "Whatever. That is your own fault, you must have used more water. Not our problem.")
        assert not at.exception
    record = repo.get_session(sid)
    assert record.status == "ended" and record.outcome not in (None, "abandoned")
    assert not at.chat_input
    assert metrics(at)[tr("practice_outcome")] == tr(f"practice_outcome_{record.outcome}")
    assert tr("practice_scorecard") in [s.value for s in at.subheader]


def test_coach_hint_after_a_turn_that_hurt(app, ana):
    at = started(app, ana)
    at.toggle(key="coach").set_value(True).run()
    say(at, "Calm down please, the meter reading is always correct, that is our procedure.")
    assert [w.value for w in at.warning] == [tr("practice_hint_justified_first")]
    say(at, "I'm sorry, so your bill jumped six times while nothing changed at home?")
    assert not at.warning  # that one did not hurt
    at.toggle(key="coach").set_value(False).run()
    say(at, "Calm down, it is our procedure.")
    assert not at.warning  # the coach is off


# --------------------------------------------------------------------------- resume and access


def test_resume_by_session_id(app, ana, service):
    record = service.start(SCENARIO, "en", user_id=ana.id, seed=7)
    service.say(record.id, "I'm sorry, your bill went up six times?")
    service.say(record.id, "What is your customer number?")
    turns = service.transcript(record.id)
    at = open_page(app(ana), PAGE, session=record.id)  # a refresh or a new tab
    assert not at.exception
    assert chat(at) == [("assistant" if t.speaker == "customer" else "user", t.text) for t in turns]
    assert metrics(at)[tr("practice_anger")] == f"{turns[-1].mood['anger']:.1f} / 10"
    say(at, "We will re-check your meter within 3 working days.")
    assert len(service.transcript(record.id)) == 7


def test_a_resumable_session_is_offered_on_the_list(app, ana, service):
    record = service.start(SCENARIO, "en", user_id=ana.id, seed=7)
    at = open_page(app(ana), PAGE)
    at.button(key=f"resume_{record.id}").click().run()
    assert at.query_params == {"session": record.id}
    assert at.chat_input(key="reply")


def test_a_turn_sent_after_the_account_was_disabled_is_not_said(app, ana, repo):
    # The chat's callback and the conversation's fragment reruns skip the shell's sign-in check,
    # so they check it themselves.
    at = started(app, ana)
    sid = at.query_params["session"]
    repo.set_user_active(ana.id, False)
    say(at, "May I have your customer number, please?")
    assert not at.exception
    assert len(repo.get_turns(sid)) == 1
    assert tr("auth_title") in texts(at)


@pytest.mark.parametrize("role", ["trainee", "trainer", "admin"])
def test_another_users_session_is_not_allowed(app, ana, make_user, service, role):
    record = service.start(SCENARIO, "en", user_id=ana.id, seed=7)
    service.say(record.id, "So sorry, your bill went up six times?")
    other = make_user("budi", role)
    at = open_page(app(other), PAGE, session=record.id)
    assert not at.exception
    assert [e.value for e in at.error] == [NOT_ALLOWED]
    assert not at.chat_message and not at.chat_input and not at.metric
    assert "six times" not in texts(at)
    assert len(service.transcript(record.id)) == 3


def test_unknown_session_id_is_not_allowed(app, ana):
    at = open_page(app(ana), PAGE, session="does-not-exist")
    assert [e.value for e in at.error] == [NOT_ALLOWED]
    assert not at.chat_input


def test_hr_may_not_practise(app, make_user):
    at = open_page(app(make_user("hana", "hr")), PAGE, scenario=SCENARIO, lang="en")
    assert [e.value for e in at.error] == [NOT_ALLOWED]
    assert not any(b.key == "start" for b in at.button)


def test_indonesian_interface(app, ana, repo):
    repo.set_user_lang(ana.id, "id")
    at = open_page(app(ana), PAGE, scenario=SCENARIO, lang="en")
    assert at.button(key="start").label == tr("practice_start", "id")
    at.button(key="start").click().run()
    assert set(metrics(at)) == {tr("practice_anger", "id"), tr("practice_trust", "id")}
    assert at.button(key="end").label == tr("practice_end", "id")
