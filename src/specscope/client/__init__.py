"""The async streaming benchmark client: load patterns, per-request records, point metrics.

``run_load`` sends the requests and returns a ``LoadResult``; ``aggregate`` turns it into the
measured fields of a Point; ``goodput`` and ``parse_slo`` handle SLOs; ``PowerSampler`` reads GPU
power over the window when a vendor tool is present.
"""

from specscope.client.aggregate import (
    Goodput,
    PointMetrics,
    aggregate,
    goodput,
    latency_stats,
    parse_slo,
    short_outputs,
)
from specscope.client.load import ClosedLoop, LoadPattern, OpenLoop, arrival_offsets_s
from specscope.client.power import PowerReading, PowerSampler
from specscope.client.protocols import API_KINDS, ApiKind, BenchPrompt, build_body, endpoint_url
from specscope.client.runner import LoadResult, request_span_s, run_load

__all__ = [
    "API_KINDS",
    "ApiKind",
    "BenchPrompt",
    "ClosedLoop",
    "Goodput",
    "LoadPattern",
    "LoadResult",
    "OpenLoop",
    "PointMetrics",
    "PowerReading",
    "PowerSampler",
    "aggregate",
    "arrival_offsets_s",
    "build_body",
    "endpoint_url",
    "goodput",
    "latency_stats",
    "parse_slo",
    "request_span_s",
    "run_load",
    "short_outputs",
]
