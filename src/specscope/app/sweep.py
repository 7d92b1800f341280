"""``specscope sweep``: run a plan here or on Ray, point after point or adaptively, with or
without progress bars. The demo and bench run their plans through :func:`run_plan` too."""

from __future__ import annotations

from typing import TYPE_CHECKING

from specscope.app.options import AdaptiveBudget, Executor, RunOptions
from specscope.errors import UserError

if TYPE_CHECKING:
    from rich.console import Console

    from specscope.sweep.adaptive.run import AdaptiveOutcome
    from specscope.sweep.hooks import SweepHooks
    from specscope.sweep.plan import Plan
    from specscope.sweep.recipe import Recipe
    from specscope.sweep.runner import SweepExecutor, SweepOutcome


def check_workloads(recipe: Recipe, where: str | None) -> None:
    """Read every workload's prompt source the way the run will (prompt files, public sets);
    ``where`` (the recipe's file) prefixes the error with the workload's name."""
    from specscope.workload.build import check_available

    for section in recipe.workload:
        try:
            check_available(section.workload(seed=recipe.seed))
        except UserError as exc:
            if where is None:
                raise
            raise UserError(f"{where}: [[workload]] '{section.name}': {exc}") from None


def make_executor(
    name: Executor, address: str | None, one_point_at_a_time: bool = False
) -> SweepExecutor | None:
    """The sweep executor ``name`` stands for (None: the local one). ``one_point_at_a_time``:
    the next point is asked for only once the last one is stored (adaptive sweeps)."""
    if name == "local":
        if address is not None:
            raise UserError("--address names a Ray cluster: add --executor ray, or drop --address")
        return None
    from specscope.sweep.ray_executor import RayExecutor, import_ray

    import_ray()  # a missing extra is one line, before anything else happens
    return RayExecutor(address, one_point_at_a_time=one_point_at_a_time)


def run_plan(
    plan: Plan,
    run: RunOptions,
    *,
    progress: Console | None = None,
    executor: SweepExecutor | None = None,
) -> SweepOutcome:
    """Measure every point of ``plan``, with progress bars on ``progress``."""
    from specscope.sweep.progress import SweepProgress
    from specscope.sweep.runner import run_sweep

    if progress is None:
        return run_sweep(plan, run.db, run.runs_dir, resume=run.resume, executor=executor)
    with SweepProgress(progress, len(plan.points)) as bars:
        return run_sweep(
            plan, run.db, run.runs_dir, resume=run.resume, hooks=bars.hooks(), executor=executor
        )


def run_adaptive(
    plan: Plan,
    run: RunOptions,
    budget: AdaptiveBudget,
    *,
    progress: Console | None = None,
    executor: SweepExecutor | None = None,
) -> AdaptiveOutcome:
    """Measure the points of ``plan``'s grid the decision core chooses, one at a time, until
    its answers are decided or the ``budget`` is spent (sweep/adaptive/run.py). ``executor``
    must ask for the next point only once the last one is stored (:func:`make_executor`)."""
    from specscope.sweep.adaptive.run import run_adaptive_sweep

    def measure(hooks: SweepHooks | None = None) -> AdaptiveOutcome:
        return run_adaptive_sweep(
            plan,
            run.db,
            run.runs_dir,
            resume=run.resume,
            hooks=hooks,
            budget_points=budget.points,
            budget_minutes=budget.minutes,
            executor=executor,
        )

    if progress is None:
        return measure()
    from specscope.sweep.progress import SweepProgress

    with SweepProgress(progress, budget.points or len(plan.points)) as bars:
        return measure(bars.hooks())
