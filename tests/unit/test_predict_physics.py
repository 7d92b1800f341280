"""Issue 13: sanity gates, engine limits, draft costs, non-amortising costs, communication,
catalog arithmetic and the public validation table, with worked numbers."""

from __future__ import annotations

import csv
import functools
import sys
from pathlib import Path

import pytest

from specscope.catalog import load_catalog
from specscope.predict import PredictRequest, acceptance_curve, predict
from specscope.predict.deployment import build_deployment, hardware_efficiency
from specscope.predict.roofline import Efficiency, Rates, comm_time_s, pass_cost
from specscope.predict.specs import ModelSpec
from specscope.predict.step import ModelInvariantError, StepModel, check_step, operating_point

ROOT = Path(__file__).resolve().parents[2]
FREE_ROOFS = dict(eta_bw=1e9, eta_f=1e9)
"""Roofline terms made negligible so the overhead terms can be read off exactly."""


def dense(params: float = 8e9, **extra: object) -> ModelSpec:
    fields: dict[str, object] = {
        "key": "toy",
        "name": "toy",
        "params_total": params,
        "params_active": params,
        "n_layers": 80,
        "hidden_size": 8192,
        "attention": "gqa",
        "n_heads": 64,
        "n_kv_heads": 8,
        "head_dim": 128,
    }
    fields.update(extra)
    return ModelSpec.model_validate(fields)


RATES = Rates(bandwidth_bytes_s=4.8e12, flops_per_s=1979e12)


def toy_step(eff: Efficiency, **extra: object) -> StepModel:
    model = dense()
    fields: dict[str, object] = {
        "model": model,
        "rates": RATES,
        "bytes_per_param": 1.0,
        "kv_bytes_per_elem": 2.0,
        "efficiency": eff,
        "draft": model.mtp_head(),
    }
    fields.update(extra)
    return StepModel.model_validate(fields)


# 1. sanity gates -------------------------------------------------------------------------------


def test_speedup_above_g_plus_one_fails_loudly() -> None:
    sm = toy_step(Efficiency(t0_s=0.001, eta_bw=0.7, eta_f=0.5))
    # legal: AL 1.8 at g = 1 gives S ≤ 1.8
    assert check_step(sm, batch=1, depth=1, acceptance_length=1.8, context=100) < 1.8
    # an AL of 5 at g = 1 would need S > g + 1 = 2: one clear line, not a number
    with pytest.raises(ModelInvariantError, match=r"^step model bug: toy at batch 1, g = 1"):
        check_step(sm, batch=1, depth=1, acceptance_length=5.0, context=100)


def test_step_faster_than_the_hardware_roofline_fails_loudly() -> None:
    # η_bw = 2 claims twice the listed bandwidth: 8 GB / 9.6 TB/s < the 8 GB / 4.8 TB/s roof
    sm = toy_step(Efficiency(t0_s=0.0, eta_bw=2.0, eta_f=1.0), draft=None)
    with pytest.raises(ModelInvariantError, match="under the hardware roofline"):
        operating_point(sm, concurrency=1, isl=16, osl=16)


def test_every_prediction_keeps_the_predicted_label_and_warns_out_of_calibration() -> None:
    p = qwen_h200(64)
    assert p.label == "predicted"
    assert all(pt.provenance.source == "predicted" for pt in p.points)
    # H200 constants were checked against public rows up to C = 40
    assert any(w.startswith("out of calibration: the h200 constants") for w in p.warnings)


# 2. engine limits ------------------------------------------------------------------------------


@functools.cache
def qwen_h200(max_c: int | None, engine: str = "vllm") -> object:
    req = PredictRequest(
        hardware="h200",
        model="qwen3.5-397b-a17b",
        precision="fp8",
        spec_method="mtp",
        gammas=[3],
        acceptance=acceptance_curve([3], acceptance_length=[3.0]),
        isl=1024,
        osl=1024,
        n_gpus=8,
        max_concurrency=max_c,
        engine=engine,
    )
    return predict(req, catalog=load_catalog())


