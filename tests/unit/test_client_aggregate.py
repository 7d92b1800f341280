"""Point metrics, goodput and SLO parsing from hand-made records (worked numbers)."""

from __future__ import annotations

import pytest

from specscope.client.aggregate import (
    PointMetrics,
    aggregate,
    goodput,
    latency_stats,
    mean_in_flight,
    parse_slo,
)
from specscope.client.load import ClosedLoop
from specscope.client.runner import LoadResult, request_span_s
from specscope.errors import UserError
from specscope.schema import Point, PointConfig, RequestRecord


def rec(
    index: int,
    send_s: float,
    chunk_times_s: list[float],
    chunk_tokens: list[int],
    *,
    input_tokens: int | None = 100,
    warmup: bool = False,
    error: str | None = None,
    draft: tuple[int, int] | None = None,
    requested: int | None = None,
) -> RequestRecord:
    return RequestRecord(
        index=index,
        warmup=warmup,
        send_s=send_s,
        ttft_s=chunk_times_s[0] if chunk_times_s else None,
        e2el_s=chunk_times_s[-1] if chunk_times_s else None,
        chunk_times_s=chunk_times_s,
        chunk_tokens=chunk_tokens,
        input_tokens=input_tokens,
        requested_output_tokens=requested,
        output_tokens=sum(chunk_tokens),
        error=error,
        draft_tokens=draft[0] if draft else None,
        accepted_tokens=draft[1] if draft else None,
    )


def result(
    records: list[RequestRecord], ends: list[float], *, ignore_eos: bool = True
) -> LoadResult:
    """A LoadResult whose records end at ``ends`` (seconds after origin, like the window)."""
    ended = [
        r.model_copy(update={"end_s": e - r.send_s}) for r, e in zip(records, ends, strict=True)
    ]
    timed = [(r, e) for r, e in zip(ended, ends, strict=True) if not r.warmup]
    return LoadResult(
        api="completions",
        model="m",
        load=ClosedLoop(concurrency=2, num_requests=max(1, len(timed))),
        records=ended,
        ignore_eos=ignore_eos,
        window_start_s=min(r.send_s for r, _ in timed),
        window_end_s=max(e for _, e in timed),
        origin_perf_s=1000.0,
        started_unix_s=0.0,
    )


# Worked example: one warm-up (excluded; its 5 s TTFT would show) and four timed requests,
# each 100 input tokens and 11 output tokens in chunks of 1, 5, 5 (an MTP-like burst pattern).
#   request  send  chunk times (s after send)  end (s after origin)
#   0        10.0  0.1  0.6  1.1                11.5
#   1        10.0  0.2  0.7  1.2                11.5
#   2        11.0  0.3  0.9  1.5                13.0
#   3        11.0  0.4  1.4  2.4                14.0
# Window 10.0 → 14.0 = 4 s.
# TPOT = (E2EL − TTFT)/10 = 0.10, 0.10, 0.12, 0.20 → median 0.11 → interactivity 1/0.11 = 9.0909.
# Tokens: 4·11 = 44 out, 400 in → 444/4 s = 111 tok/s; 2 GPUs → 55.5 total, 5.5 out, 50 in.
# In flight: busy 1.5 + 1.5 + 2.0 + 3.0 = 8.0 s over 4 s → 2.0.
# ITL per chunk gap: 0.5 0.5 | 0.5 0.5 | 0.6 0.6 | 1.0 1.0 → mean 5.2/8 = 0.65, median 0.55.
# TTFT 0.1..0.4: mean 0.25, median 0.25, p90 = 0.3 + 0.7·0.1 = 0.37 (numpy linear), p99 0.397.
# Tokens per chunk: 44/12 = 3.667.
WARM = rec(0, 0.0, [5.0, 6.0], [1, 1], warmup=True)
EXAMPLE = [
    WARM,
    rec(0, 10.0, [0.1, 0.6, 1.1], [1, 5, 5]),
    rec(1, 10.0, [0.2, 0.7, 1.2], [1, 5, 5]),
    rec(2, 11.0, [0.3, 0.9, 1.5], [1, 5, 5]),
    rec(3, 11.0, [0.4, 1.4, 2.4], [1, 5, 5]),
]
ENDS = [7.0, 11.5, 11.5, 13.0, 14.0]


