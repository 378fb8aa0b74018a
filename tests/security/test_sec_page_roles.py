"""Item 1: role checks on every page, and no reading of other people's sessions by URL.

Every ``views/*.py`` file is run for every role and for a signed-out visitor: only the roles
``streamlit_app.PAGES`` lists for it (the same as the page's own ``require_role``) get content;
everyone else sees exactly "not allowed" and nothing else.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from simulator.scenario import ScenarioLibrary
from simulator.session import SessionService
from tests.app.conftest import TIMEOUT
from tests.app.page_support import open_page as _open
from ui.i18n import translate

ROOT = Path(__file__).resolve().parents[2]
VIEWS = sorted(p.name for p in (ROOT / "views").glob("*.py") if not p.name.startswith("_"))
ROLES = ("trainee", "trainer", "hr", "admin", None)
NOT_ALLOWED = translate("not_allowed", "en")


def _pages_table() -> dict[str, tuple[str, ...]]:
    """``{file name: roles}`` from ``streamlit_app.PAGES`` (read from the source: importing the
    entry script would run the app)."""
    tree = ast.parse((ROOT / "streamlit_app.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "PAGES" for t in node.targets):
            table = ast.literal_eval(node.value)
            return {Path(path).name: tuple(roles) for path, _url, _title, _icon, roles in table}
    raise AssertionError("streamlit_app.PAGES not found")


PAGES = _pages_table()


def _required_roles(name: str) -> tuple[str, ...]:
    """The roles of the page's first ``require_role(...)`` call (module level)."""
    tree = ast.parse((ROOT / "views" / name).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "require_role":
            return tuple(ast.literal_eval(arg) for arg in node.args)
    raise AssertionError(f"views/{name} never calls require_role")


def leaves(node) -> list:
    """Every element (not container) rendered under ``node`` of an AppTest tree."""
    children = getattr(node, "children", None)
    if children is None:
        return [node]
    out = []
    for child in children.values():
        out.extend(leaves(child))
    return out


def test_every_page_file_is_registered_and_checks_the_same_roles():
    assert set(VIEWS) == set(PAGES), "every views/*.py file must be in streamlit_app.PAGES"
    for name in VIEWS:
        assert set(_required_roles(name)) == set(PAGES[name]), name


def _first_statement_is_role_check(name: str) -> bool:
    """require_role runs before anything else of the page: before it there are only imports,
    definitions and constants (no calls other than ``Path(__file__)...``, nothing of ``st``)."""
    tree = ast.parse((ROOT / "views" / name).read_text(encoding="utf-8"))
    for node in tree.body:
        if "require_role" in ast.dump(node) and not isinstance(node, ast.ImportFrom):
            return True
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):  # docstring
            continue
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            calls = [c for c in ast.walk(node) if isinstance(c, ast.Call)]
            if all(ast.unparse(c).startswith("Path(__file__)") for c in calls) and "st." not in ast.unparse(node):
                continue
        return False
    return False


@pytest.mark.parametrize("name", VIEWS)
def test_require_role_comes_before_anything_is_rendered(name):
    assert _first_statement_is_role_check(name), f"views/{name}: call require_role(...) first"


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "signed-out")
@pytest.mark.parametrize("name", VIEWS)
def test_page_shows_content_only_to_its_roles(app, make_user, name, role):
    """Signed in: through the app shell, as typing the page's URL does (pages a role may not use
    are registered hidden, so the page itself must refuse). Signed out: the page file on its own
    (the shell would show the sign-in form instead of running it)."""
    if role is None:
        at = app(None, script=ROOT / "views" / name).run(timeout=TIMEOUT)
        area = leaves(at.main) + leaves(at.sidebar)
    else:
        at = app(make_user(f"user-{role}", role)).run(timeout=TIMEOUT)
        at.switch_page(f"views/{name}").run(timeout=TIMEOUT)
        area = leaves(at.main)
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    if role in PAGES[name]:
        assert NOT_ALLOWED not in errors
        assert len(area) > 1
    else:
        assert errors == [NOT_ALLOWED]
        rendered = [type(e).__name__ for e in area]
        assert rendered == ["Error"], rendered  # exactly "not allowed", nothing else


# --------------------------------------------------------------------------- other people's sessions


@pytest.fixture
def others_session(repo, make_user):
    """A finished and an active session of trainee "owner", with a recognisable reply."""
    owner = make_user("owner", "trainee")
    svc = SessionService(repo, ScenarioLibrary())
    active = svc.start("water-bill-surge", "en", user_id=owner.id)
    svc.say(active.id, "SECRET-REPLY-OF-THE-OWNER about the bill")
    done = svc.start("water-bill-surge", "en", user_id=owner.id)
    svc.say(done.id, "SECRET-REPLY-OF-THE-OWNER again")
    svc.end(done.id)
    return owner, active, done


def _everything(at: AppTest) -> str:
    """Every rendered value, with escape_md's backslashes removed."""
    text = "\n".join(str(getattr(e, "value", "")) for e in leaves(at.main) + leaves(at.sidebar))
    return re.sub(r"\\(.)", r"\1", text)


@pytest.mark.parametrize("which", ["active", "done"])
def test_another_trainee_cannot_open_a_session_by_url(app, make_user, repo, others_session, which):
    _owner, active, done = others_session
    record = active if which == "active" else done
    intruder = make_user("intruder", "trainee")
    for page in ("views/review.py", "views/practice.py"):
        at = _open(app(intruder), page, session=record.id)
        assert not at.exception
        assert [e.value for e in at.error] == [NOT_ALLOWED], page
        assert not at.chat_message and not at.chat_input
        assert "SECRET-REPLY" not in _everything(at)
    turns_before = len(repo.get_turns(record.id))
    assert turns_before == len(repo.get_turns(record.id))


@pytest.mark.parametrize("role", ["trainer", "admin", "hr"])
def test_staff_cannot_continue_someone_elses_conversation(app, make_user, repo, others_session, role):
    _owner, active, _done = others_session
    staff = make_user(f"staff-{role}", role)
    before = len(repo.get_turns(active.id))
    at = _open(app(staff), "views/practice.py", session=active.id)
    assert not at.exception
    assert [e.value for e in at.error] == [NOT_ALLOWED]
    assert not at.chat_input and "SECRET-REPLY" not in _everything(at)
    assert len(repo.get_turns(active.id)) == before


def test_owner_still_sees_their_own_session(app, others_session):
    owner, active, _done = others_session
    at = _open(app(owner), "views/practice.py", session=active.id)
    assert not at.exception and not at.error
    assert "SECRET-REPLY" in _everything(at)


def test_a_trainee_cannot_reach_the_exports(app, make_user, others_session):
    """The exports (CSV/Excel/xAPI of everyone's results) live on the dashboard: hr/trainer/admin."""
    trainee = make_user("nosy", "trainee")
    at = _open(app(trainee), "views/dashboard.py")
    assert [e.value for e in at.error] == [NOT_ALLOWED]
    assert not at.get("download_button") and "owner" not in _everything(at)
