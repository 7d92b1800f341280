"""The page's embedded data: escaping, frontier, rounding, sharing of series between views."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from specscope.analysis.economics import list_presets
from specscope.report.payload import (
    build_payload,
    embed_json,
    headline,
    preset_payload,
    series_payload,
)
from specscope.report.sample import sample_pair, sample_points


@pytest.mark.parametrize(
    ("value", "forbidden"),
    [
        ("</script><script>alert(1)</script>", "</script"),
        ("<!-- comment", "<!--"),
        ("a & b", "&"),
        ("x > y", ">"),
        ("line\u2028break", "\u2028"),
        ("para\u2029break", "\u2029"),
    ],
)
def test_embed_json_escapes_what_could_end_the_script(value: str, forbidden: str) -> None:
    text = embed_json({"label": value})
    assert forbidden not in text
    assert json.loads(text) == {"label": value}


@given(st.recursive(st.text() | st.integers() | st.booleans(), lambda c: st.lists(c, max_size=4)))
def test_embed_json_round_trips_and_never_has_raw_markup(value: object) -> None:
    text = embed_json(value)
    assert not any(ch in text for ch in "<>&\u2028\u2029")
    assert json.loads(text) == value


def test_embed_json_writes_non_finite_numbers_as_null() -> None:
    assert embed_json([float("nan"), float("inf"), 1.5]) == "[null,null,1.5]"


def test_series_payload_frontier_and_knot_values_are_exact() -> None:
    spec = [p for p in sample_points() if not p.config.is_off]
    payload = series_payload(spec, {"label": "mtp (vllm)"})
    op = payload["op"]
    front = payload["front"]
    # g=3 dominates: frontier (50, 6000), (100, 3000), (150, 1000), (200, 300).
    assert [op["x"][i] for i in front] == [50.0, 100.0, 150.0, 200.0]
    assert [op["y"][i] for i in front] == [6000.0, 3000.0, 1000.0, 300.0]
    assert [op["c"][i] for i in front] == [64.0, 16.0, 4.0, 1.0]
    assert len(op["x"]) == 8
    assert {op["al"][i] for i in front} == {3.0}
    configs = payload["cfgs"]
    assert sorted(c["g"] for c in configs) == [1, 2, 3]
    assert "m" not in op and op["sd"] == []


def test_off_frontier_points_keep_every_digit_and_others_are_rounded() -> None:
    points = sample_points(scale=1.000001234567)
    off = [p for p in points if p.config.is_off]
    spec = [p for p in points if not p.config.is_off]
    off_payload = series_payload(off, {})
    # Every Off point is on its frontier: values are the raw floats.
    assert off_payload["op"]["y"][0] == off[0].throughput_per_gpu
    spec_payload = series_payload(spec, {})
    hidden = [i for i in range(8) if i not in spec_payload["front"]]
    # 250 × 1.000001234567 = 250.00030864...: six significant digits → 250.000.
    assert spec_payload["op"]["y"][hidden[0]] == float(f"{spec[hidden[0]].throughput_per_gpu:.6g}")


def test_repeats_embed_mean_and_sd_for_the_page_confidence_intervals() -> None:
    off = [p for p in sample_points(repeats=3) if p.config.is_off]
    op = series_payload(off, {})["op"]
    # 200 × (1, 1.02, 0.98): the statistic is the mean, 200 (y); sd = 0.02·200 = 4.
    assert op["n"] == [3, 3, 3, 3]
    assert op["y"][0] == pytest.approx(200.0)
    assert op["sd"][0] == pytest.approx(4.0)


def test_an_off_series_shared_by_two_pairs_is_embedded_once() -> None:
    mtp_points = sample_points(method="mtp")
    eagle_points = [p for p in sample_points(method="eagle3") if not p.config.is_off]
    mtp = sample_pair(mtp_points)
    off = [p for p in mtp_points if p.config.is_off]
    eagle = sample_pair(eagle_points + off)
    payload = build_payload([mtp, eagle], 0, list_presets(), [], [None, None], "t")
    views = payload["views"]
    assert views[0]["offs"] == views[1]["offs"]
    assert views[0]["spec"] != views[1]["spec"]
    assert len(payload["series"]) == 3
    assert [v["method"] for v in views] == ["mtp", "eagle3"]


def test_view_holds_the_comparison_acceptance_and_explain_rows() -> None:
    pair = sample_pair(sample_points())
    payload = build_payload([pair], 0, list_presets(), [], ["index.html"], "t")
    (view,) = payload["views"]
    assert view["cmp"] == json.loads(pair.comparison.model_dump_json())
    assert [row["draft_depth"] for row in view["acc"]] == [1, 2, 3]
    assert len(view["explain"]) == 8
    assert view["file"] == "index.html"
    assert (view["model"], view["hardware"], view["sequence"], view["engine"]) == (
        "llama-3.1-8b",
        "h100",
        "1k/1k",
        "vllm",
    )


def test_presets_are_reduced_to_the_page_hardware() -> None:
    reduced = preset_payload(list_presets(), {"h100"})
    seed = next(p for p in reduced if p["name"] == "inferencex-2026-04")
    # SPEC.md §2 seed preset: H100 at $1.30/GPU-hour and 1.73 kW.
    assert seed["hw"] == {"h100": [1.30, 1.73]}
    assert all(set(p["hw"]) == {"h100"} for p in reduced)
    assert preset_payload(list_presets(), {"no-such-gpu"}) == []


def test_headline_names_the_cost_winner_at_the_middle_target() -> None:
    pair = sample_pair(sample_points())
    # Middle default target 85 tok/s/user: spec 3810.75 vs off 1318.125 tok/s/GPU → 2.89×.
    text = headline(pair)
    assert text.startswith("MTP (vllm) ")
    assert "2.89× cheaper" in text
    assert text.endswith("at 85 tok/s/user")
