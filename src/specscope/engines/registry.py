"""Engine recipes by name."""

from __future__ import annotations

from specscope.engines.base import EngineRecipe
from specscope.engines.llamacpp import LlamaCppRecipe
from specscope.engines.sglang import SglangRecipe
from specscope.engines.trtllm import TrtllmRecipe
from specscope.engines.vllm import VllmRecipe
from specscope.errors import UserError

ENGINES = ("llamacpp", "vllm", "sglang", "trt")
"""Engine keys, as stored in ``PointConfig.engine``."""

_ALIASES = {
    "llama.cpp": "llamacpp",
    "llama-cpp": "llamacpp",
    "llama_cpp": "llamacpp",
    "llama-server": "llamacpp",
    "trtllm": "trt",
    "trt-llm": "trt",
    "tensorrt-llm": "trt",
    "tensorrt_llm": "trt",
}


def engine_key(name: str) -> str:
    """The canonical engine key for a user-typed name (``llama.cpp`` → ``llamacpp``)."""
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in ENGINES:
        raise UserError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
    return key


def get_recipe(name: str) -> EngineRecipe:
    """A fresh recipe for the named engine."""
    key = engine_key(name)
    if key == "llamacpp":
        return LlamaCppRecipe()
    if key == "vllm":
        return VllmRecipe()
    if key == "sglang":
        return SglangRecipe()
    return TrtllmRecipe()
