"""Send a load of streaming requests to an endpoint and time every chunk.

One clock for everything: ``time.perf_counter``. ``LoadResult.origin_perf_s`` is the counter value
at the start of ``run_load``; every ``send_s`` and the window bounds are seconds after it;
``chunk_times_s``, ``ttft_s``, ``e2el_s`` and ``end_s`` are seconds after the request's own send.

Per request: TTFT = send → first chunk carrying generated tokens (role-only and usage-only chunks
do not count); E2EL = send → last token chunk; ``end_s`` = send → the request was over (last byte
read, error or timeout), so ``end_s ≥ e2el_s``: the final usage chunk and ``[DONE]`` come after
the last token. A request that fails (HTTP status ≥ 400, timeout, dropped connection, malformed
stream) is recorded with its error and the run goes on. One exception: a connection that closes
before any response byte (a kept-alive connection the server closed as we reused it; llama.cpp
closes after every stream) is retried once, and the record times the second send.

The API key is read from the environment variable the caller names and sent as
``Authorization: Bearer``; it is never logged, stored in a record, or left in an error message.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict

from specscope.client.load import (
    ClosedLoop,
    LoadPattern,
    OpenLoop,
    arrival_offsets_s,
    in_flight_cap,
)
from specscope.client.protocols import (
    ApiKind,
    BenchPrompt,
    StreamError,
    StreamParser,
    build_body,
    endpoint_url,
)
from specscope.errors import UserError
from specscope.schema import RequestRecord

logger = logging.getLogger(__name__)

OnRequestDone = Callable[[RequestRecord], None]
_ERROR_BODY_CHARS = 200


class LoadResult(BaseModel):
    """Every request of one load run (warm-ups first, flagged) and the measured window."""

    model_config = ConfigDict(frozen=True)

    api: ApiKind
    model: str
    load: LoadPattern
    records: list[RequestRecord]
    """Warm-ups first, then timed requests (``run_load`` sets ``end_s`` on every one)."""
    ignore_eos: bool = True
    """Whether the requests asked the server to ignore end-of-sequence (exact output lengths)."""
    window_start_s: float
    """First timed send, seconds after origin."""
    window_end_s: float
    """Last timed request finished, seconds after origin."""
    origin_perf_s: float
    """``time.perf_counter()`` at the origin, to align other samplers (power) with the window."""
    started_unix_s: float
    """Wall-clock time of the origin (``time.time()``), for provenance only."""

    @property
    def duration_s(self) -> float:
        """Measured window: first timed send → last timed completion."""
        return self.window_end_s - self.window_start_s

    @property
    def window_perf_s(self) -> tuple[float, float]:
        """The window as ``time.perf_counter`` values (for PowerSampler.reading)."""
        return self.origin_perf_s + self.window_start_s, self.origin_perf_s + self.window_end_s

    @property
    def timed_records(self) -> list[RequestRecord]:
        return [r for r in self.records if not r.warmup]

    @property
    def timed_spans_s(self) -> list[tuple[float, float]]:
        """(send, end) of each timed request, seconds after origin."""
        return [request_span_s(r) for r in self.records if not r.warmup]


def request_span_s(record: RequestRecord) -> tuple[float, float]:
    """(send, end) of one request, seconds after the run's origin.

    A record without ``end_s`` (made by hand, not by ``run_load``) ends at its last token, or at
    its send when it has none.
    """
    after_send = record.end_s if record.end_s is not None else (record.e2el_s or 0.0)
    return record.send_s, record.send_s + after_send


class _Prepared:
    """A request body serialised once, before the clock matters."""

    __slots__ = ("content", "input_tokens", "output_tokens")

    def __init__(self, content: bytes, input_tokens: int | None, output_tokens: int) -> None:
        self.content = content
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens


def _prepare(
    prompts: Sequence[BenchPrompt],
    *,
    api: ApiKind,
    model: str,
    max_tokens: int | None,
    ignore_eos: bool,
    temperature: float,
    extra_body: Mapping[str, Any] | None,
) -> list[_Prepared]:
    out: list[_Prepared] = []
    for i, p in enumerate(prompts):
        n_out = p.output_tokens if p.output_tokens is not None else max_tokens
        if n_out is None:
            raise UserError(
                f"prompt {i} has no output length and max_tokens is not set; "
                "give each prompt output_tokens or pass max_tokens"
            )
        body = build_body(
            api,
            model=model,
            prompt=p.prompt,
            max_tokens=n_out,
            ignore_eos=ignore_eos,
            temperature=temperature,
            extra_body=dict(extra_body) if extra_body else None,
        )
        out.append(_Prepared(json.dumps(body).encode(), p.input_tokens, n_out))
    return out


def _short_body(raw: bytes, secret: str | None) -> str:
    text = " ".join(raw.decode("utf-8", errors="replace").split())
    if len(text) > _ERROR_BODY_CHARS:
        text = text[:_ERROR_BODY_CHARS] + "…"
    return _redact(text, secret)


def _redact(text: str, secret: str | None) -> str:
    return text.replace(secret, "***") if secret else text


_CLOSED_BEFORE_RESPONSE = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)
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


class _Sender:
    """Sends prepared requests on one httpx client and turns each into a RequestRecord."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        url: str,
        api: ApiKind,
        headers: dict[str, str],
        timeout_s: float,
        origin_perf_s: float,
        point_id: str,
        secret: str | None,
        on_request_done: OnRequestDone | None,
        keep_text: bool = False,
    ) -> None:
        self._client = client
        self._url = url
        self._api: ApiKind = api
        self._headers = headers
        self._timeout_s = timeout_s
        self._origin = origin_perf_s
        self._point_id = point_id
        self._secret = secret
        self._on_done = on_request_done
        self._keep_text = keep_text

    async def send(self, req: _Prepared, index: int, warmup: bool) -> RequestRecord:
        attempt = await self._attempt(req)
        if attempt.retry:
            # The kept-alive connection was closed by the server just as we reused it
            # (llama.cpp closes after every stream): the request never reached it. Once more.
            logger.debug("request %d: %s; sending it again", index, attempt.error)
            attempt = await self._attempt(req)
        parser, error, sent, ended = attempt.parser, attempt.error, attempt.sent, attempt.ended
        summary = parser.summary()
        if error is None and not summary.chunk_times_s:
            error = "stream finished with no generated tokens"
        times = summary.chunk_times_s
        record = RequestRecord(
            point_id=self._point_id,
            index=index,
            warmup=warmup,
            send_s=sent - self._origin,
            ttft_s=times[0] if times else None,
            e2el_s=times[-1] if times else None,
            end_s=ended - sent,
            chunk_times_s=times,
            chunk_tokens=summary.chunk_tokens,
            input_tokens=(
                summary.input_tokens if summary.input_tokens is not None else req.input_tokens
            ),
            requested_output_tokens=req.output_tokens,
            output_tokens=summary.output_tokens,
            error=error,
            draft_tokens=summary.draft_tokens,
            accepted_tokens=summary.accepted_tokens,
            output_text=summary.text,
        )
        if self._on_done is not None:
            try:
                self._on_done(record)
            except Exception:
                logger.exception("on_request_done callback failed; the run goes on")
        return record

    async def _attempt(self, req: _Prepared) -> _Attempt:
        parser = StreamParser(self._api, keep_text=self._keep_text)
        error: str | None = None
        got_response = False
        retry = False
        clock = time.perf_counter
        sent = clock()
        try:
            async with asyncio.timeout(self._timeout_s):
                async with self._client.stream(
                    "POST", self._url, content=req.content, headers=self._headers
                ) as resp:
                    got_response = True
                    if resp.status_code >= 400:
                        raw = await resp.aread()
                        error = f"HTTP {resp.status_code}: {_short_body(raw, self._secret)}"
                    else:
                        async for line in resp.aiter_lines():
                            parser.feed_line(line, clock() - sent)
                        if not parser.complete:
                            error = self._unfinished(len(parser.times))
        except TimeoutError:
            error = f"timeout after {self._timeout_s:g} s"
        except httpx.TimeoutException:
            error = f"timeout after {self._timeout_s:g} s"
        except StreamError as exc:
            error = _redact(str(exc), self._secret)
        except (httpx.HTTPError, OSError) as exc:
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


