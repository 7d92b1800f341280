"""Reading from an open store's connection: points (whole or lean), requests, runs, counts."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import duckdb
from pydantic import BaseModel, ConfigDict, Field

from specscope.schema import Point, RequestRecord
from specscope.store.codec import (
    LEAN_SELECT,
    POINT_SELECT,
    REQUEST_SELECT,
    fetch_columns,
    points_from_columns,
    requests_from_rows,
)
from specscope.store.filters import POINT_ORDER, Combo, PointFilter, where_clause


class RunInfo(BaseModel):
    """One row of the ``runs`` table."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    created_at: datetime
    """UTC, naive."""
    kind: str
    command: str
    engine: str | None
    notes: dict[str, Any] = Field(default_factory=dict)


def read_points(
    con: duckdb.DuckDBPyConnection,
    table: str = "points",
    where: str = "",
    params: Sequence[Any] = (),
    *,
    lean: bool = False,
) -> list[Point]:
    """Points of ``table`` (e.g. an attached store's ``alias.points``) matching the SQL
    ``where`` (``"WHERE ..."`` or empty), in the store's stable order.

    ``lean`` reads only :data:`~specscope.store.codec.LEAN_POINT_COLUMNS` (see
    :meth:`Store.points`); equal configs are then built once and shared.
    """
    select = LEAN_SELECT if lean else POINT_SELECT
    result = con.execute(f"SELECT {select} FROM {table} {where} ORDER BY {POINT_ORDER}", params)
    cols = fetch_columns(result)
    gc_was_on = gc.isenabled()
    gc.disable()  # building 10^5 small objects otherwise triggers repeated full collections
    try:
        return points_from_columns(cols, share=lean)
    finally:
        if gc_was_on:
            gc.enable()


def point_ids(con: duckdb.DuckDBPyConnection, filter: PointFilter | None) -> set[str]:
    """Ids of stored points (None: every point, any status)."""
    where, params = where_clause(filter)
    rows = con.execute(f"SELECT point_id FROM points {where}", params).fetchall()
    return {r[0] for r in rows}


def count(con: duckdb.DuckDBPyConnection, filter: PointFilter | None) -> int:
    """How many points match (None: every point, any status)."""
    where, params = where_clause(filter)
    row = con.execute(f"SELECT count(*) FROM points {where}", params).fetchone()
    return int(row[0]) if row else 0


def requests(con: duckdb.DuckDBPyConnection, point_id: str) -> list[RequestRecord]:
    """The per-request records of one point: warm-ups first, then by index."""
    rows = con.execute(
        f'SELECT {REQUEST_SELECT} FROM requests WHERE point_id = ? ORDER BY warmup DESC, "index"',
        [point_id],
    ).fetchall()
    return requests_from_rows(rows)


def timed_request_counts(
    con: duckdb.DuckDBPyConnection, point_ids: Iterable[str]
) -> dict[str, int]:
    """How many timed (non-warm-up) request records each point has stored."""
    ids = sorted(set(point_ids))
    if not ids:
        return {}
    rows = con.execute(
        "SELECT point_id, count(*) FROM requests WHERE NOT warmup AND point_id IN "
        "(SELECT unnest(?)) GROUP BY point_id",
        [ids],
    ).fetchall()
    counts = dict.fromkeys(ids, 0)
    counts.update({str(pid): int(n) for pid, n in rows})
    return counts


def combos(con: duckdb.DuckDBPyConnection, filter: PointFilter | None) -> list[Combo]:
    """Distinct model × hardware × precision × isl × osl × spec method × engine, with counts."""
    where, params = where_clause(filter)
    rows = con.execute(
        'SELECT model, hardware, "precision", isl, osl, spec_method, engine, count(*) '
        f"FROM points {where} GROUP BY ALL ORDER BY ALL",
        params,
    ).fetchall()
    keys = (*Combo.model_fields,)
    return [Combo(**dict(zip(keys, r, strict=True))) for r in rows]


def runs(con: duckdb.DuckDBPyConnection) -> list[RunInfo]:
    """Every run, oldest first."""
    rows = con.execute(
        "SELECT run_id, created_at, kind, command, engine, notes FROM runs "
        "ORDER BY created_at, run_id"
    ).fetchall()
    return [
        RunInfo(
            run_id=r[0],
            created_at=r[1],
            kind=r[2],
            command=r[3],
            engine=r[4],
            notes=json.loads(r[5]),
        )
        for r in rows
    ]
