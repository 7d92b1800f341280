"""Economics presets and the $/M-token and tok/s/MW formulas (reference §9–§10)."""

from __future__ import annotations

import pytest

from specscope.analysis.economics import (
    PRESETS,
    SEED_PRESET,
    hardware_key,
    list_presets,
    resolve_economics,
    tok_s_per_mw,
    usd_per_mtok,
)
from specscope.errors import UserError


@pytest.mark.parametrize(
    ("tok_s", "usd_per_hour", "expected"),
    [
        # B300, seed preset: 2.34 / (4729 × 3600) × 1e6 = 2.34e6 / 17 024 400 = 0.137450
        (4729.0, 2.34, 0.1374),
        # MI355X: 1.48e6 / (2232 × 3600) = 1.48e6 / 8 035 200 = 0.184190
        (2232.0, 1.48, 0.1842),
        # $3.60/h at 1000 tok/s: 3.6e6 / 3.6e6 = $1.00
        (1000.0, 3.60, 1.0),
    ],
)
def test_usd_per_mtok(tok_s: float, usd_per_hour: float, expected: float) -> None:
    assert round(usd_per_mtok(tok_s, usd_per_hour), 4) == expected


def test_usd_per_mtok_without_throughput_is_infinite() -> None:
    assert usd_per_mtok(0.0, 2.0) == float("inf")


def test_tok_s_per_mw_worked_check() -> None:
    # 4729 × 1000 / 2.17 = 2 179 262.67 → 2 179 263
    assert round(tok_s_per_mw(4729.0, 2.17)) == 2_179_263


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("B300", "b300"),
        ("mi355x-amds_0", "mi355x"),
        ("h100_0", "h100"),
        ("gb200-nv-multinode", "gb200"),
        ("cluster:b300-nv", "b300"),
        (" CPU ", "cpu"),
    ],
)
def test_hardware_key(raw: str, key: str) -> None:
    assert hardware_key(raw) == key


def test_seed_preset_reproduces_the_worked_check() -> None:
    econ = resolve_economics("b300-nv_0")
    assert econ.preset == SEED_PRESET
    assert (econ.usd_per_gpu_hour, econ.kw_per_gpu) == (2.34, 2.17)
    assert round(usd_per_mtok(4729.0, econ.usd_per_gpu_hour), 4) == 0.1374
    assert econ.power_source == "preset"
    assert econ.overridden == []


@pytest.mark.parametrize(
    ("hardware", "preset", "usd", "kw"),
    [
        ("h200", SEED_PRESET, 1.41, 1.73),
        ("mi355x", SEED_PRESET, 1.48, 2.65),
        ("gb300", SEED_PRESET, 2.652, 2.10),
        ("b300", f"{SEED_PRESET}-neocloud", 2.808, 2.17),
        ("h200", f"{SEED_PRESET}-rental", 1.60, 1.73),
        ("b300", "semianalysis-tco-2026-07", 2.26, 1.90),
        ("b300", "semianalysis-tco-2026-07-rental", 4.25, 1.90),
        ("rtx6000pro", "semianalysis-tco-2026-07", 0.68, 0.975),
        ("cpu", "cpu-nominal-2026-11", 0.10, 0.03),
    ],
)
def test_named_presets(hardware: str, preset: str, usd: float, kw: float) -> None:
    econ = resolve_economics(hardware, preset)
    assert (econ.preset, econ.usd_per_gpu_hour, econ.kw_per_gpu) == (preset, usd, kw)
    assert econ.date and econ.source


@pytest.mark.parametrize(
    ("hardware", "preset"),
    [
        ("h100", SEED_PRESET),  # the seed preset knows it
        ("cpu", "cpu-nominal-2026-11"),  # only the CPU preset knows it
        ("tpuv7", "semianalysis-tco-2026-07"),  # newest primary preset, never a variant
    ],
)
def test_auto_prefers_seed_then_newest(hardware: str, preset: str) -> None:
    assert resolve_economics(hardware).preset == preset


def test_one_override_keeps_the_other_value_from_the_preset() -> None:
    econ = resolve_economics("b200", usd_per_gpu_hour=3.0)
    assert (econ.preset, econ.usd_per_gpu_hour, econ.kw_per_gpu) == (SEED_PRESET, 3.0, 2.17)
    assert econ.overridden == ["usd_per_gpu_hour"]
    assert econ.power_source == "preset"
    econ = resolve_economics("b200", kw_per_gpu=1.5)
    assert (econ.usd_per_gpu_hour, econ.kw_per_gpu, econ.power_source) == (1.95, 1.5, "override")


def test_both_overrides_make_a_custom_preset_for_any_hardware() -> None:
    econ = resolve_economics("tpu-x9", usd_per_gpu_hour=1.1, kw_per_gpu=0.9)
    assert (econ.preset, econ.usd_per_gpu_hour, econ.kw_per_gpu) == ("custom", 1.1, 0.9)
    assert econ.overridden == ["usd_per_gpu_hour", "kw_per_gpu"]
    assert econ.power_source == "override"


@pytest.mark.parametrize(
    ("kwargs", "fragments"),
    [
        (
            {"hardware": "b300", "preset": "inferencex-2025"},
            ["unknown economics preset 'inferencex-2025'", SEED_PRESET, "--usd-per-gpu-hour"],
        ),
        (
            {"hardware": "a100"},
            ["'a100'", "h100", "cpu", "--usd-per-gpu-hour and --kw-per-gpu"],
        ),
        (
            {"hardware": "cpu", "preset": SEED_PRESET},
            ["has no hardware 'cpu'", "cpu-nominal-2026-11", "--kw-per-gpu"],
        ),
        (
            {"hardware": "a100", "usd_per_gpu_hour": 1.0},
            ["give --kw-per-gpu"],
        ),
        (
            {"hardware": "b300", "kw_per_gpu": -1.0},
            ["--kw-per-gpu must be a positive number"],
        ),
    ],
)
def test_user_errors_name_what_exists_and_the_flags(
    kwargs: dict[str, object], fragments: list[str]
) -> None:
    with pytest.raises(UserError) as caught:
        resolve_economics(**kwargs)  # type: ignore[arg-type]
    message = str(caught.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


def test_every_preset_is_named_dated_sourced_and_complete() -> None:
    presets = list_presets()
    assert {p.name for p in presets} == set(PRESETS)
    assert presets[0].name == "cpu-nominal-2026-11"  # newest first
    for preset in presets:
        assert preset.date and preset.source and preset.tier_description and preset.hardware
        assert preset.variant_of is None or preset.variant_of in PRESETS
    cpu = PRESETS["cpu-nominal-2026-11"]
    assert "nominal" in cpu.source and "--usd-per-gpu-hour" in cpu.source
