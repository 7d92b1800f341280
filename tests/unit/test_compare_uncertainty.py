"""One statistic and one interval at and between measured points, and the ratio's interval
(issue 10 items 1–3): worked numbers derived by hand in the comments."""

from __future__ import annotations

import json
import math

import pytest
from tests.support.compare import compare_b300
from tests.support.points import curve_point, repeated

from specscope.analysis.stats import STATISTIC, t_critical_95
from specscope.schema import Point


def _side(method: str, rows: list[tuple[int, float, list[float]]]) -> list[Point]:
    return repeated(method, rows, precision="fp4")


# Spec: at 20 tok/s/user repeats 1000, 1010, 1300; at 40 repeats 600, 660.
#   x = 20: mean 1103.333, sd 170.392, se 98.376 (rel 0.089162), df 2, t 4.302653
#           → 1103.333 ± 423.277 = (680.057, 1526.610) — the issue's (680, 1527)
#   x = 40: mean 630, sd 42.426, se 30 (rel 0.047619), df 1
# Off: at 20 repeats 500, 400 (mean 450, rel se 1/9, df 1); at 40 repeats 300, 280 (mean 290).
SPEC_ROWS = [(16, 20.0, [1000.0, 1010.0, 1300.0]), (4, 40.0, [600.0, 660.0])]
OFF_ROWS = [(8, 20.0, [500.0, 400.0]), (2, 40.0, [300.0, 280.0])]
POINTS = _side("mtp", SPEC_ROWS) + _side("none", OFF_ROWS)


@pytest.mark.parametrize(
    ("x", "value", "ci"),
    [
        # at the measured point: the t-interval on the mean
        (20.0, 1103.333333, (680.056872, 1526.609795)),
        # a hair away: the same statistic and (to 1e-3) the same interval, not the median's
        # (622, 1397) the old code gave here
        (20.000001, 1103.333310, (680.0569, 1526.6097)),
        # a quarter of the way to 40 (two knots: the Steffen curve is the line): value 985.0;
        # rel se 0.75·0.089162 + 0.25·0.047619 = 0.078776, df 0.75·2 + 0.25·1 = 1.75,
        # t(0.975, 1.75) = 4.948848 → 985·(1 ∓ 0.389852) = (600.995, 1369.005)
        (25.0, 985.0, (600.995079, 1369.004921)),
        # at the other measured point: 630 ± 12.706205·30 = (248.814, 1011.186)
        (40.0, 630.0, (248.813862, 1011.186138)),
    ],
)
def test_one_statistic_one_interval_at_and_between_points(
    x: float, value: float, ci: tuple[float, float]
) -> None:
    (t,) = compare_b300(POINTS, [x]).targets
    assert t.spec.throughput_per_gpu == pytest.approx(value, abs=1e-5)
    assert t.spec.throughput_ci == pytest.approx(ci, abs=1e-3)


def test_the_interval_moves_continuously_off_a_measured_point() -> None:
    at, near = compare_b300(POINTS, [20.0, 20.0 + 1e-9]).targets
    assert at.spec.throughput_ci is not None and near.spec.throughput_ci is not None
    for a, b in zip(at.spec.throughput_ci, near.spec.throughput_ci, strict=True):
        assert b == pytest.approx(a, rel=1e-6)
    assert t_critical_95(1.75) == pytest.approx(4.948848, abs=1e-6)


def test_worked_ratio_interval_of_issue_10_through_compare() -> None:
    # Spec 1000/1200, off 500/400 at one interactivity: ratio 1100/450 = 2.444444,
    # Welch df 1.924535, t 4.468445 → 95 % CI 1.287005×–4.642803× (test_stats_t derives it).
    points = _side("mtp", [(4, 30.0, [1000.0, 1200.0])]) + _side(
        "none", [(4, 30.0, [500.0, 400.0])]
    )
    result = compare_b300(points, [30.0])
    (t,) = result.targets
    assert t.throughput is not None and t.cost is not None and t.power is not None
    assert t.throughput.factor == pytest.approx(2.444444, abs=1e-6)
    for ratio in (t.throughput, t.cost, t.power):
        assert ratio.factor_ci == pytest.approx((1.287005, 4.642803), abs=1e-6)
        assert ratio.factor_ci_note is None
    assert any("(95 % CI 1.29×–4.64× from repeats" in c for c in result.caveats)
    assert result.statistic == STATISTIC
    assert any(c.startswith("Throughput is the mean over repeats") for c in result.caveats)
    dumped = json.loads(result.model_dump_json())
    assert dumped["targets"][0]["cost"]["factor_ci"] == pytest.approx([1.287005, 4.642803], 1e-6)


