"""Fake LangChain chat models for the unit tests (no server, no network)."""

from __future__ import annotations

from typing import Any

from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage

KEY = "sk-test-0123456789abcdef"
MODEL_ENV = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "TENANG_CUSTOMER_MODEL", "TENANG_JUDGE_MODEL")
#: Short timeouts and backoff for tests (see simulator/llm.py for the keys).
FAST = {"TENANG_LLM_TIMEOUT": "0.6", "TENANG_LLM_MAX_RETRIES": "1", "TENANG_JUDGE_TIMEOUT": "0.6", "TENANG_LLM_COOLDOWN": "0"}

class RecordingModel(GenericFakeChatModel):
    """GenericFakeChatModel that records every request's messages and supports
    ``with_structured_output`` (its tool binding is a no-op: the scripted AIMessage carries the
    tool call). An ``Exception`` in the script is raised instead of answered."""

    calls: list[list[BaseMessage]] = []

    def __init__(self, replies: list[Any], **kwargs: Any):
        super().__init__(messages=iter(replies), calls=[], **kwargs)

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.calls.append(list(messages))
        return super()._generate(messages, stop=stop, run_manager=run_manager, **kwargs)

    def bind_tools(self, tools, **kwargs):  # noqa: ARG002 - structured output in tests
        return self

    @property
    def last_text(self) -> str:
        return "\n".join(f"[{m.type}] {m.content}" for m in self.calls[-1])


class Boom(RecordingModel):
    """A model whose every call fails like a server that is down."""

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        self.calls.append(list(messages))
        raise ConnectionError("server down")


def tool_call(payload: dict, name: str = "Verdict") -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": name, "args": payload, "id": "call_1"}])
