"""Repeats and their uncertainty: one statistic, one interval, at and between measured points.

Points that share run and config and differ only in ``repeat`` are one operating point. The
statistic is the **mean over the repeats** (of throughput and of interactivity); its interval is
the 95 % Student-t interval on the mean, mean ± t(0.975, n−1)·sd/√n (sd with n−1). With the 2–5
repeats a sweep can afford, a bootstrap would only return the sample range (a 50 % interval for
two repeats, whatever it is called), and the median has no interval that honest.

At a matched interactivity the throughput is read off the frontier at a fixed x, so the noise
of x counts too: a repeat that ran faster sits further right *and* higher on its ray, and the
frontier falls to the right. Each repeat is carried along the frontier's local slope to the
mean interactivity, ln y_r + ε·(ln x_r − ln x̄) with ε = −d ln y / d ln x of the frontier at that
point (from the curve's knot slope), and the relative standard error is that of the carried
values (delta method): rel_se² = (var ln y + ε²·var ln x + 2ε·cov(ln x, ln y)) / n, with the
linear-scale relative (co)variances sd_y/ȳ, sd_x/x̄, cov/(x̄ȳ) standing in for the log ones
(``OperatingPoints.uncertainty(i, elasticity)``; ε = 0 gives the throughput's own interval, as a
point's error bar and a side held at its slowest point use). On the closed-loop runs of a sweep
x and y move together, so this interval is wider than the throughput's alone wherever the
frontier is steep.

Between measured points the curve runs through the means, and the interval is given the same
way: the relative standard error sd/(mean·√n) and the degrees of freedom are interpolated
linearly in interactivity between the two bracketing points (``Uncertainty.between``), and
value·(1 ± t(0.975, df)·rel_se) is the interval. At a measured point this is exactly its
t-interval, and it moves continuously as the target leaves the point.

A ratio of two sides (spec/off) is given a CI on the log scale: log(a/b) ± t·√(ra² + rb²), where
ra, rb are relative standard errors (the delta method) and t is the 0.975 quantile of Student's
t at the Welch–Satterthwaite degrees of freedom (ra² + rb²)² / (ra⁴/dfa + rb⁴/dfb), taken as the
fractional number it is (with two repeats a side, df lies between 1 and 2).

The t quantile is computed here, not looked up, so that the report page (which must work offline,
without libraries) can run the same algorithm in JavaScript (``tCritical95`` in
``report/assets/js/stats.js``) and agree to 1e-9: the tail P(T > t) = ½·I_x(ν/2, ½),
x = ν/(ν + t²), from the continued fraction of the regularized incomplete beta function, inverted
by Newton's method.
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
    "STATISTIC",
    "OperatingPoints",
    "Uncertainty",
    "aggregate_repeats",
    "fixed_interactivity_uncertainty",
    "log_ratio_ci_95",
    "ratio_ci_95",
    "ratio_interval",
    "t_critical_95",
]

FloatArray = npt.NDArray[np.float64]

STATISTIC = (
    "throughput is the mean over repeats, with a 95 % Student-t interval on that mean; at a "
    "matched interactivity the interval also carries the interactivity's noise (each repeat "
    "moved along the frontier's local slope to the mean interactivity); between measured "
    "points the curve runs through the means and the interval's relative standard error and "
    "degrees of freedom are interpolated linearly; a ratio's interval is on the log scale "
    "(delta method, Welch–Satterthwaite degrees of freedom)"
)
"""Which statistic and which interval a comparison reports (said in JSON, console and page)."""

_Z975 = 1.959963984540054
"""The standard normal 0.975 quantile: t(0.975, ∞), and below every t(0.975, ν)."""

_P_TAIL = 0.025
"""The upper-tail probability of a two-sided 95 % interval."""

_STIRLING_FROM = 16.0
"""ln Γ ratios use the Stirling series from this argument on (recurrence below it)."""

_CF_TINY = 1e-300
_CF_EPS = 1e-16
_CF_MAX_TERMS = 300
_NEWTON_RTOL = 1e-12
_NEWTON_MAX_STEPS = 60


def t_critical_95(df: float) -> float:
    """The two-sided 95 % Student-t critical value t(0.975, ν) at any real ν = df ≥ 1.

    Solves P(T > t) = 0.025 by Newton's method, t ← t + (P(T > t) − 0.025) / f(t), f the t
    density, from t = z(0.975) = 1.95996: the t tail is heavier than the normal one, so the root
    lies to the right of z, and P(T > t) is convex and falling for t > 0, so each Newton step
    stays left of the root and the iteration rises to it monotonically (at most 9 steps for
    ν in [1, 1e12]; agrees with ``scipy.stats.t.ppf`` to 2e-14 relative). ν = ∞ gives z.
    """
    nu = float(df)
    if not nu >= 1.0:
        raise ValueError(f"degrees of freedom must be ≥ 1, got {df}")
    if math.isinf(nu):
        return _Z975
    t = _Z975
    for _ in range(_NEWTON_MAX_STEPS):
        tail, density = _t_tail_and_density(t, nu)
        step = (tail - _P_TAIL) / density
        t += step
        if abs(step) <= _NEWTON_RTOL * t:
            break
    return t


def _t_tail_and_density(t: float, nu: float) -> tuple[float, float]:
    """P(T > t) and the density f(t) of Student's t with ν degrees of freedom, for t > 0.

    With a = ν/2, x = ν/(ν + t²), y = t²/(ν + t²) = 1 − x and B = B(ν/2, ½):
    P(T > t) = ½·I_x(a, ½) and f(t) = (1 + t²/ν)^(−(ν+1)/2) / (√ν·B). The regularized incomplete
    beta is I_x(a, b) = x^a·y^b / (a·B)·K(a, b, x) (K the continued fraction), or by symmetry
    1 − x^a·y^b / (b·B)·K(b, a, y). The first form is used while y > 1/20; for small y (large ν)
    x sits so close to 1 that its rounding alone would cost digits, and the second form, in y,
    keeps them (near the 0.025 tail its subtraction costs at most one digit).
    """
    a = 0.5 * nu
    s = nu + t * t
    x = nu / s
    y = t * t / s
    log_beta = 0.5 * math.log(math.pi) - _log_gamma_half_ratio(a)
    log_x = math.log1p(-y) if y < 0.5 else math.log(x)
    front = math.exp(a * log_x + 0.5 * math.log(y) - log_beta)
    if y > 0.05:
        tail = 0.5 * front * _beta_continued_fraction(a, 0.5, x) / a
    else:
        tail = 0.5 - 0.5 * front * _beta_continued_fraction(0.5, a, y) / 0.5
    log_density = -0.5 * (nu + 1.0) * math.log1p(t * t / nu) - 0.5 * math.log(nu) - log_beta
    return tail, math.exp(log_density)


def _log_gamma_half_ratio(z: float) -> float:
    """ln Γ(z + ½) − ln Γ(z) for z > 0, without forming either ln Γ (they cancel for large z).

    From Stirling's series ln Γ(w) = (w − ½)·ln w − w + ½·ln 2π + R(w), with
    R(w) = 1/(12w) − 1/(360w³) + 1/(1260w⁵) − 1/(1680w⁷) + 1/(1188w⁹) (next term < 1e-16 for
    w ≥ 16): ln Γ(z + ½) − ln Γ(z) = z·ln(1 + 1/(2z)) + ½·ln z − ½ + R(z + ½) − R(z). Below 16 the
    recurrence Γ(z + 3/2)/Γ(z + 1) = (1 + 1/(2z))·Γ(z + ½)/Γ(z) shifts z up first.
    """
    shift = 0.0
    while z < _STIRLING_FROM:
        shift -= math.log1p(0.5 / z)
        z += 1.0
    return (
        shift
        + z * math.log1p(0.5 / z)
        + 0.5 * math.log(z)
        - 0.5
        + _stirling_remainder(z + 0.5)
        - _stirling_remainder(z)
    )


def _stirling_remainder(w: float) -> float:
    """R(w) = ln Γ(w) − (w − ½)·ln w + w − ½·ln 2π, by its series for w ≥ 16 (see above)."""
    w2 = w * w
    return (1 / 12 - (1 / 360 - (1 / 1260 - (1 / 1680 - 1 / (1188 * w2)) / w2) / w2) / w2) / w


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """K(a, b, x) with I_x(a, b) = x^a·(1 − x)^b / (a·B(a, b))·K, by the modified Lentz method.

    K = 1/(1 + d₁/(1 + d₂/(1 + …))), d₂ₘ₊₁ = −(a + m)(a + b + m)·x / ((a + 2m)(a + 2m + 1)),
    d₂ₘ = m(b − m)·x / ((a + 2m − 1)(a + 2m)). Converges fast for x < (a + 1)/(a + b + 2) and
    still within ~20 terms just past it, where the t quantile needs it.
    """
    c = 1.0
    d = 1.0 / _lentz_guard(1.0 - (a + b) * x / (a + 1.0))
    result = d
    for m in range(1, _CF_MAX_TERMS + 1):
        m2 = 2.0 * m
        for coefficient in (
            m * (b - m) * x / ((a + m2 - 1.0) * (a + m2)),
            -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0)),
        ):
            d = 1.0 / _lentz_guard(1.0 + coefficient * d)
            c = _lentz_guard(1.0 + coefficient / c)
            factor = c * d
            result *= factor
        if abs(factor - 1.0) < _CF_EPS:
            break
    return result


def _lentz_guard(value: float) -> float:
    """Lentz's guard: a zero denominator becomes a tiny one."""
    return value if abs(value) >= _CF_TINY else _CF_TINY


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
class Uncertainty:
    """The relative standard error of a mean and its degrees of freedom (fractional between
    measured points)."""

    rel_se: float
    df: float

    @staticmethod
    def between(a: Uncertainty, b: Uncertainty, w: float) -> Uncertainty:
        """Linear interpolation from ``a`` (w = 0) to ``b`` (w = 1)."""
        return Uncertainty(
            rel_se=(1.0 - w) * a.rel_se + w * b.rel_se, df=(1.0 - w) * a.df + w * b.df
        )

    def interval(self, value: float) -> tuple[float, float]:
        """value·(1 ± t(0.975, df)·rel_se), the lower end stopped at 0 (throughput cannot be
        negative; with two or three repeats the t-interval is wide enough to cross it)."""
        half = t_critical_95(self.df) * self.rel_se * value
        return max(0.0, value - half), value + half


