"""plotly figures built from the frames in :mod:`simulator.analytics`.

No streamlit here: the pages pass the frames and the interface texts (already translated) and
show the figures. Every text a person sees comes in through ``texts``; the English defaults
only make the functions usable from a notebook or the command line.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go

ANGER = "#d62728"
TRUST = "#2ca02c"
THREAT = "#9467bd"
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


def _layout(fig: go.Figure, height: int, title: str | None = None) -> go.Figure:
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 40 if title else 10, "b": 10},
        title={"text": title} if title else None,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
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
    fig.update_xaxes(title=_text(texts, "attempt"), dtick=1)
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
        fig.update_xaxes(title=None, dtick=1)
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
    fig.update_xaxes(title=_text(texts, "turn"), dtick=1)
    fig.update_yaxes(title=_text(texts, "level"), range=[-0.5, 10.5], tickvals=[0, 2, 4, 6, 8, 10])
    return _layout(fig, height)
