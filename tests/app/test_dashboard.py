"""Access rules of the team dashboard and the groups page, and the audit of transcript views."""

from __future__ import annotations

import pytest

from simulator.demo import seed_demo
from simulator.session import SessionService
from simulator.store.teams import VIEW_TRANSCRIPT, TeamStore
from tests.app.page_support import open_tab
from ui.i18n import translate

pytestmark = pytest.mark.database
DASHBOARD, GROUPS, REVIEW = "views/dashboard.py", "views/groups.py", "views/review.py"


def _open(app, user, page, **query):
    at = app(user)
    for key, value in query.items():
        at.query_params[key] = value
    at.switch_page(page)
    return at.run()


@pytest.mark.parametrize("page", [DASHBOARD, GROUPS])
def test_trainee_is_refused(app, make_user, page):
    at = _open(app, make_user("tina", "trainee"), page)
    assert [e.value for e in at.error] == [translate("not_allowed", "en")]
    assert not at.get("plotly_chart")


def test_hr_is_refused_the_groups_page_but_sees_the_dashboard(app, make_user, repo):
    seed_demo(repo, 6, 5, transcripts=False)
    hr = make_user("helen", "hr")
    at = _open(app, hr, GROUPS)
    assert [e.value for e in at.error] == [translate("not_allowed", "en")]
    at = _open(app, hr, DASHBOARD)
    assert not at.exception and not at.error
    assert [m.label for m in at.metric][:4] == [translate(f"dash_metric_{k}", "en") for k in
                                                ("active_trainees", "sessions", "average_overall", "pass_rate")]
    # only the open tab is drawn: three charts on the first, the others when their tab is opened
    assert len(at.get("plotly_chart")) == 3
    drawn = {name: len(open_tab(at, "dash_tab", translate(f"dash_tab_{name}", "en")).get("plotly_chart"))
             for name in ("skills", "scenarios", "learning")}
    assert not at.exception and drawn == {"skills": 2, "scenarios": 3, "learning": 2}


def test_admin_manages_groups(app, make_user, repo):
    admin = make_user("adam", "admin")
    at = _open(app, admin, GROUPS)
    assert not at.exception
    at.text_input(key="groups_new_name").input("Cohort May")
    at.selectbox(key="groups_new_kind").select("cohort")
    at.button[0].click().run()  # the form's submit button
    groups = TeamStore(repo).list_groups()
    assert [(g.name, g.kind) for g in groups] == [("Cohort May", "cohort")]


def test_hr_opening_a_transcript_is_audited_and_shown_to_admins(app, make_user, repo):
    tina, hr, admin = make_user("tina", "trainee"), make_user("helen", "hr"), make_user("adam", "admin")
    svc = SessionService(repo)
    record = svc.start("water-bill-surge", "en", user_id=tina.id, seed=1)
    svc.say(record.id, "So your bill jumped to 512 thousand?")
    svc.end(record.id)
    _open(app, tina, REVIEW, session=record.id)  # the owner: not audited
    assert TeamStore(repo).audit_log() == []
    at = _open(app, hr, REVIEW, session=record.id)
    assert not at.exception
    events = TeamStore(repo).audit_log()
    assert [(e.actor, e.action, e.target) for e in events] == [("helen", VIEW_TRANSCRIPT, f"session:{record.id}")]
    assert events[0].detail["trainee"] == "tina"
    at = _open(app, admin, GROUPS)
    table = at.dataframe[-1].value
    assert "helen" in set(table[translate("groups_audit_who", "en")])


def test_a_pick_on_a_tab_survives_opening_another_tab(app, make_user, repo):
    """Streamlit forgets the value of a widget a run does not draw; a closed tab draws none."""
    seed_demo(repo, 6, 5, transcripts=False)
    at = _open(app, make_user("helen", "hr"), DASHBOARD)
    picker = at.multiselect(key="dash_trainees")
    picker.set_value([picker.options[-1]]).run()
    at.toggle(key="dash_normalised").set_value(False).run()
    chosen = at.multiselect(key="dash_trainees").value
    assert len(chosen) == 1
    open_tab(at, "dash_tab", translate("dash_tab_skills", "en"))
    assert not [w for w in at.multiselect if w.key == "dash_trainees"]  # closed: not drawn
    open_tab(at, "dash_tab", translate("dash_tab_progress", "en"))
    assert at.multiselect(key="dash_trainees").value == chosen
    assert at.toggle(key="dash_normalised").value is False
