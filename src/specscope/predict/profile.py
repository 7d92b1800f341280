"""A calibrated hardware profile: the fitted step-model constants and what they were fitted on.

It holds the hardware entry it was fitted with (so a probed CPU travels with it) and the measured
range (concurrency, context length, draft depths); predictions outside that range are flagged.
Its file (TOML, ``--hardware-profile FILE``) is read and written by
:mod:`specscope.calibration.profiles`.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from specscope import __version__
from specscope.predict.roofline import Efficiency
from specscope.predict.specs import HardwareSpec


class CalibrationRange(BaseModel):
    """The measured conditions a profile was fitted on."""

    model_config = ConfigDict(frozen=True)

    concurrency: tuple[int, int]
    context_len: tuple[float, float]
    """Mean decode context, isl + osl/2, tokens."""
    draft_depths: list[int]
    """Depths measured (0 = spec off)."""

    def check(
        self, *, concurrency: Iterable[int], context_len: float, draft_depths: Iterable[int]
    ) -> list[str]:
        """One warning per way a query leaves this range."""
        warnings: list[str] = []
        concurrencies = sorted(set(concurrency))
        lo, hi = self.concurrency
        outside = [c for c in concurrencies if c < lo or c > hi]
        if outside:
            warnings.append(
                f"concurrency {outside[0]}–{outside[-1]} is outside the calibrated {lo}–{hi}: "
                "those points are extrapolated"
            )
        clo, chi = self.context_len
        if not clo * 0.999 <= context_len <= chi * 1.001:
            warnings.append(
                f"context length {context_len:g} is outside the calibrated {clo:g}–{chi:g} tokens"
            )
        new = sorted(set(draft_depths) - set(self.draft_depths))
        if new:
            measured = ", ".join(map(str, self.draft_depths))
            warnings.append(
                f"draft depth g = {', '.join(map(str, new))} was not measured "
                f"(calibrated on g = {measured}; 0 = off)"
            )
        return warnings

    def contains(self, concurrency: int, context_len: float, depth: int) -> bool:
        lo, hi = self.concurrency
        clo, chi = self.context_len
        return (
            lo <= concurrency <= hi
            and clo * 0.999 <= context_len <= chi * 1.001
            and depth in self.draft_depths
        )


class FitReport(BaseModel):
    """How well the fitted constants reproduce the measured step times."""

    model_config = ConfigDict(frozen=True)

    n_points: int
    median_rel_error: float
    """Median of |predicted − measured| / measured step time."""
    max_rel_error: float
    constrained: dict[str, bool] = Field(default_factory=dict)
    """Per constant: did the data pin it down (False → it stayed near its prior)."""
    tied: list[str] = Field(default_factory=list)
    """Pairs (``t0_s/eta_bw``) the data pin only jointly: their effects on the points coincide."""


class CalibratedProfile(BaseModel):
    """Fitted t0, η_bw, η_f for one hardware × model × precision, with provenance."""

    model_config = ConfigDict(frozen=True)

    hardware: HardwareSpec
    model: str
    precision: str
    kv_precision: str = "bf16"
    engine: str = ""
    spec_methods: list[str] = Field(default_factory=list)
    n_gpus: int = 1
    efficiency: Efficiency
    range: CalibrationRange
    fit: FitReport
    run_ids: list[str] = Field(default_factory=list)
    created: str = ""
    specscope_version: str = __version__
