"""Splitting a load over worker processes, deciding how many, and flagging a saturated client."""

from __future__ import annotations

import pytest

from specscope.client.aggregate import PointMetrics, aggregate, client_summary
from specscope.client.load import ClosedLoop, KeepInFlight, OpenLoop, SendAt
from specscope.client.runner import LoadResult
from specscope.client.saturation import (
    ProcessLoad,
    client_bound_reason,
    lag_summary,
    merge_loads,
)
from specscope.client.sender import Prepared, SendSettings
from specscope.client.workers import build_jobs, client_cost_s_per_token, plan_workers
from specscope.schema import RequestRecord

# --- worker jobs --------------------------------------------------------------------------------


def _prepared(n: int) -> list[Prepared]:
    return [Prepared(b"{}", None, 4) for _ in range(n)]


SEND = SendSettings(
    url="http://127.0.0.1:1/v1/completions",
    api="completions",
    headers={},
    secret=None,
    timeout_s=5.0,
    origin_perf_s=0.0,
    keep_text=False,
)


def test_closed_loop_jobs_share_concurrency_and_requests() -> None:
    # concurrency 5 over 2 workers → 3 + 2 slots; 10 requests split 6:4 (Sainte-Laguë on 3:2)
    load = ClosedLoop(concurrency=5, num_requests=10)
    jobs = build_jobs(load.plan().split(2), _prepared(10), _prepared(4), 5, SEND)
    assert [j.plan for j in jobs] == [KeepInFlight(6, 3), KeepInFlight(4, 2)]
    assert [len(j.timed) for j in jobs] == [6, 4]
    assert sorted(i for j in jobs for i, _ in j.timed) == list(range(10))
    # 4 warm-ups at cap 5 → shares 3 + 2, dealt 2:2 (keys: w0 1/3, w1 1/2, w0 1, w1 3/2)
    assert [[i for i, _ in j.warm] for j in jobs] == [[0, 2], [1, 3]]
    assert all(isinstance(j.plan, KeepInFlight) for j in jobs)  # no schedule, no open-loop cap


def test_never_more_workers_than_concurrency_or_requests() -> None:
    load = ClosedLoop(concurrency=2, num_requests=6)
    jobs = build_jobs(load.plan().split(4), _prepared(6), [], 2, SEND)
    assert [j.plan for j in jobs] == [KeepInFlight(3, 1), KeepInFlight(3, 1)]
    # 3 requests at concurrency 8 over 4 workers: 3 workers, shares 3 + 3 + 2, one request each
    load = ClosedLoop(concurrency=8, num_requests=3)
    few = build_jobs(load.plan().split(4), _prepared(3), [], 8, SEND)
    assert [(j.plan, len(j.timed)) for j in few] == [
        (KeepInFlight(1, 3), 1),
        (KeepInFlight(1, 3), 1),
        (KeepInFlight(1, 2), 1),
    ]


def test_open_loop_jobs_keep_the_parents_schedule() -> None:
    load = OpenLoop(rate=10.0, distribution="constant", num_requests=5, max_concurrency=3)
    offsets = [0.0, 0.1, 0.2, 0.3, 0.4]
    plan = load.plan()
    assert isinstance(plan, SendAt)  # sent on the schedule, not as a closed loop
    assert (plan.offsets_s, plan.max_in_flight) == (pytest.approx(offsets), 3)
    jobs = build_jobs(SendAt(offsets, 3).split(2), _prepared(5), [], 3, SEND)
    # cap 3 → shares 2 + 1; requests by Sainte-Laguë on 2:1 → w0 gets 0, 2, 3 and w1 gets 1, 4
    assert [[i for i, _ in j.timed] for j in jobs] == [[0, 2, 3], [1, 4]]
    # each worker keeps its requests' scheduled times and caps its share of the 3 in flight
    assert [j.plan for j in jobs] == [SendAt([0.0, 0.2, 0.3], 2), SendAt([0.1, 0.4], 1)]


# --- deciding -----------------------------------------------------------------------------------


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
