"""Team dashboard (/dashboard) for HR, trainers and admins: progress across people and teams.

Frames come from simulator.analytics, figures from simulator.charts, data from
simulator.store.teams; this page only reads the filters, renders and drills down. The session
data are cached per database and *data version* (count and latest end of ended sessions), so
a newly finished session invalidates the cache on the next rerun. Trainees are refused.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pandas as pd
import streamlit as st

from simulator import analytics, charts, exports
from simulator.store.teams import TeamStore
from ui import formatting as fmt
from ui.context import repository, require_role, service, settings, t, ui_lang
from ui.grading import agreement_tab, grading

HERE = Path(__file__).resolve().parent
ATTENTION_N = 6
STUCK_BELOW = 50.0
ROLLING_WEEKS = 4
HEATMAP_ROWS = 40
TRAINEE_LINES = 8
#: The tabs, in order (their labels are the ``dash_tab_<name>`` strings).
TABS = ("progress", "skills", "scenarios", "learning", "attention", "export", "agreement")

user = require_role("hr", "trainer", "admin")
repo = repository()
store = TeamStore(repo)
svc = service()
lang = ui_lang()


@st.cache_data(show_spinner=False, max_entries=4)
def load_sessions(url: str, version: tuple[int, str], members: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
    """All scored sessions, prepared (team, attempt, pass mark); cached per database, data
    version (see TeamStore.data_version), memberships and assignments."""
    return analytics.prepare_sessions(store.session_scores(), members, assignments)


labels = {key: dim.label.get(lang) for key, dim in svc.rubric.dimensions.items()}
titles = {(s.id, s.lang): s.title for s in svc.library.all()}
scenario_names = {}
for (sid, slang), title in titles.items():
    if slang == lang or sid not in scenario_names:
        scenario_names[sid] = title
outcome_labels = {o: t(f"practice_outcome_{o}") for o in analytics.OUTCOME_ORDER}
texts = {
    "rolling": t("dash_rolling", n=ROLLING_WEEKS),
    "week": t("dash_week"),
    "score": t("progress_chart_score"),
    "attempt": t("progress_chart_attempt"),
    "share": t("dash_share"),
    "all": t("dash_all"),
    "band": t("dash_band"),
    "mean": t("dash_mean"),
    "attempts": t("dash_attempts_to_pass"),
    "trainees": t("dash_trainees"),
    **{f"outcome_{k}": v for k, v in outcome_labels.items()},
}

# A review link reads "<name>, <date>": the words ride in the URL's fragment (which the review page
# never reads), and Streamlit shows the regular expression's capture, URL-decoded.
REVIEW_LINK = st.column_config.LinkColumn(display_text=r"#(.+)$")


def review_links(session_ids, names, whens) -> list[str]:
    return [f"review?session={sid}#" + quote(t("dash_review_link", name=name, date=fmt.moment(when.to_pydatetime(), lang)))
            for sid, name, when in zip(session_ids, names, whens, strict=True)]


def show_chart(fig, **kwargs):
    return st.plotly_chart(fmt.localise_figure(fig, lang), **kwargs)


# Streamlit's own "Choose options" and "Select all" are English only: our placeholder instead,
# and no "Select all" in the Indonesian interface.
choose = {"placeholder": t("dash_choose"), "select_all": lang != "id"}

st.title(t("dash_title"))
members = store.memberships()
frame = load_sessions(settings().database_url, store.data_version(), members, store.assignments())
if not frame.empty:  # people in no team form a named series, not an unnamed "—"
    frame = frame.assign(team=frame["team"].replace(analytics.NO_TEAM, t("dash_no_team")))
blind = grading().pending(user)  # sessions this person still grades blind: no score of theirs shows here
if blind and not frame.empty:
    frame = frame[~frame["session_id"].isin(blind)]
if frame.empty:
    st.info(t("dash_empty"))
    st.stop()
if blind:
    st.caption(t("dash_blind_left_out", n=len(blind)))

# ----------------------------------------------------------------------------- filters
groups = store.list_groups()
first_day = frame["when"].min().date()
last_day = frame["when"].max().date()
with st.container(border=True):
    # two rows, so no filter is squeezed until its chips show only "×"
    a, b, c = st.columns(3)
    d, e = st.columns(2)
    team_ids = a.multiselect(t("dash_filter_team"), [g.id for g in groups],
                             format_func={g.id: g.name for g in groups}.__getitem__, key="dash_team", **choose)
    period = b.date_input(t("dash_filter_period"), value=(max(first_day, last_day - timedelta(days=83)), last_day),
                          min_value=first_day, max_value=last_day, key="dash_period")
    scen = c.multiselect(t("dash_filter_scenario"), sorted(frame["scenario_id"].unique()),
                         format_func=lambda s: scenario_names.get(s, s), key="dash_scenario", **choose)
    langs = d.multiselect(t("dash_filter_lang"), ["id", "en"], format_func={x: t(f"practice_lang_{x}") for x in ("id", "en")}.__getitem__,
                          key="dash_lang", **choose)
    roles = e.multiselect(t("dash_filter_role"), sorted(frame["role"].unique()), default=["trainee"]
                          if "trainee" in set(frame["role"]) else None, format_func={r: t(f"role_{r}") for r in frame["role"].unique()}.__getitem__,
                          key="dash_role", **choose)
start, end = (period if isinstance(period, (tuple, list)) and len(period) == 2 else (first_day, last_day))
user_ids = members.loc[members["group_id"].isin(team_ids), "user_id"].unique() if team_ids else None
undated = analytics.filter_sessions(frame, user_ids=user_ids, scenarios=scen, langs=langs, roles=roles)
view = analytics.filter_sessions(undated, start=start, end=end)

# ----------------------------------------------------------------------------- headline
head = analytics.headline(undated, start, end)
cols = st.columns(4)
for col, key, digits in zip(cols, ("active_trainees", "sessions", "average_overall", "pass_rate"), (0, 0, 1, 0),
                            strict=True):
    value, change = head[key]["value"], head[key]["change"]
    shown = fmt.percent(value, lang) if key == "pass_rate" else fmt.number(value, lang, digits)
    delta = None
    if pd.notna(change) and round(float(change), digits) != 0:
        delta = fmt.signed(change, lang, digits) + (" " + t("dash_points") if key == "pass_rate" else "")
    col.metric(t(f"dash_metric_{key}"), shown, delta=delta, help=t("dash_metric_change_help"))
if view.empty:
    st.info(t("dash_no_match"))
    st.stop()

ids_by_name = dict(zip(view["user"], view["user_id"], strict=False))
people = view.drop_duplicates("user_id").set_index("user_id")["user"].sort_values()


def select_person(user_id: int) -> None:
    if user_id in people.index:
        st.session_state["dash_person"] = int(user_id)


def picked(event, index: int = 0):
    """The customdata element ``index`` of the first selected point, or None."""
    points = (event or {}).get("selection", {}).get("points", []) if isinstance(event, dict) else \
        getattr(getattr(event, "selection", None), "points", []) or []
    for point in points:
        data = point.get("customdata")
        if isinstance(data, (list, tuple)) and len(data) > index:
            return data[index]
        if data is not None and index == 0:
            return data
    return None


def kept(key: str) -> tuple[dict, object]:
    """``key`` and an ``on_change`` that copies the widget's value aside, and that copy (None at
    first): Streamlit forgets a widget's value in a run that does not draw it (a closed tab)."""
    aside = f"{key}_kept"

    def keep() -> None:
        st.session_state[aside] = st.session_state[key]

    return {"key": key, "on_change": keep}, st.session_state.get(aside)


