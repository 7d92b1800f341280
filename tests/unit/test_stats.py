"""Repeats into operating points; t-interval CIs; log-ratio CI."""

from __future__ import annotations

import math

import numpy as np
import pytest
from tests.support.points import make_point

from specscope.analysis.stats import (
    Uncertainty,
    aggregate_repeats,
    log_ratio_ci_95,
    ratio_ci_95,
)
from specscope.schema import Point


def _point(
    tput: float,
    intvty: float,
    *,
    conc: int | None = 4,
    repeat: int = 0,
    run: str = "run-a",
    measured: float | None = None,
) -> Point:
    return make_point(
        run_id=run,
        concurrency=conc,
        repeat=repeat,
        throughput_per_gpu=tput,
        interactivity=intvty,
        measured_concurrency=measured,
    )


def test_mean_interval_worked() -> None:
    # mean 110, sd 10, n 3: rel se 10/(110·√3), df 2; half = 4.302653 · 10 / √3 = 24.8414
    unc = Uncertainty(rel_se=10.0 / (110.0 * math.sqrt(3.0)), df=2.0)
    assert unc.interval(110.0) == pytest.approx((85.1586, 134.8414), abs=1e-4)
    # a wide interval stops at 0: throughput cannot be negative
    assert Uncertainty(rel_se=0.5, df=1.0).interval(100.0) == pytest.approx((0.0, 735.3102), 1e-6)


def test_ratio_ci_worked() -> None:
    # a: mean 110, sd 10 → rel se 10/(110·√3) = 0.052486; b: mean 50, sd 2 → 0.023094
    # var = 0.0027548 + 0.0005333 = 0.0032882, √ = 0.057342
    # Welch df = var² / (0.052486⁴/2 + 0.023094⁴/2) = 2.746423, t(0.975, 2.746423) = 3.355308
    # ratio 2.2 · exp(∓3.355308 · 0.057342) = 2.2 · exp(∓0.192402) = (1.81495, 2.66675)
    lo, hi = ratio_ci_95([100.0, 110.0, 120.0], [48.0, 50.0, 52.0])  # type: ignore[misc]
    assert (lo, hi) == pytest.approx((1.81495, 2.66675), abs=1e-5)
    assert ratio_ci_95([1.0], [1.0, 2.0]) is None


def test_log_ratio_ci_without_spread_is_the_ratio() -> None:
    assert log_ratio_ci_95(3.0, 0.0, 2, 2.0, 0.0, 2) == (1.5, 1.5)
    # one side without spread: df is the other side's (2), t = 4.302653, se = 0.1
    lo, hi = log_ratio_ci_95(3.0, 0.1, 2, 2.0, 0.0, 5)
    assert (lo, hi) == pytest.approx((1.5 * math.exp(-0.4302653), 1.5 * math.exp(0.4302653)))


def test_repeats_merge_into_one_operating_point() -> None:
    points = [
        _point(1140.0, 49.0, repeat=0),
        _point(1260.0, 51.0, repeat=1),
        _point(1200.0, 50.5, repeat=2),
        _point(900.0, 60.0, conc=2),  # other config: its own point
        _point(1000.0, 50.0, repeat=1, run="run-b"),  # same config, other run: its own point
    ]
    ops = aggregate_repeats(points)
    assert len(ops) == 3
    assert ops.n_repeats.tolist() == [3, 1, 1]
    # means: throughput (1140, 1260, 1200) → 1200; interactivity (49, 51, 50.5) → 50.1667
    # (the median would be 50.5: the statistic is the mean, on both axes)
    assert ops.throughput_per_gpu.tolist() == [1200.0, 900.0, 1000.0]
    assert ops.interactivity.tolist() == pytest.approx([50.166667, 60.0, 50.0], abs=1e-6)
    assert ops.members(0) == [0, 1, 2]
    assert ops.members(2) == [4]
    # mean 1200, sd 60: half = 4.302653 · 60/√3 = 149.0483
    assert ops.throughput_ci(0) == pytest.approx((1050.9517, 1349.0483), abs=1e-4)
    assert ops.throughput_ci(1) is None
    # relative se = 60 / (1200 · √3) = 0.028868, on n − 1 = 2 degrees of freedom
    unc = ops.uncertainty(0)
    assert unc is not None and unc.df == 2.0
    assert unc.rel_se == pytest.approx(0.0288675, abs=1e-7)
    assert ops.uncertainty(1) is None
    assert ops.has_repeats


def test_no_repeats_keeps_every_point() -> None:
    points = [_point(100.0, 10.0), _point(50.0, 20.0, conc=None, measured=3.5)]
    ops = aggregate_repeats(points)
    assert len(ops) == 2 and not ops.has_repeats
    # concurrency falls back to the measured mean in flight
    assert ops.concurrency.tolist() == [4.0, 3.5]


def test_unknown_concurrency_is_nan() -> None:
    ops = aggregate_repeats([_point(100.0, 10.0, conc=None)])
    assert np.isnan(ops.concurrency[0])
