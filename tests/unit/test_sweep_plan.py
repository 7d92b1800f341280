"""Plan expansion: order repeat → server config (off first) → workload → concurrency, the number
of server launches, point keys, and the dry-run duration estimate."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from specscope.errors import UserError
from specscope.sweep.plan import (
    DEFAULT_STREAM_TOK_S,
    SERVER_START_S,
    SYNTHETIC,
    make_plan,
    recipe_hash,
    server_configs,
)
from specscope.sweep.recipe import Recipe, parse_recipe


def _recipe(**over: Any) -> Recipe:
    data: dict[str, Any] = {
        "name": "t",
        "repeats": 2,
        "engine": {"kind": "llamacpp"},
        "load": {"concurrency": [1, 2], "requests_per_point": 8, "warmup": 1},
        "workload": [
            {"name": "a", "source": "builtin:chat", "osl": 128},
            {"name": "b", "source": "builtin:code", "osl": 64},
        ],
        # off listed last on purpose: the plan still visits it first
        "spec": [
            {"name": "ngram", "method": "ngram-mod", "gamma": [4, 8]},
            {"name": "off", "method": "none"},
        ],
    }
    data.update(over)
    return parse_recipe(data)


def test_order_is_repeat_then_server_off_first_then_workload_then_concurrency() -> None:
    keys = [p.key for p in make_plan(_recipe()).points]
    # 2 repeats × 3 server configs (off, ngram g4, ngram g8) × 2 workloads × 2 concurrencies
    assert len(keys) == 24
    assert keys[:8] == [
        "off:none|a|c1|r0",
        "off:none|a|c2|r0",
        "off:none|b|c1|r0",
        "off:none|b|c2|r0",
        "ngram:ngram-mod-g4|a|c1|r0",
        "ngram:ngram-mod-g4|a|c2|r0",
        "ngram:ngram-mod-g4|b|c1|r0",
        "ngram:ngram-mod-g4|b|c2|r0",
    ]
    assert keys[8] == "ngram:ngram-mod-g8|a|c1|r0"
    assert keys[12] == "off:none|a|c1|r1"  # the second repeat starts with off again
    assert keys[-1] == "ngram:ngram-mod-g8|b|c2|r1"
    assert len(set(keys)) == len(keys)


def test_paired_design_every_config_sees_every_workload_load_and_repeat() -> None:
    plan = make_plan(_recipe())
    cells: dict[str, set[tuple[str, int, int]]] = {}
    for p in plan.points:
        cells.setdefault(p.server.label, set()).add((p.workload.name, p.concurrency, p.repeat))
    assert len(cells) == 3
    first = next(iter(cells.values()))
    assert all(c == first for c in cells.values())


def test_launches_count_flag_changes_only() -> None:
    plan = make_plan(_recipe())
    # per repeat: off → g4 → g8 = 3 launches; the second repeat starts over with off
    assert plan.launches() == 6
    single = make_plan(_recipe(spec=[{"name": "off"}], repeats=3))
    # one server config: the flags never change, one launch for all 3 repeats
    assert single.launches() == 1


def test_estimate_worked_example() -> None:
    plan = make_plan(_recipe())
    # 9 requests a point (8 timed + 1 warm-up) at 30 tok/s per stream, waves never overlap:
    #   a, c1: 9 waves × 128 / 30 = 38.4 s     a, c2: 5 waves × 128 / 30 = 21.333 s
    #   b, c1: 9 waves × 64 / 30  = 19.2 s     b, c2: 5 waves × 64 / 30  = 10.667 s
    # = 89.6 s per server config and repeat; × 3 configs × 2 repeats = 537.6 s,
    # plus 6 launches × 5 s = 30 s → 567.6 s
    assert DEFAULT_STREAM_TOK_S == 30.0
    assert SERVER_START_S == 5.0
    assert plan.estimate_s() == pytest.approx(567.6)
    # twice the stream rate halves the decode part only: 537.6 / 2 + 30 = 298.8 s
    assert plan.estimate_s(stream_tok_s=60.0) == pytest.approx(298.8)


def test_synthetic_acceptance_expands_per_length_and_is_stored_as_synthetic() -> None:
    recipe = _recipe(
        repeats=1,
        spec=[
            {"name": "off"},
            {
                "name": "synth",
                "method": "ngram-mod",
                "gamma": [4],
                "synthetic_acceptance_length": [2.0, 2.5],
            },
        ],
    )
    configs = server_configs(recipe.spec[1])
    assert [c.label for c in configs] == ["synth:ngram-mod-g4-al2", "synth:ngram-mod-g4-al2.5"]
    assert {c.stored_method for c in configs} == {SYNTHETIC}
    assert server_configs(recipe.spec[0])[0].stored_method == "none"
    assert make_plan(recipe).launches() == 3


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"name": "bad", "method": "none", "gamma": [2]}, "[[spec]] 'bad': spec method 'none'"),
        (
            {
                "name": "bad",
                "method": "ngram-mod",
                "gamma": [2],
                "synthetic_acceptance_length": [3.5],
            },
            "exceeds g + 1 = 3",
        ),
        ({"name": "bad", "method": "medusa"}, "[[spec]] 'bad'"),
    ],
)
def test_an_impossible_spec_config_is_one_line(spec: dict[str, Any], expected: str) -> None:
    with pytest.raises(UserError) as info:
        make_plan(_recipe(spec=[{"name": "off"}, spec]))
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_recipe_hash_is_stable_and_follows_settings() -> None:
    assert recipe_hash(_recipe()) == recipe_hash(_recipe())
    assert len(recipe_hash(_recipe())) == 12
    assert recipe_hash(_recipe()) != recipe_hash(_recipe(repeats=3))
    assert make_plan(_recipe()).recipe_hash == recipe_hash(_recipe())


@settings(max_examples=40, deadline=None)
@given(
    repeats=st.integers(1, 3),
    gammas=st.lists(st.integers(1, 8), min_size=0, max_size=3, unique=True),
    n_workloads=st.integers(1, 3),
    concurrency=st.lists(st.integers(1, 16), min_size=1, max_size=4, unique=True),
)
def test_matrix_invariants(
    repeats: int, gammas: list[int], n_workloads: int, concurrency: list[int]
) -> None:
    spec: list[dict[str, Any]] = [{"name": "off"}]
    if gammas:
        spec.append({"name": "ngram", "method": "ngram-mod", "gamma": gammas})
    recipe = _recipe(
        repeats=repeats,
        spec=spec,
        workload=[{"name": f"w{i}", "source": "builtin:chat"} for i in range(n_workloads)],
        load={"concurrency": concurrency},
    )
    plan = make_plan(recipe)
    n_servers = 1 + len(gammas)
    assert len(plan.points) == repeats * n_servers * n_workloads * len(concurrency)
    assert len({p.key for p in plan.points}) == len(plan.points)
    assert plan.launches() == (1 if n_servers == 1 else repeats * n_servers)
    # within each repeat, off comes first
    for r in range(repeats):
        first = next(p for p in plan.points if p.repeat == r)
        assert first.server.settings.is_off
    # repeats never interleave
    assert [p.repeat for p in plan.points] == sorted(p.repeat for p in plan.points)
    assert plan.estimate_s() > 0
