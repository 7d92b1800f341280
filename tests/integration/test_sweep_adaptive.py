"""``run_adaptive_sweep`` through the real runner and store, with a simulated executor standing in
for the servers: every chosen point is stored as an ordinary sweep point, the run is marked
adaptive, the decision log is written next to it, the point budget holds, and --resume goes on."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from specscope.app.compare import compare_store
from specscope.app.options import Selection
from specscope.console import print_comparison
from specscope.schema import Point, Provenance
from specscope.store.db import PointFilter, Store
from specscope.sweep.adaptive.model import describe_answers
from specscope.sweep.adaptive.run import LOG_NAME, run_adaptive_sweep
from specscope.sweep.measure import MeasuredPoint
from specscope.sweep.plan import PlannedPoint, make_plan
from specscope.sweep.recipe import parse_recipe
from specscope.sweep.runner import SweepRunner

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
        g = 0 if planned.server.settings.is_off else planned.server.settings.draft_depth or 0
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
    # the ladder (off and mtp g=2 at C=1, 4, 16, twice) is 12 points: a budget inside it says so
    assert "inside the coarse ladder" in first.stopped
    assert "give --budget-points 12 or more" in first.stopped
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
    # compare states the three answers at the top, from the run's notes (issue 14 item 4)
    (comparison,) = compare_store(db, Selection(spec_method="mtp", workload="w"))
    assert comparison.adaptive == describe_answers(found)
    assert any(
        "spec stops paying at C=16" in line and "last paying C=8" in line
        for line in comparison.adaptive
    )
    assert comparison.adaptive[0].startswith("w: best g per concurrency: C=1 g=2")
    buffer = io.StringIO()
    print_comparison(Console(file=buffer, width=200, color_system=None), comparison)
    text = buffer.getvalue()
    assert text.index("answers of the adaptive sweep") < text.index("tok/s/user")


class FailingExecutor(SimExecutor):
    """As SimExecutor, but every point of ``fail_arm`` at ``fail_c`` fails."""

    def __init__(self, fail_arm: str, fail_c: int) -> None:
        super().__init__()
        self.fail = (fail_arm, fail_c)

    def execute(self, runner: SweepRunner, points: Any) -> None:
        for planned in points:
            self.seen.append(planned.key)
            if (planned.server.label, planned.concurrency) == self.fail:
                runner.record(runner.measurer.failed(planned, 64, "server crashed", []))
            else:
                runner.record(self._point(runner, planned))


def test_a_failed_point_is_left_out_and_the_sweep_goes_on(tmp_path: Path) -> None:
    plan = make_plan(parse_recipe(RECIPE))
    executor = FailingExecutor("mtp:mtp-g2", 4)  # a coarse-ladder cell of the start config
    result = run_adaptive_sweep(
        plan, tmp_path / "s.duckdb", tmp_path / "runs", budget_points=30, executor=executor
    )
    failed = [k for k in executor.seen if k.startswith("mtp:mtp-g2|w|c4|")]
    assert failed == ["mtp:mtp-g2|w|c4|r0"]  # tried once, never again
    assert len(executor.seen) > 12  # went on past the coarse ladder
    assert result.left_out == ["mtp:mtp-g2 | w | C=4"]
    assert "chosen twice" not in result.stopped
    log = json.loads((Path(result.sweep.run_dir) / LOG_NAME).read_text())
    assert log["left_out"] == [{"arm": "mtp:mtp-g2", "workload": "w", "concurrency": 4}]
    (step,) = [s for s in log["steps"] if s.get("failed")]
    assert step["key"] == "mtp:mtp-g2|w|c4|r0" and "left out" in step["left_out"]


def test_the_log_names_the_assumptions_and_what_rests_on_them(tmp_path: Path) -> None:
    plan = make_plan(parse_recipe(RECIPE))
    result = run_adaptive_sweep(
        plan, tmp_path / "s.duckdb", tmp_path / "runs", budget_points=16, executor=SimExecutor()
    )
    log = json.loads((Path(result.sweep.run_dir) / LOG_NAME).read_text())
    found = {a["name"]: a for a in log["assumptions"]["w"]}
    assert set(found) == {
        "ratio_falls_with_c",
        "best_g_not_rising",
        "s_unimodal_in_g",
        "one_noise_size",
    }
    assert all(a["statement"] for a in found.values())
    # 16 points cannot measure spec and Off at every concurrency: the crossover rests on C=2, 8
    (stop,) = found["ratio_falls_with_c"]["rests_on_it"]
    assert "where spec stops paying" in stop and "C=2" in stop


RECIPE_TOML = """
name = "adaptive-sim"
repeats = 3
[engine]
kind = "vllm"
model = "fake-model"
binary = "/bin/true"
[load]
concurrency = [1, 2, 4, 8, 16]
requests_per_point = 4
[[workload]]
name = "w"
source = "synthetic"
isl = 64
osl = 32
[[spec]]
name = "off"
method = "none"
[[spec]]
name = "mtp"
method = "mtp"
gamma = [1, 2, 3]
"""


def test_dry_run_adaptive_prints_the_coarse_ladder_and_the_grid(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from specscope.cli import app

    recipe = tmp_path / "r.toml"
    recipe.write_text(RECIPE_TOML)
    runner = CliRunner()
    done = runner.invoke(app, ["sweep", str(recipe), "--dry-run", "--adaptive"])
    assert done.exit_code == 0, done.output
    assert "grid of 60 points" in done.output
    keys = [line.strip() for line in done.output.splitlines() if line.count("|") == 3]
    assert keys[:3] == ["off:none|w|c1|r0", "off:none|w|c4|r0", "off:none|w|c16|r0"]
    assert len(keys) == 12  # not the 60-point plan
    assert "mtp:mtp-g3|w|c2|r0" not in done.output
    done = runner.invoke(app, ["sweep", str(recipe), "--dry-run", "--adaptive", "--json"])
    assert done.exit_code == 0, done.output
    shown = json.loads(done.output)
    assert shown["grid_points"] == 60 and len(shown["first_points"]) == 12
    assert not (tmp_path / "specscope-runs").exists()
