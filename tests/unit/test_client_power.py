"""GPU power sampling: vendor-tool output parsers, window averaging, and the no-GPU path."""

from __future__ import annotations

import shutil
import sys
import time

import pytest

from specscope.client.power import (
    NO_TOOL_REASON,
    PowerSampler,
    average_power,
    parse_amd_smi_csv,
    parse_nvidia_smi_csv,
)

NVIDIA_NOHEADER = "0, 68.34\n1, 301.25\n"
NVIDIA_WITH_HEADER = "index, power.draw [W]\n0, 68.34 W\n1, [N/A]\n2, 250.00 W\n"
AMD_NEW = (
    "gpu,socket_power,gfx_voltage,soc_voltage,mem_voltage,throttle_status,power_management\n"
    "0,742,N/A,N/A,N/A,UNTHROTTLED,ENABLED\n"
    "1,N/A,N/A,N/A,N/A,UNTHROTTLED,ENABLED\n"
)
AMD_OLD = "gpu,current_socket_power,average_socket_power,power_limit\n0,510 W,500 W,750 W\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (NVIDIA_NOHEADER, {0: 68.34, 1: 301.25}),
        (NVIDIA_WITH_HEADER, {0: 68.34, 2: 250.0}),
        ("", {}),
        ("No devices were found\n", {}),
    ],
)
def test_parse_nvidia_smi_csv(text: str, expected: dict[int, float]) -> None:
    assert parse_nvidia_smi_csv(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (AMD_NEW, {0: 742.0}),
        (AMD_OLD, {0: 510.0}),
        ("gpu,temperature\n0,40\n", {}),
        ("", {}),
    ],
)
def test_parse_amd_smi_csv(text: str, expected: dict[int, float]) -> None:
    assert parse_amd_smi_csv(text) == pytest.approx(expected)


SAMPLES = [
    (10.0, {0: 100.0, 1: 200.0}),
    (11.0, {0: 110.0, 1: 210.0}),
    (12.0, {0: 120.0, 1: 220.0}),
    (20.0, {0: 500.0, 1: 500.0}),
]


@pytest.mark.parametrize(
    ("start", "end", "gpus", "expected"),
    [
        # samples at 10, 11, 12: GPU0 mean 110, GPU1 mean 210 → 160 per GPU
        (9.5, 12.5, None, (160.0, 2, 3)),
        # GPU 1 only: 210
        (9.5, 12.5, [1], (210.0, 1, 3)),
        # no sample inside [15, 16]: the one nearest 15.5 (t=12) → (120+220)/2
        (15.0, 16.0, None, (170.0, 2, 1)),
        # unbounded: all four → GPU0 (100+110+120+500)/4 = 207.5, GPU1 282.5 → 245
        (None, None, None, (245.0, 2, 4)),
    ],
)
def test_average_power(
    start: float | None,
    end: float | None,
    gpus: list[int] | None,
    expected: tuple[float, int, int],
) -> None:
    watts, n_gpus, n_samples = average_power(SAMPLES, start, end, gpus)
    assert watts == pytest.approx(expected[0])
    assert (n_gpus, n_samples) == expected[1:]


def test_no_tool_gives_none_with_the_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    sampler = PowerSampler()
    assert not sampler.available
    with sampler:
        pass
    reading = sampler.reading(0.0, 1.0)
    assert reading.w_per_gpu is None
    assert reading.reason == NO_TOOL_REASON


def test_sampler_runs_the_tool_in_the_background() -> None:
    fake = [sys.executable, "-c", "print('0, 100.0'); print('1, 50.0')"]
    sampler = PowerSampler(interval_s=0.05, command=fake, source="nvidia-smi")
    start = time.perf_counter()
    with sampler:
        deadline = time.monotonic() + 10.0
        while not sampler.samples() and time.monotonic() < deadline:
            time.sleep(0.02)
    reading = sampler.reading(start, time.perf_counter())
    assert reading.w_per_gpu == pytest.approx(75.0)  # (100 + 50) / 2
    assert reading.n_gpus == 2
    assert reading.n_samples >= 1
    assert reading.source == "nvidia-smi"


def test_sampler_reports_a_failing_tool() -> None:
    fake = [sys.executable, "-c", "import sys; sys.exit(3)"]
    sampler = PowerSampler(interval_s=0.05, command=fake, source="nvidia-smi")
    with sampler:
        time.sleep(0.3)
    reading = sampler.reading()
    assert reading.w_per_gpu is None
    assert reading.reason == "nvidia-smi exited with 3"
