"""The sweep's LAUNCHED-server path without llama.cpp: the recipe's ``engine.binary`` points at a
script that takes llama-server's arguments and serves the fault-injection fake.

Checks what needs launches but not a real model, fast enough for every run: the server is
relaunched exactly when the flags change (off → g2 → g4, again each repeat), off and every spec
config get the same prompts in the same order (paired design), the lossless check compares them,
a server killed mid-point is a failed point followed by a relaunch, and nothing is left running.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from specscope.engines.server import ManagedServer
from specscope.store.db import PointFilter, Store
from specscope.sweep.hooks import SweepHooks
from specscope.sweep.plan import make_plan
from specscope.sweep.recipe import parse_recipe
from specscope.sweep.runner import SweepRunner
from specscope.sweep.stale import PID_FILE, process_start

ROOT = Path(__file__).resolve().parents[2]

FAKE_LLAMA_SERVER = """#!{python}
# Takes llama-server's arguments, serves tests/fakes/stream_server.py on --port (plus /health
# and a word-count /tokenize), and logs each launch and generation request to $FAKE_LOG.
import asyncio, json, os, sys

from tests.fakes.stream_server import Behaviour, StreamServer

ARGS = sys.argv[1:]
PORT = int(ARGS[ARGS.index("--port") + 1])
LOG = os.environ["FAKE_LOG"]


def log(**record):
    with open(LOG, "a") as f:
        f.write(json.dumps({{"pid": os.getpid(), **record}}) + "\\n")


class Fake(StreamServer):
    async def __aenter__(self):
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", PORT)
        self.port = PORT
        return self

    async def _serve(self, path, headers, body, w):
        if path == "/health":
            await self._plain(w, 200, {{"status": "ok"}})
            return True
        if path == "/tokenize":  # one token per word, plus BOS when asked
            n = len(body["content"].split()) + bool(body.get("add_special"))
            await self._plain(w, 200, {{"tokens": list(range(n))}})
            return True
        if body:
            log(event="request", path=path, prompt=body.get("prompt"))
        return await super()._serve(path, headers, body, w)


async def main():
    async with Fake(Behaviour(chunk_interval_s=0.01)):
        log(event="launch", args=ARGS)
        await asyncio.Event().wait()


