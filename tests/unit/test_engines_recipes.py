"""Engine recipes as exact command lines, environments and config files (no GPU needed)."""

from __future__ import annotations

import json
import sys

import pytest
from pydantic import ValidationError

from specscope.engines import (
    EngineRecipe,
    LlamaCppRecipe,
    ServerSettings,
    SglangRecipe,
    SpecSettings,
    TrtllmRecipe,
    VllmRecipe,
    describe_spec,
    engine_key,
    get_recipe,
)
from specscope.engines.trtllm import OPTIONS_FILE
from specscope.errors import UserError

LLAMA = ServerSettings(
    model="/m/gemma.gguf",
    port=8080,
    context_tokens=4096,
    threads=2,
    parallel=4,
    binary="llama-server",
)
GPU = ServerSettings(model="org/Model", port=8000, tp=8)

LLAMA_BASE = [
    "llama-server", "-m", "/m/gemma.gguf", "--host", "127.0.0.1", "--port", "8080",
    "-c", "4096", "-t", "2", "-np", "4", "--metrics",
]  # fmt: skip


@pytest.mark.parametrize(
    ("spec", "spec_args"),
    [
        (SpecSettings(), ["--spec-type", "none"]),
        (
            SpecSettings(
                method="ngram-mod",
                draft_depth=8,
                params={"ngram-mod-n-match": 8, "ngram-mod-n-min": 2},
            ),
            ["--spec-type", "ngram-mod", "--spec-ngram-mod-n-max", "8",
             "--spec-ngram-mod-n-match", "8", "--spec-ngram-mod-n-min", "2"],
        ),
        (SpecSettings(method="ngram-mod"), ["--spec-type", "ngram-mod"]),
        (
            SpecSettings(method="ngram", draft_depth=16),
            ["--spec-type", "ngram-simple", "--spec-ngram-simple-size-m", "16"],
        ),
        (
            SpecSettings(method="ngram-map-k", draft_depth=12, params={"ngram_map_k_min_hits": 2}),
            ["--spec-type", "ngram-map-k", "--spec-ngram-map-k-size-m", "12",
             "--spec-ngram-map-k-min-hits", "2"],
        ),
        (
            SpecSettings(method="ngram-cache", draft_depth=5),
            ["--spec-type", "ngram-cache", "--spec-draft-n-max", "5"],
        ),
        (
            SpecSettings(method="draft", draft_depth=4, draft_model="/m/small.gguf"),
            ["--spec-type", "draft-simple", "-md", "/m/small.gguf", "--spec-draft-n-max", "4"],
        ),
        (
            SpecSettings(method="mtp", draft_depth=3),
            ["--spec-type", "draft-mtp", "--spec-draft-n-max", "3"],
        ),
        (
            SpecSettings(method="eagle3", draft_depth=3, draft_model="/m/eagle.gguf"),
            ["--spec-type", "draft-eagle3", "-md", "/m/eagle.gguf", "--spec-draft-n-max", "3"],
        ),
        (
            SpecSettings(method="ngram-mod", draft_depth=8, synthetic_acceptance_length=2.5,
                         params={"-lv": 4, "draft-backend-sampling": True}, extra_args=["--x"]),
            ["--spec-type", "ngram-mod", "--spec-ngram-mod-n-max", "8", "--spec-synth-len", "2.5",
             "-lv", "4", "--spec-draft-backend-sampling", "--x"],
        ),
    ],
)  # fmt: skip
def test_llamacpp_command(spec: SpecSettings, spec_args: list[str]) -> None:
    assert LlamaCppRecipe().command(spec, LLAMA) == [*LLAMA_BASE, *spec_args]


def test_llamacpp_minimal_server_and_extra_args() -> None:
    server = ServerSettings(model="m.gguf", port=9, binary="/bin/ls", extra_args=["--slots"])
    assert LlamaCppRecipe().command(SpecSettings(), server) == [
        "/bin/ls", "-m", "m.gguf", "--host", "127.0.0.1", "--port", "9", "--metrics",
        "--spec-type", "none", "--slots",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (SpecSettings(method="draft", draft_depth=4), "needs a draft model"),
        (SpecSettings(method="eagle", draft_depth=2), "llamacpp has no spec method 'eagle'"),
        (
            SpecSettings(method="ngram-mod", draft_depth=8, params={"ngram-mod-n-max": 16}),
            "--spec-ngram-mod-n-max is set twice",
        ),
        (SpecSettings(params={"ngram-mod-n-max": 16}), "params were given with spec method 'none'"),
    ],
)
def test_llamacpp_bad_specs(spec: SpecSettings, message: str) -> None:
    with pytest.raises(UserError, match=message):
        LlamaCppRecipe().command(spec, LLAMA)


