"""The sweep measures the host's load over every point's window and, when the recipe asks,
measures a disturbed point once more: against the launched fake llama-server of
``test_sweep_launched_fake`` (a script that takes llama-server's arguments and serves
``tests/fakes/stream_server.py``), with a scripted host meter standing in for a busy machine,
and once with the real meter.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.integration.test_sweep_launched_fake import FAKE_LLAMA_SERVER, ROOT, _log

from specscope.client.hostload import (
    HostLoad,
    HostRecord,
    disturbance_threshold_cores,
    host_note,
    host_record,
)
from specscope.schema import Point
from specscope.store.db import PointFilter, Store
from specscope.sweep.hooks import SweepHooks
from specscope.sweep.plan import make_plan
from specscope.sweep.recipe import parse_recipe
from specscope.sweep.runner import SweepRunner

# The fake picks each generation request's behaviour: the first FAKE_SLOW of them stream a
# token every 40 ms, later ones every 4 ms; each burns FAKE_BURN_S of CPU before answering.
PICK = """
import time

GENERATED = [0]
SLOW = int(os.environ.get("FAKE_SLOW", "0"))
BURN_S = float(os.environ.get("FAKE_BURN_S", "0"))


def pick(number, body):
    if not body:
        return Behaviour()
    GENERATED[0] += 1
    until = time.perf_counter() + BURN_S
    while time.perf_counter() < until:
        pass
    return Behaviour(chunk_interval_s=0.04 if GENERATED[0] <= SLOW else 0.004)


