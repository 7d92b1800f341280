"""The store: an embedded DuckDB database of points, plus InferenceX import and export.

Public names: :class:`Store`, :class:`PointFilter`, :func:`parse_sequence`, :class:`Combo`,
:func:`import_inferencex`, :class:`ImportReport`, :func:`export_points`.
"""

from specscope.store.db import DEFAULT_DB_PATH, Store
from specscope.store.export import export_points
from specscope.store.filters import Combo, PointFilter, format_combos, parse_sequence
from specscope.store.inferencex import ImportReport, Skipped, import_inferencex
from specscope.store.inferencex_record import parse_record
from specscope.store.read import RunInfo

__all__ = [
    "DEFAULT_DB_PATH",
    "Combo",
    "ImportReport",
    "PointFilter",
    "RunInfo",
    "Skipped",
    "Store",
    "export_points",
    "format_combos",
    "import_inferencex",
    "parse_record",
    "parse_sequence",
]
