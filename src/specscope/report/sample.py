"""A small, exactly known spec-vs-off data set for tests, benchmarks and trying the report.

Numbers are round so results can be worked by hand (see the unit tests):

- Off (concurrency 1, 4, 16, 64): interactivity 120, 100, 70, 30 tok/s/user; throughput 200,
  700, 2000, 3500 tok/s/GPU.
- Spec at g = 3 (same loads): 200, 150, 100, 50 tok/s/user; 300, 1000, 3000, 6000 tok/s/GPU;
  per-position acceptance 0.8, 0.65, 0.55 (AL 3.0).
- Spec at g = 1 and g = 2 (concurrency 1 and 4 only, all below the g = 3 frontier):
  g = 1: 160, 125 tok/s/user, 250, 850 tok/s/GPU, AL 1.8; g = 2: 185, 140, 280, 950, AL 2.5.

With ``repeats`` > 1 each point is repeated with throughput × (1, 1.02, 0.98, ...) so the median
stays the listed value and the spread gives confidence intervals.

:func:`workload_points` is a second set: one draft model at g = 2 and Off on two workloads of
the same sequence (200/64), with acceptance counters whose sums are round:

- ``code`` (concurrency 1, 2, 4): 30 verify steps, 60 drafted, 56 accepted → AL = 1 + 56/30 =
  2.8667, r = 56/60 = 0.9333.
- ``chat`` (concurrency 1, 2): 40 verify steps, 80 drafted, 55 accepted → AL = 1 + 55/40 =
  2.375, r = 55/80 = 0.6875.
"""

from __future__ import annotations

from collections.abc import Sequence

from specscope.analysis.compare import compare
from specscope.analysis.economics import resolve_economics
from specscope.analysis.series import split_series
from specscope.report.models import ReportPair
from specscope.schema import OFF, AcceptanceCounts, LatencyStats, Point, PointConfig

OFF_ROWS = ((1, 120.0, 200.0), (4, 100.0, 700.0), (16, 70.0, 2000.0), (64, 30.0, 3500.0))
"""(concurrency, interactivity tok/s/user, throughput tok/s/GPU) with spec decoding off."""

SPEC_ROWS = {
    3: ((1, 200.0, 300.0), (4, 150.0, 1000.0), (16, 100.0, 3000.0), (64, 50.0, 6000.0)),
    2: ((1, 185.0, 280.0), (4, 140.0, 950.0)),
    1: ((1, 160.0, 250.0), (4, 125.0, 850.0)),
}
"""Spec rows by draft depth g."""

PER_POSITION = {1: (0.8,), 2: (0.8, 0.7), 3: (0.8, 0.65, 0.55)}
"""Unconditional per-position acceptance p_k by g (AL = 1 + Σp_k)."""

DRAFTS = 1000
"""Verify steps per spec point."""

_SPREAD = (0.0, 0.02, -0.02, 0.04, -0.04)


def _acceptance(draft_depth: int) -> AcceptanceCounts:
    per_position = [round(p * DRAFTS) for p in PER_POSITION[draft_depth]]
    return AcceptanceCounts(
        drafts=DRAFTS,
        draft_tokens=draft_depth * DRAFTS,
        accepted_tokens=sum(per_position),
        accepted_per_position=per_position,
        source="sample",
    )