def fixed_interactivity_uncertainty(
    n: int,
    mean_y: float,
    sd_y: float,
    mean_x: float,
    sd_x: float,
    cov_xy: float,
    elasticity: float,
) -> Uncertainty:
    """Relative standard error (n − 1 df) of a frontier's throughput at a fixed interactivity,
    from n repeats of a point: √((ry² + ε²·rx² + 2ε·rxy) / n) with ry = sd_y/ȳ, rx = sd_x/x̄,
    rxy = cov/(x̄ȳ) and ε ≥ 0 the frontier's −d ln y / d ln x there; ε = 0 gives sd_y/(ȳ·√n).
    Worked: n 2, ȳ 100, sd_y 10, x̄ 50, sd_x 5, cov 50, ε 2: (0.01 + 4·0.01 + 4·0.01)/2 = 0.045,
    rel_se 0.2121 (0.0707 with ε = 0)."""
    ry = sd_y / mean_y
    if elasticity == 0.0:
        return Uncertainty(rel_se=ry / math.sqrt(n), df=float(n - 1))
    rx = sd_x / mean_x
    rxy = cov_xy / (mean_x * mean_y)
    var = max(ry * ry + elasticity * elasticity * rx * rx + 2.0 * elasticity * rxy, 0.0)
    return Uncertainty(rel_se=math.sqrt(var / n), df=float(n - 1))


