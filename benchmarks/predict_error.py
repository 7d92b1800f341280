"""How well does the calibrated step model predict what it was not fitted on?

Calibrates t0, η_bw, η_f on spec-off points plus one draft depth of a measured run, predicts
the other draft depths (and, with --train-concurrency, the other concurrencies), and prints the
step-time (= TPOT) error of every held-out point next to its measurement, then the median.
Target (the issue "Predict", part 4): median absolute error under 15 %.

End to end on this CPU (sweeps benchmarks/recipes/cpu-calibration.toml with the llama.cpp demo
engine into a fresh database first, about 8 minutes on 2 cores, then calibrates and predicts):

    python benchmarks/predict_error.py --measure

The demo's own pair (Qwen2.5-Coder-1.5B with the 0.5B as draft model, off and g = 1, 2, 4 at
concurrency 1 and 2 on HumanEval; about 10 minutes): calibrate on off and g = 1, predict g = 2, 4:

    python benchmarks/predict_error.py --measure \
        --recipe benchmarks/recipes/cpu-demo-calibration.toml \
        --draft-model qwen2.5-coder-0.5b-instruct

On runs already stored (after ``specscope sweep RECIPE.toml``):

    python benchmarks/predict_error.py --db specscope.duckdb --run RUN_ID \\
        [--run RUN_ID2] [--train-depths 0,2] [--train-concurrency 1,4] \\
        [--hardware cpu] [--model gemma-3-270m] [--precision q4_k_m] [--json]

Hardware, model and precision default to the points' own; the ``cpu`` hardware is measured by
the built-in probe (cached). Nothing is written to a database the script did not create.

Reading the table: one row per measured config (spec method, g, concurrency), at the repeat
with the median step time (the faster middle one for an even count: a run that shared the CPU
with another process is slower, never faster); ``spread`` says how far the repeats were apart.
``AL`` is the engine's acceptance length (1 + accepted / drafts); ``tok/step`` counts every decode
step, including those where the n-gram drafter found nothing to propose, and ``T`` is the tokens
per sequence an average pass verifies (1 + drafted / steps). The measured step time is mean TPOT
× tok/step; the error is the TPOT error.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
try:  # run from a checkout without installing: use the package next to this script
    import specscope  # noqa: F401
except ImportError:
    sys.path.insert(0, str(ROOT / "src"))

from specscope.calibration.runs import load_run_points  # noqa: E402
from specscope.catalog import load_catalog  # noqa: E402
from specscope.errors import UserError  # noqa: E402
from specscope.predict.calibrate import PointFit, calibrate, validate  # noqa: E402
from specscope.schema import Point  # noqa: E402

TARGET_MEDIAN_ERROR = 0.15
DEFAULT_RECIPE = ROOT / "benchmarks" / "recipes" / "cpu-calibration.toml"


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


def measure(recipe_path: Path, db: Path | None) -> tuple[Path, str]:
    """Run the calibration sweep into ``db`` (a new temporary file when None)."""
    from specscope.sweep.hooks import PointDone, SweepHooks
    from specscope.sweep.plan import make_plan
    from specscope.sweep.recipe import load_recipe
    from specscope.sweep.runner import run_sweep

    plan = make_plan(load_recipe(recipe_path))
    work = Path(tempfile.mkdtemp(prefix="specscope-predict-error-"))
    target = db or work / "calibration.duckdb"
    total = len(plan.points)
    done = 0
    print(
        f"measuring {total} points of {recipe_path.name} into {target} "
        f"(server logs in {work / 'runs'}); about 8 minutes on 2 cores",
        file=sys.stderr,
    )

    def on_done(point: PointDone) -> None:
        nonlocal done
        done += 1
        rate = f"{point.interactivity:.1f} tok/s/user" if point.interactivity else point.status
        al = f", AL {point.acceptance_length:.2f}" if point.acceptance_length else ""
        print(f"  [{done}/{total}] {point.key}: {rate}{al}", file=sys.stderr)

    outcome = run_sweep(plan, target, work / "runs", hooks=SweepHooks(on_point_done=on_done))
    if outcome.failed:
        print(f"note: {outcome.failed} point(s) failed and are left out", file=sys.stderr)
    return target, outcome.run_id


def _table(title: str, fits: Sequence[PointFit]) -> list[str]:
    lines = [title, f"  {'method':<10} {'g':>2} {'conc':>4} {'AL':>5} {'tok/step':>8} {'T':>5} "
             f"{'measured ms':>11} {'predicted ms':>12} {'error':>7}  range  repeats"]  # fmt: skip
    for f in sorted(fits, key=lambda x: (x.spec_method != "none", x.spec_method, x.draft_depth,
                                         x.concurrency)):  # fmt: skip
        lines.append(
            f"  {f.spec_method:<10} {f.draft_depth:>2} {f.concurrency:>4} "
            f"{f.acceptance_length:>5.2f} {f.tokens_per_step:>8.2f} {f.verify_tokens:>5.2f} "
            f"{f.measured_step_s * 1e3:>11.2f} {f.predicted_step_s * 1e3:>12.2f} "
            f"{f.rel_error * 100:>6.1f}%  {'in ' if f.in_calibrated_range else 'OUT'}    "
            f"{f.repeats} (spread {f.repeat_spread:.0%})"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--db", type=Path, default=None, help="specscope DuckDB file")
    ap.add_argument("--run", action="append", default=None, help="run id (repeatable)")
    ap.add_argument(
        "--measure",
        action="store_true",
        help="run the calibration sweep first (into a new temporary database unless --db)",
    )
    ap.add_argument("--recipe", type=Path, default=DEFAULT_RECIPE, help="sweep for --measure")
    ap.add_argument("--train-depths", type=_ints, default=None, help="e.g. 0,2 (0 = off)")
    ap.add_argument("--train-concurrency", type=_ints, default=None, help="e.g. 1,4")
    ap.add_argument("--hardware", default=None)
    ap.add_argument("--model", default=None)
    ap.add_argument("--precision", default=None)
    ap.add_argument(
        "--draft-model",
        default=None,
        help="catalog key of the draft model of draft-model points (the demo's: "
        "qwen2.5-coder-0.5b-instruct with benchmarks/recipes/cpu-demo-calibration.toml)",
    )
    ap.add_argument("--catalog", action="append", default=[], type=Path)
    ap.add_argument("--json", action="store_true", help="print one JSON object instead")
    args = ap.parse_args(argv)
    try:
        if args.measure:
            db, run_id = measure(args.recipe, args.db)
            runs = [run_id]
        elif args.db is None or not args.run:
            raise UserError("give --db FILE and --run RUN_ID, or --measure to sweep this CPU first")
        else:
            db, runs = args.db, list(args.run)
        points = load_run_points(db, runs)
        train, held, depths = split(points, args.train_depths, args.train_concurrency)
        if not held:
            raise UserError("nothing held out: add other draft depths or use --train-concurrency")
        catalog = load_catalog(args.catalog)
        draft = None if args.draft_model is None else catalog.model_spec(args.draft_model)
        fit = calibrate(
            train,
            catalog=catalog,
            hardware=args.hardware,
            model=args.model,
            precision=args.precision,
            draft_model=draft,
        )
        check = validate(held, fit.profile, catalog=catalog, draft_model=draft)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    errors = [abs(p.rel_error) for p in check.points]
    verdict = "PASS" if check.median_abs_rel_error < TARGET_MEDIAN_ERROR else "FAIL"
    train_conc = sorted({p.concurrency for p in fit.points})
    if args.json:
        print(
            json.dumps(
                {
                    "db": str(db),
                    "runs": runs,
                    "train_depths": depths,
                    "train_concurrency": train_conc,
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
    hw = fit.profile.hardware
    out = [
        f"db {db}, run(s) {', '.join(runs)}",
        f"trained on g = {', '.join(map(str, depths))} (0 = off) at concurrency "
        f"{', '.join(map(str, train_conc))}: {len(train)} points ({len(fit.points)} configs); "
        f"{len(held)} held out ({len(check.points)} configs)",
        f"hardware {hw.key}: {hw.name}, {hw.bandwidth_tb_s * 1e3:.1f} GB/s, "
        f"{(hw.fp32_tflops or 0) * 1e3:.0f} GFLOP/s listed",
        f"fitted on {hw.key} × {fit.profile.model} × {fit.profile.precision}: "
        f"t0 {eff.t0_s * 1e3:.2f} ms, η_bw {eff.eta_bw:.3f}, η_f {eff.eta_f:.3f}, "
        f"overlap {eff.overlap}; fit error median {fit.profile.fit.median_rel_error:.1%}, "
        f"max {fit.profile.fit.max_rel_error:.1%}",
        "",
        *_table("training points:", fit.points),
        "",
        *_table("held-out points (predicted, not fitted):", check.points),
        "",
        f"held-out step-time (TPOT) error: median {statistics.median(errors):.1%}, "
        f"max {max(errors):.1%} over {len(errors)} configs; target median < "
        f"{TARGET_MEDIAN_ERROR:.0%}: {verdict}",
    ]
    for warning in [*fit.warnings, *check.warnings]:
        out.append(f"note: {warning}")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
