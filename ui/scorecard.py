"""What the practice and review pages show above a scorecard's dimensions: the cap on the
overall and its reason, the top three things to fix (each with the turn it came from and a
better phrasing that fits), and the scenario's learning points. UI only; the scorecard comes
from ``simulator.scoring``."""

from __future__ import annotations

import streamlit as st

from simulator.scenario import Scenario
from ui.context import escape_md, t


def cap_notice(card) -> None:
    """The cap that bounds the overall, with its reason (and the score it would have had)."""
    cap = getattr(card, "cap", None)
    if cap is None:
        return
    uncapped = getattr(card, "uncapped", None)
    if uncapped is not None and uncapped > cap.value:
        st.warning(t("score_cap_applied", value=f"{cap.value:.0f}", reason=escape_md(cap.reason), uncapped=f"{uncapped:.0f}"),
                   icon=":material/vertical_align_top:")
    else:
        st.caption(t("score_cap_noted", value=f"{cap.value:.0f}", reason=escape_md(cap.reason)))


def fixes(card, numbers: dict[int, int]) -> None:
    """The top things to fix, each with the turn it came from."""
    items = getattr(card, "fixes", None) or []
    if not items:
        return
    st.markdown(f"**{t('score_fixes_heading')}**")
    for n, fix in enumerate(items, 1):
        where = t("practice_turn_n", n=numbers.get(fix.turn, fix.turn)) if fix.turn is not None else ""
        st.markdown(f"{n}. **{escape_md(fix.label)}**" + (f" · {where}" if where else "") + f" — {escape_md(fix.feedback)}")
        if fix.quote:
            st.caption(f'"{escape_md(fix.quote)}"')
        if fix.better:
            st.success(t("practice_better", text=escape_md(fix.better)))


def learning_points(card) -> None:
    points = getattr(card, "learning_points", None) or []
    if points:
        with st.expander(t("score_learning_points"), expanded=False):
            st.markdown("\n".join(f"- {escape_md(p)}" for p in points))


def not_shown(dim) -> None:
    """Say plainly that a dimension scored low because the behaviour never appeared."""
    if getattr(dim, "status", "shown") == "not_shown":
        st.caption(t("score_not_shown"))


def turn_flags(
    text: str, analysis: dict | None = None, lang: str | None = None, scenario: Scenario | None = None
) -> None:
    """A warning on a trainee turn that addressed the simulator, was no reply at all, or was a
    string of keywords (``analysis``: the stored analysis, for its tags; ``lang``: the session's;
    ``scenario``: the session's, whose words a reply shares)."""
    from simulator.turn_flags import flags

    tags = (analysis or {}).get("tags") if isinstance(analysis, dict) else None
    found = flags(text, tags if tags is not None else None, lang, scenario)
    if isinstance(analysis, dict) and analysis.get("stuffing") and "stuffing" not in found:
        found.append("stuffing")
    if any(f.startswith("injection:") for f in found):
        cues = ", ".join(f.split(":", 1)[1] for f in found if f.startswith("injection:"))
        st.warning(t("score_flag_injection", cues=cues), icon=":material/gpp_bad:")
    if "nonsense" in found:
        st.warning(t("score_flag_nonsense"), icon=":material/help:")
    if "stuffing" in found:
        st.warning(t("score_flag_stuffing"), icon=":material/format_list_bulleted:")
