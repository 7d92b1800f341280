"""The commands that move data in and out of the store: import inferencex, import specscope,
export."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from specscope.cli.common import DEFAULT_DB, DbOption, JsonOption, err, out, print_json, user_errors
from specscope.errors import UserError
from specscope.files import ExportFormat


@user_errors
def import_inferencex_cmd(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="InferenceX result JSON: agg_*.json files (one point each), JSON arrays of them "
            "(results_bmk/agg_bmk.json), or folders searched recursively for *.json."
        ),
    ],
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Import InferenceX aggregated results (the runner's agg_*.json format).

    Keys are normalised the way the InferenceX dashboard does it (hardware from the runner name,
    framework aliases, fp4 variants, spec_decoding absent = off). Unknown keys are kept. A broken
    file is skipped with one line saying why; importing the same file twice adds nothing. Exits
    0 when any point was imported or was already stored, 2 when no JSON file was found or every
    record was skipped.
    """
    from specscope.store.db import Store
    from specscope.store.inferencex import import_inferencex

    with Store.open(db) as store:
        report = import_inferencex(store, paths)
    named = ", ".join(str(p) for p in paths)
    if report.files == 0:
        raise UserError(f"no *.json files in {named}; give agg_*.json files or folders of them")
    if as_json:
        print_json(report)
    else:
        for skipped in report.skipped:
            err.print(f"skipped {skipped.describe()}", markup=False)
        out.print(
            f"imported from {report.files} file(s) into {db}: {report.summary()}", markup=False
        )
    # Some broken files among good ones is a partial success (exit 0, each skip said above);
    # finding no file, or no usable record at all, is a failed import.
    if report.points_added + report.points_already_present == 0:
        raise UserError(
            f"nothing imported from {named}: all {len(report.skipped)} record(s) or file(s) "
            "were skipped (reasons above); fix them or give InferenceX agg_*.json results"
        )


@user_errors
def import_specscope_cmd(
    paths: Annotated[
        list[Path],
        typer.Argument(
            metavar="OTHER.duckdb",
            help="Other specscope stores, e.g. the results of sweeps run on other machines.",
        ),
    ],
    db: DbOption = DEFAULT_DB,
    as_json: JsonOption = False,
) -> None:
    """Merge other specscope stores into this one: points, their requests and their runs.

    Nothing stored is ever replaced: a point whose run, configuration and results are stored
    already adds nothing (importing a file twice adds nothing), and a different result for a
    stored run and configuration is kept as another repeat, with its source recorded. Each
    source is read without being changed (an older schema is migrated in a temporary copy).
    """
    from specscope.store.db import Store
    from specscope.store.merge import merge_stores

    for path in paths:
        if not path.is_file():
            raise UserError(f"no store file at {path}; give the path of a specscope .duckdb file")
    with Store.open(db) as store:
        report = merge_stores(store, paths)
    if as_json:
        print_json(report)
        return
    for source in report.sources:
        out.print(
            f"{source.path}: {source.summary()}, {source.requests_added} request record(s), "
            f"{source.runs_added} new run(s)",
            markup=False,
        )
    out.print(
        f"imported from {len(report.sources)} store(s) into {db}: {report.summary()}",
        markup=False,
    )


@user_errors
def export_cmd(
    fmt: Annotated[
        ExportFormat, typer.Option("--format", help="csv, parquet or json (one row per point).")
    ] = "csv",
    out_path: Annotated[
        Path | None,
        typer.Option("--out", help="File to write. CSV and JSON go to stdout without it."),
    ] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Export every stored point as CSV, Parquet or JSON, one flat row per point."""
    from specscope.app.points import export_store

    text = export_store(db, fmt, out_path)
    if out_path is None and text is not None:
        sys.stdout.write(text)
    elif out_path is not None:
        err.print(f"wrote {out_path}", markup=False)
