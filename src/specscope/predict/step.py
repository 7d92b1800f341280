"""Roofline model of one forward pass, a speculative step, and a closed-loop operating point.

Pure functions: numbers in, numbers out (theory reference §7).

One pass over ``batch`` sequences × ``tokens`` new tokens each, at context length ``context``:

    t_pass = t0·s + combine(bytes / (η_bw·BW), FLOPs / (η_f·F))        combine = max (or sum)

- bytes = weights streamed + KV read + recurrent state read/written. Dense weights are read once
  per pass whatever the batch; a MoE streams the non-routed part plus, per MoE layer, the expected
  union of routed experts hit by n = batch·tokens tokens under uniform independent routing,
  U(n) = N·(1 − (1 − k/N)^n). KV read = batch × per-sequence cache (shared by the new tokens).
- FLOPs = 2·active params·batch·tokens + attention (4·heads·head_dim per context token per layer
  for GQA); a prefill computes logits for its last token only.
- ``s`` scales the fixed overhead by the share of the target's layers a pass runs (1 for the
  target, 1/n_layers for a one-layer MTP head): launch overhead grows with layers launched.
- Everything is divided over ``n_gpus`` (tensor/expert parallel, perfectly balanced).

Spec step = verify pass at g + 1 tokens + g draft passes (MTP head, draft model; none for n-gram).
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from specscope.predict.catalog import ModelSpec


class Efficiency(BaseModel):
    """The three calibrated constants of the step model, plus how the two roofs combine."""

    model_config = ConfigDict(frozen=True)

    t0_s: float = Field(ge=0)
    """Fixed overhead of one full target pass, seconds (launches, sampling, scheduling)."""
    eta_bw: float = Field(gt=0)
    """Achieved / listed memory bandwidth."""
    eta_f: float = Field(gt=0)
    """Achieved / listed dense compute rate."""
    overlap: Literal["max", "sum"] = "max"
    """``max``: memory and compute overlap (roofline); ``sum``: they do not."""


DEFAULT_EFFICIENCY = Efficiency(t0_s=0.002, eta_bw=0.7, eta_f=0.5)
"""Assumed, not measured: used until a calibrated profile is given (predictions say so)."""


class Rates(BaseModel):
    """Listed peak rates of one device."""

    model_config = ConfigDict(frozen=True)

    bandwidth_bytes_s: float = Field(gt=0)
    flops_per_s: float = Field(gt=0)


class PassCost(BaseModel):
    """Work of one pass on one device (already divided over the devices)."""

    model_config = ConfigDict(frozen=True)

    weight_bytes: float
    kv_bytes: float
    state_bytes: float
    flops: float
    overhead_scale: float = 1.0

    @property
    def total_bytes(self) -> float:
        return self.weight_bytes + self.kv_bytes + self.state_bytes


def expected_experts(n_experts: int, k: int, n_tokens: float) -> float:
    """Expected distinct experts per layer hit by ``n_tokens`` tokens routing to k of N each.

    U(n) = N·(1 − (1 − k/N)^n) under uniform independent routing; U(1) = k, U → N as n grows.
    Worked (N 256, k 8): U(3) = 256·(1 − (31/32)³) = 23.26 ≈ 2.91·k.
    """
    if n_tokens <= 0:
        return 0.0
    return (
        n_experts * -math.expm1(n_tokens * math.log1p(-k / n_experts))
        if k < n_experts
        else float(n_experts)
    )


def weight_bytes(model: ModelSpec, bytes_per_param: float, n_tokens: float) -> float:
    """Bytes of weights one pass streams when ``n_tokens`` tokens (batch × tokens) go through it."""
    streamed = model.params_total - model.unread_embedding_params
    if model.is_moe:
        assert model.n_experts is not None and model.n_active_experts is not None
        assert model.n_moe_layers is not None
        union = expected_experts(model.n_experts, model.n_active_experts, n_tokens)
        streamed -= model.routed_expert_params
        streamed += model.n_moe_layers * union * model.expert_params_each
    return bytes_per_param * streamed


def _layer_contexts(model: ModelSpec, context: float) -> float:
    """Σ over attention layers of the context each one sees (sliding layers see ≤ window)."""
    n_global = model.attn_layers - model.n_sliding_layers
    window = model.sliding_window if model.sliding_window is not None else context
    return n_global * context + model.n_sliding_layers * min(context, float(window))


def kv_elements_per_sequence(model: ModelSpec, context: float) -> float:
    """Cached elements one sequence holds (and a pass reads) at this context length."""
    return model.kv_elements_per_layer * _layer_contexts(model, context)


def attention_flops(model: ModelSpec, tokens: float, context: float) -> float:
    """Attention FLOPs for ``tokens`` query tokens of one sequence at this context length."""
    return model.attn_flops_per_context_token * _layer_contexts(model, context) * tokens


def lm_head_params(model: ModelSpec) -> float:
    """Parameters of the output head (vocab × hidden), 0 when the catalog lacks the sizes."""
    return float((model.vocab_size or 0) * (model.hidden_size or 0))


def pass_flops(
    model: ModelSpec,
    batch: float,
    tokens: float,
    context: float,
    logits_tokens: float | None = None,
) -> float:
    """FLOPs of one pass: 2·active params per token (head only for tokens needing logits)."""
    logits = tokens if logits_tokens is None else logits_tokens
    head = min(lm_head_params(model), model.params_active)
    body = model.params_active - head
    return batch * (
        2.0 * body * tokens + 2.0 * head * logits + attention_flops(model, tokens, context)
    )


def pass_cost(
    model: ModelSpec,
    *,
    batch: float,
    tokens: float,
    context: float,
    bytes_per_param: float,
    kv_bytes_per_elem: float,
    n_gpus: int = 1,
    overhead_scale: float = 1.0,
    logits_tokens: float | None = None,
) -> PassCost:
    """Bytes and FLOPs of one pass, per device."""
    n = float(n_gpus)
    return PassCost(
        weight_bytes=weight_bytes(model, bytes_per_param, batch * tokens) / n,
        kv_bytes=batch * kv_elements_per_sequence(model, context) * kv_bytes_per_elem / n,
        state_bytes=2.0 * batch * model.linear_state_elements * kv_bytes_per_elem / n,
        flops=pass_flops(model, batch, tokens, context, logits_tokens) / n,
        overhead_scale=overhead_scale,
    )


def memory_time_s(cost: PassCost, rates: Rates, eff: Efficiency) -> float:
    return cost.total_bytes / (eff.eta_bw * rates.bandwidth_bytes_s)


def compute_time_s(cost: PassCost, rates: Rates, eff: Efficiency) -> float:
    return cost.flops / (eff.eta_f * rates.flops_per_s)


def roofline_time_s(cost: PassCost, rates: Rates, eff: Efficiency) -> float:
    """The pass time without the fixed overhead."""
    mem = memory_time_s(cost, rates, eff)
    comp = compute_time_s(cost, rates, eff)
    return max(mem, comp) if eff.overlap == "max" else mem + comp


def pass_time_s(cost: PassCost, rates: Rates, eff: Efficiency) -> float:
    """t0·s + combine(bytes / (η_bw·BW), FLOPs / (η_f·F))."""
    return eff.t0_s * cost.overhead_scale + roofline_time_s(cost, rates, eff)


def bound(cost: PassCost, rates: Rates, eff: Efficiency) -> Literal["memory", "compute"]:
    """Which roof the pass sits under."""
    return (
        "memory"
        if memory_time_s(cost, rates, eff) >= compute_time_s(cost, rates, eff)
        else ("compute")
    )


class StepModel(BaseModel):
    """Everything fixed for one hardware × model × precision × deployment."""

    model_config = ConfigDict(frozen=True)

    model: ModelSpec
    rates: Rates
    bytes_per_param: float = Field(gt=0)
    kv_bytes_per_elem: float = Field(gt=0)
    n_gpus: int = Field(default=1, ge=1)
    efficiency: Efficiency = DEFAULT_EFFICIENCY
    draft: ModelSpec | None = None
    """The draft pass as a model (MTP head, draft model); None for n-gram (free drafting)."""
    draft_bytes_per_param: float | None = None

    def with_efficiency(self, efficiency: Efficiency) -> StepModel:
        return self.model_copy(update={"efficiency": efficiency})

    def target_cost(self, batch: float, tokens: float, context: float) -> PassCost:
        return pass_cost(
            self.model,
            batch=batch,
            tokens=tokens,
            context=context,
            bytes_per_param=self.bytes_per_param,
            kv_bytes_per_elem=self.kv_bytes_per_elem,
            n_gpus=self.n_gpus,
        )

    def target_time_s(self, batch: float, tokens: float, context: float) -> float:
        return pass_time_s(self.target_cost(batch, tokens, context), self.rates, self.efficiency)

    def draft_time_s(self, batch: float, context: float) -> float:
        """One draft pass (one token per sequence); 0 for drafting that needs no model."""
        if self.draft is None:
            return 0.0
        cost = pass_cost(
            self.draft,
            batch=batch,
            tokens=1.0,
            context=context,
            bytes_per_param=self.draft_bytes_per_param or self.bytes_per_param,
            kv_bytes_per_elem=self.kv_bytes_per_elem,
            n_gpus=self.n_gpus,
            overhead_scale=self.draft.n_layers / self.model.n_layers,
        )
        return pass_time_s(cost, self.rates, self.efficiency)

    def off_step_s(self, batch: float, context: float) -> float:
        """A plain decode step: one target pass at one token per sequence."""
        return self.target_time_s(batch, 1.0, context)

    def spec_step_s(
        self, batch: float, depth: int, context: float, verify_tokens: float | None = None
    ) -> float:
        """Verify pass over ``verify_tokens`` (default g + 1) tokens plus g draft passes."""
        tokens = float(depth + 1) if verify_tokens is None else verify_tokens
        return self.target_time_s(batch, tokens, context) + depth * self.draft_time_s(
            batch, context
        )

    def step_bound(
        self, batch: float, tokens: float, context: float
    ) -> Literal["memory", "compute"]:
        return bound(self.target_cost(batch, tokens, context), self.rates, self.efficiency)

    def prefill_cost(self, isl: int) -> PassCost:
        return pass_cost(
            self.model,
            batch=1.0,
            tokens=float(isl),
            context=isl / 2.0,
            bytes_per_param=self.bytes_per_param,
            kv_bytes_per_elem=self.kv_bytes_per_elem,
            n_gpus=self.n_gpus,
            logits_tokens=1.0,
        )

    def prefill_interference_s(self, isl: int) -> float:
        """Compute time one request's prefill adds to the decode steps it is batched with."""
        if isl <= 0:
            return 0.0
        return compute_time_s(self.prefill_cost(isl), self.rates, self.efficiency)

    def ttft_s(self, isl: int) -> float:
        """Unloaded time to first token: one prefill pass of the prompt."""
        if isl <= 0:
            return self.efficiency.t0_s
        return pass_time_s(self.prefill_cost(isl), self.rates, self.efficiency)


