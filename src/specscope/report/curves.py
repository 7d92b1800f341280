"""A series' operating points and frontier curve, computed the way ``analysis.compare`` does.

Repeats are merged into operating points (``analysis.stats.aggregate_repeats``); the frontier is
the Pareto front of the points with positive, finite throughput and interactivity; the drawn
curve is the Steffen monotone cubic through it (``analysis.interpolate.MonotoneCubic``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from specscope.analysis.frontier import pareto_frontier
from specscope.analysis.interpolate import MonotoneCubic
from specscope.analysis.stats import OperatingPoints, aggregate_repeats
from specscope.client.hostload import host_record
from specscope.schema import Point

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class SeriesCurve:
    """Operating points of one series, the indices of its frontier, and the frontier curve."""

    points: tuple[Point, ...]
    """The ok points the operating points were merged from."""
    ops: OperatingPoints
    front: tuple[int, ...]
    """Indices into ``ops`` of the frontier, by interactivity ascending."""

    @property
    def front_x(self) -> FloatArray:
        return self.ops.interactivity[list(self.front)]

    @property
    def front_y(self) -> FloatArray:
        return self.ops.throughput_per_gpu[list(self.front)]

    def sample(self, per_segment: int = 24) -> tuple[FloatArray, FloatArray]:
        """The frontier curve sampled for drawing: ``per_segment`` steps between knots."""
        if not self.front:
            return np.empty(0), np.empty(0)
        curve = MonotoneCubic(self.front_x, self.front_y)
        if curve.x.size == 1:
            return curve.x.copy(), curve.y.copy()
        steps = np.linspace(0.0, 1.0, per_segment, endpoint=False)
        xs = (curve.x[:-1, None] + np.diff(curve.x)[:, None] * steps[None, :]).ravel()
        xs = np.append(xs, curve.x[-1])
        return xs, curve(xs)


def host_counts(curve: SeriesCurve) -> tuple[list[int], list[int]]:
    """Per operating point: how many of its repeats had a disturbed window, and how many were
    re-measured (``client/hostload.py``)."""
    disturbed = [0] * len(curve.ops)
    remeasured = [0] * len(curve.ops)
    for point, group in zip(curve.points, curve.ops.group_of.tolist(), strict=True):
        record = host_record(point.provenance.extra)
        if record is not None:
            disturbed[group] += record.disturbed
            remeasured[group] += record.remeasured
    return disturbed, remeasured


def series_curve(points: Sequence[Point]) -> SeriesCurve:
    """Merge repeats of the ok points and find the frontier, as ``compare`` does."""
    ok = tuple(p for p in points if p.status == "ok")
    ops = aggregate_repeats(ok)
    x, y = ops.interactivity, ops.throughput_per_gpu
    kept = np.flatnonzero(np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0))
    front = tuple(int(i) for i in kept[pareto_frontier(x[kept], y[kept])]) if kept.size else ()
    return SeriesCurve(points=ok, ops=ops, front=front)