def test_sglang_spec_stops_at_48_running_requests() -> None:
    p = qwen_h200(128, "sglang")
    off, spec = p.curves  # type: ignore[attr-defined]
    assert off.points[-1].concurrency == 128
    assert spec.points[-1].concurrency == 48  # SGLang's default with speculative decoding
    assert any("g=3 stops at concurrency 48: sglang max running requests" in w for w in p.warnings)  # type: ignore[attr-defined]


def test_vllm_batched_tokens_cap_spec_concurrency() -> None:
    # 8192 batched tokens / (g + 1 = 4) tokens per sequence = 2048 sequences at most
    req = PredictRequest(
        hardware="h200",
        model="qwen3.5-397b-a17b",
        precision="fp8",
        spec_method="mtp",
        gammas=[3],
        acceptance=acceptance_curve([3], acceptance_length=[3.0]),
        isl=1024,
        osl=1024,
        n_gpus=8,
        max_concurrency=64,
        max_batched_tokens=128,
    )
    p = predict(req, catalog=load_catalog())
    assert p.curves[1].points[-1].concurrency == 32  # 128 // 4
    assert p.curves[0].points[-1].concurrency == 64


# 3. draft passes that cost what they are -------------------------------------------------------


def test_mtp_draft_is_one_layer_plus_the_lm_head_plus_a_draft_call() -> None:
    eff = Efficiency(t0_s=0.001, layer_s=50e-6, token_layer_s=3e-6, draft_s=200e-6, **FREE_ROOFS)
    sm = toy_step(eff)
    # batch 4: 1 layer × 50 µs + 4 tokens × 1 layer × 3 µs + 200 µs = 262 µs (t0 not paid)
    assert sm.draft_time_s(4, 100) == pytest.approx(262e-6, rel=1e-6)


def test_draft_model_is_its_own_roofline_pass() -> None:
    eff = Efficiency(t0_s=0.001, eta_bw=1.0, eta_f=1.0, layer_s=10e-6, draft_s=100e-6)
    draft = dense(params=1e9, n_layers=16, key="small")
    sm = toy_step(eff, draft=draft)
    # 1e9 params × 1 byte / 4.8 TB/s = 208.3 µs + 16 layers × 10 µs + 100 µs (+ tiny KV)
    assert sm.draft_time_s(1, 1) == pytest.approx(208.33e-6 + 160e-6 + 100e-6, rel=1e-3)


def test_ngram_drafting_is_host_time_per_sequence() -> None:
    eff = Efficiency(t0_s=0.001, eta_bw=0.7, eta_f=0.5, ngram_s_per_seq=20e-6)
    sm = toy_step(eff, draft=None)
    assert sm.draft_time_s(8, 100) == pytest.approx(160e-6)
    # one match per step, whatever g: spec step = verify + 160 µs
    assert sm.spec_step_s(8, 3, 100) == pytest.approx(sm.target_time_s(8, 4, 100) + 160e-6)


# 4. costs that do not amortise -----------------------------------------------------------------


def test_per_token_costs_do_not_amortise_over_a_verify() -> None:
    eff = Efficiency(t0_s=0.001, layer_s=50e-6, token_layer_s=3e-6, **FREE_ROOFS)
    sm = toy_step(eff, draft=None)
    # off at batch 2: 1 ms + 80 × 50 µs + 2 × 80 × 3 µs = 5.48 ms
    assert sm.off_step_s(2, 10) == pytest.approx(5.48e-3, rel=1e-6)
    # verify of 4 tokens: the per-layer floor is paid once, the per-token part 4 times
    assert sm.target_time_s(2, 4, 10) == pytest.approx(5.48e-3 + 3 * 2 * 80 * 3e-6, rel=1e-6)


