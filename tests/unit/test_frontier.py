"""Pareto frontier: both axes higher-is-better, InferenceX tie rules (reference §6)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from specscope.analysis.frontier import pareto_frontier

# (x = interactivity, y = throughput)
SMALL = [
    (10, 100),  # 0 front: nothing reaches x ≥ 10 with y ≥ 100
    (20, 80),  # 1 same x as 2 with lower y → dropped
    (20, 90),  # 2 y equal to point 3 at a higher x → dropped (y ≤ its y)
    (30, 90),  # 3 front
    (15, 50),  # 4 dominated by 1, 2, 3
    (40, 20),  # 5 front: highest x
    (35, 10),  # 6 dominated by 5
    (5, 100),  # 7 same y as 0 at lower x → dominated by 0
]


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        (SMALL, [0, 3, 5]),
        # exact duplicates: the lowest index stays
        ([(10, 100), (20, 50), (10, 100)], [0, 1]),
        # one point is its own frontier
        ([(7, 3)], [0]),
        # a point best on both axes dominates all others
        ([(1, 1), (5, 9), (2, 8), (4, 3)], [1]),
        # equal x: best y only; then y strictly falls: 1 (x 1, y 9), 3 (x 2, y 5)
        ([(1, 4), (1, 9), (2, 4), (2, 5)], [1, 3]),
        # non-finite points are never on the front: 1 (NaN) and 2 (inf) skipped
        ([(1, 10), (math.nan, 50), (2, math.inf), (3, 5)], [0, 3]),
        ([], []),
    ],
)
def test_frontier_indices(points: list[tuple[float, float]], expected: list[int]) -> None:
    x = [p[0] for p in points]
    y = [p[1] for p in points]
    got = pareto_frontier(x, y)
    assert got.tolist() == expected
    assert got.dtype == np.intp


def test_frontier_sorted_by_x_with_falling_y() -> None:
    x = np.array([p[0] for p in SMALL], dtype=float)
    y = np.array([p[1] for p in SMALL], dtype=float)
    front = pareto_frontier(x, y)
    assert np.all(np.diff(x[front]) > 0)
    assert np.all(np.diff(y[front]) < 0)


def test_frontier_rejects_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="same length"):
        pareto_frontier([1.0, 2.0], [1.0])


coords = st.lists(
    st.tuples(st.integers(0, 12), st.integers(0, 12)),  # small ints force ties and duplicates
    min_size=1,
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(coords)
def test_frontier_is_non_dominated_and_covers_every_removed_point(
    points: list[tuple[int, int]],
) -> None:
    x = np.array([p[0] for p in points], dtype=float)
    y = np.array([p[1] for p in points], dtype=float)
    front = pareto_frontier(x, y)
    on_front = set(front.tolist())
    assert len(on_front) == front.size
    for i in front:
        for j in range(len(points)):
            strictly_better = x[j] >= x[i] and y[j] >= y[i] and (x[j] > x[i] or y[j] > y[i])
            assert not strictly_better, (i, j)
    for j in set(range(len(points))) - on_front:
        # every removed point is matched or beaten on both axes by a frontier point
        assert any(x[i] >= x[j] and y[i] >= y[j] for i in front), j
    assert np.all(np.diff(x[front]) > 0)
    assert np.all(np.diff(y[front]) < 0)


def test_frontier_scales_to_100k_points() -> None:
    rng = np.random.default_rng(7)
    x = rng.uniform(1, 200, 100_000)
    y = rng.uniform(1, 5000, 100_000)
    front = pareto_frontier(x, y)
    # the best-y point and the best-x point are always on the front
    assert int(np.argmax(y)) in front and int(np.argmax(x)) in front
    assert np.all(np.diff(y[front]) < 0)
