"""The hardware keys specscope knows, and their aliases, read from the shipped catalog file.

``data/catalog/hardware.toml`` is their one home: a ``[hardware.<key>]`` table (with its spec)
per catalogued device, a ``[hardware_names]`` entry per device known by name only (``cpu``,
measured on first use, and hardware that InferenceX runs on or the price presets price), and
``[inferencex] hardware``, the keys InferenceX runs on. The economics presets, the InferenceX
import and the catalog's ``cpu`` lookup take keys from here. Light on purpose: the file is read
once, as TOML, and no spec is built.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from specscope.tomlio import read_toml

NAMES_TABLE = "hardware_names"
"""The table of hardware known by key and aliases only."""
INFERENCEX_TABLE = "inferencex"
"""The table whose ``hardware`` lists the keys InferenceX runs on."""
KEY_TABLES = (NAMES_TABLE, INFERENCEX_TABLE)
"""Tables of the shipped hardware file that hold keys only (the catalog loader skips them)."""


def _norm(name: str) -> str:
    return name.strip().lower()


@cache
def _catalog_file() -> dict[str, Any]:
    path = Path(str(resources.files("specscope").joinpath("data", "catalog", "hardware.toml")))
    return read_toml(path)


@cache
def _key_of() -> dict[str, str]:
    """Every key and alias, normalised, mapped to its key."""
    data = _catalog_file()
    entries = {**data.get("hardware", {}), **data.get(NAMES_TABLE, {})}
    key_of = {_norm(key): _norm(key) for key in entries}
    for key, body in entries.items():
        for alias in body.get("aliases", []):
            key_of.setdefault(_norm(alias), _norm(key))
    return key_of


def hardware_keys() -> frozenset[str]:
    """Every hardware key of the catalog file (aliases not included)."""
    return frozenset(_key_of().values())


@cache
def inferencex_hardware_keys() -> frozenset[str]:
    """The hardware keys InferenceX runs on (``[inferencex] hardware`` of the catalog file)."""
    keys = [_norm(key) for key in _catalog_file().get(INFERENCEX_TABLE, {}).get("hardware", [])]
    check_hardware_keys(keys, f"[{INFERENCEX_TABLE}] hardware")
    return frozenset(keys)


def hardware_aliases(key: str) -> list[str]:
    """The aliases of ``key``, as the catalog file lists them (normalised)."""
    return [alias for alias, of in _key_of().items() if of == key and alias != key]


def canonical_hardware(name: str) -> str | None:
    """The key that ``name`` is, or is an alias of (case, spaces and ``_`` for ``-`` aside);
    None when the catalog file does not know it."""
    wanted = _norm(name)
    key_of = _key_of()
    return key_of.get(wanted) or key_of.get(wanted.replace("_", "-"))


def check_hardware_keys(keys: Iterable[str], where: str) -> None:
    """Raise ValueError naming each of ``keys`` that is not a key of the catalog file."""
    unknown = sorted(set(keys) - hardware_keys())
    if unknown:
        raise ValueError(
            f"{where}: hardware {', '.join(unknown)} not in data/catalog/hardware.toml; add the "
            "key there (a [hardware.<key>] table, or an entry of [hardware_names])"
        )
