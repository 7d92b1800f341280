"""SGLang ``python -m sglang.launch_server`` with ``--speculative-*`` flags.

Spec methods → ``--speculative-algorithm``: ``mtp`` → ``NEXTN``, ``eagle`` → ``EAGLE``,
``eagle3`` → ``EAGLE3``, ``draft`` → ``STANDALONE``, ``ngram`` → ``NGRAM``. For the EAGLE family
g is a chain: ``--speculative-num-steps g --speculative-eagle-topk 1
--speculative-num-draft-tokens g+1`` (the verify budget counts the root token). For ``NGRAM``
g is not a chain depth: ``--speculative-num-draft-tokens g+1`` is the size of the draft *tree*
verified per step (SGLang's n-gram drafter fills a trie of up to that many tokens), so g is
labelled a tree budget (:func:`depth_meaning`). Synthetic acceptance goes through the
environment: ``SGLANG_SIMULATE_ACC_LEN``, ``SGLANG_SIMULATE_ACC_METHOD=match-expected`` and
``SGLANG_SIMULATE_ACC_TOKEN_MODE=real-draft-token`` (the accepted positions carry the real draft
tokens; SGLang accepts ``fixed`` or ``real-draft-token`` and needs topk 1 for the latter).
Params become ``--speculative-<key>`` flags.

Acceptance: per request from the native ``/generate`` route's ``meta_info`` (``spec_verify_ct``
and the accepted/proposed draft counts; send the load with ``api = "sglang"``); the
``/server_info`` running average only as a labelled fallback on a freshly started server.
The ``meta_info`` fields: ``spec_verify_ct`` (verify steps) with
``spec_num_correct_drafts``/``spec_num_proposed_drafts`` and ``spec_correct_drafts_histogram``
(newer releases; ``spec_accepted_drafts`` and ``spec_proposed_drafts`` are their aliases) or
``spec_accept_token_num``/``spec_draft_token_num`` and ``spec_accept_histogram`` (v0.5.x).
The fallback: ``/server_info`` ``internal_states[i].avg_spec_accept_length``, a running
average since the server started, used only for a window that is the first on a freshly
started server.
Upstream: sgl-project/sglang (see docs/engines.md for files and commits).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from specscope.engines.acceptance import (
    AcceptanceError,
    AcceptanceStrategy,
    RequestCounts,
    acceptance_source,
    int_field,
    per_request_counts,
    sum_request_counts,
)
from specscope.engines.base import (
    Engine,
    ServerSettings,
    SpecSettings,
    flags_with_params,
    require_draft_depth,
    require_draft_model,
    server_args,
    unsupported,
)
from specscope.engines.registry import register_engine
from specscope.schema import AcceptanceCounts, RequestRecord

ENGINE = "sglang"
SOURCE = "sglang_server_info"
SERVER_INFO_SOURCE = "sglang:server_info"
SERVER_INFO_NOTE = (
    "fallback: SGLang /server_info avg_spec_accept_length, a running average since the server "
    "started (its warm-up requests included), read on a freshly started server; per-request "
    "meta_info counts were not available"
)
REQUEST_SOURCE = "sglang:meta_info"
REFUSED_NOTE = (
    "no per-request SGLang counts (send the load with api = 'sglang', the native /generate "
    "route) and the /server_info running average is refused: this window did not start on a "
    "freshly started server"
)
SPEC_KEY = "meta_info"

ALGORITHMS: dict[str, str] = {
    "mtp": "NEXTN",
    "eagle": "EAGLE",
    "eagle3": "EAGLE3",
    "draft": "STANDALONE",
    "ngram": "NGRAM",
}
"""specscope method → SGLang ``--speculative-algorithm``."""

_NEEDS_DRAFT = {"EAGLE", "EAGLE3", "STANDALONE"}

SIMULATE_TOKEN_MODE = "real-draft-token"
"""``SGLANG_SIMULATE_ACC_TOKEN_MODE`` for synthetic runs (InferenceX golden-AL runs use it)."""


def depth_meaning(method: str) -> str:
    """What g means for ``method`` on SGLang: ``chain depth`` or ``tree budget`` (NGRAM)."""
    return "tree budget" if ALGORITHMS.get(method) == "NGRAM" else "chain depth"


@register_engine
class SglangRecipe(Engine):
    """``python -m sglang.launch_server --model-path M --host H --port P --tp N [spec]``."""

    name = ENGINE
    metrics_path = "/server_info"
    acceptance_source = SOURCE

    def spec_args(self, spec: SpecSettings, server: ServerSettings) -> list[str]:
        if spec.is_off:
            return list(spec.extra_args)
        algorithm = ALGORITHMS.get(spec.method)
        if algorithm is None:
            raise unsupported(ENGINE, spec, ["none", *sorted(ALGORITHMS)])
        flags: dict[str, str | None] = {"--speculative-algorithm": algorithm}
        if algorithm in _NEEDS_DRAFT:
            flags["--speculative-draft-model-path"] = require_draft_model(ENGINE, spec)
        elif spec.draft_model:
            flags["--speculative-draft-model-path"] = spec.draft_model
        draft_depth = require_draft_depth(ENGINE, spec)
        if algorithm != "NGRAM":
            flags["--speculative-num-steps"] = str(draft_depth)
            flags["--speculative-eagle-topk"] = "1"
        flags["--speculative-num-draft-tokens"] = str(draft_depth + 1)
        argv = flags_with_params(ENGINE, flags, spec.params, "--speculative-")
        return [*argv, *spec.extra_args]

    def spec_note(self, spec: SpecSettings) -> str | None:
        """A line for the stored spec config when g is not a chain depth (NGRAM)."""
        if spec.is_off or depth_meaning(spec.method) != "tree budget":
            return None
        tokens = (spec.draft_depth or 0) + 1
        return (
            f"g = {spec.draft_depth} is a tree budget (--speculative-num-draft-tokens {tokens} "
            "draft-tree tokens per verify step), not a chain depth"
        )

    def command(self, spec: SpecSettings, server: ServerSettings) -> list[str]:
        cmd = [
            server.binary or sys.executable,
            "-m",
            "sglang.launch_server",
            "--model-path",
            server.model,
            *server_args(
                server,
                ("--tp", server.tp),
                ("--context-length", server.context_tokens),
                ("--max-running-requests", server.parallel),
            ),
        ]
        return [*cmd, *self.spec_args(spec, server), *server.extra_args]

    def env(self, spec: SpecSettings, server: ServerSettings) -> dict[str, str]:
        env = dict(spec.env)
        if spec.synthetic_acceptance_length is not None:
            env["SGLANG_SIMULATE_ACC_LEN"] = f"{spec.synthetic_acceptance_length:g}"
            env.setdefault("SGLANG_SIMULATE_ACC_METHOD", "match-expected")
            env.setdefault("SGLANG_SIMULATE_ACC_TOKEN_MODE", SIMULATE_TOKEN_MODE)
        return env


# -- acceptance: per-request meta_info, else the /server_info running average --------------


def _request_counts(fields: Mapping[str, Any]) -> RequestCounts | None:
    if "spec_verify_ct" not in fields:
        return None
    steps = int_field(fields, "spec_verify_ct") or 0
    if steps == 0:  # finished without a verify step: the other counts are left out
        return RequestCounts(0, 0, 0)
    accepted = int_field(
        fields, "spec_num_correct_drafts", "spec_accepted_drafts", "spec_accept_token_num"
    )
    if accepted is None:
        return None
    drafted = (
        int_field(
            fields, "spec_num_proposed_drafts", "spec_proposed_drafts", "spec_draft_token_num"
        )
        or 0
    )
    histogram = fields.get("spec_correct_drafts_histogram", fields.get("spec_accept_histogram"))
    return RequestCounts(steps, drafted, accepted, histogram)


@per_request_counts(SOURCE)
def counts_from_sglang_requests(records: Sequence[RequestRecord]) -> AcceptanceCounts | None:
    """Σ of SGLang's per-request ``meta_info`` spec counts over the timed, successful requests;
    None unless every one of them carries ``spec_verify_ct`` and an accepted count.

    A request that finished without a verify step reports ``spec_verify_ct`` 0 and leaves the
    other counts out; it adds nothing.
    """
    return sum_request_counts(records, SPEC_KEY, _request_counts, REQUEST_SOURCE)


def counts_from_sglang_server_info(info: Mapping[str, Any]) -> AcceptanceCounts:
    """SGLang's reported running-average AL (bonus token included) from ``/server_info``.

    With several data-parallel ranks in ``internal_states`` their values are averaged.
    """
    values: list[float] = []
    states = info.get("internal_states")
    if isinstance(states, list):
        for state in states:
            if isinstance(state, Mapping):
                value = state.get("avg_spec_accept_length")
                if isinstance(value, int | float) and not isinstance(value, bool):
                    values.append(float(value))
    top = info.get("avg_spec_accept_length")  # older releases put it at the top level
    if not values and isinstance(top, int | float) and not isinstance(top, bool):
        values.append(float(top))
    finite = [v for v in values if math.isfinite(v)]
    return AcceptanceCounts(
        reported_acceptance_length=sum(finite) / len(finite) if finite else None,
        source=SERVER_INFO_SOURCE,
        note=SERVER_INFO_NOTE,
    )


@acceptance_source(SOURCE)
class ServerInfoAverage(AcceptanceStrategy):
    """Per-request counts, else ``/server_info``'s running average on a fresh server only."""

    async def end(self, records: Sequence[RequestRecord]) -> AcceptanceCounts | None:
        exact = self.exact(records)
        if exact is not None:
            return exact
        if not self.reader.fresh:
            return AcceptanceCounts(source="sglang:none", note=REFUSED_NOTE)
        info = await self.reader.json(self.reader.url)
        if not isinstance(info, Mapping):
            raise AcceptanceError(f"{self.reader.url} did not return a JSON object")
        return counts_from_sglang_server_info(info)
