"""Load patterns: closed-loop concurrency and open-loop arrival rates.

A closed loop keeps exactly ``concurrency`` requests in flight: a new one is sent the moment one
finishes. An open loop sends requests at scheduled arrival times whatever the server does
(Poisson: exponential gaps with mean 1/rate; constant: gaps of exactly 1/rate), optionally capped
by ``max_concurrency`` (a request due while the cap is full waits for a free slot).
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field


class ClosedLoop(BaseModel):
    """Keep ``concurrency`` requests in flight until ``num_requests`` have been sent."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["closed"] = "closed"
    concurrency: int = Field(ge=1)
    num_requests: int = Field(ge=1)


class OpenLoop(BaseModel):
    """Send ``num_requests`` at ``rate`` requests/s (Poisson or constant gaps), seeded."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["open"] = "open"
    rate: float = Field(gt=0)
    """Mean requests per second."""
    distribution: Literal["poisson", "constant"] = "poisson"
    max_concurrency: int | None = Field(default=None, ge=1)
    num_requests: int = Field(ge=1)
    seed: int = 0


LoadPattern = Annotated[ClosedLoop | OpenLoop, Field(discriminator="kind")]


def arrival_offsets_s(load: OpenLoop) -> list[float]:
    """Scheduled send time of each request, seconds after the first one (which is at 0).

    Poisson gaps are drawn from ``numpy.random.default_rng(seed).exponential(1/rate)``, so the
    same seed gives the same schedule on every machine.
    """
    n_gaps = load.num_requests - 1
    if load.distribution == "constant":
        gaps = np.full(n_gaps, 1.0 / load.rate)
    else:
        gaps = np.random.default_rng(load.seed).exponential(1.0 / load.rate, size=n_gaps)
    offsets = np.concatenate(([0.0], np.cumsum(gaps)))
    return [float(x) for x in offsets]


def in_flight_cap(load: ClosedLoop | OpenLoop) -> int | None:
    """The most requests this pattern may have in flight at once; None when unbounded."""
    if isinstance(load, ClosedLoop):
        return load.concurrency
    return load.max_concurrency
