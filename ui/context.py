"""What every page needs: the repository and service, the signed-in user, the role check, t().

Role checks run on the server for every page: a page calls ``require_role`` first, and a user
without the role sees "not allowed" and nothing else, however they reached the URL.
"""

from __future__ import annotations

import logging
import re
import threading
from datetime import UTC, datetime
from typing import Any
from weakref import WeakKeyDictionary

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from simulator.auth import PASSWORD_MAX, PASSWORD_MIN
from simulator.config import Settings, load_settings
from simulator.llm import llm_problem
from simulator.rubric import Rubric, load_rubric
from simulator.scenario import LANGUAGES, Scenario, ScenarioLibrary, UnknownScenario, load_line_bank
from simulator.session import InputError, SessionService, warm_up as warm_up_session
from simulator.signins import COOKIE_NAME, SignIns
from simulator.studio import StudioLibrary
from simulator.store.authoring import AuthoringStore
from simulator.store.db import open_repository
from simulator.store.models import NAME_MAX
from simulator.store.repository import ConflictError, Repository, SessionRecord, UserRecord
from ui.cookie_routes import SESSION_PATH, SIGN_OUT_PATH, build_signins, url as route_url
from ui import html as raw_html
from ui.i18n import UI_LANGS, translate

USER_KEY = "user_id"
#: The ``sign_ins`` row of this browser session, and its hand-off code until the cookie is set.
SIGNIN_KEY = "sign_in_id"
HANDOFF_KEY = "sign_in_handoff"
#: Set on sign-out: the sign-in screen then asks the browser to delete the cookie.
CLEAR_COOKIE_KEY = "sign_in_clear_cookie"

# What one script run looked up once and reuses (the signed-in user, the settings): a page calls
# t(), ui_lang() and repository() dozens of times per rerun, and each used to re-read the user
# from the database and secrets.toml from disk. Keyed by an object Streamlit creates afresh for
# every run (the run context's fragment coordinator), so nothing outlives the run it was read in.
_RUN_MEMO: WeakKeyDictionary[Any, dict[str, Any]] = WeakKeyDictionary()
_RUN_MEMO_LOCK = threading.Lock()


def run_memo() -> dict[str, Any]:
    """A dict private to the current script run (an empty throwaway one outside a run)."""
    ctx = get_script_run_ctx(suppress_warning=True)
    marker = getattr(ctx, "parallel_coordinator", None) if ctx is not None else None
    if marker is None:
        return {}
    with _RUN_MEMO_LOCK:
        try:
            return _RUN_MEMO.setdefault(marker, {})
        except TypeError:  # not weak-referenceable: no memo
            return {}


def settings() -> Settings:
    memo = run_memo()
    if "settings" not in memo:
        memo["settings"] = load_settings()
    return memo["settings"]


@st.cache_resource(show_spinner=False)
def _repository(url: str) -> Repository:
    return open_repository(url)


def repository() -> Repository:
    return _repository(settings().database_url)


@st.cache_resource(show_spinner=False)
def rubric() -> Rubric:
    """The default rubric, parsed once per process."""
    return load_rubric()


@st.cache_resource(show_spinner=False)
def line_banks() -> dict:
    """The shared customer line banks of every language, parsed once per process."""
    return {lang: load_line_bank(lang) for lang in LANGUAGES}


@st.cache_resource(show_spinner=False)
def _builtin_library() -> ScenarioLibrary:
    """The built-in scenarios, parsed once per process (with the line banks they draw on)."""
    line_banks()
    return ScenarioLibrary()


@st.cache_resource(show_spinner=False)
def _library(url: str) -> StudioLibrary:
    return StudioLibrary(_builtin_library(), AuthoringStore(_repository(url)))


def library() -> StudioLibrary:
    """The built-in scenarios plus the published ones authored in the studio."""
    return _library(settings().database_url)


def authoring() -> AuthoringStore:
    return library().store


@st.cache_resource(show_spinner=False)
def _service(url: str, engine: str, judge: str | None) -> SessionService:
    return SessionService(_repository(url), _library(url), rubric=rubric(), engine=engine, judge=judge)


def service() -> SessionService:
    """The session service: the LLM customer and judge where a model is configured, else offline."""
    current = settings()
    engine = "llm" if llm_problem(current, "customer") is None else "scripted"
    judge = "llm" if llm_problem(current, "judge") is None else None
    return _service(current.database_url, engine, judge)