def ratio_interval(a: float, ua: Uncertainty, b: float, ub: Uncertainty) -> tuple[float, float]:
    """95 % CI of a/b from both sides' uncertainties (``log_ratio_ci_95``)."""
    return log_ratio_ci_95(a, ua.rel_se, ua.df, b, ub.rel_se, ub.df)


@dataclass(frozen=True)
class OperatingPoints:
    """Repeats merged into operating points, as parallel arrays (one entry per operating point).

    Interactivity and throughput are means over the repeats (``STATISTIC``); ``throughput_sd``,
    ``interactivity_sd`` (sample standard deviations) and ``covariance`` (their sample
    covariance) are NaN where there is a single repeat; ``concurrency`` NaN where unknown.
    ``group_of[j]`` is the operating point that input point ``j`` was merged into.
    """

    interactivity: FloatArray
    throughput_per_gpu: FloatArray
    throughput_sd: FloatArray
    n_repeats: npt.NDArray[np.int64]
    concurrency: FloatArray
    group_of: npt.NDArray[np.intp]
    interactivity_sd: FloatArray
    covariance: FloatArray

    def __len__(self) -> int:
        return int(self.interactivity.size)

    def members(self, i: int) -> list[int]:
        """Indices of the input points merged into operating point ``i``."""
        return [int(j) for j in np.flatnonzero(self.group_of == i)]

    def uncertainty(self, i: int, elasticity: float = 0.0) -> Uncertainty | None:
        """The relative standard error of operating point ``i``'s throughput and its n − 1
        degrees of freedom; None for a single repeat. ``elasticity`` 0: of the mean throughput,
        sd/(mean·√n). ``elasticity`` ε > 0: of the frontier's value at the point's mean
        interactivity, each repeat carried there along slope −ε in log-log (module docstring)."""
        n = int(self.n_repeats[i])
        if n < 2:
            return None
        return fixed_interactivity_uncertainty(
            n,
            float(self.throughput_per_gpu[i]),
            float(self.throughput_sd[i]),
            float(self.interactivity[i]),
            float(self.interactivity_sd[i]),
            float(self.covariance[i]),
            elasticity,
        )

    def throughput_ci(self, i: int) -> tuple[float, float] | None:
        """95 % t-interval on the mean throughput of operating point ``i`` (None for one repeat)."""
        unc = self.uncertainty(i)
        return None if unc is None else unc.interval(float(self.throughput_per_gpu[i]))

    @property
    def has_repeats(self) -> bool:
        return bool(np.any(self.n_repeats > 1))


