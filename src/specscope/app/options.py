"""The options the application functions take: which stored points (:class:`Selection`), how a
comparison is made and priced (:class:`CompareOptions`, :class:`EconomicsOptions`), where a run
goes (:class:`RunOptions`), how far an adaptive sweep may go (:class:`AdaptiveBudget`), and the
fixed choices the CLI offers (:data:`Executor`). Imports nothing heavy: the CLI loads it at
start-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from specscope.analysis.results import Economics

Executor = Literal["local", "ray"]
"""Where a sweep measures: here, point after point, or as Ray tasks on a cluster."""


class Selection(BaseModel):
    """Which stored points a command reads; a field left None matches every point.

    ``spec_method`` names the spec side of a comparison (compare: mtp when None; report: every
    method with an off side); the off side is always read with it.
    """

    model_config = ConfigDict(frozen=True)

    model: str | None = None
    hardware: str | None = None
    precision: str | None = None
    sequence: str | None = None
    """ISL/OSL, e.g. ``1k/1k``."""
    engine: str | None = None
    """Engine (framework), e.g. vllm; with one named, only its series are compared."""
    workload: str | None = None
    """The recipe's ``[[workload]]`` name, e.g. code or chat."""
    run_id: str | None = None
    spec_method: str | None = None


class EconomicsOptions(BaseModel):
    """Price and power: a preset (``auto``: the seed preset when it knows the hardware, else the
    newest that does), with the $/GPU-hour and kW per GPU overridden when given."""

    model_config = ConfigDict(frozen=True)

    preset: str = "auto"
    usd_per_gpu_hour: float | None = None
    kw_per_gpu: float | None = None

    def resolve(self, hardware: str) -> Economics:
        """The price and power of ``hardware`` under these options."""
        from specscope.analysis.economics import resolve_economics

        return resolve_economics(
            hardware,
            preset=self.preset,
            usd_per_gpu_hour=self.usd_per_gpu_hour,
            kw_per_gpu=self.kw_per_gpu,
        )


class CompareOptions(BaseModel):
    """How spec and off are compared: engines and deployments pooled into one curve per side or
    each its own series, at which interactivity targets (None: 25/50/75 % of the shared band),
    priced how."""

    model_config = ConfigDict(frozen=True)

    pool: bool = False
    targets: list[float] | None = None
    economics: EconomicsOptions = EconomicsOptions()


class RunOptions(BaseModel):
    """Where a run stores its points (``db``) and its files (``runs_dir``: server logs, the
    recipe, sweep CSVs), and whether it goes on with the newest run of its recipe, skipping the
    points already stored (``resume``)."""

    model_config = ConfigDict(frozen=True)

    db: Path
    runs_dir: Path
    resume: bool = False


class AdaptiveBudget(BaseModel):
    """How far an adaptive sweep may go: at most ``points`` points, no new point after
    ``minutes`` minutes (None: the whole grid, no time limit)."""

    model_config = ConfigDict(frozen=True)

    points: int | None = None
    minutes: float | None = None
