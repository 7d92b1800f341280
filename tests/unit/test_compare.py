"""select_pair (series) and compare(): a small worked example, clamps, caveats, repeats."""

from __future__ import annotations

import math

import pytest
from tests.support.compare import compare_b300
from tests.support.points import EXAMPLE_OFF, example_point, example_points

from specscope.analysis.compare import compare, default_targets, interactivity_band
from specscope.analysis.economics import resolve_economics
from specscope.analysis.series import Series, select_pair, split_series
from specscope.errors import UserError
from specscope.schema import Point

# --- series --------------------------------------------------------------------------------


def test_select_pair_one_engine() -> None:
    ((spec, off),) = select_pair(
        [*example_points(), example_point("none", 8, 40.0, 1.0, status="failed")]
    )
    assert (spec.label, off.label) == ("mtp (vllm)", "off (vllm)")
    assert len(spec.points) == 4 and len(off.points) == 4  # the failed point is not counted
    assert spec.draft_depths == [2] and off.draft_depths == []


def test_select_pair_per_engine_and_pooled() -> None:
    points = example_points("vllm") + example_points("sglang")
    pairs = select_pair(points)
    assert [(s.label, o.label) for s, o in pairs] == [
        ("mtp (sglang)", "off (sglang)"),
        ("mtp (vllm)", "off (vllm)"),
    ]
    ((spec, off),) = select_pair(points, pool=True)
    assert spec.label == "mtp (sglang+vllm, pooled)"
    assert off.engines == ("sglang", "vllm") and len(off.points) == 8
    ((spec, _),) = select_pair(points, engine="SGLang")
    assert spec.engines == ("sglang",)


def test_select_pair_notes_an_engine_without_a_partner() -> None:
    points = [*example_points("vllm"), example_point("mtp", 4, 70.0, 500.0, engine="trt")]
    ((spec, _),) = select_pair(points)
    assert "not compared: trt has mtp points but no off points" in spec.notes


@pytest.mark.parametrize(
    ("points", "kwargs", "fragments"),
    [
        ([], {}, ["no points with status 'ok'"]),
        (
            [example_point("none", 1, 10.0, 10.0), example_point("eagle3", 1, 10.0, 10.0)],
            {},
            ["no points with spec method 'mtp'", "eagle3, none"],
        ),
        ([example_point("mtp", 1, 10.0, 10.0)], {}, ["no off points"]),
        (
            [
                example_point("mtp", 1, 10.0, 10.0, engine="trt"),
                example_point("none", 1, 10.0, 9.0),
            ],
            {},
            ["no engine has both", "--pool"],
        ),
        (example_points(), {"engine": "trt"}, ["engine 'trt'", "vllm"]),
        (
            example_points() + example_points(model="glm5", hardware="h200"),
            {},
            ["2 model values (glm5, qwen3.5)", "--model", "2 hardware values (b300, h200)",
             "--hardware"],
        ),
        (
            [example_point("mtp", 1, 10.0, 10.0), example_point("none", 1, 10.0, 9.0, isl=8192)],
            {},
            ["share no sequence", "mtp: 1k/1k", "off: 8k/1k"],
        ),
        (example_points(), {"spec_method": "none"}, ["off side"]),
    ],
)  # fmt: skip
def test_select_pair_user_errors(
    points: list[Point], kwargs: dict[str, object], fragments: list[str]
) -> None:
    with pytest.raises(UserError) as caught:
        select_pair(points, **kwargs)  # type: ignore[arg-type]
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_select_pair_picks_the_sequence_with_most_shared_variants() -> None:
    # 1k/1k: 4 concurrencies on both sides. 8k/1k: spec at 3 loads, off at 1 shared load.
    eight_k = [example_point("mtp", c, 30.0 + c, 100.0, isl=8192) for c in (1, 2, 3)]
    eight_k.append(example_point("none", 1, 20.0, 50.0, isl=8192))
    ((spec, off),) = select_pair(example_points() + eight_k)
    assert {p.config.isl for p in spec.points + off.points} == {1024}
    assert any("compared 1k/1k" in note and "--sequence" in note for note in spec.notes)


