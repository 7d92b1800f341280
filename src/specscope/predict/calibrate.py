"""Fit the step model's t0, η_bw and η_f to measured Off and spec points of one hardware × model.

Each point's measured step time comes from :mod:`specscope.predict.observations`. The model's
step time for the same point is its closed-loop TPOT × tokens per step
(:func:`specscope.predict.step.operating_point`, which includes the other requests' prefills).
``scipy.optimize.least_squares`` (bounded) minimises the relative errors; a
weak pull towards the starting values keeps a constant the data cannot see (η_f when every point
is memory-bound) from wandering, and the report says which constants were pinned.

The overheads that do not amortise like t0 (:data:`EXTRA_PARAMS`: per layer per pass, per token
per layer, per draft call) are fitted too when the data identify them: each is tried in turn on
top of t0, η_bw, η_f (and the ones already taken), and kept only when the fit with it is clearly
better (median relative error at least :data:`EXTRA_GAIN` lower, and by at least
:data:`EXTRA_MIN_DROP`) and it is not tied to another constant. Otherwise it stays at its
starting value (0 unless ``start`` gives one), and the point table is the same as before.
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
from specscope.predict.deployment import build_deployment
from specscope.predict.observations import Observation, merge_repeats, observations
from specscope.predict.precision import normalise_precision
from specscope.predict.profile import CalibratedProfile, CalibrationRange, FitReport
from specscope.predict.roofline import DEFAULT_EFFICIENCY, Efficiency
from specscope.predict.specs import HardwareSpec, ModelSpec, SpecLookup
from specscope.predict.step import StepModel, operating_point
from specscope.schema import Point

PARAMS = ("t0_s", "eta_bw", "eta_f")
EXTRA_PARAMS = ("token_layer_s", "draft_s", "layer_s")
"""Overheads fitted only when the points identify them (see the module docstring)."""
EXTRA_GAIN = 0.2
"""An extra constant is kept when it lowers the median relative error by at least 20 % …"""
EXTRA_MIN_DROP = 0.005
"""… and by at least half a percentage point."""
PRIOR_WEIGHT = 1e-4
"""Weight of the pull towards the starting values (per log-unit of η, per median step of t0),
small against relative errors of order 0.01–0.1 so it only decides what the data leave open."""
SENSITIVITY_FLOOR = 0.05
"""A constant counts as pinned when a 10 % change in it moves some prediction by ≥ 0.5 %."""
TIED_COSINE = 0.995
"""Two constants are tied when their effects on the points are this parallel: the data pin a
combination of them, not each one (e.g. t0 and η_bw when every pass reads the same bytes)."""


class PointFit(BaseModel):
    """Measured against predicted step time for one point."""

    model_config = ConfigDict(frozen=True)

    point_id: str
    spec_method: str
    concurrency: int
    context_len: float
    draft_depth: int
    acceptance_length: float
    """The engine's AL (1 + accepted / drafts); 1 for Off."""
    tokens_per_step: float
    """Tokens emitted per decode step over all steps (the step time is TPOT × this)."""
    verify_tokens: float
    """Tokens per sequence in an average pass (1 for Off)."""
    measured_step_s: float
    predicted_step_s: float
    rel_error: float
    """(predicted − measured) / measured; the TPOT error is the same number."""
    in_calibrated_range: bool = True
    repeats: int = 1
    """Repeats of this config; the step time is their median (see :func:`merge_repeats`)."""
    repeat_spread: float = 0.0
    """Slowest / fastest repeat step time − 1: how much the repeats disagreed."""


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


def _extra_ref(name: str, obs: Sequence[Observation], models: dict[str, StepModel]) -> float:
    """A natural size for an extra constant: what makes it cost a median step once."""
    steps = [o.step_time_s for o in obs]
    t_ref = max(statistics.median(steps), 1e-9)
    layers = max(float(m.model.n_layers) for m in models.values())
    if name == "layer_s":
        return t_ref / layers
    if name == "token_layer_s":
        tokens = statistics.median(o.concurrency * o.verify_tokens for o in obs)
        return t_ref / (layers * max(tokens, 1.0))
    depths = [o.draft_depth for o in obs if o.draft_depth > 0]
    return t_ref / max(max(depths, default=1), 1)


