"""plotly figures built from the frames in :mod:`simulator.analytics`.

No streamlit here: the pages pass the frames and the interface texts (already translated) and
show the figures. Every text a person sees comes in through ``texts``; the English defaults
only make the functions usable from a notebook or the command line.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go

ANGER = "#D55E00"  # Okabe-Ito vermillion, blue, purple: safe for colour-blind readers
TRUST = "#0072B2"
THREAT = "#CC79A7"
SCORE = "#1f77b4"
ROLLING = "#ff7f0e"
FIRST = "#9ecae1"
LATEST = "#1f77b4"

_DEFAULTS = {
    "overall": "Overall",
    "rolling": "Rolling mean",
    "attempt": "Attempt",
    "score": "Score",
    "first": "First",
    "latest": "Latest",
    "turn": "Your turn",
    "anger": "Anger",
    "trust": "Trust",
    "threat": "Threat",
    "level": "Level (0-10)",
}


def _text(texts: Mapping[str, str] | None, key: str) -> str:
    return (texts or {}).get(key, _DEFAULTS[key])


def _counting_axis(values: pd.Series) -> dict:
    """An x axis of attempts or turns: every whole number up to a dozen, then Plotly's own whole-
    number spacing (fifty labels on each small chart cost the browser seconds of text measuring)."""
    return {"dtick": 1} if values.nunique() <= 12 else {"tickformat": "d"}


def _layout(fig: go.Figure, height: int, title: str | None = None) -> go.Figure:
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
        title={"text": title} if title else None,
        # a long legend scrolls within a third of the figure instead of outgrowing it on a phone
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0, "maxheight": 0.3},
        hovermode="x unified",
    )
    return fig


def overall_chart(trend: pd.DataFrame, texts: Mapping[str, str] | None = None, height: int = 320) -> go.Figure:
    """Overall score per attempt (markers and line) with its rolling mean, from
    :func:`simulator.analytics.overall_trend`. Hover shows the date and scenario."""
    fig = go.Figure()
    when = trend["when"].dt.strftime("%Y-%m-%d %H:%M") if not trend.empty else []
    fig.add_trace(
        go.Scatter(
            x=trend["attempt"],
            y=trend["overall"],
            mode="lines+markers",
            name=_text(texts, "overall"),
            line={"color": SCORE},
            customdata=list(zip(when, trend["scenario_id"], strict=True)),
            hovertemplate="%{y:.0f} · %{customdata[1]} · %{customdata[0]}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=trend["attempt"],
            y=trend["rolling"],
            mode="lines",
            name=_text(texts, "rolling"),
            line={"color": ROLLING, "dash": "dash"},
            hovertemplate="%{y:.1f}<extra></extra>",
        )
    )
    fig.update_xaxes(title=_text(texts, "attempt"), **_counting_axis(trend["attempt"]))
    fig.update_yaxes(title=_text(texts, "score"), range=[-5, 105], tickvals=[0, 25, 50, 75, 100])
    return _layout(fig, height)


def dimension_charts(
    long: pd.DataFrame,
    labels: Mapping[str, str] | None = None,
    texts: Mapping[str, str] | None = None,
    height: int = 200,
) -> dict[str, go.Figure]:
    """One small line chart per dimension, from :func:`simulator.analytics.dimension_trend`,
    keyed by dimension in the frame's order. ``labels`` maps a dimension key to its title."""
    figures: dict[str, go.Figure] = {}
    for key in dict.fromkeys(long["dimension"]):
        part = long[long["dimension"] == key]
        fig = go.Figure(
            go.Scatter(
                x=part["attempt"],
                y=part["score"],
                mode="lines+markers",
                line={"color": SCORE},
                name=(labels or {}).get(key, key),
                hovertemplate="%{y:.0f}<extra></extra>",
            )
        )
        fig.update_xaxes(title=None, **_counting_axis(part["attempt"]))
        fig.update_yaxes(title=None, range=[-5, 105], tickvals=[0, 25, 50, 75, 100])
        fig.update_layout(showlegend=False)
        figures[key] = _layout(fig, height, (labels or {}).get(key, key))
    return figures


