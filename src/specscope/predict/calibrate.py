"""Fit the step model's t0, η_bw and η_f to measured Off and spec points of one hardware × model.

Each measured point gives a step time: t_off = median TPOT for an off point, t_spec = median
TPOT × AL for a spec point (a step emits AL tokens). The model's step time for the same point is
its closed-loop TPOT × AL (:func:`specscope.predict.step.operating_point`, which includes the
other requests' prefills). ``scipy.optimize.least_squares`` (bounded) minimises the relative
errors; a weak pull towards the starting values keeps a constant the data cannot see (η_f when
every point is memory-bound) from wandering, and the report says which constants were pinned.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict
from scipy.optimize import least_squares

from specscope.errors import UserError
from specscope.predict.catalog import Catalog, HardwareSpec, ModelSpec, load_catalog
from specscope.predict.deployment import build_deployment
from specscope.predict.precision import normalise_precision
from specscope.predict.profile import CalibratedProfile, CalibrationRange, FitReport
from specscope.predict.step import DEFAULT_EFFICIENCY, Efficiency, StepModel, operating_point
from specscope.schema import Point

PARAMS = ("t0_s", "eta_bw", "eta_f")
PRIOR_WEIGHT = 1e-4
"""Weight of the pull towards the starting values (per log-unit of η, per median step of t0),
small against relative errors of order 0.01–0.1 so it only decides what the data leave open."""
SENSITIVITY_FLOOR = 0.05
"""A constant counts as pinned when a 10 % change in it moves some prediction by ≥ 0.5 %."""


class Observation(BaseModel):
    """One measured point reduced to what the step model needs."""

    model_config = ConfigDict(frozen=True)

    point_id: str
    run_id: str
    spec_method: str
    concurrency: int
    isl: int
    osl: int
    draft_depth: int
    verify_tokens: float
    """Tokens per sequence in the verify pass: 1 + mean drafted per step (counts), else g + 1."""
    acceptance_length: float
    tpot_s: float

    @property
    def context_len(self) -> float:
        return self.isl + self.osl / 2.0

    @property
    def step_time_s(self) -> float:
        return self.tpot_s * self.acceptance_length


class PointFit(BaseModel):
    """Measured against predicted step time for one point."""

    model_config = ConfigDict(frozen=True)

    point_id: str
    spec_method: str
    concurrency: int
    context_len: float
    draft_depth: int
    acceptance_length: float
    measured_step_s: float
    predicted_step_s: float
    rel_error: float
    """(predicted − measured) / measured; the TPOT error is the same number."""
    in_calibrated_range: bool = True


class CalibrationResult(BaseModel):
    """The answer of ``specscope predict --calibrate``."""

    model_config = ConfigDict(frozen=True)

    profile: CalibratedProfile
    points: list[PointFit]
    skipped: list[str]
    warnings: list[str]
    profile_path: str | None = None


class ValidationResult(BaseModel):
    """A calibrated profile tried on points it was not fitted on."""

    model_config = ConfigDict(frozen=True)

    points: list[PointFit]
    median_abs_rel_error: float
    max_abs_rel_error: float
    warnings: list[str]


def observations(points: Sequence[Point]) -> tuple[list[Observation], list[str]]:
    """The usable points as observations, and one line per point left out (and why)."""
    kept: list[Observation] = []
    skipped: list[str] = []
    for p in points:
        cfg = p.config
        label = f"{p.point_id} ({cfg.spec_method}, c={cfg.concurrency})"
        if p.status != "ok":
            skipped.append(f"{label}: status {p.status}")
            continue
        tpot = p.tpot.median_s
        if tpot is None or not tpot > 0:
            skipped.append(f"{label}: no median TPOT")
            continue
        conc = cfg.concurrency
        if conc is None and p.measured_concurrency is not None:
            conc = max(1, round(p.measured_concurrency))
        if conc is None:
            skipped.append(f"{label}: no concurrency (open-loop points are not used)")
            continue
        depth = 0 if cfg.is_off else (cfg.draft_depth or 0)
        al = 1.0
        verify = 1.0
        if not cfg.is_off:
            counts = p.acceptance
            measured_al = counts.acceptance_length if counts is not None else None
            if measured_al is None or depth < 1:
                skipped.append(f"{label}: spec point without acceptance length or draft depth")
                continue
            al = measured_al
            verify = float(depth + 1)
            if counts is not None and counts.drafts and counts.draft_tokens:
                verify = 1.0 + counts.draft_tokens / counts.drafts
        kept.append(
            Observation(
                point_id=p.point_id,
                run_id=p.run_id,
                spec_method=cfg.spec_method,
                concurrency=conc,
                isl=cfg.isl,
                osl=cfg.osl,
                draft_depth=depth,
                verify_tokens=verify,
                acceptance_length=al,
                tpot_s=tpot,
            )
        )
    return kept, skipped


def predicted_step_s(sm: StepModel, obs: Observation) -> float:
    """The model's step time for an observation: closed-loop TPOT × AL."""
    op = operating_point(
        sm,
        concurrency=obs.concurrency,
        isl=obs.isl,
        osl=obs.osl,
        depth=obs.draft_depth,
        acceptance_length=obs.acceptance_length,
        verify_tokens=obs.verify_tokens if obs.draft_depth > 0 else None,
    )
    return op.tpot_s * obs.acceptance_length


