"""Trainee papercuts: refused text kept, the closing move, done/best badges and time estimates,
what is scored in the briefing, mood bars whose colour means what it says."""

from __future__ import annotations

from tests.app.page_support import chat, open_page, raw_texts, texts, tr
from tests.app.test_practice import PAGE, SCENARIO, started


def test_a_refused_long_reply_is_kept_to_shorten_and_send(app, ana):
    at = started(app, ana)
    typed = "Mohon maaf atas tagihannya. " + "x" * 5000
    at.chat_input(key="reply").set_value(typed).run()
    assert not at.exception
    assert at.error, "the refusal is said"
    kept = at.text_area(key="practice_kept_text")
    assert kept.value == typed  # nothing thrown away
    kept.input("I'm so sorry about the bill. Since when has it been this high?")
    at.button(key="practice_kept_go").click().run()
    assert not at.exception and not at.error
    said = [text for name, text in chat(at) if name == "user"]
    assert said == ["I'm so sorry about the bill. Since when has it been this high?"]
    assert not [w for w in at.text_area if w.key == "practice_kept_text"]


def test_the_closing_move_is_answered_and_ends_the_conversation(app, ana, repo):
    at = started(app, ana, lang="id")
    at.button(key="close").click().run()
    assert not at.exception
    session_id = at.query_params["session"]
    session_id = session_id[0] if isinstance(session_id, list) else session_id
    record = repo.get_session(session_id)
    assert record.status == "ended"
    turns = repo.get_turns(session_id)
    assert turns[-2].speaker == "trainee" and turns[-2].text == tr("practice_closing_line", "id")
    assert turns[-1].speaker == "customer"
    assert any(text == turns[-1].text for _, text in chat(at))  # the customer's answer is shown
    assert any(h.value == tr("practice_scorecard") for h in at.subheader)


def test_scenario_list_badges_and_time_estimate(app, ana, service):
    record = service.start(SCENARIO, "en", user_id=ana.id, seed=1)
    service.say(record.id, "I'm so sorry. So your bill jumped to 512 thousand?")
    card = service.end(record.id)
    at = open_page(app(ana), PAGE)
    shown = raw_texts(at)
    assert tr("practice_badge_done", best=f"{card.overall:.0f}") in shown
    assert tr("practice_badge_new") in shown
    assert "min" in texts(at) and tr("practice_minutes", low=6, high=12) in texts(at)


def test_the_briefing_says_what_is_scored_and_the_learning_points(app, ana, repo):
    repo.set_user_lang(ana.id, "id")
    at = open_page(app(ana), PAGE, scenario=SCENARIO, lang="id")
    shown = texts(at)
    assert tr("practice_scored_on", "id") in shown and "Mendengarkan" in shown
    assert tr("practice_learning_points", "id") in shown


def test_mood_bars_colour_by_meaning(app, ana):
    at = started(app, ana)
    values = {m.label: float(m.value.split(" ")[0]) for m in at.metric}
    bars = [str(h.proto.body) for h in at.get("html") if "tenang-mood-bar" in str(h.proto.body)]
    assert len(bars) >= 2
    anger, trust = values[tr("practice_anger")], values[tr("practice_trust")]

    def level(goodness):
        return "good" if goodness >= 6 else "mid" if goodness >= 3.5 else "bad"

    assert f'data-level="{level(10 - anger)}"' in bars[0]  # high anger is bad, never "good"
    assert f'data-level="{level(trust)}"' in bars[1]
    assert anger < 7 or 'data-level="bad"' in bars[0]
