"""A full disk during a sweep (issue 12 item 1): a point and its request records are written in
one transaction, the error is one line naming the store and the cause, and --resume measures
what is missing, including a point an older specscope stored without all its records.

The fault is injected twice: deterministically (the third point's request insert raises DuckDB's
out-of-space error) and for real, on a 1.5 MiB tmpfs (skipped where mounting is not allowed).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from tests.fakes.stream_server import StreamServer
from tests.integration.test_sweep_endpoint_faults import (
    REQUESTS,
    FaultPlan,
    HealthyStreamServer,
    ThreadedFake,
    _recipe,
)

from specscope.errors import UserError
from specscope.store import write as store_write
from specscope.store.db import PointFilter, Store
from specscope.sweep.hooks import SweepHooks
from specscope.sweep.plan import make_plan
from specscope.sweep.runner import SweepRunner

WORKLOADS = 6
"""Points of the fault module's recipe (one per workload, off only)."""


@pytest.fixture
def clean_fake() -> Iterator[tuple[StreamServer, FaultPlan]]:
    faults = FaultPlan({}, enabled=False)
    with ThreadedFake(HealthyStreamServer(faults.behaviour)) as server:
        yield server, faults


def _complete(store: Store) -> dict[str, int]:
    """Timed request records per stored point."""
    points = store.points(PointFilter(status=None))
    return store.timed_request_counts(p.point_id for p in points)


def test_a_full_disk_keeps_each_point_whole_and_resume_finishes(
    clean_fake: tuple[StreamServer, FaultPlan], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server, faults = clean_fake
    plan = make_plan(_recipe(server.base_url))
    db, runs = tmp_path / "s.duckdb", tmp_path / "runs"
    original = store_write.insert_requests
    calls = {"n": 0}

    def fill_up(con: Any, records: Any, point_id: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 3:
            raise duckdb.IOException(
                'IO Error: Could not write file "s.duckdb.wal": No space left on device'
            )
        return original(con, records, point_id)

    monkeypatch.setattr(store_write, "insert_requests", fill_up)
    with Store.open(db) as store:
        runner = SweepRunner(plan, store, runs, hooks=SweepHooks(on_point_start=faults.start))
        with pytest.raises(UserError) as info:
            runner.run()
        counts = _complete(store)
    message = str(info.value)
    assert "\n" not in message
    assert f"could not write to store {db}" in message
    assert "No space left on device" in message
    assert "cannot rollback" not in message
    # two points, each with all its records; the third is not there at all (no orphan row)
    assert sorted(counts.values()) == [REQUESTS, REQUESTS]

    monkeypatch.setattr(store_write, "insert_requests", original)
    with Store.open(db) as store:
        again = SweepRunner(
            plan, store, runs, resume=True, hooks=SweepHooks(on_point_start=faults.start)
        )
        outcome = again.run()
        counts = _complete(store)
    assert (outcome.measured, outcome.skipped, outcome.failed) == (WORKLOADS - 2, 2, 0)
    assert sorted(counts.values()) == [REQUESTS] * WORKLOADS


def test_resume_measures_a_point_stored_without_all_its_records(
    clean_fake: tuple[StreamServer, FaultPlan], tmp_path: Path
) -> None:
    # What an older specscope left after a full disk: the point row, 4 of its 20 records lost.
    server, faults = clean_fake
    plan = make_plan(_recipe(server.base_url))
    db, runs = tmp_path / "s.duckdb", tmp_path / "runs"
    with Store.open(db) as store:
        first = SweepRunner(plan, store, runs, hooks=SweepHooks(on_point_start=faults.start))
        first.run()
        victim = store.points(PointFilter(status=None))[0]
        store.connection.execute(
            'DELETE FROM requests WHERE point_id = ? AND NOT warmup AND "index" < 4',
            [victim.point_id],
        )
    notes: list[str] = []
    with Store.open(db) as store:
        hooks = SweepHooks(on_point_start=faults.start, on_server=notes.append)
        outcome = SweepRunner(plan, store, runs, resume=True, hooks=hooks).run()
        counts = _complete(store)
    assert (outcome.measured, outcome.skipped) == (1, WORKLOADS - 1)
    assert counts[victim.point_id] == REQUESTS
    assert any(f"(16 of {REQUESTS}); measuring it again" in n for n in notes)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1536k", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0 or os.geteuid() != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_real_full_disk_is_one_line_and_loses_no_finished_point(
    clean_fake: tuple[StreamServer, FaultPlan], tiny_disk: Path, tmp_path: Path
) -> None:
    server, faults = clean_fake
    recipe = _recipe(server.base_url).model_copy(update={"repeats": 40})
    plan = make_plan(recipe)
    db = tiny_disk / "s.duckdb"
    failure: UserError | None = None
    with Store.open(db) as store:
        runner = SweepRunner(
            plan, store, tmp_path / "runs", hooks=SweepHooks(on_point_start=faults.start)
        )
        try:
            runner.run()
        except UserError as exc:
            failure = exc
    assert failure is not None, "the 1.5 MiB disk did not fill up"
    assert "\n" not in str(failure) and "could not write to store" in str(failure)
    # everything that was committed is whole
    with Store.open(db) as store:
        counts = _complete(store)
    assert counts and set(counts.values()) == {REQUESTS}


def _fill(disk: Path) -> None:
    """Take every free byte of the tmpfs."""
    with open(disk / "ballast", "wb") as fh:
        try:
            while True:
                fh.write(b"\0" * 65536)
                fh.flush()
        except OSError:
            pass


def test_export_and_report_on_a_full_disk_are_one_line_and_leave_nothing(
    tiny_disk: Path, tmp_path: Path
) -> None:
    from specscope.analysis.economics import list_presets
    from specscope.report.sample import sample_pair, sample_points
    from specscope.report.writer import write_report
    from specscope.store.export import export_points

    points = sample_points()
    with Store.open(tmp_path / "s.duckdb") as store:
        store.add_points(points)
        _fill(tiny_disk)
        with pytest.raises(UserError) as exported:
            export_points(store, "csv", tiny_disk / "points.csv")
    assert "\n" not in str(exported.value)
    assert f"cannot write {tiny_disk / 'points.csv'}" in str(exported.value)
    with pytest.raises(UserError) as reported:
        write_report([sample_pair(points)], tiny_disk / "report", list_presets())
    assert "\n" not in str(reported.value) and "could not write" in str(reported.value)
    assert "No space left on device" in str(reported.value)
    left = sorted(p.name for p in tiny_disk.rglob("*") if p.is_file())
    assert left == ["ballast"]