def test_worked_example() -> None:
    m = aggregate(result(EXAMPLE, ENDS), n_gpus=2)
    assert m.status == "ok"
    assert m.error is None
    assert m.n_requests == 4
    assert m.n_failed == 0
    assert m.duration_s == pytest.approx(4.0)
    assert m.throughput_per_gpu == pytest.approx(55.5)
    assert m.output_throughput_per_gpu == pytest.approx(5.5)
    assert m.input_throughput_per_gpu == pytest.approx(50.0)
    assert m.tpot.median_s == pytest.approx(0.11)
    assert m.tpot.mean_s == pytest.approx(0.13)
    assert m.interactivity == pytest.approx(1 / 0.11)
    assert m.measured_concurrency == pytest.approx(2.0)
    assert m.itl.mean_s == pytest.approx(0.65)
    assert m.itl.median_s == pytest.approx(0.55)
    assert m.ttft.mean_s == pytest.approx(0.25)
    assert m.ttft.p90_s == pytest.approx(0.37)
    assert m.ttft.p99_s == pytest.approx(0.397)
    assert m.e2el.median_s == pytest.approx(1.35)
    assert m.tokens_per_chunk_mean == pytest.approx(44 / 12)
    assert m.acceptance is None


def test_disaggregated_output_divides_by_decode_gpus() -> None:
    # 4 GPUs in all, 1 decoding: total 444/4/4 = 27.75, output 44/4/1 = 11.0, input 400/4/4 = 25
    m = aggregate(result(EXAMPLE, ENDS), n_gpus=4, n_decode_gpus=1)
    assert m.throughput_per_gpu == pytest.approx(27.75)
    assert m.output_throughput_per_gpu == pytest.approx(11.0)
    assert m.input_throughput_per_gpu == pytest.approx(25.0)


def test_metrics_build_a_point_by_name() -> None:
    m = aggregate(result(EXAMPLE, ENDS), n_gpus=2, power_w_per_gpu=350.0)
    dumped = m.model_dump()
    assert set(dumped) <= set(Point.model_fields)
    assert "n_short_outputs" not in dumped
    config = PointConfig(hardware="cpu", model="m", engine="llamacpp", isl=100, osl=11)
    point = Point(run_id="r1", config=config, **dumped)
    assert point.interactivity == pytest.approx(1 / 0.11)
    assert point.power_w_per_gpu == 350.0
    assert point.tpot.median_s == pytest.approx(0.11)
    assert point.tokens_per_chunk_mean == pytest.approx(44 / 12)


def test_missing_input_count_leaves_input_throughput_unknown() -> None:
    records = [rec(0, 0.0, [0.1, 0.2], [1, 1], input_tokens=None), rec(1, 0.0, [0.1, 0.3], [1, 1])]
    m = aggregate(result(records, [1.0, 1.0]))
    # total counts the known input (100) and all output (4): 104 / 1 s
    assert m.input_throughput_per_gpu is None
    assert m.throughput_per_gpu == pytest.approx(104.0)


def test_acceptance_is_summed_over_successful_timed_requests() -> None:
    records = [
        rec(0, 0.0, [5.0], [1], warmup=True, draft=(100, 100)),
        rec(0, 0.0, [0.1, 0.2], [1, 3], draft=(8, 5)),
        rec(1, 0.0, [0.1, 0.2], [1, 3], draft=(12, 7)),
        rec(2, 0.0, [0.1, 0.2], [1, 3]),  # nothing drafted: no draft fields
        rec(3, 0.0, [0.1], [1], error="HTTP 500: x", draft=(50, 0)),
    ]
    m = aggregate(result(records, [6.0, 1.0, 1.0, 1.0, 1.0]), max_failed_fraction=0.5)
    assert m.acceptance is not None
    assert (m.acceptance.draft_tokens, m.acceptance.accepted_tokens) == (20, 12)
    assert m.acceptance.draft_acceptance_rate == pytest.approx(0.6)
    assert m.acceptance.source == "timings:llamacpp"


def _gate_records(n_failed: int, n_total: int = 20) -> list[RequestRecord]:
    errors = ["HTTP 500: boom", "HTTP 500: boom", "timeout after 5 s", "HTTP 429: slow down"]
    out = []
    for i in range(n_total):
        if i < n_failed:
            out.append(rec(i, 0.0, [], [], error=errors[i % len(errors)]))
        else:
            out.append(rec(i, 0.0, [0.1, 0.2, 0.3], [1, 1, 1]))
    return out


