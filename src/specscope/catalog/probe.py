"""The ``cpu`` hardware entry: this machine's CPU, measured by a short probe.

Two numbers, both with numpy: copy bandwidth (``np.copyto`` between two 64 MiB buffers, counted
as bytes read plus bytes written, the STREAM convention) and a float32 matrix-multiply rate
(2·n³ FLOPs per n × n product). The best of a few repeats is kept; the whole probe takes well
under three seconds. Results are cached in the user cache dir, keyed by CPU model, core count
and numpy version, so the probe runs once per machine unless refreshed.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

from specscope.cache import user_cache_dir
from specscope.catalog.entries import build_hardware
from specscope.hardware_keys import hardware_aliases
from specscope.predict.specs import HardwareSpec, SourceRef

CPU_KEY = "cpu"
PROBE_FILE = "cpu_probe.json"
PROBE_SOURCE = "measured on this machine by specscope.catalog.probe (numpy)"


class ProbeResult(BaseModel):
    """What the probe measured."""

    model_config = ConfigDict(frozen=True)

    cpu_name: str
    n_cpus: int
    numpy_version: str
    copy_gb_s: float
    """Copy bandwidth, GB/s, counting read + write bytes."""
    matmul_gflops: float
    """float32 n × n matrix multiply, GFLOP/s."""
    memory_gb: float
    measured_at: str
    duration_s: float


def cpu_name() -> str:
    """The CPU model name from /proc/cpuinfo, else what :mod:`platform` knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def physical_memory_gb() -> float:
    """Installed memory in GB (1e9 bytes)."""
    try:
        pages = os.sysconf("SC_PHYS_PAGES")
        page = os.sysconf("SC_PAGE_SIZE")
        return float(pages * page) / 1e9
    except (ValueError, OSError, AttributeError):
        return 0.0


def measure_copy_gb_s(n_bytes: int = 64 * 2**20, repeats: int = 5) -> float:
    """Best-of-``repeats`` copy bandwidth in GB/s (read + write bytes)."""
    src = np.ones(n_bytes // 8, dtype=np.float64)
    dst = np.empty_like(src)
    np.copyto(dst, src)  # touch both buffers once so page faults are not timed
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        np.copyto(dst, src)
        best = min(best, time.perf_counter() - start)
    return 2.0 * src.nbytes / best / 1e9


def measure_matmul_gflops(n: int = 768, repeats: int = 3) -> float:
    """Best-of-``repeats`` float32 matrix-multiply rate in GFLOP/s."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    a @ b  # warm-up (BLAS thread start)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2.0 * n**3 / best / 1e9


def run_probe() -> ProbeResult:
    """Measure this machine now (about a second)."""
    start = time.perf_counter()
    copy = measure_copy_gb_s()
    gflops = measure_matmul_gflops()
    return ProbeResult(
        cpu_name=cpu_name(),
        n_cpus=os.cpu_count() or 1,
        numpy_version=np.__version__,
        copy_gb_s=copy,
        matmul_gflops=gflops,
        memory_gb=physical_memory_gb(),
        measured_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        duration_s=time.perf_counter() - start,
    )


def _fingerprint() -> dict[str, Any]:
    return {"cpu_name": cpu_name(), "n_cpus": os.cpu_count() or 1, "numpy_version": np.__version__}


def cached_probe(cache_dir: Path | None = None, refresh: bool = False) -> ProbeResult:
    """The cached probe for this machine, measuring (and caching) it when absent or stale."""
    path = (cache_dir or user_cache_dir()) / PROBE_FILE
    if not refresh:
        try:
            result = ProbeResult.model_validate(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, ValidationError):
            result = None
        if result is not None and {k: getattr(result, k) for k in _fingerprint()} == _fingerprint():
            return result
    result = run_probe()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(result.model_dump_json(indent=2) + "\n", encoding="utf-8")
    except OSError:
        pass  # an unwritable cache only costs a re-measurement next time
    return result


def hardware_from_probe(
    result: ProbeResult, override: Mapping[str, Any] | None = None
) -> HardwareSpec:
    """The ``cpu`` HardwareSpec for a probe result; ``override`` fields (normalised) win."""
    date = result.measured_at[:10]
    ref = SourceRef(urls=[PROBE_SOURCE], date=date)
    fields: dict[str, Any] = {
        "name": f"this machine's CPU ({result.cpu_name}, {result.n_cpus} threads)",
        "aliases": hardware_aliases(CPU_KEY),
        "memory_gb": result.memory_gb if result.memory_gb > 0 else 1.0,
        "bandwidth_tb_s": result.copy_gb_s / 1000.0,
        "fp32_tflops": result.matmul_gflops / 1000.0,
        "measured": True,
        "notes": (
            f"copy {result.copy_gb_s:.1f} GB/s, float32 matmul {result.matmul_gflops:.1f} "
            f"GFLOP/s, numpy {result.numpy_version}; no TDP or all-in power known"
        ),
        "sources": {
            "memory_gb": ref,
            "bandwidth_tb_s": SourceRef(
                urls=[PROBE_SOURCE], date=date, note="np.copyto of 64 MiB, read + write bytes"
            ),
            "fp32_tflops": SourceRef(
                urls=[PROBE_SOURCE], date=date, note="float32 768 × 768 matmul, 2n³ FLOPs"
            ),
        },
    }
    if override:
        extra = dict(override)
        sources = {**fields["sources"], **extra.pop("sources", {})}
        fields.update(extra)
        fields["sources"] = sources
    return build_hardware(CPU_KEY, fields, Path(PROBE_FILE))


def cpu_hardware(
    override: Mapping[str, Any] | None = None,
    cache_dir: Path | None = None,
    refresh: bool = False,
) -> HardwareSpec:
    """This machine's CPU as a hardware entry (probe cached in the user cache dir)."""
    return hardware_from_probe(cached_probe(cache_dir, refresh), override)
