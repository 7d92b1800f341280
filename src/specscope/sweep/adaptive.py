"""Adaptive sweep: decide the three answers of a sweep with a fraction of its points.

The recipe's grid (server config × workload × concurrency, up to ``max_repeats`` repeats) is the
candidate set. The decision core here is pure: given the points measured so far
(:class:`Observation`), :func:`answers` states

(a) the best spec config (draft depth g) at every concurrency of the grid,
(b) the concurrency where speculation stops paying (the first grid concurrency whose best spec
    config does not beat Off by the 1 % tie rule, at the same concurrency), and
(c) the spec/off throughput ratio (and its inverse, the $/M ratio) at target interactivities,
    along the two frontiers as ``compare`` builds them,

each with its 95 % interval and whether it is *decided*; :func:`propose` picks the next point
where it most changes an answer that is still open, in this order:

1. a coarse ladder: Off and one spec config (the middle g of the first spec entry) at the
   lowest, middle and highest concurrency, two repeats each (this also measures the noise);
2. at every measured concurrency (an *anchor*), a hill climb over g per spec entry: walking
   from the best g either way, measure the first unmeasured g past every g not beaten with
   confidence; a g the best beats with confidence is dropped, and so are the g beyond it
   (S(g) is unimodal in the Leviathan model);
3. bracket and bisect the crossover: between the last anchor where spec pays and the first
   where it does not, measure the middle grid concurrency, until they are grid neighbours;
4. bisect between anchors whose best g differ, until they are grid neighbours (between two
   anchors with the same best g, that g is inferred);
5. add a repeat where an interval still straddles a decision on the best g (a contender's CI
   holds 1) or the crossover (an end's spec/off CI holds 1), the widest interval first;
6. refine a target's interpolation where its ratio is within 10 % of 1 and a side's bracketing
   points are not grid neighbours;
7. add a repeat where a target ratio's CI holds 1, the widest first.

A cell whose point failed (``left_out``) is never proposed again: the climb walks past it, a
crossover bisection that needs it is not made, and the answers rest on the other cells.

Assumptions (:func:`assumptions` writes them into the decision log with the answers of the run
that rest on each): the spec/off ratio falls and the best g does not rise
as concurrency grows (one crossing, no comeback), as the roofline step model predicts; S(g) is
unimodal in g at a fixed concurrency; run-to-run noise is multiplicative and of one size across
points, so one pooled relative standard deviation (log scale, the degrees of freedom of all
repeated cells) serves cells measured once (a cell's own larger spread is used when it has one).
Every interval is a 95 % Student-t interval (``specscope.analysis.stats``); the tie rule is
``specscope.tie``. Intervals are recomputed at every look (no correction for repeated looks).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from specscope.analysis.frontier import pareto_frontier
from specscope.analysis.interpolate import MonotoneCubic
from specscope.analysis.stats import Uncertainty, log_ratio_ci_95, ratio_interval
from specscope.tie import TIE_FACTOR, beats, is_tie

__all__ = [
    "Answers",
    "Arm",
    "Assumption",
    "BestDepth",
    "Candidates",
    "Observation",
    "Proposal",
    "StopPaying",
    "TargetRatio",
    "answers",
    "assumptions",
    "describe_answers",
    "propose",
]

MIN_REPEATS = 2
"""Repeats of every coarse-ladder cell (the pooled noise estimate comes from them)."""
REFINE_MARGIN = 0.10
"""A target ratio within this relative distance of 1 gets its interpolation refined."""

Verdict = Literal["a", "b", "tie", "open"]
Question = Literal["coarse", "best_g", "crossover", "best_g_change", "target", "repeat"]


class Arm(BaseModel):
    """One server config of the grid: Off (``g`` 0) or a spec config at one g."""

    model_config = ConfigDict(frozen=True)

    label: str
    """The sweep key's server label (``name:settings label``)."""
    family: str
    """The recipe's spec entry (and synthetic AL) the arm belongs to; its g form one ladder."""
    g: int
    off: bool = False


class Observation(BaseModel):
    """One measured (ok) point, as the decision core needs it."""

    model_config = ConfigDict(frozen=True)

    arm: str
    workload: str
    concurrency: int
    repeat: int
    throughput_per_gpu: float = Field(gt=0)
    interactivity: float = Field(gt=0)


