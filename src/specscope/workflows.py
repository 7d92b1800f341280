"""Library entry points that join the store and the analysis (what the CLI and report call)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from specscope.analysis.compare import compare
from specscope.analysis.economics import list_presets, resolve_economics
from specscope.analysis.results import AcceptanceByDepth, Comparison
from specscope.analysis.series import Series, select_pair
from specscope.errors import UserError
from specscope.report.acceptance import acceptance_by_workload, workloads_side_by_side
from specscope.report.models import ReportOutput, ReportPair
from specscope.schema import OFF, Point
from specscope.store.db import PointFilter, Store
from specscope.store.filters import format_combos


def load_points(db: Path, flt: PointFilter, *, lean: bool = False) -> list[Point]:
    """Points matching ``flt``; a clear error listing what the store holds when none match.

    ``lean`` reads only the fields a comparison uses (see ``Store.points``).
    """
    with Store.open(db, read_only=True) as store:
        points = store.points(flt, lean=lean)
        if points:
            return points
        combos = store.combos()
    asked = ", ".join(
        f"{k}={v}" for k, v in flt.model_dump(exclude_none=True).items() if k != "status"
    )
    raise UserError(
        f"no measured points match {asked or 'the selection'} in {db}; "
        f"the store holds: {format_combos(combos, limit=8)}"
    )


def compare_store(
    db: Path,
    *,
    spec_method: str = "mtp",
    model: str | None = None,
    hardware: str | None = None,
    precision: str | None = None,
    sequence: str | None = None,
    engine: str | None = None,
    run_id: str | None = None,
    workload: str | None = None,
    pool: bool = False,
    targets: Sequence[float] | None = None,
    preset: str = "auto",
    usd_per_gpu_hour: float | None = None,
    kw_per_gpu: float | None = None,
    lean: bool = True,
) -> list[Comparison]:
    """Select the spec and off series from the store and compare them at matched interactivity.

    One Comparison per engine that has both sides (or one pooled comparison with ``pool``), on
    one workload and one sequence (picked, with a note, when the filters leave several). Each
    carries the spec method's acceptance on every workload of its model, hardware, precision
    and engine(s) (``acceptance_by_workload``). Points are read lean (only what the comparison
    uses) unless ``lean=False``; the result is the same either way.
    """
    flt = PointFilter(
        model=model,
        hardware=hardware,
        precision=precision,
        sequence=sequence,
        engine=engine,
        run_id=run_id,
        workload=workload,
    )
    points = load_points(db, flt, lean=lean)
    pairs = select_pair(points, spec_method=spec_method, pool=pool, engine=engine)
    rows = _workload_acceptance(db, flt, [spec for spec, _ in pairs])
    comparisons = [
        _compare_priced(spec, off, rows, targets, preset, usd_per_gpu_hour, kw_per_gpu)
        for spec, off in pairs
    ]
    return [
        c.model_copy(update={"adaptive": _adaptive_answers(db, spec, off)})
        for c, (spec, off) in zip(comparisons, pairs, strict=True)
    ]


def _adaptive_answers(db: Path, spec: Series, off: Series) -> list[str]:
    """The answers an adaptive sweep stored in its run's notes for the compared workload (one
    run: the comparison's points all come from it), else none."""
    runs = {p.run_id for p in (*spec.points, *off.points)}
    if len(runs) != 1:
        return []
    with Store.open(db, read_only=True) as store:
        info = next((r for r in store.runs() if r.run_id in runs), None)
    if info is None:
        return []
    answers = info.notes.get("adaptive", {}).get("answers", {})
    lines = answers.get(spec.workload, []) if isinstance(answers, dict) else []
    return [str(line) for line in lines]


def _workload_acceptance(
    db: Path, flt: PointFilter, specs: Sequence[Series]
) -> list[AcceptanceByDepth]:
    """Acceptance per workload of the spec series' method on their model, hardware, precision
    and engines (the series of one selection share all but the engines), over every sequence
    and workload the other filters allow.

    Two counts first: when every such point is on the compared workload there is nothing to
    set beside it, and the full read (acceptance is not in the lean columns) is skipped.
    """
    c = specs[0].points[0].config
    wide = flt.model_copy(
        update={
            "model": c.model,
            "hardware": c.hardware,
            "precision": c.precision,
            "engine": sorted({engine for spec in specs for engine in spec.engines}),
            "spec_method": c.spec_method,
            "sequence": None,
            "isl": None,
            "osl": None,
            "workload": None,
        }
    )
    with Store.open(db, read_only=True) as store:
        if store.count(wide) == store.count(wide.model_copy(update={"workload": c.workload})):
            return []
        return acceptance_by_workload(store.points(wide))


