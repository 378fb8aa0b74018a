"""LLM plumbing shared by the LLM customer and the LLM judge: chat models built from Settings,
call options, error reporting without secrets, the connection test, injection cues.

Any OpenAI-compatible server works (OpenAI, Azure OpenAI's v1 endpoint, Ollama, vLLM,
llama.cpp's ``llama-server``): the models are LangChain ``ChatOpenAI`` instances talking the
Chat Completions API to ``OPENAI_BASE_URL`` (see ``docs/llm.md`` for a configuration per server).

Retries: the ``openai`` client itself retries connection errors, timeouts, 408, 409, 429 and
5xx responses ``max_retries`` times with exponential backoff (0.5 s doubling, at most 8 s,
minus up to 25 % jitter) and honours ``Retry-After``/``retry-after-ms`` up to two minutes;
other 4xx errors (bad key, unknown model) fail at once. What is left after that is the
caller's to handle: the customer falls back to the scripted engine, the judge to the rules.

Call options (environment, or the same keys in ``.streamlit/secrets.toml``)::

    TENANG_LLM_TIMEOUT        seconds per customer request (default 20)
    TENANG_LLM_MAX_RETRIES    retries after the first attempt (default 2)
    TENANG_LLM_COOLDOWN       seconds to skip the model after it failed (default 30; 0: never skip)
    TENANG_JUDGE_TIMEOUT      seconds for the judge's request (default 90)
    TENANG_JUDGE_METHOD       json_schema | function_calling | json_mode (default json_schema)
    TENANG_LLM_STREAM_USAGE   1/0: ask for token usage in streamed replies (default 1)
    TENANG_LLM_MAX_TOKENS     cap on a customer reply's tokens (default 400; reasoning models
                              spend part of it thinking: raise it for them)
    TENANG_JUDGE_MAX_TOKENS   cap on the judge's answer (default 3000)
    TENANG_LLM_CALLS_PER_HOUR model calls per user per rolling hour, then the scripted
                              customer answers with a notice (default 200; 0: no limit)

Secrets: the API key lives in a ``SecretStr`` and is handed to the client only; every error
message that leaves this module goes through :func:`redact`. Nothing here logs a key.

Importing this module is cheap: LangChain and the ``openai`` client load on first use.
"""

from __future__ import annotations

import html
import logging
import math
import os
import re
import threading
import time
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from simulator.config import DEFAULT_SECRETS_PATH, ConfigError, Settings, mask_url_password, read_secrets

if TYPE_CHECKING:
    from langchain_core.language_models.chat_models import BaseChatModel
    from langchain_core.messages import BaseMessage

log = logging.getLogger(__name__)

OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1"
#: Sent when no key is configured: local servers (Ollama, vLLM, llama.cpp) ignore it, while the
#: ``openai`` client refuses to start without one.
NO_KEY = "not-needed"
INJECTION_FILE = Path(__file__).resolve().parent / "lexicons" / "injection.yaml"

Role = Literal["customer", "judge"]
JudgeMethod = Literal["json_schema", "function_calling", "json_mode", "plain"]


class LLMNotConfigured(Exception):
    """LLM mode was asked for, but the configuration does not allow it (message says what to set)."""


# --------------------------------------------------------------------------- options


