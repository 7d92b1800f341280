"""The embedded DuckDB store: benchmark points, runs and per-request records.

One file (``specscope.duckdb`` by default) holds everything measured or imported, in a
versioned schema (:mod:`specscope.store.migrations`). :class:`Store` opens it (read-only opens
of older stores go through a migrated copy) and writes and reads it in transactions
(:mod:`~specscope.store.write`, :mod:`~specscope.store.read`; the rows come from
:mod:`~specscope.store.codec`).

Re-adding a point whose ``point_id`` is already stored with :meth:`Store.add_points`
**replaces** the stored row (the latest write wins, ``imported_at`` is refreshed); nothing is ever
duplicated. A sweep point that failed and was measured again under the same id therefore keeps
the newer result. Imports and merges use :meth:`Store.add_measurements` instead, which never
replaces a measurement: a point's identity there includes what was measured
(:func:`~specscope.store.identity.measurement_digest`), so the same result stored again adds
nothing, and another result for a stored configuration is kept as its next repeat, with its
source (:data:`~specscope.store.identity.KEPT_AS_REPEAT`).

Reads return the shared typed records (:class:`~specscope.schema.Point`,
:class:`~specscope.schema.RequestRecord`) rebuilt exactly as they were written.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import duckdb

from specscope.errors import UserError
from specscope.schema import Point, RequestRecord
from specscope.store import migrations, read, write
from specscope.store.failures import is_io_failure, is_lock_error, one_line, user_path_error
from specscope.store.filters import Combo, PointFilter, where_clause
from specscope.store.identity import AddOutcome, place_measurements
from specscope.store.read import RunInfo

__all__ = ["DEFAULT_DB_PATH", "PointFilter", "Store", "migrated_copy"]

DEFAULT_DB_PATH = Path("specscope.duckdb")
"""Where the store lives when the user names no file."""


_MIN_DUCKDB = (1, 2)
"""Scanning numpy columns (the bulk insert path) needs pandas before DuckDB 1.2."""


def _check_duckdb_version(version: str = duckdb.__version__) -> None:
    found = tuple(int(part) for part in re.findall(r"\d+", version)[:2])
    if found < _MIN_DUCKDB:
        raise UserError(
            f"specscope needs duckdb >= {'.'.join(map(str, _MIN_DUCKDB))}, found {version}; "
            "upgrade it: pip install -U duckdb"
        )


def migrated_copy(file: Path, folder: Path) -> Path:
    """A copy of the store ``file`` (with its write-ahead log) in ``folder``, migrated to this
    code's schema; the file itself is never written (readers and merges of older stores)."""
    copy = folder / file.name
    shutil.copyfile(file, copy)
    wal = file.with_name(file.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, copy.with_name(copy.name + ".wal"))
    Store.open(copy).close()  # the normal migration, on the copy
    return copy


