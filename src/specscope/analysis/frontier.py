"""Pareto frontier of throughput (higher is better) against interactivity (higher is better).

A point is on the frontier when no other point is at least as good on both axes and better on
one. Ties follow InferenceX (reference §6): among points with the same interactivity only the
best throughput survives, and a point whose throughput is matched or beaten by a point of higher
interactivity is dropped, so along the frontier throughput strictly falls as interactivity rises.
Exact duplicates keep the one with the lowest index.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["pareto_frontier"]


def pareto_frontier(x: npt.ArrayLike, y: npt.ArrayLike) -> npt.NDArray[np.intp]:
    """Indices of the Pareto-optimal points, both axes higher-is-better, sorted by x ascending.

    Non-finite points (NaN or ±inf on either axis) are never on the frontier. O(n log n).
    """
    xs = np.asarray(x, dtype=float)
    ys = np.asarray(y, dtype=float)
    if xs.ndim != 1 or ys.shape != xs.shape:
        raise ValueError(f"x and y must be 1-D and the same length, got {xs.shape} and {ys.shape}")
    finite = np.flatnonzero(np.isfinite(xs) & np.isfinite(ys))
    if finite.size == 0:
        return np.empty(0, dtype=np.intp)
    fx = xs[finite]
    fy = ys[finite]
    # Walk from the highest x down (equal x: highest y first; full ties: lowest index first,
    # lexsort is stable). A point survives when its y beats every y already walked past, i.e.
    # every point with larger x, or equal x and better y.
    order = np.lexsort((-fy, -fx))
    walked_y = fy[order]
    best_before = np.empty_like(walked_y)
    best_before[0] = -np.inf
    np.maximum.accumulate(walked_y[:-1], out=best_before[1:])
    keep = walked_y > best_before
    return finite[order[keep][::-1]].astype(np.intp, copy=False)
