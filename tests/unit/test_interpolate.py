"""Steffen monotone cubic (d3 curveMonotoneX), clamping and exact knot hits."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from specscope.analysis.interpolate import (
    MonotoneCubic,
    evaluate_clamped,
    merge_duplicate_knots,
    steffen_slopes,
)

# Worked example, knots x = [0, 1, 3, 4], y = [0, 2, 3, 7]:
#   h = [1, 2, 1], secants s = [2, 0.5, 4]
#   knot 1: p = (2·2 + 0.5·1)/3 = 1.5;  min(2, 0.5, 0.75) = 0.5;   m1 = 2·0.5 = 1.0
#   knot 2: p = (0.5·1 + 4·2)/3 = 2.833; min(0.5, 4, 1.417) = 0.5; m2 = 1.0
#   ends:   m0 = (3·2 − 1)/2 = 2.5;  m3 = (3·4 − 1)/2 = 5.5
X4 = [0.0, 1.0, 3.0, 4.0]
Y4 = [0.0, 2.0, 3.0, 7.0]


@pytest.mark.parametrize(
    ("x", "y", "slopes"),
    [
        (X4, Y4, [2.5, 1.0, 1.0, 5.5]),
        # secants flip sign at the middle knot: its slope is 0, ends 1.5·s
        ([0.0, 1.0, 2.0], [0.0, 1.0, 0.0], [1.5, 0.0, -1.5]),
        # a flat secant: sgn(0) = +1 but min(|0|, …) = 0, so m1 = 0; m0 = 0; m2 = 1.5
        ([0.0, 1.0, 2.0], [1.0, 1.0, 2.0], [0.0, 0.0, 1.5]),
        # two knots: the secant at both ends (a straight line, as d3 draws it)
        ([10.0, 20.0], [100.0, 50.0], [-5.0, -5.0]),
        ([3.0], [9.0], [0.0]),
    ],
)
def test_steffen_slopes(x: list[float], y: list[float], slopes: list[float]) -> None:
    assert steffen_slopes(x, y) == pytest.approx(slopes)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        # segment [1, 3], h = 2, t = 0.5: h00 = 0.5, h10 = 0.125, h01 = 0.5, h11 = −0.125
        # y = 0.5·2 + 0.125·2·1 + 0.5·3 − 0.125·2·1 = 2.5
        (2.0, 2.5),
        # segment [0, 1], t = 0.5: y = 0.125·1·2.5 + 0.5·2 − 0.125·1·1 = 1.1875
        (0.5, 1.1875),
        # knots come back exactly
        (0.0, 0.0),
        (1.0, 2.0),
        (3.0, 3.0),
        (4.0, 7.0),
    ],
)
def test_evaluate_worked_example(target: float, expected: float) -> None:
    assert float(MonotoneCubic(X4, Y4)(target)) == pytest.approx(expected, abs=1e-12)


def test_two_knots_draw_a_straight_line_not_the_inferencex_bend() -> None:
    # 12.5 is a quarter of the way from 10 to 20: 100 − 0.25·50 = 87.5.
    # InferenceX's m0 = 1.5·s, m1 = 0.75·s would give 83.398 instead.
    curve = MonotoneCubic([10.0, 20.0], [100.0, 50.0])
    assert float(curve(12.5)) == pytest.approx(87.5, abs=1e-12)
    assert curve([15.0, 17.5]).tolist() == pytest.approx([75.0, 62.5])


# Knots x = [10, 20, 30], y = [90, 60, 20]: s = [−3, −4]; knot 1: p = −3.5,
# min(3, 4, 1.75) → m1 = −3.5; m0 = (−9 + 3.5)/2 = −2.75. At 15 (t = 0.5, h = 10):
# 0.5·90 + 0.125·10·(−2.75) + 0.5·60 − 0.125·10·(−3.5) = 45 − 3.4375 + 30 + 4.375 = 75.9375
CLAMP_X = [10.0, 20.0, 30.0]
CLAMP_Y = [90.0, 60.0, 20.0]


@pytest.mark.parametrize(
    ("target", "value", "x", "below", "above", "at_knot"),
    [
        (15.0, 75.9375, 15.0, False, False, False),
        (20.0, 60.0, 20.0, False, False, True),
        (10.0, 90.0, 10.0, False, False, True),
        (30.0, 20.0, 30.0, False, False, True),
        (5.0, 90.0, 10.0, True, False, True),  # clamped to the low edge (a measured knot)
        (35.0, 20.0, 30.0, False, True, True),
    ],
)
def test_evaluate_clamped_flags(
    target: float, value: float, x: float, below: bool, above: bool, at_knot: bool
) -> None:
    got = evaluate_clamped(CLAMP_X, CLAMP_Y, target)
    assert got.value == pytest.approx(value, abs=1e-12)
    assert got.x == x
    assert (got.clamped, got.clamped_below, got.clamped_above) == (below or above, below, above)
    assert got.at_knot is at_knot


@pytest.mark.parametrize(
    ("target", "clamped"),
    [(50.0, False), (40.0, True), (60.0, True)],
)
def test_one_point_front_returns_its_value(target: float, clamped: bool) -> None:
    got = evaluate_clamped([50.0], [7.0], target)
    assert got.value == 7.0
    assert got.clamped is clamped
    assert got.x == 50.0


def test_duplicate_knots_merge_to_mean_and_sort() -> None:
    # x = 1 twice with y 2 and 4 → one knot (1, 3); input unsorted
    x, y = merge_duplicate_knots([2.0, 1.0, 1.0], [5.0, 2.0, 4.0])
    assert x.tolist() == [1.0, 2.0]
    assert y.tolist() == [3.0, 5.0]
    assert float(MonotoneCubic([2.0, 1.0, 1.0], [5.0, 2.0, 4.0])(1.5)) == pytest.approx(4.0)


def test_bad_knots_are_rejected() -> None:
    with pytest.raises(ValueError, match="at least one"):
        MonotoneCubic([], [])
    with pytest.raises(ValueError, match="finite"):
        MonotoneCubic([1.0, float("nan")], [1.0, 2.0])


finite = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)


@st.composite
def knots(draw: st.DrawFn, monotone: bool) -> tuple[list[float], list[float]]:
    n = draw(st.integers(2, 8))
    xs = sorted(draw(st.lists(finite, min_size=n, max_size=n, unique=True)))
    ys = draw(st.lists(finite, min_size=n, max_size=n))
    if monotone:
        ys = sorted(ys, reverse=draw(st.booleans()))
    return xs, ys


def _check_within_neighbours(xs: list[float], ys: list[float], fraction: float) -> None:
    gaps = np.diff(xs)
    assume(np.all(gaps > 1e-6))
    curve = MonotoneCubic(xs, ys)
    for k in range(len(xs) - 1):
        x = xs[k] + fraction * (xs[k + 1] - xs[k])
        value = float(curve(x))
        lo, hi = min(ys[k], ys[k + 1]), max(ys[k], ys[k + 1])
        slack = 1e-9 * max(1.0, abs(lo), abs(hi))
        assert lo - slack <= value <= hi + slack, (k, x, value)


@settings(max_examples=200, deadline=None)
@given(knots(monotone=True), st.floats(0.0, 1.0))
def test_monotone_data_stays_between_neighbouring_knots(
    data: tuple[list[float], list[float]], fraction: float
) -> None:
    _check_within_neighbours(*data, fraction)


@settings(max_examples=200, deadline=None)
@given(knots(monotone=False), st.floats(0.0, 1.0))
def test_any_data_never_overshoots_a_segment(
    data: tuple[list[float], list[float]], fraction: float
) -> None:
    # Steffen slopes are 0 or the secants' sign with at most twice their size: no overshoot.
    _check_within_neighbours(*data, fraction)


def test_elasticity_at_knots_is_minus_slope_times_x_over_y() -> None:
    # knots (20, 1000), (40, 600), (60, 500): Steffen slopes −25, −10, −2.5 →
    # ε = 25·20/1000 = 0.5, 10·40/600 = 0.6667, 2.5·60/500 = 0.3; a rising curve floors at 0
    curve = MonotoneCubic([20.0, 40.0, 60.0], [1000.0, 600.0, 500.0])
    assert [curve.elasticity(k) for k in range(3)] == pytest.approx([0.5, 2 / 3, 0.3])
    assert MonotoneCubic([1.0, 2.0], [1.0, 2.0]).elasticity(0) == 0.0
