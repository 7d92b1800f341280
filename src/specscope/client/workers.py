"""Spreading one load over several client processes, and deciding how many.

One Python process streams a few tens of thousands of tokens a second at most (its event loop is
single-threaded); past that, the client and not the server sets the numbers. So ``run_load`` can
split a load over N worker processes (each runs its own asyncio loop and connection pool). The
load's send plan says how it splits (``load.py``: ``SendPlan.split``):

- closed loop: the concurrency is split as evenly as possible (shares differ by at most one) and
  the requests in proportion to the shares, interleaved (``assign_requests``: with equal shares
  worker w takes every N-th request, w, w+N, …); each worker keeps its share in flight;
- open loop: the arrival schedule is computed once, in the parent, and each worker sends its
  requests (every N-th) at their scheduled times; a ``max_concurrency`` cap is split like a
  closed loop's concurrency (each worker caps its own share);
- warm-ups are split like a closed loop at the in-flight cap and finish in every worker before
  any timed request is sent: the parent then gives all workers one common start time.

One clock: every timestamp is ``time.perf_counter()``, which on Linux is CLOCK_MONOTONIC, shared
by all processes of the machine, so the workers' times and the parent's origin are comparable.
Workers are plain ``python`` subprocesses talking to the parent over a socket pair
(``multiprocessing.connection.Connection`` framing, pickled messages). Records come back as
``RawRecord`` tuples in batches (every ``FLUSH_S``), are turned into
``RequestRecord`` in the parent (``on_request_done`` is called there) and merged in send order.

How many workers (``workers=None``): ``plan_workers`` — expected token rate over what one worker
should carry. The expected rate is the load's own (``Pattern.expected_token_rate``: the in-flight
cap × ``ASSUMED_STREAM_TOK_S``; open loops without a cap: rate × mean output length); one worker
is planned to carry ``TARGET_CPU_UTIL`` of a core, i.e. ``TARGET_CPU_UTIL / cost`` tokens/s where
``cost`` is the client CPU seconds per token, calibrated once per process
(``client_cost_s_per_token``). The result is clamped to [1, usable cores] and to the load's
in-flight cap.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from specscope.client.load import (
    KeepInFlight,
    Pattern,
    SendPlan,
    WorkerShare,
    assign_requests,
    split_evenly,
)
from specscope.client.protocols import ApiKind
from specscope.client.saturation import LoadMeter, ProcessLoad
from specscope.client.sender import Prepared, RawRecord, Sender, SendSettings, to_record
from specscope.client.stream import SseFeed, StreamParser
from specscope.client.wire import WirePool
from specscope.schema import RequestRecord

ASSUMED_STREAM_TOK_S = 200.0
"""Token rate per stream assumed when deciding the number of workers (a fast engine with MTP)."""
TARGET_CPU_UTIL = 0.5
"""Share of a core one worker is planned to use: room for bursts, well below MAX_CPU_UTIL."""
LOOP_OVERHEAD_FACTOR = 6.0
"""Full client cost per token over the parse-only cost that ``client_cost_s_per_token`` times:
the event loop's wake-up, the socket read and the per-request work come on top of parsing. On
the 2-core development machine parsing took 3.3 µs per token and the whole client 22–36 µs per
token when tokens arrive one per read (benchmarks/client_overhead.py, paced runs), 5–10 µs when
they arrive in batches; 6 sits in that range, leaning to the costly case."""
FLUSH_S = 0.02
"""How often a worker sends its finished records to the parent."""
START_SLACK_S = 0.05
"""The common start time is this far after the last worker finished its warm-ups."""
JOIN_TIMEOUT_S = 5.0


class ClientWorkerError(RuntimeError):
    """A client worker process failed (a bug in the client, not a server failure)."""


# --- deciding and splitting (pure) --------------------------------------------------------------


def plan_workers(
    demand_tok_s: float,
    cost_s_per_token: float,
    cores: int,
    max_useful: int | None = None,
    target_util: float = TARGET_CPU_UTIL,
) -> int:
    """ceil(demand / (target_util / cost)), clamped to [1, cores] and to ``max_useful``."""
    per_worker_tok_s = target_util / cost_s_per_token
    n = math.ceil(demand_tok_s / per_worker_tok_s) if demand_tok_s > 0 else 1
    n = min(n, cores)
    if max_useful is not None:
        n = min(n, max_useful)
    return max(1, n)


def usable_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


_COST_CACHE: dict[str, float] = {}


def _synthetic_stream(api: ApiKind, n_events: int) -> bytes:
    """A chunked HTTP body of ``n_events`` one-token SSE events in the API's shape."""
    if api == "llamacpp":
        event = b'data: {"index":0,"content":" tok","tokens":[1234],"stop":false,"id_slot":0}\n\n'
    elif api == "sglang":
        event = b'data: {"text":" tok","output_ids":[1234],"meta_info":{"completion_tokens":1}}\n\n'
    elif api == "chat":
        event = (
            b'data: {"id":"c","object":"chat.completion.chunk","model":"m","choices":'
            b'[{"index":0,"delta":{"content":" tok"},"finish_reason":null}]}\n\n'
        )
    else:
        event = (
            b'data: {"id":"c","object":"text_completion","model":"m","choices":'
            b'[{"index":0,"text":" tok","logprobs":null,"finish_reason":null}]}\n\n'
        )
    return b"%x\r\n%s\r\n" % (len(event), event) * n_events