async def main():"""

OSL = 4
TIMED = 3
WARMUP = 1


def _fake_binary(tmp_path: Path) -> Path:
    script = FAKE_LLAMA_SERVER.replace("\n\nasync def main():", PICK, 1).replace(
        "Fake(Behaviour(chunk_interval_s=0.01))", "Fake(pick)"
    )
    assert "Fake(pick)" in script and "def pick" in script
    path = tmp_path / "fake-llama-server"
    path.write_text(script.format(python=sys.executable))
    path.chmod(0o755)
    return path


def _plan(tmp_path: Path, *, repeats: int, env: dict[str, str], **load: Any) -> Any:
    recipe = parse_recipe(
        {
            "name": "host-load",
            "repeats": repeats,
            "engine": {
                "kind": "llamacpp",
                "model": str(tmp_path / "model.gguf"),
                "binary": str(_fake_binary(tmp_path)),
                "env": {"PYTHONPATH": str(ROOT), "FAKE_LOG": str(tmp_path / "fake.jsonl"), **env},
                "health_timeout_s": 30,
            },
            "load": {
                "concurrency": [1],
                "requests_per_point": TIMED,
                "warmup": WARMUP,
                "timeout_s": 30,
                **load,
            },
            "workload": [{"name": "code", "source": "builtin:code", "osl": OSL}],
            "spec": [{"name": "off"}],
        }
    )
    return make_plan(recipe)


def _host(other: float) -> HostLoad:
    return HostLoad(
        wall_s=5.0,
        host_cores=2,
        other_cpu_cores=other,
        steal_cores=0.0,
        own_cpu_cores=1.5,
        loadavg_1m=2.0,
        threshold_cores=0.25,
        disturbed=other >= 0.25,
    )


class ScriptedMeters:
    """Hands out meters whose windows read the scripted other-process loads in turn."""

    def __init__(self, *others: float) -> None:
        self.others = list(others)
        self.started = 0
        self.stopped = 0
        self.server_urls: list[str | None] = []

    def __call__(self, server_url: str | None) -> ScriptedMeters:
        self.server_urls.append(server_url)
        return self

    def start(self) -> None:
        self.started += 1

    def stop(self) -> HostLoad:
        self.stopped += 1
        return _host(self.others.pop(0))


def _run(plan: Any, tmp_path: Path, meters: ScriptedMeters | None) -> tuple[list[Point], Any]:
    said: list[str] = []
    with Store.open(tmp_path / "s.duckdb") as store:
        runner = SweepRunner(
            plan, store, tmp_path / "runs", hooks=SweepHooks(on_server=said.append)
        )
        if meters is not None:
            runner.measurer.host_meter = meters
        outcome = runner.run()
        points = store.points(PointFilter(run_id=outcome.run_id, status=None))
        by_key = {str(p.provenance.extra["sweep_key"]): p for p in points}
        ordered = [by_key[p.key] for p in plan.points]
        counts = [len(store.requests(p.point_id)) for p in ordered]
    assert all(p.status == "ok" for p in ordered), [p.error for p in ordered]
    return ordered, (said, counts)


def _generations(tmp_path: Path) -> int:
    return sum(1 for r in _log(tmp_path) if r["event"] == "request")


def _record(point: Point) -> HostRecord:
    record = host_record(point.provenance.extra)
    assert record is not None
    return record


def test_a_disturbed_window_is_measured_once_more_and_the_first_is_kept(tmp_path: Path) -> None:
    # repeat 0: disturbed (0.9 cores), then quiet (0.02); repeat 1: quiet at once (0.03)
    meters = ScriptedMeters(0.9, 0.02, 0.03)
    plan = _plan(
        tmp_path, repeats=2, env={"FAKE_SLOW": str(WARMUP + TIMED)}, remeasure_disturbed=True
    )
    (first, second), (said, counts) = _run(plan, tmp_path, meters)

    assert (meters.started, meters.stopped) == (3, 3)  # exactly one extra window
    assert meters.server_urls == [None, None, None]  # launched: the server is our child
    # the server saw repeat 0's warm-up + timed requests twice, repeat 1's once
    assert _generations(tmp_path) == 3 * (WARMUP + TIMED)
    # the stored requests are the second measurement's only
    assert counts == [WARMUP + TIMED, WARMUP + TIMED]

    record = _record(first)
    assert (record.other_cpu_cores, record.disturbed) == (0.02, False)
    attempt = record.first_attempt
    assert attempt is not None
    assert attempt.host.other_cpu_cores == 0.9 and attempt.host.disturbed
    assert attempt.status == "ok"
    # the first window streamed a token every 40 ms (≈ 25 tok/s/user), the second every 4 ms
    assert 10.0 < attempt.interactivity < 30.0
    assert first.interactivity > 2 * attempt.interactivity
    assert attempt.output_throughput_per_gpu is not None
    assert first.output_throughput_per_gpu is not None
    assert attempt.output_throughput_per_gpu < first.output_throughput_per_gpu
    assert attempt.duration_s is not None and first.duration_s is not None
    assert attempt.duration_s > first.duration_s
    note = host_note(first)
    assert note == (
        "re-measured: the first window was disturbed (other processes 0.90 cores); tok/s/user "
        f"then {attempt.interactivity:.1f}, now {first.interactivity:.1f}"
    )
    assert said.count(f"{plan.points[0].key}: {note}") == 1
    assert (
        said.count(
            f"{plan.points[0].key}: window disturbed (other processes 0.90 cores); "
            "measuring it once more"
        )
        == 1
    )

    quiet = _record(second)
    assert (quiet.other_cpu_cores, quiet.first_attempt) == (0.03, None)
    assert host_note(second) is None


def test_a_window_disturbed_twice_is_kept_flagged_without_a_third(tmp_path: Path) -> None:
    meters = ScriptedMeters(0.9, 0.6)
    plan = _plan(tmp_path, repeats=1, env={}, remeasure_disturbed=True)
    (point,), (_said, counts) = _run(plan, tmp_path, meters)
    assert (meters.started, meters.stopped) == (2, 2)
    assert _generations(tmp_path) == 2 * (WARMUP + TIMED)
    assert counts == [WARMUP + TIMED]
    record = _record(point)
    assert (record.other_cpu_cores, record.disturbed) == (0.6, True)
    assert record.first_attempt is not None
    assert record.first_attempt.host.other_cpu_cores == 0.9
    note = host_note(point)
    assert note is not None
    assert note.startswith("re-measured, still disturbed (other processes 0.60 cores): ")


def test_without_the_option_a_disturbed_point_is_only_flagged(tmp_path: Path) -> None:
    meters = ScriptedMeters(0.9)
    plan = _plan(tmp_path, repeats=1, env={})
    assert plan.recipe.load.remeasure_disturbed is False
    (point,), (said, _counts) = _run(plan, tmp_path, meters)
    assert (meters.started, meters.stopped) == (1, 1)
    assert _generations(tmp_path) == WARMUP + TIMED
    record = _record(point)
    assert record.disturbed and record.first_attempt is None
    note = "disturbed: other processes 0.90 cores of this host's 2 over the window (limit 0.25)"
    assert host_note(point) == note
    assert said[0].startswith("starting llamacpp")
    assert said[1:] == [f"{plan.points[0].key}: {note}"]


@pytest.mark.skipif(not Path("/proc/stat").exists(), reason="reads /proc")
def test_the_real_meter_counts_the_launched_server_as_ours(tmp_path: Path) -> None:
    # each generation request burns 0.3 s of CPU in the server: 4 of them make a judged window
    plan = _plan(tmp_path, repeats=1, env={"FAKE_BURN_S": "0.3"}, warmup=0, requests_per_point=4)
    (point,), _ = _run(plan, tmp_path, None)
    record = _record(point)
    assert record.host_cores == os.cpu_count()
    assert record.judged and record.wall_s >= 1.2
    # the server's busy loop (~0.9 of a core on a quiet box, 0.8 beside a 3-job compiler on 2
    # cores) is ours, not another process's; if it were not, ours would be the idle client's
    # few hundredths
    assert record.own_cpu_cores > 0.15
    assert record.threshold_cores == disturbance_threshold_cores(os.cpu_count() or 1)
