"""Practice (/practice): pick a scenario, read the briefing, talk to the customer, see the scorecard.

URL states: no parameters -> the scenario list; ``?scenario=<id>&lang=<lang>`` -> that briefing
(the deep link trainers send); ``?session=<id>`` -> the conversation, resumed from the database
(only its owner may continue it). UI only: the service does the analysis, mood, reply and scoring.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import streamlit as st

from simulator.analysis_types import Tag
from simulator.scenario import LANGUAGES, Scenario, Temperament, UnknownScenario
from simulator.scoring import applies as scoring_applies
from simulator.session import InputError, SavingFailed
from ui import formatting as fmt
from ui import html as raw_html
from ui import scorecard as scorecard_ui
from ui.i18n import translate
from ui.context import (
    authoring,
    current_user,
    escape_md,
    input_error,
    library,
    repository,
    require_role,
    restore_sign_in,
    scenario_or_stop,
    service,
    t,
    ui_lang,
)

HERE = Path(__file__).resolve().parent  # sibling pages, wherever the folder lives
TRAINEE_AVATAR = ":material/support_agent:"
GOOD_MARK = ":green[:material/check_circle:]"  # a quote that earned points
BAD_MARK = ":orange[:material/warning:]"  # a quote that cost points

user = require_role("trainee", "trainer", "admin")
svc = service()
repo = repository()
params = st.query_params


def go(**query: str) -> None:
    """Replace the URL's query parameters and run the page again."""
    st.query_params.from_dict({k: v for k, v in query.items() if v})
    st.rerun()


def temperament_label(scenario: Scenario) -> str:
    return t(f"practice_temperament_{scenario.persona.temperament.value}")


def minutes_estimate(scenario: Scenario) -> tuple[int, int]:
    """About how long a run takes: a minute or so per exchange, a short one up to the turn limit."""
    return max(3, round(scenario.max_turns * 0.5)), max(5, scenario.max_turns)


def scenario_facts(scenario: Scenario) -> str:
    stars = "★" * scenario.difficulty + "☆" * (3 - scenario.difficulty)
    low, high = minutes_estimate(scenario)
    return " · ".join(
        [
            t("practice_difficulty_value", stars=stars),
            temperament_label(scenario),
            escape_md(scenario.sector),
            t(f"practice_lang_{scenario.lang}"),
            t("practice_minutes", low=low, high=high),
        ]
    )


def done_badge(best: float | None) -> str:
    """"Done · best 72" for a scenario this trainee has finished, else "not tried yet"."""
    if best is None:
        return t("practice_badge_new")
    return t("practice_badge_done", best=f"{best:.0f}")


# --------------------------------------------------------------------------- the scenario list


def resume_list() -> None:
    active = [s for s in repo.list_sessions(user_id=user.id, status="active") if s.parent_id is None]
    if not active:
        return
    st.subheader(t("practice_resume_heading"))
    for record in active[:5]:
        try:
            title = svc.scenario_for(record).title
        except UnknownScenario:
            continue
        started = fmt.moment(record.started_at, ui_lang())
        if st.button(t("practice_resume_button", title=title, started=started), key=f"resume_{record.id}"):
            go(session=record.id)


def assignments() -> None:
    """The trainee's assignments first: due date, pass mark and best score so far."""
    mine = authoring().assignments_for(user.id)
    if not mine:
        return
    best = authoring().best_scores(user.id)
    today = date.today()
    st.subheader(t("practice_assign_heading"))
    for index, assignment in enumerate(mine):
        try:
            scenario = library().get(assignment.scenario_id, assignment.lang)
        except UnknownScenario:
            continue  # unpublished since it was assigned
        facts = [scenario_facts(scenario)]
        if assignment.due_date:
            key = "practice_assign_overdue" if assignment.due_date < today else "practice_assign_due"
            facts.append(t(key, date=fmt.day(assignment.due_date, ui_lang())))
        score = best.get((scenario.id, scenario.lang))
        if assignment.pass_mark is not None:
            facts.append(t("practice_assign_pass", mark=assignment.pass_mark))
        if score is not None:
            passed = assignment.pass_mark is not None and score >= assignment.pass_mark
            facts.append(t("practice_assign_best", best=score) + (f" · {t('practice_assign_passed')}" if passed else ""))
        with st.container(border=True):
            st.markdown(f"**{escape_md(scenario.title)}**")
            st.caption(" · ".join(facts))
            if st.button(t("practice_open_briefing"), key=f"assigned_{index}_{scenario.id}_{scenario.lang}"):
                go(scenario=scenario.id, lang=scenario.lang)


