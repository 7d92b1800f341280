"""Import InferenceX aggregated results (the runner's ``agg_*.json``) into the store.

A file holds one aggregated point (an object) or a JSON array of them (``agg_bmk.json``); each
record becomes a Point (:func:`~specscope.store.inferencex_record.parse_record`, its keys
normalised by :mod:`~specscope.store.inferencex_keys`).

A broken file or record is skipped with one line naming the file (and the record index inside
an array) and the problem; the rest of the import goes on. Import never replaces a measurement
(:meth:`Store.add_measurements`): importing the same content twice adds nothing, and another
record for a stored configuration (same identity keys and ``conc``, other results) is kept as
another repeat of it, its file recorded.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from specscope.errors import UserError
from specscope.schema import Point
from specscope.store.db import Store
from specscope.store.identity import describe_added
from specscope.store.inferencex_keys import InferenceXRecordError
from specscope.store.inferencex_record import brief, parse_record


class Skipped(BaseModel):
    """A file or record left out of an import, and why."""

    model_config = ConfigDict(frozen=True)

    file: str
    index: int | None = None
    """Position of the record inside a JSON array; None for the whole file or a single object."""
    reason: str

    def describe(self) -> str:
        """One line: ``results/agg_x.json (record 3): 'tput_per_gpu' is missing``."""
        where = self.file if self.index is None else f"{self.file} (record {self.index})"
        return f"{where}: {self.reason}"


class ImportReport(BaseModel):
    """What an import did."""

    model_config = ConfigDict(frozen=True)

    files: int
    """JSON files read (including ones skipped as a whole)."""
    records: int
    """Records found in those files."""
    points_added: int
    """Points stored that were not in the store before, ``points_kept_as_repeats`` included."""
    points_already_present: int
    """Points whose configuration and results were already stored (re-imported), or that came
    twice in the input; stored once."""
    points_kept_as_repeats: int = 0
    """Of ``points_added``: records of an already stored configuration with other results, each
    kept as another repeat of it (never replacing it), with its source file."""
    skipped: list[Skipped] = Field(default_factory=list)

    def summary(self) -> str:
        """E.g. ``2 new, 1 kept as another repeat of an existing configuration, 5 already
        present, 0 skipped``."""
        counts = describe_added(
            self.points_added, self.points_kept_as_repeats, self.points_already_present
        )
        return f"{counts}, {len(self.skipped)} skipped"


# --------------------------------------------------------------------------------------------
# Files → records → store
# --------------------------------------------------------------------------------------------


def _json_files(paths: Sequence[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*.json") if p.is_file())
        elif path.is_file():
            yield path
        else:
            raise UserError(
                f"no such file or folder: {path}; give agg_*.json files, JSON arrays of them, "
                "or folders holding them"
            )


def read_records(path: Path) -> tuple[list[tuple[int | None, object]], Skipped | None]:
    """The records of one file as (index in array or None, record); or why the file is unusable."""
    name = str(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        return [], Skipped(
            file=name, reason=f"not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg})"
        )
    except UnicodeDecodeError:
        return [], Skipped(file=name, reason="not UTF-8 text")
    except OSError as exc:
        return [], Skipped(file=name, reason=f"cannot read it ({exc.strerror or exc})")
    if isinstance(data, dict):
        return [(None, data)], None
    if isinstance(data, list):
        return list(enumerate(data)), None
    return [], Skipped(
        file=name, reason=f"expected a JSON object or an array of objects, got {brief(data)}"
    )


def import_inferencex(store: Store, paths: Sequence[Path]) -> ImportReport:
    """Import every record of ``paths`` (files or folders searched recursively for ``*.json``).

    All points are written in one transaction; one run row is recorded per derived run id.
    Nothing stored is replaced: a record whose configuration is stored with the same results
    is already present; with other results it is kept as another repeat (its file in
    ``extra["kept_as_repeat"]``). A path that does not exist is a UserError (nothing is
    imported).
    """
    files = list(_json_files([Path(p) for p in paths]))
    skipped: list[Skipped] = []
    points: list[Point] = []
    runs: dict[str, dict[str, Any]] = {}
    n_records = 0
    for path in files:
        records, problem = read_records(path)
        if problem is not None:
            skipped.append(problem)
            continue
        for index, obj in records:
            n_records += 1
            try:
                point = parse_record(obj, str(path), index)
            except InferenceXRecordError as exc:
                skipped.append(Skipped(file=str(path), index=index, reason=str(exc)))
                continue
            points.append(point)
            run = runs.setdefault(
                point.run_id,
                {"engine": point.config.engine, "files": [], "hw": None, "image": None},
            )
            if str(path) not in run["files"]:
                run["files"].append(str(path))
            assert isinstance(obj, dict)
            run["hw"] = obj.get("hw")
            run["image"] = point.provenance.engine_version
    outcome = store.add_measurements(points)
    for run_id, run in runs.items():
        store.add_run(
            run_id,
            kind="import:inferencex",
            command="",
            engine=run["engine"],
            notes={"source_files": run["files"], "runner": run["hw"], "image": run["image"]},
        )
    return ImportReport(
        files=len(files),
        records=n_records,
        points_added=outcome.added,
        points_already_present=outcome.already_present,
        points_kept_as_repeats=outcome.kept_as_repeats,
        skipped=skipped,
    )
