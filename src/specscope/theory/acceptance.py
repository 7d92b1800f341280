"""Conversions between the three acceptance figures, and per-position acceptance.

- ``alpha``: Leviathan's per-token acceptance a (i.i.d. model).
- ``rate``: the engine's draft acceptance rate r = accepted / drafted tokens.
- ``al``: acceptance length AL = tokens per verify step, bonus token included.

For a fixed draft depth g under the i.i.d. model: AL = E(a, g) = (1 - a^(g+1)) / (1 - a),
r = (AL - 1) / g, and a is recovered from AL by bisection (AL rises strictly with a).
Since r < a for g >= 2, the kinds must never be mixed up: the answers part in the third digit.
The formulas name the draft depth ``g``, their own symbol (as :mod:`.leviathan` does).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise
from typing import Literal, get_args

from specscope.theory.leviathan import (
    check_acceptance_length,
    check_alpha,
    check_draft_depth,
    expected_tokens,
)

AcceptanceKind = Literal["alpha", "rate", "al"]
"""Which acceptance figure a number is: Leviathan a, engine draft acceptance rate, or AL."""

ACCEPTANCE_KINDS: tuple[AcceptanceKind, ...] = get_args(AcceptanceKind)

_BISECTION_STEPS = 200


def check_kind(kind: str) -> AcceptanceKind:
    """Return ``kind`` as an :data:`AcceptanceKind`, or raise ValueError naming the choices."""
    for known in ACCEPTANCE_KINDS:
        if kind == known:
            return known
    raise ValueError(
        f"acceptance kind {kind!r} is unknown: use one of {', '.join(ACCEPTANCE_KINDS)}"
    )


def check_rate(r: float) -> float:
    """Return ``r`` as a float if 0 <= r <= 1, else raise ValueError."""
    value = float(r)
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise ValueError(
            f"draft acceptance rate r = {r!r} is out of range: accepted / drafted must lie in "
            "[0, 1]"
        )
    return value


def alpha_to_al(a: float, g: int) -> float:
    """AL for per-token acceptance a at depth g under i.i.d.: AL = E(a, g)."""
    return expected_tokens(a, g)


def al_to_rate(al: float, g: int) -> float:
    """Draft acceptance rate from AL at fixed depth g: r = (AL - 1) / g."""
    g = check_draft_depth(g)
    return (check_acceptance_length(al, g) - 1.0) / g


def rate_to_al(r: float, g: int) -> float:
    """AL from a draft acceptance rate at fixed depth g: AL = 1 + g * r."""
    g = check_draft_depth(g)
    return 1.0 + g * check_rate(r)


def al_to_alpha(al: float, g: int) -> float:
    """The i.i.d. per-token acceptance a with E(a, g) = AL, by bisection on [0, 1].

    AL = 1 gives a = 0 and AL = g + 1 gives a = 1; in between E rises strictly with a, so the
    bisection converges to the unique root (to about 1e-15 absolute).
    """
    g = check_draft_depth(g)
    al = check_acceptance_length(al, g)
    if al <= 1.0:
        return 0.0
    if al >= g + 1.0:
        return 1.0
    low, high = 0.0, 1.0
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (low + high)
        if mid in (low, high):
            break
        if expected_tokens(mid, g) < al:
            low = mid
        else:
            high = mid
    return 0.5 * (low + high)


def rate_to_alpha(r: float, g: int) -> float:
    """The i.i.d. per-token acceptance a implied by a draft acceptance rate, via AL = 1 + g * r."""
    return al_to_alpha(rate_to_al(r, g), g)


def alpha_to_rate(a: float, g: int) -> float:
    """Draft acceptance rate implied by a under i.i.d.: r = (E(a, g) - 1) / g."""
    return al_to_rate(alpha_to_al(a, g), g)


def to_al(value: float, kind: AcceptanceKind, g: int) -> float:
    """Any acceptance figure of the given kind, as AL at depth g."""
    kind = check_kind(kind)
    if kind == "al":
        g = check_draft_depth(g)
        return check_acceptance_length(value, g)
    if kind == "rate":
        return rate_to_al(value, g)
    return alpha_to_al(value, g)


def to_alpha(value: float, kind: AcceptanceKind, g: int) -> float:
    """Any acceptance figure of the given kind, as the i.i.d. per-token acceptance a at depth g."""
    kind = check_kind(kind)
    if kind == "alpha":
        check_draft_depth(g)
        return check_alpha(value)
    return al_to_alpha(to_al(value, kind, g), g)


def to_rate(value: float, kind: AcceptanceKind, g: int) -> float:
    """Any acceptance figure of the given kind, as the draft acceptance rate at depth g."""
    kind = check_kind(kind)
    if kind == "rate":
        check_draft_depth(g)
        return check_rate(value)
    return al_to_rate(to_al(value, kind, g), g)


def unconditional_by_position(accepted_per_position: Sequence[int], drafts: int) -> list[float]:
    """p_k = P(draft token k accepted) = accepted at position k / verify steps, k = 1, 2, ...

    ``accepted_per_position[k - 1]`` counts steps whose k-th draft token was accepted (vLLM's
    ``num_accepted_tokens_per_pos``); with chained drafts that means tokens 1..k all were.
    """
    if isinstance(drafts, bool) or not isinstance(drafts, int) or drafts < 1:
        raise ValueError(f"drafts = {drafts!r} is invalid: the verify-step count must be >= 1")
    probabilities: list[float] = []
    for position, count in enumerate(accepted_per_position, start=1):
        if count < 0 or count > drafts:
            raise ValueError(
                f"accepted count {count!r} at position {position} is out of range: it must lie "
                f"in [0, drafts = {drafts}]"
            )
        probabilities.append(count / drafts)
    return probabilities


def conditional_by_position(unconditional: Sequence[float]) -> list[float | None]:
    """q_k = p_k / p_(k-1) (accept token k given 1..k-1 accepted), with p_0 = 1.

    Under i.i.d. every q_k equals a. None where p_(k-1) is zero (nothing reached position k).
    """
    conditional: list[float | None] = []
    previous = 1.0
    for p in unconditional:
        conditional.append(p / previous if previous > 0.0 else None)
        previous = p
    return conditional


def al_from_positions(unconditional: Sequence[float]) -> float:
    """AL = 1 + sum of the unconditional per-position acceptances p_k."""
    return 1.0 + math.fsum(unconditional)


def conditional_from_al_curve(al_by_draft_depth: Sequence[float]) -> list[float | None]:
    """Estimate q_g from an AL(g) curve measured at g = 1, 2, ..., len(al_by_draft_depth).

    With chain drafting (a deeper draft leaves the earlier tokens unchanged), AL_g - AL_(g-1)
    estimates P(first g accepted), so q_g = (AL_g - AL_(g-1)) / (AL_(g-1) - AL_(g-2)) with
    AL_0 = 1 (hence q_1 = AL_1 - 1). Entry k is q_(k+1). Measurement noise can push an estimate
    outside [0, 1]; it is returned as is so the caller sees it. None where the divisor is <= 0.
    """
    steps = [al - previous for previous, al in pairwise([1.0, *al_by_draft_depth])]
    conditional: list[float | None] = []
    previous_step = 1.0
    for step in steps:
        conditional.append(step / previous_step if previous_step > 0.0 else None)
        previous_step = step
    return conditional


def alpha_by_draft_depth(al_by_draft_depth: Sequence[float]) -> list[float]:
    """The i.i.d. a implied at each depth of an AL(g) curve measured at g = 1, 2, ...

    A falling sequence shows acceptance decaying with depth: one fitted a does not transfer
    across g.
    """
    return [al_to_alpha(al, g) for g, al in enumerate(al_by_draft_depth, start=1)]
