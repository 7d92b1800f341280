"""Acceptance per engine and draft depth (and per workload), and the measured g-sweep for the
explain panel.

Pure functions: points in, typed rows out.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence

from specscope.report.models import AcceptanceByDepth, ExplainRow
from specscope.schema import Point


def acceptance_by_depth(points: Iterable[Point]) -> list[AcceptanceByDepth]:
    """Sum acceptance counters per (engine, g) over the ok points that carry them.

    AL = 1 + Σaccepted / Σdrafts and r = Σaccepted / Σdraft_tokens over the group (a count-weighted
    mean, not a mean of per-point ratios); p_k = Σaccepted at position k / Σdrafts. Groups whose
    points only report an average AL (SGLang) get the plain mean of those ALs and no positions.
    Sorted by engine, then g (unknown g last).
    """
    groups: dict[tuple[str, int | None], list[Point]] = defaultdict(list)
    for point in points:
        if point.status == "ok" and point.acceptance is not None:
            groups[(point.config.engine, point.config.draft_depth)].append(point)
    rows = [
        _summarise(engine, draft_depth, members)
        for (engine, draft_depth), members in groups.items()
    ]
    kept = [row for row in rows if row is not None]
    return sorted(kept, key=lambda r: (r.engine, r.draft_depth is None, r.draft_depth or 0))


def acceptance_by_workload(points: Iterable[Point]) -> list[AcceptanceByDepth]:
    """The same sums per (engine, spec method, g, workload): one drafter's acceptance on each
    workload side by side (a drafter that accepts 90 % of code may accept 60 % of chat).

    Sorted by engine, method, g, then workload.
    """
    groups: dict[tuple[str, str, int | None, str], list[Point]] = defaultdict(list)
    for point in points:
        if point.status == "ok" and point.acceptance is not None:
            c = point.config
            groups[(c.engine, c.spec_method, c.draft_depth, c.workload)].append(point)
    rows = []
    for (engine, method, draft_depth, workload), members in groups.items():
        row = _summarise(engine, draft_depth, members)
        if row is not None:
            rows.append(row.model_copy(update={"spec_method": method, "workload": workload}))
    return sorted(
        rows,
        key=lambda r: (
            r.engine,
            r.spec_method,
            r.draft_depth is None,
            r.draft_depth or 0,
            r.workload,
        ),
    )


def workloads_side_by_side(
    rows: Iterable[AcceptanceByDepth], spec_method: str, engines: Iterable[str]
) -> list[AcceptanceByDepth]:
    """The rows of :func:`acceptance_by_workload` that belong to one spec series (its method on
    its engines), when they cover two workloads or more; otherwise none (one workload has
    nothing to set beside it)."""
    wanted = set(engines)
    mine = [r for r in rows if r.spec_method == spec_method and r.engine in wanted]
    return mine if len({r.workload for r in mine}) > 1 else []


def _summarise(
    engine: str, draft_depth: int | None, members: list[Point]
) -> AcceptanceByDepth | None:
    counted = [
        p.acceptance
        for p in members
        if p.acceptance is not None
        and p.acceptance.drafts
        and p.acceptance.accepted_tokens is not None
    ]
    if counted:
        drafts = sum(a.drafts or 0 for a in counted)
        accepted = sum(a.accepted_tokens or 0 for a in counted)
        with_tokens = [a for a in counted if a.draft_tokens]
        draft_tokens = sum(a.draft_tokens or 0 for a in with_tokens) if with_tokens else None
        rate = (
            sum(a.accepted_tokens or 0 for a in with_tokens) / draft_tokens
            if draft_tokens
            else None
        )
        width = max(len(a.accepted_per_position) for a in counted)
        positioned = [a for a in counted if len(a.accepted_per_position) == width and width > 0]
        per_position: list[float] = []
        if positioned:
            position_drafts = sum(a.drafts or 0 for a in positioned)
            per_position = [
                sum(a.accepted_per_position[k] for a in positioned) / position_drafts
                for k in range(width)
            ]
        return AcceptanceByDepth(
            engine=engine,
            draft_depth=draft_depth,
            n_points=len(members),
            drafts=drafts,
            draft_tokens=draft_tokens,
            accepted_tokens=accepted,
            acceptance_length=1.0 + accepted / drafts,
            draft_acceptance_rate=rate,
            per_position=per_position,
        )
    reported = [
        p.acceptance.reported_acceptance_length
        for p in members
        if p.acceptance is not None and p.acceptance.reported_acceptance_length is not None
    ]
    if not reported:
        return None
    return AcceptanceByDepth(
        engine=engine,
        draft_depth=draft_depth,
        n_points=len(members),
        acceptance_length=math.fsum(reported) / len(reported),
    )


def explain_rows(spec_points: Sequence[Point], off_points: Sequence[Point]) -> list[ExplainRow]:
    """Pair each spec (engine, g, concurrency) with Off at the same engine and concurrency.

    Interactivity is the mean over repeats on each side; AL is the count-weighted AL of the spec
    points in the cell. S = spec / off interactivity, c_eff = (AL / S − 1) / g and the break-even
    cost ratio (AL − 1) / g. Cells without a g ≥ 1, a concurrency, an AL or an Off partner are
    skipped. Sorted by engine, concurrency, g.
    """
    off_rate: dict[tuple[str, int], list[float]] = defaultdict(list)
    for point in off_points:
        if point.status == "ok" and point.config.concurrency is not None:
            off_rate[(point.config.engine, point.config.concurrency)].append(point.interactivity)
    cells: dict[tuple[str, int, int], list[Point]] = defaultdict(list)
    for point in spec_points:
        cfg = point.config
        if point.status != "ok" or cfg.concurrency is None or not cfg.draft_depth:
            continue
        cells[(cfg.engine, cfg.draft_depth, cfg.concurrency)].append(point)
    rows: list[ExplainRow] = []
    for (engine, draft_depth, conc), members in cells.items():
        partners = off_rate.get((engine, conc))
        summary = acceptance_by_depth(members)
        al = summary[0].acceptance_length if summary else None
        if not partners or al is None:
            continue
        spec_x = math.fsum(p.interactivity for p in members) / len(members)
        off_x = math.fsum(partners) / len(partners)
        if spec_x <= 0 or off_x <= 0:
            continue
        s = spec_x / off_x
        rows.append(
            ExplainRow(
                engine=engine,
                draft_depth=draft_depth,
                concurrency=conc,
                acceptance_length=al,
                spec_interactivity=spec_x,
                off_interactivity=off_x,
                speedup=s,
                c_eff=(al / s - 1.0) / draft_depth,
                c_break_even=(al - 1.0) / draft_depth,
            )
        )
    return sorted(rows, key=lambda r: (r.engine, r.concurrency, r.draft_depth))
