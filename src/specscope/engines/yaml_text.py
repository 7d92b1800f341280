"""A tiny YAML writer for the few config files engines read (no PyYAML needed).

Mappings become indented blocks, lists of scalars flow lists (``[1, 2]``), lists of mappings
block lists. Strings stay plain when unambiguous, otherwise double-quoted with JSON escapes.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

_PLAIN = re.compile(r"^[A-Za-z_./][A-Za-z0-9_./-]*(?: [A-Za-z0-9_./-]+)*$")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}
_NUMBER = re.compile(
    r"^[-+]?(\.?[0-9]|[0-9]+[._0-9]*)([eE][-+]?[0-9]+)?$|^[-+]?\.?(inf|nan)$", re.I
)


def scalar(value: Any) -> str:
    """One YAML scalar."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value)
        mantissa, e, exponent = text.partition("e")
        # YAML 1.1 readers (PyYAML) need a dot to see a float: 1e+16 → 1.0e+16
        return f"{mantissa}.0e{exponent}" if e and "." not in mantissa else text
    if isinstance(value, str):
        if _PLAIN.match(value) and value.lower() not in _RESERVED and not _NUMBER.match(value):
            return value
        return json.dumps(value, ensure_ascii=False)
    raise TypeError(f"cannot write {type(value).__name__} as a YAML scalar")


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, bool | int | float | str)


def _lines(data: Mapping[str, Any], indent: int) -> list[str]:
    pad = " " * indent
    out: list[str] = []
    for key, value in data.items():
        head = f"{pad}{scalar(str(key))}:"
        if isinstance(value, Mapping):
            if value:
                out.append(head)
                out.extend(_lines(value, indent + 2))
            else:
                out.append(f"{head} {{}}")
        elif isinstance(value, Sequence) and not isinstance(value, str):
            if all(_is_scalar(v) for v in value):
                out.append(f"{head} [{', '.join(scalar(v) for v in value)}]")
            else:
                out.append(head)
                for item in value:
                    if not isinstance(item, Mapping) or not item:
                        raise TypeError("block lists may only hold non-empty mappings")
                    first, *rest = _lines(item, indent + 4)
                    out.append(f"{pad}  - {first.lstrip()}")
                    out.extend(rest)
        else:
            out.append(f"{head} {scalar(value)}")
    return out


def dump(data: Mapping[str, Any]) -> str:
    """YAML text for a mapping (string keys; nested mappings and lists allowed)."""
    return "\n".join(_lines(data, 0)) + "\n" if data else "{}\n"