def _fit(
    obs: Sequence[Observation],
    models: dict[str, StepModel],
    overlap: Literal["max", "sum"],
    start: Efficiency,
    eta_max: float,
    extras: Sequence[str] = (),
) -> tuple[Efficiency, dict[str, bool], list[str]]:
    steps = [o.step_time_s for o in obs]
    t0_scale = max(statistics.median(steps), 1e-9)
    names = [*PARAMS, *extras]
    refs = [_extra_ref(e, obs, models) for e in extras]
    x0 = np.array(
        [start.t0_s, start.eta_bw, start.eta_f, *(getattr(start, e) for e in extras)], dtype=float
    )
    lower = np.array([0.0, 1e-3, 1e-3, *(0.0 for _ in extras)])
    upper = np.array([10.0 * max(steps), eta_max, eta_max, *(100.0 * r for r in refs)])
    x0 = np.clip(x0, lower + 1e-12, upper - 1e-12)
    kept = {e: getattr(start, e) for e in EXTRA_PARAMS if e not in extras}

    def efficiency(x: npt.NDArray[np.float64]) -> Efficiency:
        fitted = {e: float(x[3 + i]) for i, e in enumerate(extras)}
        return Efficiency(
            t0_s=float(x[0]),
            eta_bw=float(x[1]),
            eta_f=float(x[2]),
            overlap=overlap,
            ngram_s_per_seq=start.ngram_s_per_seq,
            **kept,
            **fitted,
        )

    def residuals(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        data = _fit_errors(obs, models, efficiency(x))
        prior = [
            PRIOR_WEIGHT * (x[0] - x0[0]) / t0_scale,
            PRIOR_WEIGHT * math.log(x[1] / x0[1]),
            PRIOR_WEIGHT * math.log(x[2] / x0[2]),
            *(PRIOR_WEIGHT * (x[3 + i] - x0[3 + i]) / r for i, r in enumerate(refs)),
        ]
        return np.array([*data, *prior], dtype=float)

    fitted = least_squares(
        residuals,
        x0,
        bounds=(lower, upper),
        x_scale=np.array([0.1 * t0_scale, 1.0, 1.0, *(0.1 * r for r in refs)]),
    )
    x = fitted.x
    jac = np.asarray(fitted.jac)[: len(obs)]
    scales = [
        max(x[0], 0.1 * t0_scale),
        x[1],
        x[2],
        *(max(x[3 + i], 0.1 * r) for i, r in enumerate(refs)),
    ]
    constrained = {
        name: bool(np.max(np.abs(jac[:, j])) * scales[j] >= SENSITIVITY_FLOOR)
        for j, name in enumerate(names)
    }
    return efficiency(x), constrained, _tied(jac * np.array(scales), constrained, names)


def _score(obs: Sequence[Observation], models: dict[str, StepModel], eff: Efficiency) -> float:
    return statistics.median(abs(e) for e in _fit_errors(obs, models, eff))


def _fit_with_extras(
    obs: Sequence[Observation],
    models: dict[str, StepModel],
    overlap: Literal["max", "sum"],
    start: Efficiency,
    eta_max: float,
    candidates: Sequence[str],
) -> tuple[Efficiency, dict[str, bool], list[str]]:
    """The base fit, then each candidate extra kept only when the data clearly want it."""
    eff, constrained, tied = _fit(obs, models, overlap, start, eta_max)
    score = _score(obs, models, eff)
    taken: list[str] = []
    for extra in candidates:
        trial = [*taken, extra]
        t_eff, t_con, t_tied = _fit(obs, models, overlap, eff, eta_max, trial)
        t_score = _score(obs, models, t_eff)
        clearly_better = t_score <= score * (1 - EXTRA_GAIN) and score - t_score >= EXTRA_MIN_DROP
        alone = t_con.get(extra, False) and not any(extra in pair for pair in t_tied)
        if clearly_better and alone:
            taken = trial
            eff, constrained, tied, score = t_eff, t_con, t_tied, t_score
    return eff, constrained, tied


def _tied(
    jac: npt.NDArray[np.float64],
    constrained: dict[str, bool],
    names: Sequence[str] = PARAMS,
) -> list[str]:
    """Pairs of pinned constants whose (scaled) effects on the points are nearly parallel."""
    tied: list[str] = []
    for i, a in enumerate(names):
        for j in range(i + 1, len(names)):
            b = names[j]
            if not (constrained[a] and constrained[b]):
                continue
            norm = float(np.linalg.norm(jac[:, i]) * np.linalg.norm(jac[:, j]))
            if norm > 0 and abs(float(jac[:, i] @ jac[:, j])) / norm >= TIED_COSINE:
                tied.append(f"{a}/{b}")
    return tied


def calibrate(
    points: Sequence[Point],
    *,
    catalog: SpecLookup,
    hardware: HardwareSpec | str | None = None,
    model: ModelSpec | str | None = None,
    precision: str | None = None,
    kv_precision: str = "bf16",
    draft_model: ModelSpec | str | None = None,
    overlap: Literal["max", "sum", "auto"] = "auto",
    start: Efficiency | None = None,
    merge: bool = True,
    extras: Sequence[str] | None = EXTRA_PARAMS,
) -> CalibrationResult:
    """Least-squares fit of t0, η_bw, η_f to measured points of one hardware × model × precision.

    Hardware, model and precision default to the points' own (they must agree). ``overlap``
    ``auto`` fits both the roofline (max) and the additive (sum) form and keeps the better.
    ``merge`` fits one observation per measured config (the median repeat, :func:`merge_repeats`)
    instead of every repeat. ``extras``: the overheads (:data:`EXTRA_PARAMS`) that may also be
    fitted when the data identify them; ``None`` or ``()`` fits t0, η_bw, η_f only.
    """
    obs, skipped = observations(points)
    if merge:
        obs = merge_repeats(obs)
    if len(obs) < 2:
        raise UserError(
            f"calibration needs at least 2 usable points (an off point and a spec point), got "
            f"{len(obs)}" + (f"; skipped: {skipped[0]}" if skipped else "")
        )
    used = [p for p in points if p.point_id in {o.point_id for o in obs}]
    hw = (
        hardware
        if isinstance(hardware, HardwareSpec)
        else catalog.hardware_spec(hardware or _one([p.config.hardware for p in used], "hardware"))
    )
    spec = (
        model
        if isinstance(model, ModelSpec)
        else catalog.model_spec(model or _one([p.config.model for p in used], "model"))
    )
    prec_name = precision or _one([p.config.precision for p in used], "precision")
    if prec_name == "unknown":
        raise UserError("the points do not say their precision; pass --precision (e.g. q4_k_m)")
    prec = normalise_precision(prec_name)
    n_gpus = int(_one([str(p.config.n_gpus) for p in used], "n-gpus"))
    draft = catalog.model_spec(draft_model) if isinstance(draft_model, str) else draft_model
    models = _step_models(obs, hw, spec, prec, kv_precision, n_gpus, draft)

    steps = [o.step_time_s for o in obs]
    first = start or Efficiency(
        t0_s=0.1 * min(steps), eta_bw=DEFAULT_EFFICIENCY.eta_bw, eta_f=DEFAULT_EFFICIENCY.eta_f
    )
    eta_max = 3.0 if hw.measured else 1.0
    forms: list[Literal["max", "sum"]] = ["max", "sum"] if overlap == "auto" else [overlap]
    best: tuple[float, Efficiency, dict[str, bool], list[str]] | None = None
    for form in forms:
        eff, constrained, tied = _fit_with_extras(
            obs, models, form, first, eta_max, [e for e in (extras or ()) if e in EXTRA_PARAMS]
        )
        score = statistics.median(abs(e) for e in _fit_errors(obs, models, eff))
        if best is None or score < best[0] - 1e-12:
            best = (score, eff, constrained, tied)
    assert best is not None
    _, eff, constrained, tied = best
    errors = _fit_errors(obs, models, eff)
    fits = [_point_fit(o, e) for o, e in zip(obs, errors, strict=True)]
    warnings = _fit_warnings(obs, constrained, tied, eff, eta_max)
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
            tied=tied,
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
        acceptance_length=o.reported_acceptance_length,
        tokens_per_step=o.acceptance_length,
        verify_tokens=o.verify_tokens,
        measured_step_s=o.step_time_s,
        predicted_step_s=o.step_time_s * (1.0 + error),
        rel_error=error,
        in_calibrated_range=in_range,
        repeats=o.repeats,
        repeat_spread=o.repeat_spread,
    )


