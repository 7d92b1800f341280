"""The best draft depth, searched until S has passed its maximum, and a sweep with one acceptance.

Issue 10 item 7: ``explain`` scanned g = 1..16 only (a = 0.9, c = 0.01 gave "g = 16, 7.18×"
where the optimum is g = 24 at 7.49×), and ``explain --sweep`` with one acceptance left c_eff
blank at every other depth.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from specscope.console import print_explanation
from specscope.theory import leviathan
from specscope.theory.explain import TABLE_DEPTHS_MAX, explain_measurement, explain_sweep
from specscope.theory.leviathan import (
    DRAFT_DEPTH_SEARCH_LIMIT,
    best_draft_depth,
    expected_tokens,
    speedup,
)

# (a, c) → the best g and S there; every one is past the old scan of 16 or close to it.
# S(g) = (1 − a^(g+1)) / ((1 − a)(1 + g·c)); e.g. a = 0.9, c = 0.01: S(23) = 7.481574,
# S(24) = E(0.9, 24)/1.24 = 9.282102/1.24 = 7.485566, S(25) = 7.483113.
BEST_TABLE = [
    (0.6, 0.05, 4, 1.921333),
    (0.8, 0.01, 14, 4.231647),
    (0.9, 0.01, 24, 7.485566),
    (0.95, 0.01, 40, 12.541621),
    (0.9, 0.001, 44, 9.494943),
    (0.99, 0.001, 259, 73.605412),
    (0.999, 1e-4, 2609, 734.841320),
    (0.5, 0.3, 1, 1.153846),  # (1 + 0.5)/1.3; S falls from g = 1 on
    (0.3, 0.5, 1, 0.866667),  # c > a: no depth pays (Leviathan Cor. 3.9); g = 1 loses least
]


@pytest.mark.parametrize(("a", "c", "g_star", "s_star"), BEST_TABLE)
def test_best_gamma_past_its_maximum(a: float, c: float, g_star: int, s_star: float) -> None:
    best = best_draft_depth(a, c)
    assert (best.draft_depth, best.at_limit) == (g_star, False)
    assert best.speedup == pytest.approx(s_star, abs=1e-6)
    assert speedup(a, g_star + 1, c) < best.speedup
    if g_star > 1:
        assert speedup(a, g_star - 1, c) < best.speedup


# S never stops rising: a = 1 with c < 1 (S = (g + 1)/(1 + g·c) → 1/c), c = 0 with a > 0
# (S = E(a, g) → 1/(1 − a)), or an optimum deeper than the limit. The answer is the smallest
# depth within 1e-12 of S at the limit, flagged.
LIMIT_TABLE = [
    (1.0, 0.0, DRAFT_DEPTH_SEARCH_LIMIT, DRAFT_DEPTH_SEARCH_LIMIT + 1.0),
    (1.0, 0.5, DRAFT_DEPTH_SEARCH_LIMIT, 1.999998),  # 1 000 001 / 500 001
    (0.5, 0.0, 39, 2.0),  # 2 − 2^−39 is within 1e-12 (relative) of 2
    (0.999999, 1e-9, DRAFT_DEPTH_SEARCH_LIMIT, 631489.621019),  # optimum near g = 4.5e7
]


@pytest.mark.parametrize(("a", "c", "g_star", "s_star"), LIMIT_TABLE)
def test_best_gamma_flags_a_speedup_still_rising_at_the_limit(
    a: float, c: float, g_star: int, s_star: float
) -> None:
    best = best_draft_depth(a, c)
    assert (best.draft_depth, best.at_limit) == (g_star, True)
    assert best.speedup == pytest.approx(s_star, rel=1e-9)


@pytest.mark.parametrize(
    ("a", "c"),
    [(1.0, 1.0), (1.0, 2.0), (0.0, 0.0), (0.0, 0.5)],  # S = 1 everywhere, or falling from g = 1
)
def test_best_gamma_at_one_is_not_at_the_limit(a: float, c: float) -> None:
    best = best_draft_depth(a, c)
    assert (best.draft_depth, best.at_limit) == (1, False)


@pytest.mark.parametrize(
    ("a", "c"), [(0.9, 0.01), (1.0, 0.0), (0.5, 0.0), (0.999999, 1e-9), (1 - 1e-16, 5e-324)]
)
def test_best_gamma_evaluates_s_a_few_dozen_times_for_any_input(
    a: float, c: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A bisection over 1..1 000 000, not a scan: no list of depths, ~20 + 20 evaluations.
    calls = []
    original: Callable[[float, int], float] = leviathan.expected_tokens

    def counted(alpha: float, g: int) -> float:
        calls.append(g)
        return original(alpha, g)

    monkeypatch.setattr(leviathan, "expected_tokens", counted)
    best_draft_depth(a, c)
    assert len(calls) <= 64


def _scan(a: float, c: float, g_max: int) -> tuple[int, float]:
    """Every depth evaluated: the smallest g within 1e-12 of the largest S (the old method)."""
    speedups = [speedup(a, g, c) for g in range(1, g_max + 1)]
    top = max(speedups)
    g = next(g for g, s in enumerate(speedups, start=1) if s >= top * (1 - 1e-12))
    return g, speedups[g - 1]


@given(
    st.floats(min_value=0.0, max_value=1.0),
    st.floats(min_value=0.0, max_value=2.0),
    st.integers(min_value=1, max_value=300),
)
def test_best_gamma_equals_a_full_scan(a: float, c: float, g_max: int) -> None:
    best = best_draft_depth(a, c, g_max)
    assert (best.draft_depth, best.speedup) == _scan(a, c, g_max)
    if best.at_limit:  # S is at its highest at the limit (c = 0 saturates in floats: equal)
        assert speedup(a, g_max, c) >= best.speedup
    else:  # S has passed its peak by g_max
        assert speedup(a, g_max + 1, c) <= speedup(a, g_max, c) * (1 + 1e-12)


@given(
    st.floats(min_value=0.0, max_value=0.999),
    st.floats(min_value=1e-4, max_value=2.0),
)
def test_speedup_is_unimodal_in_g(a: float, c: float) -> None:
    # Once S stops rising it never rises again (the argument in best_draft_depth's docstring).
    rising = [speedup(a, g + 1, c) > speedup(a, g, c) for g in range(1, 200)]
    assert all(earlier or not later for earlier, later in pairwise(rising))


# --------------------------------------------------------------------------------------------
# explain


def test_explain_finds_g_24_beyond_the_old_scan() -> None:
    e = explain_measurement(0.9, "alpha", 2, cost_ratio=0.01)
    assert (e.best_gamma, round(e.best_gamma_speedup or 0.0, 2)) == (24, 7.49)
    assert not e.best_gamma_at_limit
    assert "Use g = 24: predicted 7.49×" in e.verdict
    assert [row.gamma for row in e.speedup_by_gamma] == list(range(1, 25))
    assert json.loads(e.model_dump_json())["best_gamma_at_limit"] is False


@pytest.mark.parametrize(
    ("a", "c", "reason", "rows"),
    [
        (0.5, 0.0, "a draft pass is free (c = 0)", 39),  # table to the best g, 39
        (1.0, 0.3, "every draft token is accepted (a = 1)", TABLE_DEPTHS_MAX),
        (
            0.999999,
            1e-9,
            "a = 0.999999 and c = 1e-09 put the model's best depth deeper still",
            TABLE_DEPTHS_MAX,
        ),
    ],
)
def test_explain_says_when_s_still_rises_at_the_search_limit(
    a: float, c: float, reason: str, rows: int
) -> None:
    e = explain_measurement(a, "alpha", 2, cost_ratio=c)
    assert e.best_gamma_at_limit
    assert "S still rises at g = 1,000,000, the deepest depth searched, because " in e.verdict
    assert reason in e.verdict
    assert "the model names no best depth" in e.verdict
    assert len(e.speedup_by_gamma) == rows
    assert json.loads(e.model_dump_json())["best_gamma_at_limit"] is True


def test_explain_console_shows_the_best_g_and_the_limit() -> None:
    console = Console(record=True, width=100)
    print_explanation(console, explain_measurement(0.9, "alpha", 2, cost_ratio=0.01))
    text = console.export_text()
    assert "24 (S 7.49)" in text and "search limit" not in text
    console = Console(record=True, width=120)
    print_explanation(console, explain_measurement(1.0, "alpha", 2, cost_ratio=0.0))
    assert "1,000,000 (S 1000001.00) ⚠ S still rising at the search limit" in console.export_text()


def test_explain_with_a_huge_gamma_stays_small() -> None:
    # g = 100 000 000 once built a table of every depth (~24 GB); the table is now capped.
    # E(0.9, 1e8) = 10, so c = (10/1.2 − 1)/1e8 = 7.33e-8, and the best depth is g = 134.
    e = explain_measurement(0.9, "alpha", 100_000_000, speedup=1.2)
    assert len(e.speedup_by_gamma) == TABLE_DEPTHS_MAX
    assert (e.best_gamma, e.best_gamma_at_limit) == (134, False)
    assert "Use g = 134" in e.verdict


# --------------------------------------------------------------------------------------------
# explain --sweep with one acceptance

# The seed blog's RTX 3090 sweep (off 167 tok/s; 217, 236, 233, 234 tok/s at g = 1..4) with its
# one acceptance figure, 90.6 % at g = 2, read three ways:
#   alpha: a = 0.906;                          AL(g) = E(0.906, g)
#   rate:  AL(2) = 1 + 2·0.906 = 2.812 → a = (√(4·2.812 − 3) − 1)/2 = 0.935967
#   al:    AL(2) = 2.73 → a = (√(4·2.73 − 3) − 1)/2 = 0.907125
# and at the other depths AL = E(a, g) = 1 + a + … + a^g; c_eff = (AL/S − 1)/g.
BLOG = (
    "gamma,tok_s,acceptance,acceptance_kind\n"
    "0,167,,\n1,217,,\n2,236,{value},{kind}\n3,233,,\n4,234,,\n"
)
SWEEP_TABLE = [
    # kind, value, a, AL at g = 1, 3, 4, c_eff at g = 1, 3, 4
    ("alpha", 0.906, 0.906, (1.906, 3.470513, 4.144285), (0.466829, 0.495817, 0.489418)),
    ("rate", 0.906, 0.935967, (1.935967, 3.631938, 4.399373), (0.489891, 0.534383, 0.534931)),
    ("al", 2.73, 0.907125, (1.907125, 3.476451, 4.153574), (0.467695, 0.497235, 0.491076)),
]


@pytest.mark.parametrize(("kind", "value", "a", "als", "c_effs"), SWEEP_TABLE)
def test_sweep_with_one_acceptance_assumes_its_a_at_the_other_depths(
    tmp_path: Path,
    kind: str,
    value: float,
    a: float,
    als: tuple[float, float, float],
    c_effs: tuple[float, float, float],
) -> None:
    path = tmp_path / "blog.csv"
    path.write_text(BLOG.format(value=value, kind=kind))
    sweep = explain_sweep(path)
    by_gamma = {row.gamma: row for row in sweep.rows}
    measured = by_gamma[2].alpha
    assert not by_gamma[2].alpha_assumed
    assert measured == pytest.approx(a, abs=1e-6)
    for g, al, c_eff in zip((1, 3, 4), als, c_effs, strict=True):
        row = by_gamma[g]
        assert row.alpha_assumed
        assert row.alpha == pytest.approx(a, abs=1e-6)
        assert row.acceptance_length == pytest.approx(al, abs=1e-6)
        assert measured is not None
        assert row.acceptance_length == pytest.approx(expected_tokens(measured, g))
        assert row.effective_cost_ratio == pytest.approx(c_eff, abs=1e-6)
        assert row.draft_acceptance_rate == pytest.approx((al - 1) / g, abs=1e-6)
        assert row.break_even_cost_ratio == pytest.approx((al - 1) / g, abs=1e-6)
        assert row.needed_acceptance_length == pytest.approx(1 + g * c_eff, abs=1e-5)
    assert any("Only g = 2 has an acceptance" in n and "(assumed a)" in n for n in sweep.notes)
    assert not any("left blank" in note for note in sweep.notes)
    early_stop = any("llama.cpp" in n and "upper bound" in n for n in sweep.notes)
    assert early_stop == (kind == "rate")
    assert json.loads(sweep.model_dump_json())["rows"][0]["alpha_assumed"] is True


def test_sweep_console_marks_assumed_rows(tmp_path: Path) -> None:
    path = tmp_path / "blog.csv"
    path.write_text(BLOG.format(value=0.906, kind="rate"))
    console = Console(record=True, width=100)
    print_explanation(console, explain_sweep(path))
    lines = console.export_text().splitlines()
    rows = {line.split("│")[1].strip(): line for line in lines if line.startswith("│")}
    assert "assumed a" in rows["1"] and "assumed a" in rows["3"] and "assumed a" in rows["4"]
    assert "assumed a" not in rows["2 ★"] and "measured" in rows["2 ★"]
    assert all(len(line) <= 100 for line in lines if line.startswith(("│", "┃", "┏", "└")))


def test_sweep_with_acceptances_at_several_depths_leaves_the_rest_blank(tmp_path: Path) -> None:
    # Two depths measured (their a differ: 0.9 and 0.784523): none is the one to assume.
    path = tmp_path / "two.csv"
    path.write_text("gamma,tok_s,acceptance\n0,20,\n1,24,1.9\n2,27.8,2.4\n3,29.6,\n")
    sweep = explain_sweep(path)
    g3 = sweep.rows[2]
    assert (g3.effective_cost_ratio, g3.alpha, g3.alpha_assumed) == (None, None, False)
    assert any("No acceptance for g = 3: c_eff left blank there." in n for n in sweep.notes)
