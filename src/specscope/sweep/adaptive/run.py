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
from specscope.sweep.adaptive.answers import answers, assumptions
from specscope.sweep.adaptive.model import (
    MIN_REPEATS,
    Answers,
    Arm,
    Candidates,
    Observation,
    describe_answers,
)
from specscope.sweep.adaptive.propose import propose
from specscope.sweep.adaptive.targets import default_targets_from
from specscope.sweep.hooks import SweepHooks
from specscope.sweep.plan import Plan, PlannedPoint, ServerConfig
from specscope.sweep.recipe import WorkloadSection
from specscope.sweep.runner import SweepExecutor, SweepOutcome, SweepRunner

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
    left_out: list[str] = []
    """Cells whose point failed and that the sweep went on without."""


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
        arms.append(
            Arm(label=label, family=family, g=0 if s.is_off else (s.draft_depth or 0), off=s.is_off)
        )
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


class AdaptivePreview(BaseModel):
    """What ``sweep --adaptive --dry-run`` shows: the points measured first, the grid's size."""

    model_config = ConfigDict(frozen=True)

    first_points: list[str]
    """The coarse ladder's sweep keys, in the order the sweep measures them."""
    grid_points: int
    max_repeats: int
    note: str


def preview(plan: Plan, max_repeats: int | None = None) -> AdaptivePreview:
    """The coarse ladder the adaptive sweep measures first (Off and one spec config at the
    lowest, middle and highest concurrency, twice); what follows depends on what it measures."""
    cands, servers = candidates(plan, max_repeats)
    workloads = {w.name: w for w in plan.recipe.workload}
    first = [
        PlannedPoint(server=servers[arm], workload=workloads[w], concurrency=c, repeat=r).key
        for w in cands.workloads
        for r in range(MIN_REPEATS)
        for arm in (cands.off().label, cands.start_arm().label)
        for c in cands.coarse_ladder()
    ]
    return AdaptivePreview(
        first_points=first,
        grid_points=cands.grid_points,
        max_repeats=cands.max_repeats,
        note="after these, each next point is chosen from what was measured (best g per "
        "concurrency, where spec stops paying, spec/off at target interactivities) until "
        "every answer is decided at 95 % or the budget is spent",
    )


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
        self.left_out: set[tuple[str, str, int]] = set()
        """(arm, workload, concurrency) cells whose point failed in this invocation: not
        proposed again (``--resume`` tries them once more)."""
        self.stopped = "not started"
        self.found: list[Answers] = []

    def observations(self) -> list[Observation]:
        return observations(self.runner.store.points(PointFilter(run_id=self.runner.run_id)))

    def _stored_ok(self, key: str) -> bool:
        return any(
            p.provenance.extra.get("sweep_key") == key
            for p in self.runner.store.points(PointFilter(run_id=self.runner.run_id))
        )

    def choose(self) -> Iterator[PlannedPoint]:
        start = time.monotonic()
        attempted: set[str] = set()
        before: dict[str, str] = {}
        while True:
            obs = self.observations()
            targets = self.targets or {}
            self.found = answers(self.cands, obs, targets, self.left_out)
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
                left_out=self.left_out,
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
            if self.budget_points is not None and len(obs) + len(self.left_out) >= (
                self.budget_points
            ):  # a failed point spent its share of the budget too
                self.stopped = f"point budget spent ({self.budget_points})"
                if nxt.question == "coarse":
                    self.stopped += (
                        f" inside the coarse ladder, which takes {self.cands.ladder_points} "
                        "points before any answer has an interval: give --budget-points "
                        f"{self.cands.ladder_points} or more (--resume goes on from here)"
                    )
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
            if planned.key in attempted:  # cannot happen (a failed cell is left out); be safe
                self.stopped = f"{planned.key} was chosen twice; stopping"
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
            if not self._stored_ok(planned.key):
                cell = (nxt.arm, nxt.workload, nxt.concurrency)
                self.left_out.add(cell)
                self.steps[-1]["failed"] = True
                self.steps[-1]["left_out"] = (
                    f"{nxt.arm} at C={nxt.concurrency} ({nxt.workload}) failed: this cell is "
                    "left out of the adaptive sweep and the answers rest on the others"
                )
        self.write()

    def _open(self) -> list[str]:
        return [f"{a.workload}: {item}" for a in self.found for item in a.open]

    def write(self) -> None:
        obs = self.observations()
        _write_json(
            self.log_path,
            {
                "kind": "specscope adaptive sweep decision log",
                "grid": self.cands.model_dump(mode="json"),
                "grid_points": self.cands.grid_points,
                "budget": {"points": self.budget_points, "minutes": self.budget_minutes},
                "targets": self.targets,
                "steps": self.steps,
                "left_out": [
                    {"arm": arm, "workload": w, "concurrency": c}
                    for arm, w, c in sorted(self.left_out)
                ],
                "answers": [a.model_dump(mode="json") for a in self.found],
                "assumptions": {
                    a.workload: [
                        x.model_dump(mode="json")
                        for x in assumptions(self.cands, obs, a, self.left_out)
                    ]
                    for a in self.found
                },
                "open": self._open(),
                "stopped": self.stopped,
            },
        )


def _note_answers(store: Store, run_id: str, found: Sequence[Answers]) -> None:
    """The answers in words, in the run's notes (``adaptive.answers``, per workload), where
    ``compare`` finds them to state at the top of its output."""
    info = next((r for r in store.runs() if r.run_id == run_id), None)
    if info is None:
        return
    adaptive = dict(info.notes.get("adaptive", {}))
    adaptive["answers"] = {a.workload: describe_answers(a) for a in found}
    store.add_run(
        run_id,
        kind=info.kind,
        command=info.command,
        engine=info.engine,
        notes={**info.notes, "adaptive": adaptive},
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
        driver.found = answers(cands, obs, driver.targets or {}, driver.left_out)
        driver.write()
        _note_answers(store, outcome.run_id, driver.found)
    return AdaptiveOutcome(
        sweep=outcome,
        grid_points=cands.grid_points,
        points=len(obs),
        stopped=driver.stopped,
        answers=driver.found,
        open=driver._open(),
        left_out=[f"{arm} | {w} | C={c}" for arm, w, c in sorted(driver.left_out)],
        log=str(driver.log_path),
    )
