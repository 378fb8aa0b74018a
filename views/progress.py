"""My progress (/progress): the signed-in trainee's scores over time and their past sessions.

Charts, one tab each (only the open one is drawn): the overall score per attempt with a rolling
mean, one small chart per dimension, and first-versus-latest per dimension (frames from
simulator.analytics, figures from simulator.charts). The table lists every session, each linking
to its review.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from simulator import analytics, charts
from simulator.scenario import UnknownScenario
from ui.context import repository, require_role, service, t, ui_lang

ROLLING_WINDOW = 3
#: The chart tabs, in order (their labels are the ``progress_<name>_heading`` strings).
TABS = ("overall", "dimensions", "first_latest")

HERE = Path(__file__).resolve().parent  # sibling pages, wherever the folder lives

user = require_role("trainee", "trainer", "admin")
svc = service()
repo = repository()
lang = ui_lang()

sessions = repo.list_sessions(user_id=user.id)
scores = repo.scores_for_sessions([s.id for s in sessions if s.status == "ended"])  # one query, not one per session
frame = analytics.sessions_frame(sessions, scores)
labels = {key: dim.label.get(lang) for key, dim in svc.rubric.dimensions.items()}
texts = {
    "overall": t("progress_chart_overall"),
    "rolling": t("progress_chart_rolling", n=ROLLING_WINDOW),
    "attempt": t("progress_chart_attempt"),
    "score": t("progress_chart_score"),
    "first": t("progress_chart_first"),
    "latest": t("progress_chart_latest"),
}



def scenario_title(scenario_id: str, scenario_lang: str) -> str:
    try:
        return svc.library.get(scenario_id, scenario_lang).title
    except UnknownScenario:
        return scenario_id


st.title(t("progress_title"))
trend = analytics.overall_trend(frame, window=ROLLING_WINDOW)

if trend.empty:
    st.info(t("progress_empty"))
    st.page_link(HERE / "practice.py", label=t("progress_to_practice"))
else:
    a, b, c = st.columns(3)
    a.metric(t("progress_attempts"), len(trend))
    latest, best = trend["overall"].iloc[-1], trend["overall"].max()
    # Like with like: the change is against the previous attempt at the same scenario and
    # language, never against whatever scenario came before.
    change = trend["vs_previous"].iloc[-1]
    b.metric(t("progress_latest"), f"{latest:.0f}", delta=f"{change:+.0f}" if pd.notna(change) and change else None,
             help=t("progress_latest_help"))
    c.metric(t("progress_best"), f"{best:.0f}")
    last_title = scenario_title(trend["scenario_id"].iloc[-1], trend["lang"].iloc[-1])
    st.caption(t("progress_same_scenario", scenario=last_title) if pd.notna(change) else t("progress_first_on_scenario", scenario=last_title))

    # Only the open tab is built and drawn: Plotly lays out every chart a run draws in the browser.
    tabs = st.tabs([t(f"progress_{name}_heading") for name in TABS], key="progress_tab", on_change="rerun")
    with tabs[0]:
        if tabs[0].open:
            st.plotly_chart(charts.overall_chart(trend, texts), key="chart_overall")
    with tabs[1]:
        if tabs[1].open:
            small = charts.dimension_charts(analytics.dimension_trend(frame), labels, texts)
            figures = list(small.items())
            for start in range(0, len(figures), 3):  # a row of three at a time: a phone stacks them in rubric order
                for column, (key, figure) in zip(st.columns(3), figures[start:start + 3]):
                    with column:
                        st.plotly_chart(figure, key=f"chart_dim_{key}")
    with tabs[2]:
        if tabs[2].open:
            st.caption(t("progress_first_latest_same_scenario"))
            table = analytics.first_vs_latest(frame, same_scenario=True)
            if table.empty:
                st.info(t("progress_first_latest_none"))
            else:
                st.plotly_chart(charts.first_vs_latest_chart(table, labels, texts), key="chart_first_latest")
                st.dataframe(
                    pd.DataFrame(
                        {
                            t("review_col_dimension"): [labels.get(k, k) for k in table["dimension"]],
                            t("progress_chart_first"): table["first"],
                            t("progress_chart_latest"): table["latest"],
                            t("review_col_change"): table["change"].round(0) + 0.0,  # no "-0"
                        }
                    ),
                    hide_index=True,
                    width="stretch",
                    column_config={
                        t("progress_chart_first"): st.column_config.NumberColumn(format="%.0f"),
                        t("progress_chart_latest"): st.column_config.NumberColumn(format="%.0f"),
                        t("review_col_change"): st.column_config.NumberColumn(format="%+.0f"),
                    },
                )

st.subheader(t("progress_sessions_heading"))
if frame.empty:
    st.caption(t("progress_no_sessions"))
else:
    tz = st.context.timezone or "UTC"
    rows = frame.sort_values("when", ascending=False)
    when = rows["when"].dt.tz_convert(tz) if tz != "UTC" else rows["when"]
    shown = pd.DataFrame(
        {
            t("progress_col_when"): when.dt.strftime("%Y-%m-%d %H:%M"),
            t("progress_col_scenario"): [scenario_title(r.scenario_id, r.lang) for r in rows.itertuples()],
            t("progress_col_lang"): [t(f"practice_lang_{code}") for code in rows["lang"]],
            t("progress_col_kind"): [t("progress_kind_branch") if b else "" for b in rows["branch"]],
            t("practice_outcome"): [
                t(f"practice_outcome_{o}") if isinstance(o, str) else t("practice_outcome_none") for o in rows["outcome"]
            ],
            t("practice_overall"): rows["overall"],
            t("progress_col_review"): [f"review?session={sid}" for sid in rows["session_id"]],
        }
    )
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config={
            t("practice_overall"): st.column_config.NumberColumn(format="%.0f"),
            t("progress_col_review"): st.column_config.LinkColumn(display_text=t("progress_open_review")),
        },
    )
    options = list(rows["session_id"])
    names = {
        sid: f"{n}. {w} · {name} · {outcome}"
        for n, (sid, w, name, outcome) in enumerate(
            zip(options, shown[t("progress_col_when")], shown[t("progress_col_scenario")], shown[t("practice_outcome")], strict=True),
            1,
        )
    }
    chosen = st.selectbox(t("progress_pick_review"), options, format_func=names.__getitem__, key="progress_pick")
    st.page_link(HERE / "review.py", label=t("progress_open_review"), query_params={"session": chosen})
