"""Spec vs off at matched interactivity (SPEC.md §2).

Each side: repeats merged into operating points, the Pareto frontier of throughput against
interactivity, and a Steffen monotone cubic along it. At each target both curves give throughput
(and concurrency); $/M tokens and tok/s/MW are computed from that interpolated throughput, never
splined on their own. Default targets lie in the band (the overlap of both sides' interactivity
ranges over all their points); when the ranges do not overlap there are none, and the comparison
says so instead (``Comparison.refusal``). A target below the band moves up to its low edge; a side
whose frontier starts above the target is held at its slowest point (and the narrative says so in
the sentence giving its figures). A target above a side's fastest measured interactivity is not
compared: no ratio, no winner, a refusal sentence (``TargetComparison.refusal``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from specscope.analysis.economics import tok_s_per_mw, usd_per_mtok
from specscope.analysis.frontier import pareto_frontier
from specscope.analysis.interpolate import MonotoneCubic, curve_at
from specscope.analysis.narrative import (
    RatioKind,
    describe_target,
    display_name,
    fmt_factor,
    fmt_interactivity,
    no_overlap_sentence,
    ratio_wording,
    unreachable_sentence,
)
from specscope.analysis.results import (
    Comparison,
    Economics,
    Ratio,
    SeriesInfo,
    SideAtTarget,
    TargetComparison,
)
from specscope.analysis.series import Series
from specscope.analysis.stats import (
    STATISTIC,
    OperatingPoints,
    Uncertainty,
    aggregate_repeats,
    ratio_interval,
)
from specscope.errors import UserError
from specscope.tie import is_tie

__all__ = ["compare", "default_targets", "interactivity_band", "make_ratio"]


def make_ratio(kind: RatioKind, spec_value: float, off_value: float) -> Ratio:
    """Compare one metric between the sides; cost is lower-is-better, the others higher.

    ``percent`` for cost = (1 − smaller/larger)·100 (how much less the winner pays); for
    throughput and tok/s/MW = (larger/smaller − 1)·100 (how much more the winner delivers).
    """
    large, small = max(spec_value, off_value), min(spec_value, off_value)
    factor = large / small if small > 0 else math.inf
    tie = is_tie(large, small) if small > 0 else False
    if kind == "cost":
        percent = (1.0 - small / large) * 100.0 if large > 0 else 0.0
        spec_wins = spec_value < off_value
    else:
        percent = (factor - 1.0) * 100.0
        spec_wins = spec_value > off_value
    winner: Literal["spec", "off", "tie"] = "tie" if tie else "spec" if spec_wins else "off"
    return Ratio(
        winner=winner,
        factor=factor,
        percent=percent,
        wording=ratio_wording(kind, factor, percent, tie),
    )


def _round_half_up(value: float, decimals: int) -> float:
    scale = 10.0**decimals
    return math.floor(value * scale + 0.5) / scale


def default_targets(lo: float, hi: float) -> list[float]:
    """Targets at 25/50/75 % of the band, rounded to whole tok/s/user as InferenceX does.

    Unlike InferenceX, a narrow band (where whole numbers would fall outside it or collapse)
    keeps as many decimals as it needs, and a zero-width band gives its one value unrounded.
    """
    span = hi - lo
    if span <= 0:
        return [lo]
    raw = [lo + f * span for f in (0.25, 0.5, 0.75)]
    for decimals in range(7):
        rounded = [_round_half_up(v, decimals) for v in raw]
        if len(set(rounded)) == 3 and all(lo <= v <= hi for v in rounded):
            return rounded
    return raw


def interactivity_band(
    spec_range: tuple[float, float], off_range: tuple[float, float]
) -> tuple[tuple[float, float], bool]:
    """The overlap of two interactivity ranges, or their union (and False) when they miss."""
    lo, hi = max(spec_range[0], off_range[0]), min(spec_range[1], off_range[1])
    if lo <= hi:
        return (lo, hi), True
    return (min(spec_range[0], off_range[0]), max(spec_range[1], off_range[1])), False


@dataclass(frozen=True)
class _Side:
    series: Series
    ops: OperatingPoints
    front: np.ndarray
    """Indices into ``ops`` of the frontier, interactivity ascending."""
    throughput: MonotoneCubic
    concurrency: MonotoneCubic | None
    interactivity_range: tuple[float, float]
    n_dropped: int

    def info(self) -> SeriesInfo:
        return SeriesInfo(
            label=self.series.label,
            spec_method=self.series.spec_method,
            engines=list(self.series.engines),
            deployments=list(self.series.deployments),
            n_points=len(self.series.points),
            n_frontier=int(self.front.size),
            interactivity_range=self.interactivity_range,
            draft_depths=self.series.draft_depths,
            predicted=self.series.predicted,
        )


def _prepare(series: Series) -> _Side:
    if not series.points:
        raise UserError(f"series '{series.label}' has no points; measure or import some first")
    ops = aggregate_repeats(series.points)
    x, y = ops.interactivity, ops.throughput_per_gpu
    valid = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    kept = np.flatnonzero(valid)
    if kept.size == 0:
        raise UserError(
            f"series '{series.label}' has no point with positive throughput and interactivity"
        )
    front = kept[pareto_frontier(x[kept], y[kept])]
    conc = ops.concurrency[front]
    return _Side(
        series=series,
        ops=ops,
        front=front,
        throughput=MonotoneCubic(x[front], y[front]),
        concurrency=MonotoneCubic(x[front], conc) if np.all(np.isfinite(conc)) else None,
        interactivity_range=(float(x[kept].min()), float(x[kept].max())),
        n_dropped=int(x.size - kept.size),
    )


def _uncertainty(side: _Side, x_eval: float, clamped: bool) -> Uncertainty | None:
    """The uncertainty of the throughput read at interactivity x: at a measured point that
    point's, between two the linear interpolation of theirs (``Uncertainty.between``); None
    where a point it needs has a single repeat. Read at a fixed x, each point's interval carries
    its interactivity's noise along the curve's slope there; a side held at its end point
    (``clamped``) is that point's own throughput, and its interval the throughput's alone."""
    if not side.ops.has_repeats:
        return None
    curve = side.throughput

    def at_knot(k: int) -> Uncertainty | None:
        return side.ops.uncertainty(int(side.front[k]), 0.0 if clamped else curve.elasticity(k))

    k0, k1, w = curve.bracket(x_eval)
    if w <= 0.0 or w >= 1.0:
        return at_knot(k1 if w >= 1.0 else k0)
    u0, u1 = at_knot(k0), at_knot(k1)
    if u0 is None or u1 is None:
        return None
    return Uncertainty.between(u0, u1, w)


def _at(
    side: _Side, target: float, economics: Economics
) -> tuple[SideAtTarget, Uncertainty | None]:
    hit = curve_at(side.throughput, target)
    tput = hit.value
    concurrency = None if side.concurrency is None else float(side.concurrency(hit.x))
    unc = _uncertainty(side, hit.x, hit.clamped)
    result = SideAtTarget(
        interactivity=hit.x,
        throughput_per_gpu=tput,
        usd_per_mtok=usd_per_mtok(tput, economics.usd_per_gpu_hour),
        tok_s_per_mw=tok_s_per_mw(tput, economics.kw_per_gpu),
        concurrency=concurrency,
        concurrency_interpolated=not hit.at_knot,
        clamped=hit.clamped,
        clamped_below=hit.clamped_below,
        clamped_above=hit.clamped_above,
        throughput_ci=None if unc is None else unc.interval(tput),
        reaches=not hit.clamped_above,
    )
    return result, unc


def _check_same_slice(spec: Series, off: Series) -> None:
    a, b = spec.points[0].config, off.points[0].config
    for attr in ("model", "hardware", "precision", "isl", "osl"):
        if getattr(a, attr) != getattr(b, attr):
            raise UserError(
                f"spec and off series differ in {attr} ({getattr(a, attr)} vs "
                f"{getattr(b, attr)}); select both from one slice (see select_pair)"
            )


def compare(
    spec: Series,
    off: Series,
    economics: Economics,
    targets: Sequence[float] | None = None,
) -> Comparison:
    """Both series at matched interactivity: throughput, $/M tokens, tok/s/MW, who wins, caveats."""
    if not spec.points or not off.points:
        empty = spec.label if not spec.points else off.label
        raise UserError(f"series '{empty}' has no points; measure or import some first")
    _check_same_slice(spec, off)
    s_side, o_side = _prepare(spec), _prepare(off)
    band, overlaps = interactivity_band(s_side.interactivity_range, o_side.interactivity_range)
    caveats = _series_caveats(s_side, o_side, economics, band, overlaps, targets is not None)
    spec_label, off_label = s_side.series.label, o_side.series.label
    refusal: str | None = None
    if targets is None and not overlaps:
        asked: list[float] = []
        refusal = no_overlap_sentence(
            spec_label, s_side.interactivity_range, off_label, o_side.interactivity_range
        )
    else:
        asked = list(targets) if targets is not None else default_targets(*band)
        if not asked:
            raise UserError("no target interactivity given; pass at least one or leave the default")
    for value in asked:
        if not math.isfinite(value):
            raise UserError(f"target interactivity must be a finite number, got {value}")
    results: list[TargetComparison] = []
    for requested in asked:
        # Below the band the target moves up to its low edge (both sides reach it there); above
        # it a side cannot reach the target, and nothing is compared (never extrapolated).
        at = max(float(requested), band[0])
        s_at, s_unc = _at(s_side, at, economics)
        o_at, o_unc = _at(o_side, at, economics)
        target = _target(at, float(requested), (s_at, s_unc), (o_at, o_unc), s_side, o_side)
        results.append(target)
        caveats += _target_caveats(target, spec_label, off_label, band)
        if target.throughput is not None and target.throughput.factor_ci is not None:
            caveats.append(_ratio_ci_caveat(target, spec_label, off_label))
    caveats += _concurrency_caveats(results, s_side, o_side)
    first = spec.points[0].config
    return Comparison(
        model=first.model,
        hardware=first.hardware,
        precision=first.precision,
        sequence=first.sequence,
        isl=first.isl,
        osl=first.osl,
        spec=s_side.info(),
        off=o_side.info(),
        band=band,
        band_overlaps=overlaps,
        economics=economics,
        targets=results,
        refusal=refusal,
        statistic=STATISTIC,
        caveats=[c[:1].upper() + c[1:] for c in dict.fromkeys(caveats)],
    )


def _target(
    at: float,
    requested: float,
    spec: tuple[SideAtTarget, Uncertainty | None],
    off: tuple[SideAtTarget, Uncertainty | None],
    s_side: _Side,
    o_side: _Side,
) -> TargetComparison:
    """One target's comparison; no ratio (and a refusal) when a side cannot reach it."""
    (s_at, s_unc), (o_at, o_unc) = spec, off
    spec_label, off_label = s_side.series.label, o_side.series.label
    refused = not (s_at.reaches and o_at.reaches)
    ratios: dict[RatioKind, Ratio | None] = {"cost": None, "throughput": None, "power": None}
    if not refused:
        interval, note = _factor_interval(s_at, s_unc, o_at, o_unc, s_side, o_side)
        values: dict[RatioKind, tuple[float, float]] = {
            "cost": (s_at.usd_per_mtok, o_at.usd_per_mtok),
            "throughput": (s_at.throughput_per_gpu, o_at.throughput_per_gpu),
            "power": (s_at.tok_s_per_mw, o_at.tok_s_per_mw),
        }
        for kind, (spec_value, off_value) in values.items():
            ratios[kind] = make_ratio(kind, spec_value, off_value).model_copy(
                update={"factor_ci": interval, "factor_ci_note": note}
            )
    target = TargetComparison(
        interactivity=at,
        requested=requested,
        clamped=at != requested or s_at.clamped or o_at.clamped,
        spec=s_at,
        off=o_at,
        cost=ratios["cost"],
        throughput=ratios["throughput"],
        power=ratios["power"],
        narrative="",
        refusal=unreachable_sentence(at, s_at, o_at, spec_label, off_label) if refused else None,
    )
    return target.model_copy(update={"narrative": describe_target(target, spec_label, off_label)})


