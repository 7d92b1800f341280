"""Best-effort GPU power sampling over the measured window.

When ``nvidia-smi`` (or else ``amd-smi``) is on PATH, a background thread runs it about once a
second and keeps ``(perf_counter, {gpu: watts})`` samples; ``reading(start, end)`` averages the
samples inside the window: the mean of each GPU's samples, then the mean over GPUs (samples are
evenly spaced, so a plain mean is the time average). Without either tool, or without usable
samples, the reading is None with the reason. Never raises because of the tool.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import threading
import time
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

NO_TOOL_REASON = "no NVML/AMD SMI on this host"
NVIDIA_QUERY = ["--query-gpu=index,power.draw", "--format=csv,noheader,nounits"]
AMD_QUERY = ["metric", "--power", "--csv"]
_AMD_POWER_COLUMNS = ("socket_power", "current_socket_power", "average_socket_power", "power")


class PowerReading(BaseModel):
    """Average power per GPU over a window, or why there is none."""

    model_config = ConfigDict(frozen=True)

    w_per_gpu: float | None
    n_gpus: int = 0
    n_samples: int = 0
    source: str | None = None
    """``nvidia-smi`` or ``amd-smi``."""
    reason: str | None = None
    """Why ``w_per_gpu`` is None."""


def _watts(text: str) -> float | None:
    cleaned = text.strip().upper().removesuffix("W").strip()
    try:
        value = float(cleaned)
    except ValueError:
        return None  # "[N/A]", "N/A", "[Not Supported]"
    return value if value >= 0 else None


def parse_nvidia_smi_csv(text: str) -> dict[int, float]:
    """GPU index → watts from ``nvidia-smi --query-gpu=index,power.draw --format=csv[,...]``.

    Accepts a header line and ``W`` units (``--format=csv``) or neither (``noheader,nounits``);
    GPUs reporting ``[N/A]`` are left out.
    """
    out: dict[int, float] = {}
    for row in csv.reader(io.StringIO(text)):
        if len(row) < 2:
            continue
        try:
            index = int(row[0].strip())
        except ValueError:
            continue  # header line
        watts = _watts(row[1])
        if watts is not None:
            out[index] = watts
    return out


def parse_amd_smi_csv(text: str) -> dict[int, float]:
    """GPU index → watts from ``amd-smi metric --power --csv`` (column names vary by version)."""
    reader = csv.DictReader(io.StringIO(text.strip()))
    if reader.fieldnames is None:
        return {}
    fields = [f.strip().lower() for f in reader.fieldnames]
    power_col = next((c for c in _AMD_POWER_COLUMNS if c in fields), None)
    if power_col is None or "gpu" not in fields:
        return {}
    out: dict[int, float] = {}
    for row in reader:
        norm = {k.strip().lower(): (v or "") for k, v in row.items() if k is not None}
        try:
            index = int(norm["gpu"].strip())
        except ValueError:
            continue
        watts = _watts(norm[power_col])
        if watts is not None:
            out[index] = watts
    return out


def detect_power_tool() -> tuple[str, list[str]] | None:
    """(tool name, command) for the first power tool on PATH, or None."""
    exe = shutil.which("nvidia-smi")
    if exe:
        return "nvidia-smi", [exe, *NVIDIA_QUERY]
    exe = shutil.which("amd-smi")
    if exe:
        return "amd-smi", [exe, *AMD_QUERY]
    return None


def average_power(
    samples: Sequence[tuple[float, dict[int, float]]],
    start_perf_s: float | None = None,
    end_perf_s: float | None = None,
    gpu_indices: Sequence[int] | None = None,
) -> tuple[float | None, int, int]:
    """(mean W per GPU, GPUs seen, samples used) over samples inside [start, end].

    If no sample falls inside a window (a window shorter than the sampling interval), the
    sample nearest the window's middle is used.
    """
    lo = float("-inf") if start_perf_s is None else start_perf_s
    hi = float("inf") if end_perf_s is None else end_perf_s
    chosen = [s for s in samples if lo <= s[0] <= hi]
    if not chosen and samples and start_perf_s is not None and end_perf_s is not None:
        mid = (start_perf_s + end_perf_s) / 2
        chosen = [min(samples, key=lambda s: abs(s[0] - mid))]
    per_gpu: dict[int, list[float]] = {}
    for _, values in chosen:
        for gpu, watts in values.items():
            if gpu_indices is None or gpu in gpu_indices:
                per_gpu.setdefault(gpu, []).append(watts)
    if not per_gpu:
        return None, 0, len(chosen)
    means = [sum(v) / len(v) for v in per_gpu.values()]
    return sum(means) / len(means), len(per_gpu), len(chosen)


class PowerSampler:
    """Samples GPU power in a background thread between ``start()`` and ``stop()``.

    ``command`` and ``source`` override detection (tests pass a fake command).
    """

    def __init__(
        self,
        interval_s: float = 1.0,
        gpu_indices: Sequence[int] | None = None,
        command: Sequence[str] | None = None,
        source: str | None = None,
    ) -> None:
        self._interval_s = interval_s
        self._gpus = list(gpu_indices) if gpu_indices is not None else None
        if command is not None:
            self._tool: tuple[str, list[str]] | None = (source or "nvidia-smi", list(command))
        else:
            self._tool = detect_power_tool()
        self._samples: list[tuple[float, dict[int, float]]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_error: str | None = None

    @property
    def available(self) -> bool:
        return self._tool is not None

    def start(self) -> None:
        if self._tool is None or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="power-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._interval_s + 10.0)

    def __enter__(self) -> PowerSampler:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _loop(self) -> None:
        assert self._tool is not None
        name, cmd = self._tool
        parse = parse_amd_smi_csv if name == "amd-smi" else parse_nvidia_smi_csv
        while not self._stop.is_set():
            began = time.perf_counter()
            try:
                done = subprocess.run(cmd, capture_output=True, text=True, timeout=10, check=False)
                values = parse(done.stdout) if done.returncode == 0 else {}
                if done.returncode != 0:
                    self._last_error = f"{name} exited with {done.returncode}"
            except (OSError, subprocess.SubprocessError) as exc:
                values = {}
                self._last_error = f"{name} failed: {exc}"
            if values:
                with self._lock:
                    self._samples.append(((began + time.perf_counter()) / 2, values))
            self._stop.wait(max(0.0, self._interval_s - (time.perf_counter() - began)))

    def samples(self) -> list[tuple[float, dict[int, float]]]:
        with self._lock:
            return list(self._samples)

    def reading(
        self, start_perf_s: float | None = None, end_perf_s: float | None = None
    ) -> PowerReading:
        """Average W per GPU over [start, end] (``time.perf_counter`` values), or the reason."""
        if self._tool is None:
            return PowerReading(w_per_gpu=None, reason=NO_TOOL_REASON)
        name = self._tool[0]
        watts, n_gpus, n_samples = average_power(
            self.samples(), start_perf_s, end_perf_s, self._gpus
        )
        if watts is None:
            reason = self._last_error or f"{name} returned no power readings"
            return PowerReading(w_per_gpu=None, n_samples=n_samples, source=name, reason=reason)
        return PowerReading(w_per_gpu=watts, n_gpus=n_gpus, n_samples=n_samples, source=name)
