"""Repeats and their uncertainty.

Points that share run and config and differ only in ``repeat`` are one operating point: its
throughput and interactivity are the medians over the repeats. The confidence interval on the
throughput is a Student-t interval on the mean, mean ± t(0.975, n−1)·sd/√n (sd with n−1): with
the 2–5 repeats a sweep can afford, a bootstrap would only return the sample range. The median
need not sit at the centre of that interval.

A ratio of two sides (spec/off) is given a CI on the log scale: log(a/b) ± t·√(ra² + rb²), where
ra, rb are relative standard errors (sd/(mean·√n), the delta method) and the degrees of freedom
come from Welch–Satterthwaite, rounded down (a slightly wider, conservative interval).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from specscope.schema import Point, PointConfig

__all__ = [
    "OperatingPoints",
    "aggregate_repeats",
    "log_ratio_ci_95",
    "mean_ci_95",
    "ratio_ci_95",
    "t_critical_95",
]

FloatArray = npt.NDArray[np.float64]

# Two-sided 95 % Student-t critical values t(0.975, df) for df = 1..30.
_T95 = (
    12.706204736,
    4.302652730,
    3.182446305,
    2.776445105,
    2.570581836,
    2.446911851,
    2.364624252,
    2.306004135,
    2.262157163,
    2.228138852,
    2.200985160,
    2.178812830,
    2.160368656,
    2.144786688,
    2.131449546,
    2.119905299,
    2.109815578,
    2.100922040,
    2.093024054,
    2.085963447,
    2.079613845,
    2.073873068,
    2.068657610,
    2.063898562,
    2.059538553,
    2.055529439,
    2.051830516,
    2.048407142,
    2.045229642,
    2.042272456,
)
_Z975 = 1.959963984540054


def t_critical_95(df: float) -> float:
    """t(0.975, df); non-integer df rounds down; beyond 30 a Cornish–Fisher series (< 1e-5 off)."""
    if not df >= 1:
        raise ValueError(f"degrees of freedom must be ≥ 1, got {df}")
    whole = math.floor(df)
    if whole <= len(_T95):
        return _T95[whole - 1]
    z = _Z975
    g1 = (z**3 + z) / 4.0
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96.0
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384.0
    return z + g1 / whole + g2 / whole**2 + g3 / whole**3


def mean_ci_95(samples: Sequence[float]) -> tuple[float, float] | None:
    """95 % t-interval on the mean of the samples; None for fewer than two."""
    n = len(samples)
    if n < 2:
        return None
    values = np.asarray(samples, dtype=float)
    mean = float(values.mean())
    half = t_critical_95(n - 1) * float(values.std(ddof=1)) / math.sqrt(n)
    return mean - half, mean + half


def log_ratio_ci_95(
    a: float,
    rel_se_a: float,
    df_a: float,
    b: float,
    rel_se_b: float,
    df_b: float,
) -> tuple[float, float]:
    """95 % CI of a/b given each side's relative standard error and degrees of freedom."""
    ratio = a / b
    var = rel_se_a**2 + rel_se_b**2
    if var == 0:
        return ratio, ratio
    denominator = 0.0
    for rel_se, df in ((rel_se_a, df_a), (rel_se_b, df_b)):
        if rel_se > 0:
            denominator += rel_se**4 / df
    df_welch = var**2 / denominator
    spread = t_critical_95(df_welch) * math.sqrt(var)
    return ratio * math.exp(-spread), ratio * math.exp(spread)


def ratio_ci_95(
    a_samples: Sequence[float], b_samples: Sequence[float]
) -> tuple[float, float] | None:
    """95 % CI of mean(a)/mean(b) from repeats on both sides; None when a side has < 2 samples."""
    if len(a_samples) < 2 or len(b_samples) < 2:
        return None
    a = np.asarray(a_samples, dtype=float)
    b = np.asarray(b_samples, dtype=float)
    mean_a, mean_b = float(a.mean()), float(b.mean())
    rel_a = float(a.std(ddof=1)) / (mean_a * math.sqrt(a.size))
    rel_b = float(b.std(ddof=1)) / (mean_b * math.sqrt(b.size))
    return log_ratio_ci_95(mean_a, rel_a, a.size - 1, mean_b, rel_b, b.size - 1)


