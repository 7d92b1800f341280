"""Run an adaptive sweep against real servers: the decision core of ``sweep.adaptive`` choosing
each next point of a recipe's grid, the ordinary runner measuring and storing it.

Every chosen point is an ordinary stored point of the run (same sweep keys as the full grid, so
``--resume``, report and compare work as for any sweep; repeats beyond the recipe's are keys
``…|r<n>`` past its last). The run's notes say ``adaptive`` and name the decision log,
``adaptive.json`` in the run folder: the grid, the frozen targets, the budget, one entry per
chosen point (why it was chosen, and which answers changed after it), the answers with their
intervals, which are still open, and why the sweep stopped. It is rewritten after every point.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from specscope.errors import UserError
from specscope.schema import Point
from specscope.store.db import PointFilter, Store
from specscope.sweep.adaptive import (
    Answers,
    Arm,
    Candidates,
    Observation,
    answers,
    default_targets_from,
    propose,
)
from specscope.sweep.plan import Plan, PlannedPoint, ServerConfig
from specscope.sweep.recipe import WorkloadSection
from specscope.sweep.runner import SweepExecutor, SweepHooks, SweepOutcome, SweepRunner

LOG_NAME = "adaptive.json"


class AdaptiveOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    sweep: SweepOutcome
    grid_points: int
    points: int
    """Ok points of the run the answers rest on."""
    stopped: str
    answers: list[Answers]
    open: list[str]
    log: str


def candidates(
    plan: Plan, max_repeats: int | None = None
) -> tuple[Candidates, dict[str, ServerConfig]]:
    """The grid of ``plan`` as the decision core sees it, and each arm's server config."""
    servers: dict[str, ServerConfig] = {}
    for p in plan.points:
        servers.setdefault(p.server.label, p.server)
    arms = []
    for label, server in servers.items():
        s = server.settings
        family = server.name
        if s.synthetic_acceptance_length is not None:
            family += f"@al{s.synthetic_acceptance_length:g}"
        arms.append(Arm(label=label, family=family, g=0 if s.is_off else (s.g or 0), off=s.is_off))
    if not any(a.off for a in arms) or all(a.off for a in arms):
        raise UserError(
            "--adaptive compares spec against off: the recipe needs one [[spec]] with "
            "method = 'none' and at least one spec config"
        )
    recipe = plan.recipe
    repeats = max(max_repeats or recipe.repeats, 2)
    cands = Candidates(
        arms=arms,
        workloads=[w.name for w in recipe.workload],
        concurrencies=sorted(set(recipe.load.concurrency)),
        max_repeats=repeats,
    )
    return cands, servers


def observations(points: Sequence[Point]) -> list[Observation]:
    """The ok points of a sweep run as observations (by their sweep key's server label)."""
    out = []
    for p in points:
        key = p.provenance.extra.get("sweep_key")
        if p.status != "ok" or not isinstance(key, str) or p.config.concurrency is None:
            continue
        if p.throughput_per_gpu <= 0 or p.interactivity <= 0:
            continue
        out.append(
            Observation(
                arm=key.split("|")[0],
                workload=p.config.workload or "",
                concurrency=int(p.config.concurrency),
                repeat=p.repeat,
                throughput_per_gpu=p.throughput_per_gpu,
                interactivity=p.interactivity,
            )
        )
    return out


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2))
    os.replace(tmp, path)


def _answer_lines(found: list[Answers]) -> dict[str, str]:
    """One comparable line per answer (to say which answers a point changed)."""
    lines: dict[str, str] = {}
    for a in found:
        for b in a.best:
            lines[f"{a.workload}: best g at C={b.concurrency}"] = (
                f"{b.arm} ({b.how}{', decided' if b.decided else ''})"
            )
        s = a.stop
        lines[f"{a.workload}: spec stops paying"] = (
            f"first not paying C={s.first_not_paying}, last paying C={s.last_paying}"
            f"{', decided' if s.decided else ''}"
        )
        for t in a.targets:
            ratio = "n/a" if t.ratio is None else f"{t.ratio:.3f}"
            lines[f"{a.workload}: spec/off at {t.target:g} tok/s/user"] = (
                f"{t.verdict} {ratio}{', decided' if t.decided else ''}"
            )
    return lines


