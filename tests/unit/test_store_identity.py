"""Point identity on import: what was measured is part of it, so nothing stored is ever replaced.

Two InferenceX records with one configuration and concurrency but other results used to share a
point id, and the later one silently replaced the first ("1 already present"). Now the same
record imported again adds nothing, and another record is kept as the next repeat of that
configuration, with its file.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from tests.support.points import make_point

from specscope.analysis.stats import aggregate_repeats
from specscope.schema import Point, Provenance
from specscope.store.db import PointFilter, Store
from specscope.store.identity import (
    KEPT_AS_REPEAT,
    configuration_key,
    describe_added,
    measurement_digest,
    place_measurements,
)
from specscope.store.inferencex import import_inferencex


def record(conc: int, tput: float, intvty: float, **changes: Any) -> dict[str, Any]:
    """A single-node H200 MTP record as InferenceX writes it (one date and image)."""
    base: dict[str, Any] = {
        "hw": "h200-nv_0",
        "conc": conc,
        "image": "lmsysorg/sglang:v0.5.9",
        "model": "deepseek-ai/DeepSeek-R1-0528",
        "infmax_model_prefix": "dsr1",
        "framework": "sglang",
        "precision": "fp8",
        "spec_decoding": "mtp",
        "disagg": False,
        "is_multinode": False,
        "isl": 8192,
        "osl": 1024,
        "tp": 8,
        "ep": 1,
        "dp_attention": "false",
        "date": "2026-04-01",
        "tput_per_gpu": tput,
        "median_intvty": intvty,
        "median_tpot": 1.0 / intvty,
    }
    base.update(changes)
    return base


def write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text(json.dumps(records))
    return path


@pytest.fixture
def store() -> Any:
    with Store.open(":memory:") as s:
        yield s


def test_another_record_of_a_stored_configuration_is_kept_as_a_repeat(
    store: Store, tmp_path: Path
) -> None:
    first = write(
        tmp_path / "agg_week1.json", [record(8, 3000.0, 140.0), record(16, 3500.0, 120.0)]
    )
    second = write(
        tmp_path / "agg_week1_rerun.json",
        [
            record(8, 3000.0, 140.0),  # the same record again: already present
            record(16, 3500.0, 120.0),  # the same record again: already present
            record(8, 3100.0, 139.0),  # same configuration and conc, other results
            record(32, 4000.0, 100.0),  # a new configuration
        ],
    )
    report = import_inferencex(store, [first])
    assert (report.points_added, report.points_kept_as_repeats, report.points_already_present) == (
        2,
        0,
        0,
    )
    report = import_inferencex(store, [second])
    # old code: 1 added, 3 "already present", and conc 8 held only 3100 (3000 was replaced)
    assert (report.points_added, report.points_kept_as_repeats, report.points_already_present) == (
        2,
        1,
        2,
    )
    assert report.summary() == (
        "1 new, 1 kept as another repeat of an existing configuration, 2 already present, 0 skipped"
    )
    assert store.count() == 4
    conc8 = [p for p in store.points() if p.config.concurrency == 8]
    assert [(p.repeat, p.throughput_per_gpu) for p in conc8] == [(0, 3000.0), (1, 3100.0)]
    original, kept = conc8
    assert original.provenance.source_file == str(first)
    assert kept.provenance.source_file == str(second)
    assert kept.provenance.extra[KEPT_AS_REPEAT] == {
        "of": original.point_id,
        "source": str(second),
    }
    # the two records are now two repeats of one operating point:
    # mean (3000 + 3100) / 2 = 3050, sd = sqrt((50² + 50²) / 1) = 70.71
    ops = aggregate_repeats(conc8)
    assert list(ops.n_repeats) == [2]
    assert ops.throughput_per_gpu[0] == pytest.approx(3050.0)
    assert ops.throughput_sd[0] == pytest.approx(math.sqrt(5000.0))
    assert ops.interactivity[0] == pytest.approx(139.5)
    # re-importing either file is idempotent: nothing new, nothing renumbered again
    for path, present in ((second, 4), (first, 2)):
        again = import_inferencex(store, [path])
        assert (again.points_added, again.points_already_present) == (0, present)
    assert store.count() == 4


@pytest.mark.parametrize(
    ("batch", "expected", "stored_tputs"),
    [
        # (conc, tput) records in one file → (new, kept as repeats, present), stored throughputs
        ([(8, 3000.0)], (1, 0, 0), [3000.0]),
        ([(8, 3000.0), (8, 3000.0)], (1, 0, 1), [3000.0]),  # twice in one file: stored once
        ([(8, 3000.0), (8, 3100.0)], (2, 1, 0), [3000.0, 3100.0]),
        ([(8, 3000.0), (8, 3100.0), (8, 3200.0)], (3, 2, 0), [3000.0, 3100.0, 3200.0]),
        ([(8, 3000.0), (8, 3100.0), (8, 3000.0)], (2, 1, 1), [3000.0, 3100.0]),
        ([(8, 3000.0), (16, 3000.0)], (2, 0, 0), [3000.0, 3000.0]),  # other conc: other config
    ],
)
def test_repeats_within_one_file(
    store: Store,
    tmp_path: Path,
    batch: list[tuple[int, float]],
    expected: tuple[int, int, int],
    stored_tputs: list[float],
) -> None:
    path = write(tmp_path / "agg_bmk.json", [record(c, t, 100.0) for c, t in batch])
    report = import_inferencex(store, [path])
    assert (
        report.points_added,
        report.points_kept_as_repeats,
        report.points_already_present,
    ) == expected
    assert sorted(p.throughput_per_gpu for p in store.points()) == stored_tputs


def test_the_same_record_from_another_path_is_already_present(store: Store, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    a = write(tmp_path / "a" / "agg.json", [record(8, 3000.0, 140.0)])
    b = write(tmp_path / "agg_bmk.json", [record(8, 3000.0, 140.0)])
    assert import_inferencex(store, [a]).points_added == 1
    again = import_inferencex(store, [b])
    assert (again.points_added, again.points_already_present) == (0, 1)


def _point(tput: float, repeat: int = 0, **extra: Any) -> Point:
    return make_point(
        repeat=repeat,
        hardware="cpu",
        engine="llamacpp",
        isl=40,
        osl=16,
        throughput_per_gpu=tput,
        interactivity=10.0,
        provenance=Provenance(source_file="x.json", extra=extra),
    )


def test_measurement_digest_covers_results_not_identity_or_source() -> None:
    base = _point(100.0)
    assert measurement_digest(base) == measurement_digest(base.model_copy(update={"repeat": 3}))
    moved = base.model_copy(update={"provenance": Provenance(source_file="elsewhere.json")})
    assert measurement_digest(base) == measurement_digest(moved)
    booked = _point(100.0, **{KEPT_AS_REPEAT: {"of": "abc", "source": "y.json"}})
    assert measurement_digest(base) == measurement_digest(booked)
    assert measurement_digest(base) != measurement_digest(_point(100.5))
    assert measurement_digest(base) != measurement_digest(_point(100.0, std_ttft=0.07))
    # a non-finite extra value is stored as null: the digest sees it the same way
    assert measurement_digest(_point(1.0, x=math.nan)) == measurement_digest(_point(1.0, x=None))
    assert configuration_key(base) == configuration_key(_point(5.0, repeat=2))


def test_place_measurements_numbers_repeats_after_the_highest_stored() -> None:
    stored = [_point(100.0, repeat=0), _point(110.0, repeat=2)]
    placed = place_measurements(
        stored, [_point(110.0, repeat=0), _point(120.0, repeat=0), _point(130.0, repeat=1)], "s"
    )
    # 110 is stored (repeat 2); 120 meets repeat 0 and becomes repeat 3; 130's repeat 1 is free
    assert [(p.point.repeat, p.write, p.kept_as_repeat) for p in placed] == [
        (2, False, False),
        (3, True, True),
        (1, True, False),
    ]
    assert placed[1].point.provenance.extra[KEPT_AS_REPEAT] == {
        "of": stored[0].point_id,
        "source": "s",
    }


@pytest.mark.parametrize(
    ("counts", "line"),
    [
        ((2, 0, 5), "2 new, 5 already present"),
        (
            (3, 1, 5),
            "2 new, 1 kept as another repeat of an existing configuration, 5 already present",
        ),
        (
            (4, 4, 0),
            "0 new, 4 kept as further repeats of existing configurations, 0 already present",
        ),
    ],
)
def test_describe_added(counts: tuple[int, int, int], line: str) -> None:
    assert describe_added(*counts) == line


def test_add_measurements_reports_ids_in_input_order(store: Store) -> None:
    a, b = _point(100.0), _point(200.0)
    first = store.add_measurements([a])
    assert (first.added, first.kept_as_repeats, first.already_present) == (1, 0, 0)
    second = store.add_measurements([b, a])
    assert (second.added, second.kept_as_repeats, second.already_present) == (1, 1, 1)
    kept_id, present_id = second.point_ids
    assert present_id == a.point_id
    assert kept_id == b.model_copy(update={"repeat": 1}).point_id
    assert store.point_ids(PointFilter(status=None)) == {a.point_id, kept_id}
