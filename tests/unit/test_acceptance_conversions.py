"""Acceptance conversions (alpha, rate, AL) and per-position acceptance in specscope.theory."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from specscope.schema import AcceptanceCounts
from specscope.theory.acceptance import (
    AcceptanceKind,
    al_from_positions,
    al_to_alpha,
    al_to_rate,
    alpha_by_draft_depth,
    alpha_to_al,
    alpha_to_rate,
    conditional_by_position,
    conditional_from_al_curve,
    rate_to_al,
    rate_to_alpha,
    to_al,
    to_alpha,
    to_rate,
    unconditional_by_position,
)
from specscope.theory.leviathan import expected_tokens

gammas = st.integers(min_value=1, max_value=32)
unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


@pytest.mark.parametrize(
    ("al", "g", "alpha", "rate"),
    [
        (1.93, 1, 0.930, 0.930),  # g = 1: a = AL − 1 = r
        (2.73, 2, 0.907, 0.865),  # a = (√(4·2.73 − 3) − 1)/2 = 0.9071; r = 1.73/2
        (3.39, 3, 0.891, 0.797),  # a + a² + a³ = 2.39 → 0.8906; r = 2.39/3
    ],
)
def test_reference_worked_conversions(al: float, g: int, alpha: float, rate: float) -> None:
    assert al_to_alpha(al, g) == pytest.approx(alpha, abs=5e-4)
    assert al_to_rate(al, g) == pytest.approx(rate, abs=5e-4)


@pytest.mark.parametrize("al", [1.0, 1.2, 1.5, 1.93, 1.99999])
def test_g1_inverse_is_al_minus_one(al: float) -> None:
    assert al_to_alpha(al, 1) == pytest.approx(al - 1.0, abs=1e-12)


@pytest.mark.parametrize("al", [1.1, 2.0, 2.73, 2.99])
def test_g2_inverse_matches_the_quadratic(al: float) -> None:
    # 1 + a + a² = AL → a = (√(4·AL − 3) − 1)/2
    assert al_to_alpha(al, 2) == pytest.approx((math.sqrt(4.0 * al - 3.0) - 1.0) / 2.0, abs=1e-12)


@pytest.mark.parametrize(("g"), [1, 2, 5, 16])
def test_al_at_the_ends_maps_to_zero_and_one(g: int) -> None:
    assert al_to_alpha(1.0, g) == 0.0
    assert al_to_alpha(g + 1.0, g) == 1.0


@pytest.mark.parametrize(
    ("value", "kind", "g", "alpha", "al", "rate"),
    [
        # a = 0.906: AL = 1 + 0.906 + 0.820836; r = 1.726836/2
        (0.906, "alpha", 2, 0.906, 2.726836, 0.863418),
        # r = 0.906: AL = 1 + 2·0.906 = 2.812; a = (√(4·2.812 − 3) − 1)/2 = (√8.248 − 1)/2
        (0.906, "rate", 2, 0.9359665, 2.812, 0.906),
        # AL = 2.73: a = (√7.92 − 1)/2 = 0.9071247; r = 0.865
        (2.73, "al", 2, 0.9071247, 2.73, 0.865),
        # AL = 3.39 at g = 3
        (3.39, "al", 3, 0.8905682, 3.39, 0.7966667),
    ],
)
def test_to_functions_for_each_kind(
    value: float, kind: AcceptanceKind, g: int, alpha: float, al: float, rate: float
) -> None:
    assert to_alpha(value, kind, g) == pytest.approx(alpha, abs=1e-7)
    assert to_al(value, kind, g) == pytest.approx(al, abs=1e-7)
    assert to_rate(value, kind, g) == pytest.approx(rate, abs=1e-7)


def test_same_number_as_alpha_or_rate_differs_in_the_third_digit() -> None:
    # 0.906 read as a gives AL 2.7268; read as r gives AL 2.812.
    assert to_al(0.906, "alpha", 2) == pytest.approx(2.726836, abs=1e-6)
    assert to_al(0.906, "rate", 2) == pytest.approx(2.812, abs=1e-12)


@pytest.mark.parametrize(
    ("curve", "first", "last"),
    [
        # Reference §5: implied a at g = 1 and g = 8
        ([1.93, 2.73, 3.39, 3.97, 4.41, 4.80, 5.04, 5.21], 0.93, 0.85),  # Qwen3.5 MTP
        ([1.79, 2.27, 2.49, 2.54, 2.55, 2.55, 2.54, 2.58], 0.79, 0.62),  # DeepSeek-V4-Pro MTP
        ([1.83, 2.43, 2.88, 3.24, 3.46, 3.62, 3.71, 3.77], 0.83, 0.76),  # Kimi-K2.5 EAGLE3
    ],
)
def test_alpha_by_gamma_reference_curves(curve: list[float], first: float, last: float) -> None:
    implied = alpha_by_draft_depth(curve)
    assert implied[0] == pytest.approx(first, abs=5e-3)
    assert implied[-1] == pytest.approx(last, abs=5e-3)


@pytest.mark.parametrize(
    ("curve", "q2_q3_q4"),
    [
        # (AL_g − AL_{g−1}) / (AL_{g−1} − AL_{g−2}): 0.80/0.93, 0.66/0.80, 0.58/0.66
        ([1.93, 2.73, 3.39, 3.97], (0.86, 0.83, 0.88)),
        # 0.48/0.79, 0.22/0.48, 0.05/0.22
        ([1.79, 2.27, 2.49, 2.54], (0.61, 0.46, 0.23)),
        # 0.60/0.83, 0.45/0.60, 0.36/0.45
        ([1.83, 2.43, 2.88, 3.24], (0.72, 0.75, 0.80)),
    ],
)
def test_conditional_from_al_curve_reference(
    curve: list[float], q2_q3_q4: tuple[float, float, float]
) -> None:
    q = conditional_from_al_curve(curve)
    assert q[0] == pytest.approx(curve[0] - 1.0)
    assert q[1:] == [pytest.approx(x, abs=5e-3) for x in q2_q3_q4]


def test_conditional_from_al_curve_none_after_a_flat_step() -> None:
    # steps 0.8, 0.0, 0.1: q = 0.8, 0.0, None (nothing left to condition on)
    assert conditional_from_al_curve([1.8, 1.8, 1.9]) == [
        pytest.approx(0.8),
        0.0,
        None,
    ]


@given(st.floats(min_value=0.3, max_value=0.99), st.integers(min_value=1, max_value=6))
def test_conditional_from_iid_curve_is_flat(a: float, depth: int) -> None:
    # Differences of AL lose digits as a^g shrinks, hence a >= 0.3 and a loose tolerance.
    curve = [expected_tokens(a, g) for g in range(1, depth + 1)]
    assert conditional_from_al_curve(curve) == [pytest.approx(a, rel=1e-6)] * depth


def test_per_position_worked() -> None:
    # 100 verify steps; position 1, 2, 3 accepted 90, 72, 54 times.
    p = unconditional_by_position([90, 72, 54], drafts=100)
    assert p == [0.9, 0.72, 0.54]
    # q = 0.9, 0.72/0.9, 0.54/0.72
    assert conditional_by_position(p) == [
        pytest.approx(0.9),
        pytest.approx(0.8),
        pytest.approx(0.75),
    ]
    # AL = 1 + 0.9 + 0.72 + 0.54, and agrees with the shared record's 1 + accepted / drafts.
    assert al_from_positions(p) == pytest.approx(3.16)
    counts = AcceptanceCounts(
        drafts=100, draft_tokens=300, accepted_tokens=216, accepted_per_position=[90, 72, 54]
    )
    assert counts.acceptance_length == pytest.approx(al_from_positions(p))


def test_conditional_by_position_none_past_an_empty_position() -> None:
    assert conditional_by_position(unconditional_by_position([0, 0], drafts=10)) == [0.0, None]


@pytest.mark.parametrize(
    ("counts", "drafts", "fragment"),
    [
        ([5], 0, "drafts"),
        ([11], 10, "position 1"),
        ([5, -1], 10, "position 2"),
    ],
)
def test_per_position_rejects_bad_counts(counts: list[int], drafts: int, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        unconditional_by_position(counts, drafts)


@pytest.mark.parametrize(
    ("value", "kind", "g", "fragment"),
    [
        (0.5, "beta", 2, "unknown"),
        (1.2, "rate", 2, "rate r"),
        (-0.1, "alpha", 2, "acceptance a"),
        (0.5, "al", 2, "acceptance length"),
        (3.5, "al", 2, "[1, 3]"),
        (2.0, "al", 0, "draft depth"),
    ],
)
def test_conversions_reject_bad_input(value: float, kind: str, g: int, fragment: str) -> None:
    for convert in (to_alpha, to_al, to_rate):
        with pytest.raises(ValueError) as info:
            convert(value, kind, g)  # type: ignore[arg-type]
        assert fragment in str(info.value)


@given(unit, gammas)
def test_alpha_al_alpha_round_trip(a: float, g: int) -> None:
    assert al_to_alpha(alpha_to_al(a, g), g) == pytest.approx(a, abs=1e-9)


@given(unit, gammas)
def test_rate_alpha_rate_round_trip(r: float, g: int) -> None:
    assert alpha_to_rate(rate_to_alpha(r, g), g) == pytest.approx(r, abs=1e-9)


@given(st.floats(min_value=0.0, max_value=1.0), gammas)
def test_al_rate_al_round_trip(fraction: float, g: int) -> None:
    al = 1.0 + fraction * g
    assert rate_to_al(al_to_rate(al, g), g) == pytest.approx(al, rel=1e-12)


@given(st.floats(min_value=0.01, max_value=0.99), st.integers(min_value=2, max_value=32))
def test_rate_is_below_alpha_from_depth_two(a: float, g: int) -> None:
    assert alpha_to_rate(a, g) < a
