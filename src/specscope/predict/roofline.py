"""Roofline cost of one forward pass: bytes, FLOPs, overheads and communication, timed.

Pure functions: numbers in, numbers out (theory reference §7).

One pass over ``batch`` sequences × ``tokens`` new tokens each, at context length ``context``,
running ``L`` layers on ``n = batch·tokens`` tokens:

    t_pass = t0·s + L·t_layer + n·L·t_token + combine(bytes / (η_bw·BW), FLOPs / (η_f·F)) + comm

- ``t0`` (per target step: scheduler, sampling, host) and ``t_layer`` (the kernel floor of one
  layer: launches, tiny GEMMs, norms) are paid once per pass and amortise over a verify batch;
  ``t_token`` (per token per layer: MoE routing, top-k, permute/unpermute, recurrent-state
  update, the part of attention no roof sees) does not: a 4-token verify pays it four times.
- comm: tensor parallelism all-reduces the hidden state twice per layer,
  2 × L × (latency + 2(n_gpu − 1)/n_gpu · n · hidden · 2 B / link bandwidth).
  With expert parallelism (EP over the same n_gpu devices) each MoE layer's all-reduce is
  replaced by an all-to-all pair (dispatch + combine): every token leaves its home device once
  for each of its k experts, (n_gpu − 1)/n_gpu of them remote, so per device and per call
  (n/n_gpu) · k · (n_gpu − 1)/n_gpu · hidden · 2 B cross the link, plus one latency per call:
  2 × L_moe × (latency + that / link bandwidth); it grows with the tokens of the step.
- bytes = weights streamed + KV read + recurrent state read once and written once per token
  (a verify keeps the state after every drafted token to roll back to; float32 by default).
  Dense weights are read once per pass whatever the batch; a MoE streams the non-routed part
  plus, per MoE layer, the expected union of routed experts hit by n = batch·tokens tokens
  under uniform independent routing,
  U(n) = N·(1 − (1 − k/N)^n). KV read = batch × per-sequence cache (shared by the new tokens).
- FLOPs = 2·active params·batch·tokens + attention (4·heads·head_dim per context token per layer
  for GQA); a prefill computes logits for its last token only.
- ``s`` is 1 for a target pass and 0 for a draft pass, which pays ``t_draft`` (the host
  round trip of one draft call) instead: a draft pass costs what it is, never t0/n_layers.
- Weights, KV and FLOPs are divided over ``n_gpus``; per-token and per-layer overheads are not
  (every tensor-parallel rank runs every layer on every token).
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from specscope.predict.specs import ModelSpec


class Efficiency(BaseModel):
    """The constants of the step model, plus how the two roofs combine.

    ``t0_s``, ``eta_bw`` and ``eta_f`` are what calibration fits; the per-layer, per-token and
    per-draft overheads come from the hardware catalog (one set per hardware family).
    """

    model_config = ConfigDict(frozen=True)

    t0_s: float = Field(ge=0)
    """Fixed overhead of one target step, seconds (scheduling, sampling, host)."""
    eta_bw: float = Field(gt=0)
    """Achieved / listed memory bandwidth."""
    eta_f: float = Field(gt=0)
    """Achieved / listed dense compute rate."""
    overlap: Literal["max", "sum"] = "max"
    """``max``: memory and compute overlap (roofline); ``sum``: they do not."""
    layer_s: float = Field(default=0.0, ge=0)
    """Per layer per pass: the kernel floor (amortises over the tokens of a pass)."""
    token_layer_s: float = Field(default=0.0, ge=0)
    """Per token per layer: routing, state updates, small kernels that scale with tokens."""
    draft_s: float = Field(default=0.0, ge=0)
    """Per draft pass: the host round trip of one draft call (sync, sampling)."""
    ngram_s_per_seq: float = Field(default=0.0, ge=0)
    """Host time of n-gram drafting per sequence per step."""


DEFAULT_EFFICIENCY = Efficiency(
    t0_s=0.002, eta_bw=0.7, eta_f=0.5, layer_s=20e-6, token_layer_s=1e-6, draft_s=100e-6
)
"""Assumed, not measured: used for hardware whose catalog entry gives no constants and until a
calibrated profile is given (predictions say so)."""

STATE_BYTES_PER_ELEM = 4.0
"""Recurrent (Gated DeltaNet) state is kept in float32: llama.cpp's recurrent memory allocates
its state tensors as F32, and vLLM keeps the Qwen3-Next/3.5 SSM state in float32."""


class Rates(BaseModel):
    """Listed peak rates of one device, and its link to the others."""

    model_config = ConfigDict(frozen=True)

    bandwidth_bytes_s: float = Field(gt=0)
    flops_per_s: float = Field(gt=0)
    link_bandwidth_bytes_s: float = Field(default=450e9, gt=0)
    """One direction, per device (NVLink, xGMI or PCIe)."""
    link_latency_s: float = Field(default=10e-6, ge=0)
    """One small all-reduce."""


class PassCost(BaseModel):
    """Work of one pass on one device (already divided over the devices)."""

    model_config = ConfigDict(frozen=True)

    weight_bytes: float
    kv_bytes: float
    state_bytes: float
    flops: float
    overhead_scale: float = 1.0
    layers: float = 0.0
    """Layers the pass runs (for the per-layer and per-token overheads)."""
    tokens: float = 0.0
    """Tokens in the pass over all sequences (batch × tokens each)."""
    allreduce_calls: float = 0.0
    allreduce_bytes: float = 0.0
    """Bytes each device moves over its link for the pass's all-reduces."""
    alltoall_calls: float = 0.0
    alltoall_bytes: float = 0.0
    """Bytes each device sends over its link for the pass's expert-parallel all-to-alls."""
    draft_calls: float = 0.0
    """Draft calls this pass stands for (each pays ``Efficiency.draft_s``)."""

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
    state_bytes_per_elem: float = STATE_BYTES_PER_ELEM,
    draft_calls: float = 0.0,
    expert_parallel: bool = False,
) -> PassCost:
    """Bytes and FLOPs of one pass, per device, and what its overheads scale with.

    Recurrent state: read once, written once per token (T states kept for a verify to roll
    back to). All-reduces: two per layer under tensor parallelism, each moving
    2(n − 1)/n × tokens × hidden × 2 bytes (BF16 activations) per device. Expert parallelism
    (:func:`alltoall_per_call_bytes`) swaps each MoE layer's all-reduce for a dispatch and a
    combine all-to-all.
    """
    n = float(n_gpus)
    n_tok = batch * tokens
    calls = 2.0 * model.n_layers if n_gpus > 1 else 0.0
    per_call = 2.0 * (n - 1.0) / n * n_tok * float(model.hidden_size or 0) * 2.0
    a2a_calls = 0.0
    a2a_bytes = 0.0
    if expert_parallel and n_gpus > 1 and model.is_moe:
        moe_layers = float(model.n_moe_layers or 0)
        calls -= moe_layers
        a2a_calls = 2.0 * moe_layers
        a2a_bytes = a2a_calls * alltoall_per_call_bytes(model, n_tok, n_gpus)
    return PassCost(
        weight_bytes=weight_bytes(model, bytes_per_param, n_tok) / n,
        kv_bytes=batch * kv_elements_per_sequence(model, context) * kv_bytes_per_elem / n,
        state_bytes=(1.0 + tokens) * batch * model.linear_state_elements * state_bytes_per_elem / n,
        flops=pass_flops(model, batch, tokens, context, logits_tokens) / n,
        overhead_scale=overhead_scale,
        layers=float(model.n_layers),
        tokens=n_tok,
        allreduce_calls=calls,
        allreduce_bytes=calls * per_call,
        alltoall_calls=a2a_calls,
        alltoall_bytes=a2a_bytes,
        draft_calls=draft_calls,
    )