class _Driver:
    """Chooses the points the runner measures, one at a time, and keeps the decision log."""

    def __init__(
        self,
        runner: SweepRunner,
        cands: Candidates,
        servers: dict[str, ServerConfig],
        budget_points: int | None,
        budget_minutes: float | None,
    ) -> None:
        self.runner = runner
        self.cands = cands
        self.servers = servers
        self.workloads: dict[str, WorkloadSection] = {w.name: w for w in runner.recipe.workload}
        self.budget_points = budget_points
        self.budget_minutes = budget_minutes
        self.log_path = runner.run_dir / LOG_NAME
        self.steps: list[dict[str, Any]] = []
        if self.log_path.exists():  # --resume: keep the earlier decisions
            try:
                self.steps = list(json.loads(self.log_path.read_text()).get("steps", []))
            except (OSError, ValueError):
                self.steps = []
        self.targets: dict[str, list[float]] | None = None
        self.stopped = "not started"
        self.found: list[Answers] = []

    def observations(self) -> list[Observation]:
        return observations(self.runner.store.points(PointFilter(run_id=self.runner.run_id)))

    def choose(self) -> Iterator[PlannedPoint]:
        start = time.monotonic()
        attempted: set[str] = set()
        before: dict[str, str] = {}
        while True:
            obs = self.observations()
            targets = self.targets or {}
            self.found = answers(self.cands, obs, targets)
            lines = _answer_lines(self.found)
            if self.steps and before:
                self.steps[-1]["changed"] = sorted(
                    k for k, v in lines.items() if before.get(k) != v
                )
            before = lines
            nxt = propose(
                self.cands,
                obs,
                targets,
                current_arm=self.runner.servers.config.label
                if self.runner.servers.config is not None
                else None,
            )
            if nxt is not None and nxt.question != "coarse" and self.targets is None:
                self.targets = default_targets_from(self.cands, obs)
                continue  # recompute with the frozen targets
            if nxt is None:
                self.stopped = (
                    "every answer is decided"
                    if not self._open()
                    else (
                        "nothing left to measure that could decide the open answers (repeats at "
                        f"their cap of {self.cands.max_repeats})"
                    )
                )
                break
            if self.budget_points is not None and len(obs) >= self.budget_points:
                self.stopped = f"point budget spent ({self.budget_points})"
                break
            elapsed = time.monotonic() - start
            if self.budget_minutes is not None and elapsed >= self.budget_minutes * 60:
                self.stopped = f"time budget spent ({self.budget_minutes:g} min)"
                break
            planned = PlannedPoint(
                server=self.servers[nxt.arm],
                workload=self.workloads[nxt.workload],
                concurrency=nxt.concurrency,
                repeat=nxt.repeat,
            )
            if planned.key in attempted:
                self.stopped = f"{planned.key} did not measure (stored failed); stopping"
                break
            attempted.add(planned.key)
            self.steps.append(
                {
                    "step": len(self.steps) + 1,
                    "key": planned.key,
                    "question": nxt.question,
                    "reason": nxt.reason,
                    "points_before": len(obs),
                    "elapsed_s": round(elapsed, 1),
                    "changed": [],
                }
            )
            self.write()
            yield planned
        self.write()

    def _open(self) -> list[str]:
        return [f"{a.workload}: {item}" for a in self.found for item in a.open]

    def write(self) -> None:
        _write_json(
            self.log_path,
            {
                "kind": "specscope adaptive sweep decision log",
                "grid": self.cands.model_dump(mode="json"),
                "grid_points": self.cands.grid_points,
                "budget": {"points": self.budget_points, "minutes": self.budget_minutes},
                "targets": self.targets,
                "steps": self.steps,
                "answers": [a.model_dump(mode="json") for a in self.found],
                "open": self._open(),
                "stopped": self.stopped,
            },
        )


def run_adaptive_sweep(
    plan: Plan,
    db: Path,
    runs_dir: Path,
    *,
    resume: bool = False,
    hooks: SweepHooks | None = None,
    budget_points: int | None = None,
    budget_minutes: float | None = None,
    max_repeats: int | None = None,
    executor: SweepExecutor | None = None,
) -> AdaptiveOutcome:
    """Measure the points the adaptive sweep chooses from ``plan``'s grid into the store.

    ``executor`` must hand each point to the runner before asking for the next (the local
    executor does; tests pass a simulated one)."""
    if budget_points is not None and budget_points < 1:
        raise UserError("--budget-points must be at least 1")
    if budget_minutes is not None and budget_minutes <= 0:
        raise UserError("--budget-minutes must be more than 0")
    cands, servers = candidates(plan, max_repeats)
    with Store.open(db) as store:
        runner = SweepRunner(plan, store, runs_dir, resume=resume, hooks=hooks, executor=executor)
        runner.extra_notes = {"adaptive": {"log": LOG_NAME, "grid_points": cands.grid_points}}
        driver = _Driver(runner, cands, servers, budget_points, budget_minutes)
        outcome = runner.run(driver.choose())
        obs = driver.observations()
        driver.found = answers(cands, obs, driver.targets or {})
        driver.write()
    return AdaptiveOutcome(
        sweep=outcome,
        grid_points=cands.grid_points,
        points=len(obs),
        stopped=driver.stopped,
        answers=driver.found,
        open=driver._open(),
        log=str(driver.log_path),
    )