_warmed = threading.Event()
_warm_up_thread: threading.Thread | None = None


def start_warm_up() -> None:
    """At server start (app.py), in the background: one throwaway turn per language
    (``simulator.session.warm_up``: the encoder, the lexicons, the line banks), then the pages'
    own caches (:func:`warm_up`). Best effort: a failure only means the first turn or page loads
    what it needs itself."""
    global _warm_up_thread

    def run() -> None:
        try:
            warm_up_session()
            warm_up()
        except Exception:  # noqa: BLE001
            logging.getLogger("tenang").warning("warm-up failed; the first turn and page load what they need", exc_info=True)
        finally:
            _warmed.set()

    _warm_up_thread = threading.Thread(target=run, name="tenang-warm-up", daemon=True)
    _warm_up_thread.start()


def wait_for_warm_up(timeout: float = 30.0) -> None:
    """Hold a script run until the warm-up is done (at most ``timeout`` seconds; at once when none
    was started). Two threads importing the same package at once can see it half initialised
    (pandas: "partially initialized module"), so no page runs beside the warm-up's imports."""
    if _warm_up_thread is not None:
        _warmed.wait(timeout)


def warm_up() -> None:
    """What the first page run after a start would otherwise parse and import (the interface
    strings, the rubric, the scenarios and their line banks, the dashboards' pandas code); these
    caches are the process's, not a session's."""
    import simulator.analytics  # noqa: F401  pandas, for the dashboards and My progress
    import simulator.store.teams  # noqa: F401
    from ui import formatting

    translate("nav_home", "en")  # parses every interface string
    for lang in UI_LANGS:
        formatting.percent(0.5, lang)  # babel's locale data
        formatting.day(datetime.now(UTC), lang)
    rubric()
    _builtin_library()


@st.cache_resource(show_spinner=False)
def _signins(url: str) -> SignIns:
    return build_signins(_repository(url))


def signins() -> SignIns:
    return _signins(settings().database_url)


def browser_cookie() -> str | None:
    """The sign-in cookie the browser sent with this session's websocket (None: none)."""
    try:
        return st.context.cookies.get(COOKIE_NAME)
    except Exception:  # no browser (bare mode, AppTest)
        return None


def restore_sign_in() -> None:
    """Once per run, before anything reads the user: sign in from the cookie of a fresh browser
    session (reload, link, new tab), or sign out a session whose sign-in was revoked or expired."""
    sign_in_id = st.session_state.get(SIGNIN_KEY)
    if sign_in_id is not None:
        if not signins().still_valid(sign_in_id):
            for key in (USER_KEY, SIGNIN_KEY, HANDOFF_KEY):
                st.session_state.pop(key, None)
        return
    if st.session_state.get(USER_KEY) is not None or st.session_state.get(CLEAR_COOKIE_KEY):
        return
    found = signins().resolve(browser_cookie())
    if found is not None:
        st.session_state[USER_KEY] = found.user_id
        st.session_state[SIGNIN_KEY] = found.sign_in_id


def start_sign_in(user_id: int) -> None:
    """After the password was checked: remember the user and prepare the cookie hand-off."""
    pending = signins().start(user_id)
    st.session_state[USER_KEY] = user_id
    st.session_state[SIGNIN_KEY] = pending.sign_in_id
    st.session_state[HANDOFF_KEY] = pending.code
    st.session_state.pop(CLEAR_COOKIE_KEY, None)


def cookie_messenger() -> None:
    """Have the browser fetch the HttpOnly cookie for a fresh sign-in, or delete it after a
    sign-out. The code is a signed, single-use, two-minute value (never the cookie itself)."""
    code = st.session_state.get(HANDOFF_KEY)
    if code is not None:
        if signins().redeemed(st.session_state[SIGNIN_KEY]):
            st.session_state.pop(HANDOFF_KEY, None)
        else:
            raw_html.post_to(route_url(SESSION_PATH), {"code": code})
    elif st.session_state.pop(CLEAR_COOKIE_KEY, False):
        raw_html.post_to(route_url(SIGN_OUT_PATH), {})