VLLM_BASE = [
    "vllm", "serve", "org/Model", "--host", "127.0.0.1", "--port", "8000",
    "--tensor-parallel-size", "8",
]  # fmt: skip


@pytest.mark.parametrize(
    ("spec", "config"),
    [
        (
            SpecSettings(method="mtp", draft_depth=3),
            '{"method": "mtp", "num_speculative_tokens": 3}',
        ),
        (
            SpecSettings(method="eagle3", draft_depth=2, draft_model="org/Eagle3"),
            '{"method": "eagle3", "model": "org/Eagle3", "num_speculative_tokens": 2}',
        ),
        (
            SpecSettings(method="draft", draft_depth=5, draft_model="org/Small"),
            '{"method": "draft_model", "model": "org/Small", "num_speculative_tokens": 5}',
        ),
        (
            SpecSettings(
                method="ngram",
                draft_depth=4,
                params={"prompt_lookup_max": 5, "prompt_lookup_min": 2},
            ),
            '{"method": "ngram", "num_speculative_tokens": 4, "prompt_lookup_max": 5, '
            '"prompt_lookup_min": 2}',
        ),
        (
            SpecSettings(method="mtp", draft_depth=3, synthetic_acceptance_length=2.5),
            '{"method": "mtp", "num_speculative_tokens": 3, '
            '"rejection_sample_method": "synthetic", "synthetic_acceptance_length": 2.5}',
        ),
    ],
)
def test_vllm_command(spec: SpecSettings, config: str) -> None:
    cmd = VllmRecipe().command(spec, GPU)
    # vLLM v0.29.0: exact per-request acceptance (metrics.speculative_decoding)
    per_request = ["--per-request-spec-decode-metrics", "summary"]
    assert cmd == [*VLLM_BASE, "--speculative-config", config, *per_request]
    json.loads(cmd[-3])  # valid JSON
    older = GPU.model_copy(update={"per_request_spec_metrics": False})
    assert VllmRecipe().command(spec, older) == [*VLLM_BASE, "--speculative-config", config]


def test_vllm_off_and_server_options() -> None:
    server = GPU.model_copy(
        update={"context_tokens": 9216, "parallel": 64, "extra_args": ["--enforce-eager"]}
    )
    assert VllmRecipe().command(SpecSettings(), server) == [
        *VLLM_BASE, "--max-model-len", "9216", "--max-num-seqs", "64", "--enforce-eager",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (SpecSettings(method="mtp"), "needs the draft depth g"),
        (SpecSettings(method="eagle3", draft_depth=3), "needs a draft model"),
        (SpecSettings(method="ngram-mod", draft_depth=3), "vllm has no spec method 'ngram-mod'"),
        (
            SpecSettings(method="mtp", draft_depth=3, params={"num_speculative_tokens": 4}),
            "set twice",
        ),
    ],
)
def test_vllm_bad_specs(spec: SpecSettings, message: str) -> None:
    with pytest.raises(UserError, match=message):
        VllmRecipe().command(spec, GPU)


SGLANG_BASE = [
    sys.executable, "-m", "sglang.launch_server", "--model-path", "org/Model",
    "--host", "127.0.0.1", "--port", "8000", "--tp", "8",
]  # fmt: skip


@pytest.mark.parametrize(
    ("spec", "spec_args"),
    [
        (SpecSettings(), []),
        (
            SpecSettings(method="mtp", draft_depth=3),
            ["--speculative-algorithm", "NEXTN", "--speculative-num-steps", "3",
             "--speculative-eagle-topk", "1", "--speculative-num-draft-tokens", "4"],
        ),
        (
            SpecSettings(method="eagle", draft_depth=2, draft_model="org/Eagle"),
            ["--speculative-algorithm", "EAGLE", "--speculative-draft-model-path", "org/Eagle",
             "--speculative-num-steps", "2", "--speculative-eagle-topk", "1",
             "--speculative-num-draft-tokens", "3"],
        ),
        (
            SpecSettings(method="draft", draft_depth=4, draft_model="org/Small"),
            ["--speculative-algorithm", "STANDALONE", "--speculative-draft-model-path", "org/Small",
             "--speculative-num-steps", "4", "--speculative-eagle-topk", "1",
             "--speculative-num-draft-tokens", "5"],
        ),
        (
            SpecSettings(method="ngram", draft_depth=7, params={"ngram_min_match_window_size": 2}),
            ["--speculative-algorithm", "NGRAM", "--speculative-num-draft-tokens", "8",
             "--speculative-ngram-min-match-window-size", "2"],
        ),
    ],
)  # fmt: skip
def test_sglang_command(spec: SpecSettings, spec_args: list[str]) -> None:
    assert SglangRecipe().command(spec, GPU) == [*SGLANG_BASE, *spec_args]


