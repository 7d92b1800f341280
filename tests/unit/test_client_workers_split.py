"""Splitting a load over worker processes, deciding how many, and flagging a saturated client."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from specscope.client.aggregate import PointMetrics, aggregate, client_summary
from specscope.client.load import ClosedLoop, OpenLoop
from specscope.client.runner import LoadResult
from specscope.client.saturation import (
    ProcessLoad,
    client_bound_reason,
    lag_summary,
    merge_loads,
)
from specscope.client.sender import Prepared
from specscope.client.workers import (
    assign_requests,
    build_jobs,
    client_cost_s_per_token,
    expected_token_rate,
    plan_workers,
    split_evenly,
)
from specscope.schema import RequestRecord

# --- splitting ----------------------------------------------------------------------------------


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


def _prepared(n: int) -> list[Prepared]:
    return [Prepared(b"{}", None, 4) for _ in range(n)]


COMMON = {
    "url": "http://127.0.0.1:1/v1/completions",
    "api": "completions",
    "headers": {},
    "secret": None,
    "timeout_s": 5.0,
    "origin_perf_s": 0.0,
    "keep_text": False,
}


def test_closed_loop_jobs_share_concurrency_and_requests() -> None:
    # concurrency 5 over 2 workers → 3 + 2 slots; 10 requests split 6:4 (Sainte-Laguë on 3:2)
    load = ClosedLoop(concurrency=5, num_requests=10)
    jobs = build_jobs(2, load, _prepared(10), _prepared(4), None, 5, **COMMON)
    assert [j.concurrency for j in jobs] == [3, 2]
    assert [len(j.timed) for j in jobs] == [6, 4]
    assert sorted(i for j in jobs for i, _ in j.timed) == list(range(10))
    # 4 warm-ups at cap 5 → shares 3 + 2, dealt 2:2 (keys: w0 1/3, w1 1/2, w0 1, w1 3/2)
    assert [[i for i, _ in j.warm] for j in jobs] == [[0, 2], [1, 3]]
    assert all(j.offsets_s is None and j.max_in_flight is None for j in jobs)


def test_never_more_workers_than_concurrency_or_requests() -> None:
    jobs = build_jobs(
        4, ClosedLoop(concurrency=2, num_requests=6), _prepared(6), [], None, 2, **COMMON
    )
    assert [j.concurrency for j in jobs] == [1, 1]
    # 3 requests at concurrency 8 over 4 workers: 3 workers, shares 3 + 3 + 2, one request each
    few = build_jobs(
        4, ClosedLoop(concurrency=8, num_requests=3), _prepared(3), [], None, 8, **COMMON
    )
    assert [(j.concurrency, len(j.timed)) for j in few] == [(3, 1), (3, 1), (2, 1)]


def test_open_loop_jobs_keep_the_parents_schedule() -> None:
    load = OpenLoop(rate=10.0, distribution="constant", num_requests=5, max_concurrency=3)
    offsets = [0.0, 0.1, 0.2, 0.3, 0.4]
    jobs = build_jobs(2, load, _prepared(5), [], offsets, 3, **COMMON)
    # cap 3 → shares 2 + 1; requests by Sainte-Laguë on 2:1 → w0 gets 0, 2, 3 and w1 gets 1, 4
    assert [[i for i, _ in j.timed] for j in jobs] == [[0, 2, 3], [1, 4]]
    assert [j.offsets_s for j in jobs] == [[0.0, 0.2, 0.3], [0.1, 0.4]]
    assert [j.max_in_flight for j in jobs] == [2, 1]
    assert all(j.concurrency is None for j in jobs)


# --- deciding -----------------------------------------------------------------------------------


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
    assert expected_token_rate(load, mean_out) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("demand", "cost", "cores", "max_useful", "expected"),
    [
        # one worker carries 0.5 / 20 µs = 25 000 tok/s
        (12_800.0, 20e-6, 16, None, 1),  # 0.512 → 1
        (51_200.0, 20e-6, 16, None, 3),  # 2.048 → 3
        (204_800.0, 20e-6, 2, None, 2),  # 8.2 → 9, but 2 cores
        (204_800.0, 20e-6, 16, 4, 4),  # capped by the concurrency
        (0.0, 20e-6, 16, None, 1),
    ],
)
def test_plan_workers(
    demand: float, cost: float, cores: int, max_useful: int | None, expected: int
) -> None:
    assert plan_workers(demand, cost, cores, max_useful) == expected


def test_calibrated_cost_is_a_plausible_per_token_cost() -> None:
    cost = client_cost_s_per_token("chat")
    assert 1e-7 <= cost < 1e-3
    assert client_cost_s_per_token("chat") == cost  # cached


# --- saturation ---------------------------------------------------------------------------------


def test_lag_summary() -> None:
    # mean (1+2+3+10)/4 = 4 ms; p99 at rank 0.99·3 = 2.97 → 3 + 0.97·7 = 9.79 ms; max 10 ms
    mean, p99, worst = lag_summary([0.001, 0.002, 0.003, 0.010])
    assert (mean, p99, worst) == pytest.approx((0.004, 0.00979, 0.010))
    assert lag_summary([]) == (0.0, 0.0, 0.0)


def test_merge_loads_takes_the_worst_worker() -> None:
    a = ProcessLoad(
        wall_s=2.0, cpu_s=1.0, lag_mean_s=0.001, lag_p99_s=0.002, lag_max_s=0.004, lag_samples=100
    )
    b = ProcessLoad(
        wall_s=2.0, cpu_s=1.9, lag_mean_s=0.003, lag_p99_s=0.006, lag_max_s=0.009, lag_samples=300
    )
    m = merge_loads([a, b])
    # CPU 1.0 + 1.9 = 2.9 s, busiest 1.9/2 = 0.95; mean lag (0.1 + 0.9 ms·s)/400 = 2.5 ms
    assert (m.workers, m.cpu_s, m.cpu_util) == (2, pytest.approx(2.9), pytest.approx(0.95))
    assert m.loop_lag_mean_s == pytest.approx(0.0025)
    assert (m.loop_lag_p99_s, m.loop_lag_max_s, m.lag_samples) == (0.006, 0.009, 400)


@pytest.mark.parametrize(
    ("lag", "cpu", "window", "expected"),
    [
        (0.021, 0.5, 1.0, "event-loop lag p99 21.0 ms > 20 ms"),
        (0.006, 0.5, 1.0, None),  # scheduler noise on a busy 2-core box, not saturation
        (0.001, 0.95, 1.0, "CPU 0.95 of a core > 0.9"),
        (0.030, 0.99, 1.0, "lag p99 30.0 ms > 20 ms; CPU 0.99 of a core"),
        (0.001, 0.5, 1.0, None),
        (0.030, 0.99, 0.9, None),  # a 0.9 s window is too short to judge
        (None, None, 5.0, None),
    ],
)
def test_client_bound_reason(
    lag: float | None, cpu: float | None, window: float, expected: str | None
) -> None:
    reason = client_bound_reason(lag, cpu, window)
    if expected is None:
        assert reason is None
    else:
        assert reason is not None and reason.startswith("client-bound") and expected in reason


# --- aggregate marks the point ------------------------------------------------------------------


def _result(n_failed: int = 0, **client: float | int | None) -> LoadResult:
    """Four timed requests of 5 tokens, sends at 0, 0.25, 0.5, 0.75 s, each lasting 0.5 s:
    a 1.25 s window, long enough to be judged."""
    records = [
        RequestRecord(
            index=i,
            send_s=0.25 * i,
            ttft_s=0.1,
            e2el_s=0.5,
            end_s=0.5,
            chunk_times_s=[0.1, 0.2, 0.3, 0.4, 0.5],
            chunk_tokens=[1] * 5,
            input_tokens=10,
            requested_output_tokens=5,
            output_tokens=5,
            error="HTTP 500: x" if i < n_failed else None,
        )
        for i in range(4)
    ]
    return LoadResult(
        api="completions",
        model="m",
        load=ClosedLoop(concurrency=2, num_requests=4),
        records=records,
        window_start_s=0.0,
        window_end_s=1.25,
        origin_perf_s=0.0,
        started_unix_s=0.0,
        **client,  # type: ignore[arg-type]
    )


def test_a_saturated_client_marks_the_point_client_bound() -> None:
    m = aggregate(_result(client_workers=2, client_cpu_util=0.97, client_loop_lag_p99_s=0.002))
    assert m.status == "client_bound"
    assert m.error is not None and "CPU 0.97 of a core > 0.9" in m.error
    assert m.client == {"workers": 2, "cpu_util": 0.97, "loop_lag_p99_s": 0.002}
    # the numbers are still computed: 4·(10 + 5) tokens over 1.25 s = 48 tok/s
    assert m.throughput_per_gpu == pytest.approx(48.0)


def test_a_tiny_cpu_budget_flags_an_idle_client() -> None:
    r = _result(client_cpu_util=0.05, client_loop_lag_p99_s=0.0005, client_cpu_s=0.06)
    assert aggregate(r).status == "ok"
    assert aggregate(r, max_client_cpu_util=0.01).status == "client_bound"
    assert aggregate(r, max_client_loop_lag_p99_s=0.0001).status == "client_bound"


def test_a_failed_point_stays_failed_and_says_the_client_was_saturated() -> None:
    m = aggregate(_result(n_failed=2, client_cpu_util=0.5, client_loop_lag_p99_s=0.05))
    assert m.status == "failed"
    assert m.error is not None and "2 of 4 requests failed" in m.error
    assert "event-loop lag p99 50.0 ms" in m.error


def test_without_client_numbers_nothing_is_judged_and_dump_excludes_client() -> None:
    plain = _result()
    assert client_summary(plain) is None
    m = aggregate(plain)
    assert (m.status, m.client) == ("ok", None)
    flagged = aggregate(_result(client_cpu_util=0.99, client_loop_lag_p99_s=0.001))
    assert "client" not in flagged.model_dump()
    assert PointMetrics.model_fields["client"].exclude is True
