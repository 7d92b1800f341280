"""From the records of one load run to the measured numbers of a Point (pure, no I/O).

Which requests count: timed ones only (warm-ups never). Latencies, tokens and acceptance come
from the successful timed requests; a failed request adds no tokens (as in InferenceX) but still
counts in ``n_requests``, ``n_failed`` and the in-flight concurrency.

ITL is reported **per chunk gap**: every gap between consecutive token chunks of a successful
request is one sample, whatever the number of tokens the later chunk carried. A burst is never
spread over zero-length gaps. How bursty the stream was is reported separately as
``tokens_per_chunk_mean`` (Σ tokens / Σ chunks). TPOT = (E2EL − TTFT)/(output − 1) per request
stays the per-token figure, and interactivity = 1 / median TPOT.

Percentiles use numpy's default linear interpolation (the same as vLLM's benchmark client).

Short outputs: when the run asked for exact lengths (``ignore_eos``), a successful request that
returned fewer tokens than it asked for means the server did not honour ``ignore_eos`` (or a
stop string or context limit cut it): TPOT and throughput then describe a shorter workload than
the point's OSL. Such requests are counted (``n_short_outputs``) and named in ``error`` as a
warning; the point fails only when they are more than half of the successful requests.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from specscope.client.runner import LoadResult
from specscope.client.saturation import MAX_CPU_UTIL, MAX_LOOP_LAG_P99_S, client_bound_reason
from specscope.engines.llamacpp import TIMINGS_SOURCE
from specscope.errors import UserError
from specscope.schema import AcceptanceCounts, LatencyStats, Measurement, RequestRecord

SLO_KEYS: tuple[str, ...] = ("ttft", "tpot", "itl", "e2el")


class PointMetrics(Measurement):
    """The measured fields of a Point (:class:`~specscope.schema.Measurement`), and what the
    client saw besides.

    Use as ``Point(run_id=..., config=..., **metrics.model_dump())``. With status ``ok``, a
    non-empty ``error`` is a warning (short outputs) that did not fail the point.
    ``n_short_outputs`` is excluded from ``model_dump()`` until Point has a field for it.
    """

    n_short_outputs: int = Field(default=0, exclude=True)
    """Successful timed requests that returned fewer tokens than requested with ignore_eos."""
    client: dict[str, float | int] | None = Field(default=None, exclude=True)
    """The client's own load over the window (``workers``, ``cpu_s``, ``cpu_util``,
    ``loop_lag_p99_s``, ``loop_lag_max_s``); None when the run did not measure it. Excluded from
    ``model_dump()``: store it as ``Point.provenance.extra["client"]``."""


class Goodput(BaseModel):
    """Rate of requests (and their output tokens) that met every SLO."""

    model_config = ConfigDict(frozen=True)

    slo_s: dict[str, float]
    """The SLOs applied, seconds, keys among ttft, tpot, itl, e2el."""
    n_good: int
    n_total: int
    requests_per_s: float
    output_tokens_per_s: float


def latency_stats(values: Sequence[float]) -> LatencyStats:
    """Mean, median, p90, p99 of seconds; all None when there are no values."""
    if not values:
        return LatencyStats()
    arr = np.asarray(values, dtype=float)
    p50, p90, p99 = np.percentile(arr, [50.0, 90.0, 99.0])
    return LatencyStats(
        mean_s=float(arr.mean()), median_s=float(p50), p90_s=float(p90), p99_s=float(p99)
    )


def chunk_gaps_s(record: RequestRecord) -> list[float]:
    """Gaps between consecutive token chunks of one request, seconds."""
    t = record.chunk_times_s
    return [t[i] - t[i - 1] for i in range(1, len(t))]


def mean_in_flight(spans_s: Iterable[tuple[float, float]], start_s: float, end_s: float) -> float:
    """Time-average of the number of requests in flight over [start, end]."""
    window = end_s - start_s
    if window <= 0:
        return 0.0
    busy = sum(max(0.0, min(e, end_s) - max(s, start_s)) for s, e in spans_s)
    return busy / window


def summed_acceptance(records: Iterable[RequestRecord]) -> AcceptanceCounts | None:
    """Σ draft and accepted tokens over records that report them; None when none do.

    llama.cpp reports draft tokens and accepted tokens per response but not the number of
    verify steps, so ``drafts`` stays None (AL needs it; the draft acceptance rate does not).
    """
    drafted = accepted = 0
    seen = False
    for r in records:
        if r.draft_tokens is not None:
            seen = True
            drafted += r.draft_tokens
            accepted += r.accepted_tokens or 0
    if not seen:
        return None
    return AcceptanceCounts(draft_tokens=drafted, accepted_tokens=accepted, source=TIMINGS_SOURCE)


def short_outputs(records: Iterable[RequestRecord]) -> list[RequestRecord]:
    """Successful records that returned fewer output tokens than they requested."""
    return [
        r
        for r in records
        if r.ok
        and r.requested_output_tokens is not None
        and r.output_tokens < r.requested_output_tokens
    ]


def short_output_message(short: Sequence[RequestRecord], n_ok: int) -> str:
    """One line naming how many outputs fell short and the worst one."""
    worst = min(short, key=lambda r: r.output_tokens / (r.requested_output_tokens or 1))
    return (
        f"{len(short)} of {n_ok} successful requests returned fewer output tokens than "
        f"requested although ignore_eos was asked (worst: request {worst.index}, "
        f"{worst.output_tokens} of {worst.requested_output_tokens}); the server may not honour "
        "ignore_eos, or a stop string or the context size cut the output"
    )


def _failure_message(failed: Sequence[RequestRecord], n_total: int, limit: float) -> str:
    errors = Counter(r.error or "" for r in failed)
    common, count = errors.most_common(1)[0]
    return (
        f"{len(failed)} of {n_total} requests failed ({len(failed) / n_total:.0%}, "
        f"limit {limit:.0%}); most common error ({count}×): {common}"
    )


def aggregate(
    result: LoadResult,
    *,
    n_gpus: int = 1,
    n_decode_gpus: int | None = None,
    max_failed_fraction: float = 0.05,
    power_w_per_gpu: float | None = None,
    max_client_loop_lag_p99_s: float = MAX_LOOP_LAG_P99_S,
    max_client_cpu_util: float = MAX_CPU_UTIL,
) -> PointMetrics:
    """The measured numbers of one point from a load run.

    Throughput: Σ tokens of successful timed requests / window duration / GPUs; output tokens
    divide by ``n_decode_gpus`` when given (disaggregated), input tokens by ``n_gpus``. Input
    throughput is None (and the total counts output only) if a successful request lacks an
    input count. Status ``failed`` when more than ``max_failed_fraction`` of timed requests
    failed, when no request had ≥ 2 output tokens (TPOT undefined), or when the run asked for
    ``ignore_eos`` and more than half of the successful requests came back short (fewer are a
    warning in ``error`` with status ``ok``).

    Status ``client_bound`` (instead of ``ok``) when the client itself was saturated over the
    window: p99 event-loop lag above ``max_client_loop_lag_p99_s`` or a sending process's CPU
    use above ``max_client_cpu_util`` (see ``saturation.py``; windows under a second are not
    judged); ``error`` says which. A failed point stays ``failed`` with the explanation appended.
    """
    if n_gpus < 1 or (n_decode_gpus is not None and n_decode_gpus < 1):
        raise UserError(
            f"GPU counts must be ≥ 1, got n_gpus={n_gpus}, n_decode_gpus={n_decode_gpus}"
        )
    timed = result.timed_records
    ok = [r for r in timed if r.ok]
    failed = [r for r in timed if not r.ok]
    duration = result.duration_s

    out_tokens = sum(r.output_tokens for r in ok)
    inputs = [r.input_tokens for r in ok]
    in_known = all(x is not None for x in inputs)
    in_tokens = sum(x for x in inputs if x is not None)
    decode_gpus = n_decode_gpus or n_gpus
    if duration > 0:
        out_tput = out_tokens / duration / decode_gpus
        in_tput: float | None = in_tokens / duration / n_gpus if in_known else None
        total_tput = (in_tokens + out_tokens) / duration / n_gpus
    else:
        out_tput, in_tput, total_tput = 0.0, (0.0 if in_known else None), 0.0

    tpots = [t for r in ok if (t := r.tpot_s) is not None]
    tpot = latency_stats(tpots)
    median_tpot = tpot.median_s
    interactivity = 1.0 / median_tpot if median_tpot else 0.0

    n_chunks = sum(len(r.chunk_tokens) for r in ok)
    tokens_in_chunks = sum(sum(r.chunk_tokens) for r in ok)

    short = short_outputs(ok) if result.ignore_eos else []
    short_note = short_output_message(short, len(ok)) if short else None

    status: Literal["ok", "failed"] = "ok"
    errors: list[str] = []
    if timed and len(failed) / len(timed) > max_failed_fraction:
        status = "failed"
        errors.append(_failure_message(failed, len(timed), max_failed_fraction))
    elif not tpots:
        status = "failed"
        errors.append(
            "no successful request produced 2 or more output tokens, so TPOT is undefined"
        )
    if short_note is not None:
        if 2 * len(short) > len(ok):
            status = "failed"
            errors.append(short_note)
        else:
            errors.append(f"warning: {short_note}")
    client_note = client_bound_reason(
        result.client_loop_lag_p99_s,
        result.client_cpu_util,
        duration,
        max_loop_lag_p99_s=max_client_loop_lag_p99_s,
        max_cpu_util=max_client_cpu_util,
    )
    final_status: Literal["ok", "failed", "client_bound"] = status
    if client_note is not None:
        if status == "ok":
            final_status = "client_bound"
            errors.insert(0, client_note)
        else:
            errors.append(client_note)

    return PointMetrics(
        status=final_status,
        error="; ".join(errors) or None,
        throughput_per_gpu=total_tput,
        output_throughput_per_gpu=out_tput,
        input_throughput_per_gpu=in_tput,
        interactivity=interactivity,
        ttft=latency_stats([r.ttft_s for r in ok if r.ttft_s is not None]),
        tpot=tpot,
        itl=latency_stats([gap for r in ok for gap in chunk_gaps_s(r)]),
        e2el=latency_stats([r.e2el_s for r in ok if r.e2el_s is not None]),
        measured_concurrency=mean_in_flight(
            result.timed_spans_s, result.window_start_s, result.window_end_s
        ),
        duration_s=duration,
        n_requests=len(timed),
        n_failed=len(failed),
        acceptance=summed_acceptance(ok),
        power_w_per_gpu=power_w_per_gpu,
        tokens_per_chunk_mean=tokens_in_chunks / n_chunks if n_chunks else None,
        n_short_outputs=len(short),
        client=client_summary(result),
    )


def client_summary(result: LoadResult) -> dict[str, float | int] | None:
    """The client's own load of a run, for ``Point.provenance.extra["client"]``."""
    if result.client_cpu_util is None or result.client_loop_lag_p99_s is None:
        return None
    out: dict[str, float | int] = {
        "workers": result.client_workers,
        "cpu_util": result.client_cpu_util,
        "loop_lag_p99_s": result.client_loop_lag_p99_s,
    }
    if result.client_cpu_s is not None:
        out["cpu_s"] = result.client_cpu_s
    if result.client_loop_lag_max_s is not None:
        out["loop_lag_max_s"] = result.client_loop_lag_max_s
    return out


