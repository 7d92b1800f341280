"""Answer (a): the best spec config (draft depth g) at every concurrency of the grid, measured
by a hill climb over g or inferred between anchors with the same best g."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from specscope.sweep.adaptive.cells import Comparison, WorkloadCells, compare_cells
from specscope.sweep.adaptive.model import Arm, BestDepth, Candidates


@dataclass(frozen=True)
class FamilyBest:
    """The best g of one spec entry at one concurrency, and the hill climb's state there."""

    arm: Arm
    complete: bool
    """Walking from the best g either way, every g up to one the best beats with confidence
    (or the end of the ladder) is measured here."""
    dropped: frozenset[str]
    next_to_measure: Arm | None


def family_best(data: WorkloadCells, family: list[Arm], c: int) -> FamilyBest | None:
    """The hill climb over ``family``'s g at ``c`` (None: none of them measured there)."""
    measured = [a for a in family if data.n(a.label, c) > 0]
    if not measured:
        return None
    cells = {a.label: data.cell(a.label, c) for a in measured}
    best = max(measured, key=lambda a: cells[a.label].mean)  # type: ignore[union-attr]
    i = family.index(best)
    dropped: set[str] = set()
    missing: list[Arm] = []
    for step in (-1, 1):
        # walk away from the best: past every g not beaten with confidence (a contender), up
        # to the first unmeasured g (measure it) or the first g the best beats with confidence
        # (drop it and every g beyond: S(g) is unimodal)
        j = i + step
        while 0 <= j < len(family):
            neighbour = family[j]
            if data.n(neighbour.label, c) == 0:
                if (neighbour.label, c) in data.left_out:  # its point failed: walk past it
                    j += step
                    continue
                missing.append(neighbour)
                break
            cmp = compare_cells(data, (best.label, c), (neighbour.label, c))
            if cmp is not None and cmp.verdict == "a":
                k = j
                while 0 <= k < len(family):
                    dropped.add(family[k].label)
                    k += step
                break
            j += step
    return FamilyBest(
        arm=best,
        complete=not missing,
        dropped=frozenset(dropped),
        next_to_measure=missing[0] if missing else None,
    )


def _best_measured(data: WorkloadCells, cands: Candidates, c: int) -> BestDepth | None:
    bests = [
        fb for fam in cands.families().values() if (fb := family_best(data, fam, c)) is not None
    ]
    if not bests:
        return None
    top = max(bests, key=lambda fb: data.cell(fb.arm.label, c).mean)  # type: ignore[union-attr]
    contenders: list[str] = []
    # a family not measured at c at all could hold the best: nothing is decided without it
    decided = all(fb.complete for fb in bests) and data.every_family_measured(cands, c)
    runner_up: Comparison | None = None
    for arm in cands.spec_arms():
        if arm.label == top.arm.label or data.n(arm.label, c) == 0:
            continue
        cmp = compare_cells(data, (top.arm.label, c), (arm.label, c))
        if cmp is None:
            continue
        if runner_up is None or cmp.ratio < runner_up.ratio:
            runner_up = cmp
        if cmp.verdict != "a":
            contenders.append(arm.label)
    decided = decided and not contenders
    return BestDepth(
        concurrency=c,
        arm=top.arm.label,
        g=top.arm.g,
        decided=decided,
        how="measured",
        contenders=contenders,
        ratio_to_runner_up=None if runner_up is None else runner_up.ratio,
        ci_95=None if runner_up is None else runner_up.ci,
    )


def anchor_concurrencies(data: WorkloadCells, cands: Candidates) -> list[int]:
    """Concurrencies where some spec config is measured."""
    return sorted(
        c for c in cands.concurrencies if any(data.n(a.label, c) for a in cands.spec_arms())
    )


def best_all(data: WorkloadCells, cands: Candidates) -> list[BestDepth]:
    """Answer (a) at every grid concurrency: measured at anchors, inferred or open between."""
    anchors = anchor_concurrencies(data, cands)
    measured = {c: b for c in anchors if (b := _best_measured(data, cands, c)) is not None}
    out = []
    for c in sorted(cands.concurrencies):
        if c in measured:
            out.append(measured[c])
            continue
        lower = [a for a in anchors if a < c]
        upper = [a for a in anchors if a > c]
        lo = measured.get(lower[-1]) if lower else None
        hi = measured.get(upper[0]) if upper else None
        if lo is not None and hi is not None and lo.arm == hi.arm:
            out.append(
                BestDepth(
                    concurrency=c,
                    arm=lo.arm,
                    g=lo.g,
                    decided=lo.decided and hi.decided,
                    how="inferred",
                )
            )
            continue
        near = _nearest(c, [x for x in (lo, hi) if x is not None])
        out.append(
            BestDepth(
                concurrency=c,
                arm=None if near is None else near.arm,
                g=None if near is None else near.g,
                decided=False,
                how="open",
            )
        )
    return out


def _nearest(c: int, options: Sequence[BestDepth]) -> BestDepth | None:
    if not options:
        return None
    return min(options, key=lambda b: abs(math.log(b.concurrency / c)))
