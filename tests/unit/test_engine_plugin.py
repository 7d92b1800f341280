"""An engine is one module: the throwaway engine of tests/fakes/toy_engine.py, registered only by
importing it, works through every lookup (recipe kind, launch command, dry run, endpoint,
tokenizer, request defaults, acceptance) without any other file naming it."""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from specscope.engines import (
    Endpoint,
    EngineRecipe,
    ServerSettings,
    SpecSettings,
    acceptance,
    registry,
)
from specscope.engines.acceptance import AcceptanceReader
from specscope.engines.prometheus import parse_spec_counters
from specscope.engines.registry import (
    engine_key,
    engine_keys,
    get_recipe,
    request_defaults,
    server_tokenizer,
)
from specscope.errors import UserError
from specscope.schema import RequestRecord
from specscope.sweep.plan import make_plan
from specscope.sweep.recipe import parse_recipe
from specscope.sweep.runner import launch_commands

TOY = "tests.fakes.toy_engine"


@pytest.fixture(scope="module")
def toy() -> Iterator[ModuleType]:
    """The toy engine, registered for this module's tests only."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(registry, "_ENGINES", dict(registry._ENGINES))
        mp.setattr(registry, "_SPELLINGS", dict(registry._SPELLINGS))
        mp.setattr(acceptance, "_SOURCES", dict(acceptance._SOURCES))
        per_request = {k: list(v) for k, v in acceptance._PER_REQUEST.items()}
        mp.setattr(acceptance, "_PER_REQUEST", per_request)
        loaded = sys.modules.get(TOY)
        yield importlib.reload(loaded) if loaded else importlib.import_module(TOY)
    assert "toy" not in engine_keys()


def test_key_aliases_and_recipe(toy: ModuleType) -> None:
    assert engine_key("Toy-LLM") == "toy" and engine_keys()[-1] == "toy"
    recipe = get_recipe("toy-llm")
    assert isinstance(recipe, toy.ToyEngine) and isinstance(recipe, EngineRecipe)
    with pytest.raises(UserError, match="choose one of llamacpp, vllm, sglang, trt, toy"):
        get_recipe("tgi")


def test_recipe_kind_resolves_and_the_dry_run_builds_the_command(
    toy: ModuleType, tmp_path: Path
) -> None:
    recipe = parse_recipe(
        {
            "name": "toy",
            "engine": {"kind": "toy-llm", "model": "toy/model"},
            "load": {"concurrency": [2]},
            "spec": [
                {"name": "off", "method": "none"},
                {"name": "ng", "method": "ngram", "gamma": [3]},
            ],
            "workload": [{"name": "s", "source": "synthetic", "isl": 8, "osl": 4}],
        }
    )
    assert recipe.engine.kind == "toy"
    commands = dict(launch_commands(make_plan(recipe), tmp_path))
    port = r"--port \d+"
    assert re.fullmatch(
        f"toy-serve toy/model --host 127.0.0.1 {port} --slots 2", commands["off:none"]
    )
    assert re.fullmatch(
        f"toy-serve toy/model --host 127.0.0.1 {port} --slots 2 --draft-depth 3",
        commands["ng:ngram-g3"],
    )
    server = ServerSettings(model="m", port=9)
    with pytest.raises(UserError, match="toy has no spec method 'mtp'"):
        get_recipe("toy").command(SpecSettings(method="mtp", draft_depth=2), server)


def test_endpoint_tokenizer_and_request_defaults(toy: ModuleType) -> None:
    endpoint = Endpoint("http://x", "toy-llm")
    assert (endpoint.engine, endpoint.metrics_path, endpoint.acceptance_source) == (
        "toy", "/stats", "toy_stats",
    )  # fmt: skip
    assert server_tokenizer("toy", "http://x").tokenize("a b c", add_special=True) == [0, 1, 2, 3]
    assert request_defaults("toy") == {"toy_cache": False}
    assert request_defaults("generic") == {}


def _client(*bodies: object) -> httpx.AsyncClient:
    queue = list(bodies)

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/stats"
        return httpx.Response(200, json=queue.pop(0))

    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


async def test_acceptance_from_stats_and_from_responses(toy: ModuleType) -> None:
    before = {"steps": 10, "drafted": 30, "accepted": 12}
    after = {"steps": 14, "drafted": 42, "accepted": 18}
    reader = AcceptanceReader("toy_stats", "http://x", "/stats", client=_client(before, after))
    await reader.begin()
    counts = await reader.end()
    # 4 steps, 12 drafted, 6 accepted → AL = 1 + 6/4 = 2.5, rate = 6/12
    assert counts is not None and counts.source == "toy:stats"
    assert (counts.drafts, counts.draft_tokens, counts.accepted_tokens) == (4, 12, 6)
    assert counts.acceptance_length == pytest.approx(2.5)

    records = [
        RequestRecord(index=0, send_s=0.0, spec_decoding={"toy_spec": {"steps": 3, "accepted": 4}}),
        RequestRecord(
            index=1,
            send_s=0.1,
            spec_decoding={"toy_spec": {"steps": 1, "drafted": 2, "accepted": 2}},
        ),
    ]
    exact = AcceptanceReader("toy_stats", "http://x", "/stats", client=_client(before))
    await exact.begin()
    counts = await exact.end(records)
    assert counts is not None and counts.source == "toy:per_request"
    assert (counts.drafts, counts.draft_tokens, counts.accepted_tokens) == (4, 2, 6)


def test_its_prometheus_prefix_is_read(toy: ModuleType) -> None:
    counters = parse_spec_counters("toy:spec_decode_num_drafts_total 4\n")
    assert (counters.engine, counters.drafts) == ("toy", 4.0)
