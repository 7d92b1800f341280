"""Explain a speculative-decoding measurement with the Leviathan model (SPEC.md section 3).

Two entry points for the CLI:

- :func:`explain_measurement`: one acceptance figure at one draft depth, with a measured speedup
  or an assumed cost ratio → implied cost ratio, break-even, best depth (searched until S has
  passed its maximum, flagged when it still rises at the search limit) and a verdict.
- :func:`explain_sweep`: a CSV of decode tok/s per draft depth (gamma 0 = spec off) → speedup,
  effective cost ratio c_eff and implied acceptance per depth, the best measured depth, and what
  the trend of c_eff says. With an acceptance at one depth only, the other depths get AL from
  that depth's a under the i.i.d. model, marked as assumed.

The numbers are computed here; the result models are in :mod:`.explanation`, the sentences in
:mod:`.explain_prose`, the CSV reader in :mod:`.sweep_csv`. Bad arguments to
:func:`explain_measurement` raise ValueError; a bad CSV raises :class:`specscope.errors.UserError`
with one line naming the file, the row or column, and the fix.
"""

from __future__ import annotations

import math
import statistics
from itertools import pairwise
from pathlib import Path

from specscope.errors import UserError
from specscope.theory.acceptance import (
    AcceptanceKind,
    al_to_alpha,
    al_to_rate,
    alpha_to_al,
    check_kind,
    to_al,
)
from specscope.theory.explain_prose import (
    both_given_note,
    fixed_alpha_note,
    kind_note,
    measurement_verdict,
    speedup_over_e_note,
    sweep_commentary,
    sweep_verdict,
)
from specscope.theory.explanation import (
    AcceptanceInput,
    DraftDepthSpeedup,
    Explanation,
    SweepExplanation,
    SweepRow,
)
from specscope.theory.leviathan import (
    BestDraftDepth,
    best_draft_depth,
    break_even_acceptance_length,
    check_alpha,
    check_cost_ratio,
    check_draft_depth,
    check_speedup,
    effective_cost_ratio,
    expected_tokens,
)
from specscope.theory.leviathan import (
    speedup as predicted_speedup,
)
from specscope.theory.sweep_csv import SweepSample, read_sweep

TABLE_DEPTHS_MAX = 64
"""The per-depth table of :func:`explain_measurement` never holds more rows than this."""


