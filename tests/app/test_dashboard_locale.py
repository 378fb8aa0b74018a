"""The dashboard in the Indonesian interface: rounded, locale-formatted numbers, no "None" or
English widget texts, named series, a colour-blind-safe heatmap, compact legends, drill-down
links with a name and a date, and exports with Indonesian headers, labels and real dates."""

from __future__ import annotations

import io
import json
import re
from urllib.parse import unquote

import pandas as pd
import pytest

from simulator import exports
from simulator.demo import seed_demo
from simulator.store.teams import TeamStore
from simulator.analytics import prepare_sessions
from tests.app.page_support import open_page, open_tab, tr

pytestmark = pytest.mark.database
ENGLISH = ("Choose options", "Select all", "None", "nan", "completed", "walked_away", "turn_limit")


@pytest.fixture
def hr_id(repo, make_user):
    seed_demo(repo, 8, 6, transcripts=False, seed=5)
    hr = make_user("helen", "hr")
    return repo.set_user_lang(hr.id, "id")


def test_indonesian_dashboard_has_no_raw_numbers_or_english(app, hr_id):
    at = open_page(app(hr_id), "views/dashboard.py")
    assert not at.exception
    values = {m.label: m.value for m in at.metric}
    avg = values[tr("dash_metric_average_overall", "id")]
    assert re.fullmatch(r"\d{1,3},\d", avg), avg  # 54,1 - not 54.1429
    assert re.fullmatch(r"\d{1,3}%", values[tr("dash_metric_pass_rate", "id")])
    for widget in at.multiselect:
        assert widget.placeholder == tr("dash_choose", "id")
        assert widget.proto.select_all == 0  # Streamlit's "Select all" is English only
    for frame in (df.value for df in at.dataframe):
        cells = frame.astype(str).to_numpy().ravel().tolist() + [str(c) for c in frame.columns]
        for cell in cells:
            assert cell not in ENGLISH, cell
            assert not re.fullmatch(r"-?\d+\.\d{2,}", cell), cell  # unrounded
    for chart in at.get("plotly_chart"):
        figure = chart.proto.spec
        assert '"name":"\\u2014"' not in figure and '"name":"—"' not in figure
        assert "RdYlGn" not in figure
        assert '"separators":",."' in figure.replace(" ", "")


def test_drill_down_link_names_the_person_and_date(app, hr_id, repo):
    at = open_page(app(hr_id), "views/dashboard.py")
    person = at.selectbox(key="dash_person").options[0]
    at.selectbox(key="dash_person").select(person).run()
    facts = [c.value for c in at.caption if "·" in c.value]
    assert facts and not facts[0].startswith("Tim Tim")
    table = at.dataframe[-1].value
    when = table[tr("progress_col_when", "id")].iloc[0]
    assert re.fullmatch(r"\d{1,2} \w{3} \d{4} \d{2}\.\d{2}", when), when
    # the review links read "<name>, <date>", not "Buka tinjauan"
    links = shown_links(at.dataframe[-1])
    assert links[0] == f"{person}, {when}", links
    open_tab(at, "dash_tab", tr("dash_tab_attention", "id"))
    attention = next(df for df in at.dataframe if df.proto.id and "dash_attention_table" in df.proto.id)
    shown = shown_links(attention)
    names = attention.value[tr("dash_col_trainee", "id")].tolist()
    assert shown and all(re.fullmatch(rf"{re.escape(n)}, \d{{1,2}} \w{{3}} \d{{4}} \d{{2}}\.\d{{2}}", text)
                         for n, text in zip(names, shown, strict=True)), shown


def shown_links(dataframe) -> list[str]:
    """The review column as the browser shows it: Streamlit's LinkColumn displays the first
    capture of its ``display_text`` pattern, URL-decoded (else the URL, or a fixed text)."""
    column = tr("progress_col_review", "id")
    display = json.loads(dataframe.proto.columns)[column]["type_config"]["display_text"]
    assert "(" in display and ")" in display, display  # a pattern, not one fixed text for every row
    found = [re.search(display, url) for url in dataframe.value[column]]
    assert all(found), dataframe.value[column].tolist()
    assert all(re.fullmatch(r"review\?session=[\w-]+#[^#]+", url) for url in dataframe.value[column])
    return [unquote(match[1]) for match in found]


def test_exports_speak_the_interface_language(repo, hr_id):
    seed = TeamStore(repo)
    frame = prepare_sessions(seed.session_scores(), seed.memberships(), seed.assignments())
    labels = exports.ExportLabels(
        headers={"outcome": "Hasil", "started_at": "Mulai (UTC)", "scenario_id": "Skenario"},
        values={"outcome": {"resolved": "Selesai"}, "scenario_id": {"water-bill-surge": "Tagihan air"}},
        sheets={"sessions": "Sesi"},
    )
    book = pd.read_excel(io.BytesIO(exports.to_xlsx(frame, labels)), sheet_name=None)
    sessions = book["Sesi"]
    assert "Hasil" in sessions.columns and "outcome" not in sessions.columns
    assert pd.api.types.is_datetime64_any_dtype(sessions["Mulai (UTC)"])  # real dates, not text
    if (frame["outcome"] == "resolved").any():
        assert "Selesai" in set(sessions["Hasil"]) and "resolved" not in set(sessions["Hasil"])
    text = exports.to_csv(frame, labels).decode("utf-8-sig").splitlines()[0]
    assert "Hasil" in text and "outcome" not in text
    # the command line's export keeps the stable codes
    assert "outcome" in exports.to_csv(frame).decode("utf-8-sig").splitlines()[0]
