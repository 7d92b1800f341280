"""Choosing the next point: the open questions of a workload, most important first, and the
proposal that answers the most urgent one."""

from __future__ import annotations

import itertools
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from specscope.sweep.adaptive.best_g import anchor_concurrencies, best_all, family_best
from specscope.sweep.adaptive.cells import WorkloadCells, compare_cells, pooled_noise
from specscope.sweep.adaptive.model import (
    MIN_REPEATS,
    REFINE_MARGIN,
    Candidates,
    Observation,
    Proposal,
    Question,
    mid_concurrency,
)
from specscope.sweep.adaptive.stop import spec_vs_off, stop_paying
from specscope.sweep.adaptive.targets import target_ratio, unmeasured_gap


def _next_repeat(data: WorkloadCells, arm: str, c: int, cap: int) -> int | None:
    cell = data.cell(arm, c)
    taken = set() if cell is None else cell.repeats
    if len(taken) >= cap:
        return None
    return min(r for r in range(cap + 1) if r not in taken)


@dataclass
class _Ask:
    question: Question
    reason: str
    cells: list[tuple[str, int]]
    """Cells to measure: the first one with fewer than ``want`` points gets one more."""
    want: int = 1
    width: float = 0.0
    """For a repeat: the log width of the interval that straddles the decision (widest first)."""
    needs_all: bool = False
    """The ask is only worth its points when every cell can be measured (a crossover bisection
    needs Off and spec at the same concurrency)."""


