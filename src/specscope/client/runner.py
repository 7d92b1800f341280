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

Where the work happens: requests go out on the lean HTTP/1.1 client of ``wire.py`` (an httpx
transport when the caller gives one), in this process's event loop or, with ``workers`` > 1, in
worker processes (``workers.py``). A chunk is timestamped when its network read arrives. During
the timed phase the sending loops measure themselves (``saturation.py``: event-loop lag and CPU
use), and the caller's heap is frozen for the garbage collector (``gc.freeze``) so that a full
collection cannot stall the loop mid-window; it is unfrozen when the phase ends.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict

from specscope.client.load import KeepInFlight, LoadPattern, SendPlan
from specscope.client.protocols import ApiKind, BenchPrompt, build_body, endpoint_url
from specscope.client.saturation import LoadMeter, ProcessLoad, merge_loads
from specscope.client.sender import Prepared, RawRecord, Sender, SendSettings, to_record
from specscope.client.wire import WirePool
from specscope.client.workers import build_jobs, choose_workers, run_jobs
from specscope.errors import UserError
from specscope.schema import RequestRecord

logger = logging.getLogger(__name__)

OnRequestDone = Callable[[RequestRecord], None]


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
    client_workers: int = 1
    """Processes that sent the requests (1: the caller's own event loop)."""
    client_cpu_s: float | None = None
    """CPU seconds the sending processes used over the timed phase (all workers together)."""
    client_cpu_util: float | None = None
    """The busiest sending process's CPU seconds per wall second over the timed phase (0..1)."""
    client_loop_lag_p99_s: float | None = None
    """The worst sending process's p99 event-loop lag over the timed phase."""
    client_loop_lag_max_s: float | None = None

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


class LoadRun(BaseModel):
    """One load to send: where, which requests, in which pattern, and how (``run_load``)."""

    model_config = ConfigDict(frozen=True)

    base_url: str
    api: ApiKind
    model: str
    prompts: list[BenchPrompt]
    """``prompts[i]`` is sent as timed request i; at least ``load.num_requests`` of them."""
    load: LoadPattern
    warmup_prompts: list[BenchPrompt] = []
    """Distinct from the timed prompts; sent before the window at the load's in-flight cap."""
    num_warmups: int | None = None
    """How many of ``warmup_prompts`` to send (None: all)."""
    max_tokens: int | None = None
    """Output length of prompts without their own ``output_tokens``."""
    ignore_eos: bool = True
    temperature: float = 0.0
    timeout_s: float = 600.0
    api_key_env: str = "OPENAI_API_KEY"
    """Environment variable holding the API key (sent as ``Authorization: Bearer``)."""
    extra_body: dict[str, Any] | None = None
    """Keys added last to every request body."""
    point_id: str = ""
    keep_text: bool = False
    """Fill ``RequestRecord.output_text``."""
    workers: int | None = None
    """Client processes to split the load over; None decides (see ``workers.py``)."""

    def prepare(self, prompts: Sequence[BenchPrompt]) -> list[Prepared]:
        """Serialise each prompt's request body; a prompt without an output length is an error."""
        out: list[Prepared] = []
        for i, p in enumerate(prompts):
            n_out = p.output_tokens if p.output_tokens is not None else self.max_tokens
            if n_out is None:
                raise UserError(
                    f"prompt {i} has no output length and max_tokens is not set; "
                    "give each prompt output_tokens or pass max_tokens"
                )
            body = build_body(
                self.api,
                model=self.model,
                prompt=p.prompt,
                max_tokens=n_out,
                ignore_eos=self.ignore_eos,
                temperature=self.temperature,
                extra_body=dict(self.extra_body) if self.extra_body else None,
            )
            out.append(Prepared(json.dumps(body).encode(), p.input_tokens, n_out))
        return out