@dataclass(frozen=True)
class OperatingPoints:
    """Repeats merged into operating points, as parallel arrays (one entry per operating point).

    ``throughput_sd`` is NaN where there is a single repeat; ``concurrency`` NaN where unknown.
    ``group_of[j]`` is the operating point that input point ``j`` was merged into.
    """

    interactivity: FloatArray
    throughput_per_gpu: FloatArray
    throughput_mean: FloatArray
    throughput_sd: FloatArray
    n_repeats: npt.NDArray[np.int64]
    concurrency: FloatArray
    group_of: npt.NDArray[np.intp]

    def __len__(self) -> int:
        return int(self.interactivity.size)

    def members(self, i: int) -> list[int]:
        """Indices of the input points merged into operating point ``i``."""
        return [int(j) for j in np.flatnonzero(self.group_of == i)]

    def throughput_ci(self, i: int) -> tuple[float, float] | None:
        """95 % t-interval on the mean throughput of operating point ``i`` (None for one repeat).

        Throughput cannot be negative, so the lower end stops at 0 (with two or three repeats
        the t-interval is wide enough to cross it).
        """
        n = int(self.n_repeats[i])
        if n < 2:
            return None
        half = t_critical_95(n - 1) * float(self.throughput_sd[i]) / math.sqrt(n)
        mean = float(self.throughput_mean[i])
        return max(0.0, mean - half), mean + half

    def relative_se(self, i: int) -> float | None:
        """sd / (mean·√n) of operating point ``i``; None for one repeat."""
        n = int(self.n_repeats[i])
        if n < 2:
            return None
        return float(self.throughput_sd[i]) / (float(self.throughput_mean[i]) * math.sqrt(n))

    @property
    def has_repeats(self) -> bool:
        return bool(np.any(self.n_repeats > 1))


def aggregate_repeats(points: Sequence[Point]) -> OperatingPoints:
    """Merge points that differ only in ``repeat`` (same run_id and config) into operating points.

    Operating points appear in the order of their first member. One pass over the points plus
    numpy; only runs that hold a repeat other than 0 are grouped by config. The statistics of
    the merged groups are computed row-wise over (groups × repeats) matrices, one per group
    size, with members in input order: the same numbers as ``np.median``/``mean``/``std`` over
    each group on its own, without a Python loop per group.
    """
    n = len(points)
    x = np.fromiter((p.interactivity for p in points), dtype=float, count=n)
    y = np.fromiter((p.throughput_per_gpu for p in points), dtype=float, count=n)
    conc = np.fromiter(
        (
            p.config.concurrency
            if p.config.concurrency is not None
            else (math.nan if p.measured_concurrency is None else p.measured_concurrency)
            for p in points
        ),
        dtype=float,
        count=n,
    )
    repeated_runs = {p.run_id for p in points if p.repeat != 0}
    if not repeated_runs:
        return _singletons(x, y, conc)
    first_of: dict[tuple[str, object], int] = {}
    group_of = np.empty(n, dtype=np.intp)
    for j, p in enumerate(points):
        # The config's values (not the model) as the key: equal configs, far cheaper to hash.
        key: tuple[str, object] = (
            p.run_id,
            _config_values(p.config) if p.run_id in repeated_runs else j,
        )
        group_of[j] = first_of.setdefault(key, len(first_of))
    m = len(first_of)
    if m == n:
        return _singletons(x, y, conc)
    counts = np.bincount(group_of, minlength=m).astype(np.int64)
    order = np.argsort(group_of, kind="stable")
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    first_index = order[starts]
    out_x = x[first_index]
    out_y = y[first_index]
    out_conc = conc[first_index]
    out_mean = out_y.copy()
    out_sd = np.full(m, math.nan)
    for size in np.unique(counts[counts > 1]).tolist():
        groups = np.flatnonzero(counts == size)
        idx = order[starts[groups][:, None] + np.arange(size)]
        gy = y[idx]
        gc = conc[idx]
        out_x[groups] = np.median(x[idx], axis=1)
        out_y[groups] = np.median(gy, axis=1)
        out_mean[groups] = gy.mean(axis=1)
        out_sd[groups] = gy.std(axis=1, ddof=1)
        out_conc[groups] = np.where(np.isnan(gc).any(axis=1), math.nan, np.median(gc, axis=1))
    return OperatingPoints(
        interactivity=out_x,
        throughput_per_gpu=out_y,
        throughput_mean=out_mean,
        throughput_sd=out_sd,
        n_repeats=counts,
        concurrency=out_conc,
        group_of=group_of,
    )


_config_values = operator.attrgetter(*PointConfig.model_fields)
"""A config's field values as a tuple: equal tuples exactly when the configs are equal."""


def _singletons(x: FloatArray, y: FloatArray, conc: FloatArray) -> OperatingPoints:
    n = x.size
    return OperatingPoints(
        interactivity=x,
        throughput_per_gpu=y,
        throughput_mean=y.copy(),
        throughput_sd=np.full(n, math.nan),
        n_repeats=np.ones(n, dtype=np.int64),
        concurrency=conc,
        group_of=np.arange(n, dtype=np.intp),
    )
