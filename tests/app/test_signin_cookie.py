"""The sign-in cookie in the app shell: a fresh browser session (reload, link, new tab) that sends
a valid cookie is signed in and lands on the page it asked for; a revoked one is not.

AppTest cannot send cookies, so ``ui.context.browser_cookie`` stands in for the browser; the
real HttpOnly cookie round trip is covered by tests/e2e/test_signin_browser.py.
"""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from streamlit import config

from tests.app.conftest import PASSWORD
from tests.app.page_support import open_page, texts, tr
from ui import context, cookie_routes


def _sign_in(at, name):
    at.text_input(key="sign_in_name").input(name)
    at.text_input(key="sign_in_password").input(PASSWORD)
    return at.form_submit_button[0].click().run()


@pytest.fixture
def cookie_jar(monkeypatch):
    jar: dict[str, str | None] = {"value": None}
    monkeypatch.setattr(context, "browser_cookie", lambda: jar["value"])
    return jar


def _redeem(at) -> str:
    """What the browser does with the page's hand-off script: post the code, keep the cookie."""
    code = at.session_state[context.HANDOFF_KEY]
    scripts = [str(h.proto.body) for h in at.get("html")]
    assert any("/_tenang/session" in body and "code=" in body for body in scripts)
    cookie = context.signins().redeem(code)
    assert cookie is not None and all(cookie not in body for body in scripts)
    return cookie


def test_a_reload_and_a_link_in_a_new_tab_stay_signed_in(app, ana, service, cookie_jar):
    record = service.start("water-bill-surge", "en", user_id=ana.id, seed=1)
    at = _sign_in(app().run(), "ana")
    assert not at.exception and at.session_state[context.USER_KEY] == ana.id
    cookie_jar["value"] = _redeem(at)

    reloaded = app()  # a new browser session: nothing in session_state, only the cookie
    open_page(reloaded, "views/review.py", session=record.id)
    assert not reloaded.exception
    assert tr("auth_title") not in texts(reloaded)
    assert reloaded.session_state[context.USER_KEY] == ana.id
    assert not any(e.value == tr("not_allowed") for e in reloaded.error)


def test_after_sign_out_the_cookie_signs_nobody_in(app, ana, cookie_jar):
    at = _sign_in(app().run(), "ana")
    cookie_jar["value"] = _redeem(at)
    at.button(key="shell_sign_out").click().run()
    assert tr("auth_title") in texts(at)
    # the sign-in screen asks the browser to delete the cookie
    assert any("/_tenang/sign-out" in str(h.proto.body) for h in at.get("html"))

    fresh = app().run()
    assert tr("auth_title") in texts(fresh)
    assert "user_id" not in fresh.session_state


def test_a_disabled_user_is_signed_out_of_an_open_tab(app, ana, repo, cookie_jar):
    at = _sign_in(app().run(), "ana")
    cookie_jar["value"] = _redeem(at)
    repo.set_user_active(ana.id, False)
    at.run()
    assert tr("auth_title") in texts(at)
    assert tr("auth_title") in texts(app().run())


@pytest.fixture
def base_url_path():
    """The app served under /tenang (``server.baseUrlPath``), as behind a proxy that routes by path."""
    before = config.get_option("server.baseUrlPath")
    config.set_option("server.baseUrlPath", "/tenang/")  # people write it with or without slashes
    yield "/tenang"
    config.set_option("server.baseUrlPath", before)


def test_under_a_base_path_the_routes_the_page_and_the_cookie_carry_it(app, ana, base_url_path):
    routes = cookie_routes.routes()
    assert [r.path for r in routes] == ["/tenang/_tenang/session", "/tenang/_tenang/sign-out"]
    at = _sign_in(app().run(), "ana")
    scripts = [str(h.proto.body) for h in at.get("html")]
    assert any('fetch("/tenang/_tenang/session"' in body for body in scripts), scripts

    server = TestClient(Starlette(routes=routes))
    code = at.session_state[context.HANDOFF_KEY]
    assert server.post("/_tenang/session", data={"code": code}).status_code == 404
    answer = server.post("/tenang/_tenang/session", data={"code": code})
    assert answer.status_code == 204
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith("tenang_session=") and "Path=/tenang;" in cookie and "HttpOnly" in cookie

    at.button(key="shell_sign_out").click().run()
    assert any('fetch("/tenang/_tenang/sign-out"' in str(h.proto.body) for h in at.get("html"))
    gone = server.post("/tenang/_tenang/sign-out")
    assert gone.status_code == 204 and "Path=/tenang;" in gone.headers["set-cookie"]


def test_served_at_the_root_the_cookie_is_for_the_whole_site(app, ana):
    assert [r.path for r in cookie_routes.routes()] == ["/_tenang/session", "/_tenang/sign-out"]
    at = _sign_in(app().run(), "ana")
    answer = TestClient(Starlette(routes=cookie_routes.routes())).post(
        "/_tenang/session", data={"code": at.session_state[context.HANDOFF_KEY]})
    assert answer.status_code == 204 and "Path=/;" in answer.headers["set-cookie"]
