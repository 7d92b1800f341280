"""A comparison that cannot be made is not made (issue 10, item 4).

Worked numbers on the small example of ``test_compare`` (MTP 20–100 tok/s/user, Off 15–60; band
20–60) and on the CPU demo's real ranges (draft model 3.36–9.82, Off 10.0–16.8, never meeting):

* with no overlap there are no default targets, and the comparison says why (``refusal``);
* a target above a side's fastest measured interactivity gets no ratio and no winner, and the
  narrative says "Off cannot reach 75 tok/s/user (its best is 60)";
* a side whose frontier starts above the target is held at its slowest point, said in the
  sentence that gives its figures.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from tests.support.compare import compare_b300
from tests.support.points import EXAMPLE_OFF, EXAMPLE_SPEC, example_point, example_points
from typer.testing import CliRunner

from specscope.analysis.economics import list_presets
from specscope.analysis.results import Comparison
from specscope.cli import app
from specscope.console import print_comparison
from specscope.report.payload import headline
from specscope.report.sample import sample_pair
from specscope.schema import Point
from specscope.store.db import Store

# --- no overlap: no targets, the two ranges said, exit 0 ------------------------------------

# The CPU demo's draft model and Off (llama.cpp): (concurrency, interactivity, throughput).
DEMO_DRAFT = [(1, 9.82, 9.82), (2, 6.1, 12.2), (4, 3.36, 13.44)]
DEMO_OFF = [(1, 16.8, 16.8), (2, 13.0, 26.0), (4, 10.0, 40.0)]
DEMO_REFUSAL = (
    "draft model (llamacpp) reaches 3.36–9.82 tok/s/user, Off (llamacpp) 10–16.8: they never "
    "run at the same interactivity, so there is nothing to compare at matched interactivity."
)
SHIFTED_REFUSAL = (
    "MTP (vllm) reaches 120–200 tok/s/user, Off (vllm) 15–60: they never run at the same "
    "interactivity, so there is nothing to compare at matched interactivity."
)


def _demo_points() -> list[Point]:
    draft = [example_point("draft_model", c, x, y, engine="llamacpp") for c, x, y in DEMO_DRAFT]
    off = [example_point("none", c, x, y, engine="llamacpp") for c, x, y in DEMO_OFF]
    return draft + off


def _shifted_points() -> list[Point]:
    spec = [example_point("mtp", c, x + 100.0, y) for c, x, y in EXAMPLE_SPEC]  # 120–200
    off = [example_point("none", c, x, y) for c, x, y in EXAMPLE_OFF]  # 15–60
    return spec + off


def _console_text(c: Comparison) -> str:
    console = Console(record=True, width=100)
    print_comparison(console, c)
    return console.export_text()


@pytest.mark.parametrize(
    ("points", "method", "refusal", "band"),
    [
        (_demo_points(), "draft_model", DEMO_REFUSAL, (3.36, 16.8)),
        (_shifted_points(), "mtp", SHIFTED_REFUSAL, (15.0, 200.0)),
    ],
)
def test_ranges_that_never_meet_make_no_targets(
    points: list[Point], method: str, refusal: str, band: tuple[float, float]
) -> None:
    c = compare_b300(points, None, spec_method=method)
    assert c.targets == [] and c.refusal == refusal
    assert not c.band_overlaps and c.band == band
    assert any("do not overlap" in caveat for caveat in c.caveats)
    dumped = c.model_dump(mode="json")
    assert dumped["refusal"] == refusal and dumped["targets"] == []
    text = " ".join(_console_text(c).split())
    assert refusal in text
    for word in ("cheaper", "more tok/s/GPU", "costs", "band "):
        assert word not in text
    # the report copes: the index headline says the refusal, the pair renders
    pair = sample_pair(points)
    # (without its full stop: the page's subtitle and the index add their own)
    assert pair.comparison.refusal is not None
    assert headline(pair) == pair.comparison.refusal.removesuffix(".")


def test_ranges_that_never_meet_still_judge_given_targets() -> None:
    # 12 tok/s/user: the draft model's best is 9.82, so nothing is compared there.
    c = compare_b300(_demo_points(), [12.0], spec_method="draft_model")
    (t,) = c.targets
    assert c.refusal is None
    assert t.refusal == (
        "draft model (llamacpp) cannot reach 12 tok/s/user (its best is 9.82), so nothing is "
        "compared at this target."
    )
    assert t.cost is None and t.throughput is None and t.power is None


def test_compare_cli_reports_the_refusal_and_exits_0(tmp_path: Path) -> None:
    db = tmp_path / "apart.duckdb"
    with Store.open(db) as store:
        store.add_points(_demo_points())
    runner = CliRunner()
    done = runner.invoke(app, ["compare", "--db", str(db), "--spec", "draft_model", "--json"])
    assert done.exit_code == 0, done.output
    c = json.loads(done.output)
    assert c["refusal"] == DEMO_REFUSAL and c["targets"] == []
    done = runner.invoke(app, ["compare", "--db", str(db), "--spec", "draft_model"])
    assert done.exit_code == 0, done.output
    assert DEMO_REFUSAL in " ".join(done.output.split())


def test_a_report_of_ranges_that_never_meet_says_so(tmp_path: Path) -> None:
    from specscope.report.writer import write_report

    pair = sample_pair(_shifted_points())
    write_report([pair], tmp_path, list_presets())
    markdown = " ".join((tmp_path / "report.md").read_text(encoding="utf-8").split())
    assert "never run at the same interactivity" in markdown
    assert "cheaper" not in markdown


# --- a target a side cannot reach; a side held at its slowest point -------------------------

# MTP's frontier: (100, 200), (80, 600), (50, 1200), (20, 2000); Off's: (60, 150), (50, 450),
# (35, 800), (15, 1100). b300 preset: $2.34/GPU-hour, so $/M tokens = 650 / throughput.
REFUSED = [
    # target, spec reaches, off reaches, refusal
    (
        61.0,
        True,
        False,
        "Off (vllm) cannot reach 61 tok/s/user (its best is 60), so nothing is compared at this "
        "target.",
    ),
    (
        100.0,
        True,
        False,
        "Off (vllm) cannot reach 100 tok/s/user (its best is 60), so nothing is compared at "
        "this target.",
    ),
    (
        124.0,
        False,
        False,
        "MTP (vllm) cannot reach 124 tok/s/user (its best is 100); Off (vllm) cannot reach 124 "
        "tok/s/user (its best is 60), so nothing is compared at this target.",
    ),
]


@pytest.mark.parametrize(("target", "spec_reaches", "off_reaches", "refusal"), REFUSED)
def test_a_target_a_side_cannot_reach_has_no_winner(
    target: float, spec_reaches: bool, off_reaches: bool, refusal: str
) -> None:
    c = compare_b300(example_points(), [target])
    (t,) = c.targets
    assert (t.requested, t.interactivity) == (target, target)
    assert (t.spec.reaches, t.off.reaches) == (spec_reaches, off_reaches)
    assert t.cost is None and t.throughput is None and t.power is None
    assert t.refusal == refusal
    # the unreachable side's figures are its fastest point's, for reference only
    assert (t.off.interactivity, t.off.throughput_per_gpu) == (60.0, 150.0)
    if spec_reaches and target == 100.0:
        assert t.spec.throughput_per_gpu == 200.0  # MTP's own fastest point
    names = refusal.replace(" (vllm)", "")
    assert t.narrative == f"Target {target:g} tok/s/user (vllm). {names}"
    dumped = c.model_dump(mode="json")["targets"][0]
    assert dumped["cost"] is None and dumped["throughput"] is None and dumped["power"] is None
    assert dumped["refusal"] == refusal
    assert dumped["off"]["reaches"] is False
    # no ratio caveat at a refused target, no "held at its edge" caveat for the side that
    # cannot reach it (the narrative says it)
    assert not any("throughput ratio" in cv or "above its frontier" in cv for cv in c.caveats)
    text = " ".join(_console_text(c).split())
    assert "(not compared)" in text and "cheaper [95 % CI] │ not compared" in text
    assert "cannot reach" in text
    assert "% less" not in text and "× cheaper" not in text and "% more" not in text


def test_the_fastest_point_itself_is_reachable() -> None:
    # 60 is Off's fastest measured interactivity: compared, Off at its knot (150 tok/s/GPU).
    (t,) = compare_b300(example_points(), [60.0]).targets
    assert t.off.reaches and t.spec.reaches and t.refusal is None
    assert t.off.throughput_per_gpu == 150.0 and t.cost is not None
    assert t.cost.winner == "spec"


def test_a_side_below_its_frontier_is_held_and_said_in_the_same_sentence() -> None:
    # A dominated MTP point at 18 widens MTP's range to 18–100 (band 18–60), but its frontier
    # starts at 20: at 18 MTP is held at (20, 2000), $650/2000 = $0.325/M; Off is read off its
    # curve inside its range. Both reach 18, so the ratio and winner stand.
    points = [*example_points(), example_point("mtp", 128, 18.0, 1000.0)]
    (t,) = compare_b300(points, [18.0]).targets
    assert t.spec.clamped_below and t.spec.reaches and t.refusal is None
    assert t.cost is not None and t.cost.winner == "spec"
    sentences = re.split(r"(?<=\.) (?=[A-Z])", t.narrative)
    held = [s for s in sentences if "held" in s]
    assert held == [
        "MTP runs faster than asked, so it is held at its slowest measured point (not "
        "extrapolated), 20 tok/s/user, where it delivers 2,000 tok/s/GPU at $0.325 per million "
        "tokens."
    ]
    # the load it was measured at, not the one Off needs at 18
    assert (t.spec.concurrency, t.spec.concurrency_interpolated) == (64.0, False)
    assert "MTP 64 (measured)" in t.narrative


# --- property: no winner where a side cannot reach ------------------------------------------

_WINNER_WORDS = ("cheaper", "less", "more tok/s", "the same", "costs")


@st.composite
def _frontier(draw: st.DrawFn, method: str) -> list[Point]:
    n = draw(st.integers(min_value=1, max_value=4))
    xs = sorted(
        draw(
            st.lists(
                st.floats(min_value=1.0, max_value=300.0, allow_nan=False),
                min_size=n,
                max_size=n,
                unique=True,
            )
        )
    )
    ys = sorted(
        draw(
            st.lists(
                st.floats(min_value=10.0, max_value=10_000.0, allow_nan=False),
                min_size=n,
                max_size=n,
                unique=True,
            )
        ),
        reverse=True,
    )
    return [example_point(method, 2**i, x, y) for i, (x, y) in enumerate(zip(xs, ys, strict=True))]


@settings(max_examples=150, deadline=None)
@given(
    spec=_frontier("mtp"),
    off=_frontier("none"),
    targets=st.lists(
        st.floats(min_value=0.5, max_value=400.0, allow_nan=False), min_size=1, max_size=4
    ),
    default=st.booleans(),
)
def test_no_sentence_names_a_winner_where_a_side_cannot_reach(
    spec: list[Point], off: list[Point], targets: list[float], default: bool
) -> None:
    c = compare_b300(spec + off, None if default else targets)
    s_max = max(p.interactivity for p in spec)
    o_max = max(p.interactivity for p in off)
    if default:
        assert (c.refusal is None) == c.band_overlaps
        assert bool(c.targets) == c.band_overlaps
    for t in c.targets:
        assert t.spec.reaches == (t.interactivity <= s_max)
        assert t.off.reaches == (t.interactivity <= o_max)
        if t.spec.reaches and t.off.reaches:
            assert t.refusal is None and t.cost is not None and t.throughput is not None
            continue
        assert t.cost is None and t.throughput is None and t.power is None
        assert t.refusal is not None and "cannot reach" in t.narrative
        for word in _WINNER_WORDS:
            assert word not in t.narrative, t.narrative
        assert not any(f"at {t.interactivity:g}" in cv and "ratio" in cv for cv in c.caveats)
