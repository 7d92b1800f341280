"""Load pattern models and open-loop arrival schedules."""

from __future__ import annotations

import itertools

import pytest
from pydantic import TypeAdapter, ValidationError

from specscope.client.load import (
    ClosedLoop,
    LoadPattern,
    OpenLoop,
    arrival_offsets_s,
    in_flight_cap,
)


def test_discriminator_picks_the_model() -> None:
    adapter: TypeAdapter[ClosedLoop | OpenLoop] = TypeAdapter(LoadPattern)
    closed = adapter.validate_python({"kind": "closed", "concurrency": 4, "num_requests": 40})
    opened = adapter.validate_python({"kind": "open", "rate": 2.5, "num_requests": 10})
    assert isinstance(closed, ClosedLoop)
    assert closed.concurrency == 4
    assert isinstance(opened, OpenLoop)
    assert opened.distribution == "poisson"
    assert opened.seed == 0


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "closed", "concurrency": 0, "num_requests": 1},
        {"kind": "open", "rate": 0.0, "num_requests": 1},
        {"kind": "open", "rate": 1.0, "num_requests": 1, "distribution": "gamma"},
        {"kind": "burst", "num_requests": 1},
    ],
)
def test_invalid_patterns_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(LoadPattern).validate_python(bad)


def test_constant_rate_gives_exact_gaps() -> None:
    # rate 4/s → gaps of 0.25 s; first request at 0
    offsets = arrival_offsets_s(OpenLoop(rate=4.0, distribution="constant", num_requests=5))
    assert offsets == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0])


def test_poisson_schedule_is_reproducible_for_a_seed() -> None:
    a = arrival_offsets_s(OpenLoop(rate=10.0, num_requests=50, seed=7))
    b = arrival_offsets_s(OpenLoop(rate=10.0, num_requests=50, seed=7))
    c = arrival_offsets_s(OpenLoop(rate=10.0, num_requests=50, seed=8))
    assert a == b
    assert a != c
    assert a[0] == 0.0
    assert all(y > x for x, y in itertools.pairwise(a))


def test_poisson_mean_gap_is_one_over_rate() -> None:
    # 4000 exponential gaps of mean 0.05 s: the sample mean's standard error is 0.05/√3999 ≈
    # 0.0008 s, so ±0.004 s is five standard errors.
    offsets = arrival_offsets_s(OpenLoop(rate=20.0, num_requests=4000, seed=1))
    assert offsets[-1] / 3999 == pytest.approx(0.05, abs=0.004)


@pytest.mark.parametrize(
    ("load", "cap"),
    [
        (ClosedLoop(concurrency=8, num_requests=80), 8),
        (OpenLoop(rate=1.0, num_requests=3), None),
        (OpenLoop(rate=1.0, num_requests=3, max_concurrency=2), 2),
    ],
)
def test_in_flight_cap(load: ClosedLoop | OpenLoop, cap: int | None) -> None:
    assert in_flight_cap(load) == cap
