"""explain_measurement, explain_sweep and c_eff_from_pair in specscope.theory.explain."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from specscope.errors import UserError
from specscope.theory.acceptance import AcceptanceKind
from specscope.theory.explain import c_eff_from_pair, explain_measurement, explain_sweep
from specscope.theory.explanation import Explanation

SWEEPS = Path(__file__).resolve().parents[1] / "data" / "sweeps"
STRIX = SWEEPS / "strix_halo_qwen36_27b_awq.csv"
RTX3090 = SWEEPS / "rtx3090_qwen36_35b_a3b_q4km.csv"


# ---------------------------------------------------------------------------------------------
# explain_measurement


def test_rtx3090_alpha_worked_example() -> None:
    # a = 0.906, g = 2, S = 1.41 (seed 004):
    # E = 1 + 0.906 + 0.820836 = 2.726836; c = (2.726836/1.41 − 1)/2 = 0.466963;
    # c* = (0.906 + 0.820836)/2 = 0.863418.
    e = explain_measurement(0.906, "alpha", 2, speedup=1.41)
    assert e.acceptance_input.kind == "alpha"
    assert e.alpha == 0.906
    assert e.expected_tokens_per_step == pytest.approx(2.726836, abs=1e-9)
    assert e.acceptance_length == pytest.approx(2.726836, abs=1e-9)
    assert e.draft_acceptance_rate == pytest.approx(0.863418, abs=1e-9)
    assert e.implied_cost_ratio == pytest.approx(0.466963, abs=1e-6)
    assert round(e.implied_cost_ratio or 0.0, 3) == 0.467
    assert e.break_even_cost_ratio == pytest.approx(0.863418, abs=1e-9)
    assert e.speedup == 1.41
    assert e.speedup_source == "measured"
    assert e.cost_ratio_source == "implied"
    # Best g under c = 0.466963: g = 3 gives E(0.906, 3) = 3.470513 over 1 + 3c = 2.400889
    # = 1.44551; g = 4 gives 4.144284/2.867853 = 1.44508; g = 2 reproduces 1.41.
    assert e.best_gamma == 3
    assert e.best_gamma_speedup == pytest.approx(1.44551, abs=1e-5)
    assert [row.gamma for row in e.speedup_by_gamma] == list(range(1, 17))
    assert e.speedup_by_gamma[1].speedup == pytest.approx(1.41, rel=1e-9)
    assert "pays" in e.verdict and "does not pay" not in e.verdict
    assert "g = 3" in e.verdict


@pytest.mark.parametrize(
    ("a", "s", "c", "c_star"),
    [
        # MI300X Q4_K_M: E = 2.749396, c = (2.749396/0.91 − 1)/2 ≈ 1.01; c* = 0.874698
        (0.914, 0.91, 1.0, 0.8747),
        # MI300X Q8_0: E = 2.721216, c = (2.721216/0.86 − 1)/2 ≈ 1.08; c* = 0.860608
        (0.904, 0.86, 1.08, 0.8606),
    ],
)
def test_mi300x_rows_do_not_pay(a: float, s: float, c: float, c_star: float) -> None:
    e = explain_measurement(a, "alpha", 2, speedup=s)
    assert e.implied_cost_ratio == pytest.approx(c, abs=0.015)
    assert e.break_even_cost_ratio == pytest.approx(c_star, abs=1e-4)
    assert "does not pay" in e.verdict
    assert "over the break-even" in e.verdict
    # c > a, so by Leviathan Cor. 3.9 no depth pays; g = 1 loses least.
    assert e.best_gamma == 1
    assert e.best_gamma_speedup is not None and e.best_gamma_speedup < 1.0


def test_rate_kind_uses_one_plus_g_r_and_says_so() -> None:
    # r = 0.906, g = 2: E = AL = 1 + 2·0.906 = 2.812; c = (2.812/1.41 − 1)/2 = 0.497163;
    # c* = r exactly. Same figure read as a gave 0.467: the kinds part in the second/third digit.
    e = explain_measurement(0.906, "rate", 2, speedup=1.41)
    assert e.expected_tokens_per_step == pytest.approx(2.812, abs=1e-12)
    assert e.implied_cost_ratio == pytest.approx(0.497163, abs=1e-6)
    assert e.break_even_cost_ratio == pytest.approx(0.906, abs=1e-12)
    assert e.draft_acceptance_rate == pytest.approx(0.906, abs=1e-12)
    # a from 1 + a + a² = 2.812: (√8.248 − 1)/2 = 0.935966
    assert e.alpha == pytest.approx(0.935966, abs=1e-6)
    assert any("draft acceptance rate r" in note for note in e.notes)
    assert any("break-even cost ratio equals r" in note for note in e.notes)


def test_al_kind_uses_al_as_e() -> None:
    # AL = 2.73, g = 2: c = (2.73/1.41 − 1)/2 = 0.468085; c* = 0.865; a = (√7.92 − 1)/2
    e = explain_measurement(2.73, "al", 2, speedup=1.41)
    assert e.expected_tokens_per_step == 2.73
    assert e.implied_cost_ratio == pytest.approx(0.468085, abs=1e-6)
    assert e.break_even_cost_ratio == pytest.approx(0.865, abs=1e-12)
    assert e.alpha == pytest.approx(0.907125, abs=1e-6)
    assert any("acceptance length" in note for note in e.notes)


def test_cost_ratio_predicts_speedup_and_best_gamma() -> None:
    # a = 0.8, g = 2, c = 0.05: S = 2.44/1.1 = 2.218182; best g over 1..16 is 8 at 3.0921.
    e = explain_measurement(0.8, "alpha", 2, cost_ratio=0.05)
    assert e.speedup == pytest.approx(2.218182, abs=1e-6)
    assert e.speedup_source == "predicted"
    assert e.implied_cost_ratio is None
    assert e.cost_ratio == 0.05
    assert e.cost_ratio_source == "given"
    assert (e.best_gamma, round(e.best_gamma_speedup or 0.0, 2)) == (8, 3.09)
    assert "Use g = 8" in e.verdict


def test_no_speedup_nor_cost_ratio_gives_break_even_only() -> None:
    e = explain_measurement(0.8, "alpha", 2)
    assert e.break_even_cost_ratio == pytest.approx(0.72)  # (0.8 + 0.64)/2
    assert e.speedup is None and e.implied_cost_ratio is None and e.cost_ratio is None
    assert e.best_gamma is None and e.best_gamma_speedup is None
    assert e.speedup_by_gamma == []
    assert "0.720" in e.verdict


def test_speedup_above_e_is_flagged_not_fitted() -> None:
    # a = 0.5, g = 2: E = 1.75 < S = 2.0, so c = (1.75/2 − 1)/2 = −0.0625.
    e = explain_measurement(0.5, "alpha", 2, speedup=2.0)
    assert e.implied_cost_ratio == pytest.approx(-0.0625)
    assert e.cost_ratio is None and e.best_gamma is None and e.speedup_by_gamma == []
    assert any("exceeds E" in note for note in e.notes)


def test_both_speedup_and_cost_ratio_use_the_given_cost_for_predictions() -> None:
    e = explain_measurement(0.906, "alpha", 2, speedup=1.41, cost_ratio=0.2)
    assert e.speedup == 1.41 and e.speedup_source == "measured"
    assert e.implied_cost_ratio == pytest.approx(0.466963, abs=1e-6)
    assert e.cost_ratio == 0.2 and e.cost_ratio_source == "given"
    # E/(1 + 2·0.2) = 2.726836/1.4 = 1.947740
    assert e.speedup_by_gamma[1].speedup == pytest.approx(1.947740, abs=1e-6)
    assert any("Both a speedup and a cost ratio" in note for note in e.notes)


def test_speedup_within_one_percent_is_a_tie() -> None:
    e = explain_measurement(0.5, "alpha", 1, speedup=1.005)
    assert "tie" in e.verdict


def test_table_covers_gamma_beyond_g_max() -> None:
    # 16 rows asked for, g = 20, and the best depth under c = 0.01 deeper still (24): the table
    # runs to the deepest of the three.
    e = explain_measurement(0.9, "alpha", 20, cost_ratio=0.01, table_depths=16)
    assert len(e.speedup_by_gamma) == 24


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ((0.9, "alpha", 0), "draft depth"),
        ((0.9, "beta", 2), "unknown"),
        ((1.5, "alpha", 2), "acceptance a"),
        ((1.5, "rate", 2), "rate r"),
        ((3.5, "al", 2), "acceptance length"),
    ],
)
def test_explain_measurement_rejects_bad_input(args: tuple[float, str, int], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        explain_measurement(*args)  # type: ignore[arg-type]


@pytest.mark.parametrize(("speedup", "cost_ratio"), [(0.0, None), (-1.0, None), (None, -0.5)])
def test_explain_measurement_rejects_bad_speedup_or_cost(
    speedup: float | None, cost_ratio: float | None
) -> None:
    with pytest.raises(ValueError):
        explain_measurement(0.9, "alpha", 2, speedup=speedup, cost_ratio=cost_ratio)


def test_explanation_round_trips_through_json() -> None:
    e = explain_measurement(0.906, "rate", 2, speedup=1.41)
    assert Explanation.model_validate_json(e.model_dump_json()) == e


@given(
    st.floats(min_value=1.0, max_value=5.0),
    st.integers(min_value=1, max_value=4),
    st.floats(min_value=0.05, max_value=1.0),
    st.sampled_from(["alpha", "rate", "al"]),
)
def test_table_reproduces_the_measured_speedup(
    fraction_of_range: float, g: int, fraction_of_e: float, kind: AcceptanceKind
) -> None:
    # Pick an acceptance valid for the kind, and any measured S in (0, E]: the row of the
    # per-depth table at the measured g gives back S under the implied cost ratio.
    position = (fraction_of_range - 1.0) / 4.0
    value = {"alpha": position, "rate": position, "al": 1.0 + position * g}[kind]
    e0 = explain_measurement(value, kind, g)
    s = e0.expected_tokens_per_step * fraction_of_e
    e = explain_measurement(value, kind, g, speedup=s)
    assert e.speedup_by_gamma[g - 1].speedup == pytest.approx(s, rel=1e-9)


# ---------------------------------------------------------------------------------------------
# c_eff_from_pair


def test_c_eff_from_pair_worked() -> None:
    # AL 1.9, 24.0 vs 20.0 tok/s at g = 1: S = 1.2, c_eff = 1.9/1.2 − 1 = 0.583333
    assert c_eff_from_pair(1.9, 24.0, 20.0, 1) == pytest.approx(0.583333, abs=1e-6)


@pytest.mark.parametrize(("spec", "off"), [(24.0, 0.0), (0.0, 20.0), (float("nan"), 20.0)])
def test_c_eff_from_pair_rejects_bad_rates(spec: float, off: float) -> None:
    with pytest.raises(ValueError, match="tok_s"):
        c_eff_from_pair(1.9, spec, off, 1)


# ---------------------------------------------------------------------------------------------
# explain_sweep


def test_strix_halo_sweep() -> None:
    # off 20.0 tok/s; S = 24.0/20, 27.8/20, 29.6/20 = 1.20, 1.39, 1.48;
    # c_eff = (1.9/1.2 − 1)/1, (2.4/1.39 − 1)/2, (2.8/1.48 − 1)/3 = 0.5833, 0.3633, 0.2973
    sweep = explain_sweep(STRIX)
    assert sweep.off_tok_s == 20.0
    assert [r.gamma for r in sweep.rows] == [1, 2, 3]
    assert [r.speedup for r in sweep.rows] == [
        pytest.approx(1.20),
        pytest.approx(1.39),
        pytest.approx(1.48),
    ]
    assert [r.acceptance_length for r in sweep.rows] == [1.9, 2.4, 2.8]
    assert [r.effective_cost_ratio for r in sweep.rows] == [
        pytest.approx(0.5833, abs=1e-4),
        pytest.approx(0.3633, abs=1e-4),
        pytest.approx(0.2973, abs=1e-4),
    ]
    assert [round(r.effective_cost_ratio or 0.0, 2) for r in sweep.rows] == [0.58, 0.36, 0.30]
    # g = 1: a = AL − 1 = 0.9; g = 2: a = (√6.6 − 1)/2 = 0.784523
    assert sweep.rows[0].alpha == pytest.approx(0.9, abs=1e-12)
    assert sweep.rows[1].alpha == pytest.approx(0.784523, abs=1e-6)
    assert (sweep.best_gamma, sweep.best_tok_s) == (3, 29.6)
    assert sweep.best_speedup == pytest.approx(1.48)
    assert sweep.c_eff_falls_with_gamma is True
    assert any("c_eff falls" in text and "fixed cost" in text for text in sweep.observations)
    assert any("acceptance falls with depth" in text for text in sweep.observations)
    assert "g = 3" in sweep.verdict


def test_rtx3090_sweep_without_acceptance() -> None:
    # off 167; 217 236 233 234 170 128 at g = 1, 2, 3, 4, 8, 16: best g = 2, S = 236/167.
    sweep = explain_sweep(RTX3090)
    assert sweep.off_tok_s == 167.0
    assert [r.gamma for r in sweep.rows] == [1, 2, 3, 4, 8, 16]
    assert sweep.best_gamma == 2
    assert sweep.best_speedup == pytest.approx(1.413174, abs=1e-6)
    assert all(r.effective_cost_ratio is None and r.alpha is None for r in sweep.rows)
    assert sweep.c_eff_falls_with_gamma is None
    assert any("No acceptance given" in note for note in sweep.notes)
    # 234 is within 1 % of 236 (≥ 233.64), 233 is not; 128/167 = 0.77× is slower than off.
    assert "Within 1 % of it: g = 4." in sweep.verdict
    assert "Slower than spec off: g = 16." in sweep.verdict


def test_sweep_repeats_use_the_mean_and_mixed_kinds(tmp_path: Path) -> None:
    # Repeats reduce to their mean, the one statistic of repeats (the median would differ here).
    path = tmp_path / "repeats.csv"
    path.write_text(
        " Gamma , TOK_S ,Acceptance,acceptance_kind\n"
        "0,100,,\n0,100,,\n0,130,,\n"  # mean 110 (median 100)
        "1,120,0.8,alpha\n"  # AL = 1.8; S = 120/110 = 1.090909; c_eff = 1.8/S − 1 = 0.65
        # mean 160 (median 150): AL = 2.6; S = 160/110; c_eff = (2.6/S − 1)/2 = 0.39375
        "2,150,0.8,rate\n2,140,0.8,rate\n2,190,0.8,RATE\n"
    )
    sweep = explain_sweep(path)
    assert (sweep.off_tok_s, sweep.off_repeats) == (110.0, 3)
    one, two = sweep.rows
    assert (one.tok_s, one.repeats) == (120.0, 1)
    assert one.acceptance_length == pytest.approx(1.8)
    assert one.effective_cost_ratio == pytest.approx(0.65)
    assert (two.tok_s, two.repeats) == (160.0, 3)
    assert two.acceptance_length == pytest.approx(2.6)
    assert two.effective_cost_ratio == pytest.approx(0.39375)
    assert two.draft_acceptance_rate == pytest.approx(0.8)
    assert any("mean" in note and "off ×3" in note and "g = 2 ×3" in note for note in sweep.notes)


def test_sweep_with_no_winning_depth(tmp_path: Path) -> None:
    path = tmp_path / "mi300x.csv"
    # seed 004, MI300X Q8_0: off 145.4; every depth slower.
    path.write_text("gamma,tok_s\n0,145.4\n1,124.8\n2,125.3\n3,139.8\n4,133.2\n8,124.1\n16,115.7\n")
    sweep = explain_sweep(path)
    assert sweep.best_gamma == 3
    assert sweep.best_speedup == pytest.approx(139.8 / 145.4)
    assert "No measured depth beats spec off" in sweep.verdict


def test_sweep_rows_say_break_even_and_the_al_a_drafter_needs(tmp_path: Path) -> None:
    # this CPU's demo, Qwen2.5-Coder 1.5B + 0.5B draft on HumanEval: off 16.2 tok/s; g = 2 at
    # 11.4 tok/s with AL 2.90; g = 4 faster than its AL allows (c_eff < 0: nothing is needed)
    path = tmp_path / "draft.csv"
    path.write_text(
        "gamma,tok_s,acceptance,acceptance_kind\n0,16.2,,\n2,11.4,2.90,al\n4,40.0,2.0,al\n"
    )
    g2, g4 = explain_sweep(path).rows
    s = 11.4 / 16.2  # 0.7037
    assert g2.effective_cost_ratio == pytest.approx((2.90 / s - 1) / 2)  # 1.5605
    assert g2.effective_cost_ratio == pytest.approx(1.5605, abs=1e-4)
    assert g2.break_even_cost_ratio == pytest.approx(0.95)  # (2.90 − 1) / 2
    assert g2.needed_acceptance_length == pytest.approx(1 + 2 * 1.5605, abs=1e-3)  # 4.121
    assert g4.effective_cost_ratio is not None and g4.effective_cost_ratio < 0
    assert g4.break_even_cost_ratio == pytest.approx(0.25)
    assert g4.needed_acceptance_length is None


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        ("", ["empty"]),
        ("g,tok_s\n0,20\n1,24\n", ["missing column 'gamma'"]),
        ("gamma\n0\n1\n", ["missing column 'tok_s'"]),
        ("gamma,tok_s\n1,24\n2,27.8\n", ["no row with gamma 0"]),
        ("gamma,tok_s\n0,20\n", ["only gamma 0"]),
        ("gamma,tok_s\n0,20\n1,fast\n", ["row 3", "column 'tok_s'", "'fast' is not a number"]),
        ("gamma,tok_s\n0,20\n1,\n", ["row 3", "column 'tok_s'", "empty"]),
        ("gamma,tok_s\n0,20\n1.5,24\n", ["row 3", "column 'gamma'", "whole number"]),
        ("gamma,tok_s\n0,20\n-1,24\n", ["row 3", "column 'gamma'"]),
        ("gamma,tok_s\n0,20\n1,0\n", ["row 3", "column 'tok_s'", "> 0"]),
        (
            "gamma,tok_s,acceptance,acceptance_kind\n0,20,,\n1,24,0.9,beta\n",
            ["row 3", "column 'acceptance_kind'", "'beta'", "alpha, rate, al"],
        ),
        (
            "gamma,tok_s,acceptance\n0,20,\n1,24,2.5\n",
            ["row 3", "column 'acceptance'", "[1, 2]"],
        ),
        ("gamma,tok_s,acceptance\n0,20,\n1,24,high\n", ["row 3", "column 'acceptance'"]),
    ],
)
def test_broken_sweep_csv_gives_one_line_user_error(
    tmp_path: Path, content: str, fragments: list[str]
) -> None:
    path = tmp_path / "sweep.csv"
    path.write_text(content)
    with pytest.raises(UserError) as info:
        explain_sweep(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message


def test_missing_sweep_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    with pytest.raises(UserError, match="file not found") as info:
        explain_sweep(path)
    assert str(path) in str(info.value)


def test_sweep_path_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="cannot be read"):
        explain_sweep(tmp_path)
