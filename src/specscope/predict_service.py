"""The ``specscope predict`` entry points the CLI calls: flags in, typed results out.

The I/O edge of :mod:`specscope.predict`: catalog files, profiles and the store are read here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from specscope.calibration.profiles import load_profile
from specscope.calibration.runs import calibrate_runs
from specscope.catalog import load_catalog
from specscope.errors import UserError
from specscope.predict.acceptance import acceptance_curve
from specscope.predict.calibrate import CalibrationResult
from specscope.predict.curves import predict
from specscope.predict.prediction import Prediction
from specscope.predict.request import PredictRequest
from specscope.store.db import Store


def predict_cli(
    *,
    hardware: str,
    model: str,
    precision: str,
    spec: str,
    gammas: list[int],
    acceptance_length: list[float] | None,
    acceptance_alpha: float | None,
    acceptance_rate: list[float] | None,
    acceptance_per_position: list[float] | None,
    isl: int,
    osl: int,
    n_gpus: int | None,
    kv_precision: str,
    draft_model: str | None,
    max_concurrency: int | None,
    targets: list[float],
    preset: str,
    catalog: Sequence[Path],
    hardware_profile: Path | None,
    store_db: Path | None,
    engine: str = "vllm",
    max_running_requests: int | None = None,
    max_batched_tokens: int | None = None,
    expert_parallel: bool = False,
) -> Prediction:
    """Predict off and spec curves; with ``store_db`` the curves are stored as predicted points."""
    if not any(
        x is not None
        for x in (acceptance_length, acceptance_alpha, acceptance_rate, acceptance_per_position)
    ):
        raise UserError(
            "predict needs the acceptance: --acceptance-length AL per g (e.g. 1.9,2.7,3.4), "
            "--acceptance-alpha a, --acceptance-rate r per g, or --acceptance-per-position"
        )
    curve = acceptance_curve(
        gammas,
        acceptance_length=acceptance_length,
        per_position=acceptance_per_position,
        alpha=acceptance_alpha,
        rate=acceptance_rate,
    )
    request = PredictRequest(
        hardware=hardware,
        model=model,
        precision=precision,
        spec_method=spec,
        gammas=gammas,
        acceptance=curve,
        isl=isl,
        osl=osl,
        n_gpus=n_gpus,
        kv_precision=kv_precision,
        draft_model=draft_model,
        max_concurrency=max_concurrency,
        targets=targets,
        economics_preset=preset,
        engine=engine,
        max_running_requests=max_running_requests,
        max_batched_tokens=max_batched_tokens,
        expert_parallel=expert_parallel,
    )
    profile = load_profile(hardware_profile) if hardware_profile else None
    prediction = predict(request, catalog=load_catalog(catalog), profile=profile)
    if store_db is not None:
        with Store.open(store_db) as store:
            store.add_points(prediction.points)
    return prediction


def calibrate_cli(
    db: Path,
    run_ids: Sequence[str],
    catalog: Sequence[Path],
    hardware: str | None,
    model: str | None,
    precision: str | None,
    draft_model: str | None,
) -> CalibrationResult:
    if not db.exists():
        raise UserError(f"no store at {db}: --calibrate reads measured runs from it (pass --db)")
    return calibrate_runs(
        db,
        run_ids,
        catalog_files=catalog,
        hardware=hardware,
        model=model,
        precision=precision,
        draft_model=draft_model,
    )
