"""The app shell (streamlit_app.py): first-admin set-up, sign-in, navigation by role, sidebar."""

from __future__ import annotations

import sys

import pytest
from tests.app.conftest import PASSWORD
from streamlit.testing.v1 import AppTest

from simulator.auth import authenticate
from ui.context import escape_md
from ui.i18n import translate

FAILED = translate("auth_failed", "en")
NOT_ALLOWED = translate("not_allowed", "en")


def errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def texts(at: AppTest) -> str:
    """Everything the user can read on the main area and the sidebar, as one string."""
    kinds = ("title", "markdown", "error", "success", "info", "caption")
    parts = [e.value for kind in kinds for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def sign_in(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="sign_in_name").input(name)
    at.text_input(key="sign_in_password").input(password)
    return at.form_submit_button[0].click().run()


def fill_setup(at: AppTest, name: str, password: str, again: str) -> AppTest:
    at.text_input(key="setup_name").input(name)
    at.text_input(key="setup_password").input(password)
    at.text_input(key="setup_password2").input(again)
    return at.form_submit_button[0].click().run()


# --------------------------------------------------------------------------- first start


def test_empty_database_shows_setup_and_creates_the_first_admin(app, repo):
    at = app().run()
    assert not at.exception
    assert at.title[0].value == translate("setup_title", "en")
    keys = {w.key for w in at.text_input}
    assert keys == {"setup_name", "setup_password", "setup_password2"}

    fill_setup(at, "  Rina Admin ", "s3cret-enough", "s3cret-enough")
    assert not at.exception
    users = repo.list_users()
    assert [(u.name, u.role, u.active) for u in users] == [("Rina Admin", "admin", True)]
    assert authenticate(repo, "Rina Admin", "s3cret-enough") is not None  # stored as a real hash
    # ...and the set-up screen is gone for good: the sign-in form is shown, nobody is signed in.
    assert at.title[0].value == translate("auth_title", "en")
    assert {w.key for w in at.text_input} == {"sign_in_name", "sign_in_password"}
    assert "Rina Admin" in texts(at)
    assert "user_id" not in at.session_state
    again = app().run()
    assert again.title[0].value == translate("auth_title", "en")


@pytest.mark.parametrize(
    ("name", "password", "again", "message"),
    [
        ("admin", "s3cret-enough", "s3cret-other", translate("passwords_differ", "en")),
        ("admin", "short", "short", translate("user_err_password", "en", min=8, max=1024)),
        ("bad/name", "s3cret-enough", "s3cret-enough", translate("user_err_name", "en", max=64)),
        ("", "s3cret-enough", "s3cret-enough", translate("user_err_name", "en", max=64)),
    ],
)
def test_setup_refuses_bad_input_and_creates_nobody(app, repo, name, password, again, message):
    at = fill_setup(app().run(), name, password, again)
    assert not at.exception
    assert errors(at) == [message]
    assert repo.count_users() == 0
    assert at.title[0].value == translate("setup_title", "en")


def test_setup_screen_never_appears_once_a_user_exists(app, make_user):
    make_user("budi", "trainee")
    at = app().run()
    assert at.title[0].value == translate("auth_title", "en")
    assert "setup_name" not in {w.key for w in at.text_input}


# --------------------------------------------------------------------------- sign-in


def test_sign_in_with_the_right_password(app, make_user):
    user = make_user("budi", "trainee")
    at = sign_in(app().run(), "budi", PASSWORD)
    assert not at.exception
    assert at.session_state["user_id"] == user.id
    assert not errors(at)
    assert "budi" in "\n".join(m.value for m in at.sidebar.markdown)
    assert "sign_in_name" not in {w.key for w in at.text_input}


@pytest.mark.parametrize(
    ("name", "password"),
    [("budi", "wrong password 1"), ("nobody", PASSWORD), ("BUDI", PASSWORD)],
)
def test_sign_in_fails_with_one_message_that_reveals_nothing(app, make_user, name, password):
    make_user("budi", "trainee")
    at = sign_in(app().run(), name, password)
    assert not at.exception
    assert errors(at) == [FAILED]
    assert "user_id" not in at.session_state
    assert at.title[0].value == translate("auth_title", "en")


def test_a_disabled_user_cannot_sign_in_and_is_signed_out_at_once(app, make_user, repo):
    user = make_user("budi", "trainee")
    at = sign_in(app().run(), "budi", PASSWORD)
    assert at.session_state["user_id"] == user.id
    repo.set_user_active(user.id, False)
    at.run()  # the open session notices on its next interaction
    assert "user_id" not in at.session_state
    assert at.title[0].value == translate("auth_title", "en")
    assert errors(sign_in(at, "budi", PASSWORD)) == [FAILED]


def test_sign_out(app, make_user):
    user = make_user("budi", "trainee")
    at = app(user).run()
    at.sidebar.button(key="shell_sign_out").click().run()
    assert not at.exception
    assert "user_id" not in at.session_state
    assert at.title[0].value == translate("auth_title", "en")


# --------------------------------------------------------------------------- navigation and roles


def _visible(call: dict[str, str]) -> set[str]:
    return {url for url, visibility in call.items() if visibility == "visible"}


def test_trainee_navigation_excludes_admin(app, make_user, nav_log):
    at = app(make_user("budi", "trainee")).run()
    assert not at.exception
    visible = _visible(nav_log[-1])
    assert "admin" not in visible
    assert visible <= {"practice", "progress", "review"}
    # admin is registered only as a hidden page, so its URL reaches its own role check
    assert nav_log[-1].get("admin") == "hidden"


def test_admin_navigation_includes_admin(app, make_user, nav_log):
    at = app(make_user("root", "admin")).run()
    assert not at.exception
    assert "admin" in _visible(nav_log[-1])


def test_signed_out_navigation_shows_nothing(app, make_user, nav_log):
    make_user("budi", "trainee")
    app().run()
    assert _visible(nav_log[-1]) == set()


def test_trainee_typing_the_admin_url_sees_only_not_allowed(app, make_user, repo):
    trainee = make_user("budi", "trainee")
    make_user("secret-admin", "admin")
    at = app(trainee).run()
    at.switch_page("views/admin.py").run()  # what typing /admin does
    assert not at.exception
    assert errors(at) == [NOT_ALLOWED]
    assert not at.dataframe
    assert not at.main.button and not at.form_submit_button and not at.main.text_input
    assert "secret-admin" not in texts(at)


def test_the_admin_url_opens_after_signing_in(app, make_user):
    make_user("root", "admin")
    at = app().run()
    at.switch_page("views/admin.py").run()  # /admin typed while signed out: sign in first
    assert at.title[0].value == translate("auth_title", "en")
    assert not at.dataframe
    sign_in(at, "root", PASSWORD)
    assert not at.exception
    assert at.title[0].value == translate("admin_title", "en")
    assert list(at.dataframe[0].value.iloc[:, 0]) == ["root"]


# --------------------------------------------------------------------------- sidebar


def test_language_switch_is_remembered_per_user(app, make_user, repo):
    user = make_user("budi", "trainee")
    at = app(user).run()
    assert at.sidebar.button(key="shell_sign_out").label == translate("shell_sign_out", "en")
    at.sidebar.radio(key=f"shell_lang_{user.id}").set_value("id").run()
    assert not at.exception
    assert repo.get_user(user.id).ui_lang == "id"
    assert at.sidebar.button(key="shell_sign_out").label == translate("shell_sign_out", "id")
    # a new browser session of the same user speaks Indonesian from the start
    fresh = app(user).run()
    assert fresh.sidebar.radio(key=f"shell_lang_{user.id}").value == "id"
    assert fresh.sidebar.button(key="shell_sign_out").label == translate("shell_sign_out", "id")
    # another user is not affected
    other = make_user("sari", "trainee")
    assert app(other).run().sidebar.button(key="shell_sign_out").label == translate("shell_sign_out", "en")


def test_sign_in_screen_has_its_own_language_switch(app, make_user):
    make_user("budi", "trainee")
    at = app().run()
    at.radio(key="ui_lang").set_value("id").run()
    assert at.title[0].value == translate("auth_title", "id")
    assert errors(sign_in(at, "budi", "wrong password 1")) == [translate("auth_failed", "id")]


def test_offline_notice(app, make_user):
    user = make_user("budi", "trainee")
    at = app(user).run()
    assert [i.value for i in at.sidebar.info] == [translate("shell_offline", "en")]


def test_no_offline_notice_when_a_model_is_configured(app, make_user, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:11434/v1")
    at = app(make_user("budi", "trainee")).run()
    assert not at.exception
    assert not at.sidebar.info


def test_sidebar_shows_name_and_role(app, make_user):
    at = app(make_user("sari_hr", "hr")).run()
    sidebar = "\n".join(m.value for m in at.sidebar.markdown)
    assert "sari\\_hr" in sidebar  # escaped: the underscore must not start italics
    assert translate("role_hr", "en") in sidebar


# --------------------------------------------------------------------------- single sign-on (OIDC)

SSO_SECRETS = {
    "auth": {
        "redirect_uri": "http://localhost:8501/oauth2callback",
        "cookie_secret": "test-cookie-secret",
        "client_id": "tenang",
        "client_secret": "not-a-real-secret",
        "server_metadata_url": "https://idp.example.com/.well-known/openid-configuration",
    }
}


def test_sso_button_only_when_auth_is_configured(app, make_user):
    make_user("budi", "trainee")
    plain = app().run()
    assert not [b for b in plain.button if b.key.startswith("sso_")]
    at = app()
    at.secrets = SSO_SECRETS
    at.user = {"is_logged_in": False}
    at.run()
    assert not at.exception
    assert [b.key for b in at.button if b.key.startswith("sso_")] == ["sso_default"]


def test_sso_without_authlib_explains_instead_of_crashing(app, make_user, monkeypatch):
    # A broken install: Authlib (pinned in requirements.txt) cannot be imported.
    for name in [m for m in sys.modules if m == "authlib" or m.startswith("authlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "authlib", None)
    make_user("budi", "trainee")
    at = app()
    at.secrets = SSO_SECRETS
    at.user = {"is_logged_in": False}
    at.run()
    at.button(key="sso_default").click().run()
    assert not at.exception
    assert len(at.error) == 1
    assert at.error[0].value.startswith(translate("auth_sso_unavailable", "en", detail="").rstrip())


def test_sso_identity_maps_to_the_user_with_that_email(app, make_user):
    user = make_user("ana", "trainer", email="ana@pdam.example")
    at = app()
    at.secrets = SSO_SECRETS
    at.user = {"is_logged_in": True, "email": "Ana@PDAM.example", "email_verified": True}
    at.run()
    assert not at.exception
    assert at.session_state["user_id"] == user.id
    assert "ana" in "\n".join(m.value for m in at.sidebar.markdown)


@pytest.mark.parametrize(
    ("claims", "key"),
    [
        ({"email": "stranger@example.com"}, "auth_sso_no_account"),
        ({"email": "ana@pdam.example", "email_verified": False}, "auth_sso_unverified"),
        ({"email": "off@pdam.example"}, "auth_sso_no_account"),
    ],
)
def test_sso_identity_without_an_active_account_is_refused(app, make_user, repo, claims, key):
    make_user("ana", "trainer", email="ana@pdam.example")
    off = make_user("off", "trainee", email="off@pdam.example")
    repo.set_user_active(off.id, False)
    at = app()
    at.secrets = SSO_SECRETS
    at.user = {"is_logged_in": True, **claims}
    at.run()
    assert not at.exception
    assert errors(at) == [translate(key, "en", email=escape_md(claims["email"]))]
    assert "user_id" not in at.session_state
    assert not at.text_input  # no way around it on this screen: only "sign out"


def test_setup_accepts_a_name_with_brackets_and_an_error_keeps_the_input(app, repo):
    at = app().run()
    fill_setup(at, "Bu Ratna (Admin)", "s3cret-enough", "different-one")
    assert errors(at) == [translate("passwords_differ", "en")]
    assert at.text_input(key="setup_name").value == "Bu Ratna (Admin)"  # not wiped by the error
    fill_setup(at, "Bu Ratna (Admin)", "s3cret-enough", "s3cret-enough")
    assert not at.exception
    assert [u.name for u in repo.list_users()] == ["Bu Ratna (Admin)"]
