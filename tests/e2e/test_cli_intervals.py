"""``specscope compare --json`` on a real DuckDB store gives issue 10's worked interval: spec
repeats 1000 and 1200 tok/s/GPU against off repeats 500 and 400 at one interactivity → ratio
2.44×, 95 % CI 1.29×–4.64× (Welch df 1.925, t 4.47; derived in tests/unit/test_stats_t.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.cli import ok_json, specscope
from tests.unit.test_compare_uncertainty import _side

from specscope.store.db import Store


def test_compare_json_gives_the_worked_ratio_interval(tmp_path: Path) -> None:
    db = tmp_path / "worked.duckdb"
    points = _side("mtp", [(4, 30.0, [1000.0, 1200.0]), (1, 50.0, [300.0, 320.0])]) + _side(
        "none", [(4, 30.0, [500.0, 400.0]), (1, 45.0, [200.0, 220.0])]
    )
    with Store.open(db) as store:
        store.add_points(points)
    c = ok_json(specscope("compare", "--db", db, "--targets", "30", "--json", cwd=tmp_path))
    (target,) = c["targets"]
    for kind in ("throughput", "cost", "power"):
        assert target[kind]["factor"] == pytest.approx(1100.0 / 450.0, rel=1e-12)
        assert target[kind]["factor_ci"] == pytest.approx([1.287005, 4.642803], abs=1e-6)
    assert target["spec"]["throughput_ci"] is not None
    assert c["statistic"].startswith("throughput is the mean over repeats")
    text = specscope("compare", "--db", db, "--targets", "30", cwd=tmp_path).stdout
    assert "(95 % CI 1.29×–4.64× from repeats" in text
    assert "mtp 2.44× [1.29–4.64×]" in text
