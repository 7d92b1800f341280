"""compare's console table (issue 10 item 8): targets as given, thousands separators, the
ratio's interval, and at most 100 columns in a wide terminal."""

from __future__ import annotations

import io

from rich.console import Console
from tests.support.compare import compare_b300
from tests.support.points import repeated

from specscope.console import print_comparison

# Spec at 130 and 150 tok/s/user (3 repeats each), off at 120 and 160 (2 each): a band of
# 130–150 where both sides hold thousands of tok/s/GPU.
SPEC_ROWS = [(64, 130.0, [4100.0, 4300.0, 4200.0]), (16, 150.0, [2900.0, 3100.0, 3000.0])]
OFF_ROWS = [(64, 120.0, [2500.0, 2600.0]), (16, 160.0, [1400.0, 1500.0])]
POINTS = repeated("mtp", SPEC_ROWS, precision="fp4") + repeated("none", OFF_ROWS, precision="fp4")


def _printed(width: int, targets: list[float]) -> str:
    result = compare_b300(POINTS, targets)
    buffer = io.StringIO()
    print_comparison(Console(file=buffer, width=width, color_system=None), result)
    return buffer.getvalue()


def test_the_table_fits_100_columns_in_a_wide_terminal() -> None:
    text = _printed(250, [130.0, 139.99, 140.0, 150.0])
    table = [line for line in text.splitlines() if line[:1] in "┏┃┡│└"]
    assert len(table) > 8
    assert max(len(line) for line in table) <= 100


def test_targets_keep_the_precision_they_were_given() -> None:
    text = _printed(250, [139.99, 140.0])
    header = next(line for line in text.splitlines() if line.startswith("┃"))
    assert "139.99" in header and "140 " in header
    assert "Target 139.99 tok/s/user" in text and "Target 140 tok/s/user" in text


def test_thousands_separators_and_the_ratio_interval() -> None:
    # At 130 (a measured spec point): spec mean 4,200 (sd 100, t(2) = 4.302653 → ± 248.4 =
    # 3,951.6–4,448.4); off between 120 (2,550) and 160 (1,450) on its two-knot line: 2,275.
    text = _printed(250, [130.0])
    assert "4,200.0 [3,952–4,448]" in text
    assert "2,275.0" in text
    assert "cheaper [95 % CI]" in text
    assert "mtp 1.85× [" in text