def _fit_warnings(
    obs: Sequence[Observation],
    constrained: dict[str, bool],
    tied: Sequence[str],
    eff: Efficiency,
    eta_max: float,
) -> list[str]:
    warnings: list[str] = []
    loose = [name for name, ok in constrained.items() if not ok]
    if loose:
        warnings.append(
            f"the points do not pin down {', '.join(loose)} (kept near the starting value): "
            "add points where that term matters (more concurrency for η_f, less for t0)"
        )
    for pair in tied:
        a, b = pair.split("/")
        warnings.append(
            f"{a} and {b} trade off on these points: their joint effect is fitted, not each one "
            "(the split between them stays near the starting values); points where the two "
            "terms scale differently (other contexts or batch sizes) would tell them apart"
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
    catalog: SpecLookup,
    model: ModelSpec | None = None,
    draft_model: ModelSpec | None = None,
    merge: bool = True,
) -> ValidationResult:
    """Predict measured points with a fitted profile and report the step-time (TPOT) errors.

    With ``merge`` each measured config counts once, at its median repeat (as in the fit).
    """
    obs, skipped = observations(points)
    if merge:
        obs = merge_repeats(obs)
    if not obs:
        raise UserError(
            "no usable points to validate against" + (f": {skipped[0]}" if skipped else "")
        )
    spec = model or catalog.model_spec(profile.model)
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
