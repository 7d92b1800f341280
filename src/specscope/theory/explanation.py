"""The answers of ``specscope explain``: one measurement, or a g-sweep, read back.

Result models only; :mod:`specscope.theory.explain` computes them. Their field names are the
JSON output of ``explain --json``, so the draft depth keeps its public name there (``gamma``,
``best_gamma``, ``speedup_by_gamma``, ...); everywhere else in the code it is ``draft_depth``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from specscope.theory.acceptance import AcceptanceKind


class AcceptanceInput(BaseModel):
    """The acceptance figure exactly as the user supplied it."""

    model_config = ConfigDict(frozen=True)

    value: float
    kind: AcceptanceKind


class DraftDepthSpeedup(BaseModel):
    """Predicted speedup at one draft depth."""

    model_config = ConfigDict(frozen=True)

    gamma: int
    speedup: float


class Explanation(BaseModel):
    """A single measurement read back through the Leviathan model."""

    model_config = ConfigDict(frozen=True)

    acceptance_input: AcceptanceInput
    alpha: float
    """Per-token acceptance a under i.i.d. (given, or solved from AL by bisection)."""
    acceptance_length: float
    """AL at ``gamma``: tokens per verify step, bonus included."""
    draft_acceptance_rate: float
    """r = (AL - 1) / gamma."""
    gamma: int
    expected_tokens_per_step: float
    """The E used for every number below; depends on which acceptance kind was given."""
    speedup: float | None
    """Measured speedup when given, else predicted from the given cost ratio, else None."""
    speedup_source: str | None
    """``measured`` or ``predicted`` (None without a speedup)."""
    cost_ratio: float | None
    """The c used for the per-depth table and best depth: the given one, else the implied one."""
    cost_ratio_source: str | None
    """``given`` or ``implied`` (None when no usable cost ratio)."""
    implied_cost_ratio: float | None
    """c = (E / S - 1) / g from the measured speedup; None without one. Negative means S > E."""
    break_even_cost_ratio: float
    """c* = (E - 1) / g: speculation pays at this depth while c < c*."""
    best_gamma: int | None
    """The depth that maximises the predicted S at ``cost_ratio`` with a held fixed, searched
    until S has passed its maximum (up to g = 1,000,000)."""
    best_gamma_speedup: float | None
    best_gamma_at_limit: bool = False
    """True when S still rises at the search limit g = 1,000,000: with a = 1 (and c < 1) or
    c = 0 every extra depth gains, so no depth is the best; ``best_gamma`` is then the smallest
    depth within 1e-12 of the best S up to the limit."""
    speedup_by_gamma: list[DraftDepthSpeedup] = Field(default_factory=list)
    """Predicted S at ``cost_ratio`` with a held fixed, for g = 1..max(16, gamma, best g), at most
    64 rows."""
    verdict: str
    notes: list[str] = Field(default_factory=list)


class SweepRow(BaseModel):
    """One draft depth of a measured sweep (means over repeats, as everywhere in specscope)."""

    model_config = ConfigDict(frozen=True)

    gamma: int
    tok_s: float
    """Median decode tok/s over the repeats at this depth."""
    repeats: int
    speedup: float
    """tok_s / off tok_s."""
    acceptance_length: float | None
    """Median AL over the rows that gave an acceptance (converted to AL at this depth)."""
    alpha: float | None
    """Per-token acceptance a implied by the AL under i.i.d."""
    draft_acceptance_rate: float | None
    effective_cost_ratio: float | None
    """c_eff = (AL / S - 1) / g; None without an acceptance."""
    alpha_assumed: bool = False
    """True when this depth had no acceptance of its own ("assumed a"): the sweep gave one at a
    single depth, and AL here is E(a, g) from that depth's a under the i.i.d. model."""
    break_even_cost_ratio: float | None = None
    """c* = (AL - 1) / g: the cost ratio at which the measured AL would only break even."""
    needed_acceptance_length: float | None = None
    """1 + g·c_eff: the AL a drafter needs at this depth to pay at the measured cost ratio
    (None when c_eff is negative: the run was faster than its AL allows, noise or a bias)."""


class SweepExplanation(BaseModel):
    """A g-sweep read back through the Leviathan model."""

    model_config = ConfigDict(frozen=True)

    source: str
    """The CSV path as given."""
    off_tok_s: float
    """Median decode tok/s with speculation off (gamma 0)."""
    off_repeats: int
    rows: list[SweepRow]
    """One row per measured draft depth, ascending."""
    best_gamma: int
    """The measured depth with the highest tok/s (ties: the smaller depth)."""
    best_tok_s: float
    best_speedup: float
    c_eff_falls_with_gamma: bool | None
    """True when c_eff strictly falls as g grows, False when not, None with under two values."""
    verdict: str
    observations: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
