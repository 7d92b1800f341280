"""The Leviathan et al. (2023) speculative-decoding model, as pure functions.

Symbols (SPEC.md section 3): ``a`` is the per-token acceptance probability under the i.i.d.
model (Leviathan's alpha), ``g`` the draft depth (draft tokens per step, Leviathan's gamma), ``c``
the cost of one draft pass relative to one target (verify) pass, ``s`` a wall-time speedup
(spec / off decode rate) and ``al`` a measured acceptance length (tokens per verify step, bonus
included). The formulas keep these one-letter symbols as parameter names, ``g`` included; the
rest of the code calls the draft depth ``draft_depth``.

Every function validates its inputs and raises :class:`ValueError` with a message that names the
bad argument and the range it must lie in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

DRAFT_DEPTH_SEARCH_LIMIT = 1_000_000
"""Deepest draft depth :func:`best_draft_depth` considers unless told otherwise: a hard bound, far
past any real drafter, that the bisection covers in about 40 evaluations of S for any input."""

_TIE_RELATIVE_TOLERANCE = 1e-12
"""Speedups this close (relatively) count as equal when picking the best g."""

_AL_TOLERANCE = 1e-9
"""Slack allowed on the bounds 1 <= AL <= g + 1 for measured acceptance lengths."""


def check_alpha(a: float) -> float:
    """Return ``a`` as a float if 0 <= a <= 1, else raise ValueError.

    a = 1 (every draft accepted) is allowed: all the model's quantities stay finite there.
    """
    value = float(a)
    if not math.isfinite(value) or not 0.0 <= value <= 1.0:
        raise ValueError(
            f"acceptance a = {a!r} is out of range: the per-token acceptance must lie in [0, 1]"
        )
    return value


def check_draft_depth(g: int) -> int:
    """Return ``g`` if it is an integer >= 1, else raise ValueError."""
    if isinstance(g, bool) or not isinstance(g, int) or g < 1:
        raise ValueError(f"draft depth g = {g!r} is invalid: it must be a whole number >= 1")
    return g


def check_cost_ratio(c: float) -> float:
    """Return ``c`` as a float if it is finite and >= 0, else raise ValueError."""
    value = float(c)
    if not math.isfinite(value) or value < 0.0:
        raise ValueError(
            f"cost ratio c = {c!r} is invalid: draft-pass / verify-pass time must be a finite "
            "number >= 0"
        )
    return value


def check_speedup(s: float) -> float:
    """Return ``s`` as a float if it is finite and > 0, else raise ValueError."""
    value = float(s)
    if not math.isfinite(value) or value <= 0.0:
        raise ValueError(
            f"speedup S = {s!r} is invalid: spec / off decode rate must be a finite number > 0"
        )
    return value


def check_acceptance_length(al: float, g: int) -> float:
    """Return ``al`` as a float if 1 <= al <= g + 1 (tiny float slack allowed), else raise."""
    value = float(al)
    if not math.isfinite(value) or not 1.0 - _AL_TOLERANCE <= value <= g + 1.0 + _AL_TOLERANCE:
        raise ValueError(
            f"acceptance length AL = {al!r} is out of range for g = {g}: tokens per verify step "
            f"(bonus included) must lie in [1, {g + 1}]"
        )
    return min(max(value, 1.0), g + 1.0)


def expected_tokens(a: float, g: int) -> float:
    """Expected tokens per verify step, E(a, g) = (1 - a^(g+1)) / (1 - a) = 1 + a + ... + a^g.

    Evaluated as expm1/log1p near a = 1 so that it tends smoothly to the limit g + 1 (the plain
    closed form loses digits there); a = 1 gives g + 1 exactly and a = 0 gives 1.
    """
    a = check_alpha(a)
    g = check_draft_depth(g)
    if a == 1.0:
        return float(g + 1)
    if a == 0.0:
        return 1.0
    one_minus_a = 1.0 - a
    if a <= 0.5:
        # a^(g+1) <= 1/4: the closed form has no cancellation to fear.
        return (1.0 - a ** (g + 1)) / one_minus_a
    # Near 1, write 1 - a^(g+1) = -expm1((g+1) * ln a) with ln a = log1p(-(1 - a)), where
    # 1 - a is exact (Sterbenz), so no digits are lost to cancellation.
    return -math.expm1((g + 1) * math.log1p(-one_minus_a)) / one_minus_a


def speedup(a: float, g: int, c: float) -> float:
    """Predicted wall-time speedup S = E(a, g) / (1 + g * c) (Leviathan Thm 3.8)."""
    c = check_cost_ratio(c)
    return expected_tokens(a, g) / (1.0 + g * c)


def implied_cost_ratio(a: float, g: int, s: float) -> float:
    """The cost ratio that reproduces a measured speedup: c = (E(a, g) / S - 1) / g.

    The result is negative when S exceeds E(a, g), the most the model allows at cost 0: the
    measurement and the acceptance figure then disagree, and the caller should say so.
    """
    s = check_speedup(s)
    return (expected_tokens(a, g) / s - 1.0) / g


def break_even_cost_ratio(a: float, g: int) -> float:
    """The cost ratio at which speculation is a wash (S = 1): c* = (E(a, g) - 1) / g.

    g = 1 gives c* = a; g = 2 gives (a + a^2) / 2.
    """
    return (expected_tokens(a, g) - 1.0) / g


@dataclass(frozen=True)
class BestDraftDepth:
    """The draft depth that maximises S(a, g, c), as :func:`best_draft_depth` found it."""

    draft_depth: int
    speedup: float
    """S at ``draft_depth``."""
    at_limit: bool
    """S still rises at the search limit g_max: the best depth lies deeper than g_max or does
    not exist (a = 1 with c < 1, or c = 0 with a > 0, where S grows with every depth).
    ``draft_depth`` is then the best up to g_max (by the tie rule, possibly shallower than
    g_max)."""


def best_draft_depth(a: float, c: float, g_max: int = DRAFT_DEPTH_SEARCH_LIMIT) -> BestDraftDepth:
    """The integer draft depth 1 <= g <= g_max that maximises S(a, g, c), and that S.

    S is unimodal in g, so the maximum is found by bisection, with no list of depths (time and
    memory stay tiny up to any g_max). With E(g + 1) = E(g) + a^(g+1):

        S(g + 1) > S(g)  ⇔  a^(g+1)·(1 + g·c) > c·E(g)  ⇔  h(g) > 0  (for a > 0),
        h(g) = 1 + g·c − c·(a^-1 + a^-2 + … + a^-(g+1)),
        h(g + 1) − h(g) = c·(1 − a^-(g+2)) < 0  for 0 < a < 1, c > 0.

    h falls strictly, so S rises while h > 0 and falls from the first g where h <= 0 on: one
    peak. a = 0 gives S = 1/(1 + g·c), never rising; a = 1 gives S(g + 1) > S(g) ⇔ c < 1 at
    every g, and c = 0 gives S = E(a, g), rising at every g for a > 0: then S still rises at
    g_max and the result says so (``at_limit``). The sign is tested in logs,
    (g + 1)·ln a + ln(1 + g·c) > ln c + ln E(g), so no power of a underflows.

    Tie rule: among depths whose speedup is within a relative 1e-12 of the maximum, the smallest
    g wins (less drafting for the same gain); S rises up to the peak, so that too is a bisection.
    """
    a = check_alpha(a)
    c = check_cost_ratio(c)
    g_max = check_draft_depth(g_max)
    peak = 1
    if g_max > 1 and _speedup_rises(a, c, 1):
        low, high = 1, g_max  # S rises at low; the peak (capped at g_max) lies in (low, high]
        while high - low > 1:
            middle = (low + high) // 2
            if _speedup_rises(a, c, middle):
                low = middle
            else:
                high = middle
        peak = high
    top = speedup(a, peak, c)
    floor = top * (1.0 - _TIE_RELATIVE_TOLERANCE)
    low, high = 0, peak  # S(low) < floor <= S(high), with S(0) read as below every S
    while high - low > 1:
        middle = (low + high) // 2
        if speedup(a, middle, c) >= floor:
            high = middle
        else:
            low = middle
    at_limit = peak == g_max and _speedup_rises(a, c, g_max)
    return BestDraftDepth(draft_depth=high, speedup=speedup(a, high, c), at_limit=at_limit)


def _speedup_rises(a: float, c: float, g: int) -> bool:
    """S(a, g + 1, c) > S(a, g, c), decided in logs (see :func:`best_draft_depth`)."""
    if a == 0.0:
        return False
    if c == 0.0:
        return True
    return (g + 1) * math.log(a) + math.log1p(g * c) > math.log(c) + math.log(expected_tokens(a, g))


def effective_cost_ratio(al: float, g: int, s: float) -> float:
    """Measured effective cost ratio c_eff = (AL / S - 1) / g from a paired spec/off run.

    Unlike :func:`implied_cost_ratio` it takes the measured acceptance length, so it lumps the
    draft cost together with any verify cost that did not amortise. Negative when S > AL.
    """
    g = check_draft_depth(g)
    al = check_acceptance_length(al, g)
    s = check_speedup(s)
    return (al / s - 1.0) / g


def break_even_acceptance_length(g: int, c: float) -> float:
    """The acceptance length a drafter needs at depth g for speculation to pay when one draft
    token costs c of a target step: S = AL / (1 + g·c) > 1 ⇔ AL > 1 + g·c."""
    return 1.0 + check_draft_depth(g) * check_cost_ratio(c)
