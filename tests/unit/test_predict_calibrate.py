"""Calibration: a round trip on synthetic points from known constants, reports, profiles."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from specscope.errors import UserError
from specscope.predict.calibrate import calibrate, observations, validate
from specscope.predict.catalog import load_catalog
from specscope.predict.deployment import build_deployment
from specscope.predict.profile import load_profile, save_profile
from specscope.predict.runs import calibrate_runs
from specscope.predict.step import Efficiency, StepModel, operating_point
from specscope.schema import AcceptanceCounts, LatencyStats, Point, PointConfig
from specscope.store.db import Store

TRUTH = Efficiency(t0_s=0.003, eta_bw=0.6, eta_f=0.4)
AL = {1: 1.8, 2: 2.4, 3: 2.9}
ISL, OSL = 512, 256


def step_model(method: str = "ngram") -> StepModel:
    cat = load_catalog()
    dep = build_deployment(
        cat.hardware_spec("h100"),
        cat.model_spec("llama-3.1-8b"),
        precision="bf16",
        spec_method=method,
        max_context=ISL + OSL,
        n_gpus=1,
    )
    return dep.step_model


def synthetic_points(
    concurrencies: Sequence[int],
    depths: Sequence[int],
    truth: Efficiency = TRUTH,
    noise: Sequence[float] = (1.0,),
) -> list[Point]:
    """Points whose median TPOT is exactly what the model gives with ``truth`` (× noise)."""
    sm = step_model().with_efficiency(truth)
    points: list[Point] = []
    i = 0
    for g in depths:
        for c in concurrencies:
            al = AL.get(g, 1.0)
            op = operating_point(sm, concurrency=c, isl=ISL, osl=OSL, depth=g, acceptance_length=al)
            factor = noise[i % len(noise)]
            i += 1
            counts = (
                AcceptanceCounts(
                    drafts=1000, draft_tokens=1000 * g, accepted_tokens=round(1000 * (al - 1))
                )
                if g
                else None
            )
            points.append(
                Point(
                    run_id="synthetic",
                    config=PointConfig(
                        hardware="h100",
                        model="llama-3.1-8b",
                        precision="bf16",
                        engine="vllm",
                        spec_method="ngram" if g else "none",
                        draft_depth=g,
                        isl=ISL,
                        osl=OSL,
                        concurrency=c,
                    ),
                    throughput_per_gpu=op.throughput_per_gpu,
                    interactivity=op.interactivity / factor,
                    tpot=LatencyStats(median_s=op.tpot_s * factor),
                    acceptance=counts,
                )
            )
    return points


def test_round_trip_recovers_the_known_constants() -> None:
    # concurrency 1 pins t0, 4–64 the bandwidth roof, 256 × (g + 1) tokens the compute roof
    points = synthetic_points([1, 4, 16, 64, 256], [0, 2])
    result = calibrate(points, overlap="max")
    eff = result.profile.efficiency
    assert eff.t0_s == pytest.approx(TRUTH.t0_s, rel=0.01)
    assert eff.eta_bw == pytest.approx(TRUTH.eta_bw, rel=0.01)
    assert eff.eta_f == pytest.approx(TRUTH.eta_f, rel=0.01)
    assert result.profile.fit.median_rel_error < 1e-4
    assert result.profile.fit.constrained == {"t0_s": True, "eta_bw": True, "eta_f": True}
    assert result.profile.range.concurrency == (1, 256)
    assert result.profile.range.draft_depths == [0, 2]
    assert result.profile.range.context_len == (640.0, 640.0)  # 512 + 256/2
    assert result.warnings == []


def test_auto_overlap_picks_the_form_the_data_came_from() -> None:
    truth = TRUTH.model_copy(update={"overlap": "sum"})
    points = synthetic_points([1, 8, 64, 256], [0, 1], truth=truth)
    result = calibrate(points)  # auto: fits max and sum, keeps the better
    assert result.profile.efficiency.overlap == "sum"
    assert result.profile.fit.median_rel_error < 1e-3


def test_calibrate_off_plus_one_g_predicts_the_other_g() -> None:
    # the validation recipe, on synthetic data with ±4 % noise on TPOT
    noise = (1.04, 0.97, 1.0, 0.96, 1.03)
    train = synthetic_points([1, 4, 16, 64, 256], [0, 1], noise=noise)
    held_out = synthetic_points([1, 4, 16, 64, 256], [2, 3], noise=noise[::-1])
    fit = calibrate(train)
    assert fit.profile.fit.median_rel_error < 0.05
    check = validate(held_out, fit.profile)
    assert check.median_abs_rel_error < 0.15
    assert any("g = 2, 3 was not measured" in w for w in check.warnings)
    assert not any(p.in_calibrated_range for p in check.points)


def test_memory_bound_points_do_not_pin_eta_f() -> None:
    points = synthetic_points([1, 2, 4], [0, 1])
    result = calibrate(points, overlap="max")
    assert result.profile.fit.constrained["eta_f"] is False
    assert result.profile.fit.constrained["eta_bw"] is True
    assert any("do not pin down eta_f" in w for w in result.warnings)
    # t0 and η_bw are still recovered
    assert result.profile.efficiency.eta_bw == pytest.approx(TRUTH.eta_bw, rel=0.02)


def test_profile_save_load_round_trip(tmp_path: Path) -> None:
    result = calibrate(synthetic_points([1, 16, 256], [0, 2]), overlap="max")
    path = save_profile(result.profile, tmp_path / "h100.toml")
    loaded = load_profile(path)
    assert loaded == result.profile
    assert path.read_text(encoding="utf-8").startswith("# specscope calibrated hardware profile")


def test_profile_default_path_is_in_the_cache_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPECSCOPE_CACHE_DIR", str(tmp_path))
    result = calibrate(synthetic_points([1, 16, 256], [0, 2]), overlap="max")
    path = save_profile(result.profile)
    assert path == tmp_path / "profiles" / "h100-llama-3.1-8b-bf16.toml"


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("[other]\nx = 1\n", r"not a specscope hardware profile"),
        ("[profile]\nmodel = 'x'\n", r"profile\.hardware: Field required"),
        ("[profile\n", r"invalid TOML"),
    ],
)
def test_bad_profile_is_one_line(tmp_path: Path, text: str, pattern: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserError, match=pattern) as info:
        load_profile(path)
    assert "\n" not in str(info.value)


def test_observations_use_counts_and_skip_unusable_points() -> None:
    points = synthetic_points([4], [0, 2])
    failed = points[0].model_copy(update={"status": "failed"})
    no_al = points[1].model_copy(update={"acceptance": None})
    kept, skipped = observations([*points, failed, no_al])
    assert len(kept) == 2 and len(skipped) == 2
    spec = next(o for o in kept if o.draft_depth == 2)
    # AL = 1 + 1400/1000; verify tokens = 1 + 2000/1000; step = TPOT × AL
    assert spec.acceptance_length == pytest.approx(2.4)
    assert spec.verify_tokens == pytest.approx(3.0)
    assert spec.step_time_s == pytest.approx(spec.tpot_s * 2.4)


def test_calibration_needs_two_points_and_one_precision() -> None:
    with pytest.raises(UserError, match="at least 2 usable points"):
        calibrate(synthetic_points([1], [0]))
    points = synthetic_points([1, 4], [0])
    mixed = [
        points[0],
        points[1].model_copy(
            update={"config": points[1].config.model_copy(update={"precision": "fp8"})}
        ),
    ]
    with pytest.raises(UserError, match=r"the points mix precisions \(bf16, fp8\)"):
        calibrate(mixed)


def test_calibrate_runs_reads_the_store_and_saves_the_profile(tmp_path: Path) -> None:
    db = tmp_path / "runs.duckdb"
    with Store.open(db) as store:
        store.add_points(synthetic_points([1, 16, 256], [0, 2]))
    result = calibrate_runs(db, ["synthetic"], profile_path=tmp_path / "p.toml")
    assert result.profile_path == str(tmp_path / "p.toml")
    assert load_profile(tmp_path / "p.toml").efficiency == result.profile.efficiency
    assert result.profile.efficiency.eta_bw == pytest.approx(TRUTH.eta_bw, rel=0.01)
    with pytest.raises(UserError, match=r"no ok points for run\(s\) other"):
        calibrate_runs(db, ["other"], save=False)
    with pytest.raises(UserError, match="no such database file"):
        calibrate_runs(tmp_path / "missing.duckdb", ["synthetic"])
