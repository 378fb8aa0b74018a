"""AI model (admins only): which mode is active, a connection test, model use per session.

Shows the base URL (any password in it masked) and the model names, never the API key; the
connection test reports the model's answer time or the exact error (key redacted).
"""

from __future__ import annotations

import streamlit as st

from simulator.analysis import engine as analyser_engine
from simulator.understanding.heads import HEADS_FILE, REBUILD_COMMAND
from simulator.config import ConfigError
from simulator.llm import base_url_display, load_llm_options, test_connection
from ui.context import repository, require_role, settings, t

me = require_role("admin")  # before anything else is rendered
cfg = settings()
repo = repository()
RECENT = 50

st.title(t("model_title"))
st.caption(t("model_intro"))

if cfg.offline:
    st.info(t("model_mode_offline"), icon=":material/cloud_off:")
else:
    st.success(t("model_mode_llm"), icon=":material/cloud_done:")

# --------------------------------------------------------------------------- configuration
try:
    options = load_llm_options()
    options_error = None
except ConfigError as error:
    options, options_error = None, str(error)


def _source(field: str) -> str:
    return t(f"model_source_{cfg.sources.get(field, 'default')}")


def _value(value: str | None) -> str:
    return value if value else t("model_value_unset")


judge_value = cfg.judge_model or (
    t("model_value_same_as_customer", model=cfg.customer_model) if cfg.customer_model else None
)
rows = [
    (t("model_row_mode"), t("model_value_offline") if cfg.offline else t("model_value_llm"), ""),
    (t("model_row_base_url"), base_url_display(cfg) if not cfg.offline else _value(None), _source("openai_base_url")),
    (
        t("model_row_key"),
        t("model_value_key_set") if cfg.openai_api_key is not None else t("model_value_key_unset"),
        _source("openai_api_key"),
    ),
    (t("model_row_customer"), _value(cfg.customer_model), _source("customer_model")),
    (t("model_row_judge"), _value(judge_value), _source("judge_model")),
]
def judge_method_row() -> tuple[str, str, str] | None:
    """Which structured-output method the judge server accepted: the latest judged session's
    (the judge falls back json_schema -> json_mode -> plain by itself), else the configured one."""
    for record in repo.list_sessions()[:RECENT]:
        meta = ((record.state or {}).get("judge") or {}).get("meta") or {}
        if meta.get("method"):
            refused = ", ".join(meta.get("refused") or [])
            value = t(f"model_method_{meta['method']}") + (f" — {t('model_method_refused', methods=refused)}" if refused else "")
            return (t("model_row_judge_method"), value, t("model_source_last_session"))
    if options is not None and not cfg.offline:
        return (t("model_row_judge_method"), t(f"model_method_{options.judge_method}"), _source("judge_method"))
    return None


if (method_row := judge_method_row()) is not None:
    rows.append(method_row)
if options is not None:
    rows.append(
        (
            t("model_row_calls"),
            t("model_value_calls", timeout=options.timeout, retries=options.max_retries, cooldown=options.cooldown),
            "",
        )
    )
st.subheader(t("model_setup_header"))
st.dataframe(
    [{t("model_col_setting"): a, t("model_col_value"): b, t("model_col_source"): c} for a, b, c in rows],
    hide_index=True,
    width="stretch",
)
if options_error:
    st.error(options_error)

# --------------------------------------------------------------------------- turn analyser
st.subheader(t("model_analyser_header"))
analyser = analyser_engine()
if analyser.mode == "learned":
    st.caption(t("model_analyser_learned"))
else:
    st.warning(t(f"model_analyser_rules_{analyser.code}", file=HEADS_FILE.name, command=REBUILD_COMMAND),
               icon=":material/rule:")

# --------------------------------------------------------------------------- connection test
st.subheader(t("model_test_header"))
if cfg.offline:
    st.caption(t("model_test_offline"))
elif st.button(t("model_test_button"), key="model_test", icon=":material/network_check:", type="primary"):
    roles = ["customer"]
    if cfg.judge_model and cfg.judge_model != cfg.customer_model:
        roles.append("judge")
    for role in roles:
        with st.spinner(t("model_test_running")):
            result = test_connection(cfg, options, role=role)
        label = t(f"model_role_{role}")
        name = cfg.customer_model if role == "customer" else cfg.judge_model
        if result.ok:
            st.success(t("model_test_ok", role=label, model=name, ms=f"{result.latency_ms:.0f}"))
        else:
            st.error(t("model_test_failed", role=label, error=result.message))

# --------------------------------------------------------------------------- usage per session
st.subheader(t("model_usage_header"))
sessions = repo.list_sessions()[:RECENT]
usage = repo.usage_by_session([s.id for s in sessions])
used = [(s, usage[s.id]) for s in sessions if usage[s.id].calls]
if not used:
    st.caption(t("model_usage_none"))
else:
    st.caption(t("model_usage_intro", n=RECENT))
    calls = sum(u.calls for _, u in used)
    waited = sum(u.latency_ms for _, u in used)
    a, b, c, d = st.columns(4)
    a.metric(t("model_total_calls"), f"{calls:,}")
    b.metric(t("model_total_tokens_in"), f"{sum(u.tokens_in for _, u in used):,}")
    c.metric(t("model_total_tokens_out"), f"{sum(u.tokens_out for _, u in used):,}")
    d.metric(t("model_total_latency"), f"{waited / calls:,.0f} ms" if calls else "—")
    st.dataframe(
        [
            {
                t("model_col_started"): s.started_at.strftime("%Y-%m-%d %H:%M"),
                t("model_col_scenario"): f"{s.scenario_id} ({s.lang})",
                t("model_col_engine"): s.engine,
                t("model_col_calls"): u.calls,
                t("model_col_fallbacks"): u.fallbacks,
                t("model_col_tokens_in"): u.tokens_in,
                t("model_col_tokens_out"): u.tokens_out,
                t("model_col_latency"): round(u.latency_ms / 1000, 2),
                t("model_col_mean"): round(u.mean_latency_ms),
                t("model_col_judge"): u.judge_calls,
                t("model_col_session"): s.id,
            }
            for s, u in used
        ],
        hide_index=True,
        width="stretch",
    )
