"""The Ray executor's planning, without a cluster: cells are the local runner's launch units,
spec cells wait for the spec-off cell of their repeat, each cell reserves what the recipe names,
and any executor hands finished points to the runner, which alone writes the store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from tests.support.points import make_point
from typer.testing import CliRunner

import specscope
from specscope.cli import app
from specscope.errors import UserError
from specscope.schema import Point, Provenance
from specscope.store.db import PointFilter, Store
from specscope.sweep.hooks import point_done
from specscope.sweep.plan import PlannedPoint, make_plan
from specscope.sweep.ray_cells import (
    Cell,
    cell_dir,
    cell_resources,
    cluster_slots,
    plan_cells,
    portable_recipe,
    stop_stale_cell_servers,
    waits_for_off,
)
from specscope.sweep.ray_executor import RayExecutor, import_ray, worker_runtime_env
from specscope.sweep.recipe import Recipe, parse_recipe
from specscope.sweep.runner import SweepRunner
from specscope.sweep.stale import PID_FILE, ServerPid, process_start


def _recipe(**engine: Any) -> Recipe:
    return parse_recipe(
        {
            "name": "cells",
            "repeats": 2,
            "engine": {"kind": "llamacpp", "model": "demo", **engine},
            "identity": {"n_gpus": 2},
            "load": {"concurrency": [1, 2]},
            "workload": [{"name": "rep", "source": "builtin:repetitive", "osl": 8}],
            "spec": [
                {"name": "off"},
                {"name": "ngram", "method": "ngram-mod", "gamma": [4, 8]},
            ],
        }
    )


def test_cells_are_the_launch_units_of_the_local_runner_in_plan_order() -> None:
    plan = make_plan(_recipe())
    cells = plan_cells(plan.points)
    # 2 repeats × (off, ngram g4, ngram g8) = 6 cells of 2 concurrencies each = 12 points
    assert [c.label for c in cells] == [
        "off:none r0",
        "ngram:ngram-mod-g4 r0",
        "ngram:ngram-mod-g8 r0",
        "off:none r1",
        "ngram:ngram-mod-g4 r1",
        "ngram:ngram-mod-g8 r1",
    ]
    assert [c.index for c in cells] == list(range(6))
    assert [p for c in cells for p in c.points] == plan.points
    assert all([p.concurrency for p in c.points] == [1, 2] for c in cells)
    # one cell per server launch the local runner makes
    assert len(cells) == plan.launches()


def test_a_resumed_subset_keeps_its_cells() -> None:
    plan = make_plan(_recipe())
    left = [p for p in plan.points if not (p.repeat == 0 and p.concurrency == 1)]
    cells = plan_cells(left)
    assert len(cells) == 6
    assert [len(c.points) for c in cells] == [1, 1, 1, 2, 2, 2]


def _cell(index: int, method: str, repeat: int) -> Cell:
    plan = make_plan(_recipe())
    point = next(
        p for p in plan.points if p.repeat == repeat and p.server.settings.method == method
    )
    return Cell(index=index, repeat=repeat, server=point.server, points=[point])


@pytest.mark.parametrize(
    ("cell", "unfinished", "waits"),
    [
        # a spec cell of repeat 0 waits while the off cell of repeat 0 is pending or running
        ((1, "ngram-mod", 0), [(0, "none", 0)], True),
        # the off cell of another repeat does not hold it
        ((1, "ngram-mod", 0), [(3, "none", 1)], False),
        ((1, "ngram-mod", 0), [(2, "ngram-mod", 0)], False),
        # an off cell never waits (not even for itself)
        ((0, "none", 0), [(0, "none", 0), (4, "none", 0)], False),
    ],
)
def test_spec_cells_wait_for_the_off_cell_of_their_repeat(
    cell: tuple[int, str, int], unfinished: list[tuple[int, str, int]], waits: bool
) -> None:
    assert waits_for_off(_cell(*cell), [_cell(*u) for u in unfinished]) is waits


@pytest.mark.parametrize(
    ("engine", "nodes", "cpus_per_cell", "need"),
    [
        # CPU-only cluster: the engine's threads, 1 when unset, or an explicit override
        ({"threads": 2}, [{"CPU": 2.0}], None, {"num_cpus": 2.0, "num_gpus": 0.0}),
        ({}, [{"CPU": 2.0}], None, {"num_cpus": 1.0, "num_gpus": 0.0}),
        ({"threads": 2}, [{"CPU": 2.0}], 0.5, {"num_cpus": 0.5, "num_gpus": 0.0}),
        # with GPUs: identity.n_gpus (2) GPUs and one CPU, whatever the threads
        (
            {"threads": 8},
            [{"CPU": 4.0}, {"CPU": 64.0, "GPU": 8.0}],
            None,
            {"num_cpus": 1.0, "num_gpus": 2.0},
        ),
    ],
)
def test_a_cell_reserves_what_the_recipe_names(
    engine: dict[str, Any],
    nodes: list[dict[str, float]],
    cpus_per_cell: float | None,
    need: dict[str, float],
) -> None:
    assert cell_resources(_recipe(**engine), nodes, cpus_per_cell) == need


@pytest.mark.parametrize(
    ("engine", "nodes", "fragment"),
    [
        ({"threads": 4}, [{"CPU": 2.0}, {"CPU": 3.0}], "needs 4 CPU(s) and 0 GPU(s)"),
        ({}, [{"CPU": 16.0, "GPU": 1.0}], "needs 1 CPU(s) and 2 GPU(s)"),
    ],
)
def test_a_cell_no_node_can_hold_is_one_line(
    engine: dict[str, Any], nodes: list[dict[str, float]], fragment: str
) -> None:
    with pytest.raises(UserError) as info:
        cell_resources(_recipe(**engine), nodes)
    assert fragment in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("cpus", "gpus", "nodes", "slots"),
    [
        (2.0, 0.0, [{"CPU": 2.0}], 1),  # this box: one cell at a time
        (2.0, 0.0, [{"CPU": 16.0}, {"CPU": 5.0}], 10),  # 16 // 2 + 5 // 2 = 8 + 2
        (0.5, 0.0, [{"CPU": 2.0}], 4),
        # 2-GPU cells: 8 // 2 = 4 on the GPU node, none on the CPU-only node
        (1.0, 2.0, [{"CPU": 64.0, "GPU": 8.0}, {"CPU": 4.0}], 4),
        (1.0, 2.0, [{"CPU": 2.0, "GPU": 8.0}], 2),  # CPUs bound it: min(2 // 1, 8 // 2)
        (1.0, 0.0, [], 1),  # never zero
    ],
)
def test_cells_in_flight_are_what_the_nodes_hold_at_once(
    cpus: float, gpus: float, nodes: list[dict[str, float]], slots: int
) -> None:
    assert cluster_slots({"num_cpus": cpus, "num_gpus": gpus}, nodes) == slots


def test_an_endpoint_cell_reserves_one_cpu() -> None:
    data = _recipe().model_dump(mode="json")
    data["engine"] = {"kind": "endpoint", "url": "http://127.0.0.1:9"}
    data["spec"] = [{"name": "off"}]
    need = cell_resources(parse_recipe(data), [{"CPU": 8.0, "GPU": 8.0}])
    assert need == {"num_cpus": 1.0, "num_gpus": 0.0}


def test_workers_import_this_specscope() -> None:
    env = worker_runtime_env()
    first = env["env_vars"]["PYTHONPATH"].split(":")[0]
    assert Path(first) / "specscope" == Path(specscope.__file__).resolve().parent


def test_bad_executor_settings_are_refused() -> None:
    with pytest.raises(UserError, match="max_attempts must be at least 1"):
        RayExecutor(max_attempts=0)
    with pytest.raises(UserError, match="max_parallel must be at least 1"):
        RayExecutor(max_parallel=0)


def test_a_missing_ray_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError
    with pytest.raises(UserError, match=r"pip install 'specscope\[ray\]'"):
        import_ray()


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--address", "auto"], "--address names a Ray cluster: add --executor ray"),
        (["--executor", "slurm"], "--executor 'slurm' is not known; use local or ray"),
    ],
)
def test_cli_executor_mistakes_are_one_line(tmp_path: Path, args: list[str], fragment: str) -> None:
    recipe = tmp_path / "r.toml"
    recipe.write_text(
        'name = "x"\n[engine]\nkind = "endpoint"\nurl = "http://127.0.0.1:9"\n'
        '[[workload]]\nname = "w"\nsource = "builtin:chat"\n[[spec]]\nname = "off"\n'
    )
    result = CliRunner().invoke(
        app, ["sweep", str(recipe), "--db", str(tmp_path / "s.duckdb"), *args]
    )
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and fragment in lines[0], lines


class _FailEverything:
    """An executor that measures nothing: every point it is given comes back failed."""

    def __init__(self) -> None:
        self.given: list[str] = []

    def execute(self, runner: SweepRunner, points: Iterable[PlannedPoint]) -> None:
        for planned in points:
            self.given.append(planned.key)
            runner.record(runner.measurer.failed(planned, 0, "no machine", []))


def test_an_executor_gets_what_is_not_stored_ok_and_the_runner_stores_what_it_hands_back(
    tmp_path: Path,
) -> None:
    data = _recipe().model_dump(mode="json")
    data.update(repeats=1, spec=[{"name": "off"}])
    data["engine"] = {"kind": "endpoint", "url": "http://127.0.0.1:9"}
    plan = make_plan(parse_recipe(data))
    first, second = plan.points  # c1, c2
    with Store.open(tmp_path / "s.duckdb") as store:
        executor = _FailEverything()
        outcome = SweepRunner(plan, store, tmp_path / "runs", executor=executor).run()
        assert executor.given == [first.key, second.key]
        assert (outcome.measured, outcome.failed, outcome.skipped) == (2, 2, 0)
        rows = store.points(PointFilter(run_id=outcome.run_id, status=None))
        assert {p.error for p in rows} == {"no machine"}
        assert outcome.point_ids == [p.point_id for p in rows]
        # c1 measured ok meanwhile (e.g. on another executor): a resume gives only c2
        # (rebuilt from a dump: points read from the store are not meant for model_copy)
        ok = Point.model_validate(
            {**rows[0].model_dump(), "status": "ok", "error": None, "throughput_per_gpu": 5.0}
        )
        store.add_points([ok])
        again = _FailEverything()
        resumed = SweepRunner(plan, store, tmp_path / "runs", resume=True, executor=again).run()
    assert again.given == [second.key]
    assert (resumed.measured, resumed.failed, resumed.skipped) == (1, 1, 1)


def _point(**update: Any) -> Point:
    return make_point(
        run_id="r",
        hardware="cpu",
        engine="llamacpp",
        isl=10,
        osl=8,
        throughput_per_gpu=60.0,
        output_throughput_per_gpu=50.0,
        interactivity=20.0,
        n_requests=4,
        provenance=Provenance(extra={"sweep_key": "off:none|rep|c1|r0"}),
    ).model_copy(update=update)


def test_point_done_reports_output_tokens_per_second_of_all_gpus() -> None:
    done = point_done(_point(), n_gpus=2)
    # 50 output tok/s per GPU × 2 GPUs = 100 tok/s
    assert (done.key, done.status, done.output_tok_s, done.interactivity) == (
        "off:none|rep|c1|r0",
        "ok",
        100.0,
        20.0,
    )
    # a point that failed before any request ran reports no rates
    failed = point_done(_point(status="failed", error="boom", n_requests=None), n_gpus=2)
    assert (failed.output_tok_s, failed.interactivity, failed.error) == (None, None, "boom")


def test_cell_tasks_get_prompt_files_by_absolute_path(tmp_path: Path) -> None:
    data = _recipe().model_dump(mode="json")
    data["workload"] = [
        {"name": "mine", "source": "file:prompts/mine.jsonl"},
        {"name": "abs", "source": "file:/data/p.jsonl"},
        {"name": "rep", "source": "builtin:repetitive"},
    ]
    sent = portable_recipe(parse_recipe(data), tmp_path)
    assert [w["source"] for w in sent["workload"]] == [
        f"file:{tmp_path}/prompts/mine.jsonl",
        "file:/data/p.jsonl",
        "builtin:repetitive",
    ]
    # the names (and so the sweep keys) do not change
    assert [w["name"] for w in sent["workload"]] == ["mine", "abs", "rep"]


def test_servers_of_dead_cell_tasks_are_stopped_and_live_ones_left_alone(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    orphan = subprocess.Popen(["sleep", "60"], start_new_session=True)
    owned = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        dead_cell = cell_dir(runs / "sweep-1", 0)
        live_cell = cell_dir(runs / "sweep-2", 3)
        for folder, server, owner, owner_start in (
            (dead_cell, orphan, 2**22 + 1, None),  # its cell task is gone
            (live_cell, owned, os.getpid(), process_start(os.getpid())),  # still running
        ):
            folder.mkdir(parents=True)
            record = ServerPid(
                server_pid=server.pid,
                server_start=process_start(server.pid),
                owner_pid=owner,
                owner_start=owner_start,
            )
            (folder / PID_FILE).write_text(record.model_dump_json())
        assert stop_stale_cell_servers(runs) == [orphan.pid]
        assert orphan.wait(timeout=10) == -signal.SIGTERM
        assert not (dead_cell / PID_FILE).exists()
        assert owned.poll() is None and (live_cell / PID_FILE).exists()
    finally:
        for proc in (orphan, owned):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
