"""Expert-parallel all-to-all per MoE layer (issue 13, item 3 of the second pass), worked."""

from __future__ import annotations

import pytest

from specscope.catalog import load_catalog
from specscope.predict import PredictRequest, acceptance_curve, predict
from specscope.predict.roofline import Rates, alltoall_per_call_bytes, comm_time_s, pass_cost
from specscope.predict.specs import ModelSpec


def moe(**extra: object) -> ModelSpec:
    fields: dict[str, object] = {
        "key": "toy-moe",
        "name": "toy-moe",
        "params_total": 400e9,
        "params_active": 17e9,
        "n_layers": 60,
        "hidden_size": 4096,
        "attention": "gqa",
        "n_heads": 32,
        "n_kv_heads": 2,
        "head_dim": 256,
        "n_experts": 512,
        "n_active_experts": 10,
        "moe_intermediate_size": 1024,
        "n_moe_layers": 60,
    }
    fields.update(extra)
    return ModelSpec.model_validate(fields)


RATES = Rates(
    bandwidth_bytes_s=4.8e12,
    flops_per_s=1979e12,
    link_bandwidth_bytes_s=450e9,
    link_latency_s=8e-6,
)


def test_alltoall_bytes_worked() -> None:
    # 64 tokens over 8 GPUs: 8 home tokens × 10 experts × 7/8 remote × 4096 × 2 B = 573 440 B
    assert alltoall_per_call_bytes(moe(), 64, 8) == pytest.approx(573_440)
    # grows linearly with the tokens of the step: a g = 3 verify (4 tokens each) moves 4×
    assert alltoall_per_call_bytes(moe(), 256, 8) == pytest.approx(4 * 573_440)
    assert alltoall_per_call_bytes(moe(), 64, 1) == 0.0


def test_ep_swaps_each_moe_all_reduce_for_a_dispatch_and_a_combine() -> None:
    kw = dict(batch=64, tokens=1, context=1536, bytes_per_param=1.0, kv_bytes_per_elem=2.0)
    tp = pass_cost(moe(), n_gpus=8, **kw)  # type: ignore[arg-type]
    ep = pass_cost(moe(), n_gpus=8, expert_parallel=True, **kw)  # type: ignore[arg-type]
    assert (tp.allreduce_calls, tp.alltoall_calls) == (120, 0)
    # 60 attention all-reduces stay, 60 MoE all-reduces become 120 all-to-alls
    assert (ep.allreduce_calls, ep.alltoall_calls) == (60, 120)
    assert ep.alltoall_bytes == pytest.approx(120 * 573_440)
    # all-reduce per call: 2 · 7/8 · 64 · 4096 · 2 B = 917 504 B
    assert ep.allreduce_bytes == pytest.approx(60 * 917_504)
    # time: 180 latencies of 8 µs + (55 050 240 + 68 812 800) B / 450 GB/s
    expected = 180 * 8e-6 + (60 * 917_504 + 120 * 573_440) / 450e9
    assert comm_time_s(ep, RATES) == pytest.approx(expected)
    assert comm_time_s(ep, RATES) == pytest.approx(1.4400e-3 + 0.27525e-3, rel=1e-3)


def test_ep_is_ignored_for_dense_models_and_single_gpus() -> None:
    dense = moe(n_experts=None, n_active_experts=None, n_moe_layers=None)
    kw = dict(batch=8, tokens=1, context=100, bytes_per_param=1.0, kv_bytes_per_elem=2.0)
    assert pass_cost(dense, n_gpus=8, expert_parallel=True, **kw).alltoall_calls == 0  # type: ignore[arg-type]
    assert pass_cost(moe(), n_gpus=1, expert_parallel=True, **kw).alltoall_calls == 0  # type: ignore[arg-type]


def test_ep_step_on_h200_qwen_worked_and_dense_models_get_a_note() -> None:
    cat = load_catalog()
    base = dict(
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
    )
    tp = predict(PredictRequest(**base), catalog=cat)  # type: ignore[arg-type]
    ep = predict(PredictRequest(**base, expert_parallel=True), catalog=cat)  # type: ignore[arg-type]
    # g = 3 at C = 64: 256 tokens. A removed MoE all-reduce moved 2 · 7/8 · 256 · 4096 · 2 B
    # = 3.67 MB; its dispatch + combine move 2 × 32 · 10 · 7/8 · 4096 · 2 B = 4.59 MB and pay
    # one more latency: 60 layers × (0.92 MB / 450 GB/s + 8 µs) = 0.60 ms slower
    s_tp = tp.curves[1].points[-1].step_time_s
    s_ep = ep.curves[1].points[-1].step_time_s
    extra = 60 * ((4_587_520 - 3_670_016) / 450e9 + 8e-6)
    assert s_ep - s_tp == pytest.approx(extra, rel=1e-3)
    dense = predict(
        PredictRequest(**{**base, "model": "llama-3.1-8b", "n_gpus": 2}, expert_parallel=True),  # type: ignore[arg-type]
        catalog=cat,
    )
    assert any("expert parallelism ignored" in w for w in dense.warnings)
