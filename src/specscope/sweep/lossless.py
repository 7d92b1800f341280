"""Lossless check: at temperature 0, does spec-on produce the spec-off text?

Engines whose kernels are not batch-invariant (llama.cpp on CPU among them) can flip near-ties
when a token is scored inside a multi-token verify batch, so a divergence is a finding to show,
not an error.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field

from specscope.schema import RequestRecord
from specscope.workload.tokenizer import Tokenizer


class Divergence(BaseModel):
    model_config = ConfigDict(frozen=True)

    request: int
    """Index of the timed request (the same prompt on both sides)."""
    first_char: int
    """Offset of the first differing character."""
    first_token: int | None
    """Tokens before the first difference (the server's tokenizer on the common prefix)."""


class LosslessCheck(BaseModel):
    model_config = ConfigDict(frozen=True)

    compared: int
    identical: int
    divergences: list[Divergence] = Field(default_factory=list)

    @property
    def identical_share(self) -> float:
        return self.identical / self.compared if self.compared else 0.0


def comparable_outputs(records: Iterable[RequestRecord]) -> list[str | None]:
    """Texts of the timed requests by index; None where a request failed (its text is a
    fragment, not an output) or kept no text. Index i holds request i (gaps are None)."""
    timed = [r for r in records if not r.warmup]
    if not timed:
        return []
    texts: list[str | None] = [None] * (max(r.index for r in timed) + 1)
    for r in timed:
        texts[r.index] = r.output_text if r.ok else None
    return texts


def compare_outputs(
    reference: list[str | None], outputs: list[str | None], tokenizer: Tokenizer | None
) -> LosslessCheck:
    """Compare request i of spec-on with request i of spec-off (the same prompt)."""
    compared = identical = 0
    divergences = []
    for index, (ref, out) in enumerate(zip(reference, outputs, strict=False)):
        if ref is None or out is None:
            continue
        compared += 1
        if ref == out:
            identical += 1
            continue
        same = next((i for i, (a, b) in enumerate(zip(ref, out, strict=False)) if a != b), None)
        prefix = ref[: min(len(ref), len(out)) if same is None else same]
        first_token = None
        if tokenizer is not None:
            with contextlib.suppress(Exception):  # a tokenizer failure must not lose the point
                first_token = len(tokenizer.tokenize(prefix, add_special=False))
        divergences.append(
            Divergence(request=index, first_char=len(prefix), first_token=first_token)
        )
    return LosslessCheck(compared=compared, identical=identical, divergences=divergences)
