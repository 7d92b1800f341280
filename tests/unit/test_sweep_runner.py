"""Runner bookkeeping that needs no server: resume picks the ok row of a point, run ids never
collide, a spec config the engine cannot run is refused before anything is measured."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.support.points import make_point

from specscope.errors import UserError
from specscope.schema import Point, Provenance
from specscope.store.db import PointFilter, Store
from specscope.sweep.plan import Plan, make_plan
from specscope.sweep.recipe import parse_recipe
from specscope.sweep.runner import SweepRunner


def _plan(**engine: Any) -> Plan:
    return make_plan(
        parse_recipe(
            {
                "name": "unit",
                "engine": engine or {"kind": "endpoint", "url": "http://127.0.0.1:9"},
                "load": {"concurrency": [1, 2]},
                "workload": [{"name": "chat", "source": "builtin:chat", "osl": 8}],
                "spec": [{"name": "off"}],
            }
        )
    )


def _point(run_id: str, key: str, *, status: str, isl: int, concurrency: int) -> Point:
    return make_point(
        run_id=run_id,
        hardware="cpu",
        engine="generic",
        isl=isl,
        osl=8,
        concurrency=concurrency,
        workload="chat",
        status=status,
        error=None if status == "ok" else "server did not start: no healthy server",
        throughput_per_gpu=10.0 if status == "ok" else 0.0,
        interactivity=5.0 if status == "ok" else 0.0,
        provenance=Provenance(extra={"sweep_key": key}),
    )


def test_resume_skips_a_point_stored_ok_even_next_to_an_older_failed_row(tmp_path: Path) -> None:
    plan = _plan()
    run_id = "unit-20260101T000000Z"
    with Store.open(":memory:") as store:
        store.add_run(run_id, kind="sweep", notes={"recipe_hash": plan.recipe_hash})
        rows = []
        for i, planned in enumerate(plan.points):
            c = planned.concurrency
            # a start failure stored isl 0 (no tokenizer yet); the later measurement isl 42:
            # two ids for one key. The ok row is listed first and second in turn.
            failed = _point(run_id, planned.key, status="failed", isl=0, concurrency=c)
            ok = _point(run_id, planned.key, status="ok", isl=42, concurrency=c)
            rows += [failed, ok] if i % 2 else [ok, failed]
        store.add_points(rows)
        runner = SweepRunner(plan, store, tmp_path / "runs", resume=True)
        assert runner.run_id == run_id
        stored = runner._stored()
        assert {k: p.status for k, p in stored.items()} == {p.key: "ok" for p in plan.points}
        # nothing left to measure: no server is contacted (nothing listens on port 9)
        outcome = runner.run()
        assert (outcome.measured, outcome.skipped, outcome.failed) == (0, 2, 0)
        assert outcome.point_ids == [stored[p.key].point_id for p in plan.points]
        assert store.count(PointFilter(run_id=run_id, status=None)) == 4


def test_two_runs_in_one_second_get_different_ids(tmp_path: Path) -> None:
    plan = _plan()
    with Store.open(":memory:") as store:
        first = SweepRunner(plan, store, tmp_path / "runs")
        first._register_run()
        second = SweepRunner(plan, store, tmp_path / "runs")
    assert first.run_id != second.run_id
    assert first.run_id.startswith("unit-")
    if second.run_id.startswith(first.run_id):  # the same second: numbered
        assert second.run_id == first.run_id + "-2"


def test_resume_without_a_matching_run_is_one_line(tmp_path: Path) -> None:
    plan = _plan()
    with Store.open(":memory:") as store:
        store.add_run("other", kind="sweep", notes={"recipe_hash": "something else"})
        with pytest.raises(UserError) as info:
            SweepRunner(plan, store, tmp_path / "runs", resume=True)
    assert str(info.value).startswith("--resume: no earlier run of recipe 'unit'")
    assert "\n" not in str(info.value)


def test_a_spec_method_the_engine_lacks_is_refused_before_measuring(tmp_path: Path) -> None:
    plan = make_plan(
        parse_recipe(
            {
                "name": "bad",
                "engine": {"kind": "llamacpp", "model": str(tmp_path / "model.gguf")},
                "workload": [{"name": "chat", "source": "builtin:chat"}],
                # llama.cpp has no EAGLE-1 drafter; off comes first in the plan
                "spec": [{"name": "off"}, {"name": "eagle", "method": "eagle", "gamma": [2]}],
            }
        )
    )
    with Store.open(":memory:") as store:
        runner = SweepRunner(plan, store, tmp_path / "runs")
        with pytest.raises(UserError) as info:
            runner.run()
        assert store.count(PointFilter(status=None)) == 0
        assert store.runs() == []
    assert "llamacpp has no spec method 'eagle'" in str(info.value)
    assert not (tmp_path / "runs").exists()
