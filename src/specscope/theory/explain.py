"""Explain a speculative-decoding measurement with the Leviathan model (SPEC.md section 3).

Two entry points for the CLI:

- :func:`explain_measurement`: one acceptance figure at one draft depth, with a measured speedup
  or an assumed cost ratio → implied cost ratio, break-even, best depth (searched until S has
  passed its maximum, flagged when it still rises at the search limit) and a verdict.
- :func:`explain_sweep`: a CSV of decode tok/s per draft depth (gamma 0 = spec off) → speedup,
  effective cost ratio c_eff and implied acceptance per depth, the best measured depth, and what
  the trend of c_eff says. With an acceptance at one depth only, the other depths get AL from
  that depth's a under the i.i.d. model, marked as assumed.

Bad arguments to :func:`explain_measurement` raise ValueError; a bad CSV raises
:class:`specscope.errors.UserError` with one line naming the file, the row or column, and the fix.
"""

from __future__ import annotations

import csv
import math
import statistics
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from specscope.errors import UserError
from specscope.theory.acceptance import (
    ACCEPTANCE_KINDS,
    AcceptanceKind,
    al_to_alpha,
    al_to_rate,
    alpha_to_al,
    check_kind,
    to_al,
)
from specscope.theory.leviathan import (
    GAMMA_SEARCH_LIMIT,
    BestGamma,
    break_even_acceptance_length,
    check_alpha,
    check_cost_ratio,
    check_gamma,
    check_speedup,
    effective_cost_ratio,
    expected_tokens,
)
from specscope.theory.leviathan import (
    best_gamma as best_gamma_for,
)
from specscope.theory.leviathan import (
    speedup as predicted_speedup,
)
from specscope.tie import beats, is_tie

TABLE_DEPTHS_MAX = 64
"""The per-depth table of :func:`explain_measurement` never holds more rows than this."""


class AcceptanceInput(BaseModel):
    """The acceptance figure exactly as the user supplied it."""

    model_config = ConfigDict(frozen=True)

    value: float
    kind: AcceptanceKind


class GammaSpeedup(BaseModel):
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
    speedup_by_gamma: list[GammaSpeedup] = Field(default_factory=list)
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


# --------------------------------------------------------------------------------------------
# Wording helpers


def _ratio_words(s: float) -> str:
    """'1.41× spec off (41 % faster)' / '(9 % slower)' / '(a tie, within 1 %)'."""
    change = s - 1.0
    if is_tie(s):
        return f"{s:.2f}× spec off (a tie, within 1 %)"
    direction = "faster" if change > 0 else "slower"
    return f"{s:.2f}× spec off ({abs(change) * 100:.0f} % {direction})"


def _c(value: float) -> str:
    return f"{value:.3f}"


def _gamma_list(gammas: list[int]) -> str:
    return ", ".join(str(g) for g in gammas)


# --------------------------------------------------------------------------------------------
# One measurement


def _kind_note(kind: AcceptanceKind, value: float, g: int, e: float) -> str:
    if kind == "rate":
        as_alpha = expected_tokens(value, g)
        return (
            f"The figure {value:g} was read as an engine draft acceptance rate r: "
            f"E = AL = 1 + g·r = {e:.4f}, so the break-even cost ratio equals r exactly. "
            f"Read as Leviathan's per-token a it would give E = {as_alpha:.4f}."
        )
    if kind == "al":
        return (
            f"The figure {value:g} was read as an acceptance length (bonus token included): "
            f"E = AL = {e:.4f}."
        )
    as_rate = 1.0 + g * value
    return (
        f"The figure {value:g} was read as Leviathan's per-token acceptance a (i.i.d.): "
        f"E = 1 + a + … + a^{g} = {e:.4f}. Read as an engine rate r it would give "
        f"E = 1 + g·r = {as_rate:.4f}."
    )


def _cost_sentence(c: float, source: str, c_star: float) -> str:
    label = f"The {source} cost ratio c = {_c(c)}"
    if c_star > 0.0 and c > 0.0 and is_tie(c, c_star):
        return f"{label} sits at break-even (c* = {_c(c_star)}): speculation is a wash here."
    if c < c_star:
        headroom = (c_star - c) / c_star * 100.0
        return (
            f"{label} is {_c(c_star - c)} under the break-even c* = {_c(c_star)} "
            f"({headroom:.0f} % headroom): the draft is cheap enough for the accepted tokens "
            "to come out ahead."
        )
    return (
        f"{label} is {_c(c - c_star)} over the break-even c* = {_c(c_star)}: one draft-and-verify "
        "round costs more than the extra tokens it brings, however good the acceptance."
    )


