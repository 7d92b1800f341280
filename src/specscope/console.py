"""Rich renderings of the library's results for the terminal. Display only: no computation."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from specscope.analysis.economics import Preset
from specscope.analysis.narrative import (
    fmt_concurrency,
    fmt_factor,
    fmt_interactivity,
    fmt_tie_factor,
    fmt_usd,
)
from specscope.analysis.results import AcceptanceByDepth, Comparison, Ratio, SideAtTarget
from specscope.client.hostload import disturbance_summary, host_note, host_record
from specscope.schema import Point
from specscope.theory.explanation import Explanation, SweepExplanation

if TYPE_CHECKING:
    from specscope.app.bench import BenchResult
    from specscope.app.demo import DemoResult
    from specscope.predict.calibrate import CalibrationResult
    from specscope.predict.prediction import Prediction


TABLE_WIDTH = 100
"""Tables are laid out in at most this many columns (rich wraps their cells to fit), so the
demo's and compare's tables read in a 100-column terminal and in logs."""


def print_table(console: Console, table: Table) -> None:
    """Print a table no wider than ``TABLE_WIDTH`` (or the terminal, when narrower)."""
    console.print(table, width=min(console.width, TABLE_WIDTH))


def _num(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


# --------------------------------------------------------------------------------------------
# explain


def print_explanation(console: Console, result: BaseModel) -> None:
    if isinstance(result, Explanation):
        _print_measurement(console, result)
    elif isinstance(result, SweepExplanation):
        _print_sweep(console, result)
    else:  # pragma: no cover - the CLI passes only the two kinds
        console.print(result.model_dump_json(indent=2))


def _print_measurement(console: Console, r: Explanation) -> None:
    table = Table(title="Leviathan model", show_header=False, title_justify="left")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    given = r.acceptance_input
    table.add_row("acceptance given", f"{given.value:g} ({given.kind})")
    table.add_row("per-token acceptance a", _num(r.alpha))
    table.add_row("acceptance length AL", _num(r.acceptance_length))
    table.add_row("draft acceptance rate r", _num(r.draft_acceptance_rate))
    table.add_row("draft depth g", str(r.gamma))
    table.add_row("expected tokens per step E", _num(r.expected_tokens_per_step))
    if r.speedup is not None:
        table.add_row(f"speedup S ({r.speedup_source})", _num(r.speedup))
    if r.implied_cost_ratio is not None:
        table.add_row("implied cost ratio c", _num(r.implied_cost_ratio))
    if r.cost_ratio is not None and r.cost_ratio_source == "given":
        table.add_row("given cost ratio c", _num(r.cost_ratio))
    table.add_row("break-even cost ratio c*", _num(r.break_even_cost_ratio))
    if r.best_gamma is not None:
        limit = " ⚠ S still rising at the search limit" if r.best_gamma_at_limit else ""
        table.add_row(
            "best g under this c", f"{r.best_gamma:,} (S {_num(r.best_gamma_speedup, 2)}){limit}"
        )
    print_table(console, table)
    console.print(r.verdict)
    for note in r.notes:
        console.print(f"note: {note}", style="dim")


def _print_sweep(console: Console, r: SweepExplanation) -> None:
    table = Table(title=f"g-sweep {r.source} (off: {r.off_tok_s:.1f} tok/s)", title_justify="left")
    assumed = any(row.alpha_assumed for row in r.rows)
    names = ["g", "tok/s", "speedup", "AL", "a", "r", "c_eff", "c*", "AL needed", "repeats"]
    for name in [*names, "AL from"] if assumed else names:
        table.add_column(name, justify="left" if name == "AL from" else "right")
    for row in r.rows:
        mark = " ★" if row.gamma == r.best_gamma else ""
        cells = [
            f"{row.gamma}{mark}",
            f"{row.tok_s:.1f}",
            f"{row.speedup:.2f}×",
            _num(row.acceptance_length, 2),
            _num(row.alpha),
            _num(row.draft_acceptance_rate),
            _num(row.effective_cost_ratio, 2),
            _num(row.break_even_cost_ratio, 2),
            _num(row.needed_acceptance_length, 2),
            str(row.repeats),
        ]
        if assumed:
            cells.append(
                "assumed a" if row.alpha_assumed else "" if row.alpha is None else "measured"
            )
        table.add_row(*cells)
    print_table(console, table)
    console.print(
        "c_eff = (AL/S − 1)/g, the measured cost of a draft token in target steps; "
        "c* = (AL − 1)/g, the cost at which this AL only breaks even; AL needed = 1 + g·c_eff, "
        "what a drafter must reach at this cost to pay.",
        style="dim",
    )
    console.print(r.verdict)
    for line in r.observations:
        console.print(f"• {line}")
    for note in r.notes:
        console.print(f"note: {note}", style="dim")


# --------------------------------------------------------------------------------------------
# presets


def presets_table(presets: Iterable[Preset]) -> list[Table]:
    tables = []
    for preset in presets:
        table = Table(
            title=f"{preset.name}  ({preset.date})",
            caption=preset.source,
            title_justify="left",
            caption_justify="left",
        )
        table.add_column("hardware")
        table.add_column("$/GPU-hour", justify="right")
        table.add_column("all-in kW/GPU", justify="right")
        for key, values in preset.hardware.items():
            table.add_row(key, f"{values.usd_per_gpu_hour:g}", f"{values.kw_per_gpu:g}")
        tables.append(table)
    return tables


# --------------------------------------------------------------------------------------------
# compare


def _winner(ratio: Ratio, spec_label: str) -> str:
    if ratio.winner == "tie":
        return "tie"
    return spec_label if ratio.winner == "spec" else "off"


def _cell(side: SideAtTarget, text: str) -> str:
    return text if side.reaches else "cannot reach"


def _verdict(ratio: Ratio | None, spec_label: str) -> str:
    """Who wins one ratio, compactly: ``mtp 2.29× [1.29–4.64×]`` or ``tie 1.004×``."""
    if ratio is None:
        return "not compared"
    shown = fmt_tie_factor(ratio.factor) if ratio.winner == "tie" else fmt_factor(ratio.factor)
    text = f"{_winner(ratio, spec_label)} {shown}"
    if ratio.factor_ci is not None:
        lo, hi = ratio.factor_ci
        text += f" [{fmt_factor(lo)[:-1]}–{fmt_factor(hi)}]"
    return text


def print_comparison(console: Console, c: Comparison, *, acceptance: bool = True) -> None:
    """The comparison table, narrative and caveats; with ``acceptance``, the spec method's
    acceptance on every workload measured (the demo prints one table for all methods instead).

    The table stays narrow (the demo prints into 100 columns): figures in its cells, the
    winners as ``who factor [95 % CI]``; the sentences below it say the same in words."""
    title = (
        f"{c.spec.label} vs {c.off.label} — {c.model} on {c.hardware} {c.precision}, "
        f"{c.slice_label}"
    )
    band = f"band {fmt_interactivity(c.band[0])}–{fmt_interactivity(c.band[1])} tok/s/user"
    econ = c.economics
    console.print(f"[bold]{title}[/]")
    if c.adaptive:
        console.print("answers of the adaptive sweep that measured these points:", style="bold")
        for line in c.adaptive:
            console.print(f"  {line}", markup=False)
    if c.refusal is not None:
        console.print(c.refusal, markup=False)
        console.print()
        for caveat in c.caveats:
            console.print(f"caveat: {caveat}", style="dim", markup=False)
        return
    console.print(
        f"{band}; economics: {econ.preset} (${econ.usd_per_gpu_hour:g}/GPU-h, "
        f"{econ.kw_per_gpu:g} kW/GPU, {econ.power_source} power; {econ.source}, {econ.date})"
    )
    table = Table(title_justify="left")
    table.add_column("tok/s/user")
    for t in c.targets:
        flag = " (not compared)" if t.refusal else " (clamped)" if t.clamped else ""
        table.add_column(f"{fmt_interactivity(t.interactivity)}{flag}", justify="right")
    spec_name = c.spec.spec_method

    def row(name: str, values: list[str]) -> None:
        table.add_row(name, *values)

    row(
        f"{spec_name} tok/s/GPU",
        [_cell(t.spec, f"{t.spec.throughput_per_gpu:,.1f}{_ci(t.spec)}") for t in c.targets],
    )
    row(
        "off tok/s/GPU",
        [_cell(t.off, f"{t.off.throughput_per_gpu:,.1f}{_ci(t.off)}") for t in c.targets],
    )
    row(f"{spec_name} $/M tok", [_cell(t.spec, fmt_usd(t.spec.usd_per_mtok)) for t in c.targets])
    row("off $/M tok", [_cell(t.off, fmt_usd(t.off.usd_per_mtok)) for t in c.targets])
    row(f"{spec_name} tok/s/MW", [_cell(t.spec, f"{t.spec.tok_s_per_mw:,.0f}") for t in c.targets])
    row("off tok/s/MW", [_cell(t.off, f"{t.off.tok_s_per_mw:,.0f}") for t in c.targets])
    row(f"{spec_name} concurrency", [_cell(t.spec, _conc(t.spec)) for t in c.targets])
    row("off concurrency", [_cell(t.off, _conc(t.off)) for t in c.targets])
    row("cheaper [95 % CI]", [_verdict(t.cost, spec_name) for t in c.targets])
    print_table(console, table)
    for t in c.targets:
        console.print(t.narrative, markup=False)
        console.print()
    for caveat in c.caveats:
        console.print(f"caveat: {caveat}", style="dim", markup=False)
    if acceptance and c.acceptance_by_workload:
        console.print()
        print_table(
            console,
            workload_acceptance_table(c.spec.spec_method, c.acceptance_by_workload, c.workload),
        )
        console.print(
            "every sequence summed; steps = verify steps, AL = 1 + accepted / steps, "
            "r = accepted / drafted",
            style="dim",
        )


def workload_acceptance_table(
    method: str, rows: Iterable[AcceptanceByDepth], compared: str | None
) -> Table:
    """One spec method's acceptance per engine, g and workload, side by side (under 100
    columns), the ``compared`` workload's rows marked and bold (None: no row is marked)."""
    table = Table(title=f"acceptance of {method} per workload", title_justify="left")
    table.add_column("engine")
    table.add_column("g", justify="right")
    table.add_column("workload")
    for name in ("points", "steps", "drafted", "accepted", "r", "AL"):
        table.add_column(name, justify="right")
    for row in rows:
        mine = compared is not None and row.workload == compared
        name = row.workload or "unnamed"
        table.add_row(
            row.engine,
            "–" if row.draft_depth is None else str(row.draft_depth),
            f"{name} (compared)" if mine else name,
            str(row.n_points),
            _count(row.drafts),
            _count(row.draft_tokens),
            _count(row.accepted_tokens),
            _num(row.draft_acceptance_rate),
            _num(row.acceptance_length, 2),
            style="bold" if mine else None,
        )
    return table