def meets_slo(record: RequestRecord, slo_s: dict[str, float]) -> bool:
    """Whether a successful request met every SLO (inclusive limits).

    ``itl`` is checked against the request's **largest** chunk gap: one long stall is what a
    user notices. A request without a TPOT (one output token) or without gaps meets those SLOs.
    """
    if not record.ok or record.ttft_s is None or record.e2el_s is None:
        return False
    if "ttft" in slo_s and record.ttft_s > slo_s["ttft"]:
        return False
    if "e2el" in slo_s and record.e2el_s > slo_s["e2el"]:
        return False
    tpot = record.tpot_s
    if "tpot" in slo_s and tpot is not None and tpot > slo_s["tpot"]:
        return False
    gaps = chunk_gaps_s(record)
    return not ("itl" in slo_s and gaps and max(gaps) > slo_s["itl"])


def goodput(
    records: Iterable[RequestRecord], slo_s: dict[str, float], duration_s: float
) -> Goodput:
    """Requests/s and output tokens/s of timed requests meeting all SLOs over ``duration_s``."""
    unknown = sorted(set(slo_s) - set(SLO_KEYS))
    if unknown:
        raise UserError(f"unknown SLO key(s) {', '.join(unknown)}; use {', '.join(SLO_KEYS)}")
    if duration_s <= 0:
        raise UserError(f"goodput needs a positive duration, got {duration_s} s")
    timed = [r for r in records if not r.warmup]
    good = [r for r in timed if meets_slo(r, slo_s)]
    return Goodput(
        slo_s=dict(slo_s),
        n_good=len(good),
        n_total=len(timed),
        requests_per_s=len(good) / duration_s,
        output_tokens_per_s=sum(r.output_tokens for r in good) / duration_s,
    )


