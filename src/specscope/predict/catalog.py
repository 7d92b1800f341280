"""Hardware and model catalogs with a source and a date for every number.

The shipped catalogs live in ``specscope/data/catalog/{hardware,models}.toml``. A user file
(``--catalog FILE``) has the same layout (``[hardware.<key>]`` and ``[models.<key>]`` tables) and
overrides field by field, or adds new keys.

A numeric field is written either as a bare number, which takes the entry's ``source`` and
``date``, or as an inline table ``{ value = 3.35, source = "https://…", date = "2026-11-22",
note = "…" }``; ``source`` may be a list of URLs. The shipped files must source every number;
a user's unsourced number is credited to the user's file.

The ``cpu`` hardware entry is not in the file: it is measured on first use by
:mod:`specscope.predict.probe` (and cached), unless a catalog file pins it.
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from specscope.errors import UserError
from specscope.predict.precision import COMPUTE_FALLBACK, compute_precision

CPU_KEY = "cpu"
CPU_ALIASES = ("cpu", "this-cpu", "local-cpu", "host-cpu")

TFLOPS_FIELDS: dict[str, str] = {
    "fp32": "fp32_tflops",
    "bf16": "bf16_tflops",
    "fp8": "fp8_tflops",
    "fp4": "fp4_tflops",
}

STEP_FIELDS = (
    "eta_bw",
    "eta_f",
    "step_overhead_ms",
    "layer_overhead_us",
    "token_layer_overhead_us",
    "draft_overhead_us",
)
"""Step-model constants a hardware entry may state (one set per hardware family)."""

HARDWARE_NUMBERS = (
    "memory_gb",
    "bandwidth_tb_s",
    *TFLOPS_FIELDS.values(),
    "tdp_w",
    "kw_per_gpu_all_in",
    *STEP_FIELDS,
    "link_bandwidth_gb_s",
    "link_latency_us",
    "checked_max_concurrency",
)
HARDWARE_TEXT = ("name", "aliases", "measured", "notes")

MODEL_NUMBERS = (
    "params_total",
    "params_active",
    "n_layers",
    "hidden_size",
    "vocab_size",
    "n_heads",
    "n_kv_heads",
    "head_dim",
    "kv_lora_rank",
    "qk_rope_head_dim",
    "kv_extra_per_layer",
    "n_attn_layers",
    "sliding_window",
    "n_sliding_layers",
    "kv_elements_per_token",
    "linear_state_elements",
    "n_experts",
    "n_active_experts",
    "n_shared_experts",
    "moe_intermediate_size",
    "expert_params",
    "n_moe_layers",
    "mtp_layers",
    "mtp_params_total",
    "mtp_params_active",
)
MODEL_TEXT = ("name", "aliases", "attention", "tied_embeddings", "notes")


class SourceRef(BaseModel):
    """Where one number comes from."""

    model_config = ConfigDict(frozen=True)

    urls: list[str]
    date: str
    """The date of the source version when known, else the date the number was taken."""
    note: str = ""


class HardwareSpec(BaseModel):
    """One accelerator (one GPU, one APU, or this machine's CPU). Dense rates, no sparsity."""

    model_config = ConfigDict(frozen=True)

    key: str
    name: str
    aliases: list[str] = Field(default_factory=list)
    memory_gb: float = Field(gt=0)
    """Memory per device in GB (1e9 bytes), usable where sources say so."""
    bandwidth_tb_s: float = Field(gt=0)
    """HBM / DRAM bandwidth in TB/s (1e12 bytes/s); a measured copy bandwidth for ``cpu``."""
    fp32_tflops: float | None = Field(default=None, gt=0)
    bf16_tflops: float | None = Field(default=None, gt=0)
    fp8_tflops: float | None = Field(default=None, gt=0)
    fp4_tflops: float | None = Field(default=None, gt=0)
    tdp_w: float | None = Field(default=None, gt=0)
    kw_per_gpu_all_in: float | None = Field(default=None, gt=0)
    """All-in power per device (cooling, networking, host share), as the economics presets use."""
    measured: bool = False
    """True when the numbers come from a probe on this machine rather than a datasheet."""
    eta_bw: float | None = Field(default=None, gt=0, le=1)
    """Achieved / listed bandwidth of this hardware family (step-model constant)."""
    eta_f: float | None = Field(default=None, gt=0, le=1)
    step_overhead_ms: float | None = Field(default=None, ge=0)
    """Per target step: scheduling, sampling, host."""
    layer_overhead_us: float | None = Field(default=None, ge=0)
    """Per layer per pass: the kernel floor (amortises over a verify)."""
    token_layer_overhead_us: float | None = Field(default=None, ge=0)
    """Per token per layer: routing, state update, small per-token kernels (does not)."""
    draft_overhead_us: float | None = Field(default=None, ge=0)
    """Per draft pass: the host round trip of one draft call."""
    link_bandwidth_gb_s: float | None = Field(default=None, gt=0)
    """Device-to-device link, one direction, GB/s (NVLink, xGMI, PCIe)."""
    link_latency_us: float | None = Field(default=None, ge=0)
    """One small all-reduce over that link."""
    checked_max_concurrency: float | None = Field(default=None, ge=1)
    """Highest concurrency of the public measurements the constants were checked against."""
    notes: str = ""
    sources: dict[str, SourceRef] = Field(default_factory=dict)
    """Field name → where its number comes from."""

    @property
    def has_step_constants(self) -> bool:
        """True when the entry states every step-model constant (one set per family)."""
        return all(getattr(self, f) is not None for f in STEP_FIELDS)

    @model_validator(mode="after")
    def _has_a_rate(self) -> HardwareSpec:
        if all(getattr(self, f) is None for f in TFLOPS_FIELDS.values()):
            raise ValueError("no dense compute rate: give at least one of " + _fields_text())
        return self

    def rate_tflops(self, compute: str) -> tuple[float, str]:
        """Dense TFLOP/s for a compute precision, falling back to a wider one the device lists.

        Returns the rate and the precision column actually used (differs on fallback).
        """
        for candidate in COMPUTE_FALLBACK.get(compute, (compute,)):
            value = getattr(self, TFLOPS_FIELDS[candidate])
            if value is not None:
                return float(value), candidate
        raise UserError(
            f"hardware '{self.key}' lists no dense compute rate usable for {compute}; add "
            f"{TFLOPS_FIELDS.get(compute, compute + '_tflops')} to it with --catalog FILE"
        )

    def rate_for_weights(self, precision: str) -> tuple[float, str]:
        """Dense TFLOP/s for weights stored at ``precision`` (e.g. q4_k_m runs at the BF16 rate)."""
        return self.rate_tflops(compute_precision(precision))


def _fields_text() -> str:
    return ", ".join(TFLOPS_FIELDS.values())


class ModelSpec(BaseModel):
    """Architecture numbers the step model needs.

    ``attention`` says how KV bytes per token follow from the layout: ``gqa`` (2 × KV heads ×
    head dim per attention layer), ``mla`` (latent ``kv_lora_rank`` + ``qk_rope_head_dim``), or
    ``custom`` (``kv_elements_per_token`` given directly). ``kv_extra_per_layer`` adds cached
    elements per token per attention layer (e.g. a sparse-attention indexer key).
    ``linear_state_elements`` is the fixed recurrent state per sequence of linear-attention layers
    (Gated DeltaNet), read and written once per pass.
    """

    model_config = ConfigDict(frozen=True)

    key: str
    name: str
    aliases: list[str] = Field(default_factory=list)
    params_total: float = Field(gt=0)
    params_active: float = Field(gt=0)
    n_layers: int = Field(ge=1)
    hidden_size: int | None = Field(default=None, ge=1)
    vocab_size: int | None = Field(default=None, ge=1)
    tied_embeddings: bool = False
    attention: Literal["gqa", "mla", "custom"] = "gqa"
    n_heads: int | None = Field(default=None, ge=1)
    n_kv_heads: int | None = Field(default=None, ge=1)
    head_dim: int | None = Field(default=None, ge=1)
    kv_lora_rank: int | None = Field(default=None, ge=1)
    qk_rope_head_dim: int | None = Field(default=None, ge=0)
    kv_extra_per_layer: int = Field(default=0, ge=0)
    n_attn_layers: int | None = Field(default=None, ge=0)
    """Layers that keep a KV cache; defaults to all layers."""
    sliding_window: int | None = Field(default=None, ge=1)
    n_sliding_layers: int = Field(default=0, ge=0)
    """How many of the attention layers see only the last ``sliding_window`` tokens."""
    kv_elements_per_token: float | None = Field(default=None, gt=0)
    """Total cached elements per token over all layers, for ``custom`` layouts."""
    linear_state_elements: float = Field(default=0.0, ge=0)
    n_experts: int | None = Field(default=None, ge=1)
    n_active_experts: int | None = Field(default=None, ge=1)
    n_shared_experts: int = Field(default=0, ge=0)
    moe_intermediate_size: int | None = Field(default=None, ge=1)
    expert_params: float | None = Field(default=None, gt=0)
    """Parameters of one routed expert in one layer; default 3 × hidden × moe_intermediate."""
    n_moe_layers: int | None = Field(default=None, ge=0)
    mtp_layers: int = Field(default=0, ge=0)
    mtp_params_total: float | None = Field(default=None, gt=0)
    """Parameters one MTP draft pass streams at full expert union (layer + head)."""
    mtp_params_active: float | None = Field(default=None, gt=0)
    weight_bytes: dict[str, float] = Field(default_factory=dict)
    """Measured checkpoint size in bytes per precision; overrides bytes/param × params."""
    notes: str = ""
    sources: dict[str, SourceRef] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _layout_complete(self) -> ModelSpec:
        if self.params_active > self.params_total * (1 + 1e-9):
            raise ValueError("params_active is larger than params_total")
        missing: list[str] = []
        if self.attention == "gqa":
            missing = [f for f in ("n_heads", "n_kv_heads", "head_dim") if getattr(self, f) is None]
        elif self.attention == "mla":
            missing = [
                f
                for f in ("n_heads", "kv_lora_rank", "qk_rope_head_dim")
                if getattr(self, f) is None
            ]
        elif self.kv_elements_per_token is None:
            missing = ["kv_elements_per_token"]
        if missing:
            raise ValueError(f"attention '{self.attention}' needs {', '.join(missing)}")
        if self.n_experts is not None:
            need = ["n_active_experts", "n_moe_layers"]
            missing = [f for f in need if getattr(self, f) is None]
            if self.expert_params is None and (
                self.moe_intermediate_size is None or self.hidden_size is None
            ):
                missing.append("expert_params (or moe_intermediate_size and hidden_size)")
            if missing:
                raise ValueError(f"a MoE model needs {', '.join(missing)}")
            assert self.n_active_experts is not None
            if self.n_active_experts > self.n_experts:
                raise ValueError("n_active_experts is larger than n_experts")
            if self.routed_expert_params > self.params_total:
                raise ValueError("routed experts hold more parameters than params_total")
        if self.n_sliding_layers and self.sliding_window is None:
            raise ValueError("n_sliding_layers is set but sliding_window is not")
        if self.n_sliding_layers > self.attn_layers:
            raise ValueError("n_sliding_layers is larger than the number of attention layers")
        return self

    @property
    def is_moe(self) -> bool:
        return self.n_experts is not None

    @property
    def attn_layers(self) -> int:
        return self.n_layers if self.n_attn_layers is None else self.n_attn_layers

    @property
    def expert_params_each(self) -> float:
        """Parameters of one routed expert in one layer (SwiGLU: 3 × hidden × intermediate)."""
        if self.expert_params is not None:
            return self.expert_params
        if self.moe_intermediate_size is None or self.hidden_size is None:
            return 0.0
        return 3.0 * self.hidden_size * self.moe_intermediate_size

    @property
    def routed_expert_params(self) -> float:
        """All routed-expert parameters over all MoE layers."""
        if not self.is_moe:
            return 0.0
        assert self.n_experts is not None and self.n_moe_layers is not None
        return self.n_moe_layers * self.n_experts * self.expert_params_each

    @property
    def unread_embedding_params(self) -> float:
        """Input-embedding rows a decode pass does not stream (untied embedding tables only)."""
        if self.tied_embeddings or self.vocab_size is None or self.hidden_size is None:
            return 0.0
        return float(self.vocab_size * self.hidden_size)

    @property
    def kv_elements_per_layer(self) -> float:
        """Cached elements per token in one attention layer (K and V, or the MLA latent)."""
        if self.attention == "gqa":
            assert self.n_kv_heads is not None and self.head_dim is not None
            return 2.0 * self.n_kv_heads * self.head_dim + self.kv_extra_per_layer
        if self.attention == "mla":
            assert self.kv_lora_rank is not None and self.qk_rope_head_dim is not None
            return float(self.kv_lora_rank + self.qk_rope_head_dim + self.kv_extra_per_layer)
        assert self.kv_elements_per_token is not None
        return self.kv_elements_per_token / max(self.attn_layers, 1)

    @property
    def attn_flops_per_context_token(self) -> float:
        """FLOPs per query token, per context token, per attention layer (scores + values).

        GQA: 4 × heads × head_dim. MLA (absorbed): 2 × heads × (2·latent + rope). ``custom``
        layouts have no general formula and count 0 (their attention FLOPs are left out).
        """
        if self.attention == "gqa":
            assert self.n_heads is not None and self.head_dim is not None
            return 4.0 * self.n_heads * self.head_dim
        if self.attention == "mla":
            assert self.n_heads is not None and self.kv_lora_rank is not None
            assert self.qk_rope_head_dim is not None
            return 2.0 * self.n_heads * (2 * self.kv_lora_rank + self.qk_rope_head_dim)
        return 0.0

    def weight_bytes_per_param(self, precision: str, default_bytes: float) -> float:
        """Bytes per parameter: a measured checkpoint size if catalogued, else the default."""
        measured = self.weight_bytes.get(precision)
        if measured is not None:
            return measured / self.params_total
        return default_bytes

    def mtp_head(self) -> ModelSpec:
        """The draft pass of an MTP (or EAGLE-style one-layer) head, as a one-layer model.

        Uses ``mtp_params_total``/``mtp_params_active`` when the catalog has them; otherwise one
        average decoder layer plus the LM head (vocab × hidden), noted in ``notes``.
        """
        head = float((self.vocab_size or 0) * (self.hidden_size or 0))
        layers = max(self.n_layers, 1)
        derived = self.mtp_params_total is None or self.mtp_params_active is None
        routed_layer = self.routed_expert_params / max(self.n_moe_layers or 1, 1)
        embed_and_head = head if self.tied_embeddings else 2.0 * head
        non_routed = self.params_total - self.routed_expert_params - embed_and_head
        total = self.mtp_params_total or (max(non_routed, 0.0) / layers + routed_layer + head)
        active_routed = 0.0
        if self.is_moe:
            assert self.n_active_experts is not None
            active_routed = self.n_active_experts * self.expert_params_each
        active_non_routed = self.params_active - head - active_routed * (self.n_moe_layers or 0)
        active = self.mtp_params_active or (
            max(active_non_routed, 0.0) / layers + active_routed + head
        )
        note = "derived: one average decoder layer plus the LM head" if derived else ""
        return self.model_copy(
            update={
                "key": f"{self.key}:mtp",
                "name": f"{self.name} MTP head",
                "aliases": [],
                "params_total": total,
                "params_active": min(active, total),
                "n_layers": 1,
                "n_attn_layers": 1 if self.attn_layers else 0,
                "n_sliding_layers": 0,
                "kv_elements_per_token": (
                    self.kv_elements_per_layer if self.attention == "custom" else None
                ),
                "linear_state_elements": 0.0,
                "n_moe_layers": 1 if self.is_moe else None,
                "tied_embeddings": True,
                "mtp_layers": 0,
                "mtp_params_total": None,
                "mtp_params_active": None,
                "weight_bytes": {},
                "notes": note,
            }
        )


class Catalog(BaseModel):
    """Hardware and model entries after merging the shipped files with the user's."""

    model_config = ConfigDict(frozen=True)

    hardware: dict[str, HardwareSpec]
    models: dict[str, ModelSpec]
    files: list[str]
    cpu_override: dict[str, Any] = Field(default_factory=dict)
    """A user's partial ``[hardware.cpu]`` table, applied over the probe's numbers."""

    def hardware_spec(self, key: str, *, probe_cpu: bool = True) -> HardwareSpec:
        """The hardware entry for a key or alias; ``cpu`` is measured by the probe (cached)."""
        found = _lookup(key, self.hardware)
        if found is not None:
            return self.hardware[found]
        if _norm(key) in CPU_ALIASES and probe_cpu:
            from specscope.predict.probe import cpu_hardware

            return cpu_hardware(override=self.cpu_override)
        known = ", ".join(sorted([*self.hardware, CPU_KEY]))
        raise UserError(
            f"unknown hardware '{key}'; known: {known} (add your own with --catalog FILE)"
        )

    def model_spec(self, key: str) -> ModelSpec:
        """The model entry for a key or alias (Hugging Face ids such as ``Qwen/…`` work too)."""
        found = _lookup(key, self.models)
        if found is not None:
            return self.models[found]
        known = ", ".join(sorted(self.models))
        raise UserError(f"unknown model '{key}'; known: {known} (add your own with --catalog FILE)")


_SpecT = TypeVar("_SpecT", HardwareSpec, ModelSpec)


def _norm(key: str) -> str:
    return key.strip().lower()


def _lookup(key: str, table: Mapping[str, HardwareSpec] | Mapping[str, ModelSpec]) -> str | None:
    wanted = _norm(key)
    candidates = [wanted, wanted.replace("_", "-")]
    if "/" in wanted:
        candidates.append(wanted.rsplit("/", 1)[1])
    for candidate in candidates:
        if candidate in table:
            return candidate
        for name, entry in table.items():
            if candidate in (_norm(a) for a in entry.aliases):
                return name
    return None


# ---------------------------------------------------------------------------------------------
# Loading


def shipped_catalog_dir() -> Path:
    """Folder of the catalogs shipped with specscope."""
    return Path(str(resources.files("specscope").joinpath("data", "catalog")))


def load_catalog(user_files: Sequence[Path | str] = ()) -> Catalog:
    """Shipped catalogs, then each user file in order (later files win, field by field)."""
    ship = shipped_catalog_dir()
    raw: dict[str, dict[str, dict[str, Any]]] = {"hardware": {}, "models": {}}
    blame: dict[tuple[str, str], Path] = {}
    files: list[str] = []
    for path in (ship / "hardware.toml", ship / "models.toml"):
        _merge_file(path, raw, blame, strict=True)
        files.append(str(path))
    for user in user_files:
        path = Path(user)
        _merge_file(path, raw, blame, strict=False)
        files.append(str(path))
    cpu_override = raw["hardware"].pop(CPU_KEY, {})
    hardware: dict[str, HardwareSpec] = {}
    models: dict[str, ModelSpec] = {}
    for key, fields in raw["hardware"].items():
        hardware[key] = _build(HardwareSpec, "hardware", key, fields, blame[("hardware", key)])
    for key, fields in raw["models"].items():
        models[key] = _build(ModelSpec, "models", key, fields, blame[("models", key)])
    if cpu_override and _is_complete_hardware(cpu_override):
        hardware[CPU_KEY] = _build(
            HardwareSpec, "hardware", CPU_KEY, cpu_override, blame[("hardware", CPU_KEY)]
        )
        cpu_override = {}
    return Catalog(hardware=hardware, models=models, files=files, cpu_override=cpu_override)


def _is_complete_hardware(fields: Mapping[str, Any]) -> bool:
    required = ("memory_gb", "bandwidth_tb_s")
    return all(f in fields for f in required) and any(f in fields for f in TFLOPS_FIELDS.values())


def build_hardware(key: str, fields: Mapping[str, Any], origin: Path) -> HardwareSpec:
    """Validate one normalised hardware table (as :func:`normalise_entry` returns it)."""
    return _build(HardwareSpec, "hardware", key, fields, origin)


def _build(
    cls: type[_SpecT], kind: str, key: str, fields: Mapping[str, Any], origin: Path
) -> _SpecT:
    try:
        return cls.model_validate({"key": key, "name": key, **fields})
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"] if p != "__root__")
        field = f".{where}" if where else ""
        msg = str(err["msg"]).removeprefix("Value error, ")
        raise UserError(
            f"{origin}: {kind}.{key}{field}: {msg} (fix the entry or remove it)"
        ) from None


def _merge_file(
    path: Path,
    raw: dict[str, dict[str, dict[str, Any]]],
    blame: dict[tuple[str, str], Path],
    *,
    strict: bool,
) -> None:
    data = read_toml(path)
    unknown = [k for k in data if k not in raw]
    if unknown:
        raise UserError(
            f"{path}: unknown top-level table '{unknown[0]}'; use [hardware.<key>] or "
            "[models.<key>]"
        )
    default_date = _file_date(path)
    for kind, entries in data.items():
        if not isinstance(entries, dict):
            raise UserError(f"{path}: '{kind}' must be a table of entries like [{kind}.<key>]")
        for key, body in entries.items():
            if not isinstance(body, dict):
                raise UserError(f"{path}: {kind}.{key}: must be a table, not {type(body).__name__}")
            fields = normalise_entry(kind, _norm(key), body, path, strict, default_date)
            entry = raw[kind].setdefault(_norm(key), {})
            sources = {**entry.get("sources", {}), **fields.pop("sources")}
            entry.update(fields)
            entry["sources"] = sources
            blame[(kind, _norm(key))] = path


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, turning every failure into one UserError line."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise UserError(f"{path}: file not found (check the path given to --catalog)") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: invalid TOML: {exc}") from None


