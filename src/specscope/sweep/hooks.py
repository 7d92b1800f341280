"""What a sweep tells its progress display: the hooks and the note after each point."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, ConfigDict

from specscope.schema import Point
from specscope.sweep.plan import PlannedPoint


class PointDone(BaseModel):
    """What the progress display hears after each point."""

    model_config = ConfigDict(frozen=True)

    key: str
    status: str
    output_tok_s: float | None
    interactivity: float | None
    acceptance_length: float | None
    error: str | None = None


class SweepHooks:
    """Callbacks for progress displays; all optional. ``on_server`` gets one-line notes: server
    starts and stops, and a point's host-load note (a disturbed window, a re-measure)."""

    def __init__(
        self,
        on_point_start: Callable[[PlannedPoint], None] | None = None,
        on_point_done: Callable[[PointDone], None] | None = None,
        on_tokens: Callable[[int], None] | None = None,
        on_server: Callable[[str], None] | None = None,
        on_point_skipped: Callable[[PlannedPoint], None] | None = None,
    ) -> None:
        self.on_point_start = on_point_start or (lambda _p: None)
        self.on_point_skipped = on_point_skipped or (lambda _p: None)
        self.on_point_done = on_point_done or (lambda _d: None)
        self.on_tokens = on_tokens or (lambda _n: None)
        self.on_server = on_server or (lambda _s: None)


def point_done(point: Point, n_gpus: int) -> PointDone:
    """What the progress display hears about a stored point."""
    key = str(point.provenance.extra.get("sweep_key"))
    if point.n_requests is None:  # failed before anything was measured (start, crash)
        return PointDone(
            key=key,
            status=point.status,
            output_tok_s=None,
            interactivity=None,
            acceptance_length=None,
            error=point.error,
        )
    return PointDone(
        key=key,
        status=point.status,
        output_tok_s=(point.output_throughput_per_gpu or 0.0) * n_gpus,
        interactivity=point.interactivity,
        acceptance_length=point.acceptance.acceptance_length if point.acceptance else None,
        error=point.error,
    )
