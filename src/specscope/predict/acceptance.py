"""Acceptance as an AL(g) curve: measured per depth, from per-position rates, or i.i.d.

Speculative acceptance decays with depth for chained heads, so one fitted a does not transfer
across g (theory reference §5): the measured AL(g) list is the preferred input. Conversions are
the theory package's (:mod:`specscope.theory.acceptance`).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from specscope.errors import UserError
from specscope.theory.acceptance import al_from_positions, to_al

AcceptanceSource = Literal["al", "per_position", "alpha", "rate"]


class AcceptanceCurve(BaseModel):
    """AL as a function of draft depth g, and which figure the user gave."""

    model_config = ConfigDict(frozen=True)

    kind: AcceptanceSource
    """``al``: measured AL per g; ``per_position``: unconditional p_k (AL(g) = 1 + Σ_{k≤g} p_k);
    ``alpha``: Leviathan's i.i.d. a; ``rate``: engine draft acceptance rate r per g."""
    by_depth: dict[int, float] = Field(default_factory=dict)
    """AL (kind ``al``) or r (kind ``rate``) per depth."""
    per_position: list[float] = Field(default_factory=list)
    alpha: float | None = None

    def al(self, depth: int) -> float:
        """AL at depth g (bonus token included)."""
        if depth == 0:
            return 1.0
        if self.kind == "alpha":
            assert self.alpha is not None
            return to_al(self.alpha, "alpha", depth)
        if self.kind == "per_position":
            if depth > len(self.per_position):
                raise UserError(
                    f"--acceptance-per-position has {len(self.per_position)} values, too few for "
                    f"g = {depth}; give one value per draft position"
                )
            return al_from_positions(self.per_position[:depth])
        if depth not in self.by_depth:
            flag = "--acceptance-length" if self.kind == "al" else "--acceptance-rate"
            raise UserError(f"no acceptance given for g = {depth}; give {flag} for each --gamma")
        return to_al(self.by_depth[depth], self.kind, depth)

    def describe(self) -> str:
        """One line saying which figure was given, e.g. ``AL per g (measured): 1:1.9 2:2.7``."""
        if self.kind == "alpha":
            return f"i.i.d. per-token acceptance a = {self.alpha:g} (Leviathan)"
        if self.kind == "per_position":
            values = ", ".join(f"{p:g}" for p in self.per_position)
            return f"unconditional per-position acceptance p_k = {values}"
        pairs = " ".join(
            f"g={draft_depth}:{v:g}" for draft_depth, v in sorted(self.by_depth.items())
        )
        what = "acceptance length AL" if self.kind == "al" else "draft acceptance rate r"
        return f"{what} per depth: {pairs}"


def acceptance_curve(
    draft_depths: Sequence[int],
    *,
    acceptance_length: Sequence[float] | None = None,
    per_position: Sequence[float] | None = None,
    alpha: float | None = None,
    rate: Sequence[float] | None = None,
) -> AcceptanceCurve:
    """Build the curve from exactly one of the four inputs, checking every value.

    ``acceptance_length`` and ``rate`` pair up with ``draft_depths`` one to one.
    """
    given = [
        name
        for name, value in (
            ("--acceptance-length", acceptance_length),
            ("--acceptance-per-position", per_position),
            ("--acceptance-alpha", alpha),
            ("--acceptance-rate", rate),
        )
        if value is not None
    ]
    if len(given) != 1:
        raise UserError(
            "give exactly one acceptance input: --acceptance-length (AL per --gamma), "
            "--acceptance-per-position, --acceptance-alpha or --acceptance-rate"
            + (f" (got {', '.join(given)})" if given else "")
        )
    if not draft_depths or any(draft_depth < 1 for draft_depth in draft_depths):
        raise UserError("--gamma needs one or more draft depths >= 1, e.g. --gamma 1,2,3")
    curve: AcceptanceCurve
    if alpha is not None:
        curve = AcceptanceCurve(kind="alpha", alpha=alpha)
    elif per_position is not None:
        values = list(per_position)
        if any(not 0.0 <= p <= 1.0 for p in values):
            raise UserError("--acceptance-per-position values must lie in [0, 1]")
        if any(b > a + 1e-12 for a, b in pairwise(values)):
            raise UserError(
                "--acceptance-per-position must not rise with position (p_k = P(first k accepted))"
            )
        curve = AcceptanceCurve(kind="per_position", per_position=values)
    else:
        values = list(acceptance_length if acceptance_length is not None else rate or [])
        flag = given[0]
        if len(values) != len(draft_depths):
            raise UserError(
                f"{flag} has {len(values)} values but --gamma has {len(draft_depths)}; "
                "give one per depth"
            )
        kind: AcceptanceSource = "al" if acceptance_length is not None else "rate"
        curve = AcceptanceCurve(kind=kind, by_depth=dict(zip(draft_depths, values, strict=True)))
    for draft_depth in draft_depths:
        try:
            curve.al(draft_depth)
        except ValueError as exc:
            raise UserError(f"{given[0]} at g = {draft_depth}: {exc}") from None
    return curve
