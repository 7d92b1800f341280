"""``specscope report``: every comparable spec-vs-off pair of a selection, written as HTML pages,
PNG charts and Markdown."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

from specscope.analysis.economics import list_presets
from specscope.analysis.series import select_pair
from specscope.app.compare import compare_priced
from specscope.app.options import CompareOptions, Selection
from specscope.app.points import load_points, point_filter, require_store
from specscope.errors import UserError
from specscope.report.acceptance import acceptance_by_workload
from specscope.report.models import ReportOutput, ReportPair
from specscope.schema import OFF, Point
from specscope.store.db import PointFilter

LARGE_REPORT_PAGES = 200

_Slice = tuple[str, str, str]
"""Model, hardware, precision."""


def _group_key(p: Point) -> tuple[str, str, str, int, int, str]:
    c = p.config
    return (c.model, c.hardware, c.precision, c.isl, c.osl, c.workload)


def _slice_key(p: Point) -> _Slice:
    c = p.config
    return (c.model, c.hardware, c.precision)


def comparable_pairs(
    points: Sequence[Point],
    selection: Selection | None = None,
    options: CompareOptions | None = None,
    *,
    warn: Callable[[str], object] = lambda _m: None,
    acceptance_points: Sequence[Point] | None = None,
) -> list[ReportPair]:
    """Every spec-vs-off pair the points hold (model × hardware × precision × sequence ×
    workload × method × engine), compared; only ``selection``'s spec method and engine when it
    names them (the points are already selected by the rest). A slice that cannot be compared
    is reported through ``warn``.

    Each comparison carries its method's acceptance per workload, summed over
    ``acceptance_points`` (default: ``points``; pass a wider selection when ``points`` were
    narrowed to one sequence or workload).
    """
    selection = selection or Selection()
    options = options or CompareOptions()
    groups: dict[tuple[str, str, str, int, int, str], list[Point]] = defaultdict(list)
    for p in points:
        if p.status == "ok":
            groups[_group_key(p)].append(p)
    by_slice: dict[_Slice, list[Point]] = defaultdict(list)
    for p in points if acceptance_points is None else acceptance_points:
        by_slice[_slice_key(p)].append(p)
    acceptance = {key: acceptance_by_workload(members) for key, members in by_slice.items()}
    pairs = []
    for key, group in sorted(groups.items()):
        name = "/".join(str(part) for part in key if part != "")
        methods = sorted({p.config.spec_method for p in group} - {OFF})
        if selection.spec_method is not None:
            methods = [m for m in methods if m == selection.spec_method]
        if not methods or all(not p.config.is_off for p in group):
            continue
        rows = acceptance.get(key[:3], [])
        for method in methods:
            try:
                selected = select_pair(
                    group, spec_method=method, pool=options.pool, engine=selection.engine
                )
            except UserError as exc:
                warn(f"skipped {name} {method}: {exc}")
                continue
            for spec, off in selected:
                try:
                    comparison = compare_priced(spec, off, options, rows)
                except UserError as exc:
                    warn(f"skipped {name} {method}: {exc}")
                    continue
                pairs.append(
                    ReportPair(
                        comparison=comparison,
                        spec_points=list(spec.points),
                        off_points=list(off.points),
                    )
                )
    return pairs


def write_store_report(
    db: Path,
    out_dir: Path,
    selection: Selection | None = None,
    options: CompareOptions | None = None,
    *,
    warn: Callable[[str], object] = lambda _m: None,
) -> ReportOutput:
    """The report for the comparisons the selection picks (every comparable pair when it picks
    everything).

    When the selection picks one pair, the other pairs of its model × hardware ride along as
    context so the page's sequence, workload, precision, method and engine controls switch in
    place. Acceptance per workload covers every workload and sequence whatever the selection's
    sequence and workload.
    """
    selection = selection or Selection()
    require_store(db)
    flt = point_filter(selection)
    points = load_points(db, flt)
    wide = flt.model_copy(update={"sequence": None, "workload": None})
    selected = comparable_pairs(
        points,
        selection,
        options,
        warn=warn,
        acceptance_points=points if wide == flt else load_points(db, wide),
    )
    if not selected:
        raise UserError(
            "nothing to compare: the selected points have no spec series with a matching off "
            "series (same model, hardware, precision, sequence and workload)"
        )
    context: list[ReportPair] = []
    if len(selected) == 1:
        cmp = selected[0].comparison
        family = comparable_pairs(
            load_points(db, PointFilter(model=cmp.model, hardware=cmp.hardware)),
            options=options,
            warn=warn,
        )
        chosen = _pair_identity(selected[0])
        context = [p for p in family if _pair_identity(p) != chosen]
    elif len(selected) > LARGE_REPORT_PAGES:
        warn(
            f"writing {len(selected)} pages (each embeds the charting library, ~5 MB); "
            "narrow the selection with --model/--hardware/--spec to write fewer"
        )
    from specscope.report.writer import write_report  # matplotlib and plotly: load on demand

    return write_report(selected, out_dir, list_presets(), context=context)


def _pair_identity(pair: ReportPair) -> tuple[str, ...]:
    c = pair.comparison
    return (c.model, c.hardware, c.precision, c.sequence, c.workload, c.spec.label, c.off.label)
