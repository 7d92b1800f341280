"""The commands that compare what the store holds: presets, compare, report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from specscope.app.options import CompareOptions, Selection
from specscope.cli.common import DEFAULT_DB, DbOption, JsonOption, err, out, print_json, user_errors
from specscope.cli.selection import comparison_flags


@user_errors
def presets_cmd(as_json: JsonOption = False) -> None:
    """List the price and power presets: name, date, source and $/GPU-hour and kW per hardware."""
    from specscope.analysis.economics import list_presets

    presets = list_presets()
    if as_json:
        print_json([p.model_dump(mode="json") for p in presets])
        return
    from specscope.console import presets_table

    for table in presets_table(presets):
        out.print(table)


CompareSpec = Annotated[
    str, typer.Option("--spec", help="Spec method of the 'on' series (mtp, eagle3, ngram...).")
]


@user_errors
@comparison_flags(CompareSpec, "mtp")
def compare_cmd(
    *,
    selection: Selection,
    comparing: CompareOptions,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Compare spec-on vs spec-off at matched interactivity (tok/s/user).

    Each side's Pareto frontier (throughput/GPU vs interactivity) is interpolated with a monotone
    cubic (Steffen slopes) at the targets; cost and tok/s/MW come from the interpolated throughput.
    Default targets come only from the band where both series were measured; with no overlap
    nothing is compared and both ranges are printed. A target faster than a side's fastest point
    is refused for that side ("cannot reach", no winner); a side that runs faster than asked is
    held at its slowest measured point and the sentence says so. Workloads
    are never pooled: without --workload the one measured most on both sides is compared (a note
    says which), and the spec method's acceptance on every workload is listed beside it.
    """
    from specscope.app.compare import compare_store

    comparisons = compare_store(db, selection, comparing)
    if as_json:
        if len(comparisons) == 1:
            print_json(comparisons[0])
        else:
            print_json({"comparisons": [c.model_dump(mode="json") for c in comparisons]})
        return
    from specscope.console import print_comparison

    for comparison in comparisons:
        print_comparison(out, comparison)


ReportSpec = Annotated[
    str | None,
    typer.Option("--spec", help="Only this spec method (default: every method with an off side)."),
]


@user_errors
@comparison_flags(ReportSpec, None)
def report_cmd(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the report into.")] = Path(
        "specscope-report"
    ),
    *,
    selection: Selection,
    comparing: CompareOptions,
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Write the comparison as a self-contained HTML page (works offline), PNG charts and Markdown.

    With filters that select one comparison, index.html is its page; otherwise every comparable
    pair (model × hardware × precision × sequence × workload × method × engine) gets a page and
    index.html lists them with their headline ratio. Each page sets the spec method's acceptance
    on every measured workload side by side.
    """
    from specscope.app.report import write_store_report

    output = write_store_report(db, out_dir, selection, comparing, warn=err.print)
    if as_json:
        print_json(output)
        return
    out.print(
        f"wrote {output.index} ({len(output.pages)} page(s), {len(output.pngs)} PNG(s), "
        f"{output.markdown})"
    )
