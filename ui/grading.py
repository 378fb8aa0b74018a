"""Calibration parts the pages share (issue 15): the grading panel and the tag corrections on the
review page, and the agreement tab of the dashboard. UI only: who may do what is decided by
:class:`simulator.grading.GradingService` (server side), the figures by :mod:`simulator.calibration`.
Every user-written text (comments, turn texts, names) is shown through ``escape_md`` or in a
dataframe cell, never as Markdown or HTML.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from simulator.calibration import TAG_NAMES, grade_scale, kappa_table
from simulator.grading import STAFF, GradingService, NotAllowed
from simulator.rubric import DIMENSIONS
from simulator.store.repository import SessionRecord, TurnRecord, UserRecord
from ui import formatting as fmt
from ui.context import escape_md, repository, settings, t, ui_lang

NOT_GRADED = "-"
NOT_APPLICABLE = "na"
TARGETS = (None, "legal", "security", "other")


@st.cache_resource(show_spinner=False)
def _grading(url: str) -> GradingService:
    return GradingService(repository())


def grading() -> GradingService:
    return _grading(settings().database_url)


def _skill(service: GradingService, key: str) -> str:
    return service.rubric.dimensions[key].label.get(ui_lang())


def _option_label(service: GradingService, key: str, option) -> str:
    if option == NOT_GRADED:
        return t("grade_not_graded")
    if option == NOT_APPLICABLE:
        return t("grade_not_applicable")
    level = service.rubric.dimensions[key].levels.get(int(option))
    return t("grade_level", score=option, text=level.get(ui_lang())) if level else str(option)


def grade_form(service: GradingService, user: UserRecord, record: SessionRecord) -> None:
    """The grading form: one choice per rubric dimension (anchored levels named), optional comments."""
    st.subheader(t("grade_title"))
    st.caption(t("grade_help", step=service.step))
    mine = service.my_grade(user, record.id)
    if mine is not None:
        st.caption(t("grade_your_last", when=mine.submitted_at.strftime("%Y-%m-%d %H:%M")))
    flash = st.session_state.pop("grade_flash", None)
    if flash:
        st.success(flash)
    options = [NOT_GRADED, NOT_APPLICABLE, *grade_scale(service.step)]
    with st.form(f"grade_{record.id}", clear_on_submit=False):
        chosen, comments = {}, {}
        for key in DIMENSIONS:
            dim = service.rubric.dimensions[key]
            previous = mine.scores.get(key, NOT_GRADED) if mine and key in mine.scores else NOT_GRADED
            previous = NOT_APPLICABLE if mine and key in mine.scores and previous is None else previous
            value = int(previous) if isinstance(previous, float) else previous
            chosen[key] = st.selectbox(
                dim.label.get(ui_lang()), options, index=options.index(value) if value in options else 0,
                format_func=lambda o, k=key: _option_label(service, k, o), key=f"grade_{record.id}_{key}",
                help=dim.description.get(ui_lang()))
            comments[key] = st.text_input(t("grade_comment", skill=dim.label.get(ui_lang())),
                                          value=(mine.comments.get(key, "") if mine else ""), max_chars=2000,
                                          key=f"grade_{record.id}_{key}_comment", label_visibility="collapsed",
                                          placeholder=t("grade_comment", skill=dim.label.get(ui_lang())))
        submitted = st.form_submit_button(t("grade_submit"), type="primary")
    if not submitted:
        return
    scores = {k: (None if v == NOT_APPLICABLE else float(v)) for k, v in chosen.items() if v != NOT_GRADED}
    if not scores:
        st.error(t("grade_nothing"))
        return
    try:
        service.grade(user, record.id, scores, {k: v for k, v in comments.items() if k in scores and v.strip()})
    except (ValueError, NotAllowed) as exc:
        st.error(t("grade_refused", detail=escape_md(str(exc))))
        return
    st.session_state["grade_flash"] = t("grade_saved")
    st.rerun()


def grades_table(service: GradingService, user: UserRecord, record: SessionRecord, auto: dict[str, float] | None) -> None:
    """The current grades of a session the user may see (with comments), next to the automatic score."""
    if service.is_blind(user, record.id):
        return  # nothing to show, not even whether anyone else has graded yet
    try:
        grades = service.visible_grades(user, record.id)
    except NotAllowed:
        return
    if user.role not in STAFF and not grades:
        return
    st.subheader(t("grade_others"))
    if not grades:
        st.caption(t("grade_others_none"))
        return
    rows = []
    for key in DIMENSIONS:
        row = {t("grade_col_skill"): _skill(service, key)}
        if auto is not None:
            row[t("grade_col_auto")] = auto.get(key)
        for grade in grades:
            value = grade.scores.get(key, "")
            row[grade.grader + (f" {t('grade_demo')}" if grade.demo else "")] = (
                t("grade_not_applicable") if key in grade.scores and value is None else
                ("" if value == "" else f"{value:.0f}"))
        rows.append(row)
    st.dataframe(pd.DataFrame(rows).astype(str).replace({"nan": "", "None": ""}), hide_index=True, width="stretch",
                 key=f"grades_{record.id}")
    notes = [(g.grader, key, text) for g in grades for key, text in g.comments.items()]
    if notes:
        st.markdown(f"**{t('grade_comments')}**")
        for grader, key, text in notes:
            st.caption(t("grade_comment_line", grader=escape_md(grader), skill=_skill(service, key),
                         text=escape_md(text)))


def _tag_names(tags) -> str:
    return ", ".join(t(f"review_tag_{tag}") for tag in tags) or t("grade_tags_none")


def tag_corrections(service: GradingService, user: UserRecord, record: SessionRecord, turns: list[TurnRecord]) -> None:
    """Pick a trainee turn, give its correct tags and referral target, save (audited)."""
    trainee_turns = [turn for turn in turns if turn.speaker == "trainee"]
    if not trainee_turns:
        return
    fixes = service.corrections(user, record.id)
    with st.expander(t("grade_tags_title"), expanded=False):
        st.caption(t("grade_tags_help"))
        flash = st.session_state.pop("tags_flash", None)
        if flash:
            st.success(flash)
        numbers = {turn.id: n for n, turn in enumerate(trainee_turns, 1)}
        by_id = {turn.id: turn for turn in trainee_turns}
        turn_id = st.selectbox(t("grade_tags_turn"), list(by_id), key=f"tags_turn_{record.id}",
                               format_func=lambda i: f"{numbers[i]}: {by_id[i].text[:90]}")
        turn = by_id[turn_id]
        auto = (turn.analysis or {}).get("tags") or []
        fix = fixes.get(turn_id)
        if fix:
            st.caption(t("grade_tags_current", auto=_tag_names(auto), fixed=_tag_names(fix.tags),
                         who=escape_md(fix.corrector or "?")))
        else:
            st.caption(t("grade_tags_auto", auto=_tag_names(auto)))
        st.markdown(escape_md(turn.text))
        current = list(fix.tags) if fix else [tag for tag in auto if tag in TAG_NAMES]
        target_now = fix.referral_target if fix else (turn.analysis or {}).get("referral_target")
        with st.form(f"tags_form_{record.id}_{turn_id}"):
            tags = st.multiselect(t("grade_tags_tags"), list(TAG_NAMES), default=current,
                                  format_func=lambda tag: t(f"review_tag_{tag}"), key=f"tags_{turn_id}")
            target = st.selectbox(t("grade_tags_target"), TARGETS,
                                  index=TARGETS.index(target_now) if target_now in TARGETS else 0,
                                  format_func=lambda x: t(f"grade_tags_target_{x or 'none'}"), key=f"target_{turn_id}")
            saved = st.form_submit_button(t("grade_tags_save"))
        if saved:
            if "referral" in tags and target is None:
                target = "other"
            if "referral" not in tags:
                target = None
            try:
                service.correct_tags(user, turn_id, tags, target)
            except (ValueError, NotAllowed) as exc:
                st.error(t("grade_refused", detail=escape_md(str(exc))))
                return
            st.session_state["tags_flash"] = t("grade_tags_saved")
            st.rerun()


# --------------------------------------------------------------------------- dashboard tab


@st.cache_data(show_spinner=False, max_entries=8, ttl=600)
def _report(url: str, set_name: str | None, version: tuple) -> dict:
    """``version`` is only the cache key (it changes with every new grade or correction)."""
    return grading().report(set_name)


def _ci(value: float | None, ci, digits: int = 2) -> str:
    """``0,61 [0,42, 0,77]`` in the interface language's number format; a dash where there is none."""
    lang = ui_lang()
    if value is None:
        return fmt.MISSING
    text = fmt.number(value, lang, digits)
    if ci and ci[0] is not None and ci[1] is not None:
        text += f" [{fmt.number(ci[0], lang, digits)}; {fmt.number(ci[1], lang, digits)}]"
    return text


