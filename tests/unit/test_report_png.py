"""PNG charts: valid PNG files of the promised pixel size, whatever the labels hold, with the
series drawn (decoded: enough pixels off the background, and each series' own colour)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.colors import to_rgb
from matplotlib.image import imread

from specscope.report.acceptance import acceptance_by_depth
from specscope.report.png import (
    HEIGHT_PX,
    OFF_COLOUR,
    OTHER_COLOURS,
    SPEC_COLOUR,
    WIDTH_PX,
    plain,
    png_size,
    write_acceptance_png,
    write_hero_png,
)
from specscope.report.sample import sample_pair, sample_points

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SERIES_PIXELS = 500
"""Pixels of a series' exact colour that a drawn line or bar leaves at least (the charts here
have 2 000 to 100 000 each; antialiased edges are not counted)."""


def _pixels(path: Path) -> np.ndarray:
    """The PNG as height × width × RGB, 0–255."""
    return np.round(imread(path)[..., :3] * 255).astype(int)


def _drawn_share(pixels: np.ndarray) -> float:
    """The share of pixels not of the background (the top-left corner's colour)."""
    return float(np.any(pixels != pixels[0, 0], axis=-1).mean())


def _pixels_of(pixels: np.ndarray, colour: str) -> int:
    """How many pixels are ``colour`` (within 2 of 255 per channel)."""
    rgb = np.round(np.array(to_rgb(colour)) * 255).astype(int)
    return int((np.abs(pixels - rgb).max(axis=-1) <= 2).sum())


def test_hero_png_is_1600_by_1000(tmp_path: Path) -> None:
    pair = sample_pair(sample_points(model="a $b$ model with dollars $", repeats=3))
    path = write_hero_png(pair, tmp_path / "hero.png")
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    assert png_size(path) == (WIDTH_PX, HEIGHT_PX) == (1600, 1000)
    pixels = _pixels(path)
    assert pixels.shape == (1000, 1600, 3)
    assert _drawn_share(pixels) > 0.10  # axes, grid and labels alone are about 0.02
    assert _pixels_of(pixels, SPEC_COLOUR) >= SERIES_PIXELS
    assert _pixels_of(pixels, OFF_COLOUR) >= SERIES_PIXELS


def test_acceptance_png_is_1600_by_1000(tmp_path: Path) -> None:
    rows = acceptance_by_depth(sample_points(engine="<script>alert(1)</script>"))
    path = write_acceptance_png(rows, "Acceptance: $x$", tmp_path / "acc.png")
    assert png_size(path) == (1600, 1000)
    pixels = _pixels(path)
    assert _drawn_share(pixels) > 0.08
    # one AL line (the first colour) and a bar per draft depth, each in its own colour
    assert len(rows) == 3
    for colour in OTHER_COLOURS[: len(rows)]:
        assert _pixels_of(pixels, colour) >= SERIES_PIXELS, colour


def test_acceptance_png_without_positions_still_draws(tmp_path: Path) -> None:
    rows = [r.model_copy(update={"per_position": []}) for r in acceptance_by_depth(sample_points())]
    path = write_acceptance_png(rows, "t", tmp_path / "a.png")
    assert png_size(path) == (1600, 1000)
    pixels = _pixels(path)
    assert _drawn_share(pixels) > 0.03
    assert _pixels_of(pixels, OTHER_COLOURS[0]) >= SERIES_PIXELS  # the AL line


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
