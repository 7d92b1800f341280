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

Acceptance: per request, ``metrics.speculative_decoding`` on the final usage chunk when the
server runs with ``--per-request-spec-decode-metrics summary|detailed`` (vLLM v0.29.0,
docs/features/speculative_decoding/acceptance_metrics.md): ``num_spec_steps``,
``num_draft_tokens``, ``num_accepted_draft_tokens``, ``acceptance_histogram``. Fallback:
Prometheus counters (``vllm:spec_decode_num_drafts_total`` and siblings,
:mod:`specscope.engines.prometheus`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from specscope.engines.acceptance import (
    RequestCounts,
    int_field,
    per_request_counts,
    sum_request_counts,
)
from specscope.engines.base import Engine, ServerSettings, SpecSettings, server_args
from specscope.engines.registry import register_engine
from specscope.engines.spec_config import SpecConfigFormat
from specscope.schema import AcceptanceCounts, RequestRecord
from specscope.workload.tokenizer import Tokenizer, VllmTokenizer

ENGINE = "vllm"

METHODS: dict[str, str] = {
    "mtp": "mtp",
    "eagle": "eagle",
    "eagle3": "eagle3",
    "draft": "draft_model",
    "ngram": "ngram",
}
"""specscope method → vLLM ``speculative_config.method``."""

FORMAT = SpecConfigFormat(
    engine=ENGINE,
    method_key="method",
    methods=METHODS,
    depth_key="num_speculative_tokens",
    model_key="model",
    needs_model=frozenset({"eagle", "eagle3", "draft_model"}),
    model_first=True,
    any_model=True,
    conflict="vLLM speculative_config",
)

PER_REQUEST_FLAG = "--per-request-spec-decode-metrics"
REQUEST_SOURCE = "vllm:per_request"
SPEC_KEY = "metrics.speculative_decoding"


def speculative_config(spec: SpecSettings) -> dict[str, Any]:
    """The ``--speculative-config`` object for ``spec`` (keys in a stable order)."""
    config = FORMAT.build(spec)
    if spec.synthetic_acceptance_length is not None:
        config["rejection_sample_method"] = "synthetic"
        config["synthetic_acceptance_length"] = spec.synthetic_acceptance_length
    return config


def _request_counts(fields: Mapping[str, Any]) -> RequestCounts | None:
    steps = int_field(fields, "num_spec_steps")
    accepted = int_field(fields, "num_accepted_draft_tokens")
    if steps is None or accepted is None:
        return None
    drafted = int_field(fields, "num_draft_tokens") or 0
    return RequestCounts(steps, drafted, accepted, fields.get("acceptance_histogram"))


@per_request_counts("prometheus")
def counts_from_vllm_requests(records: Sequence[RequestRecord]) -> AcceptanceCounts | None:
    """Σ of vLLM's per-request ``metrics.speculative_decoding`` over the timed, successful
    requests; None unless every one of them carries it (a partial sum would be biased).

    drafts = Σ``num_spec_steps``, draft_tokens = Σ``num_draft_tokens``, accepted_tokens =
    Σ``num_accepted_draft_tokens``; per position from Σ``acceptance_histogram``.
    """
    return sum_request_counts(records, SPEC_KEY, _request_counts, REQUEST_SOURCE)


@register_engine
class VllmRecipe(Engine):
    """``vllm serve MODEL --host H --port P --tensor-parallel-size N --speculative-config JSON``."""

    name = ENGINE
    acceptance_source = "prometheus"
    metric_prefix = ENGINE

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
            *server_args(
                server,
                ("--tensor-parallel-size", server.tp),
                ("--max-model-len", server.context_tokens),
                ("--max-num-seqs", server.parallel),
            ),
        ]
        return [*cmd, *self.spec_args(spec, server), *server.extra_args]

    def tokenizer(self, base_url: str, model: str | None = None) -> Tokenizer:
        return VllmTokenizer(base_url, model)
