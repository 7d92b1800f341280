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
- the matched-interactivity gain (theory reference §7): each spec curve against Off at the
  targets, read by :func:`specscope.analysis.compare` from the predicted Points, as
  ``specscope compare`` reads stored ones.
"""

from __future__ import annotations

from collections.abc import Sequence

from specscope.analysis.compare import compare
from specscope.analysis.economics import resolve_economics, tok_s_per_mw, usd_per_mtok
from specscope.analysis.results import Economics, TargetComparison
from specscope.analysis.series import Series, method_label
from specscope.errors import UserError
from specscope.predict.deployment import build_deployment
from specscope.predict.prediction import (
    PREDICTED_ENGINE,
    CEff,
    CurvePoint,
    MatchedGain,
    PredictedCurve,
    Prediction,
    ScheduleRange,
    StopPaying,
    predicted_points,
)
from specscope.predict.profile import CalibratedProfile
from specscope.predict.request import DEFAULT_CONCURRENCY_CAP, PredictRequest, concurrency_limits
from specscope.predict.roofline import Efficiency
from specscope.predict.specs import HardwareSpec, SourceRef, SpecLookup, spec_sources
from specscope.predict.step import OperatingPoint, check_step, operating_point
from specscope.schema import OFF, Point
from specscope.tie import beats


def _grid(limit: int) -> list[int]:
    """C = 1, 2, 4, … up to the limit, with the limit itself."""
    values: list[int] = []
    c = 1
    while c < limit:
        values.append(c)
        c *= 2
    values.append(limit)
    return values


def _resolve_hardware(
    request: PredictRequest, catalog: SpecLookup, profile: CalibratedProfile | None
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
    catalog: SpecLookup,
    profile: CalibratedProfile | None = None,
    efficiency: Efficiency | None = None,
) -> Prediction:
    """Predicted Off and spec curves for one request; see the module docstring."""
    hw, warnings = _resolve_hardware(request, catalog, profile)
    model = catalog.model_spec(request.model)
    draft = catalog.model_spec(request.draft_model) if request.draft_model else None
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
    draft_depths = sorted(set(request.gammas))
    cap = request.max_concurrency or DEFAULT_CONCURRENCY_CAP
    off_limit, spec_limits = concurrency_limits(
        request, hw, dep.memory_limit_concurrency, draft_depths, warnings
    )
    limit = max(off_limit, *spec_limits.values())
    if dep.memory_limit_concurrency > cap and request.max_concurrency is None and limit >= cap:
        warnings.append(
            f"memory allows {dep.memory_limit_concurrency} concurrent sequences; curves stop at "
            f"{cap} (raise with --max-concurrency)"
        )
    als = {draft_depth: request.acceptance.al(draft_depth) for draft_depth in draft_depths}
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
                concurrency=range(1, limit + 1),
                context_len=context,
                draft_depths=[0, *draft_depths],
            )
        )

    off_ops = [
        operating_point(sm, concurrency=c, isl=request.isl, osl=request.osl)
        for c in range(1, off_limit + 1)
    ]
    spec_ops = {
        draft_depth: [
            operating_point(
                sm,
                concurrency=c,
                isl=request.isl,
                osl=request.osl,
                depth=draft_depth,
                acceptance_length=als[draft_depth],
            )
            for c in range(1, spec_limits[draft_depth] + 1)
        ]
        for draft_depth in draft_depths
    }
    for draft_depth in draft_depths:
        for c in range(1, min(off_limit, spec_limits[draft_depth]) + 1):
            check_step(
                sm, batch=c, depth=draft_depth, acceptance_length=als[draft_depth], context=context
            )
    speedups = {
        draft_depth: [
            s.throughput_per_gpu / o.throughput_per_gpu for s, o in zip(ops, off_ops, strict=False)
        ]
        for draft_depth, ops in spec_ops.items()
    }

    economics = _economics(hw.key, request.economics_preset, warnings)
    method = request.spec_method.strip().lower()

    def extrapolated(c: int, draft_depth: int) -> bool:
        return profile is not None and not profile.range.contains(c, context, draft_depth)

    def curve_point(op: OperatingPoint, s: float, draft_depth: int) -> CurvePoint:
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
            extrapolated=extrapolated(op.concurrency, draft_depth),
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
    for draft_depth in draft_depths:
        curves.append(
            PredictedCurve(
                label=f"{method} g={draft_depth} (predicted)",
                spec_method=method,
                draft_depth=draft_depth,
                acceptance_length=als[draft_depth],
                points=[
                    curve_point(
                        spec_ops[draft_depth][c - 1], _at(speedups[draft_depth], c), draft_depth
                    )
                    for c in _grid(spec_limits[draft_depth])
                ],
            )
        )

    paired = max(len(v) for v in speedups.values())
    best_s = [max(v[i] for v in speedups.values() if i < len(v)) for i in range(paired)]
    stop = [_stop_paying(draft_depth, speedups[draft_depth]) for draft_depth in draft_depths]
    stop.append(_stop_paying(0, best_s))
    schedule = _schedule(speedups, draft_depths, off_limit)
    c_eff = [
        CEff(
            concurrency=c,
            draft_depth=draft_depth,
            c_eff=(spec_ops[draft_depth][c - 1].step_time_s / off_ops[c - 1].step_time_s - 1.0)
            / draft_depth,
            speedup_vs_off=speedups[draft_depth][c - 1],
            acceptance_length=als[draft_depth],
        )
        for c in _grid(off_limit)
        for draft_depth in draft_depths
        if c <= len(speedups[draft_depth])
    ]
    sources = [*spec_sources(hw), *spec_sources(model)]
    if draft is not None:
        sources.extend(spec_sources(draft))
    if economics is not None:
        sources.append(SourceRef(urls=[economics.source], date=economics.date, note="economics"))
    points = predicted_points(
        request, hw, model, dep.precision, sm.n_gpus, curves, eff, profile is not None, sources
    )
    matched = _matched(curves, points, request.targets, economics)
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
    speedups: dict[int, list[float]], draft_depths: Sequence[int], limit: int
) -> list[ScheduleRange]:
    """Best depth per concurrency (0 when no depth beats Off by more than a tie), as runs."""
    ranges: list[ScheduleRange] = []
    for i in range(limit):
        best_draft_depth, best_s = 0, 1.0
        for draft_depth in draft_depths:
            if i >= len(speedups[draft_depth]):
                continue
            if _pays(speedups[draft_depth][i]) and speedups[draft_depth][i] > best_s:
                best_draft_depth, best_s = draft_depth, speedups[draft_depth][i]
        c = i + 1
        if ranges and ranges[-1].best_draft_depth == best_draft_depth:
            ranges[-1] = ranges[-1].model_copy(update={"concurrency_to": c})
        else:
            ranges.append(
                ScheduleRange(
                    concurrency_from=c,
                    concurrency_to=c,
                    best_draft_depth=best_draft_depth,
                    speedup_vs_off=best_s,
                )
            )
    return ranges


def _series(curve: PredictedCurve, points: Sequence[Point]) -> Series:
    """One predicted curve as the series ``specscope compare`` takes: ``off (predicted)``,
    ``mtp (predicted, g=2)``."""
    depth = f", g={curve.draft_depth}" if curve.draft_depth else ""
    return Series(
        label=f"{method_label(curve.spec_method)} (predicted{depth})",
        spec_method=curve.spec_method,
        engines=(PREDICTED_ENGINE,),
        points=tuple(p for p in points if p.config.draft_depth == curve.draft_depth),
    )


THROUGHPUT_ONLY = Economics(
    preset="none",
    hardware="any",
    usd_per_gpu_hour=1.0,
    kw_per_gpu=1.0,
    source="placeholder: the matched gain reads throughput only",
    date="n/a",
)
"""Prices for :func:`compare` when the hardware has none; the matched gain ignores them."""


def _matched(
    curves: Sequence[PredictedCurve],
    points: Sequence[Point],
    targets: Sequence[float],
    economics: Economics | None,
) -> list[MatchedGain]:
    """Each spec curve against Off at the targets, by :func:`specscope.analysis.compare`
    (frontier, monotone cubic, a side faster than asked held at its slowest point, nothing
    extrapolated, the one tie rule); no targets → compare's defaults in the band."""
    off_curve, *spec_curves = curves
    off = _series(off_curve, points)
    out: list[MatchedGain] = []
    for curve in spec_curves:
        c = compare(
            _series(curve, points), off, economics or THROUGHPUT_ONLY, list(targets) or None
        )
        if c.refusal is not None:
            out.append(
                MatchedGain(draft_depth=curve.draft_depth, interactivity=0.0, note=c.refusal)
            )
        limits = {"Off": off_curve.points[-1].concurrency, "spec": curve.points[-1].concurrency}
        for t in c.targets:
            o = t.off if t.off.reaches else None
            s = t.spec if t.spec.reaches else None
            out.append(
                MatchedGain(
                    draft_depth=curve.draft_depth,
                    interactivity=t.interactivity,
                    requested=t.requested,
                    off_concurrency=o.concurrency if o else None,
                    spec_concurrency=s.concurrency if s else None,
                    off_throughput_per_gpu=o.throughput_per_gpu if o else None,
                    spec_throughput_per_gpu=s.throughput_per_gpu if s else None,
                    gain=(
                        None
                        if t.throughput is None
                        else t.spec.throughput_per_gpu / t.off.throughput_per_gpu
                    ),
                    winner=None if t.throughput is None else t.throughput.winner,
                    note="; ".join(_notes(t, limits, default=not targets)),
                )
            )
    return out


_DEFAULT_TARGET_NOTE = (
    "target at 25/50/75 % of the overlapping interactivity band, rounded as compare rounds it"
)


def _notes(t: TargetComparison, limits: dict[str, int], default: bool) -> list[str]:
    """What a matched gain rests on: a default target, a moved target, a refusal, a side at
    its concurrency limit (or held at its slowest point)."""
    notes = [_DEFAULT_TARGET_NOTE] if default else []
    if t.refusal is not None:
        return [*notes, t.refusal]
    if t.requested != t.interactivity:
        notes.append(
            f"target {t.requested:.1f} lies below the band; compared at its edge "
            f"{t.interactivity:.1f} tok/s/user"
        )
    for name, side in (("Off", t.off), ("spec", t.spec)):
        if side.concurrency is not None and side.concurrency >= limits[name] - 1e-6:
            notes.append(
                f"at the concurrency limit: {name} runs at its highest predicted concurrency "
                f"({limits[name]}) here and could go further with more memory or a higher "
                "engine cap"
            )
        elif side.clamped_below:
            notes.append(f"{name} runs faster than asked: held at its slowest point")
    return notes
