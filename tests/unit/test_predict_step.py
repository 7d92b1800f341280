"""The roofline step model: worked numbers and invariants."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from specscope.catalog import load_catalog
from specscope.predict.roofline import (
    Efficiency,
    Rates,
    expected_experts,
    kv_elements_per_sequence,
    pass_cost,
    pass_flops,
    pass_time_s,
    weight_bytes,
)
from specscope.predict.specs import ModelSpec
from specscope.predict.step import StepModel, operating_point

PERFECT = Efficiency(t0_s=0.0, eta_bw=1.0, eta_f=1.0)
H100_BF16 = Rates(bandwidth_bytes_s=3.35e12, flops_per_s=989e12)


def dense(params: float = 70e9, **extra: object) -> ModelSpec:
    """A dense model with no vocabulary given (nothing unread) and one tiny attention layer."""
    fields: dict[str, object] = {
        "key": "toy-dense",
        "name": "toy",
        "params_total": params,
        "params_active": params,
        "n_layers": 80,
        "attention": "gqa",
        "n_heads": 64,
        "n_kv_heads": 8,
        "head_dim": 128,
    }
    fields.update(extra)
    return ModelSpec.model_validate(fields)


def toy_moe() -> ModelSpec:
    # 10 MoE layers × 256 experts × 1e6 params = 2.56e9 routed; 0.44e9 non-routed; 3e9 total.
    return ModelSpec(
        key="toy-moe",
        name="toy moe",
        params_total=3.0e9,
        params_active=0.52e9,
        n_layers=10,
        attention="gqa",
        n_heads=8,
        n_kv_heads=1,
        head_dim=64,
        n_experts=256,
        n_active_experts=8,
        expert_params=1e6,
        n_moe_layers=10,
    )


def test_dense_70b_bf16_batch1_is_bandwidth_bound_near_42_ms() -> None:
    # 70e9 params × 2 bytes = 140 GB streamed; 140e9 / 3.35e12 = 41.79 ms (KV of 1 token ≈ 0).
    model = dense()
    cost = pass_cost(
        model, batch=1, tokens=1, context=1, bytes_per_param=2.0, kv_bytes_per_elem=2.0
    )
    assert cost.weight_bytes == pytest.approx(140e9)
    t = pass_time_s(cost, H100_BF16, PERFECT)
    assert t == pytest.approx(0.04179, rel=1e-3)
    # compute: 2 × 70e9 = 140 GFLOP / 989 TFLOP/s = 0.14 ms, far under the memory roof
    assert cost.flops / H100_BF16.flops_per_s < t / 100
    with_overhead = pass_time_s(cost, H100_BF16, PERFECT.model_copy(update={"t0_s": 0.005}))
    assert with_overhead == pytest.approx(t + 0.005)


@pytest.mark.parametrize(
    ("n_tokens", "ratio"),
    [(1, 1.00), (2, 1.97), (3, 2.91), (4, 3.82)],  # theory reference §7, N 256, k 8
)
def test_moe_expert_union_ratio(n_tokens: int, ratio: float) -> None:
    # U(n) = 256·(1 − (248/256)^n); U(3) = 256·(1 − 0.909149) = 23.258 → /8 = 2.907
    assert expected_experts(256, 8, n_tokens) / 8 == pytest.approx(ratio, abs=0.006)


def test_moe_expert_union_three_tokens_exact() -> None:
    assert expected_experts(256, 8, 3) == pytest.approx(256 * (1 - (31 / 32) ** 3), rel=1e-12)
    assert expected_experts(256, 8, 3) / expected_experts(256, 8, 1) == pytest.approx(
        2.9072, abs=1e-4
    )


def test_moe_weight_bytes_grow_with_union_and_saturate() -> None:
    model = toy_moe()
    # one token: 0.44e9 non-routed + 10 layers × 8 experts × 1e6 = 0.52e9 params, FP8 → 0.52 GB
    assert weight_bytes(model, 1.0, 1) == pytest.approx(0.52e9)
    # three tokens: 0.44e9 + 10 × 23.258 × 1e6 = 0.6726e9
    assert weight_bytes(model, 1.0, 3) == pytest.approx(0.44e9 + 10 * 23.2583e6, rel=1e-4)
    # a huge batch touches every expert: the whole 3e9
    assert weight_bytes(model, 1.0, 1e6) == pytest.approx(3.0e9)


def test_dense_weight_bytes_do_not_depend_on_tokens() -> None:
    model = dense(params=8e9)
    assert weight_bytes(model, 2.0, 1) == weight_bytes(model, 2.0, 4096) == 16e9


def test_untied_input_embedding_is_not_streamed() -> None:
    # 8.03e9 total − 128256 × 4096 input embedding = 7.5047e9 params streamed
    model = load_catalog().model_spec("llama-3.1-8b")
    assert weight_bytes(model, 1.0, 1) == pytest.approx(8.03e9 - 128256 * 4096)


def test_kv_read_is_batch_times_context_times_bytes_per_token() -> None:
    # Llama-3.1-70B: 2 (K,V) × 8 heads × 128 × 80 layers = 163840 elements = 327680 B/token BF16
    model = load_catalog().model_spec("llama-3.1-70b")
    assert kv_elements_per_sequence(model, 1) == 163840
    cost = pass_cost(
        model, batch=4, tokens=1, context=1000, bytes_per_param=2.0, kv_bytes_per_elem=2.0
    )
    assert cost.kv_bytes == pytest.approx(4 * 1000 * 327680)


def test_kv_sliding_window_caps_local_layers() -> None:
    # Gemma 3 270M: 512 elements per layer-token; 3 global × 1000 + 15 local × 512 = 10680
    model = load_catalog().model_spec("gemma-3-270m")
    assert kv_elements_per_sequence(model, 1000) == pytest.approx(512 * 10680)
    assert kv_elements_per_sequence(model, 100) == pytest.approx(512 * 18 * 100)


def test_mla_kv_elements() -> None:
    # DeepSeek-V3: (512 latent + 64 rope) × 61 layers = 35136 elements per token
    model = load_catalog().model_spec("deepseek-v3")
    assert kv_elements_per_sequence(model, 1) == 35136


def test_flops_are_two_per_active_param_per_token_plus_attention() -> None:
    model = dense()
    # attention: 4 × 64 heads × 128 = 32768 FLOPs per context token per layer × 80 layers
    attn = 4 * 64 * 128 * 80 * 1000
    assert pass_flops(model, 2, 3, 1000) == pytest.approx(2 * 3 * (2 * 70e9 + attn))


def test_prefill_computes_logits_for_last_token_only() -> None:
    model = load_catalog().model_spec("gemma-3-270m")
    head = 262144 * 640
    body = 268.1e6 - head
    # no attention at context 0
    assert pass_flops(model, 1, 100, 0, logits_tokens=1) == pytest.approx(2 * body * 100 + 2 * head)


def test_dense_ridge_matches_reference() -> None:
    # compute-bound once B·T > F·b/(2·BW) = 989e12 × 2 / (2 × 3.35e12) = 295 (H100 BF16)
    model = dense(n_heads=1, n_kv_heads=1, head_dim=1)
    sm = StepModel(
        model=model,
        rates=H100_BF16,
        bytes_per_param=2.0,
        kv_bytes_per_elem=2.0,
        efficiency=PERFECT,
    )
    assert sm.step_bound(290, 1, 1) == "memory"
    assert sm.step_bound(300, 1, 1) == "compute"


def test_n_gpus_divides_the_work() -> None:
    model = dense()
    one = pass_cost(model, batch=8, tokens=1, context=100, bytes_per_param=2, kv_bytes_per_elem=2)
    eight = pass_cost(
        model, batch=8, tokens=1, context=100, bytes_per_param=2, kv_bytes_per_elem=2, n_gpus=8
    )
    assert eight.total_bytes == pytest.approx(one.total_bytes / 8)
    assert eight.flops == pytest.approx(one.flops / 8)


def test_operating_point_closed_loop_formulas() -> None:
    # memory-bound dense toy with η = 1, t0 = 1 ms
    model = dense(params=1e9, n_heads=1, n_kv_heads=1, head_dim=1)
    eff = Efficiency(t0_s=0.001, eta_bw=1.0, eta_f=1.0)
    rates = Rates(bandwidth_bytes_s=1e12, flops_per_s=1e15)
    sm = StepModel(
        model=model, rates=rates, bytes_per_param=2.0, kv_bytes_per_elem=2.0, efficiency=eff
    )
    op = operating_point(sm, concurrency=4, isl=100, osl=101)
    step = sm.off_step_s(4, 150.5)
    prefill = 2 * 1e9 * 100 / 1e15  # compute of one 100-token prefill (no vocab: all body)
    # TPOT = (100 steps + 3 other prefills) / 100 tokens
    assert op.tpot_s == pytest.approx((100 * step + 3 * prefill) / 100, rel=1e-6)
    lifetime = sm.ttft_s(100) + 100 * op.tpot_s
    assert op.output_throughput_per_gpu == pytest.approx(4 * 101 / lifetime)
    assert op.throughput_per_gpu == pytest.approx(4 * 201 / lifetime)
    assert op.interactivity == pytest.approx(1 / op.tpot_s)


def test_spec_step_is_verify_plus_drafts() -> None:
    model = dense(params=8e9)
    head = model.mtp_head()
    sm = StepModel(
        model=model,
        rates=H100_BF16,
        bytes_per_param=2.0,
        kv_bytes_per_elem=2.0,
        efficiency=Efficiency(t0_s=0.002, eta_bw=0.8, eta_f=0.6),
        draft=head,
    )
    expect = sm.target_time_s(4, 3, 1000) + 2 * sm.draft_time_s(4, 1000)
    assert sm.spec_step_s(4, 2, 1000) == pytest.approx(expect)
    # a draft pass pays one layer's floor, its tokens' per-layer cost and one draft call,
    # never a share of t0: 50 µs + 1 × 3 µs + 200 µs = 253 µs (roofs made free)
    free = StepModel(
        model=model,
        rates=H100_BF16,
        bytes_per_param=2.0,
        kv_bytes_per_elem=2.0,
        efficiency=Efficiency(
            t0_s=0.002, eta_bw=1e9, eta_f=1e9, layer_s=50e-6, token_layer_s=3e-6, draft_s=200e-6
        ),
        draft=head,
    )
    assert free.draft_time_s(1, 1) == pytest.approx(253e-6, rel=1e-3)


batches = st.integers(min_value=1, max_value=2048)
contexts = st.floats(min_value=1, max_value=1e5)


@settings(max_examples=60, deadline=None)
@given(b=batches, t=st.integers(1, 8), ctx=contexts, db=st.integers(1, 64), dt=st.integers(0, 4))
def test_pass_time_monotone_in_batch_tokens_context(
    b: int, t: int, ctx: float, db: int, dt: int
) -> None:
    sm = StepModel(
        model=toy_moe(),
        rates=H100_BF16,
        bytes_per_param=1.0,
        kv_bytes_per_elem=2.0,
        efficiency=Efficiency(t0_s=0.001, eta_bw=0.7, eta_f=0.5),
    )
    base = sm.target_time_s(b, t, ctx)
    assert sm.target_time_s(b + db, t, ctx) >= base
    assert sm.target_time_s(b, t + dt, ctx) >= base
    assert sm.target_time_s(b, t, ctx * 2) >= base


@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 100_000), big=st.integers(2, 512), k=st.integers(1, 16))
def test_expert_union_bounds(n: int, big: int, k: int) -> None:
    k = min(k, big)
    u = expected_experts(big, k, n)
    assert 0 <= u <= big + 1e-9
    assert u <= n * k + 1e-9
    assert expected_experts(big, k, n + 1) >= u


@settings(max_examples=40, deadline=None)
@given(
    c=st.integers(1, 512),
    g=st.integers(1, 6),
    a=st.floats(0.0, 1.0),
    overlap=st.sampled_from(["max", "sum"]),
)
def test_spec_never_beats_acceptance_length(c: int, g: int, a: float, overlap: str) -> None:
    # same concurrency: S = AL·t_off/t_spec ≤ AL ≤ g + 1, since a spec step costs ≥ a plain one
    al = 1.0 + a * g
    sm = StepModel(
        model=toy_moe(),
        rates=H100_BF16,
        bytes_per_param=1.0,
        kv_bytes_per_elem=2.0,
        efficiency=Efficiency.model_validate(
            {"t0_s": 0.001, "eta_bw": 0.7, "eta_f": 0.5, "overlap": overlap}
        ),
        draft=toy_moe().mtp_head(),
    )
    off = operating_point(sm, concurrency=c, isl=64, osl=64)
    spec = operating_point(sm, concurrency=c, isl=64, osl=64, depth=g, acceptance_length=al)
    s = spec.interactivity / off.interactivity
    assert s <= al + 1e-9 <= g + 1 + 1e-9
    assert spec.step_time_s >= off.step_time_s


@settings(max_examples=30, deadline=None)
@given(c=st.integers(1, 256))
def test_interactivity_falls_with_concurrency(c: int) -> None:
    sm = StepModel(
        model=dense(params=8e9),
        rates=H100_BF16,
        bytes_per_param=2.0,
        kv_bytes_per_elem=2.0,
    )
    here = operating_point(sm, concurrency=c, isl=256, osl=256)
    there = operating_point(sm, concurrency=c + 1, isl=256, osl=256)
    assert there.interactivity <= here.interactivity
    assert math.isfinite(there.throughput_per_gpu)


def test_sum_overlap_is_never_faster_than_max() -> None:
    cost = pass_cost(
        dense(), batch=64, tokens=4, context=2000, bytes_per_param=2, kv_bytes_per_elem=2
    )
    fast = pass_time_s(cost, H100_BF16, PERFECT)
    slow = pass_time_s(cost, H100_BF16, PERFECT.model_copy(update={"overlap": "sum"}))
    assert slow >= fast
