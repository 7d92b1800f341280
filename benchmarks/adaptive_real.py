"""Adaptive sweep vs the full grid on the real CPU engine, side by side in one run (issue 14).

The same recipe (llama.cpp serving the demo's Gemma 3 270M; off and n-gram drafting at
g = 2, 4, 8; concurrency 1, 2, 4; two repeats) is measured twice into two fresh stores: once as
the full grid, once as ``sweep --adaptive`` with a budget of a third of the grid. Both derive
the three answers with the same functions (``sweep.adaptive.answers``) at the targets the
adaptive sweep froze, and the script prints them next to each other with the points each used.
One real run is one seed: the agreement it shows is an example, not a rate (the simulated
benchmark, ``benchmarks/adaptive_cost.py``, gives rates over seeds).

    .venv/bin/python benchmarks/adaptive_real.py     # about 3 minutes on 2 idle cores
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from specscope.store.db import PointFilter, Store
from specscope.sweep.adaptive import Answers, answers, describe_answers
from specscope.sweep.adaptive_run import candidates, observations, run_adaptive_sweep
from specscope.sweep.plan import make_plan
from specscope.sweep.recipe import load_recipe
from specscope.sweep.runner import run_sweep

RECIPE = """
name = "adaptive-real"
repeats = 2
seed = 5

[engine]
kind = "llamacpp"
model = "demo"
threads = 2
context_tokens = 2048
health_timeout_s = 120

[load]
concurrency = [1, 2, 4]
requests_per_point = 4
warmup = 1
timeout_s = 60

[[workload]]
name = "repetitive"
source = "builtin:repetitive"
osl = 48

[[spec]]
name = "off"

[[spec]]
name = "ngram"
method = "ngram-mod"
gamma = [2, 4, 8]
params = { ngram-mod-n-match = 8, ngram-mod-n-min = 2 }
"""


def _same(full: Answers, adaptive: Answers) -> dict[str, bool]:
    return {
        "best g": [b.g for b in full.best] == [b.g for b in adaptive.best],
        "stops paying at": full.stop.first_not_paying == adaptive.stop.first_not_paying,
        "target verdicts": [t.verdict for t in full.targets]
        == [t.verdict for t in adaptive.targets],
    }


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="specscope-adaptive-real-") as tmp:
        folder = Path(tmp)
        recipe_path = folder / "recipe.toml"
        recipe_path.write_text(RECIPE)
        plan = make_plan(load_recipe(recipe_path))
        grid = len(plan.points)
        started = time.monotonic()
        adaptive = run_adaptive_sweep(
            plan, folder / "adaptive.duckdb", folder / "runs", budget_points=grid // 3
        )
        adaptive_s = time.monotonic() - started
        targets = json.loads(Path(adaptive.log).read_text())["targets"] or {}
        started = time.monotonic()
        outcome = run_sweep(plan, folder / "full.duckdb", folder / "runs")
        full_s = time.monotonic() - started
        with Store.open(folder / "full.duckdb", read_only=True) as store:
            points = store.points(PointFilter(run_id=outcome.run_id))
        cands, _ = candidates(plan)
        full = answers(cands, observations(points), targets)
        print(f"grid: {grid} points; targets (frozen by the adaptive sweep): {targets}")
        print(f"full grid: {len(points)} points in {full_s / 60:.1f} min")
        for found in full:
            for line in describe_answers(found):
                print(f"  {line}")
        print(
            f"adaptive: {adaptive.points} points ({adaptive.points / grid:.0%} of the grid) in "
            f"{adaptive_s / 60:.1f} min; stopped: {adaptive.stopped}"
        )
        for found in adaptive.answers:
            for line in describe_answers(found):
                print(f"  {line}")
        for f, a in zip(full, adaptive.answers, strict=True):
            same = _same(f, a)
            listed = ", ".join(f"{k} {'same' if v else 'DIFFERENT'}" for k, v in same.items())
            print(f"{f.workload}: {listed}")


if __name__ == "__main__":
    main()
