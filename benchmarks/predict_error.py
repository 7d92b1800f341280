"""How well does the calibrated step model predict what it was not fitted on?

Calibrates t0, η_bw, η_f on spec-off points plus one draft depth of a measured run, predicts
the other draft depths (and, with --train-concurrency, the other concurrencies), and prints the
step-time (= TPOT) error of every held-out point next to its measurement, then the median.
Target (SPEC capability 9): median absolute error under 15 %.

Usage, after a CPU demo sweep has stored Off and several g in a DuckDB file:

    PYTHONPATH=src python benchmarks/predict_error.py --db specscope.duckdb --run RUN_ID \\
        [--run RUN_ID2] [--train-depths 0,2] [--train-concurrency 1,2] \\
        [--hardware cpu] [--model gemma-3-270m] [--precision q4_k_m] [--json]

Hardware, model and precision default to the points' own; the ``cpu`` hardware is measured by
the built-in probe (cached). Nothing is written to the database.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

from specscope.errors import UserError
from specscope.predict.calibrate import PointFit, calibrate, validate
from specscope.predict.catalog import load_catalog
from specscope.predict.runs import load_run_points
from specscope.schema import Point

TARGET_MEDIAN_ERROR = 0.15


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v.strip()]


def _depth(point: Point) -> int:
    return 0 if point.config.is_off else (point.config.draft_depth or 0)


def split(
    points: Sequence[Point], train_depths: Sequence[int] | None, train_conc: Sequence[int] | None
) -> tuple[list[Point], list[Point], list[int]]:
    """Train on Off + the chosen depths (default: Off and the smallest spec depth)."""
    depths = sorted({_depth(p) for p in points})
    spec_depths = [d for d in depths if d > 0]
    if train_depths is None:
        train_depths = [0, *spec_depths[:1]]
    chosen = set(train_depths)
    train = [
        p
        for p in points
        if _depth(p) in chosen and (train_conc is None or p.config.concurrency in train_conc)
    ]
    held = [p for p in points if p not in train]
    return train, held, sorted(chosen)


def _table(title: str, fits: Sequence[PointFit]) -> list[str]:
    lines = [title, f"  {'method':<10} {'g':>2} {'conc':>5} {'AL':>5} "
             f"{'measured ms':>12} {'predicted ms':>13} {'error':>8}  range"]  # fmt: skip
    for f in sorted(fits, key=lambda x: (x.draft_depth, x.concurrency)):
        lines.append(
            f"  {f.spec_method:<10} {f.draft_depth:>2} {f.concurrency:>5} "
            f"{f.acceptance_length:>5.2f} {f.measured_step_s * 1e3:>12.2f} "
            f"{f.predicted_step_s * 1e3:>13.2f} {f.rel_error * 100:>7.1f}%  "
            f"{'in' if f.in_calibrated_range else 'OUT'}"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", required=True, type=Path, help="specscope DuckDB file")
    ap.add_argument("--run", action="append", required=True, help="run id (repeatable)")
    ap.add_argument("--train-depths", type=_ints, default=None, help="e.g. 0,2 (0 = off)")
    ap.add_argument("--train-concurrency", type=_ints, default=None, help="e.g. 1,2")
    ap.add_argument("--hardware", default=None)
    ap.add_argument("--model", default=None)
    ap.add_argument("--precision", default=None)
    ap.add_argument("--catalog", action="append", default=[], type=Path)
    ap.add_argument("--json", action="store_true", help="print one JSON object instead")
    args = ap.parse_args(argv)
    try:
        points = load_run_points(args.db, args.run)
        train, held, depths = split(points, args.train_depths, args.train_concurrency)
        if not held:
            raise UserError("nothing held out: add other draft depths or use --train-concurrency")
        catalog = load_catalog(args.catalog)
        fit = calibrate(
            train,
            catalog=catalog,
            hardware=args.hardware,
            model=args.model,
            precision=args.precision,
        )
        check = validate(held, fit.profile, catalog=catalog)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    errors = [abs(p.rel_error) for p in check.points]
    verdict = "PASS" if check.median_abs_rel_error < TARGET_MEDIAN_ERROR else "FAIL"
    if args.json:
        print(
            json.dumps(
                {
                    "train_depths": depths,
                    "profile": fit.profile.model_dump(mode="json"),
                    "fit_points": [p.model_dump(mode="json") for p in fit.points],
                    "held_out_points": [p.model_dump(mode="json") for p in check.points],
                    "median_abs_rel_error": check.median_abs_rel_error,
                    "max_abs_rel_error": check.max_abs_rel_error,
                    "target": TARGET_MEDIAN_ERROR,
                    "verdict": verdict,
                    "warnings": [*fit.warnings, *check.warnings],
                },
                indent=2,
            )
        )
        return 0
    eff = fit.profile.efficiency
    out = [
        f"runs {', '.join(args.run)}: {len(train)} training points (g = "
        f"{', '.join(map(str, depths))}), {len(held)} held out",
        f"fitted on {fit.profile.hardware.key} × {fit.profile.model} × {fit.profile.precision}: "
        f"t0 {eff.t0_s * 1e3:.2f} ms, η_bw {eff.eta_bw:.3f}, η_f {eff.eta_f:.3f}, "
        f"overlap {eff.overlap}; fit error median {fit.profile.fit.median_rel_error:.1%}, "
        f"max {fit.profile.fit.max_rel_error:.1%}",
        "",
        *_table("training points:", fit.points),
        "",
        *_table("held-out points (predicted, not fitted):", check.points),
        "",
        f"held-out step-time (TPOT) error: median {statistics.median(errors):.1%}, "
        f"max {max(errors):.1%} over {len(errors)} points; target median < "
        f"{TARGET_MEDIAN_ERROR:.0%}: {verdict}",
    ]
    for warning in [*fit.warnings, *check.warnings]:
        out.append(f"note: {warning}")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