def _factor_interval(
    s_at: SideAtTarget,
    s_unc: Uncertainty | None,
    o_at: SideAtTarget,
    o_unc: Uncertainty | None,
    s_side: _Side,
    o_side: _Side,
) -> tuple[tuple[float, float] | None, str | None]:
    """The 95 % CI of a ratio's factor (larger/smaller, as ``Ratio.factor``), or None and why.

    Cost is the inverse of throughput and tok/s/MW proportional to it, so all three ratios share
    one factor and one interval: that of spec/off throughput, turned over when off is faster.
    """
    if s_unc is None or o_unc is None:
        single = [
            display_name(side.series.label)
            for side, unc in ((s_side, s_unc), (o_side, o_unc))
            if unc is None
        ]
        return None, (
            f"no interval: {' and '.join(single)} "
            f"{'has' if len(single) == 1 else 'have'} a single repeat at the measured "
            "point(s) it is read from (an interval needs at least 2 repeats on both sides)"
        )
    lo, hi = ratio_interval(s_at.throughput_per_gpu, s_unc, o_at.throughput_per_gpu, o_unc)
    if s_at.throughput_per_gpu >= o_at.throughput_per_gpu:
        return (lo, hi), None
    return (1.0 / hi, 1.0 / lo), None


def _engines(side: _Side) -> str:
    members = side.series.members
    word = "engine" if len(members) == 1 else "engines"
    return f"{display_name(side.series.label)} holds {word} {', '.join(members)}"


