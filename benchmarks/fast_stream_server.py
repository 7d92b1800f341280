"""A cheap OpenAI-compatible streaming server for client benchmarks (stdlib asyncio, loopback).

It answers ``POST /v1/completions`` and ``/v1/chat/completions`` with one token per SSE event,
exactly ``max_tokens`` (or ``max_completion_tokens``) of them whatever the prompt, then a
``finish_reason`` on the last token, a usage chunk when ``stream_options.include_usage`` is set,
and ``data: [DONE]``. ``GET /v1/models`` and ``GET /health`` answer too, so benchmark tools that
probe the server first work unchanged. Fault-free on purpose: it measures clients, not errors.

Pacing (``--itl-ms``): 0 sends every stream's tokens as fast as the clients take them (one event
per stream per round of the event loop; a stream whose socket buffer is full waits, so a slow
client slows only itself); > 0 sends each stream's next token that many milliseconds after the
previous one. Per chunk the cost is one ``transport.write`` of pre-built bytes: no JSON encoding,
no coroutine, so the server stays cheaper per token than any client it serves.

It records, on ``time.perf_counter`` (CLOCK_MONOTONIC on Linux, the clock of every process on the
machine), when each request was read and when each token chunk was handed to the socket, and
writes them as JSON to ``--record`` when it stops: ``{"requests": [{"prompt", "max_tokens",
"received", "sent": [...]}]}``. It prints its port on the first line of stdout, and stops on
SIGTERM or SIGINT, when its stdin closes (with ``--watch-stdin``), or after ``--max-seconds``.

Run::

    python benchmarks/fast_stream_server.py [--port 0] [--itl-ms 0] [--record out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import threading
import time
from typing import Any

_STATIC = {
    b"/v1/models": b'{"object":"list","data":[{"id":"m","object":"model","owned_by":"bench"}]}',
    b"/health": b'{"status":"ok"}',
}


def _chunk(event: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(event), event)


def _event(obj: dict[str, Any]) -> bytes:
    return _chunk(b"data: %s\n\n" % json.dumps(obj, separators=(",", ":")).encode())


def _events(chat: bool, model: str) -> tuple[bytes, bytes, bytes]:
    """(token chunk, last token chunk, role chunk or b"") framed for chunked transfer."""
    kind = "chat.completion.chunk" if chat else "text_completion"
    base = {"id": "cmpl-b", "object": kind, "created": 1, "model": model}

    def choice(finish: str | None) -> dict[str, Any]:
        if chat:
            return {"index": 0, "delta": {"content": " tok"}, "finish_reason": finish}
        return {"index": 0, "text": " tok", "logprobs": None, "finish_reason": finish}

    role = {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}
    return (
        _event({**base, "choices": [choice(None)]}),
        _event({**base, "choices": [choice("length")]}),
        _event(role) if chat else b"",
    )


_DONE = _chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n"
_HEAD_200 = (
    b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
    b"Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n"
)


class _Stream:
    __slots__ = ("conn", "last", "left", "rec", "tail", "tok")

    def __init__(self, conn: _Conn, tok: bytes, last: bytes, tail: bytes, n: int, rec: Any):
        self.conn = conn
        self.tok = tok
        self.last = last
        self.tail = tail
        self.left = n
        self.rec = rec


class Server:
    def __init__(self, itl_s: float) -> None:
        self.itl_s = itl_s
        self.records: list[dict[str, Any]] = []
        self._ready: list[_Stream] = []
        self._pumping = False
        self.loop = asyncio.get_running_loop()

    def start_stream(self, s: _Stream) -> None:
        if self.itl_s > 0:
            self.send_one(s)
        else:
            self._ready.append(s)
            self._kick()

    def _kick(self) -> None:
        if not self._pumping and self._ready:
            self._pumping = True
            self.loop.call_soon(self._pump)

    def _pump(self) -> None:
        """Max mode: one token to every stream whose client keeps up, then yield to the loop."""
        ready, self._ready = self._ready, []
        for s in ready:
            if s.conn.paused:
                s.conn.waiting = s
                continue
            if self.send_one(s):
                self._ready.append(s)
        self._pumping = False
        self._kick()

    def send_one(self, s: _Stream) -> bool:
        """Write the stream's next token; True while tokens are left."""
        conn = s.conn
        if conn.closed:
            return False
        s.left -= 1
        data = s.tok if s.left else s.last + s.tail
        s.rec["sent"].append(time.perf_counter())
        conn.transport.write(data)
        if not s.left:
            conn.busy = False
            return False
        if self.itl_s > 0:
            self.loop.call_later(self.itl_s, self.send_one, s)
            return True
        return True

    def resume(self, s: _Stream) -> None:
        self._ready.append(s)
        self._kick()


