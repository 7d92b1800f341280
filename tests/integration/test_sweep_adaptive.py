"""``run_adaptive_sweep`` through the real runner and store, with a simulated executor standing in
for the servers: every chosen point is stored as an ordinary sweep point, the run is marked
adaptive, the decision log is written next to it, the point budget holds, and --resume goes on."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from specscope.schema import Point, Provenance
from specscope.store.db import PointFilter, Store
from specscope.sweep.adaptive_run import LOG_NAME, run_adaptive_sweep
from specscope.sweep.plan import PlannedPoint, make_plan
from specscope.sweep.recipe import parse_recipe
from specscope.sweep.runner import MeasuredPoint, SweepRunner

RECIPE: dict[str, Any] = {
    "name": "adaptive-sim",
    "repeats": 3,
    "engine": {"kind": "vllm", "model": "fake-model", "binary": "/bin/true"},
    "load": {"concurrency": [1, 2, 4, 8, 16], "requests_per_point": 4},
    "workload": [{"name": "w", "source": "synthetic", "isl": 64, "osl": 32}],
    "spec": [
        {"name": "off", "method": "none"},
        {"name": "mtp", "method": "mtp", "gamma": [1, 2, 3]},
    ],
}

SPEEDUP = {0: 1.0, 1: 1.3, 2: 1.5, 3: 1.4}
"""Spec/off per g at C = 1; it falls by 0.15 per doubling of C (stops paying at C = 16)."""


class SimExecutor:
    """Measures nothing: each point's throughput comes from SPEEDUP with 1 % noise."""

    def __init__(self) -> None:
        self.rng = np.random.default_rng(0)
        self.seen: list[str] = []

    def execute(self, runner: SweepRunner, points: Any) -> None:
        for planned in points:
            self.seen.append(planned.key)
            runner.record(self._point(runner, planned))

    def _point(self, runner: SweepRunner, planned: PlannedPoint) -> MeasuredPoint:
        g = 0 if planned.server.settings.is_off else planned.server.settings.g or 0
        c = planned.concurrency
        halvings = float(np.log2(c))
        speed = SPEEDUP[g] - (0.15 * halvings * (g > 0))
        noise = float(np.exp(self.rng.normal(0.0, 0.01)))
        point = Point(
            run_id=runner.run_id,
            config=runner.measurer.config(planned, 64),
            repeat=planned.repeat,
            throughput_per_gpu=100.0 * c * speed * noise,
            interactivity=50.0 * speed * noise / (1 + 0.05 * c),
            provenance=Provenance(
                source="specscope",
                date=datetime.now(UTC).isoformat(timespec="seconds"),
                extra={"sweep_key": planned.key, "recipe": runner.recipe.name},
            ),
        )
        return MeasuredPoint(point=point, records=[])


def test_adaptive_sweep_stores_ordinary_points_and_its_log(tmp_path: Path) -> None:
    plan = make_plan(parse_recipe(RECIPE))
    db, runs = tmp_path / "s.duckdb", tmp_path / "runs"
    executor = SimExecutor()
    result = run_adaptive_sweep(plan, db, runs, budget_points=20, executor=executor)
    assert result.grid_points == 4 * 5 * 3
    assert result.points == len(executor.seen) <= 20
    assert len(set(executor.seen)) == len(executor.seen)
    with Store.open(db) as store:
        stored = store.points(PointFilter(run_id=result.sweep.run_id))
        (run,) = [r for r in store.runs() if r.run_id == result.sweep.run_id]
    assert sorted(str(p.provenance.extra["sweep_key"]) for p in stored) == sorted(executor.seen)
    assert run.notes["adaptive"]["log"] == LOG_NAME
    log = json.loads((Path(result.sweep.run_dir) / LOG_NAME).read_text())
    assert [s["key"] for s in log["steps"]] == executor.seen
    assert all(s["reason"] for s in log["steps"])
    assert log["steps"][0]["question"] == "coarse"
    assert log["stopped"] == result.stopped
    assert log["answers"][0]["workload"] == "w"
    assert set(log["open"]) == {f"w: {item}" for item in result.answers[0].open}


def test_adaptive_sweep_resumes_and_decides_without_a_budget(tmp_path: Path) -> None:
    plan = make_plan(parse_recipe(RECIPE))
    db, runs = tmp_path / "s.duckdb", tmp_path / "runs"
    first = run_adaptive_sweep(plan, db, runs, budget_points=6, executor=SimExecutor())
    assert first.points == 6 and "budget" in first.stopped
    executor = SimExecutor()
    second = run_adaptive_sweep(plan, db, runs, resume=True, executor=executor)
    assert second.sweep.run_id == first.sweep.run_id
    assert second.points == 6 + len(executor.seen)
    assert second.points < second.grid_points
    found = second.answers[0]
    assert found.stop.first_not_paying == 16 and found.stop.last_paying == 8
    assert {b.g for b in found.best if b.concurrency <= 4} == {2}
    log = json.loads((Path(second.sweep.run_dir) / LOG_NAME).read_text())
    assert len(log["steps"]) == second.points
