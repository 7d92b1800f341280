"""Rich renderings of the library's results for the terminal. Display only: no computation."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from pydantic import BaseModel
from rich.console import Console
from rich.table import Table

from specscope.analysis.economics import Preset
from specscope.analysis.results import Comparison, Ratio, SideAtTarget
from specscope.theory.explain import Explanation, SweepExplanation

if TYPE_CHECKING:
    from specscope.bench import BenchResult
    from specscope.demo import DemoResult
    from specscope.predict.calibrate import CalibrationResult
    from specscope.predict.curves import Prediction


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
        table.add_row("best g under this c", f"{r.best_gamma} (S {_num(r.best_gamma_speedup, 2)})")
    console.print(table)
    console.print(r.verdict)
    for note in r.notes:
        console.print(f"note: {note}", style="dim")


def _print_sweep(console: Console, r: SweepExplanation) -> None:
    table = Table(title=f"g-sweep {r.source} (off: {r.off_tok_s:.1f} tok/s)", title_justify="left")
    for name in ("g", "tok/s", "speedup", "AL", "a", "r", "c_eff", "repeats"):
        table.add_column(name, justify="right")
    for row in r.rows:
        mark = " ★" if row.gamma == r.best_gamma else ""
        table.add_row(
            f"{row.gamma}{mark}",
            f"{row.tok_s:.1f}",
            f"{row.speedup:.2f}×",
            _num(row.acceptance_length, 2),
            _num(row.alpha),
            _num(row.draft_acceptance_rate),
            _num(row.effective_cost_ratio, 2),
            str(row.repeats),
        )
    console.print(table)
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


def _side_cell(side: SideAtTarget, digits: int, prefix: str = "") -> str:
    return f"{prefix}{side.throughput_per_gpu:.{digits}f}"


def _winner(ratio: Ratio, spec_label: str) -> str:
    if ratio.winner == "tie":
        return "tie"
    return spec_label if ratio.winner == "spec" else "off"


def print_comparison(console: Console, c: Comparison) -> None:
    title = (
        f"{c.spec.label} vs {c.off.label} — {c.model} on {c.hardware} {c.precision}, {c.sequence}"
    )
    band = f"band {c.band[0]:.1f}–{c.band[1]:.1f} tok/s/user"
    econ = c.economics
    console.print(f"[bold]{title}[/]")
    console.print(
        f"{band}; economics: {econ.preset} (${econ.usd_per_gpu_hour:g}/GPU-h, "
        f"{econ.kw_per_gpu:g} kW/GPU, {econ.power_source} power; {econ.source}, {econ.date})"
    )
    table = Table(title_justify="left")
    table.add_column("at interactivity (tok/s/user)")
    for t in c.targets:
        flag = " (clamped)" if t.clamped else ""
        table.add_column(f"{t.interactivity:.1f}{flag}", justify="right")
    spec_name = c.spec.spec_method

    def row(name: str, values: list[str]) -> None:
        table.add_row(name, *values)

    row(
        f"throughput {spec_name} (tok/s/GPU)",
        [f"{t.spec.throughput_per_gpu:.1f}{_ci(t.spec)}" for t in c.targets],
    )
    row(
        "throughput off (tok/s/GPU)",
        [f"{t.off.throughput_per_gpu:.1f}{_ci(t.off)}" for t in c.targets],
    )
    row(f"cost {spec_name} ($/M tok)", [f"${t.spec.usd_per_mtok:.3f}" for t in c.targets])
    row("cost off ($/M tok)", [f"${t.off.usd_per_mtok:.3f}" for t in c.targets])
    row(f"tok/s/MW {spec_name}", [f"{t.spec.tok_s_per_mw:,.0f}" for t in c.targets])
    row("tok/s/MW off", [f"{t.off.tok_s_per_mw:,.0f}" for t in c.targets])
    row(f"concurrency {spec_name}", [_conc(t.spec) for t in c.targets])
    row("concurrency off", [_conc(t.off) for t in c.targets])
    row("cheaper", [f"{_winner(t.cost, spec_name)}: {t.cost.wording}" for t in c.targets])
    row(
        "more tok/s/GPU",
        [f"{_winner(t.throughput, spec_name)}: {t.throughput.wording}" for t in c.targets],
    )
    console.print(table)
    for t in c.targets:
        console.print(t.narrative)
        console.print()
    for caveat in c.caveats:
        console.print(f"caveat: {caveat}", style="dim")


def _ci(side: SideAtTarget) -> str:
    if side.throughput_ci is None:
        return ""
    lo, hi = side.throughput_ci
    return f" [{lo:.0f}–{hi:.0f}]"


def _conc(side: SideAtTarget) -> str:
    if side.concurrency is None:
        return "–"
    return (
        f"~{side.concurrency:.0f}" if side.concurrency_interpolated else f"{side.concurrency:.0f}"
    )


# --------------------------------------------------------------------------------------------
# demo


def print_demo(console: Console, result: DemoResult) -> None:
    console.rule("n-gram speculation vs off, at matched interactivity")
    for comparison in result.comparisons:
        print_comparison(console, comparison)
    if result.ngram_sweep is not None:
        console.rule("n-gram: speedup and cost ratio per draft depth (concurrency 1)")
        print_explanation(console, result.ngram_sweep)
    if result.synthetic_sweep is not None:
        console.rule("synthetic acceptance: this CPU's cost ratio c (concurrency 1)")
        print_explanation(console, result.synthetic_sweep)
        for row in result.synthetic_sweep.rows:
            if row.effective_cost_ratio is None or row.acceptance_length is None:
                continue
            needed = 1 + row.gamma * row.effective_cost_ratio
            console.print(
                f"Measured on this CPU: c_eff = {row.effective_cost_ratio:.2f} at g = {row.gamma} "
                f"(acceptance pinned to AL {row.acceptance_length:.2f}, speedup "
                f"{row.speedup:.2f}×). At this cost a drafter must reach AL > 1 + g·c = "
                f"{needed:.2f} at g = {row.gamma} before speculation pays here."
            )
    if result.lossless:
        console.rule("lossless check (temperature 0: spec-on text vs spec-off text)")
        for item in result.lossless:
            line = f"{item.config}: {item.identical}/{item.compared} identical"
            if item.first_divergence_tokens:
                firsts = ", ".join(
                    "?" if t is None else str(t) for t in item.first_divergence_tokens
                )
                line += f"; others first differ after token {firsts}"
            console.print(line)
        console.print(
            "llama.cpp's CPU kernels are not batch-invariant: a token scored inside a multi-token "
            "verify can flip a near-tie, so a divergence is a finding, not a bug in acceptance.",
            style="dim",
        )
    if result.report:
        console.print(f"\nreport (open in a browser, works offline): {result.report}")
    console.print(
        f"run {result.run_id} is in {result.db}: try `specscope compare --db {result.db} "
        "--spec ngram-mod --hardware cpu` or `specscope export --db ...`"
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
        )
    console.print(table)
    for row in result.points:
        if row.point.error:
            console.print(f"c={row.point.config.concurrency}: {row.point.error}", style="yellow")
    console.print(result.power_note, style="dim")


# --------------------------------------------------------------------------------------------
# predict


def print_prediction(console: Console, p: Prediction) -> None:
    req = p.request
    console.print(
        f"[bold]predicted[/] {req.spec_method} vs off: {p.model.key} {p.precision} on "
        f"{p.n_gpus}× {p.hardware.key}, {req.isl}/{req.osl} "
        f"({'calibrated profile' if p.calibrated else 'uncalibrated defaults'}; "
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
    console.print(table)
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
        if gain.gain is not None:
            console.print(
                f"at {gain.interactivity:.0f} tok/s/user, g={gain.draft_depth}: "
                f"{gain.gain:.2f}× off's tok/s/GPU {gain.note}".rstrip()
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
