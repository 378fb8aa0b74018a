"""Scenario Studio logic: validation, YAML round trips, diffs, duplicate and translate scaffolds,
zip import/export, and the library that adds published authored scenarios to the built-in ones.

Pure where possible: everything but :class:`StudioLibrary` works on text, bytes and models.
Problems are ``(file, field.path, message)`` triples, shown as ``file: field.path: message``.
"""

from __future__ import annotations

import difflib
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

import yaml

from simulator.datafile import format_problem
from simulator.scenario import (
    LANGUAGES,
    Scenario,
    ScenarioError,
    ScenarioLibrary,
    ScenarioWarning,
    UnknownScenario,
    parse_scenario,
)

if TYPE_CHECKING:
    from simulator.store.authoring import AuthoringStore

UPLOAD_MAX = 1_000_000  # bytes: one uploaded file, and one file inside a zip
ZIP_MAX_FILES = 200
SCENARIO_SUFFIXES = (".yaml", ".yml")
TRANSLATE_MARK = "[translate] "
Problem = tuple[str, str, str]


# --------------------------------------------------------------------------- YAML and validation


class _Dumper(yaml.SafeDumper):
    pass


def _str_representer(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str_representer)


def to_yaml(data: Scenario | dict[str, Any]) -> str:
    """Scenario YAML as a person would write it: field order of the model, Unicode kept."""
    if isinstance(data, Scenario):
        data = data.model_dump(mode="json", exclude_none=True)
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def validate(text: str, source: str, builtin_ids: Iterable[str] = ()) -> tuple[Scenario | None, list[Problem]]:
    """``(scenario, [])`` when ``text`` is a valid authored scenario, else ``(None, problems)``.

    Besides the model's own checks, an authored scenario may not take a built-in id (built-in
    files are never overwritten from the browser)."""
    try:
        scenario = parse_scenario(text, source)
    except ScenarioError as exc:
        return None, list(exc.problems)
    if scenario.id in set(builtin_ids):
        return None, [(source, "id", f"'{scenario.id}' is a built-in scenario; choose another id")]
    return scenario, []


def authoring_warnings(scenario: Scenario) -> list[ScenarioWarning]:
    """What works but will not behave as the author likely meant: needs that can never be met,
    knowledge nobody can ask for by example, line conditions that can never hold."""
    from simulator.dialogue import lint

    return lint(scenario)


def format_problems(problems: Iterable[Problem]) -> list[str]:
    return [format_problem(*p) for p in problems]


def diff(old: str, new: str, old_label: str = "old", new_label: str = "new") -> str:
    """A unified diff of two YAML texts ("" when they are the same)."""
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), fromfile=old_label, tofile=new_label
        )
    )


def skeleton(scenario_id: str = "new-scenario", lang: str = "en") -> str:
    """A minimal valid scenario to start from."""
    texts = {
        "en": {
            "title": "New scenario",
            "summary": "What happened and why (hidden from the trainee).",
            "sector": "water utility",
            "role": "Customer service officer",
            "setting": "At the service counter.",
            "goal": "Find the cause and agree on the next step.",
            "name": "Customer",
            "style": "Short, irritated sentences.",
            "opening": "My bill is far too high this month and nobody can tell me why!",
            "cue": "bill",
            "time": "Within 3 working days",
            "point": "Restate the problem before explaining.",
        },
        "id": {
            "title": "Skenario baru",
            "summary": "Apa yang terjadi dan mengapa (tidak ditunjukkan ke peserta).",
            "sector": "PDAM",
            "role": "Petugas layanan pelanggan",
            "setting": "Di loket layanan.",
            "goal": "Temukan penyebabnya dan sepakati langkah berikutnya.",
            "name": "Pelanggan",
            "style": "Kalimat pendek, kesal.",
            "opening": "Tagihan saya bulan ini terlalu tinggi dan tidak ada yang bisa menjelaskan!",
            "cue": "tagihan",
            "time": "Dalam 3 hari kerja",
            "point": "Ulangi masalahnya sebelum menjelaskan.",
        },
    }[lang]
    data = {
        "id": scenario_id,
        "lang": lang,
        "title": texts["title"],
        "summary": texts["summary"],
        "sector": texts["sector"],
        "difficulty": 1,
        "briefing": {"role": texts["role"], "setting": texts["setting"], "goal": texts["goal"]},
        "persona": {
            "name": texts["name"],
            "temperament": "angry",
            "mood": {"anger": 6, "trust": 3, "threat": 0},
            "speaking_style": texts["style"],
        },
        "opening": texts["opening"],
        "problem_cues": [texts["cue"]],
        "hidden_facts": [],
        "fault": "institution",
        "handling": {"compensation_due": False, "time_frame": texts["time"], "max_days": 3},
        "learning_points": [texts["point"]],
    }
    return to_yaml(Scenario.model_validate(data))


