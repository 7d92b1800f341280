"""Prompts for the fake stream server: numbered, so a served request names its record."""

from __future__ import annotations

from specscope.client.protocols import BenchPrompt


def bench_prompts(n: int, out: int = 10, tag: str = "p") -> list[BenchPrompt]:
    """``n`` prompts ``"<tag> <i>"`` of 3 input tokens, each asking for ``out`` output tokens."""
    return [BenchPrompt(prompt=f"{tag} {i}", output_tokens=out, input_tokens=3) for i in range(n)]
