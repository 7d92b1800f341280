"""A speculative step and a closed-loop operating point, from roofline passes.

Pure functions: numbers in, numbers out (theory reference §7). One pass is priced by
:mod:`specscope.predict.roofline`.

Spec step = verify pass at g + 1 tokens + g draft passes: an MTP or EAGLE head is one layer plus
the LM head (its own roofline pass), a draft model is its own full pass, n-gram drafting is host
time per sequence.

Sanity gates (:func:`check_step`, :func:`check_roofline`): a per-step speedup above g + 1 at the
same batch, or a step faster than the ideal roofline of its bytes and FLOPs, is a bug in the
model and raises :class:`ModelInvariantError` with one line.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from specscope.predict.roofline import (
    DEFAULT_EFFICIENCY,
    STATE_BYTES_PER_ELEM,
    Efficiency,
    PassCost,
    Rates,
    bound,
    compute_time_s,
    ideal_time_s,
    pass_cost,
    pass_time_s,
)
from specscope.predict.specs import ModelSpec


class ModelInvariantError(RuntimeError):
    """The step model produced something physics forbids: a bug, never a user mistake."""


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
    """The draft pass as a model (MTP/EAGLE head, draft model); None for n-gram (host drafting)."""
    draft_bytes_per_param: float | None = None
    state_bytes_per_elem: float = Field(default=STATE_BYTES_PER_ELEM, gt=0)
    expert_parallel: bool = False
    """MoE experts spread over the devices (EP): all-to-all per MoE layer instead of an
    all-reduce (:func:`alltoall_per_call_bytes`)."""

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
            state_bytes_per_elem=self.state_bytes_per_elem,
            expert_parallel=self.expert_parallel,
        )

    def target_time_s(self, batch: float, tokens: float, context: float) -> float:
        return pass_time_s(self.target_cost(batch, tokens, context), self.rates, self.efficiency)

    def draft_cost(self, batch: float, context: float) -> PassCost | None:
        """One draft pass (one token per sequence): a head's one layer + LM head, or a model."""
        if self.draft is None:
            return None
        return pass_cost(
            self.draft,
            batch=batch,
            tokens=1.0,
            context=context,
            bytes_per_param=self.draft_bytes_per_param or self.bytes_per_param,
            kv_bytes_per_elem=self.kv_bytes_per_elem,
            n_gpus=self.n_gpus,
            overhead_scale=0.0,
            state_bytes_per_elem=self.state_bytes_per_elem,
            draft_calls=1.0,
        )

    def draft_time_s(self, batch: float, context: float) -> float:
        """One draft pass; for n-gram drafting, the host time of one step's matching."""
        cost = self.draft_cost(batch, context)
        if cost is None:
            return self.efficiency.ngram_s_per_seq * batch
        return pass_time_s(cost, self.rates, self.efficiency)

    def off_step_s(self, batch: float, context: float) -> float:
        """A plain decode step: one target pass at one token per sequence."""
        return self.target_time_s(batch, 1.0, context)

    def draft_passes(self, depth: int) -> int:
        """Draft passes per step: g chained head/model passes; one host match for n-gram."""
        return depth if self.draft is not None else 1

    def spec_step_s(
        self, batch: float, depth: int, context: float, verify_tokens: float | None = None
    ) -> float:
        """Verify pass over ``verify_tokens`` (default g + 1) tokens plus the draft passes."""
        tokens = float(depth + 1) if verify_tokens is None else verify_tokens
        return self.target_time_s(batch, tokens, context) + self.draft_passes(
            depth
        ) * self.draft_time_s(batch, context)

    def ideal_step_s(
        self, batch: float, depth: int, context: float, verify_tokens: float | None = None
    ) -> float:
        """The hardware roofline of a whole step (η = 1, no overhead, no communication)."""
        if depth == 0:
            return ideal_time_s(self.target_cost(batch, 1.0, context), self.rates)
        tokens = float(depth + 1) if verify_tokens is None else verify_tokens
        ideal = ideal_time_s(self.target_cost(batch, tokens, context), self.rates)
        draft = self.draft_cost(batch, context)
        if draft is not None:
            ideal += depth * ideal_time_s(draft, self.rates)
        return ideal

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
            state_bytes_per_elem=self.state_bytes_per_elem,
            expert_parallel=self.expert_parallel,
        )

    def prefill_interference_s(self, isl: int) -> float:
        """Compute time one request's prefill adds to the decode steps it is batched with."""
        if isl <= 0:
            return 0.0
        return compute_time_s(self.prefill_cost(isl), self.rates, self.efficiency)

    def ttft_s(self, isl: int) -> float:
        """Unloaded time to first token: one prefill pass of the prompt (overheads once)."""
        if isl <= 0:
            return self.efficiency.t0_s
        cost = self.prefill_cost(isl).model_copy(update={"tokens": 1.0})
        return pass_time_s(cost, self.rates, self.efficiency)


def check_step(
    sm: StepModel, *, batch: float, depth: int, acceptance_length: float, context: float
) -> float:
    """The per-step speedup S = AL · t_off / t_spec at one batch; raise if S > g + 1.

    A step that emits AL ≤ g + 1 tokens and costs at least a plain step cannot beat Off by more
    than g + 1 at the same batch; a larger S means the step model lost a term.
    """
    off = sm.off_step_s(batch, context)
    spec = sm.spec_step_s(batch, depth, context)
    s = acceptance_length * off / spec
    if s > depth + 1 + 1e-9 or spec < off * (1 - 1e-9):
        raise ModelInvariantError(
            f"step model bug: {sm.model.key} at batch {batch:g}, g = {depth}: per-step speedup "
            f"{s:.3f} (spec step {spec * 1e3:.3f} ms vs off {off * 1e3:.3f} ms) exceeds g + 1 "
            f"= {depth + 1} or the spec step is cheaper than a plain one"
        )
    return s


def check_roofline(
    sm: StepModel,
    *,
    step_s: float,
    batch: float,
    depth: int,
    context: float,
    verify_tokens: float | None = None,
) -> None:
    """Raise if a step is faster than the hardware roofline of its own bytes and FLOPs."""
    ideal = sm.ideal_step_s(batch, depth, context, verify_tokens)
    if step_s < ideal * (1 - 1e-9):
        raise ModelInvariantError(
            f"step model bug: {sm.model.key} at batch {batch:g}, g = {depth}: step "
            f"{step_s * 1e3:.4f} ms is under the hardware roofline {ideal * 1e3:.4f} ms "
            "(efficiencies above 1?)"
        )


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
    check_roofline(
        sm,
        step_s=step,
        batch=concurrency,
        depth=depth,
        context=context,
        verify_tokens=verify_tokens,
    )
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
