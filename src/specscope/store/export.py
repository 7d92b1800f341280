"""Export stored points as CSV, Parquet or JSON: one flat row per point.

Columns are the ``points`` table's own (the names of :data:`specscope.store.codec.POINT_COLUMNS`)
plus two derived ones, ``acceptance_length`` (AL = 1 + accepted / drafts, else the reported AL)
and ``draft_acceptance_rate`` (accepted / drafted tokens), computed by the functions that
:class:`~specscope.schema.AcceptanceCounts` uses. DuckDB writes every format itself (``COPY``),
so no pandas or pyarrow is needed. JSON is one array of flat objects; ``extra`` is a nested
object there and JSON text in CSV.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import duckdb
import numpy as np

from specscope.errors import UserError
from specscope.files import ExportFormat
from specscope.schema import acceptance_length, draft_acceptance_rate
from specscope.store.codec import POINT_COLUMNS, object_array, quote, registered
from specscope.store.db import Store
from specscope.store.filters import POINT_ORDER, PointFilter, where_clause

_DERIVED: dict[str, tuple[Callable[..., float | None], tuple[str, ...]]] = {
    "acceptance_length": (
        acceptance_length,
        ("drafts", "accepted_tokens", "reported_acceptance_length"),
    ),
    "draft_acceptance_rate": (draft_acceptance_rate, ("draft_tokens", "accepted_tokens")),
}
"""Each derived column: the function computing it and the columns it is given."""
DERIVED_COLUMNS: tuple[str, ...] = tuple(_DERIVED)
EXPORT_COLUMNS: tuple[str, ...] = (*POINT_COLUMNS, *DERIVED_COLUMNS)
"""Column names of every export, in order."""

_COPY_OPTIONS: dict[str, str] = {
    "csv": "FORMAT csv, HEADER true",
    "parquet": "FORMAT parquet",
    "json": "FORMAT json, ARRAY true",
}
_TABLE = "_specscope_export"
_DERIVED_TABLE = "_specscope_export_derived"


def export_points(
    store: Store,
    fmt: ExportFormat,
    out: Path | None = None,
    filter: PointFilter | None = None,
    *,
    stream: TextIO | None = None,
) -> str | None:
    """Write the points matching ``filter`` (None: all) in ``fmt``.

    With ``out``: writes that file (creating its folder) and returns None. Without: CSV and JSON
    come back as text (also written to ``stream`` when given); Parquet needs ``out``.
    """
    if fmt not in _COPY_OPTIONS:
        raise UserError(f"export format {fmt!r} is not supported; use csv, parquet or json")
    if out is None and fmt == "parquet":
        raise UserError("parquet is a binary format: give a file to write it to (--out FILE)")
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        # written next to the target and renamed over it once whole: a full disk leaves no
        # half-written export behind
        partial = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        try:
            _copy(store, fmt, partial, filter, shown=out)
            os.replace(partial, out)
        except OSError as exc:
            raise UserError(f"cannot write {out}: {exc.strerror or exc}") from exc
        finally:
            partial.unlink(missing_ok=True)
        return None
    with tempfile.TemporaryDirectory(prefix="specscope-export-") as tmp:
        path = Path(tmp) / f"points.{fmt}"
        _copy(store, fmt, path, filter)
        text = path.read_text(encoding="utf-8")
    if fmt == "json" and not text.strip():
        text = "[]\n"
    if stream is not None:
        stream.write(text)
    return text


def _copy(
    store: Store,
    fmt: ExportFormat,
    path: Path,
    filter: PointFilter | None,
    shown: Path | None = None,
) -> None:
    """COPY the selected points to ``path`` (errors name ``shown``, the file the user asked for)."""
    con = store.connection
    where, params = where_clause(filter)
    columns = ", ".join(quote(c) for c in POINT_COLUMNS)
    derived = ", ".join(f"d.{quote(name)}" for name in _DERIVED)
    # COPY takes no prepared parameters on every DuckDB version: select into a temp table first.
    with registered(con, _DERIVED_TABLE, _derived_values(con, where, params)) as values:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {_TABLE} AS SELECT {columns}, {derived} "
            f"FROM points LEFT JOIN {values} d USING (point_id) {where} "
            f"ORDER BY {POINT_ORDER}",
            params,
        )
    try:
        target = str(path).replace("'", "''")
        con.execute(f"COPY {_TABLE} TO '{target}' ({_COPY_OPTIONS[fmt]})")
    except Exception as exc:  # duckdb.Error and OS errors surface alike
        raise UserError(f"cannot write {shown or path}: {str(exc).splitlines()[0]}") from exc
    finally:
        con.execute(f"DROP TABLE IF EXISTS {_TABLE}")


def _derived_values(
    con: duckdb.DuckDBPyConnection, where: str, params: list[Any]
) -> dict[str, np.ndarray[Any, Any]]:
    """The derived columns of the selected points, keyed by ``point_id`` (None → NULL)."""
    inputs = list(dict.fromkeys(c for _, args in _DERIVED.values() for c in args))
    rows = con.execute(
        f"SELECT point_id, {', '.join(map(quote, inputs))} FROM points {where}", params
    ).fetchall()
    out = {"point_id": object_array([row[0] for row in rows])}
    for name, (function, args) in _DERIVED.items():
        at = [inputs.index(a) + 1 for a in args]
        values = [function(*(row[i] for i in at)) for row in rows]
        out[name] = np.array(values, dtype=np.float64)
    return out
