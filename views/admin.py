"""Admin: list users, add a user, disable or enable an account. Admins only (checked first)."""

from __future__ import annotations

import streamlit as st

from simulator import auth
from simulator.store.models import NAME_MAX, ROLES
from ui.i18n import UI_LANGS
from ui.context import LANG_LABELS, escape_md, repository, require_role, role_label, t, user_error

me = require_role("admin")  # before anything else is rendered
repo = repository()

FLASH_KEY = "admin_flash"


def _flash(message: str) -> None:
    """Show ``message`` after the rerun that refreshes the list."""
    st.session_state[FLASH_KEY] = message
    st.rerun()


st.title(t("admin_title"))
st.caption(t("admin_intro"))
flash = st.session_state.pop(FLASH_KEY, None)
if flash:
    st.success(flash)

users = repo.list_users()

# --------------------------------------------------------------------------- the list
st.subheader(t("admin_list_header"))
st.dataframe(
    [
        {
            t("admin_col_name"): u.name,
            t("admin_col_role"): role_label(u.role),
            t("admin_col_active"): u.active,
            t("admin_col_lang"): LANG_LABELS.get(u.ui_lang, u.ui_lang),
            t("admin_col_email"): u.email or "",
            t("admin_col_created"): u.created_at.strftime("%Y-%m-%d"),
        }
        for u in users
    ],
    hide_index=True,
    width="stretch",
)

# --------------------------------------------------------------------------- add a user
st.subheader(t("admin_create_header"))
NEW_USER_KEYS = ("admin_new_name", "admin_new_role", "admin_new_lang", "admin_new_email",
                 "admin_new_password", "admin_new_password2")


def _browser_lang() -> str:
    """The language this browser asks for (id or en), else the admin's own interface language."""
    locale = (st.context.locale or "").lower()
    if locale.startswith(("id", "in")):
        return "id"
    return "en" if locale.startswith("en") else me.ui_lang


# Labels are worked out here, not inside format_func: it may be called outside the page run.
lang_names = {code: LANG_LABELS[code] for code in UI_LANGS}
role_names = {role: role_label(role) for role in ROLES}
# An error keeps what was typed (no clear_on_submit); a success clears the fields (below).
with st.form("admin_create"):
    name = st.text_input(t("field_name"), max_chars=NAME_MAX, key="admin_new_name")
    role = st.selectbox(t("admin_field_role"), ROLES, format_func=role_names.__getitem__, key="admin_new_role")
    new_lang = st.selectbox(
        t("admin_field_lang"),
        list(lang_names),
        index=list(lang_names).index(_browser_lang()),
        format_func=lang_names.__getitem__,
        key="admin_new_lang",
        help=t("admin_field_lang_help"),
    )
    email = st.text_input(t("field_email"), key="admin_new_email")
    password = st.text_input(
        t("field_password"), type="password", max_chars=auth.PASSWORD_MAX, key="admin_new_password"
    )
    again = st.text_input(
        t("field_password_repeat"), type="password", max_chars=auth.PASSWORD_MAX, key="admin_new_password2"
    )
    st.caption(t("password_hint", min=auth.PASSWORD_MIN))
    create = st.form_submit_button(t("admin_create_button"), type="primary")

if create:
    if password != again:
        st.error(t("passwords_differ"))
    else:
        try:
            new = auth.create_user(repo, name.strip(), role, password, email=email.strip() or None, ui_lang=new_lang)
        except ValueError as error:
            st.error(user_error(error))
        else:
            for key in NEW_USER_KEYS:
                st.session_state.pop(key, None)
            _flash(t("admin_created", name=escape_md(new.name), role=role_label(new.role)))

# --------------------------------------------------------------------------- disable / enable
st.subheader(t("admin_access_header"))
by_id = {u.id: u for u in users}


def _label(user_id: int) -> str:
    u = by_id[user_id]
    status = t("admin_status_active") if u.active else t("admin_status_disabled")
    return f"{u.name} · {role_label(u.role)} · {status}"


user_labels = {user_id: _label(user_id) for user_id in by_id}  # now, not when format_func runs later
picked_id = st.selectbox(t("admin_pick_user"), list(by_id), format_func=user_labels.__getitem__, key="admin_pick")
if picked_id is not None:
    picked = by_id[picked_id]
    is_me = picked.id == me.id
    if is_me:
        st.caption(t("admin_cannot_disable_self"))
    label = t("admin_disable_button") if picked.active else t("admin_enable_button")
    if st.button(label, key="admin_toggle", disabled=is_me and picked.active):
        current = repo.get_user(picked.id)
        if current is None:
            _flash(t("admin_user_gone"))
        elif current.id == me.id and current.active:  # checked here too, not only in the button
            st.error(t("admin_cannot_disable_self"))
        else:
            repo.set_user_active(current.id, not current.active)
            done = "admin_enabled_done" if not current.active else "admin_disabled_done"
            _flash(t(done, name=escape_md(current.name)))