class LLMOptions(BaseModel):
    """How the app calls the model. Defaults suit a hosted API; tests shorten the timeouts."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timeout: float = Field(20.0, gt=0, le=600)
    max_retries: int = Field(2, ge=0, le=10)
    cooldown: float = Field(30.0, ge=0, le=3600)
    judge_timeout: float = Field(90.0, gt=0, le=1200)
    judge_method: JudgeMethod = "json_schema"
    stream_usage: bool = True
    customer_temperature: float = 0.8
    customer_max_tokens: int = Field(400, ge=16, le=32000)
    judge_max_tokens: int = Field(3000, ge=256, le=64000)
    #: Model calls one user may cause per rolling hour (customer turns); then the scripted
    #: customer answers, with a notice. 0: no limit.
    calls_per_hour: int = Field(200, ge=0, le=1_000_000)


OPTION_KEYS: dict[str, str] = {
    "timeout": "TENANG_LLM_TIMEOUT",
    "max_retries": "TENANG_LLM_MAX_RETRIES",
    "cooldown": "TENANG_LLM_COOLDOWN",
    "judge_timeout": "TENANG_JUDGE_TIMEOUT",
    "judge_method": "TENANG_JUDGE_METHOD",
    "stream_usage": "TENANG_LLM_STREAM_USAGE",
    "customer_max_tokens": "TENANG_LLM_MAX_TOKENS",
    "judge_max_tokens": "TENANG_JUDGE_MAX_TOKENS",
    "calls_per_hour": "TENANG_LLM_CALLS_PER_HOUR",
}


def load_llm_options(env: Mapping[str, str] = os.environ, secrets_path: Path = DEFAULT_SECRETS_PATH) -> LLMOptions:
    """Options from the environment, then secrets.toml, then defaults (like ``load_settings``)."""
    secrets = read_secrets(Path(secrets_path))
    values: dict[str, Any] = {}
    for field, key in OPTION_KEYS.items():
        raw = env.get(key)
        if raw is None or not str(raw).strip():
            raw = secrets.get(key)
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        if field == "stream_usage" and isinstance(raw, str):
            raw = raw.strip().lower() not in ("0", "false", "no", "off")
        values[field] = raw.strip() if isinstance(raw, str) else raw
    try:
        return LLMOptions(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{OPTION_KEYS.get(str(err['loc'][0]), err['loc'][0])}: {err['msg']}" for err in exc.errors(include_input=False)
        )
        raise ConfigError(f"invalid LLM options: {problems}") from None


# --------------------------------------------------------------------------- models


def model_name(settings: Settings, role: Role) -> str:
    """The model for ``role``; the judge uses the customer's model when it has none of its own.

    Raises :class:`LLMNotConfigured` in offline mode or without a model name.
    """
    if settings.offline:
        raise LLMNotConfigured(
            "LLM mode needs a model server: set OPENAI_BASE_URL (an OpenAI-compatible endpoint) "
            "and/or OPENAI_API_KEY, and TENANG_CUSTOMER_MODEL (see docs/llm.md)"
        )
    name = settings.customer_model if role == "customer" else (settings.judge_model or settings.customer_model)
    if not name:
        key = "TENANG_CUSTOMER_MODEL" if role == "customer" else "TENANG_JUDGE_MODEL (or TENANG_CUSTOMER_MODEL)"
        raise LLMNotConfigured(f"LLM mode needs a model name: set {key}, e.g. gpt-4o-mini or llama3.1:8b")
    return name


def llm_problem(settings: Settings, role: Role = "customer") -> str | None:
    """None when LLM mode can be used for ``role``; otherwise why not (names the keys to set).
    For pages choosing between the scripted and the LLM engine without a try/except."""
    try:
        model_name(settings, role)
    except LLMNotConfigured as exc:
        return str(exc)
    return None


def base_url(settings: Settings) -> str:
    return settings.openai_base_url or OPENAI_DEFAULT_BASE_URL


def base_url_display(settings: Settings) -> str:
    """The base URL with any password in it masked (for the admin page and messages)."""
    return mask_url_password(base_url(settings))


def build_chat_model(settings: Settings, role: Role = "customer", options: LLMOptions | None = None) -> BaseChatModel:
    """A LangChain chat model for ``role`` (Chat Completions API, retries and timeout set).

    Instances are cached per configuration, so the HTTP connection pool is reused from turn to
    turn (and from one Streamlit rerun to the next).
    """
    options = options or load_llm_options()
    name = model_name(settings, role)
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else NO_KEY
    if role == "customer":
        return _chat_model(
            base_url(settings), key, name, options.timeout, options.max_retries,
            options.customer_temperature, options.customer_max_tokens, options.stream_usage,
        )
    return _chat_model(
        base_url(settings), key, name, options.judge_timeout, options.max_retries, 0.0, options.judge_max_tokens, False
    )


@lru_cache(maxsize=16)
def _chat_model(
    url: str, key: str, name: str, timeout: float, max_retries: int, temperature: float, max_tokens: int, stream_usage: bool
) -> BaseChatModel:
    from langchain_openai import ChatOpenAI
    from pydantic import SecretStr

    return ChatOpenAI(
        model=name,
        base_url=url,
        api_key=SecretStr(key),
        timeout=timeout,
        max_retries=max_retries,
        temperature=temperature,
        max_tokens=max_tokens,
        stream_usage=stream_usage,
        use_responses_api=False,  # every OpenAI-compatible server speaks Chat Completions
    )


def reset_caches() -> None:
    """Forget cached models, cool-downs and judge output methods (tests; after a configuration change)."""
    _chat_model.cache_clear()
    COOLDOWNS.clear()
    JUDGE_METHODS.clear()


#: (base URL, judge model) -> the structured-output method that judge server last accepted
#: (``simulator.judge`` falls back json_schema -> json_mode -> plain and remembers here).
JUDGE_METHODS: dict[tuple[str, str], str] = {}


# --------------------------------------------------------------------------- failures


class Cooldown:
    """After a call failed (retries included), skip that model for a while.

    Without it a hanging server costs every turn ``timeout x (retries + 1)`` before the
    scripted fallback answers; with it, only the first turn waits and the next turns fall back
    at once until the cool-down ends, when the model is tried again. Shared by all sessions of
    the process (the key is base URL + model).
    """

    def __init__(self) -> None:
        self._until: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def active(self, key: tuple[str, str]) -> float:
        """Seconds left on the cool-down of ``key`` (0: call the model)."""
        with self._lock:
            left = self._until.get(key, 0.0) - time.monotonic()
            return max(0.0, left)

    def trip(self, key: tuple[str, str], seconds: float) -> None:
        if seconds > 0:
            with self._lock:
                self._until[key] = time.monotonic() + seconds

    def reset(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._until.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._until.clear()


COOLDOWNS = Cooldown()


def redact(text: str, settings: Settings | None = None) -> str:
    """``text`` with the configured API key (and anything shaped like a bearer key) masked."""
    if settings is not None and settings.openai_api_key is not None:
        secret = settings.openai_api_key.get_secret_value()
        if secret and secret != NO_KEY:
            text = text.replace(secret, "***")
    text = re.sub(r"(?i)(bearer\s+)[A-Za-z0-9._\-]{8,}", r"\1***", text)
    return re.sub(r"\bsk-[A-Za-z0-9_\-]{8,}", "sk-***", text)


def _public_class(exc: BaseException) -> str:
    """The most recognisable class name: the ``openai`` one when LangChain wrapped it."""
    for cls in type(exc).__mro__:
        if cls.__module__.startswith("openai"):
            return cls.__name__
    return type(exc).__name__


def describe_error(exc: BaseException, settings: Settings | None = None, limit: int = 600) -> str:
    """The exact error, as one line: class, message and the underlying cause, key redacted.

    ``APIConnectionError: Connection error. (ConnectError: [Errno 111] Connection refused)``
    """
    message = f"{_public_class(exc)}: {str(exc).strip() or '(no message)'}"
    root, seen = exc, set()
    while (root.__cause__ or root.__context__) is not None and id(root) not in seen:
        seen.add(id(root))
        root = root.__cause__ or root.__context__
    # An HTTP error's own message is the server's answer; its cause only repeats the status.
    if root is not exc and getattr(exc, "status_code", None) is None and str(root).strip() and str(root).strip() not in message:
        message += f" ({type(root).__name__}: {str(root).strip()})"
    message = " ".join(redact(message, settings).split())
    return message if len(message) <= limit else message[: limit - 1] + "…"


# --------------------------------------------------------------------------- call metadata


def usage(message: Any) -> dict[str, int | None]:
    """Token counts of a LangChain AI message (None where the server reported none)."""
    meta = getattr(message, "usage_metadata", None) or {}
    details = meta.get("input_token_details") or {}
    return {
        "tokens_in": meta.get("input_tokens"),
        "tokens_out": meta.get("output_tokens"),
        "tokens_cached": details.get("cache_read"),
    }


def call_meta(model: str, started: float, message: Any = None, **extra: Any) -> dict[str, Any]:
    """The metadata stored with a turn for one model call (see Repository.session_usage)."""
    meta: dict[str, Any] = {"model": model, "calls": 1, "latency_ms": round((time.perf_counter() - started) * 1000, 1)}
    meta.update(usage(message) if message is not None else {"tokens_in": None, "tokens_out": None})
    if meta.get("tokens_cached") is None:
        meta.pop("tokens_cached", None)
    meta.update(extra)
    return meta


# --------------------------------------------------------------------------- trainee text as data


def as_data(text: str) -> str:
    """Trainee (or customer) text made safe to put between our tags: ``<``, ``>`` and ``&``
    are escaped, so the text cannot close ``<trainee_message>`` or open a tag of its own."""
    return html.escape(text, quote=False)


@lru_cache(maxsize=1)
def _injection_patterns(path: Path = INJECTION_FILE) -> tuple[tuple[str, re.Pattern[str]], ...]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    compiled = []
    for cue, patterns in (data.get("cues") or {}).items():
        for pattern in patterns:
            compiled.append((cue, re.compile(pattern, re.IGNORECASE)))
    return tuple(compiled)


def injection_cues(text: str) -> list[str]:
    """Ids of the injection cues (``lexicons/injection.yaml``) that ``text`` matches, in file order."""
    flat = " ".join((text or "").split())
    found: list[str] = []
    for cue, pattern in _injection_patterns():
        if cue not in found and pattern.search(flat):
            found.append(cue)
    return found


# --------------------------------------------------------------------------- connection test


class ConnectionResult(NamedTuple):
    ok: bool
    latency_ms: float | None
    message: str


def test_connection(settings: Settings, options: LLMOptions | None = None, role: Role = "customer") -> ConnectionResult:
    """Send one tiny chat request and report the answer time or the exact error.

    No retries, so the reported time is one round trip and a failure shows at once.
    """
    from langchain_core.messages import HumanMessage, SystemMessage

    options = options or load_llm_options()
    try:
        name = model_name(settings, role)
        model = build_chat_model(settings, role, options.model_copy(update={"max_retries": 0}))
        model = model.bind(max_tokens=16)
    except (LLMNotConfigured, ConfigError) as exc:
        return ConnectionResult(False, None, str(exc))
    except Exception as exc:  # noqa: BLE001 - a bad URL etc.: reported, not raised
        return ConnectionResult(False, None, describe_error(exc, settings))
    started = time.perf_counter()
    try:
        answer = model.invoke([SystemMessage("Connection test."), HumanMessage("Reply with the word OK.")])
    except Exception as exc:  # noqa: BLE001
        latency = round((time.perf_counter() - started) * 1000, 1)
        return ConnectionResult(False, latency, describe_error(exc, settings))
    latency = round((time.perf_counter() - started) * 1000, 1)
    text = message_text(answer)
    return ConnectionResult(True, latency, f"{name} at {base_url_display(settings)} answered in {latency:.0f} ms: {text.strip()[:80]!r}")


test_connection.__test__ = False  # not a pytest test, despite the name


# --------------------------------------------------------------------------- misc


def message_text(message: BaseMessage | Any) -> str:
    """The plain text of an AI message (content may be a string or a list of blocks)."""
    content = getattr(message, "content", message)
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part if isinstance(part, str) else str(part.get("text", "")) if isinstance(part, dict) else "" for part in content
        )
    return str(content or "")


def finite_ms(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) else 0.0
