"""Merge other specscope stores into this one (results measured on several machines).

Every point, its per-request records and every run of each source store are copied into the open
store. Points are deduplicated by ``point_id`` and runs by ``run_id``: a point already stored is
left as it is (with its requests), so importing the same file twice adds nothing. A source is
opened read-only when its schema is current; an older one is migrated in a temporary copy (the
source file is never written); a newer one, or a file that is not a specscope store, is refused
with one line.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from pydantic import BaseModel, ConfigDict, computed_field

from specscope.errors import UserError
from specscope.store import db
from specscope.store.db import Store

_ALIAS = "specscope_merge_source"
_TABLES = ("points", "requests", "runs")


class SourceReport(BaseModel):
    """What one source store brought."""

    model_config = ConfigDict(frozen=True)

    path: str
    schema_version: int
    points_added: int
    points_already_present: int
    requests_added: int
    runs_added: int
    runs_already_present: int


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


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _attach(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    try:
        con.execute(f"ATTACH '{_sql_text(str(path))}' AS {_ALIAS} (READ_ONLY)")
    except duckdb.Error as exc:
        text = _one_line(exc)
        if "lock" in text.lower():
            raise UserError(
                f"store {path} is in use by another process ({text}); close it and import again"
            ) from None
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
    if version > len(db.MIGRATIONS):
        raise UserError(
            f"store {path} has schema version {version} but this specscope knows versions up to "
            f"{len(db.MIGRATIONS)}; upgrade specscope to import it"
        )
    missing = [t for t in _TABLES if t not in tables]
    if version == len(db.MIGRATIONS) and missing:
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
    if version == len(db.MIGRATIONS):
        try:
            yield version
        finally:
            con.execute(f"DETACH {_ALIAS}")
        return
    con.execute(f"DETACH {_ALIAS}")
    with tempfile.TemporaryDirectory(prefix="specscope-merge-") as tmp:
        copy = Path(tmp) / path.name
        shutil.copyfile(path, copy)
        wal = path.with_name(path.name + ".wal")
        if wal.exists():
            shutil.copyfile(wal, copy.with_name(copy.name + ".wal"))
        Store.open(copy).close()  # the normal migration, on the copy
        _attach(con, copy)
        try:
            yield version
        finally:
            con.execute(f"DETACH {_ALIAS}")


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """The target table's columns, quoted, in table order (the source has the same schema)."""
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_catalog = current_database() AND table_schema = 'main' AND table_name = ? "
        "ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return ", ".join('"' + str(r[0]).replace('"', '""') + '"' for r in rows)


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row else 0


def _copy(con: duckdb.DuckDBPyConnection, path: Path, version: int) -> SourceReport:
    src = _ALIAS
    point_cols = _columns(con, "points")
    request_cols = _columns(con, "requests")
    run_cols = _columns(con, "runs")
    point_select = point_cols.replace('"imported_at"', "?::TIMESTAMP")
    now = datetime.now(UTC).replace(tzinfo=None)
    con.begin()
    try:
        total = _count(con, f"SELECT count(*) FROM {src}.points")
        # the new point ids, staged once: requests follow only the points that were added
        con.execute(
            "CREATE TEMP TABLE specscope_merge_new AS "
            f"SELECT DISTINCT point_id FROM {src}.points "
            "WHERE point_id NOT IN (SELECT point_id FROM main.points)"
        )
        added = _count(con, "SELECT count(*) FROM specscope_merge_new")
        con.execute(
            f"INSERT INTO main.points ({point_cols}) SELECT {point_select} FROM {src}.points "
            "WHERE point_id IN (SELECT point_id FROM specscope_merge_new)",
            [now],
        )
        requests = _count(
            con,
            f"SELECT count(*) FROM {src}.requests "
            "WHERE point_id IN (SELECT point_id FROM specscope_merge_new)",
        )
        con.execute(
            f"INSERT INTO main.requests ({request_cols}) SELECT {request_cols} "
            f"FROM {src}.requests WHERE point_id IN (SELECT point_id FROM specscope_merge_new)"
        )
        runs_total = _count(con, f"SELECT count(*) FROM {src}.runs")
        runs_added = _count(
            con,
            f"SELECT count(*) FROM {src}.runs WHERE run_id NOT IN (SELECT run_id FROM main.runs)",
        )
        con.execute(
            f"INSERT INTO main.runs ({run_cols}) SELECT {run_cols} FROM {src}.runs "
            "WHERE run_id NOT IN (SELECT run_id FROM main.runs)"
        )
        con.execute("DROP TABLE specscope_merge_new")
        con.commit()
    except BaseException:
        con.rollback()
        with suppress(duckdb.Error):
            con.execute("DROP TABLE IF EXISTS specscope_merge_new")
        raise
    return SourceReport(
        path=str(path),
        schema_version=version,
        points_added=added,
        points_already_present=total - added,
        requests_added=requests,
        runs_added=runs_added,
        runs_already_present=runs_total - runs_added,
    )


def _sql_text(text: str) -> str:
    return text.replace("'", "''")