class Candidates(BaseModel):
    """The grid the adaptive sweep chooses from."""

    model_config = ConfigDict(frozen=True)

    arms: list[Arm]
    workloads: list[str]
    concurrencies: list[int]
    max_repeats: int = Field(default=3, ge=MIN_REPEATS)

    def off(self) -> Arm:
        return next(a for a in self.arms if a.off)

    def spec_arms(self) -> list[Arm]:
        return [a for a in self.arms if not a.off]

    def families(self) -> dict[str, list[Arm]]:
        """Spec arms per family, sorted by g (recipe order of families kept)."""
        fams: dict[str, list[Arm]] = {}
        for arm in self.spec_arms():
            fams.setdefault(arm.family, []).append(arm)
        return {k: sorted(v, key=lambda a: a.g) for k, v in fams.items()}

    def start_arm(self) -> Arm:
        """The spec config of the coarse ladder: the middle g of the first spec entry."""
        first = next(iter(self.families().values()))
        return first[(len(first) - 1) // 2]

    def coarse_ladder(self) -> list[int]:
        cs = sorted(self.concurrencies)
        return sorted({cs[0], cs[len(cs) // 2], cs[-1]})

    @property
    def grid_points(self) -> int:
        return len(self.arms) * len(self.workloads) * len(self.concurrencies) * self.max_repeats

    @property
    def ladder_points(self) -> int:
        """Points of the coarse ladder (Off and the start arm at each ladder concurrency,
        :data:`MIN_REPEATS` times per workload): no answer has an interval before they are in."""
        return len(self.workloads) * 2 * len(self.coarse_ladder()) * MIN_REPEATS


class Proposal(BaseModel):
    """The next point to measure and why."""

    model_config = ConfigDict(frozen=True)

    arm: str
    workload: str
    concurrency: int
    repeat: int
    question: Question
    reason: str


class BestDepth(BaseModel):
    """Answer (a) at one concurrency."""

    model_config = ConfigDict(frozen=True)

    concurrency: int
    arm: str | None
    """The best spec config (None: nothing measured that says)."""
    g: int | None
    decided: bool
    how: Literal["measured", "inferred", "open"]
    """measured here; inferred from the anchors either side (same best g); open."""
    contenders: list[str] = Field(default_factory=list)
    """Other configs not yet beaten with confidence (a tie or an open interval)."""
    ratio_to_runner_up: float | None = None
    ci_95: tuple[float, float] | None = None


class StopPaying(BaseModel):
    """Answer (b): the first grid concurrency where the best spec config does not beat Off."""

    model_config = ConfigDict(frozen=True)

    first_not_paying: int | None
    """None: spec pays at every measured concurrency up to the grid's largest."""
    last_paying: int | None
    """None: spec does not pay at the smallest concurrency (it never pays)."""
    decided: bool
    off_interactivity: float | None = None
    """Off's interactivity (tok/s/user) at ``first_not_paying``."""
    ratio_at_first_not: float | None = None
    ci_at_first_not: tuple[float, float] | None = None
    note: str = ""


class TargetRatio(BaseModel):
    """Answer (c) at one target interactivity."""

    model_config = ConfigDict(frozen=True)

    target: float
    ratio: float | None
    """spec/off throughput per GPU along the frontiers; None when a side cannot reach it."""
    ci_95: tuple[float, float] | None
    usd_per_mtok_ratio: float | None
    """spec/off $/M tokens (same hardware and price: 1/ratio)."""
    verdict: Literal["spec", "off", "tie", "unreachable"]
    decided: bool


class Answers(BaseModel):
    model_config = ConfigDict(frozen=True)

    workload: str
    best: list[BestDepth]
    stop: StopPaying
    targets: list[TargetRatio]
    points: int

    @property
    def open(self) -> list[str]:
        """The answers not decided at 95 %, in words."""
        out = [f"best g at C={b.concurrency}" for b in self.best if not b.decided]
        if not self.stop.decided:
            out.append("where spec stops paying")
        out += [f"spec/off at {t.target:g} tok/s/user" for t in self.targets if not t.decided]
        return out


def _interval(ci: tuple[float, float] | None) -> str:
    return "" if ci is None else f", 95 % CI {ci[0]:.2f}–{ci[1]:.2f}×"


def describe_answers(a: Answers) -> list[str]:
    """The three answers of one workload in words, for the top of compare's output and page:
    best g per concurrency, where spec stops paying, spec/off at the targets, what is open."""
    name = a.workload or "the workload"
    best = []
    for b in a.best:
        if b.g is None:
            best.append(f"C={b.concurrency} open")
            continue
        how = "" if b.how == "measured" else f" ({b.how})"
        tied = f" (vs {', '.join(b.contenders)})" if b.contenders and not b.decided else ""
        best.append(f"C={b.concurrency} g={b.g}{how}{tied}")
    lines = [f"{name}: best g per concurrency: " + "; ".join(best) + "."]
    stop = a.stop
    if stop.first_not_paying is None and stop.last_paying is not None:
        where = "spec pays at every measured concurrency"
    elif stop.last_paying is None:
        where = "spec does not pay even at the lowest concurrency"
    else:
        at = (
            ""
            if stop.off_interactivity is None
            else f", Off at {stop.off_interactivity:.3g} tok/s/user"
        )
        ratio = (
            ""
            if stop.ratio_at_first_not is None
            else f"; spec/off {stop.ratio_at_first_not:.2f}×{_interval(stop.ci_at_first_not)}"
        )
        where = (
            f"spec stops paying at C={stop.first_not_paying}{at}{ratio} (last paying "
            f"C={stop.last_paying})"
        )
    lines.append(f"{name}: {where}{'' if stop.decided else ' — not decided at 95 %'}.")
    for t in a.targets:
        if t.ratio is None:
            lines.append(f"{name}: at {t.target:g} tok/s/user a side cannot reach the target.")
            continue
        verdict = {"spec": "spec wins", "off": "off wins", "tie": "a tie", "unreachable": ""}
        lines.append(
            f"{name}: at {t.target:g} tok/s/user spec/off is {t.ratio:.2f}× in tok/s/GPU"
            f"{_interval(t.ci_95)} ({verdict[t.verdict]}"
            f"{'' if t.decided else ', not decided at 95 %'})."
        )
    if a.open:
        lines.append(f"{name}: still open: {', '.join(a.open)}.")
    return lines


# -- statistics over cells -------------------------------------------------------------------


@dataclass
class _Cell:
    throughput: list[float] = field(default_factory=list)
    interactivity: list[float] = field(default_factory=list)
    repeats: set[int] = field(default_factory=set)

    @property
    def n(self) -> int:
        return len(self.throughput)

    @property
    def mean(self) -> float:
        return float(np.mean(self.throughput))

    @property
    def mean_x(self) -> float:
        return float(np.mean(self.interactivity))


@dataclass(frozen=True)
class _Noise:
    """Pooled run-to-run noise over the repeated cells (log scale): of throughput, of
    interactivity, and their covariance."""

    rel_sd: float
    df: float
    rel_sd_x: float = 0.0
    cov: float = 0.0

    def at_fixed_interactivity(self, elasticity: float) -> float:
        """The pooled relative sd of a throughput read at a fixed interactivity."""
        var = self.rel_sd**2 + elasticity**2 * self.rel_sd_x**2 + 2.0 * elasticity * self.cov
        return math.sqrt(max(var, 0.0))


class _Data:
    """Observations of one workload by (arm, concurrency), with the pooled noise level."""

    def __init__(
        self,
        obs: Iterable[Observation],
        workload: str,
        noise: _Noise | None,
        left_out: Collection[tuple[str, str, int]] = (),
    ) -> None:
        self.cells: dict[tuple[str, int], _Cell] = {}
        self.left_out = frozenset((arm, c) for arm, w, c in left_out if w == workload)
        """(arm, concurrency) cells whose point failed: never proposed again, walked past."""
        for o in obs:
            if o.workload != workload:
                continue
            cell = self.cells.setdefault((o.arm, o.concurrency), _Cell())
            cell.throughput.append(o.throughput_per_gpu)
            cell.interactivity.append(o.interactivity)
            cell.repeats.add(o.repeat)
        self.noise = noise

    def cell(self, arm: str, c: int) -> _Cell | None:
        return self.cells.get((arm, c))

    def n(self, arm: str, c: int) -> int:
        cell = self.cells.get((arm, c))
        return 0 if cell is None else cell.n

    def uncertainty(self, cell: _Cell, elasticity: float = 0.0) -> Uncertainty | None:
        """Relative standard error of the cell's mean throughput and its degrees of freedom:
        the cell's own, or the pooled noise where that is larger. With ``elasticity`` ε > 0, of
        the throughput read at the cell's mean interactivity on a curve falling with slope −ε
        in log-log (each repeat carried there, as ``analysis.stats`` does for compare)."""
        own = 0.0
        if cell.n >= 2:
            log_x = np.log(cell.interactivity)
            carried = np.log(cell.throughput) + elasticity * (log_x - log_x.mean())
            own = float(np.std(carried, ddof=1))
        if self.noise is None:
            if cell.n < 2:
                return None
            return Uncertainty(rel_se=own / math.sqrt(cell.n), df=float(cell.n - 1))
        pooled = self.noise.at_fixed_interactivity(elasticity)
        if own > pooled:
            return Uncertainty(rel_se=own / math.sqrt(cell.n), df=float(cell.n - 1))
        return Uncertainty(rel_se=pooled / math.sqrt(cell.n), df=self.noise.df)


def pooled_noise(obs: Iterable[Observation]) -> _Noise | None:
    """Pooled relative standard deviations (of log throughput and log interactivity) and
    their pooled covariance over all repeated cells."""
    groups: dict[tuple[str, str, int], list[tuple[float, float]]] = {}
    for o in obs:
        groups.setdefault((o.arm, o.workload, o.concurrency), []).append(
            (math.log(o.throughput_per_gpu), math.log(o.interactivity))
        )
    ssy, ssx, sxy, df = 0.0, 0.0, 0.0, 0
    for values in groups.values():
        if len(values) >= 2:
            ly = np.array([v[0] for v in values])
            lx = np.array([v[1] for v in values])
            dy, dx = ly - ly.mean(), lx - lx.mean()
            ssy += float(dy @ dy)
            ssx += float(dx @ dx)
            sxy += float(dx @ dy)
            df += len(values) - 1
    if df == 0:
        return None
    return _Noise(
        rel_sd=math.sqrt(ssy / df), df=float(df), rel_sd_x=math.sqrt(ssx / df), cov=sxy / df
    )


@dataclass(frozen=True)
class _Comparison:
    ratio: float
    ci: tuple[float, float] | None
    verdict: Verdict

    @property
    def decided(self) -> bool:
        return self.verdict != "open"


def _verdict(ratio: float, ci: tuple[float, float] | None) -> Verdict:
    """a (the numerator) wins, b wins, a tie (CI inside the 1 % tie band), or open."""
    if ci is None:
        return "open"
    lo, hi = ci
    if lo > 1.0 and beats(ratio):
        return "a"
    if hi < 1.0 and beats(1.0 / ratio):
        return "b"
    if lo >= 1.0 / TIE_FACTOR and hi <= TIE_FACTOR:
        return "tie"
    return "open"


def _compare(data: _Data, a: tuple[str, int], b: tuple[str, int]) -> _Comparison | None:
    ca, cb = data.cell(*a), data.cell(*b)
    if ca is None or cb is None:
        return None
    ratio = ca.mean / cb.mean
    ua, ub = data.uncertainty(ca), data.uncertainty(cb)
    ci = None
    if ua is not None and ub is not None:
        ci = log_ratio_ci_95(ca.mean, ua.rel_se, ua.df, cb.mean, ub.rel_se, ub.df)
    return _Comparison(ratio=ratio, ci=ci, verdict=_verdict(ratio, ci))


# -- answer (a): best g ----------------------------------------------------------------------


@dataclass(frozen=True)
class _FamilyBest:
    arm: Arm
    complete: bool
    """Walking from the best g either way, every g up to one the best beats with confidence
    (or the end of the ladder) is measured here."""
    dropped: frozenset[str]
    next_to_measure: Arm | None


def _family_best(data: _Data, family: list[Arm], c: int) -> _FamilyBest | None:
    measured = [a for a in family if data.n(a.label, c) > 0]
    if not measured:
        return None
    cells = {a.label: data.cell(a.label, c) for a in measured}
    best = max(measured, key=lambda a: cells[a.label].mean)  # type: ignore[union-attr]
    i = family.index(best)
    dropped: set[str] = set()
    missing: list[Arm] = []
    for step in (-1, 1):
        # walk away from the best: past every g not beaten with confidence (a contender), up
        # to the first unmeasured g (measure it) or the first g the best beats with confidence
        # (drop it and every g beyond: S(g) is unimodal)
        j = i + step
        while 0 <= j < len(family):
            neighbour = family[j]
            if data.n(neighbour.label, c) == 0:
                if (neighbour.label, c) in data.left_out:  # its point failed: walk past it
                    j += step
                    continue
                missing.append(neighbour)
                break
            cmp = _compare(data, (best.label, c), (neighbour.label, c))
            if cmp is not None and cmp.verdict == "a":
                k = j
                while 0 <= k < len(family):
                    dropped.add(family[k].label)
                    k += step
                break
            j += step
    return _FamilyBest(
        arm=best,
        complete=not missing,
        dropped=frozenset(dropped),
        next_to_measure=missing[0] if missing else None,
    )


def _best_measured(data: _Data, cands: Candidates, c: int) -> BestDepth | None:
    bests = [
        fb for fam in cands.families().values() if (fb := _family_best(data, fam, c)) is not None
    ]
    if not bests:
        return None
    top = max(bests, key=lambda fb: data.cell(fb.arm.label, c).mean)  # type: ignore[union-attr]
    contenders: list[str] = []
    decided = all(fb.complete for fb in bests)
    runner_up: _Comparison | None = None
    for arm in cands.spec_arms():
        if arm.label == top.arm.label or data.n(arm.label, c) == 0:
            continue
        cmp = _compare(data, (top.arm.label, c), (arm.label, c))
        if cmp is None:
            continue
        if runner_up is None or cmp.ratio < runner_up.ratio:
            runner_up = cmp
        if cmp.verdict != "a":
            contenders.append(arm.label)
    decided = decided and not contenders
    return BestDepth(
        concurrency=c,
        arm=top.arm.label,
        g=top.arm.g,
        decided=decided,
        how="measured",
        contenders=contenders,
        ratio_to_runner_up=None if runner_up is None else runner_up.ratio,
        ci_95=None if runner_up is None else runner_up.ci,
    )


def _anchors(data: _Data, cands: Candidates) -> list[int]:
    """Concurrencies where some spec config is measured."""
    return sorted(
        c for c in cands.concurrencies if any(data.n(a.label, c) for a in cands.spec_arms())
    )


def _best_all(data: _Data, cands: Candidates) -> list[BestDepth]:
    anchors = _anchors(data, cands)
    measured = {c: b for c in anchors if (b := _best_measured(data, cands, c)) is not None}
    out = []
    for c in sorted(cands.concurrencies):
        if c in measured:
            out.append(measured[c])
            continue
        lower = [a for a in anchors if a < c]
        upper = [a for a in anchors if a > c]
        lo = measured.get(lower[-1]) if lower else None
        hi = measured.get(upper[0]) if upper else None
        if lo is not None and hi is not None and lo.arm == hi.arm:
            out.append(
                BestDepth(
                    concurrency=c,
                    arm=lo.arm,
                    g=lo.g,
                    decided=lo.decided and hi.decided,
                    how="inferred",
                )
            )
            continue
        near = _nearest(c, [x for x in (lo, hi) if x is not None])
        out.append(
            BestDepth(
                concurrency=c,
                arm=None if near is None else near.arm,
                g=None if near is None else near.g,
                decided=False,
                how="open",
            )
        )
    return out


def _nearest(c: int, options: Sequence[BestDepth]) -> BestDepth | None:
    if not options:
        return None
    return min(options, key=lambda b: abs(math.log(b.concurrency / c)))


# -- answer (b): where spec stops paying -----------------------------------------------------


def _pays(data: _Data, cands: Candidates, best: dict[int, BestDepth], c: int) -> _Comparison | None:
    b = best.get(c)
    if b is None or b.arm is None or b.how != "measured":
        return None
    return _compare(data, (b.arm, c), (cands.off().label, c))


def _paying(cmp: _Comparison) -> bool:
    """The point estimate's side of the crossover (a decided verdict wins over it)."""
    if cmp.verdict == "a":
        return True
    if cmp.verdict in ("b", "tie"):
        return False
    return beats(cmp.ratio)


def _stop(data: _Data, cands: Candidates, best: list[BestDepth]) -> StopPaying:
    by_c = {b.concurrency: b for b in best}
    off = cands.off().label
    ladder = sorted(cands.concurrencies)
    rows = [
        (c, cmp)
        for c in ladder
        if data.n(off, c) and (cmp := _pays(data, cands, by_c, c)) is not None
    ]
    if not rows:
        return StopPaying(
            first_not_paying=None, last_paying=None, decided=False, note="nothing measured"
        )
    first_not = next((i for i, (_, cmp) in enumerate(rows) if not _paying(cmp)), None)
    if first_not is None:
        c_last, cmp_last = rows[-1]
        decided = c_last == ladder[-1] and cmp_last.verdict == "a"
        return StopPaying(
            first_not_paying=None,
            last_paying=c_last,
            decided=decided,
            note=f"spec pays up to C={c_last}, the largest measured",
        )
    c_not, cmp_not = rows[first_not]
    cell = data.cell(off, c_not)
    x = None if cell is None else cell.mean_x
    if first_not == 0:
        decided = c_not == ladder[0] and cmp_not.decided
        return StopPaying(
            first_not_paying=c_not,
            last_paying=None,
            decided=decided,
            off_interactivity=x,
            ratio_at_first_not=cmp_not.ratio,
            ci_at_first_not=cmp_not.ci,
            note="spec does not pay at the smallest measured concurrency",
        )
    c_yes, cmp_yes = rows[first_not - 1]
    adjacent = ladder.index(c_not) - ladder.index(c_yes) == 1
    return StopPaying(
        first_not_paying=c_not,
        last_paying=c_yes,
        decided=adjacent and cmp_yes.verdict == "a" and cmp_not.decided,
        off_interactivity=x,
        ratio_at_first_not=cmp_not.ratio,
        ci_at_first_not=cmp_not.ci,
        note=f"pays at C={c_yes}, not at C={c_not}",
    )


# -- answer (c): ratios at target interactivities --------------------------------------------


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


def _frontier(data: _Data, arms: Sequence[Arm]) -> _Frontier | None:
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
class _AtTarget:
    value: float
    unc: Uncertainty | None
    bracket: tuple[tuple[str, int], tuple[str, int]]
    weight: float


def _at(front: _Frontier, target: float) -> _AtTarget | None:
    """The frontier's throughput at ``target``; a side faster than asked is held at its slowest
    point (as compare does); None when it cannot reach the target."""
    if target > front.curve.x_max:
        return None
    k, k1, t = front.curve.bracket(target)
    value = float(front.curve(max(target, front.curve.x_min)))
    uncs = front.held if target < front.curve.x_min else front.unc
    ua, ub = uncs[k], uncs[k1]
    unc = None if ua is None or ub is None else Uncertainty.between(ua, ub, t)
    return _AtTarget(value=value, unc=unc, bracket=(front.keys[k], front.keys[k1]), weight=t)


def _target_ratio(
    data: _Data, cands: Candidates, target: float
) -> tuple[TargetRatio, _AtTarget | None, _AtTarget | None]:
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
    v = _verdict(ratio, ci)
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
    gap = _gap(data, cands, s) or _gap(data, cands, o)
    answer = TargetRatio(
        target=target,
        ratio=ratio,
        ci_95=ci,
        usd_per_mtok_ratio=1.0 / ratio,
        verdict=verdict,
        decided=v != "open" and (gap is None or abs(math.log(ratio)) > REFINE_MARGIN),
    )
    return answer, s, o


def _gap(data: _Data, cands: Candidates, side: _AtTarget) -> tuple[str, int] | None:
    """The unmeasured grid cell inside ``side``'s interpolation bracket, nearer end's arm at the
    middle concurrency between the two ends; None when the bracket is tight."""
    (arm_a, c_a), (arm_b, c_b) = side.bracket
    lo_c, hi_c = sorted((c_a, c_b))
    mid = _mid(sorted(cands.concurrencies), lo_c, hi_c) if lo_c != hi_c else None
    near_arm = arm_a if side.weight < 0.5 else arm_b
    if mid is None or data.n(near_arm, mid) > 0:
        return None
    return near_arm, mid


# -- the answers -----------------------------------------------------------------------------


def answers(
    cands: Candidates,
    obs: Sequence[Observation],
    targets: dict[str, list[float]],
    left_out: Collection[tuple[str, str, int]] = (),
) -> list[Answers]:
    """The three answers per workload from the points measured so far (``left_out``: cells
    whose point failed, see :func:`propose`)."""
    noise = pooled_noise(obs)
    out = []
    for w in cands.workloads:
        data = _Data(obs, w, noise, left_out)
        best = _best_all(data, cands)
        out.append(
            Answers(
                workload=w,
                best=best,
                stop=_stop(data, cands, best),
                targets=[_target_ratio(data, cands, t)[0] for t in targets.get(w, [])],
                points=sum(c.n for c in data.cells.values()),
            )
        )
    return out


# -- the assumptions the answers rest on ----------------------------------------------------


class Assumption(BaseModel):
    """One shape assumption of the adaptive sweep and the answers of a run that rest on it."""

    model_config = ConfigDict(frozen=True)

    name: Literal["ratio_falls_with_c", "best_g_not_rising", "s_unimodal_in_g", "one_noise_size"]
    statement: str
    rests_on_it: list[str]
    """The answers of this run that would change if the assumption failed, in words (empty:
    none; the assumption only ordered the search)."""


def assumptions(
    cands: Candidates,
    obs: Sequence[Observation],
    found: Answers,
    left_out: Collection[tuple[str, str, int]] = (),
) -> list[Assumption]:
    """The shape assumptions and which of ``found``'s answers rest on each (what was inferred
    rather than measured)."""
    data = _Data(obs, found.workload, pooled_noise(obs), left_out)
    off = cands.off().label
    ladder = sorted(cands.concurrencies)
    best_anchor = {b.concurrency for b in found.best if b.how == "measured"}
    compared = [c for c in ladder if data.n(off, c) and c in best_anchor]
    stop = found.stop
    not_compared = [c for c in ladder if c not in compared]
    stop_rests = []
    if not_compared and compared:
        where = f"C={stop.first_not_paying}" if stop.first_not_paying is not None else "nowhere"
        stop_rests.append(
            f"where spec stops paying ({where}): spec vs Off not measured at C="
            + ", ".join(str(c) for c in not_compared)
            + "; below the last paying concurrency taken to pay, above the first not paying "
            "taken not to"
        )
    inferred = [b for b in found.best if b.how == "inferred"]
    best_rests = [
        f"best g at C={b.concurrency} ({b.arm}, inferred from the anchors either side)"
        for b in inferred
    ]
    best_rests += [
        f"best g at C={b.concurrency} is open: the nearest anchor's {b.arm} is shown"
        for b in found.best
        if b.how == "open" and b.arm is not None
    ]
    unimodal = []
    for b in found.best:
        if b.how != "measured":
            continue
        skipped = [a.label for a in cands.spec_arms() if data.n(a.label, b.concurrency) == 0]
        if skipped:
            unimodal.append(
                f"best g at C={b.concurrency} ({b.arm}): not measured there " + ", ".join(skipped)
            )
    once = sorted({c for (arm, c), cell in data.cells.items() if cell.n == 1})
    noise_rests = (
        [
            "the 95 % intervals (and so what is decided) at cells measured once, at C="
            + ", ".join(str(c) for c in once)
        ]
        if once
        else []
    )
    return [
        Assumption(
            name="ratio_falls_with_c",
            statement="the best spec config's throughput over Off's falls as concurrency "
            "grows: one crossing, no comeback (the roofline step model's shape)",
            rests_on_it=stop_rests,
        ),
        Assumption(
            name="best_g_not_rising",
            statement="the best draft depth g does not rise as concurrency grows: between two "
            "measured concurrencies with the same best g, that g is best",
            rests_on_it=best_rests,
        ),
        Assumption(
            name="s_unimodal_in_g",
            statement="at a fixed concurrency throughput is unimodal in g (Leviathan: S(g) "
            "rises to one maximum, then falls): a g beyond one the best beats with confidence "
            "is not measured",
            rests_on_it=unimodal,
        ),
        Assumption(
            name="one_noise_size",
            statement="run-to-run noise is multiplicative and of one size across cells: the "
            "pooled relative SD of repeated cells serves cells measured once",
            rests_on_it=noise_rests,
        ),
    ]


# -- choosing the next point -----------------------------------------------------------------


def _next_repeat(data: _Data, arm: str, c: int, cap: int) -> int | None:
    cell = data.cell(arm, c)
    taken = set() if cell is None else cell.repeats
    if len(taken) >= cap:
        return None
    return min(r for r in range(cap + 1) if r not in taken)


def _mid(ladder: list[int], lo: int, hi: int) -> int | None:
    i, j = ladder.index(lo), ladder.index(hi)
    return None if j - i < 2 else ladder[(i + j) // 2]


@dataclass
class _Ask:
    question: Question
    reason: str
    cells: list[tuple[str, int]]
    """Cells to measure: the first one with fewer than ``want`` points gets one more."""
    want: int = 1
    width: float = 0.0
    """For a repeat: the log width of the interval that straddles the decision (widest first)."""
    needs_all: bool = False
    """The ask is only worth its points when every cell can be measured (a crossover bisection
    needs Off and spec at the same concurrency)."""


def _questions(data: _Data, cands: Candidates, targets: list[float]) -> list[_Ask]:
    """Open questions of one workload, most important first."""
    ladder = sorted(cands.concurrencies)
    off, start = cands.off().label, cands.start_arm().label
    cap = cands.max_repeats
    asks: list[_Ask] = []
    # 1. coarse ladder, repeat-major: off then spec at every rung, twice
    for r in range(MIN_REPEATS):
        for arm in (off, start):
            for c in cands.coarse_ladder():
                if data.n(arm, c) <= r:
                    asks.append(_Ask("coarse", f"coarse ladder, repeat {r + 1}", [(arm, c)], r + 1))
    asks = _measurable(data, asks)
    if asks:
        return asks[:1]
    best_list = _best_all(data, cands)
    best = {b.concurrency: b for b in best_list}
    anchors = _anchors(data, cands)
    # 2. hill climb over g at every anchor
    for c in anchors:
        for fam in cands.families().values():
            fb = _family_best(data, fam, c)
            if fb is None or fb.next_to_measure is None:
                continue
            asks.append(
                _Ask(
                    "best_g",
                    f"C={c}: {fb.arm.label} is the best g so far; measure its neighbour "
                    f"{fb.next_to_measure.label}",
                    [(fb.next_to_measure.label, c)],
                )
            )
    asks = _measurable(data, asks)
    if asks:
        return asks
    # 3. bracket the crossover
    stop = _stop(data, cands, best_list)
    if stop.first_not_paying is not None and stop.last_paying is not None:
        mid = _mid(ladder, stop.last_paying, stop.first_not_paying)
        if mid is not None:
            bisect_arm = best[stop.last_paying].arm
            assert bisect_arm is not None
            asks = [
                _Ask(
                    "crossover",
                    f"spec pays at C={stop.last_paying}, not at C={stop.first_not_paying}: "
                    f"bisect at C={mid}",
                    [(off, mid), (bisect_arm, mid)],
                    needs_all=True,
                )
            ]
            asks = _measurable(data, asks)
            if asks:
                return asks
    # 4. bisect between anchors whose best g differ
    for lo, hi in itertools.pairwise(anchors):
        b_lo, b_hi = best[lo], best[hi]
        mid = _mid(ladder, lo, hi)
        if mid is None or b_lo.arm == b_hi.arm or b_lo.arm is None:
            continue
        asks.append(
            _Ask(
                "best_g_change",
                f"best is {b_lo.arm} at C={lo}, {b_hi.arm} at C={hi}: bisect at C={mid}",
                [(b_lo.arm, mid)],
            )
        )
    asks = _measurable(data, asks)
    if asks:
        return asks
    # 5. repeats where an interval still straddles a decision on the best g or the crossover,
    #    widest interval first (one more point narrows it most)
    if not stop.decided:
        for end in (stop.last_paying, stop.first_not_paying):
            end_arm = None if end is None or end not in best else best[end].arm
            if end is None or end_arm is None:
                continue
            cmp = _pays(data, cands, best, end)
            if cmp is not None and not cmp.decided:
                asks.append(
                    _Ask(
                        "repeat",
                        f"spec/off at C={end} is {cmp.ratio:.3f} with a CI "
                        f"{_ci_text(cmp.ci)}: add a repeat",
                        _fewest(data, [(off, end), (end_arm, end)]),
                        cap,
                        _width(cmp.ci),
                    )
                )
    for b in best_list:
        if b.how != "measured" or b.decided or b.arm is None:
            continue
        for other in b.contenders:
            cmp = _compare(data, (b.arm, b.concurrency), (other, b.concurrency))
            asks.append(
                _Ask(
                    "repeat",
                    f"C={b.concurrency}: {b.arm} vs {other} not decided"
                    f"{'' if cmp is None else f' (CI {_ci_text(cmp.ci)})'}: add a repeat",
                    _fewest(data, [(b.arm, b.concurrency), (other, b.concurrency)]),
                    cap,
                    _width(None if cmp is None else cmp.ci),
                )
            )
    asks = _open_asks(data, asks)
    if asks:
        return sorted(asks, key=lambda a: -a.width)
    # 6. refine a target's interpolation near a ratio of 1 (after the best g and the crossover:
    #    a target's bracketing points often are the cells those questions measure)
    for t in targets:
        answer, s, o = _target_ratio(data, cands, t)
        if answer.ratio is None or abs(math.log(answer.ratio)) > REFINE_MARGIN:
            continue
        for side in (s, o):
            gap = None if side is None else _gap(data, cands, side)
            if side is None or gap is None:
                continue
            lo_c, hi_c = sorted(c for _, c in side.bracket)
            asks.append(
                _Ask(
                    "target",
                    f"spec/off ≈ {answer.ratio:.3f} at {t:g} tok/s/user: refine the curve "
                    f"between C={lo_c} and C={hi_c}",
                    [gap],
                )
            )
    asks = _measurable(data, asks)
    if asks:
        return asks
    # 7. repeats where a target ratio's interval holds 1, widest first
    for t in targets:
        answer, s, o = _target_ratio(data, cands, t)
        if answer.decided or s is None or o is None:
            continue
        cells = list(dict.fromkeys([*s.bracket, *o.bracket]))
        asks.append(
            _Ask(
                "repeat",
                f"spec/off at {t:g} tok/s/user is {answer.ratio:.3f}, CI "
                f"{_ci_text(answer.ci_95)}: add a repeat",
                _fewest(data, cells),
                cap,
                _width(answer.ci_95),
            )
        )
    return sorted(_open_asks(data, asks), key=lambda a: -a.width)


def _measurable(data: _Data, asks: list[_Ask]) -> list[_Ask]:
    """The asks with their left-out cells removed (an ask that needs every cell, or has none
    left, goes)."""
    out = []
    for a in asks:
        cells = [cell for cell in a.cells if cell not in data.left_out]
        if cells and (len(cells) == len(a.cells) or not a.needs_all):
            a.cells = cells
            out.append(a)
    return out


def _open_asks(data: _Data, asks: list[_Ask]) -> list[_Ask]:
    """The measurable asks that some cell can still answer (fewer points than it wants)."""
    return [a for a in _measurable(data, asks) if any(data.n(*cell) < a.want for cell in a.cells)]


def _width(ci: tuple[float, float] | None) -> float:
    """An interval's width on the log scale (infinite when there is no interval yet)."""
    return math.inf if ci is None else math.log(ci[1] / ci[0])


def _ci_text(ci: tuple[float, float] | None) -> str:
    return "unknown" if ci is None else f"{ci[0]:.3f}–{ci[1]:.3f}"


def _fewest(data: _Data, cells: list[tuple[str, int]]) -> list[tuple[str, int]]:
    return sorted(cells, key=lambda cell: data.n(*cell))


def propose(
    cands: Candidates,
    obs: Sequence[Observation],
    targets: dict[str, list[float]],
    *,
    current_arm: str | None = None,
    left_out: Collection[tuple[str, str, int]] = (),
) -> Proposal | None:
    """The next point to measure, or None when every answer is decided (or nothing is left).

    Workloads take turns: the one with the fewest points among those with an open question
    goes next. Among equally urgent asks of a workload, one on ``current_arm`` (the server
    running now) is preferred: it saves a relaunch. ``left_out`` holds (arm, workload,
    concurrency) cells whose point failed: they are not proposed again (the hill climb over g
    walks past them; a crossover bisection that needs one is not made).
    """
    noise = pooled_noise(obs)
    best_choice: tuple[int, Proposal] | None = None
    for w in cands.workloads:
        data = _Data(obs, w, noise, left_out)
        asks = _questions(data, cands, targets.get(w, []))
        if not asks:
            continue
        first = asks[0].question
        ordered = sorted(
            asks,
            key=lambda a: (
                a.question != first,
                -a.width,
                not (current_arm is not None and a.cells[0][0] == current_arm),
            ),
        )
        proposal = _first_proposal(data, cands, w, ordered)
        if proposal is None:
            continue
        points = sum(cell.n for cell in data.cells.values())
        if best_choice is None or points < best_choice[0]:
            best_choice = (points, proposal)
    return None if best_choice is None else best_choice[1]


def _first_proposal(
    data: _Data, cands: Candidates, workload: str, asks: list[_Ask]
) -> Proposal | None:
    for ask in asks:
        for arm, c in ask.cells:
            repeat = _next_repeat(data, arm, c, cands.max_repeats)
            if repeat is None or data.n(arm, c) >= ask.want or (arm, c) in data.left_out:
                continue
            return Proposal(
                arm=arm,
                workload=workload,
                concurrency=c,
                repeat=repeat,
                question=ask.question,
                reason=ask.reason,
            )
    return None


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