def _questions(data: WorkloadCells, cands: Candidates, targets: list[float]) -> list[_Ask]:
    """Open questions of one workload, most important first."""
    ladder = sorted(cands.concurrencies)
    off, start = cands.off().label, cands.start_arm().label
    cap = cands.max_repeats
    asks: list[_Ask] = []
    # 1. coarse ladder, repeat-major: off then spec at every rung, twice
    for r in range(MIN_REPEATS):
        for arm in (off, start):
            for c in cands.coarse_ladder():
                if data.n(arm, c) <= r:
                    asks.append(_Ask("coarse", f"coarse ladder, repeat {r + 1}", [(arm, c)], r + 1))
    asks = _measurable(data, asks)
    if asks:
        return asks[:1]
    best_list = best_all(data, cands)
    best = {b.concurrency: b for b in best_list}
    anchors = anchor_concurrencies(data, cands)
    # 2. hill climb over g at every anchor
    for c in anchors:
        for fam in cands.families().values():
            fb = family_best(data, fam, c)
            if fb is None:
                middle = fam[(len(fam) - 1) // 2]
                if (middle.label, c) not in data.left_out:
                    asks.append(
                        _Ask(
                            "best_g",
                            f"C={c}: no {middle.family} config measured here yet; measure "
                            f"{middle.label} (its middle g)",
                            [(middle.label, c)],
                        )
                    )
                continue
            if fb.next_to_measure is None:
                continue
            asks.append(
                _Ask(
                    "best_g",
                    f"C={c}: {fb.arm.label} is the best g so far; measure its neighbour "
                    f"{fb.next_to_measure.label}",
                    [(fb.next_to_measure.label, c)],
                )
            )
    asks = _measurable(data, asks)
    if asks:
        return asks
    # 3. bracket the crossover
    stop = stop_paying(data, cands, best_list)
    if stop.first_not_paying is not None and stop.last_paying is not None:
        mid = mid_concurrency(ladder, stop.last_paying, stop.first_not_paying)
        if mid is not None:
            bisect_arm = best[stop.last_paying].arm
            assert bisect_arm is not None
            asks = [
                _Ask(
                    "crossover",
                    f"spec pays at C={stop.last_paying}, not at C={stop.first_not_paying}: "
                    f"bisect at C={mid}",
                    [(off, mid), (bisect_arm, mid)],
                    needs_all=True,
                )
            ]
            asks = _measurable(data, asks)
            if asks:
                return asks
    # 4. bisect between anchors whose best g differ
    for lo, hi in itertools.pairwise(anchors):
        b_lo, b_hi = best[lo], best[hi]
        mid = mid_concurrency(ladder, lo, hi)
        if mid is None or b_lo.arm == b_hi.arm or b_lo.arm is None:
            continue
        asks.append(
            _Ask(
                "best_g_change",
                f"best is {b_lo.arm} at C={lo}, {b_hi.arm} at C={hi}: bisect at C={mid}",
                [(b_lo.arm, mid)],
            )
        )
    asks = _measurable(data, asks)
    if asks:
        return asks
    # 5. repeats where an interval still straddles a decision on the best g or the crossover,
    #    widest interval first (one more point narrows it most)
    if not stop.decided:
        for end in (stop.last_paying, stop.first_not_paying):
            end_arm = None if end is None or end not in best else best[end].arm
            if end is None or end_arm is None:
                continue
            cmp = spec_vs_off(data, cands, best, end)
            if cmp is not None and not cmp.decided:
                asks.append(
                    _Ask(
                        "repeat",
                        f"spec/off at C={end} is {cmp.ratio:.3f} with a CI "
                        f"{_ci_text(cmp.ci)}: add a repeat",
                        _fewest(data, [(off, end), (end_arm, end)]),
                        cap,
                        _width(cmp.ci),
                    )
                )
    for b in best_list:
        if b.how != "measured" or b.decided or b.arm is None:
            continue
        for other in b.contenders:
            cmp = compare_cells(data, (b.arm, b.concurrency), (other, b.concurrency))
            asks.append(
                _Ask(
                    "repeat",
                    f"C={b.concurrency}: {b.arm} vs {other} not decided"
                    f"{'' if cmp is None else f' (CI {_ci_text(cmp.ci)})'}: add a repeat",
                    _fewest(data, [(b.arm, b.concurrency), (other, b.concurrency)]),
                    cap,
                    _width(None if cmp is None else cmp.ci),
                )
            )
    asks = _open_asks(data, asks)
    if asks:
        return sorted(asks, key=lambda a: -a.width)
    # 6. refine a target's interpolation near a ratio of 1 (after the best g and the crossover:
    #    a target's bracketing points often are the cells those questions measure)
    for t in targets:
        answer, s, o = target_ratio(data, cands, t)
        if answer.ratio is None or abs(math.log(answer.ratio)) > REFINE_MARGIN:
            continue
        for side in (s, o):
            gap = None if side is None else unmeasured_gap(data, cands, side)
            if side is None or gap is None:
                continue
            lo_c, hi_c = sorted(c for _, c in side.bracket)
            asks.append(
                _Ask(
                    "target",
                    f"spec/off ≈ {answer.ratio:.3f} at {t:g} tok/s/user: refine the curve "
                    f"between C={lo_c} and C={hi_c}",
                    [gap],
                )
            )
    asks = _measurable(data, asks)
    if asks:
        return asks
    # 7. repeats where a target ratio's interval holds 1, widest first
    for t in targets:
        answer, s, o = target_ratio(data, cands, t)
        if answer.decided or s is None or o is None:
            continue
        cells = list(dict.fromkeys([*s.bracket, *o.bracket]))
        asks.append(
            _Ask(
                "repeat",
                f"spec/off at {t:g} tok/s/user is {answer.ratio:.3f}, CI "
                f"{_ci_text(answer.ci_95)}: add a repeat",
                _fewest(data, cells),
                cap,
                _width(answer.ci_95),
            )
        )
    return sorted(_open_asks(data, asks), key=lambda a: -a.width)


def _measurable(data: WorkloadCells, asks: list[_Ask]) -> list[_Ask]:
    """The asks with their left-out cells removed (an ask that needs every cell, or has none
    left, goes)."""
    out = []
    for a in asks:
        cells = [cell for cell in a.cells if cell not in data.left_out]
        if cells and (len(cells) == len(a.cells) or not a.needs_all):
            a.cells = cells
            out.append(a)
    return out


def _open_asks(data: WorkloadCells, asks: list[_Ask]) -> list[_Ask]:
    """The measurable asks that some cell can still answer (fewer points than it wants)."""
    return [a for a in _measurable(data, asks) if any(data.n(*cell) < a.want for cell in a.cells)]


def _width(ci: tuple[float, float] | None) -> float:
    """An interval's width on the log scale (infinite when there is no interval yet)."""
    return math.inf if ci is None else math.log(ci[1] / ci[0])


def _ci_text(ci: tuple[float, float] | None) -> str:
    return "unknown" if ci is None else f"{ci[0]:.3f}–{ci[1]:.3f}"


def _fewest(data: WorkloadCells, cells: list[tuple[str, int]]) -> list[tuple[str, int]]:
    return sorted(cells, key=lambda cell: data.n(*cell))


def propose(
    cands: Candidates,
    obs: Sequence[Observation],
    targets: dict[str, list[float]],
    *,
    current_arm: str | None = None,
    left_out: Collection[tuple[str, str, int]] = (),
) -> Proposal | None:
    """The next point to measure, or None when every answer is decided (or nothing is left).

    Workloads take turns: the one with the fewest points among those with an open question
    goes next. Among equally urgent asks of a workload, one on ``current_arm`` (the server
    running now) is preferred: it saves a relaunch. ``left_out`` holds (arm, workload,
    concurrency) cells whose point failed: they are not proposed again (the hill climb over g
    walks past them; a crossover bisection that needs one is not made).
    """
    noise = pooled_noise(obs)
    best_choice: tuple[int, Proposal] | None = None
    for w in cands.workloads:
        data = WorkloadCells(obs, w, noise, left_out)
        asks = _questions(data, cands, targets.get(w, []))
        if not asks:
            continue
        first = asks[0].question
        ordered = sorted(
            asks,
            key=lambda a: (
                a.question != first,
                -a.width,
                not (current_arm is not None and a.cells[0][0] == current_arm),
            ),
        )
        proposal = _first_proposal(data, cands, w, ordered)
        if proposal is None:
            continue
        if best_choice is None or data.points < best_choice[0]:
            best_choice = (data.points, proposal)
    return None if best_choice is None else best_choice[1]


def _first_proposal(
    data: WorkloadCells, cands: Candidates, workload: str, asks: list[_Ask]
) -> Proposal | None:
    for ask in asks:
        for arm, c in ask.cells:
            repeat = _next_repeat(data, arm, c, cands.max_repeats)
            if repeat is None or data.n(arm, c) >= ask.want or (arm, c) in data.left_out:
                continue
            return Proposal(
                arm=arm,
                workload=workload,
                concurrency=c,
                repeat=repeat,
                question=ask.question,
                reason=ask.reason,
            )
    return None
