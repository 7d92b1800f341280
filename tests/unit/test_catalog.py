"""Hardware and model catalogs: shipped content, sources, user overrides, bad files, the probe."""

from __future__ import annotations

from pathlib import Path

import pytest

from specscope.catalog import load_catalog, probe
from specscope.catalog.entries import HARDWARE_NUMBERS, MODEL_NUMBERS, normalise_entry
from specscope.errors import UserError

HARDWARE_KEYS = [
    "h100", "h200", "b200", "b300", "gb200", "gb300",
    "mi300x", "mi325x", "mi355x", "rtx3090", "strix-halo",
]  # fmt: skip
MODEL_KEYS = [
    "qwen3.5-397b-a17b", "qwen3.6-35b-a3b", "deepseek-v3", "deepseek-r1", "deepseek-v4-pro",
    "glm-5", "llama-3.1-70b", "llama-3.1-8b", "gemma-3-270m",
]  # fmt: skip


def write(tmp_path: Path, text: str, name: str = "user.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_catalog_has_every_required_key() -> None:
    cat = load_catalog()
    assert set(HARDWARE_KEYS) <= set(cat.hardware)
    assert set(MODEL_KEYS) <= set(cat.models)


@pytest.mark.parametrize("kind", ["hardware", "models"])
def test_every_shipped_number_has_a_source_url_and_a_date(kind: str) -> None:
    cat = load_catalog()
    entries = cat.hardware if kind == "hardware" else cat.models
    numbers = HARDWARE_NUMBERS if kind == "hardware" else MODEL_NUMBERS
    for key, spec in entries.items():
        for field in numbers:
            if field not in spec.model_fields_set:
                continue
            ref = spec.sources.get(field)
            assert ref is not None, f"{key}.{field} has no source"
            assert ref.urls and all(u.startswith("https://") for u in ref.urls), (key, field)
            assert len(ref.date) == 10 and ref.date[4] == "-", (key, field, ref.date)


@pytest.mark.parametrize(
    ("key", "memory_gb", "bandwidth_tb_s", "bf16", "kw"),
    [
        ("h100", 80, 3.35, 989, 1.73),
        ("h200", 141, 4.8, 989, 1.73),
        ("b300", 288, 8.0, 2250, 2.17),
        ("mi355x", 288, 8.0, 2500, 2.65),
        ("rtx3090", 24, 0.936, 71, None),
    ],
)
def test_hardware_numbers_match_the_reference(
    key: str, memory_gb: float, bandwidth_tb_s: float, bf16: float, kw: float | None
) -> None:
    hw = load_catalog().hardware_spec(key)
    assert (hw.memory_gb, hw.bandwidth_tb_s, hw.bf16_tflops, hw.kw_per_gpu_all_in) == (
        memory_gb,
        bandwidth_tb_s,
        bf16,
        kw,
    )


@pytest.mark.parametrize(
    ("alias", "key"),
    [
        ("H100", "h100"),
        ("Qwen/Qwen3.5-397B-A17B", "qwen3.5-397b-a17b"),
        ("dsr1", "deepseek-r1"),
        ("strix_halo", "strix-halo"),
        ("google/gemma-3-270m", "gemma-3-270m"),
    ],
)
def test_aliases_resolve(alias: str, key: str) -> None:
    cat = load_catalog()
    resolved = cat.model_spec(alias).key if key in cat.models else cat.hardware_spec(alias).key
    assert resolved == key


def test_shipped_files_reject_an_unsourced_number(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"hardware\.x\.memory_gb: shipped catalog numbers need"):
        normalise_entry("hardware", "x", {"memory_gb": 80}, tmp_path / "h.toml", True, "2026-01-01")


def test_unknown_keys_list_the_known_ones() -> None:
    cat = load_catalog()
    with pytest.raises(UserError, match=r"unknown hardware 'h900'; known: .*h100.*--catalog"):
        cat.hardware_spec("h900")
    with pytest.raises(UserError, match=r"unknown model 'gpt-9'; known: .*llama-3.1-8b"):
        cat.model_spec("gpt-9")


def test_fp4_falls_back_to_fp8_on_hopper() -> None:
    hw = load_catalog().hardware_spec("h100")
    assert hw.rate_for_weights("fp4") == (1979.0, "fp8")
    assert hw.rate_for_weights("q4_k_m") == (989.0, "bf16")


def test_kv_bytes_per_token_worked() -> None:
    cat = load_catalog()
    # DeepSeek-V3 MLA, BF16: (512 + 64) × 61 × 2 = 70272 bytes per token
    assert cat.model_spec("deepseek-v3").kv_elements_per_layer * 61 * 2 == 70272
    # Qwen3.5-397B: 2 × 2 KV heads × 256 × 15 attention layers = 15360 elements per token
    qwen = cat.model_spec("qwen3.5-397b-a17b")
    assert qwen.kv_elements_per_layer * qwen.attn_layers == 15360


def test_deepseek_mtp_head_uses_the_sourced_sizes() -> None:
    head = load_catalog().model_spec("deepseek-v3").mtp_head()
    assert (head.params_total, head.params_active, head.n_layers) == (12.4e9, 1.5e9, 1)
    assert head.notes == ""


def test_user_file_overrides_one_field_and_is_credited(tmp_path: Path) -> None:
    path = write(tmp_path, "[hardware.h100]\nbandwidth_tb_s = 3.0\n")
    hw = load_catalog([path]).hardware_spec("h100")
    assert hw.bandwidth_tb_s == 3.0
    assert hw.memory_gb == 80  # untouched
    assert hw.sources["bandwidth_tb_s"].urls == [f"user catalog file {path}"]
    assert hw.sources["memory_gb"].urls[0].startswith("https://glennklockwood.com")


def test_user_file_adds_an_entry(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[hardware.mycard]
name = "My card"
source = "https://example.com/mycard"
date = "2026-01-01"
memory_gb = 48
bandwidth_tb_s = 1.0
bf16_tflops = { value = 200, note = "dense" }
""",
    )
    hw = load_catalog([path]).hardware_spec("mycard")
    assert (hw.memory_gb, hw.bf16_tflops) == (48, 200)
    assert hw.sources["bf16_tflops"].urls == ["https://example.com/mycard"]
    assert hw.sources["bf16_tflops"].note == "dense"


MLA_WITHOUT_LATENT = """
[models.tiny]
params_total = 1e9
params_active = 1e9
n_layers = 2
attention = "mla"
n_heads = 4
"""


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("[hardware.h100\nmemory_gb = 1", r"user\.toml: invalid TOML"),
        (
            '[hardware.h100]\nbandwidth_tb_s = "fast"',
            r"hardware\.h100\.bandwidth_tb_s: must be a number",
        ),
        ("[hardware.h100]\nspeed = 3", r"hardware\.h100: unknown field 'speed'"),
        (
            "[hardware.h100]\nbandwidth_tb_s = -1",
            r"hardware\.h100\.bandwidth_tb_s: .*greater than 0",
        ),
        (
            "[hardware.newcard]\nbandwidth_tb_s = 1.0\nbf16_tflops = 5",
            r"hardware\.newcard\.memory_gb: .*required",
        ),
        (MLA_WITHOUT_LATENT, r"models\.tiny: attention 'mla' needs kv_lora_rank, qk_rope_head_dim"),
        ("[gpus.h100]\nmemory_gb = 1", r"unknown top-level table 'gpus'"),
        ('[hardware.h100]\nmemory_gb = { source = "https://x" }', r"memory_gb: missing 'value'"),
    ],
)
def test_bad_user_file_is_one_clear_line(tmp_path: Path, text: str, pattern: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(UserError, match=pattern) as info:
        load_catalog([path])
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message


def test_missing_user_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"nope\.toml: file not found"):
        load_catalog([tmp_path / "nope.toml"])


# --- the cpu entry -------------------------------------------------------------------------


FAKE = probe.ProbeResult(
    cpu_name="Fake CPU",
    n_cpus=2,
    numpy_version="0",
    copy_gb_s=20.0,
    matmul_gflops=50.0,
    memory_gb=16.0,
    measured_at="2026-11-22T00:00:00+00:00",
    duration_s=0.5,
)


def test_probe_cache_is_written_once_and_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []

    def fake_run() -> probe.ProbeResult:
        calls.append(1)
        return FAKE

    monkeypatch.setattr(probe, "run_probe", fake_run)
    monkeypatch.setattr(
        probe, "_fingerprint", lambda: {"cpu_name": "Fake CPU", "n_cpus": 2, "numpy_version": "0"}
    )
    first = probe.cached_probe(tmp_path)
    second = probe.cached_probe(tmp_path)
    assert first == second == FAKE
    assert len(calls) == 1
    assert (tmp_path / probe.PROBE_FILE).exists()
    probe.cached_probe(tmp_path, refresh=True)
    assert len(calls) == 2


def test_cpu_entry_from_probe_and_user_override(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(probe, "cached_probe", lambda cache_dir=None, refresh=False: FAKE)
    hw = load_catalog().hardware_spec("cpu")
    # 20 GB/s copy → 0.02 TB/s; 50 GFLOP/s float32 → 0.05 TFLOP/s
    assert (hw.bandwidth_tb_s, hw.fp32_tflops, hw.memory_gb, hw.measured) == (
        0.02,
        0.05,
        16.0,
        True,
    )
    assert hw.rate_for_weights("q4_k_m") == (0.05, "fp32")
    path = write(tmp_path, "[hardware.cpu]\nbandwidth_tb_s = 0.03\n")
    pinned = load_catalog([path]).hardware_spec("cpu")
    assert (pinned.bandwidth_tb_s, pinned.fp32_tflops) == (0.03, 0.05)


def test_real_probe_measures_positive_rates() -> None:
    copy = probe.measure_copy_gb_s(n_bytes=4 * 2**20, repeats=2)
    gflops = probe.measure_matmul_gflops(n=128, repeats=2)
    assert copy > 0.1
    assert gflops > 0.1
