"""The one tie rule (specscope.tie), applied to unrounded values and said the same way by
compare, explain and predict (issue 10 item 8)."""

from __future__ import annotations

import pytest

from specscope.analysis.compare import make_ratio
from specscope.theory.explain import explain_measurement
from specscope.tie import beats, is_tie


@pytest.mark.parametrize(
    ("a", "b", "tie", "a_beats_b", "b_beats_a"),
    [
        (1.0099, 1.0, True, False, False),  # printed "1.01×" when rounded, still a tie
        (1.01, 1.0, False, True, False),  # exactly 1 % apart: not a tie
        (1.0, 1.0099, True, False, False),
        (0.9901, 1.0, True, False, False),  # 1/0.9901 = 1.009999 < 1.01
        (0.99, 1.0, False, False, True),  # 1/0.99 = 1.010101
        (2.0, 1.0, False, True, False),
    ],
)
def test_tie_rule(a: float, b: float, tie: bool, a_beats_b: bool, b_beats_a: bool) -> None:
    assert is_tie(a, b) is tie
    assert beats(a, b) is a_beats_b
    assert beats(b, a) is b_beats_a


@pytest.mark.parametrize(
    ("spec", "off", "winner", "wording"),
    [
        (100.99, 100.0, "tie", "delivers the same tok/s/GPU to within 1 % (1.009×)"),
        (101.0, 100.0, "spec", "delivers 1.0 % more tok/s/GPU (1.01×)"),
        (99.0, 100.0, "off", "delivers 1.0 % more tok/s/GPU (1.01×)"),
    ],
)
def test_compare_ties_on_the_unrounded_ratio(
    spec: float, off: float, winner: str, wording: str
) -> None:
    ratio = make_ratio("throughput", spec, off)
    assert (ratio.winner, ratio.wording) == (winner, wording)


@pytest.mark.parametrize(
    ("speedup", "words"),
    [
        (0.9901, "0.99× spec off (a tie, within 1 %)"),
        (0.99, "0.99× spec off (1 % slower)"),
        (1.0099, "1.01× spec off (a tie, within 1 %)"),
        (1.01, "1.01× spec off (1 % faster)"),
    ],
)
def test_explain_says_a_tie_by_the_same_rule(speedup: float, words: str) -> None:
    # g = 2 at a = 0.9: the verdict quotes the measured speedup with the tie rule's words.
    result = explain_measurement(0.9, "alpha", 2, speedup=speedup)
    assert words in result.verdict