def _one(values: Sequence[str], what: str) -> str:
    distinct = sorted(set(values))
    if len(distinct) != 1:
        raise UserError(
            f"the points mix {what}s ({', '.join(distinct)}); calibrate one hardware × model × "
            f"precision at a time (filter the run, or pass --{what})"
        )
    return distinct[0]


def _step_models(
    obs: Sequence[Observation],
    hardware: HardwareSpec,
    model: ModelSpec,
    precision: str,
    kv_precision: str,
    n_gpus: int,
    draft_model: ModelSpec | None,
) -> dict[str, StepModel]:
    """One StepModel per spec method present (the draft pass differs by method)."""
    models: dict[str, StepModel] = {}
    max_context = max(o.isl + o.osl for o in obs)
    for method in sorted({o.spec_method for o in obs}):
        dep = build_deployment(
            hardware,
            model,
            precision=precision,
            spec_method="ngram" if method == "none" else method,
            max_context=max_context,
            n_gpus=n_gpus,
            kv_precision=kv_precision,
            draft_model=draft_model,
        )
        models[method] = dep.step_model
    return models


def _fit_errors(
    obs: Sequence[Observation], models: dict[str, StepModel], eff: Efficiency
) -> list[float]:
    return [
        predicted_step_s(models[o.spec_method].with_efficiency(eff), o) / o.step_time_s - 1.0
        for o in obs
    ]