def first_vs_latest_chart(
    table: pd.DataFrame,
    labels: Mapping[str, str] | None = None,
    texts: Mapping[str, str] | None = None,
    height: int = 340,
) -> go.Figure:
    """Grouped bars per dimension: the first and the latest score, from
    :func:`simulator.analytics.first_vs_latest`."""
    names = [(labels or {}).get(key, key) for key in table["dimension"]]
    fig = go.Figure(
        [
            go.Bar(x=names, y=table["first"], name=_text(texts, "first"), marker_color=FIRST),
            go.Bar(x=names, y=table["latest"], name=_text(texts, "latest"), marker_color=LATEST),
        ]
    )
    fig.update_layout(barmode="group")
    fig.update_yaxes(title=_text(texts, "score"), range=[0, 105], tickvals=[0, 25, 50, 75, 100])
    return _layout(fig, height)


def mood_chart(trace: pd.DataFrame, texts: Mapping[str, str] | None = None, height: int = 280) -> go.Figure:
    """Anger and trust per step of a conversation (threat too when it was ever above 0), from
    :func:`simulator.analytics.mood_trace`. Step 0 is the customer's opening."""
    fig = go.Figure()
    series = [("anger", ANGER), ("trust", TRUST)]
    if not trace.empty and (trace["threat"] > 0).any():
        series.append(("threat", THREAT))
    for column, color in series:
        fig.add_trace(
            go.Scatter(
                x=trace["step"],
                y=trace[column],
                mode="lines+markers",
                name=_text(texts, column),
                line={"color": color},
                hovertemplate="%{y:.1f}<extra></extra>",
            )
        )
    fig.update_xaxes(title=_text(texts, "turn"), **_counting_axis(trace["step"]))
    fig.update_yaxes(title=_text(texts, "level"), range=[-0.5, 10.5], tickvals=[0, 2, 4, 6, 8, 10])
    return _layout(fig, height)


# =========================================================================== team dashboard
# Figures for views/dashboard.py, from the frames of simulator.analytics (team dashboard part).
# Points that lead somewhere carry it in ``customdata``: a trainee's user id (first element)
# and, on session-level charts, the session id (second element), so the page can drill down.

OUTCOME_COLORS = {
    "resolved": "#2ca02c",
    "referred": "#17becf",
    "walked_away": "#ff7f0e",
    "escalated": "#d62728",
    "turn_limit": "#7f7f7f",
    "abandoned": "#c7c7c7",
}
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
           "#17becf")
_SCORE_AXIS = {"range": [-5, 105], "tickvals": [0, 25, 50, 75, 100]}


def _t(texts: Mapping[str, str] | None, key: str, default: str) -> str:
    return (texts or {}).get(key, default)


def weekly_chart(weekly: pd.DataFrame, texts: Mapping[str, str] | None = None, ids: Mapping[str, int] | None = None,
                 height: int = 360) -> go.Figure:
    """One line per key (team or trainee) from :func:`simulator.analytics.weekly_progress`:
    weekly means as markers, the rolling mean as a line. ``ids`` maps a key to a user id
    (per-trainee chart) so a clicked point carries it in ``customdata``."""
    fig = go.Figure()
    for i, (key, part) in enumerate(weekly.groupby("key", sort=True)):
        color = PALETTE[i % len(PALETTE)]
        custom = [[(ids or {}).get(key, -1), str(key)]] * len(part)
        fig.add_trace(go.Scatter(
            x=part["week"], y=part["overall"], mode="markers", name=str(key), legendgroup=str(key),
            marker={"color": color, "size": 6, "opacity": 0.6}, customdata=custom,
            hovertemplate="%{customdata[1]} · %{x|%Y-%m-%d}: %{y:.0f}<extra></extra>",
        ))
        fig.add_trace(go.Scatter(
            x=part["week"], y=part["rolling"], mode="lines", name=str(key), legendgroup=str(key), showlegend=False,
            line={"color": color}, customdata=custom,
            hovertemplate="%{customdata[1]} · " + _t(texts, "rolling", "Rolling mean") + ": %{y:.1f}<extra></extra>",
        ))
    fig.update_xaxes(title=_t(texts, "week", "Week"))
    fig.update_yaxes(title=_t(texts, "score", "Score"), **_SCORE_AXIS)
    return _layout(fig, height).update_layout(hovermode="closest")


