"""Engine recipes (launch, health, acceptance) for llama.cpp, vLLM, SGLang and TensorRT-LLM."""

from specscope.engines.acceptance import (
    AcceptanceError,
    AcceptanceReader,
    CounterResetError,
    SpecCounters,
    counts_from_records,
    counts_from_sglang_server_info,
    counts_from_timings,
    counts_from_trtllm_iteration_stats,
    delta,
    parse_spec_counters,
    timings_draft_counts,
)
from specscope.engines.base import (
    AcceptanceSource,
    EngineRecipe,
    ServerHandle,
    ServerSettings,
    SpecMethod,
    SpecSettings,
    describe_spec,
)
from specscope.engines.endpoint import Endpoint
from specscope.engines.errors import EngineDiedError, EngineError, EngineStartError
from specscope.engines.llamacpp import LlamaCppRecipe, find_llama_server
from specscope.engines.registry import ENGINES, engine_key, get_recipe
from specscope.engines.server import ManagedServer, pick_free_port
from specscope.engines.sglang import SglangRecipe
from specscope.engines.trtllm import TrtllmRecipe
from specscope.engines.vllm import VllmRecipe

__all__ = [
    "ENGINES",
    "AcceptanceError",
    "AcceptanceReader",
    "AcceptanceSource",
    "CounterResetError",
    "Endpoint",
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
    "counts_from_records",
    "counts_from_sglang_server_info",
    "counts_from_timings",
    "counts_from_trtllm_iteration_stats",
    "delta",
    "describe_spec",
    "engine_key",
    "find_llama_server",
    "get_recipe",
    "parse_spec_counters",
    "pick_free_port",
    "timings_draft_counts",
]
