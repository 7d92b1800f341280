"""The engine plug-in interface: spec and server settings in, a launch recipe out.

Each engine module (``llamacpp``, ``vllm``, ``sglang``, ``trtllm``) holds one :class:`Engine`
subclass, registered by key in :mod:`specscope.engines.registry`; adding an engine touches one
file plus its tests (docs/engines.md, "Adding an engine").
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from specscope.errors import UserError
from specscope.schema import spec_method_key

if TYPE_CHECKING:
    from specscope.workload.tokenizer import Tokenizer

SpecMethod = Literal[
    "none",
    "mtp",
    "eagle",
    "eagle3",
    "draft",
    "ngram",
    "ngram-mod",
    "ngram-simple",
    "ngram-map-k",
    "ngram-cache",
]
"""Normalised spec methods. ``ngram-*`` are llama.cpp's own n-gram drafters; ``ngram`` is the
generic prompt-lookup drafter each engine offers under its own name."""

AcceptanceSource = str
"""How acceptance is read, by the name its strategy is registered under
(:func:`specscope.engines.acceptance.acceptance_source`): ``prometheus`` (counter deltas, vLLM and
llama.cpp), ``sglang_server_info`` (SGLang's running average on ``/server_info``),
``trtllm_iter_stats`` (TensorRT-LLM's per-iteration JSON stats on ``/metrics``), ``timings``
(per-response llama.cpp ``timings``) or ``none``."""

ParamValue = str | int | float | bool


class SpecSettings(BaseModel):
    """One speculative-decoding configuration, engine-neutral.

    ``params`` holds engine-native knobs under the engine's own names: llama.cpp flags without
    the leading ``--spec-`` (``ngram-mod-n-match``), vLLM/TensorRT-LLM config keys
    (``prompt_lookup_max``), SGLang flags without ``--speculative-``. ``extra_args`` are appended
    to the command line verbatim.
    """

    model_config = ConfigDict(frozen=True)

    method: SpecMethod = "none"
    draft_depth: int | None = Field(default=None, ge=1)
    """Draft depth: speculative tokens per step (vLLM ``num_speculative_tokens``)."""
    draft_model: str | None = None
    synthetic_acceptance_length: float | None = Field(default=None, ge=1.0)
    """Force this acceptance length (bonus token included) where the engine can fake it."""
    params: dict[str, ParamValue] = Field(default_factory=dict)
    extra_args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)

    @field_validator("method", mode="before")
    @classmethod
    def _alias(cls, value: Any) -> Any:
        if isinstance(value, str):
            return spec_method_key(value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> SpecSettings:
        if self.method == "none" and (
            self.draft_depth is not None or self.draft_model or self.synthetic_acceptance_length
        ):
            raise ValueError("spec method 'none' takes no g, draft model or synthetic AL")
        if (
            self.synthetic_acceptance_length is not None
            and self.draft_depth is not None
            and self.synthetic_acceptance_length > self.draft_depth + 1
        ):
            raise ValueError(
                f"synthetic acceptance length {self.synthetic_acceptance_length} exceeds "
                f"g + 1 = {self.draft_depth + 1}"
            )
        return self

    @property
    def is_off(self) -> bool:
        return self.method == "none"

    @property
    def label(self) -> str:
        """Short name for logs and file names: ``none``, ``mtp-g3``, ``ngram-mod-g8-al2.5``."""
        parts: list[str] = [self.method]
        if self.draft_depth is not None:
            parts.append(f"g{self.draft_depth}")
        if self.synthetic_acceptance_length is not None:
            parts.append(f"al{self.synthetic_acceptance_length:g}")
        return "-".join(parts)


class ServerSettings(BaseModel):
    """How to run the server itself, whatever the spec config."""

    model_config = ConfigDict(frozen=True)

    model: str = Field(min_length=1)
    host: str = "127.0.0.1"
    port: int | None = Field(default=None, ge=1, le=65535)
    """None: pick a free port at launch."""
    tp: int = Field(default=1, ge=1)
    context_tokens: int | None = Field(default=None, ge=1)
    parallel: int | None = Field(default=None, ge=1)
    """Concurrent sequences the server admits (llama.cpp ``-np``, vLLM ``--max-num-seqs``...)."""
    threads: int | None = Field(default=None, ge=1)
    """CPU threads (llama.cpp only)."""
    binary: str | None = None
    """Executable to launch instead of the engine's default (a Python for SGLang)."""
    extra_args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    config_dir: str | None = None
    """Folder the recipe's config files go to (the run folder); set by the launcher."""
    window_iterations: int | None = Field(default=None, ge=1)
    """An upper bound on the engine iterations of one measured window (TensorRT-LLM sizes its
    iteration-stats queue from it); None: the engine's default."""
    per_request_spec_metrics: bool = True
    """Ask the engine for per-request spec-decoding counts where it has a switch for them
    (vLLM ``--per-request-spec-decode-metrics summary``, v0.29.0 and later)."""

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise ValueError("the server has no port yet; pick one before building the URL")
        return f"http://{self.host}:{self.port}"

    def require_port(self) -> int:
        if self.port is None:
            raise ValueError("ServerSettings.port must be set before building a command")
        return self.port

    def config_path(self, name: str) -> str:
        """Where a recipe config file called ``name`` lives."""
        return str(Path(self.config_dir) / name) if self.config_dir else name


@runtime_checkable
class EngineRecipe(Protocol):
    """How to launch one engine with a spec config, and how to read its health and acceptance."""

    name: str
    """Engine key as stored in PointConfig.engine: ``llamacpp``, ``vllm``, ``sglang``, ``trt``."""
    health_path: str
    metrics_path: str
    acceptance_source: AcceptanceSource

    def command(self, spec: SpecSettings, server: ServerSettings) -> list[str]:
        """The full argv that starts the server."""
        ...

    def spec_args(self, spec: SpecSettings, server: ServerSettings) -> list[str]:
        """The spec part of the argv (for provenance)."""
        ...

    def env(self, spec: SpecSettings, server: ServerSettings) -> dict[str, str]:
        """Environment variables to add for this config."""
        ...

    def files(self, spec: SpecSettings, server: ServerSettings) -> dict[str, str]:
        """Config files (name in ``server.config_dir`` → text) to write before launch."""
        ...


class Engine:
    """One engine, whole: its key and aliases, launch recipe, acceptance source, tokenizer and
    request defaults. Subclasses set ``name`` and write ``spec_args`` and ``command``; they are
    made known with :func:`specscope.engines.registry.register_engine`."""

    name: str
    """Engine key as stored in PointConfig.engine and accepted as a recipe's ``engine.kind``."""
    aliases: ClassVar[tuple[str, ...]] = ()
    """Other spellings users may type (lowercase): ``llama.cpp``, ``tensorrt-llm``..."""
    health_path: str = "/health"
    metrics_path: str = "/metrics"
    acceptance_source: AcceptanceSource = "none"
    metric_prefix: ClassVar[str | None] = None
    """Prefix of the engine's Prometheus spec-decoding counters (``vllm`` in
    ``vllm:spec_decode_num_drafts_total``); None when it exposes none."""
    request_defaults: ClassVar[Mapping[str, Any]] = MappingProxyType({})
    """Body fields every load request to this engine carries."""

    def spec_args(self, spec: SpecSettings, server: ServerSettings) -> list[str]:
        """The spec part of the argv (for provenance)."""
        raise NotImplementedError

    def command(self, spec: SpecSettings, server: ServerSettings) -> list[str]:
        """The full argv that starts the server."""
        raise NotImplementedError

    def env(self, spec: SpecSettings, server: ServerSettings) -> dict[str, str]:
        """Environment variables to add for this config."""
        return dict(spec.env)

    def files(self, spec: SpecSettings, server: ServerSettings) -> dict[str, str]:
        """Config files (name in ``server.config_dir`` → text) to write before launch."""
        return {}

    def spec_note(self, spec: SpecSettings) -> str | None:
        """A caveat on what g means for ``spec``; None when there is none."""
        return None

    def tokenizer(self, base_url: str, model: str | None = None) -> Tokenizer:
        """The running server's own tokenizer, over HTTP."""
        raise no_tokenizer(self.name)


def no_tokenizer(engine: str) -> UserError:
    """The error for an engine that exposes no tokenizer endpoint."""
    return UserError(
        f"engine {engine!r} exposes no tokenizer endpoint; pass a local tokenizer "
        "(a Hugging Face name or path) for synthetic prompts"
    )


def server_args(server: ServerSettings, *flags: tuple[str, int | str | None]) -> list[str]:
    """``--host H --port P``, then each ``(flag, value)`` whose value is set, as argv."""
    argv = ["--host", server.host, "--port", str(server.require_port())]
    for flag, value in flags:
        if value is not None:
            argv += [flag, str(value)]
    return argv


def describe_spec(recipe: EngineRecipe, spec: SpecSettings, server: ServerSettings) -> str:
    """The engine's own spec settings, verbatim, for ``PointConfig.spec_config``.

    Flags as a shell string, then any environment variables, then any config file contents.
    """
    parts = []
    args = recipe.spec_args(spec, server)
    if args:
        parts.append(shlex.join(args))
    env = recipe.env(spec, server)
    if env:
        parts.append(" ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(env.items())))
    for name, text in sorted(recipe.files(spec, server).items()):
        parts.append(f"{name}:\n{text.rstrip()}")
    note = spec_note(recipe, spec)
    if note:
        parts.append(f"# {note}")
    return "\n".join(parts)


def spec_note(recipe: EngineRecipe, spec: SpecSettings) -> str | None:
    """The recipe's caveat on what g means for ``spec`` (SGLang NGRAM: a tree budget)."""
    note = getattr(recipe, "spec_note", None)
    return note(spec) if callable(note) else None


def unsupported(engine: str, spec: SpecSettings, supported: list[str]) -> UserError:
    """The error for a spec method an engine does not offer."""
    return UserError(
        f"{engine} has no spec method {spec.method!r}; choose one of {', '.join(supported)}"
    )


def require_draft_model(engine: str, spec: SpecSettings) -> str:
    if not spec.draft_model:
        raise UserError(
            f"{engine} spec method {spec.method!r} needs a draft model; pass one with the "
            "draft_model setting (--draft-model)"
        )
    return spec.draft_model


def require_draft_depth(engine: str, spec: SpecSettings) -> int:
    if spec.draft_depth is None:
        raise UserError(
            f"{engine} spec method {spec.method!r} needs the draft depth g "
            "(number of speculative tokens); pass --g N"
        )
    return spec.draft_depth


def format_param(value: ParamValue) -> str:
    """A param value as a command-line word (booleans lowercase, as engines expect)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def flags_with_params(
    engine: str, flags: dict[str, str | None], params: dict[str, ParamValue], prefix: str
) -> list[str]:
    """Flags derived from the settings plus ``params`` as ``{prefix}{key}`` flags, as argv.

    A key starting with ``-`` is used as the flag itself; underscores become dashes. ``True``
    gives a bare flag, ``False`` leaves it out. A param that contradicts a derived flag is an
    error rather than a silent override. A flag whose value is None is bare.
    """
    merged = dict(flags)
    for key, value in params.items():
        flag: str = key if key.startswith("-") else f"{prefix}{key.replace('_', '-')}"
        if isinstance(value, bool):
            if value:
                merged[flag] = None
            continue
        text = format_param(value)
        if flag in merged and merged[flag] != text:
            raise UserError(
                f"{engine} flag {flag} is set twice (settings give {merged[flag]}, params give "
                f"{text}); keep one"
            )
        merged[flag] = text
    argv: list[str] = []
    for name, word in merged.items():
        argv.append(name)
        if word is not None:
            argv.append(word)
    return argv


@runtime_checkable
class ServerHandle(Protocol):
    """A server the sweep talks to: launched by specscope or already running."""

    @property
    def engine(self) -> str: ...

    @property
    def base_url(self) -> str: ...

    @property
    def metrics_path(self) -> str: ...

    @property
    def acceptance_source(self) -> AcceptanceSource: ...

    def start(self) -> None:
        """Make the server ready (launch and/or wait for health)."""
        ...

    def stop(self) -> None: ...

    def is_alive(self) -> bool: ...

    def check(self) -> None:
        """Raise EngineDiedError if the server is gone."""
        ...

    async def watch(self, interval_s: float = 1.0) -> None:
        """Return never; raise EngineDiedError as soon as the server is gone."""
        ...