def test_recurrent_state_is_read_once_and_written_per_token_in_float32() -> None:
    model = load_catalog().model_spec("qwen3.5-397b-a17b")
    one = pass_cost(model, batch=2, tokens=1, context=1, bytes_per_param=1, kv_bytes_per_elem=2)
    four = pass_cost(model, batch=2, tokens=4, context=1, bytes_per_param=1, kv_bytes_per_elem=2)
    # 47 185 920 elements × 4 B × (1 read + T writes) × 2 sequences
    assert one.state_bytes == pytest.approx(47185920 * 4 * 2 * 2)
    assert four.state_bytes == pytest.approx(47185920 * 4 * 5 * 2)


def test_moe_expert_union_still_grows_with_verify_tokens() -> None:
    model = load_catalog().model_spec("qwen3.6-35b-a3b")
    one = pass_cost(model, batch=1, tokens=1, context=1, bytes_per_param=1, kv_bytes_per_elem=2)
    three = pass_cost(model, batch=1, tokens=3, context=1, bytes_per_param=1, kv_bytes_per_elem=2)
    # U(3)/U(1) = 2.91 for N 256, k 8: routed bytes nearly triple
    routed_one = 40 * 8 * 3 * 2048 * 512
    assert three.weight_bytes - one.weight_bytes == pytest.approx(
        routed_one * (2.9072 - 1), rel=1e-3
    )


# 5. communication ------------------------------------------------------------------------------


def test_tensor_parallel_all_reduce_grows_with_tokens() -> None:
    model = dense()
    rates = RATES.model_copy(update={"link_bandwidth_bytes_s": 450e9, "link_latency_s": 8e-6})
    one = pass_cost(
        model, batch=1, tokens=1, context=1, bytes_per_param=1, kv_bytes_per_elem=2, n_gpus=8
    )
    # 2 all-reduces × 80 layers × 8 µs = 1.28 ms, + 160 × 2·7/8 × 8192 × 2 B / 450 GB/s
    per_call = 2 * 7 / 8 * 8192 * 2
    assert comm_time_s(one, rates) == pytest.approx(160 * 8e-6 + 160 * per_call / 450e9)
    big = pass_cost(
        model, batch=64, tokens=4, context=1, bytes_per_param=1, kv_bytes_per_elem=2, n_gpus=8
    )
    assert comm_time_s(big, rates) - 160 * 8e-6 == pytest.approx(
        256 * (comm_time_s(one, rates) - 160 * 8e-6)
    )
    single = pass_cost(model, batch=1, tokens=1, context=1, bytes_per_param=1, kv_bytes_per_elem=2)
    assert comm_time_s(single, rates) == 0.0


# 6. catalog arithmetic -------------------------------------------------------------------------


def implied_active(m: ModelSpec) -> float:
    """Non-routed (less the unread input embedding) + k routed experts per MoE layer."""
    assert m.n_active_experts is not None and m.n_moe_layers is not None
    non_routed = m.params_total - m.routed_expert_params
    return (
        non_routed
        - m.unread_embedding_params
        + m.n_moe_layers * m.n_active_experts * m.expert_params_each
    )


@pytest.mark.parametrize("key", sorted(load_catalog().models))
def test_every_model_entry_is_arithmetically_consistent(key: str) -> None:
    m = load_catalog().models[key]
    assert m.params_active <= m.params_total
    if not m.is_moe:
        return
    assert m.routed_expert_params < m.params_total
    # the stated active count agrees with the expert arithmetic within 12 %
    assert implied_active(m) == pytest.approx(m.params_active, rel=0.12), key


def test_deepseek_v4_pro_total_follows_from_its_49b_active() -> None:
    m = load_catalog().model_spec("deepseek-v4-pro")
    # 384 × 61 × 66.06M = 1547.4B routed; 49B − 6 × 61 × 66.06M = 24.8B non-routed
    assert m.routed_expert_params == pytest.approx(1547.4e9, rel=1e-3)
    assert m.params_total == pytest.approx(1.572e12, rel=1e-3)
    literal = m.model_copy(update={"params_total": 1.6e12})
    assert implied_active(literal) / 49e9 > 1.5  # the rounded 1.6T gives ~77B active


