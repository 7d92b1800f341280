"""Typed records shared by every part of specscope.

Units are in the field names where they could be ambiguous: seconds (``_s``), tokens, tok/s.
Definitions follow SPEC.md section 1; one meaning per name everywhere.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field

OFF = "none"
"""The spec method of a series with speculative decoding switched off."""

_SPEC_METHOD_ALIASES = {
    "off": OFF,
    "": OFF,
    "draft_model": "draft",
    "draft-model": "draft",
    "draft-simple": "draft",
    "nextn": "mtp",
    "eagle-3": "eagle3",
    "ngram_mod": "ngram-mod",
    "ngram_simple": "ngram-simple",
    "ngram_map_k": "ngram-map-k",
    "ngram_cache": "ngram-cache",
    "prompt-lookup": "ngram",
}


def spec_method_key(name: str) -> str:
    """The one stored name of a spec method: lowercase, aliases folded (``off`` → ``none``,
    InferenceX's ``draft_model`` → ``draft``, SGLang's ``NEXTN`` → ``mtp``)."""
    key = name.strip().lower()
    return _SPEC_METHOD_ALIASES.get(key, key)


class LatencyStats(BaseModel):
    """Summary of one per-request latency, in seconds."""

    model_config = ConfigDict(frozen=True)

    mean_s: float | None = None
    median_s: float | None = None
    p90_s: float | None = None
    p99_s: float | None = None


def acceptance_length(
    drafts: int | None, accepted_tokens: int | None, reported: float | None
) -> float | None:
    """AL = 1 + accepted / drafts (bonus token included); ``reported`` when drafts are unknown."""
    if drafts and accepted_tokens is not None:
        return 1.0 + accepted_tokens / drafts
    return reported


def draft_acceptance_rate(draft_tokens: int | None, accepted_tokens: int | None) -> float | None:
    """r = accepted / drafted tokens; None when drafted tokens are unknown or zero."""
    if draft_tokens and accepted_tokens is not None:
        return accepted_tokens / draft_tokens
    return None


class AcceptanceCounts(BaseModel):
    """Speculative-decoding counters over a measured window, normalised across engines.

    Raw counts are stored; acceptance length (AL) and draft acceptance rate are derived.
    ``drafts`` counts verify steps that carried a draft. ``accepted_per_position[k]`` counts
    steps whose draft token at position k (0-based) was accepted. Engines that only report an
    average (SGLang's ``avg_spec_accept_length``) fill ``reported_acceptance_length`` instead.
    """

    model_config = ConfigDict(frozen=True)

    drafts: int | None = None
    draft_tokens: int | None = None
    accepted_tokens: int | None = None
    accepted_per_position: list[int] = Field(default_factory=list)
    reported_acceptance_length: float | None = None
    source: str = ""
    """Where the counts came from (``prometheus:vllm``, ``timings:llamacpp``...)."""
    note: str = ""
    """A caveat on how the counts were taken (e.g. SGLang's running average since server start)."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def acceptance_length(self) -> float | None:
        """AL = 1 + accepted / drafts (bonus token included), else the reported AL."""
        return acceptance_length(self.drafts, self.accepted_tokens, self.reported_acceptance_length)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def draft_acceptance_rate(self) -> float | None:
        """r = accepted / drafted tokens."""
        return draft_acceptance_rate(self.draft_tokens, self.accepted_tokens)


class PointConfig(BaseModel):
    """Everything that identifies what was measured at one benchmark point."""

    model_config = ConfigDict(frozen=True)

    hardware: str
    """Hardware key, lowercase: ``h200``, ``mi355x``, ``cpu``."""
    model: str
    precision: str = "unknown"
    engine: str
    """Serving engine (framework), lowercase: ``vllm``, ``sglang``, ``trt``, ``llamacpp``."""
    spec_method: str = OFF
    """``none`` (off), ``mtp``, ``eagle``, ``eagle3``, ``draft`` (a draft model), ``ngram``, one of
    llama.cpp's ``ngram-*`` drafters, or ``synthetic`` for runs whose acceptance the engine pinned
    (the drafter and the pinned length are in ``spec_config``)."""
    draft_depth: int | None = None
    """g, draft tokens per step; 0 when off; None when the source does not say."""
    spec_config: str = ""
    """The engine's own spec settings, verbatim (flags or JSON), for provenance."""
    disaggregated: bool = False
    n_gpus: int = Field(default=1, ge=1)
    """GPUs the total (and input) throughput is divided by."""
    n_decode_gpus: int | None = Field(default=None, ge=1)
    """GPUs the output throughput is divided by when disaggregated."""
    tp: int | None = None
    pp: int | None = None
    ep: int | None = None
    dp_attention: bool | None = None
    isl: int = Field(ge=0)
    osl: int = Field(ge=0)
    concurrency: int | None = Field(default=None, ge=1)
    """Closed-loop concurrency limit; None for open-loop points without a cap."""
    request_rate: float | None = None
    """Open-loop request rate in requests/s; None for closed loop."""
    workload: str = ""
    """Workload name (prompt set or synthetic), empty when unknown."""

    @property
    def sequence(self) -> str:
        """The ISL/OSL pair in the InferenceX style (``1k/1k``, ``8k/1k``) or ``isl/osl``."""
        return sequence_label(self.isl, self.osl)

    @property
    def is_off(self) -> bool:
        return self.spec_method == OFF


def sequence_label(isl: int, osl: int) -> str:
    """An ISL/OSL pair as ``1k/1k``, ``8k/1k`` (k = 1024 tokens) or ``1000/100``."""
    return f"{_short_len(isl)}/{_short_len(osl)}"


def _short_len(n: int) -> str:
    return f"{n // 1024}k" if n and n % 1024 == 0 else str(n)


class Provenance(BaseModel):
    """Where a point came from."""

    model_config = ConfigDict(frozen=True)

    source: Literal["inferencex", "specscope", "predicted", "example"] = "specscope"
    source_file: str | None = None
    date: str | None = None
    """When the point was measured (ISO date or timestamp), if known."""
    engine_version: str | None = None
    power_source: Literal["measured", "preset"] = "preset"
    extra: dict[str, Any] = Field(default_factory=dict)
    """Keys of the source record that have no field of their own; kept, never dropped."""


class PointIdentity(BaseModel):
    """What a point was measured as: its run, its config and which repeat it is."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    config: PointConfig
    repeat: int = 0


class Measurement(BaseModel):
    """The measured fields of a point (the client's aggregate builds them from its records)."""

    model_config = ConfigDict(frozen=True)

    status: Literal["ok", "failed", "client_bound"] = "ok"
    """``client_bound``: the load generator was saturated; the numbers describe the client."""
    error: str | None = None
    """Why the point failed; with status ``ok``, a warning that did not fail it (e.g. outputs
    shorter than requested although ``ignore_eos`` was asked)."""

    throughput_per_gpu: float
    """Total (input + output) tokens/s per GPU, the InferenceX headline."""
    output_throughput_per_gpu: float | None = None
    input_throughput_per_gpu: float | None = None
    interactivity: float
    """tok/s/user = 1 / median TPOT."""

    ttft: LatencyStats = LatencyStats()
    tpot: LatencyStats = LatencyStats()
    itl: LatencyStats = LatencyStats()
    e2el: LatencyStats = LatencyStats()

    measured_concurrency: float | None = None
    """Mean requests in flight over the measured window."""
    tokens_per_chunk_mean: float | None = None
    """Mean tokens per streamed chunk (> 1 when the server sends bursts, as MTP does)."""
    duration_s: float | None = None
    n_requests: int | None = None
    n_failed: int | None = None
    acceptance: AcceptanceCounts | None = None
    power_w_per_gpu: float | None = None
    """Measured average power per GPU over the window; None when it could not be read."""


class Point(Measurement, PointIdentity):
    """One benchmark point: one server config × one load level × one workload × one repeat.

    Its fields are those of :class:`PointIdentity`, then :class:`Measurement`, then
    ``provenance`` (pydantic lays out the last base's fields first).
    """

    model_config = ConfigDict(frozen=True)

    provenance: Provenance = Provenance()

    @computed_field  # type: ignore[prop-decorator]
    @property
    def point_id(self) -> str:
        """A stable id: the same measurement imported twice gets the same id."""
        key = {
            "run": self.run_id,
            "config": self.config.model_dump(mode="json"),
            "repeat": self.repeat,
        }
        blob = json.dumps(key, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:20]


class RequestRecord(BaseModel):
    """One request as the client saw it (client clock, seconds since the point's start)."""

    model_config = ConfigDict(frozen=True)

    point_id: str = ""
    index: int
    warmup: bool = False
    send_s: float
    ttft_s: float | None = None
    e2el_s: float | None = None
    end_s: float | None = None
    """When the request finished (last byte, error or timeout), relative to ``send_s``."""
    chunk_times_s: list[float] = Field(default_factory=list)
    """Arrival time of each streamed chunk that carried tokens, relative to ``send_s``."""
    chunk_tokens: list[int] = Field(default_factory=list)
    """Tokens carried by each chunk (a burst may carry several)."""
    input_tokens: int | None = None
    requested_output_tokens: int | None = None
    output_tokens: int = 0
    error: str | None = None
    draft_tokens: int | None = None
    accepted_tokens: int | None = None
    """Per-response acceptance where the engine reports it (llama.cpp ``timings``)."""
    output_text: str | None = None
    """The generated text, kept when asked (the lossless check compares spec-on with spec-off)."""
    spec_decoding: dict[str, Any] | None = None
    """Per-request spec-decoding fields as the server sent them (vLLM
    ``metrics.speculative_decoding``, SGLang ``meta_info`` ``spec_*``), keyed by where they were
    found; the engine's acceptance reader sums them over the window, and the store keeps them
    per request (their distribution over a point's requests)."""

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def tpot_s(self) -> float | None:
        """(E2EL − TTFT) / (output tokens − 1); None for a single-token or failed request."""
        if self.error or self.ttft_s is None or self.e2el_s is None or self.output_tokens < 2:
            return None
        return (self.e2el_s - self.ttft_s) / (self.output_tokens - 1)
