"""The ``specscope`` command line end to end on real DuckDB files.

``import inferencex``, ``compare``, ``explain``, ``export`` and ``presets`` run as users run them:
``python -m specscope.cli`` in a fresh interpreter, on a store file under ``tmp_path``. The
error table uses typer's in-process runner (the same code path, without the interpreter start-up
per case); one subprocess case checks that a user error really is one line with no traceback.

Worked numbers come from ``tests/data/inferencex/README.md`` (two straight-line series, so the
monotone spline is the line itself), the SPEC's B300 example and the Leviathan formulas; each is
derived by hand in a comment where it is used.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
from tests.support.cli import ok_json, specscope
from typer.testing import CliRunner

from specscope.analysis.stats import aggregate_repeats
from specscope.app.compare import compare_store
from specscope.app.options import CompareOptions, EconomicsOptions, Selection
from specscope.cli import app
from specscope.schema import (
    OFF,
    AcceptanceCounts,
    LatencyStats,
    Point,
    PointConfig,
    Provenance,
)
from specscope.store.codec import LEAN_POINT_COLUMNS
from specscope.store.db import PointFilter, Store

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "data" / "inferencex"
BROKEN = ROOT / "tests" / "data" / "inferencex-broken"
SWEEPS = ROOT / "tests" / "data" / "sweeps"
EXAMPLE = ROOT / "src" / "specscope" / "data" / "examples" / "inferencex-example.json"


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def fixture_import(work: Path) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """The hand-made fixtures imported into a fresh store (the first import)."""
    db = work / "fixtures.duckdb"
    return db, specscope("import", "inferencex", FIXTURES, "--db", db, cwd=work)


@pytest.fixture(scope="module")
def fixture_db(fixture_import: tuple[Path, subprocess.CompletedProcess[str]]) -> Path:
    db, done = fixture_import
    assert done.returncode == 0, done.stderr
    return db


@pytest.fixture(scope="module")
def example_db(work: Path) -> Path:
    db = work / "example.duckdb"
    done = specscope("import", "inferencex", EXAMPLE, "--db", db, cwd=work)
    assert done.returncode == 0, done.stderr
    assert "imported from 1 file(s) into" in done.stdout and ": 108 new, 0 already" in done.stdout
    return db


# --------------------------------------------------------------------------------------------
# import inferencex
# --------------------------------------------------------------------------------------------


def test_import_counts_points_and_a_second_import_adds_none(
    fixture_import: tuple[Path, subprocess.CompletedProcess[str]], work: Path
) -> None:
    db, first = fixture_import
    # 5 MTP files (one record each) + agg_bmk_off.json (an array of 5) = 6 files, 10 points.
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == (
        f"imported from 6 file(s) into {db}: 10 new, 0 already present, 0 skipped"
    )
    assert first.stderr == ""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "SELECT spec_method, count(*), sum(throughput_per_gpu) FROM points "
            "GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    # MTP 5000+4500+4000+3500+3000 = 20000; Off 2400+2000+1600+1200+800 = 8000.
    assert rows == [("mtp", 5, 20000.0), (OFF, 5, 8000.0)]

    again = ok_json(specscope("import", "inferencex", FIXTURES, "--db", db, "--json", cwd=work))
    assert again["files"] == 6
    assert again["records"] == 10
    assert again["points_added"] == 0
    assert again["points_already_present"] == 10
    assert again["skipped"] == []
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM points").fetchone() == (10,)


BROKEN_LINES = [
    ("agg_invalid_json.json", "not valid JSON (line 10 column 1"),
    ("agg_missing_tput.json", "required key 'tput_per_gpu' is missing"),
    ("agg_mixed_array.json (record 0)", "'tput_per_gpu' must not be negative, got -5000.0"),
    ("agg_mixed_array.json (record 1)", "unknown hardware 'a100-nv_0'; known: "),
    ("agg_mixed_array.json (record 2)", "a record must be a JSON object, got 42"),
    ("agg_string_number.json", "'tput_per_gpu' must be a number, got \"5000.0\""),
    ("not_a_record.json", 'expected a JSON object or an array of objects, got "hello"'),
]


def test_import_of_only_broken_files_names_each_problem_and_fails(tmp_path: Path) -> None:
    db = tmp_path / "broken.duckdb"
    done = specscope("import", "inferencex", BROKEN, "--db", db, cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert "Traceback" not in done.stderr
    skipped = [line for line in lines if line.startswith("skipped ")]
    assert len(skipped) == len(BROKEN_LINES) == 7
    for line, (where, why) in zip(skipped, BROKEN_LINES, strict=True):
        assert line.startswith(f"skipped {BROKEN}/{where}: "), line
        assert why in line, line
    assert lines[-1].startswith("error: nothing imported from ")
    assert "all 7 record(s) or file(s) were skipped" in lines[-1]
    assert "imported from 5 file(s) into" in done.stdout and ": 0 new," in done.stdout


def test_import_of_good_and_broken_files_keeps_the_good_and_exits_0(tmp_path: Path) -> None:
    db = tmp_path / "mixed.duckdb"
    done = specscope("import", "inferencex", BROKEN, FIXTURES, "--db", db, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "imported from 11 file(s) into" in done.stdout
    assert ": 10 new, 0 already present, 7 skipped" in done.stdout
    assert sum(line.startswith("skipped ") for line in done.stderr.splitlines()) == 7
    assert "error" not in done.stderr


def test_import_of_a_folder_without_json_fails(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = CliRunner().invoke(
        app, ["import", "inferencex", str(empty), "--db", str(tmp_path / "e.duckdb")]
    )
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"error: no *.json files in {empty}; give agg_*.json files or folders of them"
    ]


# --------------------------------------------------------------------------------------------
# compare
# --------------------------------------------------------------------------------------------

# tests/data/inferencex/README.md: band [max(60, 40), min(140, 120)] = [60, 120]; default
# targets 60 + {0.25, 0.5, 0.75}·60 = 75, 90, 105. MTP tput = 6500 − 25x, conc = 64 − 0.4x;
# Off tput = 3200 − 20x, conc = 56 − 0.4x. B300 seed preset: $2.34/GPU-h, 2.17 kW, so
# $/M = 2.34e6 / (tput·3600) = 650 / tput and tok/s/MW = tput·1000 / 2.17.
WORKED = [
    # target, MTP tput, Off tput, MTP $/M, Off $/M, MTP tok/s/MW, Off tok/s/MW, MTP conc, Off conc
    (75.0, 4625.0, 1700.0, 0.140541, 0.382353, 2131336.4, 783410.1, 34.0, 26.0),
    (90.0, 4250.0, 1400.0, 0.152941, 0.464286, 1958525.3, 645161.3, 28.0, 20.0),
    (105.0, 3875.0, 1100.0, 0.167742, 0.590909, 1785714.3, 506912.4, 22.0, 14.0),
]


@pytest.fixture(scope="module")
def fixture_comparison(fixture_db: Path, work: Path) -> dict[str, Any]:
    data: dict[str, Any] = ok_json(specscope("compare", "--db", fixture_db, "--json", cwd=work))
    return data


def test_compare_json_band_economics_and_series(fixture_comparison: dict[str, Any]) -> None:
    c = fixture_comparison
    assert (c["model"], c["hardware"], c["precision"], c["sequence"]) == (
        "qwen3.5",
        "b300",
        "fp4",
        "1k/1k",
    )
    assert c["band"] == [60.0, 120.0]
    assert c["band_overlaps"] is True
    assert c["economics"]["preset"] == "inferencex-2026-04"
    assert c["economics"]["usd_per_gpu_hour"] == 2.34
    assert c["economics"]["kw_per_gpu"] == 2.17
    assert (c["spec"]["label"], c["spec"]["n_points"], c["spec"]["n_frontier"]) == (
        "mtp (sglang)",
        5,
        5,
    )
    assert (c["off"]["label"], c["off"]["n_points"], c["off"]["n_frontier"]) == (
        "off (sglang)",
        5,
        5,
    )
    assert c["spec"]["interactivity_range"] == [60.0, 140.0]
    assert c["off"]["interactivity_range"] == [40.0, 120.0]
    assert [t["interactivity"] for t in c["targets"]] == [75.0, 90.0, 105.0]


@pytest.mark.parametrize(
    ("target", "s_tput", "o_tput", "s_usd", "o_usd", "s_mw", "o_mw", "s_conc", "o_conc"), WORKED
)
def test_compare_json_gives_the_hand_derived_numbers(
    fixture_comparison: dict[str, Any],
    target: float,
    s_tput: float,
    o_tput: float,
    s_usd: float,
    o_usd: float,
    s_mw: float,
    o_mw: float,
    s_conc: float,
    o_conc: float,
) -> None:
    (t,) = [t for t in fixture_comparison["targets"] if t["interactivity"] == target]
    assert t["requested"] == target
    assert t["clamped"] is False
    for side, tput, usd, mw, conc in (
        (t["spec"], s_tput, s_usd, s_mw, s_conc),
        (t["off"], o_tput, o_usd, o_mw, o_conc),
    ):
        assert side["interactivity"] == target
        assert side["throughput_per_gpu"] == pytest.approx(tput, abs=1e-6)
        assert side["usd_per_mtok"] == pytest.approx(usd, abs=5e-7)  # 6 decimals
        assert side["tok_s_per_mw"] == pytest.approx(mw, abs=0.05)  # 1 decimal
        assert side["concurrency"] == pytest.approx(conc, abs=1e-6)
        assert side["concurrency_interpolated"] is True  # between measured load levels
        assert side["clamped"] is False
        assert side["throughput_ci"] is None  # no repeats
    # True ratios: factor = MTP/Off throughput (= Off/MTP cost); cost percent = 1 − Off⁻¹…
    # e.g. at 90: 4250/1400 = 3.0357×, cost 1 − 0.152941/0.464286 = 67.06 % less.
    factor = s_tput / o_tput
    assert t["cost"]["winner"] == "spec"
    assert t["cost"]["factor"] == pytest.approx(factor, rel=1e-9)
    assert t["cost"]["percent"] == pytest.approx((1 - o_tput / s_tput) * 100, rel=1e-9)
    assert t["throughput"]["factor"] == pytest.approx(factor, rel=1e-9)
    assert t["power"]["factor"] == pytest.approx(factor, rel=1e-9)
    assert f"({factor:.2f}× cheaper)" in t["cost"]["wording"]


def test_compare_targets_outside_the_band_are_clamped_or_refused(
    fixture_db: Path, work: Path
) -> None:
    c = ok_json(specscope("compare", "--db", fixture_db, "--json", "--targets", "50,130", cwd=work))
    low, high = c["targets"]
    # 50 → held at the band's low edge 60: MTP 6500 − 25·60 = 5000 (conc 64 − 24 = 40),
    # Off 3200 − 20·60 = 2000 (conc 56 − 24 = 32); $/M 650/5000 = 0.13 and 650/2000 = 0.325.
    assert low["requested"] == 50.0
    assert low["interactivity"] == 60.0
    assert low["clamped"] is True
    assert low["refusal"] is None
    assert low["spec"]["throughput_per_gpu"] == pytest.approx(5000.0, abs=1e-6)
    assert low["off"]["throughput_per_gpu"] == pytest.approx(2000.0, abs=1e-6)
    assert low["spec"]["usd_per_mtok"] == pytest.approx(650 / 5000.0, abs=5e-7)
    assert low["off"]["usd_per_mtok"] == pytest.approx(650 / 2000.0, abs=5e-7)
    # the band edge is a measured point: concurrency measured, not interpolated
    assert (low["spec"]["concurrency"], low["off"]["concurrency"]) == (40.0, 32.0)
    assert low["spec"]["concurrency_interpolated"] is False
    # 130 is above Off's fastest point (120): not compared (issue 10, item 4). MTP reaches it
    # (6500 − 25·130 = 3250); Off's figures are its fastest point's (800 at 120), for reference.
    assert (high["requested"], high["interactivity"]) == (130.0, 130.0)
    assert high["spec"]["reaches"] is True and high["off"]["reaches"] is False
    assert high["spec"]["throughput_per_gpu"] == pytest.approx(3250.0, abs=1e-6)
    assert high["off"]["interactivity"] == 120.0
    assert high["off"]["throughput_per_gpu"] == pytest.approx(800.0, abs=1e-6)
    assert high["cost"] is None and high["throughput"] is None and high["power"] is None
    assert high["refusal"] == (
        "Off (sglang) cannot reach 130 tok/s/user (its best is 120), so nothing is compared at "
        "this target."
    )
    caveats = " ".join(c["caveats"])
    assert "Target 50 tok/s/user lies outside the band 60–120 and was clamped to 60." in caveats
    assert "Target 130 tok/s/user" not in caveats


def test_compare_human_output_has_the_table_and_one_paragraph_per_target(
    fixture_db: Path, work: Path
) -> None:
    done = specscope("compare", "--db", fixture_db, cwd=work)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert "mtp (sglang) vs off (sglang) — qwen3.5 on b300 fp4, 1k/1k" in text
    assert "band 60–120 tok/s/user" in text
    table_rows = {
        "mtp tok/s/GPU": ["4,625.0", "4,250.0", "3,875.0"],
        "off tok/s/GPU": ["1,700.0", "1,400.0", "1,100.0"],
        "mtp $/M tok": ["$0.141", "$0.153", "$0.168"],
        "off $/M tok": ["$0.382", "$0.464", "$0.591"],
        "mtp tok/s/MW": ["2,131,336", "1,958,525", "1,785,714"],
        "off tok/s/MW": ["783,410", "645,161", "506,912"],
        "mtp concurrency": ["~34", "~28", "~22"],
        "off concurrency": ["~26", "~20", "~14"],
    }
    lines = text.splitlines()
    for name, cells in table_rows.items():
        (row,) = [line for line in lines if f" {name} " in line]
        assert re.findall(r"[$~]?[\d,]+\.?\d*", row.split(name)[1]) == cells, row
    paragraphs = [line for line in lines if line.startswith("Target ")]
    assert [p.split(" tok/s/user")[0] for p in paragraphs] == [
        "Target 75",
        "Target 90",
        "Target 105",
    ]
    # 1 − 1700/4625 = 63.2 % (4625/1700 = 2.72×); 1 − 1400/4250 = 67.1 % (3.04×);
    # 1 − 1100/3875 = 71.6 % (3.52×).
    for paragraph, wording in zip(
        paragraphs,
        [
            "MTP costs 63 % less (2.72× cheaper) than Off",
            "MTP costs 67 % less (3.04× cheaper) than Off",
            "MTP costs 72 % less (3.52× cheaper) than Off",
        ],
        strict=True,
    ):
        assert wording in paragraph
    # Every "costs P % less (F× cheaper)" is a true pair: P = 100·(1 − 1/F), never over 100.
    for percent, factor in re.findall(r"costs (\d+) % less \(([\d.]+)× cheaper\)", text):
        assert int(percent) < 100
        assert int(percent) == pytest.approx(100 * (1 - 1 / float(factor)), abs=1)


def test_compare_reproduces_the_spec_b300_example(example_db: Path, work: Path) -> None:
    args = ["--model", "qwen3.5", "--hardware", "b300", "--precision", "fp4"]
    args += ["--sequence", "1k/1k", "--targets", "93"]
    c = ok_json(specscope("compare", "--db", example_db, *args, "--json", cwd=work))
    (t,) = c["targets"]
    assert t["clamped"] is False
    spec = t["spec"]
    # SPEC §2: 4729.0 tok/s/GPU on B300 → 2.34e6 / (4729·3600) = $0.1374/M → $0.137, and
    # 4729·1000 / 2.17 = 2 179 262.7 → 2 179 263 tok/s/MW.
    assert spec["throughput_per_gpu"] == pytest.approx(4729.0, abs=1e-6)
    assert round(spec["usd_per_mtok"], 3) == 0.137
    assert spec["tok_s_per_mw"] == pytest.approx(2_179_263, abs=1)
    # the published Off value at the same target (examples/README.md)
    assert t["off"]["throughput_per_gpu"] == pytest.approx(1583.6, abs=1e-6)

    human = specscope("compare", "--db", example_db, *args, cwd=work)
    assert human.returncode == 0, human.stderr
    assert "4,729.0" in human.stdout
    assert "$0.137" in human.stdout
    assert "2,179,263" in human.stdout


# --------------------------------------------------------------------------------------------
# explain
# --------------------------------------------------------------------------------------------

SEED_ARGS = ["--acceptance", "0.906", "--gamma", "2", "--speedup", "1.41", "--json"]


def test_explain_gives_the_seed_worked_numbers(work: Path) -> None:
    r = ok_json(specscope("explain", "--acceptance-kind", "alpha", *SEED_ARGS, cwd=work))
    # E = 1 + 0.906 + 0.906² = 2.726836; c = (E/S − 1)/g = (2.726836/1.41 − 1)/2 = 0.466963;
    # c* = (E − 1)/g = 0.863418. Best g under c = 0.466963: S(3) = (E + 0.906³)/(1 + 3c)
    # = 3.470513/2.400889 = 1.44552 > S(4) = 4.144285/2.867852 = 1.44508 > S(2) = 1.41.
    assert r["acceptance_input"] == {"value": 0.906, "kind": "alpha"}
    assert r["expected_tokens_per_step"] == pytest.approx(2.7268, abs=5e-5)
    assert r["implied_cost_ratio"] == pytest.approx(0.467, abs=5e-4)
    assert r["implied_cost_ratio"] == pytest.approx(0.466963, abs=1e-6)
    assert r["break_even_cost_ratio"] == pytest.approx(0.863, abs=5e-4)
    assert r["break_even_cost_ratio"] == pytest.approx(0.863418, abs=1e-6)
    assert r["best_gamma"] == 3
    assert r["best_gamma_speedup"] == pytest.approx(1.44552, abs=1e-5)


def test_explain_reads_the_same_figure_as_an_engine_rate_differently(work: Path) -> None:
    r = ok_json(specscope("explain", "--acceptance-kind", "rate", *SEED_ARGS, cwd=work))
    # r = 0.906 → E = 1 + g·r = 2.812; c = (2.812/1.41 − 1)/2 = 0.497163; c* = r = 0.906.
    assert r["expected_tokens_per_step"] == pytest.approx(2.812, abs=1e-9)
    assert r["implied_cost_ratio"] == pytest.approx(0.497163, abs=1e-6)
    assert r["break_even_cost_ratio"] == pytest.approx(0.906, abs=1e-9)
    assert abs(r["implied_cost_ratio"] - 0.466963) > 0.03


def test_explain_human_output_shows_the_table_and_verdict(work: Path) -> None:
    done = specscope("explain", *SEED_ARGS[:-1], "--acceptance-kind", "alpha", cwd=work)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    for label, value in (
        ("expected tokens per step E", "2.727"),
        ("implied cost ratio c", "0.467"),
        ("break-even cost ratio c*", "0.863"),
        ("best g under this c", "3 (S 1.45)"),
    ):
        (row,) = [line for line in text.splitlines() if f"│ {label} " in line]
        assert value in row, row
    assert "At g = 2 speculative decoding pays" in text


def test_explain_sweep_with_acceptance_json(work: Path) -> None:
    r = ok_json(
        specscope(
            "explain", "--sweep", SWEEPS / "strix_halo_qwen36_27b_awq.csv", "--json", cwd=work
        )
    )
    # off 20.0 tok/s; S = 24.0/20, 27.8/20, 29.6/20 = 1.20, 1.39, 1.48;
    # c_eff = (AL/S − 1)/g = (1.9/1.2 − 1)/1 = 0.583333, (2.4/1.39 − 1)/2 = 0.363309,
    # (2.8/1.48 − 1)/3 = 0.297297: falls with g (a fixed per-step overhead).
    assert r["off_tok_s"] == 20.0
    rows = {row["gamma"]: row for row in r["rows"]}
    assert sorted(rows) == [1, 2, 3]
    for g, speedup, c_eff in ((1, 1.2, 0.583333), (2, 1.39, 0.363309), (3, 1.48, 0.297297)):
        assert rows[g]["speedup"] == pytest.approx(speedup, abs=1e-9)
        assert rows[g]["effective_cost_ratio"] == pytest.approx(c_eff, abs=1e-6)
    assert r["best_gamma"] == 3
    assert r["c_eff_falls_with_gamma"] is True


def test_explain_sweep_without_acceptance_human(work: Path) -> None:
    done = specscope("explain", "--sweep", SWEEPS / "rtx3090_qwen36_35b_a3b_q4km.csv", cwd=work)
    assert done.returncode == 0, done.stderr
    # off 167 tok/s; best g = 2 at 236 tok/s: 236/167 = 1.413×; g = 16: 128/167 = 0.766×.
    assert "(off: 167.0 tok/s)" in done.stdout
    (best,) = [line for line in done.stdout.splitlines() if "★" in line]
    assert re.search(r"\b2 ★", best) and "236.0" in best and "1.41×" in best
    (g16,) = [line for line in done.stdout.splitlines() if re.search(r"\b16\b.*128\.0", line)]
    assert "0.77×" in g16
    assert "g = 2 is the fastest depth measured" in done.stdout
    assert "Slower than spec off: g = 16." in done.stdout


# --------------------------------------------------------------------------------------------
# export
# --------------------------------------------------------------------------------------------

# (spec method, concurrency) → (interactivity, tput_per_gpu), from the fixtures' README.
FIXTURE_POINTS = {
    **{
        ("mtp", c): (x, 6500 - 25 * x)
        for c, x in ((40, 60), (32, 80), (24, 100), (16, 120), (8, 140))
    },
    **{
        (OFF, c): (x, 3200 - 20 * x) for c, x in ((40, 40), (32, 60), (24, 80), (16, 100), (8, 120))
    },
}


def _check_exported(rows: list[dict[str, Any]]) -> None:
    assert len(rows) == 10
    seen = {}
    for row in rows:
        key = (row["spec_method"], int(row["concurrency"]))
        seen[key] = (float(row["interactivity"]), float(row["throughput_per_gpu"]))
        assert row["hardware"] == "b300"
        assert int(row["n_gpus"]) == 4
        # output = input = total / 2 in every fixture record
        assert float(row["output_throughput_per_gpu"]) == float(row["throughput_per_gpu"]) / 2
    assert seen == {k: (float(x), float(y)) for k, (x, y) in FIXTURE_POINTS.items()}


def test_export_csv_to_stdout(fixture_db: Path, work: Path) -> None:
    done = specscope("export", "--db", fixture_db, "--format", "csv", cwd=work)
    assert done.returncode == 0, done.stderr
    _check_exported(list(csv.DictReader(io.StringIO(done.stdout))))


def test_export_json_to_stdout(fixture_db: Path, work: Path) -> None:
    _check_exported(ok_json(specscope("export", "--db", fixture_db, "--format", "json", cwd=work)))


def test_export_parquet_to_a_file_reads_back_with_duckdb(fixture_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "sub" / "f.parquet"
    result = CliRunner().invoke(
        app, ["export", "--db", str(fixture_db), "--format", "parquet", "--out", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    assert result.stderr == f"wrote {out}\n"
    with duckdb.connect() as con:
        rel = con.execute(f"SELECT * FROM read_parquet('{out}')")
        names = [d[0] for d in rel.description]
        rows = [dict(zip(names, r, strict=True)) for r in rel.fetchall()]
    _check_exported(rows)


# --------------------------------------------------------------------------------------------
# presets
# --------------------------------------------------------------------------------------------

# SPEC §2: the preset that reproduces the seed pages (kW, $/GPU-hour owning/hyperscaler).
SEED_PRESET = {
    "h100": (1.30, 1.73),
    "h200": (1.41, 1.73),
    "b200": (1.95, 2.17),
    "b300": (2.34, 2.17),
    "gb200": (2.21, 2.10),
    "gb300": (2.652, 2.10),
    "mi300x": (1.12, 1.79),
    "mi325x": (1.28, 2.18),
    "mi355x": (1.48, 2.65),
}


def test_presets_json_holds_the_seed_preset_with_date_and_source() -> None:
    result = CliRunner().invoke(app, ["presets", "--json"])
    assert result.exit_code == 0, result.stderr
    presets = {p["name"]: p for p in json.loads(result.stdout)}
    seed = presets["inferencex-2026-04"]
    assert seed["date"] == "2026-04-03"
    assert "InferenceX" in seed["source"]
    for hw, (usd, kw) in SEED_PRESET.items():
        assert seed["hardware"][hw] == {"usd_per_gpu_hour": usd, "kw_per_gpu": kw}
    assert all(p["date"] and p["source"] for p in presets.values())


def test_presets_human_lists_name_date_source_and_values() -> None:
    result = CliRunner(env={"COLUMNS": "250"}).invoke(app, ["presets"])
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert "inferencex-2026-04  (2026-04-03)" in text
    assert "SemiAnalysis InferenceX dashboard" in text
    section = text.split("inferencex-2026-04  (2026-04-03)")[1]
    b300 = next(line for line in section.splitlines() if " b300 " in line)
    assert re.findall(r"\d+\.?\d*", b300.split("b300")[1]) == ["2.34", "2.17"]


# --------------------------------------------------------------------------------------------
# bad input: one line on stderr (what, where, how to fix), exit code 2, no traceback
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def not_a_db(work: Path) -> Path:
    path = work / "notes.duckdb"
    path.write_text("these are my notes, not a database\n")
    return path


ERROR_CASES: list[tuple[str, list[str], list[str]]] = [
    # id, args ({db} = the fixture store, {missing}, {notdb}), words the line must hold
    ("missing db", ["compare", "--db", "{missing}"], ["no store at", "{missing}", "import"]),
    (
        "filter matches nothing",
        ["compare", "--db", "{db}", "--hardware", "h100"],
        ["no measured points match hardware=h100", "the store holds: qwen3.5 b300 fp4 1k/1k mtp"],
    ),
    (
        "sequence of nothing stored",
        ["compare", "--db", "{db}", "--sequence", "1x1"],
        ["no measured points match sequence=1x1", "the store holds:", "1k/1k"],
    ),
    (
        "sequence unreadable",
        ["compare", "--db", "{db}", "--sequence", "long/short"],
        ["unknown sequence 'long/short'", "'1k/1k'"],
    ),
    (
        "targets not numbers",
        ["compare", "--db", "{db}", "--targets", "abc"],
        ["--targets 'abc'", "numbers separated by commas"],
    ),
    (
        "spec method absent",
        ["compare", "--db", "{db}", "--spec", "eagle3"],
        ["no points with spec method 'eagle3'", "methods present: mtp, none"],
    ),
    (
        "acceptance kind unknown",
        ["explain", "--acceptance", "0.9", "--acceptance-kind", "foo", "--gamma", "2"],
        ["--acceptance-kind 'foo'", "alpha, rate or al"],
    ),
    (
        "alpha above 1",
        ["explain", "--acceptance", "1.5", "--acceptance-kind", "alpha", "--gamma", "2"],
        ["acceptance a = 1.5 is out of range", "[0, 1]"],
    ),
    ("explain without inputs", ["explain"], ["--acceptance and --gamma", "--sweep"]),
    (
        "export format unknown",
        ["export", "--db", "{db}", "--format", "xml"],
        ["--format 'xml'", "csv, parquet or json"],
    ),
    (
        "parquet to stdout",
        ["export", "--db", "{db}", "--format", "parquet"],
        ["parquet", "--out FILE"],
    ),
    ("not a database", ["compare", "--db", "{notdb}"], ["cannot open store {notdb}", "--db"]),
    (
        "report into an unwritable folder",
        ["report", "--db", "{db}", "--out", "{notdb}/report"],
        ["{notdb}", "check the path"],
    ),
]


@pytest.mark.parametrize(
    ("args", "words"), [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES]
)
def test_bad_input_gets_one_line_and_exit_2(
    args: list[str], words: list[str], fixture_db: Path, not_a_db: Path, tmp_path: Path
) -> None:
    names = {
        "db": str(fixture_db),
        "missing": str(tmp_path / "nope.duckdb"),
        "notdb": str(not_a_db),
    }
    result = CliRunner().invoke(app, [a.format(**names) for a in args], catch_exceptions=False)
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for word in words:
        assert word.format(**names) in lines[0]
    assert not (tmp_path / "nope.duckdb").exists()  # a failed compare creates no store


def test_a_user_error_in_a_real_process_is_one_line_without_traceback(
    not_a_db: Path, work: Path
) -> None:
    done = specscope("compare", "--db", not_a_db, "--json", cwd=work)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"error: cannot open store {not_a_db}: ")
    assert "Traceback" not in done.stderr


# --------------------------------------------------------------------------------------------
# compare's lean read path gives the same answer as the full read
# --------------------------------------------------------------------------------------------


def _lean_and_full(
    db: Path, selection: Selection, comparing: CompareOptions
) -> tuple[list[str], list[str]]:
    lean = compare_store(db, selection, comparing, lean=True)
    full = compare_store(db, selection, comparing, lean=False)
    return [c.model_dump_json() for c in lean], [c.model_dump_json() for c in full]


@pytest.mark.parametrize(
    "comparing",
    [
        CompareOptions(),
        CompareOptions(targets=[50.0, 75.0, 130.0]),
        CompareOptions(economics=EconomicsOptions(usd_per_gpu_hour=3.0, kw_per_gpu=1.5)),
    ],
)
def test_lean_read_gives_identical_comparisons_on_the_fixtures(
    fixture_db: Path, comparing: CompareOptions
) -> None:
    lean, full = _lean_and_full(fixture_db, Selection(), comparing)
    assert len(lean) == 1
    assert lean == full


@pytest.mark.parametrize(
    ("selection", "comparing"),
    [
        (
            Selection(hardware="b300", precision="fp4", sequence="1k/1k"),
            CompareOptions(targets=[93.0]),
        ),
        (Selection(hardware="h200", precision="fp8", sequence="8k/1k"), CompareOptions()),
        # two sequences: one is picked, with a note
        (Selection(hardware="mi355x", precision="bf16"), CompareOptions()),
    ],
)
def test_lean_read_gives_identical_comparisons_on_the_example(
    example_db: Path, selection: Selection, comparing: CompareOptions
) -> None:
    lean, full = _lean_and_full(example_db, selection, comparing)
    assert lean == full


def _rich_points() -> Iterator[Point]:
    """Two runs × 3 repeats, two engines, measured power and concurrency, acceptance, a failed
    point and a predicted series: everything compare reads that the fixtures lack."""
    rng = np.random.default_rng(3)
    for engine in ("vllm", "sglang"):
        for run in ("r1", "r2"):
            for method, depth in ((OFF, 0), ("mtp", 2)):
                for conc in (1, 4, 16, 64):
                    for repeat in range(3):
                        x = 200.0 / conc**0.5 * (1.5 if depth else 1.0)
                        y = 300.0 * conc**0.5 * (1.3 if depth else 1.0)
                        noise = rng.normal(1.0, 0.03, 2)
                        open_loop = engine == "sglang" and conc == 64
                        yield Point(
                            run_id=f"{engine}-{run}",
                            repeat=repeat,
                            status="failed" if (conc, repeat, run) == (4, 2, "r2") else "ok",
                            config=PointConfig(
                                hardware="h100",
                                model="m",
                                precision="fp8",
                                engine=engine,
                                spec_method=method,
                                draft_depth=depth,
                                isl=1024,
                                osl=1024,
                                concurrency=None if open_loop else conc,
                                request_rate=2.5 if open_loop else None,
                            ),
                            throughput_per_gpu=y * float(noise[0]),
                            interactivity=x * float(noise[1]),
                            measured_concurrency=conc * 0.9,
                            power_w_per_gpu=650.0 + repeat if engine == "vllm" else None,
                            ttft=LatencyStats(mean_s=0.2, median_s=0.2, p90_s=0.4),
                            acceptance=(
                                AcceptanceCounts(
                                    drafts=100,
                                    draft_tokens=200,
                                    accepted_tokens=150,
                                    accepted_per_position=[90, 60],
                                )
                                if depth
                                else None
                            ),
                            provenance=Provenance(
                                source="predicted" if engine == "sglang" and depth else "specscope",
                                date="2026-11-01",
                                extra={"note": "x"},
                            ),
                        )


@pytest.fixture(scope="module")
def rich_db(work: Path) -> Path:
    db = work / "rich.duckdb"
    with Store.open(db) as store:
        store.add_points(_rich_points())
    return db


@pytest.mark.parametrize(
    ("selection", "comparing"),
    [
        (Selection(), CompareOptions()),
        (Selection(engine="vllm"), CompareOptions(targets=[30.0, 60.0, 500.0])),
        (Selection(), CompareOptions(pool=True)),
        (Selection(), CompareOptions(economics=EconomicsOptions(kw_per_gpu=0.8))),
    ],
)
def test_lean_read_gives_identical_comparisons_with_repeats_power_and_engines(
    rich_db: Path, selection: Selection, comparing: CompareOptions
) -> None:
    lean, full = _lean_and_full(rich_db, selection, comparing)
    assert lean
    assert lean == full


def test_lean_points_equal_full_points_on_every_column_they_read(rich_db: Path) -> None:
    with Store.open(rich_db) as store:
        full = store.points(PointFilter(status=None))
        lean = store.points(PointFilter(status=None), lean=True)
    assert len(lean) == len(full) == 2 * 2 * 2 * 4 * 3
    for a, b in zip(lean, full, strict=True):
        assert a.config == b.config
        assert a.point_id == b.point_id
        for name in LEAN_POINT_COLUMNS:
            if name in PointConfig.model_fields:
                continue
            got = a.provenance.source if name == "source" else getattr(a, name)
            want = b.provenance.source if name == "source" else getattr(b, name)
            assert got == want, name
        # what the lean read leaves out stays at its default
        assert a.acceptance is None
        assert a.ttft.median_s is None
        assert a.provenance.extra == {}


@pytest.mark.parametrize("sizes", [[1, 2, 3], [2, 2, 5, 9, 1], [8, 16, 129, 4]])
def test_aggregate_repeats_equals_per_group_numpy_statistics(sizes: list[int]) -> None:
    """The row-wise statistics give exactly (==) what numpy gives group by group."""
    rng = np.random.default_rng(len(sizes))
    points = []
    for conc, size in enumerate(sizes, start=1):
        for repeat in range(size):
            points.append(
                Point(
                    run_id="r",
                    repeat=repeat,
                    config=PointConfig(
                        hardware="h", model="m", engine="e", isl=1, osl=1, concurrency=conc
                    ),
                    throughput_per_gpu=float(rng.lognormal(6, 1)),
                    interactivity=float(rng.lognormal(3, 1)),
                )
            )
    order = rng.permutation(len(points))
    shuffled = [points[i] for i in order]
    ops = aggregate_repeats(shuffled)
    assert list(ops.n_repeats) == [sizes[p.config.concurrency - 1] for p in _firsts(shuffled)]
    for i, first in enumerate(_firsts(shuffled)):
        group = [p for p in shuffled if p.config == first.config]
        ys = np.array([p.throughput_per_gpu for p in group])
        xs = np.array([p.interactivity for p in group])
        assert ops.interactivity[i] == pytest.approx(xs.mean(), rel=1e-14)
        assert ops.throughput_per_gpu[i] == pytest.approx(ys.mean(), rel=1e-14)
        if len(group) > 1:
            assert ops.throughput_sd[i] == ys.std(ddof=1)
        else:
            assert math.isnan(ops.throughput_sd[i])
        assert ops.concurrency[i] == first.config.concurrency


def _firsts(points: list[Point]) -> list[Point]:
    seen: dict[int | None, Point] = {}
    for p in points:
        seen.setdefault(p.config.concurrency, p)
    return list(seen.values())
