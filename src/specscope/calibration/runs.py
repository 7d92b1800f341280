"""Calibrate from runs stored in a specscope database (the I/O edge of ``--calibrate RUN``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from specscope.calibration.profiles import save_profile
from specscope.catalog import load_catalog
from specscope.errors import UserError
from specscope.predict.calibrate import CalibrationResult, calibrate
from specscope.schema import Point
from specscope.store.db import PointFilter, Store


def load_run_points(db_path: Path | str, run_ids: Sequence[str]) -> list[Point]:
    """The ok points of the given runs; UserError when the file or the runs hold none."""
    path = Path(db_path)
    if str(db_path) != ":memory:" and not path.exists():
        raise UserError(f"{path}: no such database file (give the store used for the runs)")
    with Store.open(path, read_only=True) as store:
        points = store.points(PointFilter(run_id=list(run_ids)))
    if not points:
        raise UserError(
            f"no ok points for run(s) {', '.join(run_ids)} in {path}; check the run id "
            "(specscope export lists what the store holds)"
        )
    return points


def calibrate_runs(
    db_path: Path | str,
    run_ids: Sequence[str],
    *,
    catalog_files: Sequence[Path | str] = (),
    hardware: str | None = None,
    model: str | None = None,
    precision: str | None = None,
    draft_model: str | None = None,
    profile_path: Path | None = None,
    save: bool = True,
) -> CalibrationResult:
    """Load the runs' points, fit t0, η_bw, η_f, and save the profile (cache dir by default)."""
    points = load_run_points(db_path, run_ids)
    result = calibrate(
        points,
        catalog=load_catalog(catalog_files),
        hardware=hardware,
        model=model,
        precision=precision,
        draft_model=draft_model,
    )
    if not save:
        return result
    written = save_profile(result.profile, profile_path)
    return result.model_copy(update={"profile_path": str(written)})