def dimension_weekly_chart(long: pd.DataFrame, labels: Mapping[str, str] | None = None,
                           texts: Mapping[str, str] | None = None, height: int = 360) -> go.Figure:
    """Mean score per week, one line per dimension, from :func:`analytics.weekly_dimensions`."""
    fig = go.Figure()
    for i, (key, part) in enumerate(long.groupby("dimension", sort=False)):
        fig.add_trace(go.Scatter(x=part["week"], y=part["score"], mode="lines", name=(labels or {}).get(key, key),
                                 line={"color": PALETTE[i % len(PALETTE)]}, hovertemplate="%{y:.0f}<extra></extra>"))
    fig.update_xaxes(title=_t(texts, "week", "Week"))
    fig.update_yaxes(title=_t(texts, "score", "Score"), **_SCORE_AXIS)
    return _layout(fig, height)


def heatmap(levels: pd.DataFrame, labels: Mapping[str, str] | None = None, ids: Mapping[str, int] | None = None,
            texts: Mapping[str, str] | None = None, height: int | None = None) -> go.Figure:
    """Trainees (rows) × dimensions (columns), colour = latest level, from
    :func:`analytics.latest_levels`. Red is weak, green strong; a cell's customdata is the
    trainee's user id."""
    names = [str(u) for u in levels.index]
    columns = [(labels or {}).get(k, k) for k in levels.columns]
    custom = [[(ids or {}).get(name, -1)] * len(columns) for name in names]
    fig = go.Figure(go.Heatmap(
        z=levels.to_numpy(dtype=float), x=columns, y=names, zmin=0, zmax=100, colorscale="Cividis",
        customdata=custom, hovertemplate="%{y} · %{x}: %{z:.0f}<extra></extra>",
        colorbar={"title": {"text": _t(texts, "score", "Score")}},
    ))
    fig.update_yaxes(autorange="reversed", type="category")
    return _layout(fig, height or max(260, 22 * len(names) + 80)).update_layout(hovermode="closest")


def scenario_box(frame: pd.DataFrame, order: list[str], titles: Mapping[str, str] | None = None,
                 texts: Mapping[str, str] | None = None, height: int = 380) -> go.Figure:
    """Distribution of the overall score per scenario (box plot, hardest first as ``order``)."""
    fig = go.Figure()
    for scenario in order:
        values = frame.loc[frame["scenario_id"] == scenario, "overall"]
        fig.add_trace(go.Box(y=values, name=(titles or {}).get(scenario, scenario), boxpoints=False,
                             marker_color=SCORE, showlegend=False))
    fig.update_yaxes(title=_t(texts, "score", "Score"), **_SCORE_AXIS)
    return _layout(fig, height)


def outcome_chart(mix: pd.DataFrame, outcome_labels: Mapping[str, str] | None = None,
                  texts: Mapping[str, str] | None = None, height: int = 380) -> go.Figure:
    """Stacked horizontal bars of outcome shares per key, from :func:`analytics.outcome_mix`
    with ``by``; a single bar when the frame has no ``key``."""
    mix = mix if "key" in mix.columns else mix.assign(key=_t(texts, "all", "All"))
    fig = go.Figure()
    for outcome, part in mix.groupby("outcome", sort=False):
        fig.add_trace(go.Bar(
            y=part["key"], x=part["share"], name=(outcome_labels or {}).get(outcome, outcome), orientation="h",
            marker_color=OUTCOME_COLORS.get(outcome, "#999999"), customdata=part["sessions"],
            hovertemplate="%{y}: %{x:.0f}% (%{customdata})<extra></extra>",
        ))
    fig.update_layout(barmode="stack")
    fig.update_xaxes(title=_t(texts, "share", "Share of sessions (%)"), range=[0, 100])
    fig.update_yaxes(type="category", autorange="reversed")
    return _layout(fig, height).update_layout(hovermode="closest")


