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

Acceptance: ``GET /metrics`` returns (and clears) the iteration stats queued since the last
call, each with its ``iter`` id and ``specDecodingStats``. The queue holds
``iter_stats_max_iterations`` entries (1000 when unset), so the reader polls it through the
window, merges by ``iter`` and says when iterations were lost.

Upstream: NVIDIA/TensorRT-LLM ``tensorrt_llm/llmapi/llm_args.py`` (``DecodingBaseConfig``,
``MTPDecodingConfig``, ``EagleDecodingConfig``, ``DraftTargetDecodingConfig``,
``NGramDecodingConfig``) and ``tensorrt_llm/serve/openai_server.py`` (``/metrics``,
``_iteration_stats_buffer_maxlen``); commits in docs/engines.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from specscope.engines import yaml_text
from specscope.engines.acceptance import (
    AcceptanceError,
    AcceptanceReader,
    AcceptanceStrategy,
    acceptance_source,
)
from specscope.engines.base import Engine, ServerSettings, SpecSettings, server_args
from specscope.engines.registry import register_engine
from specscope.engines.spec_config import SpecConfigFormat
from specscope.schema import AcceptanceCounts, RequestRecord

ENGINE = "trt"
OPTIONS_FILE = "trtllm-extra-llm-api-options.yaml"
TRTLLM_SOURCE = "trtllm:iteration_stats"

DECODING_TYPES: dict[str, str] = {
    "mtp": "MTP",
    "eagle": "Eagle3",
    "eagle3": "Eagle3",
    "draft": "Draft_Target",
    "ngram": "NGram",
}
"""specscope method → TensorRT-LLM ``speculative_config.decoding_type`` (PyTorch backend)."""

FORMAT = SpecConfigFormat(
    engine="TensorRT-LLM",
    method_key="decoding_type",
    methods=DECODING_TYPES,
    depth_key="max_draft_len",
    model_key="speculative_model",
    needs_model=frozenset({"Eagle3", "Draft_Target"}),
    refused={
        "num_nextn_predict_layers": (
            "TensorRT-LLM MTP: num_nextn_predict_layers is deprecated (remapped to "
            "max_draft_len); set the depth with gamma instead"
        )
    },
)

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
    return FORMAT.build(spec)


@register_engine
class TrtllmRecipe(Engine):
    """``trtllm-serve MODEL --host H --port P --tp_size N --extra_llm_api_options FILE.yaml``."""

    name = ENGINE
    aliases = ("trtllm", "trt-llm", "tensorrt-llm", "tensorrt_llm")
    acceptance_source = "trtllm_iter_stats"

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
            *server_args(
                server,
                ("--tp_size", server.tp),
                ("--max_seq_len", server.context_tokens),
                ("--max_batch_size", server.parallel),
            ),
            "--extra_llm_api_options",
            server.config_path(OPTIONS_FILE),
        ]
        return [*cmd, *self.spec_args(spec, server), *server.extra_args]

    def env(self, spec: SpecSettings, server: ServerSettings) -> dict[str, str]:
        env = dict(spec.env)
        if spec.synthetic_acceptance_length is not None:
            accepted = spec.synthetic_acceptance_length - 1.0
            env["TLLM_SPEC_DECODE_FORCE_NUM_ACCEPTED_TOKENS"] = f"{accepted:g}"
        return env

    def files(self, spec: SpecSettings, server: ServerSettings) -> dict[str, str]:
        return {OPTIONS_FILE: yaml_text.dump(self.options(spec, server))}


# -- acceptance: iteration stats -------------------------------------------------------------


def _iteration(entry: Any) -> Mapping[str, Any] | None:
    if isinstance(entry, str):  # some releases return each iteration as a JSON string
        try:
            entry = json.loads(entry)
        except json.JSONDecodeError:
            return None
    return entry if isinstance(entry, Mapping) else None


