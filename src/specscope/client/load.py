"""Load patterns: closed-loop concurrency and open-loop arrival rates, and how each is sent.

A closed loop keeps exactly ``concurrency`` requests in flight: a new one is sent the moment one
finishes. An open loop sends requests at scheduled arrival times whatever the server does
(Poisson: exponential gaps with mean 1/rate; constant: gaps of exactly 1/rate), optionally capped
by ``max_concurrency`` (a request due while the cap is full waits for a free slot).

A pattern is configuration (a pydantic model, kept with the results). Before the timed phase it
becomes a ``SendPlan`` (``plan``): keep k requests in flight (``KeepInFlight``) or send each at
its time (``SendAt``). A plan splits over client worker processes (``split``: each worker's
request indices and its own plan) and runs in one event loop (``run``). Adding a pattern is one
class here (named in ``LoadPattern``): its in-flight cap, the token rate it asks of the client,
and its plan; a new way of sending (neither of the two plans) is one ``SendPlan`` class more.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Literal, NamedTuple

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

RunOne = Callable[[int], Awaitable[None]]
"""Sends request k of a plan (k counts the plan's own requests from 0) and waits for its end."""


# --- splitting (pure) ---------------------------------------------------------------------------


def split_evenly(total: int, parts: int) -> list[int]:
    """``total`` split into ``parts`` integers differing by at most one, larger ones first."""
    base, extra = divmod(total, parts)
    return [base + (1 if w < extra else 0) for w in range(parts)]


def assign_requests(n: int, shares: Sequence[int]) -> list[list[int]]:
    """Request indices 0..n-1 dealt to workers in proportion to ``shares``, interleaved.

    Sainte-Laguë apportionment, request by request: request i goes to the worker with the
    smallest (2·assigned + 1) / share (ties: lowest worker), so with equal shares worker w gets
    w, w+N, w+2N, … and with shares 2:1 five requests split 3:2. Workers with share 0 get none.
    """
    out: list[list[int]] = [[] for _ in shares]
    live = [w for w in range(len(shares)) if shares[w] > 0]
    for i in range(n):
        best = min(live, key=lambda w: ((2 * len(out[w]) + 1) / shares[w], w))
        out[best].append(i)
    return out


def _lanes(n_requests: int, cap: int | None, n_workers: int) -> list[tuple[list[int], int]]:
    """Each worker's request indices and in-flight share: never more workers than requests or
    than the cap; the cap split evenly (uncapped: equal shares), requests dealt by share."""
    n = max(1, min(n_workers, n_requests))
    if cap is not None:
        n = min(n, cap)
        shares = split_evenly(cap, n)
    else:
        shares = [1] * n
    return list(zip(assign_requests(n_requests, shares), shares, strict=True))


# --- send plans: what one event loop runs -------------------------------------------------------


class WorkerShare(NamedTuple):
    """One worker's part of a plan: the record indices it sends, and its own plan for them."""

    indices: list[int]
    plan: SendPlan


class SendPlan(ABC):
    """How a number of requests are sent in one event loop (picklable, for worker processes)."""

    @abstractmethod
    def split(self, n_workers: int) -> list[WorkerShare]:
        """This plan spread over at most ``n_workers`` event loops (see ``_lanes``)."""

    @abstractmethod
    async def run(self, run_one: RunOne, start_perf_s: float) -> None:
        """Send every request (``run_one(k)``); ``start_perf_s`` (``time.perf_counter``) is when
        request 0 was due: the caller calls at or just after it."""


@dataclass(frozen=True)
class KeepInFlight(SendPlan):
    """Send requests 0..n-1 in order, keeping ``concurrency`` of them in flight."""

    n: int
    concurrency: int

    def split(self, n_workers: int) -> list[WorkerShare]:
        return [
            WorkerShare(ix, KeepInFlight(len(ix), share))
            for ix, share in _lanes(self.n, self.concurrency, n_workers)
        ]

    async def run(self, run_one: RunOne, start_perf_s: float) -> None:
        n = self.n
        next_index = 0

        async def worker() -> None:
            nonlocal next_index
            while next_index < n:
                i = next_index
                next_index += 1
                await run_one(i)

        await asyncio.gather(*(worker() for _ in range(min(self.concurrency, n))))


@dataclass(frozen=True)
class SendAt(SendPlan):
    """Send request i at ``offsets_s[i]`` after the start, at most ``max_in_flight`` in flight
    (a request due while the cap is full waits for a slot)."""

    offsets_s: list[float]
    max_in_flight: int | None

    def split(self, n_workers: int) -> list[WorkerShare]:
        capped = self.max_in_flight is not None
        return [
            WorkerShare(ix, SendAt([self.offsets_s[i] for i in ix], share if capped else None))
            for ix, share in _lanes(len(self.offsets_s), self.max_in_flight, n_workers)
        ]

    async def run(self, run_one: RunOne, start_perf_s: float) -> None:
        slots = asyncio.Semaphore(self.max_in_flight) if self.max_in_flight else None

        async def guarded(i: int) -> None:
            if slots is None:
                await run_one(i)
                return
            async with slots:
                await run_one(i)

        tasks: list[asyncio.Task[None]] = []
        for i, offset in enumerate(self.offsets_s):
            delay = start_perf_s + offset - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(guarded(i)))
        await asyncio.gather(*tasks)


