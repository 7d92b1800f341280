"""The answer of ``specscope predict`` (:class:`Prediction`), and its curves as store Points."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from specscope.analysis.results import Economics
from specscope.predict.request import PredictRequest
from specscope.predict.roofline import Efficiency
from specscope.predict.specs import HardwareSpec, ModelSpec, SourceRef
from specscope.schema import AcceptanceCounts, LatencyStats, Point, PointConfig, Provenance

PREDICTED_ENGINE = "predicted"


class CurvePoint(BaseModel):
    """One predicted operating point with its economics."""

    model_config = ConfigDict(frozen=True)

    concurrency: int
    interactivity: float
    throughput_per_gpu: float
    output_throughput_per_gpu: float
    tpot_s: float
    ttft_s: float
    step_time_s: float
    acceptance_length: float
    speedup_vs_off: float
    """Spec / off decode rate at the same concurrency (1 for Off)."""
    bound: Literal["memory", "compute"]
    usd_per_mtok: float | None = None
    tok_s_per_mw: float | None = None
    extrapolated: bool = False
    """Outside the calibrated range (always False without a profile: nothing was calibrated)."""


class PredictedCurve(BaseModel):
    """Off (draft_depth 0) or one spec depth."""

    model_config = ConfigDict(frozen=True)

    label: str
    spec_method: str
    draft_depth: int
    acceptance_length: float
    points: list[CurvePoint]


class StopPaying(BaseModel):
    """Where speculation stops beating Off at the same concurrency."""

    model_config = ConfigDict(frozen=True)

    draft_depth: int
    """0 stands for the best depth at each concurrency."""
    concurrency: int | None
    """First concurrency with S < 1 (after ties); None when spec pays up to the limit."""
    pays_at_concurrency_1: bool
    pays_again_at: int | None = None
    """MoE verify cost saturates with the expert union, so S(C) can recover later."""


class ScheduleRange(BaseModel):
    """A run of concurrencies sharing one best draft depth."""

    model_config = ConfigDict(frozen=True)

    concurrency_from: int
    concurrency_to: int
    best_draft_depth: int
    """0 = spec off."""
    speedup_vs_off: float
    """At ``concurrency_from``."""


class CEff(BaseModel):
    """Effective draft cost ratio the model implies at one concurrency and depth."""

    model_config = ConfigDict(frozen=True)

    concurrency: int
    draft_depth: int
    c_eff: float
    speedup_vs_off: float
    acceptance_length: float


class MatchedGain(BaseModel):
    """Spec vs Off at one target interactivity, as ``specscope compare`` reads them: each side's
    Pareto frontier through a monotone cubic, a side faster than asked held at its slowest point,
    nothing extrapolated."""

    model_config = ConfigDict(frozen=True)

    draft_depth: int
    interactivity: float
    """The interactivity compared at (a target below the band moves up to its edge); 0 when
    nothing is compared because the interactivity ranges do not overlap."""
    requested: float | None = None
    """The target as asked (given or a default in the band)."""
    off_concurrency: float | None = None
    """Off's concurrency at the target, read off its curve (an estimate between predicted
    points)."""
    spec_concurrency: float | None = None
    off_throughput_per_gpu: float | None = None
    spec_throughput_per_gpu: float | None = None
    gain: float | None = None
    """spec / off throughput per GPU; None when either side cannot reach the target."""
    winner: Literal["spec", "off", "tie"] | None = None
    """Who delivers more throughput per GPU (a gap under 1 % is a tie); None without a gain."""
    note: str = ""


class Prediction(BaseModel):
    """The whole answer of ``specscope predict``: curves, summary, provenance and caveats."""

    model_config = ConfigDict(frozen=True)

    label: Literal["predicted"] = "predicted"
    request: PredictRequest
    hardware: HardwareSpec
    model: ModelSpec
    precision: str
    compute_precision: str
    n_gpus: int
    weights_gb: float
    kv_gb_per_sequence: float
    memory_limit_concurrency: int
    max_concurrency: int
    efficiency: Efficiency
    calibrated: bool
    profile_created: str | None = None
    acceptance: str
    curves: list[PredictedCurve]
    stop_paying: list[StopPaying]
    schedule: list[ScheduleRange]
    c_eff: list[CEff]
    matched: list[MatchedGain]
    economics: Economics | None = None
    sources: list[SourceRef]
    warnings: list[str]
    points: list[Point]


def _run_id(request: PredictRequest) -> str:
    blob = json.dumps(request.model_dump(mode="json"), sort_keys=True)
    return "predicted-" + hashlib.sha256(blob.encode()).hexdigest()[:12]


def predicted_points(
    request: PredictRequest,
    hw: HardwareSpec,
    model: ModelSpec,
    precision: str,
    n_gpus: int,
    curves: Sequence[PredictedCurve],
    eff: Efficiency,
    calibrated: bool,
    sources: Sequence[SourceRef],
) -> list[Point]:
    """The curves as Points, so compare/report can draw them next to measured series."""
    run_id = _run_id(request)
    today = dt.date.today().isoformat()
    urls = sorted({u for ref in sources for u in ref.urls})
    points: list[Point] = []
    for curve in curves:
        spec_config = json.dumps(
            {
                "spec_method": curve.spec_method,
                "draft_depth": curve.draft_depth,
                "acceptance": request.acceptance.model_dump(mode="json"),
                "draft_model": request.draft_model,
            },
            sort_keys=True,
        )
        for cp in curve.points:
            config = PointConfig(
                hardware=hw.key,
                model=model.key,
                precision=precision,
                engine=PREDICTED_ENGINE,
                spec_method=curve.spec_method,
                draft_depth=curve.draft_depth,
                spec_config=spec_config,
                n_gpus=n_gpus,
                isl=request.isl,
                osl=request.osl,
                concurrency=cp.concurrency,
                workload="predicted",
            )
            acceptance = (
                AcceptanceCounts(
                    reported_acceptance_length=cp.acceptance_length, source="predicted"
                )
                if curve.draft_depth > 0
                else None
            )
            points.append(
                Point(
                    run_id=run_id,
                    config=config,
                    throughput_per_gpu=cp.throughput_per_gpu,
                    output_throughput_per_gpu=cp.output_throughput_per_gpu,
                    input_throughput_per_gpu=cp.throughput_per_gpu - cp.output_throughput_per_gpu,
                    interactivity=cp.interactivity,
                    ttft=LatencyStats(median_s=cp.ttft_s, mean_s=cp.ttft_s),
                    tpot=LatencyStats(median_s=cp.tpot_s, mean_s=cp.tpot_s),
                    acceptance=acceptance,
                    provenance=Provenance(
                        source="predicted",
                        date=today,
                        extra={
                            "label": "predicted",
                            "calibrated": calibrated,
                            "extrapolated": cp.extrapolated,
                            "efficiency": eff.model_dump(mode="json"),
                            "step_time_s": cp.step_time_s,
                            "bound": cp.bound,
                            "catalog_sources": urls,
                        },
                    ),
                )
            )
    return points
