"""Weight precisions: bytes per parameter, and which dense compute rate a precision runs at.

Bytes per parameter follow the theory reference (§7): BF16 2, FP8 1, FP4 ≈ 0.5, Q4_K_M ≈ 0.56.
The other entries follow from the format definitions (FP32 4 bytes; Q8_0 stores 32 int8 weights
plus one FP16 scale per block, 34/32 bytes). ``nvfp4`` and ``mxfp4`` are folded into ``fp4`` the
way InferenceX normalises them.

Weight-only quantisations (``int4``, ``q4_k_m``, ``q8_0``) read few bytes but multiply in a wider
type, so they run at the BF16 rate (FP32 on a CPU that lists only FP32).
"""

from __future__ import annotations

from specscope.errors import UserError

BYTES_PER_PARAM: dict[str, float] = {
    "fp32": 4.0,
    "bf16": 2.0,
    "fp16": 2.0,
    "fp8": 1.0,
    "int8": 1.0,
    "q8_0": 34.0 / 32.0,
    "fp4": 0.5,
    "int4": 0.5,
    "q4_k_m": 0.56,
}

PRECISION_ALIASES: dict[str, str] = {
    "nvfp4": "fp4",
    "mxfp4": "fp4",
    "float16": "fp16",
    "bfloat16": "bf16",
    "float32": "fp32",
    "f32": "fp32",
    "f16": "fp16",
    "q4km": "q4_k_m",
    "q4-k-m": "q4_k_m",
}

COMPUTE_PRECISION: dict[str, str] = {
    "fp32": "fp32",
    "bf16": "bf16",
    "fp16": "bf16",
    "fp8": "fp8",
    "int8": "fp8",
    "q8_0": "bf16",
    "fp4": "fp4",
    "int4": "bf16",
    "q4_k_m": "bf16",
}
"""The dense-compute column a weight precision multiplies at (see module docstring)."""

COMPUTE_FALLBACK: dict[str, tuple[str, ...]] = {
    "fp4": ("fp4", "fp8", "bf16", "fp32"),
    "fp8": ("fp8", "bf16", "fp32"),
    "bf16": ("bf16", "fp32"),
    "fp32": ("fp32", "bf16"),
}
"""Where to look, in order, when a device lists no rate for the wanted compute precision."""


def normalise_precision(precision: str) -> str:
    """Lower-case a precision name and fold its aliases; raise UserError for an unknown one."""
    key = precision.strip().lower()
    key = PRECISION_ALIASES.get(key, key)
    if key not in BYTES_PER_PARAM:
        known = ", ".join(sorted(BYTES_PER_PARAM))
        raise UserError(f"unknown precision '{precision}'; use one of: {known}")
    return key


def bytes_per_param(precision: str) -> float:
    """Bytes one weight takes at this precision (e.g. ``fp8`` → 1.0)."""
    return BYTES_PER_PARAM[normalise_precision(precision)]


def compute_precision(precision: str) -> str:
    """The dense-compute column (``bf16``, ``fp8``, ``fp4``, ``fp32``) this precision runs at."""
    return COMPUTE_PRECISION[normalise_precision(precision)]
