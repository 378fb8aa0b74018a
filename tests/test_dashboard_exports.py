"""Exports of the team dashboard: CSV/Excel open with pandas, formula injection neutralised,
xAPI statements follow the xAPI statement rules; `export` and `seed-demo` on the command line."""

from __future__ import annotations

import io
import json
import re

import openpyxl
import pandas as pd
import pytest

from simulator import analytics, exports
from simulator.cli import main
from tests.test_dashboard_analytics import ASSIGN, DATA, MEMBERS, raw

IRI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s]+$")
DURATION = re.compile(r"^P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?"
                      r"(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def statement_problems(s: dict) -> list[str]:
    """The xAPI 1.0.3 statement rules that apply to what we send (Data section 2.4)."""
    problems = []
    for key in ("actor", "verb", "object"):
        if key not in s:
            problems.append(f"missing {key}")
    actor = s.get("actor", {})
    ifis = [k for k in ("mbox", "mbox_sha1sum", "openid", "account") if k in actor]
    if actor.get("objectType", "Agent") != "Agent" or len(ifis) != 1:
        problems.append("actor: an Agent needs exactly one inverse functional identifier")
    account = actor.get("account", {})
    if not IRI.match(str(account.get("homePage", ""))) or not account.get("name"):
        problems.append("actor.account: homePage (IRL) and name required")
    verb = s.get("verb", {})
    if not IRI.match(str(verb.get("id", ""))):
        problems.append("verb.id: not an IRI")
    obj = s.get("object", {})
    if obj.get("objectType", "Activity") != "Activity" or not IRI.match(str(obj.get("id", ""))):
        problems.append("object: an Activity with an IRI id")
    result = s.get("result", {})
    scaled = result.get("score", {}).get("scaled")
    if scaled is not None and not -1 <= scaled <= 1:
        problems.append("result.score.scaled outside [-1, 1]")
    score = result.get("score", {})
    if "raw" in score and not score.get("min", score["raw"]) <= score["raw"] <= score.get("max", score["raw"]):
        problems.append("result.score.raw outside min..max")
    if "success" in result and not isinstance(result["success"], bool):
        problems.append("result.success: not a boolean")
    if "duration" in result and not DURATION.match(result["duration"]):
        problems.append("result.duration: not ISO 8601")
    if "id" in s and not UUID.match(s["id"]):
        problems.append("id: not a UUID")
    if "timestamp" in s and not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$", s["timestamp"]):
        problems.append("timestamp: not ISO 8601")
    for key, value in (s.get("context", {}).get("extensions") or {}).items():
        if not IRI.match(key):
            problems.append(f"context.extensions: key {key!r} is not an IRI")
    return problems


@pytest.fixture
def frame():
    return analytics.prepare_sessions(DATA, MEMBERS, ASSIGN)


def test_csv_and_xlsx_open_with_pandas(frame):
    sessions = pd.read_csv(io.BytesIO(exports.to_csv(frame)), encoding="utf-8-sig")
    assert list(sessions["session_id"]) == ["s1", "s4", "s2", "s5", "s3"]
    assert sessions.loc[0, "listening"] == 40 and sessions.loc[0, "team"] == "T1"
    scores = pd.read_csv(io.BytesIO(exports.scores_csv(frame)), encoding="utf-8-sig")
    assert len(scores) == 9 and set(scores["dimension"]) == {"listening", "empathy"}
    book = pd.read_excel(io.BytesIO(exports.to_xlsx(frame)), sheet_name=None)
    assert set(book) == {"sessions", "scores"}
    assert len(book["sessions"]) == 5 and len(book["scores"]) == 9
    assert book["sessions"].loc[4, "overall"] == 80


def test_csv_quotes_awkward_text_and_leaves_missing_scores_blank():
    """Commas, quotes and line breaks in a name survive the round trip; a dimension that did not
    apply is an empty field (not "nan"); scores keep one decimal."""
    odd = analytics.prepare_sessions(raw([("s1", 1, 'Ana, "the" \nBoss', "x", "id", "resolved", 50.25, "2026-01-05",
                                           {"listening": 40.0})]))
    text = exports.to_csv(odd).decode("utf-8-sig")
    assert "nan" not in text.lower()
    sessions = pd.read_csv(io.StringIO(text), keep_default_na=False, dtype=str)
    assert sessions.loc[0, "user"] == 'Ana, "the" \nBoss'
    assert sessions.loc[0, "listening"] == "40.0" and sessions.loc[0, "empathy"] == ""
    assert sessions.loc[0, "overall"] in ("50.2", "50.3")


def test_xlsx_holds_the_sessions_times_as_dates_and_text_as_plain_text(frame):
    """Dates are the sessions' own UTC times (to the second), blanks stay blank, and a name that
    looks like a link or a number is kept as text (no hyperlink, no number guessing)."""
    book = pd.read_excel(io.BytesIO(exports.to_xlsx(frame)), sheet_name="sessions")
    expected = frame["ended_at"].dt.tz_convert("UTC").dt.tz_localize(None).reset_index(drop=True)
    assert (book["ended_at"] - expected).abs().max() < pd.Timedelta(seconds=1)
    assert book["listening"].isna().sum() == frame["listening"].isna().sum()
    odd = analytics.prepare_sessions(raw([("s1", 1, "http://x.example", "x", "id", "resolved", 50, "2026-01-05", {}),
                                          ("s2", 2, "007", "x", "id", "resolved", 60, "2026-01-06", {})]))
    sheet = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx(odd)))["sessions"]
    column = [c.value for c in sheet[1]].index("user") + 1
    cells = [sheet.cell(row=r, column=column) for r in (2, 3)]
    assert [c.value for c in cells] == ["http://x.example", "007"]
    assert all(c.data_type == "s" and c.hyperlink is None for c in cells)