def client_cost_s_per_token(api: ApiKind = "completions", n_events: int = 2000) -> float:
    """Client CPU seconds per streamed token: the hot path timed on synthetic one-token reads
    (de-chunking, SSE split, JSON parse, token accounting) × ``LOOP_OVERHEAD_FACTOR``.

    Cached per API in this process; takes a few milliseconds.
    """
    if api in _COST_CACHE:
        return _COST_CACHE[api]
    from specscope.client.wire import _Connection  # the framing code itself, without a socket

    chunk = _synthetic_stream(api, 1)
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    best = math.inf
    for _ in range(3):
        conn = _Connection()
        parser = StreamParser(api)
        feed = SseFeed(parser, 0.0)
        conn._sink = feed
        conn._state = 0  # _HEAD
        conn._receive(head, 0.0)
        t0 = time.process_time()
        for k in range(n_events):
            conn._receive(chunk, float(k))
        parser.summary()
        best = min(best, (time.process_time() - t0) / n_events)
    cost = max(best, 1e-7) * LOOP_OVERHEAD_FACTOR
    _COST_CACHE[api] = cost
    return cost


def choose_workers(
    load: Pattern, mean_output_tokens: float, api: ApiKind, cores: int | None = None
) -> int:
    """The number of worker processes for a load when the caller did not say (see module doc)."""
    return plan_workers(
        load.expected_token_rate(mean_output_tokens, ASSUMED_STREAM_TOK_S),
        client_cost_s_per_token(api),
        cores if cores is not None else usable_cores(),
        load.in_flight_cap(),
    )


# --- the worker side ----------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkerJob:
    """Everything one worker process needs (picklable)."""

    worker: int
    send: SendSettings
    warm: list[tuple[int, Prepared]]
    """(record index, request) of this worker's warm-ups."""
    warm_concurrency: int
    timed: list[tuple[int, Prepared]]
    """(record index, request) of this worker's timed requests, in send order."""
    plan: SendPlan
    """How this worker sends its timed requests (its share of the load's plan), from the common
    start."""


def worker_main(conn: Connection, job: WorkerJob) -> None:
    """Entry point of a worker process: run the job and report over ``conn``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    try:
        asyncio.run(_serve(conn, job))
    except BaseException:
        with contextlib.suppress(OSError):
            conn.send(("error", traceback.format_exc(limit=8)))
    finally:
        conn.close()


async def _serve(conn: Connection, job: WorkerJob) -> None:
    loop = asyncio.get_running_loop()
    outbox: list[RawRecord] = []

    def flush() -> None:
        if outbox:
            conn.send(("records", outbox[:]))
            outbox.clear()

    async def flush_often() -> None:
        while True:
            await asyncio.sleep(FLUSH_S)
            flush()

    async with WirePool(job.send.url, headers=job.send.headers) as pool:
        sender = Sender(pool, job.send)

        async def run_warm(k: int) -> None:
            index, req = job.warm[k]
            outbox.append(await sender.send(req, index, True))

        async def run_timed(k: int) -> None:
            index, req = job.timed[k]
            outbox.append(await sender.send(req, index, False))

        if job.warm:
            await KeepInFlight(len(job.warm), job.warm_concurrency).run(
                run_warm, time.perf_counter()
            )
        flush()
        conn.send(("warm_done",))
        # nothing is in flight now, so the loop may block until the parent says go
        msg = conn.recv()
        if msg[0] != "go":
            return
        start_at: float = msg[1]
        gc.freeze()  # everything so far lives until the end: keep full collections short
        delay = start_at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        meter = LoadMeter()
        meter.start()
        flusher = loop.create_task(flush_often())
        try:
            await job.plan.run(run_timed, start_at)
        finally:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
        load = await meter.stop()
        flush()
        conn.send(("done", load))


# --- the parent side ----------------------------------------------------------------------------


def build_jobs(
    shares: Sequence[WorkerShare],
    timed: Sequence[Prepared],
    warm: Sequence[Prepared],
    warm_cap: int,
    send: SendSettings,
) -> list[WorkerJob]:
    """The job of each worker: its share of the timed requests and their plan (one job a
    share), and its part of the warm-ups (``warm_cap`` in flight over all workers)."""
    n_workers = len(shares)
    warm_shares = split_evenly(max(warm_cap, 1), n_workers)
    warm_parts = assign_requests(len(warm), [max(s, 1) for s in warm_shares])
    return [
        WorkerJob(
            worker=w,
            send=send,
            warm=[(i, warm[i]) for i in warm_parts[w]],
            warm_concurrency=max(warm_shares[w], 1),
            timed=[(i, timed[i]) for i in share.indices],
            plan=share.plan,
        )
        for w, share in enumerate(shares)
    ]


def _pump(
    conn: Connection,
    worker: int,
    loop: asyncio.AbstractEventLoop,
    inbox: asyncio.Queue[tuple[int, Any]],
) -> None:
    """Thread: forward every message of one worker to the parent's event loop."""
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            msg = ("eof",)
        try:
            loop.call_soon_threadsafe(inbox.put_nowait, (worker, msg))
        except RuntimeError:  # the loop is closed: nobody is listening any more
            return
        if msg[0] in ("eof", "error", "done"):
            return


