"""What every page needs: the repository and service, the signed-in user, the role check, t().

Role checks run on the server for every page: a page calls ``require_role`` first, and a user
without the role sees "not allowed" and nothing else, however they reached the URL.
"""

from __future__ import annotations

import streamlit as st

from simulator.config import Settings, load_settings
from simulator.scenario import ScenarioLibrary
from simulator.session import SessionService
from simulator.store.db import open_repository
from simulator.store.repository import Repository, UserRecord
from ui.i18n import translate

USER_KEY = "user_id"


def settings() -> Settings:
    return load_settings()


@st.cache_resource(show_spinner=False)
def _repository(url: str) -> Repository:
    return open_repository(url)


def repository() -> Repository:
    return _repository(settings().database_url)


@st.cache_resource(show_spinner=False)
def library() -> ScenarioLibrary:
    return ScenarioLibrary()


def service() -> SessionService:
    return SessionService(repository(), library())


def current_user() -> UserRecord | None:
    """The signed-in, active user of this browser session, re-read from the database."""
    user_id = st.session_state.get(USER_KEY)
    if user_id is None:
        return None
    user = repository().get_user(user_id)
    if user is None or not user.active:
        st.session_state.pop(USER_KEY, None)
        return None
    return user


def ui_lang() -> str:
    user = current_user()
    return user.ui_lang if user else st.session_state.get("ui_lang", "en")


def t(key: str, **values: object) -> str:
    return translate(key, ui_lang(), **values)


def require_role(*roles: str) -> UserRecord:
    """The signed-in user if their role is one of ``roles``; otherwise "not allowed" and stop."""
    user = current_user()
    if user is None or user.role not in roles:
        st.error(t("not_allowed"))
        st.stop()
    return user