def duplicate(scenario: Scenario, new_id: str) -> Scenario:
    """A copy of ``scenario`` under ``new_id`` (validated; ValueError for a bad id)."""
    data = scenario.model_dump(mode="json")
    data["id"] = new_id
    try:
        return Scenario.model_validate(data)
    except Exception as exc:  # pydantic's message names the field
        raise ValueError(f"id: '{new_id}' is not a valid scenario id (lowercase words joined by '-')") from exc


# Fields that stay as they are in a translation scaffold: ids, enums, numbers, and the cue
# words the analysis matches (they must be rewritten in the new language, but they are not prose).
_KEEP = {"id", "lang", "temperament", "fault", "target", "difficulty", "max_turns", "max_days", "kind", "slots", "tags", "any_tags", "facts", "when"}


def _mark(value: Any, key: str | None = None) -> Any:
    if isinstance(value, dict):
        return {k: _mark(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_mark(v, key) for v in value]
    if isinstance(value, str) and key not in _KEEP and not value.startswith(TRANSLATE_MARK):
        return TRANSLATE_MARK + value
    return value


def translate_scaffold(scenario: Scenario) -> str:
    """The other language's version: the same structure, every text marked ``[translate] ...``
    (still valid, so it can be saved and filled in bit by bit)."""
    other = next(lang for lang in LANGUAGES if lang != scenario.lang)
    data = _mark(scenario.model_dump(mode="json", exclude_none=True))
    data["lang"] = other
    return to_yaml(Scenario.model_validate(data))


def untranslated(text: str) -> int:
    """How many ``[translate]`` marks are left in a scenario's YAML."""
    return text.count(TRANSLATE_MARK.strip())


def lines_of(text: str) -> list[str]:
    """The non-empty lines of a text area (one item per line)."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


# --------------------------------------------------------------------------- import / export


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes


def _yaml_entry(name: str, data: bytes, problems: list[Problem]) -> tuple[str, str] | None:
    if len(data) > UPLOAD_MAX:
        problems.append((name, "(file)", f"{len(data):,} bytes is over the 1 MB limit"))
        return None
    try:
        return name, data.decode("utf-8")
    except UnicodeDecodeError:
        problems.append((name, "(file)", "not UTF-8 text"))
        return None


def _zip_entries(upload: Upload, problems: list[Problem]) -> list[tuple[str, str]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(upload.data))
    except zipfile.BadZipFile:
        problems.append((upload.name, "(file)", "not a valid zip file"))
        return []
    entries = []
    with archive:
        infos = [info for info in archive.infolist() if not info.is_dir()]
        if len(infos) > ZIP_MAX_FILES:
            problems.append((upload.name, "(file)", f"{len(infos)} files; the limit is {ZIP_MAX_FILES}"))
            return []
        if not infos:
            problems.append((upload.name, "(file)", "the zip holds no scenario files"))
        for info in infos:
            name = f"{upload.name}/{info.filename}"
            if PurePosixPath(info.filename).suffix.lower() not in SCENARIO_SUFFIXES:
                problems.append((name, "(file)", "not a scenario file (only .yaml/.yml files may be in the zip)"))
                continue
            if info.file_size > UPLOAD_MAX:
                problems.append((name, "(file)", f"{info.file_size:,} bytes is over the 1 MB limit"))
                continue
            with archive.open(info) as handle:
                entry = _yaml_entry(name, handle.read(UPLOAD_MAX + 1), problems)
            if entry:
                entries.append(entry)
    return entries


def parse_uploads(uploads: Iterable[Upload], builtin_ids: Iterable[str] = ()) -> list[tuple[Scenario, str]]:
    """Validate uploaded YAML files and zips of them: ``[(scenario, yaml_text)]`` or, when
    anything is wrong, ScenarioError with every problem (so nothing is saved)."""
    problems: list[Problem] = []
    entries: list[tuple[str, str]] = []
    uploads = list(uploads)
    if not uploads:
        raise ScenarioError([("(upload)", "(file)", "no files uploaded")])
    for upload in uploads:
        suffix = PurePosixPath(upload.name).suffix.lower()
        if len(upload.data) > UPLOAD_MAX:
            problems.append((upload.name, "(file)", f"{len(upload.data):,} bytes is over the 1 MB limit"))
        elif suffix == ".zip":
            entries.extend(_zip_entries(upload, problems))
        elif suffix in SCENARIO_SUFFIXES:
            entry = _yaml_entry(upload.name, upload.data, problems)
            if entry:
                entries.append(entry)
        else:
            problems.append((upload.name, "(file)", "not a scenario file (upload .yaml, .yml or .zip)"))
    builtin = set(builtin_ids)
    found: list[tuple[Scenario, str]] = []
    seen: dict[tuple[str, str], str] = {}
    for name, text in entries:
        scenario, errors = validate(text, name, builtin)
        problems.extend(errors)
        if scenario is None:
            continue
        key = (scenario.id, scenario.lang)
        if key in seen:
            problems.append((name, "id", f"duplicate id '{scenario.id}' ({scenario.lang}); also in {seen[key]}"))
            continue
        seen[key] = name
        found.append((scenario, text))
    if problems:
        raise ScenarioError(problems)
    return found


def export_zip(items: Iterable[tuple[str, str, str]]) -> bytes:
    """A zip of ``<lang>/<id>.yaml`` files from ``(scenario_id, lang, yaml_text)``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for sid, lang, text in items:
            archive.writestr(f"{lang}/{sid}.yaml", text)
    return buffer.getvalue()


# --------------------------------------------------------------------------- the library overlay


@lru_cache(maxsize=256)
def _parse_cached(text: str, source: str) -> Scenario:
    return parse_scenario(text, source)


class StudioLibrary:
    """The built-in scenarios plus the published authored ones (a drop-in for ScenarioLibrary).

    Built-in ids win; authored scenarios cannot take them. ``get_version`` reaches any saved
    version (a test drive, or an old session of a since-changed scenario)."""

    def __init__(self, base: ScenarioLibrary, store: AuthoringStore):
        self.base = base
        self.store = store

    @property
    def problems(self) -> list[Problem]:
        return self.base.problems

    def builtin_ids(self) -> list[str]:
        return self.base.ids()

    def is_builtin(self, scenario_id: str, lang: str | None = None) -> bool:
        return any(s.id == scenario_id for s in self.base.all(lang))

    @staticmethod
    def _parse(record) -> Scenario:
        # Parsed once per text and version, not on every page rerun that lists the scenarios.
        return _parse_cached(record.yaml_text, f"{record.lang}/{record.scenario_id} v{record.version}")

    def all(self, lang: str | None = None) -> list[Scenario]:
        builtin = set(self.base.ids())
        authored = []
        for record in self.store.all_published(lang):
            if record.scenario_id in builtin:
                continue
            try:
                authored.append(self._parse(record))
            except ScenarioError:
                continue
        return sorted([*self.base.all(lang), *authored], key=lambda s: (s.id, s.lang))

    def ids(self) -> list[str]:
        return sorted({s.id for s in self.all()})

    def get(self, scenario_id: str, lang: str) -> Scenario:
        try:
            return self.base.get(scenario_id, lang)
        except UnknownScenario as missing:
            record = self.store.published(scenario_id, lang) if lang in LANGUAGES else None
            if record is None:
                raise missing from None
            return self._parse(record)

    def version_of(self, scenario_id: str, lang: str) -> int | None:
        """The version a new session of this scenario plays (None: a built-in file)."""
        if self.is_builtin(scenario_id, lang):
            return None
        record = self.store.published(scenario_id, lang)
        return record.version if record else None

    def get_version(self, scenario_id: str, lang: str, version: int) -> Scenario:
        record = self.store.get_version(scenario_id, lang, version)
        if record is None:
            raise UnknownScenario(f"unknown scenario '{scenario_id}' version {version} in language '{lang}'")
        return self._parse(record)


# --------------------------------------------------------------------------- the form's flat fields

#: The form's simple fields: flat key -> kind ("text", "int", "float", "bool", "lines", "choice").
FORM_FIELDS: dict[str, str] = {
    "id": "text",
    "lang": "choice",
    "title": "text",
    "summary": "text",
    "sector": "text",
    "difficulty": "int",
    "max_turns": "int",
    "briefing.role": "text",
    "briefing.setting": "text",
    "briefing.goal": "text",
    "persona.name": "text",
    "persona.age": "int",
    "persona.temperament": "choice",
    "persona.mood.anger": "float",
    "persona.mood.trust": "float",
    "persona.mood.threat": "float",
    "persona.speaking_style": "text",
    "persona.provoked_by": "lines",
    "opening": "text",
    "problem_cues": "lines",
    "fault": "choice",
    "handling.referral.target": "choice",
    "handling.referral.party": "text",
    "handling.referral.contact": "text",
    "handling.referral.accept_cues": "lines",
    "handling.compensation_due": "bool",
    "handling.time_frame": "text",
    "handling.max_days": "int",
    "handling.needs_cause": "bool",
    "handling.key_behaviours": "list",
    "learning_points": "lines",
}
FACT_FIELDS = {"id": "text", "reveal": "text", "asked_by": "lines", "is_cause": "bool", "questions": "lines"}
#: The form key holding, as YAML text, what has no simple field: needs, knowledge, the persona's
#: voice and lines with conditions (edited in the YAML tab, carried through the form unchanged).
EXTRA = "extra"


def _get(data: dict, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def _set(data: dict, path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        data = data.setdefault(part, {})
    data[last] = value


def form_values(data: dict[str, Any]) -> dict[str, Any]:
    """Flat form values (``"persona.name"``, ``"hidden_facts.0.reveal"``, ``"lines.calmer"``)
    from scenario data (as parsed from YAML, or ``model_dump(mode="json")``)."""
    values: dict[str, Any] = {}
    for key, kind in FORM_FIELDS.items():
        value = _get(data, key)
        if kind == "lines":
            values[key] = "\n".join(str(v) for v in value or [])
        elif kind == "list":
            values[key] = list(value or [])
        else:
            values[key] = value
    facts = data.get("hidden_facts") or []
    values["hidden_facts.count"] = len(facts)
    for i, fact in enumerate(facts):
        for field, kind in FACT_FIELDS.items():
            value = (fact or {}).get(field)
            values[f"hidden_facts.{i}.{field}"] = "\n".join(value or []) if kind == "lines" else value
    extra: dict[str, Any] = {}
    for situation, lines in (data.get("lines") or {}).items():
        values[f"lines.{situation}"] = "\n".join(line for line in lines or [] if isinstance(line, str))
        if any(isinstance(line, dict) for line in lines or []):
            extra.setdefault("lines", {})[situation] = list(lines)  # the order, with the conditions
    for key in ("needs", "knowledge"):
        if data.get(key):
            extra[key] = data[key]
    voice = {k: v for k, v in ((data.get("persona") or {}).get("voice") or {}).items() if v}
    if voice:
        extra["voice"] = voice
    values[EXTRA] = yaml.safe_dump(extra, allow_unicode=True, sort_keys=False) if extra else ""
    return values


def form_data(values: dict[str, Any]) -> dict[str, Any]:
    """Scenario data from flat form values (the inverse of :func:`form_values`); empty optional
    fields are left out so the model's defaults apply."""
    data: dict[str, Any] = {}
    for key, kind in FORM_FIELDS.items():
        value = values.get(key)
        if kind == "lines":
            value = lines_of(value or "")
            if not value and key == "handling.referral.accept_cues":
                continue
        elif kind == "text":
            value = (value or "").strip()
            if not value and key in ("handling.referral.party", "handling.referral.contact"):
                continue
        elif value is None or value == "":
            continue
        _set(data, key, value)
    data["hidden_facts"] = []
    for i in range(int(values.get("hidden_facts.count") or 0)):
        fact = {}
        for field, kind in FACT_FIELDS.items():
            value = values.get(f"hidden_facts.{i}.{field}")
            fact[field] = lines_of(value or "") if kind == "lines" else (bool(value) if kind == "bool" else (value or "").strip())
        data["hidden_facts"].append(fact)
    lines = {}
    for key, value in values.items():
        if key.startswith("lines.") and lines_of(value or ""):
            lines[key.removeprefix("lines.")] = lines_of(value)
    try:
        extra = yaml.safe_load(values.get(EXTRA) or "") or {}
    except yaml.YAMLError:
        extra = {}
    if isinstance(extra, dict):
        for situation, full in (extra.get("lines") or {}).items():
            plain = [line for line in full or [] if isinstance(line, str)]
            conditioned = [line for line in full or [] if isinstance(line, dict)]
            # unchanged plain lines: keep the original order; edited ones: the edit, then the conditioned
            lines[situation] = list(full) if lines.get(situation, []) == plain else [*lines.get(situation, []), *conditioned]
        for key in ("needs", "knowledge"):
            if extra.get(key):
                data[key] = extra[key]
        if extra.get("voice"):
            data.setdefault("persona", {})["voice"] = extra["voice"]
    if lines:
        data["lines"] = lines
    return data


# --------------------------------------------------------------------------- findings for people


@dataclass(frozen=True)
class Finding:
    """One problem of a scenario text, for the studio to say in plain words: the field path
    (``persona.mood.anger``, ``hidden_facts.0.id``; ``(yaml)`` for a syntax error), a code
    (``missing``, ``less_than_equal``, ``yaml``, ...; pydantic's error types and a few of our
    own), the numbers the message needs, and where in the text (1-based line and column)."""

    field: str
    code: str
    ctx: dict[str, Any]
    line: int | None = None
    column: int | None = None


def _node_at(root: Any, path: tuple) -> Any:
    """The YAML node of ``path`` in a composed document (the deepest one that exists)."""
    node = root
    for part in path:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if getattr(k, "value", None) == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            nxt = node.value[part]
        else:
            nxt = None
        if nxt is None:
            break
        node = nxt
    return node


_OWN_MESSAGES = {"referral target 'other' needs": "referral_party", "duplicate hidden fact": "duplicate_fact"}


def findings(text: str, builtin_ids: Iterable[str] = ()) -> list[Finding]:
    """Every problem of ``text`` as a :class:`Finding` ([] when it is a valid authored scenario)."""
    from pydantic import ValidationError

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        from simulator.datafile import yaml_error_mark

        mark = yaml_error_mark(exc)
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        context = getattr(exc, "context", None) or ""
        code = "yaml_unclosed" if "quoted scalar" in context else "yaml_colon" if "mapping values" in reason else "yaml"
        return [Finding("(yaml)", code, {"reason": reason}, mark.line + 1 if mark else None,
                        mark.column + 1 if mark else None)]
    if not isinstance(data, dict):
        return [Finding("(root)", "not_mapping", {}, 1, 1)]
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:  # pragma: no cover - safe_load succeeded
        root = None
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        found = []
        for err in exc.errors(include_input=False):
            loc = tuple(err["loc"])
            code = err["type"]
            if code == "value_error":
                code = next((c for start, c in _OWN_MESSAGES.items() if start in err["msg"]), "other")
            ctx = {k: (v if isinstance(v, (int, float, str)) else str(v)) for k, v in (err.get("ctx") or {}).items()}
            node = _node_at(root, loc) if root is not None else None
            mark = getattr(node, "start_mark", None)
            found.append(Finding(".".join(str(p) for p in loc) or "(root)", code, ctx,
                                 mark.line + 1 if mark else None, mark.column + 1 if mark else None))
        return found
    if scenario.id in set(builtin_ids):
        node = _node_at(root, ("id",)) if root is not None else None
        mark = getattr(node, "start_mark", None)
        return [Finding("id", "builtin_id", {}, mark.line + 1 if mark else None, mark.column + 1 if mark else None)]
    return []
