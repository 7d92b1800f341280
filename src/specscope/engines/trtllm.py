"""TensorRT-LLM ``trtllm-serve`` (PyTorch backend) with an ``--extra_llm_api_options`` YAML file.

The YAML (written to the run folder) holds ``speculative_config`` with ``max_draft_len: g`` for
every method: ``mtp`` → ``MTP`` (``num_nextn_predict_layers`` is deprecated there and remapped
to ``max_draft_len``; a user-set one is refused), ``eagle`` and ``eagle3`` → ``Eagle3`` (the
PyTorch backend runs every EAGLE config as EAGLE-3; EAGLE-1/2 are not supported there),
``draft`` → ``Draft_Target`` (each with ``speculative_model``), ``ngram`` → ``NGram``.
``SpecSettings.params`` are merged into ``speculative_config``. ``enable_iter_perf_stats: true``
makes ``/metrics`` return per-iteration spec-decoding stats, and ``iter_stats_max_iterations``
is sized from the planned window (``ServerSettings.window_iterations``) so the bounded
stats queue (1000 iterations when unset) holds a whole window; the reader also polls it.
Synthetic acceptance uses ``TLLM_SPEC_DECODE_FORCE_NUM_ACCEPTED_TOKENS`` = AL − 1 (accepted
draft tokens only).

Upstream: NVIDIA/TensorRT-LLM ``tensorrt_llm/llmapi/llm_args.py`` (``DecodingBaseConfig``,
``MTPDecodingConfig``, ``EagleDecodingConfig``, ``DraftTargetDecodingConfig``,
``NGramDecodingConfig``) and ``tensorrt_llm/serve/openai_server.py`` (``/metrics``,
``_iteration_stats_buffer_maxlen``); commits in docs/engines.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from specscope.engines import yaml_text
from specscope.engines.base import (
    AcceptanceSource,
    ServerSettings,
    SpecSettings,
    require_draft_model,
    require_g,
    unsupported,
)
from specscope.errors import UserError

ENGINE = "trt"
OPTIONS_FILE = "trtllm-extra-llm-api-options.yaml"

DECODING_TYPES: dict[str, str] = {
    "mtp": "MTP",
    "eagle": "Eagle3",
    "eagle3": "Eagle3",
    "draft": "Draft_Target",
    "ngram": "NGram",
}
"""specscope method → TensorRT-LLM ``speculative_config.decoding_type`` (PyTorch backend)."""

_NEEDS_DRAFT = {"Eagle3", "Draft_Target"}

DEFAULT_ITER_STATS = 1000
"""Iteration stats ``trtllm-serve`` keeps when ``iter_stats_max_iterations`` is unset."""


def iter_stats_budget(window_iterations: int | None) -> int | None:
    """``iter_stats_max_iterations`` for a window of at most ``window_iterations`` engine
    iterations: the window with a 2× margin (warm-up tail, a slow poll), at least the default;
    None (keep the default) when the window is unknown."""
    if window_iterations is None:
        return None
    return max(DEFAULT_ITER_STATS, 2 * window_iterations)


def speculative_config(spec: SpecSettings) -> dict[str, Any]:
    """The ``speculative_config`` mapping for ``spec``."""
    decoding_type = DECODING_TYPES.get(spec.method)
    if decoding_type is None:
        raise unsupported("TensorRT-LLM", spec, ["none", *sorted(DECODING_TYPES)])
    g = require_g("TensorRT-LLM", spec)
    if "num_nextn_predict_layers" in spec.params:
        raise UserError(
            "TensorRT-LLM MTP: num_nextn_predict_layers is deprecated (remapped to "
            "max_draft_len); set the depth with gamma instead"
        )
    config: dict[str, Any] = {"decoding_type": decoding_type, "max_draft_len": g}
    if decoding_type in _NEEDS_DRAFT:
        config["speculative_model"] = require_draft_model("TensorRT-LLM", spec)
    config.update(spec.params)
    return config


class TrtllmRecipe:
    """``trtllm-serve MODEL --host H --port P --tp_size N --extra_llm_api_options FILE.yaml``."""

    name = ENGINE
    health_path = "/health"
    metrics_path = "/metrics"
    acceptance_source: AcceptanceSource = "trtllm_iter_stats"

    def __init__(self, extra_options: Mapping[str, Any] | None = None) -> None:
        self.extra_options = dict(extra_options or {})
        """Top-level LLM API options added to the YAML (``kv_cache_config``...)."""

    def options(self, spec: SpecSettings, server: ServerSettings | None = None) -> dict[str, Any]:
        """Everything the YAML file holds, as a mapping."""
        data: dict[str, Any] = dict(self.extra_options)
        data.setdefault("enable_iter_perf_stats", True)
        budget = iter_stats_budget(server.window_iterations if server else None)
        if budget is not None:
            data.setdefault("iter_stats_max_iterations", budget)
        if not spec.is_off:
            data["speculative_config"] = speculative_config(spec)
        return data

    def spec_args(self, spec: SpecSettings, server: ServerSettings) -> list[str]:
        return list(spec.extra_args)

    def command(self, spec: SpecSettings, server: ServerSettings) -> list[str]:
        cmd = [
            server.binary or "trtllm-serve",
            server.model,
            "--host",
            server.host,
            "--port",
            str(server.require_port()),
            "--tp_size",
            str(server.tp),
        ]
        if server.context_tokens is not None:
            cmd += ["--max_seq_len", str(server.context_tokens)]
        if server.parallel is not None:
            cmd += ["--max_batch_size", str(server.parallel)]
        cmd += ["--extra_llm_api_options", server.config_path(OPTIONS_FILE)]
        return [*cmd, *self.spec_args(spec, server), *server.extra_args]

    def env(self, spec: SpecSettings, server: ServerSettings) -> dict[str, str]:
        env = dict(spec.env)
        if spec.synthetic_acceptance_length is not None:
            accepted = spec.synthetic_acceptance_length - 1.0
            env["TLLM_SPEC_DECODE_FORCE_NUM_ACCEPTED_TOKENS"] = f"{accepted:g}"
        return env

    def files(self, spec: SpecSettings, server: ServerSettings) -> dict[str, str]:
        return {OPTIONS_FILE: yaml_text.dump(self.options(spec, server))}