# Only the open tab is built and drawn: every tab at once was eleven charts for the browser to lay out.
tabs = st.tabs([t(f"dash_tab_{name}") for name in TABS], key="dash_tab", on_change="rerun")
needs_attention = tabs[TABS.index("progress")].open or tabs[TABS.index("attention")].open
attention = analytics.needs_attention(view, ATTENTION_N, STUCK_BELOW) if needs_attention else None

# ----------------------------------------------------------------------------- progress
with tabs[0]:
    if tabs[0].open:
        st.subheader(t("dash_progress_team"))
        # Like with like: teams practise different scenarios, so by default each session counts
        # relative to the average on its own scenario (said plainly under the chart).
        keep, was = kept("dash_normalised")
        measure = "normalised" if st.toggle(t("dash_normalised"), value=True if was is None else was, **keep) else "overall"
        st.caption(t(f"dash_measure_{measure}"))
        show_chart(charts.weekly_chart(analytics.weekly_progress(view, "team", ROLLING_WEEKS, measure), texts),
                        key="dash_chart_team_weekly")
        st.subheader(t("dash_progress_trainee"))
        keep, was = kept("dash_trainees")
        default_people = list(attention["user_id"][:TRAINEE_LINES]) or list(people.index[:TRAINEE_LINES])
        if was is not None:
            default_people = [uid for uid in was if uid in people.index]
        chosen = st.multiselect(t("dash_pick_trainees"), list(people.index), default=default_people,
                                format_func=people.__getitem__, max_selections=20, **keep, **choose)
        weekly_people = analytics.weekly_progress(view[view["user_id"].isin(chosen)], "user", ROLLING_WEEKS, measure)
        event = show_chart(charts.weekly_chart(weekly_people, texts, ids=ids_by_name), key="dash_chart_trainee_weekly",
                                on_select="rerun", selection_mode="points")
        if (uid := picked(event)) is not None:
            select_person(int(uid))
        st.subheader(t("dash_progress_dimensions"))
        show_chart(charts.dimension_weekly_chart(analytics.weekly_dimensions(view), labels, texts),
                        key="dash_chart_dim_weekly")