async def _run_closed(n: int, concurrency: int, run_one: Callable[[int], Awaitable[None]]) -> None:
    next_index = 0

    async def worker() -> None:
        nonlocal next_index
        while next_index < n:
            i = next_index
            next_index += 1
            await run_one(i)

    await asyncio.gather(*(worker() for _ in range(min(concurrency, n))))


async def _run_open(load: OpenLoop, run_one: Callable[[int], Awaitable[None]]) -> None:
    offsets = arrival_offsets_s(load)
    slots = asyncio.Semaphore(load.max_concurrency) if load.max_concurrency else None

    async def guarded(i: int) -> None:
        if slots is None:
            await run_one(i)
            return
        async with slots:
            await run_one(i)

    tasks: list[asyncio.Task[None]] = []
    start = time.perf_counter()
    for i, offset in enumerate(offsets):
        delay = start + offset - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(guarded(i)))
    await asyncio.gather(*tasks)


async def run_load(
    base_url: str,
    api: ApiKind,
    model: str,
    prompts: Sequence[BenchPrompt],
    load: ClosedLoop | OpenLoop,
    *,
    warmup_prompts: Sequence[BenchPrompt] = (),
    num_warmups: int | None = None,
    max_tokens: int | None = None,
    ignore_eos: bool = True,
    temperature: float = 0.0,
    timeout_s: float = 600.0,
    api_key_env: str = "OPENAI_API_KEY",
    extra_body: Mapping[str, Any] | None = None,
    on_request_done: OnRequestDone | None = None,
    point_id: str = "",
    keep_text: bool = False,
    transport: httpx.AsyncBaseTransport | None = None,
) -> LoadResult:
    """Run warm-ups, then ``load.num_requests`` timed requests, and return every record.

    ``prompts[i]`` is sent as timed request i (record index i); at least ``num_requests``
    prompts are required, since reusing a prompt lets prefix caching flatter the numbers.
    Warm-ups use ``warmup_prompts`` (distinct from the timed ones; ``num_warmups`` of them, all
    by default) at the load's in-flight cap, finish before the clock window opens, and are
    recorded with ``warmup=True`` (their ``index`` counts warm-ups from 0). ``max_tokens`` applies
    to prompts without ``output_tokens``. ``on_request_done`` is called with every record as it
    finishes, warm-ups included (check ``record.warmup``); an exception in it is logged and the
    run goes on. ``keep_text`` fills ``RequestRecord.output_text`` (what a failed request had
    streamed so far; None when not asked). ``transport`` replaces httpx's own network transport
    (tests, or a benchmark that tees the raw responses); the default opens real connections with
    at most the load's in-flight cap of them (a given transport brings its own limits).
    """
    if not base_url.startswith(("http://", "https://")):
        raise UserError(
            f"base URL {base_url!r} is not an http(s) URL; pass e.g. http://127.0.0.1:8080"
        )
    if timeout_s <= 0:
        raise UserError(f"request timeout must be positive, got {timeout_s}")
    if len(prompts) < load.num_requests:
        raise UserError(
            f"got {len(prompts)} prompts for {load.num_requests} requests; pass at least "
            "num_requests distinct prompts (reused prompts let prefix caching flatter TTFT)"
        )
    n_warm = len(warmup_prompts) if num_warmups is None else num_warmups
    if n_warm < 0 or n_warm > len(warmup_prompts):
        raise UserError(
            f"{n_warm} warm-ups asked but {len(warmup_prompts)} warm-up prompts given; "
            "pass one distinct warm-up prompt per warm-up request"
        )

    def prepare(ps: Sequence[BenchPrompt]) -> list[_Prepared]:
        return _prepare(
            ps,
            api=api,
            model=model,
            max_tokens=max_tokens,
            ignore_eos=ignore_eos,
            temperature=temperature,
            extra_body=extra_body,
        )

    timed = prepare(prompts[: load.num_requests])
    warm = prepare(warmup_prompts[:n_warm])

    secret = os.environ.get(api_key_env) or None
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
    if secret:
        headers["Authorization"] = f"Bearer {secret}"
    cap = in_flight_cap(load)
    limits = httpx.Limits(max_connections=cap, max_keepalive_connections=cap)
    started_unix = time.time()
    origin = time.perf_counter()

    warm_out: list[RequestRecord | None] = [None] * len(warm)
    timed_out: list[RequestRecord | None] = [None] * len(timed)

    # trust_env=False: a proxy between client and server would distort every timing.
    async with httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_s), limits=limits, trust_env=False, transport=transport
    ) as client:
        sender = _Sender(
            client,
            url=endpoint_url(base_url, api),
            api=api,
            headers=headers,
            timeout_s=timeout_s,
            origin_perf_s=origin,
            point_id=point_id,
            secret=secret,
            on_request_done=on_request_done,
            keep_text=keep_text,
        )

        async def run_warm(i: int) -> None:
            warm_out[i] = await sender.send(warm[i], i, True)

        async def run_timed(i: int) -> None:
            timed_out[i] = await sender.send(timed[i], i, False)

        if warm:
            await _run_closed(len(warm), cap or len(warm), run_warm)
        if isinstance(load, ClosedLoop):
            await _run_closed(len(timed), load.concurrency, run_timed)
        else:
            await _run_open(load, run_timed)

    done = [x for x in warm_out + timed_out if x is not None]
    timed_spans = [request_span_s(x) for x in timed_out if x is not None]
    return LoadResult(
        api=api,
        model=model,
        load=load,
        records=done,
        ignore_eos=ignore_eos,
        window_start_s=min(send for send, _ in timed_spans),
        window_end_s=max(end for _, end in timed_spans),
        origin_perf_s=origin,
        started_unix_s=started_unix,
    )
