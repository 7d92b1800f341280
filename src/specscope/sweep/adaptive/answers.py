"""The three answers of every workload from the points measured so far, and the shape
assumptions they rest on."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from specscope.sweep.adaptive.best_g import best_all
from specscope.sweep.adaptive.cells import WorkloadCells, pooled_noise
from specscope.sweep.adaptive.model import Answers, Candidates, Observation
from specscope.sweep.adaptive.stop import stop_paying
from specscope.sweep.adaptive.targets import target_ratio


def answers(
    cands: Candidates,
    obs: Sequence[Observation],
    targets: dict[str, list[float]],
    left_out: Collection[tuple[str, str, int]] = (),
) -> list[Answers]:
    """The three answers per workload from the points measured so far (``left_out``: cells
    whose point failed, see :func:`~.propose.propose`)."""
    noise = pooled_noise(obs)
    out = []
    for w in cands.workloads:
        data = WorkloadCells(obs, w, noise, left_out)
        best = best_all(data, cands)
        out.append(
            Answers(
                workload=w,
                best=best,
                stop=stop_paying(data, cands, best),
                targets=[target_ratio(data, cands, t)[0] for t in targets.get(w, [])],
                points=data.points,
            )
        )
    return out


class Assumption(BaseModel):
    """One shape assumption of the adaptive sweep and the answers of a run that rest on it."""

    model_config = ConfigDict(frozen=True)

    name: Literal["ratio_falls_with_c", "best_g_not_rising", "s_unimodal_in_g", "one_noise_size"]
    statement: str
    rests_on_it: list[str]
    """The answers of this run that would change if the assumption failed, in words (empty:
    none; the assumption only ordered the search)."""


def assumptions(
    cands: Candidates,
    obs: Sequence[Observation],
    found: Answers,
    left_out: Collection[tuple[str, str, int]] = (),
) -> list[Assumption]:
    """The shape assumptions and which of ``found``'s answers rest on each (what was inferred
    rather than measured)."""
    data = WorkloadCells(obs, found.workload, pooled_noise(obs), left_out)
    off = cands.off().label
    ladder = sorted(cands.concurrencies)
    best_anchor = {b.concurrency for b in found.best if b.how == "measured"}
    compared = [c for c in ladder if data.n(off, c) and c in best_anchor]
    stop = found.stop
    not_compared = [c for c in ladder if c not in compared]
    stop_rests = []
    if not_compared and compared:
        where = f"C={stop.first_not_paying}" if stop.first_not_paying is not None else "nowhere"
        stop_rests.append(
            f"where spec stops paying ({where}): spec vs Off not measured at C="
            + ", ".join(str(c) for c in not_compared)
            + "; below the last paying concurrency taken to pay, above the first not paying "
            "taken not to"
        )
    inferred = [b for b in found.best if b.how == "inferred"]
    best_rests = [
        f"best g at C={b.concurrency} ({b.arm}, inferred from the anchors either side)"
        for b in inferred
    ]
    best_rests += [
        f"best g at C={b.concurrency} is open: the nearest anchor's {b.arm} is shown"
        for b in found.best
        if b.how == "open" and b.arm is not None
    ]
    unimodal = []
    for b in found.best:
        if b.how != "measured":
            continue
        skipped = [a.label for a in cands.spec_arms() if data.n(a.label, b.concurrency) == 0]
        if skipped:
            unimodal.append(
                f"best g at C={b.concurrency} ({b.arm}): not measured there " + ", ".join(skipped)
            )
    once = sorted({c for (arm, c), cell in data.cells.items() if cell.n == 1})
    noise_rests = (
        [
            "the 95 % intervals (and so what is decided) at cells measured once, at C="
            + ", ".join(str(c) for c in once)
        ]
        if once
        else []
    )
    return [
        Assumption(
            name="ratio_falls_with_c",
            statement="the best spec config's throughput over Off's falls as concurrency "
            "grows: one crossing, no comeback (the roofline step model's shape)",
            rests_on_it=stop_rests,
        ),
        Assumption(
            name="best_g_not_rising",
            statement="the best draft depth g does not rise as concurrency grows: between two "
            "measured concurrencies with the same best g, that g is best",
            rests_on_it=best_rests,
        ),
        Assumption(
            name="s_unimodal_in_g",
            statement="at a fixed concurrency throughput is unimodal in g (Leviathan: S(g) "
            "rises to one maximum, then falls): a g beyond one the best beats with confidence "
            "is not measured",
            rests_on_it=unimodal,
        ),
        Assumption(
            name="one_noise_size",
            statement="run-to-run noise is multiplicative and of one size across cells: the "
            "pooled relative SD of repeated cells serves cells measured once",
            rests_on_it=noise_rests,
        ),
    ]