def _depth_sentence(g: int, s_at_g: float, best: BestGamma, alpha: float, c: float) -> str:
    if best.at_limit:
        return _limit_sentence(best, alpha, c)
    if beats(1.0, best.speedup):
        return (
            f"No draft depth pays at this cost ratio (S peaks at g = {best.gamma}, "
            f"{best.speedup:.2f}×): leave speculation off, or make the draft cheaper."
        )
    if best.gamma == g:
        return f"g = {g} is already the best depth at this cost ratio."
    if is_tie(best.speedup, s_at_g):
        return (
            f"g = {best.gamma} is predicted only marginally better ({best.speedup:.2f}× against "
            f"{s_at_g:.2f}×, within 1 %), so g = {g} is as good."
        )
    return (
        f"Use g = {best.gamma}: predicted {best.speedup:.2f}× against {s_at_g:.2f}× at g = {g} "
        "(assuming the per-token acceptance holds at that depth)."
    )


def _limit_sentence(best: BestGamma, alpha: float, c: float) -> str:
    if alpha == 1.0:
        reason = "every draft token is accepted (a = 1) and a draft pass costs under a verify pass"
    elif c == 0.0:
        reason = "a draft pass is free (c = 0)"
    else:
        reason = f"a = {alpha:.6f} and c = {c:.3g} put the model's best depth deeper still"
    within = (
        f"; g = {best.gamma:,} already comes within 1e-12 of that"
        if best.gamma < GAMMA_SEARCH_LIMIT
        else ""
    )
    return (
        f"S still rises at g = {GAMMA_SEARCH_LIMIT:,}, the deepest depth searched, because "
        f"{reason}: the model names no best depth (S = {best.speedup:.2f}× there{within})."
    )