def _series_caveats(
    s: _Side,
    o: _Side,
    economics: Economics,
    band: tuple[float, float],
    overlaps: bool,
    given: bool,
) -> list[str]:
    out: list[str] = [*s.series.notes, *o.series.notes]
    out.append(f"{_engines(s)}; {_engines(o)}.")
    pooled = [side for side in (s, o) if len(side.series.members) > 1]
    if pooled:
        engines = sorted({e for side in pooled for e in side.series.members})
        which = (
            "each side"
            if len(pooled) == 2
            else " and ".join(display_name(side.series.label) for side in pooled)
        )
        out.append(
            f"engines {', '.join(engines)} are pooled into one frontier for {which}; engines "
            "implement acceptance differently, so part of the gap may come from the engine "
            "rather than from speculative decoding."
        )
    draft_depths = s.series.draft_depths
    if len(draft_depths) > 1:
        listed = ", ".join(str(draft_depth) for draft_depth in draft_depths)
        out.append(
            f"{display_name(s.series.label)} holds draft depths g = {listed} in one frontier, "
            "which keeps the best g at each interactivity."
        )
    if not overlaps:
        out.append(
            f"the interactivity ranges do not overlap ({display_name(s.series.label)} "
            f"{fmt_interactivity(s.interactivity_range[0])}–"
            f"{fmt_interactivity(s.interactivity_range[1])}, {display_name(o.series.label)} "
            f"{fmt_interactivity(o.interactivity_range[0])}–"
            f"{fmt_interactivity(o.interactivity_range[1])} tok/s/user); "
            + (
                "at each given target a side that runs faster than asked is held at its slowest "
                "frontier point, and a side that cannot reach it leaves the target uncompared."
                if given
                else "no default targets were made."
            )
        )
    for side in (s, o):
        if side.series.predicted:
            out.append(
                f"{display_name(side.series.label)} is predicted by the model, not measured."
            )
        if side.n_dropped:
            out.append(
                f"{side.n_dropped} point(s) of {display_name(side.series.label)} with zero or "
                "non-finite throughput or interactivity were left out."
            )
    out += _economics_caveats(s, o, economics)
    if s.ops.has_repeats or o.ops.has_repeats:
        out.append(f"{STATISTIC}.")
    return out


