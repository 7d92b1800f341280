"""A lean HTTP/1.1 client for streaming POSTs, built on asyncio protocols.

Why not httpx on the hot path: every streamed chunk passes through several async-generator
layers (network stream, h11 events, content decoding, text decoding, line splitting) before the
benchmark sees it, which costs tens of microseconds of CPU per token, and at a few thousand tokens
a second that makes a single-process client the bottleneck. Here each network read is handled in
one ``data_received`` call: it is timestamped once (``time.perf_counter``), de-chunked with
``bytes.find`` and slicing, and handed to a sink as one ``bytes`` object. Nothing is decoded to
text, no object is made per token.

Scope, on purpose small: ``POST`` with a body, ``http`` and ``https`` (the system's default TLS
context), HTTP/1.1 keep-alive with an unbounded pool (the caller bounds requests in flight, so
connections never exceed them), response bodies framed by ``Transfer-Encoding: chunked``,
``Content-Length`` or connection close. No redirects, proxies, compression (none is asked for) or
HTTP/2. Bodies of error responses (status ≥ 400) are collected, up to ``ERROR_BODY_MAX_BYTES``.

Errors: ``ConnectError`` when no connection could be made; ``RemoteProtocolError`` when the server
closed the connection or broke the framing — ``got_response`` tells whether the response head had
arrived (a kept-alive connection closed by the server just as it was reused fails before it).
An exception raised by the sink ends the request and is re-raised by ``post``.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Callable
from urllib.parse import urlsplit

ERROR_BODY_MAX_BYTES = 4096

Sink = Callable[[bytes, float], None]
"""Receives each read's body bytes and the ``time.perf_counter()`` value when it arrived."""


class WireError(Exception):
    """An HTTP request could not be completed."""

    got_response = False


class ConnectError(WireError):
    """No connection to the server could be opened."""


class RemoteProtocolError(WireError):
    """The server closed the connection or sent a response that is not valid HTTP/1.1."""

    def __init__(self, message: str, *, got_response: bool) -> None:
        super().__init__(message)
        self.got_response = got_response


class Response:
    """Status of a finished response; ``error_body`` holds the body of a status ≥ 400."""

    __slots__ = ("error_body", "status")

    def __init__(self, status: int, error_body: bytes) -> None:
        self.status = status
        self.error_body = error_body


_HEAD, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_END, _TRAILER, _LENGTH, _UNTIL_CLOSE, _IDLE = range(8)


