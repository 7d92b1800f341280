"""A request whose reused connection was closed unanswered is sent once more on a NEW connection.

At concurrency 2 against llama.cpp (which closes after every stream) two idle keep-alive
connections can both be closed by the server before our loop has read their FIN: a retry that
took the other idle one failed too ("1 of 3 requests failed" in a demo point). The retry must ask
the pool for a fresh connection.
"""

from __future__ import annotations

from specscope.client.load import ClosedLoop
from specscope.client.protocols import BenchPrompt
from specscope.client.runner import LoadRun
from specscope.client.sender import Sender, SendSettings
from specscope.client.wire import RemoteProtocolError, Response, Sink, WirePool


class _ClosedEveryTime(WirePool):
    """A pool whose every send finds the connection closed before any response byte."""

    def __init__(self) -> None:
        super().__init__("http://127.0.0.1:9/v1/completions", headers={})
        self.fresh: list[bool] = []

    async def post(self, body: bytes, sink: Sink, *, fresh: bool = False) -> Response:
        self.fresh.append(fresh)
        raise RemoteProtocolError("connection closed before any response", got_response=False)


async def test_the_retry_asks_for_a_fresh_connection() -> None:
    pool = _ClosedEveryTime()
    sender = Sender(
        pool,
        SendSettings(
            url="http://127.0.0.1:9/v1/completions",
            api="completions",
            headers={},
            timeout_s=5,
            origin_perf_s=0.0,
            secret=None,
        ),
    )
    prompts = [BenchPrompt(prompt="p", output_tokens=2)]
    run = LoadRun(
        base_url="http://127.0.0.1:9",
        api="completions",
        model="m",
        prompts=prompts,
        load=ClosedLoop(concurrency=1, num_requests=1),
    )
    (request,) = run.prepare(prompts)
    record = await sender.send(request, 0, warmup=False)
    # first on a pooled connection, then once on a new one, never a third time
    assert pool.fresh == [False, True]
    assert record.error is not None
    assert record.error.startswith("connection closed before any response")
