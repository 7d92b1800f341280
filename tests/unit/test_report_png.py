"""PNG charts: valid PNG files of the promised pixel size, whatever the labels hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from specscope.report.acceptance import acceptance_by_depth
from specscope.report.png import (
    HEIGHT_PX,
    WIDTH_PX,
    plain,
    png_size,
    write_acceptance_png,
    write_hero_png,
)
from specscope.report.sample import sample_pair, sample_points

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_hero_png_is_1600_by_1000(tmp_path: Path) -> None:
    pair = sample_pair(sample_points(model="a $b$ model with dollars $", repeats=3))
    path = write_hero_png(pair, tmp_path / "hero.png")
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert png_size(path) == (WIDTH_PX, HEIGHT_PX) == (1600, 1000)


def test_acceptance_png_is_1600_by_1000(tmp_path: Path) -> None:
    rows = acceptance_by_depth(sample_points(engine="<script>alert(1)</script>"))
    path = write_acceptance_png(rows, "Acceptance: $x$", tmp_path / "acc.png")
    assert png_size(path) == (1600, 1000)


def test_acceptance_png_without_positions_still_draws(tmp_path: Path) -> None:
    rows = [r.model_copy(update={"per_position": []}) for r in acceptance_by_depth(sample_points())]
    assert png_size(write_acceptance_png(rows, "t", tmp_path / "a.png")) == (1600, 1000)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("$0.10/M", r"\$0.10/M"), ("no dollars", "no dollars"), ("$a$ $b$", r"\$a\$ \$b\$")],
)
def test_plain_switches_mathtext_off(text: str, expected: str) -> None:
    assert plain(text) == expected


def test_png_size_refuses_other_files(tmp_path: Path) -> None:
    path = tmp_path / "x.png"
    path.write_bytes(b"GIF89a" + bytes(30))
    with pytest.raises(ValueError, match="not a PNG"):
        png_size(path)
