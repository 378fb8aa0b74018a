"""Tenang's entry point: page config, first-admin set-up, sign-in, navigation by role, sidebar.

Thin on purpose: the pages live in ``views/``, the logic in ``simulator/``, the shared UI helpers
in ``ui/context.py``. Every page still checks the role itself (``require_role``): the menu here is
a convenience, not the access control. Pages a role may not use are registered *hidden*, so
typing their URL reaches the page and its role check says "not allowed" (instead of silently
showing another page).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError
from streamlit.errors import StreamlitAuthError

from simulator import auth
from simulator.config import ConfigError
from simulator.store.models import NAME_MAX
from ui import context
from ui import html as raw_html
from ui.context import LANG_KEY, LANG_LABELS, USER_KEY, t
from ui.i18n import UI_LANGS, translate

HERE = Path(__file__).resolve().parent

#: file, URL path, title key, icon, roles that see it in the menu.
PAGES = (
    ("views/practice.py", "practice", "nav_practice", ":material/forum:", ("trainee", "trainer", "admin")),
    ("views/progress.py", "progress", "nav_progress", ":material/monitoring:",
     ("trainee", "trainer", "admin")),
    ("views/review.py", "review", "nav_review", ":material/history:", ("trainee", "trainer", "hr", "admin")),
    ("views/studio.py", "studio", "nav_studio", ":material/edit_note:", ("trainer", "admin")),
    ("views/admin.py", "admin", "nav_admin", ":material/group:", ("admin",)),
    ("views/model.py", "model", "nav_model", ":material/smart_toy:", ("admin",)),
    ("views/dashboard.py", "dashboard", "nav_dashboard", ":material/insights:", ("hr", "trainer", "admin")),
    ("views/groups.py", "groups", "nav_groups", ":material/groups:", ("admin",)),
    ("views/calibration.py", "calibration", "nav_calibration", ":material/rule:", ("trainer", "hr", "admin")),
)

#: Where each role lands on "/": trainees practise, trainers and HR watch their teams, admins
#: manage people. Every page linked from a landing page is one the role may open.
LANDING = {"trainee": "practice", "trainer": "dashboard", "hr": "dashboard", "admin": "admin"}

st.set_page_config(page_title="Tenang", page_icon=":material/support_agent:", layout="wide")


def _fail(key: str, **values: object) -> None:
    """Show a start-up problem (no database needed for the message) and stop."""
    st.error(translate(key, st.session_state.get(LANG_KEY, "en"), **values))
    st.stop()


def _sso_providers() -> list[str | None]:
    """OIDC providers configured under ``[auth]`` in secrets.toml (None: the unnamed one)."""
    try:
        section = st.secrets.get("auth")
    except FileNotFoundError:  # no secrets.toml at all
        return []
    if not section or not hasattr(section, "get"):
        return []
    if section.get("client_id"):
        return [None]
    return sorted(name for name, value in section.items() if hasattr(value, "get") and value.get("client_id"))


def _sso_user(repo) -> None:
    """Map an OIDC identity (``st.user``) to a Tenang account, or explain why not and stop."""
    if not st.user.get("is_logged_in"):
        return
    email = str(st.user.get("email") or "")
    if st.user.get("email_verified") is False:
        st.error(t("auth_sso_unverified", email=context.escape_md(email)))
    else:
        account = repo.get_user_by_email(email) if email else None
        if account is not None and account.active:
            st.session_state[USER_KEY] = account.id
            return
        st.error(t("auth_sso_no_account", email=context.escape_md(email) or "—"))
    if st.button(t("shell_sign_out"), key="sso_sign_out"):
        context.sign_out()
    st.stop()


def _language_choice() -> None:
    """Language switch of the screens shown before anyone is signed in."""
    if LANG_KEY not in st.session_state:
        locale = (st.context.locale or "").lower()
        st.session_state[LANG_KEY] = "id" if locale.startswith(("id", "in")) else "en"
    st.radio(
        t("shell_language"), UI_LANGS, key=LANG_KEY, format_func=LANG_LABELS.__getitem__, horizontal=True
    )


def _password_inputs(repeat: bool, prefix: str) -> tuple[str, str]:
    password = st.text_input(
        t("field_password"), type="password", max_chars=auth.PASSWORD_MAX, key=f"{prefix}_password"
    )
    again = ""
    if repeat:
        again = st.text_input(
            t("field_password_repeat"),
            type="password",
            max_chars=auth.PASSWORD_MAX,
            key=f"{prefix}_password2",
        )
        st.caption(t("password_hint", min=auth.PASSWORD_MIN))
    return password, again


def _setup_screen(repo) -> None:
    """The one-time screen of an empty database: create the first administrator."""
    st.title(t("setup_title"))
    st.write(t("setup_intro"))
    with st.form("setup"):  # an error keeps what was typed (clear_on_submit would wipe it)
        name = st.text_input(t("field_name"), max_chars=NAME_MAX, key="setup_name")
        password, again = _password_inputs(repeat=True, prefix="setup")
        submitted = st.form_submit_button(t("setup_button"), type="primary")
    if not submitted:
        return
    name = name.strip()
    if password != again:
        st.error(t("passwords_differ"))
        return
    if not auth.needs_first_admin(repo):  # someone else finished set-up meanwhile
        st.session_state["shell_flash"] = t("setup_already_done")
        st.rerun()
    try:
        admin = auth.create_user(repo, name, "admin", password)
    except ValueError as error:
        st.error(context.user_error(error))
        return
    repo.set_user_lang(admin.id, st.session_state.get(LANG_KEY, "en"))
    st.session_state["shell_flash"] = t("setup_done", name=context.escape_md(admin.name))
    st.rerun()


def _sign_in_screen(repo) -> None:
    st.title(t("auth_title"))
    st.write(t("auth_intro"))
    flash = st.session_state.pop("shell_flash", None)
    if flash:
        st.success(flash)
    with st.form("sign_in", clear_on_submit=True):
        name = st.text_input(t("field_name"), max_chars=NAME_MAX, key="sign_in_name")
        password, _ = _password_inputs(repeat=False, prefix="sign_in")
        submitted = st.form_submit_button(t("auth_button"), type="primary")
    if submitted:
        name = name.strip()
        if not name or not password:
            st.error(t("auth_missing"))
        else:
            try:
                user = auth.sign_in(repo, name, password)
            except auth.TooManyAttempts as exc:
                st.error(t("auth_too_many", minutes=exc.minutes))
                st.stop()
            if user is None:
                st.error(t("auth_failed"))  # the same for unknown name, wrong password, disabled
            else:
                st.session_state.pop(LANG_KEY, None)  # from now on the user's own language
                context.start_sign_in(user.id)
                st.rerun()  # same URL and query: a deep link opens after sign-in
    providers = _sso_providers()
    if providers:
        st.write(t("auth_sso_or"))
        for provider in providers:
            label = (
                t("auth_sso_button")
                if provider is None
                else t("auth_sso_button_named", provider=provider.title())
            )
            if st.button(label, key=f"sso_{provider or 'default'}"):
                try:
                    st.login(provider)
                except StreamlitAuthError as error:  # e.g. Authlib missing, incomplete [auth]
                    st.error(t("auth_sso_unavailable", detail=str(error)))
    _load_chart_code()


def _load_chart_code() -> None:
    """Have the browser fetch and compile Plotly's script (4.7 MB) while the sign-in form is filled
    in. Streamlit loads it the first time a page shows a chart, so the first chart page after a
    sign-in (the dashboard for staff, My progress for a trainee) waited 0.6-0.9 s for it in a fresh
    tab here (bench/browser.py). An empty chart in a hidden container is enough."""
    raw_html.hidden("chart_code")  # the style first, so the empty chart never shows, not even for a frame
    with st.container(key="chart_code"):
        st.plotly_chart({"data": [{"type": "scatter", "x": [], "y": []}]}, key="chart_code_preload")


def _sidebar(user, settings, repo) -> None:
    with st.sidebar:
        name, role = context.escape_md(user.name), context.role_label(user.role)
        st.markdown(t("shell_signed_in_as", name=name, role=role))
        key = f"shell_lang_{user.id}"
        st.session_state[key] = user.ui_lang  # always show what the database remembers

        def save_language() -> None:
            repo.set_user_lang(user.id, st.session_state[key])

        st.radio(
            t("shell_language"),
            UI_LANGS,
            key=key,
            format_func=LANG_LABELS.__getitem__,
            horizontal=True,
            on_change=save_language,
        )
        if settings.offline:
            st.info(t("shell_offline"), icon=":material/cloud_off:")
        if st.button(t("shell_sign_out"), key="shell_sign_out", icon=":material/logout:"):
            context.sign_out()


def _pages(user) -> tuple[list, list]:
    """(all pages for st.navigation, the ones visible to ``user``); files not present are skipped."""
    role = user.role if user else None
    pages, visible = [], []
    for path, url_path, title_key, icon, roles in PAGES:
        if not (HERE / path).is_file():
            continue
        shown = role in roles
        page = st.Page(
            path, title=t(title_key), icon=icon, url_path=url_path, visibility="visible" if shown else "hidden"
        )
        pages.append(page)
        if shown:
            visible.append(page)
    return pages, visible


def main() -> None:
    context.wait_for_warm_up()
    try:
        settings = context.settings()
        repo = context.repository()
    except ConfigError as error:
        _fail("shell_config_error", detail=str(error))
    except SQLAlchemyError:
        _fail("shell_db_error", url=context.settings().database_url_display)

    context.restore_sign_in()
    user = context.current_user()
    if user is None and _sso_providers():
        _sso_user(repo)
        user = context.current_user()

    pages, visible = _pages(user)

    def home() -> None:  # "/" opens where this role's work is (else the first page of the menu)
        landing = LANDING.get(user.role) if user else None
        for page in visible:
            if page.url_path == landing:
                st.switch_page(page)
        if visible:
            st.switch_page(visible[0])
        st.info(t("shell_no_pages"))

    home_page = st.Page(home, title=t("nav_home"), url_path="home", default=True, visibility="hidden")
    # Always call st.navigation, signed in or not: it resolves the URL the browser asked for,
    # so /practice?scenario=... still opens after the sign-in form is submitted.
    current = st.navigation([home_page, *pages], position="sidebar" if user else "hidden")

    if user is None:
        context.cookie_messenger()
        _language_choice()
        if auth.needs_first_admin(repo):
            _setup_screen(repo)
        else:
            _sign_in_screen(repo)
        return

    _sidebar(user, settings, repo)
    context.cookie_messenger()
    current.run()


main()
