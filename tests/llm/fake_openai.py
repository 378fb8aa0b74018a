"""A real OpenAI-compatible HTTP server for tests and benchmarks, scripted per test.

Serves ``POST /v1/chat/completions`` on 127.0.0.1 (a free port) from a thread: plain JSON, or
server-sent events when the request says ``"stream": true``. Each request is answered by the
next scripted behaviour of its kind — *judge* requests are the ones that ask for structured
output (``response_format`` or ``tools``), everything else is a *customer* request — and the
last behaviour repeats once the script is used up. Every request is recorded (headers, JSON
body, when it arrived and how long the server took) so a test can check what the app sent.

Behaviours: :class:`Reply` (text, optional delay, token usage), :class:`Status` (an HTTP error
such as 500 or 429, with headers), :class:`Hang` (never answers until the server stops),
:class:`Raw` (any body, e.g. malformed JSON), :class:`Judge` (structured judge output), or a
callable ``request -> behaviour``.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Union


@dataclass
class Reply:
    text: str
    delay: float = 0.0  # seconds before the first byte
    chunk_delay: float = 0.0  # seconds between streamed chunks
    usage: tuple[int, int] | None = None  # (prompt, completion) tokens; None: estimated


@dataclass
class Status:
    code: int
    message: str = "scripted failure"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Hang:
    seconds: float = 60.0  # at most; the server's stop() releases it at once


@dataclass
class Raw:
    body: str
    content_type: str = "application/json"
    status: int = 200


@dataclass
class Judge:
    """A judge answer: ``payload`` serialised as the message content (json_schema/json_mode) or
    as the arguments of a tool call when the request offered tools (function_calling)."""

    payload: Any
    delay: float = 0.0
    usage: tuple[int, int] | None = None


Behaviour = Union[Reply, Status, Hang, Raw, Judge, Callable[["Recorded"], Any]]


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    kind: str  # "customer" or "judge"
    received: float  # time.perf_counter() when the body was read
    server_ms: float = 0.0  # time from then until the last byte was written

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.body.get("messages", [])

    def text(self) -> str:
        """Every message's content, joined: what the model was shown."""
        parts = []
        for m in self.messages:
            content = m.get("content")
            if isinstance(content, list):
                content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
            parts.append(f"[{m.get('role')}] {content}")
        return "\n".join(parts)


class FakeOpenAIServer:
    def __init__(self, customer: list[Behaviour] | None = None, judge: list[Behaviour] | None = None):
        self.customer: list[Behaviour] = list(customer or [Reply("Hm. Go on.")])
        self.judge: list[Behaviour] = list(judge or [Status(500, "no judge scripted")])
        self.requests: list[Recorded] = []
        self._served = {"customer": 0, "judge": 0}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- control
    def script(self, customer: list[Behaviour] | None = None, judge: list[Behaviour] | None = None) -> None:
        with self._lock:
            if customer is not None:
                self.customer, self._served["customer"] = list(customer), 0
            if judge is not None:
                self.judge, self._served["judge"] = list(judge), 0

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def start(self) -> FakeOpenAIServer:
        server = self

        class Handler(_Handler):
            owner = server

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def of_kind(self, kind: str) -> list[Recorded]:
        return [r for r in self.requests if r.kind == kind]

    # -- used by the handler
    def _next(self, kind: str) -> Behaviour:
        with self._lock:
            script = self.customer if kind == "customer" else self.judge
            index = min(self._served[kind], len(script) - 1)
            self._served[kind] += 1
            return script[index]


def _estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4)


class _Handler(BaseHTTPRequestHandler):
    owner: FakeOpenAIServer
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers do

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every answer, which no real server does.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_GET(self) -> None:  # noqa: N802
        if self.path.rstrip("/").endswith("/models"):
            self._json(200, {"object": "list", "data": [{"id": "fake", "object": "model"}]})
        else:
            self._json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        received = time.perf_counter()
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError:
            body = {"_unparsed": raw.decode("utf-8", "replace")}
        kind = "judge" if ("response_format" in body or "tools" in body) else "customer"
        record = Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, body, kind, received)
        with self.owner._lock:
            self.owner.requests.append(record)
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._json(404, {"error": {"message": f"unknown path {self.path}"}})
            return
        behaviour = self.owner._next(kind)
        if callable(behaviour) and not isinstance(behaviour, (Reply, Status, Hang, Raw, Judge)):
            behaviour = behaviour(record)
        try:
            self._serve(behaviour, body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout): that is what some tests are about
        record.server_ms = (time.perf_counter() - received) * 1000

    # -- answers
    def _serve(self, b: Behaviour, body: dict[str, Any]) -> None:
        if isinstance(b, Hang):
            self.owner._stop.wait(b.seconds)
            self.close_connection = True
            return
        if isinstance(b, Status):
            self._json(b.code, {"error": {"message": b.message, "type": "server_error", "code": b.code}}, b.headers)
            return
        if isinstance(b, Raw):
            data = b.body.encode()
            self.send_response(b.status)
            self.send_header("content-type", b.content_type)
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if isinstance(b, Judge):
            if b.delay:
                time.sleep(b.delay)
            content = b.payload if isinstance(b.payload, str) else json.dumps(b.payload)
            message: dict[str, Any] = {"role": "assistant", "content": content}
            if "tools" in body:
                name = body["tools"][0]["function"]["name"]
                message = {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": name, "arguments": content}}],
                }
            self._json(200, self._completion(body, message, b.usage, content))
            return
        if isinstance(b, Reply):
            if b.delay:
                time.sleep(b.delay)
            if body.get("stream"):
                self._stream(b, body)
            else:
                message = {"role": "assistant", "content": b.text}
                self._json(200, self._completion(body, message, b.usage, b.text))
            return
        raise TypeError(f"unknown behaviour {b!r}")

    def _usage(self, body: dict[str, Any], usage: tuple[int, int] | None, text: str) -> dict[str, int]:
        prompt, completion = usage or (_estimate_tokens(json.dumps(body.get("messages", []))), _estimate_tokens(text))
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def _completion(self, body, message, usage, text) -> dict[str, Any]:
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if message.get("tool_calls") else "stop"}],
            "usage": self._usage(body, usage, text),
        }

    def _stream(self, b: Reply, body: dict[str, Any]) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()

        def event(payload: Any) -> None:
            data = f"data: {payload if isinstance(payload, str) else json.dumps(payload)}\n\n".encode()
            self.wfile.write(f"{len(data):X}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()), "model": body.get("model", "fake")}
        event({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]})
        words = b.text.split(" ")
        for i, word in enumerate(words):
            if b.chunk_delay:
                time.sleep(b.chunk_delay)
            piece = word if i == len(words) - 1 else word + " "
            event({**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
        event({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        if (body.get("stream_options") or {}).get("include_usage"):
            event({**base, "choices": [], "usage": self._usage(body, b.usage, b.text)})
        event("[DONE]")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _json(self, code: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)