def picker() -> None:
    assignments()
    resume_list()
    st.subheader(t("practice_pick_heading"))
    langs = list(LANGUAGES)
    # Labels are worked out here, not inside format_func: it may be called outside the page run.
    lang_names = {code: t(f"practice_lang_{code}") for code in langs}
    levels = {0: t("practice_any"), 1: "★", 2: "★★", 3: "★★★"}
    temperaments = {"": t("practice_any")} | {v.value: t(f"practice_temperament_{v.value}") for v in Temperament}
    cols = st.columns(3)
    lang = cols[0].selectbox(
        t("practice_filter_lang"),
        langs,
        index=langs.index(ui_lang()) if ui_lang() in langs else 0,
        format_func=lang_names.__getitem__,
        key="pick_lang",
    )
    difficulty = cols[1].selectbox(
        t("practice_filter_difficulty"), list(levels), format_func=levels.__getitem__, key="pick_difficulty"
    )
    temperament = cols[2].selectbox(
        t("practice_filter_temperament"), list(temperaments), format_func=temperaments.__getitem__, key="pick_temperament"
    )
    shown = [
        s
        for s in library().all(lang)
        if (not difficulty or s.difficulty == difficulty)
        and (not temperament or s.persona.temperament.value == temperament)
    ]
    if not shown:
        st.info(t("practice_no_match"))
    best = authoring().best_scores(user.id)
    for scenario in shown:
        with st.container(border=True):
            st.markdown(f"**{escape_md(scenario.title)}** &nbsp; {done_badge(best.get((scenario.id, scenario.lang)))}")
            st.caption(scenario_facts(scenario))
            st.markdown(escape_md(scenario.briefing.setting))  # not the summary: it gives the cause away
            if st.button(t("practice_open_briefing"), key=f"open_{scenario.id}_{scenario.lang}"):
                go(scenario=scenario.id, lang=scenario.lang)


# --------------------------------------------------------------------------- the briefing


def briefing_body(scenario: Scenario) -> None:
    st.caption(scenario_facts(scenario))
    st.markdown(f"**{t('practice_you_are')}** {escape_md(scenario.briefing.role)}")
    st.markdown(f"**{t('practice_setting')}** {escape_md(scenario.briefing.setting)}")
    st.markdown(f"**{t('practice_goal')}** {escape_md(scenario.briefing.goal)}")
    st.markdown(f"**{t('practice_customer')}** {escape_md(scenario.persona.name)} ({temperament_label(scenario)})")


def scored_on(scenario: Scenario) -> None:
    """What the scorecard will look at for this scenario, and the scenario's learning points."""
    lang = ui_lang()
    rubric = svc.rubric
    names = [dim.label.get(lang) for dim in rubric.dimensions.values() if scoring_applies(dim, scenario, [])]
    st.markdown(f"**{t('practice_scored_on')}** " + ", ".join(escape_md(n) for n in names))
    if scenario.learning_points:
        st.markdown(f"**{t('practice_learning_points')}**")
        st.markdown("\n".join(f"- {escape_md(point)}" for point in scenario.learning_points))


def briefing(scenario_id: str, lang: str) -> None:
    try:
        scenario = library().get(scenario_id, lang)
    except UnknownScenario:
        st.warning(t("practice_unknown_scenario", id=escape_md(scenario_id), language=escape_md(lang)))
        picker()
        return
    st.subheader(escape_md(scenario.title))
    with st.container(border=True):
        st.markdown(f"#### {t('practice_briefing')}")
        briefing_body(scenario)
        scored_on(scenario)
    left, right = st.columns(2)
    if left.button(t("practice_start"), type="primary", key="start"):
        record = svc.start(scenario.id, scenario.lang, user_id=user.id)
        go(session=record.id)
    if right.button(t("practice_back_to_list"), key="back"):
        go()


# --------------------------------------------------------------------------- the conversation