def _count(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


def _ci(side: SideAtTarget) -> str:
    if side.throughput_ci is None:
        return ""
    lo, hi = side.throughput_ci
    return f" [{lo:,.0f}–{hi:,.0f}]"


def _conc(side: SideAtTarget) -> str:
    if side.concurrency is None:
        return "–"
    text = fmt_concurrency(side.concurrency)
    return f"~{text}" if side.concurrency_interpolated else text


# --------------------------------------------------------------------------------------------
# demo


def print_demo(console: Console, result: DemoResult) -> None:
    for item in result.comparisons:
        c = item.comparison
        console.rule(f"{c.spec.label} vs off on {item.workload}, at matched interactivity")
        print_comparison(console, c, acceptance=False)
    for sweep in result.sweeps:
        console.rule(
            f"{sweep.spec_method} on {sweep.workload}: speed and cost ratio per draft depth "
            "(concurrency 1)"
        )
        print_explanation(console, sweep.explanation)
    if result.acceptance:
        console.rule("acceptance per workload (the same drafter on different text)")
        for method in dict.fromkeys(row.spec_method for row in result.acceptance):
            rows = [row for row in result.acceptance if row.spec_method == method]
            print_table(console, workload_acceptance_table(method, rows, compared=None))
    for note in result.notes:
        console.print(f"note: {note}", style="yellow")
    if result.host is not None:
        console.rule("noise: other processes on this machine during the measured windows")
        console.print(result.host)
        for line in result.host_notes:
            console.print(f"⚠ {line}", style="yellow")
    if result.lossless:
        console.rule("lossless check (temperature 0: spec-on text vs spec-off text)")
        for check in result.lossless:
            line = f"{check.config}: {check.identical}/{check.compared} identical"
            if check.first_divergence_tokens:
                firsts = ", ".join(
                    "?" if t is None else str(t) for t in check.first_divergence_tokens
                )
                line += f"; others first differ after token {firsts}"
            console.print(line)
        console.print(
            "llama.cpp's CPU kernels are not batch-invariant: a token scored inside a multi-token "
            "verify can flip a near-tie, so a divergence is a finding, not a bug in acceptance.",
            style="dim",
        )
    if result.report:
        console.print()
        console.print(f"report (open in a browser, works offline): {result.report}")
    console.print(
        f"run {result.run_id} is in {result.db}: try `specscope compare --db {result.db} "
        "--spec draft --hardware cpu --workload code` or `specscope export --db ...`"
    )


# --------------------------------------------------------------------------------------------
# bench


def print_bench(console: Console, result: BenchResult) -> None:
    table = Table(title=f"run {result.outcome.run_id}", title_justify="left")
    for name in (
        "concurrency",
        "status",
        "tok/s/GPU",
        "output tok/s/GPU",
        "tok/s/user",
        "TTFT p50 (s)",
        "TPOT p50 (ms)",
        "ITL p99 (ms)",
        "AL",
        "goodput req/s",
        "other CPU (cores)",
    ):
        table.add_column(name, justify="right")
    for row in result.points:
        p = row.point
        al = p.acceptance.acceptance_length if p.acceptance else None
        table.add_row(
            str(p.config.concurrency or "–"),
            p.status,
            f"{p.throughput_per_gpu:.1f}",
            _num(p.output_throughput_per_gpu, 1),
            f"{p.interactivity:.1f}",
            _num(p.ttft.median_s, 3),
            _num(None if p.tpot.median_s is None else p.tpot.median_s * 1000, 1),
            _num(None if p.itl.p99_s is None else p.itl.p99_s * 1000, 1),
            _num(al, 2),
            "–" if row.goodput is None else f"{row.goodput.requests_per_s:.2f}",
            host_cell(p),
        )
    print_table(console, table)
    for row in result.points:
        if row.point.error:
            console.print(f"c={row.point.config.concurrency}: {row.point.error}", style="yellow")
        note = host_note(row.point)
        if note is not None:
            console.print(f"c={row.point.config.concurrency}: {note}", style="yellow")
    summary = disturbance_summary([row.point for row in result.points])
    if summary is not None:
        console.print(summary, style="dim")
    console.print(result.power_note, style="dim")


def host_cell(point: Point) -> str:
    """Other processes' + steal cores over the point's window with its marks (⚠ disturbed,
    ↻ re-measured); ``–`` without a host record."""
    record = host_record(point.provenance.extra)
    if record is None:
        return "–"
    return f"{record.foreign_cores:.2f} {record.marks}".rstrip()


# --------------------------------------------------------------------------------------------
# predict


def _uncalibrated(p: Prediction) -> str:
    if p.hardware.has_step_constants:
        return f"uncalibrated: the catalog's {p.hardware.key} family constants"
    return "uncalibrated: assumed default constants"


def _predicted_conc(concurrency: float | None) -> str:
    """A concurrency read off a predicted curve: ``~27.6``, ``16``, ``–``."""
    if concurrency is None:
        return "–"
    text = fmt_concurrency(concurrency)
    return text if concurrency == round(concurrency) else f"~{text}"


def print_prediction(console: Console, p: Prediction) -> None:
    req = p.request
    console.print(
        f"[bold]predicted[/] {req.spec_method} vs off: {p.model.key} {p.precision} on "
        f"{p.n_gpus}× {p.hardware.key}, {req.isl}/{req.osl} "
        f"({'calibrated profile' if p.calibrated else _uncalibrated(p)}; "
        f"acceptance: {p.acceptance})"
    )
    table = Table(title="throughput per GPU (tok/s) and interactivity (tok/s/user) per concurrency")
    table.add_column("concurrency", justify="right")
    for curve in p.curves:
        table.add_column(curve.label, justify="right")
    by_conc: dict[int, list[str]] = {}
    for i, curve in enumerate(p.curves):
        for point in curve.points:
            cells = by_conc.setdefault(point.concurrency, ["–"] * len(p.curves))
            cells[i] = f"{point.throughput_per_gpu:,.0f} @ {point.interactivity:.0f}"
    for conc in sorted(by_conc):
        table.add_row(str(conc), *by_conc[conc])
    print_table(console, table)
    for stop in p.stop_paying:
        depth = "best g" if stop.draft_depth == 0 else f"g={stop.draft_depth}"
        where = (
            f"stops paying at concurrency {stop.concurrency}"
            if stop.concurrency is not None
            else "pays up to the highest concurrency predicted"
        )
        if not stop.pays_at_concurrency_1:
            where = "does not pay even at concurrency 1"
        again = f" (pays again from {stop.pays_again_at})" if stop.pays_again_at else ""
        console.print(f"{depth}: {where}{again}")
    schedule = ", ".join(
        f"{s.concurrency_from}–{s.concurrency_to}: "
        + ("off" if s.best_draft_depth == 0 else f"g={s.best_draft_depth}")
        for s in p.schedule
    )
    console.print(f"draft-length schedule (concurrency: best g): {schedule}")
    for gain in p.matched:
        where = f"g={gain.draft_depth}:"
        if gain.requested is not None:
            where = f"at {gain.interactivity:.0f} tok/s/user, {where}"
        if gain.gain is None:
            console.print(f"{where} {gain.note}")
            continue
        tie = " (a tie: under 1 %)" if gain.winner == "tie" else ""
        note = f"; {gain.note}" if gain.note else ""
        off_c, spec_c = (
            _predicted_conc(gain.off_concurrency),
            _predicted_conc(gain.spec_concurrency),
        )
        console.print(
            f"{where} {gain.gain:.2f}× off's tok/s/GPU{tie}, off at C {off_c}, spec at C {spec_c}"
            f"{note}"
        )
    for warning in p.warnings:
        console.print(f"warning: {warning}", style="yellow")
    console.print(
        f"sources: {len(p.sources)} catalog entries with URLs and dates (see --json)", style="dim"
    )


def print_calibration(console: Console, result: CalibrationResult) -> None:
    prof = result.profile
    fit = prof.fit
    eff = prof.efficiency
    console.print(
        f"[bold]calibrated[/] {prof.hardware.key} × {prof.model} {prof.precision}: "
        f"{fit.n_points} points, median step-time error {fit.median_rel_error:.1%}, "
        f"max {fit.max_rel_error:.1%}"
    )
    console.print(f"fitted: {eff}")
    if result.profile_path:
        console.print(f"profile saved to {result.profile_path} (use --hardware-profile)")
    for line in [*result.skipped, *result.warnings]:
        console.print(f"note: {line}", style="yellow")
