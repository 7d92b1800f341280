"""compare() on the one spec/off pair in a list of points, at B300 economics."""

from __future__ import annotations

from typing import Any

from specscope.analysis.compare import compare
from specscope.analysis.economics import resolve_economics
from specscope.analysis.results import Comparison
from specscope.analysis.series import select_pair
from specscope.schema import Point


def compare_b300(
    points: list[Point], targets: list[float] | None = None, **select: Any
) -> Comparison:
    """Compare the one pair ``select_pair(points, **select)`` finds (it must find exactly one)
    at ``targets`` (None: the default targets), with B300 economics."""
    ((spec, off),) = select_pair(points, **select)
    return compare(spec, off, resolve_economics("b300"), targets)
