"""Settings from environment variables, falling back to ``.streamlit/secrets.toml`` (DESIGN.md contract).

Keys (the same names in the environment and as top-level keys of secrets.toml):

``DATABASE_URL``           SQLAlchemy URL; default ``sqlite:///data/tenang.db`` (relative to the
                           current working directory; ``simulator.store.db.make_engine`` creates
                           the ``data/`` folder when it opens the database).
``OPENAI_API_KEY``         secret; kept as a ``SecretStr`` and never shown in repr/str.
``OPENAI_BASE_URL``        any OpenAI-compatible server (vLLM, Ollama, a hosted API).
``TENANG_CUSTOMER_MODEL``  model name for the LLM customer engine.
``TENANG_JUDGE_MODEL``     model name for the LLM judge.
``TENANG_SESSION_SECRET``  key that signs the sign-in cookie; unset: a random key generated once
                           and kept in the database (shared by every replica).
``TENANG_SESSION_IDLE_MINUTES``  a sign-in unused this long ends (default 480).
``TENANG_SESSION_MAX_HOURS``     a sign-in ends this long after the password was typed, used or
                           not (default 168, one week).

Precedence: environment > secrets.toml > default. An empty (or whitespace-only) value counts
as not set, so ``OPENAI_API_KEY=`` in the environment does not shadow secrets.toml.
With neither an API key nor a base URL the app runs offline (``Settings.offline``).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

DEFAULT_DATABASE_URL = "sqlite:///data/tenang.db"
DEFAULT_SECRETS_PATH = Path(".streamlit/secrets.toml")

#: Settings field -> environment / secrets.toml key.
KEYS: dict[str, str] = {
    "database_url": "DATABASE_URL",
    "openai_api_key": "OPENAI_API_KEY",
    "openai_base_url": "OPENAI_BASE_URL",
    "customer_model": "TENANG_CUSTOMER_MODEL",
    "judge_model": "TENANG_JUDGE_MODEL",
    "session_secret": "TENANG_SESSION_SECRET",
    "session_idle_minutes": "TENANG_SESSION_IDLE_MINUTES",
    "session_max_hours": "TENANG_SESSION_MAX_HOURS",
}

_URL_PASSWORD = re.compile(r"(?P<head>://[^:/?#@]*:)(?P<password>[^@/?#]*)(?P<tail>@)")


class ConfigError(ValueError):
    """Configuration that cannot be used; the message names the file/key at fault (never a secret)."""


def mask_url_password(url: str) -> str:
    """``postgresql://u:secret@h/db`` -> ``postgresql://u:***@h/db`` (for display and logs)."""
    return _URL_PASSWORD.sub(lambda m: f"{m['head']}***{m['tail']}", url)


class Settings(BaseModel):
    """Runtime configuration. Immutable; build it with :func:`load_settings`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    database_url: str = DEFAULT_DATABASE_URL
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    customer_model: str | None = None
    judge_model: str | None = None
    session_secret: SecretStr | None = None
    session_idle_minutes: int = Field(default=480, ge=1, le=60 * 24 * 30)
    session_max_hours: int = Field(default=168, ge=1, le=24 * 366)
    #: Where each field's value came from: "env", "secrets" or "default" (for an "about" view).
    sources: dict[str, str] = {}

    @field_validator("database_url")
    @classmethod
    def _url_has_scheme(cls, value: str) -> str:
        value = value.strip()
        if not re.match(r"^[A-Za-z][A-Za-z0-9+.\-]*://", value):
            # Do not echo the value: it may hold a database password.
            raise ValueError("DATABASE_URL must be a database URL such as sqlite:///data/tenang.db")
        return value

    @property
    def offline(self) -> bool:
        """No API key and no base URL configured: scripted customer, rules-only judge."""
        return self.openai_api_key is None and self.openai_base_url is None

    @property
    def database_url_display(self) -> str:
        """The database URL with any password masked."""
        return mask_url_password(self.database_url)

    def __repr_args__(self):  # repr/str: mask the DB password too (SecretStr already masks the key)
        for name, value in super().__repr_args__():
            yield name, (mask_url_password(value) if name == "database_url" else value)


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def read_secrets(path: Path) -> dict[str, Any]:
    """Top-level keys of a secrets.toml; ``{}`` when the file does not exist.

    Raises :class:`ConfigError` naming the file (and the line, for a syntax error).
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not valid UTF-8 text") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        where = re.search(r"\(at line (\d+), column (\d+)\)", message)
        if where:
            reason = message[: where.start()].strip()
            raise ConfigError(
                f"{path}: line {where[1]}, column {where[2]}: invalid TOML: {reason}"
            ) from None
        raise ConfigError(f"{path}: invalid TOML: {message}") from None


def load_settings(
    env: Mapping[str, str] = os.environ,
    secrets_path: Path = DEFAULT_SECRETS_PATH,
) -> Settings:
    """Settings from ``env``, then ``secrets_path``, then defaults. Pure given its inputs
    (it reads ``secrets_path`` and nothing else; it creates no folders)."""
    secrets = read_secrets(Path(secrets_path))
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for field, key in KEYS.items():
        value = _clean(env.get(key))
        source = "env"
        if value is None and key in secrets:
            raw = secrets[key]
            if isinstance(raw, int) and not isinstance(raw, bool) and field.startswith("session_"):
                raw = str(raw)  # TENANG_SESSION_IDLE_MINUTES = 30 (a TOML number) is fine
            if not isinstance(raw, str):
                raise ConfigError(
                    f"{secrets_path}: {key} must be a string, got {type(raw).__name__}"
                )
            value, source = _clean(raw), "secrets"
        if value is None:
            sources[field] = "default"
            continue
        values[field] = value
        sources[field] = source
    try:
        return Settings(**values, sources=sources)
    except ValidationError as exc:  # messages from our validators never contain the values
        problems = "; ".join(
            f"{KEYS.get(str(err['loc'][0]), err['loc'][0])} (from {sources.get(str(err['loc'][0]), '?')}): "
            f"{err['msg'].removeprefix('Value error, ')}"
            for err in exc.errors(include_input=False)
        )
        raise ConfigError(f"invalid configuration: {problems}") from None
