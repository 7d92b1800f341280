"""InferenceX record keys normalised as the InferenceX dashboard does (its rules of April 2026
and later, ``packages/db/src/etl/normalizers.ts``): hardware from the runner name, model from
``infmax_model_prefix``, framework aliases, fp4 variants, ``spec_decoding`` absent = off.
"""

from __future__ import annotations

import re

from specscope.hardware_keys import canonical_hardware, inferencex_hardware_keys
from specscope.schema import OFF
from specscope.schema import spec_method_key as canonical_spec_method


class InferenceXRecordError(ValueError):
    """A record that cannot become a Point; the message is one line naming the problem."""


_RUNNER_SUFFIXES: tuple[str, ...] = (
    "-trt",
    "-multinode-slurm",
    "-multinode",
    "-nvs",
    "-disagg",
    "-amds",
    "-amd",
    "-nvd",
    "-dgxc-slurm",
    "-dgxc",
    "-nb",
    "-nv",
)

_FRAMEWORK_ALIASES: dict[str, tuple[str, bool | None]] = {
    "sglang-disagg": ("mori-sglang", True),
    "atom-disagg": ("mooncake-atom", True),
    "trtllm": ("trt", None),
    "dynamo-trtllm": ("dynamo-trt", None),
}

_PRECISION_ALIASES = {"nvfp4": "fp4", "mxfp4": "fp4"}
_PRECISION_SUFFIX = re.compile(r"-(?:fp4|fp8|mxfp4|nvfp4)(?:-.*)?$", re.IGNORECASE)
_MODEL_PREFIX_ALIASES = {"gptoss": "gptoss120b", "dsv4pro": "dsv4", "kimik2.7": "kimik2.7-code"}

# HF id / model path → model key, for records older than ``infmax_model_prefix`` (2025-12-08).
# Matched case-insensitively on the last path component, first hit wins.
_MODEL_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), key)
    for pattern, key in (
        (r"deepseek-r1|^dsr1", "dsr1"),
        (r"deepseek-v4", "dsv4"),
        (r"gpt-oss-120b", "gptoss120b"),
        (r"llama-3\.3-70b", "llama70b"),
        (r"qwen3\.5-397b", "qwen3.5"),
        (r"qwen3\.8-flash-next", "qwen3.8next"),
        (r"kimi-k2\.5", "kimik2.5"),
        (r"kimi-k2\.6", "kimik2.6"),
        (r"kimi-k2\.7-code", "kimik2.7-code"),
        (r"kimi-k3", "kimik3"),
        (r"minimax-m2\.5", "minimaxm2.5"),
        (r"minimax-m3", "minimaxm3"),
        (r"glm-5\.2", "glm5.2"),
        (r"glm-5\.1", "glm5.1"),
        (r"glm-5", "glm5"),
    )
)


def hardware_key(runner: str) -> str | None:
    """Runner name → hardware key (``mi355x-amds_0`` → ``mi355x``); None unless it is one of the
    keys InferenceX runs on (or their aliases), as the catalog file lists them
    (:func:`specscope.hardware_keys.inferencex_hardware_keys`).

    Lowercase, drop anything up to the last ``:`` (``cluster:b300-nv``), drop the runner index
    ``_N``, strip the known suffixes in order; failing that, keep the text before the first ``-``.
    """
    text = runner.strip().lower().rsplit(":", 1)[-1]
    text = re.sub(r"_\d+$", "", text)
    for suffix in _RUNNER_SUFFIXES:
        text = text.removesuffix(suffix)
    for candidate in (text, text.split("-", 1)[0]):
        key = canonical_hardware(candidate)
        if key in inferencex_hardware_keys():
            return key
    return None


def engine_key(framework: str, disagg: bool | None) -> tuple[str, bool]:
    """Framework → (engine, disaggregated): ``trtllm`` → trt, ``sglang-disagg`` → mori-sglang.

    ``mori-*`` is always disaggregated; ``dynamo-*`` is unless ``disagg`` says otherwise.
    """
    lower = framework.strip().lower()
    canonical, forced = _FRAMEWORK_ALIASES.get(lower, (lower, None))
    if forced is not None:
        return canonical, forced
    if canonical.startswith("mori-"):
        return canonical, True
    if disagg is not None:
        return canonical, disagg
    return canonical, canonical.startswith("dynamo-")


def precision_key(precision: str) -> str:
    """``NVFP4``/``mxfp4`` → ``fp4``; otherwise lowercase."""
    lower = precision.strip().lower()
    return _PRECISION_ALIASES.get(lower, lower)


def spec_method_key(value: object) -> str:
    """``spec_decoding`` → spec method: absent, null or empty → ``none``; else lowercase."""
    if value is None or value is False:
        return OFF
    return canonical_spec_method(str(value))


def model_key(prefix: str | None, model: str | None) -> str:
    """Model key from ``infmax_model_prefix`` (preferred) or the HF id / model path.

    The prefix is lowercased with a trailing precision segment (``-fp8``, ``-nvfp4-v2``...)
    removed and aliases applied (``gptoss`` → ``gptoss120b``). A model path is matched against
    the known InferenceX models, else its last component is used, lowercased.
    """
    if prefix and prefix.strip():
        lower = prefix.strip().lower()
        if lower in _MODEL_PREFIX_ALIASES:
            return _MODEL_PREFIX_ALIASES[lower]
        stripped = _PRECISION_SUFFIX.sub("", lower) or lower
        return _MODEL_PREFIX_ALIASES.get(stripped, stripped)
    if model and model.strip():
        name = model.strip().rstrip("/").rsplit("/", 1)[-1]
        for pattern, key in _MODEL_PATTERNS:
            if pattern.search(name):
                return key
        return name.lower()
    raise InferenceXRecordError("has neither 'infmax_model_prefix' nor 'model'")
