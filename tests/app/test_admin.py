"""views/admin.py: admins only; list, create, disable and enable users."""

from __future__ import annotations

import pytest
from tests.app.conftest import ADMIN_PAGE, PASSWORD
from streamlit.testing.v1 import AppTest

from simulator.auth import authenticate
from ui.i18n import translate

NOT_ALLOWED = translate("not_allowed", "en")


def listed_names(at: AppTest) -> list[str]:
    frame = at.dataframe[0].value
    return list(frame[translate("admin_col_name", "en")])


def create(
    at: AppTest, name: str, role: str, password: str, again: str | None = None, email: str = ""
) -> AppTest:
    at.text_input(key="admin_new_name").input(name)
    at.selectbox(key="admin_new_role").set_value(role)
    at.text_input(key="admin_new_email").input(email)
    at.text_input(key="admin_new_password").input(password)
    at.text_input(key="admin_new_password2").input(password if again is None else again)
    return at.form_submit_button[0].click().run()


@pytest.fixture
def admin(make_user):
    return make_user("root", "admin")


@pytest.fixture
def admin_page(app, admin):
    at = app(admin, script=ADMIN_PAGE).run()
    assert not at.exception
    return at


# --------------------------------------------------------------------------- who may see it


@pytest.mark.parametrize("role", ["trainee", "trainer", "hr", None])
def test_everyone_but_an_admin_sees_only_not_allowed(app, make_user, role):
    make_user("root", "admin")
    make_user("hidden-person", "trainee")
    user = make_user("visitor", role) if role else None
    at = app(user, script=ADMIN_PAGE).run()
    assert not at.exception
    assert [e.value for e in at.error] == [NOT_ALLOWED]
    assert not at.dataframe
    assert not at.title and not at.markdown
    assert not at.text_input and not at.button and not at.form_submit_button and not at.selectbox


def test_a_disabled_admin_is_refused(app, make_user, repo):
    make_user("root", "admin")
    other = make_user("root2", "admin")
    repo.set_user_active(other.id, False)
    at = app(other, script=ADMIN_PAGE).run()
    assert [e.value for e in at.error] == [NOT_ALLOWED]
    assert not at.dataframe


# --------------------------------------------------------------------------- list


def test_admin_sees_every_user(app, admin, make_user, repo):
    make_user("budi", "trainee")
    off = make_user("sari", "hr", email="sari@example.com")
    repo.set_user_active(off.id, False)
    repo.set_user_lang(off.id, "id")
    at = app(admin, script=ADMIN_PAGE).run()
    assert not at.exception
    assert at.title[0].value == translate("admin_title", "en")
    frame = at.dataframe[0].value
    assert listed_names(at) == ["budi", "root", "sari"]
    sari = frame[frame[translate("admin_col_name", "en")] == "sari"].iloc[0]
    assert sari[translate("admin_col_role", "en")] == translate("role_hr", "en")
    assert bool(sari[translate("admin_col_active", "en")]) is False
    assert sari[translate("admin_col_lang", "en")] == "Bahasa Indonesia"
    assert sari[translate("admin_col_email", "en")] == "sari@example.com"


# --------------------------------------------------------------------------- create


def test_admin_creates_a_user(admin_page, repo):
    at = create(admin_page, " dewi ", "trainer", "a-good-password", email="Dewi@Example.com")
    assert not at.exception
    assert not at.error
    dewi = repo.get_user_by_name("dewi")
    assert dewi is not None and dewi.role == "trainer" and dewi.active
    assert dewi.email == "dewi@example.com"
    assert authenticate(repo, "dewi", "a-good-password") == dewi
    assert "dewi" in listed_names(at)  # the list is refreshed
    assert "dewi" in at.success[0].value


@pytest.mark.parametrize(
    ("name", "password", "again", "email", "key"),
    [
        ("dewi", "a-good-password", "a-good-passwort", "", "passwords_differ"),
        ("dewi", "short", None, "", "user_err_password"),
        ("root", "a-good-password", None, "", "user_err_name_taken"),
        ("", "a-good-password", None, "", "user_err_name"),
        ("de/wi", "a-good-password", None, "", "user_err_name"),
        ("dewi", "a-good-password", None, "not-an-email", "user_err_email"),
        ("dewi", "a-good-password", None, "root@example.com", "user_err_email_taken"),
    ],
)
def test_bad_input_is_refused_with_a_clear_message(app, make_user, repo, name, password, again, email, key):
    admin = make_user("root", "admin", email="root@example.com")
    at = create(app(admin, script=ADMIN_PAGE).run(), name, "trainee", password, again, email)
    assert not at.exception
    expected = translate(key, "en", min=8, max=1024 if key == "user_err_password" else 64)
    assert [e.value for e in at.error] == [expected]
    assert [u.name for u in repo.list_users()] == ["root"]


# --------------------------------------------------------------------------- disable / enable


def test_admin_disables_and_enables_a_user(app, admin, make_user, repo):
    budi = make_user("budi", "trainee")
    at = app(admin, script=ADMIN_PAGE).run()
    at.selectbox(key="admin_pick").set_value(budi.id).run()
    assert at.button(key="admin_toggle").label == translate("admin_disable_button", "en")
    at.button(key="admin_toggle").click().run()
    assert not at.exception
    assert repo.get_user(budi.id).active is False
    assert authenticate(repo, "budi", PASSWORD) is None
    assert at.success  # "budi can no longer sign in"

    at.selectbox(key="admin_pick").set_value(budi.id).run()
    assert at.button(key="admin_toggle").label == translate("admin_enable_button", "en")
    at.button(key="admin_toggle").click().run()
    assert repo.get_user(budi.id).active is True
    assert authenticate(repo, "budi", PASSWORD) is not None


def test_admin_cannot_disable_themself(app, admin, repo):
    at = app(admin, script=ADMIN_PAGE).run()
    at.selectbox(key="admin_pick").set_value(admin.id).run()
    button = at.button(key="admin_toggle")
    assert button.disabled
    assert translate("admin_cannot_disable_self", "en") in [c.value for c in at.caption]
    button.proto.disabled = False  # forge the click a browser cannot send
    button.click().run()
    assert not at.exception
    assert repo.get_user(admin.id).active is True


def test_admin_page_speaks_the_admins_language(app, admin, repo):
    repo.set_user_lang(admin.id, "id")
    at = app(admin, script=ADMIN_PAGE).run()
    assert at.title[0].value == translate("admin_title", "id")
    assert translate("admin_col_name", "id") in at.dataframe[0].value.columns


def test_new_account_language_defaults_to_the_browser_and_errors_keep_the_input(app, admin, repo):
    at = app(admin, script=ADMIN_PAGE)
    at.context = {"locale": "id-ID"}
    at.run()
    assert at.selectbox(key="admin_new_lang").value == "id"
    create(at, "de/wi", "trainee", "a-good-password")
    assert at.error and at.text_input(key="admin_new_name").value == "de/wi"  # kept for fixing
    create(at, "Bu Ratna (Admin)", "trainer", "a-good-password")
    assert not at.exception and not at.error
    made = repo.get_user_by_name("Bu Ratna (Admin)")
    assert made is not None and made.ui_lang == "id"
    assert at.text_input(key="admin_new_name").value == ""  # cleared after the success
