"""Hardware and model specs: the numbers the step model reads, each with its source.

These are types only; reading them from the catalog files lives in :mod:`specscope.catalog`.
"""

from __future__ import annotations

from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from specscope.errors import UserError
from specscope.predict.precision import COMPUTE_FALLBACK, compute_precision

TFLOPS_FIELDS: dict[str, str] = {
    "fp32": "fp32_tflops",
    "bf16": "bf16_tflops",
    "fp8": "fp8_tflops",
    "fp4": "fp4_tflops",
}

STEP_FIELDS = (
    "eta_bw",
    "eta_f",
    "step_overhead_ms",
    "layer_overhead_us",
    "token_layer_overhead_us",
    "draft_overhead_us",
)
"""Step-model constants a hardware entry may state (one set per hardware family)."""


class SourceRef(BaseModel):
    """Where one number comes from."""

    model_config = ConfigDict(frozen=True)

    urls: list[str]
    date: str
    """The date of the source version when known, else the date the number was taken."""
    note: str = ""


class HardwareSpec(BaseModel):
    """One accelerator (one GPU, one APU, or this machine's CPU). Dense rates, no sparsity."""

    model_config = ConfigDict(frozen=True)

    key: str
    name: str
    aliases: list[str] = Field(default_factory=list)
    memory_gb: float = Field(gt=0)
    """Memory per device in GB (1e9 bytes), usable where sources say so."""
    bandwidth_tb_s: float = Field(gt=0)
    """HBM / DRAM bandwidth in TB/s (1e12 bytes/s); a measured copy bandwidth for ``cpu``."""
    fp32_tflops: float | None = Field(default=None, gt=0)
    bf16_tflops: float | None = Field(default=None, gt=0)
    fp8_tflops: float | None = Field(default=None, gt=0)
    fp4_tflops: float | None = Field(default=None, gt=0)
    tdp_w: float | None = Field(default=None, gt=0)
    kw_per_gpu_all_in: float | None = Field(default=None, gt=0)
    """All-in power per device (cooling, networking, host share), as the economics presets use."""
    measured: bool = False
    """True when the numbers come from a probe on this machine rather than a datasheet."""
    eta_bw: float | None = Field(default=None, gt=0, le=1)
    """Achieved / listed bandwidth of this hardware family (step-model constant)."""
    eta_f: float | None = Field(default=None, gt=0, le=1)
    step_overhead_ms: float | None = Field(default=None, ge=0)
    """Per target step: scheduling, sampling, host."""
    layer_overhead_us: float | None = Field(default=None, ge=0)
    """Per layer per pass: the kernel floor (amortises over a verify)."""
    token_layer_overhead_us: float | None = Field(default=None, ge=0)
    """Per token per layer: routing, state update, small per-token kernels (does not)."""
    draft_overhead_us: float | None = Field(default=None, ge=0)
    """Per draft pass: the host round trip of one draft call."""
    link_bandwidth_gb_s: float | None = Field(default=None, gt=0)
    """Device-to-device link, one direction, GB/s (NVLink, xGMI, PCIe)."""
    link_latency_us: float | None = Field(default=None, ge=0)
    """One small all-reduce over that link."""
    checked_max_concurrency: float | None = Field(default=None, ge=1)
    """Highest concurrency of the public measurements the constants were checked against."""
    notes: str = ""
    sources: dict[str, SourceRef] = Field(default_factory=dict)
    """Field name → where its number comes from."""

    @property
    def has_step_constants(self) -> bool:
        """True when the entry states every step-model constant (one set per family)."""
        return all(getattr(self, f) is not None for f in STEP_FIELDS)

    @model_validator(mode="after")
    def _has_a_rate(self) -> HardwareSpec:
        if all(getattr(self, f) is None for f in TFLOPS_FIELDS.values()):
            raise ValueError("no dense compute rate: give at least one of " + _fields_text())
        return self

    def rate_tflops(self, compute: str) -> tuple[float, str]:
        """Dense TFLOP/s for a compute precision, falling back to a wider one the device lists.

        Returns the rate and the precision column actually used (differs on fallback).
        """
        for candidate in COMPUTE_FALLBACK.get(compute, (compute,)):
            value = getattr(self, TFLOPS_FIELDS[candidate])
            if value is not None:
                return float(value), candidate
        raise UserError(
            f"hardware '{self.key}' lists no dense compute rate usable for {compute}; add "
            f"{TFLOPS_FIELDS.get(compute, compute + '_tflops')} to it with --catalog FILE"
        )

    def rate_for_weights(self, precision: str) -> tuple[float, str]:
        """Dense TFLOP/s for weights stored at ``precision`` (e.g. q4_k_m runs at the BF16 rate)."""
        return self.rate_tflops(compute_precision(precision))


def _fields_text() -> str:
    return ", ".join(TFLOPS_FIELDS.values())


