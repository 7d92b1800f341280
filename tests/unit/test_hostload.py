"""The host-load meter: /proc parsing, the window's other/steal cores with worked numbers, the
threshold's edges, the stored record and how it is said (console, Markdown, page payload)."""

from __future__ import annotations

import dataclasses
import io
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from specscope.analysis.economics import list_presets
from specscope.app.bench import BenchPoint, BenchResult
from specscope.client.hostload import (
    CpuTicks,
    FirstAttempt,
    HostLoad,
    HostRecord,
    HostSampler,
    HostSnapshot,
    disturbance_summary,
    disturbance_threshold_cores,
    host_load,
    host_note,
    host_record,
    listening_inodes,
    listening_pids,
    parse_pid_stat,
    parse_proc_stat,
    read_snapshot,
    tree_pids,
)
from specscope.console import host_cell, print_bench
from specscope.engines import pick_free_port
from specscope.report.markdown import host_lines
from specscope.report.payload import build_payload
from specscope.report.sample import sample_pair, sample_points
from specscope.schema import Point, Provenance
from specscope.sweep.runner import SweepOutcome

LINUX = Path("/proc/stat").exists()

# Two /proc/stat readings 2 s apart on a 2-CPU VM (CLK_TCK 100: 400 ticks in all):
# Δ user 245, nice 0, system 60, idle 40, iowait 5, irq 10, softirq 10, steal 30; the guest
# columns (already inside user and nice) change too and must not count twice.
STAT_START = """cpu  1000 100 500 8000 50 10 20 30 7 3
cpu0 500 50 250 4000 25 5 10 15 4 2
cpu1 500 50 250 4000 25 5 10 15 3 1
intr 12345
ctxt 67890
"""
STAT_END = """cpu  1245 100 560 8040 55 20 30 60 57 3
cpu0 620 50 280 4020 27 10 15 30 30 2
cpu1 625 50 280 4020 28 10 15 30 27 1
intr 12999
ctxt 68000
"""

# (pid, name, ppid, utime, stime, cutime, cstime). Ours: specscope (100), the server it launched
# (200), the server's helper (300), a client worker (500) that exits inside the window and is
# reaped by 100 (its 25 + 15 ticks move into 100's cutime), and a process (600) the server starts
# inside the window. Not ours: 400, a neighbour that uses 100 ticks in the window.
PROCS_START = [
    (1, "systemd", 0, 10, 10, 0, 0),
    (100, "python3", 1, 50, 10, 0, 0),
    (200, "llama-server", 100, 1000, 100, 0, 0),
    (300, "llama (helper) x", 200, 5, 0, 0, 0),
    (400, "make", 1, 600, 100, 0, 0),
    (500, "python3", 100, 20, 5, 0, 0),
]
PROCS_END = [
    (1, "systemd", 0, 10, 10, 0, 0),
    (100, "python3", 1, 70, 15, 40, 0),
    (200, "llama-server", 100, 1150, 120, 0, 0),
    (300, "llama (helper) x", 200, 15, 0, 0, 0),
    (400, "make", 1, 680, 120, 0, 0),
    (600, "sh", 200, 4, 1, 0, 0),
]


def _pid_stat(pid: int, name: str, ppid: int, ut: int, st: int, cut: int, cst: int) -> str:
    # fields 3..22 of a real line, then the rest; 14..17 are utime stime cutime cstime
    return (
        f"{pid} ({name}) S {ppid} {pid} {pid} 0 -1 4194304 98 0 0 0 "
        f"{ut} {st} {cut} {cst} 20 0 1 0 21228 3133440 389 18446744073709551615\n"
    )


def _fake_proc(
    root: Path, stat: str, procs: list[tuple[int, str, int, int, int, int, int]]
) -> Path:
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    (root / "stat").write_text(stat)
    (root / "loadavg").write_text("2.24 0.89 0.33 4/109 4545\n")
    (root / "self").mkdir()  # not a pid: skipped
    for proc in procs:
        (root / str(proc[0])).mkdir()
        (root / str(proc[0]) / "stat").write_text(_pid_stat(*proc))
    return root


