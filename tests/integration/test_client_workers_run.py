"""run_load over several worker processes, against the fake streaming server on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import os
import statistics
import time
from pathlib import Path

import pytest
from tests.fakes.stream_server import Behaviour, StreamServer
from tests.support.prompts import bench_prompts, fake_run

from specscope.client.aggregate import aggregate
from specscope.client.load import ClosedLoop, KeepInFlight, OpenLoop
from specscope.client.runner import LoadResult, LoadRun, run_load
from specscope.client.sender import Prepared, SendSettings
from specscope.client.workers import ClientWorkerError, WorkerJob, run_jobs
from specscope.errors import UserError
from specscope.schema import RequestRecord


def child_pids() -> set[int]:
    """Live child processes of this process (Linux /proc)."""
    pids: set[int] = set()
    for task in os.listdir("/proc/self/task"):
        with contextlib.suppress(OSError):
            pids.update(
                int(x) for x in Path(f"/proc/self/task/{task}/children").read_text().split()
            )
    return pids


def delivery_errors_s(result: LoadResult, server: StreamServer, tag: str = "p") -> list[float]:
    """Client arrival − server write of every token chunk (one clock for both processes)."""
    by_prompt = {s.body["prompt"]: s for s in server.requests}
    out = []
    for r in result.timed_records:
        served = by_prompt[f"{tag} {r.index}"]
        sent_abs = result.origin_perf_s + r.send_s
        out += [
            sent_abs + t - w for t, w in zip(r.chunk_times_s, served.chunk_sent_perf_s, strict=True)
        ]
    return out


@pytest.mark.parametrize("workers", [2, 3])
async def test_workers_give_the_same_records_as_one_process(workers: int) -> None:
    behaviour = Behaviour(first_token_delay_s=0.005, chunk_interval_s=0.002, burst=2)
    seen: list[RequestRecord] = []
    async with StreamServer(behaviour) as server:
        kwargs = {
            "warmup_prompts": bench_prompts(3, 4, tag="w"),
            "keep_text": True,
            "extra_body": {"return_token_ids": True},
        }
        one = await run_load(
            fake_run(
                server,
                api="completions",
                prompts=bench_prompts(24, 7),
                load=ClosedLoop(concurrency=6, num_requests=24),
                workers=1,
                **kwargs,  # type: ignore[arg-type]
            )
        )
        many = await run_load(
            fake_run(
                server,
                api="completions",
                prompts=bench_prompts(24, 7),
                load=ClosedLoop(concurrency=6, num_requests=24),
                workers=workers,
                **kwargs,  # type: ignore[arg-type]
            ),
            on_request_done=seen.append,
        )
    assert (one.client_workers, many.client_workers) == (1, workers)
    for res in (one, many):
        # 3 warm-ups first, then 24 timed requests in send order; 7 tokens as 2, 2, 2, 1
        assert [r.warmup for r in res.records] == [True] * 3 + [False] * 24
        assert [r.index for r in res.records[:3]] == [0, 1, 2]
        timed = res.timed_records
        assert sorted(r.index for r in timed) == list(range(24))
        assert [r.send_s for r in timed] == sorted(r.send_s for r in timed)
        assert all(r.ok and r.chunk_tokens == [2, 2, 2, 1] for r in timed)
        assert sum(r.output_tokens for r in timed) == 24 * 7
        texts = {r.index: r.output_text for r in timed}
        assert texts[5] == "".join(f"t{i} " for i in range(1000, 1007))
    assert [(r.warmup, r.index, r.output_text) for r in one.records[:3]] == [
        (r.warmup, r.index, r.output_text) for r in many.records[:3]
    ]
    # the callback ran in the parent for every record of the worker run, warm-ups included
    assert sorted((r.warmup, r.index) for r in seen) == sorted(
        (r.warmup, r.index) for r in many.records
    )
    assert many.client_cpu_util is not None and many.client_loop_lag_p99_s is not None


async def test_the_in_flight_cap_holds_across_workers() -> None:
    # concurrency 5 over 2 workers: 3 + 2 slots, never more than 5 at the server
    behaviour = Behaviour(first_token_delay_s=0.03, chunk_interval_s=0.005)
    async with StreamServer(behaviour) as server:
        res = await run_load(
            fake_run(
                server,
                api="completions",
                prompts=bench_prompts(20, 4),
                load=ClosedLoop(concurrency=5, num_requests=20),
                workers=2,
            )
        )
    assert server.max_in_flight == 5
    m = aggregate(res)
    assert m.measured_concurrency is not None and 3.5 < m.measured_concurrency <= 5 + 1e-9


async def test_the_open_loop_cap_holds_across_workers() -> None:
    # 12 requests due within 60 ms, each ≥ 100 ms long, capped at 4 (2 per worker)
    load = OpenLoop(rate=200.0, distribution="constant", max_concurrency=4, num_requests=12)
    async with StreamServer(Behaviour(first_token_delay_s=0.1)) as server:
        res = await run_load(
            fake_run(
                server,
                api="completions",
                prompts=bench_prompts(12, 2),
                load=load,
                workers=2,
            )
        )
    assert server.max_in_flight == 4
    assert len(res.timed_records) == 12


async def test_open_loop_workers_keep_the_schedule() -> None:
    # constant 20/s: sends at 0, 50, 100, … ms after the common start, whichever worker sends
    load = OpenLoop(rate=20.0, distribution="constant", num_requests=8)
    async with StreamServer(Behaviour(first_token_delay_s=0.005)) as server:
        res = await run_load(
            fake_run(
                server,
                api="completions",
                prompts=bench_prompts(8, 2),
                load=load,
                workers=2,
            )
        )
    sends = sorted(r.send_s - res.window_start_s for r in res.timed_records)
    assert sends == pytest.approx([0.05 * i for i in range(8)], abs=0.015)


@pytest.mark.parametrize("workers", [1, 2])
async def test_timing_error_on_loopback_is_under_a_millisecond(workers: int) -> None:
    # the server stamps each chunk as it writes it; our client stamps it as it reads it
    behaviour = Behaviour(first_token_delay_s=0.01, chunk_interval_s=0.004)
    async with StreamServer(behaviour) as server:
        res = await run_load(
            fake_run(
                server,
                api="completions",
                prompts=bench_prompts(8, 25),
                load=ClosedLoop(concurrency=4, num_requests=8),
                workers=workers,
            )
        )
    errors = delivery_errors_s(res, server)
    assert len(errors) == 8 * 25
    assert min(errors) > 0  # one clock: nothing arrives before it was sent
    assert statistics.median(errors) < 0.001


async def test_a_blocking_callback_makes_the_point_client_bound() -> None:
    # 40 requests of 10 chunks 10 ms apart at concurrency 4: 10 waves of ~0.11 s, a window over
    # a second (judged). A callback sleeping 25 ms per record holds the loop 40 × 25 ms: ~40 %
    # of the 10 ms ticks wake ≥ 15 ms late, so the p99 lag is over 20 ms.
    behaviour = Behaviour(first_token_delay_s=0.01, chunk_interval_s=0.01)
    limit_s = 0.012

    def block(record: RequestRecord) -> None:
        time.sleep(0.025)

    async with StreamServer(behaviour) as server:
        runs = {}
        for name, callback in (("calm", None), ("blocked", block)):
            runs[name] = await run_load(
                fake_run(
                    server,
                    api="completions",
                    prompts=bench_prompts(40, 10, tag=name),
                    load=ClosedLoop(concurrency=4, num_requests=40),
                    workers=1,
                ),
                on_request_done=callback,
            )
    calm = aggregate(runs["calm"], max_client_loop_lag_p99_s=limit_s)
    blocked = aggregate(runs["blocked"], max_client_loop_lag_p99_s=limit_s)
    assert calm.duration_s is not None and calm.duration_s > 1.0
    assert calm.status == "ok", calm.error
    assert blocked.status == "client_bound"
    assert blocked.error is not None and blocked.error.startswith("client-bound")
    assert blocked.client is not None and blocked.client["loop_lag_p99_s"] > 0.02


async def test_cancelling_the_run_stops_every_worker() -> None:
    before = child_pids()
    async with StreamServer(Behaviour(fault="stall", fault_after_chunks=1)) as server:
        task = asyncio.ensure_future(
            run_load(
                fake_run(
                    server,
                    api="completions",
                    prompts=bench_prompts(4, 5),
                    load=ClosedLoop(concurrency=4, num_requests=4),
                    workers=2,
                    timeout_s=60,
                )
            )
        )
        deadline = time.monotonic() + 20
        while len(server.requests) < 4 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert len(server.requests) == 4  # both workers are streaming
        assert len(child_pids() - before) == 2
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert child_pids() - before == set()


async def test_a_failing_worker_is_an_error_not_a_server_failure() -> None:
    job = WorkerJob(
        worker=0,
        send=SendSettings(
            url="http://",  # no host: the worker cannot even build its connection pool
            api="completions",
            headers={},
            secret=None,
            timeout_s=5.0,
            origin_perf_s=time.perf_counter(),
            keep_text=False,
        ),
        warm=[],
        warm_concurrency=1,
        timed=[(0, Prepared(b"{}", None, 2))],
        plan=KeepInFlight(1, 1),
    )
    with pytest.raises(ClientWorkerError, match="client worker 0 failed"):
        await run_jobs([job], point_id="", on_record=lambda r: None)


async def test_workers_and_a_custom_transport_do_not_mix() -> None:
    import httpx

    with pytest.raises(UserError, match="custom transport"):
        await run_load(
            LoadRun(
                base_url="http://127.0.0.1:9",
                api="completions",
                model="m",
                prompts=bench_prompts(2, 2),
                load=ClosedLoop(concurrency=2, num_requests=2),
                workers=2,
            ),
            transport=httpx.MockTransport(lambda r: httpx.Response(500)),
        )