def coach_hint(turns: list) -> str | None:
    """The interface-string key of a hint for the trainee's last turn, when it hurt.

    From the turn's analysis tags (and what the customer reacted to); the texts live in
    ui/strings/practice.yaml.
    """
    last = next((i for i in range(len(turns) - 1, -1, -1) if turns[i].speaker == "trainee"), None)
    if last is None or not turns[last].analysis or not turns[last].mood or last == 0:
        return None
    tags = set(turns[last].analysis.get("tags", []))
    after, before = turns[last].mood, turns[last - 1].mood or {}
    apologised_before = before.get("apologies", 0) > 0
    if Tag.hostile in tags:
        return "practice_hint_hostile"
    if Tag.defensive in tags:
        if Tag.apology in tags:
            return "practice_hint_apology_but"
        return "practice_hint_defensive" if apologised_before else "practice_hint_justified_first"
    if turns[last].analysis.get("stuffing"):
        return "practice_hint_stuffing"
    if Tag.referral in tags and turns[last].analysis.get("referral_matches") is False:
        return "practice_hint_wrong_referral"
    hurt = (
        after.get("anger", 0) > before.get("anger", 0)
        or after.get("trust", 0) < before.get("trust", 0)
        or after.get("threat", 0) > before.get("threat", 0)
    )
    if not hurt:
        return None
    situation = after.get("situation")
    if situation in ("empty_apology", "vague_time", "threat", "asks_when", "asks_remedy", "fact_already_given"):
        return f"practice_hint_{situation}"
    if not tags or situation == "unheard":
        return "practice_hint_no_substance"
    return "practice_hint_generic"


def mood_face(mood: dict | None) -> str:
    anger = (mood or {}).get("anger", 5)
    face = (
        "sentiment_extremely_dissatisfied"
        if anger >= 7
        else "sentiment_dissatisfied"
        if anger >= 5
        else "sentiment_neutral"
        if anger >= 3
        else "sentiment_satisfied"
    )
    return f":material/{face}:"


def show_turns(turns: list) -> None:
    for turn in turns:
        if turn.speaker == "customer":
            with st.chat_message("assistant", avatar=mood_face(turn.mood)):
                st.markdown(escape_md(turn.text))
                if turn.notice:  # e.g. the scripted engine answered (model down, hourly limit)
                    st.caption(escape_md(turn.notice))
        else:
            with st.chat_message("user", avatar=TRAINEE_AVATAR):
                st.markdown(escape_md(turn.text))


def last_trainee_turn(turns: list) -> int | None:
    """The index of the trainee's last turn (the customer opens, so never 0), or None."""
    return next((i for i in range(len(turns) - 1, 0, -1) if turns[i].speaker == "trainee"), None)


def mood_meter(turns: list) -> None:
    moods = [turn.mood for turn in turns if turn.mood]
    if not moods:
        return
    now = moods[-1]
    last_trainee = last_trainee_turn(turns)
    before = (turns[last_trainee - 1].mood or now) if last_trainee else now
    st.markdown(f"#### {t('practice_mood')}")
    levels = [("anger", "inverse"), ("trust", "normal")]
    if now.get("threat", 0) > 0 or before.get("threat", 0) > 0:
        levels.append(("threat", "inverse"))
    for name, colour in levels:
        value = float(now.get(name, 0.0))
        change = round(value - float(before.get(name, 0.0)), 1)
        st.metric(
            t(f"practice_{name}"),
            f"{value:.1f} / 10",
            delta=change if change else None,
            delta_color=colour,
        )
        words = {level: t(f"practice_level_{level}") for level in ("good", "mid", "bad")}
        raw_html.mood_bar(value, higher_is_better=colour == "normal", words=words)


def outcome_label(outcome: str | None) -> str:
    return t(f"practice_outcome_{outcome}") if outcome else t("practice_outcome_none")


def turn_numbers(turns: list) -> dict[int, int]:
    """Transcript index -> the trainee's own turn number (1, 2, ...), as the trainee counts."""
    trainee = [turn.idx for turn in turns if turn.speaker == "trainee"]
    return {idx: n for n, idx in enumerate(trainee, 1)}


