"""Ratio wording and per-target paragraphs: true ratios, ties, approximate loads, clamps."""

from __future__ import annotations

import pytest

from specscope.analysis.compare import make_ratio
from specscope.analysis.narrative import (
    describe_target,
    display_name,
    fmt_concurrency,
    fmt_factor,
    fmt_percent,
    fmt_usd,
)
from specscope.analysis.results import SideAtTarget, TargetComparison


@pytest.mark.parametrize(
    ("kind", "spec", "off", "winner", "factor", "percent", "wording"),
    [
        # off costs 1.188, spec 0.518: 1.188/0.518 = 2.2934; 1 − 0.518/1.188 = 0.5640
        ("cost", 0.518, 1.188, "spec", 2.2934, 56.397, "costs 56 % less (2.29× cheaper)"),
        # same pair, the other way round: off wins
        ("cost", 1.188, 0.518, "off", 2.2934, 56.397, "costs 56 % less (2.29× cheaper)"),
        # 785.7 / 339.1 = 2.3170 → 131.7 % more
        (
            "throughput",
            785.7,
            339.1,
            "spec",
            2.3170,
            131.7016,
            "delivers 132 % more tok/s/GPU (2.32×)",
        ),
        # 100.5 / 100 = 1.005 < 1.01 → tie
        (
            "throughput",
            100.5,
            100.0,
            "tie",
            1.005,
            0.5,
            "delivers the same tok/s/GPU to within 1 % (1.005×)",
        ),
        ("cost", 100.0, 100.5, "tie", 1.005, 0.4975, "costs the same to within 1 % (1.005×)"),
        # exactly 1 % apart is not a tie: 1.01 → "1.0 % more"
        ("power", 101.0, 100.0, "spec", 1.01, 1.0, "delivers 1.0 % more tok/s/MW (1.01×)"),
        # 175× cheaper: 1 − 1/175 = 99.43 % less, never "17 400 % cheaper"
        ("cost", 0.01, 1.75, "spec", 175.0, 99.4286, "costs 99 % less (175× cheaper)"),
        # 1 − 1/400 = 99.75 %: "100 % less" would claim it is free
        ("cost", 0.01, 4.0, "spec", 400.0, 99.75, "costs 99.8 % less (400× cheaper)"),
    ],
)
def test_make_ratio_wording(
    kind: str,
    spec: float,
    off: float,
    winner: str,
    factor: float,
    percent: float,
    wording: str,
) -> None:
    ratio = make_ratio(kind, spec, off)  # type: ignore[arg-type]
    assert ratio.winner == winner
    assert ratio.factor == pytest.approx(factor, abs=1e-4)
    assert ratio.percent == pytest.approx(percent, abs=1e-3)
    assert ratio.wording == wording


@pytest.mark.parametrize(
    ("percent", "text"),
    [(56.397, "56 %"), (62.5, "63 %"), (4.84, "4.8 %"), (99.43, "99 %"), (99.6, "99.6 %"),
     (99.97, "> 99.9 %"), (131.5, "132 %")],
)  # fmt: skip
def test_fmt_percent(percent: float, text: str) -> None:
    assert fmt_percent(percent) == text


@pytest.mark.parametrize(
    ("usd", "text"),
    [(0.1374498, "$0.137"), (1.188, "$1.188"), (12.34, "$12.3"), (1234.5, "$1,234"),
     (0.00123, "$0.00123")],
)  # fmt: skip
def test_fmt_usd(usd: float, text: str) -> None:
    assert fmt_usd(usd) == text


@pytest.mark.parametrize(("value", "text"), [(2.2934, "2.29×"), (12.44, "12.4×"), (174.6, "175×")])
def test_fmt_factor(value: float, text: str) -> None:
    assert fmt_factor(value) == text


@pytest.mark.parametrize(
    ("value", "text"), [(16.0, "16"), (4.0, "4"), (27.56, "28"), (3.46, "3.5")]
)
def test_fmt_concurrency(value: float, text: str) -> None:
    assert fmt_concurrency(value) == text


@pytest.mark.parametrize(
    ("label", "name"),
    [("mtp (vllm)", "MTP (vllm)"), ("off (sglang+vllm, pooled)", "Off (sglang+vllm, pooled)"),
     ("eagle3 (sglang)", "EAGLE-3 (sglang)"), ("medusa (trt)", "medusa (trt)")],
)  # fmt: skip
def test_display_name(label: str, name: str) -> None:
    assert display_name(label) == name


def _side(
    tput: float, usd: float, conc: float | None, interpolated: bool = True, **flags: bool
) -> SideAtTarget:
    return SideAtTarget(
        interactivity=78.0,
        throughput_per_gpu=tput,
        usd_per_mtok=usd,
        tok_s_per_mw=tput * 1000 / 2.65,
        concurrency=conc,
        concurrency_interpolated=interpolated,
        **flags,
    )


def _target(spec: SideAtTarget, off: SideAtTarget, requested: float = 78.0) -> TargetComparison:
    return TargetComparison(
        interactivity=78.0,
        requested=requested,
        clamped=requested != 78.0 or spec.clamped or off.clamped,
        spec=spec,
        off=off,
        cost=make_ratio("cost", spec.usd_per_mtok, off.usd_per_mtok),
        throughput=make_ratio("throughput", spec.throughput_per_gpu, off.throughput_per_gpu),
        power=make_ratio("power", spec.tok_s_per_mw, off.tok_s_per_mw),
        narrative="",
    )


def test_paragraph_states_target_winner_throughput_and_approximate_load() -> None:
    t = _target(_side(785.7, 0.518, 87.3), _side(339.1, 1.188, 18.0, interpolated=False))
    text = describe_target(t, "mtp (vllm)", "off (vllm)")
    assert text.startswith("Target 78 tok/s/user (vllm).")
    assert "MTP costs 56 % less (2.29× cheaper) than Off: $0.518 against $1.188" in text
    assert "786 tok/s with MTP and 339 tok/s with Off" in text
    assert "MTP delivers 132 % more tok/s/GPU (2.32×)" in text
    assert "MTP about 87, Off 18 (measured)" in text
    assert "estimates between measured load levels" in text
    assert "Caution" not in text
    # none of the seed pages' phrasing
    for seed_phrase in ("% cheaper per token", "essentially tied", "delivers 786 tok/s/GPU at"):
        assert seed_phrase not in text


def test_paragraph_says_a_tie_and_warns_about_clamps() -> None:
    spec = _side(100.5, 1.000, None, clamped=True, clamped_below=True)
    off = _side(100.0, 1.005, 12.0, interpolated=False)
    text = describe_target(_target(spec, off, requested=90.0), "mtp (sglang)", "off (vllm)")
    assert "MTP (sglang) and Off (vllm) cost the same to within 1 %" in text
    assert "level" not in text and text.count("the same to within 1 %") == 2
    assert "MTP (sglang) not recorded" in text
    assert "Caution: 90 tok/s/user was asked, outside the compared band" in text
    # the held side is said once, with its figures, in one sentence
    assert (
        "MTP (sglang) runs faster than asked, so it is held at its slowest measured point (not "
        "extrapolated), 78 tok/s/user, where it delivers 100 tok/s/GPU at $1.000 per million "
        "tokens."
    ) in text
    assert text.count("held") == 1