def explain_measurement(
    acceptance: float,
    kind: AcceptanceKind,
    gamma: int,
    speedup: float | None = None,
    cost_ratio: float | None = None,
    table_depths: int = 16,
) -> Explanation:
    """Read one measurement back through the Leviathan model.

    ``acceptance`` is interpreted by ``kind``: ``alpha`` (E = E(a, g)), ``rate`` (E = 1 + g·r, so
    c* = r exactly) or ``al`` (E = AL). With ``speedup`` the implied cost ratio is solved for;
    with ``cost_ratio`` the speedup is predicted. When both are given the measured speedup is
    reported and the per-depth table uses the given cost ratio. The best depth holds the i.i.d.
    a fixed and is searched until S has passed its maximum (see
    :func:`specscope.theory.leviathan.best_gamma`); the table runs g = 1..max(table_depths,
    gamma, best g), at most ``TABLE_DEPTHS_MAX`` rows.
    """
    kind = check_kind(kind)
    g = check_gamma(gamma)
    table_depths = check_gamma(table_depths)
    value = float(acceptance)
    al = to_al(value, kind, g)
    alpha = check_alpha(value) if kind == "alpha" else al_to_alpha(al, g)
    rate = al_to_rate(al, g)
    e = al
    c_star = (e - 1.0) / g
    notes = [_kind_note(kind, value, g, e)]

    measured = check_speedup(speedup) if speedup is not None else None
    given_c = check_cost_ratio(cost_ratio) if cost_ratio is not None else None
    implied = (e / measured - 1.0) / g if measured is not None else None

    c_used: float | None = None
    c_source: str | None = None
    if given_c is not None:
        c_used, c_source = given_c, "given"
    elif implied is not None and implied >= 0.0:
        c_used, c_source = implied, "implied"

    shown_speedup: float | None = None
    speedup_source: str | None = None
    if measured is not None:
        shown_speedup, speedup_source = measured, "measured"
    elif given_c is not None:
        shown_speedup, speedup_source = e / (1.0 + g * given_c), "predicted"

    if measured is not None and implied is not None and implied < 0.0:
        notes.append(
            f"The measured speedup {measured:.2f}× exceeds E = {e:.3f}, the most the model "
            "allows even with a free draft, so no cost ratio fits: the acceptance figure is "
            "probably understated, or the spec and off runs were not paired."
        )
    if measured is not None and given_c is not None and implied is not None:
        notes.append(
            f"Both a speedup and a cost ratio were given: the table and best depth use the given "
            f"c = {_c(given_c)} (predicting {e / (1.0 + g * given_c):.2f}× at g = {g}); the "
            f"measured {measured:.2f}× implies c = {_c(implied)}."
        )

    table: list[GammaSpeedup] = []
    best: BestGamma | None = None
    if c_used is not None:
        best = best_gamma_for(alpha, c_used)
        rows = min(max(table_depths, g, best.gamma), TABLE_DEPTHS_MAX)
        table = [
            GammaSpeedup(gamma=k, speedup=predicted_speedup(alpha, k, c_used))
            for k in range(1, rows + 1)
        ]
        notes.append(
            f"Speedups at other depths hold a = {alpha:.4f} fixed; chained draft heads usually "
            "accept less at deeper positions, so the deeper entries are optimistic."
        )

    verdict_parts: list[str] = []
    if shown_speedup is not None and speedup_source is not None:
        if is_tie(shown_speedup):
            verdict_parts.append(
                f"At g = {g} speculative decoding is a tie with spec off "
                f"({speedup_source} {_ratio_words(shown_speedup)})."
            )
        else:
            pays = "pays" if shown_speedup > 1.0 else "does not pay"
            verdict_parts.append(
                f"At g = {g} speculative decoding {pays}: {speedup_source} "
                f"{_ratio_words(shown_speedup)}."
            )
    else:
        verdict_parts.append(
            f"With no speedup or cost ratio given: at g = {g} speculation pays only while a "
            f"draft pass costs less than c* = {_c(c_star)} of a verify pass."
        )
    if c_used is not None and c_source is not None:
        verdict_parts.append(_cost_sentence(c_used, c_source, c_star))
        if best is not None:
            s_at_g = e / (1.0 + g * c_used)
            verdict_parts.append(_depth_sentence(g, s_at_g, best, alpha, c_used))

    return Explanation(
        acceptance_input=AcceptanceInput(value=value, kind=kind),
        alpha=alpha,
        acceptance_length=al,
        draft_acceptance_rate=rate,
        gamma=g,
        expected_tokens_per_step=e,
        speedup=shown_speedup,
        speedup_source=speedup_source,
        cost_ratio=c_used,
        cost_ratio_source=c_source,
        implied_cost_ratio=implied,
        break_even_cost_ratio=c_star,
        best_gamma=best.gamma if best is not None else None,
        best_gamma_speedup=best.speedup if best is not None else None,
        best_gamma_at_limit=best is not None and best.at_limit,
        speedup_by_gamma=table,
        verdict=" ".join(verdict_parts),
        notes=notes,
    )


def c_eff_from_pair(al: float, spec_tok_s: float, off_tok_s: float, g: int) -> float:
    """Effective cost ratio from one paired spec/off run: c_eff = (AL / S - 1) / g, S = spec/off.

    Both decode rates must come from the same concurrency and workload.
    """
    for name, rate in (("spec_tok_s", spec_tok_s), ("off_tok_s", off_tok_s)):
        if not math.isfinite(rate) or rate <= 0.0:
            raise ValueError(f"{name} = {rate!r} is invalid: a decode rate must be > 0")
    return effective_cost_ratio(al, g, spec_tok_s / off_tok_s)


# --------------------------------------------------------------------------------------------
# A g-sweep from CSV

_REQUIRED_COLUMNS = ("gamma", "tok_s")
_HOW_TO = (
    "the header must hold gamma,tok_s (gamma 0 = spec off) and optionally acceptance,"
    "acceptance_kind"
)


@dataclass(frozen=True)
class _SweepSample:
    gamma: int
    tok_s: float
    acceptance_length: float | None
    kind: AcceptanceKind | None = None
    """How the row's acceptance was given (None without one)."""


def _cell(row: dict[str | None, str | list[str] | None], column: str | None) -> str:
    if column is None:
        return ""
    raw = row.get(column)
    return raw.strip() if isinstance(raw, str) else ""


