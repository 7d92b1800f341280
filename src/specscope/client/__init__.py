"""The async streaming benchmark client: load patterns, per-request records, point metrics.

``run_load`` sends the requests of a ``LoadRun`` (over several worker processes when one is not
enough) and returns a ``LoadResult`` with the client's own load; ``aggregate`` turns it into the
measured fields of a Point (status ``client_bound`` when the client was saturated); ``goodput``
and ``parse_slo`` handle SLOs; ``PowerSampler`` reads GPU power over the window when a vendor
tool is present.
"""

from specscope.client.aggregate import (
    Goodput,
    PointMetrics,
    aggregate,
    client_summary,
    goodput,
    latency_stats,
    parse_slo,
    short_outputs,
)
from specscope.client.load import ClosedLoop, LoadPattern, OpenLoop
from specscope.client.power import PowerReading, PowerSampler
from specscope.client.protocols import API_KINDS, ApiKind, BenchPrompt, build_body, endpoint_url
from specscope.client.runner import LoadResult, LoadRun, request_span_s, run_load
from specscope.client.saturation import MAX_CPU_UTIL, MAX_LOOP_LAG_P99_S, client_bound_reason
from specscope.client.workers import ClientWorkerError, choose_workers

__all__ = [
    "API_KINDS",
    "MAX_CPU_UTIL",
    "MAX_LOOP_LAG_P99_S",
    "ApiKind",
    "BenchPrompt",
    "ClientWorkerError",
    "ClosedLoop",
    "Goodput",
    "LoadPattern",
    "LoadResult",
    "LoadRun",
    "OpenLoop",
    "PointMetrics",
    "PowerReading",
    "PowerSampler",
    "aggregate",
    "build_body",
    "choose_workers",
    "client_bound_reason",
    "client_summary",
    "endpoint_url",
    "goodput",
    "latency_stats",
    "parse_slo",
    "request_span_s",
    "run_load",
    "short_outputs",
]
