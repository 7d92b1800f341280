"""run_load against the fake streaming server (tests/fakes/stream_server.py) on loopback."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from tests.fakes.stream_server import Behaviour, Fault, StreamServer
from tests.support.prompts import bench_prompts, fake_run

from specscope.client.aggregate import aggregate
from specscope.client.load import ClosedLoop, OpenLoop
from specscope.client.protocols import ApiKind, BenchPrompt
from specscope.client.runner import LoadResult, LoadRun, run_load
from specscope.engines import pick_free_port
from specscope.errors import UserError
from specscope.schema import RequestRecord

APIS: list[ApiKind] = ["completions", "chat", "llamacpp"]
# Loopback on a shared 2-core machine: client-side arrival may trail the server's write by a
# few ms; 25 ms keeps the test honest (the delays being measured are 40-100 ms) and not flaky.
TOL_S = 0.025


def timed(result: LoadResult) -> list[RequestRecord]:
    return result.timed_records


@pytest.mark.parametrize("api", APIS)
async def test_bursts_with_token_ids_are_counted_exactly(api: ApiKind) -> None:
    # 10 tokens, 3 per chunk → chunks of 3, 3, 3, 1. Chunks 40 ms apart after a 50 ms first
    # token: TTFT ≈ 0.05, E2EL ≈ 0.05 + 3·0.04 = 0.17, TPOT ≈ 0.12/9 = 0.0133.
    extra = {"return_token_ids": True} if api != "llamacpp" else None
    behaviour = Behaviour(burst=3, first_token_delay_s=0.05, chunk_interval_s=0.04)
    async with StreamServer(behaviour) as server:
        res = await run_load(
            fake_run(
                server,
                api=api,
                prompts=bench_prompts(2),
                load=ClosedLoop(concurrency=1, num_requests=2),
                extra_body=extra,
            )
        )
    for r in timed(res):
        assert r.error is None
        assert r.chunk_tokens == [3, 3, 3, 1]
        assert r.output_tokens == 10
        assert r.input_tokens == 5  # the server's count wins over the caller's 3
        assert r.ttft_s == pytest.approx(0.05, abs=TOL_S)
        assert r.e2el_s == pytest.approx(0.17, abs=TOL_S)
        assert r.tpot_s == pytest.approx(0.12 / 9, abs=TOL_S / 9)


@pytest.mark.parametrize("api", ["completions", "chat"])
async def test_bursts_without_token_ids_are_rescaled_to_usage(api: ApiKind) -> None:
    # No ids: provisional counts are weighted by text length; the fake's chunk texts are
    # "t1000 t1001 t1002 " (18 chars) ×3 and "t1009 " (6): 10·18/60 = 3 → 3, 3, 3, 1.
    async with StreamServer(Behaviour(burst=3)) as server:
        res = await run_load(
            fake_run(
                server,
                api=api,
                prompts=bench_prompts(1),
                load=ClosedLoop(concurrency=1, num_requests=1),
            )
        )
    (r,) = timed(res)
    assert r.chunk_tokens == [3, 3, 3, 1]
    assert r.output_tokens == 10


@pytest.mark.parametrize("api", APIS)
async def test_client_chunk_times_match_the_servers_writes(api: ApiKind) -> None:
    behaviour = Behaviour(first_token_delay_s=0.06, chunk_interval_s=0.05, burst=2)
    async with StreamServer(behaviour) as server:
        res = await run_load(
            fake_run(
                server,
                api=api,
                prompts=bench_prompts(1, out=6),
                load=ClosedLoop(concurrency=1, num_requests=1),
            )
        )
    (r,) = timed(res)
    served = server.requests[0]
    sent_abs = res.origin_perf_s + r.send_s
    assert served.received_perf_s - sent_abs == pytest.approx(0.0, abs=TOL_S)
    arrivals = [sent_abs + t for t in r.chunk_times_s]
    assert len(arrivals) == len(served.chunk_sent_perf_s) == 3
    for arrived, written in zip(arrivals, served.chunk_sent_perf_s, strict=True):
        assert 0.0 <= arrived - written < TOL_S
    # ITL gaps reflect the server's 50 ms spacing, one gap per chunk (not per token)
    gaps = [b - a for a, b in zip(r.chunk_times_s, r.chunk_times_s[1:], strict=False)]
    assert gaps == pytest.approx([0.05, 0.05], abs=TOL_S)


async def test_role_only_chat_chunk_does_not_start_ttft() -> None:
    # The fake sends the chat role chunk at once and the first token 80 ms later.
    async with StreamServer(Behaviour(first_token_delay_s=0.08)) as server:
        res = await run_load(
            fake_run(
                server,
                api="chat",
                prompts=bench_prompts(1, out=3),
                load=ClosedLoop(concurrency=1, num_requests=1),
            )
        )
    (r,) = timed(res)
    assert r.ttft_s == pytest.approx(0.08, abs=TOL_S)
    assert r.chunk_tokens == [1, 1, 1]


@pytest.mark.parametrize("concurrency", [1, 3])
async def test_closed_loop_never_exceeds_its_concurrency(concurrency: int) -> None:
    behaviour = Behaviour(first_token_delay_s=0.02, chunk_interval_s=0.01)
    async with StreamServer(behaviour) as server:
        res = await run_load(
            fake_run(
                server,
                api="completions",
                prompts=bench_prompts(4 * concurrency, out=4),
                load=ClosedLoop(concurrency=concurrency, num_requests=4 * concurrency),
            )
        )
    assert server.max_in_flight == concurrency
    assert len(server.requests) == 4 * concurrency
    m = aggregate(res)
    assert m.n_requests == 4 * concurrency
    assert m.measured_concurrency is not None
    assert m.measured_concurrency <= concurrency + 1e-9
    assert m.measured_concurrency > 0.7 * concurrency


async def test_open_loop_poisson_follows_its_seeded_schedule() -> None:
    # rate 25/s: mean gap 40 ms; each request takes ~10 ms, so sends follow the schedule.
    load = OpenLoop(rate=25.0, distribution="poisson", num_requests=8, seed=3)
    schedule = load.arrival_offsets_s()
    assert schedule == OpenLoop(rate=25.0, num_requests=8, seed=3).arrival_offsets_s()
    async with StreamServer(Behaviour(first_token_delay_s=0.01)) as server:
        res = await run_load(
            fake_run(
                server,
                api="completions",
                prompts=bench_prompts(8, out=2),
                load=load,
            )
        )
    sends = sorted(r.send_s - res.window_start_s for r in timed(res))
    assert sends == pytest.approx(schedule, abs=TOL_S)
    assert sorted(r.index for r in timed(res)) == list(range(8))


async def test_open_loop_max_concurrency_caps_in_flight() -> None:
    # 6 requests all due within 60 ms, each taking ≥ 100 ms: without the cap 6 would overlap.
    load = OpenLoop(rate=100.0, distribution="constant", max_concurrency=2, num_requests=6)
    async with StreamServer(Behaviour(first_token_delay_s=0.1)) as server:
        await run_load(
            fake_run(
                server,
                api="completions",
                prompts=bench_prompts(6, out=2),
                load=load,
            )
        )
    assert server.max_in_flight == 2


async def test_warmups_use_their_own_prompts_and_are_excluded() -> None:
    seen: list[RequestRecord] = []
    async with StreamServer(Behaviour(chunk_interval_s=0.005)) as server:
        res = await run_load(
            fake_run(
                server,
                api="completions",
                prompts=bench_prompts(4, out=3),
                load=ClosedLoop(concurrency=2, num_requests=4),
                warmup_prompts=bench_prompts(2, out=3, tag="warm"),
            ),
            on_request_done=seen.append,
        )
    warm = [r for r in res.records if r.warmup]
    assert len(warm) == 2
    assert sorted(s.body["prompt"] for s in server.requests[:2]) == ["warm 0", "warm 1"]
    assert all(r.send_s < res.window_start_s for r in warm)
    warm_ends = [r.send_s + (r.end_s or 0.0) for r in warm]
    assert max(warm_ends) <= res.window_start_s
    assert len(seen) == 6  # the progress hook sees warm-ups too (flagged)
    assert aggregate(res).n_requests == 4


@pytest.mark.parametrize("api", APIS)
async def test_records_carry_end_requested_length_and_text_when_asked(api: ApiKind) -> None:
    # 4 tokens, one per chunk 20 ms apart: the fake's texts are "t1000 " … "t1003 ".
    behaviour = Behaviour(first_token_delay_s=0.02, chunk_interval_s=0.02)
    async with StreamServer(behaviour) as server:
        kept = await run_load(
            fake_run(
                server,
                api=api,
                prompts=bench_prompts(2, out=4),
                load=ClosedLoop(concurrency=1, num_requests=2),
                keep_text=True,
            )
        )
        plain = await run_load(
            fake_run(
                server,
                api=api,
                prompts=bench_prompts(1, out=4),
                load=ClosedLoop(concurrency=1, num_requests=1),
            )
        )
    for r in timed(kept):
        assert r.output_text == "t1000 t1001 t1002 t1003 "
        assert r.requested_output_tokens == 4
        assert r.end_s is not None and r.e2el_s is not None
        # the end comes after the last token (usage chunk, [DONE]) but not long after
        assert r.e2el_s <= r.end_s < r.e2el_s + TOL_S
    assert timed(plain)[0].output_text is None
    # the window closes when the last request ended, not at its last token
    last = max(timed(kept), key=lambda r: r.send_s)
    assert kept.window_end_s == pytest.approx(last.send_s + (last.end_s or 0.0))


async def test_a_failed_request_keeps_the_text_it_streamed_and_its_end() -> None:
    # the connection drops after 2 chunks of 2 tokens: "t1000 t1001 t1002 t1003 " arrived
    behaviour = Behaviour(burst=2, fault="drop", fault_after_chunks=2)
    async with StreamServer(behaviour) as server:
        res = await run_load(
            fake_run(
                server,
                api="completions",
                prompts=bench_prompts(1, out=6),
                load=ClosedLoop(concurrency=1, num_requests=1),
                keep_text=True,
            )
        )
    (r,) = timed(res)
    assert r.error is not None and r.error.startswith("connection dropped after 2 token chunks")
    assert r.output_text == "t1000 t1001 t1002 t1003 "
    assert r.end_s is not None and r.end_s >= (r.e2el_s or 0.0)


@pytest.mark.parametrize(
    ("eos_numbers", "ignore_eos", "status", "n_short"),
    [
        ({1}, True, "ok", 1),  # 1 of 4 short: a warning
        ({0, 1, 2}, True, "failed", 3),  # 3 of 4 short: most, the point fails
        ({0, 1, 2}, False, "ok", 0),  # not asked for exact lengths: nothing to flag
    ],
)
async def test_a_server_ignoring_ignore_eos_is_flagged(
    eos_numbers: set[int], ignore_eos: bool, status: str, n_short: int
) -> None:
    def behaviour(number: int, body: dict[str, Any]) -> Behaviour:
        return Behaviour(eos_after_tokens=3 if number in eos_numbers else None)

    async with StreamServer(behaviour) as server:
        res = await run_load(
            fake_run(
                server,
                api="completions",
                prompts=bench_prompts(4, out=8),
                load=ClosedLoop(concurrency=1, num_requests=4),
                ignore_eos=ignore_eos,
            )
        )
    assert sorted(r.output_tokens for r in timed(res)) == sorted(
        3 if i in eos_numbers else 8 for i in range(4)
    )
    m = aggregate(res)
    assert (m.status, m.n_short_outputs) == (status, n_short)
    if n_short:
        assert m.error is not None and f"{n_short} of 4 successful requests" in m.error
    else:
        assert m.error is None


@pytest.mark.parametrize(
    ("closed", "error"),
    [
        ({1}, None),  # request 1's first send is closed unanswered: sent again, succeeds
        ({1, 2}, "connection closed before any response: RemoteProtocolError"),  # retried once only
    ],
)
async def test_a_connection_closed_before_any_response_is_retried_once(
    closed: set[int], error: str | None
) -> None:
    def behaviour(number: int, body: dict[str, Any]) -> Behaviour:
        return Behaviour(fault="close" if number in closed else None)

    async with StreamServer(behaviour) as server:
        res = await run_load(
            fake_run(
                server,
                api="completions",
                prompts=bench_prompts(3, out=2),
                load=ClosedLoop(concurrency=1, num_requests=3),
            )
        )
    records = timed(res)
    # either way request 1 went out twice, and never a third time
    assert [s.body["prompt"] for s in server.requests] == ["p 0", "p 1", "p 1", "p 2"]
    assert [r.ok for r in records] == [True, error is None, True]
    if error is not None:
        assert records[1].error is not None and records[1].error.startswith(error)


async def test_a_given_transport_carries_the_requests() -> None:
    # httpx's MockTransport answers in-process: one llama.cpp stream of 2 + 1 tokens.
    seen: list[dict[str, Any]] = []
    sse = (
        'data: {"content": "ab", "tokens": [1, 2], "stop": false}\n\n'
        'data: {"content": "c", "tokens": [3], "stop": false}\n\n'
        'data: {"content": "", "tokens": [], "stop": true, "tokens_predicted": 3}\n\n'
    )

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(200, text=sse, headers={"Content-Type": "text/event-stream"})

    res = await run_load(
        LoadRun(
            base_url="http://fake.invalid",
            api="llamacpp",
            model="",
            prompts=bench_prompts(1, out=3),
            load=ClosedLoop(concurrency=1, num_requests=1),
            keep_text=True,
        ),
        transport=httpx.MockTransport(answer),
    )
    (r,) = timed(res)
    assert (r.error, r.chunk_tokens, r.output_tokens, r.output_text) == (None, [2, 1], 3, "abc")
    assert [b["prompt"] for b in seen] == ["p 0"]


FAULT_MESSAGES: list[tuple[Fault, str]] = [
    ("http500", 'HTTP 500: {"error": {"message": "fake 500", "code": 500}}'),
    ("http429", 'HTTP 429: {"error": {"message": "fake 429", "code": 429}}'),
    ("drop", "connection dropped after 1 token chunks: RemoteProtocolError"),
    ("truncate", "stream ended without"),
    ("malformed", "malformed SSE data (not JSON): '{this is not json'"),
    ("stall", "timeout after 0.5 s"),
]


@pytest.mark.parametrize(("fault", "message"), FAULT_MESSAGES)
@pytest.mark.parametrize("api", ["completions", "llamacpp"])
async def test_each_fault_is_recorded_and_the_run_goes_on(
    api: ApiKind, fault: Fault, message: str
) -> None:
    def behaviour(number: int, body: dict[str, Any]) -> Behaviour:
        return Behaviour(fault=fault if number == 1 else None, burst=2)

    async with StreamServer(behaviour) as server:
        res = await run_load(
            fake_run(
                server,
                api=api,
                prompts=bench_prompts(5, out=4),
                load=ClosedLoop(concurrency=1, num_requests=5),
                timeout_s=0.5,
            )
        )
    records = timed(res)
    assert len(records) == 5
    failed = [r for r in records if r.error]
    assert len(failed) == 1
    assert failed[0].index == 1
    assert failed[0].error is not None and failed[0].error.startswith(message)
    assert all(r.output_tokens == 4 for r in records if r.ok)
    m = aggregate(res, max_failed_fraction=0.5)
    assert (m.status, m.n_failed) == ("ok", 1)


@pytest.mark.parametrize("api", ["completions", "chat"])
async def test_a_finish_reason_without_done_still_completes(api: ApiKind) -> None:
    async with StreamServer(Behaviour(done=False)) as server:
        res = await run_load(
            fake_run(
                server,
                api=api,
                prompts=bench_prompts(1, out=3),
                load=ClosedLoop(concurrency=1, num_requests=1),
            )
        )
    (r,) = timed(res)
    assert r.error is None
    assert r.output_tokens == 3


async def test_ping_comments_are_ignored() -> None:
    async with StreamServer(Behaviour(ping=True)) as server:
        res = await run_load(
            fake_run(
                server,
                api="completions",
                prompts=bench_prompts(1, out=2),
                load=ClosedLoop(concurrency=1, num_requests=1),
            )
        )
    assert timed(res)[0].ok


async def test_failure_gate_trips_end_to_end() -> None:
    # 2 of 20 requests get HTTP 500: 10 % > 5 %
    def behaviour(number: int, body: dict[str, Any]) -> Behaviour:
        return Behaviour(fault="http500" if number in (3, 11) else None)

    async with StreamServer(behaviour) as server:
        res = await run_load(
            fake_run(
                server,
                api="completions",
                prompts=bench_prompts(20, out=2),
                load=ClosedLoop(concurrency=4, num_requests=20),
            )
        )
    m = aggregate(res)
    assert m.status == "failed"
    assert m.error is not None
    assert m.error.startswith("2 of 20 requests failed (10%, limit 5%)")
    assert "HTTP 500" in m.error


async def test_llamacpp_draft_timings_become_acceptance() -> None:
    behaviour = Behaviour(burst=4, draft_n=12, draft_n_accepted=9)
    async with StreamServer(behaviour) as server:
        res = await run_load(
            LoadRun(
                base_url=server.base_url,
                api="llamacpp",
                model="",
                prompts=bench_prompts(3, out=8),
                load=ClosedLoop(concurrency=3, num_requests=3),
            )
        )
    assert all((r.draft_tokens, r.accepted_tokens) == (12, 9) for r in timed(res))
    m = aggregate(res)
    assert m.acceptance is not None
    assert (m.acceptance.draft_tokens, m.acceptance.accepted_tokens) == (36, 27)
    assert m.acceptance.draft_acceptance_rate == pytest.approx(0.75)
    assert m.tokens_per_chunk_mean == pytest.approx(4.0)


async def test_api_key_is_sent_as_bearer_and_never_recorded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    secret = "sk-test-4f9a1c"
    monkeypatch.setenv("SPECSCOPE_TEST_KEY", secret)
    async with StreamServer() as server:
        res = await run_load(
            fake_run(
                server,
                api="chat",
                prompts=bench_prompts(2, out=2),
                load=ClosedLoop(concurrency=1, num_requests=2),
                api_key_env="SPECSCOPE_TEST_KEY",
            )
        )
    assert {s.headers["authorization"] for s in server.requests} == {f"Bearer {secret}"}
    assert secret not in res.model_dump_json()
    assert secret not in aggregate(res).model_dump_json()


async def test_no_key_in_the_environment_sends_no_authorization(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SPECSCOPE_ABSENT_KEY", raising=False)
    async with StreamServer() as server:
        await run_load(
            fake_run(
                server,
                api="completions",
                prompts=bench_prompts(1, out=2),
                load=ClosedLoop(concurrency=1, num_requests=1),
                api_key_env="SPECSCOPE_ABSENT_KEY",
            )
        )
    assert "authorization" not in server.requests[0].headers


async def test_request_bodies_carry_the_exact_lengths() -> None:
    async with StreamServer() as server:
        await run_load(
            LoadRun(
                base_url=server.base_url,
                api="llamacpp",
                model="",
                prompts=[BenchPrompt(prompt=[1, 2, 3], output_tokens=7), BenchPrompt(prompt="x")],
                load=ClosedLoop(concurrency=1, num_requests=2),
                max_tokens=5,
            )
        )
    bodies = sorted((s.body for s in server.requests), key=lambda b: b["n_predict"])
    assert [b["n_predict"] for b in bodies] == [5, 7]
    assert all(b["ignore_eos"] is True and b["cache_prompt"] is False for b in bodies)


async def test_unreachable_server_records_connection_failures() -> None:
    res = await run_load(
        LoadRun(
            base_url=f"http://127.0.0.1:{pick_free_port()}",
            api="completions",
            model="m",
            prompts=bench_prompts(2, out=2),
            load=ClosedLoop(concurrency=2, num_requests=2),
        )
    )
    assert all(r.error and r.error.startswith("connection failed") for r in timed(res))
    assert aggregate(res).status == "failed"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"base_url": "127.0.0.1:8080"}, "not an http"),
        ({"n_prompts": 1}, "got 1 prompts for 2 requests"),
        ({"num_warmups": 3}, "3 warm-ups asked but 0 warm-up prompts"),
        ({"out": None}, "no output length"),
    ],
)
async def test_user_mistakes_are_one_line_errors(kwargs: dict[str, Any], match: str) -> None:
    out = kwargs.pop("out", 2)
    ps = [BenchPrompt(prompt=f"q{i}", output_tokens=out) for i in range(kwargs.pop("n_prompts", 2))]
    with pytest.raises(UserError, match=match):
        await run_load(
            LoadRun(
                base_url=kwargs.pop("base_url", "http://127.0.0.1:9"),
                api="completions",
                model="m",
                prompts=ps,
                load=ClosedLoop(concurrency=1, num_requests=2),
                **kwargs,
            )
        )
