"""Where specscope keeps small per-user files (the CPU probe, calibrated profiles)."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "SPECSCOPE_CACHE_DIR"


def user_cache_dir() -> Path:
    """``$SPECSCOPE_CACHE_DIR``, else ``$XDG_CACHE_HOME/specscope``, else ``~/.cache/specscope``."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "specscope"
