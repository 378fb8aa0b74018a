"""Review (/review?session=<id>): the transcript with tags and mood, the mood trace, the scorecard,
and "what if": continue the conversation from one of your turns with a different reply.

A branch is a session of its own (``parent_id`` set), so ``/review?session=<branch id>`` shows it:
the chat to continue it, and when it has ended its scores side by side with the original's.
Access: the session's owner, or a trainer, HR or admin. Anyone else, and unknown ids, see only
"not allowed". Only the owner may branch or continue a branch.

Calibration (issue 15, parts in ``ui/grading.py``): trainers, HR and admins grade an ended session
of someone else and correct its turns' tags; while the session waits for their blind grade in a
calibration set, its automatic score and other graders' grades stay hidden. The owner sees the
trainers' grades and comments on their own session.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from simulator import analytics, charts
from simulator.scenario import Scenario
from simulator.session import InputError
from ui import formatting as fmt
from ui import grading as grading_ui
from ui import scorecard as scorecard_ui
from ui.context import escape_md, input_error, repository, require_role, scenario_or_stop, service, t, ui_lang

STAFF = ("trainer", "hr", "admin")

HERE = Path(__file__).resolve().parent  # sibling pages, wherever the folder lives
TRAINEE_AVATAR = ":material/support_agent:"
GOOD_MARK = ":green[:material/check_circle:]"  # a quote that earned points
BAD_MARK = ":orange[:material/warning:]"  # a quote that cost points

user = require_role("trainee", "trainer", "hr", "admin")
svc = service()
repo = repository()


def go(**query: str) -> None:
    st.query_params.from_dict({k: v for k, v in query.items() if v})
    st.rerun()


def outcome_label(outcome: str | None) -> str:
    return t(f"practice_outcome_{outcome}") if outcome else t("practice_outcome_none")


def turn_numbers(turns: list) -> dict[int, int]:
    """Transcript index -> the trainee's own turn number (1, 2, ...)."""
    trainee = [turn.idx for turn in turns if turn.speaker == "trainee"]
    return {idx: n for n, idx in enumerate(trainee, 1)}


def mood_text(mood: dict | None) -> str:
    if not mood:
        return ""
    text = t("review_mood_after", anger=f"{mood.get('anger', 0):.1f}", trust=f"{mood.get('trust', 0):.1f}")
    if mood.get("threat", 0) > 0:
        text += " · " + t("review_threat_value", threat=f"{mood['threat']:.1f}")
    return text


def tags_text(analysis: dict | None) -> str:
    tags = (analysis or {}).get("tags") or []
    if not tags:
        return t("review_no_tags")
    return t("review_tags", tags=", ".join(t(f"review_tag_{tag}") for tag in tags))


def show_turn(turn, numbers: dict[int, int], lang: str | None = None, scenario: Scenario | None = None) -> None:
    if turn.speaker == "customer":
        with st.chat_message("assistant", avatar=":material/person:"):
            st.markdown(escape_md(turn.text))
        return
    with st.chat_message("user", avatar=TRAINEE_AVATAR):
        st.caption(t("practice_turn_n", n=numbers.get(turn.idx, turn.idx)))
        st.markdown(escape_md(turn.text))
        scorecard_ui.turn_flags(turn.text, turn.analysis, lang, scenario)
        st.caption(f":material/sell: {tags_text(turn.analysis)}  \n:material/mood: {mood_text(turn.mood)}")


def transcript(record, turns: list, scenario: Scenario | None = None) -> None:
    numbers = turn_numbers(turns)
    if record.parent_id and record.branch_turn is not None:
        shared = [turn for turn in turns if turn.idx < record.branch_turn]
        with st.expander(t("review_shared_turns", n=len(shared)), expanded=False):
            for turn in shared:
                show_turn(turn, numbers, record.lang, scenario)
        st.markdown(f"**{t('review_branch_starts')}**")
        turns = [turn for turn in turns if turn.idx >= record.branch_turn]
    for turn in turns:
        show_turn(turn, numbers, record.lang, scenario)


def mood_chart(turns: list, key: str) -> None:
    texts = {
        "anger": t("practice_anger"),
        "trust": t("practice_trust"),
        "threat": t("practice_threat"),
        "turn": t("review_chart_turn"),
        "level": t("review_chart_level"),
    }
    st.plotly_chart(charts.mood_chart(analytics.mood_trace(turns), texts), key=key)