def _file_date(path: Path) -> str:
    try:
        stamp = path.stat().st_mtime
    except OSError:
        return dt.date.today().isoformat()
    return dt.datetime.fromtimestamp(stamp, tz=dt.UTC).date().isoformat()


def normalise_entry(
    kind: str,
    key: str,
    body: Mapping[str, Any],
    path: Path,
    strict: bool,
    default_date: str,
) -> dict[str, Any]:
    """Split one catalog table into plain field values and a ``sources`` map.

    ``strict`` (shipped files) requires a source URL and a date for every number.
    """
    numbers = HARDWARE_NUMBERS if kind == "hardware" else MODEL_NUMBERS
    texts = HARDWARE_TEXT if kind == "hardware" else MODEL_TEXT
    where = f"{path}: {kind}.{key}"
    entry_source = body.get("source")
    entry_date = body.get("date")
    entry_urls = _urls(entry_source, f"{where}.source") if entry_source is not None else None
    if entry_date is not None and not isinstance(entry_date, str | dt.date):
        raise UserError(f'{where}.date: must be a date string like "2026-11-22"')
    fields: dict[str, Any] = {}
    sources: dict[str, SourceRef] = {}
    for name, value in body.items():
        if name in ("source", "date"):
            continue
        if name == "weight_bytes" and kind == "models":
            if not isinstance(value, dict):
                raise UserError(f"{where}.weight_bytes: must be a table of precision = bytes")
            sizes: dict[str, float] = {}
            for prec, item in value.items():
                label = f"weight_bytes.{prec}"
                number, ref = _sourced(
                    item, f"{where}.{label}", entry_urls, entry_date, strict, path, default_date
                )
                sizes[_norm(prec)] = number
                sources[label] = ref
            fields["weight_bytes"] = sizes
        elif name in numbers:
            number, ref = _sourced(
                value, f"{where}.{name}", entry_urls, entry_date, strict, path, default_date
            )
            fields[name] = number
            sources[name] = ref
        elif name in texts:
            fields[name] = value
        else:
            allowed = ", ".join([*texts, *numbers, "source", "date"])
            raise UserError(f"{where}: unknown field '{name}' (allowed: {allowed})")
    fields["sources"] = sources
    return fields