def scorecard(card, turns: list) -> None:
    st.subheader(t("practice_scorecard"))
    left, right = st.columns(2)
    left.metric(t("practice_overall"), f"{card.overall:.0f} / 100")
    right.metric(t("practice_outcome"), outcome_label(card.outcome))
    if card.notice:
        st.info(escape_md(card.notice))
    numbers = turn_numbers(turns)
    scorecard_ui.cap_notice(card)
    scorecard_ui.fixes(card, numbers)
    scorecard_ui.learning_points(card)
    weakest = {d.key for d in card.weakest(2)} if not card.fixes else set()
    for dim in card.dimensions.values():
        if not dim.applies:
            continue
        with st.container(border=True):
            head, score = st.columns([4, 1])
            head.markdown(f"**{dim.label}**")
            score.markdown(f"**{dim.score:.0f}**")
            st.progress(min(max(dim.score / 100, 0.0), 1.0))
            st.markdown(escape_md(dim.feedback))
            scorecard_ui.not_shown(dim)
            for quote in dim.evidence:
                mark = GOOD_MARK if quote.positive else BAD_MARK
                st.caption(f'{mark} {t("practice_turn_n", n=numbers.get(quote.turn, quote.turn))}: "{escape_md(quote.quote)}"')
            if dim.key in weakest and dim.better:
                st.success(t("practice_better", text=escape_md(dim.better)))
    skipped = [d.label for d in card.dimensions.values() if not d.applies]
    if skipped:
        st.caption(t("practice_not_applicable", names=", ".join(skipped)))


def send(session_id: str) -> None:
    """The chat input's callback: runs before the page is drawn again, so the page shows the
    state after the turn (including a session the customer just ended). A model-voiced customer
    is answered while the page is drawn instead, so the reply can stream in (``stream_reply``)."""
    text = st.session_state.get("reply") or ""
    if not signed_in_as_owner():
        st.session_state["practice_kept"] = text  # signed out meanwhile: nothing is said, nothing lost
        return
    if svc.engine.name == "llm":
        st.session_state["practice_pending"] = text
        return
    try:
        svc.say(session_id, text)
    except SavingFailed as exc:
        st.session_state["practice_refused"] = input_error(exc)
        st.session_state["practice_unsaved"] = exc.text  # shown for copying: the input has cleared
    except InputError as exc:
        st.session_state["practice_refused"] = input_error(exc)
        st.session_state["practice_kept"] = text  # the chat box has cleared: keep the words


def send_kept(session_id: str) -> None:
    """Send the refused text after the trainee shortened or fixed it."""
    if not signed_in_as_owner():
        return  # the words stay in the box
    text = st.session_state.get("practice_kept_text") or ""
    try:
        svc.say(session_id, text)
    except InputError as exc:
        st.session_state["practice_refused"] = input_error(exc)
        st.session_state["practice_kept"] = text
    else:
        st.session_state.pop("practice_kept_text", None)


def close_conversation(session_id: str, lang: str) -> None:
    """The closing move: "Thank you, is there anything else?" in the scenario's language. The
    customer answers it; if that does not end the conversation, the session ends here."""
    if not signed_in_as_owner():
        return
    try:
        svc.say(session_id, translate("practice_closing_line", lang))
    except InputError as exc:
        st.session_state["practice_refused"] = input_error(exc)
        return
    if svc.session(session_id).status == "active":
        svc.end(session_id)


def end_conversation(session_id: str) -> None:
    """The End button: the trainee stops here and the session is scored."""
    if signed_in_as_owner():
        svc.end(session_id)


def stream_reply(session_id: str, text: str) -> None:
    """Show the trainee's turn and stream the model customer's answer, then draw the page again."""
    with st.chat_message("user", avatar=TRAINEE_AVATAR):
        st.markdown(escape_md(text))
    try:
        with st.chat_message("assistant"):
            # st.write_stream renders Markdown: the model's words (which a trainee may try to
            # steer) are escaped chunk by chunk, like every stored turn is when drawn again.
            st.write_stream(escape_md(chunk) for chunk in svc.say_stream(session_id, text))
    except SavingFailed as exc:
        st.session_state["practice_refused"] = input_error(exc)
        st.session_state["practice_unsaved"] = exc.text
    except InputError as exc:
        st.session_state["practice_refused"] = input_error(exc)
    st.rerun()


