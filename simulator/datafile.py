"""YAML data files (scenarios, line banks, rubrics, lexicons, mood parameters, phrasebooks):
loaded safely and validated with a pydantic model, every problem reported as
``"<file>: <field.path>: <message>"``."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


class DataFileError(Exception):
    """A data file that could not be loaded; ``problems`` are ``(file, field.path, message)``."""

    def __init__(self, problems: list[tuple[str, str, str]]):
        self.problems = problems
        super().__init__("\n".join(format_problem(*p) for p in problems))


def format_problem(file: str, field: str, message: str) -> str:
    return f"{file}: {field}: {message}"


_UNION_TAGS = {"constrained-str", "str", "int", "float", "bool", "list", "dict", "none"}


def _union_tag(part: object) -> bool:
    """A part pydantic adds to an error's location for a union member (not a field of the data)."""
    return isinstance(part, str) and (
        part in _UNION_TAGS or part[:1].isupper() or "[" in part or part.startswith("function-")
    )


def _field_path(loc: tuple) -> str:
    return ".".join(str(part) for part in loc if not _union_tag(part)) or "(root)"


def _problems(source: str, exc: ValidationError) -> list[tuple[str, str, str]]:
    """One problem per field: of a union's alternatives, the first member's message."""
    seen: set[str] = set()
    problems = []
    for err in exc.errors():
        path = _field_path(err["loc"])
        if path in seen and any(_union_tag(p) for p in err["loc"]):
            continue
        seen.add(path)
        problems.append((source, path, err["msg"]))
    return problems


def yaml_error_mark(exc: yaml.YAMLError):
    """Where a YAML syntax error really is. For "while scanning a quoted scalar" (an unclosed
    quote) and the like, the scanner only notices at the end of the text; the start of what it
    was scanning (``context_mark``) is the line to fix."""
    context = getattr(exc, "context", None) or ""
    if context.startswith("while scanning") and getattr(exc, "context_mark", None) is not None:
        return exc.context_mark
    return getattr(exc, "problem_mark", None)


#: libyaml's parser when PyYAML was built with it (the wheels are): the same data about nine times
#: faster, and scenarios, line banks, lexicons and interface strings are parsed at every start.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> object:
    """``yaml.safe_load``, fast. A text the fast parser refuses is parsed again by PyYAML's own
    parser, so an error names the same line, column and reason as it always has."""
    try:
        return yaml.load(text, Loader=_FAST_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        return yaml.safe_load(text)


def parse_yaml(text: str, model: type[M], source: str = "<text>", expected: str = "a mapping") -> M:
    """Parse YAML text (safely) and validate it as ``model``; DataFileError names source and field."""
    try:
        data = safe_load(text)
    except yaml.YAMLError as exc:
        mark = yaml_error_mark(exc)
        where = f"line {mark.line + 1}" if mark else "(root)"
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        column = f" (column {mark.column + 1})" if mark else ""
        raise DataFileError([(source, where, f"invalid YAML: {reason}{column}")]) from None
    if not isinstance(data, dict):
        raise DataFileError([(source, "(root)", f"expected {expected}")])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise DataFileError(_problems(source, exc)) from None


def load_yaml(path: Path, model: type[M], expected: str = "a mapping") -> M:
    """Read and validate one YAML file as ``model``; DataFileError names the file and field."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DataFileError([(str(path), "(file)", f"cannot read: {exc}")]) from None
    return parse_yaml(text, model, str(path), expected)
