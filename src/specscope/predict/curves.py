"""Predicted Off and spec curves over concurrency, and what they say.

For one hardware × model × precision × workload (isl/osl) the step model is evaluated at every
concurrency from 1 to the memory limit (capped), for Off and each draft depth g:

- curves: throughput/GPU vs interactivity at C = 1, 2, 4, … and the limit, also as
  :class:`~specscope.schema.Point` records (provenance ``predicted``, engine ``predicted``) that
  ``compare`` and ``report`` take like measured series;
- speedup at the same concurrency, S_g(C) = spec / off rate, and where it drops below 1;
- the best g per concurrency (0 = off) as a draft-length schedule;
- c_eff(C, g) = (t_spec / t_off − 1) / g, the effective draft cost ratio the model implies
  (equal to (AL / S − 1) / g at step level);
- the matched-interactivity gain (theory reference §7): at a target X, the most concurrency each
  side sustains with interactivity ≥ X, and the ratio of their throughputs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from specscope.analysis.economics import resolve_economics, tok_s_per_mw, usd_per_mtok
from specscope.analysis.results import Economics
from specscope.errors import UserError
from specscope.predict.acceptance import AcceptanceCurve
from specscope.predict.catalog import (
    Catalog,
    HardwareSpec,
    ModelSpec,
    SourceRef,
    load_catalog,
    spec_sources,
)
from specscope.predict.deployment import build_deployment
from specscope.predict.profile import CalibratedProfile
from specscope.predict.step import Efficiency, OperatingPoint, check_step, operating_point
from specscope.schema import OFF, AcceptanceCounts, LatencyStats, Point, PointConfig, Provenance
from specscope.tie import beats

DEFAULT_CONCURRENCY_CAP = 1024
MAX_CONCURRENCY_LIMIT = 16384
"""Every concurrency up to the limit is evaluated; this keeps a prediction within seconds."""
PREDICTED_ENGINE = "predicted"


class PredictRequest(BaseModel):
    """What to predict (the CLI's flags, typed)."""

    model_config = ConfigDict(frozen=True)

    hardware: str
    model: str
    precision: str
    spec_method: str = "mtp"
    gammas: list[int]
    acceptance: AcceptanceCurve
    isl: int = Field(ge=1)
    osl: int = Field(ge=2)
    n_gpus: int | None = Field(default=None, ge=1)
    kv_precision: str = "bf16"
    draft_model: str | None = None
    """Catalog key of the draft model, for ``--spec draft_model``."""
    max_concurrency: int | None = Field(default=None, ge=1, le=MAX_CONCURRENCY_LIMIT)
    memory_utilization: float = Field(default=0.9, gt=0, le=1)
    targets: list[float] = Field(default_factory=list)
    """Interactivity targets (tok/s/user) for the matched gain; empty → 25/50/75 % of the band."""
    economics_preset: str = "auto"
    engine: str = "vllm"
    """Whose scheduler limits apply (see :data:`ENGINE_LIMITS`): vllm, sglang, trtllm, none."""
    max_running_requests: int | None = Field(default=None, ge=1)
    """The engine's cap on running requests (vLLM --max-num-seqs, SGLang
    --max-running-requests); default: the engine's own default."""
    max_batched_tokens: int | None = Field(default=None, ge=1)
    """The engine's cap on tokens per step (vLLM --max-num-batched-tokens); a spec step at
    concurrency C schedules C·(g + 1) tokens."""
    expert_parallel: bool = False
    """MoE experts spread over the GPUs (vLLM --enable-expert-parallel, SGLang --ep-size):
    each MoE layer pays a dispatch and a combine all-to-all instead of an all-reduce."""


class EngineLimits(BaseModel):
    """An engine's default caps on one deployment's decode batch (as its own source sets them)."""

    model_config = ConfigDict(frozen=True)

    max_running_off: int | None
    max_running_spec: int | None
    max_batched_tokens: int | None
    source: str
    small_gpu_running: int | None = None
    """The running-request cap on a device below the engine's large-GPU threshold (vLLM)."""
    small_gpu_batched_tokens: int | None = None


ENGINE_LIMITS: dict[str, EngineLimits] = {
    "vllm": EngineLimits(
        max_running_off=1024,
        max_running_spec=1024,
        max_batched_tokens=8192,
        small_gpu_running=256,
        small_gpu_batched_tokens=2048,
        source=(
            "vLLM EngineArgs._set_default_args (vllm/engine/arg_utils.py, "
            "vllm-project/vllm@99d7eb5d, v0.11 series; the same table in get_batch_defaults of "
            "later trees): for the OpenAI API server max_num_seqs 1024 and "
            "max_num_batched_tokens 8192 when the device has >= 70 GiB and its name does not "
            "contain 'a100', else 256 and 2048 (the offline LLM class gets 16384 / 8192 tokens); "
            "speculative decoding does not change them, and each running request schedules "
            "1 + num_speculative_tokens tokens against max_num_batched_tokens"
        ),
    ),
    "sglang": EngineLimits(
        max_running_off=2048,
        max_running_spec=48,
        max_batched_tokens=None,
        source=(
            "SGLang ServerArgs._handle_speculative_decoding (python/sglang/srt/server_args.py; "
            "arg_groups/speculative_hook.py in trees from sgl-project/sglang@004c82e0): "
            "EAGLE, EAGLE3, STANDALONE and NEXTN/MTP (an alias of EAGLE) set "
            "max_running_requests to 48 when it is not given ('Max running requests is reset "
            "to 48 for speculative decoding'); without speculation the model runner sizes it "
            "as clamp(KV tokens / context_len × 512, 2048, 4096), at most KV tokens / 2 "
            "(hybrid linear-attention models also by --max-mamba-cache-size): 2048 is the floor"
        ),
    ),
    "trtllm": EngineLimits(
        max_running_off=2048,
        max_running_spec=2048,
        max_batched_tokens=8192,
        source=(
            "TensorRT-LLM BuildConfig (tensorrt_llm/builder.py, NVIDIA/TensorRT-LLM@008b2b8d) "
            "and BaseLlmArgs (tensorrt_llm/llmapi/llm_args.py): max_batch_size 2048, "
            "max_num_tokens 8192; trtllm-serve takes the BuildConfig defaults "
            "(tensorrt_llm/commands/serve.py@00209af1); the PyTorch backend captures CUDA graphs "
            "only up to batch 128 by default (CudaGraphConfig.max_batch_size), larger batches run "
            "eagerly"
        ),
    ),
    "none": EngineLimits(
        max_running_off=None, max_running_spec=None, max_batched_tokens=None, source="KV only"
    ),
}
"""Default caps per engine; a request's own ``max_running_requests``/``max_batched_tokens``
override them."""

VLLM_LARGE_GPU_BYTES = 70 * 2**30
"""vLLM's threshold for its larger defaults: 70 GiB of device memory (and not an A100)."""


def vllm_small_gpu(hw: HardwareSpec) -> bool:
    """Whether vLLM would pick its small-device defaults (256 sequences, 2048 batched tokens).

    Worked: H100 80 GB (74.5 GiB) → large; A100 80 GB → small (excluded by name);
    RTX 3090 24 GB → small.
    """
    names = f"{hw.key} {hw.name}".lower()
    return hw.memory_gb * 1e9 < VLLM_LARGE_GPU_BYTES or "a100" in names


class CurvePoint(BaseModel):
    """One predicted operating point with its economics."""

    model_config = ConfigDict(frozen=True)

    concurrency: int
    interactivity: float
    throughput_per_gpu: float
    output_throughput_per_gpu: float
    tpot_s: float
    ttft_s: float
    step_time_s: float
    acceptance_length: float
    speedup_vs_off: float
    """Spec / off decode rate at the same concurrency (1 for Off)."""
    bound: Literal["memory", "compute"]
    usd_per_mtok: float | None = None
    tok_s_per_mw: float | None = None
    extrapolated: bool = False
    """Outside the calibrated range (always False without a profile: nothing was calibrated)."""


class PredictedCurve(BaseModel):
    """Off (draft_depth 0) or one spec depth."""

    model_config = ConfigDict(frozen=True)

    label: str
    spec_method: str
    draft_depth: int
    acceptance_length: float
    points: list[CurvePoint]


class StopPaying(BaseModel):
    """Where speculation stops beating Off at the same concurrency."""

    model_config = ConfigDict(frozen=True)

    draft_depth: int
    """0 stands for the best depth at each concurrency."""
    concurrency: int | None
    """First concurrency with S < 1 (after ties); None when spec pays up to the limit."""
    pays_at_concurrency_1: bool
    pays_again_at: int | None = None
    """MoE verify cost saturates with the expert union, so S(C) can recover later."""


class ScheduleRange(BaseModel):
    """A run of concurrencies sharing one best draft depth."""

    model_config = ConfigDict(frozen=True)

    concurrency_from: int
    concurrency_to: int
    best_draft_depth: int
    """0 = spec off."""
    speedup_vs_off: float
    """At ``concurrency_from``."""


class CEff(BaseModel):
    """Effective draft cost ratio the model implies at one concurrency and depth."""

    model_config = ConfigDict(frozen=True)

    concurrency: int
    draft_depth: int
    c_eff: float
    speedup_vs_off: float
    acceptance_length: float


class MatchedGain(BaseModel):
    """Spec vs Off at one target interactivity (each at its highest sustainable concurrency)."""

    model_config = ConfigDict(frozen=True)

    draft_depth: int
    interactivity: float
    off_concurrency: int | None
    spec_concurrency: int | None
    off_throughput_per_gpu: float | None
    spec_throughput_per_gpu: float | None
    gain: float | None
    """spec / off throughput per GPU; None when either side cannot reach the target."""
    note: str = ""


class Prediction(BaseModel):
    """The whole answer of ``specscope predict``: curves, summary, provenance and caveats."""

    model_config = ConfigDict(frozen=True)

    label: Literal["predicted"] = "predicted"
    request: PredictRequest
    hardware: HardwareSpec
    model: ModelSpec
    precision: str
    compute_precision: str
    n_gpus: int
    weights_gb: float
    kv_gb_per_sequence: float
    memory_limit_concurrency: int
    max_concurrency: int
    efficiency: Efficiency
    calibrated: bool
    profile_created: str | None = None
    acceptance: str
    curves: list[PredictedCurve]
    stop_paying: list[StopPaying]
    schedule: list[ScheduleRange]
    c_eff: list[CEff]
    matched: list[MatchedGain]
    economics: Economics | None = None
    sources: list[SourceRef]
    warnings: list[str]
    points: list[Point]


def _grid(limit: int) -> list[int]:
    """C = 1, 2, 4, … up to the limit, with the limit itself."""
    values: list[int] = []
    c = 1
    while c < limit:
        values.append(c)
        c *= 2
    values.append(limit)
    return values


def _run_id(request: PredictRequest) -> str:
    blob = json.dumps(request.model_dump(mode="json"), sort_keys=True)
    return "predicted-" + hashlib.sha256(blob.encode()).hexdigest()[:12]


def _resolve_hardware(
    request: PredictRequest, catalog: Catalog, profile: CalibratedProfile | None
) -> tuple[HardwareSpec, list[str]]:
    if profile is not None:
        wanted = request.hardware.strip().lower()
        names = {profile.hardware.key, *(a.lower() for a in profile.hardware.aliases)}
        if wanted in names:
            return profile.hardware, []
        hw = catalog.hardware_spec(request.hardware)
        return hw, [
            f"the profile was calibrated on {profile.hardware.key}, not {hw.key}: its "
            "efficiencies are applied to a different device, a guess"
        ]
    return catalog.hardware_spec(request.hardware), []


def predict(
    request: PredictRequest,
    *,
    catalog: Catalog | None = None,
    profile: CalibratedProfile | None = None,
    efficiency: Efficiency | None = None,
) -> Prediction:
    """Predicted Off and spec curves for one request; see the module docstring."""
    cat = catalog or load_catalog()
    hw, warnings = _resolve_hardware(request, cat, profile)
    model = cat.model_spec(request.model)
    draft = cat.model_spec(request.draft_model) if request.draft_model else None
    eff_in = efficiency or (profile.efficiency if profile else None)
    if request.spec_method.strip().lower() in ("none", "off"):
        raise UserError(
            "--spec must name a spec method (mtp, eagle3, draft_model, ngram); "
            "Off is always predicted alongside it"
        )
    dep = build_deployment(
        hw,
        model,
        precision=request.precision,
        spec_method=request.spec_method,
        max_context=request.isl + request.osl,
        n_gpus=request.n_gpus,
        kv_precision=request.kv_precision,
        draft_model=draft,
        efficiency=eff_in,
        memory_utilization=request.memory_utilization,
        expert_parallel=request.expert_parallel,
    )
    warnings.extend(dep.notes)
    if dep.draft_kind == "free" and dep.spec_method != "synthetic":
        warnings.append(
            f"{dep.spec_method} drafts only when it finds a match: each step here drafts g tokens "
            "and emits AL; an engine's AL (1 + accepted / drafts) skips the steps without a "
            "draft and overstates tokens per step (--calibrate on a measured run shows both)"
        )
    sm = dep.step_model
    eff = sm.efficiency
    gammas = sorted(set(request.gammas))
    cap = request.max_concurrency or DEFAULT_CONCURRENCY_CAP
    off_limit, spec_limits = _limits(request, hw, dep.memory_limit_concurrency, gammas, warnings)
    limit = max(off_limit, *spec_limits.values())
    if dep.memory_limit_concurrency > cap and request.max_concurrency is None and limit >= cap:
        warnings.append(
            f"memory allows {dep.memory_limit_concurrency} concurrent sequences; curves stop at "
            f"{cap} (raise with --max-concurrency)"
        )
    als = {g: request.acceptance.al(g) for g in gammas}
    context = request.isl + request.osl / 2.0

    if profile is None and efficiency is None:
        if hw.has_step_constants:
            warnings.append(
                f"uncalibrated: the {hw.key} step-model constants come from the catalog (one set "
                f"per hardware family: t0 {eff.t0_s * 1e3:g} ms, {eff.layer_s * 1e6:g} µs/layer, "
                f"{eff.token_layer_s * 1e6:g} µs/token/layer, η_bw {eff.eta_bw:g}), checked "
                "against public measurements, not against yours; calibrate with measured runs "
                "for numbers you can lean on"
            )
        else:
            warnings.append(
                "uncalibrated: t0, η_bw and η_f are assumed defaults "
                f"(t0 {eff.t0_s * 1e3:g} ms, η_bw {eff.eta_bw:g}, η_f {eff.eta_f:g}); "
                "calibrate with measured runs for numbers you can lean on"
            )
        checked = hw.checked_max_concurrency
        if checked is not None and limit > checked:
            warnings.append(
                f"out of calibration: the {hw.key} constants were checked against public "
                f"measurements up to concurrency {checked:g}; points above it are extrapolated"
            )
        elif checked is None and hw.has_step_constants:
            warnings.append(
                f"out of calibration: no public measurement on {hw.key} checked its constants"
            )
    if profile is not None:
        if profile.model != model.key:
            warnings.append(
                f"the profile was calibrated with {profile.model}, not {model.key}: "
                "efficiencies transfer between models only roughly"
            )
        if profile.precision != dep.precision:
            warnings.append(
                f"the profile was calibrated at {profile.precision}, not {dep.precision}"
            )
        warnings.extend(
            profile.range.check(
                concurrency=range(1, limit + 1), context_len=context, draft_depths=[0, *gammas]
            )
        )

    off_ops = [
        operating_point(sm, concurrency=c, isl=request.isl, osl=request.osl)
        for c in range(1, off_limit + 1)
    ]
    spec_ops = {
        g: [
            operating_point(
                sm,
                concurrency=c,
                isl=request.isl,
                osl=request.osl,
                depth=g,
                acceptance_length=als[g],
            )
            for c in range(1, spec_limits[g] + 1)
        ]
        for g in gammas
    }
    for g in gammas:
        for c in range(1, min(off_limit, spec_limits[g]) + 1):
            check_step(sm, batch=c, depth=g, acceptance_length=als[g], context=context)
    speedups = {
        g: [s.throughput_per_gpu / o.throughput_per_gpu for s, o in zip(ops, off_ops, strict=False)]
        for g, ops in spec_ops.items()
    }

    economics = _economics(hw.key, request.economics_preset, warnings)
    method = request.spec_method.strip().lower()

    def extrapolated(c: int, g: int) -> bool:
        return profile is not None and not profile.range.contains(c, context, g)

    def curve_point(op: OperatingPoint, s: float, g: int) -> CurvePoint:
        return CurvePoint(
            concurrency=op.concurrency,
            interactivity=op.interactivity,
            throughput_per_gpu=op.throughput_per_gpu,
            output_throughput_per_gpu=op.output_throughput_per_gpu,
            tpot_s=op.tpot_s,
            ttft_s=op.ttft_s,
            step_time_s=op.step_time_s,
            acceptance_length=op.acceptance_length,
            speedup_vs_off=s,
            bound=op.bound,
            usd_per_mtok=(
                usd_per_mtok(op.throughput_per_gpu, economics.usd_per_gpu_hour)
                if economics
                else None
            ),
            tok_s_per_mw=(
                tok_s_per_mw(op.throughput_per_gpu, economics.kw_per_gpu) if economics else None
            ),
            extrapolated=extrapolated(op.concurrency, g),
        )

    curves = [
        PredictedCurve(
            label="off (predicted)",
            spec_method=OFF,
            draft_depth=0,
            acceptance_length=1.0,
            points=[curve_point(off_ops[c - 1], 1.0, 0) for c in _grid(off_limit)],
        )
    ]
    for g in gammas:
        curves.append(
            PredictedCurve(
                label=f"{method} g={g} (predicted)",
                spec_method=method,
                draft_depth=g,
                acceptance_length=als[g],
                points=[
                    curve_point(spec_ops[g][c - 1], _at(speedups[g], c), g)
                    for c in _grid(spec_limits[g])
                ],
            )
        )

    paired = max(len(v) for v in speedups.values())
    best_s = [max(v[i] for v in speedups.values() if i < len(v)) for i in range(paired)]
    stop = [_stop_paying(g, speedups[g]) for g in gammas]
    stop.append(_stop_paying(0, best_s))
    schedule = _schedule(speedups, gammas, off_limit)
    c_eff = [
        CEff(
            concurrency=c,
            draft_depth=g,
            c_eff=(spec_ops[g][c - 1].step_time_s / off_ops[c - 1].step_time_s - 1.0) / g,
            speedup_vs_off=speedups[g][c - 1],
            acceptance_length=als[g],
        )
        for c in _grid(off_limit)
        for g in gammas
        if c <= len(speedups[g])
    ]
    matched = [m for g in gammas for m in _matched(g, off_ops, spec_ops[g], request.targets)]
    sources = [*spec_sources(hw), *spec_sources(model)]
    if draft is not None:
        sources.extend(spec_sources(draft))
    if economics is not None:
        sources.append(SourceRef(urls=[economics.source], date=economics.date, note="economics"))
    points = _points(
        request, hw, model, dep.precision, sm.n_gpus, curves, eff, profile is not None, sources
    )
    return Prediction(
        request=request,
        hardware=hw,
        model=model,
        precision=dep.precision,
        compute_precision=dep.compute_precision,
        n_gpus=sm.n_gpus,
        weights_gb=dep.weights_gb,
        kv_gb_per_sequence=dep.kv_gb_per_sequence,
        memory_limit_concurrency=dep.memory_limit_concurrency,
        max_concurrency=limit,
        efficiency=eff,
        calibrated=profile is not None,
        profile_created=profile.created if profile else None,
        acceptance=request.acceptance.describe(),
        curves=curves,
        stop_paying=stop,
        schedule=schedule,
        c_eff=c_eff,
        matched=matched,
        economics=economics,
        sources=_dedupe(sources),
        warnings=warnings,
        points=points,
    )


def _economics(hardware: str, preset: str, warnings: list[str]) -> Economics | None:
    try:
        return resolve_economics(hardware, preset)
    except UserError as exc:
        warnings.append(f"no $/M tokens or tok/s/MW: {exc}")
        return None


def _at(values: Sequence[float], c: int) -> float:
    """values[c − 1], or NaN past the paired range (a spec point beyond Off's limit)."""
    return values[c - 1] if c <= len(values) else float("nan")


def _limits(
    request: PredictRequest,
    hw: HardwareSpec,
    memory_limit: int,
    gammas: Sequence[int],
    warnings: list[str],
) -> tuple[int, dict[int, int]]:
    """The highest concurrency Off and each spec depth may run at: KV memory, the engine's
    running-request cap, its batched-token cap (C·(g + 1) tokens per spec step) and the
    prediction's own cap. No predicted point lies beyond them."""
    key = request.engine.strip().lower()
    if key not in ENGINE_LIMITS:
        raise UserError(
            f"unknown engine '{request.engine}'; use one of: {', '.join(sorted(ENGINE_LIMITS))}"
        )
    eng = ENGINE_LIMITS[key]
    small = eng.small_gpu_running is not None and vllm_small_gpu(hw)
    run_off = request.max_running_requests or (
        eng.small_gpu_running if small else eng.max_running_off
    )
    run_spec = request.max_running_requests or (
        eng.small_gpu_running if small else eng.max_running_spec
    )
    tokens = request.max_batched_tokens or (
        eng.small_gpu_batched_tokens if small else eng.max_batched_tokens
    )
    cap = request.max_concurrency or DEFAULT_CONCURRENCY_CAP

    def one(depth: int, running: int | None) -> int:
        bounds = {"KV memory": memory_limit, "--max-concurrency": cap}
        if running is not None:
            bounds[f"{key} max running requests"] = running
        if tokens is not None:
            bounds[f"{key} max batched tokens {tokens} / {depth + 1} tokens per step"] = max(
                tokens // (depth + 1), 1
            )
        name, value = min(bounds.items(), key=lambda kv: kv[1])
        if value < cap and name != "--max-concurrency":
            what = "Off" if depth == 0 else f"g={depth}"
            warnings.append(f"{what} stops at concurrency {value}: {name}")
        return value

    off = one(0, run_off)
    return off, {g: one(g, run_spec) for g in gammas}


def _dedupe(refs: Sequence[SourceRef]) -> list[SourceRef]:
    seen: set[tuple[tuple[str, ...], str, str]] = set()
    out: list[SourceRef] = []
    for ref in refs:
        ident = (tuple(ref.urls), ref.date, ref.note)
        if ident not in seen:
            seen.add(ident)
            out.append(ref)
    return out


def _pays(s: float) -> bool:
    return beats(s)


def _stop_paying(depth: int, speedups: Sequence[float]) -> StopPaying:
    """First concurrency (1-based index) where S no longer beats Off, and any later recovery."""
    stop: int | None = None
    again: int | None = None
    for i, s in enumerate(speedups, start=1):
        if stop is None:
            if not _pays(s):
                stop = i
        elif _pays(s):
            again = i
            break
    return StopPaying(
        draft_depth=depth,
        concurrency=stop,
        pays_at_concurrency_1=_pays(speedups[0]),
        pays_again_at=again,
    )


def _schedule(
    speedups: dict[int, list[float]], gammas: Sequence[int], limit: int
) -> list[ScheduleRange]:
    """Best depth per concurrency (0 when no depth beats Off by more than a tie), as runs."""
    ranges: list[ScheduleRange] = []
    for i in range(limit):
        best_g, best_s = 0, 1.0
        for g in gammas:
            if i >= len(speedups[g]):
                continue
            if _pays(speedups[g][i]) and speedups[g][i] > best_s:
                best_g, best_s = g, speedups[g][i]
        c = i + 1
        if ranges and ranges[-1].best_draft_depth == best_g:
            ranges[-1] = ranges[-1].model_copy(update={"concurrency_to": c})
        else:
            ranges.append(
                ScheduleRange(
                    concurrency_from=c,
                    concurrency_to=c,
                    best_draft_depth=best_g,
                    speedup_vs_off=best_s,
                )
            )
    return ranges


def _highest_at(ops: Sequence[OperatingPoint], target: float) -> OperatingPoint | None:
    """The highest-concurrency point whose interactivity still reaches the target."""
    best: OperatingPoint | None = None
    for op in ops:
        if op.interactivity >= target and (best is None or op.concurrency > best.concurrency):
            best = op
    return best


def _matched(
    depth: int,
    off: Sequence[OperatingPoint],
    spec: Sequence[OperatingPoint],
    targets: Sequence[float],
) -> list[MatchedGain]:
    off_range = (min(o.interactivity for o in off), max(o.interactivity for o in off))
    spec_range = (min(o.interactivity for o in spec), max(o.interactivity for o in spec))
    lo, hi = max(off_range[0], spec_range[0]), min(off_range[1], spec_range[1])
    chosen = list(targets)
    note = ""
    if not chosen:
        if lo > hi:
            return [
                MatchedGain(
                    draft_depth=depth,
                    interactivity=0.0,
                    off_concurrency=None,
                    spec_concurrency=None,
                    off_throughput_per_gpu=None,
                    spec_throughput_per_gpu=None,
                    gain=None,
                    note="the Off and spec interactivity ranges do not overlap",
                )
            ]
        chosen = [lo + f * (hi - lo) for f in (0.25, 0.5, 0.75)]
        note = "target at 25/50/75 % of the overlapping interactivity band"
    out: list[MatchedGain] = []
    for x in chosen:
        o = _highest_at(off, x)
        s = _highest_at(spec, x)
        reason = note
        if o is None or s is None:
            side = "Off" if o is None else "spec"
            reason = f"{side} cannot reach {x:.1f} tok/s/user at any concurrency"
        elif o.concurrency == len(off) or s.concurrency == len(spec):
            reason = "at the concurrency limit: the side could go further with more memory"
        out.append(
            MatchedGain(
                draft_depth=depth,
                interactivity=x,
                off_concurrency=o.concurrency if o else None,
                spec_concurrency=s.concurrency if s else None,
                off_throughput_per_gpu=o.throughput_per_gpu if o else None,
                spec_throughput_per_gpu=s.throughput_per_gpu if s else None,
                gain=(s.throughput_per_gpu / o.throughput_per_gpu) if o and s else None,
                note=reason,
            )
        )
    return out


def _points(
    request: PredictRequest,
    hw: HardwareSpec,
    model: ModelSpec,
    precision: str,
    n_gpus: int,
    curves: Sequence[PredictedCurve],
    eff: Efficiency,
    calibrated: bool,
    sources: Sequence[SourceRef],
) -> list[Point]:
    """The curves as Points, so compare/report can draw them next to measured series."""
    run_id = _run_id(request)
    today = dt.date.today().isoformat()
    urls = sorted({u for ref in sources for u in ref.urls})
    points: list[Point] = []
    for curve in curves:
        spec_config = json.dumps(
            {
                "spec_method": curve.spec_method,
                "draft_depth": curve.draft_depth,
                "acceptance": request.acceptance.model_dump(mode="json"),
                "draft_model": request.draft_model,
            },
            sort_keys=True,
        )
        for cp in curve.points:
            config = PointConfig(
                hardware=hw.key,
                model=model.key,
                precision=precision,
                engine=PREDICTED_ENGINE,
                spec_method=curve.spec_method,
                draft_depth=curve.draft_depth,
                spec_config=spec_config,
                n_gpus=n_gpus,
                isl=request.isl,
                osl=request.osl,
                concurrency=cp.concurrency,
                workload="predicted",
            )
            acceptance = (
                AcceptanceCounts(
                    reported_acceptance_length=cp.acceptance_length, source="predicted"
                )
                if curve.draft_depth > 0
                else None
            )
            points.append(
                Point(
                    run_id=run_id,
                    config=config,
                    throughput_per_gpu=cp.throughput_per_gpu,
                    output_throughput_per_gpu=cp.output_throughput_per_gpu,
                    input_throughput_per_gpu=cp.throughput_per_gpu - cp.output_throughput_per_gpu,
                    interactivity=cp.interactivity,
                    ttft=LatencyStats(median_s=cp.ttft_s, mean_s=cp.ttft_s),
                    tpot=LatencyStats(median_s=cp.tpot_s, mean_s=cp.tpot_s),
                    acceptance=acceptance,
                    provenance=Provenance(
                        source="predicted",
                        date=today,
                        extra={
                            "label": "predicted",
                            "calibrated": calibrated,
                            "extrapolated": cp.extrapolated,
                            "efficiency": eff.model_dump(mode="json"),
                            "step_time_s": cp.step_time_s,
                            "bound": cp.bound,
                            "catalog_sources": urls,
                        },
                    ),
                )
            )
    return points