def counts_from_trtllm_iteration_stats(stats: Iterable[Any]) -> AcceptanceCounts:
    """Sum TensorRT-LLM ``specDecodingStats`` over iteration stats.

    Per iteration: ``numDraftTokens`` drafted, ``numAcceptedTokens`` accepted, and
    ``numRequestsWithDraftTokens`` requests verified with a draft, i.e. verify steps.
    """
    drafts = draft_tokens = accepted = 0
    for entry in stats:
        iteration = _iteration(entry)
        if iteration is None:
            continue
        spec = iteration.get("specDecodingStats")
        if not isinstance(spec, Mapping):
            continue
        n_draft = int(spec.get("numDraftTokens") or 0)
        if n_draft <= 0:
            continue
        draft_tokens += n_draft
        accepted += int(spec.get("numAcceptedTokens") or 0)
        drafts += int(spec.get("numRequestsWithDraftTokens") or 0)
    return AcceptanceCounts(
        drafts=drafts, draft_tokens=draft_tokens, accepted_tokens=accepted, source=TRTLLM_SOURCE
    )


def iteration_id(entry: Any) -> int | None:
    """The ``iter`` id of one TensorRT-LLM iteration-stats entry (None when it has none)."""
    iteration = _iteration(entry)
    value = iteration.get("iter") if iteration is not None else None
    return int(value) if isinstance(value, int) and not isinstance(value, bool) else None


def trtllm_coverage_note(first_expected: int | None, ids: Sequence[int]) -> str:
    """Empty when ``ids`` run without a gap from ``first_expected`` (the id after the last one
    drained before the window; None when none was) to their maximum; else what was lost."""
    if not ids:
        return ""
    start = min(ids) if first_expected is None else min(first_expected, min(ids))
    expected = max(ids) - start + 1
    missing = expected - len(set(ids))
    if missing <= 0:
        return ""
    return (
        f"window not fully covered: {missing} of {expected} iterations missing from the "
        "TensorRT-LLM iteration-stats queue (it keeps iter_stats_max_iterations entries, 1000 "
        "when unset); raise iter_stats_max_iterations in the launch options"
    )


@acceptance_source("trtllm_iter_stats")
class IterationStats(AcceptanceStrategy):
    """``begin`` drains the queue and starts polling ``/metrics`` every ``poll_interval_s`` so
    the bounded stats queue does not drop iterations; ``end`` stops it, merges by iteration id
    and notes any gap."""

    _first_expected: int | None = None
    _poller: asyncio.Task[None] | None = None

    def __init__(self, reader: AcceptanceReader) -> None:
        super().__init__(reader)
        self._iterations: dict[int, Any] = {}
        self._unnumbered: list[Any] = []

    async def _drain(self) -> list[Any]:
        data = await self.reader.json(self.reader.url)
        return list(data) if isinstance(data, list) else []

    def _keep(self, entries: Iterable[Any]) -> None:
        for entry in entries:
            ident = iteration_id(entry)
            if ident is None:
                self._unnumbered.append(entry)
            else:
                self._iterations[ident] = entry  # a re-read iteration is kept once

    async def _poll_loop(self) -> None:
        while True:
            await asyncio.sleep(self.reader.poll_interval_s)
            with contextlib.suppress(AcceptanceError):
                self._keep(await self._drain())

    async def begin(self) -> None:
        drained = await self._drain()
        ids = [i for i in map(iteration_id, drained) if i is not None]
        self._first_expected = max(ids) + 1 if ids else None
        self._iterations, self._unnumbered = {}, []
        self._poller = asyncio.ensure_future(self._poll_loop())

    async def poll(self) -> None:
        self._keep(await self._drain())

    async def end(self, records: Sequence[RequestRecord]) -> AcceptanceCounts | None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        await self.poll()
        ids = sorted(self._iterations)
        counts = counts_from_trtllm_iteration_stats(
            [*(self._iterations[i] for i in ids), *self._unnumbered]
        )
        note = trtllm_coverage_note(self._first_expected, ids)
        if note:
            counts = counts.model_copy(update={"note": note, "source": TRTLLM_SOURCE + ":partial"})
        return counts
