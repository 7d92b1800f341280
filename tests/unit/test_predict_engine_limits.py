"""Engine-limit defaults as the engines' own sources set them (issue 13, item 2 of the second
pass): vLLM's 70 GiB / A100 rule, SGLang's 48 with speculation and 2048 floor without, and
TensorRT-LLM's 2048 / 8192, each with its source named."""

from __future__ import annotations

import pytest

from specscope.catalog import load_catalog
from specscope.predict import PredictRequest, acceptance_curve, predict
from specscope.predict.request import ENGINE_LIMITS, vllm_small_gpu
from specscope.predict.specs import HardwareSpec


def _hw(key: str, memory_gb: float, name: str | None = None) -> HardwareSpec:
    base = load_catalog().hardware_spec("h100")
    return base.model_copy(update={"key": key, "name": name or key, "memory_gb": memory_gb})


@pytest.mark.parametrize(
    ("key", "memory_gb", "name", "small"),
    [
        ("h100", 80, "NVIDIA H100 SXM", False),  # 80 GB = 74.5 GiB ≥ 70 GiB
        ("a100-80", 80, "NVIDIA A100 80GB", True),  # excluded by name (vLLM PR #17885)
        ("l40s", 48, "NVIDIA L40S", True),
        ("edge", 75.0, "x", True),  # 75 GB = 69.85 GiB < 70 GiB
        ("edge2", 75.2, "x", False),  # 75.2 GB = 70.04 GiB
    ],
)
def test_vllm_large_gpu_rule_is_70_gib_and_not_a100(
    key: str, memory_gb: float, name: str, small: bool
) -> None:
    assert vllm_small_gpu(_hw(key, memory_gb, name)) is small


def test_every_engine_limit_names_its_source_file() -> None:
    assert "vllm/engine/arg_utils.py" in ENGINE_LIMITS["vllm"].source
    assert "server_args.py" in ENGINE_LIMITS["sglang"].source
    assert "builder.py" in ENGINE_LIMITS["trtllm"].source
    assert ENGINE_LIMITS["sglang"].max_running_spec == 48
    assert ENGINE_LIMITS["sglang"].max_running_off == 2048
    trt, vllm = ENGINE_LIMITS["trtllm"], ENGINE_LIMITS["vllm"]
    assert (trt.max_running_off, trt.max_batched_tokens) == (2048, 8192)
    assert (vllm.max_running_off, vllm.max_batched_tokens) == (1024, 8192)
    assert (vllm.small_gpu_running, vllm.small_gpu_batched_tokens) == (256, 2048)


def _predict(hardware: str, engine: str, max_c: int, g: int = 3) -> object:
    return predict(
        PredictRequest(
            hardware=hardware,
            model="qwen3.6-35b-a3b",
            precision="q4_k_m",
            spec_method="mtp",
            gammas=[g],
            acceptance=acceptance_curve([g], acceptance_length=[2.5]),
            isl=64,
            osl=64,
            n_gpus=1,
            max_concurrency=max_c,
            engine=engine,
        ),
        catalog=load_catalog(),
    )


def test_vllm_on_a_24_gb_card_uses_256_sequences_and_2048_tokens() -> None:
    # RTX 3090: small defaults; 2048 tokens / (g + 1 = 4) = 512 > 256, so 256 running sequences
    p = _predict("rtx3090", "vllm", 4096)
    off, spec = p.curves  # type: ignore[attr-defined]
    assert off.points[-1].concurrency <= 256
    assert spec.points[-1].concurrency <= 256
    # at g = 15: 2048 // 16 = 128 sequences
    p15 = _predict("rtx3090", "vllm", 4096, g=15)
    assert p15.curves[1].points[-1].concurrency <= 128  # type: ignore[attr-defined]


def test_sglang_off_stops_at_its_2048_floor_when_memory_allows() -> None:
    p = _predict("mi355x", "sglang", 4096)  # 288 GB: KV room for > 2048
    off, spec = p.curves  # type: ignore[attr-defined]
    assert off.points[-1].concurrency == 2048
    assert spec.points[-1].concurrency == 48