class _Connection(asyncio.Protocol):
    """One keep-alive connection; serves one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.reusable = False
        self._state = _IDLE
        self._buf = b""
        self._remaining = 0
        self._status = 0
        self._error_body = bytearray()
        self._sink: Sink | None = None
        self._done: asyncio.Future[Response] | None = None
        self._close_after = False

    # asyncio callbacks

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.reusable = False
        done = self._done
        if done is None or done.done():
            return
        if self._state == _UNTIL_CLOSE:
            self._finish()
            return
        got = self._state != _HEAD
        what = "connection closed before any response" if not got else "connection closed"
        if exc is not None:
            what += f" ({type(exc).__name__}: {exc})"
        done.set_exception(RemoteProtocolError(what, got_response=got))

    def data_received(self, data: bytes) -> None:
        t = time.perf_counter()
        done = self._done
        if done is None or done.done():
            # bytes nobody asked for: the connection is out of step, never reuse it
            self._close_after = True
            self.reusable = False
            if self.transport is not None:
                self.transport.abort()
            return
        try:
            self._receive(data, t)
        except Exception as exc:  # the sink's or a framing error: end this request
            if not done.done():
                done.set_exception(exc)
            self.abort()

    def eof_received(self) -> bool | None:
        return None  # close the transport; connection_lost decides what that meant

    # the request side

    def send(self, data: bytes, sink: Sink) -> asyncio.Future[Response]:
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        self._done = loop.create_future()
        self._sink = sink
        self._state = _HEAD
        self._buf = b""
        self._status = 0
        self._error_body = bytearray()
        self._close_after = False
        self.reusable = False
        self.transport.write(data)
        return self._done

    def abort(self) -> None:
        self.closed = True
        self.reusable = False
        if self.transport is not None:
            self.transport.abort()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    # response parsing

    def _receive(self, data: bytes, t: float) -> None:
        if self._buf:
            data = self._buf + data
            self._buf = b""
        pos = 0
        end = len(data)
        out: list[bytes] = []
        while pos < end:
            state = self._state
            if state == _CHUNK_SIZE:
                nl = data.find(b"\r\n", pos)
                if nl < 0:
                    self._buf = data[pos:]
                    break
                size_text = data[pos:nl]
                semi = size_text.find(b";")
                if semi >= 0:
                    size_text = size_text[:semi]
                try:
                    size = int(size_text, 16)
                except ValueError:
                    raise RemoteProtocolError(
                        f"malformed chunk size {size_text[:40]!r}", got_response=True
                    ) from None
                pos = nl + 2
                if size == 0:
                    self._state = _TRAILER
                else:
                    self._remaining = size
                    self._state = _CHUNK_DATA
            elif state == _CHUNK_DATA:
                take = min(self._remaining, end - pos)
                out.append(data[pos : pos + take])
                pos += take
                self._remaining -= take
                if self._remaining == 0:
                    self._state = _CHUNK_END
            elif state == _CHUNK_END:
                if end - pos < 2:
                    self._buf = data[pos:]
                    break
                if data[pos : pos + 2] != b"\r\n":
                    raise RemoteProtocolError("chunk not followed by CRLF", got_response=True)
                pos += 2
                self._state = _CHUNK_SIZE
            elif state == _TRAILER:
                nl = data.find(b"\r\n", pos)
                if nl < 0:
                    self._buf = data[pos:]
                    break
                line_empty = nl == pos
                pos = nl + 2
                if line_empty:
                    self._emit(out, t)
                    out = []
                    if pos < end:
                        self._close_after = True  # bytes past the response: do not reuse
                    self._finish()
                    return
            elif state == _LENGTH:
                take = min(self._remaining, end - pos)
                out.append(data[pos : pos + take])
                pos += take
                self._remaining -= take
                if self._remaining == 0:
                    self._emit(out, t)
                    out = []
                    if pos < end:
                        self._close_after = True
                    self._finish()
                    return
            elif state == _UNTIL_CLOSE:
                out.append(data[pos:] if pos else data)
                pos = end
            elif state == _HEAD:
                head_end = data.find(b"\r\n\r\n", pos)
                if head_end < 0:
                    self._buf = data[pos:]
                    if len(self._buf) > 65536:
                        raise RemoteProtocolError("response head over 64 KiB", got_response=False)
                    break
                self._read_head(data[pos:head_end])
                pos = head_end + 4
                if self._state == _IDLE:  # a body-less response (Content-Length: 0)
                    self._finish()
                    return
            else:
                raise RemoteProtocolError("data after the response ended", got_response=True)
        self._emit(out, t)

    def _read_head(self, head: bytes) -> None:
        lines = head.split(b"\r\n")
        status_line = lines[0]
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
            raise RemoteProtocolError(
                f"malformed status line {status_line[:60]!r}", got_response=False
            )
        try:
            self._status = int(parts[1])
        except ValueError:
            raise RemoteProtocolError(
                f"malformed status line {status_line[:60]!r}", got_response=False
            ) from None
        chunked = False
        length: int | None = None
        close = parts[0] == b"HTTP/1.0"
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            key = name.strip().lower()
            if key == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif key == b"content-length":
                try:
                    length = int(value.strip())
                except ValueError:
                    raise RemoteProtocolError(
                        f"malformed Content-Length {value.strip()[:40]!r}", got_response=True
                    ) from None
            elif key == b"connection":
                v = value.strip().lower()
                if v == b"close":
                    close = True
                elif v == b"keep-alive":
                    close = False
        self._close_after = close
        if chunked:
            self._state = _CHUNK_SIZE
        elif length is not None:
            self._remaining = length
            self._state = _LENGTH if length > 0 else _IDLE
        else:
            self._state = _UNTIL_CLOSE
            self._close_after = True

    def _emit(self, out: list[bytes], t: float) -> None:
        if not out:
            return
        data = out[0] if len(out) == 1 else b"".join(out)
        if self._status >= 400:
            room = ERROR_BODY_MAX_BYTES - len(self._error_body)
            if room > 0:
                self._error_body += data[:room]
            return
        assert self._sink is not None
        self._sink(data, t)

    def _finish(self) -> None:
        done = self._done
        self._state = _IDLE
        self._sink = None
        self.reusable = not self._close_after and not self.closed
        if done is not None and not done.done():
            done.set_result(Response(self._status, bytes(self._error_body)))


class WirePool:
    """Keep-alive connections to one server; ``post`` streams one request's response body."""

    def __init__(self, url: str, *, headers: dict[str, str], user_agent: str = "specscope") -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._ssl: ssl.SSLContext | None = (
            ssl.create_default_context() if parts.scheme == "https" else None
        )
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        host_header = parts.netloc.rpartition("@")[2]
        fields = {"Host": host_header, "User-Agent": user_agent, **headers}
        text = f"POST {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items())
        self._head = text.encode("latin-1")
        self._idle: list[_Connection] = []
        self._open_conns: set[_Connection] = set()

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            _, conn = await loop.create_connection(
                _Connection,
                self._host,
                self._port,
                ssl=self._ssl,
                server_hostname=self._host if self._ssl is not None else None,
            )
        except (OSError, ssl.SSLError) as exc:
            raise ConnectError(f"{type(exc).__name__}: {exc}") from exc
        self._open_conns.add(conn)
        return conn

    async def post(self, body: bytes, sink: Sink, *, fresh: bool = False) -> Response:
        """Send one POST and feed its body to ``sink`` read by read; returns when it ended.

        ``fresh`` opens a new connection instead of reusing an idle one (a retry after a reused
        connection turned out closed: the other idle ones may be closed too, their FIN not read
        yet). Cancellation (a timeout) aborts the connection.
        """
        conn: _Connection | None = None
        while self._idle and not fresh:
            candidate = self._idle.pop()
            if not candidate.closed:
                conn = candidate
                break
            self._open_conns.discard(candidate)
        if conn is None:
            conn = await self._connect()
        data = self._head + b"Content-Length: %d\r\n\r\n" % len(body) + body
        try:
            response = await conn.send(data, sink)
        except BaseException:
            conn.abort()
            self._open_conns.discard(conn)
            raise
        if conn.reusable:
            self._idle.append(conn)
        else:
            conn.close()
            self._open_conns.discard(conn)
        return response

    def close(self) -> None:
        """Close every connection (idle or not)."""
        for conn in self._open_conns:
            conn.close()
        self._open_conns.clear()
        self._idle.clear()

    async def __aenter__(self) -> WirePool:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()