def aggregate_repeats(points: Sequence[Point]) -> OperatingPoints:
    """Merge points that differ only in ``repeat`` (same run_id and config) into operating points.

    Operating points appear in the order of their first member. One pass over the points plus
    numpy; only runs that hold a repeat other than 0 are grouped by config. The statistics of
    the merged groups are computed row-wise over (groups × repeats) matrices, one per group
    size, with members in input order: the same numbers as ``mean``/``std`` over each group on
    its own (and the median of its concurrency), without a Python loop per group.
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
    out_sd = np.full(m, math.nan)
    out_sdx = np.full(m, math.nan)
    out_cov = np.full(m, math.nan)
    for size in np.unique(counts[counts > 1]).tolist():
        groups = np.flatnonzero(counts == size)
        idx = order[starts[groups][:, None] + np.arange(size)]
        gx = x[idx]
        gy = y[idx]
        gc = conc[idx]
        mx = gx.mean(axis=1)
        my = gy.mean(axis=1)
        out_x[groups] = mx
        out_y[groups] = my
        out_sd[groups] = gy.std(axis=1, ddof=1)
        out_sdx[groups] = gx.std(axis=1, ddof=1)
        out_cov[groups] = ((gx - mx[:, None]) * (gy - my[:, None])).sum(axis=1) / (size - 1)
        out_conc[groups] = np.where(np.isnan(gc).any(axis=1), math.nan, np.median(gc, axis=1))
    return OperatingPoints(
        interactivity=out_x,
        throughput_per_gpu=out_y,
        throughput_sd=out_sd,
        n_repeats=counts,
        concurrency=out_conc,
        group_of=group_of,
        interactivity_sd=out_sdx,
        covariance=out_cov,
    )


_config_values = operator.attrgetter(*PointConfig.model_fields)
"""A config's field values as a tuple: equal tuples exactly when the configs are equal."""


def _singletons(x: FloatArray, y: FloatArray, conc: FloatArray) -> OperatingPoints:
    n = x.size
    return OperatingPoints(
        interactivity=x,
        throughput_per_gpu=y,
        throughput_sd=np.full(n, math.nan),
        n_repeats=np.ones(n, dtype=np.int64),
        concurrency=conc,
        group_of=np.arange(n, dtype=np.intp),
        interactivity_sd=np.full(n, math.nan),
        covariance=np.full(n, math.nan),
    )
