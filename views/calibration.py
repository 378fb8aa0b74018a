"""Calibration (/calibration) for trainers, HR and admins (issue 15).

Every grader sees the sets assigned to them with links to grade each session (blind until they
submit, on the review page). Trainers and admins also build a set: sessions picked by scenario,
language, automatic score range and a random sample, assigned to several graders. Trainees are
refused. Rules and storage live in simulator.grading and simulator.store.calibration.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from simulator.calibration import pick_sessions
from simulator.grading import SET_BUILDERS, STAFF, NotAllowed
from simulator.store.repository import ConflictError
from ui import grading as grading_ui
from ui.context import escape_md, repository, require_role, service, t, ui_lang

HERE = Path(__file__).resolve().parent
user = require_role("trainer", "hr", "admin")
repo = repository()
grading = grading_ui.grading()
store = grading.store
lang = ui_lang()
titles: dict[str, str] = {}
for scenario in service().library.all():
    if scenario.lang == lang or scenario.id not in titles:
        titles[scenario.id] = scenario.title

st.title(t("calib_title"))
st.caption(t("calib_intro"))
flash = st.session_state.pop("calib_flash", None)
if flash:
    st.success(flash)

sets = store.list_sets()
users = {u.id: u for u in repo.list_users()}

# ----------------------------------------------------------------------------- my sets
st.subheader(t("calib_mine"))
mine = [s for s in sets if user.id in s.grader_ids]
if not mine:
    st.caption(t("calib_mine_none"))
graded = {g.session_id for g in store.grades(grader_id=user.id)} if mine else set()
for record in mine:
    done = sum(1 for sid in record.session_ids if sid in graded)
    with st.expander(escape_md(t("calib_set_line", name=record.name, done=done, total=len(record.session_ids))),
                     expanded=done < len(record.session_ids)):
        facts = store.session_facts(list(record.session_ids)).set_index("session_id")
        for n, sid in enumerate(record.session_ids, 1):
            scenario_id = facts.at[sid, "scenario_id"]
            status = t("calib_status_done") if sid in graded else t("calib_status_todo")
            st.page_link(HERE / "review.py", query_params={"session": sid},
                         label=t("calib_session_link", n=n, title=titles.get(scenario_id, scenario_id),
                                 language=facts.at[sid, "lang"], status=status),
                         icon=":material/task_alt:" if sid in graded else ":material/rate_review:")

# ----------------------------------------------------------------------------- build a set
if user.role in SET_BUILDERS:
    st.subheader(t("calib_new"))
    candidates = store.candidate_sessions()
    with st.container(border=True):
        name = st.text_input(t("calib_name"), max_chars=64, key="calib_name")
        a, b = st.columns(2)
        scenarios = a.multiselect(t("calib_filter_scenario"), sorted(candidates["scenario_id"].unique()),
                                  format_func=lambda s: titles.get(s, s), key="calib_scenarios")
        langs = b.multiselect(t("calib_filter_lang"), ["id", "en"], format_func={x: t(f"practice_lang_{x}") for x in ("id", "en")}.__getitem__,
                              key="calib_langs")
        low, high = a.slider(t("calib_filter_score"), 0, 100, (0, 100), step=5, key="calib_range")
        sample = b.number_input(t("calib_filter_sample"), min_value=1, max_value=200, value=10, step=1,
                                key="calib_sample")
        matching = pick_sessions(candidates, scenarios=scenarios, langs=langs, low=low, high=high)
        st.caption(t("calib_matching", n=len(matching), k=min(len(matching), int(sample))))
        staff = [u for u in users.values() if u.role in STAFF and u.active]
        graders = st.multiselect(t("calib_graders"), [u.id for u in staff], format_func=lambda i: users[i].name,
                                 key="calib_graders")
        if st.button(t("calib_create"), type="primary", key="calib_create"):
            chosen = pick_sessions(candidates, scenarios=scenarios, langs=langs, low=low, high=high,
                                   sample=int(sample))
            if not name.strip() or not chosen or not graders:
                st.error(t("calib_need"))
            else:
                filters = {"scenarios": scenarios, "langs": langs, "score": [low, high], "sample": int(sample)}
                try:
                    record = grading.create_set(user, name.strip(), chosen, graders, filters)
                except ConflictError:
                    st.error(t("calib_name_taken"))
                except (ValueError, NotAllowed) as exc:
                    st.error(t("grade_refused", detail=escape_md(str(exc))))
                else:
                    st.session_state["calib_flash"] = t("calib_created", name=escape_md(record.name),
                                                        n=len(record.session_ids))
                    st.rerun()

# ----------------------------------------------------------------------------- all sets
if user.role in SET_BUILDERS:
    st.subheader(t("calib_sets"))
    if not sets:
        st.caption(t("calib_sets_none"))
    else:
        rows = []
        for record in sets:
            progress = grading.set_progress(record)
            rows.append({
                t("calib_col_name"): record.name,
                t("calib_col_sessions"): len(record.session_ids),
                t("calib_col_progress"): ", ".join(f"{users[g].name if g in users else g}: {n}"
                                                   for g, n in progress.items()),
                t("calib_col_demo"): "✓" if record.demo else "",
            })
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="calib_sets_table")