# ----------------------------------------------------------------------------- skills heatmap
with tabs[1]:
    if tabs[1].open:
        st.subheader(t("dash_heatmap"))
        levels = analytics.latest_levels(view)
        weakest = levels.mean(axis=1).sort_values().index[:HEATMAP_ROWS]
        if len(levels) > HEATMAP_ROWS:
            st.caption(t("dash_heatmap_weakest", n=HEATMAP_ROWS, total=len(levels)))
        event = show_chart(charts.heatmap(levels.loc[weakest], labels, ids_by_name, texts), key="dash_chart_heatmap",
                                on_select="rerun", selection_mode="points")
        if (uid := picked(event)) is not None:
            select_person(int(uid))
        team_levels = view.groupby("team")[list(levels.columns)].mean()
        st.subheader(t("dash_heatmap_teams"))
        show_chart(charts.heatmap(team_levels, labels, None, texts, height=80 + 40 * len(team_levels)),
                        key="dash_chart_team_heatmap")

# ----------------------------------------------------------------------------- scenarios, outcomes
with tabs[2]:
    if tabs[2].open:
        summary = analytics.scenario_summary(view)
        st.subheader(t("dash_scenarios"))
        show_chart(charts.scenario_box(view, list(summary["scenario_id"]), scenario_names, texts),
                        key="dash_chart_scenarios")
        st.dataframe(pd.DataFrame({
            t("progress_col_scenario"): summary["scenario_id"].map(lambda s: scenario_names.get(s, s)),
            t("dash_col_sessions"): summary["sessions"].map(lambda v: fmt.number(v, lang, 0)),
            t("dash_mean"): summary["mean"].map(lambda v: fmt.number(v, lang)),
            t("dash_col_median"): summary["median"].map(lambda v: fmt.number(v, lang)),
            t("dash_col_pass_rate"): summary["pass_rate"].map(lambda v: fmt.percent(v, lang)),
        }), hide_index=True, width="stretch")
        st.subheader(t("dash_outcomes"))
        mix = analytics.outcome_mix(view, by="scenario_id")
        mix["key"] = mix["key"].map(lambda s: scenario_names.get(s, s))
        overall_mix = analytics.outcome_mix(view)
        show_chart(charts.outcome_chart(overall_mix, outcome_labels, texts, height=160), key="dash_chart_outcomes_all")
        show_chart(charts.outcome_chart(mix, outcome_labels, texts), key="dash_chart_outcomes")

# ----------------------------------------------------------------------------- learning
with tabs[3]:
    if tabs[3].open:
        st.subheader(t("dash_learning_curve"))
        st.caption(t("dash_learning_curve_help"))
        curve = analytics.learning_curve(undated[undated["user_id"].isin(view["user_id"].unique())], max_attempt=60,
                                         min_trainees=3)
        show_chart(charts.learning_curve_chart(curve, texts), key="dash_chart_learning")
        st.subheader(t("dash_proficiency"))
        proficiency = analytics.time_to_proficiency(undated[undated["user_id"].isin(view["user_id"].unique())])
        reached = proficiency["attempts"].notna()
        a, b, c = st.columns(3)
        a.metric(t("dash_proficient"), f"{int(reached.sum())} / {len(proficiency)}")
        b.metric(t("dash_median_attempts"), fmt.number(proficiency.loc[reached, "attempts"].median(), lang, 0)
                 if reached.any() else fmt.MISSING)
        c.metric(t("dash_median_days"), fmt.number(proficiency.loc[reached, "days"].median(), lang, 0)
                 if reached.any() else fmt.MISSING)
        show_chart(charts.proficiency_chart(proficiency, texts), key="dash_chart_proficiency")

# ----------------------------------------------------------------------------- attention
with tabs[4]:
    if tabs[4].open:
        st.subheader(t("dash_attention"))
        st.caption(t("dash_attention_help", n=ATTENTION_N, low=int(STUCK_BELOW)))
        if attention.empty:
            st.success(t("dash_attention_none"))
        else:
            reasons = [
                ", ".join(filter(None, [t("dash_reason_flat") if flat else "",
                                        t("dash_reason_stuck", dims=", ".join(labels.get(k, k) for k in dims.split(",")))
                                        if stuck else ""]))
                for flat, stuck, dims in attention[["no_improvement", "stuck_low", "dimensions"]].itertuples(index=False)
            ]
            table = pd.DataFrame({
                t("dash_col_trainee"): attention["user"], t("dash_col_team"): attention["team"],
                t("dash_col_sessions"): attention["sessions"],
                t("dash_col_recent"): attention["recent_mean"].map(lambda v: fmt.number(v, lang)),
                t("dash_col_change"): attention["change"].map(lambda v: fmt.signed(v, lang)),
                t("progress_col_review"): review_links(attention["last_session"], attention["user"], attention["last_when"]),
                t("dash_col_reason"): reasons,  # last: the longest, so the link stays in sight
            })
            event = st.dataframe(table, hide_index=True, width="stretch", key="dash_attention_table",
                                 on_select="rerun", selection_mode="single-row",
                                 column_config={t("progress_col_review"): REVIEW_LINK})
            rows = event.selection.rows if event is not None and hasattr(event, "selection") else []
            if rows:
                select_person(int(attention["user_id"].iloc[rows[0]]))

