"""``report.md``: the table at the targets, the narrative and the caveats, with the PNGs linked.

Data strings are escaped for Markdown and for the HTML a Markdown renderer passes through, so a
label such as ``<script>`` shows as text wherever the file is rendered.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from specscope.analysis.narrative import (
    describe_comparison,
    display_name,
    fmt_concurrency,
    fmt_factor,
    fmt_interactivity,
    fmt_usd,
)
from specscope.analysis.results import Ratio, SideAtTarget, TargetComparison
from specscope.client.hostload import disturbance_summary, host_record
from specscope.report.models import AcceptanceByDepth, PairFiles, ReportPair

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~$])")


def md(text: str) -> str:
    """Escape a text for Markdown: emphasis, links, tables, math (``$``) and raw HTML stay text."""
    escaped = _MD_SPECIAL.sub(r"\\\1", text)
    escaped = escaped.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "\\" + escaped if escaped.startswith(("#", "+", "-", "=")) else escaped


def _link(path: str) -> str:
    """A relative link target: spaces and brackets percent-encoded."""
    return path.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _metric_rows(
    pair: ReportPair,
    title: str,
    value: Callable[[SideAtTarget], str],
    winner: Callable[[TargetComparison], str],
    wording: Callable[[TargetComparison], str],
) -> list[str]:
    cmp = pair.comparison
    rows: list[str] = []
    for side, label in (("spec", cmp.spec.label), ("off", cmp.off.label)):
        cells = [f"{md(title)}, {md(display_name(label))}"]
        for t in cmp.targets:
            text = value(t.spec if side == "spec" else t.off)
            cells.append(f"**{md(text)}** ✓" if winner(t) == side else md(text))
        rows.append(_row(cells))
    rows.append(_row([f"{md(title)}, ratio", *(md(wording(t)) for t in cmp.targets)]))
    return rows


def _who(t_winner: str, pair: ReportPair) -> str:
    cmp = pair.comparison
    if t_winner == "tie":
        return f"{display_name(cmp.spec.label)} vs {display_name(cmp.off.label)}"
    return display_name(cmp.spec.label if t_winner == "spec" else cmp.off.label)


def _throughput(side: SideAtTarget) -> str:
    text = f"{side.throughput_per_gpu:,.1f}"
    if side.throughput_ci is not None:
        lo, hi = side.throughput_ci
        text += f" (95 % CI {lo:,.1f}–{hi:,.1f})"
    return text


def _concurrency(side: SideAtTarget) -> str:
    if side.concurrency is None:
        return "n/a"
    return ("~" if side.concurrency_interpolated else "") + fmt_concurrency(side.concurrency)


def _winner(ratio: Ratio | None) -> str:
    return "none" if ratio is None else ratio.winner


def _ratio_text(ratio: Ratio | None, t: TargetComparison, pair: ReportPair) -> str:
    if ratio is None:
        return f"not compared: {t.refusal or 'a side cannot reach this target'}"
    text = f"{_who(ratio.winner, pair)} {ratio.wording}"
    if ratio.factor_ci is not None:
        lo, hi = ratio.factor_ci
        text += f", 95 % CI {fmt_factor(lo)}–{fmt_factor(hi)}"
    return text


def comparison_table(pair: ReportPair) -> list[str]:
    """The table at the targets: each metric for both sides (winner in bold) and the ratio."""
    cmp = pair.comparison
    header = ["Target (tok/s/user)"]
    for t in cmp.targets:
        cell = fmt_interactivity(t.interactivity)
        if t.requested != t.interactivity:
            cell += f" (asked {fmt_interactivity(t.requested)}, clamped)"
        elif t.clamped:
            cell += " (a side clamped)"
        header.append(cell)
    lines = [_row(header), _row(["---"] * len(header))]
    lines += _metric_rows(
        pair,
        "Throughput (tok/s/GPU)",
        _throughput,
        lambda t: _winner(t.throughput),
        lambda t: _ratio_text(t.throughput, t, pair),
    )
    lines += _metric_rows(
        pair,
        "Cost ($/M tokens)",
        lambda s: fmt_usd(s.usd_per_mtok),
        lambda t: _winner(t.cost),
        lambda t: _ratio_text(t.cost, t, pair),
    )
    lines += _metric_rows(
        pair,
        "tok/s/MW",
        lambda s: f"{s.tok_s_per_mw:,.0f}",
        lambda t: _winner(t.power),
        lambda t: _ratio_text(t.power, t, pair),
    )
    for side, label in (("spec", cmp.spec.label), ("off", cmp.off.label)):
        cells = [f"Concurrency, {md(display_name(label))}"]
        cells += [_concurrency(t.spec if side == "spec" else t.off) for t in cmp.targets]
        lines.append(_row(cells))
    return lines


def acceptance_table(rows: Sequence[AcceptanceByDepth]) -> list[str]:
    """AL, rate and per-position acceptance per engine and g."""
    width = max((len(r.per_position) for r in rows), default=0)
    header = ["Engine", "g", "Points", "AL", "Rate r", *(f"p{k}" for k in range(1, width + 1))]
    lines = [_row(header), _row(["---"] * len(header))]
    for r in rows:
        al = "n/a" if r.acceptance_length is None else f"{r.acceptance_length:.2f}"
        rate = "n/a" if r.draft_acceptance_rate is None else f"{r.draft_acceptance_rate:.3f}"
        draft_depth = "?" if r.draft_depth is None else str(r.draft_depth)
        cells = [md(r.engine), draft_depth, str(r.n_points), al, rate]
        cells += [f"{p:.3f}" for p in r.per_position]
        cells += [""] * (width - len(r.per_position))
        lines.append(_row(cells))
    return lines


def _count(value: int | None) -> str:
    return "n/a" if value is None else f"{value:,}"


def workload_acceptance_table(rows: Sequence[AcceptanceByDepth], current: str) -> list[str]:
    """One spec method's acceptance per engine, g and workload side by side; the rows of the
    ``current`` workload (the page's own) marked."""
    header = ["Engine", "g", "Workload", "Points", "Verify steps", "Drafted", "Accepted"]
    header += ["AL", "Rate r"]
    lines = [_row(header), _row(["---"] * len(header))]
    for r in rows:
        name = md(r.workload or "unnamed")
        cells = [
            md(r.engine),
            "?" if r.draft_depth is None else str(r.draft_depth),
            f"**{name}** (this page)" if r.workload == current else name,
            str(r.n_points),
            _count(r.drafts),
            _count(r.draft_tokens),
            _count(r.accepted_tokens),
            "n/a" if r.acceptance_length is None else f"{r.acceptance_length:.2f}",
            "n/a" if r.draft_acceptance_rate is None else f"{r.draft_acceptance_rate:.3f}",
        ]
        lines.append(_row(cells))
    return lines


def host_lines(pair: ReportPair) -> list[str]:
    """How many of the pair's points other processes disturbed, then each disturbed or
    re-measured point with its marks (⚠ disturbed, ↻ re-measured) and note; empty when no point
    has a host record."""
    summary = disturbance_summary([*pair.spec_points, *pair.off_points])
    if summary is None:
        return []
    lines = [md(summary)]
    sides = (
        (pair.comparison.spec.label, pair.spec_points),
        (pair.comparison.off.label, pair.off_points),
    )
    marked: list[str] = []
    for label, points in sides:
        for point in points:
            record = host_record(point.provenance.extra)
            note = None if record is None else record.note(point.interactivity)
            if record is None or note is None:
                continue
            cfg = point.config
            where = display_name(label) + ("" if cfg.is_off else f" g={cfg.draft_depth}")
            if cfg.concurrency is not None:
                where += f", concurrency {fmt_concurrency(cfg.concurrency)}"
            where += f", repeat {point.repeat}"
            marked.append(f"- {record.marks} {md(where)}: {md(note)}")
    if marked:
        lines += ["", *marked]
    return lines


def pair_section(
    pair: ReportPair, files: PairFiles, acceptance: Sequence[AcceptanceByDepth], level: int
) -> str:
    """One pair's section: heading, hero chart, table, narrative, caveats, acceptance."""
    cmp = pair.comparison
    hashes = "#" * level
    title = (
        f"{md(cmp.model)} on {md(cmp.hardware)} {md(cmp.precision)}, {md(cmp.slice_label)}: "
        f"{md(display_name(cmp.spec.label))} vs {md(display_name(cmp.off.label))}"
    )
    econ = cmp.economics
    parts = [
        f"{hashes} {title}",
        f"![Throughput against interactivity]({_link(files.hero_png)})",
        f"Interactive page: [{md(files.page)}]({_link(files.page)}). Prices: "
        + md(
            f"${econ.usd_per_gpu_hour:g}/GPU-hour and {econ.kw_per_gpu:g} kW/GPU from "
            f"{econ.preset} ({econ.date}; {econ.source})."
        ),
        *(["\n".join(comparison_table(pair))] if cmp.targets else []),
        "\n\n".join(md(paragraph) for paragraph in describe_comparison(cmp)),
    ]
    if cmp.caveats:
        parts.append(
            "Caveats:\n\n" + "\n".join(f"- {md(c[:1].upper() + c[1:])}" for c in cmp.caveats)
        )
    host = host_lines(pair)
    if host:
        parts.append("\n".join(host))
    by_workload = cmp.acceptance_by_workload
    if acceptance or by_workload:
        blocks = [f"{hashes}# Acceptance"]
        if acceptance:
            blocks.append("\n".join(acceptance_table(acceptance)))
        if by_workload:
            blocks.append(
                md(
                    f"Acceptance of {display_name(cmp.spec.spec_method)} on every workload "
                    "measured for this model, hardware, precision and engine (every sequence "
                    "summed; AL = 1 + accepted / verify steps, r = accepted / drafted):"
                )
            )
            blocks.append("\n".join(workload_acceptance_table(by_workload, cmp.workload)))
        if files.acceptance_png:
            blocks.append(f"![Acceptance by draft depth]({_link(files.acceptance_png)})")
        parts.append("\n\n".join(blocks))
    return "\n\n".join(parts)


def render_markdown(
    pairs: Sequence[ReportPair],
    files: Sequence[PairFiles],
    acceptance: Sequence[Sequence[AcceptanceByDepth]],
) -> str:
    """``report.md`` for one pair (a single section) or many (a list, then a section each)."""
    if len(pairs) == 1:
        return pair_section(pairs[0], files[0], acceptance[0], level=1) + "\n"
    lines = [
        "# specscope comparisons",
        "",
        f"{len(pairs)} pairs; the headline is the cost ratio at each pair's middle target.",
        "",
    ]
    for pair, f in zip(pairs, files, strict=True):
        cmp = pair.comparison
        name = (
            f"{md(cmp.model)} · {md(cmp.hardware)} {md(cmp.precision)} · {md(cmp.slice_label)} · "
            f"{md(display_name(cmp.spec.label))}"
        )
        lines.append(f"- [{name}]({_link(f.page)}): {md(f.headline)}")
    sections = [
        pair_section(p, f, a, level=2) for p, f, a in zip(pairs, files, acceptance, strict=True)
    ]
    return "\n".join(lines) + "\n\n" + "\n\n".join(sections) + "\n"