def current_user() -> UserRecord | None:
    """The signed-in, active user of this browser session, re-read from the database."""
    user_id = st.session_state.get(USER_KEY)
    if user_id is None:
        return None
    memo = run_memo()  # read once per script run, not once per t() call
    if memo.get("user_id") == user_id:
        return memo["user"]
    user = repository().get_user(user_id)
    if user is None or not user.active:
        st.session_state.pop(USER_KEY, None)
        memo.pop("user_id", None)
        return None
    memo["user_id"], memo["user"] = user_id, user
    return user


def ui_lang() -> str:
    user = current_user()
    return user.ui_lang if user else st.session_state.get("ui_lang", "en")


def t(key: str, /, **values: object) -> str:
    return translate(key, ui_lang(), **values)


def input_error(error: InputError) -> str:
    """A refused turn or request, said in the interface language (the English text if unknown)."""
    key = f"input_error_{error.code}"
    try:
        return t(key, **error.params)
    except KeyError:
        return str(error)


def scenario_or_stop(record: SessionRecord) -> Scenario:
    """The scenario a session plays; if it no longer exists, say so and stop the page."""
    try:
        return service().scenario_for(record)
    except UnknownScenario:
        st.error(t("practice_scenario_gone", id=record.scenario_id))
        st.stop()


def require_role(*roles: str) -> UserRecord:
    """The signed-in user if their role is one of ``roles``; otherwise "not allowed" and stop."""
    user = current_user()
    if user is None or user.role not in roles:
        st.error(t("not_allowed"))
        st.stop()
    return user


# --------------------------------------------------------------------------- shell helpers

#: How each interface language names itself (the language switch shows these).
LANG_LABELS = {"en": "English", "id": "Bahasa Indonesia"}
#: Session-state key of the interface language before anyone is signed in (see ``ui_lang``).
LANG_KEY = "ui_lang"


def escape_md(text: str) -> str:
    """``text`` with Markdown punctuation escaped, for user- or scenario-authored text inside
    Markdown: no HTML, no links or images, no emphasis, no ``:material/...:`` icons or ``:red[...]``
    colours (``:`` is escaped too, which also stops ``http://`` auto-links) and no ``&`` entities."""
    text = _unlink(str(text))
    return "".join("\\" + ch if ch in "\\`*_{}[]()#+-.!|<>~$:&=^" else ch for ch in text)


#: An invisible word joiner, put where GitHub-flavoured Markdown would otherwise turn plain text
#: into a link. Backslash escapes do not stop that: the link finder runs on the decoded text.
WORD_JOINER = "\u2060"
_AUTOLINK = re.compile(r"(?i)(?<=:/)(?=/)|(?<=www)(?=\.)|(?<=@)")


def _unlink(text: str) -> str:
    """``text`` with "https://", "www." and "name@host" broken invisibly, so they stay plain text."""
    return _AUTOLINK.sub(WORD_JOINER, text)


def role_label(role: str) -> str:
    """A role's name in the interface language (``role_trainee``, ... in common.yaml)."""
    return t(f"role_{role}")


def user_error(error: ValueError) -> str:
    """A readable, translated message for a ``ValueError`` from ``simulator.auth.create_user``.

    The core's messages start with the field at fault ("name: ...", "password: ..."); the
    password itself never appears in them. Unknown messages are shown as they are.
    """
    text = str(error)
    field = text.partition(":")[0].strip()
    if isinstance(error, ConflictError) and field in ("name", "email"):
        return t(f"user_err_{field}_taken")
    if field == "name":
        return t("user_err_name", max=NAME_MAX)
    if field == "password":
        return t("user_err_password", min=PASSWORD_MIN, max=PASSWORD_MAX)
    if field == "email":
        return t("user_err_email")
    return text


def sign_out() -> None:
    """Forget everything this browser session holds and show the sign-in screen again.

    A user who came in through OIDC (``st.login``) is also logged out of the identity cookie,
    otherwise the shell would sign them straight back in.
    """
    lang = ui_lang()
    sign_in_id = st.session_state.get(SIGNIN_KEY)
    if sign_in_id is not None:
        signins().revoke(sign_in_id)  # the cookie is worthless from now on, in every tab
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    st.session_state[LANG_KEY] = lang  # the sign-in screen keeps speaking the user's language
    st.session_state[CLEAR_COOKIE_KEY] = True  # ...and has the browser delete the cookie
    if st.user.get("is_logged_in"):
        st.logout()  # redirects and starts a new session
    else:
        st.rerun()
