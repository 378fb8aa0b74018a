"""Interface strings in English and Indonesian, from ``ui/strings/*.yaml`` ({key: {en, id}})."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from simulator.datafile import safe_load

STRINGS_DIR = Path(__file__).with_name("strings")
UI_LANGS = ("en", "id")


@lru_cache(maxsize=1)
def _strings() -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    for path in sorted(STRINGS_DIR.glob("*.yaml")):
        data = safe_load(path.read_text(encoding="utf-8")) or {}
        for key, texts in data.items():
            if key in merged:
                raise ValueError(f"{path}: {key}: defined twice")
            missing = [lang for lang in UI_LANGS if not texts or lang not in texts]
            if missing:
                raise ValueError(f"{path}: {key}: missing language(s) {', '.join(missing)}")
            merged[key] = texts
    return merged


def translate(key: str, lang: str, /, **values: object) -> str:
    """The string ``key`` in ``lang`` (``en`` when unknown), with ``{name}`` placeholders filled.

    ``key`` and ``lang`` are positional-only, so a placeholder may itself be called ``lang`` or
    ``key`` (``t("studio_assign_row", lang=...)`` once crashed with "multiple values")."""
    texts = _strings().get(key)
    if texts is None:
        raise KeyError(f"no interface string '{key}'")
    text = texts.get(lang) or texts["en"]
    return text.format(**values) if values else text
