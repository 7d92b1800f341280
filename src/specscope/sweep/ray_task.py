"""The Ray task of one cell (runs on a Ray worker): launch the engine on its node, measure the
cell's points, and stream every finished one back as plain data."""

from __future__ import annotations

import contextlib
import importlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from specscope.sweep.hooks import SweepHooks
from specscope.sweep.measure import MeasuredPoint, PointMeasurer, measure_points
from specscope.sweep.plan import PlannedPoint
from specscope.sweep.ray_cells import CellTask, cell_dir, stop_stale_cell_servers
from specscope.sweep.recipe import Recipe
from specscope.sweep.servers import Servers


def run_cell(task_data: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Measure one cell on this node; yields messages as plain dicts, each as soon as it exists:
    ``started`` (pid and node), ``server`` (launch notes), ``start`` (a point begins), ``point``
    (a finished point with its records)."""
    ray = importlib.import_module("ray")
    task = CellTask.model_validate(task_data)
    run_dir = Path(task.run_dir)
    folder = cell_dir(run_dir, task.index)
    folder.mkdir(parents=True, exist_ok=True)
    yield {
        "kind": "started",
        "node_id": ray.get_runtime_context().get_node_id(),
        "host": socket.gethostname(),
        "worker_pid": os.getpid(),
        "cell_dir": str(folder),
    }
    for pid in stop_stale_cell_servers(run_dir.parent):
        yield {"kind": "server", "text": f"stopped server pid {pid}, left by a dead cell task"}
    warning = engine_environment()
    if warning is not None:
        yield {"kind": "server", "text": warning}
    recipe = Recipe.model_validate(task.recipe)
    notes: list[str] = []
    hooks = SweepHooks(on_server=notes.append)
    measurer = PointMeasurer(recipe, task.run_id, Servers(recipe, folder, hooks), hooks)
    for workload, concurrency, repeat, outputs in task.references:
        measurer.outputs[(workload, concurrency, repeat)] = outputs
    points = [PlannedPoint.model_validate(p) for p in task.points]
    with contextlib.closing(measure_points(measurer, points)) as stream:
        for item in stream:
            for text in notes:
                yield {"kind": "server", "text": text}
            notes.clear()
            if isinstance(item, MeasuredPoint):
                yield {
                    "kind": "point",
                    "point": item.point.model_dump(),
                    "records": [r.model_dump() for r in item.records],
                }
            else:
                yield {"kind": "start", "key": item.key}


def engine_environment() -> str | None:
    """Give the engine this cell launches what a local sweep would give it; a note if not.

    Ray starts workers at niceness 15 (``RAY_worker_niceness``), and a server launched from one
    inherits it: on a node shared with anything else the engine then gets less CPU and measures
    slower (CFS weight 36 against 1024 at niceness 0). The worker goes back to niceness 0 when
    allowed (root or CAP_SYS_NICE). Ray also sets ``OMP_NUM_THREADS`` to the task's CPUs; it
    is dropped so the engine keeps its own default (a recipe's ``engine.env`` still sets it).
    """
    os.environ.pop("OMP_NUM_THREADS", None)
    niceness = os.getpriority(os.PRIO_PROCESS, 0)
    if niceness <= 0:
        return None
    try:
        os.setpriority(os.PRIO_PROCESS, 0, 0)
    except PermissionError:
        return (
            f"this Ray worker runs at niceness {niceness} and may not lower it: the engine gets "
            "less CPU than in a local sweep; start the cluster with RAY_worker_niceness=0"
        )
    return None


def cleanup_node(runs_dir: str) -> list[int]:
    """Stop servers left by dead cell tasks on this node (run pinned to a node)."""
    return stop_stale_cell_servers(Path(runs_dir))