def scorecard(card, turns: list) -> None:
    numbers = turn_numbers(turns)
    left, right = st.columns(2)
    left.metric(t("practice_overall"), f"{card.overall:.0f} / 100")
    right.metric(t("practice_outcome"), outcome_label(card.outcome))
    scorecard_ui.cap_notice(card)
    scorecard_ui.fixes(card, numbers)
    scorecard_ui.learning_points(card)
    rows = [
        {t("review_col_dimension"): d.label, t("review_col_score"): d.score, t("review_col_feedback"): d.feedback}
        for d in card.dimensions.values()
        if d.applies
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    weakest = {d.key for d in card.weakest(2)}
    with st.expander(t("review_evidence"), expanded=False):
        for dim in card.dimensions.values():
            if not dim.applies or not (dim.evidence or dim.key in weakest):
                continue
            st.markdown(f"**{dim.label}** — {dim.score:.0f}")
            for quote in dim.evidence:
                mark = GOOD_MARK if quote.positive else BAD_MARK
                st.caption(f'{mark} {t("practice_turn_n", n=numbers.get(quote.turn, quote.turn))}: "{escape_md(quote.quote)}"')
            if dim.key in weakest and dim.better:
                st.success(t("practice_better", text=escape_md(dim.better)))


def side_by_side(original, branch) -> None:
    """Two scorecards next to each other: the original conversation and this branch."""
    st.subheader(t("review_compare"))
    left, right = st.columns(2)
    left.markdown(f"**{t('review_original')}**")
    right.markdown(f"**{t('review_this_branch')}**")
    left.metric(t("practice_overall"), f"{original.overall:.0f}")
    right.metric(
        t("practice_overall"),
        f"{branch.overall:.0f}",
        delta=round(branch.overall - original.overall, 1) or None,
    )
    left.caption(f"{t('practice_outcome')}: {outcome_label(original.outcome)}")
    right.caption(f"{t('practice_outcome')}: {outcome_label(branch.outcome)}")
    rows = []
    for key, dim in branch.dimensions.items():
        before = original.dimensions.get(key)
        if not (dim.applies or (before and before.applies)):
            continue
        was = before.score if before and before.applies else None
        now = dim.score if dim.applies else None
        lang = ui_lang()
        rows.append(
            {
                t("review_col_dimension"): dim.label,
                t("review_original"): fmt.number(was, lang, 0),
                t("review_this_branch"): fmt.number(now, lang, 0),
                t("review_col_change"): fmt.signed(now - was, lang, 0) if was is not None and now is not None
                else fmt.MISSING,
            }
        )
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def what_if(record, turns: list) -> None:
    st.subheader(t("review_what_if"))
    st.caption(t("review_what_if_help"))
    numbers = turn_numbers(turns)
    options = [turn for turn in turns if turn.speaker == "trainee"]
    if not options:
        st.info(t("review_no_turns"))
        return
    labels = {turn.idx: t("review_turn_option", n=numbers[turn.idx], text=turn.text[:80]) for turn in options}
    chosen_idx = st.selectbox(
        t("review_pick_turn"), list(labels), format_func=labels.__getitem__, key="whatif_turn"
    )
    # No max_chars: Streamlit would cut an overlong text silently; svc.branch refuses it instead.
    st.text_area(t("review_new_reply"), key="whatif_text", height=100)
    st.button(t("review_branch_button"), type="primary", key="whatif_go", on_click=start_branch, args=(record.id,))
    refused = st.session_state.pop("whatif_refused", None)
    if refused:
        st.error(refused)
    target = st.session_state.pop("whatif_opened", None)
    if target:
        go(session=target)
    branches = [s for s in repo.list_sessions(user_id=record.user_id) if s.parent_id == record.id]
    if branches:
        st.markdown(f"**{t('review_branches')}**")
        for branch in branches:
            n = numbers.get(branch.branch_turn, branch.branch_turn)
            score = f"{branch.overall:.0f}" if branch.overall is not None else t("practice_outcome_none")
            if st.button(t("review_open_branch", n=n, score=score), key=f"branch_{branch.id}"):
                go(session=branch.id)


def start_branch(session_id: str) -> None:
    """The what-if button's callback: branch, then empty the box (a callback may, the page may
    not once the box is drawn) so the next what-if does not start from the old words."""
    try:
        result = svc.branch(session_id, st.session_state.get("whatif_turn"), st.session_state.get("whatif_text") or "")
    except InputError as exc:
        st.session_state["whatif_refused"] = input_error(exc)  # the text stays, to fix it
    else:
        st.session_state["whatif_text"] = ""
        st.session_state["whatif_opened"] = result.session_id


def send(session_id: str) -> None:
    try:
        svc.say(session_id, st.session_state.get("branch_reply") or "")
    except InputError as exc:
        st.session_state["review_refused"] = input_error(exc)


def session_list() -> None:
    """No session chosen: point to where this role's sessions are listed (a page it may open)."""
    if user.role in ("trainee",):
        st.info(t("review_pick_session"))
        st.page_link(HERE / "progress.py", label=t("review_to_progress"))
    else:
        st.info(t("review_pick_session_staff"))
        st.page_link(HERE / "dashboard.py", label=t("review_to_dashboard"))


# --------------------------------------------------------------------------- the page

st.title(t("review_title"))
session_id = st.query_params.get("session")
if not session_id:
    session_list()
    st.stop()
record = repo.get_session(session_id)
if record is None or (record.user_id != user.id and user.role not in STAFF):
    st.error(t("not_allowed"))
    st.stop()
owner = record.user_id == user.id
if not owner:  # staff opening someone else's transcript is recorded for the admins (issue 6)
    from simulator.store.teams import VIEW_TRANSCRIPT, TeamStore

    if st.session_state.get("review_audited") != (user.id, record.id):  # once per opening, not per rerun
        TeamStore(repo).record(user.id, VIEW_TRANSCRIPT, f"session:{record.id}", {"trainee_id": record.user_id,
                               "trainee": (repo.get_user(record.user_id).name if record.user_id else None)})
        st.session_state["review_audited"] = (user.id, record.id)
scenario = scenario_or_stop(record)
grading = grading_ui.grading()
blind = grading.is_blind(user, record.id)  # a grade still owed in a calibration set: score hidden

refused = st.session_state.pop("review_refused", None)
turns = svc.transcript(record.id)
st.subheader(escape_md(scenario.title))
facts = [record.started_at.strftime("%Y-%m-%d %H:%M"), f"{t('practice_outcome')}: {outcome_label(record.outcome)}"]
if record.overall is not None and not blind:
    facts.append(f"{t('practice_overall')}: {record.overall:.0f}")
if not owner:
    trainee = repo.get_user(record.user_id) if record.user_id is not None else None
    facts.insert(0, t("review_trainee", name=escape_md(trainee.name) if trainee else "?"))
st.caption(" · ".join(facts))

parent = repo.get_session(record.parent_id) if record.parent_id else None
if parent is not None:
    parent_turns = svc.transcript(parent.id)
    n = turn_numbers(parent_turns).get(record.branch_turn, record.branch_turn)
    st.info(t("review_is_branch", n=n))
    if st.button(t("review_back_to_original"), key="to_original"):
        go(session=parent.id)
elif record.status == "active" and owner:
    st.info(t("review_still_active"))
    st.page_link(HERE / "practice.py", label=t("review_continue_practice"), query_params={"session": record.id})

transcript(record, turns, scenario)
if refused:
    st.error(refused)
if parent is not None and owner and record.status == "active":
    # A what-if branch is continued here, in the chat (owner only). The callback runs the turn
    # before the page is drawn again, so a branch the customer ends shows as ended at once.
    st.chat_input(t("practice_input_placeholder"), key="branch_reply", on_submit=send, args=(record.id,))
    st.button(t("review_end_branch"), key="end_branch", on_click=svc.end, args=(record.id,))

st.subheader(t("review_mood_trace"))
mood_chart(turns, key="mood_trace")

card = svc.scorecard(record.id) if record.status != "active" and not blind else None
if blind:
    st.info(t("grade_blind"), icon=":material/visibility_off:")
if card is not None:
    st.subheader(t("practice_scorecard"))
    scorecard(card, turns)
if record.status != "active":
    grading_ui.grades_table(grading, user, record, None if card is None else card.scores())
if grading.can_grade(user, record):
    grading_ui.grade_form(grading, user, record)
    grading_ui.tag_corrections(grading, user, record, turns)

if parent is not None:
    # Both sides under the same rules: an original scored under an older rubric is scored
    # again (not stored) for the comparison.
    original = svc.comparable_scorecard(parent.id)
    if card is not None and original is not None:
        side_by_side(original, svc.comparable_scorecard(record.id) or card)
    elif card is None:
        st.caption(t("review_finish_branch"))

if owner:
    what_if(record, turns)
