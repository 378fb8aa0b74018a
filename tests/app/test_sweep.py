"""Every page, in both interface languages and for every role, renders without an exception.

A seeded demo database (teams, trainees, sessions with transcripts), an assignment and a finished
session are there, so the pages show their populated states (the assignment list once crashed
with ``translate() got multiple values for argument 'lang'``). A role a page is not for gets
"not allowed" - never a traceback.
"""

from __future__ import annotations

import pytest

from simulator.demo import seed_demo
from simulator.store.authoring import AuthoringStore
from tests.app.page_support import open_page, open_tab

PAGES = ("practice", "progress", "review", "studio", "admin", "model", "dashboard", "groups")
ROLES = ("trainee", "trainer", "hr", "admin")



@pytest.fixture
def people(repo, make_user, service):
    seed_demo(repo, trainees=4, sessions=3, seed=3)
    users = {role: make_user(f"sweep_{role}", role) for role in ROLES}
    AuthoringStore(repo).assign("water-bill-surge", "id", user_id=users["trainee"].id, due_date=None, pass_mark=70.0)
    record = service.start("water-bill-surge", "id", user_id=users["trainee"].id, seed=1)
    service.say(record.id, "Mohon maaf, tagihan Bapak naik tiga kali lipat ya?")
    return users, record


def _shown_problem(at) -> str | None:
    if at.exception:
        return "\n".join(str(e.value) for e in at.exception)
    return None


@pytest.mark.parametrize("lang", ["id", "en"])
@pytest.mark.parametrize("role", ROLES)
def test_every_page_renders_without_an_exception(app, repo, people, role, lang):
    users, record = people
    user = repo.set_user_lang(users[role].id, lang)
    for page in PAGES:
        at = app(user)
        params = {"session": record.id} if page == "review" else {}
        open_page(at, f"views/{page}.py", **params)
        assert _shown_problem(at) is None, f"{role}/{lang}/{page}: {_shown_problem(at)}"
        if page == "dashboard" and role != "trainee":  # only the open tab is drawn: open each
            labels = [tab.label for tab in at.tabs]
            assert len(labels) == 7, labels
            for label in labels:
                open_tab(at, "dash_tab", label)
                assert _shown_problem(at) is None, f"{role}/{lang}/dashboard {label}: {_shown_problem(at)}"
    # the studio's editor of a built-in scenario, and the assignment list with its row
    if role in ("trainer", "admin"):
        at = app(user)
        open_page(at, "views/studio.py", edit="water-bill-surge", lang=lang)
        assert _shown_problem(at) is None, f"{role}/{lang}/studio edit: {_shown_problem(at)}"
