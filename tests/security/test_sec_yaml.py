"""Item 5: YAML is loaded safely. A scenario, line bank, rubric or lexicon file carrying a Python
object tag is rejected (for scenarios and banks with a ``file: field: message`` line) and the
object is never built: the command it names never runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from simulator import rubric, studio
from simulator.understanding import rules as analysis
from simulator import datafile
from simulator.datafile import DataFileError
from simulator.scenario import ScenarioError, parse_line_bank, parse_scenario

ROOT = Path(__file__).resolve().parents[2]


def evil_yaml(marker: Path) -> str:
    return f'id: evil\nlang: en\ntitle: !!python/object/apply:os.system ["touch {marker}"]\n'


def test_cli_validate_rejects_a_python_tag_with_file_field_message(tmp_path):
    marker = tmp_path / "pwned"
    folder = tmp_path / "en"
    folder.mkdir()
    file = folder / "evil.yaml"
    file.write_text(evil_yaml(marker), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "simulator", "validate", str(file)], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    assert re.match(rf"^{re.escape(str(file))}: line \d+: invalid YAML: .*python/object/apply:os\.system", lines[0]), lines
    assert not marker.exists()


def test_parse_scenario_and_line_bank_and_studio_upload_reject_python_tags(tmp_path):
    marker = tmp_path / "pwned"
    with pytest.raises(ScenarioError) as refused:
        parse_scenario(evil_yaml(marker), "en/evil.yaml")
    (file, field, message), = refused.value.problems
    assert file == "en/evil.yaml" and field.startswith("line ") and "python/object/apply" in message
    with pytest.raises(ScenarioError) as refused:
        parse_line_bank(f'angry: !!python/object/apply:os.system ["touch {marker}"]\n', "lines/en.yaml")
    assert refused.value.problems[0][0] == "lines/en.yaml"
    with pytest.raises(ScenarioError):
        studio.parse_uploads([studio.Upload("evil.yaml", evil_yaml(marker).encode())])
    assert not marker.exists()


def test_rubric_and_lexicon_loaders_refuse_python_tags(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    payload = f'x: !!python/object/apply:os.system ["touch {marker}"]\n'
    (tmp_path / "evil.yaml").write_text(payload, encoding="utf-8")
    with pytest.raises(DataFileError, match=f"{tmp_path / 'evil.yaml'}: line 1: invalid YAML: .*python/object/apply"):
        rubric.load_rubric.__wrapped__("evil", folder=tmp_path)
    (tmp_path / "en.yaml").write_text(payload, encoding="utf-8")
    monkeypatch.setattr(analysis, "LEXICON_DIR", tmp_path)
    with pytest.raises(DataFileError, match=f"{tmp_path / 'en.yaml'}: line 1: invalid YAML: .*python/object/apply"):
        analysis.load_lexicon.__wrapped__("en")
    assert not marker.exists()


# yaml.load only in simulator.datafile.safe_load, with the loader checked below
FORBIDDEN = re.compile(r"yaml\.load\((?!text, Loader=_FAST_LOADER\))|yaml\.unsafe_load|yaml\.full_load|Loader\s*=\s*yaml\.(Loader|UnsafeLoader|FullLoader)"
                       r"|yaml\.load_all\(|yaml\.unsafe_load_all")


def test_no_unsafe_yaml_loading_in_the_code():
    files = [ROOT / "streamlit_app.py"] + [
        p for folder in ("simulator", "ui", "views", "scripts", "bench") for p in (ROOT / folder).rglob("*.py")
    ]
    offenders = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in files for m in FORBIDDEN.finditer(p.read_text(encoding="utf-8"))]
    assert not offenders, offenders


def test_the_fast_parser_is_a_safe_loader_and_refuses_python_tags(tmp_path):
    import yaml

    assert datafile._FAST_LOADER in (yaml.CSafeLoader, yaml.SafeLoader)
    marker = tmp_path / "pwned"
    with pytest.raises(yaml.constructor.ConstructorError, match="python/object/apply"):
        datafile.safe_load(f'x: !!python/object/apply:os.system ["touch {marker}"]\n')
    assert not marker.exists()
