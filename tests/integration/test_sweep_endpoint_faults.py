"""The sweep runner against the fault-injection fake server, in endpoint mode (no engine needed).

Each point of one sweep meets a different fault (HTTP 500/429, a malformed SSE line, a stream that
stalls past the request timeout, a dropped connection): the point is stored with its per-request
errors, the failure gate marks it failed when more than 5 % of its requests failed, and the sweep
goes on. Every finished point is in the store before the next one starts; --resume re-measures
only what is not stored as ok, under the same point ids.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from tests.fakes.stream_server import Behaviour, Fault, StreamServer

from specscope.engines import pick_free_port
from specscope.errors import UserError
from specscope.schema import Point
from specscope.store.db import PointFilter, Store
from specscope.sweep.hooks import PointDone, SweepHooks
from specscope.sweep.plan import PlannedPoint, make_plan
from specscope.sweep.recipe import parse_recipe
from specscope.sweep.runner import SweepRunner

REQUESTS = 20
"""Timed requests per point: one failure is 5 % (passes the gate), two are 10 % (fail it)."""
OSL = 6
TIMEOUT_S = 1.0


class HealthyStreamServer(StreamServer):
    """The fake plus ``GET /health`` (what endpoint mode waits for); health checks are not
    counted as requests and never see a fault."""

    async def _serve(
        self, path: str, headers: dict[str, str], body: dict[str, Any], w: asyncio.StreamWriter
    ) -> bool:
        if path == "/health":
            await self._plain(w, 200, {"status": "ok"})
            return True
        return await super()._serve(path, headers, body, w)


@dataclass
class FaultPlan:
    """Which fault the requests of the running point meet, and how many of them."""

    faults: dict[str, tuple[Fault, int]]
    """Workload name → (fault, number of timed requests that meet it)."""
    point: str = ""
    seen: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    enabled: bool = True

    def start(self, planned: PlannedPoint) -> None:
        with self.lock:
            self.point, self.seen = planned.workload.name, 0

    def behaviour(self, _number: int, body: dict[str, Any]) -> Behaviour:
        if not body:  # GET /metrics (acceptance scrape): not a generation request
            return Behaviour()
        with self.lock:
            self.seen += 1
            nth = self.seen - 1  # request 0 of a point is its warm-up
            fault, count = self.faults.get(self.point, (None, 0))
        # tokens 2 ms apart: each chunk gets its own network read, so TPOT is not 0
        if self.enabled and fault is not None and 1 <= nth <= count:
            return Behaviour(fault=fault, fault_after_chunks=1, chunk_interval_s=0.002)
        return Behaviour(chunk_interval_s=0.002)


class ThreadedFake:
    """The asyncio fake on its own event loop in a thread, so the sweep can call asyncio.run."""

    def __init__(self, server: StreamServer) -> None:
        self.server = server
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> StreamServer:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.server.__aenter__(), self.loop).result(10)
        return self.server

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.server.__aexit__(None, None, None), self.loop).result(
            10
        )
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


FAULTS: dict[str, tuple[Fault, int]] = {
    "one-500": ("http500", 1),
    "two-429": ("http429", 2),
    "malformed": ("malformed", 2),
    "stall": ("stall", 2),
    "drop": ("drop", 3),
    "clean": ("http500", 0),
}


def _recipe(url: str) -> Any:
    return parse_recipe(
        {
            "name": "faults",
            "engine": {"kind": "endpoint", "url": url, "model": "fake"},
            "identity": {"hardware": "cpu", "model": "fake", "precision": "none"},
            "load": {
                "concurrency": [2],
                "requests_per_point": REQUESTS,
                "warmup": 1,
                "timeout_s": TIMEOUT_S,
            },
            "workload": [
                {"name": name, "source": "builtin:repetitive", "osl": OSL} for name in FAULTS
            ],
            "spec": [{"name": "off"}],
        }
    )


@pytest.fixture
def fake() -> Iterator[tuple[StreamServer, FaultPlan]]:
    faults = FaultPlan(dict(FAULTS))
    with ThreadedFake(HealthyStreamServer(faults.behaviour)) as server:
        yield server, faults


@dataclass
class Seen:
    """What the hooks saw: the store at each point start, each point as it was reported done."""

    stored_at_start: list[set[str]] = field(default_factory=list)
    done: list[PointDone] = field(default_factory=list)
    stored_when_done: list[bool] = field(default_factory=list)


def _hooks(faults: FaultPlan, runner_box: list[SweepRunner], seen: Seen) -> SweepHooks:
    def keys_in_store() -> set[str]:
        runner = runner_box[0]
        points = runner.store.points(PointFilter(run_id=runner.run_id, status=None))
        return {str(p.provenance.extra["sweep_key"]) for p in points}

    def on_start(planned: PlannedPoint) -> None:
        seen.stored_at_start.append(keys_in_store())
        faults.start(planned)

    def on_done(done: PointDone) -> None:
        seen.done.append(done)
        seen.stored_when_done.append(done.key in keys_in_store())

    return SweepHooks(on_point_start=on_start, on_point_done=on_done)


def _generations(server: StreamServer) -> int:
    return sum(r.path == "/v1/completions" for r in server.requests)


def _by_workload(points: list[Point]) -> dict[str, Point]:
    return {p.config.workload: p for p in points}


def test_faults_are_recorded_the_gate_fails_points_and_the_sweep_goes_on(
    fake: tuple[StreamServer, FaultPlan], tmp_path: Path
) -> None:
    server, faults = fake
    plan = make_plan(_recipe(server.base_url))
    seen = Seen()
    box: list[SweepRunner] = []
    with Store.open(tmp_path / "s.duckdb") as store:
        runner = SweepRunner(plan, store, tmp_path / "runs", hooks=_hooks(faults, box, seen))
        box.append(runner)
        outcome = runner.run()
        points = _by_workload(store.points(PointFilter(run_id=outcome.run_id, status=None)))
        requests = {name: store.requests(p.point_id) for name, p in points.items()}

    assert outcome.planned == outcome.measured == len(FAULTS)
    # one-500 passes the gate (1 of 20 = 5 %, not more than 5 %); the others fail it
    assert outcome.failed == 4
    assert set(points) == set(FAULTS)

    # every finished point was in the store before the next one started, and when reported
    keys = [p.key for p in plan.points]
    assert seen.stored_at_start == [set(keys[:i]) for i in range(len(keys))]
    assert seen.stored_when_done == [True] * len(keys)
    assert [d.key for d in seen.done] == keys

    one = points["one-500"]
    assert (one.status, one.n_requests, one.n_failed) == ("ok", REQUESTS, 1)
    assert one.throughput_per_gpu > 0
    # 19 successful requests × 6 output tokens were counted, the failed one adds none
    assert sum(r.output_tokens for r in requests["one-500"] if not r.warmup) == 19 * OSL

    expected = {
        # 2 of 20 = 10 % > 5 %
        "two-429": (2, "HTTP 429"),
        "malformed": (2, "malformed SSE data"),
        "stall": (2, f"timeout after {TIMEOUT_S:g} s"),
        "drop": (3, "connection dropped"),
    }
    for name, (n_failed, error) in expected.items():
        point = points[name]
        assert point.status == "failed", name
        assert point.n_failed == n_failed, name
        assert point.error is not None
        assert f"{n_failed} of {REQUESTS} requests failed" in point.error, point.error
        assert "limit 5%" in point.error
        assert error in point.error, point.error
        # the per-request records are kept: the failed ones carry their own error
        timed = [r for r in requests[name] if not r.warmup]
        assert len(timed) == REQUESTS
        errors = [r.error for r in timed if r.error is not None]
        assert len(errors) == n_failed
        assert all(error in e for e in errors), errors

    clean = points["clean"]
    assert (clean.status, clean.n_failed, clean.error) == ("ok", 0, None)
    assert clean.config.engine == "generic"
    assert clean.config.spec_method == "none"
    assert clean.config.concurrency == 2
    assert clean.interactivity > 0


def test_resume_measures_only_what_is_not_stored_ok(
    fake: tuple[StreamServer, FaultPlan], tmp_path: Path
) -> None:
    server, faults = fake
    plan = make_plan(_recipe(server.base_url))
    db, runs = tmp_path / "s.duckdb", tmp_path / "runs"
    with Store.open(db) as store:
        first = SweepRunner(plan, store, runs, hooks=SweepHooks(on_point_start=faults.start))
        outcome = first.run()
        before = {p.point_id: p for p in store.points(PointFilter(status=None))}
    assert outcome.failed == 4
    served = _generations(server)

    # the faults are gone: a resume measures the 4 failed points again and nothing else
    faults.enabled = False
    with Store.open(db) as store:
        again = SweepRunner(
            plan, store, runs, resume=True, hooks=SweepHooks(on_point_start=faults.start)
        )
        resumed = again.run()
        after = {p.point_id: p for p in store.points(PointFilter(status=None))}

    assert resumed.run_id == outcome.run_id
    assert (resumed.measured, resumed.skipped, resumed.failed) == (4, 2, 0)
    # 4 points × (20 timed + 1 warm-up) requests, nothing for the 2 skipped ones
    assert _generations(server) - served == 4 * (REQUESTS + 1)
    # the same ids: re-measured points replaced their failed rows, nothing is duplicated
    assert set(after) == set(before)
    assert resumed.point_ids == outcome.point_ids
    assert all(p.status == "ok" for p in after.values())
    for pid, point in before.items():
        if point.status == "ok":  # untouched
            assert after[pid].duration_s == point.duration_s
            assert after[pid].throughput_per_gpu == point.throughput_per_gpu


def test_resume_without_an_earlier_run_is_one_clear_line(tmp_path: Path) -> None:
    plan = make_plan(_recipe("http://127.0.0.1:9"))
    with Store.open(tmp_path / "s.duckdb") as store, pytest.raises(UserError) as info:
        SweepRunner(plan, store, tmp_path / "runs", resume=True)
    assert "no earlier run of recipe 'faults'" in str(info.value)


def test_an_endpoint_that_goes_away_fails_its_points_and_the_sweep_goes_on(
    tmp_path: Path,
) -> None:
    data = _recipe("http://x").model_dump(mode="json")
    data["workload"] = data["workload"][:3]
    data["load"]["requests_per_point"] = 4
    fake = ThreadedFake(HealthyStreamServer(Behaviour(chunk_interval_s=0.02)))
    server = fake.__enter__()
    data["engine"].update(url=server.base_url, health_timeout_s=1.0)
    plan = make_plan(parse_recipe(data))
    stopped = threading.Event()

    def on_tokens(_n: int) -> None:
        # the first timed request of the first point is done: the server goes away
        if not stopped.is_set():
            stopped.set()
            fake.__exit__()

    try:
        with Store.open(tmp_path / "s.duckdb") as store:
            outcome = SweepRunner(
                plan, store, tmp_path / "runs", hooks=SweepHooks(on_tokens=on_tokens)
            ).run()
            points = store.points(PointFilter(run_id=outcome.run_id, status=None))
    finally:
        if not stopped.is_set():
            fake.__exit__()

    assert (outcome.measured, outcome.failed) == (3, 3)
    by_key = {str(p.provenance.extra["sweep_key"]): p for p in points}
    first, second, third = (by_key[p.key] for p in plan.points)
    # the point running when it went away: the requests failed because the server died
    assert first.error is not None
    assert first.error.startswith("server died mid-point: "), first.error
    assert "stopped answering /health" in first.error
    # the next points find no server: each is stored failed, and the sweep still ends normally
    for later in (second, third):
        assert later.status == "failed"
        assert later.error is not None
        assert later.error.startswith("server did not start: no healthy server at "), later.error


def test_a_server_that_does_not_start_is_tried_once_per_run(tmp_path: Path) -> None:
    port = pick_free_port()  # a loopback port nothing listens on
    data = _recipe(f"http://127.0.0.1:{port}").model_dump(mode="json")
    data["workload"] = data["workload"][:3]
    data["engine"]["health_timeout_s"] = 0.5
    plan = make_plan(parse_recipe(data))
    starts: list[str] = []
    with Store.open(tmp_path / "s.duckdb") as store:
        outcome = SweepRunner(
            plan, store, tmp_path / "runs", hooks=SweepHooks(on_server=starts.append)
        ).run()
        points = store.points(PointFilter(run_id=outcome.run_id, status=None))
    assert (outcome.measured, outcome.failed) == (3, 3)
    assert len(starts) == 1, "one start attempt, not one per point"
    errors = {str(p.provenance.extra["sweep_key"]): p.error or "" for p in points}
    first, *later = (errors[p.key] for p in plan.points)
    assert first.startswith(f"server did not start: no healthy server at http://127.0.0.1:{port}")
    for error in later:
        assert error.startswith(first)
        assert error.endswith("(not tried again in this run; --resume retries)")
