"""``sweep`` end to end against fake vLLM, SGLang and TensorRT-LLM servers that speak each
engine's wire format (tests/fakes/engine_server.py), with acceptance derived by hand.

The fakes accept drafts by a fixed pattern (``2,0,1,2`` draft tokens per verify step, capped at
g = 2), so each request's counts follow from its output length n (the prefill token first, then
steps emitting accepted + 1 tokens):

- n = 10: steps accept 2, 0, 1, 2 → 4 steps, 5 accepted, 8 drafted, histogram [1, 1, 2]
  (positions accepted: [3, 2]); AL = 1 + 5/4 = 2.25, r = 5/8 = 0.625.
- n = 4: one step accepting 2 → 1 step, 2 accepted, 2 drafted, positions [1, 1]; AL = 3.0.
- n = 37: the 4-step cycle four times → 16 steps, 20 accepted, 32 drafted; AL 2.25.

Warm-up requests hit the same server, so its server-wide numbers (Prometheus counters, SGLang's
running average) include them; a point's exact counts must not.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from specscope.schema import Point
from specscope.store.db import PointFilter, Store
from specscope.sweep.plan import make_plan
from specscope.sweep.recipe import parse_recipe
from specscope.sweep.runner import SweepRunner

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """#!{python}
import sys
sys.path.insert(0, {root!r})
from tests.fakes.engine_server import main
main()
"""


def _binary(tmp_path: Path) -> Path:
    path = tmp_path / "fake-engine"
    path.write_text(SCRIPT.format(python=sys.executable, root=str(ROOT)))
    path.chmod(0o755)
    return path


def _recipe(
    tmp_path: Path,
    kind: str,
    fake: str,
    workloads: list[dict[str, Any]],
    *,
    api: str = "completions",
    requests: int = 3,
    env: dict[str, str] | None = None,
    engine: dict[str, Any] | None = None,
) -> Any:
    return parse_recipe(
        {
            "name": f"fake-{fake}",
            "seed": 3,
            "engine": {
                "kind": kind,
                "model": "fake-model",
                "binary": str(_binary(tmp_path)),
                "env": {
                    "FAKE_ENGINE": fake,
                    "FAKE_LOG": str(tmp_path / "fake.jsonl"),
                    **(env or {}),
                },
                "health_timeout_s": 30,
                **(engine or {}),
            },
            "load": {
                "api": api,
                "concurrency": [2],
                "requests_per_point": requests,
                "warmup": 1,
                "timeout_s": 30,
            },
            "workload": workloads,
            "spec": [{"name": "mtp", "method": "mtp", "gamma": [2]}],
        }
    )


def _run(tmp_path: Path, recipe: Any) -> list[Point]:
    plan = make_plan(recipe)
    with Store.open(tmp_path / "s.duckdb") as store:
        outcome = SweepRunner(plan, store, tmp_path / "runs").run()
        points = store.points(PointFilter(run_id=outcome.run_id, status=None))
    assert outcome.failed == 0, [p.error for p in points]
    order = [p.key for p in plan.points]
    return sorted(points, key=lambda p: order.index(str(p.provenance.extra["sweep_key"])))


def _log(tmp_path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (tmp_path / "fake.jsonl").read_text().splitlines()]


CODE10 = {"name": "code10", "source": "builtin:code", "osl": 10}
CODE4 = {"name": "code4", "source": "builtin:code", "osl": 4}


def test_vllm_per_request_metrics_give_exact_counts(tmp_path: Path) -> None:
    (point,) = _run(tmp_path, _recipe(tmp_path, "vllm", "vllm", [CODE10]))
    acc = point.acceptance
    assert acc is not None
    assert acc.source == "vllm:per_request"
    # 3 timed requests × (4 steps, 5 accepted, 8 drafted, positions [3, 2])
    assert (acc.drafts, acc.accepted_tokens, acc.draft_tokens) == (12, 15, 24)
    assert acc.accepted_per_position == [9, 6]
    assert acc.acceptance_length == pytest.approx(2.25)
    assert acc.draft_acceptance_rate == pytest.approx(0.625)
    launch = next(r for r in _log(tmp_path) if r["event"] == "launch")
    assert (
        launch["args"][launch["args"].index("--per-request-spec-decode-metrics") + 1] == "summary"
    )


def test_vllm_without_per_request_metrics_falls_back_to_counter_deltas(tmp_path: Path) -> None:
    recipe = _recipe(tmp_path, "vllm", "vllm", [CODE10], engine={"per_request_spec_metrics": False})
    (point,) = _run(tmp_path, recipe)
    acc = point.acceptance
    assert acc is not None
    # the warm-up (1 request) is before the first scrape: the delta holds the 3 timed ones
    assert acc.source == "prometheus:vllm"
    assert (acc.drafts, acc.accepted_tokens, acc.draft_tokens) == (12, 15, 24)
    assert acc.accepted_per_position == [9, 6]
    launch = next(r for r in _log(tmp_path) if r["event"] == "launch")
    assert "--per-request-spec-decode-metrics" not in launch["args"]


def test_sglang_two_points_on_one_server_use_per_request_counts(tmp_path: Path) -> None:
    recipe = _recipe(tmp_path, "sglang", "sglang", [CODE10, CODE4], api="sglang")
    first, second = _run(tmp_path, recipe)
    assert len([r for r in _log(tmp_path) if r["event"] == "launch"]) == 1  # one server
    a1, a2 = first.acceptance, second.acceptance
    assert a1 is not None and a2 is not None
    assert a1.source == a2.source == "sglang:meta_info"
    assert (a1.drafts, a1.accepted_tokens, a1.draft_tokens) == (12, 15, 24)
    assert a1.accepted_per_position == [9, 6]
    assert a1.acceptance_length == pytest.approx(2.25)
    # second point: 3 × (1 step, 2 accepted, 2 drafted, positions [1, 1]) → AL 3.0. The
    # server's running average by then is 1 + (4·5 + 4·2)/(4·4 + 4·1) = 2.4 (warm-ups and the
    # first point included): it must not be what is stored.
    assert (a2.drafts, a2.accepted_tokens, a2.draft_tokens) == (3, 6, 6)
    assert a2.accepted_per_position == [3, 3]
    assert a2.acceptance_length == pytest.approx(3.0)
    assert a2.draft_acceptance_rate == pytest.approx(1.0)
    requests = [r for r in _log(tmp_path) if r["event"] == "request"]
    assert {r["path"] for r in requests} == {"/generate"}
    assert "SGLANG_SIMULATE" not in first.config.spec_config


def test_sglang_running_average_only_on_a_fresh_server(tmp_path: Path) -> None:
    # over the OpenAI route no per-request counts come back: the first window (fresh server)
    # keeps the labelled running average, the second on the same server gets none
    recipe = _recipe(tmp_path, "sglang", "sglang", [CODE10, CODE4], api="sglang")
    data = recipe.model_dump(mode="json")
    data["load"]["api"] = "completions"
    # the fake's OpenAI route carries no meta_info, like SGLang's
    first, second = _run(tmp_path, parse_recipe(data))
    a1, a2 = first.acceptance, second.acceptance
    assert a1 is not None and a2 is not None
    assert a1.source == "sglang:server_info"
    assert a1.note.startswith("fallback:")
    # running average after warm-up + 3 timed requests of n = 10: 1 + 20/16
    assert a1.acceptance_length == pytest.approx(2.25)
    assert a2.source == "sglang:none"
    assert a2.acceptance_length is None
    assert "did not start on a freshly started server" in a2.note


def test_trtllm_window_longer_than_the_default_buffer_is_fully_covered(tmp_path: Path) -> None:
    code37 = {"name": "code37", "source": "builtin:code", "osl": 37}
    recipe = _recipe(tmp_path, "trtllm", "trt", [code37], requests=60)
    (point,) = _run(tmp_path, recipe)
    launch = next(r for r in _log(tmp_path) if r["event"] == "launch")
    # window bound 60 × (37 + 1) = 2280 iterations (> 1000, the default queue), doubled
    assert launch["buffer"] == 4560
    acc = point.acceptance
    assert acc is not None
    # 60 requests × 17 iterations = 1020 in the window; every one counted
    assert acc.source == "trtllm:iteration_stats"
    assert acc.note == ""
    assert (acc.drafts, acc.accepted_tokens, acc.draft_tokens) == (960, 1200, 1920)
    assert acc.acceptance_length == pytest.approx(2.25)
    options = point.config.spec_config
    assert "decoding_type: MTP" in options and "max_draft_len: 2" in options
    assert "num_nextn_predict_layers" not in options


def test_trtllm_window_the_queue_could_not_hold_says_so(tmp_path: Path) -> None:
    code37 = {"name": "code37", "source": "builtin:code", "osl": 37}
    recipe = _recipe(
        tmp_path, "trtllm", "trt", [code37], requests=60, env={"FAKE_ITER_BUFFER": "50"}
    )
    (point,) = _run(tmp_path, recipe)
    acc = point.acceptance
    assert acc is not None
    assert acc.source == "trtllm:iteration_stats:partial"
    assert acc.note.startswith("window not fully covered:")
    assert acc.drafts is not None and acc.drafts < 960
