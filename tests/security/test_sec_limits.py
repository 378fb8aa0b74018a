"""Items 3 and 8: sign-in attempts are rate limited through the real sign-in form, and every
text field has a length limit; an overlong turn sent through a page is refused, nothing stored."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from simulator import studio
from simulator.auth import MAX_FAILED_SIGN_INS, PASSWORD_MAX
from simulator.scenario import ScenarioError, ScenarioLibrary
from simulator.session import MAX_TURN_CHARS, InputError, SessionService, validate_turn_text
from simulator.store.models import NAME_MAX
from tests.app.conftest import PASSWORD
from ui.i18n import translate

TOO_MANY = translate("auth_too_many", "en", minutes=15)
FAILED = translate("auth_failed", "en")


def sign_in(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="sign_in_name").input(name)
    at.text_input(key="sign_in_password").input(password)
    return at.form_submit_button[0].click().run()


# --------------------------------------------------------------------------- item 3


def test_sign_in_form_refuses_after_too_many_failures(app, make_user):
    make_user("budi", "trainee")
    at = app().run()
    for _ in range(MAX_FAILED_SIGN_INS):
        sign_in(at, "budi", "wrong password 1")
        assert [e.value for e in at.error] == [FAILED]
    sign_in(at, "budi", PASSWORD)  # even the right password is refused now
    assert not at.exception
    assert [e.value for e in at.error] == [TOO_MANY]
    assert "user_id" not in at.session_state
    fresh = sign_in(app().run(), "budi", PASSWORD)  # another browser: the limit is in the database
    assert [e.value for e in fresh.error] == [TOO_MANY]
    assert "user_id" not in fresh.session_state


# --------------------------------------------------------------------------- item 8


def test_name_and_password_fields_are_capped(app, make_user):
    at = app().run()  # the set-up screen of an empty database
    assert at.text_input(key="setup_name").max_chars == NAME_MAX
    assert at.text_input(key="setup_password").max_chars == PASSWORD_MAX
    assert at.text_input(key="setup_password2").max_chars == PASSWORD_MAX
    make_user("budi", "trainee")
    at = app().run()
    assert at.text_input(key="sign_in_name").max_chars == NAME_MAX
    assert at.text_input(key="sign_in_password").max_chars == PASSWORD_MAX
    # and on the server, whatever a tampered browser sends (set_value skips the browser's cap):
    at.text_input(key="sign_in_name").set_value("budi" + "x" * (NAME_MAX + 50))
    at.text_input(key="sign_in_password").set_value("x" * (PASSWORD_MAX * 100))
    at = at.form_submit_button[0].click().run()
    assert [e.value for e in at.error] == [FAILED] and "user_id" not in at.session_state


def _open(at: AppTest, page: str, **params: str) -> AppTest:
    at.run()
    at.query_params.clear()
    at.query_params.update(params)
    return at.switch_page(page).run()


def test_overlong_turn_through_the_practice_page_is_refused_and_not_stored(app, make_user, repo):
    ana = make_user("ana", "trainee")
    record = SessionService(repo, ScenarioLibrary()).start("water-bill-surge", "en", user_id=ana.id)
    before = repo.get_turns(record.id)
    at = _open(app(ana), "views/practice.py", session=record.id)
    # no max_chars on the chat input: Streamlit would silently cut the text; the service refuses it
    at.chat_input(key="reply").set_value("a" * (MAX_TURN_CHARS + 1)).run()
    assert not at.exception
    with pytest.raises(InputError) as refused:
        validate_turn_text("a" * (MAX_TURN_CHARS + 1))
    assert [e.value for e in at.error] == [str(refused.value)]
    assert repo.get_turns(record.id) == before


def test_overlong_what_if_is_refused_and_creates_no_branch(app, make_user, repo):
    ana = make_user("ana", "trainee")
    svc = SessionService(repo, ScenarioLibrary())
    record = svc.start("water-bill-surge", "en", user_id=ana.id)
    svc.say(record.id, "I am sorry about the bill.")
    svc.end(record.id)
    at = _open(app(ana), "views/review.py", session=record.id)
    at.text_area(key="whatif_text").set_value("b" * (MAX_TURN_CHARS + 1))
    at.button(key="whatif_go").click().run()
    assert not at.exception
    assert any(str(MAX_TURN_CHARS) in e.value for e in at.error)
    assert [s.id for s in repo.list_sessions(user_id=ana.id)] == [record.id]


def test_studio_fields_and_uploads_are_capped(app, make_user):
    at = _open(app(make_user("tia", "trainer")), "views/studio.py", new="1", lang="en")
    assert not at.exception
    yaml_area = next(a for a in at.text_area if a.max_chars)
    assert yaml_area.max_chars == studio.UPLOAD_MAX
    big = studio.Upload("big.yaml", b"#" * (studio.UPLOAD_MAX + 1))
    with pytest.raises(ScenarioError) as refused:
        studio.parse_uploads([big], ScenarioLibrary().ids() if hasattr(ScenarioLibrary(), "ids") else [])
    assert "1 MB" in str(refused.value.problems)
