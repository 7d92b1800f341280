"""Statistics over the cells (arm, concurrency) of one workload: means, the pooled
run-to-run noise, and the comparison of two cells with its 95 % interval and verdict."""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

import numpy as np

from specscope.analysis.stats import Uncertainty, log_ratio_ci_95
from specscope.sweep.adaptive.model import Candidates, Observation, Verdict
from specscope.tie import TIE_FACTOR, beats


@dataclass
class Cell:
    """The repeats measured at one (arm, concurrency)."""

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
class Noise:
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


class WorkloadCells:
    """Observations of one workload by (arm, concurrency), with the pooled noise level."""

    def __init__(
        self,
        obs: Iterable[Observation],
        workload: str,
        noise: Noise | None,
        left_out: Collection[tuple[str, str, int]] = (),
    ) -> None:
        self.cells: dict[tuple[str, int], Cell] = {}
        self.left_out = frozenset((arm, c) for arm, w, c in left_out if w == workload)
        """(arm, concurrency) cells whose point failed: never proposed again, walked past."""
        for o in obs:
            if o.workload != workload:
                continue
            cell = self.cells.setdefault((o.arm, o.concurrency), Cell())
            cell.throughput.append(o.throughput_per_gpu)
            cell.interactivity.append(o.interactivity)
            cell.repeats.add(o.repeat)
        self.noise = noise

    def cell(self, arm: str, c: int) -> Cell | None:
        return self.cells.get((arm, c))

    def n(self, arm: str, c: int) -> int:
        cell = self.cells.get((arm, c))
        return 0 if cell is None else cell.n

    def every_family_measured(self, cands: Candidates, c: int | None = None) -> bool:
        """Whether each spec family has a measured config (at ``c``, or at any concurrency):
        a family never measured could hold the best spec config."""
        measured = {arm for arm, at in self.cells if c is None or at == c}
        return all(any(a.label in measured for a in fam) for fam in cands.families().values())

    @property
    def points(self) -> int:
        """Points measured of this workload, in all cells."""
        return sum(cell.n for cell in self.cells.values())

    def uncertainty(self, cell: Cell, elasticity: float = 0.0) -> Uncertainty | None:
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


def pooled_noise(obs: Iterable[Observation]) -> Noise | None:
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
    return Noise(
        rel_sd=math.sqrt(ssy / df), df=float(df), rel_sd_x=math.sqrt(ssx / df), cov=sxy / df
    )


@dataclass(frozen=True)
class Comparison:
    """Cell a over cell b: the throughput ratio, its 95 % interval and the verdict."""

    ratio: float
    ci: tuple[float, float] | None
    verdict: Verdict

    @property
    def decided(self) -> bool:
        return self.verdict != "open"


def verdict_of(ratio: float, ci: tuple[float, float] | None) -> Verdict:
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


def compare_cells(data: WorkloadCells, a: tuple[str, int], b: tuple[str, int]) -> Comparison | None:
    """Cell ``a`` against cell ``b`` (None while either is unmeasured)."""
    ca, cb = data.cell(*a), data.cell(*b)
    if ca is None or cb is None:
        return None
    ratio = ca.mean / cb.mean
    ua, ub = data.uncertainty(ca), data.uncertainty(cb)
    ci = None
    if ua is not None and ub is not None:
        ci = log_ratio_ci_95(ca.mean, ua.rel_se, ua.df, cb.mean, ub.rel_se, ub.df)
    return Comparison(ratio=ratio, ci=ci, verdict=verdict_of(ratio, ci))
