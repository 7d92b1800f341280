"""The store reads the commands share: a clear line for a missing store or an empty selection,
and the export of every point."""

from __future__ import annotations

from pathlib import Path

from specscope.app.options import Selection
from specscope.errors import UserError
from specscope.files import ExportFormat
from specscope.schema import Point
from specscope.store.db import PointFilter, Store
from specscope.store.export import export_points
from specscope.store.filters import format_combos


def require_store(db: Path) -> None:
    """A clear error, before anything is opened or created, when ``db`` does not exist."""
    if not db.exists():
        raise UserError(
            f"no store at {db}: import results first (specscope import inferencex FILE) "
            "or run the demo (specscope demo), or pass --db FILE"
        )


def point_filter(selection: Selection) -> PointFilter:
    """The store filter of a selection: both sides, so every spec method."""
    return PointFilter(**selection.model_dump(exclude={"spec_method"}))


def load_points(db: Path, flt: PointFilter, *, lean: bool = False) -> list[Point]:
    """Points matching ``flt``; a clear error listing what the store holds when none match.

    ``lean`` reads only the fields a comparison uses (see ``Store.points``).
    """
    with Store.open(db, read_only=True) as store:
        points = store.points(flt, lean=lean)
        if points:
            return points
        combos = store.combos()
    asked = ", ".join(
        f"{k}={v}" for k, v in flt.model_dump(exclude_none=True).items() if k != "status"
    )
    raise UserError(
        f"no measured points match {asked or 'the selection'} in {db}; "
        f"the store holds: {format_combos(combos, limit=8)}"
    )


def export_store(db: Path, fmt: ExportFormat, out: Path | None) -> str | None:
    """Every stored point in ``fmt``: written to ``out``, else returned as text (CSV, JSON)."""
    require_store(db)
    with Store.open(db, read_only=True) as store:
        return export_points(store, fmt, out)