# --- load patterns: what the user asks for ------------------------------------------------------


class Pattern(BaseModel, ABC):
    """What every load pattern says about itself."""

    model_config = ConfigDict(frozen=True)

    @abstractmethod
    def in_flight_cap(self) -> int | None:
        """The most requests this pattern may have in flight at once; None when unbounded."""

    @abstractmethod
    def expected_token_rate(self, mean_output_tokens: float, stream_tok_s: float) -> float:
        """Tokens/s the client should be ready to take in, streams running at ``stream_tok_s``."""

    @abstractmethod
    def plan(self) -> SendPlan:
        """How the timed requests are sent (computed once, before the timed phase); its
        ``split`` spreads them over client processes."""


class ClosedLoop(Pattern):
    """Keep ``concurrency`` requests in flight until ``num_requests`` have been sent."""

    kind: Literal["closed"] = "closed"
    concurrency: int = Field(ge=1)
    num_requests: int = Field(ge=1)

    def in_flight_cap(self) -> int | None:
        return self.concurrency

    def expected_token_rate(self, mean_output_tokens: float, stream_tok_s: float) -> float:
        return self.concurrency * stream_tok_s

    def plan(self) -> KeepInFlight:
        return KeepInFlight(self.num_requests, self.concurrency)


class OpenLoop(Pattern):
    """Send ``num_requests`` at ``rate`` requests/s (Poisson or constant gaps), seeded."""

    kind: Literal["open"] = "open"
    rate: float = Field(gt=0)
    """Mean requests per second."""
    distribution: Literal["poisson", "constant"] = "poisson"
    max_concurrency: int | None = Field(default=None, ge=1)
    num_requests: int = Field(ge=1)
    seed: int = 0

    def in_flight_cap(self) -> int | None:
        return self.max_concurrency

    def expected_token_rate(self, mean_output_tokens: float, stream_tok_s: float) -> float:
        offered = self.rate * mean_output_tokens
        if self.max_concurrency is not None:
            return min(offered, self.max_concurrency * stream_tok_s)
        return offered

    def plan(self) -> SendAt:
        return SendAt(self.arrival_offsets_s(), self.max_concurrency)

    def arrival_offsets_s(self) -> list[float]:
        """Scheduled send time of each request, seconds after the first one (which is at 0).

        Poisson gaps are drawn from ``numpy.random.default_rng(seed).exponential(1/rate)``, so
        the same seed gives the same schedule on every machine.
        """
        n_gaps = self.num_requests - 1
        if self.distribution == "constant":
            gaps = np.full(n_gaps, 1.0 / self.rate)
        else:
            gaps = np.random.default_rng(self.seed).exponential(1.0 / self.rate, size=n_gaps)
        offsets = np.concatenate(([0.0], np.cumsum(gaps)))
        return [float(x) for x in offsets]


LoadPattern = Annotated[ClosedLoop | OpenLoop, Field(discriminator="kind")]
"""Any load pattern, told apart by ``kind`` (a new pattern class is added here)."""