def sample_points(
    *,
    model: str = "llama-3.1-8b",
    hardware: str = "h100",
    precision: str = "fp8",
    engine: str = "vllm",
    method: str = "mtp",
    isl: int = 1024,
    osl: int = 1024,
    repeats: int = 1,
    scale: float = 1.0,
) -> list[Point]:
    """Off and spec points for one slice; ``scale`` multiplies every throughput."""
    points: list[Point] = []
    rows: list[tuple[str, int, tuple[tuple[int, float, float], ...]]] = [(OFF, 0, OFF_ROWS)]
    rows += [(method, draft_depth, SPEC_ROWS[draft_depth]) for draft_depth in sorted(SPEC_ROWS)]
    for spec_method, draft_depth, table in rows:
        for concurrency, interactivity, throughput in table:
            config = PointConfig(
                hardware=hardware,
                model=model,
                precision=precision,
                engine=engine,
                spec_method=spec_method,
                draft_depth=draft_depth,
                isl=isl,
                osl=osl,
                concurrency=concurrency,
                tp=1,
            )
            for repeat in range(repeats):
                # a repeat that ran faster is faster for every user too: both axes move
                spread = _SPREAD[repeat % len(_SPREAD)]
                tput = throughput * scale * (1.0 + spread)
                speed = interactivity * (1.0 + 0.5 * spread)
                points.append(
                    Point(
                        run_id=f"sample-{engine}-{spec_method}-g{draft_depth}",
                        config=config,
                        repeat=repeat,
                        throughput_per_gpu=tput,
                        interactivity=speed,
                        tpot=LatencyStats(median_s=1.0 / speed),
                        acceptance=None if spec_method == OFF else _acceptance(draft_depth),
                    )
                )
    return points


WORKLOAD_ROWS: dict[str, tuple[tuple[int, float, float, float, float, int, int], ...]] = {
    "code": (
        (1, 20.0, 20.0, 24.0, 24.0, 10, 19),
        (2, 15.0, 30.0, 18.0, 36.0, 10, 18),
        (4, 10.0, 40.0, 12.0, 48.0, 10, 19),
    ),
    "chat": (
        (1, 20.0, 20.0, 21.0, 21.0, 15, 20),
        (2, 15.0, 30.0, 16.0, 32.0, 25, 35),
    ),
}
"""Per workload: (concurrency, Off interactivity, Off throughput, draft interactivity, draft
throughput, verify steps, accepted tokens); g = 2, so drafted tokens = 2 × steps."""


def workload_points() -> list[Point]:
    """Off and draft-model points (g = 2) of Qwen2.5-Coder 1.5B under llama.cpp on a CPU, on the
    workloads of :data:`WORKLOAD_ROWS`, all at ISL 200 / OSL 64."""
    points: list[Point] = []
    for workload, rows in WORKLOAD_ROWS.items():
        for concurrency, off_x, off_y, spec_x, spec_y, steps, accepted in rows:
            counts = AcceptanceCounts(
                drafts=steps, draft_tokens=2 * steps, accepted_tokens=accepted, source="sample"
            )
            sides = ((OFF, 0, off_x, off_y, None), ("draft", 2, spec_x, spec_y, counts))
            for spec_method, draft_depth, interactivity, throughput, acceptance in sides:
                config = PointConfig(
                    hardware="cpu",
                    model="qwen2.5-coder-1.5b",
                    precision="q4_k_m",
                    engine="llamacpp",
                    spec_method=spec_method,
                    draft_depth=draft_depth,
                    isl=200,
                    osl=64,
                    concurrency=concurrency,
                    workload=workload,
                )
                points.append(
                    Point(
                        run_id=f"sample-{workload}",
                        config=config,
                        throughput_per_gpu=throughput,
                        interactivity=interactivity,
                        tpot=LatencyStats(median_s=1.0 / interactivity),
                        acceptance=acceptance,
                    )
                )
    return points


def sample_pair(
    points: Sequence[Point],
    targets: Sequence[float] | None = None,
    preset: str = "auto",
) -> ReportPair:
    """Compare the one spec series and the one Off series in ``points`` into a ReportPair."""
    series = split_series(points)
    spec = next(s for s in series if not s.is_off)
    off = next(s for s in series if s.is_off)
    economics = resolve_economics(spec.points[0].config.hardware, preset)
    comparison = compare(spec, off, economics, targets).model_copy(
        update={"workload": spec.workload}
    )
    return ReportPair(
        comparison=comparison, spec_points=list(spec.points), off_points=list(off.points)
    )
