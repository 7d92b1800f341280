"""How busy the client itself was during a point: event-loop lag and CPU use.

A load generator that cannot keep up distorts what it measures: chunks wait in the socket
buffer before the loop reads them (TTFT and ITL grow), and a closed loop sends its next request
late (throughput falls). So every process that sends requests watches itself over the measured
window:

- **loop lag**: a ticker sleeps ``LAG_TICK_S`` (10 ms) at a time and records how late it woke up.
  A free loop wakes within a fraction of a millisecond; lateness means other callbacks (or the
  operating system) held the loop, and a chunk arriving meanwhile was timestamped late by up to
  that much.
- **CPU use**: the event-loop thread's CPU seconds over the window's wall seconds; 1.0 is one
  core busy all the time, the most a single-threaded asyncio loop can use.

A point is **client-bound** when the p99 lag exceeds ``MAX_LOOP_LAG_P99_S`` (20 ms) or a sending
process's CPU use exceeds ``MAX_CPU_UTIL`` (0.9 of a core). With several worker processes the lag
p99 and the CPU use are each the worst worker's (that worker's requests are the distorted ones).
CPU is counted for the thread that runs the event loop (``time.thread_time``): other threads of
the caller (progress bars, power sampling) do not count, though they show up as lag if they hold
the GIL. Windows shorter than ``MIN_JUDGED_WINDOW_S`` are not judged.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict

LAG_TICK_S = 0.010
"""How long the lag ticker sleeps between samples."""
MAX_LOOP_LAG_P99_S = 0.020
"""p99 loop lag above which a point is client-bound. Not lower: on a box whose cores the server
keeps busy (a CPU engine with one thread per core), the scheduler alone wakes an idle loop
several ms late (6 ms p99 seen here with llama.cpp on 2 cores); 20 ms is where chunk timestamps
stop being good to a tenth of a typical decode step."""
MAX_CPU_UTIL = 0.9
"""CPU use of one sending process (cores) above which a point is client-bound."""
MIN_JUDGED_WINDOW_S = 1.0
"""Windows shorter than this are not judged: with fewer than ~100 lag samples the p99 is the
largest sample, so one garbage-collection pause would decide it, and CPU use over a fraction of
a second describes the burst of a few requests rather than a steady state."""


@dataclass(frozen=True, slots=True)
class ProcessLoad:
    """One sending process over the measured window (plain data: it crosses process pipes)."""

    wall_s: float
    cpu_s: float
    """CPU seconds of the thread running the event loop."""
    lag_mean_s: float
    lag_p99_s: float
    lag_max_s: float
    lag_samples: int

    @property
    def cpu_util(self) -> float:
        return self.cpu_s / self.wall_s if self.wall_s > 0 else 0.0


class ClientLoad(BaseModel):
    """The client's own load over a point's window, over all its sending processes."""

    model_config = ConfigDict(frozen=True)

    workers: int
    """Sending processes (1: the caller's own event loop)."""
    cpu_s: float
    """CPU seconds of all sending processes over the window."""
    cpu_util: float
    """The busiest sending process's CPU seconds per wall second (1.0 = one core)."""
    loop_lag_mean_s: float
    loop_lag_p99_s: float
    """The worst sending process's p99 event-loop lag."""
    loop_lag_max_s: float
    lag_samples: int


def lag_summary(lags_s: Sequence[float]) -> tuple[float, float, float]:
    """(mean, p99, max) of lag samples in seconds; zeros when there are none.

    p99 uses numpy's linear interpolation, like every other percentile of the client.
    """
    if not lags_s:
        return 0.0, 0.0, 0.0
    arr = np.asarray(lags_s, dtype=float)
    return float(arr.mean()), float(np.percentile(arr, 99.0)), float(arr.max())


def merge_loads(loads: Sequence[ProcessLoad]) -> ClientLoad:
    """The client's load from each sending process's: worst lag and CPU use, summed CPU.

    The mean lag is weighted by each process's number of samples.
    """
    if not loads:
        raise ValueError("merge_loads needs at least one process load")
    samples = sum(x.lag_samples for x in loads)
    mean = sum(x.lag_mean_s * x.lag_samples for x in loads) / samples if samples else 0.0
    return ClientLoad(
        workers=len(loads),
        cpu_s=sum(x.cpu_s for x in loads),
        cpu_util=max(x.cpu_util for x in loads),
        loop_lag_mean_s=mean,
        loop_lag_p99_s=max(x.lag_p99_s for x in loads),
        loop_lag_max_s=max(x.lag_max_s for x in loads),
        lag_samples=samples,
    )


def client_bound_reason(
    loop_lag_p99_s: float | None,
    cpu_util: float | None,
    window_s: float,
    *,
    max_loop_lag_p99_s: float = MAX_LOOP_LAG_P99_S,
    max_cpu_util: float = MAX_CPU_UTIL,
    min_window_s: float = MIN_JUDGED_WINDOW_S,
) -> str | None:
    """Why the client was the bottleneck, or None when it was not.

    None inputs are not judged, nor is a window shorter than ``min_window_s``.
    """
    if window_s < min_window_s:
        return None
    reasons: list[str] = []
    if loop_lag_p99_s is not None and loop_lag_p99_s > max_loop_lag_p99_s:
        reasons.append(
            f"event-loop lag p99 {loop_lag_p99_s * 1e3:.1f} ms > {max_loop_lag_p99_s * 1e3:g} ms"
        )
    if cpu_util is not None and cpu_util > max_cpu_util:
        reasons.append(f"CPU {cpu_util:.2f} of a core > {max_cpu_util:g}")
    if not reasons:
        return None
    return (
        "client-bound: the load generator could not keep up ("
        + "; ".join(reasons)
        + "), so its timings and throughput describe the client, not the server; "
        "run with more client workers (--workers N) or on a machine with more free cores"
    )


class LoadMeter:
    """Measures the event loop's CPU use and lag between ``start`` and ``stop``.

    Both must be called from inside the running event loop that sends the requests (the CPU
    clock is that thread's).
    """

    def __init__(self, tick_s: float = LAG_TICK_S) -> None:
        self._tick_s = tick_s
        self._lags: list[float] = []
        self._task: asyncio.Task[None] | None = None
        self._cpu0 = 0.0
        self._wall0 = 0.0

    def start(self) -> None:
        self._lags = []
        self._cpu0 = time.thread_time()
        self._wall0 = time.perf_counter()
        self._task = asyncio.get_running_loop().create_task(self._tick())

    async def _tick(self) -> None:
        clock = time.perf_counter
        tick = self._tick_s
        lags = self._lags
        while True:
            due = clock() + tick
            await asyncio.sleep(tick)
            late = clock() - due
            lags.append(late if late > 0.0 else 0.0)

    async def stop(self) -> ProcessLoad:
        wall = time.perf_counter() - self._wall0
        cpu = time.thread_time() - self._cpu0
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        mean, p99, worst = lag_summary(self._lags)
        return ProcessLoad(
            wall_s=wall,
            cpu_s=cpu,
            lag_mean_s=mean,
            lag_p99_s=p99,
            lag_max_s=worst,
            lag_samples=len(self._lags),
        )
