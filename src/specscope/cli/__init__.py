"""The ``specscope`` command line: parse flags into the application layer's options
(:mod:`specscope.app`), call it, print the result. No logic lives here.

The commands live by group (data, analyse, theory, measure); this module lists them in
the order ``--help`` shows them.
"""

from __future__ import annotations

import os

import typer

from specscope.cli.analyse import compare_cmd, presets_cmd, report_cmd
from specscope.cli.common import OneLineChoices
from specscope.cli.data import export_cmd, import_inferencex_cmd, import_specscope_cmd
from specscope.cli.measure import bench_cmd, demo_cmd, sweep_cmd
from specscope.cli.theory import explain_cmd, predict_cmd
from specscope.terminal import install_safe_logging

app = typer.Typer(
    name="specscope",
    cls=OneLineChoices,
    help=(
        "Does speculative decoding (MTP, EAGLE, a draft model, n-gram) pay off on your "
        "hardware, for your model and traffic, and at which draft depth? Measure spec off and "
        "on, compare at matched interactivity (tok/s/user) in tok/s/GPU, $/M tokens and "
        "tok/s/MW, and explain the result with the Leviathan model (acceptance a, draft depth g, "
        "cost ratio c)."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
import_app = typer.Typer(help="Bring benchmark results from other tools into the store.")
app.add_typer(import_app, name="import", rich_help_panel="Data")

import_app.command("inferencex")(import_inferencex_cmd)
import_app.command("specscope")(import_specscope_cmd)
app.command("export", rich_help_panel="Data")(export_cmd)
app.command("presets", rich_help_panel="Analyse")(presets_cmd)
app.command("compare", rich_help_panel="Analyse")(compare_cmd)
app.command("explain", rich_help_panel="Analyse")(explain_cmd)
app.command("sweep", rich_help_panel="Measure")(sweep_cmd)
app.command("demo", rich_help_panel="Measure")(demo_cmd)
app.command("bench", rich_help_panel="Measure")(bench_cmd)
app.command("report", rich_help_panel="Analyse")(report_cmd)
app.command("predict", rich_help_panel="Analyse")(predict_cmd)


def main() -> None:
    """Entry point of the ``specscope`` console script."""
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    install_safe_logging()
    app()


__all__ = ["app", "main"]
