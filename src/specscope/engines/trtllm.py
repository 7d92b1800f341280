"""TensorRT-LLM ``trtllm-serve`` with an ``--extra_llm_api_options`` YAML file.

The YAML (written to the run folder) holds ``speculative_config``: ``mtp`` →
``{decoding_type: MTP, num_nextn_predict_layers: g}``; ``eagle3`` → ``Eagle3``, ``eagle`` →
``Eagle``, ``draft`` → ``DraftTarget`` (each ``max_draft_len: g`` and ``speculative_model``);
``ngram`` → ``NGram`` (``max_draft_len: g``). ``SpecSettings.params`` are merged into
``speculative_config`` and win over derived keys (key names changed across TensorRT-LLM
releases, e.g. ``speculative_model_dir``). ``enable_iter_perf_stats: true`` is always set so
``/metrics`` returns per-iteration spec-decoding stats. Synthetic acceptance uses
``TLLM_SPEC_DECODE_FORCE_NUM_ACCEPTED_TOKENS`` = AL − 1 (accepted draft tokens only).
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

ENGINE = "trt"
OPTIONS_FILE = "trtllm-extra-llm-api-options.yaml"

DECODING_TYPES: dict[str, str] = {
    "mtp": "MTP",
    "eagle": "Eagle",
    "eagle3": "Eagle3",
    "draft": "DraftTarget",
    "ngram": "NGram",
}
"""specscope method → TensorRT-LLM ``speculative_config.decoding_type``."""

_NEEDS_DRAFT = {"Eagle", "Eagle3", "DraftTarget"}


def speculative_config(spec: SpecSettings) -> dict[str, Any]:
    """The ``speculative_config`` mapping for ``spec``."""
    decoding_type = DECODING_TYPES.get(spec.method)
    if decoding_type is None:
        raise unsupported("TensorRT-LLM", spec, ["none", *sorted(DECODING_TYPES)])
    g = require_g("TensorRT-LLM", spec)
    config: dict[str, Any] = {"decoding_type": decoding_type}
    if decoding_type == "MTP":
        config["num_nextn_predict_layers"] = g
    else:
        config["max_draft_len"] = g
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

    def options(self, spec: SpecSettings) -> dict[str, Any]:
        """Everything the YAML file holds, as a mapping."""
        data: dict[str, Any] = dict(self.extra_options)
        data.setdefault("enable_iter_perf_stats", True)
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
        return {OPTIONS_FILE: yaml_text.dump(self.options(spec))}
