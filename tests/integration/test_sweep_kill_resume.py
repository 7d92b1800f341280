"""``specscope sweep`` killed for real, then ``--resume`` (real llama.cpp, CLI in a subprocess).

SIGKILL gives the sweep no chance to clean up: the points finished before the kill must still be
in the store, unchanged, the resume must measure exactly the rest (nothing lost, nothing twice),
and the llama-server the killed sweep had started (it runs in its own session) must not linger
once the next sweep over the same runs folder starts. SIGTERM is handled like Ctrl-C: the sweep
stops its server before it exits.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.cli import ROOT, cli_env, specscope
from tests.support.engine import require_llama_cpp

from specscope.schema import Point
from specscope.store.db import PointFilter, Store
from specscope.sweep.plan import make_plan
from specscope.sweep.recipe import load_recipe
from specscope.sweep.stale import PID_FILE, process_start

pytestmark = pytest.mark.slow

WAIT_S = 300.0


RECIPE = """
name = "kill-resume"
repeats = 2
seed = 3

[engine]
kind = "llamacpp"
model = "demo"
threads = 2
context_tokens = 1024
health_timeout_s = 120

[load]
concurrency = [1]
requests_per_point = 2
warmup = 1
timeout_s = 60

[[workload]]
name = "repetitive"
source = "builtin:repetitive"
osl = 16

[[spec]]
name = "off"

[[spec]]
name = "ngram"
method = "ngram-mod"
gamma = [4]
params = { ngram-mod-n-match = 8, ngram-mod-n-min = 2 }
"""

OFF_ONLY = RECIPE.split('[[spec]]\nname = "ngram"')[0].replace("repeats = 2", "repeats = 3")
"""Spec off only, three repeats: one server for the whole sweep."""


class Sweep:
    """``python -m specscope.cli sweep ...`` with its stderr read line by line in a thread."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "specscope.cli", "sweep", *args],
            cwd=ROOT,
            env=cli_env(PYTHONUNBUFFERED="1"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for(self, prefix: str, count: int = 1) -> None:
        """Block until ``count`` stderr lines start with ``prefix`` (the sweep prints one
        ``✓ key: ...`` line per point, after the point is committed)."""
        deadline = time.monotonic() + WAIT_S
        while sum(line.startswith(prefix) for line in self.seen) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"no {prefix!r} line within {WAIT_S:g} s; stderr: {self.seen}")
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                pytest.fail(f"the sweep ended before {prefix!r}: {self.seen}")
            self.seen.append(line)

    def children(self, marker: str = "") -> list[int]:
        """Live child processes of the sweep (the llama-server it launched) whose command line
        holds ``marker``."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                fields = stat[stat.rfind(")") + 2 :].split()
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                if (
                    int(fields[1]) == self.proc.pid
                    and fields[0] not in ("Z", "X")
                    and marker in cmdline
                ):
                    found.append(int(entry.name))
        return found

    def server(self, marker: str) -> tuple[int, int | None]:
        """Wait for the sweep's llama-server whose command line holds ``marker``."""
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            pids = self.children(marker)
            if pids:
                return pids[0], process_start(pids[0])
            time.sleep(0.05)
        pytest.fail(f"no llama-server with {marker!r} within {WAIT_S:g} s; stderr: {self.seen}")


@pytest.fixture
def leftovers() -> Iterator[dict[int, int | None]]:
    """Server pids (with start times) a test saw; any still alive at the end are killed."""
    seen: dict[int, int | None] = {}
    yield seen
    for pid, start in seen.items():
        if start is not None and process_start(pid) == start:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)


def _points(db: Path) -> list[Point]:
    with Store.open(db) as store:
        return store.points(PointFilter(status=None))


