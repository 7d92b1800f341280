"""Files written whole or not at all: a report page, a PNG or an export that hits a full disk
leaves no half-written file behind, and the error is one line naming the file and the cause.
Also the formats points are exported in (:data:`ExportFormat`, written by store/export.py)."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Literal

from specscope.errors import UserError

__all__ = ["ExportFormat", "write_atomic"]

ExportFormat = Literal["csv", "parquet", "json"]


def write_atomic(path: Path, data: str | bytes) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` through a temporary file in the same folder,
    renamed over ``path`` only once everything is on disk."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise UserError(
            f"could not write {path}: {exc.strerror or exc}; nothing was left there (free "
            "space or write somewhere else)"
        ) from exc
    return path
