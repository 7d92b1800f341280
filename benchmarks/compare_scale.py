"""How long ``specscope compare`` takes on a store of 100 000 points (target: under 2 s).

Two stores of 100 000 synthetic points each, written with ``Store.add_points``:

- **worst case**: one model × hardware × precision × sequence × engine. Off and MTP (g = 1, 2)
  at 50 concurrencies, 10 repeats, 100 runs: every one of the 100 000 points belongs to the
  compared pair, so compare reads, groups and interpolates all of them.
- **spread**: the same number of points over 200 slices (10 models × 5 hardware × 2 precisions
  × 2 sequences, 500 points each); compare selects one slice by its filters.

For each store it times ``specscope compare --json`` end to end in a fresh interpreter (wall
clock, Python start-up and imports included: what a user waits for), and the library call
:func:`specscope.app.compare.compare_store` in this process, split into the store read and the
comparison. Prints each time against the 2 s target.
Run: ``PYTHONPATH=src python benchmarks/compare_scale.py``.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from specscope.app.compare import compare_store
from specscope.app.options import Selection
from specscope.schema import OFF, AcceptanceCounts, Point, PointConfig
from specscope.store.db import PointFilter, Store

TARGET_S = 2.0
N_POINTS = 100_000
SRC = Path(__file__).resolve().parents[1] / "src"

# worst case: 2 sides (off; mtp split over g = 1, 2) × 50 concurrencies × 10 repeats × 100 runs
WORST_CONC = [4 * (i + 1) for i in range(50)]
WORST_REPEATS = 10
WORST_RUNS = 100

# spread: 200 slices × (2 sides × 25 concurrencies × 10 repeats)
SPREAD_MODELS = [f"model-{i}" for i in range(10)]
SPREAD_HARDWARE = ["h100", "h200", "b200", "b300", "mi355x"]
SPREAD_PRECISIONS = ["fp8", "fp4"]
SPREAD_SEQUENCES = [(1024, 1024), (8192, 1024)]
SPREAD_CONC = [4 * (i + 1) for i in range(25)]
SPREAD_REPEATS = 10


def _curve(conc: int, spec: bool) -> tuple[float, float]:
    """(interactivity, throughput/GPU) of a smooth synthetic curve: more load, less tok/s/user."""
    x = 300.0 / math.sqrt(conc) * (1.6 if spec else 1.0)
    y = 120.0 * math.sqrt(conc) * (1.5 if spec else 1.0)
    return x, y


def _point(
    rng: np.random.Generator,
    *,
    run_id: str,
    model: str,
    hardware: str,
    precision: str,
    isl: int,
    osl: int,
    method: str,
    depth: int,
    conc: int,
    repeat: int,
) -> Point:
    x, y = _curve(conc, method != OFF)
    noise = rng.normal(1.0, 0.02, 2)
    acceptance = None
    if method != OFF:
        acceptance = AcceptanceCounts(
            drafts=1000,
            draft_tokens=1000 * depth,
            accepted_tokens=700 * depth,
            accepted_per_position=[700] * depth,
        )
    return Point(
        run_id=run_id,
        config=PointConfig(
            hardware=hardware,
            model=model,
            precision=precision,
            engine="vllm",
            spec_method=method,
            draft_depth=depth,
            isl=isl,
            osl=osl,
            concurrency=conc,
            tp=8,
            n_gpus=8,
        ),
        repeat=repeat,
        throughput_per_gpu=y * float(noise[0]),
        interactivity=x * float(noise[1]),
        acceptance=acceptance,
    )


def worst_case_points() -> Iterator[Point]:
    rng = np.random.default_rng(0)
    for run in range(WORST_RUNS):
        for side in range(2):
            for c, conc in enumerate(WORST_CONC):
                method, depth = (OFF, 0) if side == 0 else ("mtp", 1 + c % 2)
                for repeat in range(WORST_REPEATS):
                    yield _point(
                        rng,
                        run_id=f"run-{run:03d}",
                        model="qwen3.5",
                        hardware="b300",
                        precision="fp4",
                        isl=1024,
                        osl=1024,
                        method=method,
                        depth=depth,
                        conc=conc,
                        repeat=repeat,
                    )


def spread_points() -> Iterator[Point]:
    rng = np.random.default_rng(1)
    for model in SPREAD_MODELS:
        for hardware in SPREAD_HARDWARE:
            for precision in SPREAD_PRECISIONS:
                for isl, osl in SPREAD_SEQUENCES:
                    for side in range(2):
                        method, depth = (OFF, 0) if side == 0 else ("mtp", 2)
                        for conc in SPREAD_CONC:
                            for repeat in range(SPREAD_REPEATS):
                                yield _point(
                                    rng,
                                    run_id=f"{model}-{hardware}",
                                    model=model,
                                    hardware=hardware,
                                    precision=precision,
                                    isl=isl,
                                    osl=osl,
                                    method=method,
                                    depth=depth,
                                    conc=conc,
                                    repeat=repeat,
                                )


def build(db: Path, points: Iterator[Point]) -> float:
    started = time.perf_counter()
    with Store.open(db) as store:
        store.add_points(points)
        total = store.count(PointFilter(status=None))
    if total != N_POINTS:
        raise SystemExit(f"expected {N_POINTS} points in {db}, found {total}")
    return time.perf_counter() - started


def time_cli(db: Path, filters: list[str]) -> tuple[float, dict[str, object]]:
    """Wall clock of ``python -m specscope.cli compare --json`` in a fresh interpreter."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    cmd = [sys.executable, "-m", "specscope.cli", "compare", "--db", str(db), "--json", *filters]
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()}")
    data: dict[str, object] = json.loads(done.stdout)
    return wall, data


