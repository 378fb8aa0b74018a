"""The command line, run as a user runs it: `python -m simulator ...` in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.store import open_repository

ROOT = Path(__file__).resolve().parent.parent
CONTRACT_IDS = {
    "water-bill-surge", "prepaid-no-credit", "catering-stale-food", "vehicle-registration-delay",
    "threat-violence", "threat-lawsuit", "elderly-confused-app", "wrong-agency", "ignored-complaint",
    "warranty-defect",
}


@pytest.fixture
def cli(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    env.pop("OPENAI_API_KEY", None)

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "simulator", *args],
            input=stdin, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120,
        )

    return run


def test_validate_builtin_scenarios(cli):
    result = cli("validate", "scenarios")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "20 scenario file(s) valid" in result.stdout


def test_validate_reports_file_field_message_and_no_traceback(cli, tmp_path):
    bad = tmp_path / "en" / "broken.yaml"
    bad.parent.mkdir()
    bad.write_text("id: broken\nlang: en\ntitle: x\ndifficulty: 9\n", encoding="utf-8")
    garbage = tmp_path / "en" / "garbage.yaml"
    garbage.write_text("id: [unclosed\n", encoding="utf-8")
    result = cli("validate", str(tmp_path))
    assert result.returncode == 1
    assert f"{bad}: difficulty: Input should be less than or equal to 3" in result.stdout
    assert f"{bad}: persona: Field required" in result.stdout
    assert f"{garbage}: line " in result.stdout and "invalid YAML" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_list_json(cli):
    result = cli("list", "--json", "--lang", "id")
    rows = json.loads(result.stdout)
    assert {r["id"] for r in rows} == CONTRACT_IDS
    assert all(r["lang"] == "id" and r["title"] for r in rows)


def test_analyze_json_lines(cli):
    lines = [
        {"trainee": "Maaf, tapi itu sudah prosedur kami.", "lang": "id"},
        {"trainee": "I'm so sorry. I'll have a technician there within 2 working days.", "lang": "en"},
        {"trainee": "Please contact our legal department at legal@pdam.example.", "customer": "I'll sue you!"},
    ]
    result = cli("analyze", "--lang", "en", stdin="\n".join(json.dumps(x) for x in lines) + "\n")
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 3
    assert set(out[0]) == {"tags", "referral_target", "evidence"}
    assert "defensive" in out[0]["tags"] and "apology" not in out[0]["tags"]
    assert {"apology", "time_estimate"} <= set(out[1]["tags"])
    assert out[2]["referral_target"] == "legal"
    assert "referral" in out[2]["evidence"]


def test_analyze_bad_line_is_reported_not_crashed(cli):
    result = cli("analyze", stdin='{"trainee": "hello"}\nnot json\n')
    assert result.returncode == 1
    out = result.stdout.splitlines()
    assert len(out) == 2 and "error" in json.loads(out[1]) and "line 2" in json.loads(out[1])["error"]


def test_play_with_trainee_file_json(cli, tmp_path):
    replies = tmp_path / "replies.txt"
    replies.write_text(
        "I'm sorry about this bill, that must be a real shock.\n\n"
        "So your bill jumped to over 500 thousand though nothing changed at home?\n",
        encoding="utf-8",
    )
    result = cli("play", "water-bill-surge", "--lang", "en", "--trainee-file", str(replies), "--json", "--seed", "3")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"scenario", "lang", "outcome", "overall", "dimensions", "turns"}
    assert data["scenario"] == "water-bill-surge" and data["lang"] == "en"
    speakers = [t["speaker"] for t in data["turns"]]
    assert speakers == ["customer", "trainee", "customer", "trainee", "customer"]
    assert all(set(t) == {"speaker", "text", "tags", "mood"} for t in data["turns"])
    assert "apology" in data["turns"][1]["tags"]
    assert set(data["dimensions"]) <= {
        "listening", "empathy", "apology", "non_defensive", "diagnosis", "referral", "commitment", "resolution", "composure"
    }
    again = cli("play", "water-bill-surge", "--lang", "en", "--trainee-file", str(replies), "--json", "--seed", "3")
    assert json.loads(again.stdout)["turns"] == data["turns"]  # deterministic for a seed


def test_play_unknown_id_names_the_known_ones(cli):
    result = cli("play", "no-such-thing", "--lang", "en", "--trainee-file", "/dev/null")
    assert result.returncode == 1
    assert "unknown scenario 'no-such-thing'" in result.stderr and "water-bill-surge" in result.stderr
    assert "Traceback" not in result.stderr


def test_play_interactive(cli):
    result = cli("play", "wrong-agency", "--lang", "en", stdin="Hello, how can I help?\n/end\n")
    assert result.returncode == 0, result.stderr
    assert "Outcome:" in result.stdout and "You:" in result.stdout


def test_users_add(cli):
    ok = cli("users", "add", "dewi", "--role", "trainee", "--password-stdin", stdin="a-long-password\n")
    assert ok.returncode == 0, ok.stderr
    dup = cli("users", "add", "dewi", "--role", "trainee", "--password-stdin", stdin="a-long-password\n")
    assert dup.returncode == 1 and "dewi" in dup.stderr
    short = cli("users", "add", "rina", "--role", "trainee", "--password-stdin", stdin="xq7\n")
    assert short.returncode == 1 and "password" in short.stderr and "xq7" not in short.stderr


def test_users_add_sets_the_interface_language(cli, tmp_path):
    """Indonesian unless --lang says otherwise (no setting names a default interface language)."""
    default = cli("users", "add", "dewi", "--role", "trainee", "--password-stdin", stdin="a-long-password\n")
    assert default.returncode == 0, default.stderr
    assert "interface language id" in default.stdout
    english = cli("users", "add", "rina", "--role", "hr", "--lang", "en", "--password-stdin", stdin="a-long-password\n")
    assert english.returncode == 0, english.stderr
    bad = cli("users", "add", "budi", "--role", "trainee", "--lang", "fr", "--password-stdin", stdin="a-long-password\n")
    assert bad.returncode != 0 and "--lang" in bad.stderr and "Traceback" not in bad.stderr
    repo = open_repository(f"sqlite:///{tmp_path / 'cli.db'}")
    try:
        assert repo.get_user_by_name("dewi").ui_lang == "id"
        assert repo.get_user_by_name("rina").ui_lang == "en"
        assert repo.get_user_by_name("budi") is None
    finally:
        repo.close()


def test_schema_file_is_up_to_date(cli):
    result = cli("schema")
    assert result.stdout == (ROOT / "scenarios" / "schema.json").read_text(encoding="utf-8")
