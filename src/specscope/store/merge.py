"""Merge other specscope stores into this one (results measured on several machines).

Every point, its per-request records and every run of each source store are copied into the open
store. A merge never discards a measurement: a point's identity includes what was measured
(:func:`~specscope.store.identity.measurement_digest`). Points of runs this store does not hold are
copied as they are, in bulk. A point of a run it holds is already present when its run, config
and results are stored (importing the same file twice adds nothing); with other results (two
machines whose runs got one id, as before run ids carried a random suffix) it is kept as the next
repeat of that configuration, its source store recorded in ``extra["kept_as_repeat"]``, and its
request records follow it under its new id. Runs are deduplicated by ``run_id``. A source is
opened read-only when its schema is current; an older one is migrated in a temporary copy (the
source file is never written); a newer one, or a file that is not a specscope store, is refused
with one line.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path

import duckdb
from pydantic import BaseModel, ConfigDict, computed_field

from specscope.errors import UserError
from specscope.store import migrations
from specscope.store.codec import extra_json, object_array, quote, registered, utc_now
from specscope.store.db import Store, migrated_copy
from specscope.store.failures import damaged_store_error, is_lock_error, one_line
from specscope.store.filters import POINT_ORDER
from specscope.store.identity import describe_added, place_measurements
from specscope.store.read import read_points

_ALIAS = "specscope_merge_source"
_TABLES = ("points", "requests", "runs")


class SourceReport(BaseModel):
    """What one source store brought."""

    model_config = ConfigDict(frozen=True)

    path: str
    schema_version: int
    points_added: int
    """Points stored that were not before, ``points_kept_as_repeats`` included."""
    points_already_present: int
    """Points whose run, config and results were stored already."""
    requests_added: int
    runs_added: int
    runs_already_present: int
    points_kept_as_repeats: int = 0
    """Of ``points_added``: points of a stored run and config with other results, each kept as
    the next repeat (with this source recorded) instead of being dropped."""

    def summary(self) -> str:
        """E.g. ``2 new, 1 kept as another repeat of an existing configuration, 5 already
        present``."""
        return describe_added(
            self.points_added, self.points_kept_as_repeats, self.points_already_present
        )


class MergeReport(BaseModel):
    """What :func:`merge_stores` did, per source and in total."""

    model_config = ConfigDict(frozen=True)

    sources: list[SourceReport]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def points_added(self) -> int:
        return sum(s.points_added for s in self.sources)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def points_already_present(self) -> int:
        return sum(s.points_already_present for s in self.sources)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def points_kept_as_repeats(self) -> int:
        return sum(s.points_kept_as_repeats for s in self.sources)

    def summary(self) -> str:
        """The totals, e.g. ``2 new, 1 kept as another repeat of an existing configuration, 5
        already present``."""
        return describe_added(
            self.points_added, self.points_kept_as_repeats, self.points_already_present
        )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def requests_added(self) -> int:
        return sum(s.requests_added for s in self.sources)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def runs_added(self) -> int:
        return sum(s.runs_added for s in self.sources)


def merge_stores(store: Store, sources: Sequence[Path]) -> MergeReport:
    """Copy points, requests and runs of each store in ``sources`` into ``store``.

    Each source is copied in one transaction. A source that cannot be read raises UserError
    before anything of it is written (sources before it stay merged).
    """
    reports = []
    for source in sources:
        if store.path is not None and _same_file(store.path, source):
            raise UserError(f"{source} is the store being merged into; give another store file")
        with _attached(store.connection, source) as version:
            reports.append(_copy(store.connection, source, version))
    return MergeReport(sources=reports)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (b.exists() and a.samefile(b))
    except OSError:
        return False


def _attach(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    try:
        con.execute(f"ATTACH '{_sql_text(str(path))}' AS {_ALIAS} (READ_ONLY)")
    except duckdb.Error as exc:
        text = one_line(exc)
        if is_lock_error(text):  # not a bare "lock": "in block at location" is a damaged file
            raise UserError(
                f"store {path} is in use by another process ({text}); close it and import again"
            ) from None
        damaged = damaged_store_error(exc, [path])
        if damaged is not None:
            raise damaged from None
        raise UserError(
            f"{path} is not a specscope store: cannot open it as a DuckDB database ({text}); "
            "give a .duckdb file written by specscope"
        ) from None


def _source_version(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """The schema version of the attached source; UserError when it is not a specscope store."""
    tables = {
        row[0]
        for row in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = ?", [_ALIAS]
        ).fetchall()
    }
    if "schema_version" not in tables:
        found = ", ".join(sorted(tables)) or "none"
        raise UserError(
            f"{path} is a DuckDB file but not a specscope store (tables: {found}; no "
            "schema_version); give a store written by specscope"
        )
    row = con.execute(f"SELECT coalesce(max(version), 0) FROM {_ALIAS}.schema_version").fetchone()
    version = int(row[0]) if row else 0
    if version > len(migrations.MIGRATIONS):
        raise UserError(
            f"store {path} has schema version {version} but this specscope knows versions up to "
            f"{len(migrations.MIGRATIONS)}; upgrade specscope to import it"
        )
    missing = [t for t in _TABLES if t not in tables]
    if version == len(migrations.MIGRATIONS) and missing:
        raise UserError(
            f"{path} is not a complete specscope store (no {', '.join(missing)} table); "
            "give a store written by specscope"
        )
    return version


@contextmanager
def _attached(con: duckdb.DuckDBPyConnection, path: Path) -> Iterator[int]:
    """Attach ``path`` read-only as the merge source; an older schema is migrated in a temporary
    copy first. Yields the source's schema version (as found in the file)."""
    if not path.is_file():
        raise UserError(f"no store file at {path}; give the path of another specscope .duckdb")
    _attach(con, path)
    try:
        version = _source_version(con, path)
    except BaseException:
        con.execute(f"DETACH {_ALIAS}")
        raise
    if version == len(migrations.MIGRATIONS):
        try:
            yield version
        finally:
            con.execute(f"DETACH {_ALIAS}")
        return
    con.execute(f"DETACH {_ALIAS}")
    with tempfile.TemporaryDirectory(prefix="specscope-merge-") as tmp:
        _attach(con, migrated_copy(path, Path(tmp)))
        try:
            yield version
        finally:
            con.execute(f"DETACH {_ALIAS}")


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """The target table's columns, quoted, in table order (the source has the same schema)."""
    return ", ".join(quote(name) for name in _names(con, table))


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row else 0