def parse_slo(text: str) -> dict[str, float]:
    """Parse ``ttft=0.5,tpot=0.05`` (seconds; a value may end in ``s`` or ``ms``)."""
    accepted = ", ".join(SLO_KEYS)
    out: dict[str, float] = {}
    parts = [p.strip() for p in text.split(",")]
    if not text.strip():
        raise UserError(f"--slo is empty; give e.g. ttft=0.5,tpot=0.05 with keys {accepted}")
    for part in parts:
        key, sep, raw = part.partition("=")
        key, raw = key.strip().lower(), raw.strip().lower()
        if not sep or not key or not raw:
            raise UserError(
                f"--slo part {part!r} is not key=value; write e.g. ttft=0.5 (keys: {accepted})"
            )
        if key not in SLO_KEYS:
            raise UserError(f"--slo key {key!r} in {part!r} is unknown; use one of {accepted}")
        if key in out:
            raise UserError(f"--slo key {key!r} is given twice; give each of {accepted} once")
        scale = 1.0
        if raw.endswith("ms"):
            raw, scale = raw[:-2], 1e-3
        elif raw.endswith("s"):
            raw = raw[:-1]
        try:
            value = float(raw) * scale
        except ValueError:
            raise UserError(
                f"--slo value in {part!r} is not a number; write seconds like 0.5 or 500ms"
            ) from None
        if not math.isfinite(value) or value <= 0:
            raise UserError(f"--slo value in {part!r} must be a positive number of seconds")
        out[key] = value
    return out