def test_sglang_synthetic_env_and_server_options() -> None:
    spec = SpecSettings(
        method="mtp",
        draft_depth=3,
        synthetic_acceptance_length=2.5,
        env={"SGLANG_ENABLE_SPEC_V2": "1"},
    )
    recipe = SglangRecipe()
    assert recipe.env(spec, GPU) == {
        "SGLANG_ENABLE_SPEC_V2": "1",
        "SGLANG_SIMULATE_ACC_LEN": "2.5",
        "SGLANG_SIMULATE_ACC_METHOD": "match-expected",
        "SGLANG_SIMULATE_ACC_TOKEN_MODE": "real-draft-token",
    }
    server = GPU.model_copy(
        update={"context_tokens": 2048, "parallel": 32, "binary": "/venv/bin/python"}
    )
    cmd = recipe.command(SpecSettings(), server)
    assert cmd[0] == "/venv/bin/python"
    assert cmd[-4:] == ["--context-length", "2048", "--max-running-requests", "32"]
    assert (recipe.metrics_path, recipe.acceptance_source) == ("/server_info", "sglang_server_info")


TRT_SERVER = GPU.model_copy(update={"config_dir": "/runs/r1"})
TRT_BASE = [
    "trtllm-serve", "org/Model", "--host", "127.0.0.1", "--port", "8000", "--tp_size", "8",
    "--extra_llm_api_options", "/runs/r1/trtllm-extra-llm-api-options.yaml",
]  # fmt: skip


@pytest.mark.parametrize(
    ("spec", "yaml"),
    [
        (SpecSettings(), "enable_iter_perf_stats: true\n"),
        (
            SpecSettings(method="mtp", draft_depth=3),
            "enable_iter_perf_stats: true\n"
            "speculative_config:\n  decoding_type: MTP\n  max_draft_len: 3\n",
        ),
        (
            SpecSettings(method="eagle", draft_depth=3, draft_model="/models/eagle"),
            "enable_iter_perf_stats: true\nspeculative_config:\n  decoding_type: Eagle3\n"
            "  max_draft_len: 3\n  speculative_model: /models/eagle\n",
        ),
        (
            SpecSettings(method="eagle3", draft_depth=3, draft_model="/models/eagle3"),
            "enable_iter_perf_stats: true\nspeculative_config:\n  decoding_type: Eagle3\n"
            "  max_draft_len: 3\n  speculative_model: /models/eagle3\n",
        ),
        (
            SpecSettings(
                method="ngram",
                draft_depth=4,
                params={"max_matching_ngram_size": 2, "is_public_pool": True},
            ),
            "enable_iter_perf_stats: true\nspeculative_config:\n  decoding_type: NGram\n"
            "  max_draft_len: 4\n  max_matching_ngram_size: 2\n  is_public_pool: true\n",
        ),
        (
            SpecSettings(method="draft", draft_depth=2, draft_model="org/Small",
                         params={"speculative_model": "/local/small"}),
            "enable_iter_perf_stats: true\nspeculative_config:\n  decoding_type: Draft_Target\n"
            "  max_draft_len: 2\n  speculative_model: /local/small\n",
        ),
    ],
)  # fmt: skip
def test_trtllm_command_and_yaml(spec: SpecSettings, yaml: str) -> None:
    recipe = TrtllmRecipe()
    assert recipe.command(spec, TRT_SERVER) == TRT_BASE
    assert recipe.files(spec, TRT_SERVER) == {OPTIONS_FILE: yaml}


def test_trtllm_synthetic_env_extra_options_and_server_options() -> None:
    recipe = TrtllmRecipe({"kv_cache_config": {"free_gpu_memory_fraction": 0.85}})
    spec = SpecSettings(method="mtp", draft_depth=3, synthetic_acceptance_length=2.6)
    # AL 2.6 includes the bonus token → 1.6 accepted draft tokens per step
    assert recipe.env(spec, TRT_SERVER) == {"TLLM_SPEC_DECODE_FORCE_NUM_ACCEPTED_TOKENS": "1.6"}
    assert recipe.files(spec, TRT_SERVER)[OPTIONS_FILE] == (
        "kv_cache_config:\n  free_gpu_memory_fraction: 0.85\nenable_iter_perf_stats: true\n"
        "speculative_config:\n  decoding_type: MTP\n  max_draft_len: 3\n"
    )
    server = TRT_SERVER.model_copy(update={"context_tokens": 9216, "parallel": 256})
    cmd = recipe.command(SpecSettings(), server)
    assert cmd[8:12] == ["--max_seq_len", "9216", "--max_batch_size", "256"]


