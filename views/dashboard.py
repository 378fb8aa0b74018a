"""Team dashboard (/dashboard) for HR, trainers and admins: progress across people and teams.

Frames come from simulator.analytics, figures from simulator.charts, data from
simulator.store.teams; this page only reads the filters, renders and drills down. The session
data are cached per database and *data version* (count and latest end of ended sessions), so
a newly finished session invalidates the cache on the next rerun. Trainees are refused.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
import streamlit as st

from simulator import analytics, charts, exports
from simulator.store.teams import TeamStore
from ui.context import repository, require_role, service, settings, t, ui_lang

HERE = Path(__file__).resolve().parent
ATTENTION_N = 6
STUCK_BELOW = 50.0
ROLLING_WEEKS = 4
HEATMAP_ROWS = 40
TRAINEE_LINES = 8

user = require_role("hr", "trainer", "admin")
repo = repository()
store = TeamStore(repo)
svc = service()
lang = ui_lang()


@st.cache_data(show_spinner=False, max_entries=4)
def load_sessions(url: str, version: tuple[int, str]) -> pd.DataFrame:
    """All scored sessions; ``version`` is only the cache key (see TeamStore.data_version)."""
    return store.session_scores()


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

st.title(t("dash_title"))
raw = load_sessions(settings().database_url, store.data_version())
members = store.memberships()
frame = analytics.prepare_sessions(raw, members, store.assignments())
if frame.empty:
    st.info(t("dash_empty"))
    st.stop()

# ----------------------------------------------------------------------------- filters
groups = store.list_groups()
first_day = frame["when"].min().date()
last_day = frame["when"].max().date()
with st.container(border=True):
    a, b, c, d, e = st.columns([2, 2, 2, 1, 1])
    team_ids = a.multiselect(t("dash_filter_team"), [g.id for g in groups],
                             format_func={g.id: g.name for g in groups}.__getitem__, key="dash_team")
    period = b.date_input(t("dash_filter_period"), value=(max(first_day, last_day - timedelta(days=83)), last_day),
                          min_value=first_day, max_value=last_day, key="dash_period")
    scen = c.multiselect(t("dash_filter_scenario"), sorted(frame["scenario_id"].unique()),
                         format_func=lambda s: scenario_names.get(s, s), key="dash_scenario")
    langs = d.multiselect(t("dash_filter_lang"), ["id", "en"], format_func=lambda x: t(f"practice_lang_{x}"),
                          key="dash_lang")
    roles = e.multiselect(t("dash_filter_role"), sorted(frame["role"].unique()), default=["trainee"]
                          if "trainee" in set(frame["role"]) else None, format_func=lambda r: t(f"role_{r}"),
                          key="dash_role")
start, end = (period if isinstance(period, (tuple, list)) and len(period) == 2 else (first_day, last_day))
user_ids = members.loc[members["group_id"].isin(team_ids), "user_id"].unique() if team_ids else None
undated = analytics.filter_sessions(frame, user_ids=user_ids, scenarios=scen, langs=langs, roles=roles)
view = analytics.filter_sessions(undated, start=start, end=end)

# ----------------------------------------------------------------------------- headline
head = analytics.headline(undated, start, end)
cols = st.columns(4)
for col, key, fmt in zip(cols, ("active_trainees", "sessions", "average_overall", "pass_rate"),
                         ("{:.0f}", "{:.0f}", "{:.1f}", "{:.0f}%"), strict=True):
    value, change = head[key]["value"], head[key]["change"]
    shown = fmt.format(value) if pd.notna(value) else "—"
    delta = (fmt.replace("%", " pt").format(change) if pd.notna(change) else None)
    col.metric(t(f"dash_metric_{key}"), shown, delta=delta if delta and not delta.startswith("0") else None,
               help=t("dash_metric_change_help"))
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


tabs = st.tabs([t("dash_tab_progress"), t("dash_tab_skills"), t("dash_tab_scenarios"), t("dash_tab_learning"),
                t("dash_tab_attention"), t("dash_tab_export")])

# ----------------------------------------------------------------------------- progress
with tabs[0]:
    st.subheader(t("dash_progress_team"))
    # Like with like: teams practise different scenarios, so by default each session counts
    # relative to the average on its own scenario (said plainly under the chart).
    measure = "normalised" if st.toggle(t("dash_normalised"), value=True, key="dash_normalised") else "overall"
    st.caption(t(f"dash_measure_{measure}"))
    st.plotly_chart(charts.weekly_chart(analytics.weekly_progress(view, "team", ROLLING_WEEKS, measure), texts),
                    key="dash_chart_team_weekly")
    st.subheader(t("dash_progress_trainee"))
    attention = analytics.needs_attention(view, ATTENTION_N, STUCK_BELOW)
    default_people = list(attention["user_id"][:TRAINEE_LINES]) or list(people.index[:TRAINEE_LINES])
    chosen = st.multiselect(t("dash_pick_trainees"), list(people.index), default=default_people,
                            format_func=people.__getitem__, key="dash_trainees", max_selections=20)
    weekly_people = analytics.weekly_progress(view[view["user_id"].isin(chosen)], "user", ROLLING_WEEKS, measure)
    event = st.plotly_chart(charts.weekly_chart(weekly_people, texts, ids=ids_by_name), key="dash_chart_trainee_weekly",
                            on_select="rerun", selection_mode="points")
    if (uid := picked(event)) is not None:
        select_person(int(uid))
    st.subheader(t("dash_progress_dimensions"))
    st.plotly_chart(charts.dimension_weekly_chart(analytics.weekly_dimensions(view), labels, texts),
                    key="dash_chart_dim_weekly")

# ----------------------------------------------------------------------------- skills heatmap
with tabs[1]:
    st.subheader(t("dash_heatmap"))
    levels = analytics.latest_levels(view)
    weakest = levels.mean(axis=1).sort_values().index[:HEATMAP_ROWS]
    if len(levels) > HEATMAP_ROWS:
        st.caption(t("dash_heatmap_weakest", n=HEATMAP_ROWS, total=len(levels)))
    event = st.plotly_chart(charts.heatmap(levels.loc[weakest], labels, ids_by_name, texts), key="dash_chart_heatmap",
                            on_select="rerun", selection_mode="points")
    if (uid := picked(event)) is not None:
        select_person(int(uid))
    team_levels = view.groupby("team")[list(levels.columns)].mean()
    st.subheader(t("dash_heatmap_teams"))
    st.plotly_chart(charts.heatmap(team_levels, labels, None, texts, height=80 + 40 * len(team_levels)),
                    key="dash_chart_team_heatmap")

# ----------------------------------------------------------------------------- scenarios, outcomes
with tabs[2]:
    summary = analytics.scenario_summary(view)
    st.subheader(t("dash_scenarios"))
    st.plotly_chart(charts.scenario_box(view, list(summary["scenario_id"]), scenario_names, texts),
                    key="dash_chart_scenarios")
    st.dataframe(summary.assign(scenario_id=summary["scenario_id"].map(lambda s: scenario_names.get(s, s))).rename(
        columns={"scenario_id": t("progress_col_scenario"), "sessions": t("dash_col_sessions"),
                 "mean": t("dash_mean"), "median": t("dash_col_median"), "pass_rate": t("dash_col_pass_rate")}),
        hide_index=True, width="stretch")
    st.subheader(t("dash_outcomes"))
    mix = analytics.outcome_mix(view, by="scenario_id")
    mix["key"] = mix["key"].map(lambda s: scenario_names.get(s, s))
    overall_mix = analytics.outcome_mix(view)
    st.plotly_chart(charts.outcome_chart(overall_mix, outcome_labels, texts, height=160), key="dash_chart_outcomes_all")
    st.plotly_chart(charts.outcome_chart(mix, outcome_labels, texts), key="dash_chart_outcomes")

# ----------------------------------------------------------------------------- learning
with tabs[3]:
    st.subheader(t("dash_learning_curve"))
    st.caption(t("dash_learning_curve_help"))
    curve = analytics.learning_curve(undated[undated["user_id"].isin(view["user_id"].unique())], max_attempt=60,
                                     min_trainees=3)
    st.plotly_chart(charts.learning_curve_chart(curve, texts), key="dash_chart_learning")
    st.subheader(t("dash_proficiency"))
    proficiency = analytics.time_to_proficiency(undated[undated["user_id"].isin(view["user_id"].unique())])
    reached = proficiency["attempts"].notna()
    a, b, c = st.columns(3)
    a.metric(t("dash_proficient"), f"{int(reached.sum())} / {len(proficiency)}")
    b.metric(t("dash_median_attempts"), f"{proficiency.loc[reached, 'attempts'].median():.0f}" if reached.any() else "—")
    c.metric(t("dash_median_days"), f"{proficiency.loc[reached, 'days'].median():.0f}" if reached.any() else "—")
    st.plotly_chart(charts.proficiency_chart(proficiency, texts), key="dash_chart_proficiency")

# ----------------------------------------------------------------------------- attention
with tabs[4]:
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
            t("dash_col_sessions"): attention["sessions"], t("dash_col_recent"): attention["recent_mean"].round(1),
            t("dash_col_change"): attention["change"].round(1), t("dash_col_reason"): reasons,
            t("progress_col_review"): [f"review?session={s}" for s in attention["last_session"]],
        })
        event = st.dataframe(table, hide_index=True, width="stretch", key="dash_attention_table",
                             on_select="rerun", selection_mode="single-row",
                             column_config={t("progress_col_review"): st.column_config.LinkColumn(
                                 display_text=t("progress_open_review"))})
        rows = event.selection.rows if event is not None and hasattr(event, "selection") else []
        if rows:
            select_person(int(attention["user_id"].iloc[rows[0]]))

# ----------------------------------------------------------------------------- exports
with tabs[5]:
    st.caption(t("dash_export_help", n=len(view)))
    stamp = f"{start:%Y%m%d}-{end:%Y%m%d}"
    origin = (st.context.url or exports.DEFAULT_HOME_PAGE).split("/dashboard")[0].split("?")[0]
    a, b, c, d = st.columns(4)
    a.download_button(t("dash_download_csv"), data=lambda: exports.to_csv(view), file_name=f"tenang-sessions-{stamp}.csv",
                      mime="text/csv", on_click="ignore", key="dash_dl_csv")
    b.download_button(t("dash_download_scores"), data=lambda: exports.scores_csv(view),
                      file_name=f"tenang-scores-{stamp}.csv", mime="text/csv", on_click="ignore", key="dash_dl_scores")
    c.download_button(t("dash_download_xlsx"), data=lambda: exports.to_xlsx(view), file_name=f"tenang-{stamp}.xlsx",
                      mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", on_click="ignore",
                      key="dash_dl_xlsx")
    d.download_button(t("dash_download_xapi"), data=lambda: exports.to_xapi_json(view, origin, titles),
                      file_name=f"tenang-xapi-{stamp}.json", mime="application/json", on_click="ignore",
                      key="dash_dl_xapi")

# ----------------------------------------------------------------------------- drill-down
st.divider()
st.subheader(t("dash_person"))
if st.session_state.get("dash_person") not in people.index:
    st.session_state.pop("dash_person", None)
person = st.selectbox(t("dash_pick_person"), list(people.index), format_func=people.__getitem__, index=None,
                      placeholder=t("dash_pick_person_hint"), key="dash_person")
if person is not None:
    mine = view[view["user_id"] == person]
    st.caption(t("dash_person_facts", team=mine["team"].iloc[-1], n=len(mine), mean=mine["overall"].mean()))
    event = st.plotly_chart(charts.person_sessions_chart(mine, float(mine["pass_mark"].median()), texts),
                            key="dash_chart_person", on_select="rerun", selection_mode="points")
    session_id = picked(event, 1)
    if session_id is not None:
        st.page_link(HERE / "review.py", label=t("dash_open_session", id=session_id), query_params={"session": session_id},
                     icon=":material/open_in_new:")
    recent = mine.sort_values("when", ascending=False).head(50)
    st.dataframe(pd.DataFrame({
        t("progress_col_when"): recent["when"].dt.strftime("%Y-%m-%d %H:%M"),
        t("progress_col_scenario"): recent["scenario_id"].map(lambda s: scenario_names.get(s, s)),
        t("practice_outcome"): recent["outcome"].map(lambda o: outcome_labels.get(o, o)),
        t("practice_overall"): recent["overall"],
        t("progress_col_review"): [f"review?session={s}" for s in recent["session_id"]],
    }), hide_index=True, width="stretch", key="dash_person_sessions",
        column_config={t("progress_col_review"): st.column_config.LinkColumn(display_text=t("progress_open_review"))})