def _snapshot(db: Path) -> dict[str, tuple[str, str, float, float | None, int]]:
    """point_id → (sweep key, status, throughput, duration, stored requests)."""
    with Store.open(db) as store:
        return {
            p.point_id: (
                str(p.provenance.extra["sweep_key"]),
                p.status,
                p.throughput_per_gpu,
                p.duration_s,
                len(store.requests(p.point_id)),
            )
            for p in store.points(PointFilter(status=None))
        }


def _wait_for_files(folder: Path, name: str, timeout_s: float = 10.0) -> list[Path]:
    deadline = time.monotonic() + timeout_s
    while not (found := list(folder.glob(f"*/{name}"))) and time.monotonic() < deadline:
        time.sleep(0.02)
    return found


def _alive(pid: int, start: int | None) -> bool:
    return start is not None and process_start(pid) == start


def _wait_gone(pid: int, start: int | None, timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while _alive(pid, start) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not _alive(pid, start)


def _resume(
    recipe_path: Path, db: Path, runs: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    """``specscope sweep RECIPE --resume --json`` (plus ``extra``) in a fresh interpreter."""
    return specscope(
        "sweep",
        recipe_path,
        "--db",
        db,
        "--runs-dir",
        runs,
        *extra,
        "--resume",
        "--json",
        timeout_s=WAIT_S * 2,
    )


def test_sigkill_then_resume_loses_nothing_and_duplicates_nothing(
    tmp_path: Path, leftovers: dict[int, int | None]
) -> None:
    require_llama_cpp()
    recipe_path = tmp_path / "recipe.toml"
    recipe_path.write_text(RECIPE)
    plan = make_plan(load_recipe(recipe_path))
    keys = [p.key for p in plan.points]
    assert len(keys) == 4  # 2 repeats × (off, ngram g4) × 1 workload × 1 concurrency
    db, runs = tmp_path / "sweep.duckdb", tmp_path / "runs"

    sweep = Sweep(str(recipe_path), "--db", str(db), "--runs-dir", str(runs))
    try:
        sweep.wait_for("✓ ")  # the first point (off, repeat 0) is committed
        # the n-gram server is launched next; kill the sweep once that server exists
        pid, start = sweep.server("--spec-type ngram-mod")
        leftovers[pid] = start
        servers = {pid: start}
        pid_files = _wait_for_files(runs, PID_FILE)
        sweep.proc.send_signal(signal.SIGKILL)
        sweep.proc.wait(timeout=30)
    finally:
        if sweep.proc.poll() is None:
            sweep.proc.kill()
    assert sweep.proc.returncode == -signal.SIGKILL
    # the killed sweep had its server running, and said so in the run folder
    assert len(pid_files) == 1

    before = _snapshot(db)
    assert 1 <= len(before) < len(keys)
    assert all(status == "ok" for _key, status, *_ in before.values())
    done_keys = [key for key, *_ in before.values()]
    assert done_keys == keys[: len(done_keys)], "points are stored in plan order"

    resumed = _resume(recipe_path, db, runs)
    assert resumed.returncode == 0, resumed.stderr
    outcome = json.loads(resumed.stdout)
    assert outcome["planned"] == len(keys)
    assert outcome["skipped"] == len(before)
    assert outcome["measured"] == len(keys) - len(before)
    assert outcome["failed"] == 0

    # the killed sweep's server is gone: the resume stopped it before starting its own
    for pid, start in servers.items():
        assert _wait_gone(pid, start, timeout_s=5.0), f"llama-server {pid} still running"
    assert not list(runs.glob(f"*/{PID_FILE}"))

    after = _snapshot(db)
    # every planned point exactly once, in one run, all ok
    stored_keys = sorted(key for key, *_ in after.values())
    assert stored_keys == sorted(keys)
    assert {p.run_id for p in _points(db)} == {outcome["run_id"]}
    assert all(status == "ok" for _key, status, *_ in after.values())
    # the points finished before the kill are unchanged: same ids, same numbers, same records
    for point_id, row in before.items():
        assert after[point_id] == row
    assert sorted(outcome["point_ids"]) == sorted(after)
    # the lossless check ran against the off outputs stored before the kill
    with Store.open(db) as store:
        spec_points = store.points(PointFilter(spec_method="ngram-mod"))
    assert len(spec_points) == 2
    for p in spec_points:
        check = p.provenance.extra["lossless"]
        assert check["compared"] == 2
        assert 0 <= check["identical"] <= 2


def test_sigterm_stops_the_server_before_the_sweep_exits(
    tmp_path: Path, leftovers: dict[int, int | None]
) -> None:
    require_llama_cpp()
    recipe_path = tmp_path / "recipe.toml"
    recipe_path.write_text(OFF_ONLY)
    db, runs = tmp_path / "sweep.duckdb", tmp_path / "runs"
    sweep = Sweep(str(recipe_path), "--db", str(db), "--runs-dir", str(runs))
    try:
        sweep.wait_for("✓ ")
        pid, start = sweep.server("--spec-type none")
        leftovers[pid] = start
        servers = {pid: start}
        sweep.proc.send_signal(signal.SIGTERM)
        sweep.proc.wait(timeout=60)
    finally:
        if sweep.proc.poll() is None:
            sweep.proc.kill()
    # handled like Ctrl-C: exit 130 with the one-line message, the server stopped first
    assert sweep.proc.returncode == 130
    rest = []
    while (line := sweep.lines.get(timeout=5)) is not None:
        rest.append(line)
    assert any("interrupted: finished points are saved" in line for line in rest), rest
    for pid, start in servers.items():
        assert not _alive(pid, start), f"llama-server {pid} outlived the sweep"
    assert not list(runs.glob(f"*/{PID_FILE}"))
    assert len(_points(db)) >= 1


ADAPTIVE = (
    RECIPE.replace("concurrency = [1]", "concurrency = [1, 2]")
    .replace("gamma = [4]", "gamma = [2, 4]")
    .replace('name = "kill-resume"', 'name = "kill-resume-adaptive"')
)
"""Off and ngram-mod g = 2, 4 at concurrency 1 and 2, two repeats: a grid of 12 points."""


def test_adaptive_sweep_sigkill_then_resume_loses_nothing_and_duplicates_nothing(
    tmp_path: Path, leftovers: dict[int, int | None]
) -> None:
    # Issue 14's acceptance on the real CPU engine: the adaptive sweep chooses each next point
    # from the stored ones, so a resume must go on from exactly what was committed.
    require_llama_cpp()
    recipe_path = tmp_path / "recipe.toml"
    recipe_path.write_text(ADAPTIVE)
    assert len(make_plan(load_recipe(recipe_path)).points) == 12
    db, runs = tmp_path / "sweep.duckdb", tmp_path / "runs"
    budget = ["--adaptive", "--budget-points", "6"]
    sweep = Sweep(str(recipe_path), "--db", str(db), "--runs-dir", str(runs), *budget)
    try:
        sweep.wait_for("✓ ", count=2)  # two points committed
        for pid in sweep.children("llama-server"):
            leftovers[pid] = process_start(pid)
        sweep.proc.send_signal(signal.SIGKILL)
        sweep.proc.wait(timeout=30)
    finally:
        if sweep.proc.poll() is None:
            sweep.proc.kill()
    before = _snapshot(db)
    assert 2 <= len(before) < 6
    resumed = _resume(recipe_path, db, runs, *budget)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    outcome = json.loads(resumed.stdout)
    after = _snapshot(db)
    stored_keys = [key for key, *_ in after.values()]
    assert len(stored_keys) == len(set(stored_keys)), "a point was measured twice"
    assert len(after) == outcome["points"] <= 6
    assert {p.run_id for p in _points(db)} == {outcome["sweep"]["run_id"]}
    for point_id, row in before.items():  # what was committed before the kill is unchanged
        assert after[point_id] == row
    log = json.loads(Path(outcome["log"]).read_text())
    assert sorted(step["key"] for step in log["steps"]) == sorted(stored_keys)