asyncio.run(main())
"""


def _fake_binary(tmp_path: Path) -> Path:
    path = tmp_path / "fake-llama-server"
    path.write_text(FAKE_LLAMA_SERVER.format(python=sys.executable))
    path.chmod(0o755)
    return path


def _recipe(tmp_path: Path, **load: Any) -> Any:
    return parse_recipe(
        {
            "name": "launched-fake",
            "repeats": 2,
            "seed": 7,
            "engine": {
                "kind": "llamacpp",
                "model": str(tmp_path / "model.gguf"),
                "binary": str(_fake_binary(tmp_path)),
                "env": {"PYTHONPATH": str(ROOT), "FAKE_LOG": str(tmp_path / "fake.jsonl")},
                "health_timeout_s": 30,
            },
            "load": {
                "concurrency": [1, 2],
                "requests_per_point": 3,
                "warmup": 1,
                "timeout_s": 30,
                **load,
            },
            "workload": [{"name": "code", "source": "builtin:code", "osl": 4}],
            "spec": [
                {"name": "off"},
                {"name": "ngram", "method": "ngram-mod", "gamma": [2, 4]},
            ],
        }
    )


def _log(tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "fake.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _spec_flags(args: list[str]) -> tuple[str, str | None]:
    spec_type = args[args.index("--spec-type") + 1]
    depth = args[args.index("--spec-ngram-mod-n-max") + 1] if spec_type != "none" else None
    return spec_type, depth


def test_relaunch_on_flag_change_paired_prompts_and_lossless(tmp_path: Path) -> None:
    recipe = _recipe(tmp_path)
    plan = make_plan(recipe)
    with Store.open(tmp_path / "s.duckdb") as store:
        outcome = SweepRunner(plan, store, tmp_path / "runs").run()
        points = store.points(PointFilter(run_id=outcome.run_id, status=None))
    assert outcome.failed == 0, [p.error for p in points]
    assert outcome.measured == len(plan.points) == 2 * 3 * 2

    log = _log(tmp_path)
    launches = [r for r in log if r["event"] == "launch"]
    # one launch per server config per repeat, in plan order; the 2 concurrencies share one
    assert len(launches) == plan.launches() == 6
    assert [_spec_flags(r["args"]) for r in launches] == [
        ("none", None),
        ("ngram-mod", "2"),
        ("ngram-mod", "4"),
    ] * 2
    assert len({r["pid"] for r in launches}) == 6

    # paired design: within a repeat, every server got the same prompts in the same order
    # (1 warm-up + 3 timed per concurrency level, at c=1 strictly ordered)
    prompts: dict[int, list[Any]] = defaultdict(list)
    for r in log:
        if r["event"] == "request":
            prompts[r["pid"]].append(r["prompt"])
    per_launch = [prompts[r["pid"]] for r in launches]
    assert all(len(p) == 2 * (1 + 3) for p in per_launch)
    for repeat in (0, 1):
        off, g2, g4 = per_launch[3 * repeat : 3 * repeat + 3]
        assert sorted(map(str, g2)) == sorted(map(str, off))
        assert sorted(map(str, g4)) == sorted(map(str, off))
        assert g2[:4] == off[:4] and g4[:4] == off[:4]  # concurrency 1: the same order
    # the same seed gives the same prompts in the second repeat too
    assert sorted(map(str, per_launch[0])) == sorted(map(str, per_launch[3]))

    # the same prompts give the same input length (counted by the server's /tokenize)
    assert len({p.config.isl for p in points}) == 1
    assert points[0].config.isl > 0

    # the fake answers every prompt alike, so spec-on text equals spec-off text
    spec_points = [p for p in points if not p.config.is_off]
    assert len(spec_points) == 8
    for p in spec_points:
        assert p.provenance.extra["lossless"]["compared"] == 3
        assert p.provenance.extra["lossless"]["identical"] == 3
        assert p.config.spec_method == "ngram-mod"
        assert p.config.draft_depth in (2, 4)
        assert "--spec-ngram-mod-n-max" in p.config.spec_config
    assert all("lossless" not in p.provenance.extra for p in points if p.config.is_off)

    # every fake server was stopped and the pid file went with the last one
    assert all(process_start(r["pid"]) is None for r in launches)
    assert not (Path(outcome.run_dir) / PID_FILE).exists()
    assert list(Path(outcome.run_dir).glob("server-llamacpp-*.log"))


def test_a_server_killed_mid_point_fails_that_point_and_is_relaunched(tmp_path: Path) -> None:
    recipe = _recipe(tmp_path)
    data = recipe.model_dump(mode="json")
    data.update(repeats=1, spec=[{"name": "off"}])
    plan = make_plan(parse_recipe(data))
    killed: list[int] = []
    box: list[SweepRunner] = []

    def on_tokens(_n: int) -> None:
        if killed:
            return
        handle = box[0].servers.handle
        assert isinstance(handle, ManagedServer) and handle.pid is not None
        killed.append(handle.pid)
        os.killpg(handle.pid, signal.SIGKILL)

    with Store.open(tmp_path / "s.duckdb") as store:
        runner = SweepRunner(plan, store, tmp_path / "runs", hooks=SweepHooks(on_tokens=on_tokens))
        box.append(runner)
        outcome = runner.run()
        by_key = {
            str(p.provenance.extra["sweep_key"]): p
            for p in store.points(PointFilter(run_id=outcome.run_id, status=None))
        }
        kept = store.requests(by_key[plan.points[0].key].point_id)
    # the requests that were over when the server died are kept with the failed point
    assert kept and all(not r.warmup for r in kept)
    assert kept[0].ok and kept[0].output_tokens == 4
    first, second = (by_key[p.key] for p in plan.points)
    assert first.status == "failed"
    assert first.error is not None
    assert first.error.startswith("server died mid-point: llamacpp server (pid ")
    assert "exited with code -9 while in use" in first.error
    assert second.status == "ok", second.error
    launches = [r for r in _log(tmp_path) if r["event"] == "launch"]
    assert len(launches) == 2
    assert launches[0]["pid"] == killed[0]
    assert process_start(launches[1]["pid"]) is None


@pytest.mark.parametrize("fault", ["exit", "never-healthy"])
def test_a_server_that_does_not_start_fails_its_points_and_the_sweep_goes_on(
    tmp_path: Path, fault: str
) -> None:
    recipe = _recipe(tmp_path)
    data = recipe.model_dump(mode="json")
    # the g=2 server cannot start: it exits at once, or never answers /health in time
    if fault == "exit":
        bad_args = ["--fake-exit"]
        script = FAKE_LLAMA_SERVER.replace(
            "ARGS = sys.argv[1:]", "ARGS = sys.argv[1:]\nif '--fake-exit' in ARGS: sys.exit(3)"
        )
    else:
        bad_args = ["--fake-hang"]
        script = FAKE_LLAMA_SERVER.replace(
            "ARGS = sys.argv[1:]",
            "ARGS = sys.argv[1:]\nif '--fake-hang' in ARGS:\n    import time; time.sleep(600)",
        )
        data["engine"]["health_timeout_s"] = 2
    Path(data["engine"]["binary"]).write_text(script.format(python=sys.executable))
    data.update(
        repeats=1,
        spec=[
            {"name": "off"},
            {"name": "bad", "method": "ngram-mod", "gamma": [2], "args": bad_args},
            {"name": "good", "method": "ngram-mod", "gamma": [4]},
        ],
    )
    plan = make_plan(parse_recipe(data))
    with Store.open(tmp_path / "s.duckdb") as store:
        outcome = SweepRunner(plan, store, tmp_path / "runs").run()
        by_key = {
            str(p.provenance.extra["sweep_key"]): p
            for p in store.points(PointFilter(run_id=outcome.run_id, status=None))
        }
    assert (outcome.measured, outcome.failed) == (6, 2)
    for planned in plan.points:
        point = by_key[planned.key]
        if planned.server.name == "bad":
            assert point.status == "failed"
            assert point.error is not None
            assert point.error.startswith("server did not start: llamacpp server")
            expected = "exited with code 3" if fault == "exit" else "did not become healthy"
            assert expected in point.error
        else:
            assert point.status == "ok", point.error
    # the hung server was stopped after its health timeout
    assert not list((tmp_path / "runs").glob(f"*/{PID_FILE}"))