def _compare_priced(
    spec: Series,
    off: Series,
    acceptance: Sequence[AcceptanceByDepth],
    targets: Sequence[float] | None,
    preset: str,
    usd_per_gpu_hour: float | None,
    kw_per_gpu: float | None,
) -> Comparison:
    """compare() with the economics of the spec side's hardware (preset plus overrides), its
    workload, and the ``acceptance`` rows (:func:`acceptance_by_workload`) of its method and
    engines when they cover several workloads."""
    economics = resolve_economics(
        spec.points[0].config.hardware,
        preset=preset,
        usd_per_gpu_hour=usd_per_gpu_hour,
        kw_per_gpu=kw_per_gpu,
    )
    comparison = compare(spec, off, economics, targets)
    return comparison.model_copy(
        update={
            "workload": spec.workload,
            "acceptance_by_workload": workloads_side_by_side(
                acceptance, spec.spec_method, spec.engines
            ),
        }
    )


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
    *,
    spec_method: str | None = None,
    engine: str | None = None,
    pool: bool = False,
    targets: Sequence[float] | None = None,
    preset: str = "auto",
    usd_per_gpu_hour: float | None = None,
    kw_per_gpu: float | None = None,
    warn: Callable[[str], object] = lambda _m: None,
    acceptance_points: Sequence[Point] | None = None,
) -> list[ReportPair]:
    """Every spec-vs-off pair the points hold (model × hardware × precision × sequence ×
    workload × method × engine), compared. A slice that cannot be compared is reported through
    ``warn``.

    Each comparison carries its method's acceptance per workload, summed over
    ``acceptance_points`` (default: ``points``; pass a wider selection when ``points`` were
    narrowed to one sequence or workload).
    """
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
        if spec_method is not None:
            methods = [m for m in methods if m == spec_method]
        if not methods or all(not p.config.is_off for p in group):
            continue
        rows = acceptance.get(key[:3], [])
        for method in methods:
            try:
                selected = select_pair(group, spec_method=method, pool=pool, engine=engine)
            except UserError as exc:
                warn(f"skipped {name} {method}: {exc}")
                continue
            for spec, off in selected:
                try:
                    comparison = _compare_priced(
                        spec, off, rows, targets, preset, usd_per_gpu_hour, kw_per_gpu
                    )
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
    *,
    spec_method: str | None = None,
    model: str | None = None,
    hardware: str | None = None,
    precision: str | None = None,
    sequence: str | None = None,
    engine: str | None = None,
    workload: str | None = None,
    pool: bool = False,
    targets: Sequence[float] | None = None,
    preset: str = "auto",
    usd_per_gpu_hour: float | None = None,
    kw_per_gpu: float | None = None,
    warn: Callable[[str], object] = lambda _m: None,
) -> ReportOutput:
    """The report for the comparisons the filters select (every comparable pair without filters).

    When the filters select one pair, the other pairs of its model × hardware ride along as
    context so the page's sequence, workload, precision, method and engine controls switch in
    place. Acceptance per workload covers every workload and sequence whatever ``sequence`` and
    ``workload`` select.
    """
    options: dict[str, Any] = {
        "pool": pool,
        "targets": targets,
        "preset": preset,
        "usd_per_gpu_hour": usd_per_gpu_hour,
        "kw_per_gpu": kw_per_gpu,
        "warn": warn,
    }
    flt = PointFilter(
        model=model,
        hardware=hardware,
        precision=precision,
        engine=engine,
        sequence=sequence,
        workload=workload,
    )
    points = load_points(db, flt)
    wide = flt.model_copy(update={"sequence": None, "workload": None})
    selected = comparable_pairs(
        points,
        spec_method=spec_method,
        engine=engine,
        acceptance_points=points if wide == flt else load_points(db, wide),
        **options,
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
            load_points(db, PointFilter(model=cmp.model, hardware=cmp.hardware)), **options
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


LARGE_REPORT_PAGES = 200


def _pair_identity(pair: ReportPair) -> tuple[str, ...]:
    c = pair.comparison
    return (c.model, c.hardware, c.precision, c.sequence, c.workload, c.spec.label, c.off.label)
