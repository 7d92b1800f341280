"""How long ``Store.points()`` takes to read 100 001 fully populated points, beside a query per
point.

Builds a store with one fully populated point (latencies, acceptance per position, power, nested
provenance) and clones it 100 000 times inside DuckDB, each clone its own run (building 10^5
validated Points in Python takes longer than the read under test). Then, side by side in this run:

- the bulk read: ``store.points()`` of every row, best of 3;
- a query per point: ``store.points(PointFilter(run_id=...))`` for 200 rows picked at random,
  scaled to every row.

Prints both times, their ratio, and the bulk read against its bound (10 s on a busy 2-core
machine; a query per point takes minutes).
Run: ``PYTHONPATH=src python benchmarks/store_read_scale.py``.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

from specscope.schema import AcceptanceCounts, LatencyStats, Point, PointConfig, Provenance
from specscope.store.codec import POINT_COLUMNS
from specscope.store.db import PointFilter, Store

N_CLONES = 100_000
N_SAMPLED = 200
BOUND_S = 10.0


def full_point() -> Point:
    """One point with every field a measured point can carry."""
    return Point(
        run_id="run-1",
        config=PointConfig(
            hardware="h200",
            model="qwen3.5",
            precision="fp8",
            engine="vllm",
            spec_method="mtp",
            draft_depth=3,
            spec_config='{"method":"mtp","num_speculative_tokens":3}',
            n_gpus=8,
            tp=8,
            ep=8,
            isl=1024,
            osl=1024,
            concurrency=16,
            workload="synthetic",
        ),
        throughput_per_gpu=457.7,
        output_throughput_per_gpu=228.85,
        input_throughput_per_gpu=228.85,
        interactivity=75.0,
        ttft=LatencyStats(mean_s=0.21, median_s=0.2, p90_s=0.33, p99_s=0.51),
        tpot=LatencyStats(mean_s=0.0135, median_s=1 / 75, p90_s=0.015, p99_s=0.019),
        itl=LatencyStats(mean_s=0.031, median_s=0.03),
        e2el=LatencyStats(mean_s=14.1, median_s=13.8, p90_s=15.0, p99_s=16.2),
        measured_concurrency=15.7,
        duration_s=120.5,
        n_requests=160,
        n_failed=0,
        acceptance=AcceptanceCounts(
            drafts=10_000,
            draft_tokens=30_000,
            accepted_tokens=18_000,
            accepted_per_position=[8_000, 6_000, 4_000],
            source="prometheus:vllm",
        ),
        power_w_per_gpu=612.5,
        provenance=Provenance(
            source_file="runs/run-1.json",
            engine_version="vllm 0.11.0",
            power_source="measured",
            extra={"server_args": ["--max-num-seqs", 256], "nested": {"a": 1, "b": [1.5, None]}},
        ),
    )


def build(store: Store) -> None:
    """The point, then N_CLONES copies of it: point ids and run ids ``clone-<i>``."""
    store.add_points([full_point()])
    cols = ", ".join(
        "'clone-' || i::VARCHAR" if c == "run_id" else f'"{c}"' for c in POINT_COLUMNS[1:]
    )
    store.connection.execute(
        f"INSERT INTO points SELECT 'clone-' || i::VARCHAR, {cols} "
        f"FROM points, range({N_CLONES}) t(i)"
    )


def main() -> int:
    with (
        tempfile.TemporaryDirectory(prefix="specscope-store-read-") as tmp,
        Store.open(Path(tmp) / "read.duckdb") as store,
    ):
        started = time.perf_counter()
        build(store)
        print(f"built {N_CLONES + 1} rows in {time.perf_counter() - started:.1f} s")
        bulk = []
        for _ in range(3):
            started = time.perf_counter()
            points = store.points()
            bulk.append(time.perf_counter() - started)
        if len(points) != N_CLONES + 1:
            raise SystemExit(f"read {len(points)} points, expected {N_CLONES + 1}")
        sample = random.Random(0).sample(range(N_CLONES), N_SAMPLED)
        started = time.perf_counter()
        for i in sample:
            if len(store.points(PointFilter(run_id=f"clone-{i}"))) != 1:
                raise SystemExit(f"run clone-{i} is not one point")
        per_point_s = (time.perf_counter() - started) / N_SAMPLED
    best = min(bulk)
    all_rows_s = per_point_s * (N_CLONES + 1)
    print(
        f"bulk read, store.points(): best {best:.2f} s of "
        f"{', '.join(f'{s:.2f}' for s in bulk)} s ({best / (N_CLONES + 1) * 1e6:.1f} µs a point)"
    )
    print(
        f"a query per point: {per_point_s * 1e3:.2f} ms a point over {N_SAMPLED} sampled, "
        f"{all_rows_s:.0f} s for every row ({all_rows_s / best:.0f}× the bulk read)"
    )
    verdict = "ok" if best < BOUND_S else "OVER"
    print(f"bulk read against its {BOUND_S:.0f} s bound: {verdict}")
    return 0 if best < BOUND_S else 1


if __name__ == "__main__":
    sys.exit(main())
