"""Sending one prepared request and timing its stream.

Shared by the single-process runner and the worker processes. A finished request is a
``RawRecord``: a plain tuple, cheap to build and to send between processes, turned into a
``RequestRecord`` only where the caller needs one (``to_record``).

Transport: the lean HTTP/1.1 client of ``wire.py`` by default; an ``httpx.AsyncClient`` when the
caller brings an httpx transport (tests, a benchmark that tees the raw responses). Both hand every
network read to ``SseFeed`` with its arrival time, so both time chunks the same way.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, NamedTuple

import httpx

from specscope.client.protocols import ApiKind
from specscope.client.stream import SseFeed, StreamError, StreamParser
from specscope.client.wire import RemoteProtocolError, WireError, WirePool
from specscope.schema import RequestRecord

logger = logging.getLogger(__name__)

_ERROR_BODY_CHARS = 200


class Prepared(NamedTuple):
    """A request body serialised once, before the clock matters."""

    content: bytes
    input_tokens: int | None
    output_tokens: int


class RawRecord(NamedTuple):
    """One finished request as a plain tuple (the fields of RequestRecord, TTFT/E2EL derived)."""

    record_index: int
    warmup: bool
    send_s: float
    """Seconds after the run's origin."""
    end_s: float
    """Seconds after the send."""
    chunk_times_s: list[float]
    chunk_tokens: list[int]
    input_tokens: int | None
    requested_output_tokens: int
    output_tokens: int
    error: str | None
    draft_tokens: int | None
    accepted_tokens: int | None
    output_text: str | None
    spec_decoding: dict[str, Any] | None = None
    """The response's own per-request spec-decoding fields (see StreamSummary)."""


def to_record(raw: RawRecord, point_id: str) -> RequestRecord:
    """The RequestRecord of a raw one; TTFT and E2EL are its first and last chunk times."""
    times = raw.chunk_times_s
    return RequestRecord(
        point_id=point_id,
        index=raw.record_index,
        warmup=raw.warmup,
        send_s=raw.send_s,
        ttft_s=times[0] if times else None,
        e2el_s=times[-1] if times else None,
        end_s=raw.end_s,
        chunk_times_s=times,
        chunk_tokens=raw.chunk_tokens,
        input_tokens=raw.input_tokens,
        requested_output_tokens=raw.requested_output_tokens,
        output_tokens=raw.output_tokens,
        error=raw.error,
        draft_tokens=raw.draft_tokens,
        accepted_tokens=raw.accepted_tokens,
        output_text=raw.output_text,
        spec_decoding=raw.spec_decoding,
    )


def _short_body(raw: bytes, secret: str | None) -> str:
    text = " ".join(raw.decode("utf-8", errors="replace").split())
    if len(text) > _ERROR_BODY_CHARS:
        text = text[:_ERROR_BODY_CHARS] + "…"
    return _redact(text, secret)


