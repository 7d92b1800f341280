"""The report page's math modules (``report/assets/js``) give Python's numbers and words, in Node.

Python writes golden vectors (t quantiles, Steffen curves, intervals, the comparison at several
targets of the sample data, number formats, the tie rule, E(a, g) and the best g) to a JSON
file; ``node --test tests/js/math.test.js`` loads the modules in the page's order and checks
them against it, floats to a relative 1e-9.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from tests.support.node import require_node
from tests.unit.test_stats_t import T95_GOLDEN

from specscope.analysis.compare import compare
from specscope.analysis.economics import list_presets, resolve_economics
from specscope.analysis.frontier import pareto_frontier
from specscope.analysis.interpolate import MonotoneCubic, curve_at
from specscope.analysis.narrative import (
    RatioKind,
    _half_up,
    describe_comparison,
    display_name,
    fmt_concurrency,
    fmt_factor,
    fmt_interactivity,
    fmt_percent,
    fmt_tie_factor,
    fmt_tok_s,
    fmt_usd,
    ratio_wording,
)
from specscope.analysis.series import split_series
from specscope.analysis.stats import (
    Uncertainty,
    fixed_interactivity_uncertainty,
    log_ratio_ci_95,
    t_critical_95,
)
from specscope.report.html import MATH_MODULES
from specscope.report.models import ReportPair
from specscope.report.payload import build_payload, embed_json
from specscope.report.sample import sample_points
from specscope.schema import Point
from specscope.theory.acceptance import AcceptanceKind, to_al, to_alpha
from specscope.theory.leviathan import best_draft_depth, break_even_cost_ratio, expected_tokens
from specscope.tie import beats, is_tie

JS_TEST = Path(__file__).resolve().parents[1] / "js" / "math.test.js"
FORMAT_CASES = [(0.5, 0), (1.5, 0), (2.5, 0), (0.125, 2), (0.375, 2), (2.675, 2), (1234567.5, 0)]
FORMAT_CASES += [(4729.05, 1), (0.0001234, 6), (-0.04, 1), (99.95, 1), (1e-7, 9), (2179263.1, 0)]
"""Exact binary ties round half to even in Python; 2.675 is just below 2.675 in binary."""
TARGETS = [10.0, 30.0, 45.0, 55.0, 70.0, 85.0, 85.5, 100.0, 119.75, 120.0, 120.5, 150.0, 201.0]


def _encoded(value: Any) -> Any:
    """JSON-ready: tuples as lists, non-finite floats as {"nonfinite": "inf" | "-inf" | "nan"}."""
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else {"nonfinite": repr(number)}
    if isinstance(value, dict):
        return {str(k): _encoded(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_encoded(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    return value


def _curves() -> list[dict[str, Any]]:
    knot_sets: list[tuple[list[float], list[float]]] = [
        ([120.0, 100.0, 70.0, 30.0], [200.0, 700.0, 2000.0, 3500.0]),  # sample Off, unsorted
        ([50.0, 100.0, 150.0, 200.0], [6000.0, 3000.0, 1000.0, 300.0]),
        ([1.0, 2.0, 2.0, 3.0, 5.0], [10.0, 8.0, 6.0, 1.0, 0.5]),  # duplicate x merged
        ([1.0, 2.0, 4.0, 7.0, 8.0], [1.0, 3.0, 2.0, 2.0, 9.0]),  # not monotone
        ([10.0, 20.0], [5.0, 1.0]),  # two knots: a line
        ([42.0], [7.0]),  # one knot
        ([0.5, 1.5, 2.25, 4.0], [0.0, -1.0, -3.5, -3.6]),  # y ≤ 0: elasticity 0
    ]
    out = []
    for x, y in knot_sets:
        curve = MonotoneCubic(x, y)
        lo, hi = curve.x_min, curve.x_max
        targets = sorted(
            {lo - 1.0, lo, hi, hi + 0.5, *curve.x.tolist(), *np.linspace(lo, hi, 9).tolist()}
        )
        out.append(
            {
                "x": x,
                "y": y,
                "knots_x": curve.x,
                "knots_y": curve.y,
                "slopes": curve.slopes,
                "targets": targets,
                "values": curve(targets),
                "at": [curve_at(curve, t).model_dump() for t in targets],
                "brackets": [curve.bracket(t) for t in targets],
                "elasticities": [curve.elasticity(k) for k in range(curve.x.size)],
            }
        )
    return out


def _frontiers() -> list[dict[str, Any]]:
    sets = [
        ([120.0, 100.0, 70.0, 30.0, 110.0], [200.0, 700.0, 2000.0, 3500.0, 500.0]),
        ([1.0, 1.0, 2.0, 2.0, 3.0], [5.0, 5.0, 4.0, 6.0, 6.0]),  # ties and exact duplicates
        ([0.0, 1.0, -2.0, 3.0, math.nan, 4.0], [9.0, 8.0, 7.0, 0.0, 5.0, math.inf]),
    ]
    out = []
    for x, y in sets:
        xs, ys = np.asarray(x), np.asarray(y)
        kept = np.flatnonzero(np.isfinite(xs) & np.isfinite(ys) & (xs > 0) & (ys > 0))
        out.append({"x": x, "y": y, "front": kept[pareto_frontier(xs[kept], ys[kept])]})
    return out


def _pair_of(u: Uncertainty) -> tuple[float, float]:
    return u.rel_se, u.df


def _stats() -> dict[str, Any]:
    ratio_cases = [
        (3811.0, 0.02, 2.0, 1318.125, 0.015, 2.0),
        (100.0, 0.05, 1.0, 80.0, 0.0, 4.0),  # one side without spread
        (100.0, 0.0, 2.0, 80.0, 0.0, 2.0),  # neither: the point ratio
        (50.0, 0.1, 3.709198813056379, 75.0, 0.03, 1.4),
    ]
    uncertainty_cases = [
        (2, 100.0, 10.0, 50.0, 5.0, 50.0, 2.0),  # the docstring's worked numbers
        (2, 100.0, 10.0, 50.0, 5.0, 50.0, 0.0),
        (3, 1318.125, 26.4, 100.0, 1.0, 26.0, 0.7),
        (5, 10.0, 1.0, 20.0, 4.0, -40.0, 3.0),  # negative covariance: variance floored at 0
    ]
    interval_cases = [(0.05, 2.0, 100.0), (0.4, 1.0, 10.0), (0.01, 7.3, 3811.0), (0.02, 1.5, 0.0)]
    between_cases = [((0.05, 2.0), (0.02, 4.0), w) for w in (0.0, 0.25, 0.5, 1.0)]
    return {
        "t95": [(df, t_critical_95(df)) for df, _ in [*T95_GOLDEN, (math.inf, 0.0)]],
        "log_ratio_ci": [(case, log_ratio_ci_95(*case)) for case in ratio_cases],
        "fixed_uncertainty": [
            (case, _pair_of(fixed_interactivity_uncertainty(*case))) for case in uncertainty_cases
        ],
        "intervals": [
            ((rel, df, v), Uncertainty(rel, df).interval(v)) for rel, df, v in interval_cases
        ],
        "between": [
            ((a, b, w), _pair_of(Uncertainty.between(Uncertainty(*a), Uncertainty(*b), w)))
            for a, b, w in between_cases
        ],
    }


def _pair(points: Sequence[Point], targets: Sequence[float] | None, **prices: float) -> ReportPair:
    series = split_series(points)
    spec = next(s for s in series if not s.is_off)
    off = next(s for s in series if s.is_off)
    economics = resolve_economics(spec.points[0].config.hardware, "auto", **prices)
    comparison = compare(spec, off, economics, targets)
    return ReportPair(
        comparison=comparison, spec_points=list(spec.points), off_points=list(off.points)
    )


def _comparisons() -> list[dict[str, Any]]:
    """Page data of one pair each, its Comparison's targets being Python's answers."""
    pairs = [
        ("repeats 3", _pair(sample_points(repeats=3), TARGETS)),
        ("one repeat", _pair(sample_points(), TARGETS)),
        (
            "repeats 5, custom prices",
            _pair(sample_points(repeats=5), TARGETS, usd_per_gpu_hour=2.0, kw_per_gpu=1.0),
        ),
        ("default targets", _pair(sample_points(repeats=2, isl=8192, scale=0.5), None)),
    ]
    out = []
    for name, pair in pairs:
        payload = build_payload([pair], 0, list_presets(), [], [None], name)
        out.append(
            {
                "name": name,
                "data": json.loads(embed_json(payload)),
                "opening": describe_comparison(pair.comparison)[0],
            }
        )
    return out


def _formats() -> dict[str, Any]:
    numbers = [0.0, -0.0, 0.5, 1.5, 2.5, 62.5, 99.95, 1234.5, 0.00123, 1e-7, 123456789.0, 1e22]
    numbers += [math.inf, -math.inf, math.nan]
    values = [139.99, 140.0, 1250.0, 77.48172, 5.2411111, 0.5, 1234.5678, 15.833333333333334]
    values += [0.0, 27.55, 9.95, 1e6, 2.345]
    usd = [0.0, 0.00123, 0.0095, 0.01, 0.27396, 0.5184, 12.34, 99.95, 1234.5, math.inf]
    percent = [0.0, 4.75, 9.96, 10.0, 56.5, 62.5, 99.4, 99.95, 99.96, 150.0, 289.0]
    factor = [1.0, 1.005, 2.285, 2.89, 9.999, 12.45, 99.96, 175.5, math.inf]
    ties = [1.0, 1.0099, 1.009999, 1.0005, 1.00999999999]
    labels = ["mtp (vllm)", "off (vllm)", "none", "eagle3 (sglang, trt)", "custom (x)", "ngram"]
    kinds: list[RatioKind] = ["cost", "throughput", "power"]
    ratios = [(2.89, 65.4, False), (1.0099, 0.98, True), (1.5, 50.0, False)]
    wordings = [(kind, *ratio) for kind in kinds for ratio in ratios]
    return {
        "fixed": [
            (v, d, f"{v:.{d}f}", f"{v:,.{d}f}", f"{v:g}")
            for v, d in [*FORMAT_CASES, *((x, 2) for x in numbers)]
        ],
        "half_up": [(v, d, _half_up(v, d)) for v in values + percent for d in (0, 1, 2)],
        "usd": [(v, fmt_usd(v)) for v in usd],
        "tok_s": [(v, fmt_tok_s(v)) for v in [0.0, 3.14159, 25.34, 99.99, 4729.05, 1e6]],
        "interactivity": [(v, fmt_interactivity(v)) for v in [*values, math.inf]],
        "concurrency": [(v, fmt_concurrency(v)) for v in values],
        "percent": [(v, fmt_percent(v)) for v in percent],
        "factor": [(v, fmt_factor(v)) for v in factor],
        "tie_factor": [(v, fmt_tie_factor(v)) for v in ties],
        "display_name": [(label, display_name(label)) for label in labels],
        "ratio_wording": [(case, ratio_wording(*case)) for case in wordings],
    }


def _theory() -> dict[str, Any]:
    alphas = [0.0, 0.3, 0.5, 0.6, 0.9, 0.999999, 1.0]
    best = [(0.9, 0.01), (0.906, 0.467), (0.6, 0.3), (0.99, 0.0001), (1.0, 0.5), (0.8, 0.0)]
    best += [(0.0, 0.1), (0.5, 2.0)]
    kinds: dict[str, AcceptanceKind] = {"a": "alpha", "r": "rate", "al": "al"}
    predictions = [("a", 0.8, 3, 0.1), ("r", 0.6, 4, 0.05), ("al", 2.5, 3, 0.2), ("r", 0.0, 2, 0.1)]
    predictions += [("al", 4.0, 3, 0.1), ("a", 0.95, 8, 0.0)]
    rows = []
    for kind, value, g, c in predictions:
        a = to_alpha(value, kinds[kind], g)
        found = best_draft_depth(a, c)
        e = expected_tokens(a, g)
        rows.append(
            (
                (value, kind, g, c),
                {
                    "a": a,
                    "al": to_al(value, kinds[kind], g),
                    "e": e,
                    "s": e / (1.0 + g * c),
                    "cStar": break_even_cost_ratio(a, g),
                    "bestG": found.draft_depth,
                    "bestS": found.speedup,
                    "atLimit": found.at_limit,
                },
            )
        )
    return {
        "expected_tokens": [(a, g, expected_tokens(a, g)) for a in alphas for g in (1, 2, 3, 8)],
        "best_gamma": [
            (a, c, [found.draft_depth, found.speedup, found.at_limit])
            for a, c in best
            for found in [best_draft_depth(a, c)]
        ],
        "leviathan": rows,
    }


def _ties() -> list[tuple[float, float, bool, bool]]:
    pairs = [(1.0, 1.0), (1.0, 1.0099), (1.01, 1.0), (1.0, 1.01), (2.0, 1.0), (100.0, 99.5)]
    pairs += [(1.0100000001, 1.0), (3.0, 3.0299)]
    return [(a, b, is_tie(a, b), beats(a, b)) for a, b in pairs]


def golden_vectors() -> dict[str, Any]:
    """Everything the JavaScript test checks, with the modules to load in the page's order."""
    js = resources.files("specscope.report") / "assets" / "js"
    encoded: dict[str, Any] = _encoded(
        {
            "modules": [str(js / name) for name in MATH_MODULES],
            "stats": _stats(),
            "curves": _curves(),
            "frontiers": _frontiers(),
            "comparisons": _comparisons(),
            "formats": _formats(),
            "ties": _ties(),
            "theory": _theory(),
        }
    )
    return encoded


def test_page_math_modules_equal_python(tmp_path: Path) -> None:
    node = require_node()
    golden = tmp_path / "golden.json"
    golden.write_text(json.dumps(golden_vectors(), allow_nan=False), encoding="utf-8")
    env = {**os.environ, "SPECSCOPE_GOLDEN": str(golden)}
    run = subprocess.run(
        [node, "--test", str(JS_TEST)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "# fail 0" in run.stdout, run.stdout[-2000:]
