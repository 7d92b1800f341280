"""``specscope demo --quick``, for real: llama.cpp + Gemma 3 270M on this CPU, end to end.

What CI runs (the README's first command, shortened). One measured run (JSON), then the same
store read again through ``--resume`` (nothing is measured twice) for the console output.
Behaviour is asserted, not speed: the CPU is shared and the numbers are noisy.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tests.support.engine import require_llama_cpp

from specscope.demo import SYNTHETIC_AL, SYNTHETIC_GAMMA, demo_recipe
from specscope.store.db import PointFilter, Store
from specscope.sweep.plan import make_plan

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DEMO_TIMEOUT_S = 1200


def _specscope(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "specscope.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=DEMO_TIMEOUT_S,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], Path]:
    """One measured quick demo: (its folder, its JSON result, the store)."""
    require_llama_cpp()
    folder = tmp_path_factory.mktemp("demo")
    db = folder / "demo.duckdb"
    args = ["--db", str(db), "--runs-dir", str(folder / "runs"), "--report", str(folder / "rep")]
    done = _specscope("demo", "--quick", *args, "--json")
    assert done.returncode == 0, done.stderr[-3000:]
    return folder, json.loads(done.stdout), db


def test_every_planned_point_was_measured_ok(demo: tuple[Path, dict[str, Any], Path]) -> None:
    _folder, result, db = demo
    plan = make_plan(demo_recipe(quick=True))
    with Store.open(db) as store:
        points = store.points(PointFilter(run_id=result["run_id"], status=None))
    assert sorted(str(p.provenance.extra["sweep_key"]) for p in points) == sorted(
        p.key for p in plan.points
    )
    failed = [(p.provenance.extra["sweep_key"], p.error) for p in points if p.status != "ok"]
    assert failed == []
    for p in points:
        assert p.config.engine == "llamacpp"
        assert p.config.hardware == "cpu"
        assert p.n_failed == 0
        assert p.interactivity > 0
        assert p.throughput_per_gpu > 0
        assert p.config.isl > 0  # counted by the server's own tokenizer
        if not p.config.is_off:
            assert p.acceptance is not None
            assert p.acceptance.draft_tokens
            assert p.acceptance.acceptance_length is not None


def test_the_comparison_has_spec_and_off_numbers(
    demo: tuple[Path, dict[str, Any], Path],
) -> None:
    _folder, result, _db = demo
    assert result["comparisons"], "n-gram vs off must be comparable"
    for comparison in result["comparisons"]:
        assert comparison["spec"]["spec_method"] == "ngram-mod"
        assert comparison["off"]["spec_method"] == "none"
        assert comparison["hardware"] == "cpu"
        assert comparison["targets"]
        for target in comparison["targets"]:
            for side in ("spec", "off"):
                numbers = target[side]
                assert numbers["throughput_per_gpu"] > 0
                assert numbers["usd_per_mtok"] > 0
                assert numbers["tok_s_per_mw"] > 0
            assert target["cost"]["winner"] in ("spec", "off", "tie")
            assert target["narrative"]


def test_the_ngram_sweep_is_explained_with_c_eff_per_g(
    demo: tuple[Path, dict[str, Any], Path],
) -> None:
    folder, result, _db = demo
    sweep = result["ngram_sweep"]
    assert sweep is not None
    assert sweep["off_tok_s"] > 0
    assert [row["gamma"] for row in sweep["rows"]] == [8]  # the quick demo's n-gram depth
    for row in sweep["rows"]:
        assert row["tok_s"] > 0
        assert row["acceptance_length"] is not None
        assert 1.0 <= row["acceptance_length"] <= row["gamma"] + 1
        assert row["effective_cost_ratio"] is not None
        # c_eff = (AL / S − 1) / g, with S = tok_s / off tok_s
        s = row["tok_s"] / sweep["off_tok_s"]
        assert row["speedup"] == pytest.approx(s)
        assert row["effective_cost_ratio"] == pytest.approx(
            (row["acceptance_length"] / s - 1) / row["gamma"]
        )
    assert sweep["verdict"]
    assert (folder / "runs" / result["run_id"] / "ngram-sweep.csv").exists()


def test_the_synthetic_run_gives_the_cost_ratio_c(
    demo: tuple[Path, dict[str, Any], Path],
) -> None:
    _folder, result, db = demo
    synthetic = result["synthetic_sweep"]
    assert synthetic is not None
    (row,) = synthetic["rows"]
    assert row["gamma"] == SYNTHETIC_GAMMA
    assert row["effective_cost_ratio"] is not None
    assert row["acceptance_length"] is not None
    with Store.open(db) as store:
        points = store.points(PointFilter(run_id=result["run_id"], spec_method="synthetic"))
    # one point per concurrency; the pinned acceptance length is in the stored spec settings
    assert sorted(p.config.concurrency or 0 for p in points) == [1, 2]
    for point in points:
        assert point.config.draft_depth == SYNTHETIC_GAMMA
        assert f"--spec-synth-len {SYNTHETIC_AL:g}" in point.config.spec_config


def test_lossless_summaries_exist(demo: tuple[Path, dict[str, Any], Path]) -> None:
    _folder, result, _db = demo
    summaries = {item["config"]: item for item in result["lossless"]}
    assert set(summaries) == {"ngram-mod g=8", f"synthetic g={SYNTHETIC_GAMMA}"}
    recipe = demo_recipe(quick=True)
    # each spec config is compared with off at every concurrency: 2 levels × 4 requests
    expected = len(recipe.load.concurrency) * recipe.load.requests_per_point
    for item in summaries.values():
        assert item["compared"] == expected
        assert 0 <= item["identical"] <= item["compared"]
        firsts = item["first_divergence_tokens"]
        assert len(firsts) == item["compared"] - item["identical"]
        assert all(t is None or t >= 0 for t in firsts)


def test_the_report_was_written(demo: tuple[Path, dict[str, Any], Path]) -> None:
    folder, result, _db = demo
    report = result.get("report")
    assert report is not None
    assert Path(report).is_file()
    assert Path(report).is_relative_to(folder / "rep")


def test_console_output_reuses_the_run(demo: tuple[Path, dict[str, Any], Path]) -> None:
    folder, result, db = demo
    with Store.open(db) as store:
        before = {p.point_id: p.duration_s for p in store.points(PointFilter(status=None))}
    done = _specscope(
        "demo",
        "--quick",
        "--resume",
        "--db",
        str(db),
        "--runs-dir",
        str(folder / "runs"),
        "--report",
        str(folder / "rep2"),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    with Store.open(db) as store:
        after = {p.point_id: p.duration_s for p in store.points(PointFilter(status=None))}
    assert after == before, "--resume measured nothing again"
    text = done.stdout
    # the compare table
    assert "n-gram speculation vs off, at matched interactivity" in text
    assert "throughput ngram-mod (tok/s/GPU)" in text
    assert "throughput off (tok/s/GPU)" in text
    assert "cost off ($/M tok)" in text
    # the explanations
    assert "n-gram: speedup and cost ratio per draft depth" in text
    assert "c_eff" in text
    assert "synthetic acceptance: this CPU's cost ratio c" in text
    assert result["ngram_sweep"]["verdict"][:40] in text
    # the lossless check
    assert "lossless check" in text
    assert "ngram-mod g=8: " in text
    assert f"run {result['run_id']} is in {db}" in text
