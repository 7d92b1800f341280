"""The DuckDB store end to end: round trips, idempotence, filters, migrations, import, export."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.support.points import make_point, with_config

from specscope.errors import UserError
from specscope.schema import (
    AcceptanceCounts,
    LatencyStats,
    Point,
    PointConfig,
    Provenance,
    RequestRecord,
)
from specscope.store import db as store_db
from specscope.store import migrations
from specscope.store.codec import POINT_COLUMNS
from specscope.store.db import PointFilter, Store
from specscope.store.export import EXPORT_COLUMNS, export_points
from specscope.store.filters import format_combos, parse_sequence
from specscope.store.inferencex import import_inferencex
from specscope.store.migrations import MIGRATIONS

DATA = Path(__file__).resolve().parents[1] / "data"
FIXTURES = DATA / "inferencex"
BROKEN = DATA / "inferencex-broken"
EXAMPLE = (
    Path(__file__).resolve().parents[2]
    / "src"
    / "specscope"
    / "data"
    / "examples"
    / "inferencex-example.json"
)


def full_point(**changes: Any) -> Point:
    """A fully populated measured point (acceptance, power, nested extra); override any field."""
    fields: dict[str, Any] = {
        "hardware": "h200",
        "model": "qwen3.5",
        "precision": "fp8",
        "engine": "vllm",
        "spec_method": "mtp",
        "draft_depth": 3,
        "spec_config": '{"method":"mtp","num_speculative_tokens":3}',
        "n_gpus": 8,
        "tp": 8,
        "pp": 1,
        "ep": 8,
        "dp_attention": True,
        "isl": 1024,
        "osl": 1024,
        "concurrency": 16,
        "workload": "synthetic",
        "run_id": "run-1",
        "throughput_per_gpu": 457.7,
        "output_throughput_per_gpu": 228.85,
        "input_throughput_per_gpu": 228.85,
        "interactivity": 75.0,
        "ttft": LatencyStats(mean_s=0.21, median_s=0.2, p90_s=0.33, p99_s=0.51),
        "tpot": LatencyStats(mean_s=0.0135, median_s=1 / 75, p90_s=0.015, p99_s=0.019),
        "itl": LatencyStats(mean_s=0.031, median_s=0.03),
        "e2el": LatencyStats(mean_s=14.1, median_s=13.8, p90_s=15.0, p99_s=16.2),
        "measured_concurrency": 15.7,
        "tokens_per_chunk_mean": 2.4,
        "duration_s": 120.5,
        "n_requests": 160,
        "n_failed": 0,
        "acceptance": AcceptanceCounts(
            drafts=10_000,
            draft_tokens=30_000,
            accepted_tokens=18_000,
            accepted_per_position=[8_000, 6_000, 4_000],
            source="prometheus:vllm",
        ),
        "power_w_per_gpu": 612.5,
        "provenance": Provenance(
            source="specscope",
            source_file="runs/run-1.json",
            date="2026-04-01T10:00:00Z",
            engine_version="vllm 0.11.0",
            power_source="measured",
            extra={"server_args": ["--max-num-seqs", 256], "nested": {"a": 1, "b": [1.5, None]}},
        ),
    }
    return make_point(**{**fields, **changes})


@pytest.fixture
def store(tmp_path: Path) -> Any:
    with Store.open(tmp_path / "s.duckdb") as s:
        yield s


# ---- round trip --------------------------------------------------------------------------------


def test_point_round_trips_exactly_through_the_file(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "dir" / "specscope.duckdb"  # parent folders are created
    points = [
        full_point(),
        full_point(run_id="run-2", acceptance=None, power_w_per_gpu=None),
        full_point(  # SGLang style: only an average AL, no counts
            run_id="run-3",
            acceptance=AcceptanceCounts(
                reported_acceptance_length=2.62,
                source="sglang:server_info",
                note="running average since server start",
            ),
        ),
        full_point(run_id="run-4", acceptance=AcceptanceCounts()),  # present but empty
        full_point(  # a failed open-loop point with hardly anything measured
            run_id="run-5",
            status="failed",
            error="server died",
            config=PointConfig(
                hardware="cpu",
                model="gemma3-270m",
                engine="llamacpp",
                isl=128,
                osl=64,
                request_rate=2.5,
            ),
            ttft=LatencyStats(),
            tpot=LatencyStats(),
            itl=LatencyStats(),
            e2el=LatencyStats(),
            provenance=Provenance(),
        ),
    ]
    with Store.open(path) as s:
        assert s.add_points(points) == 5
    with Store.open(path) as s:  # reopened: everything was on disk
        got = {p.point_id: p for p in s.points()}
    assert set(got) == {p.point_id for p in points}
    for p in points:
        assert got[p.point_id] == p
        assert got[p.point_id].model_dump() == p.model_dump()  # computed fields too
    assert got[points[0].point_id].acceptance is not None
    assert got[points[0].point_id].acceptance.acceptance_length == 1.0 + 18_000 / 10_000
    assert got[points[1].point_id].acceptance is None
    assert got[points[3].point_id].acceptance == AcceptanceCounts()


finite = st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False)
maybe = st.none() | finite


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tput=finite,
    out=maybe,
    intvty=st.floats(min_value=1e-6, max_value=1e4),
    stats=st.tuples(maybe, maybe, maybe, maybe),
    conc=st.none() | st.integers(min_value=1, max_value=2**31 - 1),
    depth=st.none() | st.integers(min_value=0, max_value=16),
    per_pos=st.lists(st.integers(min_value=0, max_value=2**31 - 1), max_size=6),
    drafts=st.none() | st.integers(min_value=0, max_value=2**62),
    text=st.text(max_size=20),
    extra=st.dictionaries(
        st.text(max_size=8),
        st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8) | finite,
        max_size=4,
    ),
)
def test_round_trip_property(
    tput: float,
    out: float | None,
    intvty: float,
    stats: tuple[float | None, ...],
    conc: int | None,
    depth: int | None,
    per_pos: list[int],
    drafts: int | None,
    text: str,
    extra: dict[str, Any],
) -> None:
    point = full_point(
        run_id=f"r{text}",
        throughput_per_gpu=tput,
        output_throughput_per_gpu=out,
        interactivity=intvty,
        ttft=LatencyStats(mean_s=stats[0], median_s=stats[1], p90_s=stats[2], p99_s=stats[3]),
        acceptance=AcceptanceCounts(drafts=drafts, accepted_per_position=per_pos, source=text),
        provenance=Provenance(extra=extra, engine_version=text),
    )
    point = with_config(point, concurrency=conc, draft_depth=depth, workload=text)
    with Store.open(":memory:") as s:
        s.add_points([point])
        assert s.points() == [point]


# ---- idempotence -------------------------------------------------------------------------------


def test_add_points_is_idempotent_and_replaces(store: Store) -> None:
    a, b = full_point(), with_config(full_point(), concurrency=32)
    assert store.add_points([a, b]) == 2
    assert store.add_points([a, b]) == 0
    assert store.count() == 2
    # Same point_id, new numbers (a re-measured point): the stored row is replaced.
    newer = a.model_copy(update={"throughput_per_gpu": 500.0})
    assert newer.point_id == a.point_id
    assert store.add_points([newer]) == 0
    assert store.count() == 2
    assert {p.throughput_per_gpu for p in store.points()} == {500.0, 457.7}
    # Duplicates inside one batch are stored once; the last one wins.
    c = with_config(full_point(), concurrency=64)
    assert store.add_points([c, c.model_copy(update={"interactivity": 60.0})]) == 1
    assert store.count() == 3
    assert store.add_points([]) == 0


def test_point_ids_and_count_cover_every_status(store: Store) -> None:
    ok = full_point()
    failed = full_point(run_id="r2", status="failed", error="timeout")
    store.add_points([ok, failed])
    assert store.point_ids() == {ok.point_id, failed.point_id}
    assert store.count() == 2
    assert store.count(PointFilter()) == 1  # a filter's status defaults to ok
    assert store.point_ids(PointFilter(status="failed")) == {failed.point_id}


# ---- filters -----------------------------------------------------------------------------------


@pytest.fixture
def filled(store: Store) -> Store:
    base = full_point()
    points = [
        base,
        with_config(base, spec_method="none", draft_depth=0),
        with_config(base, engine="sglang"),
        with_config(base, hardware="b300", precision="fp4"),
        with_config(base, isl=8192),
        full_point(run_id="other"),
        full_point(run_id="bad", status="failed"),
        full_point(run_id="ix", provenance=Provenance(source="inferencex")),
    ]
    store.add_points(points)
    return store


@pytest.mark.parametrize(
    ("flt", "expected"),
    [
        (None, 8),
        (PointFilter(), 7),  # status ok by default
        (PointFilter(status=None), 8),
        (PointFilter(hardware="H200"), 6),  # case-insensitive
        (PointFilter(hardware="b300", precision="FP4"), 1),
        (PointFilter(engine="SGLang"), 1),
        (PointFilter(engine=["vllm", "sglang"], status=None), 8),
        (PointFilter(spec_method="off"), 1),  # off means none
        (PointFilter(spec_method=["MTP", "none"]), 7),
        (PointFilter(sequence="1k/1k"), 6),
        (PointFilter(sequence="8k1k"), 1),
        (PointFilter(isl=8192, osl=1024), 1),
        (PointFilter(run_id="other"), 1),
        (PointFilter(run_id="OTHER"), 0),  # ids are exact
        (PointFilter(run_id=["other", "ix"]), 2),
        (PointFilter(source="inferencex"), 1),
        (PointFilter(model="qwen3.5", hardware="mi355x"), 0),
        (PointFilter(engine=[]), 0),
    ],
)
def test_filters(filled: Store, flt: PointFilter | None, expected: int) -> None:
    assert len(filled.points(flt)) == expected
    assert filled.count(flt) == expected


def test_points_come_back_in_a_stable_order(store: Store) -> None:
    base = full_point()
    points = [with_config(base, concurrency=c) for c in (64, 1, 16)]
    store.add_points(points)
    assert [p.config.concurrency for p in store.points()] == [1, 16, 64]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1k/1k", (1024, 1024)),
        ("8k/1k", (8192, 1024)),
        ("1k8k", (1024, 8192)),
        ("1K8K", (1024, 8192)),
        ("1024/8192", (1024, 8192)),
        ("128:64", (128, 64)),
        (" 8k / 1k ", (8192, 1024)),
        ("1k/512", (1024, 512)),
    ],
)
def test_parse_sequence(text: str, expected: tuple[int, int]) -> None:
    assert parse_sequence(text) == expected


@pytest.mark.parametrize("text", ["", "1k", "10248192", "1m/1k", "1k/1k/1k", "big"])
def test_parse_sequence_rejects_bad_text(text: str) -> None:
    with pytest.raises(UserError) as info:
        parse_sequence(text)
    message = str(info.value)
    assert repr(text) in message
    assert "'1k/1k'" in message and "'1024/8192'" in message


def test_filter_sequence_must_agree_with_isl() -> None:
    with pytest.raises(UserError, match="contradicts"):
        PointFilter(sequence="1k/1k", isl=8192)
    with pytest.raises(UserError, match="unknown sequence"):
        PointFilter(sequence="nonsense")


def test_combos_and_their_summary(filled: Store) -> None:
    combos = filled.combos()
    labels = [c.label() for c in combos]
    assert "qwen3.5 b300 fp4 1k/1k mtp (vllm): 1 point" in labels
    assert "qwen3.5 h200 fp8 1k/1k mtp (vllm): 4 points" in labels  # base, other, bad, ix
    assert "qwen3.5 h200 fp8 8k/1k mtp (vllm): 1 point" in labels
    assert "qwen3.5 h200 fp8 1k/1k off (vllm): 1 point" in labels
    assert sum(c.n_points for c in combos) == 8
    assert [c.n_points for c in filled.combos(PointFilter(engine="sglang"))] == [1]
    summary = format_combos(combos, limit=2)
    assert summary.count("points") + summary.count("point") >= 2
    assert summary.endswith(f"and {len(combos) - 2} more")
    assert "empty" in format_combos([])


# ---- requests and runs -------------------------------------------------------------------------


def test_requests_round_trip(store: Store) -> None:
    records = [
        RequestRecord(
            index=1,
            send_s=0.5,
            ttft_s=0.1,
            e2el_s=0.4,
            end_s=0.4,
            chunk_times_s=[0.1, 0.25, 0.4],
            chunk_tokens=[1, 3, 3],
            input_tokens=128,
            requested_output_tokens=7,
            output_tokens=7,
            draft_tokens=6,
            accepted_tokens=5,
            output_text="hello",
        ),
        RequestRecord(index=0, send_s=0.0, error="HTTP 500", output_tokens=0),
        RequestRecord(index=0, warmup=True, send_s=-1.0, chunk_times_s=[0.1], chunk_tokens=[1]),
    ]
    assert store.add_requests(records, point_id="p1") == 3
    assert store.add_requests(records, point_id="p1") == 3  # replaced, not duplicated
    got = store.requests("p1")
    expected = [records[2], records[1], records[0]]  # warm-ups first, then by index
    assert got == [r.model_copy(update={"point_id": "p1"}) for r in expected]
    assert got[2].tpot_s == pytest.approx((0.4 - 0.1) / 6)
    assert store.requests("nope") == []
    with pytest.raises(ValueError, match="no point_id"):
        store.add_requests([RequestRecord(index=0, send_s=0.0)])


def test_requests_with_equal_length_chunk_lists(store: Store) -> None:
    records = [
        RequestRecord(
            point_id="p", index=i, send_s=float(i), chunk_times_s=[1.0, 2.0], chunk_tokens=[2, 2]
        )
        for i in range(3)
    ]
    store.add_requests(records)
    assert [r.chunk_tokens for r in store.requests("p")] == [[2, 2]] * 3


def test_runs_keep_created_at_on_update(store: Store) -> None:
    store.add_run("sweep-1", "sweep", "specscope sweep plan.toml", "vllm", {"g": [1, 2, 3]})
    first = store.runs()[0]
    time.sleep(0.01)
    store.add_run(
        "sweep-1", "sweep", "specscope sweep --resume plan.toml", "vllm", {"resumed": True}
    )
    (again,) = store.runs()
    assert again.created_at == first.created_at
    assert (again.command, again.notes) == ("specscope sweep --resume plan.toml", {"resumed": True})


# ---- schema and migrations ---------------------------------------------------------------------


def test_schema_has_a_column_for_every_model_field(store: Store) -> None:
    table = [r[0] for r in store.connection.execute("DESCRIBE points").fetchall()]
    assert tuple(table) == POINT_COLUMNS
    assert set(PointConfig.model_fields) <= set(table)
    nested = {"config", "ttft", "tpot", "itl", "e2el", "acceptance", "provenance"}
    assert set(Point.model_fields) - nested <= set(table)
    latency = {
        f"{m}_{s}" for m in ("ttft", "tpot", "itl", "e2el") for s in LatencyStats.model_fields
    }
    assert latency <= set(table)
    assert set(Provenance.model_fields) <= set(table)
    acceptance = {f for f in AcceptanceCounts.model_fields if f not in ("source", "note")}
    acceptance |= {"acceptance_source", "acceptance_note"}
    assert acceptance <= set(table)
    requests = [r[0] for r in store.connection.execute("DESCRIBE requests").fetchall()]
    assert set(requests) == set(RequestRecord.model_fields)


def test_a_new_store_is_at_the_latest_version(store: Store) -> None:
    assert store.schema_version == len(MIGRATIONS) >= 1


def test_an_old_store_is_migrated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "old.duckdb"
    with Store.open(path) as s:  # written by "the old code": version 1
        s.add_points([full_point()])

    def step_3(con: duckdb.DuckDBPyConnection) -> None:
        con.execute(
            "INSERT INTO runs VALUES ('m3', now()::TIMESTAMP, 'migration', '', NULL, '{}', 'v3')"
        )

    steps = [*MIGRATIONS, "ALTER TABLE runs ADD COLUMN label VARCHAR", step_3]
    monkeypatch.setattr(migrations, "MIGRATIONS", steps)
    with Store.open(path) as s:
        assert s.schema_version == len(MIGRATIONS) + 2
        assert s.count() == 1  # data kept
        labels = s.connection.execute("SELECT label FROM runs").fetchall()
        assert labels == [("v3",)]  # step 2 added the column, step 3 (a callable) filled it
        assert [r.run_id for r in s.runs()] == ["m3"]
        versions = s.connection.execute("SELECT version FROM schema_version ORDER BY 1").fetchall()
        assert [v[0] for v in versions] == list(range(1, len(steps) + 1))


def test_a_failing_migration_step_is_rolled_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.duckdb"
    Store.open(path).close()
    bad = "CREATE TABLE half_done (x INTEGER); SELECT * FROM no_such_table"
    monkeypatch.setattr(migrations, "MIGRATIONS", [*MIGRATIONS, bad])
    with pytest.raises(duckdb.Error):
        Store.open(path)
    monkeypatch.setattr(migrations, "MIGRATIONS", MIGRATIONS)
    with Store.open(path) as s:
        assert s.schema_version == len(MIGRATIONS)
        tables = {r[0] for r in s.connection.execute("SHOW TABLES").fetchall()}
        assert "half_done" not in tables


def test_a_newer_store_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.duckdb"
    with Store.open(path) as s:
        s.connection.execute("INSERT INTO schema_version VALUES (99, now()::TIMESTAMP)")
    with pytest.raises(UserError) as info:
        Store.open(path)
    message = str(info.value)
    assert "schema version 99" in message
    assert f"up to {len(MIGRATIONS)}" in message
    assert "upgrade specscope" in message


def test_foreign_files_are_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE points (x INTEGER)")
    con.close()
    with pytest.raises(UserError, match="not a specscope store"):
        Store.open(other)
    junk = tmp_path / "junk.duckdb"
    junk.write_text("this is not a database\n" * 100)
    with pytest.raises(UserError, match="cannot open store"):
        Store.open(junk)
    with pytest.raises(UserError, match="is a folder"):
        Store.open(tmp_path)


def test_a_store_held_by_another_process_is_a_user_error(tmp_path: Path) -> None:
    path = tmp_path / "held.duckdb"
    Store.open(path).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, duckdb; con = duckdb.connect(sys.argv[1]); print('ready', flush=True); "
            "sys.stdin.read()",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(UserError, match="is in use by another process"):
            Store.open(path)
    finally:
        holder.communicate("", timeout=30)


@pytest.mark.parametrize(
    ("version", "ok"), [("1.1.3", False), ("0.10.2", False), ("1.2.0", True), ("2.0.0", True)]
)
def test_duckdb_version_check(version: str, ok: bool) -> None:
    if ok:
        store_db._check_duckdb_version(version)
    else:
        with pytest.raises(UserError, match=f"needs duckdb >= 1.2, found {version}"):
            store_db._check_duckdb_version(version)


# ---- InferenceX import -------------------------------------------------------------------------


def test_import_fixtures_and_reimport(store: Store) -> None:
    report = import_inferencex(store, [FIXTURES])
    assert (report.files, report.records, report.points_added) == (6, 10, 10)
    assert (report.points_already_present, report.skipped) == (0, [])
    again = import_inferencex(store, [FIXTURES])
    assert (again.points_added, again.points_already_present) == (0, 10)
    assert store.count() == 10
    mtp = store.points(PointFilter(spec_method="mtp", hardware="b300", sequence="1k/1k"))
    # The README's hand numbers: tput = 6500 − 25·x at x = 60, 80, ..., 140.
    assert [(p.interactivity, p.throughput_per_gpu) for p in mtp] == [
        (140.0, 3000.0),
        (120.0, 3500.0),
        (100.0, 4000.0),
        (80.0, 4500.0),
        (60.0, 5000.0),
    ]  # ordered by concurrency 8 → 40
    off = store.points(PointFilter(spec_method="off"))
    assert [p.throughput_per_gpu for p in off] == [800.0, 1200.0, 1600.0, 2000.0, 2400.0]
    assert all(p.provenance.source_file.endswith("agg_bmk_off.json") for p in off)  # type: ignore[union-attr]
    assert {r.kind for r in store.runs()} == {"import:inferencex"}
    assert len(store.runs()) == 2  # one sweep per series


def test_import_broken_files_skips_each_with_one_line(store: Store) -> None:
    report = import_inferencex(store, [BROKEN])
    assert (report.files, report.records, report.points_added) == (5, 5, 0)
    lines = [s.describe() for s in report.skipped]
    b = str(BROKEN)
    assert lines == [
        f"{b}/agg_invalid_json.json: not valid JSON (line 10 column 1: "
        "Expecting property name enclosed in double quotes)",
        f"{b}/agg_missing_tput.json: required key 'tput_per_gpu' is missing",
        f"{b}/agg_mixed_array.json (record 0): 'tput_per_gpu' must not be negative, got -5000.0",
        f"{b}/agg_mixed_array.json (record 1): unknown hardware 'a100-nv_0'; known: b200, b300, "
        "gb200, gb300, h100, h200, jalapeno, mi300x, mi325x, mi355x, rtx5090, rtx6000pro, tpuv7, "
        "vr200",
        f"{b}/agg_mixed_array.json (record 2): a record must be a JSON object, got 42",
        f"{b}/agg_string_number.json: 'tput_per_gpu' must be a number, got \"5000.0\"",
        f'{b}/not_a_record.json: expected a JSON object or an array of objects, got "hello"',
    ]
    assert store.count() == 0


def test_import_good_and_broken_together(store: Store) -> None:
    report = import_inferencex(store, [FIXTURES / "agg_bmk_off.json", BROKEN])
    assert (report.files, report.points_added, len(report.skipped)) == (6, 5, 7)


def test_import_of_a_missing_path_is_a_user_error(store: Store, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such file or folder"):
        import_inferencex(store, [tmp_path / "nope.json"])


def test_bundled_example_dataset(store: Store) -> None:
    assert EXAMPLE.stat().st_size < 200_000
    raw = json.loads(EXAMPLE.read_text())
    assert all(r["specscope_example"] is True for r in raw)
    report = import_inferencex(store, [EXAMPLE])
    assert (report.points_added, report.skipped) == (108, [])
    assert {p.provenance.source for p in store.points()} == {"example"}
    assert len(store.combos()) == 12  # 3 hardware × 2 sequences × (mtp, off)
    # The seed page's anchor: B300 FP4 Qwen3.5 1k/1k, MTP 4729.0 tok/s/GPU at 93 tok/s/user.
    (anchor,) = [
        p
        for p in store.points(PointFilter(hardware="b300", spec_method="mtp", sequence="1k/1k"))
        if p.interactivity == 93.0
    ]
    assert anchor.throughput_per_gpu == 4729.0
    for combo in store.combos():  # each series is its own Pareto front
        flt = PointFilter(
            hardware=combo.hardware, spec_method=combo.spec_method, isl=combo.isl, osl=combo.osl
        )
        series = sorted(store.points(flt), key=lambda p: p.interactivity)
        assert 8 <= len(series) <= 10
        tputs = [p.throughput_per_gpu for p in series]
        assert tputs == sorted(tputs, reverse=True)


# ---- export ------------------------------------------------------------------------------------


def test_export_csv_parses_back(store: Store) -> None:
    point = full_point()
    store.add_points([point, full_point(run_id="r2", acceptance=None)])
    text = export_points(store, "csv")
    assert text is not None
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == EXPORT_COLUMNS
    row = next(r for r in rows if r["point_id"] == point.point_id)
    assert float(row["throughput_per_gpu"]) == 457.7
    assert float(row["tpot_median_s"]) == 1 / 75
    assert row["hardware"] == "h200" and row["spec_method"] == "mtp"
    # AL = 1 + 18000/10000 = 2.8; r = 18000/30000 = 0.6
    assert float(row["acceptance_length"]) == 2.8
    assert float(row["draft_acceptance_rate"]) == 0.6
    assert json.loads(row["extra"]) == point.provenance.extra
    other = next(r for r in rows if r["point_id"] != point.point_id)
    assert other["acceptance_length"] == "" and other["drafts"] == ""


def test_export_json_to_a_stream_and_with_a_filter(store: Store) -> None:
    store.add_points(
        [
            full_point(),
            full_point(
                run_id="sg",
                acceptance=AcceptanceCounts(reported_acceptance_length=2.5, source="sglang"),
            ),
        ]
    )
    stream = io.StringIO()
    text = export_points(store, "json", stream=stream)
    assert stream.getvalue() == text
    rows = json.loads(text or "")
    assert isinstance(rows, list) and len(rows) == 2
    assert set(rows[0]) == set(EXPORT_COLUMNS)
    by_run = {r["run_id"]: r for r in rows}
    assert by_run["run-1"]["acceptance_length"] == 2.8
    assert by_run["run-1"]["accepted_per_position"] == [8000, 6000, 4000]
    assert by_run["run-1"]["extra"]["nested"] == {"a": 1, "b": [1.5, None]}
    assert by_run["sg"]["acceptance_length"] == 2.5  # only the reported AL
    assert by_run["sg"]["draft_acceptance_rate"] is None
    only = json.loads(export_points(store, "json", filter=PointFilter(run_id="sg")) or "")
    assert [r["run_id"] for r in only] == ["sg"]
    none = json.loads(export_points(store, "json", filter=PointFilter(run_id="x")) or "")
    assert none == []


def test_export_parquet_and_files(store: Store, tmp_path: Path) -> None:
    point = full_point()
    store.add_points([point])
    out = tmp_path / "exports" / "points.parquet"
    assert export_points(store, "parquet", out) is None
    row = duckdb.sql(
        f"SELECT point_id, throughput_per_gpu, accepted_per_position, acceptance_length "
        f"FROM read_parquet('{out}')"
    ).fetchall()
    assert row == [(point.point_id, 457.7, [8000, 6000, 4000], 2.8)]
    csv_out = tmp_path / "points.csv"
    export_points(store, "csv", csv_out)
    assert csv_out.read_text().splitlines()[0].split(",") == list(EXPORT_COLUMNS)
    with pytest.raises(UserError, match="--out FILE"):
        export_points(store, "parquet")
    with pytest.raises(UserError, match="not supported"):
        export_points(store, "xml")  # type: ignore[arg-type]


# ---- bulk read -----------------------------------------------------------------------------------


def test_points_reads_every_row_of_a_bulk_insert_back(store: Store) -> None:
    # Rows are cloned inside DuckDB, as benchmarks/store_read_scale.py does with 100 000 (which
    # prints how long the read takes): each clone reads back as the point it was cloned from.
    store.add_points([full_point()])
    cols = ", ".join(f'"{c}"' for c in POINT_COLUMNS[1:])
    store.connection.execute(
        f"INSERT INTO points SELECT 'clone-' || i::VARCHAR, {cols} FROM points, range(1000) t(i)"
    )
    points = store.points()
    assert len(points) == 1001
    assert points[-1] == points[0].model_copy()


def test_per_request_spec_decoding_fields_round_trip(store: Store) -> None:
    # vLLM's per-request summary for one response (issue 11 item 5): 4 verify steps, 8 drafted,
    # 5 accepted, per position [3, 2]; kept per request (schema version 2), read back as given.
    fields = {
        "vllm": {
            "num_spec_steps": 4,
            "num_draft_tokens": 8,
            "num_accepted_draft_tokens": 5,
            "acceptance_histogram": [1, 1, 2],
        }
    }
    records = [
        RequestRecord(index=0, send_s=0.0, output_tokens=10, spec_decoding=fields),
        RequestRecord(index=1, send_s=0.1, output_tokens=10),
    ]
    store.add_requests(records, point_id="p-spec")
    back = store.requests("p-spec")
    assert [r.spec_decoding for r in back] == [fields, None]
