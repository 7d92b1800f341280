"""Calibrated profile files: TOML in the user cache dir by default, reused with
``--hardware-profile FILE``.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import ValidationError

from specscope.cache import user_cache_dir
from specscope.errors import UserError
from specscope.predict.profile import CalibratedProfile
from specscope.tomlio import dumps, read_toml

PROFILE_DIR = "profiles"


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
