"""The ``prometheus`` acceptance source: spec-decoding counters on ``/metrics``, read as deltas.

vLLM's Prometheus counters (``vllm:spec_decode_num_drafts_total`` and siblings), a snapshot
before and after the window, the difference only. llama.cpp exposes the same counters
(``llamacpp:``). Several label sets of one counter (DP ranks) sum. The counter prefixes are
the registered engines' ``metric_prefix``. Exact per-request counts registered for this source
(vLLM's ``metrics.speculative_decoding``) win over the deltas.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from prometheus_client.parser import text_string_to_metric_families
from pydantic import BaseModel, ConfigDict, Field

from specscope.engines.acceptance import (
    AcceptanceError,
    AcceptanceStrategy,
    CounterResetError,
    acceptance_source,
)
from specscope.engines.registry import metric_prefixes
from specscope.schema import AcceptanceCounts, RequestRecord

_COUNTERS = {
    "spec_decode_num_drafts": "drafts",
    "spec_decode_num_draft_tokens": "draft_tokens",
    "spec_decode_num_accepted_tokens": "accepted_tokens",
}
_PER_POSITION = "spec_decode_num_accepted_tokens_per_pos"


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
    prefixes = metric_prefixes()
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
            if not sep or prefix not in prefixes or rest.endswith("_created"):
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


@acceptance_source("prometheus")
class PrometheusCounters(AcceptanceStrategy):
    """Counter deltas between a scrape at ``begin`` and one at ``end``."""

    _before: SpecCounters | None = None
    _before_error: str | None = None

    async def _text(self) -> str:
        url = self.reader.url
        response = await self.reader.get(url)
        if response.status_code != 200:
            raise AcceptanceError(
                f"{url} returned HTTP {response.status_code}; for llama.cpp start the "
                "server with --metrics"
            )
        return response.text

    async def begin(self) -> None:
        try:
            self._before = parse_spec_counters(await self._text())
        except AcceptanceError as exc:  # per-request counts may still come
            self._before, self._before_error = None, str(exc)

    async def end(self, records: Sequence[RequestRecord]) -> AcceptanceCounts | None:
        exact = self.exact(records)
        if exact is not None:
            return exact
        if self._before is None:
            raise AcceptanceError(
                self._before_error or "AcceptanceReader.end() called before begin()"
            )
        return delta(self._before, parse_spec_counters(await self._text()))
