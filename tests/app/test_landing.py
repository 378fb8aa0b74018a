"""Each role lands where its work is, and no link on a landing page leads to "not allowed"."""

from __future__ import annotations

import pytest

from tests.app.page_support import open_page, tr

EXPECTED = {"trainee": "practice_title", "trainer": "dash_title", "hr": "dash_title", "admin": "admin_title"}


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_lands_on_its_work(app, make_user, role):
    at = app(make_user(f"land_{role}", role)).run()
    assert not at.exception
    assert [t.value for t in at.title][:1] == [tr(EXPECTED[role])]
    assert tr("not_allowed") not in [e.value for e in at.error]


@pytest.mark.parametrize("role", ["hr", "trainer", "trainee"])
def test_review_without_a_session_links_to_a_page_the_role_may_open(app, make_user, role):
    at = app(make_user(f"rev_{role}", role))
    open_page(at, "views/review.py")
    links = [str(link.proto.page) for link in at.get("page_link")]
    assert links, "the review page should say where to choose a session"
    target = "progress" if role == "trainee" else "dashboard"
    assert all(target in link for link in links), links
    # and that page opens for this role
    follow = app(make_user(f"rev2_{role}", role))
    open_page(follow, f"views/{target}.py")
    assert not follow.exception and tr("not_allowed") not in [e.value for e in follow.error]
