"""Prompts for the fake stream server: numbered, so a served request names its record."""

from __future__ import annotations

from typing import Any

from specscope.client.protocols import BenchPrompt
from specscope.client.runner import LoadRun


def bench_prompts(n: int, out: int = 10, tag: str = "p") -> list[BenchPrompt]:
    """``n`` prompts ``"<tag> <i>"`` of 3 input tokens, each asking for ``out`` output tokens."""
    return [BenchPrompt(prompt=f"{tag} {i}", output_tokens=out, input_tokens=3) for i in range(n)]


def fake_run(server: Any, **fields: Any) -> LoadRun:
    """A ``LoadRun`` against the fake ``server`` (model "m"); ``fields`` give the rest."""
    return LoadRun(base_url=server.base_url, model="m", **fields)