_NEW = "specscope_merge_new"
_MAP = "specscope_merge_map"


def _copy(con: duckdb.DuckDBPyConnection, path: Path, version: int) -> SourceReport:
    src = _ALIAS
    point_cols = _columns(con, "points")
    request_cols = _columns(con, "requests")
    run_cols = _columns(con, "runs")
    point_select = point_cols.replace('"imported_at"', "?::TIMESTAMP")
    now = utc_now()
    con.begin()
    try:
        total = _count(con, f"SELECT count(*) FROM {src}.points")
        # points of runs this store does not hold: copied as they are, in bulk, with requests
        con.execute(
            f"CREATE TEMP TABLE {_NEW} AS SELECT DISTINCT point_id FROM {src}.points "
            "WHERE run_id NOT IN (SELECT run_id FROM main.points)"
        )
        added = _count(con, f"SELECT count(*) FROM {_NEW}")
        con.execute(
            f"INSERT INTO main.points ({point_cols}) SELECT {point_select} FROM {src}.points "
            f"WHERE point_id IN (SELECT point_id FROM {_NEW})",
            [now],
        )
        requests = _count(
            con,
            f"SELECT count(*) FROM {src}.requests WHERE point_id IN (SELECT point_id FROM {_NEW})",
        )
        con.execute(
            f"INSERT INTO main.requests ({request_cols}) SELECT {request_cols} "
            f"FROM {src}.requests WHERE point_id IN (SELECT point_id FROM {_NEW})"
        )
        # points of runs both hold: compared by what was measured, never dropped when it differs
        kept_added, kept_as_repeats, kept_requests = _merge_shared_runs(con, path, now)
        added += kept_added
        requests += kept_requests
        runs_total = _count(con, f"SELECT count(*) FROM {src}.runs")
        runs_added = _count(
            con,
            f"SELECT count(*) FROM {src}.runs WHERE run_id NOT IN (SELECT run_id FROM main.runs)",
        )
        con.execute(
            f"INSERT INTO main.runs ({run_cols}) SELECT {run_cols} FROM {src}.runs "
            "WHERE run_id NOT IN (SELECT run_id FROM main.runs)"
        )
        con.execute(f"DROP TABLE {_NEW}")
        con.commit()
    except BaseException:
        con.rollback()
        with suppress(duckdb.Error):
            con.execute(f"DROP TABLE IF EXISTS {_NEW}")
        raise
    return SourceReport(
        path=str(path),
        schema_version=version,
        points_added=added,
        points_already_present=total - added,
        points_kept_as_repeats=kept_as_repeats,
        requests_added=requests,
        runs_added=runs_added,
        runs_already_present=runs_total - runs_added,
    )


