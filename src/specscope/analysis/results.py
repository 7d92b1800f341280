"""Typed results of the spec-vs-off comparison (SPEC.md section 2).

These models are the contract between ``analysis`` (which fills them), the CLI (which prints
them as a table or ``--json``) and ``report`` (which embeds them in the HTML page).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Economics(BaseModel):
    """Price and power used to turn throughput into $/M tokens and tok/s/MW."""

    model_config = ConfigDict(frozen=True)

    preset: str
    """Preset name, or ``custom`` when both values were given by the user."""
    hardware: str
    usd_per_gpu_hour: float = Field(gt=0)
    kw_per_gpu: float = Field(gt=0)
    """All-in kW per GPU (or measured, when every point of both series has measured power)."""
    source: str
    date: str
    overridden: list[str] = Field(default_factory=list)
    """Which of the two values the user overrode on the command line."""
    power_source: Literal["preset", "measured", "override"] = "preset"


class SeriesInfo(BaseModel):
    """One side of a comparison: which points it holds."""

    model_config = ConfigDict(frozen=True)

    label: str
    """Human label, e.g. ``mtp (vllm)`` or ``off (sglang+vllm, pooled)``."""
    spec_method: str
    engines: list[str]
    deployments: list[str] = Field(default_factory=list)
    """``aggregated`` and/or ``disaggregated`` (prefill/decode split); more than one only when
    the user pooled them."""
    n_points: int
    n_frontier: int
    interactivity_range: tuple[float, float]
    draft_depths: list[int] = Field(default_factory=list)
    predicted: bool = False


class SideAtTarget(BaseModel):
    """One series interpolated at one target interactivity."""

    model_config = ConfigDict(frozen=True)

    interactivity: float
    """The interactivity actually evaluated (the target, or the edge it was clamped to)."""
    throughput_per_gpu: float
    usd_per_mtok: float
    tok_s_per_mw: float
    concurrency: float | None
    concurrency_interpolated: bool = True
    """Concurrency between measured points is a spline value, not a measured load."""
    clamped: bool = False
    clamped_below: bool = False
    clamped_above: bool = False
    throughput_ci: tuple[float, float] | None = None
    """95 % confidence interval from repeated runs, where repeats exist."""
    reaches: bool = True
    """False when the target lies above this side's fastest measured interactivity: its figures
    are then its fastest point's, shown for reference, and nothing is compared at the target."""


class Ratio(BaseModel):
    """A true ratio between the two sides and how to say it."""

    model_config = ConfigDict(frozen=True)

    winner: Literal["spec", "off", "tie"]
    factor: float
    """larger / smaller (≥ 1)."""
    percent: float
    """For cost: percent less for the winner (1 − smaller/larger); for throughput: percent more."""
    wording: str
    """E.g. ``costs 56 % less (2.29× cheaper)``."""
    factor_ci: tuple[float, float] | None = None
    """95 % confidence interval of ``factor`` (larger/smaller, the same orientation) from
    repeated runs; the three ratios of a target share it (cost is the inverse of throughput).
    Its lower end can lie below 1: then the repeats do not settle who wins."""
    factor_ci_note: str | None = None
    """Why ``factor_ci`` is None (a side has a single repeat where it is read), else None."""


class TargetComparison(BaseModel):
    """Both sides at one target interactivity, and who wins."""

    model_config = ConfigDict(frozen=True)

    interactivity: float
    """The target as asked (moved up to the band's low edge when it fell below the band; a
    target above the band stays as asked and is refused, see ``refusal``)."""
    requested: float
    clamped: bool
    """True when the requested target was below the band or outside either series' frontier."""
    spec: SideAtTarget
    off: SideAtTarget
    cost: Ratio | None
    """None (with ``refusal`` saying why) when a side cannot reach the target."""
    throughput: Ratio | None
    power: Ratio | None
    narrative: str
    refusal: str | None = None
    """Why nothing is compared at this target (a side cannot reach it), or None."""


class AcceptanceByDepth(BaseModel):
    """Acceptance of one engine at one draft depth g (per spec method and workload where those
    are set), summed over the measured points (``report.acceptance``)."""

    model_config = ConfigDict(frozen=True)

    engine: str
    draft_depth: int | None
    """g; None when the source does not say."""
    spec_method: str = ""
    """Set when rows of several methods sit in one table (``acceptance_by_workload``)."""
    workload: str = ""
    """The workload the counts were taken on; empty when rows pool every workload."""
    n_points: int = Field(ge=1)
    drafts: int | None = None
    draft_tokens: int | None = None
    accepted_tokens: int | None = None
    acceptance_length: float | None = None
    """AL = 1 + accepted / drafts (bonus token included), or the mean engine-reported AL."""
    draft_acceptance_rate: float | None = None
    """r = accepted / drafted tokens."""
    per_position: list[float] = Field(default_factory=list)
    """Unconditional p_k = steps with draft token k accepted / steps, k = 1..g."""


class Comparison(BaseModel):
    """The whole answer of ``specscope compare``."""

    model_config = ConfigDict(frozen=True)

    model: str
    hardware: str
    precision: str
    sequence: str
    isl: int
    osl: int
    workload: str = ""
    """The workload both series were measured on (the recipe's name, e.g. ``code``); empty when
    the points do not name one (InferenceX imports)."""
    spec: SeriesInfo
    off: SeriesInfo
    band: tuple[float, float]
    band_overlaps: bool = True
    """False when the two series' interactivity ranges do not overlap (band is then the union,
    and without given targets there are none: see ``refusal``)."""
    economics: Economics
    targets: list[TargetComparison]
    refusal: str | None = None
    """Why there are no targets (the two series never run at the same interactivity), or None."""
    caveats: list[str] = Field(default_factory=list)
    adaptive: list[str] = Field(default_factory=list)
    """When the compared points come from an adaptive sweep (``sweep --adaptive``): its three
    answers in words (best g per concurrency, where spec stops paying, spec/off at its targets,
    what is still open), stated at the top of the output."""
    statistic: str = ""
    """Which statistic the throughput figures are and which interval they carry
    (``analysis.stats.STATISTIC``)."""
    acceptance_by_workload: list[AcceptanceByDepth] = Field(default_factory=list)
    """The spec method's acceptance on every workload measured for the same model, hardware,
    precision and engine(s), one row per engine × g × workload (every sequence summed); empty
    when the method was measured on one workload only."""

    @property
    def slice_label(self) -> str:
        """How titles name what was compared: ``1k/1k``, or ``164/64, workload code``."""
        return f"{self.sequence}, workload {self.workload}" if self.workload else self.sequence