def _snap(perf_s: float, busy: int, steal: int = 0, tree: int = 0) -> HostSnapshot:
    cpu = CpuTicks(user=busy, nice=0, system=0, idle=0, iowait=0, irq=0, softirq=0, steal=steal)
    return HostSnapshot(perf_s=perf_s, cpu=cpu, tree_ticks=tree, loadavg_1m=0.5)


# --------------------------------------------------------------------------------------------
# parsing


def test_proc_stat_busy_leaves_out_idle_iowait_steal_and_guest() -> None:
    cpu = parse_proc_stat(STAT_START)
    assert cpu == CpuTicks(1000, 100, 500, 8000, 50, 10, 20, 30)
    assert cpu.busy == 1000 + 100 + 500 + 10 + 20
    # an old kernel without steal: missing columns read as 0
    assert parse_proc_stat("cpu 1 2 3 4 5 6 7\n").steal == 0
    with pytest.raises(ValueError, match="no aggregate 'cpu' line"):
        parse_proc_stat("cpu0 1 2 3 4\n")


def test_pid_stat_finds_fields_after_a_name_with_spaces_and_parentheses() -> None:
    proc = parse_pid_stat(_pid_stat(300, "llama (helper) x", 200, 5, 7, 11, 13))
    assert (proc.pid, proc.ppid, proc.ticks) == (300, 200, 5 + 7 + 11 + 13)


def test_tree_is_the_roots_and_all_their_descendants() -> None:
    parents = {1: 0, 100: 1, 200: 100, 300: 200, 400: 1, 500: 100, 700: 400}
    assert tree_pids(parents, [100]) == {100, 200, 300, 500}
    assert tree_pids(parents, [100, 400]) == {100, 200, 300, 400, 500, 700}
    assert tree_pids(parents, [999]) == set()  # a root that is gone


def test_listening_inodes_reads_listen_sockets_on_the_port_only() -> None:
    text = (
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
        "timeout inode\n"
        "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 "
        "0 4242 1 0 100 0 0 10 0\n"
        # an established connection on the same port: not a listener
        "   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000  1000 "
        "0 4343 1 0 20 4 30 10 -1\n"
        "   2: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0 "
        "0 640 1 0 100 0 0 10 0\n"
    )
    assert listening_inodes(text, 8080) == {4242}
    assert listening_inodes(text, 2024) == {640}
    assert listening_inodes(text, 9) == set()


# --------------------------------------------------------------------------------------------
# the window, worked


def test_other_and_steal_cores_from_two_proc_snapshots(tmp_path: Path) -> None:
    proc = tmp_path / "proc"
    start = read_snapshot([100], _fake_proc(proc, STAT_START, PROCS_START))
    end = read_snapshot([100], _fake_proc(proc, STAT_END, PROCS_END))
    # our tree, utime+stime+cutime+cstime: start 60 + 1100 + 5 + 25 = 1190; end 125 + 1270 + 15
    # + 5 = 1415. Δ 225 = 100's own 25 + the exited worker's 15 in the window + server 170 +
    # helper 10 + the new process 5.
    assert (start.tree_ticks, end.tree_ticks) == (1190, 1415)
    assert end.loadavg_1m == 2.24
    start = dataclasses.replace(start, perf_s=10.0)
    end = dataclasses.replace(end, perf_s=12.0)
    load = host_load(start, end, clk_tck=100, host_cores=2)
    # busy Δ = 245 + 0 + 60 + 10 + 10 = 325; other = (325 − 225) / 100 / 2 s = 0.5 cores (the
    # neighbour's 100 ticks); steal = 30 / 100 / 2 = 0.15; ours = 225 / 200 = 1.125.
    assert load.wall_s == 2.0
    assert load.other_cpu_cores == 0.5
    assert load.steal_cores == 0.15
    assert load.own_cpu_cores == 1.125
    assert load.foreign_cores == 0.65
    assert (load.threshold_cores, load.judged, load.disturbed) == (0.25, True, True)
    assert load.describe() == "other processes 0.50 cores + steal 0.15"


