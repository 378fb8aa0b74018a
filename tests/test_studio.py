"""simulator/studio.py (pure: validation, YAML round trip, form mapping, diff, scaffolds, zip
import/export) and simulator/store/authoring.py (versions, publishing, stats, assignments; real DB)."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import pytest

from simulator import studio
from simulator.scenario import Scenario, ScenarioError, ScenarioLibrary, UnknownScenario, parse_scenario
from simulator.session import SessionService
from simulator.store.authoring import AuthoringStore
from simulator.store.repository import ConflictError

LIB = ScenarioLibrary()
BUILTIN = LIB.ids()


def test_yaml_and_form_round_trip_every_builtin():
    for scenario in LIB.all():
        assert parse_scenario(studio.to_yaml(scenario)) == scenario
        data = scenario.model_dump(mode="json", exclude_none=True)
        assert Scenario.model_validate(studio.form_data(studio.form_values(data))) == scenario


def test_validate_names_file_and_field():
    text = studio.skeleton("office-hours").replace("difficulty: 1", "difficulty: 9") + "colour: red\n"
    scenario, problems = studio.validate(text, "en/office-hours.yaml", BUILTIN)
    assert scenario is None
    lines = studio.format_problems(problems)
    assert any(line.startswith("en/office-hours.yaml: difficulty: ") for line in lines)
    assert "en/office-hours.yaml: colour: Extra inputs are not permitted" in lines
    _, problems = studio.validate("id: [unclosed", "x.yaml")
    assert problems[0][0] == "x.yaml" and "invalid YAML" in problems[0][2]
    _, problems = studio.validate(studio.skeleton("water-bill-surge"), "x.yaml", BUILTIN)
    assert problems == [("x.yaml", "id", "'water-bill-surge' is a built-in scenario; choose another id")]


def test_skeletons_are_valid_in_both_languages():
    for lang in ("en", "id"):
        assert studio.validate(studio.skeleton("a-b", lang), "s.yaml", BUILTIN)[0].lang == lang


def test_duplicate_and_translate_scaffold():
    original = LIB.get("water-bill-surge", "en")
    copy = studio.duplicate(original, "water-bill-branch")
    assert copy.id == "water-bill-branch" and copy.persona == original.persona
    with pytest.raises(ValueError, match="id"):
        studio.duplicate(original, "Not An Id")
    scaffold = parse_scenario(studio.translate_scaffold(original))
    assert scaffold.lang == "id" and scaffold.id == original.id
    assert scaffold.title == studio.TRANSLATE_MARK + original.title
    assert scaffold.persona.temperament == original.persona.temperament
    assert [f.id for f in scaffold.hidden_facts] == [f.id for f in original.hidden_facts]
    assert studio.untranslated(studio.translate_scaffold(original)) > 5


def test_diff():
    assert studio.diff("a: 1\n", "a: 1\n") == ""
    text = studio.diff("a: 1\nb: 2\n", "a: 1\nb: 3\n", "v1", "v2")
    assert "--- v1" in text and "-b: 2" in text and "+b: 3" in text


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_import_good_files_and_zip_and_export_round_trip():
    a, b = studio.skeleton("alpha"), studio.skeleton("beta", "id")
    found = studio.parse_uploads(
        [studio.Upload("alpha.yaml", a.encode()), studio.Upload("more.zip", _zip({"id/beta.yaml": b.encode()}))], BUILTIN
    )
    assert [(s.id, s.lang) for s, _ in found] == [("alpha", "en"), ("beta", "id")]
    exported = studio.export_zip([(s.id, s.lang, text) for s, text in found])
    again = studio.parse_uploads([studio.Upload("all.zip", exported)], BUILTIN)
    assert [(s.id, s.lang) for s, _ in again] == [("alpha", "en"), ("beta", "id")]


@pytest.mark.parametrize(
    "uploads, expected",
    [
        ([("bad.yaml", b"id: [oops")], ("bad.yaml", "line 1")),
        ([("x.yaml", (studio.skeleton("x") + "colour: red\n").encode())], ("x.yaml", "colour")),
        ([("a.yaml", studio.skeleton("dup").encode()), ("b.yaml", studio.skeleton("dup").encode())], ("b.yaml", "id")),
        ([("big.yaml", b"#" * 1_000_001)], ("big.yaml", "(file)")),
        ([("s.zip", _zip({"en/ok.yaml": studio.skeleton("ok").encode(), "readme.txt": b"hi"}))], ("s.zip/readme.txt", "(file)")),
        ([("notes.txt", b"hello")], ("notes.txt", "(file)")),
        ([("s.zip", b"not a zip")], ("s.zip", "(file)")),
        ([("w.yaml", studio.skeleton("water-bill-surge").encode())], ("w.yaml", "id")),
    ],
)
def test_import_bad_input_names_file_and_field(uploads, expected):
    with pytest.raises(ScenarioError) as refused:
        studio.parse_uploads([studio.Upload(name, data) for name, data in uploads], BUILTIN)
    assert expected in [(f, field) for f, field, _ in refused.value.problems]


# --------------------------------------------------------------------------- the store


@pytest.fixture
def store(repo) -> AuthoringStore:
    return AuthoringStore(repo)


@pytest.fixture
def trainer(repo):
    return repo.add_user("tia", "trainer", None)


@pytest.mark.database
def test_versions_publish_and_summaries(store, trainer):
    text = studio.skeleton("alpha")
    v1 = store.save_version("alpha", "en", text, trainer.id)
    v2 = store.save_version("alpha", "en", text.replace("New scenario", "Alpha"), trainer.id)
    assert (v1.version, v2.version, v2.author_name, v2.published) == (1, 2, "tia", False)
    assert [v.version for v in store.versions("alpha", "en")] == [2, 1]
    assert store.latest("alpha", "en").version == 2 and store.published("alpha", "en") is None
    store.set_published("alpha", "en", 1)
    assert store.published("alpha", "en").version == 1
    store.set_published("alpha", "en", 2)
    assert [v.published for v in store.versions("alpha", "en")] == [True, False]
    assert [(s.scenario_id, s.latest, s.published_version) for s in store.summaries()] == [("alpha", 2, 2)]
    store.set_published("alpha", "en", None)
    assert store.published("alpha", "en") is None and store.all_published() == []


@pytest.mark.database
def test_save_many_is_all_or_nothing(store, trainer):
    with pytest.raises(ConflictError):
        store.save_many([("a", "en", "x: 1"), ("a", "en", "x: 2")], trainer.id)
    with pytest.raises(ValueError):
        store.save_many([("b", "en", "x: 1"), ("c", "xx", "x: 1")], trainer.id)
    assert store.summaries() == []


@pytest.mark.database
def test_library_overlay_sessions_record_version_and_stats(repo, store, trainer):
    trainee = repo.add_user("ana", "trainee", None)
    library = studio.StudioLibrary(LIB, store)
    store.save_version("alpha", "en", studio.skeleton("alpha"), trainer.id)
    with pytest.raises(UnknownScenario):
        library.get("alpha", "en")  # a draft is not playable by trainees
    assert "alpha" not in library.ids()
    service = SessionService(repo, library)
    drive = service.start("alpha", "en", user_id=trainer.id, version=1, seed=1)  # test drive of the draft
    assert drive.scenario_version == 1
    service.say(drive.id, "Your bill is too high this month; may I see it?")
    service.end(drive.id)

    store.set_published("alpha", "en", 1)
    store.save_version("alpha", "en", studio.skeleton("alpha").replace("New scenario", "Alpha v2"), trainer.id)
    assert library.get("alpha", "en").title == "New scenario"  # still the published version 1
    record = service.start("alpha", "en", user_id=trainee.id, seed=1)
    assert record.scenario_version == 1
    store.set_published("alpha", "en", 2)
    assert service.scenario_for(record).title == "New scenario"  # the version it was played on
    service.end(record.id)
    builtin = service.start("water-bill-surge", "en", user_id=trainee.id, seed=1)
    assert builtin.scenario_version is None
    stats = store.play_stats()
    assert stats[("alpha", "en")].played == 1  # the trainer's test drive is not counted
    assert stats[("alpha", "en")].average is not None


@pytest.mark.database
def test_assignments_direct_and_through_group(repo, store, trainer):
    from sqlalchemy.orm import Session

    from simulator.store.models import Group, GroupMember

    ana = repo.add_user("ana", "trainee", None)
    with Session(repo.engine) as session:
        group = Group(name="Counter team", kind="team")
        session.add(group)
        session.flush()
        session.add(GroupMember(group_id=group.id, user_id=ana.id))
        session.commit()
        group_id = group.id
    store.assign("water-bill-surge", "en", user_id=ana.id, due_date=date(2030, 1, 5), pass_mark=70, created_by=trainer.id)
    store.assign("threat-lawsuit", "en", group_id=group_id, due_date=date(2030, 1, 1), created_by=trainer.id)
    store.assign("wrong-agency", "id", group_id=group_id, created_by=trainer.id)
    mine = store.assignments_for(ana.id)
    assert [a.scenario_id for a in mine] == ["threat-lawsuit", "water-bill-surge", "wrong-agency"]
    assert mine[0].group_name == "Counter team" and mine[1].pass_mark == 70
    assert store.assignments_for(trainer.id) == []
    with pytest.raises(ValueError):
        store.assign("x", "en", user_id=ana.id, group_id=group_id)
    with pytest.raises(ValueError):
        store.assign("x", "en", user_id=ana.id, pass_mark=120)
    store.delete_assignment(mine[0].id)
    assert len(store.assignments()) == 2
    assert [g.name for g in store.groups()] == ["Counter team"]
