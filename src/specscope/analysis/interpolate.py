"""Monotone cubic Hermite interpolation with Steffen slopes (the curve of d3's curveMonotoneX).

For knots (x_i, y_i) with x strictly increasing, h_i = x_{i+1} − x_i and secants
s_i = (y_{i+1} − y_i) / h_i (reference §7):

- interior slope (Steffen 1990): with p = (s0·h1 + s1·h0) / (h0 + h1),
  m_i = (sgn s0 + sgn s1) · min(|s0|, |s1|, |p|/2), where sgn(0) = +1;
- end slopes: m_0 = (3·s_0 − m_1)/2 and m_{n−1} = (3·s_{n−2} − m_{n−2})/2;
- on [x_k, x_{k+1}] with t = (x − x_k)/h: y = h00·y_k + h10·h·m_k + h01·y_{k+1} + h11·h·m_{k+1}.

Because every slope is 0 or has the sign of the adjacent secants and at most twice their size,
each segment is monotone and stays between its two knot values: no overshoot. Targets outside
[x_min, x_max] are clamped to the edge (and flagged by :func:`evaluate_clamped`), never
extrapolated.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict

__all__ = [
    "ClampedValue",
    "MonotoneCubic",
    "curve_at",
    "evaluate_clamped",
    "merge_duplicate_knots",
    "steffen_slopes",
]

FloatArray = npt.NDArray[np.float64]


def merge_duplicate_knots(x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Sort knots by x and merge knots with equal x into one knot at the mean of their y."""
    xs = np.asarray(x, dtype=float).ravel()
    ys = np.asarray(y, dtype=float).ravel()
    if xs.shape != ys.shape:
        raise ValueError(f"x and y must have the same length, got {xs.size} and {ys.size}")
    if xs.size == 0:
        raise ValueError("at least one knot is needed")
    if not (np.all(np.isfinite(xs)) and np.all(np.isfinite(ys))):
        raise ValueError("knots must be finite")
    order = np.argsort(xs, kind="stable")
    xs = xs[order]
    ys = ys[order]
    if xs.size > 1 and np.any(xs[1:] == xs[:-1]):
        unique_x, first, counts = np.unique(xs, return_index=True, return_counts=True)
        sums = np.add.reduceat(ys, first)
        return unique_x, sums / counts
    return xs, ys


def steffen_slopes(x: npt.ArrayLike, y: npt.ArrayLike) -> FloatArray:
    """Knot slopes of the monotone cubic (x strictly increasing, at least one knot)."""
    xs = np.asarray(x, dtype=float)
    ys = np.asarray(y, dtype=float)
    n = xs.size
    if n < 2:
        return np.zeros(n)
    h = np.diff(xs)
    s = np.diff(ys) / h
    if n == 2:
        # Exactly two knots: a straight line, as d3's curveMonotoneX draws it. InferenceX's
        # calculator sets m_0 = 1.5·s before m_1 is known and bends the segment; not copied.
        return np.array([s[0], s[0]])
    h0, h1 = h[:-1], h[1:]
    s0, s1 = s[:-1], s[1:]
    p = (s0 * h1 + s1 * h0) / (h0 + h1)
    sign0 = np.where(s0 < 0, -1.0, 1.0)
    sign1 = np.where(s1 < 0, -1.0, 1.0)
    interior = (sign0 + sign1) * np.minimum(np.minimum(np.abs(s0), np.abs(s1)), 0.5 * np.abs(p))
    m = np.empty(n)
    m[1:-1] = interior
    m[0] = (3.0 * s[0] - m[1]) / 2.0
    m[-1] = (3.0 * s[-1] - m[-2]) / 2.0
    return m


class MonotoneCubic:
    """The Steffen monotone cubic through a set of knots; call it on targets.

    Knots are sorted by x and duplicate x values merged (mean y). Targets outside the knot
    range are clamped to the nearest edge; use :func:`evaluate_clamped` to learn that it happened.
    """

    def __init__(self, x: npt.ArrayLike, y: npt.ArrayLike) -> None:
        self.x, self.y = merge_duplicate_knots(x, y)
        self.slopes = steffen_slopes(self.x, self.y)

    @property
    def x_min(self) -> float:
        return float(self.x[0])

    @property
    def x_max(self) -> float:
        return float(self.x[-1])

    def __call__(self, targets: npt.ArrayLike) -> FloatArray:
        t_in = np.asarray(targets, dtype=float)
        xs, ys, m = self.x, self.y, self.slopes
        flat = np.clip(t_in.ravel(), xs[0], xs[-1])
        if xs.size == 1:
            return np.full(t_in.shape, ys[0])
        k = np.clip(np.searchsorted(xs, flat, side="right") - 1, 0, xs.size - 2)
        h = xs[k + 1] - xs[k]
        t = (flat - xs[k]) / h
        t2 = t * t
        t3 = t2 * t
        h00 = 2.0 * t3 - 3.0 * t2 + 1.0
        h10 = t3 - 2.0 * t2 + t
        h01 = -2.0 * t3 + 3.0 * t2
        h11 = t3 - t2
        # At a knot t is exactly 0 or 1, so the measured value comes back unchanged.
        out: FloatArray = h00 * ys[k] + h10 * h * m[k] + h01 * ys[k + 1] + h11 * h * m[k + 1]
        return out.reshape(t_in.shape)

    def elasticity(self, k: int) -> float:
        """−d ln y / d ln x at knot ``k`` (the knot slope times x/y), floored at 0: how steeply
        a falling curve drops there, in relative terms (a frontier's is ≥ 0)."""
        y = float(self.y[k])
        if y <= 0.0:
            return 0.0
        return max(0.0, -float(self.slopes[k]) * float(self.x[k]) / y)

    def bracket(self, target: float) -> tuple[int, int, float]:
        """The knots either side of a (clamped) target and its position t in [0, 1] between them."""
        xs = self.x
        if xs.size == 1:
            return 0, 0, 0.0
        xt = min(max(float(target), float(xs[0])), float(xs[-1]))
        k = int(np.clip(np.searchsorted(xs, xt, side="right") - 1, 0, xs.size - 2))
        return k, k + 1, (xt - float(xs[k])) / float(xs[k + 1] - xs[k])


class ClampedValue(BaseModel):
    """The curve's value at a target, and whether the target had to be clamped to the knot range."""

    model_config = ConfigDict(frozen=True)

    value: float
    x: float
    """Where the curve was evaluated: the target, or the edge it was clamped to."""
    clamped: bool
    clamped_below: bool
    clamped_above: bool
    at_knot: bool
    """True when ``x`` is exactly a knot, i.e. the value is a measured one, not interpolated."""


def evaluate_clamped(x_knots: npt.ArrayLike, y_knots: npt.ArrayLike, target: float) -> ClampedValue:
    """Evaluate the monotone cubic at one target, clamped to [x_min, x_max] and flagged.

    A one-knot curve returns that knot's value (flagged as clamped unless the target equals it).
    """
    curve = MonotoneCubic(x_knots, y_knots)
    return curve_at(curve, target)


def curve_at(curve: MonotoneCubic, target: float) -> ClampedValue:
    """:func:`evaluate_clamped` for an already-built curve."""
    below = target < curve.x_min
    above = target > curve.x_max
    x_eval = curve.x_min if below else curve.x_max if above else float(target)
    value = float(curve(x_eval))
    return ClampedValue(
        value=value,
        x=x_eval,
        clamped=below or above,
        clamped_below=below,
        clamped_above=above,
        at_knot=bool(np.any(curve.x == x_eval)),
    )
