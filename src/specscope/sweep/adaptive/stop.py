"""Answer (b): the first grid concurrency where the best spec config does not beat Off."""

from __future__ import annotations

from specscope.sweep.adaptive.cells import Comparison, WorkloadCells, compare_cells
from specscope.sweep.adaptive.model import BestDepth, Candidates, StopPaying
from specscope.tie import beats


def spec_vs_off(
    data: WorkloadCells, cands: Candidates, best: dict[int, BestDepth], c: int
) -> Comparison | None:
    """The best spec config measured at ``c`` against Off there (None: not measured)."""
    b = best.get(c)
    if b is None or b.arm is None or b.how != "measured":
        return None
    return compare_cells(data, (b.arm, c), (cands.off().label, c))


def _paying(cmp: Comparison) -> bool:
    """The point estimate's side of the crossover (a decided verdict wins over it)."""
    if cmp.verdict == "a":
        return True
    if cmp.verdict in ("b", "tie"):
        return False
    return beats(cmp.ratio)


def stop_paying(data: WorkloadCells, cands: Candidates, best: list[BestDepth]) -> StopPaying:
    """Where spec stops paying, from the concurrencies where Off and the best g are measured."""
    by_c = {b.concurrency: b for b in best}
    off = cands.off().label
    ladder = sorted(cands.concurrencies)
    rows = [
        (c, cmp)
        for c in ladder
        if data.n(off, c) and (cmp := spec_vs_off(data, cands, by_c, c)) is not None
    ]
    if not rows:
        return StopPaying(
            first_not_paying=None, last_paying=None, decided=False, note="nothing measured"
        )
    first_not = next((i for i, (_, cmp) in enumerate(rows) if not _paying(cmp)), None)
    if first_not is None:
        c_last, cmp_last = rows[-1]
        decided = c_last == ladder[-1] and cmp_last.verdict == "a"
        return StopPaying(
            first_not_paying=None,
            last_paying=c_last,
            decided=decided,
            note=f"spec pays up to C={c_last}, the largest measured",
        )
    c_not, cmp_not = rows[first_not]
    # "does not pay" speaks for every spec config: only decided once each family is measured there
    every_family = data.every_family_measured(cands, c_not)
    c_yes: int | None = None
    if first_not == 0:
        decided = c_not == ladder[0] and cmp_not.decided and every_family
        note = "spec does not pay at the smallest measured concurrency"
    else:
        c_yes, cmp_yes = rows[first_not - 1]
        adjacent = ladder.index(c_not) - ladder.index(c_yes) == 1
        decided = adjacent and cmp_yes.verdict == "a" and cmp_not.decided and every_family
        note = f"pays at C={c_yes}, not at C={c_not}"
    cell = data.cell(off, c_not)
    return StopPaying(
        first_not_paying=c_not,
        last_paying=c_yes,
        decided=decided,
        off_interactivity=None if cell is None else cell.mean_x,
        ratio_at_first_not=cmp_not.ratio,
        ci_at_first_not=cmp_not.ci,
        note=note,
    )
