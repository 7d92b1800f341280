"""A fake streaming LLM server for fault injection in tests (stdlib asyncio, HTTP/1.1, loopback).

It is not an engine: it answers ``POST /v1/completions``, ``/v1/chat/completions`` and
``/completion`` with SSE in the shapes llama.cpp and vLLM send (see
reference/llama-cpp-engine.md §5), with a configurable first-token delay, interval between
chunks, burst size (tokens per chunk, with token ids when the request asks for them), usage and
llama.cpp ``timings`` at the end, and faults: HTTP 500/429, a dropped connection, a malformed
SSE line, a stall. It records, on ``time.perf_counter``, when each request arrived and when each
token chunk was written, and the most requests it ever had in flight, so tests can check the
client's timing and concurrency against the server's own view.

Usage::

    async with StreamServer(Behaviour(burst=3, chunk_interval_s=0.01)) as server:
        ... server.base_url ... server.requests ... server.max_in_flight
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Fault = Literal["drop", "truncate", "http500", "http429", "malformed", "stall", "close"]

_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


@dataclass(frozen=True)
class Behaviour:
    """How the fake answers one request."""

    first_token_delay_s: float = 0.0
    """Wait between receiving the request and writing the first token chunk."""
    chunk_interval_s: float = 0.0
    """Wait between consecutive token chunks."""
    burst: int = 1
    """Tokens per chunk (the last chunk carries the remainder)."""
    token_ids: bool = True
    """Send token ids when asked (llama.cpp ``return_tokens``, vLLM ``return_token_ids``)."""
    usage: bool = True
    done: bool = True
    """End OpenAI streams with ``data: [DONE]``."""
    """Send usage (OpenAI, when ``stream_options.include_usage``) and llama.cpp final counts."""
    ping: bool = False
    """Write an SSE comment ``: ping`` before the first token chunk."""
    prompt_tokens: int = 5
    draft_n: int | None = None
    draft_n_accepted: int | None = None
    eos_after_tokens: int | None = None
    """End the output after this many tokens, as if the model emitted EOS and the server
    ignored ``ignore_eos``."""
    fault: Fault | None = None
    fault_after_chunks: int = 1
    """Token chunks written before a drop, truncation (body ended cleanly), malformed line or
    stall. ``close`` reads the request and closes the connection without any response."""


@dataclass
class ServedRequest:
    """What the fake saw and did for one request (times on ``time.perf_counter``)."""

    number: int
    path: str
    headers: dict[str, str]
    """Lower-case header names."""
    body: dict[str, Any]
    received_perf_s: float
    chunk_sent_perf_s: list[float] = field(default_factory=list)
    chunk_tokens: list[int] = field(default_factory=list)
    finished_perf_s: float | None = None


BehaviourFor = Callable[[int, dict[str, Any]], Behaviour]
"""Chooses the behaviour from the request number (0-based, arrival order) and body."""


class StreamServer:
    """The fake server; use as an async context manager."""

    def __init__(self, behaviour: Behaviour | BehaviourFor | None = None) -> None:
        self._behaviour = behaviour or Behaviour()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._in_flight = 0
        self.max_in_flight = 0
        self.requests: list[ServedRequest] = []
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> StreamServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        await self._server.wait_closed()

    def _pick(self, number: int, body: dict[str, Any]) -> Behaviour:
        b = self._behaviour
        return b if isinstance(b, Behaviour) else b(number, body)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                _method, path, _version = lines[0].split(" ", 2)
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    name, sep, value = line.partition(":")
                    if sep:
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                raw = await reader.readexactly(length) if length else b""
                body = json.loads(raw) if raw else {}
                if not await self._serve(path, headers, body, writer):
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        except asyncio.CancelledError:
            return  # our own shutdown: end quietly instead of re-raising into asyncio's callback
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _serve(
        self, path: str, headers: dict[str, str], body: dict[str, Any], w: asyncio.StreamWriter
    ) -> bool:
        """Answer one request; False when the connection must not be reused."""
        req = ServedRequest(len(self.requests), path, headers, body, time.perf_counter())
        self.requests.append(req)
        behaviour = self._pick(req.number, body)
        self._in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            if behaviour.fault == "close":
                w.transport.abort()
                return False
            if behaviour.fault in ("http500", "http429"):
                status = 500 if behaviour.fault == "http500" else 429
                await self._plain(
                    w, status, {"error": {"message": f"fake {status}", "code": status}}
                )
                return True
            if path not in ("/v1/completions", "/v1/chat/completions", "/completion"):
                await self._plain(w, 404, {"error": {"message": f"no route {path}"}})
                return True
            return await self._stream(path, body, behaviour, req, w)
        finally:
            self._in_flight -= 1
            req.finished_perf_s = time.perf_counter()

    async def _plain(self, w: asyncio.StreamWriter, status: int, obj: dict[str, Any]) -> None:
        data = json.dumps(obj).encode()
        w.write(
            f"HTTP/1.1 {status} {_REASONS[status]}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n\r\n".encode()
            + data
        )
        await w.drain()

    async def _write_chunk(self, w: asyncio.StreamWriter, text: str) -> float:
        data = text.encode()
        sent = time.perf_counter()
        w.write(b"%x\r\n%s\r\n" % (len(data), data))
        await w.drain()
        return sent

    async def _stream(
        self,
        path: str,
        body: dict[str, Any],
        b: Behaviour,
        req: ServedRequest,
        w: asyncio.StreamWriter,
    ) -> bool:
        api = {"/v1/completions": "completions", "/v1/chat/completions": "chat"}.get(
            path, "llamacpp"
        )
        n_tokens = int(
            body.get("n_predict" if api == "llamacpp" else "max_tokens")
            or body.get("max_completion_tokens")
            or 16
        )
        if b.eos_after_tokens is not None:
            n_tokens = min(n_tokens, b.eos_after_tokens)
        want_ids = b.token_ids and bool(
            body.get("return_tokens" if api == "llamacpp" else "return_token_ids")
        )
        w.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n"
        )
        if api == "chat":
            role = {
                "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}],
            }
            await self._write_chunk(w, _event(role))
        if b.ping:
            await self._write_chunk(w, ": ping\n\n")
        await asyncio.sleep(b.first_token_delay_s)
        sent_tokens = 0
        while sent_tokens < n_tokens:
            if req.chunk_tokens and b.chunk_interval_s:
                await asyncio.sleep(b.chunk_interval_s)
            if len(req.chunk_tokens) == b.fault_after_chunks and b.fault is not None:
                if b.fault == "drop":
                    w.transport.abort()
                    return False
                if b.fault == "truncate":
                    await self._write_chunk(w, "")
                    return True
                if b.fault == "stall":
                    await asyncio.sleep(3600)
                if b.fault == "malformed":
                    await self._write_chunk(w, "data: {this is not json\n\n")
            k = min(b.burst, n_tokens - sent_tokens)
            ids = list(range(1000 + sent_tokens, 1000 + sent_tokens + k))
            text = "".join(f"t{i} " for i in ids)
            last = sent_tokens + k == n_tokens
            obj = _token_chunk(api, text, ids if want_ids else None, last)
            req.chunk_sent_perf_s.append(await self._write_chunk(w, _event(obj)))
            req.chunk_tokens.append(k)
            sent_tokens += k
        final = _final(api, body, b, n_tokens)
        if final:
            await self._write_chunk(w, final)
        if api != "llamacpp" and b.done:
            await self._write_chunk(w, "data: [DONE]\n\n")
        await self._write_chunk(w, "")  # zero-length chunk ends the body
        return True


def _event(obj: dict[str, Any]) -> str:
    return f"data: {json.dumps(obj)}\n\n"


def _token_chunk(api: str, text: str, ids: list[int] | None, last: bool) -> dict[str, Any]:
    finish = "length" if last else None
    if api == "llamacpp":
        return {"index": 0, "content": text, "tokens": ids or [], "stop": False, "id_slot": 0}
    choice: dict[str, Any]
    if api == "chat":
        choice = {"index": 0, "delta": {"content": text}, "finish_reason": finish}
        obj: dict[str, Any] = {"object": "chat.completion.chunk", "choices": [choice]}
    else:
        choice = {"index": 0, "text": text, "logprobs": None, "finish_reason": finish}
        obj = {"object": "text_completion", "choices": [choice]}
    if ids is not None:
        choice["token_ids"] = ids
    return obj


def _final(api: str, body: dict[str, Any], b: Behaviour, n_tokens: int) -> str:
    timings: dict[str, Any] = {"prompt_n": b.prompt_tokens, "cache_n": 0, "predicted_n": n_tokens}
    if b.draft_n is not None:
        timings["draft_n"] = b.draft_n
        timings["draft_n_accepted"] = b.draft_n_accepted or 0
    if api == "llamacpp":
        obj: dict[str, Any] = {"index": 0, "content": "", "tokens": [], "stop": True}
        if b.usage:
            obj.update(tokens_predicted=n_tokens, tokens_evaluated=b.prompt_tokens, timings=timings)
        return _event(obj)
    include = bool((body.get("stream_options") or {}).get("include_usage"))
    if not (b.usage and include):
        return ""
    obj = {
        "choices": [],
        "usage": {
            "prompt_tokens": b.prompt_tokens,
            "completion_tokens": n_tokens,
            "total_tokens": b.prompt_tokens + n_tokens,
        },
    }
    if b.draft_n is not None:
        obj["timings"] = timings
    return _event(obj)
