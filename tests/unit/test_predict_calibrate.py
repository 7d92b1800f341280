"""Calibration: a round trip on synthetic points from known constants, reports, profiles."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.support.points import make_point, with_config

from specscope.calibration.profiles import load_profile, save_profile
from specscope.calibration.runs import calibrate_runs
from specscope.catalog import load_catalog
from specscope.errors import UserError
from specscope.predict.calibrate import calibrate, validate
from specscope.predict.deployment import build_deployment
from specscope.predict.observations import (
    decode_tokens,
    merge_repeats,
    observations,
    step_accounting,
)
from specscope.predict.roofline import Efficiency
from specscope.predict.step import StepModel, operating_point
from specscope.schema import AcceptanceCounts, LatencyStats, Point
from specscope.store.db import Store

TRUTH = Efficiency(t0_s=0.003, eta_bw=0.6, eta_f=0.4)
AL = {1: 1.8, 2: 2.4, 3: 2.9}
CATALOG = load_catalog()
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
                make_point(
                    run_id="synthetic",
                    hardware="h100",
                    model="llama-3.1-8b",
                    precision="bf16",
                    spec_method="ngram" if g else "none",
                    draft_depth=g,
                    isl=ISL,
                    osl=OSL,
                    concurrency=c,
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
    result = calibrate(points, overlap="max", catalog=CATALOG)
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
    result = calibrate(points, catalog=CATALOG)  # auto: fits max and sum, keeps the better
    assert result.profile.efficiency.overlap == "sum"
    assert result.profile.fit.median_rel_error < 1e-3


def test_calibrate_off_plus_one_g_predicts_the_other_g() -> None:
    # the validation recipe, on synthetic data with ±4 % noise on TPOT
    noise = (1.04, 0.97, 1.0, 0.96, 1.03)
    train = synthetic_points([1, 4, 16, 64, 256], [0, 1], noise=noise)
    held_out = synthetic_points([1, 4, 16, 64, 256], [2, 3], noise=noise[::-1])
    fit = calibrate(train, catalog=CATALOG)
    assert fit.profile.fit.median_rel_error < 0.05
    check = validate(held_out, fit.profile, catalog=CATALOG)
    assert check.median_abs_rel_error < 0.15
    assert any("g = 2, 3 was not measured" in w for w in check.warnings)
    assert not any(p.in_calibrated_range for p in check.points)


def test_memory_bound_points_do_not_pin_eta_f() -> None:
    points = synthetic_points([1, 2, 4], [0, 1])
    result = calibrate(points, overlap="max", catalog=CATALOG)
    assert result.profile.fit.constrained["eta_f"] is False
    assert result.profile.fit.constrained["eta_bw"] is True
    assert any("do not pin down eta_f" in w for w in result.warnings)
    # t0 and η_bw are still recovered
    assert result.profile.efficiency.eta_bw == pytest.approx(TRUTH.eta_bw, rel=0.02)


def test_profile_save_load_round_trip(tmp_path: Path) -> None:
    result = calibrate(synthetic_points([1, 16, 256], [0, 2]), overlap="max", catalog=CATALOG)
    path = save_profile(result.profile, tmp_path / "h100.toml")
    loaded = load_profile(path)
    assert loaded == result.profile
    assert path.read_text(encoding="utf-8").startswith("# specscope calibrated hardware profile")


def test_profile_default_path_is_in_the_cache_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SPECSCOPE_CACHE_DIR", str(tmp_path))
    result = calibrate(synthetic_points([1, 16, 256], [0, 2]), overlap="max", catalog=CATALOG)
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
        calibrate(synthetic_points([1], [0]), catalog=CATALOG)
    points = synthetic_points([1, 4], [0])
    mixed = [
        points[0],
        with_config(points[1], precision="fp8"),
    ]
    with pytest.raises(UserError, match=r"the points mix precisions \(bf16, fp8\)"):
        calibrate(mixed, catalog=CATALOG)


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


def _counts(drafts: int, draft_tokens: int | None, accepted: int) -> AcceptanceCounts:
    return AcceptanceCounts(drafts=drafts, draft_tokens=draft_tokens, accepted_tokens=accepted)


@pytest.mark.parametrize(
    ("counts", "decoded", "depth", "per_step", "verify"),
    [
        # llama.cpp ngram-mod g = 2 on this CPU, 8 requests × 127 decoded tokens: 1016 − 179 −
        # 332 = 505 steps without a draft, 684 steps: 1016 / 684 = 1.485 tokens per step and
        # 1 + 354 / 684 = 1.518 tokens per pass (the engine's AL is 1 + 332 / 179 = 2.855)
        (_counts(179, 354, 332), 1016, 2, 1.4854, 1.5175),
        # every step drafted (MTP): 300 drafts + 420 accepted = 720 decoded → AL 2.4, T = 3
        (_counts(300, 600, 420), 720, 2, 2.4, 3.0),
        # no decoded-token count: every step is taken to carry a draft
        (_counts(179, 354, 332), None, 2, 2.8547, 2.9777),
        # counts that overshoot the decoded tokens (warm-up leaking in): clamp, never negative
        (_counts(100, 400, 300), 350, 4, 4.0, 5.0),
        # draft tokens not counted: g per draft
        (_counts(100, None, 150), 250, 3, 2.5, 4.0),
    ],
)
def test_step_accounting_counts_steps_without_a_draft(
    counts: AcceptanceCounts, decoded: float | None, depth: int, per_step: float, verify: float
) -> None:
    got = step_accounting(counts, decoded, depth)
    assert got is not None
    assert got[0] == pytest.approx(per_step, abs=1e-4)
    assert got[1] == pytest.approx(verify, abs=1e-4)


@given(
    drafts=st.integers(1, 500),
    length=st.floats(1.0, 8.0),
    rate=st.floats(0.0, 1.0),
    plain=st.integers(0, 2000),
)
def test_step_accounting_bounds(drafts: int, length: float, rate: float, plain: int) -> None:
    draft_tokens = max(drafts, round(drafts * length))
    accepted = round(draft_tokens * rate)
    counts = AcceptanceCounts(drafts=drafts, draft_tokens=draft_tokens, accepted_tokens=accepted)
    got = step_accounting(counts, drafts + accepted + plain, 8)
    assert got is not None
    per_step, verify = got
    # 1 ≤ emitted per step ≤ verified per pass, and never above the engine's AL
    assert 1.0 - 1e-12 <= per_step <= verify + 1e-12
    assert counts.acceptance_length is not None
    assert per_step <= counts.acceptance_length + 1e-12


def test_observation_of_a_measured_point_uses_mean_tpot_and_every_step() -> None:
    # 8 requests × 128 tokens in 10 s (102.4 tok/s out): 1016 decoded tokens; mean TPOT 11.56 ms
    # → step = 11.56 ms × 1.4854 = 17.17 ms (the median, 11.49 ms, is not used)
    point = make_point(
        run_id="cpu",
        hardware="cpu",
        model="gemma-3-270m",
        precision="q4_k_m",
        engine="llamacpp",
        spec_method="ngram-mod",
        draft_depth=2,
        isl=66,
        osl=128,
        concurrency=1,
        throughput_per_gpu=150.0,
        output_throughput_per_gpu=102.4,
        interactivity=87.0,
        tpot=LatencyStats(mean_s=0.01156, median_s=0.01149),
        duration_s=10.0,
        n_requests=8,
        n_failed=0,
        acceptance=AcceptanceCounts(drafts=179, draft_tokens=354, accepted_tokens=332),
    )
    assert decode_tokens(point) == pytest.approx(1016.0)
    (obs,), skipped = observations([point])
    assert skipped == []
    assert obs.tpot_s == 0.01156
    assert obs.reported_acceptance_length == pytest.approx(1 + 332 / 179)
    assert obs.acceptance_length == pytest.approx(1016 / 684)
    assert obs.step_time_s == pytest.approx(0.01156 * 1016 / 684)
    assert obs.verify_tokens == pytest.approx(1 + 354 / 684)


def test_repeats_merge_at_the_faster_middle_one() -> None:
    # off at c = 4 measured twice, 38.85 and 283.47 ms (the second shared the CPU): keep 38.85,
    # spread 283.47 / 38.85 − 1 = 6.30; three repeats 10, 12, 30 ms keep the median, 12 ms
    base = synthetic_points([4], [0])[0]

    def rep(i: int, tpot_s: float) -> Point:
        return base.model_copy(update={"repeat": i, "tpot": LatencyStats(median_s=tpot_s)})

    obs, _ = observations([rep(0, 0.03885), rep(1, 0.28347)])
    (two,) = merge_repeats(obs)
    assert two.tpot_s == 0.03885
    assert two.repeats == 2
    assert two.repeat_spread == pytest.approx(6.2965, abs=1e-4)
    obs, _ = observations([rep(0, 0.010), rep(1, 0.030), rep(2, 0.012)])
    (three,) = merge_repeats(obs)
    assert (three.tpot_s, three.repeats) == (0.012, 3)
    # other configs stay apart: a second concurrency is its own observation
    other = synthetic_points([8], [0])[0]
    obs, _ = observations([rep(0, 0.03885), rep(1, 0.28347), other])
    assert len(merge_repeats(obs)) == 2


def test_a_dense_model_at_one_context_ties_t0_to_eta_bw() -> None:
    # sum form, every point reads the same weight bytes (KV is tiny at 640 tokens × c ≤ 4):
    # t0 and bytes / (η_bw·BW) move every step time alike, so only their sum is fitted
    truth = TRUTH.model_copy(update={"overlap": "sum"})
    result = calibrate(
        synthetic_points([1, 2, 4], [0, 1], truth=truth), overlap="sum", catalog=CATALOG
    )
    assert "t0_s/eta_bw" in result.profile.fit.tied
    assert any(w.startswith("t0_s and eta_bw trade off on these points") for w in result.warnings)
    # the round trip over c = 1…256 tells them apart (KV bytes and compute differ by point)
    wide = calibrate(synthetic_points([1, 4, 16, 64, 256], [0, 2]), overlap="max", catalog=CATALOG)
    assert wide.profile.fit.tied == []


def test_a_per_token_overhead_is_fitted_when_the_points_identify_it() -> None:
    # truth: 1 µs per token per layer on top of t0, η_bw, η_f. At C = 256, g = 2 that is
    # 256 · 3 tokens · 32 layers · 1 µs = 24.6 ms per step; t0/η_bw/η_f alone absorb most of it
    # through η_f (the compute roof also grows with tokens) but leave a 1.1 % median error
    # across C = 1 … 256 and g = 0, 2, and the fit with the per-token term is exact
    truth = TRUTH.model_copy(update={"token_layer_s": 1e-6})
    points = synthetic_points([1, 4, 16, 64, 256], [0, 2], truth=truth)
    base = calibrate(points, overlap="max", extras=(), catalog=CATALOG)
    full = calibrate(points, overlap="max", catalog=CATALOG)
    assert base.profile.fit.median_rel_error == pytest.approx(0.0108, abs=0.001)
    assert full.profile.fit.median_rel_error < 1e-4
    assert full.profile.efficiency.token_layer_s == pytest.approx(1e-6, rel=0.01)
    assert full.profile.efficiency.t0_s == pytest.approx(TRUTH.t0_s, rel=0.02)
    assert full.profile.fit.constrained["token_layer_s"] is True
    # the per-layer and per-draft terms were not needed: they stay at their start (0)
    assert full.profile.efficiency.layer_s == 0.0
    assert "layer_s" not in full.profile.fit.constrained


def test_extras_are_not_taken_when_the_base_constants_already_fit() -> None:
    points = synthetic_points([1, 4, 16, 64, 256], [0, 2])
    result = calibrate(points, overlap="max", catalog=CATALOG)
    eff = result.profile.efficiency
    assert (eff.token_layer_s, eff.draft_s, eff.layer_s) == (0.0, 0.0, 0.0)
    assert set(result.profile.fit.constrained) == {"t0_s", "eta_bw", "eta_f"}
