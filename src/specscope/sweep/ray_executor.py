"""Distributed sweeps on Ray: each server-config cell of the plan runs as one Ray task.

A *cell* is one launch unit of the local runner: the points of one repeat that share a server
config, in plan order. Each cell becomes a Ray task that reserves what the recipe names (``n_gpus``
GPUs when the cluster has GPUs; otherwise ``engine.threads`` CPUs, or one), launches the engine on
its node, measures the cell's points through the same
:class:`~specscope.sweep.measure.PointMeasurer` as the local runner, and streams every finished
point (Point and request records, as plain dicts) back as soon as it is over (a Ray streaming
generator). Only the driver writes the store (DuckDB has one writer): it stores each point the
moment it arrives.

Fault tolerance: when a worker process or its node dies mid-cell, the points it already streamed
stay stored; the driver stops the server the dead worker left behind (a task pinned to that node;
the next cell task on the node does the same) and runs the cell again with only its unfinished
points, up to ``max_attempts`` times in all; after that those points are stored ``failed`` with
the reason. ``--resume`` works across executors: run ids and sweep keys are the runner's.

Ordering and pairing: every cell builds the same prompts as the local runner (they depend only on
the workload and the seed). A spec cell starts only after the spec-off cells of its repeat are
over, so its outputs are checked against theirs (the lossless check) exactly as locally. Cells run
in parallel as far as the live nodes hold them at once (``max_parallel`` sets another cap), and a
retried cell goes first. On a small machine reserve all its cores per cell (the default reserves
``engine.threads``; ``threads = 2`` on a 2-core box runs one cell at a time), since two engines on
the same cores would distort each other's numbers. The engine gets what a local sweep gives it:
normal priority (Ray starts workers at niceness 15; on a CPU shared with other work such an
engine gets a sliver of it, and the first Ray run here measured half the local tok/s/user) and
no ``OMP_NUM_THREADS`` from Ray.

Every node needs specscope (same version) and the engine installed, the model at the recipe's path,
and the recipe's prompt files at the same paths; server logs stay in the run folder on the node
that ran the cell (``<run folder>/cells/cell-NNN``).

This module is the driver (:class:`RayExecutor`); the cells as pure data are in
``sweep.ray_cells``, the task a cell runs on its worker in ``sweep.ray_task``.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import queue
import signal
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import specscope
from specscope.errors import UserError
from specscope.schema import Point, RequestRecord
from specscope.sweep.measure import MeasuredPoint
from specscope.sweep.plan import PlannedPoint
from specscope.sweep.ray_cells import (
    CELLS_DIR,
    Cell,
    CellStart,
    CellTask,
    cell_resources,
    cluster_slots,
    plan_cells,
    portable_recipe,
    stop_stale_cell_servers,
    waits_for_off,
)
from specscope.sweep.ray_task import cleanup_node, run_cell
from specscope.sweep.runner import SweepRunner

DEFAULT_MAX_ATTEMPTS = 3
CLEANUP_TIMEOUT_S = 60.0
CANCEL_GRACE_S = 20.0


def worker_runtime_env() -> dict[str, Any]:
    """A Ray runtime env that lets workers started from this process import this specscope
    (its source folder goes first on their PYTHONPATH; nodes with specscope installed are
    unaffected when the folder does not exist there)."""
    source = str(Path(specscope.__file__).resolve().parent.parent)
    paths = [source, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {"env_vars": {"PYTHONPATH": os.pathsep.join(dict.fromkeys(paths))}}


def import_ray() -> Any:
    try:
        return importlib.import_module("ray")
    except ImportError:
        raise UserError(
            "--executor ray needs Ray: pip install 'specscope[ray]' (on the driver and every node)"
        ) from None


@dataclass
class _Running:
    cell: Cell
    attempt: int
    generator: Any
    thread: threading.Thread
    done: set[str] = field(default_factory=set)
    node_id: str | None = None


_Event = tuple[int, dict[str, Any] | BaseException | None]


class RayExecutor:
    """Run the cells of a sweep as Ray tasks; the driver (this process) stores every point.

    ``address``: the cluster to join (``auto``, ``HOST:6379``); None starts a local one unless
    Ray is already initialised in this process (then that connection is used and left open).
    ``max_attempts``: runs of a cell in all when its worker or node dies. ``max_parallel``: at
    most this many cells at once (None: as many as the live nodes hold at the start).
    ``cpus_per_cell``: CPUs a cell reserves on a cluster without GPUs (default: the engine's
    ``threads``, or 1). ``on_cell_start`` is told where each cell attempt runs.
    ``one_point_at_a_time``: each point is its own cell, and the next point is asked for only
    once the last one is stored (``sweep --adaptive`` chooses each point from the ones before
    it): a server launch per point, no parallelism; Ray then lends its nodes, not its width.
    """

    def __init__(
        self,
        address: str | None = None,
        *,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        max_parallel: int | None = None,
        cpus_per_cell: float | None = None,
        on_cell_start: Callable[[CellStart], None] | None = None,
        poll_s: float = 0.2,
        one_point_at_a_time: bool = False,
    ) -> None:
        if max_attempts < 1:
            raise UserError(f"max_attempts must be at least 1, got {max_attempts}")
        if max_parallel is not None and max_parallel < 1:
            raise UserError(f"max_parallel must be at least 1, got {max_parallel}")
        self.address = address
        self.max_attempts = max_attempts
        self.max_parallel = max_parallel
        self.cpus_per_cell = cpus_per_cell
        self.on_cell_start = on_cell_start or (lambda _s: None)
        self.poll_s = poll_s
        self.one_point_at_a_time = one_point_at_a_time

    # ---- connection -----------------------------------------------------------------------

    def _connect(self, ray: Any) -> bool:
        """Join or start a cluster; True when this call started the connection."""
        if ray.is_initialized():
            return False
        kwargs: dict[str, Any] = {
            "runtime_env": worker_runtime_env(),
            "log_to_driver": False,
            "logging_level": "WARNING",
        }
        if self.address is None and not os.environ.get("RAY_ADDRESS"):
            kwargs["include_dashboard"] = False
            # a cluster started here runs its workers (and so the engines) at normal priority
            os.environ.setdefault("RAY_worker_niceness", "0")
        try:
            ray.init(address=self.address, **kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = self.address or "a new local cluster"
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UserError(
                f"cannot start or join the Ray cluster at {where}: {text}; check --address "
                "(e.g. auto or HOST:6379) and that `ray status` works there"
            ) from None
        return True

    # ---- the loop -------------------------------------------------------------------------

    def execute(self, runner: SweepRunner, points: Iterable[PlannedPoint]) -> None:
        stream = iter(points)
        first = next(stream, None)
        if first is None:
            return
        for pid in stop_stale_cell_servers(runner.run_dir.parent):  # this node's, at least
            runner.hooks.on_server(f"stopped server pid {pid}, left by a dead cell task")
        ray = import_ray()
        on_main = threading.current_thread() is threading.main_thread()
        sigterm = signal.getsignal(signal.SIGTERM) if on_main else None
        started_here = self._connect(ray)
        if sigterm is not None:
            # ray.init installs its own SIGTERM handlers (one ends the process at once): keep
            # the runner's, which stops the sweep like Ctrl-C (cells cancelled, servers stopped)
            signal.signal(signal.SIGTERM, sigterm)
        try:
            if self.one_point_at_a_time:
                # a resumed run keeps the cell folders of its earlier invocations
                index = len(list((runner.run_dir / CELLS_DIR).glob("cell-*")))
                point: PlannedPoint | None = first
                while point is not None:
                    cell = Cell(
                        index=index, repeat=point.repeat, server=point.server, points=[point]
                    )
                    _Driver(self, ray, runner, [cell], total=None).run()
                    index += 1
                    point = next(stream, None)  # chosen now that the last one is stored
            else:
                _Driver(self, ray, runner, plan_cells([first, *stream])).run()
        finally:
            if started_here:
                ray.shutdown()


class _Driver:
    """One execution: submits cells, stores what they stream, retries the dead ones."""

    def __init__(
        self,
        options: RayExecutor,
        ray: Any,
        runner: SweepRunner,
        cells: list[Cell],
        total: int | None = -1,
    ):
        self.options = options
        self.ray = ray
        self.runner = runner
        self.run_dir = runner.run_dir.resolve()
        self.pending: list[tuple[Cell, int]] = [(cell, 1) for cell in cells]
        self.running: dict[int, _Running] = {}
        self.events: queue.Queue[_Event] = queue.Queue()
        self.of_total = f"/{len(cells) if total == -1 else total}" if total is not None else ""
        """``/N`` after a cell's number in messages; empty when the number of cells is not
        known in advance (one point at a time)."""
        nodes = [n["Resources"] for n in ray.nodes() if n.get("Alive")]
        self.resources = cell_resources(runner.recipe, nodes, options.cpus_per_cell)
        self.cap = options.max_parallel or cluster_slots(self.resources, nodes)
        """Cells in flight at most: no more than the cluster runs at once, so a retried cell
        goes next rather than behind cells queued inside Ray."""
        self.planned = {p.key: p for cell in cells for p in cell.points}
        self.remote_cell = ray.remote(run_cell)
        self.remote_cleanup = ray.remote(cleanup_node)

    def run(self) -> None:
        try:
            while self.pending or self.running:
                self._submit_ready()
                try:
                    index, event = self.events.get(timeout=self.options.poll_s)
                except queue.Empty:
                    continue
                self._handle(index, event)
        finally:
            if self.running:
                self._stop_running()

    # ---- submitting ------------------------------------------------------------------------

    def _submit_ready(self) -> None:
        unfinished = [c for c, _ in self.pending] + [r.cell for r in self.running.values()]
        for cell, attempt in list(self.pending):
            if len(self.running) >= self.cap:
                return
            if waits_for_off(cell, unfinished):
                continue
            self.pending.remove((cell, attempt))
            self._submit(cell, attempt)

    def _references(self, cell: Cell) -> list[tuple[str, int, int, list[str | None]]]:
        if cell.is_off:
            return []
        outputs = self.runner.measurer.outputs
        slots = {(p.workload.name, p.concurrency, p.repeat) for p in cell.points}
        return [(*slot, outputs[slot]) for slot in sorted(slots) if slot in outputs]

    def _submit(self, cell: Cell, attempt: int) -> None:
        task = CellTask(
            index=cell.index,
            attempt=attempt,
            recipe=portable_recipe(self.runner.recipe, Path.cwd()),
            run_id=self.runner.run_id,
            run_dir=str(self.run_dir),
            points=[p.model_dump(mode="json") for p in cell.points],
            references=self._references(cell),
        )
        remote = self.remote_cell.options(num_returns="streaming", max_retries=0, **self.resources)
        generator = remote.remote(task.model_dump(mode="json"))
        thread = threading.Thread(
            target=self._pump, args=(cell.index, generator), name=f"cell-{cell.index}", daemon=True
        )
        self.running[cell.index] = _Running(cell, attempt, generator, thread)
        thread.start()

    def _pump(self, index: int, generator: Any) -> None:
        """Forward a cell's stream to the main thread (the only one touching the store)."""
        try:
            for ref in generator:
                self.events.put((index, self.ray.get(ref)))
        except BaseException as exc:
            self.events.put((index, exc))
            return
        self.events.put((index, None))

    # ---- receiving -------------------------------------------------------------------------

    def _handle(self, index: int, event: dict[str, Any] | BaseException | None) -> None:
        state = self.running.get(index)
        if state is None:  # a late message of a cell already given up
            return
        if event is None:
            del self.running[index]
            state.thread.join()
            return
        if isinstance(event, BaseException):
            del self.running[index]
            state.thread.join()
            self._failed(state, event)
            return
        kind = event["kind"]
        hooks = self.runner.hooks
        if kind == "started":
            state.node_id = str(event["node_id"])
            self.options.on_cell_start(
                CellStart(
                    index=index,
                    attempt=state.attempt,
                    label=state.cell.label,
                    keys=[p.key for p in state.cell.points],
                    node_id=state.node_id,
                    host=str(event["host"]),
                    worker_pid=int(event["worker_pid"]),
                    cell_dir=str(event["cell_dir"]),
                )
            )
            retry = f", attempt {state.attempt}" if state.attempt > 1 else ""
            hooks.on_server(
                f"cell {index + 1}{self.of_total} ({state.cell.label}{retry}) on "
                f"{event['host']}, worker pid {event['worker_pid']}"
            )
        elif kind == "server":
            hooks.on_server(f"cell {index + 1}: {event['text']}")
        elif kind == "start":
            hooks.on_point_start(self.planned[str(event["key"])])
        elif kind == "point":
            measured = MeasuredPoint(
                point=Point.model_validate(event["point"]),
                records=[RequestRecord.model_validate(r) for r in event["records"]],
            )
            self.runner.record(measured)
            state.done.add(measured.key)

    def _failed(self, state: _Running, exc: BaseException) -> None:
        """A cell task ended with an error: a recipe mistake or a bug is raised as the local
        runner would raise it; a dead worker or node means retry, or store the rest failed."""
        ray_exceptions = self.ray.exceptions
        if isinstance(exc, ray_exceptions.RayTaskError):
            cause = exc.cause
            raise cause if isinstance(cause, UserError) else exc
        if not isinstance(exc, ray_exceptions.RayError):
            raise exc
        self._cleanup(state.node_id)
        left = [p for p in state.cell.points if p.key not in state.done]
        if not left:
            return
        reason = _first_line(exc)
        hooks = self.runner.hooks
        if state.attempt < self.options.max_attempts:
            hooks.on_server(
                f"cell {state.cell.index + 1} ({state.cell.label}) lost its worker ({reason}); "
                f"running its {len(left)} unfinished point(s) again "
                f"(attempt {state.attempt + 1} of {self.options.max_attempts})"
            )
            retry = state.cell.model_copy(update={"points": left})
            self.pending.insert(0, (retry, state.attempt + 1))
            return
        why = (
            f"Ray cell task died {state.attempt} time(s), the last time before this point "
            f"finished: {reason}"
        )
        for planned in left:
            self.runner.record(self.runner.measurer.failed(planned, 0, why, []))

    def _cleanup(self, node_id: str | None) -> None:
        """Stop the server a dead cell task left on its node (it runs in its own session)."""
        if node_id is None:
            return
        strategies = importlib.import_module("ray.util.scheduling_strategies")
        task = self.remote_cleanup.options(
            num_cpus=0,
            max_retries=0,
            scheduling_strategy=strategies.NodeAffinitySchedulingStrategy(
                node_id=node_id, soft=False
            ),
        )
        try:
            stopped = self.ray.get(task.remote(str(self.run_dir.parent)), timeout=CLEANUP_TIMEOUT_S)
        except self.ray.exceptions.RayError:
            return  # the node is gone, and its processes with it
        for pid in stopped:
            self.runner.hooks.on_server(f"stopped server pid {pid}, left by a dead cell task")

    def _stop_running(self) -> None:
        """Interrupted or failed: cancel the running cells (each stops its server), store what
        they still finish, and clean up their nodes."""
        for state in self.running.values():
            with contextlib.suppress(Exception):
                self.ray.cancel(state.generator)
        deadline = time.monotonic() + CANCEL_GRACE_S
        while self.running and time.monotonic() < deadline:
            try:
                index, event = self.events.get(timeout=0.2)
            except queue.Empty:
                continue
            current = self.running.get(index)
            if current is None:
                continue
            if event is None or isinstance(event, BaseException):
                del self.running[index]
                self._cleanup(current.node_id)
            elif event["kind"] == "point":
                with contextlib.suppress(Exception):
                    self._handle(index, event)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
