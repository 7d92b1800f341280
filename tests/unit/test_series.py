"""Series keys: (method, engine, deployment), unless the user pools them.

Aggregated and disaggregated (prefill/decode) deployments of one engine are separate curves, as
InferenceX keeps its ``-disagg`` curves apart; the label names the deployment. Aggregated-only
data keeps its labels (``mtp (vllm)``).
"""

from __future__ import annotations

import pytest
from tests.support.points import curve_point

from specscope.analysis.series import (
    Series,
    deployment_label,
    engine_label,
    select_pair,
    split_series,
)
from specscope.errors import UserError
from specscope.schema import Point


def point(
    engine: str, method: str, conc: int, tput: float, *, disagg: bool = False, status: str = "ok"
) -> Point:
    return curve_point(
        method,
        conc,
        2000.0 / conc,
        tput,
        run_id=f"{engine}-{'disagg' if disagg else 'agg'}-{method}",
        hardware="h200",
        model="dsr1",
        precision="fp8",
        engine=engine,
        draft_depth=0 if method == "none" else 3,
        disaggregated=disagg,
        n_gpus=16 if disagg else 8,
        n_decode_gpus=8 if disagg else None,
        isl=8192,
        status=status,
    )


MIXED = [
    point("sglang", "mtp", 8, 900.0),
    point("sglang", "mtp", 32, 1500.0),
    point("sglang", "mtp", 8, 700.0, disagg=True),
    point("sglang", "mtp", 64, 2100.0, disagg=True),
    point("sglang", "none", 8, 600.0),
    point("sglang", "none", 32, 1300.0),
    point("sglang", "none", 8, 500.0, disagg=True),
    point("sglang", "none", 64, 1900.0, disagg=True),
    point("sglang", "none", 16, 999.0, disagg=True, status="failed"),
    point("vllm", "none", 16, 800.0),
]


Row = tuple[str, tuple[str, ...], tuple[str, ...], list[float]]


def _summary(series: list[Series]) -> list[Row]:
    return [
        (s.label, s.engines, s.deployments, [p.throughput_per_gpu for p in s.points])
        for s in series
    ]


def test_aggregated_and_disaggregated_are_separate_series() -> None:
    # old code keyed by (method, engine): "mtp (sglang)" held all four sglang mtp points
    assert _summary(split_series(MIXED)) == [
        ("mtp (sglang)", ("sglang",), ("aggregated",), [900.0, 1500.0]),
        ("mtp (sglang disagg)", ("sglang",), ("disaggregated",), [700.0, 2100.0]),
        ("off (sglang)", ("sglang",), ("aggregated",), [600.0, 1300.0]),
        ("off (sglang disagg)", ("sglang",), ("disaggregated",), [500.0, 1900.0]),
        ("off (vllm)", ("vllm",), ("aggregated",), [800.0]),
    ]


def test_pooling_pools_engines_and_deployments() -> None:
    both = ("aggregated", "disaggregated")
    assert _summary(split_series(MIXED, pool=True)) == [
        ("mtp (sglang+sglang disagg, pooled)", ("sglang",), both, [900.0, 1500.0, 700.0, 2100.0]),
        (
            "off (sglang+sglang disagg+vllm, pooled)",
            ("sglang", "vllm"),
            both,
            [600.0, 1300.0, 500.0, 1900.0, 800.0],
        ),
    ]
    (spec, off) = split_series(MIXED, pool=True)
    assert spec.members == ("sglang", "sglang disagg")
    assert off.members == ("sglang", "sglang disagg", "vllm")


def test_pairs_are_per_engine_and_deployment() -> None:
    pairs = select_pair(MIXED, "mtp")
    assert [(s.label, o.label) for s, o in pairs] == [
        ("mtp (sglang)", "off (sglang)"),
        ("mtp (sglang disagg)", "off (sglang disagg)"),
    ]
    spec, off = pairs[1]
    assert {p.config.disaggregated for p in (*spec.points, *off.points)} == {True}
    assert "not compared: vllm has off points but no mtp points" in spec.notes
    (pooled,) = select_pair(MIXED, "mtp", pool=True)
    assert [len(side.points) for side in pooled] == [4, 5]


def test_a_deployment_without_its_off_side_is_named() -> None:
    only_agg_off = [p for p in MIXED if not (p.config.is_off and p.config.disaggregated)]
    pairs = select_pair(only_agg_off, "mtp")
    assert [(s.label, o.label) for s, o in pairs] == [("mtp (sglang)", "off (sglang)")]
    assert "not compared: sglang disagg has mtp points but no off points" in pairs[0][0].notes
    # disaggregated MTP against aggregated Off of the same engine is no pair unless pooled
    sglang = [p for p in MIXED if p.config.engine == "sglang"]
    crossed = [p for p in sglang if p.config.disaggregated != p.config.is_off]
    with pytest.raises(UserError) as info:
        select_pair(crossed, "mtp")
    assert (
        "no engine has both mtp and off points (sglang disagg has mtp points but no off points; "
        "sglang has off points but no mtp points); pool engines (and deployments) into one "
        "curve per side with --pool"
    ) in str(info.value)
    (pooled,) = select_pair(crossed, "mtp", pool=True)
    assert [s.label for s in pooled] == ["mtp (sglang disagg)", "off (sglang)"]


def test_aggregated_only_labels_are_unchanged() -> None:
    pts = [
        point("vllm", "mtp", 8, 900.0),
        point("sglang", "mtp", 8, 800.0),
        point("vllm", "none", 8, 600.0),
        point("sglang", "none", 8, 500.0),
    ]
    assert [s.label for s in split_series(pts)] == [
        "mtp (sglang)",
        "mtp (vllm)",
        "off (sglang)",
        "off (vllm)",
    ]
    assert [s.label for s in split_series(pts, pool=True)] == [
        "mtp (sglang+vllm, pooled)",
        "off (sglang+vllm, pooled)",
    ]


@pytest.mark.parametrize(
    ("engine", "disagg", "label", "deployment"),
    [
        ("sglang", False, "sglang", "aggregated"),
        ("sglang", True, "sglang disagg", "disaggregated"),
        ("mori-sglang", True, "mori-sglang disagg", "disaggregated"),
    ],
)
def test_engine_and_deployment_labels(
    engine: str, disagg: bool, label: str, deployment: str
) -> None:
    assert engine_label(engine, disagg) == label
    assert deployment_label(disagg) == deployment