ALLTOALL_BYTES_PER_ELEM = 2.0
"""Dispatched and combined hidden states in BF16 (an FP8 dispatch would halve the dispatch)."""


def alltoall_per_call_bytes(model: ModelSpec, n_tokens: float, n_gpus: int) -> float:
    """Bytes one device sends in one EP all-to-all (a dispatch or a combine) of one MoE layer.

    Each device is home to n_tokens / n_gpus tokens; each goes to its k experts, of which
    (n_gpus − 1)/n_gpus live elsewhere under uniform placement.
    Worked (hidden 4096, k 10, 8 GPUs, 64 tokens): 8 · 10 · 7/8 · 4096 · 2 B = 573 440 B.
    """
    if n_gpus <= 1 or not model.is_moe:
        return 0.0
    n = float(n_gpus)
    k = float(model.n_active_experts or 0)
    return (
        n_tokens / n * k * (n - 1.0) / n * float(model.hidden_size or 0) * ALLTOALL_BYTES_PER_ELEM
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


def overhead_time_s(cost: PassCost, eff: Efficiency) -> float:
    """t0·s + L·t_layer + n·L·t_token + draft calls · t_draft."""
    return (
        eff.t0_s * cost.overhead_scale
        + cost.layers * eff.layer_s
        + cost.tokens * cost.layers * eff.token_layer_s
        + cost.draft_calls * eff.draft_s
    )


def comm_time_s(cost: PassCost, rates: Rates) -> float:
    """All-reduce and all-to-all latency per call plus bytes over the link bandwidth."""
    calls = cost.allreduce_calls + cost.alltoall_calls
    if calls <= 0:
        return 0.0
    return (
        calls * rates.link_latency_s
        + (cost.allreduce_bytes + cost.alltoall_bytes) / rates.link_bandwidth_bytes_s
    )


def pass_time_s(cost: PassCost, rates: Rates, eff: Efficiency) -> float:
    """Overheads + combine(bytes / (η_bw·BW), FLOPs / (η_f·F)) + communication."""
    return overhead_time_s(cost, eff) + roofline_time_s(cost, rates, eff) + comm_time_s(cost, rates)


def ideal_time_s(cost: PassCost, rates: Rates) -> float:
    """The hardware roofline of a pass: its bytes and FLOPs at the listed peaks, no overhead."""
    return max(cost.total_bytes / rates.bandwidth_bytes_s, cost.flops / rates.flops_per_s)


def bound(cost: PassCost, rates: Rates, eff: Efficiency) -> Literal["memory", "compute"]:
    """Which roof the pass sits under."""
    return (
        "memory"
        if memory_time_s(cost, rates, eff) >= compute_time_s(cost, rates, eff)
        else ("compute")
    )