def time_import() -> float:
    """Wall clock of a fresh interpreter that only imports the CLI (the fixed start-up cost)."""
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    code = "import specscope.cli, specscope.app.compare"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    return time.perf_counter() - started


def _best_of_3(func: Callable[[], object]) -> float:
    times = []
    for _ in range(3):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return min(times)


def time_library(db: Path, filters: dict[str, str]) -> dict[str, float]:
    """Best-of-3 times in this process: the store read (full and lean) and compare_store."""
    flt = PointFilter(**filters)

    def read(lean: bool) -> None:
        with Store.open(db) as store:
            store.points(flt, lean=lean)

    selection = Selection(**filters)
    lean = compare_store(db, selection, lean=True)
    full = compare_store(db, selection, lean=False)
    if [c.model_dump_json() for c in lean] != [c.model_dump_json() for c in full]:
        raise SystemExit("the lean and the full read gave different comparisons")
    return {
        "read_full": _best_of_3(lambda: read(False)),
        "read_lean": _best_of_3(lambda: read(True)),
        "compare_full": _best_of_3(lambda: compare_store(db, selection, lean=False)),
        "compare_lean": _best_of_3(lambda: compare_store(db, selection, lean=True)),
    }


def _verdict(seconds: float) -> str:
    return "ok" if seconds < TARGET_S else "OVER"


def run_layout(name: str, db: Path, filters: dict[str, str]) -> bool:
    flags = [arg for key, value in filters.items() for arg in (f"--{key}", value)]
    runs = [time_cli(db, flags) for _ in range(3)]
    walls = [wall for wall, _ in runs]
    wall = min(walls)
    cmp = runs[0][1]
    spec, off = cmp["spec"], cmp["off"]
    assert isinstance(spec, dict) and isinstance(off, dict)
    lib = time_library(db, filters)
    print(
        f"{name}: compared {spec['n_points']} {spec['label']} + {off['n_points']} "
        f"{off['label']} points ({spec['n_frontier']} + {off['n_frontier']} on the frontiers)"
    )
    print(
        f"  specscope compare --json, fresh process ({', '.join(f'{w:.2f}' for w in walls)} s): "
        f"best {wall:.2f} s (target {TARGET_S:.0f} s) -> {_verdict(wall)}"
    )
    print(
        f"  compare_store in-process: {lib['compare_lean']:.2f} s lean read, "
        f"{lib['compare_full']:.2f} s full read ({lib['compare_full'] / lib['compare_lean']:.1f}×)"
    )
    print(
        f"  store read alone: {lib['read_lean']:.2f} s lean, {lib['read_full']:.2f} s full "
        f"({lib['read_full'] / lib['read_lean']:.1f}×); same comparison JSON from both"
    )
    return wall < TARGET_S


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="specscope-compare-scale-") as tmp:
        worst_db = Path(tmp) / "worst.duckdb"
        spread_db = Path(tmp) / "spread.duckdb"
        worst_s = build(worst_db, worst_case_points())
        print(f"built the worst-case store ({N_POINTS} points) in {worst_s:.1f} s")
        spread_s = build(spread_db, spread_points())
        print(f"built the spread store ({N_POINTS} points) in {spread_s:.1f} s")
        print(f"fixed cost: python start-up + importing the CLI and compare: {time_import():.2f} s")
        ok = run_layout("worst case (all points in the pair)", worst_db, {})
        ok &= run_layout(
            "spread (one of 200 slices)",
            spread_db,
            {"model": "model-3", "hardware": "b300", "precision": "fp4", "sequence": "1k/1k"},
        )
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