def test_trtllm_iter_stats_sized_from_the_window() -> None:
    # a window of at most 2280 iterations (60 requests × (37 + 1)) gets twice that; small
    # windows keep at least trtllm-serve's default of 1000
    sized = TRT_SERVER.model_copy(update={"window_iterations": 2280})
    assert (
        "iter_stats_max_iterations: 4560\n"
        in TrtllmRecipe().files(SpecSettings(), sized)[OPTIONS_FILE]
    )
    small = TRT_SERVER.model_copy(update={"window_iterations": 10})
    assert (
        "iter_stats_max_iterations: 1000\n"
        in TrtllmRecipe().files(SpecSettings(), small)[OPTIONS_FILE]
    )


def test_trtllm_mtp_refuses_the_deprecated_layer_count() -> None:
    spec = SpecSettings(method="mtp", draft_depth=2, params={"num_nextn_predict_layers": 2})
    with pytest.raises(UserError, match="num_nextn_predict_layers is deprecated"):
        TrtllmRecipe().files(spec, TRT_SERVER)


def test_sglang_ngram_depth_is_a_tree_budget() -> None:
    spec = SpecSettings(method="ngram", draft_depth=7)
    note = SglangRecipe().spec_note(spec)
    assert note is not None and "tree budget" in note and "8 draft-tree tokens" in note
    assert describe_spec(SglangRecipe(), spec, GPU).endswith(f"# {note}")
    assert (
        SglangRecipe().spec_note(SpecSettings(method="eagle3", draft_depth=3, draft_model="d"))
        is None
    )


def test_trtllm_errors() -> None:
    with pytest.raises(UserError, match="TensorRT-LLM has no spec method 'ngram-mod'"):
        TrtllmRecipe().files(SpecSettings(method="ngram-mod", draft_depth=2), TRT_SERVER)
    with pytest.raises(UserError, match="needs a draft model"):
        TrtllmRecipe().files(SpecSettings(method="eagle3", draft_depth=2), TRT_SERVER)


# -- shared ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "method"),
    [("off", "none"), ("draft_model", "draft"), ("NEXTN", "mtp"), ("ngram_mod", "ngram-mod")],
)
def test_method_aliases(value: str, method: str) -> None:
    assert SpecSettings.model_validate({"method": value}).method == method


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "none", "draft_depth": 3}, "takes no g"),
        (
            {"method": "mtp", "draft_depth": 2, "synthetic_acceptance_length": 3.5},
            "exceeds g \\+ 1 = 3",
        ),
        ({"method": "medusa"}, "Input should be"),
        ({"method": "mtp", "draft_depth": 0}, "greater than or equal to 1"),
    ],
)
def test_spec_settings_validation(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        SpecSettings.model_validate(kwargs)


def test_spec_labels() -> None:
    assert SpecSettings().label == "none"
    assert (
        SpecSettings(method="mtp", draft_depth=3, synthetic_acceptance_length=2.5).label
        == "mtp-g3-al2.5"
    )


def test_describe_spec_for_provenance() -> None:
    spec = SpecSettings(method="mtp", draft_depth=3, synthetic_acceptance_length=2.5)
    assert describe_spec(VllmRecipe(), spec, GPU) == (
        '--speculative-config \'{"method": "mtp", "num_speculative_tokens": 3, '
        '"rejection_sample_method": "synthetic", "synthetic_acceptance_length": 2.5}\' '
        "--per-request-spec-decode-metrics summary"
    )
    assert describe_spec(SglangRecipe(), spec, GPU).endswith(
        "SGLANG_SIMULATE_ACC_LEN=2.5 SGLANG_SIMULATE_ACC_METHOD=match-expected "
        "SGLANG_SIMULATE_ACC_TOKEN_MODE=real-draft-token"
    )
    text = describe_spec(TrtllmRecipe(), SpecSettings(method="mtp", draft_depth=1), TRT_SERVER)
    assert text.startswith(f"{OPTIONS_FILE}:\nenable_iter_perf_stats: true\nspeculative_config:")


def test_command_needs_a_port() -> None:
    with pytest.raises(ValueError, match="port must be set"):
        VllmRecipe().command(SpecSettings(), ServerSettings(model="m"))


@pytest.mark.parametrize(
    ("name", "key", "cls"),
    [
        ("llama.cpp", "llamacpp", LlamaCppRecipe),
        ("vLLM", "vllm", VllmRecipe),
        ("sglang", "sglang", SglangRecipe),
        ("TensorRT-LLM", "trt", TrtllmRecipe),
        ("trtllm", "trt", TrtllmRecipe),
    ],
)
def test_registry(name: str, key: str, cls: type) -> None:
    recipe = get_recipe(name)
    assert engine_key(name) == key and recipe.name == key
    assert isinstance(recipe, cls) and isinstance(recipe, EngineRecipe)


def test_registry_unknown_engine() -> None:
    with pytest.raises(UserError, match="unknown engine 'tgi'; choose one of llamacpp, vllm"):
        get_recipe("tgi")