class _Conn(asyncio.Protocol):
    def __init__(self, server: Server) -> None:
        self.server = server
        self.buf = b""
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.paused = False
        self.waiting: _Stream | None = None
        self.closed = False
        self.busy = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        s, self.waiting = self.waiting, None
        if s is not None:
            self.server.resume(s)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buf[:end]
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buf) < end + 4 + length:
                return
            body = self.buf[end + 4 : end + 4 + length]
            self.buf = self.buf[end + 4 + length :]
            self._answer(head, body)

    def _answer(self, head: bytes, body: bytes) -> None:
        received = time.perf_counter()
        method, path = head.split(b" ", 2)[:2]
        path = path.split(b"?", 1)[0]
        if method == b"GET" or path not in (b"/v1/completions", b"/v1/chat/completions"):
            payload = _STATIC.get(path.rstrip(b"/"))
            status = b"200 OK" if payload is not None else b"404 Not Found"
            payload = payload or b'{"error":{"message":"no such route"}}'
            self.transport.write(
                b"HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                % (status, len(payload), payload)
            )
            return
        req = json.loads(body or b"{}")
        chat = path == b"/v1/chat/completions"
        n = int(req.get("max_tokens") or req.get("max_completion_tokens") or 16)
        model = str(req.get("model") or "m")
        tok, last, role = _events(chat, model)
        tail = b""
        if (req.get("stream_options") or {}).get("include_usage"):
            usage = {
                "id": "cmpl-b",
                "object": "chat.completion.chunk" if chat else "text_completion",
                "created": 1,
                "model": model,
                "choices": [],
                "usage": {"prompt_tokens": 16, "completion_tokens": n, "total_tokens": n + 16},
            }
            tail = _event(usage)
        tail += _DONE
        prompt = req.get("prompt")
        if prompt is None and req.get("messages"):
            content = req["messages"][-1].get("content")
            prompt = content if isinstance(content, str) else json.dumps(content)
        rec: dict[str, Any] = {
            "prompt": prompt if isinstance(prompt, str) else json.dumps(prompt),
            "max_tokens": n,
            "received": received,
            "sent": [],
        }
        self.server.records.append(rec)
        self.busy = True
        self.transport.write(_HEAD_200 + role)
        self.server.start_stream(_Stream(self, tok, last, tail, max(n, 1), rec))


async def serve(
    port: int, itl_s: float, record: str | None, max_seconds: float, watch_stdin: bool
) -> None:
    server = Server(itl_s)
    loop = asyncio.get_running_loop()
    srv = await loop.create_server(lambda: _Conn(server), "127.0.0.1", port, backlog=4096)
    print(srv.sockets[0].getsockname()[1], flush=True)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    if watch_stdin:

        def wait_for_eof() -> None:
            sys.stdin.buffer.read()
            loop.call_soon_threadsafe(stop.set)

        threading.Thread(target=wait_for_eof, daemon=True).start()
    try:
        await asyncio.wait_for(stop.wait(), timeout=max_seconds)
    except TimeoutError:
        print("fast_stream_server: --max-seconds reached, stopping", file=sys.stderr)
    srv.close()
    if record:
        with open(record, "w") as f:
            json.dump({"requests": server.records}, f)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--itl-ms", type=float, default=0.0, help="gap between a stream's tokens")
    parser.add_argument("--record", help="write the send timestamps here (JSON) on exit")
    parser.add_argument("--max-seconds", type=float, default=900.0, help="stop after this long")
    parser.add_argument("--watch-stdin", action="store_true", help="stop when stdin closes")
    args = parser.parse_args()
    asyncio.run(
        serve(args.port, args.itl_ms / 1000, args.record, args.max_seconds, args.watch_stdin)
    )


if __name__ == "__main__":
    main()