def test_other_is_clamped_at_zero_when_the_counters_disagree() -> None:
    # our processes' counters show 3 ticks more than the host's busy ticks
    load = host_load(
        _snap(0.0, 1000, tree=500), _snap(2.0, 1100, tree=603), clk_tck=100, host_cores=2
    )
    assert load.other_cpu_cores == 0.0
    assert load.own_cpu_cores == 103 / 200
    assert not load.disturbed


@pytest.mark.parametrize(
    ("host_cores", "expected"), [(1, 0.25), (2, 0.25), (3, 0.3), (4, 0.4), (64, 6.4)]
)
def test_threshold_is_a_quarter_core_or_a_tenth_of_the_host(
    host_cores: int, expected: float
) -> None:
    assert disturbance_threshold_cores(host_cores) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    ("other_ticks", "steal_ticks", "disturbed"),
    [
        (50, 0, True),  # 0.25 cores: at the threshold counts
        (49, 0, False),  # 0.245
        (30, 20, True),  # other 0.15 + steal 0.10
        (29, 20, False),
        (0, 50, True),  # steal alone
    ],
)
def test_threshold_edges_on_two_cores(other_ticks: int, steal_ticks: int, disturbed: bool) -> None:
    start = _snap(0.0, 1000, steal=0, tree=100)
    end = _snap(2.0, 1000 + 150 + other_ticks, steal=steal_ticks, tree=250)  # ours: 150 ticks
    load = host_load(start, end, clk_tck=100, host_cores=2)
    assert load.other_cpu_cores == other_ticks / 200
    assert load.disturbed is disturbed


def test_short_windows_and_unknown_servers_are_measured_but_not_judged() -> None:
    busy = 100  # 1 core for a second: far over the threshold
    short = host_load(_snap(0.0, 0), _snap(0.99, busy), clk_tck=100, host_cores=2)
    assert short.other_cpu_cores == pytest.approx(busy / 99)
    assert (short.judged, short.disturbed) == (False, False)
    assert short.not_judged_reason == "window 0.99 s is shorter than 1 s: not judged"
    long = host_load(_snap(0.0, 0), _snap(1.0, busy), clk_tck=100, host_cores=2)
    assert (long.judged, long.disturbed, long.not_judged_reason) == (True, True, None)
    unknown = host_load(
        _snap(0.0, 0), _snap(1.0, busy), clk_tck=100, host_cores=2, unjudged="server not found"
    )
    assert (unknown.judged, unknown.disturbed) == (False, False)
    assert unknown.not_judged_reason == "server not found"
    with pytest.raises(ValueError, match="must come after"):
        host_load(_snap(1.0, 0), _snap(1.0, 0), clk_tck=100, host_cores=2)


# --------------------------------------------------------------------------------------------
# the sampler on this machine


def test_sampler_without_proc_returns_none(tmp_path: Path) -> None:
    sampler = HostSampler(proc=tmp_path / "no-proc")
    sampler.start()
    assert sampler.stop() is None