def test_factor_interval_is_turned_over_when_off_is_faster() -> None:
    # Spec 400/500 against off 1200/1000: off wins, factor 1100/450 = 2.444, and its interval
    # is the inverse of spec/off's (1/4.642803, 1/1.287005) turned over: again 1.287–4.643.
    points = _side("mtp", [(4, 30.0, [500.0, 400.0])]) + _side(
        "none", [(4, 30.0, [1000.0, 1200.0])]
    )
    (t,) = compare_b300(points, [30.0]).targets
    assert t.throughput is not None and t.throughput.winner == "off"
    assert t.throughput.factor_ci == pytest.approx((1.287005, 4.642803), abs=1e-6)
    lo, hi = t.throughput.factor_ci
    assert lo <= t.throughput.factor <= hi


def test_factor_interval_is_null_with_the_reason_without_repeats() -> None:
    points = _side("mtp", [(4, 30.0, [1000.0, 1200.0])]) + _side("none", [(4, 30.0, [450.0])])
    result = compare_b300(points, [30.0])
    (t,) = result.targets
    assert t.throughput is not None
    assert t.throughput.factor_ci is None
    assert t.throughput.factor_ci_note == (
        "no interval: Off (vllm) has a single repeat at the measured point(s) it is read from "
        "(an interval needs at least 2 repeats on both sides)"
    )
    assert t.off.throughput_ci is None and t.spec.throughput_ci is not None
    assert not any("95 % CI" in c and "ratio" in c for c in result.caveats)


def test_ratio_interval_between_points_uses_the_interpolated_uncertainties() -> None:
    # At x = 25 (w = 0.25): spec 985.0, rel se 0.078776, df 1.75 (above);
    # off 450 − 0.25·160 = 410.0, rel se 0.75·(1/9) + 0.25·0.034483 = 0.091954, df 1.
    # var = 0.078776² + 0.091954² = 0.014661; Welch df = var² / (0.078776⁴/1.75 + 0.091954⁴/1)
    # = 0.000214956 / (0.0000219947 + 0.0000714966) = 2.301..., t ≈ 3.8; ratio 2.402439.
    (t,) = compare_b300(POINTS, [25.0]).targets
    assert t.throughput is not None and t.throughput.factor_ci is not None
    rel_s = 0.75 * 0.0891622632 + 0.25 * 0.0476190476
    rel_o = 0.75 / 9.0 + 0.25 * (math.sqrt(200.0) / (290.0 * math.sqrt(2.0)))
    var = rel_s**2 + rel_o**2
    df = var**2 / (rel_s**4 / 1.75 + rel_o**4 / 1.0)
    spread = t_critical_95(df) * math.sqrt(var)
    ratio = 985.0 / 410.0
    assert t.throughput.factor == pytest.approx(ratio, rel=1e-9)
    assert t.throughput.factor_ci == pytest.approx(
        (ratio * math.exp(-spread), ratio * math.exp(spread)), rel=1e-6
    )


# Read at a fixed interactivity, a point's interval carries its interactivity noise along the
# frontier's slope (analysis.stats, fixed_interactivity_uncertainty). Spec repeats at C=16:
# (19, 950) and (21, 1050); at C=4: (38, 570) and (42, 630) → knots (20, 1000) and (40, 600),
# Steffen slope −20 at both, elasticity ε = 20·20/1000 = 0.4 at the first knot.
# ry = 70.711/1000 = 0.070711, rx = 1.41421/20 = 0.070711, cov = (−1·−50 + 1·50)/1 = 100,
# rxy = 100/(20·1000) = 0.005: var = 0.005 + 0.16·0.005 + 2·0.4·0.005 = 0.0098, /2 → rel se 0.07
# (0.05 with ε = 0); t(0.975, 1) = 12.7062 → 1000 ± 889.43 (± 635.31 for the throughput alone).
NOISY_SPEC = [
    curve_point("mtp", conc, x, y, repeat=repeat, precision="fp4")
    for conc, x, y, repeat in [
        (16, 19.0, 950.0, 0),
        (16, 21.0, 1050.0, 1),
        (4, 38.0, 570.0, 0),
        (4, 42.0, 630.0, 1),
    ]
]


def test_an_interval_read_at_a_fixed_interactivity_carries_its_noise() -> None:
    result = compare_b300(NOISY_SPEC + _side("none", OFF_ROWS), [20.0])
    (t,) = result.targets
    assert t.spec.throughput_per_gpu == pytest.approx(1000.0)
    lo, hi = t.spec.throughput_ci or (0.0, 0.0)
    assert (lo, hi) == pytest.approx((1000.0 - 889.43, 1000.0 + 889.43), abs=0.01)


def test_a_side_held_at_its_slowest_point_keeps_the_throughputs_own_interval() -> None:
    # off reaches 15 tok/s/user at most, spec runs 20 at least (no overlap): asked for 15, spec
    # is held at (20, 1000), and its interval is its throughput's own, ±635.31
    off = _side("none", [(8, 10.0, [500.0, 400.0]), (2, 15.0, [300.0, 280.0])])
    result = compare_b300(NOISY_SPEC + off, [15.0])
    (t,) = result.targets
    assert t.spec.clamped_below
    lo, hi = t.spec.throughput_ci or (0.0, 0.0)
    assert (lo, hi) == pytest.approx((1000.0 - 635.31, 1000.0 + 635.31), abs=0.01)
