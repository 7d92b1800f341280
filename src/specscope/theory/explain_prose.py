"""The sentences of ``specscope explain``: verdicts, notes and observations.

Words only: every number they quote is computed by :mod:`specscope.theory.explain`.
"""

from __future__ import annotations

from specscope.theory.acceptance import AcceptanceKind
from specscope.theory.explanation import SweepRow
from specscope.theory.leviathan import DRAFT_DEPTH_SEARCH_LIMIT, BestDraftDepth
from specscope.tie import beats, is_tie


def _ratio_words(s: float) -> str:
    """'1.41× spec off (41 % faster)' / '(9 % slower)' / '(a tie, within 1 %)'."""
    change = s - 1.0
    if is_tie(s):
        return f"{s:.2f}× spec off (a tie, within 1 %)"
    direction = "faster" if change > 0 else "slower"
    return f"{s:.2f}× spec off ({abs(change) * 100:.0f} % {direction})"


def _c(value: float) -> str:
    return f"{value:.3f}"


def _draft_depth_list(draft_depths: list[int]) -> str:
    return ", ".join(str(draft_depth) for draft_depth in draft_depths)


# --------------------------------------------------------------------------------------------
# One measurement


def kind_note(
    kind: AcceptanceKind, value: float, draft_depth: int, e: float, other_e: float
) -> str:
    """How the acceptance figure was read.

    ``other_e`` is the E it would give read as the other kind: E(a, g) for a rate, 1 + g·r for an
    alpha (unused for an AL).
    """
    if kind == "rate":
        return (
            f"The figure {value:g} was read as an engine draft acceptance rate r: "
            f"E = AL = 1 + g·r = {e:.4f}, so the break-even cost ratio equals r exactly. "
            f"Read as Leviathan's per-token a it would give E = {other_e:.4f}."
        )
    if kind == "al":
        return (
            f"The figure {value:g} was read as an acceptance length (bonus token included): "
            f"E = AL = {e:.4f}."
        )
    return (
        f"The figure {value:g} was read as Leviathan's per-token acceptance a (i.i.d.): "
        f"E = 1 + a + … + a^{draft_depth} = {e:.4f}. Read as an engine rate r it would give "
        f"E = 1 + g·r = {other_e:.4f}."
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


def _depth_sentence(
    draft_depth: int, s_at_draft_depth: float, best: BestDraftDepth, alpha: float, c: float
) -> str:
    if best.at_limit:
        return _limit_sentence(best, alpha, c)
    if beats(1.0, best.speedup):
        return (
            f"No draft depth pays at this cost ratio (S peaks at g = {best.draft_depth}, "
            f"{best.speedup:.2f}×): leave speculation off, or make the draft cheaper."
        )
    if best.draft_depth == draft_depth:
        return f"g = {draft_depth} is already the best depth at this cost ratio."
    if is_tie(best.speedup, s_at_draft_depth):
        return (
            f"g = {best.draft_depth} is predicted only marginally better ({best.speedup:.2f}× "
            f"against {s_at_draft_depth:.2f}×, within 1 %), so g = {draft_depth} is as good."
        )
    return (
        f"Use g = {best.draft_depth}: predicted {best.speedup:.2f}× against "
        f"{s_at_draft_depth:.2f}× at g = {draft_depth} "
        "(assuming the per-token acceptance holds at that depth)."
    )


def _limit_sentence(best: BestDraftDepth, alpha: float, c: float) -> str:
    if alpha == 1.0:
        reason = "every draft token is accepted (a = 1) and a draft pass costs under a verify pass"
    elif c == 0.0:
        reason = "a draft pass is free (c = 0)"
    else:
        reason = f"a = {alpha:.6f} and c = {c:.3g} put the model's best depth deeper still"
    within = (
        f"; g = {best.draft_depth:,} already comes within 1e-12 of that"
        if best.draft_depth < DRAFT_DEPTH_SEARCH_LIMIT
        else ""
    )
    return (
        f"S still rises at g = {DRAFT_DEPTH_SEARCH_LIMIT:,}, the deepest depth searched, because "
        f"{reason}: the model names no best depth (S = {best.speedup:.2f}× there{within})."
    )


def speedup_over_e_note(measured: float, e: float) -> str:
    """The measured speedup is above E: no cost ratio fits."""
    return (
        f"The measured speedup {measured:.2f}× exceeds E = {e:.3f}, the most the model "
        "allows even with a free draft, so no cost ratio fits: the acceptance figure is "
        "probably understated, or the spec and off runs were not paired."
    )


def both_given_note(
    draft_depth: int, given_c: float, predicted: float, measured: float, implied: float
) -> str:
    """A speedup and a cost ratio were both given: which one the table uses."""
    return (
        f"Both a speedup and a cost ratio were given: the table and best depth use the given "
        f"c = {_c(given_c)} (predicting {predicted:.2f}× at g = {draft_depth}); the "
        f"measured {measured:.2f}× implies c = {_c(implied)}."
    )


def fixed_alpha_note(alpha: float) -> str:
    """The per-depth table holds a fixed."""
    return (
        f"Speedups at other depths hold a = {alpha:.4f} fixed; chained draft heads usually "
        "accept less at deeper positions, so the deeper entries are optimistic."
    )


def measurement_verdict(
    draft_depth: int,
    speedup: float | None,
    speedup_source: str | None,
    c_star: float,
    cost_ratio: float | None,
    cost_ratio_source: str | None,
    best: BestDraftDepth | None,
    s_at_draft_depth: float | None,
    alpha: float,
) -> str:
    """Whether spec pays at g, how the cost ratio sits against break-even, and the best depth."""
    verdict_parts: list[str] = []
    if speedup is not None and speedup_source is not None:
        if is_tie(speedup):
            verdict_parts.append(
                f"At g = {draft_depth} speculative decoding is a tie with spec off "
                f"({speedup_source} {_ratio_words(speedup)})."
            )
        else:
            pays = "pays" if speedup > 1.0 else "does not pay"
            verdict_parts.append(
                f"At g = {draft_depth} speculative decoding {pays}: {speedup_source} "
                f"{_ratio_words(speedup)}."
            )
    else:
        verdict_parts.append(
            f"With no speedup or cost ratio given: at g = {draft_depth} speculation pays only "
            f"while a draft pass costs less than c* = {_c(c_star)} of a verify pass."
        )
    if cost_ratio is not None and cost_ratio_source is not None:
        verdict_parts.append(_cost_sentence(cost_ratio, cost_ratio_source, c_star))
        if best is not None and s_at_draft_depth is not None:
            verdict_parts.append(
                _depth_sentence(draft_depth, s_at_draft_depth, best, alpha, cost_ratio)
            )
    return " ".join(verdict_parts)


def sweep_verdict(rows: list[SweepRow], best: SweepRow, off_tok_s: float) -> str:
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
        parts.append(f"Within 1 % of it: g = {_draft_depth_list(close)}.")
    slower = [r.gamma for r in rows if beats(1.0, r.speedup)]
    if slower:
        parts.append(f"Slower than spec off: g = {_draft_depth_list(slower)}.")
    return " ".join(parts)


def sweep_commentary(
    rows: list[SweepRow],
    off_repeats: int,
    rate_given: bool,
    *,
    c_eff_falls: bool,
    c_eff_rises: bool,
    alpha_falls: bool,
) -> tuple[list[str], list[str]]:
    """Observations (what the trends say) and notes (how the numbers were made) for a sweep.

    The trends are decided by the caller: c_eff strictly falling or rising with g, and the
    implied a strictly falling.
    """
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
            f"a = {source.alpha:.4f} under the i.i.d. model); at g = {_draft_depth_list(assumed)} "
            "(assumed a) AL = (1 − a^(g+1))/(1 − a) is computed from that a, and c_eff with it. "
            "Draft tokens are usually accepted less often deeper in the draft, so the assumed "
            f"AL and c_eff are likely too high deeper than g = {source.gamma} and too low "
            "shallower."
        )
    elif len(with_c) < len(rows):
        missing = [r.gamma for r in rows if r.effective_cost_ratio is None]
        notes.append(f"No acceptance for g = {_draft_depth_list(missing)}: c_eff left blank there.")
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
        if c_eff_falls:
            observations.append(
                f"c_eff falls {span}: part of each speculative step is a fixed cost (launch, "
                "sync, scheduling) that deeper drafts share out, so the draft pass itself is "
                "cheaper than the shallow-depth figure suggests."
            )
        elif c_eff_rises:
            caveat = (
                " — unless acceptance falls with depth: the AL at "
                f"g = {_draft_depth_list(assumed)} is assumed from one a, and a falling acceptance "
                "would also make c_eff rise"
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
    if alpha_falls:
        observations.append(
            f"The implied per-token acceptance falls with depth ({alphas[0]:.3f} at "
            f"g = {with_c[0].gamma} to {alphas[-1]:.3f} at g = {with_c[-1].gamma}): later draft "
            "positions are accepted less often, so one a does not describe every depth."
        )
    return observations, notes
