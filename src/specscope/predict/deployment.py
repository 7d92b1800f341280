"""One hardware × model × precision × GPU count, turned into a :class:`StepModel`.

Also the memory budget: weights must fit, and what is left holds the KV cache (and recurrent
state) of the concurrent sequences, which caps the concurrency a prediction may go to.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict

from specscope.errors import UserError
from specscope.predict.precision import BYTES_PER_PARAM, compute_precision, normalise_precision
from specscope.predict.roofline import (
    DEFAULT_EFFICIENCY,
    STATE_BYTES_PER_ELEM,
    Efficiency,
    Rates,
    kv_elements_per_sequence,
)
from specscope.predict.specs import HardwareSpec, ModelSpec
from specscope.predict.step import StepModel

DRAFT_KINDS: dict[str, str] = {
    "mtp": "head",
    "nextn": "head",
    "eagle": "head",
    "eagle3": "head",
    "draft_model": "model",
    "draft-model": "model",
    "draft": "model",
    "ngram": "free",
    "n-gram": "free",
    "ngram-mod": "free",
    "ngram_mod": "free",
    "suffix": "free",
    "lookup": "free",
    "prompt_lookup": "free",
    "synthetic": "free",
}
"""How each spec method drafts: a one-layer head of the target, a separate model, or for free."""

MAX_AUTO_GPUS = 64


def hardware_efficiency(hardware: HardwareSpec) -> Efficiency | None:
    """The step-model constants a hardware entry states (one set per family), or None."""
    if not hardware.has_step_constants:
        return None
    assert hardware.eta_bw is not None and hardware.eta_f is not None
    assert hardware.step_overhead_ms is not None and hardware.layer_overhead_us is not None
    assert hardware.token_layer_overhead_us is not None
    assert hardware.draft_overhead_us is not None
    return Efficiency(
        t0_s=hardware.step_overhead_ms * 1e-3,
        eta_bw=hardware.eta_bw,
        eta_f=hardware.eta_f,
        layer_s=hardware.layer_overhead_us * 1e-6,
        token_layer_s=hardware.token_layer_overhead_us * 1e-6,
        draft_s=hardware.draft_overhead_us * 1e-6,
        ngram_s_per_seq=NGRAM_HOST_S_PER_SEQ,
    )


NGRAM_HOST_S_PER_SEQ = 20e-6
"""Host time of one n-gram/suffix match per sequence per step (assumed: a hash lookup over the
recent tokens in Python/C++, tens of microseconds)."""


def hardware_rates(hardware: HardwareSpec, tflops: float) -> Rates:
    """Listed peaks plus the link (defaults: NVLink-class 450 GB/s, 10 µs when not listed)."""
    link: dict[str, float] = {}
    if hardware.link_bandwidth_gb_s is not None:
        link["link_bandwidth_bytes_s"] = hardware.link_bandwidth_gb_s * 1e9
    if hardware.link_latency_us is not None:
        link["link_latency_s"] = hardware.link_latency_us * 1e-6
    return Rates(
        bandwidth_bytes_s=hardware.bandwidth_tb_s * 1e12, flops_per_s=tflops * 1e12, **link
    )


class Deployment(BaseModel):
    """The resolved pieces of a prediction or a calibration."""

    model_config = ConfigDict(frozen=True)

    step_model: StepModel
    hardware: HardwareSpec
    precision: str
    compute_precision: str
    """The compute column actually used (after any fallback)."""
    kv_precision: str
    spec_method: str
    draft_kind: str
    draft_model_key: str | None
    weights_gb: float
    """Resident weights over all GPUs (target plus draft), GB."""
    kv_gb_per_sequence: float
    """KV cache plus recurrent state of one sequence at the longest context, GB."""
    memory_limit_concurrency: int
    notes: list[str]


def draft_kind(spec_method: str) -> str:
    """``head``, ``model`` or ``free`` for a spec method name (``none`` → ``off``)."""
    method = spec_method.strip().lower()
    if method in ("none", "off", ""):
        return "off"
    if method not in DRAFT_KINDS:
        known = ", ".join(sorted({k for k in DRAFT_KINDS if "-" not in k}))
        raise UserError(f"unknown spec method '{spec_method}'; use one of: {known}")
    return DRAFT_KINDS[method]


def build_deployment(
    hardware: HardwareSpec,
    model: ModelSpec,
    *,
    precision: str,
    spec_method: str,
    max_context: int,
    n_gpus: int | None = None,
    kv_precision: str = "bf16",
    draft_model: ModelSpec | None = None,
    efficiency: Efficiency | None = None,
    memory_utilization: float = 0.9,
    expert_parallel: bool = False,
) -> Deployment:
    """Resolve precisions, the draft pass, the GPU count and the memory-limited concurrency."""
    prec = normalise_precision(precision)
    kv_prec = normalise_precision(kv_precision)
    notes: list[str] = []
    tflops, used = hardware.rate_for_weights(prec)
    wanted = compute_precision(prec)
    if used != wanted and not hardware.measured:
        notes.append(
            f"{hardware.key} lists no dense {wanted.upper()} rate; the {used.upper()} rate "
            f"({tflops:g} TFLOP/s) is used for {prec} weights"
        )
    b_w = model.weight_bytes_per_param(prec, BYTES_PER_PARAM[prec])
    if prec in model.weight_bytes:
        notes.append(
            f"{model.key} {prec} weights: measured checkpoint size ({b_w:.3f} bytes/param)"
        )
    kv_b = BYTES_PER_PARAM[kv_prec]

    kind = draft_kind(spec_method)
    draft: ModelSpec | None = None
    if kind == "head":
        draft = model.mtp_head()
        if model.mtp_layers == 0 and spec_method.strip().lower() in ("mtp", "nextn"):
            notes.append(
                f"{model.key} has no MTP layer in the catalog; a one-layer head is assumed"
            )
        if draft.notes:
            notes.append(f"draft head cost {draft.notes}")
    elif kind == "model":
        if draft_model is None:
            raise UserError(
                f"spec method '{spec_method}' needs a draft model: pass --draft-model KEY"
            )
        draft = draft_model
    if model.attention == "custom":
        notes.append(f"{model.key}: KV size is an estimate and attention FLOPs are not counted")

    weights = model.params_total * b_w
    if draft is not None:
        draft_b = draft.weight_bytes_per_param(prec, BYTES_PER_PARAM[prec])
        weights += draft.params_total * draft_b
    per_seq = (
        kv_elements_per_sequence(model, max_context) * kv_b
        + model.linear_state_elements * STATE_BYTES_PER_ELEM
    )
    if draft is not None and kind == "model":
        per_seq += kv_elements_per_sequence(draft, max_context) * kv_b

    def capacity(n: int) -> float:
        return n * hardware.memory_gb * 1e9 * memory_utilization

    auto = n_gpus is None
    if n_gpus is None:
        n = 1
        while capacity(n) < weights + per_seq and n < MAX_AUTO_GPUS:
            n *= 2
        n_gpus = n
        if n > 1:
            notes.append(f"--n-gpus not given: {n} GPUs is the smallest power of two that fits")
    if capacity(n_gpus) < weights + per_seq:
        raise UserError(
            _does_not_fit(model, draft, prec, weights, per_seq, n_gpus, auto, hardware, capacity)
        )
    limit = math.floor((capacity(n_gpus) - weights) / per_seq) if per_seq > 0 else 1 << 20

    eff = efficiency or hardware_efficiency(hardware)
    if eff is None:
        eff = DEFAULT_EFFICIENCY
        notes.append(
            f"{hardware.key} states no step-model constants in the catalog: assumed defaults "
            "are used (t0, per-layer, per-token and per-draft overheads, η_bw, η_f)"
        )
    sm = StepModel(
        model=model,
        rates=hardware_rates(hardware, tflops),
        bytes_per_param=b_w,
        kv_bytes_per_elem=kv_b,
        n_gpus=n_gpus,
        efficiency=eff,
        draft=draft,
        draft_bytes_per_param=(
            draft.weight_bytes_per_param(prec, BYTES_PER_PARAM[prec]) if draft else None
        ),
        expert_parallel=expert_parallel and model.is_moe and n_gpus > 1,
    )
    if expert_parallel and not (model.is_moe and n_gpus > 1):
        notes.append("expert parallelism ignored: it needs a MoE model on more than one GPU")
    return Deployment(
        step_model=sm,
        hardware=hardware,
        precision=prec,
        compute_precision=used,
        kv_precision=kv_prec,
        spec_method=spec_method.strip().lower(),
        draft_kind=kind,
        draft_model_key=draft_model.key if draft_model is not None and kind == "model" else None,
        weights_gb=weights / 1e9,
        kv_gb_per_sequence=per_seq / 1e9,
        memory_limit_concurrency=max(limit, 1),
        notes=notes,
    )


def _does_not_fit(
    model: ModelSpec,
    draft: ModelSpec | None,
    precision: str,
    weights: float,
    per_seq: float,
    n_gpus: int,
    auto: bool,
    hardware: HardwareSpec,
    capacity: Callable[[int], float],
) -> str:
    """One line: what does not fit, and the GPU count or precision that would.

    Worked: DeepSeek-V4-Pro at BF16 (3254 GB) on 64 × RTX 3090 (24 GB × 0.9 each, 1382 GB):
    the smallest power of two that holds it is 256; FP4 (≈ 814 GB) fits in 64.
    """
    need = weights + per_seq
    n = 1
    while capacity(n) < need:
        n *= 2
    tried = (
        f"{n_gpus} × {hardware.key} (the most --n-gpus tries by itself)"
        if auto
        else (f"{n_gpus} × {hardware.key}")
    )
    fixes = [f"--n-gpus {n}"]
    for lower in ("fp8", "fp4"):
        b = BYTES_PER_PARAM[lower]
        if b >= BYTES_PER_PARAM[precision]:
            continue
        lower_weights = model.params_total * model.weight_bytes_per_param(lower, b)
        if draft is not None:
            lower_weights += draft.params_total * draft.weight_bytes_per_param(lower, b)
        if capacity(n_gpus) >= lower_weights + per_seq:
            fixes.append(f"--precision {lower}")
            break
    return (
        f"{model.key} at {precision} needs {weights / 1e9:.0f} GB of weights plus "
        f"{per_seq / 1e9:.2f} GB per sequence, but {tried} holds {capacity(n_gpus) / 1e9:.0f} GB "
        f"usable; pass {' or '.join(fixes)}"
    )