async def run_load(
    run: LoadRun,
    *,
    on_request_done: OnRequestDone | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> LoadResult:
    """Run warm-ups, then ``run.load.num_requests`` timed requests, and return every record.

    ``run.prompts[i]`` is sent as timed request i (record index i); at least ``num_requests``
    prompts are required, since reusing a prompt lets prefix caching flatter the numbers.
    Warm-ups use ``run.warmup_prompts`` (``num_warmups`` of them, all by default) at the load's
    in-flight cap, finish before the clock window opens, and are recorded with ``warmup=True``
    (their ``index`` counts warm-ups from 0). ``on_request_done`` is called with every record as
    it finishes, warm-ups included (check ``record.warmup``); an exception in it is logged and
    the run goes on. ``transport`` replaces the client's own HTTP/1.1 connections with an httpx
    transport (tests, or a benchmark that tees the raw responses).

    ``run.workers`` splits the load over that many client processes (see ``workers.py``); None
    decides from the expected token rate and the client's calibrated CPU cost per token (1 when
    one process is enough, and always 1 with a ``transport``). The result carries the client's
    own load over the timed phase (``client_cpu_util``, ``client_loop_lag_p99_s``), which
    ``aggregate`` uses to flag a client-bound point.
    """
    _check(run, transport)
    load, api = run.load, run.api
    timed = run.prepare(run.prompts[: load.num_requests])
    n_warm = len(run.warmup_prompts) if run.num_warmups is None else run.num_warmups
    warm = run.prepare(run.warmup_prompts[:n_warm])
    if transport is not None:
        n_workers = 1
    elif run.workers is not None:
        n_workers = run.workers
    else:
        mean_out = sum(p.output_tokens for p in timed) / len(timed)
        n_workers = choose_workers(load, mean_out, api)

    secret = os.environ.get(run.api_key_env) or None
    headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
    if secret:
        headers["Authorization"] = f"Bearer {secret}"
    url = endpoint_url(run.base_url, api)
    cap = load.in_flight_cap()
    started_unix = time.time()
    origin = time.perf_counter()
    send = SendSettings(url, api, headers, secret, run.timeout_s, origin, run.keep_text)

    done: list[RequestRecord] = []

    def on_record(record: RequestRecord) -> None:
        done.append(record)
        if on_request_done is not None:
            try:
                on_request_done(record)
            except Exception:
                logger.exception("on_request_done callback failed; the run goes on")

    plan = load.plan()
    if n_workers > 1:
        jobs = build_jobs(plan.split(n_workers), timed, warm, cap or len(warm), send)
        loads = await run_jobs(jobs, point_id=run.point_id, on_record=on_record)
    else:
        pool: WirePool | httpx.AsyncClient
        if transport is None:
            pool = WirePool(url, headers=headers)
        else:
            # trust_env=False: a proxy between client and server would distort every timing.
            pool = httpx.AsyncClient(
                timeout=httpx.Timeout(run.timeout_s),
                limits=httpx.Limits(max_connections=cap, max_keepalive_connections=cap),
                trust_env=False,
                transport=transport,
            )
        async with pool:
            sender = Sender(pool, send)
            loads = [await _run_here(sender, plan, timed, warm, cap, run.point_id, on_record)]

    warm_done = sorted((r for r in done if r.warmup), key=lambda r: r.index)
    timed_done = sorted((r for r in done if not r.warmup), key=lambda r: (r.send_s, r.index))
    timed_spans = [request_span_s(x) for x in timed_done]
    client_load = merge_loads(loads)
    return LoadResult(
        api=api,
        model=run.model,
        load=load,
        records=warm_done + timed_done,
        ignore_eos=run.ignore_eos,
        window_start_s=min(send for send, _ in timed_spans),
        window_end_s=max(end for _, end in timed_spans),
        origin_perf_s=origin,
        started_unix_s=started_unix,
        client_workers=client_load.workers,
        client_cpu_s=client_load.cpu_s,
        client_cpu_util=client_load.cpu_util,
        client_loop_lag_p99_s=client_load.loop_lag_p99_s,
        client_loop_lag_max_s=client_load.loop_lag_max_s,
    )


def _check(run: LoadRun, transport: httpx.AsyncBaseTransport | None) -> None:
    """Refuse a run that cannot be measured honestly, in one line the user can act on."""
    base_url, load = run.base_url, run.load
    if not base_url.startswith(("http://", "https://")) or not urlsplit(base_url).hostname:
        raise UserError(
            f"base URL {base_url!r} is not an http(s) URL; pass e.g. http://127.0.0.1:8080"
        )
    if run.timeout_s <= 0:
        raise UserError(f"request timeout must be positive, got {run.timeout_s}")
    if len(run.prompts) < load.num_requests:
        raise UserError(
            f"got {len(run.prompts)} prompts for {load.num_requests} requests; pass at least "
            "num_requests distinct prompts (reused prompts let prefix caching flatter TTFT)"
        )
    n_warm = len(run.warmup_prompts) if run.num_warmups is None else run.num_warmups
    if n_warm < 0 or n_warm > len(run.warmup_prompts):
        raise UserError(
            f"{n_warm} warm-ups asked but {len(run.warmup_prompts)} warm-up prompts given; "
            "pass one distinct warm-up prompt per warm-up request"
        )
    workers = run.workers
    if workers is not None and workers < 1:
        raise UserError(f"client workers must be ≥ 1, got {workers}")
    if workers is not None and workers > 1 and transport is not None:
        raise UserError(
            "a custom transport runs in this process only; pass workers=1 (or None) with it"
        )


async def _run_here(
    sender: Sender,
    plan: SendPlan,
    timed: Sequence[Prepared],
    warm: Sequence[Prepared],
    cap: int | None,
    point_id: str,
    on_record: Callable[[RequestRecord], None],
) -> ProcessLoad:
    """Warm-ups, then the timed requests, in this process's event loop; returns its load."""

    loop = asyncio.get_running_loop()

    def keep(raw: RawRecord) -> None:
        on_record(to_record(raw, point_id))

    # The record of a finished request is built (and the caller's callback run) just after the
    # scheduler has sent the next request, not before: a burst of completions then costs the
    # new requests nothing.
    async def run_warm(i: int) -> None:
        loop.call_soon(keep, await sender.send(warm[i], i, True))

    async def run_timed(i: int) -> None:
        loop.call_soon(keep, await sender.send(timed[i], i, False))

    if warm:
        await KeepInFlight(len(warm), cap or len(warm)).run(run_warm, time.perf_counter())
    meter = LoadMeter()
    gc.freeze()  # a full collection over the caller's whole heap would stall the loop mid-window
    meter.start()
    try:
        await plan.run(run_timed, time.perf_counter())
    finally:
        await asyncio.sleep(0)  # the last records' bookkeeping
        process_load = await meter.stop()
        gc.unfreeze()
    return process_load