def test_xlsx_sheets_have_a_bold_frozen_filtered_header_and_readable_columns(frame):
    """Each sheet opens on a bold header that stays in view, with a filter over every row, date
    cells shown as date and time, and columns wide enough for their headers."""
    book = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx(frame)))
    for sheet, rows in (("sessions", 5), ("scores", 9)):
        ws = book[sheet]
        header = [c for c in ws[1]]
        assert all(c.font.b for c in header) and not any(c.font.b for c in ws[2])
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref == f"A1:{header[-1].column_letter}{rows + 1}"
        ended = next(c for c in header if c.value == "ended_at")
        assert ws.cell(row=2, column=ended.column).number_format == "yyyy-mm-dd hh:mm"
        width = {i: d.width for d in ws.column_dimensions.values() for i in range(d.min, d.max + 1)}
        assert width[ended.column] >= 17
        assert all(width[c.column] >= len(c.value) for c in header)


@pytest.mark.parametrize("bad", ["=HYPERLINK(\"http://x\")", "+1+2", "-3", "@SUM(A1)"])
def test_formula_injection_is_neutralised(bad):
    evil = analytics.prepare_sessions(raw([("s1", 1, bad, "x", "id", "resolved", 50, "2026-01-05", {})]))
    sessions = pd.read_csv(io.BytesIO(exports.to_csv(evil)), encoding="utf-8-sig", dtype=str)
    assert sessions.loc[0, "user"] == "'" + bad
    book = pd.read_excel(io.BytesIO(exports.to_xlsx(evil)), sheet_name="sessions", dtype=str)
    assert book.loc[0, "user"] == "'" + bad
    assert exports.neutralise("fine") == "fine" and exports.neutralise(-3) == -3


def test_xapi_statements_follow_the_statement_rules(frame):
    statements = json.loads(exports.to_xapi_json(frame, "https://tenang.example.org", {("x", "id"): "Tagihan"}))
    assert len(statements) == 5
    for s in statements:
        assert statement_problems(s) == [], s
        assert s["verb"]["id"] == "http://adlnet.gov/expapi/verbs/completed"
        assert s["result"]["duration"] == "PT10M"
    first = statements[0]
    assert first["actor"]["account"] == {"homePage": "https://tenang.example.org", "name": "ana"}
    assert first["object"]["id"] == "https://tenang.example.org/scenarios/id/x"
    assert first["object"]["definition"]["name"] == {"id-ID": "Tagihan"}
    assert first["result"]["score"]["scaled"] == 0.5 and first["result"]["success"] is False  # pass mark 55
    assert [s["result"]["success"] for s in statements] == [False, True, False, False, True]
    assert len({s["id"] for s in statements}) == 5
    assert exports.xapi_statements(frame)[0]["id"] == first["id"]  # stable: re-export does not duplicate


def test_the_validator_catches_broken_statements(frame):
    good = exports.xapi_statements(frame)[0]
    assert statement_problems({**good, "result": {"score": {"scaled": 1.5}}})
    assert statement_problems({**good, "result": {"duration": "10 minutes"}})
    assert statement_problems({k: v for k, v in good.items() if k != "verb"})
    assert statement_problems({**good, "object": {"id": "not an iri"}})


def test_iso_duration():
    assert exports.iso_duration(0) == "PT0S"
    assert exports.iso_duration(3723.5) == "PT1H2M3.5S"
    assert exports.iso_duration(600) == "PT10M"


@pytest.mark.database
def test_seed_demo_then_export_on_the_command_line(db_url, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert main(["seed-demo", "--trainees", "6", "--sessions", "4", "--no-transcripts"]) == 0
    assert "seeded 6 trainees" in capsys.readouterr().out
    for fmt in ("csv", "xlsx", "xapi"):
        out = tmp_path / f"out.{fmt}"
        assert main(["export", "--format", fmt, "--out", str(out), "--role", "trainee"]) == 0
    assert len(pd.read_csv(tmp_path / "out.csv", encoding="utf-8-sig")) == 24
    assert len(pd.read_excel(tmp_path / "out.xlsx", sheet_name="sessions")) == 24
    statements = json.loads((tmp_path / "out.xapi").read_text())
    assert len(statements) == 24 and all(statement_problems(s) == [] for s in statements)
    assert main(["export", "--format", "csv", "--out", str(tmp_path / "x.csv"), "--team", "Nope"]) == 1
    assert "unknown group" in capsys.readouterr().err
    from simulator.store import open_repository

    repo = open_repository(db_url)
    assert not repo.get_user_by_name("demo-hr").has_password  # no usable password unless asked
    repo.close()
