"""Adaptive sweep vs the full grid on the real CPU engine, side by side in one run (issue 14).

The same recipe (llama.cpp serving the demo's Qwen2.5-Coder-1.5B on this CPU; off, the demo's
draft model Qwen2.5-Coder-0.5B at g = 1, 2, 4 and the demo's n-gram drafter at g = 2, 4, 8;
HumanEval prompts; concurrency 1, 2, 4; two repeats: a grid of 42 points) is measured twice into
two fresh stores: once as ``sweep --adaptive`` with a budget of a third of the grid (never less
than its coarse ladder), then as the full grid. Both derive the three answers with the same
functions (``sweep.adaptive.answers.answers``) at the targets the adaptive sweep froze, and the
script prints them next to each other with the points and minutes each used. One real run is one
seed: the agreement it shows is an example, not a rate (``benchmarks/adaptive_cost.py`` gives
rates over seeds on the simulated engine).

    .venv/bin/python benchmarks/adaptive_real.py     # about 30 minutes on 2 idle cores
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from specscope.app.demo import DRAFT, NGRAM_METHOD, NGRAM_PARAMS, TARGET
from specscope.store.db import PointFilter, Store
from specscope.sweep.adaptive.answers import answers
from specscope.sweep.adaptive.model import Answers, describe_answers
from specscope.sweep.adaptive.run import candidates, observations, run_adaptive_sweep
from specscope.sweep.plan import make_plan
from specscope.sweep.recipe import parse_recipe
from specscope.sweep.runner import run_sweep

RECIPE = {
    "name": "adaptive-real",
    "repeats": 2,
    "seed": 5,
    "engine": {
        "kind": "llamacpp",
        "model": f"demo:{TARGET.name}",
        "threads": 2,
        "context_tokens": 4096,
        "health_timeout_s": 180,
    },
    "identity": {"hardware": "cpu", "model": TARGET.key, "precision": TARGET.precision},
    "load": {
        "api": "chat",
        "concurrency": [1, 2, 4],
        "requests_per_point": 4,
        "warmup": 1,
        "timeout_s": 300,
    },
    "workload": [
        {
            "name": "code",
            "source": "humaneval",
            "osl": 48,
            "chat_template": True,
            "max_input_tokens": 320,
        }
    ],
    "spec": [
        {"name": "off", "method": "none"},
        {
            "name": "draft",
            "method": "draft",
            "draft_model": f"demo:{DRAFT.name}",
            "gamma": [1, 2, 4],
        },
        {"name": "ngram", "method": NGRAM_METHOD, "gamma": [2, 4, 8], "params": NGRAM_PARAMS},
    ],
}


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
        plan = make_plan(parse_recipe(RECIPE))
        grid = len(plan.points)
        cands, _ = candidates(plan)
        budget = max(grid // 3, cands.ladder_points)
        started = time.monotonic()
        adaptive = run_adaptive_sweep(
            plan, folder / "adaptive.duckdb", folder / "runs", budget_points=budget
        )
        adaptive_s = time.monotonic() - started
        targets = json.loads(Path(adaptive.log).read_text())["targets"] or {}
        started = time.monotonic()
        outcome = run_sweep(plan, folder / "full.duckdb", folder / "runs")
        full_s = time.monotonic() - started
        with Store.open(folder / "full.duckdb", read_only=True) as store:
            points = store.points(PointFilter(run_id=outcome.run_id))
        full = answers(cands, observations(points), targets)
        print(
            f"grid: {grid} points; adaptive budget {budget} (coarse ladder "
            f"{cands.ladder_points}); targets (frozen by the adaptive sweep): {targets}"
        )
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
