"""``specscope bench``: measure a server the user already runs, one point per load level.

A bench is a one-config sweep in endpoint mode: the same client, acceptance scrape, persistence
and failure gate, with goodput under SLOs computed from the stored per-request records.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict
from rich.console import Console

from specscope.app.options import RunOptions
from specscope.app.sweep import check_workloads, run_plan
from specscope.client.aggregate import Goodput, goodput, parse_slo
from specscope.client.reach import url_problem
from specscope.errors import UserError
from specscope.schema import Point
from specscope.store.db import PointFilter, Store
from specscope.sweep.plan import make_plan
from specscope.sweep.recipe import parse_recipe
from specscope.sweep.runner import SweepOutcome

BENCH_HEALTH_TIMEOUT_S = 60.0
"""How long bench waits for the endpoint's health check before its points fail."""


class BenchArgs(BaseModel):
    """What ``specscope bench`` measures, and how (its flags, typed)."""

    model_config = ConfigDict(frozen=True)

    url: str
    engine: str = "generic"
    api: str = "completions"
    served_model: str = "default"
    spec: str = "none"
    draft_depth: int | None = None
    concurrency: list[int] = [1]
    request_rate: float | None = None
    arrival: str = "poisson"
    workload: str = "builtin:chat"
    isl: int | None = None
    osl: int = 256
    chat_template: bool = False
    num_requests: int = 16
    warmup: int = 2
    timeout_s: float = 300.0
    max_failed_fraction: float = 0.05
    workers: int | None = None
    slo: str | None = None
    api_key_env: str = "OPENAI_API_KEY"
    hardware: str = "unknown"
    model: str = "unknown"
    precision: str = "unknown"
    n_gpus: int = 1
    seed: int = 0


class BenchPoint(BaseModel):
    model_config = ConfigDict(frozen=True)

    point: Point
    goodput: Goodput | None = None


class BenchResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    outcome: SweepOutcome
    points: list[BenchPoint]
    power_note: str


def bench_recipe_data(args: BenchArgs) -> dict[str, Any]:
    """The one-config endpoint recipe a bench runs."""
    spec: dict[str, Any] = {"name": args.spec, "method": args.spec}
    if args.draft_depth is not None:
        spec["gamma"] = [args.draft_depth]
    return {
        "name": f"bench-{args.spec}",
        "seed": args.seed,
        "engine": {
            "kind": "endpoint",
            "url": args.url,
            "model": args.served_model,
            "endpoint_engine": args.engine,
            "api_key_env": args.api_key_env,
            # the user's server should already be up: a wrong --url fails within a minute
            "health_timeout_s": BENCH_HEALTH_TIMEOUT_S,
        },
        "identity": {
            "hardware": args.hardware,
            "model": args.model,
            "precision": args.precision,
            "n_gpus": args.n_gpus,
        },
        "load": {
            "api": args.api,
            "concurrency": args.concurrency,
            "request_rate": args.request_rate,
            "arrival": args.arrival,
            "requests_per_point": args.num_requests,
            "warmup": args.warmup,
            "timeout_s": args.timeout_s,
            "max_failed_fraction": args.max_failed_fraction,
            "client_workers": args.workers,
        },
        "workload": [
            {
                "name": args.workload.removeprefix("file:").rsplit("/", 1)[-1],
                "source": args.workload,
                "isl": args.isl,
                "osl": args.osl,
                "chat_template": args.chat_template,
            }
        ],
        "spec": [spec],
    }


def run_bench(args: BenchArgs, run: RunOptions, progress: Console | None = None) -> BenchResult:
    """Measure the server at ``args.url``, one point per load level, with progress bars on
    ``progress``; goodput per point when ``args.slo`` sets SLOs."""
    problem = url_problem(args.url)
    if problem is not None:
        raise UserError(f"--url: {problem}")
    recipe = parse_recipe(bench_recipe_data(args), "bench options")
    check_workloads(recipe, None)
    slo = parse_slo(args.slo) if args.slo else None
    outcome = run_plan(make_plan(recipe), run, progress=progress)
    rows = []
    with Store.open(run.db) as store:
        for point in store.points(PointFilter(run_id=outcome.run_id, status=None)):
            good = None
            if slo is not None and point.duration_s:
                good = goodput(store.requests(point.point_id), slo, point.duration_s)
            rows.append(BenchPoint(point=point, goodput=good))
    measured = any(r.point.power_w_per_gpu is not None for r in rows)
    note = (
        "power: measured over each point's window"
        if measured
        else "power: not measured (no NVML/AMD SMI on this host); tok/s/MW uses preset kW"
    )
    return BenchResult(outcome=outcome, points=rows, power_note=note)