def test_split_series_keys_on_method_and_engine() -> None:
    series = split_series(example_points("vllm") + example_points("sglang"))
    assert [s.label for s in series] == ["mtp (sglang)", "mtp (vllm)", "off (sglang)", "off (vllm)"]


# --- compare: the worked example -----------------------------------------------------------
#
# Band: spec interactivity 20–100, off 15–60 → overlap [20, 60]; default targets 30, 40, 50.
#
# Spec frontier (x: 20, 50, 80, 100; y: 2000, 1200, 600, 200): h = 30, 30, 20;
#   s = −26.667, −20, −20. m(50): p = −23.333, min(26.667, 20, 11.667) → −23.333;
#   m(20) = (3·(−26.667) + 23.333)/2 = −28.333.
#   At 40 (segment 20–50, t = 2/3): h00 = 7/27, h10 = 2/27, h01 = 20/27, h11 = −4/27
#   y = (7·2000 + 2·30·(−28.333) + 20·1200 − 4·30·(−23.333))/27 = 39100/27 = 1448.148
#   Concurrency (64, 16, 4, 1): s = −1.6, −0.4, −0.15; m(50) = −0.8; m(20) = −2
#   c = (7·64 − 2·30·2 + 20·16 + 4·30·0.8)/27 = 744/27 = 27.556
# Off frontier (x: 15, 35, 50, 60; y: 1100, 800, 450, 150): h = 20, 15, 10;
#   s = −15, −23.333, −30. m(35): p = −19.762, min(15, 23.333, 9.881) → −19.762;
#   m(50): p = −27.333, min(23.333, 30, 13.667) → −27.333.
#   At 40 (segment 35–50, t = 1/3): h00 = 20/27, h10 = 4/27, h01 = 7/27, h11 = −2/27
#   y = (20·800 + 4·15·(−19.762) + 7·450 − 2·15·(−27.333))/27 = 695.714
#   Concurrency (64, 16, 4, 1): s = −2.4, −0.8, −0.3; m(35) = −1.4857, m(50) = −0.5
#   c = (20·16 − 4·15·1.4857 + 7·4 + 2·15·0.5)/27 = 10.143
# Economics (B300, seed preset $2.34/h, 2.17 kW):
#   spec $/M = 2.34e6/(1448.148·3600) = 0.44885; off = 2.34e6/(695.714·3600) = 0.93429
#   ratio 1448.148/695.714 = 2.08153 → "costs 52 % less (2.08× cheaper)", 108 % more tok/s/GPU
#   spec tok/s/MW = 1448.148·1000/2.17 = 667 349.4


def test_compare_worked_target() -> None:
    result = compare_b300(example_points())
    assert result.band == (20.0, 60.0) and result.band_overlaps
    assert [t.interactivity for t in result.targets] == [30.0, 40.0, 50.0]
    t = result.targets[1]
    assert t.spec.throughput_per_gpu == pytest.approx(1448.148, abs=1e-3)
    assert t.off.throughput_per_gpu == pytest.approx(695.714, abs=1e-3)
    assert t.spec.concurrency == pytest.approx(27.556, abs=1e-3)
    assert t.off.concurrency == pytest.approx(10.143, abs=1e-3)
    assert t.spec.concurrency_interpolated and t.off.concurrency_interpolated
    assert t.spec.usd_per_mtok == pytest.approx(0.44885, abs=1e-5)
    assert t.off.usd_per_mtok == pytest.approx(0.93429, abs=1e-5)
    assert t.spec.tok_s_per_mw == pytest.approx(667_349.4, abs=0.1)
    assert (t.cost.winner, t.throughput.winner, t.power.winner) == ("spec", "spec", "spec")
    assert t.cost.factor == pytest.approx(2.08153, abs=1e-5)
    assert t.cost.wording == "costs 52 % less (2.08× cheaper)"
    assert t.throughput.wording == "delivers 108 % more tok/s/GPU (2.08×)"
    assert not t.clamped
    assert "MTP costs 52 % less (2.08× cheaper) than Off" in t.narrative
    assert result.spec.n_frontier == 4 and result.off.interactivity_range == (15.0, 60.0)
    assert (result.model, result.hardware, result.sequence) == ("qwen3.5", "b300", "1k/1k")