def _number(path: Path, line: int, column: str, text: str) -> float:
    if not text:
        raise UserError(f"{path}: row {line}, column '{column}' is empty; fill in a number")
    try:
        value = float(text)
    except ValueError:
        raise UserError(
            f"{path}: row {line}, column '{column}': {text!r} is not a number; write it as e.g. "
            "27.8"
        ) from None
    if not math.isfinite(value):
        raise UserError(f"{path}: row {line}, column '{column}': {text!r} must be a finite number")
    return value


def _read_sweep(path: Path) -> list[_SweepSample]:
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError(
            f"{path}: file not found; give the path of a sweep CSV ({_HOW_TO})"
        ) from None
    except (IsADirectoryError, PermissionError) as exc:
        raise UserError(
            f"{path}: cannot be read ({exc.strerror}); give a readable CSV file"
        ) from None
    samples: list[_SweepSample] = []
    with handle:
        try:
            reader = csv.DictReader(handle)
            if not reader.fieldnames:
                raise UserError(f"{path}: the file is empty; {_HOW_TO}")
            columns = {name.strip().lower(): name for name in reader.fieldnames if name}
            missing = [name for name in _REQUIRED_COLUMNS if name not in columns]
            if missing:
                quoted = ", ".join(f"'{name}'" for name in missing)
                raise UserError(f"{path}: missing column {quoted}; {_HOW_TO}")
            acceptance_column = columns.get("acceptance")
            kind_column = columns.get("acceptance_kind")
            for row in reader:
                line = reader.line_num
                samples.append(_parse_row(path, line, row, columns, acceptance_column, kind_column))
        except UnicodeDecodeError:
            raise UserError(f"{path}: not UTF-8 text; save the sweep as a UTF-8 CSV") from None
        except csv.Error as exc:
            raise UserError(f"{path}: malformed CSV ({exc}); {_HOW_TO}") from None
    return samples


def _parse_row(
    path: Path,
    line: int,
    row: dict[str | None, str | list[str] | None],
    columns: dict[str, str],
    acceptance_column: str | None,
    kind_column: str | None,
) -> _SweepSample:
    gamma_value = _number(path, line, "gamma", _cell(row, columns["gamma"]))
    if gamma_value < 0 or not gamma_value.is_integer():
        raise UserError(
            f"{path}: row {line}, column 'gamma': {gamma_value:g} is not a whole number >= 0; "
            "use 0 for spec off and the draft depth otherwise"
        )
    gamma = int(gamma_value)
    tok_s = _number(path, line, "tok_s", _cell(row, columns["tok_s"]))
    if tok_s <= 0.0:
        raise UserError(
            f"{path}: row {line}, column 'tok_s': {tok_s:g} must be > 0 (decode tokens per second)"
        )
    kind_text = _cell(row, kind_column).lower() or "al"
    if kind_text not in ACCEPTANCE_KINDS:
        raise UserError(
            f"{path}: row {line}, column 'acceptance_kind': {kind_text!r} is unknown; use one of "
            f"{', '.join(ACCEPTANCE_KINDS)} (default al)"
        )
    acceptance_text = _cell(row, acceptance_column)
    if gamma == 0 or not acceptance_text:
        return _SweepSample(gamma=gamma, tok_s=tok_s, acceptance_length=None)
    acceptance = _number(path, line, "acceptance", acceptance_text)
    kind = check_kind(kind_text)
    try:
        al = to_al(acceptance, kind, gamma)
    except ValueError as exc:
        raise UserError(
            f"{path}: row {line}, column 'acceptance': {exc}; check the value and acceptance_kind"
        ) from None
    return _SweepSample(gamma=gamma, tok_s=tok_s, acceptance_length=al, kind=kind)


def _strictly_falling(values: list[float]) -> bool:
    return all(later < earlier for earlier, later in pairwise(values))


def _strictly_rising(values: list[float]) -> bool:
    return all(later > earlier for earlier, later in pairwise(values))


