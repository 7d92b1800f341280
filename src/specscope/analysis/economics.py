"""Price and power presets, and the two formulas that turn throughput into money and power.

Every number comes from a named, dated preset with its source (reference §10). A preset holds
one price tier; other tiers of the same source are separate presets named with a suffix:

- ``inferencex-2026-04`` — InferenceX dashboard, April 2026, tier ``costh`` (Owning –
  Hyperscaler). Reproduces the published MTP-vs-Off pages. Variants: ``-neocloud`` (``costn``)
  and ``-rental`` (``costr``).
- ``semianalysis-tco-2026-07`` — SemiAnalysis AI Cloud TCO model, mid-2026 all-in kW and
  ``costh``. Variant ``-rental``: the July 2026 ``costr``.
- ``cpu-nominal-2026-11`` — a nominal small 2-core cloud VM for hardware ``cpu`` (the demo box).

``preset="auto"`` takes the seed preset when it knows the hardware, else the newest primary
(non-variant) preset that does. Hardware is looked up by its catalog key (the list of keys and
aliases is ``data/catalog/hardware.toml``, :mod:`specscope.hardware_keys`): the whole name when
it is a key or alias, else its base token, the text before the first ``_`` or ``-``
(``mi355x-amds_0`` → ``mi355x``). Every preset's hardware is a key of that file (checked on
import); the prices and powers, with their sources, are here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

from specscope.analysis.results import Economics
from specscope.errors import UserError
from specscope.hardware_keys import canonical_hardware, check_hardware_keys

__all__ = [
    "AUTO",
    "PRESETS",
    "SEED_PRESET",
    "HardwareEconomics",
    "Preset",
    "hardware_key",
    "list_presets",
    "resolve_economics",
    "tok_s_per_mw",
    "usd_per_mtok",
]

AUTO = "auto"
SEED_PRESET = "inferencex-2026-04"
OVERRIDE_FLAGS = "--usd-per-gpu-hour and --kw-per-gpu"


def usd_per_mtok(tok_s_per_gpu: float, usd_per_gpu_hour: float) -> float:
    """$ per million tokens = ($/GPU-hour) / (tok/s/GPU × 3600) × 1e6; inf when throughput ≤ 0."""
    if tok_s_per_gpu <= 0:
        return math.inf
    return usd_per_gpu_hour / (tok_s_per_gpu * 3600.0) * 1e6


def tok_s_per_mw(tok_s_per_gpu: float, kw_per_gpu: float) -> float:
    """Tokens/s per megawatt of all-in power = tok/s/GPU × 1000 / (kW per GPU)."""
    return tok_s_per_gpu * 1000.0 / kw_per_gpu


class HardwareEconomics(BaseModel):
    """Price and all-in power of one accelerator (or one CPU box) in a preset."""

    model_config = ConfigDict(frozen=True)

    usd_per_gpu_hour: float = Field(gt=0)
    kw_per_gpu: float = Field(gt=0)


class Preset(BaseModel):
    """A named, dated set of prices and powers from one source, at one price tier."""

    model_config = ConfigDict(frozen=True)

    name: str
    date: str
    source: str
    tier: str
    """Price tier key as the source names it (``costh``, ``costn``, ``costr``) or ``nominal``."""
    tier_description: str
    hardware: dict[str, HardwareEconomics]
    variant_of: str | None = None
    """The primary preset this one is a price-tier variant of; ``auto`` never picks variants."""
    note: str = ""


def _table(kw: Mapping[str, float], usd: Mapping[str, float]) -> dict[str, HardwareEconomics]:
    return {
        gpu: HardwareEconomics(usd_per_gpu_hour=usd[gpu], kw_per_gpu=kw[gpu])
        for gpu in usd  # prices drive the list; every priced GPU has a kW
    }


# --- InferenceX dashboard, April 2026 --------------------------------------------------------
_IX_SOURCE = (
    "SemiAnalysis InferenceX dashboard GPU_SPECS, InferenceX-app "
    "packages/app/src/lib/constants.ts @77ca49a (2026-04-03); used by the published "
    "compare-spec-decode pages"
)
_IX_NOTE = "B300/GB300 prices are the source's provisional 1.2x of B200/GB200."
_IX_KW = {
    "h100": 1.73,
    "h200": 1.73,
    "b200": 2.17,
    "b300": 2.17,
    "gb200": 2.10,
    "gb300": 2.10,
    "mi300x": 1.79,
    "mi325x": 2.18,
    "mi355x": 2.65,
}
_IX_COSTH = {
    "h100": 1.30,
    "h200": 1.41,
    "b200": 1.95,
    "b300": 2.34,
    "gb200": 2.21,
    "gb300": 2.652,
    "mi300x": 1.12,
    "mi325x": 1.28,
    "mi355x": 1.48,
}
_IX_COSTN = {
    "h100": 1.69,
    "h200": 1.74,
    "b200": 2.34,
    "b300": 2.808,
    "gb200": 2.75,
    "gb300": 3.30,
    "mi300x": 1.40,
    "mi325x": 1.59,
    "mi355x": 1.90,
}
_IX_COSTR = {
    "h100": 1.30,
    "h200": 1.60,
    "b200": 2.90,
    "b300": 3.48,
    "gb200": 3.30,
    "gb300": 3.96,
    "mi300x": 1.55,
    "mi325x": 1.80,
    "mi355x": 2.10,
}

# --- SemiAnalysis AI Cloud TCO model, mid-2026 -----------------------------------------------
_TCO_SOURCE = (
    "SemiAnalysis Market July 2026 Pricing Surveys & AI Cloud TCO Model, "
    "https://semianalysis.com/ai-cloud-tco-model/ (as carried by InferenceX-app "
    "packages/constants/src/gpu-keys.ts and tco.ts); kW = 'All-In (W)' of the chip sheet"
)
_TCO_KW = {
    "h100": 1.37,
    "h200": 1.37,
    "b200": 1.71,
    "b300": 1.90,
    "gb200": 1.87,
    "gb300": 2.12,
    "mi300x": 1.39,
    "mi325x": 1.69,
    "mi355x": 2.09,
    "rtx6000pro": 0.975,
    "vr200": 3.3,
    "tpuv7": 1.207,
    "jalapeno": 1.125,
}
_TCO_COSTH = {
    "h100": 1.17,
    "h200": 1.22,
    "b200": 1.73,
    "b300": 2.26,
    "gb200": 1.86,
    "gb300": 2.31,
    "mi300x": 0.95,
    "mi325x": 1.10,
    "mi355x": 1.50,
    "rtx6000pro": 0.68,
    "vr200": 3.61,
    "tpuv7": 1.21,
    "jalapeno": 1.47,
}
_TCO_COSTR_JULY = {
    "h100": 2.0,
    "h200": 2.9,
    "b200": 3.7,
    "b300": 4.25,
    "gb200": 4.0,
    "gb300": 5.0,
    "mi300x": 1.3,
    "mi325x": 1.6,
    "mi355x": 2.9,
    "rtx6000pro": 0.52,
    "vr200": 3.61,
    "tpuv7": 2.0,
    "jalapeno": 1.79,
}

# --- Nominal CPU box --------------------------------------------------------------------------
_CPU_SOURCE = "nominal, specscope; override with --usd-per-gpu-hour/--kw-per-gpu"
_CPU_NOTE = (
    "Round numbers, not a quote: $0.10/h is about the on-demand price of a 2 vCPU / 8 GiB "
    "general-purpose cloud VM in late 2026; 0.03 kW is a 2-core share of a dual-socket "
    "server's wall power including facility overhead. 'per GPU' means per box here."
)

PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            name=SEED_PRESET,
            date="2026-04-03",
            source=_IX_SOURCE,
            tier="costh",
            tier_description="Owning – Hyperscaler",
            hardware=_table(_IX_KW, _IX_COSTH),
            note=_IX_NOTE,
        ),
        Preset(
            name=f"{SEED_PRESET}-neocloud",
            date="2026-04-03",
            source=_IX_SOURCE,
            tier="costn",
            tier_description="Owning – Neocloud Giant",
            hardware=_table(_IX_KW, _IX_COSTN),
            variant_of=SEED_PRESET,
            note=_IX_NOTE,
        ),
        Preset(
            name=f"{SEED_PRESET}-rental",
            date="2026-04-03",
            source=_IX_SOURCE,
            tier="costr",
            tier_description="3 Year Rental",
            hardware=_table(_IX_KW, _IX_COSTR),
            variant_of=SEED_PRESET,
            note=_IX_NOTE,
        ),
        Preset(
            name="semianalysis-tco-2026-07",
            date="2026-07",
            source=_TCO_SOURCE,
            tier="costh",
            tier_description="Owning – Hyperscaler",
            hardware=_table(_TCO_KW, _TCO_COSTH),
        ),
        Preset(
            name="semianalysis-tco-2026-07-rental",
            date="2026-07",
            source=_TCO_SOURCE,
            tier="costr",
            tier_description="Rental (July 2026 survey)",
            hardware=_table(_TCO_KW, _TCO_COSTR_JULY),
            variant_of="semianalysis-tco-2026-07",
            note="tpuv7 rental is a GCP 3-year commit price.",
        ),
        Preset(
            name="cpu-nominal-2026-11",
            date="2026-11",
            source=_CPU_SOURCE,
            tier="nominal",
            tier_description="Nominal small cloud VM (2 cores), on demand",
            hardware={"cpu": HardwareEconomics(usd_per_gpu_hour=0.10, kw_per_gpu=0.03)},
            note=_CPU_NOTE,
        ),
    )
}


check_hardware_keys(
    {hw for preset in PRESETS.values() for hw in preset.hardware}, "economics presets"
)


def list_presets() -> list[Preset]:
    """All presets, newest first (variants after their primary)."""
    return sorted(
        PRESETS.values(),
        key=lambda p: (p.date, p.variant_of is None, p.name),
        reverse=True,
    )


_RUNNER_PREFIX = re.compile(r"^.*:")


def hardware_key(hardware: str) -> str:
    """The catalog key used for price/power lookups: ``B300-nv_0`` → ``b300``, ``h100-sxm`` →
    ``h100``; the base token itself (``a100``) when the catalog does not know the hardware."""
    text = _RUNNER_PREFIX.sub("", hardware.strip().lower())
    head = re.split(r"[_-]", text, maxsplit=1)[0]
    return canonical_hardware(text) or canonical_hardware(head) or head


def _auto_order() -> list[Preset]:
    primaries = [p for p in list_presets() if p.variant_of is None and p.name != SEED_PRESET]
    return [PRESETS[SEED_PRESET], *primaries]


def _known_hardware(presets: list[Preset]) -> str:
    return ", ".join(sorted({hw for p in presets for hw in p.hardware}))


def resolve_economics(
    hardware: str,
    preset: str = AUTO,
    usd_per_gpu_hour: float | None = None,
    kw_per_gpu: float | None = None,
) -> Economics:
    """Price and power for one hardware from a preset, with optional per-run overrides.

    Both overrides given → preset ``custom`` (a named preset is still checked for typos).
    One override → the other value from the preset, listed in ``overridden``.
    Raises UserError for an unknown preset, or a hardware the preset lacks without overrides.
    """
    for name, value in (("usd_per_gpu_hour", usd_per_gpu_hour), ("kw_per_gpu", kw_per_gpu)):
        if value is not None and not (math.isfinite(value) and value > 0):
            flag = "--" + name.replace("_", "-")
            raise UserError(f"{flag} must be a positive number, got {value}")
    if preset != AUTO and preset not in PRESETS:
        raise UserError(
            f"unknown economics preset '{preset}'; known: {AUTO}, {', '.join(PRESETS)} "
            f"(or give your own values with {OVERRIDE_FLAGS})"
        )
    key = hardware_key(hardware)
    if usd_per_gpu_hour is not None and kw_per_gpu is not None:
        return Economics(
            preset="custom",
            hardware=key,
            usd_per_gpu_hour=usd_per_gpu_hour,
            kw_per_gpu=kw_per_gpu,
            source="user override (--usd-per-gpu-hour, --kw-per-gpu)",
            date="n/a",
            overridden=["usd_per_gpu_hour", "kw_per_gpu"],
            power_source="override",
        )
    chosen = _pick_preset(hardware, key, preset, usd_per_gpu_hour, kw_per_gpu)
    values = chosen.hardware[key]
    overridden: list[str] = []
    usd = values.usd_per_gpu_hour
    kw = values.kw_per_gpu
    if usd_per_gpu_hour is not None:
        usd = usd_per_gpu_hour
        overridden.append("usd_per_gpu_hour")
    if kw_per_gpu is not None:
        kw = kw_per_gpu
        overridden.append("kw_per_gpu")
    return Economics(
        preset=chosen.name,
        hardware=key,
        usd_per_gpu_hour=usd,
        kw_per_gpu=kw,
        source=chosen.source,
        date=chosen.date,
        overridden=overridden,
        power_source="override" if kw_per_gpu is not None else "preset",
    )


def _pick_preset(
    hardware: str,
    key: str,
    preset: str,
    usd_per_gpu_hour: float | None,
    kw_per_gpu: float | None,
) -> Preset:
    missing = "--usd-per-gpu-hour" if usd_per_gpu_hour is None else ""
    if kw_per_gpu is None:
        missing = f"{missing} and --kw-per-gpu" if missing else "--kw-per-gpu"
    if preset == AUTO:
        for candidate in _auto_order():
            if key in candidate.hardware:
                return candidate
        raise UserError(
            f"no economics preset has hardware '{hardware}' (looked up as '{key}'); presets "
            f"know: {_known_hardware(list(PRESETS.values()))}; give {missing} for it"
        )
    chosen = PRESETS[preset]
    if key not in chosen.hardware:
        others = [p.name for p in list_presets() if key in p.hardware]
        elsewhere = f"; presets that have it: {', '.join(others)}" if others else ""
        raise UserError(
            f"economics preset '{preset}' has no hardware '{hardware}' (looked up as '{key}'; "
            f"it knows {', '.join(sorted(chosen.hardware))}){elsewhere}; or give {missing}"
        )
    return chosen