def test_compare_at_a_measured_point_is_exact_and_not_interpolated() -> None:
    (t,) = compare_b300(example_points(), [50.0]).targets
    # both frontiers have a point at 50: spec (conc 16, 1200), off (conc 4, 450)
    assert (t.spec.throughput_per_gpu, t.spec.concurrency) == (1200.0, 16.0)
    assert (t.off.throughput_per_gpu, t.off.concurrency) == (450.0, 4.0)
    assert not t.spec.concurrency_interpolated and not t.off.concurrency_interpolated


def test_targets_outside_the_band_are_clamped_and_flagged() -> None:
    low, high = compare_b300(example_points(), [10.0, 75.0]).targets
    # 10 → band edge 20: spec's own lowest point (2000); off interpolated inside its range
    assert (low.requested, low.interactivity, low.clamped) == (10.0, 20.0, True)
    assert low.spec.throughput_per_gpu == 2000.0 and not low.spec.clamped
    assert not low.off.clamped
    assert "was asked" in low.narrative
    # 75 is above off's fastest point (60): not compared, no ratio, no winner (issue 10, item 4)
    assert (high.interactivity, high.off.interactivity, high.off.reaches) == (75.0, 60.0, False)
    assert high.spec.reaches and high.cost is None and high.throughput is None
    assert high.refusal == (
        "Off (vllm) cannot reach 75 tok/s/user (its best is 60), so nothing is compared at "
        "this target."
    )


def test_side_clamps_to_its_own_frontier() -> None:
    # A dominated spec point at 18 tok/s/user widens spec's range (band → [18, 60]) but its
    # frontier still starts at 20: at 18 the spec side is held at 20 (2000) and flagged.
    points = [*example_points(), example_point("mtp", 128, 18.0, 1000.0)]
    result = compare_b300(points, [18.0])
    (t,) = result.targets
    assert result.band == (18.0, 60.0)
    assert t.spec.clamped and t.spec.clamped_below and t.spec.interactivity == 20.0
    assert t.spec.throughput_per_gpu == 2000.0 and t.clamped
    assert any("below its frontier" in c for c in result.caveats)
    assert "held at its slowest measured point (not extrapolated), 20 tok/s/user" in t.narrative


def test_pooled_engines_and_draft_depths_are_called_out() -> None:
    points = [
        *example_points("vllm"),
        example_point("mtp", 2, 90.0, 700.0, engine="sglang", draft_depth=3),
    ]
    points.append(example_point("none", 2, 55.0, 300.0, engine="sglang"))
    result = compare_b300(points, pool=True)
    caveats = " ".join(result.caveats)
    assert "Engines sglang, vllm are pooled into one frontier for each side" in caveats
    assert "draft depths g = 2, 3" in caveats
    assert result.spec.draft_depths == [2, 3]
    assert result.spec.engines == ["sglang", "vllm"]


def test_preset_power_and_predicted_series_are_stated() -> None:
    points = [
        *example_points()[:4],
        *(example_point("none", c, x, y, source="predicted") for c, x, y in EXAMPLE_OFF),
    ]
    result = compare_b300(points)
    caveats = " ".join(result.caveats)
    assert "2.17 kW per GPU all-in from preset inferencex-2026-04" in caveats
    assert "Off (vllm) is predicted" in caveats
    assert result.off.predicted and not result.spec.predicted