@pytest.mark.parametrize(
    ("n_failed", "status"),
    [(0, "ok"), (1, "ok"), (2, "failed"), (3, "failed")],  # 1/20 = 5 % is not > 5 %
)
def test_failure_gate(n_failed: int, status: str) -> None:
    records = _gate_records(n_failed)
    m = aggregate(result(records, [1.0] * len(records)))
    assert m.status == status
    assert m.n_failed == n_failed
    if status == "failed":
        assert m.error is not None
        assert m.error.startswith(f"{n_failed} of 20 requests failed")
        assert f"most common error ({2 if n_failed > 1 else 1}×): HTTP 500: boom" in m.error


def test_failed_tokens_are_not_counted() -> None:
    # 19 ok requests × 3 tokens + 100 input over 1 s; the failed one adds nothing
    m = aggregate(result(_gate_records(1), [1.0] * 20))
    assert m.output_throughput_per_gpu == pytest.approx(57.0)
    assert m.throughput_per_gpu == pytest.approx(19 * 103)


def test_all_failed_gives_a_failed_point_with_zero_rates() -> None:
    records = [rec(i, 0.0, [], [], error="connection failed: refused") for i in range(3)]
    m = aggregate(result(records, [0.5, 0.5, 0.5]))
    assert m.status == "failed"
    assert m.throughput_per_gpu == 0.0
    assert m.interactivity == 0.0
    assert m.error is not None and "3 of 3" in m.error


def test_single_token_requests_leave_tpot_undefined_and_fail_the_point() -> None:
    records = [rec(0, 0.0, [0.1], [1]), rec(1, 0.0, [0.2], [1])]
    m = aggregate(result(records, [0.3, 0.3]))
    assert m.status == "failed"
    assert m.error is not None and "TPOT" in m.error


@pytest.mark.parametrize(
    ("spans", "start", "end", "expected"),
    [
        ([(0.0, 2.0), (0.0, 2.0)], 0.0, 2.0, 2.0),
        ([(0.0, 1.0), (1.0, 2.0)], 0.0, 2.0, 1.0),
        ([(0.0, 4.0)], 1.0, 3.0, 1.0),  # clipped to the window
        ([], 0.0, 1.0, 0.0),
        ([(0.0, 1.0)], 1.0, 1.0, 0.0),  # empty window
    ],
)
def test_mean_in_flight(
    spans: list[tuple[float, float]], start: float, end: float, expected: float
) -> None:
    assert mean_in_flight(spans, start, end) == pytest.approx(expected)


def test_spans_come_from_each_records_end() -> None:
    # In-flight time runs to end_s (after the final usage chunk), not to the last token:
    # request 0 sends at 10.0, last token 1.1 s later, ends 1.5 s later → span (10.0, 11.5).
    res = result(EXAMPLE, ENDS)
    assert res.timed_spans_s == [(10.0, 11.5), (10.0, 11.5), (11.0, 13.0), (11.0, 14.0)]
    assert res.timed_records[0].end_s == pytest.approx(1.5)


def test_a_record_without_end_ends_at_its_last_token() -> None:
    assert request_span_s(rec(0, 2.0, [0.5, 0.75], [1, 1])) == (2.0, 2.75)
    assert request_span_s(rec(0, 2.0, [], [], error="connection failed")) == (2.0, 2.0)


def _short_records(outputs: list[int], requested: int = 4) -> list[RequestRecord]:
    # request i returns outputs[i] tokens, one per chunk 0.1 s apart, having asked for 4
    return [
        rec(i, 0.0, [0.1 * (k + 1) for k in range(n)], [1] * n, requested=requested)
        for i, n in enumerate(outputs)
    ]


@pytest.mark.parametrize(
    ("outputs", "ignore_eos", "status", "n_short", "message"),
    [
        ([4, 4, 4, 4], True, "ok", 0, None),
        # 1 of 4 short: a warning, the point stands; the worst is request 2 (2 of 4)
        ([4, 4, 2, 4], True, "ok", 1, "warning: 1 of 4 successful requests returned fewer"),
        # 2 of 4 is half, not most: still a warning; worst = lowest share = request 1 (2 of 4)
        ([4, 2, 4, 3], True, "ok", 2, "warning: 2 of 4 successful"),
        # 3 of 4 short: most requests, the point fails
        ([3, 2, 4, 3], True, "failed", 3, "3 of 4 successful requests returned fewer"),
        # the run did not ask for exact lengths: short outputs are the model's own choice
        ([3, 2, 4, 3], False, "ok", 0, None),
    ],
)
def test_short_outputs_are_flagged_when_ignore_eos_was_asked(
    outputs: list[int], ignore_eos: bool, status: str, n_short: int, message: str | None
) -> None:
    m = aggregate(result(_short_records(outputs), [1.0] * len(outputs), ignore_eos=ignore_eos))
    assert m.status == status
    assert m.n_short_outputs == n_short
    if message is None:
        assert m.error is None
    else:
        assert m.error is not None and m.error.startswith(message)
        assert "\n" not in m.error