@pytest.mark.skipif(not LINUX, reason="reads /proc")
def test_sampler_counts_a_busy_child_as_ours() -> None:
    sampler = HostSampler()
    sampler.start()
    child = subprocess.Popen(
        [sys.executable, "-c", "import time\nt = time.time()\nwhile time.time() - t < 0.6: pass"]
    )
    child.wait()  # reaped inside the window: its CPU is in our cutime now
    time.sleep(max(0.0, 1.05 - 0.6))
    load = sampler.stop()
    assert load is not None
    assert load.host_cores == os.cpu_count()
    assert load.wall_s >= 1.0 and load.judged
    # the child's ~0.6 s of CPU over ~1.1 s (less when other processes crowd this box); were
    # its cutime not counted, ours would be this sleeping process's ~0
    assert load.own_cpu_cores > 0.1


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads /proc/net/tcp")
def test_listening_pids_finds_the_process_behind_a_port() -> None:
    code = (
        "import socket, sys, time\n"
        "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
        "print(s.getsockname()[1], flush=True); time.sleep(30)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        assert listening_pids(port) == {child.pid}
    finally:
        child.kill()
        child.wait()


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads /proc/net/tcp")
def test_an_endpoint_on_this_host_that_cannot_be_found_is_not_judged() -> None:
    port = pick_free_port()  # nothing listens there
    sampler = HostSampler(server_url=f"http://127.0.0.1:{port}")
    sampler.start()
    time.sleep(1.05)
    load = sampler.stop()
    assert load is not None
    assert (load.judged, load.disturbed) == (False, False)
    assert load.not_judged_reason is not None
    assert f"the server on port {port} of this host was not found" in load.not_judged_reason


# --------------------------------------------------------------------------------------------
# the stored record and how it is said


def _host(other: float, steal: float = 0.0, cores: int = 2) -> HostLoad:
    threshold = disturbance_threshold_cores(cores)
    return HostLoad(
        wall_s=12.0,
        host_cores=cores,
        other_cpu_cores=other,
        steal_cores=steal,
        own_cpu_cores=1.8,
        loadavg_1m=2.5,
        threshold_cores=threshold,
        disturbed=other + steal >= threshold,
    )


def _first(other: float, interactivity: float) -> FirstAttempt:
    return FirstAttempt(
        host=_host(other),
        status="ok",
        throughput_per_gpu=40.0,
        output_throughput_per_gpu=15.1,
        interactivity=interactivity,
        duration_s=12.0,
    )


def _with_host(point: Point, record: HostRecord | dict[str, Any]) -> Point:
    data = (
        record.model_dump(mode="json", exclude_none=True)
        if isinstance(record, HostRecord)
        else record
    )
    extra = {**point.provenance.extra, "host": data}
    return point.model_copy(update={"provenance": Provenance(extra=extra)})


def _record(other: float, first: FirstAttempt | None = None, **kw: Any) -> HostRecord:
    return HostRecord(**_host(other).model_dump(), first_attempt=first, **kw)


def test_notes_for_disturbed_and_re_measured_points() -> None:
    point = sample_points()[0]  # interactivity 120
    assert host_note(point) is None  # no host record
    assert host_note(_with_host(point, _record(0.05))) is None  # quiet
    assert host_note(_with_host(point, {"wall_s": "garbage"})) is None  # unreadable
    disturbed = host_note(_with_host(point, _record(0.9)))
    assert disturbed == (
        "disturbed: other processes 0.90 cores of this host's 2 over the window (limit 0.25)"
    )
    stolen = HostRecord(**_host(0.1, steal=0.2).model_dump())
    assert host_note(_with_host(point, stolen)) == (
        "disturbed: other processes 0.10 cores + steal 0.20 of this host's 2 over the window "
        "(limit 0.25)"
    )
    quiet_again = host_note(_with_host(point, _record(0.02, _first(0.9, 15.1))))
    assert quiet_again == (
        "re-measured: the first window was disturbed (other processes 0.90 cores); tok/s/user "
        "then 15.1, now 120.0"
    )
    still = host_note(_with_host(point, _record(0.4, _first(0.9, 15.1))))
    assert still == (
        "re-measured, still disturbed (other processes 0.40 cores): the first window was "
        "disturbed (other processes 0.90 cores); tok/s/user then 15.1"
    )
    failed = host_note(_with_host(point, _record(0.9, remeasure_error="server died mid-point")))
    assert failed is not None
    assert failed.endswith("; not re-measured: server died mid-point")


def test_the_record_round_trips_through_provenance_json() -> None:
    record = _record(0.02, _first(0.9, 15.1))
    point = _with_host(sample_points()[0], record)
    again = Point.model_validate_json(point.model_dump_json())
    assert host_record(again.provenance.extra) == record
    assert again.provenance.extra["host"]["first_attempt"]["interactivity"] == 15.1
    assert (record.marks, _record(0.9).marks, _record(0.4, _first(0.9, 1.0)).marks) == (
        "↻",
        "⚠",
        "↻ ⚠",
    )


def _marked_points() -> list[Point]:
    """Sample points with host records: Off c=1 disturbed, spec g=3 c=4 re-measured (quiet the
    second time), every other point quiet."""
    out = []
    for p in sample_points():
        if p.config.is_off and p.config.concurrency == 1:
            out.append(_with_host(p, _record(0.9)))
        elif p.config.draft_depth == 3 and p.config.concurrency == 4:
            out.append(_with_host(p, _record(0.03, _first(0.8, 90.0))))
        else:
            out.append(_with_host(p, _record(0.01)))
    return out


def test_summary_counts_disturbed_and_re_measured_points() -> None:
    points = _marked_points()
    assert disturbance_summary(points) == (
        "Host load: 1 of 12 points measured while other processes were busy (other + steal ≥ "
        "max(0.25 cores, 10 % of the host's cores): 0.25 on 2 cores); 1 re-measured (quiet the "
        "second time)"
    )
    assert disturbance_summary(sample_points()) is None


def test_markdown_marks_disturbed_and_re_measured_points() -> None:
    pair = sample_pair(_marked_points())
    lines = host_lines(pair)
    assert lines[0].startswith("Host load: 1 of 12 points measured while other processes")
    assert lines[2:] == [
        "- ↻ MTP (vllm) g=3, concurrency 4, repeat 0: re-measured: the first window was "
        "disturbed (other processes 0.80 cores); tok/s/user then 90.0, now 150.0",
        "- ⚠ Off (vllm), concurrency 1, repeat 0: disturbed: other processes 0.90 cores of this "
        "host's 2 over the window (limit 0.25)",
    ]
    assert host_lines(sample_pair(sample_points())) == []


def test_page_payload_carries_the_marks_and_the_summary() -> None:
    pair = sample_pair(_marked_points())
    payload = build_payload([pair], 0, list_presets(), [], ["index.html"], "t")
    (view,) = payload["views"]
    assert view["host"] == disturbance_summary([*pair.spec_points, *pair.off_points])
    off = payload["series"][view["offs"]]["op"]
    spec = payload["series"][view["spec"]]["op"]
    # Off c=1 is the point at 120 tok/s/user
    assert [x for x, d in zip(off["x"], off["hd"], strict=True) if d] == [120.0]
    assert off["hr"] == []
    assert spec["hd"] == []
    assert [x for x, r in zip(spec["x"], spec["hr"], strict=True) if r] == [150.0]
    plain = build_payload([sample_pair(sample_points())], 0, list_presets(), [], [None], "t")
    assert plain["views"][0]["host"] is None
    assert plain["series"][0]["op"]["hd"] == []


def test_bench_table_marks_points_and_says_how_many() -> None:
    points = [p for p in _marked_points() if p.config.is_off]
    result = BenchResult(
        outcome=SweepOutcome(
            run_id="r", run_dir="d", planned=4, measured=4, skipped=0, failed=0, point_ids=[]
        ),
        points=[BenchPoint(point=p) for p in points],
        power_note="power: not measured",
    )
    assert [host_cell(p) for p in points] == ["0.90 ⚠", "0.01", "0.01", "0.01"]
    assert host_cell(sample_points()[0]) == "–"
    out = io.StringIO()
    print_bench(Console(file=out, width=250), result)
    text = out.getvalue()
    assert "0.90 ⚠" in text
    assert (
        "c=1: disturbed: other processes 0.90 cores of this host's 2 over the window (limit 0.25)"
        in text
    )
    assert "Host load: 1 of 4 points measured while other processes were busy" in text
