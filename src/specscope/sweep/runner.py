"""Run a sweep plan: launch servers, send the load, persist every finished point at once.

Nothing measured is lost: each point (and its per-request records) is committed to the store
before the next point starts; a point whose server died, or that failed the failure gate, is
stored as ``failed`` with the reason. ``resume=True`` continues the newest run of the same recipe,
skipping points already stored as ``ok``.

Where the points are measured is the executor's business: :class:`LocalExecutor` (the default)
measures here, point after point; :class:`~specscope.sweep.ray_executor.RayExecutor` runs each
server config as a Ray task. Both measure through
:class:`~specscope.sweep.measure.PointMeasurer`, and the runner alone writes the store.
"""

from __future__ import annotations

import contextlib
import json
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from specscope.errors import UserError
from specscope.schema import Point, RequestRecord
from specscope.store.db import PointFilter, Store
from specscope.sweep.hooks import SweepHooks, point_done
from specscope.sweep.measure import MeasuredPoint, PointMeasurer, measure_points
from specscope.sweep.plan import Plan, PlannedPoint
from specscope.sweep.recipe import Recipe
from specscope.sweep.servers import Servers
from specscope.sweep.stale import stop_stale_servers


class SweepOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    run_id: str
    run_dir: str
    planned: int
    measured: int
    skipped: int
    failed: int
    point_ids: list[str]


def _new_run_id(recipe: Recipe, taken: set[str]) -> str:
    """``<recipe name>-<UTC second>-<8 random hex digits>``, with ``-2``, ``-3``... when that id
    is already stored. Point ids derive from the run id, so two runs must never share one: not
    two in one second here, nor two machines that start the same recipe in the same second and
    whose stores are merged later (the random part; ``secrets``, not a clock or host name that
    cloned machines may share)."""
    import secrets

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = f"{recipe.name}-{stamp}-{secrets.token_hex(4)}"
    run_id, n = base, 1
    while run_id in taken:
        n += 1
        run_id = f"{base}-{n}"
    return run_id


