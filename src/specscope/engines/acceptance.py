"""Speculative-decoding acceptance, read the engine's way, normalised to AcceptanceCounts.

- vLLM and llama.cpp: Prometheus counters (``vllm:spec_decode_num_drafts_total``,
  ``llamacpp:spec_decode_num_drafts_total`` and siblings). Take a snapshot before and after
  the measured window and use the difference, never the totals (warm-up is excluded).
  Several label sets of one counter (``model_name``, ``engine`` for data-parallel ranks) sum.
- SGLang: ``GET /server_info`` → ``internal_states[i].avg_spec_accept_length``, a running
  average since the server started: only meaningful on a server started fresh for one config.
- TensorRT-LLM: ``GET /metrics`` (with ``enable_iter_perf_stats``) returns the iteration stats
  queued since the last call; each carries ``specDecodingStats``. Drain before, sum after.
- llama.cpp per response: ``timings.draft_n`` / ``timings.draft_n_accepted`` (drafted and
  accepted tokens; verify steps are not given, so AL cannot be derived from them alone).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel, ConfigDict, Field

from specscope.engines.base import AcceptanceSource
from specscope.schema import AcceptanceCounts, RequestRecord

SGLANG_SOURCE = "sglang:server_info"
SGLANG_NOTE = (
    "SGLang avg_spec_accept_length is a running average since server start; "
    "start a fresh server for each measured config"
)
TRTLLM_SOURCE = "trtllm:iteration_stats"
TIMINGS_SOURCE = "timings:llamacpp"

_PREFIXES = ("vllm", "llamacpp")
_COUNTERS = {
    "spec_decode_num_drafts": "drafts",
    "spec_decode_num_draft_tokens": "draft_tokens",
    "spec_decode_num_accepted_tokens": "accepted_tokens",
}
_PER_POSITION = "spec_decode_num_accepted_tokens_per_pos"


class AcceptanceError(RuntimeError):
    """Acceptance could not be read (bad metrics text, server gone, counters reset)."""


class CounterResetError(AcceptanceError):
    """A counter went backwards inside the window: the server restarted."""


class SpecCounters(BaseModel):
    """The spec-decoding counters of one Prometheus scrape (values as exposed)."""

    model_config = ConfigDict(frozen=True)

    engine: str = ""
    """Metric prefix found (``vllm``, ``llamacpp``), empty when no spec counter was exposed."""
    drafts: float | None = None
    draft_tokens: float | None = None
    accepted_tokens: float | None = None
    accepted_per_position: dict[int, float] = Field(default_factory=dict)

    @property
    def found(self) -> bool:
        return bool(self.engine)


def parse_spec_counters(text: str) -> SpecCounters:
    """The spec counters in a Prometheus ``/metrics`` text (summed over label sets)."""
    totals: dict[str, float] = {}
    per_position: dict[int, float] = defaultdict(float)
    engines: set[str] = set()
    try:
        families = list(text_string_to_metric_families(text))
    except (ValueError, TypeError, IndexError) as exc:
        raise AcceptanceError(f"could not parse the Prometheus metrics text ({exc})") from exc
    for family in families:
        for sample in family.samples:
            prefix, sep, rest = sample.name.partition(":")
            if not sep or prefix not in _PREFIXES or rest.endswith("_created"):
                continue
            base = rest.removesuffix("_total")
            if base in _COUNTERS:
                field = _COUNTERS[base]
                totals[field] = totals.get(field, 0.0) + float(sample.value)
                engines.add(prefix)
            elif base == _PER_POSITION:
                position = sample.labels.get("position")
                if position is None or not position.isdigit():
                    raise AcceptanceError(
                        f"{sample.name} has no numeric 'position' label: {sample.labels}"
                    )
                per_position[int(position)] += float(sample.value)
                engines.add(prefix)
    if len(engines) > 1:
        raise AcceptanceError(f"metrics text mixes spec counters of {sorted(engines)}")
    return SpecCounters(
        engine=engines.pop() if engines else "",
        drafts=totals.get("drafts"),
        draft_tokens=totals.get("draft_tokens"),
        accepted_tokens=totals.get("accepted_tokens"),
        accepted_per_position=dict(per_position),
    )


def _count_delta(name: str, before: float | None, after: float | None) -> int | None:
    if after is None:
        return None
    start = before or 0.0
    if after < start:
        raise CounterResetError(
            f"counter {name} went backwards ({start:g} → {after:g}); the server restarted "
            "during the measured window, so its acceptance cannot be used"
        )
    return round(after - start)


def delta(before: SpecCounters, after: SpecCounters) -> AcceptanceCounts:
    """AcceptanceCounts over the window between two scrapes of the same server.

    A counter missing from ``before`` but present in ``after`` counts from zero (llama.cpp
    exposes per-position counters only once speculation has run). Counters the server does not
    expose at all (vLLM with spec off) stay None.
    """
    if before.found and after.found and before.engine != after.engine:
        raise AcceptanceError(
            f"scrapes come from different engines ({before.engine} then {after.engine})"
        )
    positions = after.accepted_per_position
    per_position: list[int] = []
    if positions:
        for k in range(max(positions) + 1):
            d = _count_delta(
                f"accepted_per_position[{k}]",
                before.accepted_per_position.get(k),
                positions.get(k, 0.0),
            )
            per_position.append(d or 0)
    return AcceptanceCounts(
        drafts=_count_delta("drafts", before.drafts, after.drafts),
        draft_tokens=_count_delta("draft_tokens", before.draft_tokens, after.draft_tokens),
        accepted_tokens=_count_delta(
            "accepted_tokens", before.accepted_tokens, after.accepted_tokens
        ),
        accepted_per_position=per_position,
        source=f"prometheus:{after.engine}" if after.engine else "prometheus",
    )


def counts_from_sglang_server_info(info: Mapping[str, Any]) -> AcceptanceCounts:
    """SGLang's reported running-average AL (bonus token included) from ``/server_info``.

    With several data-parallel ranks in ``internal_states`` their values are averaged.
    """
    values: list[float] = []
    states = info.get("internal_states")
    if isinstance(states, list):
        for state in states:
            if isinstance(state, Mapping):
                value = state.get("avg_spec_accept_length")
                if isinstance(value, int | float) and not isinstance(value, bool):
                    values.append(float(value))
    top = info.get("avg_spec_accept_length")  # older releases put it at the top level
    if not values and isinstance(top, int | float) and not isinstance(top, bool):
        values.append(float(top))
    finite = [v for v in values if math.isfinite(v)]
    return AcceptanceCounts(
        reported_acceptance_length=sum(finite) / len(finite) if finite else None,
        source=SGLANG_SOURCE,
        note=SGLANG_NOTE,
    )


def _iteration(entry: Any) -> Mapping[str, Any] | None:
    if isinstance(entry, str):  # some releases return each iteration as a JSON string
        try:
            entry = json.loads(entry)
        except json.JSONDecodeError:
            return None
    return entry if isinstance(entry, Mapping) else None


def counts_from_trtllm_iteration_stats(stats: Iterable[Any]) -> AcceptanceCounts:
    """Sum TensorRT-LLM ``specDecodingStats`` over iteration stats.

    Per iteration: ``numDraftTokens`` drafted, ``numAcceptedTokens`` accepted, and
    ``numRequestsWithDraftTokens`` requests verified with a draft, i.e. verify steps.
    """
    drafts = draft_tokens = accepted = 0
    for entry in stats:
        iteration = _iteration(entry)
        if iteration is None:
            continue
        spec = iteration.get("specDecodingStats")
        if not isinstance(spec, Mapping):
            continue
        n_draft = int(spec.get("numDraftTokens") or 0)
        if n_draft <= 0:
            continue
        draft_tokens += n_draft
        accepted += int(spec.get("numAcceptedTokens") or 0)
        drafts += int(spec.get("numRequestsWithDraftTokens") or 0)
    return AcceptanceCounts(
        drafts=drafts, draft_tokens=draft_tokens, accepted_tokens=accepted, source=TRTLLM_SOURCE
    )


def timings_draft_counts(timings: Mapping[str, Any] | None) -> tuple[int | None, int | None]:
    """(drafted, accepted) tokens of one llama.cpp response's ``timings``; None when absent.

    llama.cpp leaves both fields out when nothing was drafted (and when spec is off).
    """
    if not timings:
        return None, None
    drafted = timings.get("draft_n")
    accepted = timings.get("draft_n_accepted")
    return (
        int(drafted) if isinstance(drafted, int | float) else None,
        int(accepted) if isinstance(accepted, int | float) else None,
    )


def counts_from_timings(pairs: Iterable[tuple[int | None, int | None]]) -> AcceptanceCounts:
    """Sum per-response (drafted, accepted) pairs; a missing field counts as zero drafted."""
    drafted_total = accepted_total = 0
    for drafted, accepted in pairs:
        drafted_total += drafted or 0
        accepted_total += accepted or 0
    return AcceptanceCounts(
        draft_tokens=drafted_total, accepted_tokens=accepted_total, source=TIMINGS_SOURCE
    )


def counts_from_records(records: Iterable[RequestRecord]) -> AcceptanceCounts:
    """Sum ``draft_tokens``/``accepted_tokens`` of the timed, successful request records."""
    return counts_from_timings(
        (r.draft_tokens, r.accepted_tokens) for r in records if not r.warmup and r.ok
    )


class AcceptanceReader:
    """Reads one server's acceptance over a measured window, whatever the engine.

    ``await begin()`` just before the timed requests, ``await end(records)`` just after.
    TensorRT-LLM keeps a bounded queue of iteration stats: call ``await poll()`` now and then
    during long windows so none are dropped.
    """

    def __init__(
        self,
        source: AcceptanceSource,
        base_url: str,
        metrics_path: str = "/metrics",
        *,
        client: httpx.AsyncClient | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self.source = source
        self.url = base_url.rstrip("/") + metrics_path
        self._client = client
        self._timeout_s = timeout_s
        self._before: SpecCounters | None = None
        self._iterations: list[Any] = []

    async def _get(self, url: str) -> httpx.Response:
        try:
            if self._client is not None:
                response = await self._client.get(url, timeout=self._timeout_s)
            else:
                async with httpx.AsyncClient(timeout=self._timeout_s) as client:
                    response = await client.get(url)
        except httpx.HTTPError as exc:
            raise AcceptanceError(f"could not read {url} ({exc})") from exc
        return response

    async def _text(self) -> str:
        response = await self._get(self.url)
        if response.status_code != 200:
            raise AcceptanceError(
                f"{self.url} returned HTTP {response.status_code}; for llama.cpp start the "
                "server with --metrics"
            )
        return response.text

    async def _json(self, url: str) -> Any:
        response = await self._get(url)
        if response.status_code != 200:
            raise AcceptanceError(f"{url} returned HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError as exc:
            raise AcceptanceError(f"{url} did not return JSON ({exc})") from exc

    async def _drain_trtllm(self) -> list[Any]:
        data = await self._json(self.url)
        return list(data) if isinstance(data, list) else []

    async def begin(self) -> None:
        """Mark the start of the window (snapshot counters, drain queued stats)."""
        if self.source == "prometheus":
            self._before = parse_spec_counters(await self._text())
        elif self.source == "trtllm_iter_stats":
            await self._drain_trtllm()
            self._iterations = []

    async def poll(self) -> None:
        """Collect stats queued so far (TensorRT-LLM); a no-op for other sources."""
        if self.source == "trtllm_iter_stats":
            self._iterations.extend(await self._drain_trtllm())

    async def end(self, records: Sequence[RequestRecord] = ()) -> AcceptanceCounts | None:
        """Acceptance over the window; None when the source is ``none``."""
        if self.source == "prometheus":
            if self._before is None:
                raise AcceptanceError("AcceptanceReader.end() called before begin()")
            return delta(self._before, parse_spec_counters(await self._text()))
        if self.source == "sglang_server_info":
            info = await self._json(self.url)
            if not isinstance(info, Mapping):
                raise AcceptanceError(f"{self.url} did not return a JSON object")
            return counts_from_sglang_server_info(info)
        if self.source == "trtllm_iter_stats":
            await self.poll()
            return counts_from_trtllm_iteration_stats(self._iterations)
        if self.source == "timings":
            return counts_from_records(records)
        return None
