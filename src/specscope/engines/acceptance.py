"""Speculative-decoding acceptance, read the engine's way, normalised to AcceptanceCounts.

Each point records where its counts came from (``AcceptanceCounts.source``); exact per-request
counts win over server-wide ones. Upstream sources behind each reader are in docs/engines.md.

- vLLM: per request, ``metrics.speculative_decoding`` on the final usage chunk when the server
  runs with ``--per-request-spec-decode-metrics summary|detailed`` (vLLM v0.29.0,
  docs/features/speculative_decoding/acceptance_metrics.md): ``num_spec_steps``,
  ``num_draft_tokens``, ``num_accepted_draft_tokens``, ``acceptance_histogram``. Fallback:
  Prometheus counters (``vllm:spec_decode_num_drafts_total`` and siblings), a snapshot before
  and after the window, the difference only. llama.cpp exposes the same counters
  (``llamacpp:``). Several label sets of one counter (DP ranks) sum.
- SGLang: per request, the native ``/generate`` ``meta_info``: ``spec_verify_ct`` (verify
  steps) with ``spec_num_correct_drafts``/``spec_num_proposed_drafts`` and
  ``spec_correct_drafts_histogram`` (newer releases; ``spec_accepted_drafts`` and
  ``spec_proposed_drafts`` are their aliases) or ``spec_accept_token_num``/
  ``spec_draft_token_num`` and ``spec_accept_histogram`` (v0.5.x). Fallback, labelled:
  ``/server_info`` ``internal_states[i].avg_spec_accept_length``, a running average since the
  server started, used only for a window that is the first on a freshly started server.
- TensorRT-LLM: ``GET /metrics`` returns (and clears) the iteration stats queued since the last
  call, each with its ``iter`` id and ``specDecodingStats``. The queue holds
  ``iter_stats_max_iterations`` entries (1000 when unset), so the reader polls it through the
  window, merges by ``iter`` and says when iterations were lost.
- llama.cpp per response: ``timings.draft_n`` / ``timings.draft_n_accepted`` (drafted and
  accepted tokens; verify steps are not given, so AL cannot be derived from them alone).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

import httpx
from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel, ConfigDict, Field

from specscope.engines.base import AcceptanceSource
from specscope.schema import AcceptanceCounts, RequestRecord

SGLANG_SOURCE = "sglang:server_info"
SGLANG_NOTE = (
    "fallback: SGLang /server_info avg_spec_accept_length, a running average since the server "
    "started (its warm-up requests included), read on a freshly started server; per-request "
    "meta_info counts were not available"
)
SGLANG_REQUEST_SOURCE = "sglang:meta_info"
SGLANG_REFUSED_NOTE = (
    "no per-request SGLang counts (send the load with api = 'sglang', the native /generate "
    "route) and the /server_info running average is refused: this window did not start on a "
    "freshly started server"
)
VLLM_REQUEST_SOURCE = "vllm:per_request"
TRTLLM_SOURCE = "trtllm:iteration_stats"
TIMINGS_SOURCE = "timings:llamacpp"
VLLM_SPEC_KEY = "metrics.speculative_decoding"
SGLANG_SPEC_KEY = "meta_info"

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


def per_position_from_histogram(histogram: Sequence[int]) -> list[int]:
    """Steps whose draft token at position k (0-based) was accepted, from a histogram whose
    entry j counts steps that accepted exactly j draft tokens (chained drafts: position k is
    accepted when more than k were): ``[Σ_{j>k} h_j for k in 0..len−2]``."""
    out: list[int] = []
    remaining = sum(histogram)
    for count in histogram[:-1]:
        remaining -= count
        out.append(remaining)
    return out


def _int_field(fields: Mapping[str, Any], *names: str) -> int | None:
    for name in names:
        value = fields.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return int(value)
    return None


def _add_histogram(total: list[int], histogram: Any) -> None:
    if not isinstance(histogram, list):
        return
    if len(histogram) > len(total):
        total.extend([0] * (len(histogram) - len(total)))
    for j, count in enumerate(histogram):
        if isinstance(count, int | float) and not isinstance(count, bool):
            total[j] += int(count)


def _spec_fields(record: RequestRecord, key: str) -> Mapping[str, Any] | None:
    spec = record.spec_decoding
    fields = spec.get(key) if spec else None
    return fields if isinstance(fields, Mapping) else None


def _timed_ok(records: Iterable[RequestRecord]) -> list[RequestRecord]:
    return [r for r in records if not r.warmup and r.ok]


def counts_from_vllm_requests(records: Iterable[RequestRecord]) -> AcceptanceCounts | None:
    """Σ of vLLM's per-request ``metrics.speculative_decoding`` over the timed, successful
    requests; None unless every one of them carries it (a partial sum would be biased).

    drafts = Σ``num_spec_steps``, draft_tokens = Σ``num_draft_tokens``, accepted_tokens =
    Σ``num_accepted_draft_tokens``; per position from Σ``acceptance_histogram``.
    """
    timed = _timed_ok(records)
    fields = [_spec_fields(r, VLLM_SPEC_KEY) for r in timed]
    if not timed or any(f is None for f in fields):
        return None
    steps = drafted = accepted = 0
    histogram: list[int] = []
    for f in fields:
        assert f is not None
        n_steps = _int_field(f, "num_spec_steps")
        n_accepted = _int_field(f, "num_accepted_draft_tokens")
        if n_steps is None or n_accepted is None:
            return None
        steps += n_steps
        accepted += n_accepted
        drafted += _int_field(f, "num_draft_tokens") or 0
        _add_histogram(histogram, f.get("acceptance_histogram"))
    return AcceptanceCounts(
        drafts=steps,
        draft_tokens=drafted,
        accepted_tokens=accepted,
        accepted_per_position=per_position_from_histogram(histogram) if histogram else [],
        source=VLLM_REQUEST_SOURCE,
    )


def counts_from_sglang_requests(records: Iterable[RequestRecord]) -> AcceptanceCounts | None:
    """Σ of SGLang's per-request ``meta_info`` spec counts over the timed, successful requests;
    None unless every one of them carries ``spec_verify_ct`` and an accepted count.

    A request that finished without a verify step reports ``spec_verify_ct`` 0 and leaves the
    other counts out; it adds nothing.
    """
    timed = _timed_ok(records)
    fields = [_spec_fields(r, SGLANG_SPEC_KEY) for r in timed]
    if not timed or any(f is None or "spec_verify_ct" not in f for f in fields):
        return None
    steps = drafted = accepted = 0
    histogram: list[int] = []
    for f in fields:
        assert f is not None
        n_steps = _int_field(f, "spec_verify_ct") or 0
        if n_steps == 0:
            continue
        n_accepted = _int_field(
            f, "spec_num_correct_drafts", "spec_accepted_drafts", "spec_accept_token_num"
        )
        if n_accepted is None:
            return None
        steps += n_steps
        accepted += n_accepted
        drafted += (
            _int_field(
                f, "spec_num_proposed_drafts", "spec_proposed_drafts", "spec_draft_token_num"
            )
            or 0
        )
        _add_histogram(
            histogram, f.get("spec_correct_drafts_histogram", f.get("spec_accept_histogram"))
        )
    return AcceptanceCounts(
        drafts=steps,
        draft_tokens=drafted,
        accepted_tokens=accepted,
        accepted_per_position=per_position_from_histogram(histogram) if histogram else [],
        source=SGLANG_REQUEST_SOURCE,
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


def iteration_id(entry: Any) -> int | None:
    """The ``iter`` id of one TensorRT-LLM iteration-stats entry (None when it has none)."""
    iteration = _iteration(entry)
    value = iteration.get("iter") if iteration is not None else None
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def trtllm_coverage_note(first_expected: int | None, ids: Sequence[int]) -> str:
    """Empty when ``ids`` run without a gap from ``first_expected`` (the id after the last one
    drained before the window; None when none was) to their maximum; else what was lost."""
    if not ids:
        return ""
    start = min(ids) if first_expected is None else min(first_expected, min(ids))
    expected = max(ids) - start + 1
    missing = expected - len(set(ids))
    if missing <= 0:
        return ""
    return (
        f"window not fully covered: {missing} of {expected} iterations missing from the "
        "TensorRT-LLM iteration-stats queue (it keeps iter_stats_max_iterations entries, 1000 "
        "when unset); raise iter_stats_max_iterations in the launch options"
    )


class AcceptanceReader:
    """Reads one server's acceptance over a measured window, whatever the engine.

    ``await begin()`` just before the timed requests, ``await end(records)`` just after (both
    in the event loop that sends the load). For TensorRT-LLM, ``begin`` starts polling
    ``/metrics`` every ``poll_interval_s`` so the bounded stats queue does not drop iterations;
    ``end`` stops it, merges by iteration id and notes any gap.

    ``fresh_server`` says whether this window is the first on a freshly started server (only
    then may SGLang's running average stand in for per-request counts). None: this process
    decides: the first window read from ``base_url`` is fresh, later ones are not.
    """

    _windows_read: ClassVar[dict[str, int]] = {}
    """Windows begun per base URL in this process (the fresh-server default)."""

    def __init__(
        self,
        source: AcceptanceSource,
        base_url: str,
        metrics_path: str = "/metrics",
        *,
        client: httpx.AsyncClient | None = None,
        timeout_s: float = 10.0,
        fresh_server: bool | None = None,
        poll_interval_s: float = 1.0,
    ) -> None:
        self.source = source
        self.base_url = base_url.rstrip("/")
        self.url = self.base_url + metrics_path
        self._client = client
        self._timeout_s = timeout_s
        self._fresh = fresh_server
        self.poll_interval_s = poll_interval_s
        self._before: SpecCounters | None = None
        self._before_error: str | None = None
        self._iterations: dict[int, Any] = {}
        self._unnumbered: list[Any] = []
        self._first_expected: int | None = None
        self._poller: asyncio.Task[None] | None = None

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

    def _keep(self, entries: Iterable[Any]) -> None:
        for entry in entries:
            ident = iteration_id(entry)
            if ident is None:
                self._unnumbered.append(entry)
            else:
                self._iterations[ident] = entry  # a re-read iteration is kept once

    async def _poll_loop(self) -> None:
        while True:
            await asyncio.sleep(self.poll_interval_s)
            with contextlib.suppress(AcceptanceError):
                self._keep(await self._drain_trtllm())

    async def begin(self) -> None:
        """Mark the start of the window (snapshot counters, drain queued stats)."""
        windows = AcceptanceReader._windows_read
        seen = windows.get(self.base_url, 0)
        windows[self.base_url] = seen + 1
        if self._fresh is None:
            self._fresh = seen == 0
        if self.source == "prometheus":
            try:
                self._before = parse_spec_counters(await self._text())
            except AcceptanceError as exc:  # per-request counts may still come
                self._before, self._before_error = None, str(exc)
        elif self.source == "trtllm_iter_stats":
            drained = await self._drain_trtllm()
            ids = [i for i in map(iteration_id, drained) if i is not None]
            self._first_expected = max(ids) + 1 if ids else None
            self._iterations, self._unnumbered = {}, []
            self._poller = asyncio.ensure_future(self._poll_loop())

    async def poll(self) -> None:
        """Collect stats queued so far (TensorRT-LLM); a no-op for other sources."""
        if self.source == "trtllm_iter_stats":
            self._keep(await self._drain_trtllm())

    async def _stop_polling(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None

    async def end(self, records: Sequence[RequestRecord] = ()) -> AcceptanceCounts | None:
        """Acceptance over the window; None when the source is ``none``.

        The source of the counts is in ``AcceptanceCounts.source``; a fallback says why in
        ``note``.
        """
        if self.source == "prometheus":
            exact = counts_from_vllm_requests(records)
            if exact is not None:
                return exact
            if self._before is None:
                raise AcceptanceError(
                    self._before_error or "AcceptanceReader.end() called before begin()"
                )
            return delta(self._before, parse_spec_counters(await self._text()))
        if self.source == "sglang_server_info":
            exact = counts_from_sglang_requests(records)
            if exact is not None:
                return exact
            if not self._fresh:
                return AcceptanceCounts(source="sglang:none", note=SGLANG_REFUSED_NOTE)
            info = await self._json(self.url)
            if not isinstance(info, Mapping):
                raise AcceptanceError(f"{self.url} did not return a JSON object")
            return counts_from_sglang_server_info(info)
        if self.source == "trtllm_iter_stats":
            await self._stop_polling()
            await self.poll()
            ids = sorted(self._iterations)
            counts = counts_from_trtllm_iteration_stats(
                [*(self._iterations[i] for i in ids), *self._unnumbered]
            )
            note = trtllm_coverage_note(self._first_expected, ids)
            if note:
                counts = counts.model_copy(
                    update={"note": note, "source": TRTLLM_SOURCE + ":partial"}
                )
            return counts
        if self.source == "timings":
            return counts_from_records(records)
        return None