def _fit(
    obs: Sequence[Observation],
    models: dict[str, StepModel],
    overlap: Literal["max", "sum"],
    start: Efficiency,
    eta_max: float,
) -> tuple[Efficiency, dict[str, bool]]:
    steps = [o.step_time_s for o in obs]
    t0_scale = max(statistics.median(steps), 1e-9)
    x0 = np.array([start.t0_s, start.eta_bw, start.eta_f], dtype=float)
    lower = np.array([0.0, 1e-3, 1e-3])
    upper = np.array([10.0 * max(steps), eta_max, eta_max])
    x0 = np.clip(x0, lower + 1e-9, upper - 1e-9)

    def efficiency(x: npt.NDArray[np.float64]) -> Efficiency:
        return Efficiency(t0_s=float(x[0]), eta_bw=float(x[1]), eta_f=float(x[2]), overlap=overlap)

    def residuals(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        data = _fit_errors(obs, models, efficiency(x))
        prior = [
            PRIOR_WEIGHT * (x[0] - x0[0]) / t0_scale,
            PRIOR_WEIGHT * math.log(x[1] / x0[1]),
            PRIOR_WEIGHT * math.log(x[2] / x0[2]),
        ]
        return np.array([*data, *prior], dtype=float)

    fitted = least_squares(
        residuals, x0, bounds=(lower, upper), x_scale=np.array([0.1 * t0_scale, 1.0, 1.0])
    )
    x = fitted.x
    jac = np.asarray(fitted.jac)[: len(obs)]
    scales = [max(x[0], 0.1 * t0_scale), x[1], x[2]]
    constrained = {
        name: bool(np.max(np.abs(jac[:, j])) * scales[j] >= SENSITIVITY_FLOOR)
        for j, name in enumerate(PARAMS)
    }
    return efficiency(x), constrained


def calibrate(
    points: Sequence[Point],
    *,
    catalog: Catalog | None = None,
    hardware: HardwareSpec | str | None = None,
    model: ModelSpec | str | None = None,
    precision: str | None = None,
    kv_precision: str = "bf16",
    draft_model: ModelSpec | str | None = None,
    overlap: Literal["max", "sum", "auto"] = "auto",
    start: Efficiency | None = None,
) -> CalibrationResult:
    """Least-squares fit of t0, η_bw, η_f to measured points of one hardware × model × precision.

    Hardware, model and precision default to the points' own (they must agree). ``overlap``
    ``auto`` fits both the roofline (max) and the additive (sum) form and keeps the better.
    """
    obs, skipped = observations(points)
    if len(obs) < 2:
        raise UserError(
            f"calibration needs at least 2 usable points (an off point and a spec point), got "
            f"{len(obs)}" + (f"; skipped: {skipped[0]}" if skipped else "")
        )
    used = [p for p in points if p.point_id in {o.point_id for o in obs}]
    cat = catalog or load_catalog()
    hw = (
        hardware
        if isinstance(hardware, HardwareSpec)
        else cat.hardware_spec(hardware or _one([p.config.hardware for p in used], "hardware"))
    )
    spec = (
        model
        if isinstance(model, ModelSpec)
        else cat.model_spec(model or _one([p.config.model for p in used], "model"))
    )
    prec_name = precision or _one([p.config.precision for p in used], "precision")
    if prec_name == "unknown":
        raise UserError("the points do not say their precision; pass --precision (e.g. q4_k_m)")
    prec = normalise_precision(prec_name)
    n_gpus = int(_one([str(p.config.n_gpus) for p in used], "n-gpus"))
    draft = cat.model_spec(draft_model) if isinstance(draft_model, str) else draft_model
    models = _step_models(obs, hw, spec, prec, kv_precision, n_gpus, draft)

    steps = [o.step_time_s for o in obs]
    first = start or Efficiency(
        t0_s=0.1 * min(steps), eta_bw=DEFAULT_EFFICIENCY.eta_bw, eta_f=DEFAULT_EFFICIENCY.eta_f
    )
    eta_max = 3.0 if hw.measured else 1.0
    forms: list[Literal["max", "sum"]] = ["max", "sum"] if overlap == "auto" else [overlap]
    best: tuple[float, Efficiency, dict[str, bool]] | None = None
    for form in forms:
        eff, constrained = _fit(obs, models, form, first, eta_max)
        score = statistics.median(abs(e) for e in _fit_errors(obs, models, eff))
        if best is None or score < best[0] - 1e-12:
            best = (score, eff, constrained)
    assert best is not None
    _, eff, constrained = best
    errors = _fit_errors(obs, models, eff)
    fits = [_point_fit(o, e) for o, e in zip(obs, errors, strict=True)]
    warnings = _fit_warnings(obs, constrained, eff, eta_max)
    rng = CalibrationRange(
        concurrency=(min(o.concurrency for o in obs), max(o.concurrency for o in obs)),
        context_len=(min(o.context_len for o in obs), max(o.context_len for o in obs)),
        draft_depths=sorted({o.draft_depth for o in obs}),
    )
    profile = CalibratedProfile(
        hardware=hw,
        model=spec.key,
        precision=prec,
        kv_precision=kv_precision,
        engine="+".join(sorted({p.config.engine for p in used})),
        spec_methods=sorted({o.spec_method for o in obs}),
        n_gpus=n_gpus,
        efficiency=eff,
        range=rng,
        fit=FitReport(
            n_points=len(obs),
            median_rel_error=statistics.median(abs(e) for e in errors),
            max_rel_error=max(abs(e) for e in errors),
            constrained=constrained,
        ),
        run_ids=sorted({o.run_id for o in obs}),
        created=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    return CalibrationResult(profile=profile, points=fits, skipped=skipped, warnings=warnings)


def _point_fit(o: Observation, error: float, in_range: bool = True) -> PointFit:
    return PointFit(
        point_id=o.point_id,
        spec_method=o.spec_method,
        concurrency=o.concurrency,
        context_len=o.context_len,
        draft_depth=o.draft_depth,
        acceptance_length=o.acceptance_length,
        measured_step_s=o.step_time_s,
        predicted_step_s=o.step_time_s * (1.0 + error),
        rel_error=error,
        in_calibrated_range=in_range,
    )


def _fit_warnings(
    obs: Sequence[Observation], constrained: dict[str, bool], eff: Efficiency, eta_max: float
) -> list[str]:
    warnings: list[str] = []
    loose = [name for name, ok in constrained.items() if not ok]
    if loose:
        warnings.append(
            f"the points do not pin down {', '.join(loose)} (kept near the starting value): "
            "add points where that term matters (more concurrency for η_f, less for t0)"
        )
    if not any(o.draft_depth == 0 for o in obs):
        warnings.append("no spec-off point: the plain decode step was not measured directly")
    if not any(o.draft_depth > 0 for o in obs):
        warnings.append("no spec point: the verify and draft costs were not measured")
    for name, value in (("eta_bw", eff.eta_bw), ("eta_f", eff.eta_f)):
        if value >= eta_max * 0.999:
            warnings.append(f"{name} hit its upper bound {eta_max:g}: the listed rate looks low")
    return warnings


def validate(
    points: Sequence[Point],
    profile: CalibratedProfile,
    *,
    catalog: Catalog | None = None,
    model: ModelSpec | None = None,
    draft_model: ModelSpec | None = None,
) -> ValidationResult:
    """Predict measured points with a fitted profile and report the step-time (TPOT) errors."""
    obs, skipped = observations(points)
    if not obs:
        raise UserError(
            "no usable points to validate against" + (f": {skipped[0]}" if skipped else "")
        )
    spec = model or (catalog or load_catalog()).model_spec(profile.model)
    models = _step_models(
        obs,
        profile.hardware,
        spec,
        profile.precision,
        profile.kv_precision,
        profile.n_gpus,
        draft_model,
    )
    errors = _fit_errors(obs, models, profile.efficiency)
    fits = [
        _point_fit(o, e, profile.range.contains(o.concurrency, o.context_len, o.draft_depth))
        for o, e in zip(obs, errors, strict=True)
    ]
    warnings = profile.range.check(
        concurrency=[o.concurrency for o in obs],
        context_len=statistics.median(o.context_len for o in obs),
        draft_depths=[o.draft_depth for o in obs],
    )
    abs_errors = [abs(e) for e in errors]
    return ValidationResult(
        points=fits,
        median_abs_rel_error=statistics.median(abs_errors),
        max_abs_rel_error=max(abs_errors),
        warnings=[*skipped, *warnings],
    )