def learning_curve_chart(curve: pd.DataFrame, texts: Mapping[str, str] | None = None, height: int = 360) -> go.Figure:
    """Mean overall score by attempt number with the 25th-75th percentile band, from
    :func:`analytics.learning_curve` (one line per ``key`` when present)."""
    fig = go.Figure()
    groups = curve.groupby("key", sort=True) if "key" in curve.columns else [(None, curve)]
    for i, (key, part) in enumerate(groups):
        color = PALETTE[i % len(PALETTE)]
        if key is None:
            fig.add_trace(go.Scatter(x=part["attempt"], y=part["p75"], mode="lines", line={"width": 0},
                                     showlegend=False, hoverinfo="skip"))
            fig.add_trace(go.Scatter(x=part["attempt"], y=part["p25"], mode="lines", line={"width": 0}, fill="tonexty",
                                     fillcolor="rgba(31,119,180,0.2)", name=_t(texts, "band", "25th-75th percentile"),
                                     hoverinfo="skip"))
        fig.add_trace(go.Scatter(
            x=part["attempt"], y=part["mean"], mode="lines+markers", name=str(key) if key is not None else
            _t(texts, "mean", "Mean"), line={"color": color if key is not None else SCORE},
            customdata=part["trainees"], hovertemplate="%{x}: %{y:.1f} (n=%{customdata})<extra></extra>",
        ))
    fig.update_xaxes(title=_t(texts, "attempt", "Attempt"))
    fig.update_yaxes(title=_t(texts, "score", "Score"), **_SCORE_AXIS)
    return _layout(fig, height)


def proficiency_chart(table: pd.DataFrame, texts: Mapping[str, str] | None = None, height: int = 320) -> go.Figure:
    """Histogram of the number of attempts trainees needed to first reach the pass mark, from
    :func:`analytics.time_to_proficiency` (trainees not there yet are left out)."""
    reached = table["attempts"].dropna().astype(int)
    fig = go.Figure(go.Histogram(x=reached, marker_color=SCORE, xbins={"size": 1},
                                 hovertemplate="%{x}: %{y}<extra></extra>"))
    fig.update_xaxes(title=_t(texts, "attempts", "Attempts to reach the pass mark"))
    fig.update_yaxes(title=_t(texts, "trainees", "Trainees"))
    return _layout(fig, height).update_layout(bargap=0.05, hovermode="closest")


def person_sessions_chart(frame: pd.DataFrame, pass_mark: float | None = None,
                          texts: Mapping[str, str] | None = None, height: int = 340) -> go.Figure:
    """One trainee's sessions over time (colour = outcome); a point's customdata is
    ``[user_id, session_id, scenario_id]`` so clicking it opens the session's review."""
    fig = go.Figure()
    for outcome, part in frame.groupby(frame["outcome"].fillna("abandoned"), sort=False):
        fig.add_trace(go.Scatter(
            x=part["when"], y=part["overall"], mode="markers", name=(texts or {}).get(f"outcome_{outcome}", outcome),
            marker={"color": OUTCOME_COLORS.get(outcome, "#999999"), "size": 10},
            customdata=list(zip(part["user_id"], part["session_id"], part["scenario_id"], strict=True)),
            hovertemplate="%{customdata[2]} · %{x|%Y-%m-%d}: %{y:.0f}<extra></extra>",
        ))
    if pass_mark is not None:
        fig.add_hline(y=pass_mark, line_dash="dot", line_color="#7f7f7f")
    fig.update_yaxes(title=_t(texts, "score", "Score"), **_SCORE_AXIS)
    return _layout(fig, height).update_layout(hovermode="closest")
