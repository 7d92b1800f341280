"""The one tie rule: two positive values tie when the larger is less than 1 % above the smaller.

It is applied to the unrounded values (a ratio printed as "1.01×" can still be a tie at
1.0099) and used by every verdict: compare's winners, explain's "pays / ties / slower", the
prediction's "stops paying" and the report page (``report/assets/js/tie.js``, ``isTie``).
"""

from __future__ import annotations

__all__ = ["TIE_FACTOR", "beats", "is_tie"]

TIE_FACTOR = 1.01
"""larger / smaller below this is a tie (a gap under 1 %)."""


def is_tie(a: float, b: float = 1.0) -> bool:
    """a and b (both > 0) differ by less than 1 %: max/min < 1.01."""
    return max(a, b) / min(a, b) < TIE_FACTOR


def beats(a: float, b: float = 1.0) -> bool:
    """a is larger than b by at least 1 % (not a tie)."""
    return a / b >= TIE_FACTOR