def _economics_caveats(s: _Side, o: _Side, economics: Economics) -> list[str]:
    out: list[str] = []
    if economics.power_source == "preset":
        out.append(
            f"power efficiency (tok/s/MW) uses {economics.kw_per_gpu:g} kW per GPU all-in from "
            f"preset {economics.preset} ({economics.date}), not measured power."
        )
    elif economics.power_source == "override":
        out.append(
            f"power efficiency (tok/s/MW) uses {economics.kw_per_gpu:g} kW per GPU as given."
        )
    else:
        out.append(
            f"power efficiency (tok/s/MW) uses measured power: {economics.kw_per_gpu:g} kW per GPU."
        )
    if "usd_per_gpu_hour" in economics.overridden:
        out.append(f"cost uses ${economics.usd_per_gpu_hour:g}/GPU-hour as given by the user.")
    else:
        out.append(
            f"cost uses ${economics.usd_per_gpu_hour:g}/GPU-hour from preset {economics.preset} "
            f"({economics.date})."
        )
    if economics.power_source != "measured":
        points = (*s.series.points, *o.series.points)
        watts = [p.power_w_per_gpu for p in points if p.power_w_per_gpu is not None]
        if watts:
            out.append(
                f"measured GPU power exists for {len(watts)} of {len(points)} points (mean "
                f"{sum(watts) / len(watts):.0f} W/GPU, board power only); it is not used for "
                "tok/s/MW."
            )
    return out