def _urls(value: Any, where: str) -> list[str]:
    if isinstance(value, str) and value.strip():
        return [value.strip()]
    if isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value):
        return [v.strip() for v in value]
    raise UserError(f"{where}: source must be a URL string or a list of them")


def _sourced(
    item: Any,
    where: str,
    entry_urls: list[str] | None,
    entry_date: Any,
    strict: bool,
    path: Path,
    default_date: str,
) -> tuple[float, SourceRef]:
    note = ""
    urls = entry_urls
    date = entry_date
    if isinstance(item, dict):
        extra = set(item) - {"value", "source", "date", "note"}
        if extra:
            raise UserError(
                f"{where}: unknown key '{sorted(extra)[0]}' (use value, source, date, note)"
            )
        if "value" not in item:
            raise UserError(f"{where}: missing 'value' in the inline table")
        value = item["value"]
        if "source" in item:
            urls = _urls(item["source"], f"{where}.source")
        date = item.get("date", date)
        note = str(item.get("note", ""))
    else:
        value = item
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UserError(f"{where}: must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise UserError(f"{where}: must be a finite number, got {value!r}")
    if strict and (urls is None or date is None):
        raise UserError(f"{where}: shipped catalog numbers need a source URL and a date")
    return number, SourceRef(
        urls=urls or [f"user catalog file {path}"],
        date=str(date) if date is not None else default_date,
        note=note,
    )


def spec_sources(spec: HardwareSpec | ModelSpec) -> list[SourceRef]:
    """The distinct sources behind one entry, in field order."""
    seen: set[tuple[tuple[str, ...], str]] = set()
    refs: list[SourceRef] = []
    for ref in spec.sources.values():
        ident = (tuple(ref.urls), ref.date)
        if ident not in seen:
            seen.add(ident)
            refs.append(SourceRef(urls=ref.urls, date=ref.date))
    return refs