class ModelSpec(BaseModel):
    """Architecture numbers the step model needs.

    ``attention`` says how KV bytes per token follow from the layout: ``gqa`` (2 × KV heads ×
    head dim per attention layer), ``mla`` (latent ``kv_lora_rank`` + ``qk_rope_head_dim``), or
    ``custom`` (``kv_elements_per_token`` given directly). ``kv_extra_per_layer`` adds cached
    elements per token per attention layer (e.g. a sparse-attention indexer key).
    ``linear_state_elements`` is the fixed recurrent state per sequence of linear-attention layers
    (Gated DeltaNet), read and written once per pass.
    """

    model_config = ConfigDict(frozen=True)

    key: str
    name: str
    aliases: list[str] = Field(default_factory=list)
    params_total: float = Field(gt=0)
    params_active: float = Field(gt=0)
    n_layers: int = Field(ge=1)
    hidden_size: int | None = Field(default=None, ge=1)
    vocab_size: int | None = Field(default=None, ge=1)
    tied_embeddings: bool = False
    attention: Literal["gqa", "mla", "custom"] = "gqa"
    n_heads: int | None = Field(default=None, ge=1)
    n_kv_heads: int | None = Field(default=None, ge=1)
    head_dim: int | None = Field(default=None, ge=1)
    kv_lora_rank: int | None = Field(default=None, ge=1)
    qk_rope_head_dim: int | None = Field(default=None, ge=0)
    kv_extra_per_layer: int = Field(default=0, ge=0)
    n_attn_layers: int | None = Field(default=None, ge=0)
    """Layers that keep a KV cache; defaults to all layers."""
    sliding_window: int | None = Field(default=None, ge=1)
    n_sliding_layers: int = Field(default=0, ge=0)
    """How many of the attention layers see only the last ``sliding_window`` tokens."""
    kv_elements_per_token: float | None = Field(default=None, gt=0)
    """Total cached elements per token over all layers, for ``custom`` layouts."""
    linear_state_elements: float = Field(default=0.0, ge=0)
    n_experts: int | None = Field(default=None, ge=1)
    n_active_experts: int | None = Field(default=None, ge=1)
    n_shared_experts: int = Field(default=0, ge=0)
    moe_intermediate_size: int | None = Field(default=None, ge=1)
    expert_params: float | None = Field(default=None, gt=0)
    """Parameters of one routed expert in one layer; default 3 × hidden × moe_intermediate."""
    n_moe_layers: int | None = Field(default=None, ge=0)
    mtp_layers: int = Field(default=0, ge=0)
    mtp_params_total: float | None = Field(default=None, gt=0)
    """Parameters one MTP draft pass streams at full expert union (layer + head)."""
    mtp_params_active: float | None = Field(default=None, gt=0)
    weight_bytes: dict[str, float] = Field(default_factory=dict)
    """Measured checkpoint size in bytes per precision; overrides bytes/param × params."""
    notes: str = ""
    sources: dict[str, SourceRef] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _layout_complete(self) -> ModelSpec:
        if self.params_active > self.params_total * (1 + 1e-9):
            raise ValueError("params_active is larger than params_total")
        missing: list[str] = []
        if self.attention == "gqa":
            missing = [f for f in ("n_heads", "n_kv_heads", "head_dim") if getattr(self, f) is None]
        elif self.attention == "mla":
            missing = [
                f
                for f in ("n_heads", "kv_lora_rank", "qk_rope_head_dim")
                if getattr(self, f) is None
            ]
        elif self.kv_elements_per_token is None:
            missing = ["kv_elements_per_token"]
        if missing:
            raise ValueError(f"attention '{self.attention}' needs {', '.join(missing)}")
        if self.n_experts is not None:
            need = ["n_active_experts", "n_moe_layers"]
            missing = [f for f in need if getattr(self, f) is None]
            if self.expert_params is None and (
                self.moe_intermediate_size is None or self.hidden_size is None
            ):
                missing.append("expert_params (or moe_intermediate_size and hidden_size)")
            if missing:
                raise ValueError(f"a MoE model needs {', '.join(missing)}")
            assert self.n_active_experts is not None
            if self.n_active_experts > self.n_experts:
                raise ValueError("n_active_experts is larger than n_experts")
            if self.routed_expert_params > self.params_total:
                raise ValueError("routed experts hold more parameters than params_total")
        if self.n_sliding_layers and self.sliding_window is None:
            raise ValueError("n_sliding_layers is set but sliding_window is not")
        if self.n_sliding_layers > self.attn_layers:
            raise ValueError("n_sliding_layers is larger than the number of attention layers")
        return self

    @property
    def is_moe(self) -> bool:
        return self.n_experts is not None

    @property
    def attn_layers(self) -> int:
        return self.n_layers if self.n_attn_layers is None else self.n_attn_layers

    @property
    def expert_params_each(self) -> float:
        """Parameters of one routed expert in one layer (SwiGLU: 3 × hidden × intermediate)."""
        if self.expert_params is not None:
            return self.expert_params
        if self.moe_intermediate_size is None or self.hidden_size is None:
            return 0.0
        return 3.0 * self.hidden_size * self.moe_intermediate_size

    @property
    def routed_expert_params(self) -> float:
        """All routed-expert parameters over all MoE layers."""
        if not self.is_moe:
            return 0.0
        assert self.n_experts is not None and self.n_moe_layers is not None
        return self.n_moe_layers * self.n_experts * self.expert_params_each

    @property
    def unread_embedding_params(self) -> float:
        """Input-embedding rows a decode pass does not stream (untied embedding tables only)."""
        if self.tied_embeddings or self.vocab_size is None or self.hidden_size is None:
            return 0.0
        return float(self.vocab_size * self.hidden_size)

    @property
    def kv_elements_per_layer(self) -> float:
        """Cached elements per token in one attention layer (K and V, or the MLA latent)."""
        if self.attention == "gqa":
            assert self.n_kv_heads is not None and self.head_dim is not None
            return 2.0 * self.n_kv_heads * self.head_dim + self.kv_extra_per_layer
        if self.attention == "mla":
            assert self.kv_lora_rank is not None and self.qk_rope_head_dim is not None
            return float(self.kv_lora_rank + self.qk_rope_head_dim + self.kv_extra_per_layer)
        assert self.kv_elements_per_token is not None
        return self.kv_elements_per_token / max(self.attn_layers, 1)

    @property
    def attn_flops_per_context_token(self) -> float:
        """FLOPs per query token, per context token, per attention layer (scores + values).

        GQA: 4 × heads × head_dim. MLA (absorbed): 2 × heads × (2·latent + rope). ``custom``
        layouts have no general formula and count 0 (their attention FLOPs are left out).
        """
        if self.attention == "gqa":
            assert self.n_heads is not None and self.head_dim is not None
            return 4.0 * self.n_heads * self.head_dim
        if self.attention == "mla":
            assert self.n_heads is not None and self.kv_lora_rank is not None
            assert self.qk_rope_head_dim is not None
            return 2.0 * self.n_heads * (2 * self.kv_lora_rank + self.qk_rope_head_dim)
        return 0.0

    def weight_bytes_per_param(self, precision: str, default_bytes: float) -> float:
        """Bytes per parameter: a measured checkpoint size if catalogued, else the default."""
        measured = self.weight_bytes.get(precision)
        if measured is not None:
            return measured / self.params_total
        return default_bytes

    def mtp_head(self) -> ModelSpec:
        """The draft pass of an MTP (or EAGLE-style one-layer) head, as a one-layer model.

        Uses ``mtp_params_total``/``mtp_params_active`` when the catalog has them; otherwise one
        average decoder layer plus the LM head (vocab × hidden), noted in ``notes``.
        """
        head = float((self.vocab_size or 0) * (self.hidden_size or 0))
        layers = max(self.n_layers, 1)
        derived = self.mtp_params_total is None or self.mtp_params_active is None
        routed_layer = self.routed_expert_params / max(self.n_moe_layers or 1, 1)
        embed_and_head = head if self.tied_embeddings else 2.0 * head
        non_routed = self.params_total - self.routed_expert_params - embed_and_head
        total = self.mtp_params_total or (max(non_routed, 0.0) / layers + routed_layer + head)
        active_routed = 0.0
        if self.is_moe:
            assert self.n_active_experts is not None
            active_routed = self.n_active_experts * self.expert_params_each
        active_non_routed = self.params_active - head - active_routed * (self.n_moe_layers or 0)
        active = self.mtp_params_active or (
            max(active_non_routed, 0.0) / layers + active_routed + head
        )
        note = "derived: one average decoder layer plus the LM head" if derived else ""
        return self.model_copy(
            update={
                "key": f"{self.key}:mtp",
                "name": f"{self.name} MTP head",
                "aliases": [],
                "params_total": total,
                "params_active": min(active, total),
                "n_layers": 1,
                "n_attn_layers": 1 if self.attn_layers else 0,
                "n_sliding_layers": 0,
                "kv_elements_per_token": (
                    self.kv_elements_per_layer if self.attention == "custom" else None
                ),
                "linear_state_elements": 0.0,
                "n_moe_layers": 1 if self.is_moe else None,
                "tied_embeddings": True,
                "mtp_layers": 0,
                "mtp_params_total": None,
                "mtp_params_active": None,
                "weight_bytes": {},
                "notes": note,
            }
        )


def spec_sources(spec: HardwareSpec | ModelSpec) -> list[SourceRef]:
    """The distinct sources behind one entry, in field order."""
    seen: set[tuple[tuple[str, ...], str]] = set()
    refs: list[SourceRef] = []
    for ref in spec.sources.values():
        ident = (tuple(ref.urls), ref.date)
        if ident not in seen:
            seen.add(ident)
            refs.append(SourceRef(urls=ref.urls, date=ref.date))
    return refs


class SpecLookup(Protocol):
    """Finds hardware and model specs by key or alias (a loaded ``specscope.catalog.Catalog``)."""

    def hardware_spec(self, key: str) -> HardwareSpec: ...

    def model_spec(self, key: str) -> ModelSpec: ...
