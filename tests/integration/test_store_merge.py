"""``specscope import specscope OTHER.duckdb``: merging real store files written by the Store.

A merge never discards a measurement: a point whose run, config and results are stored is already
present; one of a stored run and config with other results (two machines whose runs got one id)
is kept as the next repeat, with its source store, and its requests follow it. Runs dedupe by run
id; a source is never written (an older schema is migrated in a copy); a file that is not a
specscope store is refused with one line. Run ids carry a random part, so two machines starting
one recipe in the same second no longer collide.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import duckdb
import pytest
from tests.support.points import make_point
from typer.testing import CliRunner

from specscope.analysis.stats import aggregate_repeats
from specscope.cli import app
from specscope.errors import UserError
from specscope.schema import (
    AcceptanceCounts,
    LatencyStats,
    Point,
    Provenance,
    RequestRecord,
)
from specscope.store import migrations
from specscope.store.db import PointFilter, Store
from specscope.store.identity import KEPT_AS_REPEAT
from specscope.store.merge import merge_stores
from specscope.sweep import runner
from specscope.sweep.recipe import Recipe


def _point(run_id: str, concurrency: int, throughput: float, *, spec: bool = False) -> Point:
    return make_point(
        run_id=run_id,
        hardware="cpu",
        model="gemma-3-270m",
        precision="q4_k_m",
        engine="llamacpp",
        spec_method="ngram-mod" if spec else "none",
        draft_depth=4 if spec else 0,
        isl=40,
        osl=16,
        concurrency=concurrency,
        workload="repetitive",
        throughput_per_gpu=throughput,
        output_throughput_per_gpu=throughput / 2,
        interactivity=30.0 / concurrency,
        tpot=LatencyStats(mean_s=0.03, median_s=0.033, p90_s=0.04, p99_s=0.05),
        n_requests=3,
        n_failed=0,
        acceptance=AcceptanceCounts(
            drafts=10, draft_tokens=40, accepted_tokens=15, accepted_per_position=[8, 4, 2, 1]
        )
        if spec
        else None,
        provenance=Provenance(extra={"sweep_key": f"k|repetitive|c{concurrency}|r0"}),
    )


def _records(n: int) -> list[RequestRecord]:
    return [
        RequestRecord(
            index=i,
            send_s=0.1 * i,
            ttft_s=0.05,
            e2el_s=0.5,
            end_s=0.5,
            chunk_times_s=[0.05, 0.5],
            chunk_tokens=[1, 15],
            output_tokens=16,
            output_text=f"text {i}",
        )
        for i in range(n)
    ]


def _store(path: Path, runs: list[str], points: list[Point], n_requests: int = 3) -> None:
    with Store.open(path) as store:
        for run_id in runs:
            store.add_run(run_id, kind="sweep", command="specscope sweep (t)", engine="llamacpp")
        store.add_points(points)
        for point in points:
            store.add_requests(_records(n_requests), point_id=point.point_id)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def two_stores(tmp_path: Path) -> tuple[Path, Path, dict[str, Point]]:
    """Store A: run-a at c1, c2. Store B (another machine): run-a c2 again (same id, other
    throughput) and run-b c1 (spec on, with acceptance)."""
    pts = {
        "a1": _point("run-a", 1, 100.0),
        "a2": _point("run-a", 2, 180.0),
        "a2-other": _point("run-a", 2, 999.0),
        "b1": _point("run-b", 1, 150.0, spec=True),
    }
    assert pts["a2"].point_id == pts["a2-other"].point_id  # same run, config and repeat
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    _store(a, ["run-a"], [pts["a1"], pts["a2"]])
    _store(b, ["run-a", "run-b"], [pts["a2-other"], pts["b1"]], n_requests=4)
    return a, b, pts


def test_merge_adds_new_points_requests_and_runs_and_keeps_what_is_stored(
    two_stores: tuple[Path, Path, dict[str, Point]],
) -> None:
    a, b, pts = two_stores
    before_b = _digest(b)
    with Store.open(a) as store:
        report = merge_stores(store, [b])
        merged = {p.point_id: p for p in store.points()}
        b1_requests = store.requests(pts["b1"].point_id)
        a2_requests = store.requests(pts["a2"].point_id)
        runs = [r.run_id for r in store.runs()]
        again = merge_stores(store, [b])
        count_after_again = store.count()
    (source,) = report.sources
    # B holds 2 points: b1 is new; B's a2 has A's a2 id but other results (999 vs 180 tok/s):
    # it is kept as repeat 1 of that configuration (old code: dropped, "1 already present")
    assert (source.points_added, source.points_kept_as_repeats) == (2, 1)
    assert source.points_already_present == 0
    assert source.summary() == (
        "1 new, 1 kept as another repeat of an existing configuration, 0 already present"
    )
    # b1's 4 request records and the kept repeat's 4 come along
    assert source.requests_added == 8
    assert (source.runs_added, source.runs_already_present) == (1, 1)
    assert (report.points_added, report.points_already_present, report.runs_added) == (2, 0, 1)
    assert report.points_kept_as_repeats == 1
    assert source.schema_version == len(migrations.MIGRATIONS)
    # every point read back exactly as written; A's a2 stays, B's is its repeat 1
    kept = pts["a2-other"].model_copy(
        update={
            "repeat": 1,
            "provenance": pts["a2-other"].provenance.model_copy(
                update={
                    "extra": {
                        **pts["a2-other"].provenance.extra,
                        KEPT_AS_REPEAT: {"of": pts["a2"].point_id, "source": str(b)},
                    }
                }
            ),
        }
    )
    assert merged == {p.point_id: p for p in (pts["a1"], pts["a2"], kept, pts["b1"])}
    assert merged[pts["a2"].point_id].throughput_per_gpu == 180.0
    assert merged[kept.point_id].throughput_per_gpu == 999.0
    b1 = merged[pts["b1"].point_id]
    assert b1.acceptance is not None
    assert b1.acceptance.acceptance_length == pytest.approx(2.5)  # 1 + 15/10
    assert [r.output_text for r in b1_requests] == [f"text {i}" for i in range(4)]
    assert len(a2_requests) == 3
    assert runs == ["run-a", "run-b"]
    # a second import of the same file adds nothing
    assert (again.points_added, again.points_already_present, again.requests_added) == (0, 2, 0)
    assert again.points_kept_as_repeats == 0
    assert count_after_again == 4
    # the source was opened read-only: its bytes did not change
    assert _digest(b) == before_b


def test_two_machines_one_recipe_one_second_keep_every_point(tmp_path: Path) -> None:
    """The issue: both machines' run ids were ``<recipe>-<UTC second>``, so their points had one
    id each and the merge kept machine A's: "0 new, 4 already present", exit 0."""
    legacy = "demo-20260101T000000Z"  # an old-style run id, still readable and mergeable
    tputs_a, tputs_b = [100.0, 180.0, 240.0, 280.0], [110.0, 170.0, 260.0, 300.0]
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    _store(a, [legacy], [_point(legacy, c, t) for c, t in zip((1, 2, 4, 8), tputs_a, strict=True)])
    _store(b, [legacy], [_point(legacy, c, t) for c, t in zip((1, 2, 4, 8), tputs_b, strict=True)])
    with Store.open(a) as store:
        report = merge_stores(store, [b])
        points = store.points()
        ops = aggregate_repeats(points)
        kept = [p for p in points if p.repeat == 1]
        requests = [len(store.requests(p.point_id)) for p in kept]
        again = merge_stores(store, [b])
    assert report.summary() == (
        "0 new, 4 kept as further repeats of existing configurations, 0 already present"
    )
    assert (again.points_added, again.points_already_present) == (0, 4)
    assert len(points) == 8
    assert [p.throughput_per_gpu for p in kept] == tputs_b
    assert {p.provenance.extra[KEPT_AS_REPEAT]["source"] for p in kept} == {str(b)}
    assert requests == [3, 3, 3, 3]
    # each concurrency is now one operating point of two repeats: means 105, 175, 250, 290
    assert list(ops.n_repeats) == [2, 2, 2, 2]
    assert list(ops.throughput_per_gpu) == pytest.approx([105.0, 175.0, 250.0, 290.0])