def test_repeats_give_confidence_intervals() -> None:
    # At 50 tok/s/user each side has 3 repeats: spec 1140/1200/1260, off 420/450/480.
    # spec: mean 1200, sd 60 → ± 4.302653·60/√3 = 149.048; off: sd 30 → ± 74.524
    # ratio CI: rel se 0.028868 and 0.038490; √(sum of squares) = 0.048113; Welch df 3.709199,
    # t(0.975, 3.709199) = 2.864435; 2.6667·exp(∓0.137815) = 2.323 … 3.061
    points = example_points()
    for repeat, (s_y, o_y) in enumerate([(1140.0, 420.0), (1260.0, 480.0)], start=1):
        points.append(example_point("mtp", 16, 50.0, s_y, repeat=repeat))
        points.append(example_point("none", 4, 50.0, o_y, repeat=repeat))
    result = compare_b300(points, [50.0, 40.0])
    at_50, at_40 = result.targets
    assert at_50.spec.throughput_ci == pytest.approx((1050.952, 1349.048), abs=1e-3)
    assert at_50.off.throughput_ci == pytest.approx((375.476, 524.524), abs=1e-3)
    assert at_40.spec.throughput_ci is None  # the knot at 20 has no repeats
    assert any("(95 % CI 2.32×–3.06× from repeats" in c for c in result.caveats)
    assert result.spec.n_points == 6


def test_compare_on_a_dense_cloud_of_points() -> None:
    # 20 000 points per side on a grid; only the frontier is splined.
    spec = [
        example_point("mtp", 1 + i % 512, 5.0 + (i % 997) * 0.1, 100.0 + i % 1009)
        for i in range(2000)
    ]
    off = [
        example_point("none", 1 + i % 512, 5.0 + (i % 991) * 0.1, 90.0 + i % 1013)
        for i in range(2000)
    ]
    result = compare_b300(spec + off)
    assert result.spec.n_frontier < 50
    assert all(math.isfinite(t.spec.usd_per_mtok) for t in result.targets)


@pytest.mark.parametrize(
    ("lo", "hi", "targets"),
    [
        (17.2, 106.4, [40.0, 62.0, 84.0]),  # 39.5 → 40 (half up), 61.8 → 62, 84.1 → 84
        (20.0, 60.0, [30.0, 40.0, 50.0]),
        (5.0, 7.0, [5.5, 6.0, 6.5]),  # whole numbers would collapse: 5.5 → 6, 6, 6.5 → 7
        (8.0, 8.0, [8.0]),
    ],
)
def test_default_targets(lo: float, hi: float, targets: list[float]) -> None:
    assert default_targets(lo, hi) == targets


def test_interactivity_band() -> None:
    assert interactivity_band((20.0, 100.0), (15.0, 60.0)) == ((20.0, 60.0), True)
    assert interactivity_band((70.0, 100.0), (15.0, 60.0)) == ((15.0, 100.0), False)


def test_series_from_different_slices_are_refused() -> None:
    spec = Series("mtp (vllm)", "mtp", ("vllm",), tuple(example_points()[:4]))
    off_points = tuple(example_point("none", c, x, y, hardware="h200") for c, x, y in EXAMPLE_OFF)
    off = Series("off (vllm)", "none", ("vllm",), off_points)
    with pytest.raises(UserError, match="differ in hardware"):
        compare(spec, off, resolve_economics("b300"))


def test_measured_power_is_reported_but_not_mixed_into_the_preset() -> None:
    # 2 of 8 points carry measured board power, 900 W and 1100 W → mean 1000 W/GPU
    points = example_points()
    points[0] = points[0].model_copy(update={"power_w_per_gpu": 900.0})
    points[4] = points[4].model_copy(update={"power_w_per_gpu": 1100.0})
    result = compare_b300(points, [40.0])
    caveats = " ".join(result.caveats)
    assert "Measured GPU power exists for 2 of 8 points (mean 1000 W/GPU" in caveats
    assert "MTP (vllm) holds engine vllm; Off (vllm) holds engine vllm." in caveats
    # tok/s/MW still from the preset's 2.17 kW: 1448.148 · 1000 / 2.17 = 667 349.4
    assert result.targets[0].spec.tok_s_per_mw == pytest.approx(667_349.4, abs=0.1)
