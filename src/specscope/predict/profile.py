"""A calibrated hardware profile: the fitted step-model constants and what they were fitted on.

Saved as TOML (user cache dir by default) and reused with ``--hardware-profile FILE``. It holds
the hardware entry it was fitted with (so a probed CPU travels with it) and the measured range
(concurrency, context length, draft depths); predictions outside that range are flagged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from specscope import __version__
from specscope.cache import user_cache_dir
from specscope.errors import UserError
from specscope.predict.catalog import HardwareSpec, read_toml
from specscope.predict.step import Efficiency
from specscope.predict.tomlio import dumps

PROFILE_DIR = "profiles"


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
            measured = ", ".join(str(g) for g in self.draft_depths)
            warnings.append(
                f"draft depth g = {', '.join(str(g) for g in new)} was not measured "
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


def default_profile_path(hardware: str, model: str, precision: str) -> Path:
    """``<user cache>/profiles/<hardware>-<model>-<precision>.toml``."""
    stem = "-".join(
        re.sub(r"[^a-z0-9.+_-]+", "_", part.lower()) for part in (hardware, model, precision)
    )
    return user_cache_dir() / PROFILE_DIR / f"{stem}.toml"


def save_profile(profile: CalibratedProfile, path: Path | None = None) -> Path:
    """Write the profile as TOML; returns where it went."""
    target = path or default_profile_path(profile.hardware.key, profile.model, profile.precision)
    header = (
        "specscope calibrated hardware profile (specscope predict --calibrate)\n"
        f"hardware {profile.hardware.key}, model {profile.model}, precision {profile.precision}\n"
        "reuse with: specscope predict --hardware-profile THIS_FILE ..."
    )
    text = dumps({"profile": profile.model_dump(mode="json", exclude_none=True)}, header=header)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(
            f"{target}: cannot write the profile ({exc.strerror}); pick another path"
        ) from None
    return target


def load_profile(path: Path | str) -> CalibratedProfile:
    """Read a profile written by :func:`save_profile`; a bad file is one UserError line."""
    file = Path(path)
    data = read_toml(file)
    body = data.get("profile")
    if not isinstance(body, dict):
        raise UserError(f"{file}: not a specscope hardware profile (no [profile] table)")
    try:
        return CalibratedProfile.model_validate(body)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise UserError(
            f"{file}: profile.{where}: {err['msg']} (re-run specscope predict --calibrate)"
        ) from None