def test_short_output_message_names_the_worst_request() -> None:
    # shares 3/4 = 0.75 (request 0), 2/4 = 0.5 (request 1) → request 1 is the worst
    m = aggregate(result(_short_records([3, 2, 4, 4]), [1.0] * 4))
    assert m.error is not None
    assert "(worst: request 1, 2 of 4)" in m.error


def test_failure_gate_and_short_outputs_are_both_reported() -> None:
    # 2 of 4 failed (50 % > 5 %) and both successes short (2 of 2 > half)
    records = [
        *_short_records([2, 3]),
        rec(2, 0.0, [], [], error="HTTP 500: boom", requested=4),
        rec(3, 0.0, [], [], error="HTTP 500: boom", requested=4),
    ]
    m = aggregate(result(records, [1.0] * 4))
    assert m.status == "failed"
    assert m.error is not None
    assert m.error.startswith("2 of 4 requests failed")
    assert "HTTP 500: boom; 2 of 2 successful requests returned fewer" in m.error


def test_latency_stats_of_nothing_is_empty() -> None:
    s = latency_stats([])
    assert (s.mean_s, s.median_s, s.p90_s, s.p99_s) == (None, None, None, None)


def test_points_metrics_fields_match_point() -> None:
    point_measured = set(Point.model_fields) - {"run_id", "config", "repeat", "provenance"}
    dumped = set(PointMetrics(throughput_per_gpu=1.0, interactivity=1.0).model_dump())
    assert dumped == point_measured


# --- goodput -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slo", "n_good", "out_tok_s"),
    [
        # TTFT ≤ 0.25 and TPOT ≤ 0.15: requests 0 and 1 → 2 good, 22 tokens / 4 s = 5.5
        ({"ttft": 0.25, "tpot": 0.15}, 2, 5.5),
        # worst chunk gap ≤ 0.55: requests 0, 1 (0.5) pass; 2 (0.6) and 3 (1.0) fail
        ({"itl": 0.55}, 2, 5.5),
        # E2EL ≤ 1.15: only request 0 (1.1)
        ({"e2el": 1.15}, 1, 2.75),
        # TPOT ≤ 0.121: 0.10, 0.10, 0.12 pass
        ({"tpot": 0.121}, 3, 8.25),
        # limits are inclusive: TTFT 0.1 and 0.2 meet ttft ≤ 0.2
        ({"ttft": 0.2}, 2, 5.5),
        ({}, 4, 11.0),
    ],
)
def test_goodput_worked_numbers(slo: dict[str, float], n_good: int, out_tok_s: float) -> None:
    g = goodput(EXAMPLE, slo, duration_s=4.0)
    assert g.n_total == 4  # the warm-up is not counted
    assert g.n_good == n_good
    assert g.requests_per_s == pytest.approx(n_good / 4.0)
    assert g.output_tokens_per_s == pytest.approx(out_tok_s)


def test_failed_requests_are_never_good() -> None:
    g = goodput(_gate_records(3), {"ttft": 10.0}, duration_s=1.0)
    assert (g.n_good, g.n_total) == (17, 20)


def test_goodput_refuses_unknown_keys() -> None:
    with pytest.raises(UserError, match="latency"):
        goodput(EXAMPLE, {"latency": 1.0}, duration_s=1.0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ttft=0.5,tpot=0.05", {"ttft": 0.5, "tpot": 0.05}),
        ("ttft=500ms", {"ttft": 0.5}),
        (" E2EL = 2s , itl=20ms", {"e2el": 2.0, "itl": 0.02}),
    ],
)
def test_parse_slo(text: str, expected: dict[str, float]) -> None:
    assert parse_slo(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("", "ttft, tpot, itl, e2el"),
        ("ttft", "'ttft'"),
        ("ttft=0.5,,tpot=1", "''"),
        ("foo=1", "'foo'"),
        ("ttft=abc", "'ttft=abc'"),
        ("ttft=-1", "'ttft=-1'"),
        ("tpot=inf", "'tpot=inf'"),
        ("ttft=1,ttft=2", "'ttft' is given twice"),
    ],
)
def test_parse_slo_errors_name_the_bad_part(text: str, names: str) -> None:
    with pytest.raises(UserError) as info:
        parse_slo(text)
    assert names in str(info.value)
    assert "\n" not in str(info.value)
