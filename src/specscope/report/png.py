"""PNG charts for slides and posts, drawn with matplotlib's Agg canvas (no browser, no display).

Both charts are a fixed 1600 × 1000 pixels (8 × 5 in at 200 dpi) so a write-up can rely on the
size. Data strings are passed through :func:`plain` so a ``$`` in a model name is drawn as a dollar
sign rather than parsed as mathtext.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from specscope.analysis.narrative import display_name, fmt_interactivity
from specscope.files import write_atomic
from specscope.report.curves import host_counts, series_curve
from specscope.report.models import AcceptanceByDepth, ReportPair

WIDTH_PX = 1600
HEIGHT_PX = 1000
DPI = 200

# Okabe–Ito: distinguishable with the common colour-vision deficiencies.
SPEC_COLOUR = "#D55E00"
OFF_COLOUR = "#0072B2"
OTHER_COLOURS = ("#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#000000", "#F0E442")


def plain(text: str) -> str:
    """Text for matplotlib with mathtext switched off: every ``$`` escaped."""
    return text.replace("$", r"\$")


def _figure() -> Figure:
    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: Path) -> Path:
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=DPI, format="png", metadata={"Software": "specscope"})
    return write_atomic(path, buffer.getvalue())


def chart_title(pair: ReportPair) -> str:
    cmp = pair.comparison
    return (
        f"{cmp.model} · {cmp.hardware} {cmp.precision} · {cmp.slice_label}: "
        f"{display_name(cmp.spec.label)} vs {display_name(cmp.off.label)}"
    )


def write_hero_png(pair: ReportPair, path: Path) -> Path:
    """Throughput/GPU against interactivity: measured points, both frontiers, target markers."""
    cmp = pair.comparison
    fig = _figure()
    ax = fig.add_subplot()
    lo, hi = cmp.band
    ax.axvspan(lo, hi, color="0.92", zorder=0, label="band (both series measured)")
    sides = (
        (pair.spec_points, cmp.spec.label, SPEC_COLOUR, "D", "-"),
        (pair.off_points, cmp.off.label, OFF_COLOUR, "o", "--"),
    )
    rings_labelled = False
    for points, label, colour, marker, dash in sides:
        curve = series_curve(points)
        name = plain(display_name(label))
        ax.scatter(
            curve.ops.interactivity,
            curve.ops.throughput_per_gpu,
            s=22,
            marker=marker,
            color=colour,
            alpha=0.45,
            linewidths=0,
            label=f"{name}, measured",
            zorder=2,
        )
        ringed = [i for i, n in enumerate(host_counts(curve)[0]) if n]
        if ringed:
            ax.scatter(
                curve.ops.interactivity[ringed],
                curve.ops.throughput_per_gpu[ringed],
                s=70,
                marker="o",
                facecolors="none",
                edgecolors="0.15",
                linewidths=1.0,
                label="window disturbed by other processes" if not rings_labelled else None,
                zorder=2,
            )
            rings_labelled = True
        xs, ys = curve.sample()
        if xs.size:
            ax.plot(xs, ys, dash, color=colour, linewidth=2.2, label=f"{name}, frontier", zorder=3)
    for i, target in enumerate(cmp.targets):
        ax.axvline(target.interactivity, color="0.45", linewidth=0.8, linestyle=":", zorder=1)
        for side, colour in ((target.spec, SPEC_COLOUR), (target.off, OFF_COLOUR)):
            ax.scatter(
                [side.interactivity],
                [side.throughput_per_gpu],
                s=90,
                marker="X",
                color=colour,
                edgecolors="white",
                linewidths=0.8,
                zorder=4,
                label="at the targets" if i == 0 and colour == SPEC_COLOUR else None,
            )
        ratio = target.throughput
        ax.annotate(
            "not compared"
            if ratio is None
            else f"{ratio.factor:.2f}×"
            if ratio.winner != "tie"
            else "tie",
            (
                target.interactivity,
                max(target.spec.throughput_per_gpu, target.off.throughput_per_gpu),
            ),
            textcoords="offset points",
            xytext=(4, 6),
            fontsize=7,
            color="0.2",
        )
    ax.set_xlabel("Interactivity (tok/s/user)")
    ax.set_ylabel("Throughput (tok/s/GPU)")
    ax.set_ylim(bottom=0)
    ax.grid(True, color="0.88", linewidth=0.6)
    ax.set_title(plain(chart_title(pair)), fontsize=9)
    band = f"band {fmt_interactivity(lo)}–{fmt_interactivity(hi)} tok/s/user"
    ax.text(0.01, 0.01, band, transform=ax.transAxes, fontsize=6.5, color="0.35")
    ax.legend(fontsize=6.5, loc="upper right", frameon=False)
    return _save(fig, path)


def write_acceptance_png(
    rows: Sequence[AcceptanceByDepth],
    title: str,
    path: Path,
    *,
    by_workload: Sequence[AcceptanceByDepth] = (),
    workload: str = "",
) -> Path:
    """Left: acceptance length per draft depth, one line per engine, or with ``by_workload``
    rows one per engine × workload (``workload``, the page's own, drawn solid and the others
    dashed); right: per-position acceptance for each g of ``rows``."""
    fig = _figure()
    left, right = fig.subplots(1, 2)
    drawn = by_workload or rows
    for i, (engine, line_workload) in enumerate(sorted({(r.engine, r.workload) for r in drawn})):
        mine = [
            r
            for r in drawn
            if (r.engine, r.workload) == (engine, line_workload)
            and r.draft_depth is not None
            and r.acceptance_length is not None
        ]
        label, style = engine, "-o"
        if by_workload:
            own = line_workload == workload
            label = f"{engine} · {line_workload}" + (" (this page)" if own else "")
            style = "-o" if own else "--o"
        draft_depths = [r.draft_depth for r in mine]
        al = [r.acceptance_length for r in mine]
        left.plot(
            draft_depths, al, style, color=OTHER_COLOURS[i % len(OTHER_COLOURS)], label=plain(label)
        )
    top = max((r.draft_depth or 0) + 1 for r in drawn) if drawn else 2
    left.plot([0, top], [1, top + 1], ":", color="0.6", linewidth=0.8, label="all accepted (g + 1)")
    left.set_xlabel("Draft depth g")
    left.set_ylabel("Acceptance length AL (tokens/step)")
    left.set_xlim(0, top)
    left.set_xticks(range(top + 1))
    left.set_ylim(bottom=1)
    left.grid(True, color="0.88", linewidth=0.6)
    left.legend(fontsize=6.5, frameon=False)
    positioned = [r for r in rows if r.per_position]
    width = 0.8 / max(len(positioned), 1)
    for i, r in enumerate(positioned):
        k = np.arange(1, len(r.per_position) + 1)
        right.bar(
            k + (i - (len(positioned) - 1) / 2) * width,
            r.per_position,
            width=width,
            color=OTHER_COLOURS[i % len(OTHER_COLOURS)],
            label=plain(f"{r.engine} g={r.draft_depth}"),
        )
    longest = max((len(r.per_position) for r in positioned), default=1)
    right.set_xticks(range(1, longest + 1))
    right.set_xlabel("Draft position k")
    right.set_ylabel("Accepted share p_k")
    right.set_ylim(0, 1)
    right.grid(True, axis="y", color="0.88", linewidth=0.6)
    if positioned:
        right.legend(fontsize=6.5, frameon=False)
    else:
        right.text(0.5, 0.5, "no per-position counters", ha="center", transform=right.transAxes)
    fig.suptitle(plain(title), fontsize=9)
    return _save(fig, path)


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk; ValueError when the file is not a PNG."""
    head = path.read_bytes()[:24]
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise ValueError(f"{path} is not a PNG file")
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
