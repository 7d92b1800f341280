"""The cells of a Ray sweep, as pure data: grouping planned points into cells, the order they
may start in, the resources each reserves, and the plain data a cell task is given."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from specscope.errors import UserError
from specscope.sweep.plan import PlannedPoint, ServerConfig
from specscope.sweep.recipe import Recipe
from specscope.sweep.stale import stop_stale_servers

CELLS_DIR = "cells"
"""Sub-folder of a run folder holding one folder per cell (server log, pid file)."""


class Cell(BaseModel):
    """One launch unit: the points of one repeat that share a server config, in plan order."""

    model_config = ConfigDict(frozen=True)

    index: int
    repeat: int
    server: ServerConfig
    points: list[PlannedPoint] = Field(min_length=1)

    @property
    def label(self) -> str:
        return f"{self.server.label} r{self.repeat}"

    @property
    def is_off(self) -> bool:
        return self.server.settings.is_off


def plan_cells(points: Iterable[PlannedPoint]) -> list[Cell]:
    """Group points by (repeat, server config), keeping plan order (cells and their points).

    Plan order is repeat → server config → workload → concurrency, so each group is one run of
    consecutive points: exactly what the local runner measures with one server launch.
    """
    groups: dict[tuple[int, str], list[PlannedPoint]] = {}
    for point in points:
        groups.setdefault((point.repeat, point.server.label), []).append(point)
    return [
        Cell(index=i, repeat=group[0].repeat, server=group[0].server, points=group)
        for i, group in enumerate(groups.values())
    ]


def waits_for_off(cell: Cell, unfinished: Iterable[Cell]) -> bool:
    """True when ``cell`` is a spec cell and a spec-off cell of its repeat is not over yet (its
    outputs are the reference of the lossless check)."""
    if cell.is_off:
        return False
    return any(o.is_off and o.repeat == cell.repeat and o.index != cell.index for o in unfinished)


def cell_resources(
    recipe: Recipe, nodes: list[dict[str, float]], cpus_per_cell: float | None = None
) -> dict[str, float]:
    """Ray resources one cell reserves, given the resources of each live node.

    With GPUs in the cluster: the recipe's ``identity.n_gpus`` GPUs and one CPU. Without: CPUs
    only, ``cpus_per_cell`` or the engine's ``threads`` (one when unset). An endpoint recipe
    launches nothing: one CPU. A cell no node can hold is a UserError (Ray would wait forever).
    """
    gpus_per_node = max((n.get("GPU", 0.0) for n in nodes), default=0.0)
    cpus_per_node = max((n.get("CPU", 0.0) for n in nodes), default=0.0)
    if not recipe.engine.launches:
        need = {"num_cpus": 1.0, "num_gpus": 0.0}
    elif gpus_per_node > 0:
        need = {"num_cpus": 1.0, "num_gpus": float(recipe.identity.n_gpus)}
    else:
        cpus = cpus_per_cell if cpus_per_cell is not None else float(recipe.engine.threads or 1)
        need = {"num_cpus": cpus, "num_gpus": 0.0}
    if need["num_gpus"] > gpus_per_node or need["num_cpus"] > cpus_per_node:
        have = f"{cpus_per_node:g} CPU(s) and {gpus_per_node:g} GPU(s)"
        raise UserError(
            f"a cell needs {need['num_cpus']:g} CPU(s) and {need['num_gpus']:g} GPU(s) but the "
            f"largest Ray node has {have}; lower identity.n_gpus / engine.threads or add a node"
        )
    return need


def cluster_slots(need: dict[str, float], nodes: list[dict[str, float]]) -> int:
    """How many cells needing ``need`` the nodes hold at once (at least 1)."""
    total = 0
    for node in nodes:
        fits = [
            int(node.get(resource, 0.0) // amount)
            for resource, amount in (("CPU", need["num_cpus"]), ("GPU", need["num_gpus"]))
            if amount > 0
        ]
        total += min(fits) if fits else 0
    return max(total, 1)


class CellStart(BaseModel):
    """A cell task started on a node (for progress and tests)."""

    model_config = ConfigDict(frozen=True)

    index: int
    attempt: int
    label: str
    keys: list[str]
    node_id: str
    host: str
    worker_pid: int
    cell_dir: str


class CellTask(BaseModel):
    """What a cell task is given (sent as plain data)."""

    model_config = ConfigDict(frozen=True)

    index: int
    attempt: int
    recipe: dict[str, Any]
    run_id: str
    run_dir: str
    """The run folder, absolute (the cell writes into ``<run_dir>/cells/cell-NNN``)."""
    points: list[dict[str, Any]]
    references: list[tuple[str, int, int, list[str | None]]] = Field(default_factory=list)
    """Spec-off outputs per (workload, concurrency, repeat), for the lossless check."""


def portable_recipe(recipe: Recipe, cwd: Path) -> dict[str, Any]:
    """The recipe as plain data for a cell task, prompt files made absolute (a Ray worker does
    not run in the driver's folder)."""
    data = recipe.model_dump(mode="json")
    for workload in data["workload"]:
        source = str(workload["source"])
        if source.startswith("file:") and not Path(source.removeprefix("file:")).is_absolute():
            workload["source"] = f"file:{cwd / source.removeprefix('file:')}"
    return data


def cell_dir(run_dir: Path, index: int) -> Path:
    return run_dir / CELLS_DIR / f"cell-{index:03d}"


def stop_stale_cell_servers(runs_dir: Path) -> list[int]:
    """Stop the servers of dead cell tasks under every run folder of ``runs_dir`` (this node)."""
    stopped: list[int] = []
    for cells in sorted(runs_dir.glob(f"*/{CELLS_DIR}")):
        stopped += stop_stale_servers(cells)
    return stopped