class OperatingPoint(BaseModel):
    """Predicted closed-loop steady state at one concurrency."""

    model_config = ConfigDict(frozen=True)

    concurrency: int
    draft_depth: int
    acceptance_length: float
    step_time_s: float
    """One decode step (off) or one draft + verify step (spec)."""
    tpot_s: float
    ttft_s: float
    interactivity: float
    """tok/s/user = 1 / TPOT."""
    output_throughput_per_gpu: float
    input_throughput_per_gpu: float
    throughput_per_gpu: float
    """Input + output tokens/s per GPU (the InferenceX headline)."""
    bound: Literal["memory", "compute"]


def operating_point(
    sm: StepModel,
    *,
    concurrency: int,
    isl: int,
    osl: int,
    depth: int = 0,
    acceptance_length: float = 1.0,
    verify_tokens: float | None = None,
) -> OperatingPoint:
    """Closed loop with ``concurrency`` requests always in flight, each isl in / osl out.

    Decode of one request takes (osl − 1)/AL steps; the other concurrency − 1 slots each start a
    new request meanwhile, and their prefills' compute stalls those steps. So
    TPOT = ((osl − 1)/AL · t_step + (C − 1) · t_prefill) / (osl − 1), and each slot finishes a
    request every TTFT + (osl − 1)·TPOT.
    """
    context = isl + osl / 2.0
    al = acceptance_length if depth > 0 else 1.0
    if depth > 0:
        step = sm.spec_step_s(concurrency, depth, context, verify_tokens)
        tokens = float(depth + 1) if verify_tokens is None else verify_tokens
    else:
        step = sm.off_step_s(concurrency, context)
        tokens = 1.0
    decode_tokens = max(osl - 1, 1)
    decode_s = decode_tokens / al * step + (concurrency - 1) * sm.prefill_interference_s(isl)
    tpot = decode_s / decode_tokens
    ttft = sm.ttft_s(isl)
    lifetime = ttft + decode_s
    per_gpu = concurrency / lifetime / sm.n_gpus
    return OperatingPoint(
        concurrency=concurrency,
        draft_depth=depth,
        acceptance_length=al,
        step_time_s=step,
        tpot_s=tpot,
        ttft_s=ttft,
        interactivity=1.0 / tpot,
        output_throughput_per_gpu=per_gpu * osl,
        input_throughput_per_gpu=per_gpu * isl,
        throughput_per_gpu=per_gpu * (isl + osl),
        bound=sm.step_bound(concurrency, tokens, context),
    )