class Store:
    """An open specscope database. Use :meth:`open` (also a context manager)."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, path: Path | None) -> None:
        self._con = connection
        self.path = path
        """The database file, or None for an in-memory store."""
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        """A migrated copy of an older store opened read-only (removed on close)."""

    # ---- lifecycle ------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path = DEFAULT_DB_PATH, *, read_only: bool = False) -> Store:
        """Open (creating file, parent folder and schema as needed) and migrate a store.

        ``":memory:"`` opens a throw-away in-memory store. ``read_only`` opens an existing file
        without writing to it (compare, report, export): it works on read-only media and
        immutable files, and a store of an older schema is read through a migrated temporary
        copy, the file itself untouched.
        """
        if read_only and str(path) != ":memory:":
            return cls._open_read_only(Path(path))
        _check_duckdb_version()
        if str(path) == ":memory:":
            con = duckdb.connect(":memory:")
            file: Path | None = None
        else:
            file = Path(path)
            if file.is_dir():
                raise UserError(
                    f"store path {file} is a folder; give a file such as {file}/specscope.duckdb"
                )
            try:
                file.parent.mkdir(parents=True, exist_ok=True)
                con = duckdb.connect(str(file))
            except (duckdb.Error, OSError) as exc:
                raise user_path_error(file, exc) from exc
        store = cls(con, file)
        try:
            migrations.migrate(con, store._label, migrations.MIGRATIONS)
        except BaseException:
            con.close()
            raise
        return store

    @classmethod
    def _open_read_only(cls, file: Path) -> Store:
        _check_duckdb_version()
        if not file.is_file():
            raise UserError(
                f"no store at {file}; measure or import into it first, or pass another --db"
            )
        try:
            con = duckdb.connect(str(file), read_only=True)
        except (duckdb.Error, OSError) as exc:
            if isinstance(exc, duckdb.Error) and is_lock_error(str(exc)):
                raise UserError(
                    f"store {file} is open for writing by another process (a running sweep, "
                    "bench or import); read it when that ends, or let the writer use another "
                    "--db and merge it afterwards with 'specscope import specscope'"
                ) from exc
            raise user_path_error(file, exc) from exc
        store = cls(con, file)
        try:
            known = len(migrations.MIGRATIONS)
            version = migrations.checked_version(con, store._label, known, create=False)
        except BaseException:
            con.close()
            raise
        if version == known:
            return store
        con.close()
        scratch = tempfile.TemporaryDirectory(prefix="specscope-read-")
        copy = migrated_copy(file, Path(scratch.name))
        migrated = cls(duckdb.connect(str(copy), read_only=True), file)
        migrated._scratch = scratch
        return migrated

    def close(self) -> None:
        self._con.close()
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection, for readers inside this package (export)."""
        return self._con

    @property
    def _label(self) -> str:
        return str(self.path) if self.path is not None else ":memory:"

    @property
    def schema_version(self) -> int:
        """The number of migration steps the file has had."""
        return migrations.stored_version(self._con)

    # ---- writing --------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One transaction: committed when the block ends, rolled back when it raises.

        A failed write is reported as itself: DuckDB may already have aborted the transaction
        (a full disk fails the commit), and a second error from the rollback must not hide the
        first. A file-system cause (no space, read-only, I/O error) becomes one UserError line
        naming the store.
        """
        con = self._con
        con.begin()
        try:
            yield con
            con.commit()
        except BaseException as exc:
            with contextlib.suppress(duckdb.Error):
                con.rollback()
            if isinstance(exc, (duckdb.IOException, OSError)) or is_io_failure(exc):
                raise UserError(
                    f"could not write to store {self._label}: {one_line(exc)}; nothing of this "
                    "write was kept (free space or pick another --db and run again)"
                ) from exc
            raise

    def add_points(self, points: Iterable[Point]) -> int:
        """Store points in one transaction; returns how many point_ids were not stored before.

        A point whose id is already stored replaces the stored row (latest write wins).
        """
        with self.transaction() as con:
            return write.insert_points(con, points)

    def record_point(
        self, point: Point, records: Iterable[RequestRecord], superseded: Iterable[str] = ()
    ) -> None:
        """A measured point, its request records and the removal of rows it supersedes, in one
        transaction: after a crash or a full disk the store holds all of it or none of it."""
        with self.transaction() as con:
            write.insert_points(con, [point])
            write.insert_requests(con, records, point.point_id)
            write.delete_points(con, [i for i in superseded if i != point.point_id])

    def add_measurements(self, points: Iterable[Point], source: str | None = None) -> AddOutcome:
        """Store points without ever replacing a stored measurement (imports and merges).

        A point whose run, config and results are stored already adds nothing (re-importing a
        file is idempotent); one whose run and config are stored with other results is kept as
        the next repeat, its source recorded under ``extra[KEPT_AS_REPEAT]`` (``source``, or
        the point's own ``source_file``). See
        :func:`~specscope.store.identity.place_measurements`. One transaction.
        """
        batch = list(points)
        if not batch:
            return AddOutcome()
        run_ids = sorted({p.run_id for p in batch})
        stored = self.points(PointFilter(run_id=run_ids, status=None))
        placements = place_measurements(stored, batch, source)
        self.add_points([p.point for p in placements if p.write])
        return AddOutcome(
            added=sum(p.write for p in placements),
            kept_as_repeats=sum(p.kept_as_repeat for p in placements),
            already_present=sum(not p.write for p in placements),
            point_ids=[p.point.point_id for p in placements],
        )

    def add_requests(self, records: Iterable[RequestRecord], point_id: str | None = None) -> int:
        """Store per-request records (replacing same point/warm-up/index); returns how many.

        ``point_id`` overrides each record's own ``point_id`` (records are often made before
        their point exists). A record with neither is a programming error (ValueError).
        """
        with self.transaction() as con:
            return write.insert_requests(con, records, point_id)

    def delete_points(self, point_ids: Iterable[str]) -> int:
        """Remove points and their request records in one transaction; returns how many went."""
        with self.transaction() as con:
            return write.delete_points(con, point_ids)

    def add_run(
        self,
        run_id: str,
        kind: str,
        command: str = "",
        engine: str | None = None,
        notes: dict[str, Any] | None = None,
    ) -> None:
        """Record a run (a sweep, an import...). Re-adding updates it and keeps ``created_at``."""
        write.upsert_run(self._con, run_id, kind, command, engine, notes or {})

    # ---- reading --------------------------------------------------------------------------

    def points(self, filter: PointFilter | None = None, *, lean: bool = False) -> list[Point]:
        """Points matching ``filter`` (None: every point, any status), in a stable order.

        ``lean=True`` reads only what a comparison uses
        (:data:`~specscope.store.codec.LEAN_POINT_COLUMNS`), about three times faster on large
        stores: latencies are empty, ``acceptance`` is None and provenance holds only its source,
        whatever is stored. For compare; not for reports, exports or anything that shows
        latencies or acceptance.
        """
        where, params = where_clause(filter)
        return read.read_points(self._con, where=where, params=params, lean=lean)

    def point_ids(self, filter: PointFilter | None = None) -> set[str]:
        """Ids of stored points (None: every point, any status)."""
        return read.point_ids(self._con, filter)

    def count(self, filter: PointFilter | None = None) -> int:
        """How many points match (None: every point, any status)."""
        return read.count(self._con, filter)

    def requests(self, point_id: str) -> list[RequestRecord]:
        """The per-request records of one point: warm-ups first, then by index."""
        return read.requests(self._con, point_id)

    def timed_request_counts(self, point_ids: Iterable[str]) -> dict[str, int]:
        """How many timed (non-warm-up) request records each point has stored."""
        return read.timed_request_counts(self._con, point_ids)

    def combos(self, filter: PointFilter | None = None) -> list[Combo]:
        """Distinct model × hardware × precision × isl × osl × spec method × engine, with counts."""
        return read.combos(self._con, filter)

    def runs(self) -> list[RunInfo]:
        """Every recorded run, oldest first."""
        return read.runs(self._con)
