"""Load pattern models, open-loop arrival schedules, and how a load's send plan splits."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from specscope.client.load import (
    ClosedLoop,
    KeepInFlight,
    LoadPattern,
    OpenLoop,
    SendAt,
    WorkerShare,
    assign_requests,
    split_evenly,
)


def test_discriminator_picks_the_model() -> None:
    adapter: TypeAdapter[ClosedLoop | OpenLoop] = TypeAdapter(LoadPattern)
    closed = adapter.validate_python({"kind": "closed", "concurrency": 4, "num_requests": 40})
    opened = adapter.validate_python({"kind": "open", "rate": 2.5, "num_requests": 10})
    assert isinstance(closed, ClosedLoop)
    assert closed.concurrency == 4
    assert isinstance(opened, OpenLoop)
    assert opened.distribution == "poisson"
    assert opened.seed == 0


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "closed", "concurrency": 0, "num_requests": 1},
        {"kind": "open", "rate": 0.0, "num_requests": 1},
        {"kind": "open", "rate": 1.0, "num_requests": 1, "distribution": "gamma"},
        {"kind": "burst", "num_requests": 1},
    ],
)
def test_invalid_patterns_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(LoadPattern).validate_python(bad)


def test_constant_rate_gives_exact_gaps() -> None:
    # rate 4/s → gaps of 0.25 s; first request at 0
    offsets = OpenLoop(rate=4.0, distribution="constant", num_requests=5).arrival_offsets_s()
    assert offsets == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0])


def test_poisson_schedule_is_reproducible_for_a_seed() -> None:
    a = OpenLoop(rate=10.0, num_requests=50, seed=7).arrival_offsets_s()
    b = OpenLoop(rate=10.0, num_requests=50, seed=7).arrival_offsets_s()
    c = OpenLoop(rate=10.0, num_requests=50, seed=8).arrival_offsets_s()
    assert a == b
    assert a != c
    assert a[0] == 0.0
    assert all(y > x for x, y in itertools.pairwise(a))


def test_poisson_mean_gap_is_one_over_rate() -> None:
    # 4000 exponential gaps of mean 0.05 s: the sample mean's standard error is 0.05/√3999 ≈
    # 0.0008 s, so ±0.004 s is five standard errors.
    offsets = OpenLoop(rate=20.0, num_requests=4000, seed=1).arrival_offsets_s()
    assert offsets[-1] / 3999 == pytest.approx(0.05, abs=0.004)


@pytest.mark.parametrize(
    ("load", "cap"),
    [
        (ClosedLoop(concurrency=8, num_requests=80), 8),
        (OpenLoop(rate=1.0, num_requests=3), None),
        (OpenLoop(rate=1.0, num_requests=3, max_concurrency=2), 2),
    ],
)
def test_in_flight_cap(load: ClosedLoop | OpenLoop, cap: int | None) -> None:
    assert load.in_flight_cap() == cap


@pytest.mark.parametrize(
    ("load", "mean_out", "expected"),
    [
        (ClosedLoop(concurrency=64, num_requests=64), 100, 64 * 200.0),
        (OpenLoop(rate=10.0, num_requests=5), 500, 10 * 500.0),
        # capped: min(10·500, 8·200) = 1 600
        (OpenLoop(rate=10.0, num_requests=5, max_concurrency=8), 500, 1600.0),
    ],
)
def test_expected_token_rate(load: ClosedLoop | OpenLoop, mean_out: float, expected: float) -> None:
    # streams assumed at 200 tok/s each
    assert load.expected_token_rate(mean_out, 200.0) == pytest.approx(expected)


# --- splitting ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "parts", "expected"),
    [
        (5, 2, [3, 2]),
        (1024, 3, [342, 341, 341]),  # 3·341 = 1023, one left over for worker 0
        (2, 3, [1, 1, 0]),
        (8, 4, [2, 2, 2, 2]),
    ],
)
def test_split_evenly(total: int, parts: int, expected: list[int]) -> None:
    assert split_evenly(total, parts) == expected


@pytest.mark.parametrize(
    ("n", "shares", "expected"),
    [
        (6, [1, 1], [[0, 2, 4], [1, 3, 5]]),  # equal shares: every N-th request
        (7, [2, 2, 2], [[0, 3, 6], [1, 4], [2, 5]]),
        # shares 2:1, Sainte-Laguë keys (2a+1)/s: i0 w0 (.5 < 1); i1 w1 (1.5 > 1); i2 w0
        # (1.5 < 3); i3 w0 (2.5 < 3); i4 w1 (3.5 > 3) → 3:2, the nearest split of 3.33:1.67
        (5, [2, 1], [[0, 2, 3], [1, 4]]),
        (3, [1, 0], [[0, 1, 2], []]),  # a worker without a share gets nothing
    ],
)
def test_assign_requests(n: int, shares: list[int], expected: list[list[int]]) -> None:
    assert assign_requests(n, shares) == expected


@given(st.integers(0, 300), st.lists(st.integers(1, 50), min_size=1, max_size=8))
def test_assignment_is_a_partition_close_to_proportional(n: int, shares: list[int]) -> None:
    parts = assign_requests(n, shares)
    assert sorted(i for p in parts for i in p) == list(range(n))
    assert all(p == sorted(p) for p in parts)
    total = sum(shares)
    for p, s in zip(parts, shares, strict=True):
        # Sainte-Laguë stays near each worker's quota n·s/Σs (it may miss it by a hair over 1)
        assert abs(len(p) - n * s / total) < 1.5


# --- send plans ---------------------------------------------------------------------------------


def test_each_pattern_has_its_send_plan() -> None:
    assert ClosedLoop(concurrency=4, num_requests=10).plan() == KeepInFlight(10, 4)
    opened = OpenLoop(rate=4.0, distribution="constant", num_requests=3, max_concurrency=2)
    assert opened.plan() == SendAt(opened.arrival_offsets_s(), 2)
    assert OpenLoop(rate=4.0, num_requests=3).plan().max_in_flight is None


def test_an_uncapped_schedule_splits_into_equal_uncapped_shares() -> None:
    plan = SendAt([0.0, 1.0, 2.0, 3.0, 4.0], None)
    assert plan.split(2) == [
        WorkerShare([0, 2, 4], SendAt([0.0, 2.0, 4.0], None)),
        WorkerShare([1, 3], SendAt([1.0, 3.0], None)),
    ]
    assert plan.split(1) == [WorkerShare([0, 1, 2, 3, 4], plan)]


@given(st.integers(1, 60), st.integers(1, 12), st.integers(1, 9))
def test_a_split_sends_every_request_once_within_the_cap(n: int, cap: int, workers: int) -> None:
    shares = KeepInFlight(n, cap).split(workers)
    assert len(shares) == min(workers, n, cap)
    assert sorted(i for s in shares for i in s.indices) == list(range(n))
    assert sum(s.plan.concurrency for s in shares if isinstance(s.plan, KeepInFlight)) == cap
    assert all(isinstance(s.plan, KeepInFlight) and s.plan.n == len(s.indices) for s in shares)


async def _in_flight_peak(plan: KeepInFlight | SendAt) -> tuple[int, list[int]]:
    """Run a plan whose requests each take 5 ms; the peak in flight and the start order."""
    in_flight, peak, started = 0, 0, []

    async def run_one(i: int) -> None:
        nonlocal in_flight, peak
        started.append(i)
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.005)
        in_flight -= 1

    await plan.run(run_one, time.perf_counter())
    return peak, started


async def test_plans_run_every_request_in_order_within_their_cap() -> None:
    assert await _in_flight_peak(KeepInFlight(7, 3)) == (3, list(range(7)))
    assert await _in_flight_peak(SendAt([0.0] * 5, 2)) == (2, list(range(5)))
    assert await _in_flight_peak(SendAt([0.0] * 5, None)) == (5, list(range(5)))
