"""Acceptance by depth and the measured g-sweep, with worked numbers from the sample data."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.support.points import make_point, with_config

from specscope.report.acceptance import acceptance_by_depth, explain_rows
from specscope.report.sample import sample_points
from specscope.schema import AcceptanceCounts, Point


def _point(engine: str, g: int, acceptance: AcceptanceCounts, conc: int = 1) -> Point:
    return make_point(
        run_id="r",
        hardware="h100",
        engine=engine,
        spec_method="mtp",
        draft_depth=g,
        concurrency=conc,
        acceptance=acceptance,
    )


def test_acceptance_by_depth_on_the_sample() -> None:
    rows = acceptance_by_depth(sample_points())
    # Sample: 1000 verify steps per point; g=1: 2 points, g=2: 2 points, g=3: 4 points.
    assert [(r.engine, r.draft_depth, r.n_points) for r in rows] == [
        ("vllm", 1, 2),
        ("vllm", 2, 2),
        ("vllm", 3, 4),
    ]
    g3 = rows[2]
    # accepted per position 800, 650, 550 per point → AL = 1 + 2000/1000 = 3.0;
    # r = 2000 / 3000 drafted = 0.6667; p_k = 0.8, 0.65, 0.55.
    assert g3.acceptance_length == pytest.approx(3.0)
    assert g3.draft_acceptance_rate == pytest.approx(2 / 3)
    assert g3.per_position == pytest.approx([0.8, 0.65, 0.55])
    assert rows[0].acceptance_length == pytest.approx(1.8)
    assert rows[1].acceptance_length == pytest.approx(2.5)


def test_acceptance_is_count_weighted_not_a_mean_of_ratios() -> None:
    # 100 steps with 150 accepted (AL 2.5) and 300 steps with 300 accepted (AL 2.0):
    # pooled AL = 1 + 450/400 = 2.125, not the mean 2.25.
    a = AcceptanceCounts(drafts=100, draft_tokens=200, accepted_tokens=150)
    b = AcceptanceCounts(drafts=300, draft_tokens=600, accepted_tokens=300)
    (row,) = acceptance_by_depth([_point("vllm", 2, a), _point("vllm", 2, b)])
    assert row.acceptance_length == pytest.approx(2.125)
    assert row.draft_acceptance_rate == pytest.approx(450 / 800)
    assert row.per_position == []


def test_reported_average_only_gives_the_mean_and_no_positions() -> None:
    a = AcceptanceCounts(reported_acceptance_length=2.4, source="sglang:server_info")
    b = AcceptanceCounts(reported_acceptance_length=2.6, source="sglang:server_info")
    (row,) = acceptance_by_depth([_point("sglang", 3, a), _point("sglang", 3, b)])
    assert row.acceptance_length == pytest.approx(2.5)
    assert row.drafts is None
    assert row.per_position == []


def test_points_without_counters_give_no_rows() -> None:
    points = [p for p in sample_points() if p.config.is_off]
    assert acceptance_by_depth(points) == []


@pytest.mark.parametrize(
    ("conc", "g", "speedup", "c_eff", "c_star"),
    [
        # conc 1: off runs 120 tok/s/user. g=1: 160/120, (1.8/(4/3) − 1)/1 = 0.35, c* 0.8.
        (1, 1, 160 / 120, 0.35, 0.8),
        # g=2: 185/120 = 1.541667; (2.5/1.541667 − 1)/2 = 0.310811; c* = 1.5/2.
        (1, 2, 185 / 120, (2.5 / (185 / 120) - 1) / 2, 0.75),
        # g=3: 200/120 = 5/3; (3/(5/3) − 1)/3 = 0.266667; c* = 2/3.
        (1, 3, 200 / 120, (3.0 / (5 / 3) - 1) / 3, 2 / 3),
        # conc 16: g=3 only; 100/70; (3/(10/7) − 1)/3 = 0.366667.
        (16, 3, 100 / 70, (3.0 / (100 / 70) - 1) / 3, 2 / 3),
    ],
)
def test_explain_rows_worked(
    conc: int, g: int, speedup: float, c_eff: float, c_star: float
) -> None:
    rows = {(r.concurrency, r.draft_depth): r for r in explain_rows(*_sides())}
    row = rows[(conc, g)]
    assert row.speedup == pytest.approx(speedup)
    assert row.c_eff == pytest.approx(c_eff)
    assert row.c_break_even == pytest.approx(c_star)


def _sides() -> tuple[list[Point], list[Point]]:
    points = sample_points()
    return [p for p in points if not p.config.is_off], [p for p in points if p.config.is_off]


def test_explain_rows_cover_every_matched_cell() -> None:
    rows = explain_rows(*_sides())
    # g=1 and g=2 at conc 1 and 4, g=3 at 1, 4, 16, 64 → 8 cells, sorted by concurrency then g.
    assert [(r.concurrency, r.draft_depth) for r in rows] == [
        (1, 1),
        (1, 2),
        (1, 3),
        (4, 1),
        (4, 2),
        (4, 3),
        (16, 3),
        (64, 3),
    ]


def test_explain_needs_off_on_the_same_engine() -> None:
    spec, off = _sides()
    other_engine = [with_config(p, engine="sglang") for p in off]
    assert explain_rows(spec, other_engine) == []


def test_explain_means_repeats() -> None:
    points = sample_points(repeats=3)
    spec = [p for p in points if not p.config.is_off]
    off = [p for p in points if p.config.is_off]
    rows = explain_rows(spec, off)
    assert len(rows) == 8
    assert rows[0].off_interactivity == pytest.approx(120.0)


@given(
    g=st.integers(min_value=1, max_value=8),
    frac=st.floats(min_value=0.01, max_value=1.0),
    spec_x=st.floats(min_value=1.0, max_value=500.0),
    off_x=st.floats(min_value=1.0, max_value=500.0),
)
def test_c_eff_is_below_break_even_exactly_when_spec_is_faster(
    g: int, frac: float, spec_x: float, off_x: float
) -> None:
    drafts = 1000
    accepted = round(frac * g * drafts)
    acc = AcceptanceCounts(drafts=drafts, draft_tokens=g * drafts, accepted_tokens=accepted)
    spec = _point("vllm", g, acc).model_copy(update={"interactivity": spec_x})
    off_cfg = spec.config.model_copy(update={"spec_method": "none", "draft_depth": 0})
    off = spec.model_copy(update={"config": off_cfg, "interactivity": off_x, "acceptance": None})
    (row,) = explain_rows([spec], [off])
    if accepted == 0 or abs(row.speedup - 1.0) < 1e-9:
        return
    assert (row.c_eff < row.c_break_even) == (row.speedup > 1.0)
