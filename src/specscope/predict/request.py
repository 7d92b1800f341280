"""What to predict (:class:`PredictRequest`), and how far its curves may go.

The highest concurrency Off and each spec depth may run at: KV memory, the engine's default caps
(:data:`ENGINE_LIMITS`, each with its source), the request's own caps and ``--max-concurrency``.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field

from specscope.errors import UserError
from specscope.predict.acceptance import AcceptanceCurve
from specscope.predict.specs import HardwareSpec

DEFAULT_CONCURRENCY_CAP = 1024
MAX_CONCURRENCY_LIMIT = 16384
"""Every concurrency up to the limit is evaluated; this keeps a prediction within seconds."""


class PredictRequest(BaseModel):
    """What to predict (the CLI's flags, typed)."""

    model_config = ConfigDict(frozen=True)

    hardware: str
    model: str
    precision: str
    spec_method: str = "mtp"
    gammas: list[int]
    """The draft depths to predict; named as in ``predict --json`` and the predicted run's id."""
    acceptance: AcceptanceCurve
    isl: int = Field(ge=1)
    osl: int = Field(ge=2)
    n_gpus: int | None = Field(default=None, ge=1)
    kv_precision: str = "bf16"
    draft_model: str | None = None
    """Catalog key of the draft model, for ``--spec draft_model``."""
    max_concurrency: int | None = Field(default=None, ge=1, le=MAX_CONCURRENCY_LIMIT)
    memory_utilization: float = Field(default=0.9, gt=0, le=1)
    targets: list[float] = Field(default_factory=list)
    """Interactivity targets (tok/s/user) for the matched gain; empty → 25/50/75 % of the band."""
    economics_preset: str = "auto"
    engine: str = "vllm"
    """Whose scheduler limits apply (see :data:`ENGINE_LIMITS`): vllm, sglang, trtllm, none."""
    max_running_requests: int | None = Field(default=None, ge=1)
    """The engine's cap on running requests (vLLM --max-num-seqs, SGLang
    --max-running-requests); default: the engine's own default."""
    max_batched_tokens: int | None = Field(default=None, ge=1)
    """The engine's cap on tokens per step (vLLM --max-num-batched-tokens); a spec step at
    concurrency C schedules C·(g + 1) tokens."""
    expert_parallel: bool = False
    """MoE experts spread over the GPUs (vLLM --enable-expert-parallel, SGLang --ep-size):
    each MoE layer pays a dispatch and a combine all-to-all instead of an all-reduce."""


class EngineLimits(BaseModel):
    """An engine's default caps on one deployment's decode batch (as its own source sets them)."""

    model_config = ConfigDict(frozen=True)

    max_running_off: int | None
    max_running_spec: int | None
    max_batched_tokens: int | None
    source: str
    small_gpu_running: int | None = None
    """The running-request cap on a device below the engine's large-GPU threshold (vLLM)."""
    small_gpu_batched_tokens: int | None = None


ENGINE_LIMITS: dict[str, EngineLimits] = {
    "vllm": EngineLimits(
        max_running_off=1024,
        max_running_spec=1024,
        max_batched_tokens=8192,
        small_gpu_running=256,
        small_gpu_batched_tokens=2048,
        source=(
            "vLLM EngineArgs._set_default_args (vllm/engine/arg_utils.py, "
            "vllm-project/vllm@99d7eb5d, v0.11 series; the same table in get_batch_defaults of "
            "later trees): for the OpenAI API server max_num_seqs 1024 and "
            "max_num_batched_tokens 8192 when the device has >= 70 GiB and its name does not "
            "contain 'a100', else 256 and 2048 (the offline LLM class gets 16384 / 8192 tokens); "
            "speculative decoding does not change them, and each running request schedules "
            "1 + num_speculative_tokens tokens against max_num_batched_tokens"
        ),
    ),
    "sglang": EngineLimits(
        max_running_off=2048,
        max_running_spec=48,
        max_batched_tokens=None,
        source=(
            "SGLang ServerArgs._handle_speculative_decoding (python/sglang/srt/server_args.py; "
            "arg_groups/speculative_hook.py in trees from sgl-project/sglang@004c82e0): "
            "EAGLE, EAGLE3, STANDALONE and NEXTN/MTP (an alias of EAGLE) set "
            "max_running_requests to 48 when it is not given ('Max running requests is reset "
            "to 48 for speculative decoding'); without speculation the model runner sizes it "
            "as clamp(KV tokens / context_len × 512, 2048, 4096), at most KV tokens / 2 "
            "(hybrid linear-attention models also by --max-mamba-cache-size): 2048 is the floor"
        ),
    ),
    "trtllm": EngineLimits(
        max_running_off=2048,
        max_running_spec=2048,
        max_batched_tokens=8192,
        source=(
            "TensorRT-LLM BuildConfig (tensorrt_llm/builder.py, NVIDIA/TensorRT-LLM@008b2b8d) "
            "and BaseLlmArgs (tensorrt_llm/llmapi/llm_args.py): max_batch_size 2048, "
            "max_num_tokens 8192; trtllm-serve takes the BuildConfig defaults "
            "(tensorrt_llm/commands/serve.py@00209af1); the PyTorch backend captures CUDA graphs "
            "only up to batch 128 by default (CudaGraphConfig.max_batch_size), larger batches run "
            "eagerly"
        ),
    ),
    "none": EngineLimits(
        max_running_off=None, max_running_spec=None, max_batched_tokens=None, source="KV only"
    ),
}
"""Default caps per engine; a request's own ``max_running_requests``/``max_batched_tokens``
override them."""

VLLM_LARGE_GPU_BYTES = 70 * 2**30
"""vLLM's threshold for its larger defaults: 70 GiB of device memory (and not an A100)."""


def vllm_small_gpu(hw: HardwareSpec) -> bool:
    """Whether vLLM would pick its small-device defaults (256 sequences, 2048 batched tokens).

    Worked: H100 80 GB (74.5 GiB) → large; A100 80 GB → small (excluded by name);
    RTX 3090 24 GB → small.
    """
    names = f"{hw.key} {hw.name}".lower()
    return hw.memory_gb * 1e9 < VLLM_LARGE_GPU_BYTES or "a100" in names


def concurrency_limits(
    request: PredictRequest,
    hw: HardwareSpec,
    memory_limit: int,
    draft_depths: Sequence[int],
    warnings: list[str],
) -> tuple[int, dict[int, int]]:
    """The highest concurrency Off and each spec depth may run at: KV memory, the engine's
    running-request cap, its batched-token cap (C·(g + 1) tokens per spec step) and the
    prediction's own cap. No predicted point lies beyond them."""
    key = request.engine.strip().lower()
    if key not in ENGINE_LIMITS:
        raise UserError(
            f"unknown engine '{request.engine}'; use one of: {', '.join(sorted(ENGINE_LIMITS))}"
        )
    eng = ENGINE_LIMITS[key]
    small = eng.small_gpu_running is not None and vllm_small_gpu(hw)
    run_off = request.max_running_requests or (
        eng.small_gpu_running if small else eng.max_running_off
    )
    run_spec = request.max_running_requests or (
        eng.small_gpu_running if small else eng.max_running_spec
    )
    tokens = request.max_batched_tokens or (
        eng.small_gpu_batched_tokens if small else eng.max_batched_tokens
    )
    cap = request.max_concurrency or DEFAULT_CONCURRENCY_CAP

    def one(depth: int, running: int | None) -> int:
        bounds = {"KV memory": memory_limit, "--max-concurrency": cap}
        if running is not None:
            bounds[f"{key} max running requests"] = running
        if tokens is not None:
            bounds[f"{key} max batched tokens {tokens} / {depth + 1} tokens per step"] = max(
                tokens // (depth + 1), 1
            )
        name, value = min(bounds.items(), key=lambda kv: kv[1])
        if value < cap and name != "--max-concurrency":
            what = "Off" if depth == 0 else f"g={depth}"
            warnings.append(f"{what} stops at concurrency {value}: {name}")
        return value

    off = one(0, run_off)
    return off, {draft_depth: one(draft_depth, run_spec) for draft_depth in draft_depths}
