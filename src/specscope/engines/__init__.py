"""Engines (launch, health, acceptance), one module each: llama.cpp, vLLM, SGLang, TensorRT-LLM.

Importing this package registers the built-in engines and acceptance sources.
"""

# isort: off
# The built-in engines register in this order, the order messages list them in.
from specscope.engines import llamacpp, vllm, sglang, trtllm  # noqa: F401
# isort: on

from specscope.engines.acceptance import (
    AcceptanceError,
    AcceptanceReader,
    AcceptanceStrategy,
    CounterResetError,
    acceptance_source,
    per_request_counts,
)
from specscope.engines.base import (
    AcceptanceSource,
    Engine,
    EngineRecipe,
    ServerHandle,
    ServerSettings,
    SpecMethod,
    SpecSettings,
    describe_spec,
)
from specscope.engines.endpoint import Endpoint
from specscope.engines.errors import EngineDiedError, EngineError, EngineStartError
from specscope.engines.llamacpp import (
    LlamaCppRecipe,
    counts_from_records,
    counts_from_timings,
    find_llama_server,
    timings_draft_counts,
)
from specscope.engines.prometheus import SpecCounters, delta, parse_spec_counters
from specscope.engines.registry import (
    engine_key,
    engine_keys,
    get_recipe,
    register_engine,
    server_tokenizer,
)
from specscope.engines.server import ManagedServer, pick_free_port
from specscope.engines.sglang import SglangRecipe, counts_from_sglang_server_info
from specscope.engines.trtllm import TrtllmRecipe, counts_from_trtllm_iteration_stats
from specscope.engines.vllm import VllmRecipe

__all__ = [
    "AcceptanceError",
    "AcceptanceReader",
    "AcceptanceSource",
    "AcceptanceStrategy",
    "CounterResetError",
    "Endpoint",
    "Engine",
    "EngineDiedError",
    "EngineError",
    "EngineRecipe",
    "EngineStartError",
    "LlamaCppRecipe",
    "ManagedServer",
    "ServerHandle",
    "ServerSettings",
    "SglangRecipe",
    "SpecCounters",
    "SpecMethod",
    "SpecSettings",
    "TrtllmRecipe",
    "VllmRecipe",
    "acceptance_source",
    "counts_from_records",
    "counts_from_sglang_server_info",
    "counts_from_timings",
    "counts_from_trtllm_iteration_stats",
    "delta",
    "describe_spec",
    "engine_key",
    "engine_keys",
    "find_llama_server",
    "get_recipe",
    "parse_spec_counters",
    "per_request_counts",
    "pick_free_port",
    "register_engine",
    "server_tokenizer",
    "timings_draft_counts",
]