# 7. the public table ---------------------------------------------------------------------------


def test_hardware_families_state_their_constants() -> None:
    cat = load_catalog()
    h200 = hardware_efficiency(cat.hardware_spec("h200"))
    assert h200 is not None and h200.token_layer_s == pytest.approx(3e-6)
    assert hardware_efficiency(cat.hardware_spec("h100")) == h200  # one set per family
    assert hardware_efficiency(cat.hardware_spec("strix-halo")) is None


@pytest.mark.parametrize(
    ("hardware", "precision", "alpha", "pays"),
    [
        ("mi300x", "q8_0", 0.904, False),
        ("mi300x", "q4_k_m", 0.914, False),
        ("rtx3090", "q4_k_m", 0.906, True),
    ],
)
def test_blog_signs_at_batch_1(hardware: str, precision: str, alpha: float, pays: bool) -> None:
    cat = load_catalog()
    dep = build_deployment(
        cat.hardware_spec(hardware),
        cat.model_spec("qwen3.6-35b-a3b"),
        precision=precision,
        spec_method="mtp",
        max_context=336,
        n_gpus=1,
    )
    al = acceptance_curve([2], alpha=alpha).al(2)
    s = check_step(dep.step_model, batch=1, depth=2, acceptance_length=al, context=208)
    assert (s > 1.0) is pays


def test_public_benchmark_meets_the_seed_page_and_blog_targets() -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import predict_public
    finally:
        sys.path.pop(0)
    with (ROOT / "benchmarks" / "data" / "public_measurements.csv").open(newline="") as fh:
        rows = [
            r
            for r in csv.DictReader(fh)
            if "dsv4" not in r["id"] and not r["id"].startswith("ext-")
        ]
    results = predict_public.evaluate(rows)
    _, all_ok = predict_public.report(results, {})
    assert all_ok, [r.id for r in results if not r.ok]


def test_sourced_rows_no_constant_saw_meet_the_batch_1_targets() -> None:
    # Engine and vendor publications (TensorRT-LLM on B200/H200, SGLang on H100/H200/MI300X,
    # AMD's MI300X Llama 70B), predicted with the family constants as they are
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import predict_public
    finally:
        sys.path.pop(0)
    with (ROOT / "benchmarks" / "data" / "public_measurements.csv").open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["id"].startswith("ext-")]
    results = predict_public.evaluate(rows)
    speedups = [abs(r.error) for r in results if r.metric == "speedup_b1" and r.error is not None]
    assert len(speedups) == 5 and sorted(speedups)[2] <= 0.15
    off = [r for r in results if r.metric == "off_tok_s_user"]
    assert len(off) == 5 and all(r.ok for r in off)
    # what the one set of CDNA 3 constants (set on llama.cpp at batch 1) does not describe:
    # SGLang's gain falling with concurrency on MI300X; the benchmark names these rows
    assert {r.id for r in results if not r.ok} == {
        "ext-sglang-mi300x-dsv3-b32",
        "ext-sglang-mi300x-dsv3-b64",
    }


def test_public_benchmark_holds_out_one_page_target_at_a_time() -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import predict_public
    finally:
        sys.path.pop(0)
    with (ROOT / "benchmarks" / "data" / "public_measurements.csv").open(newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["id"].startswith("ix-h200")]
    assert predict_public._group(rows[0]) == ("ix-h200", "ix-h200-55")
    held = predict_public.held_out(rows)
    # one refit per held-out target (on the other two), each target predicted once: the ratio
    # and the Off interactivity at the page's Off concurrency
    assert [r.id for r in held] == [
        "ix-h200-55", "ix-h200-55-off", "ix-h200-75", "ix-h200-75-off",
        "ix-h200-96", "ix-h200-96-off",
    ]  # fmt: skip
    assert all(r.split == "held-out" and r.error is not None for r in held)
    assert all(abs(r.error) <= 0.35 for r in held if r.error is not None)
    assert all("refit on 2 other rows" in r.where for r in held)