@st.fragment
def conversation(session_id: str) -> None:
    """The conversation and, once it has ended, its scorecard. A turn reruns only this fragment,
    not the page around it."""
    if not signed_in_as_owner():
        st.rerun()  # signed out or revoked meanwhile: the whole page, which asks to sign in
    record = repo.get_session(session_id)
    if record is None or record.user_id != user.id:
        st.error(t("not_allowed"))
        st.stop()
    scenario = scenario_or_stop(record)

    st.subheader(escape_md(scenario.title))
    with st.expander(t("practice_briefing"), expanded=False):
        briefing_body(scenario)

    if record.status != "active":
        turns = svc.transcript(session_id)
        card = svc.scorecard(session_id) or svc.end(session_id)
        last = turns[-1] if turns else None
        banner = t("practice_ended_by_customer") if record.outcome != "abandoned" else t("practice_ended_by_you")
        st.info(f"{banner} {t('practice_outcome')}: **{outcome_label(record.outcome)}**")
        with st.expander(t("practice_transcript"), expanded=False):
            show_turns(turns)
        closed = len(turns) > 1 and turns[-2].text == translate("practice_closing_line", scenario.lang)
        if last is not None and last.speaker == "customer" and (record.outcome != "abandoned" or closed):
            with st.chat_message("assistant", avatar=mood_face(last.mood)):
                st.markdown(escape_md(last.text))
        scorecard(card, turns)
        a, b, c = st.columns(3)
        a.page_link(HERE / "review.py", label=t("practice_to_review"), query_params={"session": session_id})
        if b.button(t("practice_again"), key="again"):
            go(scenario=scenario.id, lang=scenario.lang)
        if c.button(t("practice_back_to_list"), key="back"):
            go()
        return

    refused = st.session_state.pop("practice_refused", None)
    turns = svc.transcript(session_id)
    # No max_chars: Streamlit would cut an overlong reply silently; the service refuses it instead.
    st.bottom.chat_input(t("practice_input_placeholder"), key="reply", on_submit=send, args=(session_id,))
    chat, side = st.columns([3, 1])
    raw_html.sticky("practice_side")
    with side, st.container(key="practice_side"):  # sticky: stays in sight however long the chat
        mood_meter(turns)
        coach = st.toggle(t("practice_coach"), key="coach", help=t("practice_coach_help"))
        st.button(
            t("practice_close"),
            key="close",
            type="primary",
            help=t("practice_close_help", line=translate("practice_closing_line", scenario.lang)),
            on_click=close_conversation,
            args=(session_id, scenario.lang),
            width="stretch",
        )
        st.button(t("practice_end"), key="end", on_click=end_conversation, args=(session_id,), width="stretch")
    with chat:
        show_turns(turns)
        last_trainee = last_trainee_turn(turns)
        if last_trainee is not None:
            raw_html.scroll_to_message(last_trainee)
        pending = st.session_state.pop("practice_pending", None)
        if pending is not None:
            stream_reply(session_id, pending)
        if refused:
            st.error(refused)
            unsaved = st.session_state.pop("practice_unsaved", None)
            if unsaved:
                st.code(unsaved, language=None, wrap_lines=True)
        kept = st.session_state.pop("practice_kept", None)
        if kept is not None:  # the refused words, to shorten or fix and send again
            st.session_state["practice_kept_text"] = kept
        if st.session_state.get("practice_kept_text"):
            st.text_area(t("practice_kept_label"), key="practice_kept_text", height=120)
            st.button(t("practice_kept_send"), key="practice_kept_go", on_click=send_kept, args=(session_id,))
        if coach and not refused:
            hint = coach_hint(turns)
            if hint:
                st.warning(t(hint), icon=":material/lightbulb:")


def signed_in_as_owner() -> bool:
    """Whether this browser is still signed in as the page's user: a fragment rerun and a
    callback skip the shell, which checks the sign-in (revoked, expired) on every full run."""
    restore_sign_in()
    current = current_user()
    return current is not None and current.id == user.id


# --------------------------------------------------------------------------- dispatch

st.title(t("practice_title"))
if params.get("session"):
    conversation(params["session"])
elif params.get("scenario"):
    briefing(params["scenario"], params.get("lang") or ui_lang())
else:
    picker()