async def run_jobs(
    jobs: Sequence[WorkerJob],
    *,
    point_id: str,
    on_record: Callable[[RequestRecord], None],
) -> list[ProcessLoad]:
    """Run every job in its own process; ``on_record`` gets each record as it arrives.

    Returns each worker's load over its timed window. Cancelling (or any error) stops the
    workers. Raises ClientWorkerError when a worker fails.
    """
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[tuple[int, Any]] = asyncio.Queue()
    procs: list[subprocess.Popen[bytes]] = []
    conns: list[Connection] = []
    finished = False
    try:
        for job in jobs:
            proc, parent_end = _start_worker(job)
            procs.append(proc)
            conns.append(parent_end)
            threading.Thread(
                target=_pump, args=(parent_end, job.worker, loop, inbox), daemon=True
            ).start()
        loads: dict[int, ProcessLoad] = {}
        warmed = 0
        while len(loads) < len(jobs):
            worker, msg = await inbox.get()
            kind = msg[0]
            if kind == "records":
                for raw in msg[1]:
                    on_record(to_record(raw, point_id))
            elif kind == "warm_done":
                warmed += 1
                if warmed == len(jobs):
                    start_at = time.perf_counter() + START_SLACK_S
                    for c in conns:
                        c.send(("go", start_at))
            elif kind == "done":
                loads[worker] = msg[1]
            elif kind == "error":
                raise ClientWorkerError(f"client worker {worker} failed:\n{msg[1]}")
            elif kind == "eof" and worker not in loads:
                code = procs[worker].poll()
                raise ClientWorkerError(
                    f"client worker {worker} exited (code {code}) before finishing its requests"
                )
        finished = True
        return [loads[w] for w in range(len(jobs))]
    finally:
        await asyncio.to_thread(_stop, procs, conns, finished)


_BOOT = (
    "import sys\n"
    "from multiprocessing.connection import Connection\n"
    "conn = Connection(int(sys.argv[1]))\n"
    "sys.path[:0] = conn.recv()\n"
    "from specscope.client.workers import worker_main\n"
    "worker_main(conn, conn.recv())\n"
)
"""A worker's first lines: take the parent's import path and the job over the socket.

A plain subprocess rather than multiprocessing's ``spawn``: spawn re-runs the caller's main
module in the child, which breaks scripts without an ``if __name__ == "__main__"`` guard."""


def _start_worker(job: WorkerJob) -> tuple[subprocess.Popen[bytes], Connection]:
    parent_sock, child_sock = socket.socketpair()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-c", _BOOT, str(child_sock.fileno())],
            pass_fds=(child_sock.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
        )
    finally:
        child_sock.close()
    conn = Connection(parent_sock.detach())
    conn.send([p for p in sys.path if p])
    conn.send(job)
    return proc, conn


def _stop(
    procs: Sequence[subprocess.Popen[bytes]], conns: Sequence[Connection], finished: bool
) -> None:
    """Let finished workers exit; stop the others at once."""
    for c in conns:
        with contextlib.suppress(OSError, ValueError):
            c.send(("stop",))
    if finished:
        deadline = time.monotonic() + JOIN_TIMEOUT_S
        for p in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=max(0.0, deadline - time.monotonic()))
    for p in procs:
        if p.poll() is None:
            p.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=1.0)
        if p.poll() is None:
            p.kill()
            p.wait()
    for c in conns:
        with contextlib.suppress(OSError):
            c.close()
