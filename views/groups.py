"""Groups (/groups), admins only: teams and cohorts with a start date, their members, and the
audit log (who opened whose transcript, when). Data access: simulator.store.teams.TeamStore."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from simulator.store.models import GROUP_KINDS, NAME_MAX
from simulator.store.repository import ConflictError
from simulator.store.teams import TeamStore
from ui.context import escape_md, repository, require_role, t

user = require_role("admin")
repo = repository()
store = TeamStore(repo)

st.title(t("groups_title"))
flash = st.session_state.pop("groups_flash", None)
if flash:
    st.success(flash)

# ----------------------------------------------------------------------------- create
with st.form("groups_new", clear_on_submit=True):
    st.subheader(t("groups_new"))
    a, b, c = st.columns([3, 1, 2])
    name = a.text_input(t("groups_name"), max_chars=NAME_MAX, key="groups_new_name")
    kind = b.selectbox(t("groups_kind"), GROUP_KINDS, format_func={k: t(f"groups_kind_{k}") for k in GROUP_KINDS}.__getitem__, key="groups_new_kind")
    start = c.date_input(t("groups_start"), value=None, key="groups_new_start")
    if st.form_submit_button(t("groups_create"), type="primary"):
        try:
            group = store.create_group(name.strip(), kind, start)
        except ConflictError:
            st.error(t("groups_err_taken"))
        except ValueError:
            st.error(t("groups_err_name", max=NAME_MAX))
        else:
            store.record(user.id, "group_create", f"group:{group.id}", {"name": group.name})
            st.session_state["groups_flash"] = t("groups_created", name=escape_md(group.name))
            st.rerun()

# ----------------------------------------------------------------------------- list and edit
groups = store.list_groups()
st.subheader(t("groups_list"))
if not groups:
    st.info(t("groups_none"))
else:
    st.dataframe(pd.DataFrame({
        t("groups_name"): [g.name for g in groups],
        t("groups_kind"): [t(f"groups_kind_{g.kind}") for g in groups],
        t("groups_start"): [g.start_date for g in groups],
        t("groups_members"): [g.members for g in groups],
    }), hide_index=True, width="stretch")
    by_id = {g.id: g for g in groups}
    gid = st.selectbox(t("groups_pick"), list(by_id), format_func=lambda i: by_id[i].name, key="groups_pick")
    group = by_id[gid]
    users = [u for u in repo.list_users() if u.active]
    names = {u.id: f"{u.name} ({t(f'role_{u.role}')})" for u in users}
    current = [u for u in store.members(gid) if u in names]
    with st.form(f"groups_edit_{gid}"):
        a, b = st.columns([1, 2])
        new_start = a.date_input(t("groups_start"), value=group.start_date, key=f"groups_start_{gid}")
        chosen = b.multiselect(t("groups_members"), list(names), default=current, format_func=names.__getitem__,
                               key=f"groups_members_{gid}")
        if st.form_submit_button(t("groups_save"), type="primary"):
            if new_start is not None:
                store.update_group(gid, start_date=new_start)
            store.set_members(gid, chosen)
            store.record(user.id, "group_members", f"group:{gid}", {"members": len(chosen)})
            st.session_state["groups_flash"] = t("groups_saved", name=escape_md(group.name), n=len(chosen))
            st.rerun()
    with st.expander(t("groups_delete_heading")):
        confirm = st.checkbox(t("groups_delete_confirm", name=group.name), key=f"groups_del_ok_{gid}")
        if st.button(t("groups_delete"), disabled=not confirm, key=f"groups_del_{gid}"):
            store.delete_group(gid)
            store.record(user.id, "group_delete", f"group:{gid}", {"name": group.name})
            st.session_state["groups_flash"] = t("groups_deleted", name=escape_md(group.name))
            st.rerun()

# ----------------------------------------------------------------------------- audit log
st.subheader(t("groups_audit"))
st.caption(t("groups_audit_help"))
only_views = st.toggle(t("groups_audit_only_views"), value=False, key="groups_audit_views")
events = store.audit_log(limit=500, action="view_transcript" if only_views else None)
if not events:
    st.info(t("groups_audit_none"))
else:
    st.dataframe(pd.DataFrame({
        t("groups_audit_when"): [e.at.strftime("%Y-%m-%d %H:%M:%S") for e in events],
        t("groups_audit_who"): [e.actor or "?" for e in events],
        t("groups_audit_action"): [t(f"groups_action_{e.action}") if e.action in (
            "view_transcript", "group_create", "group_members", "group_delete") else e.action for e in events],
        t("groups_audit_target"): [e.target or "" for e in events],
        t("groups_audit_trainee"): [(e.detail or {}).get("trainee", "") for e in events],
    }), hide_index=True, width="stretch")
