"""The progress page (/progress): the signed-in trainee's charts and their past sessions."""

from __future__ import annotations

import json

from simulator import analytics
from simulator.session import SessionService
from tests.app.page_support import open_page, open_tab, tr
from ui.i18n import translate

PAGE = "views/progress.py"
NOT_ALLOWED = translate("not_allowed", "en")


def play(service: SessionService, user_id: int, lines: list[str], scenario: str = "water-bill-surge") -> str:
    record = service.start(scenario, "en", user_id=user_id, seed=5)
    for line in lines:
        if service.session(record.id).status != "active":
            break
        service.say(record.id, line)
    service.end(record.id)
    return record.id


WEAK = ["That is our procedure."]
BETTER = ["I'm sorry. So your bill went up six times?", "What is your customer number?"]


def test_no_sessions_yet(app, make_user):
    at = open_page(app(make_user("ana")), PAGE)
    assert not at.exception
    assert tr("progress_empty") in [i.value for i in at.main.info]
    assert not at.get("plotly_chart")


def test_charts_and_the_table_of_past_sessions(app, make_user, service, repo):
    ana, bob = make_user("ana"), make_user("bob")
    ids = [play(service, ana.id, WEAK), play(service, ana.id, BETTER), play(service, ana.id, BETTER + WEAK)]
    branch = service.branch(ids[0], 1, "I'm so sorry, your bill went up six times?").session_id
    active = service.start("prepaid-no-credit", "en", user_id=ana.id, seed=1).id
    theirs = play(service, bob.id, BETTER)

    at = open_page(app(ana), PAGE)
    assert not at.exception
    m = {x.label: x.value for x in at.metric}
    assert m[tr("progress_attempts")] == "3"  # branches and unfinished sessions are not attempts
    overall = [repo.get_session(sid).overall for sid in ids]
    assert m[tr("progress_latest")] == f"{overall[-1]:.0f}"
    assert m[tr("progress_best")] == f"{max(overall):.0f}"

    frame = analytics.sessions_frame(
        repo.list_sessions(user_id=ana.id), {sid: repo.get_scores(sid) for sid in ids}
    )
    dims = analytics.dimension_trend(frame)["dimension"].nunique()
    # only the open tab is drawn: the overall chart first, the others when their tab is opened
    assert [c.key for c in at.get("plotly_chart")] == ["chart_overall"]
    open_tab(at, "progress_tab", tr("progress_dimensions_heading"))
    charts = at.get("plotly_chart")
    assert len(charts) == dims
    # rows of three, so a phone (which stacks columns) shows the dimensions in the rubric's order
    titles = [json.loads(c.proto.spec)["layout"]["title"]["text"] for c in charts]
    labels = {key: dim.label.get("en") for key, dim in service.rubric.dimensions.items()}
    assert titles == [labels[k] for k in dict.fromkeys(analytics.dimension_trend(frame)["dimension"])]
    open_tab(at, "progress_tab", tr("progress_first_latest_heading"))
    assert [c.key for c in at.get("plotly_chart")] == ["chart_first_latest"]

    table = at.dataframe[-1].value
    links = list(table[tr("progress_col_review")])
    assert sorted(links) == sorted(f"review?session={sid}" for sid in [*ids, branch, active])
    assert f"review?session={theirs}" not in links
    kinds = dict(zip(links, table[tr("progress_col_kind")], strict=True))
    assert kinds[f"review?session={branch}"] == tr("progress_kind_branch")
    outcomes = dict(zip(links, table[tr("practice_outcome")], strict=True))
    assert outcomes[f"review?session={active}"] == tr("practice_outcome_none")
    assert outcomes[f"review?session={ids[0]}"] == tr("practice_outcome_abandoned")

    # the first-vs-latest table agrees with the analytics
    first_latest = at.dataframe[0].value
    expected = analytics.first_vs_latest(frame)
    assert list(first_latest[tr("progress_chart_first")]) == list(expected["first"])
    assert list(first_latest[tr("progress_chart_latest")]) == list(expected["latest"])

    # picking a session offers a link to its review
    at.selectbox(key="progress_pick").set_value(ids[1]).run()
    link = at.get("page_link")[-1]
    assert link.proto.label == tr("progress_open_review")
    assert f"session={ids[1]}" in link.proto.query_string


def test_hr_is_not_allowed(app, make_user):
    at = open_page(app(make_user("hana", "hr")), PAGE)
    assert [e.value for e in at.error] == [NOT_ALLOWED]
    assert not at.get("plotly_chart") and not at.dataframe


def test_indonesian_labels(app, make_user, service, repo):
    ana = make_user("ana")
    repo.set_user_lang(ana.id, "id")
    play(service, ana.id, BETTER)
    at = open_page(app(ana), PAGE)
    assert not at.exception
    assert at.title[0].value == tr("progress_title", "id")
    assert tr("progress_col_review", "id") in at.dataframe[-1].value.columns