# ----------------------------------------------------------------------------- exports
with tabs[5]:
    if tabs[5].open:
        st.caption(t("dash_export_help", n=len(view)))
        stamp = f"{start:%Y%m%d}-{end:%Y%m%d}"
        origin = (st.context.url or exports.DEFAULT_HOME_PAGE).split("/dashboard")[0].split("?")[0]
        a, b, c, d = st.columns(4)
        export_labels = exports.ExportLabels(
            headers={**{code: t(f"dash_x_{code}") for code in exports.SESSION_COLUMNS},
                     "dimension": t("dash_x_dimension"), "score": t("dash_x_score"), **labels},
            values={"outcome": outcome_labels, "role": {r: t(f"role_{r}") for r in ("trainee", "trainer", "hr", "admin")},
                    "lang": {x: t(f"practice_lang_{x}") for x in ("id", "en")}, "scenario_id": scenario_names,
                    "passed": {True: t("dash_x_yes"), False: t("dash_x_no")}, "dimension": labels},
            sheets={"sessions": t("dash_x_sheet_sessions"), "scores": t("dash_x_sheet_scores")},
        )
        a.download_button(t("dash_download_csv"), data=lambda: exports.to_csv(view, export_labels), file_name=f"tenang-sessions-{stamp}.csv",
                          mime="text/csv", on_click="ignore", key="dash_dl_csv")
        b.download_button(t("dash_download_scores"), data=lambda: exports.scores_csv(view, export_labels),
                          file_name=f"tenang-scores-{stamp}.csv", mime="text/csv", on_click="ignore", key="dash_dl_scores")
        c.download_button(t("dash_download_xlsx"), data=lambda: exports.to_xlsx(view, export_labels), file_name=f"tenang-{stamp}.xlsx",
                          mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", on_click="ignore",
                          key="dash_dl_xlsx")
        d.download_button(t("dash_download_xapi"), data=lambda: exports.to_xapi_json(view, origin, titles),
                          file_name=f"tenang-xapi-{stamp}.json", mime="application/json", on_click="ignore",
                          key="dash_dl_xapi")

# ----------------------------------------------------------------------------- agreement (issue 15)
with tabs[6]:
    if tabs[6].open:
        agreement_tab(blind)

# ----------------------------------------------------------------------------- drill-down
st.divider()
st.subheader(t("dash_person"))
if st.session_state.get("dash_person") not in people.index:
    st.session_state.pop("dash_person", None)
person = st.selectbox(t("dash_pick_person"), list(people.index), format_func=people.__getitem__, index=None,
                      placeholder=t("dash_pick_person_hint"), key="dash_person")
if person is not None:
    mine = view[view["user_id"] == person]
    st.caption(t("dash_person_facts", team=mine["team"].iloc[-1], n=len(mine), mean=fmt.number(mine["overall"].mean(), lang)))
    event = show_chart(charts.person_sessions_chart(mine, float(mine["pass_mark"].median()), texts),
                            key="dash_chart_person", on_select="rerun", selection_mode="points")
    session_id = picked(event, 1)
    if session_id is not None:
        when = mine.loc[mine["session_id"] == session_id, "when"]
        st.page_link(HERE / "review.py", query_params={"session": session_id}, icon=":material/open_in_new:",
                     label=t("dash_open_session", name=people[person],
                             date=fmt.moment(when.iloc[0].to_pydatetime(), lang) if len(when) else fmt.MISSING))
    recent = mine.sort_values("when", ascending=False).head(50)
    st.dataframe(pd.DataFrame({
        t("progress_col_when"): recent["when"].map(lambda w: fmt.moment(w.to_pydatetime(), lang)),
        t("progress_col_scenario"): recent["scenario_id"].map(lambda s: scenario_names.get(s, s)),
        t("practice_outcome"): recent["outcome"].map(lambda o: outcome_labels.get(o, o)),
        t("practice_overall"): recent["overall"].map(lambda v: fmt.number(v, lang, 0)),
        t("progress_col_review"): review_links(recent["session_id"], recent["user"], recent["when"]),
    }), hide_index=True, width="stretch", key="dash_person_sessions", column_config={t("progress_col_review"): REVIEW_LINK})
