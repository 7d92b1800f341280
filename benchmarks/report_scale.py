"""How long ``report`` takes over a store of 100 000 points, and how big its page is.

Builds a DuckDB store of synthetic points (8 models × 6 hardware × 3 precisions × 3 sequences,
2 engines, Off and MTP at g = 1..3, 10 load levels, 3 repeats each: 103 680 points), then does
what ``specscope report --model M --hardware H --precision P --sequence S --engine E`` does:
read the model × hardware slice from the store, compare every pair in it, and write the chosen
pair's page (with the slice's other pairs as in-page context), its PNGs and ``report.md``.

Prints the time of each step, the page size, and both against the limits (5 s, 6 MB).
Run: ``PYTHONPATH=src python benchmarks/report_scale.py``.
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from specscope.analysis.compare import compare
from specscope.analysis.economics import list_presets, resolve_economics
from specscope.analysis.series import select_pair
from specscope.report.models import ReportPair
from specscope.report.writer import PAGE_BUDGET_BYTES, write_report
from specscope.schema import OFF, AcceptanceCounts, Point, PointConfig
from specscope.store.db import PointFilter, Store

MODELS = [f"model-{i}" for i in range(8)]
HARDWARE = ["h100", "h200", "b200", "b300", "mi300x", "mi355x"]
PRECISIONS = ["fp8", "fp4", "bf16"]
SEQUENCES = [(1024, 1024), (1024, 8192), (8192, 1024)]
ENGINES = ["vllm", "sglang"]
CONCURRENCY = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
REPEATS = 3
TIME_LIMIT_S = 5.0


def _points() -> list[Point]:
    rng = np.random.default_rng(0)
    out: list[Point] = []
    for m, model in enumerate(MODELS):
        for h, hardware in enumerate(HARDWARE):
            for precision in PRECISIONS:
                for isl, osl in SEQUENCES:
                    for engine in ENGINES:
                        base = 500.0 * (1 + h) / (1 + m * 0.3)
                        for method, g in [(OFF, 0), ("mtp", 1), ("mtp", 2), ("mtp", 3)]:
                            al = 1.0 + 0.8 * g - 0.1 * g * g if g else None
                            for conc in CONCURRENCY:
                                x = 150.0 / math.sqrt(conc) * (al or 1.0) * 0.7 ** (g > 0)
                                y = base * math.sqrt(conc) * (1.0 + 0.35 * g)
                                config = PointConfig(
                                    hardware=hardware,
                                    model=model,
                                    precision=precision,
                                    engine=engine,
                                    spec_method=method,
                                    draft_depth=g,
                                    isl=isl,
                                    osl=osl,
                                    concurrency=conc,
                                    tp=8,
                                    n_gpus=8,
                                )
                                acceptance = None
                                if al is not None:
                                    accepted = round((al - 1.0) * 1000)
                                    acceptance = AcceptanceCounts(
                                        drafts=1000,
                                        draft_tokens=1000 * g,
                                        accepted_tokens=accepted,
                                        accepted_per_position=[
                                            round(accepted * 0.5**k / sum(0.5**j for j in range(g)))
                                            for k in range(g)
                                        ],
                                    )
                                for repeat in range(REPEATS):
                                    noise = rng.normal(1.0, 0.02, 2)
                                    out.append(
                                        Point(
                                            run_id=f"bench-{m}-{h}",
                                            config=config,
                                            repeat=repeat,
                                            throughput_per_gpu=y * float(noise[0]),
                                            interactivity=x * float(noise[1]),
                                            acceptance=acceptance,
                                        )
                                    )
    return out


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        started = time.perf_counter()
        points = _points()
        with Store.open(db) as store:
            store.add_points(points)
            total = store.count(PointFilter(status=None))
        print(f"store: {total} points built and written in {time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        with Store.open(db) as store:
            family = store.points(PointFilter(model="model-3", hardware="b300"))
        read_s = time.perf_counter() - started

        started = time.perf_counter()
        pairs: list[ReportPair] = []
        economics = resolve_economics("b300")
        for precision in PRECISIONS:
            for isl, osl in SEQUENCES:
                sliced = [
                    p
                    for p in family
                    if p.config.precision == precision
                    and (p.config.isl, p.config.osl) == (isl, osl)
                ]
                for spec, off in select_pair(sliced, spec_method="mtp"):
                    pairs.append(
                        ReportPair(
                            comparison=compare(spec, off, economics),
                            spec_points=list(spec.points),
                            off_points=list(off.points),
                        )
                    )
        compare_s = time.perf_counter() - started

        chosen = pairs[0]
        started = time.perf_counter()
        out = write_report([chosen], Path(tmp) / "report", list_presets(), context=pairs)
        write_s = time.perf_counter() - started

        page = out.index.read_text()
        views = page.count('"cmp":')
        size = out.page_bytes["index.html"]
        total_s = read_s + compare_s + write_s
        print(f"family read from the store: {len(family)} points in {read_s:.2f} s")
        print(f"compare: {len(pairs)} pairs in {compare_s:.2f} s")
        print(
            f"write_report (page + 2 PNGs + report.md): {write_s:.2f} s; page holds {views} views"
        )
        print(
            f"report total: {total_s:.2f} s (limit {TIME_LIMIT_S:.0f} s) -> "
            f"{'ok' if total_s < TIME_LIMIT_S else 'OVER'}"
        )
        print(
            f"page size: {size / 1e6:.2f} MB including plotly.js "
            f"(limit {PAGE_BUDGET_BYTES / 1e6:.0f} MB) -> "
            f"{'ok' if size < PAGE_BUDGET_BYTES else 'OVER'}"
        )

        # Without filters every pair gets its own self-contained page: cost per page, measured on
        # this family, and what that means for the whole store.
        started = time.perf_counter()
        many = write_report(pairs, Path(tmp) / "all", list_presets())
        many_s = time.perf_counter() - started
        many_bytes = sum(many.page_bytes.values())
        store_pairs = len(MODELS) * len(HARDWARE) * len(pairs)
        print(
            f"every pair of this model × hardware: {len(pairs)} pages + index in {many_s:.1f} s, "
            f"{many_bytes / 1e6:.0f} MB; the whole store ({store_pairs} pairs) would take about "
            f"{many_s / len(pairs) * store_pairs:.0f} s and "
            f"{many_bytes / len(pairs) * store_pairs / 1e9:.1f} GB"
        )
        return 0 if total_s < TIME_LIMIT_S and size < PAGE_BUDGET_BYTES else 1


if __name__ == "__main__":
    sys.exit(main())