def explain_sweep(path: Path) -> SweepExplanation:
    """Read a g-sweep CSV and explain it: speedup, c_eff and implied a per depth, best depth.

    Columns: ``gamma`` (0 = spec off), ``tok_s`` (decode tokens/s), optional ``acceptance`` and
    ``acceptance_kind`` (alpha | rate | al, default al). Several rows for one gamma are repeats;
    their mean is used (the one statistic of repeats everywhere, ``analysis.stats.STATISTIC``).
    When exactly one depth g₀ carries an acceptance, its AL gives the i.i.d. a (E(a, g₀) = AL),
    and every other depth gets AL = E(a, g) = (1 − a^(g+1))/(1 − a) from it, marked
    ``alpha_assumed``; with acceptances at several depths, a depth without one
    stays blank (their a differ, and none is the one to assume).
    """
    samples = _read_sweep(path)
    by_gamma: dict[int, list[_SweepSample]] = {}
    for sample in samples:
        by_gamma.setdefault(sample.gamma, []).append(sample)
    if 0 not in by_gamma:
        raise UserError(
            f"{path}: no row with gamma 0; add a row 'gamma=0' holding the spec-off tok_s, the "
            "baseline every speedup is measured against"
        )
    spec_gammas = sorted(g for g in by_gamma if g >= 1)
    if not spec_gammas:
        raise UserError(
            f"{path}: only gamma 0 rows; add a row per draft depth measured (gamma >= 1)"
        )

    off_tok_s = statistics.fmean(s.tok_s for s in by_gamma[0])
    measured_al: dict[int, float] = {}
    for g in spec_gammas:
        als = [x.acceptance_length for x in by_gamma[g] if x.acceptance_length is not None]
        if als:
            measured_al[g] = statistics.fmean(als)
    assumed_alpha: float | None = None
    if len(measured_al) == 1:
        [(source, source_al)] = measured_al.items()
        assumed_alpha = al_to_alpha(source_al, source)
    rows: list[SweepRow] = []
    for g in spec_gammas:
        group = by_gamma[g]
        tok_s = statistics.fmean(s.tok_s for s in group)
        s = tok_s / off_tok_s
        al = measured_al.get(g)
        assumed = False
        if al is None and assumed_alpha is not None:
            al, assumed = alpha_to_al(assumed_alpha, g), True
        c_eff = effective_cost_ratio(al, g, s) if al is not None else None
        rows.append(
            SweepRow(
                gamma=g,
                tok_s=tok_s,
                repeats=len(group),
                speedup=s,
                acceptance_length=al,
                alpha=al_to_alpha(al, g) if al is not None else None,
                draft_acceptance_rate=al_to_rate(al, g) if al is not None else None,
                effective_cost_ratio=c_eff,
                alpha_assumed=assumed,
                break_even_cost_ratio=(al - 1.0) / g if al is not None else None,
                needed_acceptance_length=(
                    break_even_acceptance_length(g, c_eff)
                    if c_eff is not None and c_eff >= 0
                    else None
                ),
            )
        )

    best_row = max(rows, key=lambda r: (r.tok_s, -r.gamma))
    kinds = {x.kind for x in samples if x.kind is not None}
    observations, notes = _sweep_commentary(rows, len(by_gamma[0]), "rate" in kinds)
    c_effs = [r.effective_cost_ratio for r in rows if r.effective_cost_ratio is not None]
    falls = _strictly_falling(c_effs) if len(c_effs) >= 2 else None

    return SweepExplanation(
        source=str(path),
        off_tok_s=off_tok_s,
        off_repeats=len(by_gamma[0]),
        rows=rows,
        best_gamma=best_row.gamma,
        best_tok_s=best_row.tok_s,
        best_speedup=best_row.speedup,
        c_eff_falls_with_gamma=falls,
        verdict=_sweep_verdict(rows, best_row, off_tok_s),
        observations=observations,
        notes=notes,
    )


def _sweep_verdict(rows: list[SweepRow], best: SweepRow, off_tok_s: float) -> str:
    if beats(1.0, best.speedup):
        return (
            f"No measured depth beats spec off ({off_tok_s:.4g} tok/s): the best, g = "
            f"{best.gamma}, runs at {best.tok_s:.4g} tok/s, {_ratio_words(best.speedup)}. "
            "Leave speculation off on this setup."
        )
    if is_tie(best.speedup):
        return (
            f"The best measured depth, g = {best.gamma} at {best.tok_s:.4g} tok/s, only ties "
            f"spec off ({_ratio_words(best.speedup)}): speculation buys nothing here."
        )
    parts = [
        f"g = {best.gamma} is the fastest depth measured: {best.tok_s:.4g} tok/s, "
        f"{_ratio_words(best.speedup)}."
    ]
    close = [r.gamma for r in rows if r is not best and is_tie(r.tok_s, best.tok_s)]
    if close:
        parts.append(f"Within 1 % of it: g = {_gamma_list(close)}.")
    slower = [r.gamma for r in rows if beats(1.0, r.speedup)]
    if slower:
        parts.append(f"Slower than spec off: g = {_gamma_list(slower)}.")
    return " ".join(parts)


