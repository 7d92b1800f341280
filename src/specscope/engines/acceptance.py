"""Speculative-decoding acceptance, read the engine's way, normalised to AcceptanceCounts.

Each point records where its counts came from (``AcceptanceCounts.source``); exact per-request
counts win over server-wide ones. Upstream sources behind each reader are in docs/engines.md.

One strategy per acceptance source, registered by name with :func:`acceptance_source` in the
module that owns it:

- ``prometheus`` (:mod:`specscope.engines.prometheus`): counter deltas, vLLM and llama.cpp.
- ``sglang_server_info`` (:mod:`specscope.engines.sglang`): SGLang's per-request ``meta_info``,
  else its ``/server_info`` running average on a freshly started server.
- ``trtllm_iter_stats`` (:mod:`specscope.engines.trtllm`): TensorRT-LLM's iteration stats.
- ``timings`` (:mod:`specscope.engines.llamacpp`): per-response llama.cpp ``timings``.
- ``none``: not read.

Per-request counts (fields each response carries, kept in ``RequestRecord.spec_decoding``) are
registered for a source with :func:`per_request_counts`; the first that every timed request
carries wins over the source's own window reading.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import httpx

from specscope.engines.base import AcceptanceSource
from specscope.schema import AcceptanceCounts, RequestRecord

PerRequestCounts = Callable[[Sequence[RequestRecord]], AcceptanceCounts | None]
S = TypeVar("S", bound="type[AcceptanceStrategy]")
F = TypeVar("F", bound=PerRequestCounts)

_SOURCES: dict[str, type[AcceptanceStrategy]] = {}
_PER_REQUEST: dict[str, list[PerRequestCounts]] = {}


class AcceptanceError(RuntimeError):
    """Acceptance could not be read (bad metrics text, server gone, counters reset)."""


class CounterResetError(AcceptanceError):
    """A counter went backwards inside the window: the server restarted."""


def acceptance_source(name: str) -> Callable[[S], S]:
    """Class decorator: the strategy that reads the acceptance source ``name``."""

    def register(cls: S) -> S:
        cls.source = name
        _SOURCES[name] = cls
        return cls

    return register


def per_request_counts(source: str) -> Callable[[F], F]:
    """Decorator: per-request counts that win over the window reading of ``source``."""

    def register(read: F) -> F:
        _PER_REQUEST.setdefault(source, []).append(read)
        return read

    return register


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


def int_field(fields: Mapping[str, Any], *names: str) -> int | None:
    """The first of ``names`` that holds a number, as an int; None when none does."""
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


def timed_ok(records: Iterable[RequestRecord]) -> list[RequestRecord]:
    """The timed, successful records: the ones a window's acceptance counts."""
    return [r for r in records if not r.warmup and r.ok]


@dataclass(frozen=True)
class RequestCounts:
    """One response's spec-decoding counts."""

    steps: int
    drafted: int
    accepted: int
    histogram: Any = None
    """Entry j: steps that accepted exactly j draft tokens (a list), or None."""


def sum_request_counts(
    records: Iterable[RequestRecord],
    key: str,
    read: Callable[[Mapping[str, Any]], RequestCounts | None],
    source: str,
) -> AcceptanceCounts | None:
    """Σ of ``read`` over the fields under ``key`` of the timed, successful requests; None
    unless every one of them carries the fields and ``read`` finds counts there (a partial sum
    would be biased)."""
    timed = timed_ok(records)
    fields = [_spec_fields(r, key) for r in timed]
    if not timed or any(f is None for f in fields):
        return None
    steps = drafted = accepted = 0
    histogram: list[int] = []
    for f in fields:
        assert f is not None
        one = read(f)
        if one is None:
            return None
        steps += one.steps
        accepted += one.accepted
        drafted += one.drafted
        _add_histogram(histogram, one.histogram)
    return AcceptanceCounts(
        drafts=steps,
        draft_tokens=drafted,
        accepted_tokens=accepted,
        accepted_per_position=per_position_from_histogram(histogram) if histogram else [],
        source=source,
    )


class AcceptanceStrategy:
    """How one acceptance source is read over one measured window (an instance per window).

    ``begin`` runs just before the timed requests, ``poll`` whenever the caller likes during
    them, ``end`` just after; the reader gives HTTP access to the server and says whether the
    window is the first on a freshly started server.
    """

    source: ClassVar[str] = ""

    def __init__(self, reader: AcceptanceReader) -> None:
        self.reader = reader

    async def begin(self) -> None:
        """Mark the start of the window."""

    async def poll(self) -> None:
        """Collect what the server has queued so far."""

    async def end(self, records: Sequence[RequestRecord]) -> AcceptanceCounts | None:
        """Acceptance over the window."""
        raise NotImplementedError

    def exact(self, records: Sequence[RequestRecord]) -> AcceptanceCounts | None:
        """Per-request counts registered for this source, when the records carry them."""
        for read in _PER_REQUEST.get(self.source, ()):
            counts = read(records)
            if counts is not None:
                return counts
        return None


@acceptance_source("none")
class NoAcceptance(AcceptanceStrategy):
    """Acceptance is not read."""

    async def end(self, records: Sequence[RequestRecord]) -> AcceptanceCounts | None:
        return None


class AcceptanceReader:
    """Reads one server's acceptance over a measured window, whatever the engine.

    ``await begin()`` just before the timed requests, ``await end(records)`` just after (both
    in the event loop that sends the load); ``source`` picks the strategy that reads it.

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
        strategy = _SOURCES.get(source)
        if strategy is None:
            raise AcceptanceError(
                f"unknown acceptance source {source!r}; choose one of {', '.join(_SOURCES)}"
            )
        self.source = source
        self.base_url = base_url.rstrip("/")
        self.url = self.base_url + metrics_path
        self._client = client
        self._timeout_s = timeout_s
        self._fresh = fresh_server
        self.poll_interval_s = poll_interval_s
        self._strategy = strategy(self)

    @property
    def fresh(self) -> bool:
        """Whether this window is the first on a freshly started server."""
        return bool(self._fresh)

    async def get(self, url: str) -> httpx.Response:
        """GET ``url``; a transport failure is an AcceptanceError."""
        try:
            if self._client is not None:
                response = await self._client.get(url, timeout=self._timeout_s)
            else:
                async with httpx.AsyncClient(timeout=self._timeout_s) as client:
                    response = await client.get(url)
        except httpx.HTTPError as exc:
            raise AcceptanceError(f"could not read {url} ({exc})") from exc
        return response

    async def json(self, url: str) -> Any:
        """The JSON body of ``url``; a non-200 answer or another body is an AcceptanceError."""
        response = await self.get(url)
        if response.status_code != 200:
            raise AcceptanceError(f"{url} returned HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError as exc:
            raise AcceptanceError(f"{url} did not return JSON ({exc})") from exc

    async def begin(self) -> None:
        """Mark the start of the window (snapshot counters, drain queued stats)."""
        windows = AcceptanceReader._windows_read
        seen = windows.get(self.base_url, 0)
        windows[self.base_url] = seen + 1
        if self._fresh is None:
            self._fresh = seen == 0
        await self._strategy.begin()

    async def poll(self) -> None:
        """Collect stats queued so far (TensorRT-LLM); a no-op for other sources."""
        await self._strategy.poll()

    async def end(self, records: Sequence[RequestRecord] = ()) -> AcceptanceCounts | None:
        """Acceptance over the window; None when the source is ``none``.

        The source of the counts is in ``AcceptanceCounts.source``; a fallback says why in
        ``note``.
        """
        return await self._strategy.end(records)