def _merge_shared_runs(
    con: duckdb.DuckDBPyConnection, path: Path, now: datetime
) -> tuple[int, int, int]:
    """Copy the source points of runs the store already holds that are not stored with the same
    results: under their own id when it is free, else as the next repeat of their configuration
    (see :func:`~specscope.store.identity.place_measurements`). Their requests follow under the id
    they are stored with. Returns (points added, of which kept as repeats, requests added)."""
    src = _ALIAS
    shared = (
        f"WHERE run_id IN (SELECT run_id FROM {src}.points "
        "INTERSECT SELECT run_id FROM main.points)"
    )
    incoming = read_points(con, f"{src}.points", shared)
    if not incoming:
        return 0, 0, 0
    # the ids as stored in the source (the same order as the points): its requests use them
    source_ids = [
        str(row[0])
        for row in con.execute(
            f"SELECT point_id FROM {src}.points {shared} ORDER BY {POINT_ORDER}"
        ).fetchall()
    ]
    stored = read_points(
        con,
        "main.points",
        "WHERE run_id IN (SELECT unnest(?))",
        [sorted({p.run_id for p in incoming})],
    )
    placements = place_measurements(stored, incoming, source=str(path))
    moves = [
        (source_id, placed)
        for source_id, placed in zip(source_ids, placements, strict=True)
        if placed.write
    ]
    if not moves:
        return 0, 0, 0
    mapping = {
        "src_id": object_array([src_id for src_id, _ in moves]),
        "new_id": object_array([p.point.point_id for _, p in moves]),
        "new_repeat": object_array([p.point.repeat for _, p in moves]),
        "new_extra": object_array([extra_json(p.point.provenance.extra) for _, p in moves]),
    }
    replaced = {
        "point_id": "m.new_id",
        "repeat": "m.new_repeat::INTEGER",
        "extra": "m.new_extra::JSON",
        "imported_at": "?::TIMESTAMP",
    }
    point_names = _names(con, "points")
    request_names = _names(con, "requests")
    point_select = ", ".join(replaced.get(n, f"p.{quote(n)}") for n in point_names)
    request_select = ", ".join(
        "m.new_id" if n == "point_id" else f"r.{quote(n)}" for n in request_names
    )
    with registered(con, _MAP, mapping):
        con.execute(
            f"INSERT INTO main.points ({', '.join(map(quote, point_names))}) "
            f"SELECT {point_select} FROM {src}.points p JOIN {_MAP} m ON p.point_id = m.src_id",
            [now],
        )
        requests = _count(
            con, f"SELECT count(*) FROM {src}.requests r JOIN {_MAP} m ON r.point_id = m.src_id"
        )
        con.execute(
            f"INSERT INTO main.requests ({', '.join(map(quote, request_names))}) "
            f"SELECT {request_select} FROM {src}.requests r JOIN {_MAP} m ON r.point_id = m.src_id"
        )
    kept = sum(p.kept_as_repeat for _, p in moves)
    return len(moves), kept, requests


def _names(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The target table's column names in table order."""
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_catalog = current_database() AND table_schema = 'main' AND table_name = ? "
        "ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return [str(r[0]) for r in rows]


def _sql_text(text: str) -> str:
    return text.replace("'", "''")
