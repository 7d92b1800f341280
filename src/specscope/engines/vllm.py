"""vLLM ``vllm serve`` with ``--speculative-config`` JSON.

Spec methods: ``mtp``, ``eagle``, ``eagle3`` (with ``"model"``), ``draft`` (``"draft_model"``
with ``"model"``), ``ngram`` (prompt lookup; ``prompt_lookup_max``/``_min`` via params).
Synthetic acceptance uses ``"rejection_sample_method": "synthetic"`` and
``"synthetic_acceptance_length"``. ``SpecSettings.params`` are merged into the JSON as given.

With spec on, ``--per-request-spec-decode-metrics summary`` asks for exact per-request counts
(``metrics.speculative_decoding`` on the final usage chunk; vLLM v0.29.0,
vllm/config/observability.py, docs/features/speculative_decoding/acceptance_metrics.md);
``ServerSettings.per_request_spec_metrics = False`` leaves it out for older vLLM, whose
Prometheus counter deltas are then the source.
"""

from __future__ import annotations

import json
from typing import Any

from specscope.engines.base import (
    AcceptanceSource,
    ServerSettings,
    SpecSettings,
    require_draft_model,
    require_g,
    unsupported,
)
from specscope.errors import UserError

ENGINE = "vllm"

METHODS: dict[str, str] = {
    "mtp": "mtp",
    "eagle": "eagle",
    "eagle3": "eagle3",
    "draft": "draft_model",
    "ngram": "ngram",
}
"""specscope method → vLLM ``speculative_config.method``."""

_NEEDS_MODEL = {"eagle", "eagle3", "draft_model"}

PER_REQUEST_FLAG = "--per-request-spec-decode-metrics"


def speculative_config(spec: SpecSettings) -> dict[str, Any]:
    """The ``--speculative-config`` object for ``spec`` (keys in a stable order)."""
    method = METHODS.get(spec.method)
    if method is None:
        raise unsupported(ENGINE, spec, ["none", *sorted(METHODS)])
    config: dict[str, Any] = {"method": method}
    if method in _NEEDS_MODEL:
        config["model"] = require_draft_model(ENGINE, spec)
    elif spec.draft_model:
        config["model"] = spec.draft_model
    config["num_speculative_tokens"] = require_g(ENGINE, spec)
    for key, value in spec.params.items():
        if key in config and config[key] != value:
            raise UserError(
                f"vLLM speculative_config key {key!r} is set twice (settings give "
                f"{config[key]!r}, params give {value!r}); keep one"
            )
        config[key] = value
    if spec.synthetic_acceptance_length is not None:
        config["rejection_sample_method"] = "synthetic"
        config["synthetic_acceptance_length"] = spec.synthetic_acceptance_length
    return config


class VllmRecipe:
    """``vllm serve MODEL --host H --port P --tensor-parallel-size N --speculative-config JSON``."""

    name = ENGINE
    health_path = "/health"
    metrics_path = "/metrics"
    acceptance_source: AcceptanceSource = "prometheus"

    def spec_args(self, spec: SpecSettings, server: ServerSettings) -> list[str]:
        if spec.is_off:
            return list(spec.extra_args)
        argv = ["--speculative-config", json.dumps(speculative_config(spec))]
        if server.per_request_spec_metrics and PER_REQUEST_FLAG not in spec.extra_args:
            argv += [PER_REQUEST_FLAG, "summary"]
        return [*argv, *spec.extra_args]

    def command(self, spec: SpecSettings, server: ServerSettings) -> list[str]:
        cmd = [
            server.binary or "vllm",
            "serve",
            server.model,
            "--host",
            server.host,
            "--port",
            str(server.require_port()),
            "--tensor-parallel-size",
            str(server.tp),
        ]
        if server.context_tokens is not None:
            cmd += ["--max-model-len", str(server.context_tokens)]
        if server.parallel is not None:
            cmd += ["--max-num-seqs", str(server.parallel)]
        return [*cmd, *self.spec_args(spec, server), *server.extra_args]

    def env(self, spec: SpecSettings, server: ServerSettings) -> dict[str, str]:
        return dict(spec.env)

    def files(self, spec: SpecSettings, server: ServerSettings) -> dict[str, str]:
        return {}