def _redact(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret else text


_CLOSED_BEFORE_RESPONSE = (
    httpx.RemoteProtocolError,
    httpx.ReadError,
    httpx.WriteError,
    RemoteProtocolError,
)
"""Errors of a connection that died before the response began: on a reused keep-alive
connection this is the server's close racing our send, and the request is sent once more."""


@dataclass(frozen=True, slots=True)
class _Attempt:
    parser: StreamParser
    error: str | None
    sent: float
    ended: float
    retry: bool
    """The connection closed before any response byte: worth one more try."""


@dataclass(frozen=True)
class SendSettings:
    """Where and how every request of a run is sent (picklable, for worker processes)."""

    url: str
    api: ApiKind
    headers: dict[str, str]
    """With ``Authorization`` when there is an API key."""
    secret: str | None
    """The API key, redacted from every error message."""
    timeout_s: float
    origin_perf_s: float
    """``time.perf_counter()`` at the run's origin: send times are seconds after it."""
    keep_text: bool = False


class Sender:
    """Sends prepared requests on one connection pool and turns each into a RawRecord."""

    def __init__(self, pool: WirePool | httpx.AsyncClient, settings: SendSettings) -> None:
        self._pool = pool
        self._url = settings.url
        self._api: ApiKind = settings.api
        self._headers = settings.headers
        self._timeout_s = settings.timeout_s
        self._origin = settings.origin_perf_s
        self._secret = settings.secret
        self._keep_text = settings.keep_text

    async def send(self, req: Prepared, index: int, warmup: bool) -> RawRecord:
        attempt = await self._attempt(req)
        if attempt.retry:
            # The kept-alive connection was closed by the server just as we reused it
            # (llama.cpp closes after every stream): the request never reached it. Once more,
            # on a new connection (every idle one may be closed alike: at concurrency 2 two
            # stale connections made both tries fail).
            logger.debug("request %d: %s; sending it again", index, attempt.error)
            attempt = await self._attempt(req, fresh=True)
        parser, error, sent, ended = attempt.parser, attempt.error, attempt.sent, attempt.ended
        summary = parser.summary()
        if error is None and not summary.chunk_times_s:
            error = "stream finished with no generated tokens"
        return RawRecord(
            index,
            warmup,
            sent - self._origin,
            ended - sent,
            summary.chunk_times_s,
            summary.chunk_tokens,
            summary.input_tokens if summary.input_tokens is not None else req.input_tokens,
            req.output_tokens,
            summary.output_tokens,
            error,
            summary.draft_tokens,
            summary.accepted_tokens,
            summary.text,
            summary.spec_decoding,
        )

    async def _attempt(self, req: Prepared, fresh: bool = False) -> _Attempt:
        parser = StreamParser(self._api, keep_text=self._keep_text)
        error: str | None = None
        got_response = False
        retry = False
        clock = time.perf_counter
        sent = clock()
        feed = SseFeed(parser, sent)
        pool = self._pool
        try:
            async with asyncio.timeout(self._timeout_s):
                if isinstance(pool, WirePool):
                    response = await pool.post(req.content, feed, fresh=fresh)
                    got_response = True
                    if response.status >= 400:
                        body = _short_body(response.error_body, self._secret)
                        error = f"HTTP {response.status}: {body}"
                else:
                    async with pool.stream(
                        "POST", self._url, content=req.content, headers=self._headers
                    ) as resp:
                        got_response = True
                        if resp.status_code >= 400:
                            raw = await resp.aread()
                            error = f"HTTP {resp.status_code}: {_short_body(raw, self._secret)}"
                        else:
                            async for data in resp.aiter_bytes():
                                feed(data, clock())
                if error is None:
                    feed.finish(clock())
                    if not parser.complete:
                        error = self._unfinished(len(parser.times))
        except (TimeoutError, httpx.TimeoutException):
            error = f"timeout after {self._timeout_s:g} s"
        except StreamError as exc:
            error = _redact(str(exc), self._secret)
        except (WireError, httpx.HTTPError, OSError) as exc:
            got_response = got_response or (isinstance(exc, WireError) and exc.got_response)
            retry = not got_response and isinstance(exc, _CLOSED_BEFORE_RESPONSE)
            if got_response:
                what = f"connection dropped after {len(parser.times)} token chunks"
            elif retry:
                what = "connection closed before any response"
            else:
                what = "connection failed"
            error = _redact(f"{what}: {type(exc).__name__}: {exc}", self._secret)
        except Exception as exc:  # never let one request end the run
            error = _redact(f"{type(exc).__name__}: {exc}", self._secret)
        return _Attempt(parser, error, sent, clock(), retry)

    def _unfinished(self, n_chunks: int) -> str:
        marker = (
            "a final stop:true chunk"
            if self._api == "llamacpp"
            else "data: [DONE] or a finish_reason"
        )
        return f"stream ended without {marker} after {n_chunks} token chunks"
