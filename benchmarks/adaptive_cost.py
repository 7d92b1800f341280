"""Adaptive sweep vs the full grid, side by side on the simulated engine (issue 14).

For each profile (the roofline step model of ``predict`` with Leviathan acceptance, plus
lognormal run-to-run noise) and each seed, the full grid (every config × concurrency × repeat)
and the adaptive sweep (capped at a third of the grid) measure the same simulated deployment;
both derive the three answers with the same functions (``sweep.adaptive.answers``). Printed:
points used, the share of seeds whose adaptive answers equal the full grid's (exactly, and up to
differences the noise-free values cannot tell apart: within 3 %), each run's agreement with the
noise-free truth, how many answers the adaptive sweep left open, and the throughput lost by
running the g each one names (regret vs the true best g).

    .venv/bin/python benchmarks/adaptive_cost.py [--seeds 20] [--noise 0.02 0.04]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from specscope.sweep.adaptive_sim import (
    agree,
    regret,
    run_adaptive,
    run_full,
    standard_profiles,
    truth_answers,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--noise", type=float, nargs="+", default=[0.02, 0.04])
    parser.add_argument("--budget-share", type=float, default=1 / 3)
    args = parser.parse_args()
    started = time.perf_counter()
    header = (
        f"{'profile':40} {'noise':>5} {'grid':>4} {'adapt pts':>10} {'≤⅓':>4} "
        f"{'same':>5} {'same±3%':>7} {'full=truth':>10} {'adapt=truth':>11} "
        f"{'open':>5} {'regret full/adapt':>17}"
    )
    print(header)
    print("-" * len(header))
    totals: dict[str, list[float]] = {"same": [], "tol": [], "pts": [], "third": []}
    for noise in args.noise:
        for profile in standard_profiles(noise):
            truth = truth_answers(profile)
            budget = int(profile.cands.grid_points * args.budget_share)
            same, tol, full_truth, adapt_truth, points, opened = [], [], [], [], [], []
            reg_full, reg_adapt = [], []
            for seed in range(args.seeds):
                full = run_full(profile, seed)
                adapt = run_adaptive(profile, 10_000 + seed, budget_points=budget)
                same.append(agree(full.answers, adapt.answers, profile, tolerant=False).all)
                tol.append(agree(full.answers, adapt.answers, profile).all)
                full_truth.append(agree(full.answers, truth, profile).all)
                adapt_truth.append(agree(adapt.answers, truth, profile).all)
                points.append(adapt.points)
                opened.append(len(adapt.answers.open))
                reg_full.append(regret(full.answers, profile))
                reg_adapt.append(regret(adapt.answers, profile))
            grid = profile.cands.grid_points
            third = float(np.mean([p <= grid / 3 for p in points]))
            print(
                f"{profile.name:40} {noise:5.0%} {grid:4d} "
                f"{np.mean(points):5.1f}/{max(points):3d} {third:4.0%} "
                f"{np.mean(same):5.0%} {np.mean(tol):7.0%} {np.mean(full_truth):10.0%} "
                f"{np.mean(adapt_truth):11.0%} {np.mean(opened):5.1f} "
                f"{np.mean(reg_full):8.2%}/{np.mean(reg_adapt):.2%}"
            )
            totals["same"] += same
            totals["tol"] += tol
            totals["pts"] += [p / grid for p in points]
            totals["third"] += [p <= grid / 3 for p in points]
    print("-" * len(header))
    print(
        f"all: adaptive = full grid in {np.mean(totals['same']):.0%} of runs exactly, "
        f"{np.mean(totals['tol']):.0%} up to 3 % (target ≥ 90 %); points used "
        f"{np.mean(totals['pts']):.0%} of the grid on average, max "
        f"{max(totals['pts']):.0%} (target ≤ 33 %); {args.seeds} seeds per row; "
        f"{time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
