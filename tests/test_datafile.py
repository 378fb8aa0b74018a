"""Every YAML data file reports problems as "<file>: <field.path>: <message>"."""

import pytest

from simulator.understanding.rules import Lexicon
from simulator.datafile import DataFileError, load_yaml
from simulator.mood import MoodParams
from simulator.rubric import Rubric


@pytest.mark.parametrize("model", [Rubric, Lexicon, MoodParams])
def test_broken_yaml_names_the_file_and_line(tmp_path, model):
    path = tmp_path / "broken.yaml"
    path.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(DataFileError) as exc:
        load_yaml(path, model)
    assert str(exc.value).startswith(f"{path}: line ") and "invalid YAML" in str(exc.value)


def test_invalid_field_names_the_field(tmp_path):
    path = tmp_path / "rubric.yaml"
    path.write_text("name: x\npass_mark: 170\ndimensions: {}\n", encoding="utf-8")
    with pytest.raises(DataFileError) as exc:
        load_yaml(path, Rubric)
    assert f"{path}: pass_mark: Input should be less than or equal to 100" in str(exc.value).splitlines()


def test_missing_file_is_reported_not_raised_raw(tmp_path):
    with pytest.raises(DataFileError) as exc:
        load_yaml(tmp_path / "nope.yaml", Rubric)
    assert str(exc.value).startswith(f"{tmp_path / 'nope.yaml'}: (file): cannot read")