def explain_measurement(
    acceptance: float,
    kind: AcceptanceKind,
    draft_depth: int,
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
    :func:`specscope.theory.leviathan.best_draft_depth`); the table runs g = 1..max(table_depths,
    draft_depth, best g), at most ``TABLE_DEPTHS_MAX`` rows.
    """
    kind = check_kind(kind)
    draft_depth = check_draft_depth(draft_depth)
    table_depths = check_draft_depth(table_depths)
    value = float(acceptance)
    al = to_al(value, kind, draft_depth)
    alpha = check_alpha(value) if kind == "alpha" else al_to_alpha(al, draft_depth)
    rate = al_to_rate(al, draft_depth)
    e = al
    c_star = (e - 1.0) / draft_depth
    other_e = expected_tokens(value, draft_depth) if kind == "rate" else 1.0 + draft_depth * value
    notes = [kind_note(kind, value, draft_depth, e, other_e)]

    measured = check_speedup(speedup) if speedup is not None else None
    given_c = check_cost_ratio(cost_ratio) if cost_ratio is not None else None
    implied = (e / measured - 1.0) / draft_depth if measured is not None else None

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
        shown_speedup, speedup_source = e / (1.0 + draft_depth * given_c), "predicted"

    if measured is not None and implied is not None and implied < 0.0:
        notes.append(speedup_over_e_note(measured, e))
    if measured is not None and given_c is not None and implied is not None:
        notes.append(
            both_given_note(
                draft_depth, given_c, e / (1.0 + draft_depth * given_c), measured, implied
            )
        )

    table: list[DraftDepthSpeedup] = []
    best: BestDraftDepth | None = None
    if c_used is not None:
        best = best_draft_depth(alpha, c_used)
        rows = min(max(table_depths, draft_depth, best.draft_depth), TABLE_DEPTHS_MAX)
        table = [
            DraftDepthSpeedup(gamma=k, speedup=predicted_speedup(alpha, k, c_used))
            for k in range(1, rows + 1)
        ]
        notes.append(fixed_alpha_note(alpha))

    s_at_draft_depth = e / (1.0 + draft_depth * c_used) if c_used is not None else None

    return Explanation(
        acceptance_input=AcceptanceInput(value=value, kind=kind),
        alpha=alpha,
        acceptance_length=al,
        draft_acceptance_rate=rate,
        gamma=draft_depth,
        expected_tokens_per_step=e,
        speedup=shown_speedup,
        speedup_source=speedup_source,
        cost_ratio=c_used,
        cost_ratio_source=c_source,
        implied_cost_ratio=implied,
        break_even_cost_ratio=c_star,
        best_gamma=best.draft_depth if best is not None else None,
        best_gamma_speedup=best.speedup if best is not None else None,
        best_gamma_at_limit=best is not None and best.at_limit,
        speedup_by_gamma=table,
        verdict=measurement_verdict(
            draft_depth,
            shown_speedup,
            speedup_source,
            c_star,
            c_used,
            c_source,
            best,
            s_at_draft_depth,
            alpha,
        ),
        notes=notes,
    )


def c_eff_from_pair(al: float, spec_tok_s: float, off_tok_s: float, draft_depth: int) -> float:
    """Effective cost ratio from one paired spec/off run: c_eff = (AL / S - 1) / g, S = spec/off.

    Both decode rates must come from the same concurrency and workload.
    """
    for name, rate in (("spec_tok_s", spec_tok_s), ("off_tok_s", off_tok_s)):
        if not math.isfinite(rate) or rate <= 0.0:
            raise ValueError(f"{name} = {rate!r} is invalid: a decode rate must be > 0")
    return effective_cost_ratio(al, draft_depth, spec_tok_s / off_tok_s)


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
    samples = read_sweep(path)
    by_draft_depth: dict[int, list[SweepSample]] = {}
    for sample in samples:
        by_draft_depth.setdefault(sample.draft_depth, []).append(sample)
    if 0 not in by_draft_depth:
        raise UserError(
            f"{path}: no row with gamma 0; add a row 'gamma=0' holding the spec-off tok_s, the "
            "baseline every speedup is measured against"
        )
    spec_draft_depths = sorted(draft_depth for draft_depth in by_draft_depth if draft_depth >= 1)
    if not spec_draft_depths:
        raise UserError(
            f"{path}: only gamma 0 rows; add a row per draft depth measured (gamma >= 1)"
        )

    off_tok_s = statistics.fmean(s.tok_s for s in by_draft_depth[0])
    measured_al: dict[int, float] = {}
    for draft_depth in spec_draft_depths:
        als = [
            x.acceptance_length
            for x in by_draft_depth[draft_depth]
            if x.acceptance_length is not None
        ]
        if als:
            measured_al[draft_depth] = statistics.fmean(als)
    assumed_alpha: float | None = None
    if len(measured_al) == 1:
        [(source, source_al)] = measured_al.items()
        assumed_alpha = al_to_alpha(source_al, source)
    rows: list[SweepRow] = []
    for draft_depth in spec_draft_depths:
        group = by_draft_depth[draft_depth]
        tok_s = statistics.fmean(s.tok_s for s in group)
        s = tok_s / off_tok_s
        al = measured_al.get(draft_depth)
        assumed = False
        if al is None and assumed_alpha is not None:
            al, assumed = alpha_to_al(assumed_alpha, draft_depth), True
        c_eff = effective_cost_ratio(al, draft_depth, s) if al is not None else None
        rows.append(
            SweepRow(
                gamma=draft_depth,
                tok_s=tok_s,
                repeats=len(group),
                speedup=s,
                acceptance_length=al,
                alpha=al_to_alpha(al, draft_depth) if al is not None else None,
                draft_acceptance_rate=al_to_rate(al, draft_depth) if al is not None else None,
                effective_cost_ratio=c_eff,
                alpha_assumed=assumed,
                break_even_cost_ratio=(al - 1.0) / draft_depth if al is not None else None,
                needed_acceptance_length=(
                    break_even_acceptance_length(draft_depth, c_eff)
                    if c_eff is not None and c_eff >= 0
                    else None
                ),
            )
        )

    best_row = max(rows, key=lambda r: (r.tok_s, -r.gamma))
    kinds = {x.kind for x in samples if x.kind is not None}
    c_effs = [r.effective_cost_ratio for r in rows if r.effective_cost_ratio is not None]
    falls = _strictly_falling(c_effs) if len(c_effs) >= 2 else None
    alphas = [r.alpha for r in rows if r.effective_cost_ratio is not None and r.alpha is not None]
    observations, notes = sweep_commentary(
        rows,
        len(by_draft_depth[0]),
        "rate" in kinds,
        c_eff_falls=falls is True,
        c_eff_rises=len(c_effs) >= 2 and _strictly_rising(c_effs),
        alpha_falls=len(alphas) >= 2 and _strictly_falling(alphas),
    )

    return SweepExplanation(
        source=str(path),
        off_tok_s=off_tok_s,
        off_repeats=len(by_draft_depth[0]),
        rows=rows,
        best_gamma=best_row.gamma,
        best_tok_s=best_row.tok_s,
        best_speedup=best_row.speedup,
        c_eff_falls_with_gamma=falls,
        verdict=sweep_verdict(rows, best_row, off_tok_s),
        observations=observations,
        notes=notes,
    )
