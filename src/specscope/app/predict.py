"""``specscope predict``: curves for a :class:`PredictRequest`, and calibration on measured runs.

The I/O edge of :mod:`specscope.predict`: catalog files, profiles and the store are read here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from specscope.calibration.profiles import load_profile
from specscope.calibration.runs import calibrate_runs
from specscope.catalog import load_catalog
from specscope.errors import UserError
from specscope.predict.acceptance import AcceptanceCurve, acceptance_curve
from specscope.predict.calibrate import CalibrationResult
from specscope.predict.curves import predict
from specscope.predict.prediction import Prediction
from specscope.predict.request import PredictRequest
from specscope.store.db import Store


class AcceptanceInput(BaseModel):
    """The acceptance a prediction is given, in one of four forms."""

    model_config = ConfigDict(frozen=True)

    length: list[float] | None = None
    """Acceptance length per g, bonus token included."""
    alpha: float | None = None
    """One i.i.d. per-token acceptance a for every g."""
    rate: list[float] | None = None
    """Engine draft acceptance rate r per g."""
    per_position: list[float] | None = None
    """Unconditional acceptance per draft position."""

    def curve(self, draft_depths: Sequence[int]) -> AcceptanceCurve:
        """The acceptance curve over ``draft_depths``; one clear line when no form was given."""
        if all(value is None for value in (self.length, self.alpha, self.rate, self.per_position)):
            raise UserError(
                "predict needs the acceptance: --acceptance-length AL per g (e.g. 1.9,2.7,3.4), "
                "--acceptance-alpha a, --acceptance-rate r per g, or --acceptance-per-position"
            )
        return acceptance_curve(
            draft_depths,
            acceptance_length=self.length,
            per_position=self.per_position,
            alpha=self.alpha,
            rate=self.rate,
        )


class PredictFiles(BaseModel):
    """Where a prediction reads its catalogs and calibrated profile, and stores its curves."""

    model_config = ConfigDict(frozen=True)

    catalog: list[Path] = []
    """The user's own catalog TOML files, over the built-in one."""
    hardware_profile: Path | None = None
    store: Path | None = None
    """Store the predicted curves (series marked predicted) in this store."""


def predict_curves(request: PredictRequest, files: PredictFiles | None = None) -> Prediction:
    """Predict off and spec curves, reading ``files`` (None: the built-in catalog only); with
    ``files.store`` the curves are stored as predicted points."""
    files = files or PredictFiles()
    profile = load_profile(files.hardware_profile) if files.hardware_profile else None
    prediction = predict(request, catalog=load_catalog(files.catalog), profile=profile)
    if files.store is not None:
        with Store.open(files.store) as store:
            store.add_points(prediction.points)
    return prediction


def calibrate_store(
    db: Path,
    run_ids: Sequence[str],
    catalog: Sequence[Path],
    hardware: str | None,
    model: str | None,
    precision: str | None,
    draft_model: str | None,
) -> CalibrationResult:
    """Fit the step model to measured runs in ``db`` (see :func:`calibrate_runs`)."""
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
