"""``specscope predict --calibrate RUN`` and ``--hardware-profile`` through the command line.

In-process (typer's runner) on a store under ``tmp_path`` holding synthetic points made from known
constants (``test_predict_calibrate.synthetic_points``: Llama-3.1-8B BF16 on one H100, Off and
n-gram g = 2 at concurrency 1, 16 and 256, 512 in / 256 out); profiles go to a cache dir under
``tmp_path``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.unit.test_predict_calibrate import TRUTH, synthetic_points
from typer.testing import CliRunner

from specscope.calibration.profiles import load_profile
from specscope.cli import app
from specscope.store.db import Store

runner = CliRunner()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SPECSCOPE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COLUMNS", "200")
    db = tmp_path / "runs.duckdb"
    with Store.open(db) as s:
        s.add_points(synthetic_points([1, 16, 256], [0, 2]))
    return db


def test_calibrate_prints_the_fit_and_saves_the_profile(store: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["predict", "--calibrate", "synthetic", "--db", str(store)])
    assert result.exit_code == 0, result.output
    saved = tmp_path / "cache" / "profiles" / "h100-llama-3.1-8b-bf16.toml"
    # 6 points made exactly from the model → the fit reproduces them (error 0.0 %)
    assert "calibrated h100 × llama-3.1-8b bf16: 6 points, median step-time error 0.0%" in (
        result.output
    )
    assert f"profile saved to {saved}" in result.output.replace("\n", "")
    profile = load_profile(saved)
    assert profile.efficiency.eta_bw == pytest.approx(TRUTH.eta_bw, rel=0.02)
    assert profile.range.concurrency == (1, 256)
    assert profile.range.draft_depths == [0, 2]

    as_json = runner.invoke(
        app, ["predict", "--calibrate", "synthetic", "--db", str(store), "--json"]
    )
    assert as_json.exit_code == 0, as_json.output
    body = json.loads(as_json.output)
    assert len(body["points"]) == 6
    assert body["profile"]["fit"]["n_points"] == 6


def test_profile_outside_its_range_warns(store: Path, tmp_path: Path) -> None:
    calibrated = runner.invoke(app, ["predict", "--calibrate", "synthetic", "--db", str(store)])
    assert calibrated.exit_code == 0, calibrated.output
    saved = tmp_path / "cache" / "profiles" / "h100-llama-3.1-8b-bf16.toml"
    base = ["predict", "--hardware", "h100", "--model", "llama-3.1-8b", "--spec", "ngram"]
    base += ["--hardware-profile", str(saved)]
    # calibrated on concurrency 1–256, context 512 + 256/2 = 640 tokens, g ∈ {0, 2}
    in_range = ["--gamma", "2", "--acceptance-length", "2.4", "--isl", "512", "--osl", "256"]
    inside = runner.invoke(app, [*base, *in_range, "--max-concurrency", "256", "--json"])
    assert inside.exit_code == 0, inside.output
    body = json.loads(inside.output)
    assert body["calibrated"] is True
    assert not any("calibrated" in w or "not measured" in w for w in body["warnings"])
    assert not any(p["extrapolated"] for c in body["curves"] for p in c["points"])

    out_of_range = ["--gamma", "1,2,3", "--acceptance-length", "1.8,2.4,2.9", "--isl", "128"]
    outside = runner.invoke(app, [*base, *out_of_range, "--osl", "128", "--max-concurrency", "512"])
    assert outside.exit_code == 0, outside.output
    text = " ".join(outside.output.split())
    assert "(calibrated profile;" in text
    assert "warning: concurrency 257–512 is outside the calibrated 1–256" in text
    # 128 + 128/2 = 192 tokens of context against the calibrated 640
    assert "warning: context length 192 is outside the calibrated 640–640 tokens" in text
    assert "warning: draft depth g = 1, 3 was not measured (calibrated on g = 0, 2" in text


def test_calibrate_an_unknown_run_is_one_line(store: Path) -> None:
    result = runner.invoke(app, ["predict", "--calibrate", "nope", "--db", str(store)])
    assert result.exit_code != 0
    assert "no ok points for run(s) nope" in result.output
    assert "Traceback" not in result.output
