"""The Leviathan model in specscope.theory.leviathan: worked numbers, validation, invariants."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from specscope.theory.leviathan import (
    best_draft_depth,
    break_even_cost_ratio,
    effective_cost_ratio,
    expected_tokens,
    implied_cost_ratio,
    speedup,
)

alphas = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
gammas = st.integers(min_value=1, max_value=64)
costs = st.floats(min_value=0.0, max_value=10.0, allow_nan=False)


@pytest.mark.parametrize(
    ("a", "g", "expected"),
    [
        (0.906, 2, 2.726836),  # 1 + 0.906 + 0.906² = 1 + 0.906 + 0.820836
        (0.5, 3, 1.875),  # 1 + 0.5 + 0.25 + 0.125
        (0.8, 8, 4.32891136),  # (1 − 0.8⁹)/0.2 = (1 − 0.134217728)/0.2
        (0.0, 5, 1.0),  # only the bonus token
        (1.0, 4, 5.0),  # every draft accepted: g + 1
    ],
)
def test_expected_tokens_worked(a: float, g: int, expected: float) -> None:
    assert expected_tokens(a, g) == pytest.approx(expected, rel=1e-12)


def test_expected_tokens_is_accurate_next_to_one() -> None:
    # E(1 − x, 3) = 4 − 6x + O(x²); the naive (1 − a⁴)/(1 − a) is off by ~1e-4 at x = 1e-12.
    a = 1.0 - 1e-12
    x = 1.0 - a
    assert expected_tokens(a, 3) == pytest.approx(4.0 - 6.0 * x, abs=1e-13)


@pytest.mark.parametrize(
    ("a", "g", "c", "expected"),
    [
        (0.8, 8, 0.05, 3.092079543),  # 4.32891136 / 1.4
        (0.6, 1, 0.5, 1.6 / 1.5),  # g = 1: (1 + a)/(1 + c)
        (0.906, 2, 0.0, 2.726836),  # free draft: S = E
        (0.5, 2, 1.0, 1.75 / 3.0),  # draft as dear as a verify: loses
    ],
)
def test_speedup_worked(a: float, g: int, c: float, expected: float) -> None:
    assert speedup(a, g, c) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize(
    ("a", "g", "s", "expected"),
    [
        (0.906, 2, 1.41, 0.466963),  # (2.726836/1.41 − 1)/2 (RTX 3090, seed 004)
        (0.914, 2, 0.91, 1.010657),  # (2.749396/0.91 − 1)/2 (MI300X Q4_K_M)
        (0.904, 2, 0.86, 1.082102),  # (2.721216/0.86 − 1)/2 (MI300X Q8_0)
        (0.5, 2, 2.0, -0.0625),  # S above E = 1.75: negative, the caller flags it
    ],
)
def test_implied_cost_ratio_worked(a: float, g: int, s: float, expected: float) -> None:
    assert implied_cost_ratio(a, g, s) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    ("a", "g", "expected"),
    [
        (0.906, 2, 0.863418),  # (0.906 + 0.820836)/2
        (0.914, 2, 0.874698),  # (0.914 + 0.835396)/2
        (0.7, 1, 0.7),  # g = 1: c* = a
        (0.5, 3, 0.291666667),  # (0.5 + 0.25 + 0.125)/3
        (0.0, 4, 0.0),
    ],
)
def test_break_even_cost_ratio_worked(a: float, g: int, expected: float) -> None:
    assert break_even_cost_ratio(a, g) == pytest.approx(expected, abs=1e-9)


# Reference §1 table (scan g = 1..20), rounded to two decimals there.
BEST_GAMMA_TABLE = [
    (0.6, 0.01, 7, 2.30),
    (0.6, 0.05, 4, 1.92),
    (0.6, 0.1, 3, 1.67),
    (0.6, 0.2, 2, 1.40),
    (0.6, 0.5, 1, 1.07),
    (0.8, 0.01, 14, 4.23),
    (0.8, 0.05, 8, 3.09),
    (0.8, 0.1, 6, 2.47),
    (0.8, 0.2, 4, 1.87),
    (0.8, 0.5, 2, 1.22),
    (0.9, 0.01, 20, 7.42),  # capped by the scan; the true optimum is 24 (below)
    (0.9, 0.05, 13, 4.67),
    (0.9, 0.1, 10, 3.43),
    (0.9, 0.2, 7, 2.37),
    (0.9, 0.5, 3, 1.38),
]


@pytest.mark.parametrize(("a", "c", "g_star", "s_star"), BEST_GAMMA_TABLE)
def test_best_gamma_reference_table(a: float, c: float, g_star: int, s_star: float) -> None:
    best = best_draft_depth(a, c, g_max=20)
    assert best.draft_depth == g_star
    assert best.speedup == pytest.approx(s_star, abs=0.005)
    assert best.at_limit == (g_star == 20)


def test_best_gamma_beyond_twenty_with_default_scan() -> None:
    # a = 0.9, c = 0.01: E(0.9, 24)/(1.24) = 7.4856.
    best = best_draft_depth(0.9, 0.01)
    assert best.draft_depth == 24
    assert best.speedup == pytest.approx(7.4856, abs=1e-4)
    assert not best.at_limit


@pytest.mark.parametrize(
    ("a", "c", "g_max", "expected_g"),
    [
        (0.0, 0.0, 10, 1),  # every depth gives S = 1: the tie goes to the smallest g
        (1.0, 0.0, 10, 10),  # S = g + 1 grows without bound: the scan's end
        (0.3, 0.5, 10, 1),  # nothing pays; the least bad depth is 1
    ],
)
def test_best_gamma_edges_and_tie_rule(a: float, c: float, g_max: int, expected_g: int) -> None:
    assert best_draft_depth(a, c, g_max).draft_depth == expected_g


@pytest.mark.parametrize(
    ("al", "g", "s", "expected"),
    [
        (1.9, 1, 1.20, 0.583333),  # (1.9/1.2 − 1)/1, Strix Halo
        (2.4, 2, 1.39, 0.363309),  # (2.4/1.39 − 1)/2
        (2.8, 3, 1.48, 0.297297),  # (2.8/1.48 − 1)/3
        (1.85, 1, 1.8, 0.027778),  # DeepSeek-V3, a = 0.85 at 1.8×
        (1.9, 1, 1.8, 0.055556),  # DeepSeek-V3, a = 0.90 at 1.8×
    ],
)
def test_effective_cost_ratio_worked(al: float, g: int, s: float, expected: float) -> None:
    assert effective_cost_ratio(al, g, s) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    ("call", "fragment"),
    [
        (lambda: expected_tokens(-0.1, 2), "acceptance a"),
        (lambda: expected_tokens(1.1, 2), "[0, 1]"),
        (lambda: expected_tokens(math.nan, 2), "acceptance a"),
        (lambda: expected_tokens(0.5, 0), "draft depth g"),
        (lambda: expected_tokens(0.5, 1.5), "whole number"),  # type: ignore[arg-type]
        (lambda: expected_tokens(0.5, True), "draft depth g"),
        (lambda: speedup(0.5, 2, -0.1), "cost ratio c"),
        (lambda: speedup(0.5, 2, math.inf), "cost ratio c"),
        (lambda: implied_cost_ratio(0.5, 2, 0.0), "speedup S"),
        (lambda: implied_cost_ratio(0.5, 2, -1.0), "speedup S"),
        (lambda: effective_cost_ratio(0.5, 2, 1.0), "acceptance length AL"),
        (lambda: effective_cost_ratio(3.5, 2, 1.0), "[1, 3]"),
        (lambda: best_draft_depth(0.5, 0.1, g_max=0), "draft depth g"),
    ],
)
def test_invalid_inputs_raise_value_error(call: Callable[[], object], fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        call()
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


@given(alphas, gammas)
def test_expected_tokens_bounds(a: float, g: int) -> None:
    e = expected_tokens(a, g)
    assert 1.0 <= e <= g + 1.0 + 1e-12


@given(alphas, alphas, gammas)
def test_expected_tokens_rises_with_acceptance(a1: float, a2: float, g: int) -> None:
    low, high = sorted((a1, a2))
    assert expected_tokens(low, g) <= expected_tokens(high, g) * (1.0 + 1e-12)


@given(alphas, gammas, costs)
def test_speedup_never_exceeds_g_plus_one(a: float, g: int, c: float) -> None:
    assert speedup(a, g, c) <= g + 1.0 + 1e-12


@given(
    alphas,
    gammas,
    st.floats(min_value=0.01, max_value=1.0, allow_nan=False),
)
def test_implied_cost_ratio_reproduces_the_speedup(a: float, g: int, fraction: float) -> None:
    s = expected_tokens(a, g) * fraction  # any S in (0, E] has a cost ratio c >= 0
    c = implied_cost_ratio(a, g, s)
    assert c >= -1e-12
    assert speedup(a, g, max(c, 0.0)) == pytest.approx(s, rel=1e-9)


@given(alphas, gammas)
def test_break_even_gives_speedup_one(a: float, g: int) -> None:
    assert speedup(a, g, break_even_cost_ratio(a, g)) == pytest.approx(1.0, rel=1e-12)


@given(alphas, costs, st.integers(min_value=1, max_value=32))
def test_best_gamma_beats_every_scanned_depth(a: float, c: float, g_max: int) -> None:
    best = best_draft_depth(a, c, g_max)
    g, s = best.draft_depth, best.speedup
    assert 1 <= g <= g_max
    assert all(speedup(a, k, c) <= s * (1.0 + 1e-12) for k in range(1, g_max + 1))