def _sweep_commentary(
    rows: list[SweepRow], off_repeats: int, rate_given: bool
) -> tuple[list[str], list[str]]:
    observations: list[str] = []
    notes: list[str] = []
    repeated = [f"g = {r.gamma} ×{r.repeats}" for r in rows if r.repeats > 1]
    if off_repeats > 1:
        repeated.insert(0, f"off ×{off_repeats}")
    if repeated:
        notes.append(f"Repeats were reduced to their mean tok/s: {', '.join(repeated)}.")

    with_c = [r for r in rows if r.effective_cost_ratio is not None]
    assumed = [r.gamma for r in rows if r.alpha_assumed]
    if not with_c:
        notes.append(
            "No acceptance given, so c_eff and the implied a are not computed; add an "
            "'acceptance' column (AL per depth, or set acceptance_kind to rate or alpha)."
        )
    elif assumed:
        source = next(r for r in rows if not r.alpha_assumed and r.alpha is not None)
        notes.append(
            f"Only g = {source.gamma} has an acceptance (AL {source.acceptance_length:.3f}, so "
            f"a = {source.alpha:.4f} under the i.i.d. model); at g = {_gamma_list(assumed)} "
            "(assumed a) AL = (1 − a^(g+1))/(1 − a) is computed from that a, and c_eff with it. "
            "Draft tokens are usually accepted less often deeper in the draft, so the assumed "
            f"AL and c_eff are likely too high deeper than g = {source.gamma} and too low "
            "shallower."
        )
    elif len(with_c) < len(rows):
        missing = [r.gamma for r in rows if r.effective_cost_ratio is None]
        notes.append(f"No acceptance for g = {_gamma_list(missing)}: c_eff left blank there.")
    if rate_given:
        notes.append(
            "An acceptance given as a draft acceptance rate r became AL = 1 + g·r, which assumes "
            "g tokens drafted at every step. llama.cpp's drafts can stop early (the draft model "
            "stops below --draft-p-min confidence), drafting fewer than g, so that AL is an "
            "upper bound, and so are the a and c_eff computed from it."
        )

    c_effs = [r.effective_cost_ratio for r in with_c if r.effective_cost_ratio is not None]
    if len(c_effs) >= 2:
        first, last = with_c[0], with_c[-1]
        span = f"from {c_effs[0]:.2f} at g = {first.gamma} to {c_effs[-1]:.2f} at g = {last.gamma}"
        if _strictly_falling(c_effs):
            observations.append(
                f"c_eff falls {span}: part of each speculative step is a fixed cost (launch, "
                "sync, scheduling) that deeper drafts share out, so the draft pass itself is "
                "cheaper than the shallow-depth figure suggests."
            )
        elif _strictly_rising(c_effs):
            caveat = (
                f" — unless acceptance falls with depth: the AL at g = {_gamma_list(assumed)} is "
                "assumed from one a, and a falling acceptance would also make c_eff rise"
                if assumed
                else ""
            )
            observations.append(
                f"c_eff rises {span}: every extra draft token adds cost, so verification is "
                "not free here (per-token work such as MoE routing or attention does not "
                f"amortise over the verify batch){caveat}."
            )
    if any(c < 0.0 for c in c_effs):
        notes.append(
            "A negative c_eff means the speedup exceeds the acceptance length: the acceptance "
            "and the tok/s probably come from different runs."
        )

    alphas = [r.alpha for r in with_c if r.alpha is not None]
    if len(alphas) >= 2 and _strictly_falling(alphas):
        observations.append(
            f"The implied per-token acceptance falls with depth ({alphas[0]:.3f} at "
            f"g = {with_c[0].gamma} to {alphas[-1]:.3f} at g = {with_c[-1].gamma}): later draft "
            "positions are accepted less often, so one a does not describe every depth."
        )
    return observations, notes
