"""Expand a recipe into the ordered list of points a sweep measures.

Order: repeat → server config → workload → concurrency. Each repeat visits spec off first, then
every spec config, so off and spec runs are interleaved in time (run-to-run noise on a shared CPU is
large) and every config sees the same prompts. The server is relaunched only when the next point
needs other flags.
"""

from __future__ import annotations

import hashlib
import json

from pydantic import BaseModel, ConfigDict, ValidationError

from specscope.engines.base import SpecSettings
from specscope.errors import UserError
from specscope.schema import OFF
from specscope.sweep.recipe import Recipe, SpecSection, WorkloadSection

SYNTHETIC = "synthetic"
"""Stored spec method of runs whose acceptance was pinned by the engine."""

DEFAULT_STREAM_TOK_S = 30.0
"""Decode rate per stream assumed by the dry-run estimate before anything was measured."""
SERVER_START_S = 5.0


class ServerConfig(BaseModel):
    """One server launch: a spec config of the recipe with one g (and synthetic AL) filled in."""

    model_config = ConfigDict(frozen=True)

    name: str
    """The recipe's spec name."""
    settings: SpecSettings

    @property
    def stored_method(self) -> str:
        """The spec method the points are stored under."""
        if self.settings.synthetic_acceptance_length is not None:
            return SYNTHETIC
        return self.settings.method

    @property
    def label(self) -> str:
        return f"{self.name}:{self.settings.label}"


class PlannedPoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    server: ServerConfig
    workload: WorkloadSection
    concurrency: int
    repeat: int

    @property
    def key(self) -> str:
        """Stable identity of the point inside its sweep (used by --resume)."""
        return f"{self.server.label}|{self.workload.name}|c{self.concurrency}|r{self.repeat}"


class Plan(BaseModel):
    model_config = ConfigDict(frozen=True)

    recipe: Recipe
    points: list[PlannedPoint]

    @property
    def recipe_hash(self) -> str:
        return recipe_hash(self.recipe)

    def launches(self) -> int:
        """How many server starts the sweep needs (the server restarts when flags change)."""
        count, previous = 0, None
        for point in self.points:
            if point.server != previous:
                count += 1
                previous = point.server
        return count

    def estimate_s(self, stream_tok_s: float = DEFAULT_STREAM_TOK_S) -> float:
        """Rough duration: every request decodes at ``stream_tok_s`` and waves do not overlap."""
        load = self.recipe.load
        total = self.launches() * SERVER_START_S
        for point in self.points:
            requests = load.requests_per_point + load.warmup
            waves = -(-requests // point.concurrency)
            total += waves * point.workload.osl / stream_tok_s
        return total


def recipe_hash(recipe: Recipe) -> str:
    blob = json.dumps(recipe.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:12]


def server_configs(spec: SpecSection) -> list[ServerConfig]:
    """Every launch one ``[[spec]]`` entry asks for: one per g × synthetic AL."""
    draft_depths: list[int | None] = list(spec.gamma) or [None]
    lengths: list[float | None] = list(spec.synthetic_acceptance_length) or [None]
    configs = []
    for draft_depth in draft_depths:
        for al in lengths:
            try:
                settings = SpecSettings(
                    method=spec.method,
                    draft_depth=draft_depth,
                    draft_model=spec.draft_model,
                    synthetic_acceptance_length=al,
                    params=spec.params,
                    extra_args=spec.args,
                    env=spec.env,
                )
            except ValidationError as exc:
                problem = exc.errors()[0]["msg"].removeprefix("Value error, ")
                raise UserError(f"[[spec]] '{spec.name}': {problem}") from None
            configs.append(ServerConfig(name=spec.name, settings=settings))
    return configs


def make_plan(recipe: Recipe) -> Plan:
    servers = [cfg for spec in recipe.spec for cfg in server_configs(spec)]
    servers.sort(key=lambda cfg: cfg.settings.method != OFF)  # off first, stable otherwise
    points = [
        PlannedPoint(server=server, workload=workload, concurrency=c, repeat=repeat)
        for repeat in range(recipe.repeats)
        for server in servers
        for workload in recipe.workload
        for c in recipe.load.concurrency
    ]
    return Plan(recipe=recipe, points=points)