def _kappa_chart(table: pd.DataFrame, labels: dict[str, str]) -> go.Figure:
    fig = go.Figure()
    y = [labels.get(k, k) for k in table["dimension"]]
    for prefix, name, color in (("auto_human", t("agree_chart_ah"), "#1f77b4"),
                                ("human_human", t("agree_chart_hh"), "#ff7f0e")):
        values = table[f"{prefix}_kappa"]
        cis = table[f"{prefix}_kappa_ci"]
        low = [v - c[0] if c and v is not None and c[0] is not None else None for v, c in zip(values, cis, strict=True)]
        high = [c[1] - v if c and v is not None and c[1] is not None else None for v, c in zip(values, cis, strict=True)]
        fig.add_trace(go.Scatter(x=values, y=y, mode="markers", name=name, marker={"size": 10, "color": color},
                                 error_x={"type": "data", "symmetric": False, "array": high, "arrayminus": low}))
    fig.update_layout(height=120 + 34 * len(table), margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      xaxis={"range": [-0.2, 1.05], "title": t("agree_chart_kappa")},
                      yaxis={"autorange": "reversed"}, legend={"orientation": "h", "y": 1.08})
    return fig


def agreement_tab(hidden: set[str]) -> None:
    """The dashboard's agreement tab: kappa per dimension (automatic vs. human, human vs. human)
    with intervals, per session language; tag F1; the sessions that disagree most (less
    ``hidden``: those the viewer still grades blind)."""
    service = grading()
    st.subheader(t("agree_title"))
    sets = service.store.list_sets()
    a, b = st.columns([3, 2])
    scope = a.selectbox(t("agree_scope"), [None, *[s.name for s in sets]], key="agree_scope",
                        format_func=lambda name: t("agree_scope_all") if name is None else name)
    session_lang = b.radio(t("agree_lang"), [None, "id", "en"], horizontal=True, key="agree_lang",
                           format_func=lambda x: t("agree_lang_all") if x is None else t(f"practice_lang_{x}"))
    report = _report(settings().database_url, scope, service.store.version())
    if not report["sessions"]:
        st.info(t("agree_empty"))
        return
    st.caption(t("agree_facts", sessions=report["sessions"], graders=report["graders"], gradings=report["gradings"]))
    if report["demo"]:
        st.caption(f":material/science: {t('agree_demo')}")
    st.caption(t("agree_help", step=report["step"], conf=int(report["confidence"] * 100)))
    labels = {key: _skill(service, key) for key in DIMENSIONS}
    table = kappa_table(report, session_lang)
    st.plotly_chart(fmt.localise_figure(_kappa_chart(table, labels), ui_lang()), key="agree_chart")
    shown = pd.DataFrame({
        t("agree_col_skill"): [labels[k] for k in table["dimension"]],
        t("agree_col_ah_kappa"): [_ci(v, c) for v, c in zip(table["auto_human_kappa"], table["auto_human_kappa_ci"], strict=True)],
        t("agree_col_ah_n"): table["auto_human_n"],
        t("agree_col_hh_kappa"): [_ci(v, c) for v, c in zip(table["human_human_kappa"], table["human_human_kappa_ci"], strict=True)],
        t("agree_col_hh_n"): table["human_human_n"],
        t("agree_col_ah_spearman"): [_ci(v, c) for v, c in zip(table["auto_human_spearman"], table["auto_human_spearman_ci"], strict=True)],
        t("agree_col_ah_mad"): [_ci(v, c, 1) for v, c in zip(table["auto_human_mad"], table["auto_human_mad_ci"], strict=True)],
        t("agree_col_hh_mad"): [_ci(v, c, 1) for v, c in zip(table["human_human_mad"], table["human_human_mad_ci"], strict=True)],
    })
    st.dataframe(shown, hide_index=True, width="stretch", key="agree_table")

    st.subheader(t("agree_tags"))
    tags = report["tags"]
    if not tags["turns"]:
        st.caption(t("agree_tags_none"))
    else:
        st.caption(t("agree_tags_help", n=tags["turns"], f1=_ci(tags["micro_f1"], None)))
        def figures(name: str) -> list[str]:  # "—" where undefined (the tag never occurs on either side)
            return [_ci(v[name], None) for v in tags["tags"].values()]

        st.dataframe(pd.DataFrame({
            t("agree_col_tag"): [t(f"review_tag_{tag}") for tag in tags["tags"]],
            t("agree_col_precision"): figures("precision"),
            t("agree_col_recall"): figures("recall"),
            t("agree_col_f1"): figures("f1"),
            t("agree_col_support"): [v["support"] for v in tags["tags"].values()],
        }), hide_index=True, width="stretch", key="agree_tags_table")

    worst = [d for d in report["disagreements"] if d["session_id"] not in hidden]
    titles: dict[str, str] = {}
    for scenario in service.library.all():
        if scenario.lang == ui_lang() or scenario.id not in titles:
            titles[scenario.id] = scenario.title
    if worst:
        st.subheader(t("agree_worst"))
        st.dataframe(pd.DataFrame({
            t("calib_col_scenario"): [titles.get(d["scenario_id"], d["scenario_id"]) for d in worst],
            t("calib_col_lang"): [d["lang"] for d in worst],
            t("agree_col_diff"): [d["mean_diff"] for d in worst],
            t("agree_col_worst"): [f"{labels.get(d['worst_dimension'], d['worst_dimension'])}: "
                                   f"{d['worst_auto']:.0f} / {d['worst_human']:.0f}" for d in worst],
            t("agree_col_review"): [d["link"] for d in worst],
        }), hide_index=True, width="stretch", key="agree_worst_table",
            column_config={t("agree_col_review"): st.column_config.LinkColumn(display_text=t("agree_open"))})
