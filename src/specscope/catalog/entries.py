"""One catalog table turned into a validated spec, every number with its source.

A numeric field is written either as a bare number, which takes the entry's ``source`` and
``date``, or as an inline table ``{ value = 3.35, source = "https://…", date = "2026-11-22",
note = "…" }``; ``source`` may be a list of URLs. The shipped files must source every number;
a user's unsourced number is credited to the user's file.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from specscope.errors import UserError
from specscope.predict.specs import STEP_FIELDS, TFLOPS_FIELDS, HardwareSpec, ModelSpec, SourceRef

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


_SpecT = TypeVar("_SpecT", HardwareSpec, ModelSpec)


def norm_key(key: str) -> str:
    """A catalog key or alias as compared: stripped, lower case."""
    return key.strip().lower()


def build_hardware(key: str, fields: Mapping[str, Any], origin: Path) -> HardwareSpec:
    """Validate one normalised hardware table (as :func:`normalise_entry` returns it)."""
    return build_spec(HardwareSpec, "hardware", key, fields, origin)


def build_spec(
    cls: type[_SpecT], kind: str, key: str, fields: Mapping[str, Any], origin: Path
) -> _SpecT:
    """Validate one normalised table as a spec; a bad field is one UserError line."""
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
                sizes[norm_key(prec)] = number
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
