"""Answer (c): the spec/off throughput ratio at target interactivities along the two frontiers,
and the default targets."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from specscope.analysis.frontier import pareto_frontier
from specscope.analysis.interpolate import MonotoneCubic
from specscope.analysis.stats import Uncertainty, ratio_interval
from specscope.sweep.adaptive.cells import WorkloadCells, verdict_of
from specscope.sweep.adaptive.model import (
    REFINE_MARGIN,
    Arm,
    Candidates,
    Observation,
    TargetRatio,
    mid_concurrency,
)
from specscope.tie import is_tie


@dataclass(frozen=True)
class _Frontier:
    keys: list[tuple[str, int]]
    """(arm, concurrency) of each frontier point, by interactivity ascending."""
    x: list[float]
    y: list[float]
    unc: list[Uncertainty | None]
    """Of the throughput read at each point's interactivity (its x noise carried along)."""
    held: list[Uncertainty | None]
    """Of each point's own throughput (a side held at its slowest point)."""
    curve: MonotoneCubic


def _frontier(data: WorkloadCells, arms: Sequence[Arm]) -> _Frontier | None:
    keys = [k for k in data.cells if k[0] in {a.label for a in arms}]
    if not keys:
        return None
    xs = np.array([data.cells[k].mean_x for k in keys])
    ys = np.array([data.cells[k].mean for k in keys])
    idx = pareto_frontier(xs, ys)
    if idx.size == 0:
        return None
    fkeys = [keys[i] for i in idx]
    fx, fy = [float(xs[i]) for i in idx], [float(ys[i]) for i in idx]
    curve = MonotoneCubic(fx, fy)
    return _Frontier(
        keys=fkeys,
        x=fx,
        y=fy,
        unc=[data.uncertainty(data.cells[k], curve.elasticity(j)) for j, k in enumerate(fkeys)],
        held=[data.uncertainty(data.cells[k]) for k in fkeys],
        curve=curve,
    )


@dataclass(frozen=True)
class AtTarget:
    """One frontier read at a target: the value, its uncertainty and the bracketing cells."""

    value: float
    unc: Uncertainty | None
    bracket: tuple[tuple[str, int], tuple[str, int]]
    weight: float


def _at(front: _Frontier, target: float) -> AtTarget | None:
    """The frontier's throughput at ``target``; a side faster than asked is held at its slowest
    point (as compare does); None when it cannot reach the target."""
    if target > front.curve.x_max:
        return None
    k, k1, t = front.curve.bracket(target)
    value = float(front.curve(max(target, front.curve.x_min)))
    uncs = front.held if target < front.curve.x_min else front.unc
    ua, ub = uncs[k], uncs[k1]
    unc = None if ua is None or ub is None else Uncertainty.between(ua, ub, t)
    return AtTarget(value=value, unc=unc, bracket=(front.keys[k], front.keys[k1]), weight=t)


def target_ratio(
    data: WorkloadCells, cands: Candidates, target: float
) -> tuple[TargetRatio, AtTarget | None, AtTarget | None]:
    """Answer (c) at ``target`` and each side's reading there (None: it cannot reach it)."""
    spec_f = _frontier(data, cands.spec_arms())
    off_f = _frontier(data, [cands.off()])
    s = None if spec_f is None else _at(spec_f, target)
    o = None if off_f is None else _at(off_f, target)
    if s is None or o is None:
        answer = TargetRatio(
            target=target,
            ratio=None,
            ci_95=None,
            usd_per_mtok_ratio=None,
            verdict="unreachable",
            decided=spec_f is not None and off_f is not None,
        )
        return answer, s, o
    ratio = s.value / o.value
    ci = None if s.unc is None or o.unc is None else ratio_interval(s.value, s.unc, o.value, o.unc)
    v = verdict_of(ratio, ci)
    verdict: Literal["spec", "off", "tie"]
    if v == "a":
        verdict = "spec"
    elif v == "b":
        verdict = "off"
    elif v == "tie" or is_tie(ratio):
        verdict = "tie"
    else:
        verdict = "spec" if ratio > 1 else "off"
    # the interval is the noise's only: near 1, a curve interpolated across an unmeasured grid
    # concurrency can be off by more than it, so the answer waits for that point
    gap = unmeasured_gap(data, cands, s) or unmeasured_gap(data, cands, o)
    # a spec family not measured at all could lift spec's frontier: off (or a tie) waits for it
    unseen = not data.every_family_measured(cands)
    answer = TargetRatio(
        target=target,
        ratio=ratio,
        ci_95=ci,
        usd_per_mtok_ratio=1.0 / ratio,
        verdict=verdict,
        decided=v != "open"
        and (gap is None or abs(math.log(ratio)) > REFINE_MARGIN)
        and not (unseen and verdict != "spec"),
    )
    return answer, s, o


def unmeasured_gap(
    data: WorkloadCells, cands: Candidates, side: AtTarget
) -> tuple[str, int] | None:
    """The unmeasured grid cell inside ``side``'s interpolation bracket, nearer end's arm at the
    middle concurrency between the two ends; None when the bracket is tight."""
    (arm_a, c_a), (arm_b, c_b) = side.bracket
    lo_c, hi_c = sorted((c_a, c_b))
    mid = mid_concurrency(sorted(cands.concurrencies), lo_c, hi_c) if lo_c != hi_c else None
    near_arm = arm_a if side.weight < 0.5 else arm_b
    if mid is None or data.n(near_arm, mid) > 0:
        return None
    return near_arm, mid


def default_targets_from(cands: Candidates, obs: Sequence[Observation]) -> dict[str, list[float]]:
    """Targets at 25/50/75 % of the band of Off and spec interactivity (compare's defaults),
    from the points measured so far (the adaptive sweep freezes them after the coarse ladder)."""
    from specscope.analysis.compare import default_targets, interactivity_band

    out: dict[str, list[float]] = {}
    spec = {a.label for a in cands.spec_arms()}
    off = cands.off().label
    for w in cands.workloads:
        xs_s = [o.interactivity for o in obs if o.workload == w and o.arm in spec]
        xs_o = [o.interactivity for o in obs if o.workload == w and o.arm == off]
        if not xs_s or not xs_o:
            continue
        (lo, hi), overlap = interactivity_band((min(xs_s), max(xs_s)), (min(xs_o), max(xs_o)))
        if overlap:
            out[w] = default_targets(lo, hi)
    return out
