"""Typed inputs and outputs of the report writer.

A :class:`ReportPair` is everything one comparison page needs: the measured points of both sides,
the :class:`~specscope.analysis.results.Comparison` that ``compare`` computed for them, and (when
the store has it) acceptance by draft depth. The writer turns a list of pairs into HTML pages,
PNG charts and a Markdown summary and answers with a :class:`ReportOutput`.
:class:`AcceptanceByDepth` lives with the comparison results (``compare`` carries acceptance per
workload) and is re-exported here.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from specscope.analysis.results import AcceptanceByDepth, Comparison
from specscope.schema import Point

__all__ = ["AcceptanceByDepth", "ExplainRow", "PairFiles", "ReportOutput", "ReportPair"]


class ExplainRow(BaseModel):
    """A measured spec point paired with the Off point at the same concurrency and engine."""

    model_config = ConfigDict(frozen=True)

    engine: str
    draft_depth: int = Field(ge=1)
    concurrency: int = Field(ge=1)
    acceptance_length: float
    spec_interactivity: float
    """tok/s/user with spec on (mean over repeats)."""
    off_interactivity: float
    """tok/s/user with spec off at the same concurrency (mean over repeats)."""
    speedup: float
    """S = spec / off decode rate per user."""
    c_eff: float
    """Measured effective cost ratio (AL / S − 1) / g."""
    c_break_even: float
    """The cost ratio at which this AL stops paying, (AL − 1) / g."""


class ReportPair(BaseModel):
    """One comparison: the selected points of both sides and the computed answer."""

    model_config = ConfigDict(frozen=True)

    comparison: Comparison
    spec_points: list[Point]
    """The points of the spec series (one method × engine, or the engines the user pooled)."""
    off_points: list[Point]
    """The points of the Off series."""
    acceptance: list[AcceptanceByDepth] | None = None
    """Acceptance per engine and g; None derives it from ``spec_points``' counters."""


class PairFiles(BaseModel):
    """The files written for one pair, relative to the output folder."""

    model_config = ConfigDict(frozen=True)

    page: str
    hero_png: str
    acceptance_png: str | None
    """None when no point of the spec series carries acceptance counters."""
    headline: str


class ReportOutput(BaseModel):
    """What :func:`specscope.report.write_report` wrote."""

    model_config = ConfigDict(frozen=True)

    out_dir: Path
    index: Path
    """``index.html``: the pair's page when there is one pair, else the index of pages."""
    pages: list[Path]
    """One HTML page per pair (the index itself when there is one pair)."""
    pngs: list[Path]
    markdown: Path
    pairs: list[PairFiles]
    page_bytes: dict[str, int] = Field(default_factory=dict)
    """Size of each HTML file written, by file name."""