def test_run_ids_started_in_one_second_differ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two machines (empty stores, the same recipe, the same UTC second) get distinct run ids:
    ``<recipe>-<second>-<8 random hex>``."""
    frozen = datetime(2026, 1, 1, tzinfo=UTC)

    class _Clock(datetime):
        @classmethod
        def now(cls, tz: object = None) -> datetime:  # type: ignore[override]
            return frozen

    monkeypatch.setattr(runner, "datetime", _Clock)
    recipe = cast(Recipe, SimpleNamespace(name="demo"))
    ids = {runner._new_run_id(recipe, set()) for _ in range(50)}
    assert len(ids) == 50
    for run_id in ids:
        head, suffix = run_id.rsplit("-", 1)
        assert head == "demo-20260101T000000Z"
        assert len(suffix) == 8
        int(suffix, 16)


def test_merging_several_sources_adds_each_once(tmp_path: Path) -> None:
    a, b, c = (tmp_path / f"{n}.duckdb" for n in "abc")
    _store(a, [], [])
    _store(b, ["run-b"], [_point("run-b", 1, 1.0), _point("run-b", 2, 2.0)])
    _store(c, ["run-b", "run-c"], [_point("run-b", 2, 2.0), _point("run-c", 4, 4.0)])
    with Store.open(a) as store:
        report = merge_stores(store, [b, c])
        assert store.count() == 3  # b's 2 + c's run-c point; c's run-b c2 is b's
        assert store.count(PointFilter(run_id="run-c")) == 1
    assert [(s.points_added, s.points_already_present) for s in report.sources] == [(2, 0), (1, 1)]
    assert report.points_added == 3


def _plain_duckdb(path: Path) -> None:
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE results (x INTEGER)")
    con.close()


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda p: p.write_text("not a database\n"), "is not a specscope store: cannot open it"),
        (_plain_duckdb, "is a DuckDB file but not a specscope store (tables: results"),
        (None, "no store file at"),
    ],
)
def test_a_file_that_is_not_a_specscope_store_is_refused_in_one_line(
    tmp_path: Path, make: object, fragment: str
) -> None:
    source = tmp_path / "other.duckdb"
    if callable(make):
        make(source)
    with Store.open(tmp_path / "a.duckdb") as store, pytest.raises(UserError) as info:
        merge_stores(store, [source])
    message = str(info.value)
    assert fragment in message, message
    assert "\n" not in message


def test_the_store_itself_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.duckdb"
    with Store.open(path) as store, pytest.raises(UserError, match="is the store being merged"):
        merge_stores(store, [path])


def _add_host_column(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("ALTER TABLE points ADD COLUMN host VARCHAR DEFAULT 'unknown'")


def test_an_older_store_is_migrated_in_a_copy_and_left_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = tmp_path / "old.duckdb"
    _store(old, ["run-old"], [_point("run-old", 1, 10.0)])
    before = _digest(old)
    # this specscope knows one more schema step than the one the old file was written with
    known = len(migrations.MIGRATIONS)
    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, _add_host_column])
    with Store.open(tmp_path / "new.duckdb") as store:
        assert store.schema_version == known + 1
        report = merge_stores(store, [old])
        assert store.count() == 1
        host = store.connection.execute("SELECT host FROM points").fetchall()
    assert report.sources[0].schema_version == known
    assert report.points_added == 1
    assert host == [("unknown",)]
    assert _digest(old) == before
    con = duckdb.connect(str(old), read_only=True)
    assert con.execute("SELECT max(version) FROM schema_version").fetchone() == (known,)
    con.close()


def test_a_newer_store_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    newer = tmp_path / "newer.duckdb"
    with monkeypatch.context() as patch:
        patch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, _add_host_column])
        _store(newer, ["run-n"], [_point("run-n", 1, 10.0)])
    with Store.open(tmp_path / "a.duckdb") as store, pytest.raises(UserError) as info:
        merge_stores(store, [newer])
    known = len(migrations.MIGRATIONS)
    assert f"has schema version {known + 1} but this specscope knows versions up to {known}" in str(
        info.value
    )


def test_cli_import_specscope_prints_new_and_present_counts(
    two_stores: tuple[Path, Path, dict[str, Point]],
) -> None:
    a, b, _ = two_stores
    runner = CliRunner()
    result = runner.invoke(app, ["import", "specscope", str(b), "--db", str(a)])
    assert result.exit_code == 0, result.output
    # 2 new rows: b1, and B's a2 kept as another repeat (the JSON says which)
    assert (
        f"imported from 1 store(s) into {a}: 1 new, 1 kept as another repeat of an existing "
        "configuration, 0 already present"
    ) in result.output
    again = runner.invoke(app, ["import", "specscope", str(b), "--db", str(a), "--json"])
    assert again.exit_code == 0, again.output
    data = json.loads(again.stdout)
    assert (data["points_added"], data["points_already_present"]) == (0, 2)
    assert data["points_kept_as_repeats"] == 0
    assert data["sources"][0]["path"] == str(b)


def test_cli_refuses_a_non_store_in_one_line(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.duckdb"
    bogus.write_text("hello")
    result = CliRunner().invoke(
        app, ["import", "specscope", str(bogus), "--db", str(tmp_path / "a.duckdb")]
    )
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert "is not a specscope store" in lines[0]