def _resumable_run(store: Store, plan: Plan) -> str | None:
    runs = [
        r
        for r in store.runs()
        if r.kind == "sweep" and r.notes.get("recipe_hash") == plan.recipe_hash
    ]
    return runs[-1].run_id if runs else None


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _sigterm_interrupts() -> signal.Handlers | Callable[[int, FrameType | None], Any] | int | None:
    """Make SIGTERM stop the sweep like Ctrl-C (the server is stopped, finished points stay);
    the default action would end the process at once and leave the server running. Returns the
    handler to restore, or None when not on the main thread (signals cannot be set there)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    previous = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, _interrupt)
    return previous if previous is not None else signal.SIG_DFL


class SweepExecutor(Protocol):
    """Where the points of a sweep are measured. The runner (on this machine) does the
    bookkeeping and is the only writer of the store; an executor measures the points it is
    given and hands each finished one to :meth:`SweepRunner.record` as soon as it is over."""

    def execute(self, runner: SweepRunner, points: Iterable[PlannedPoint]) -> None: ...


class LocalExecutor:
    """Measure on this machine, one point after the other, in plan order (the default)."""

    def execute(self, runner: SweepRunner, points: Iterable[PlannedPoint]) -> None:
        with contextlib.closing(measure_points(runner.measurer, points)) as stream:
            for item in stream:
                if isinstance(item, MeasuredPoint):
                    runner.record(item)
                else:
                    runner.hooks.on_point_start(item)


class SweepRunner:
    def __init__(
        self,
        plan: Plan,
        store: Store,
        runs_dir: Path,
        *,
        resume: bool = False,
        hooks: SweepHooks | None = None,
        executor: SweepExecutor | None = None,
    ) -> None:
        self.plan = plan
        self.recipe = plan.recipe
        self.store = store
        self.hooks = hooks or SweepHooks()
        self.executor: SweepExecutor = executor or LocalExecutor()
        run_id = _resumable_run(store, plan) if resume else None
        if resume and run_id is None:
            raise UserError(
                f"--resume: no earlier run of recipe '{self.recipe.name}' (same settings) in the "
                "store; run it once without --resume"
            )
        self.run_id = run_id or _new_run_id(self.recipe, {r.run_id for r in store.runs()})
        self.run_dir = runs_dir / self.run_id
        self.servers = Servers(self.recipe, self.run_dir, self.hooks)
        self.measurer = PointMeasurer(self.recipe, self.run_id, self.servers, self.hooks)
        self._ids: dict[str, str] = {}
        """Point id of each planned point stored by this run (or found stored), by sweep key."""
        self._measured = self._failed = 0
        self.extra_notes: dict[str, Any] = {}
        """More notes for the run's row (the adaptive sweep marks its runs)."""

    # -- bookkeeping ----------------------------------------------------------------------
    def _stored(self) -> dict[str, Point]:
        """Stored points of this run by sweep key; an ok point wins over a failed one (a point
        that failed to start has another id than its later measurement: isl was unknown)."""
        stored: dict[str, Point] = {}
        for p in self.store.points(PointFilter(run_id=self.run_id, status=None)):
            key = str(p.provenance.extra.get("sweep_key"))
            if key not in stored or (p.status == "ok" and stored[key].status != "ok"):
                stored[key] = p
        return stored

    def _complete(self, stored: dict[str, Point]) -> dict[str, Point]:
        """Stored points less the ok ones whose request records are not all stored (written by
        an older specscope that committed the point before its records): those are measured
        again, and their new rows replace them."""
        ok = [p for p in stored.values() if p.status == "ok" and p.n_requests]
        counts = self.store.timed_request_counts(p.point_id for p in ok)
        short = {p.point_id for p in ok if counts[p.point_id] < (p.n_requests or 0)}
        for key, point in list(stored.items()):
            if point.point_id in short:
                self.hooks.on_server(
                    f"point {key} is stored without all its request records "
                    f"({counts[point.point_id]} of {point.n_requests}); measuring it again"
                )
                del stored[key]
        return stored

    def _register_run(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "recipe.json").write_text(
            json.dumps(self.recipe.model_dump(mode="json"), indent=2)
        )
        self.store.add_run(
            self.run_id,
            kind="sweep",
            command=f"specscope sweep ({self.recipe.name})",
            engine=self.recipe.engine.kind,
            notes={
                "recipe_hash": self.plan.recipe_hash,
                "recipe": self.recipe.name,
                **self.extra_notes,
            },
        )

    # -- the loop -------------------------------------------------------------------------
    def run(self, points: Iterable[PlannedPoint] | None = None) -> SweepOutcome:
        """Measure the plan's points, or ``points`` when given (the adaptive sweep passes a
        generator that chooses each next point from the store after the previous one is
        recorded: the local executor asks for a point only once the last one is stored)."""
        for config in {p.server.label: p.server for p in self.plan.points}.values():
            # a spec config the engine cannot run is a recipe mistake: say so before measuring
            self.servers.spec_config_text(config)
        for pid in stop_stale_servers(self.run_dir.parent):
            self.hooks.on_server(f"stopped server pid {pid}, left running by a killed sweep")
        self._register_run()
        stored = self._complete(self._stored())
        for key, point in stored.items():
            if point.config.is_off and point.status == "ok":
                self.measurer.remember_off(key, self.store.requests(point.point_id))
        self._ids, self._measured, self._failed = {}, 0, 0
        skipped: list[str] = []

        def todo() -> Iterator[PlannedPoint]:
            """The points not stored ok yet; the others are announced as skipped on the way."""
            for planned in self.plan.points if points is None else points:
                done = stored.get(planned.key)
                if done is not None and done.status == "ok":
                    self.hooks.on_point_skipped(planned)
                    skipped.append(planned.key)
                    self._ids[planned.key] = done.point_id
                    continue
                yield planned

        previous_sigterm = _sigterm_interrupts()
        try:
            self.executor.execute(self, todo())
        finally:
            self.servers.stop()
            if previous_sigterm is not None:
                signal.signal(signal.SIGTERM, previous_sigterm)
        return SweepOutcome(
            run_id=self.run_id,
            run_dir=str(self.run_dir),
            planned=len(self.plan.points) if points is None else len(self._ids),
            measured=self._measured,
            skipped=len(skipped),
            failed=self._failed,
            point_ids=(
                [self._ids[p.key] for p in self.plan.points if p.key in self._ids]
                if points is None
                else list(self._ids.values())
            ),
        )

    def record(self, measured: MeasuredPoint) -> None:
        """Store a finished point (from any executor) at once, then tell the hooks."""
        point = measured.point
        self._persist(point, measured.records)
        if point.config.is_off and point.status == "ok":
            self.measurer.remember_off(measured.key, measured.records)
        self._ids[measured.key] = point.point_id
        self._measured += 1
        self._failed += point.status != "ok"
        self.hooks.on_point_done(point_done(point, self.recipe.identity.n_gpus))

    def _persist(self, point: Point, records: list[RequestRecord]) -> None:
        """Commit the point and its records; drop an earlier row of the same sweep key that this
        measurement supersedes (a failed start was stored without its input length, so under
        another point id)."""
        key = point.provenance.extra.get("sweep_key")
        superseded = [
            p.point_id
            for p in self.store.points(PointFilter(run_id=self.run_id, status=None))
            if p.provenance.extra.get("sweep_key") == key and p.point_id != point.point_id
        ]
        self.store.record_point(point, records, superseded)


def launch_commands(plan: Plan, runs_dir: Path) -> list[tuple[str, str]]:
    """(server config label, command line) for every distinct launch of the plan (for --dry-run)."""
    servers = Servers(plan.recipe, runs_dir / "<run>", SweepHooks())
    seen: dict[str, str] = {}
    for point in plan.points:
        if point.server.label not in seen:
            seen[point.server.label] = servers.launch_command(point.server)
    return list(seen.items())


def run_sweep(
    plan: Plan,
    db: Path,
    runs_dir: Path,
    *,
    resume: bool = False,
    hooks: SweepHooks | None = None,
    executor: SweepExecutor | None = None,
) -> SweepOutcome:
    """Measure every point of ``plan`` into the store at ``db`` (on this machine by default;
    ``executor`` may measure elsewhere, e.g. :class:`~specscope.sweep.ray_executor.RayExecutor`)."""
    with Store.open(db) as store:
        runner = SweepRunner(plan, store, runs_dir, resume=resume, hooks=hooks, executor=executor)
        return runner.run()
