"""SGLang ``python -m sglang.launch_server`` with ``--speculative-*`` flags.

Spec methods → ``--speculative-algorithm``: ``mtp`` → ``NEXTN``, ``eagle`` → ``EAGLE``,
``eagle3`` → ``EAGLE3``, ``draft`` → ``STANDALONE``, ``ngram`` → ``NGRAM``. Depth g is a chain:
``--speculative-num-steps g --speculative-eagle-topk 1 --speculative-num-draft-tokens g+1`` (the
verify budget counts the root token). Synthetic acceptance goes through the environment
(``SGLANG_SIMULATE_ACC_LEN``, ``SGLANG_SIMULATE_ACC_METHOD=match-expected``). Params become
``--speculative-<key>`` flags.

Acceptance: ``/server_info`` reports ``avg_spec_accept_length``, a running average since the
server started, so each measured config needs a freshly started server.
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
        return env

    def files(self, spec: SpecSettings, server: ServerSettings) -> dict[str, str]:
        return {}