def _target_caveats(
    t: TargetComparison, spec_label: str, off_label: str, band: tuple[float, float]
) -> list[str]:
    out: list[str] = []
    if t.requested != t.interactivity:
        out.append(
            f"target {fmt_interactivity(t.requested)} tok/s/user lies outside the band "
            f"{fmt_interactivity(band[0])}–{fmt_interactivity(band[1])} and was clamped to "
            f"{fmt_interactivity(t.interactivity)}."
        )
    for label, side in ((spec_label, t.spec), (off_label, t.off)):
        if side.clamped and side.reaches:  # one that cannot reach is said in the narrative
            edge = "above" if side.clamped_above else "below"
            out.append(
                f"at {fmt_interactivity(t.interactivity)} tok/s/user {display_name(label)} is "
                f"{edge} its frontier and was held at its edge, "
                f"{fmt_interactivity(side.interactivity)} tok/s/user (not extrapolated)."
            )
    return out


def _ratio_ci_caveat(t: TargetComparison, spec_label: str, off_label: str) -> str:
    assert t.throughput is not None and t.throughput.factor_ci is not None
    ratio = t.spec.throughput_per_gpu / t.off.throughput_per_gpu
    lo, hi = t.throughput.factor_ci
    if t.spec.throughput_per_gpu < t.off.throughput_per_gpu:
        lo, hi = 1.0 / hi, 1.0 / lo
    return (
        f"at {fmt_interactivity(t.interactivity)} tok/s/user the throughput ratio "
        f"{display_name(spec_label)}/{display_name(off_label)} is {fmt_factor(ratio)} "
        f"(95 % CI {fmt_factor(lo)}–{fmt_factor(hi)} from repeats; the cost ratio is its inverse)."
    )


def _concurrency_caveats(results: list[TargetComparison], s: _Side, o: _Side) -> list[str]:
    out: list[str] = []
    sides = ((s, [t.spec for t in results]), (o, [t.off for t in results]))
    if any(a.concurrency is not None and a.concurrency_interpolated for _, at in sides for a in at):
        out.append(
            "concurrency between measured load levels is read off the frontier's curve: an "
            "estimate of the load needed, not a measured one."
        )
    for side, _ in sides:
        if side.concurrency is None:
            out.append(
                f"{display_name(side.series.label)}: some frontier points have no recorded "
                "concurrency, so none is given."
            )
    return out
