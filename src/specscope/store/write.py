"""Writing to an open store's connection: points, request records, deletions and runs.

Each function runs inside the caller's transaction (:meth:`Store.transaction`); rows go in
through one registered staging relation per call, not row by row.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import duckdb

from specscope.schema import Point, RequestRecord
from specscope.store.codec import (
    REQUEST_SELECT,
    WRITE_SELECT,
    json_text,
    point_row,
    point_staging,
    registered,
    request_row,
    request_staging,
    utc_now,
)


def insert_points(con: duckdb.DuckDBPyConnection, points: Iterable[Point]) -> int:
    """Insert or replace points (latest write wins); returns how many ids were not stored."""
    unique: dict[str, tuple[Any, ...]] = {}
    for point in points:
        row = point_row(point)
        unique[row[0]] = row
    if not unique:
        return 0
    staging = point_staging(unique.values())
    with registered(con, "_specscope_staging", staging) as table:
        found = con.execute(
            f"SELECT count(*) FROM points WHERE point_id IN (SELECT c0 FROM {table})"
        ).fetchone()
        existing = int(found[0]) if found else 0
        con.execute(
            f"INSERT OR REPLACE INTO points ({WRITE_SELECT}, imported_at) "
            f"SELECT {', '.join(staging)}, ? FROM {table}",
            [utc_now()],
        )
    return len(unique) - existing


def insert_requests(
    con: duckdb.DuckDBPyConnection, records: Iterable[RequestRecord], point_id: str | None
) -> int:
    """Insert or replace request records (same point, warm-up and index); returns how many.

    ``point_id`` overrides each record's own (records are often made before their point
    exists); a record with neither is a programming error (ValueError).
    """
    rows: dict[tuple[str, bool, int], tuple[Any, ...]] = {}
    for rec in records:
        pid = point_id or rec.point_id
        if not pid:
            raise ValueError(f"request record {rec.index} has no point_id; pass point_id=")
        rows[(pid, rec.warmup, rec.index)] = request_row(rec, pid)
    if not rows:
        return 0
    staging = request_staging(rows.values())
    with registered(con, "_specscope_req_staging", staging) as table:
        con.execute(
            f"INSERT OR REPLACE INTO requests ({REQUEST_SELECT}) "
            f"SELECT {', '.join(staging)} FROM {table}"
        )
    return len(rows)


def delete_points(con: duckdb.DuckDBPyConnection, point_ids: Iterable[str]) -> int:
    """Remove points and their request records; returns how many points went."""
    ids = sorted(set(point_ids))
    if not ids:
        return 0
    found = con.execute(
        "SELECT count(*) FROM points WHERE point_id IN (SELECT unnest(?))", [ids]
    ).fetchone()
    con.execute("DELETE FROM requests WHERE point_id IN (SELECT unnest(?))", [ids])
    con.execute("DELETE FROM points WHERE point_id IN (SELECT unnest(?))", [ids])
    return int(found[0]) if found else 0


def upsert_run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    kind: str,
    command: str,
    engine: str | None,
    notes: dict[str, Any],
) -> None:
    """Record a run; re-adding one updates it and keeps its ``created_at``."""
    con.execute(
        "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO UPDATE SET "
        "kind = excluded.kind, command = excluded.command, engine = excluded.engine, "
        "notes = excluded.notes",
        [run_id, utc_now(), kind, command, engine, json_text(notes)],
    )
