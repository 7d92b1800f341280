"""InferenceX record parsing: key normalisation, GPU counts (single and multi-node), power, and
one-line rejections."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from specscope.store.db import Store
from specscope.store.inferencex import Skipped, import_inferencex, read_records
from specscope.store.inferencex_keys import (
    InferenceXRecordError,
    engine_key,
    hardware_key,
    model_key,
    precision_key,
    spec_method_key,
)
from specscope.store.inferencex_record import parse_record, run_id_for


def record(**changes: Any) -> dict[str, Any]:
    """A single-node B300 MTP record as InferenceX writes it; a ``None`` change drops the key."""
    base: dict[str, Any] = {
        "hw": "b300-nv_0",
        "conc": 32,
        "image": "lmsysorg/sglang:v0.5.9-cu130",
        "model": "Qwen/Qwen3.5-397B-A17B",
        "infmax_model_prefix": "qwen3.5",
        "framework": "sglang",
        "precision": "fp4",
        "spec_decoding": "mtp",
        "disagg": False,
        "isl": 1024,
        "osl": 1024,
        "is_multinode": False,
        "tp": 4,
        "ep": 4,
        "dp_attention": "false",
        "tput_per_gpu": 4500.0,
        "output_tput_per_gpu": 2250.0,
        "input_tput_per_gpu": 2250.0,
        "mean_ttft": 0.28,
        "median_ttft": 0.26,
        "p90_ttft": 0.39,
        "p99_ttft": 0.52,
        "std_ttft": 0.07,
        "p99.9_ttft": 0.61,
        "mean_tpot": 0.0128,
        "median_tpot": 0.0125,
        "p90_tpot": 0.0138,
        "p99_tpot": 0.015,
        "mean_itl": 0.031,
        "median_itl": 0.03,
        "p90_itl": 0.04,
        "p99_itl": 0.05,
        "mean_e2el": 13.4,
        "median_e2el": 13.0,
        "p90_e2el": 14.5,
        "p99_e2el": 15.9,
        "median_intvty": 80.0,
        "mean_intvty": 78.125,
    }
    for key, value in changes.items():
        if value is None:
            base.pop(key, None)
        else:
            base[key] = value
    return base


# ---- key normalisation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("runner", "expected"),
    [
        ("mi355x-amds_0", "mi355x"),
        ("h200-nv", "h200"),
        ("b200-dgxc-slurm_3", "b200"),
        ("gb200-nv-multinode-slurm", "gb200"),
        ("gb200-nv-multinode-slurm_12", "gb200"),
        ("cluster:b300-nv", "b300"),
        ("h100_0", "h100"),
        ("H200-NV_1", "h200"),
        ("mi300x-amd", "mi300x"),
        ("b200-trt_2", "b200"),
        ("gb300-nv-disagg", "gb300"),
        ("mi325x-amds-p1", "mi325x"),  # not a listed suffix: the newer first-dash rule
        ("a100-nv_0", None),
        ("tpu", None),
        ("", None),
    ],
)
def test_hardware_key_from_runner_name(runner: str, expected: str | None) -> None:
    assert hardware_key(runner) == expected


@pytest.mark.parametrize(
    ("framework", "disagg", "expected"),
    [
        ("trtllm", None, ("trt", False)),
        ("TRTLLM", False, ("trt", False)),
        ("sglang-disagg", None, ("mori-sglang", True)),
        ("sglang-disagg", False, ("mori-sglang", True)),  # the alias fixes disagg
        ("atom-disagg", None, ("mooncake-atom", True)),
        ("dynamo-trtllm", None, ("dynamo-trt", True)),  # dynamo-* defaults to disaggregated
        ("dynamo-trtllm", False, ("dynamo-trt", False)),  # ...unless disagg says otherwise
        ("mori-sglang", False, ("mori-sglang", True)),  # mori-* always is
        ("vLLM", None, ("vllm", False)),
        ("sglang", True, ("sglang", True)),
    ],
)
def test_engine_key_aliases_and_disaggregation(
    framework: str, disagg: bool | None, expected: tuple[str, bool]
) -> None:
    assert engine_key(framework, disagg) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("nvfp4", "fp4"), ("MXFP4", "fp4"), ("fp4", "fp4"), ("fp8", "fp8"), ("BF16", "bf16")],
)
def test_precision_key(raw: str, expected: str) -> None:
    assert precision_key(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, "none"),
        ("", "none"),
        ("  ", "none"),
        ("none", "none"),
        ("MTP", "mtp"),
        ("eagle", "eagle"),
        ("draft_model", "draft"),  # one name with our own sweeps' draft-model runs
        ("off", "none"),
    ],
)
def test_spec_method_key(raw: str | None, expected: str) -> None:
    assert spec_method_key(raw) == expected


@pytest.mark.parametrize(
    ("prefix", "model", "expected"),
    [
        ("qwen3.5", None, "qwen3.5"),
        ("DSR1-FP8", None, "dsr1"),
        ("kimik2.5-nvfp4-v2", None, "kimik2.5"),
        ("gptoss", None, "gptoss120b"),
        ("gptoss-fp4", None, "gptoss120b"),
        ("dsv4pro", "ignored/Because-Prefix-Wins", "dsv4"),
        (None, "deepseek-ai/DeepSeek-R1-0528", "dsr1"),
        (None, "Qwen/Qwen3.5-397B-A17B-FP8", "qwen3.5"),
        (None, "zai-org/GLM-5-FP8", "glm5"),
        (None, "amd/GLM-5.1-MXFP4", "glm5.1"),
        (None, "openai/gpt-oss-120b", "gptoss120b"),
        (None, "/models/Llama-3.3-70B-Instruct-FP8/", "llama70b"),
        (None, "some-org/My-Model-7B", "my-model-7b"),  # unknown: kept, lowercased
    ],
)
def test_model_key(prefix: str | None, model: str | None, expected: str) -> None:
    assert model_key(prefix, model) == expected


def test_model_key_needs_prefix_or_model() -> None:
    with pytest.raises(InferenceXRecordError, match="neither 'infmax_model_prefix' nor 'model'"):
        model_key(None, "  ")


# ---- one record → one Point --------------------------------------------------------------------


def test_parse_record_maps_every_field() -> None:
    p = parse_record(record(), "results/agg_x.json")
    c = p.config
    assert (c.hardware, c.model, c.precision, c.engine, c.spec_method) == (
        "b300",
        "qwen3.5",
        "fp4",
        "sglang",
        "mtp",
    )
    assert c.draft_depth is None  # InferenceX does not record g
    assert (c.isl, c.osl, c.concurrency) == (1024, 1024, 32)
    assert (c.tp, c.pp, c.ep, c.dp_attention, c.disaggregated) == (4, None, 4, False, False)
    assert (c.n_gpus, c.n_decode_gpus) == (4, None)  # tp·pp·pcp = 4·1·1
    assert p.throughput_per_gpu == 4500.0
    assert p.output_throughput_per_gpu == 2250.0
    assert p.input_throughput_per_gpu == 2250.0
    assert p.interactivity == 80.0
    assert (p.ttft.mean_s, p.ttft.median_s, p.ttft.p90_s, p.ttft.p99_s) == (0.28, 0.26, 0.39, 0.52)
    assert p.tpot.median_s == 0.0125
    assert (p.itl.p90_s, p.e2el.p99_s) == (0.04, 15.9)
    assert p.acceptance is None
    assert p.power_w_per_gpu is None
    prov = p.provenance
    assert (prov.source, prov.source_file, prov.power_source) == (
        "inferencex",
        "results/agg_x.json",
        "preset",
    )
    assert prov.engine_version == "lmsysorg/sglang:v0.5.9-cu130"
    # Unknown keys and the raw values of normalised keys are kept; mapped numbers are not.
    assert prov.extra["std_ttft"] == 0.07
    assert prov.extra["p99.9_ttft"] == 0.61
    assert prov.extra["mean_intvty"] == 78.125
    assert prov.extra["model"] == "Qwen/Qwen3.5-397B-A17B"
    assert prov.extra["hw"] == "b300-nv_0"
    for mapped in ("tput_per_gpu", "median_tpot", "conc", "isl", "median_intvty"):
        assert mapped not in prov.extra


def test_spec_absent_null_or_empty_is_off_with_depth_zero() -> None:
    for spec in (None, "", "none"):
        changes: dict[str, Any] = {"spec_decoding": spec} if spec is not None else {}
        raw = record(**changes)
        if spec is None:
            raw.pop("spec_decoding")
        p = parse_record(raw, "f.json")
        assert (p.config.spec_method, p.config.draft_depth) == ("none", 0)
    explicit_null = record()
    explicit_null["spec_decoding"] = None
    assert parse_record(explicit_null, "f.json").config.spec_method == "none"


def test_oldest_artifacts_mark_mtp_with_an_mtp_key() -> None:
    raw = record(spec_decoding=None, mtp="on")
    assert parse_record(raw, "f.json").config.spec_method == "mtp"


def test_draft_depth_is_taken_when_a_key_gives_it() -> None:
    assert parse_record(record(num_speculative_tokens=3), "f.json").config.draft_depth == 3


def test_interactivity_falls_back_to_one_over_median_tpot() -> None:
    # 1 / 0.0125 s = 80 tok/s/user
    p = parse_record(record(median_intvty=None), "f.json")
    assert p.interactivity == pytest.approx(80.0, rel=1e-12)


@pytest.mark.parametrize(
    ("changes", "n_gpus", "n_decode", "disaggregated"),
    [
        ({"tp": 8, "pp": 2, "pcp_size": 2}, 32, None, False),  # tp·pp·pcp
        ({"tp": 8, "dcp_size": 8}, 8, None, False),  # DCP reuses the TP GPUs
        ({"num_gpus": 16}, 16, None, False),
        (  # disaggregated: prefill + decode GPUs, output per decode GPU
            {
                "framework": "sglang-disagg",
                "disagg": True,
                "is_multinode": True,
                "tp": None,
                "ep": None,
                "dp_attention": None,
                "prefill_tp": 4,
                "prefill_ep": 4,
                "prefill_num_workers": 2,
                "decode_tp": 16,
                "decode_ep": 16,
                "decode_dp_attention": "true",
                "decode_num_workers": 1,
                "num_prefill_gpu": 8,
                "num_decode_gpu": 16,
            },
            24,
            16,
            True,
        ),
        (  # dynamo defaults to disaggregated
            {
                "framework": "dynamo-sglang",
                "disagg": None,
                "num_prefill_gpu": 4,
                "num_decode_gpu": 8,
            },
            12,
            8,
            True,
        ),
    ],
)
def test_gpu_counts(
    changes: dict[str, Any], n_gpus: int, n_decode: int | None, disaggregated: bool
) -> None:
    raw = record()
    for key, value in changes.items():
        if value is None:
            raw.pop(key, None)
        else:
            raw[key] = value
    c = parse_record(raw, "f.json").config
    assert (c.n_gpus, c.n_decode_gpus, c.disaggregated) == (n_gpus, n_decode, disaggregated)


def multinode(**changes: Any) -> dict[str, Any]:
    """A multi-node record as the runner's utils/process_result.py writes it (no ``tp``): its
    test fixture's GB200 dynamo-trt 5 prefill workers × TP4 (20 GPUs) + 1 decode worker × TP8
    (8 GPUs), with total 56 000 and output 24 000 tok/s: tput_per_gpu = 56000 / (20 + 8) =
    2000, output_tput_per_gpu = 24000 / 8 = 3000, input_tput_per_gpu = 32000 / 20 = 1600."""
    raw = record(
        hw="gb200-nv-multinode-slurm_3",
        framework="dynamo-trt",
        disagg=True,
        is_multinode=True,
        tp=None,
        ep=None,
        dp_attention=None,
        prefill_tp=4,
        prefill_pp=1,
        prefill_ep=4,
        prefill_dp_attention="true",
        prefill_num_workers=5,
        decode_tp=8,
        decode_pp=1,
        decode_ep=8,
        decode_dp_attention="true",
        decode_num_workers=1,
        num_prefill_gpu=20,
        num_decode_gpu=8,
        tput_per_gpu=2000.0,
        output_tput_per_gpu=3000.0,
        input_tput_per_gpu=1600.0,
    )
    for key, value in changes.items():
        if value is None:
            raw.pop(key, None)
        else:
            raw[key] = value
    return raw


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        # (n_gpus, n_decode_gpus, disaggregated, tp, ep, dp_attention)
        ({}, (28, 8, True, 8, 8, True)),  # P + D; output per decode GPU; decode topology
        (  # GPU counts from workers × TP × PP × PCP when the counts are absent: 5·4 + 1·8
            {"num_prefill_gpu": None, "num_decode_gpu": None},
            (28, 8, True, 8, 8, True),
        ),
        (  # ... with pipeline and context parallel: 2·4·2·1 + 1·8·1·2 = 16 + 16
            {
                "num_prefill_gpu": None,
                "num_decode_gpu": None,
                "prefill_num_workers": 2,
                "prefill_pp": 2,
                "decode_pcp_size": 2,
            },
            (32, 16, True, 8, 8, True),
        ),
        (  # multi-node aggregated (runner #1256): all GPUs are "prefill", decode_tp 0,
            # output over all 8 GPUs; old code: "required key 'tp' is missing"
            {
                "framework": "vllm",
                "disagg": False,
                "num_prefill_gpu": 8,
                "num_decode_gpu": 0,
                "prefill_tp": 8,
                "prefill_ep": 1,
                "prefill_dp_attention": "false",
                "prefill_num_workers": 1,
                "decode_tp": 0,
                "decode_ep": 0,
                "decode_num_workers": 0,
            },
            (8, None, False, 8, 1, False),
        ),
        (  # is_multinode as text, and no disagg key (vllm defaults to aggregated)
            {
                "framework": "vllm",
                "disagg": None,
                "is_multinode": "true",
                "num_prefill_gpu": 16,
                "num_decode_gpu": 0,
                "decode_tp": 0,
            },
            (16, None, False, 4, 4, True),
        ),
    ],
)
def test_multinode_gpu_counts_and_topology(
    changes: dict[str, Any], expected: tuple[int, int | None, bool, int, int, bool]
) -> None:
    p = parse_record(multinode(**changes), "agg_gb200.json")
    c = p.config
    assert (c.n_gpus, c.n_decode_gpus, c.disaggregated, c.tp, c.ep, c.dp_attention) == expected
    assert c.hardware == "gb200"
    # the record's per-GPU numbers are InferenceX's own, kept as they are
    assert (p.throughput_per_gpu, p.output_throughput_per_gpu) == (2000.0, 3000.0)


def test_multinode_power_is_divided_over_prefill_and_decode_gpus() -> None:
    # 28 000 W over 20 + 8 GPUs → 1000 W per GPU
    p = parse_record(multinode(power_valid=1, avg_total_gpu_power_w=28000.0), "f.json")
    assert p.power_w_per_gpu == 1000.0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"num_prefill_gpu": None, "prefill_num_workers": None},
            "disaggregated record without 'num_prefill_gpu' (nor 'prefill_num_workers' and "
            "'prefill_tp' to count its GPUs)",
        ),
        (
            {"disagg": False, "framework": "vllm", "num_decode_gpu": None, "decode_tp": None},
            "multi-node record without 'num_decode_gpu'",
        ),
        (
            {"num_prefill_gpu": 0, "num_decode_gpu": 0},
            "disaggregated record with no GPUs ('num_prefill_gpu' + 'num_decode_gpu' = 0)",
        ),
        ({"num_decode_gpu": "8"}, "'num_decode_gpu' must be a number, got \"8\""),
        ({"decode_tp": 8.5}, "'decode_tp' must be a whole number, got 8.5"),
    ],
)
def test_malformed_multinode_records_raise_one_line(
    changes: dict[str, Any], message: str, tmp_path: Path
) -> None:
    with pytest.raises(InferenceXRecordError) as info:
        parse_record(multinode(**changes), "f.json", 2)
    assert message in str(info.value)
    assert "\n" not in str(info.value)
    # on import: one line naming the file and the record, the good record still imported
    path = tmp_path / "agg_bmk.json"
    path.write_text(json.dumps([multinode(conc=8), multinode(conc=4, **changes)]))
    with Store.open(":memory:") as store:
        report = import_inferencex(store, [path])
        assert store.count() == 1
    (skipped,) = report.skipped
    assert skipped.describe() == f"{path} (record 1): {info.value}"


def test_disaggregated_topology_comes_from_the_decode_side() -> None:
    raw = record(
        framework="sglang-disagg",
        tp=None,
        ep=None,
        dp_attention=None,
        decode_tp=16,
        decode_ep=16,
        decode_dp_attention="true",
        num_prefill_gpu=8,
        num_decode_gpu=16,
    )
    c = parse_record(raw, "f.json").config
    assert (c.tp, c.ep, c.dp_attention) == (16, 16, True)


def test_power_only_when_valid() -> None:
    valid = parse_record(record(power_valid=1, avg_power_w=850.0), "f.json")
    assert (valid.power_w_per_gpu, valid.provenance.power_source) == (850.0, "measured")
    # Only the deployment total: 3400 W over tp·pp·pcp = 4 GPUs → 850 W per GPU.
    total = parse_record(record(power_valid=True, avg_total_gpu_power_w=3400.0), "f.json")
    assert total.power_w_per_gpu == 850.0
    invalid = parse_record(record(power_valid=0, avg_power_w=850.0), "f.json")
    assert (invalid.power_w_per_gpu, invalid.provenance.power_source) == (None, "preset")
    legacy = parse_record(record(avg_power_w=850.0), "f.json")  # no verdict: not trusted
    assert legacy.power_w_per_gpu is None
    assert legacy.provenance.extra["avg_power_w"] == 850.0
    broken = parse_record(record(power_valid=1, avg_power_w="n/a"), "f.json")
    assert broken.power_w_per_gpu is None  # bad power voids the reading, not the record


def test_date_image_and_example_marker() -> None:
    p = parse_record(
        record(date="2026-04-01", image="lmsysorg#sglang:v0.5.9", specscope_example=True), "e.json"
    )
    assert p.provenance.date == "2026-04-01"
    assert p.provenance.engine_version == "lmsysorg/sglang:v0.5.9"  # '#' encodes '/'
    assert p.provenance.source == "example"


def test_sequence_from_the_file_name_when_isl_osl_are_absent() -> None:
    raw = record(isl=None, osl=None)
    p = parse_record(raw, "bmk/agg_dsr1_8k1k_fp8_sglang_tp8_conc4_h200-nv_0.json")
    assert (p.config.isl, p.config.osl) == (8192, 1024)
    with pytest.raises(InferenceXRecordError, match="required key 'isl' is missing"):
        parse_record(raw, "agg_plain.json")


def test_run_id_is_shared_across_conc_and_changes_with_identity() -> None:
    a = parse_record(record(conc=8), "a.json")
    b = parse_record(record(conc=64), "b.json")
    assert a.run_id == b.run_id
    assert a.point_id != b.point_id
    assert parse_record(record(), "a.json").point_id == parse_record(record(), "z.json").point_id
    assert run_id_for(record(image="other:tag")) != run_id_for(record())
    assert run_id_for(record(date="2026-05-01")) != run_id_for(record())
    assert run_id_for(record(tput_per_gpu=1.0)) == run_id_for(record())  # numbers are not identity


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tput_per_gpu": None}, "required key 'tput_per_gpu' is missing"),
        ({"tput_per_gpu": "4500.0"}, "'tput_per_gpu' must be a number, got \"4500.0\""),
        ({"tput_per_gpu": -1.0}, "'tput_per_gpu' must not be negative, got -1.0"),
        ({"tput_per_gpu": True}, "'tput_per_gpu' must be a number, got true"),
        ({"tput_per_gpu": math.nan}, "'tput_per_gpu' must be a finite number"),
        ({"median_intvty": None, "median_tpot": None}, "neither 'median_intvty' nor 'median_tpot'"),
        ({"median_intvty": None, "median_tpot": 0}, "'median_tpot' must be positive"),
        ({"median_intvty": "fast"}, "'median_intvty' must be a number"),
        ({"mean_ttft": "0.2"}, "'mean_ttft' must be a number"),
        ({"isl": 1024.5}, "'isl' must be a whole number, got 1024.5"),
        ({"isl": 2**31}, "'isl' is too large, got 2147483648"),
        ({"tput_per_gpu": 10**400}, "'tput_per_gpu' must be a finite number"),
        ({"conc": None}, "required key 'conc' is missing"),
        ({"conc": 0}, "'conc' must be at least 1"),
        ({"hw": None}, "required key 'hw' is missing"),
        ({"hw": "a100-nv_0"}, "unknown hardware 'a100-nv_0'; known: b200, b300"),
        ({"framework": None}, "required key 'framework' is missing"),
        ({"framework": 7}, "'framework' must be text, got 7"),
        ({"dp_attention": "maybe"}, "'dp_attention' must be true or false"),
        ({"tp": None}, "required key 'tp' is missing (needed for the GPU count)"),
        ({"disagg": True, "num_prefill_gpu": 4}, "disaggregated record without 'num_decode_gpu'"),
        ({"num_requests_successful": 0}, "no request succeeded"),
        ({"benchmark_outcome": {"status": "failed"}}, "the benchmark failed"),
    ],
)
def test_bad_records_raise_one_line(changes: dict[str, Any], message: str) -> None:
    raw = record()
    for key, value in changes.items():
        if value is None:
            raw.pop(key, None)
        else:
            raw[key] = value
    with pytest.raises(InferenceXRecordError) as info:
        parse_record(raw, "f.json", 0)
    text = str(info.value)
    assert message in text
    assert "\n" not in text


def test_a_record_must_be_an_object() -> None:
    with pytest.raises(InferenceXRecordError, match="must be a JSON object, got \\[1, 2\\]"):
        parse_record([1, 2], "f.json", 3)


# ---- files -------------------------------------------------------------------------------------


def test_read_records_object_array_and_broken(tmp_path: Path) -> None:
    single = tmp_path / "one.json"
    single.write_text(json.dumps(record()))
    assert read_records(single) == ([(None, record())], None)
    array = tmp_path / "many.json"
    array.write_text(json.dumps([record(conc=1), record(conc=2)]))
    records, problem = read_records(array)
    assert problem is None
    assert [(i, r["conc"]) for i, r in records] == [(0, 1), (1, 2)]  # type: ignore[index]
    bad = tmp_path / "bad.json"
    bad.write_text('{"hw": ')
    records, problem = read_records(bad)
    assert records == []
    assert problem is not None
    assert problem.describe().startswith(f"{bad}: not valid JSON (line 1 column 8")
    scalar = tmp_path / "scalar.json"
    scalar.write_text("3.5")
    assert read_records(scalar)[1] == Skipped(
        file=str(scalar), reason="expected a JSON object or an array of objects, got 3.5"
    )


def test_skipped_describe_names_file_and_record() -> None:
    assert Skipped(file="a.json", index=3, reason="bad").describe() == "a.json (record 3): bad"
    assert Skipped(file="a.json", reason="bad").describe() == "a.json: bad"
