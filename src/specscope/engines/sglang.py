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
Upstream: sgl-project/sglang (see docs/engines.md for files and commits).
"""

from __future__ import annotations

import sys

from specscope.engines.base import (
    AcceptanceSource,
    ServerSettings,
    SpecSettings,
    flags_with_params,
    require_draft_model,
    require_g,
    unsupported,
)

ENGINE = "sglang"

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


class SglangRecipe:
    """``python -m sglang.launch_server --model-path M --host H --port P --tp N [spec]``."""

    name = ENGINE
    health_path = "/health"
    metrics_path = "/server_info"
    acceptance_source: AcceptanceSource = "sglang_server_info"

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
        g = require_g(ENGINE, spec)
        if algorithm != "NGRAM":
            flags["--speculative-num-steps"] = str(g)
            flags["--speculative-eagle-topk"] = "1"
        flags["--speculative-num-draft-tokens"] = str(g + 1)
        argv = flags_with_params(ENGINE, flags, spec.params, "--speculative-")
        return [*argv, *spec.extra_args]

    def spec_note(self, spec: SpecSettings) -> str | None:
        """A line for the stored spec config when g is not a chain depth (NGRAM)."""
        if spec.is_off or depth_meaning(spec.method) != "tree budget":
            return None
        return (
            f"g = {spec.g} is a tree budget (--speculative-num-draft-tokens {(spec.g or 0) + 1} "
            "draft-tree tokens per verify step), not a chain depth"
        )

    def command(self, spec: SpecSettings, server: ServerSettings) -> list[str]:
        cmd = [
            server.binary or sys.executable,
            "-m",
            "sglang.launch_server",
            "--model-path",
            server.model,
            "--host",
            server.host,
            "--port",
            str(server.require_port()),
            "--tp",
            str(server.tp),
        ]
        if server.context_tokens is not None:
            cmd += ["--context-length", str(server.context_tokens)]
        if server.parallel is not None:
            cmd += ["--max-running-requests", str(server.parallel)]
        return [*cmd, *self.spec_args(spec, server), *server.extra_args]

    def env(self, spec: SpecSettings, server: ServerSettings) -> dict[str, str]:
        env = dict(spec.env)
        if spec.synthetic_acceptance_length is not None:
            env["SGLANG_SIMULATE_ACC_LEN"] = f"{spec.synthetic_acceptance_length:g}"
            env.setdefault("SGLANG_SIMULATE_ACC_METHOD", "match-expected")
            env.setdefault("SGLANG_SIMULATE_ACC_TOKEN_MODE", SIMULATE_TOKEN_MODE)
        return env

    def files(self, spec: SpecSettings, server: ServerSettings) -> dict[str, str]:
        return {}
