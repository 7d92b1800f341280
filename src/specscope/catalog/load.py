"""Load the hardware and model catalogs: the shipped files, then the user's overlays.

The shipped catalogs live in ``specscope/data/catalog/{hardware,models}.toml``. A user file
(``--catalog FILE``) has the same layout (``[hardware.<key>]`` and ``[models.<key>]`` tables) and
overrides field by field, or adds new keys (how one table is read: :mod:`.entries`).

The ``cpu`` hardware entry has no spec in the file, only its key and aliases under
``[hardware_names]`` (tables of keys only, read by :mod:`specscope.hardware_keys`): it is
measured on first use by :mod:`specscope.catalog.probe` (and cached), unless a catalog file pins
it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from specscope.catalog.entries import build_spec, norm_key, normalise_entry
from specscope.catalog.probe import CPU_KEY, cpu_hardware
from specscope.errors import UserError
from specscope.hardware_keys import KEY_TABLES, canonical_hardware
from specscope.predict.specs import TFLOPS_FIELDS, HardwareSpec, ModelSpec
from specscope.tomlio import read_toml


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
        if canonical_hardware(key) == CPU_KEY and probe_cpu:
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


def _lookup(key: str, table: Mapping[str, HardwareSpec] | Mapping[str, ModelSpec]) -> str | None:
    wanted = norm_key(key)
    candidates = [wanted, wanted.replace("_", "-")]
    if "/" in wanted:
        candidates.append(wanted.rsplit("/", 1)[1])
    for candidate in candidates:
        if candidate in table:
            return candidate
        for name, entry in table.items():
            if candidate in (norm_key(a) for a in entry.aliases):
                return name
    return None


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
        hardware[key] = build_spec(HardwareSpec, "hardware", key, fields, blame[("hardware", key)])
    for key, fields in raw["models"].items():
        models[key] = build_spec(ModelSpec, "models", key, fields, blame[("models", key)])
    if cpu_override and _is_complete_hardware(cpu_override):
        hardware[CPU_KEY] = build_spec(
            HardwareSpec, "hardware", CPU_KEY, cpu_override, blame[("hardware", CPU_KEY)]
        )
        cpu_override = {}
    return Catalog(hardware=hardware, models=models, files=files, cpu_override=cpu_override)


def _is_complete_hardware(fields: Mapping[str, Any]) -> bool:
    required = ("memory_gb", "bandwidth_tb_s")
    return all(f in fields for f in required) and any(f in fields for f in TFLOPS_FIELDS.values())


def _merge_file(
    path: Path,
    raw: dict[str, dict[str, dict[str, Any]]],
    blame: dict[tuple[str, str], Path],
    *,
    strict: bool,
) -> None:
    data = read_toml(path)
    if strict:  # the shipped file's tables of keys only (read by specscope.hardware_keys)
        for table in KEY_TABLES:
            data.pop(table, None)
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
            fields = normalise_entry(kind, norm_key(key), body, path, strict, default_date)
            entry = raw[kind].setdefault(norm_key(key), {})
            sources = {**entry.get("sources", {}), **fields.pop("sources")}
            entry.update(fields)
            entry["sources"] = sources
            blame[(kind, norm_key(key))] = path


def _file_date(path: Path) -> str:
    try:
        stamp = path.stat().st_mtime
    except OSError:
        return dt.date.today().isoformat()
    return dt.datetime.fromtimestamp(stamp, tz=dt.UTC).date().isoformat()
