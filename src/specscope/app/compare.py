"""``specscope compare``: the spec and off series of a selection, compared at matched
interactivity and priced."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from specscope.analysis.compare import compare
from specscope.analysis.results import AcceptanceByDepth, Comparison
from specscope.analysis.series import Series, select_pair
from specscope.app.options import CompareOptions, Selection
from specscope.app.points import load_points, point_filter, require_store
from specscope.report.acceptance import acceptance_by_workload, workloads_side_by_side
from specscope.store.db import PointFilter, Store

DEFAULT_SPEC_METHOD = "mtp"
"""The spec side compare reads when the selection names no method."""


def compare_store(
    db: Path,
    selection: Selection | None = None,
    options: CompareOptions | None = None,
    *,
    lean: bool = True,
) -> list[Comparison]:
    """Select the spec and off series from the store and compare them at matched interactivity.

    One Comparison per engine that has both sides (or one pooled comparison with
    ``options.pool``), on one workload and one sequence (picked, with a note, when the selection
    leaves several). Each carries the spec method's acceptance on every workload of its model,
    hardware, precision and engine(s) (``acceptance_by_workload``). Points are read lean (only
    what the comparison uses) unless ``lean=False``; the result is the same either way. No
    selection: every point (mtp as the spec side); no options: the defaults.
    """
    selection = selection or Selection()
    options = options or CompareOptions()
    require_store(db)
    flt = point_filter(selection)
    points = load_points(db, flt, lean=lean)
    pairs = select_pair(
        points,
        spec_method=selection.spec_method or DEFAULT_SPEC_METHOD,
        pool=options.pool,
        engine=selection.engine,
    )
    rows = _workload_acceptance(db, flt, [spec for spec, _ in pairs])
    return [
        compare_priced(spec, off, options, rows).model_copy(
            update={"adaptive": _adaptive_answers(db, spec, off)}
        )
        for spec, off in pairs
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


def compare_priced(
    spec: Series,
    off: Series,
    options: CompareOptions,
    acceptance: Sequence[AcceptanceByDepth],
) -> Comparison:
    """compare() at ``options.targets``, with the economics of the spec side's hardware, its
    workload, and the ``acceptance`` rows (:func:`acceptance_by_workload`) of its method and
    engines when they cover several workloads."""
    economics = options.economics.resolve(spec.points[0].config.hardware)
    comparison = compare(spec, off, economics, options.targets)
    return comparison.model_copy(
        update={
            "workload": spec.workload,
            "acceptance_by_workload": workloads_side_by_side(
                acceptance, spec.spec_method, spec.engines
            ),
        }
    )
