"""Rows of the store from Points and request records, and back, derived from the models' fields.

A field added to :class:`~specscope.schema.Point` (or to a model it nests) gets its column, its
write and its read from here without an edit; only the table needs a migration step that adds
the column (:mod:`specscope.store.migrations`). A Point is flattened into ``points`` so:

- ``point_id`` (the computed id, primary key) is the first column, ``imported_at`` (when the
  row was written, not a field) the last;
- a field holding a number, text or flag is one column of its name; a dict is a JSON column;
- a nested model contributes its fields under their own names (``config`` → ``hardware``...),
  prefixed with the field's name where Point nests that model several times (``ttft_mean_s``)
  or where :data:`_RENAMED` says so;
- an optional nested model (``acceptance``) is NULL in all its columns when absent, and reads
  back as None where its first non-nullable column is NULL.

The order of the columns is the table's: the key, :data:`_LEADING`, every other field of Point
in the model's order, then :data:`_TRAILING`. Read back, a Point's fields stand in the order
in which their last column comes.
"""

from __future__ import annotations

import json
import math
import operator
import types
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

import duckdb
import numpy as np
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from specscope.schema import Point, RequestRecord

Kind = Literal["double", "int", "list", "json", "value"]
"""How a column's values are staged for DuckDB and read back."""

_KEY = "point_id"
_LEADING: tuple[str, ...] = ("run_id", "repeat", "status", "error", "config")
"""Fields laid out right after the key: the point's identity and outcome, then its config."""
_TRAILING: tuple[str, ...] = ("provenance", "acceptance", "provenance.extra")
"""Fields laid out last (a dotted name places one field of a nested model on its own)."""
_RENAMED: dict[str, str] = {
    "acceptance.source": "acceptance_source",
    "acceptance.note": "acceptance_note",
}
"""Columns not named by the rule: they would read as the point's own source and note."""
_LEAN: tuple[str, ...] = (
    "run_id",
    "repeat",
    "status",
    "error",
    "config",
    "throughput_per_gpu",
    "interactivity",
    "measured_concurrency",
    "power_w_per_gpu",
    "provenance.source",
)
"""The fields a comparison reads (see :data:`LEAN_POINT_COLUMNS`)."""


@dataclass(frozen=True)
class Column:
    """One column of a table and the model field it holds."""

    name: str
    path: str
    """The attribute path on the model (``config.hardware``)."""
    kind: Kind
    item: type | None = None
    """The element type of a list column."""
    nullable: bool = True
    """The model's field allows None (a column of an optional nested model is NULL besides)."""


@dataclass(frozen=True)
class _Field:
    """One field of Point and its columns."""

    name: str
    columns: tuple[Column, ...]
    """In the nested model's field order."""
    model: type[BaseModel] | None
    """The nested model; None for a field of one column."""
    default: Any
    optional: bool
    """The nested model may be None (all its columns NULL)."""


def _unwrapped(annotation: Any) -> tuple[Any, bool]:
    """(the type without None, whether None is allowed)."""
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], len(args) < len(get_args(annotation))
    return annotation, False


def _column(name: str, path: str, info: FieldInfo) -> Column:
    annotation, nullable = _unwrapped(info.annotation)
    origin = get_origin(annotation)
    if annotation is float:
        return Column(name, path, "double", nullable=nullable)
    if annotation is int:
        return Column(name, path, "int", nullable=nullable)
    if origin is list:
        return Column(name, path, "list", get_args(annotation)[0], nullable=nullable)
    if annotation is dict or origin is dict:
        return Column(name, path, "json", nullable=nullable)
    return Column(name, path, "value", nullable=nullable)


def _nested(info: FieldInfo) -> tuple[type[BaseModel] | None, bool]:
    annotation, optional = _unwrapped(info.annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, optional
    return None, optional


def _point_fields() -> list[_Field]:
    fields = Point.model_fields
    nested = {name: _nested(info) for name, info in fields.items()}
    uses = Counter(model for model, _ in nested.values() if model is not None)
    out: list[_Field] = []
    for name, info in fields.items():
        model, optional = nested[name]
        if model is None:
            columns: tuple[Column, ...] = (_column(name, name, info),)
        else:
            prefix = f"{name}_" if uses[model] > 1 else ""
            columns = tuple(
                _column(_RENAMED.get(f"{name}.{sub}", prefix + sub), f"{name}.{sub}", sub_info)
                for sub, sub_info in model.model_fields.items()
            )
        out.append(_Field(name, columns, model, info.get_default(), optional and model is not None))
    return out


def _layout(fields: Sequence[_Field]) -> tuple[Column, ...]:
    """The columns in table order (see the module's docstring)."""
    by_path = {c.path: c for f in fields for c in f.columns}
    placed = set(_LEADING) | set(_TRAILING)
    middle = [f.name for f in fields if f.name not in placed]
    columns = [Column(_KEY, _KEY, "value", nullable=False)]
    for entry in (*_LEADING, *middle, *_TRAILING):
        if entry in by_path:  # a one-column field or a field of a nested model placed alone
            columns.append(by_path[entry])
            continue
        block = next(f for f in fields if f.name == entry)
        columns.extend(c for c in block.columns if c.path not in placed)
    return tuple(columns)


_COLUMNS = _layout(_point_fields())
_POSITION = {c.path: i for i, c in enumerate(_COLUMNS)}
_FIELDS = sorted(_point_fields(), key=lambda f: max(_POSITION[c.path] for c in f.columns))
"""Point's fields in the order their last column comes: how a Point read back is laid out."""
if len({c.name for c in _COLUMNS}) != len(_COLUMNS):
    raise TypeError("two fields of Point map to one store column; add a name to _RENAMED")

POINT_COLUMNS: tuple[str, ...] = (*(c.name for c in _COLUMNS), "imported_at")
"""Columns of the ``points`` table, in table order (the flat names used by export too)."""

LEAN_POINT_COLUMNS: tuple[str, ...] = tuple(
    c.name for c in _COLUMNS if any(c.path == f or c.path.startswith(f + ".") for f in _LEAN)
)
"""What a comparison reads of a point (``Store.points(lean=True)``): identity, the whole config
(repeats are grouped by it), throughput, interactivity, concurrency, measured power, and the
source (predicted series are labelled). Latencies, acceptance and the other provenance are not."""

REQUEST_COLUMNS: tuple[str, ...] = tuple(RequestRecord.model_fields)
"""Columns of the ``requests`` table: the fields of RequestRecord."""
_REQUEST_COLUMNS = tuple(
    _column(name, name, info) for name, info in RequestRecord.model_fields.items()
)
_REQUEST_JSON = tuple(c.name for c in _REQUEST_COLUMNS if c.kind == "json")
_LIST_COLUMNS = frozenset(c.name for c in _COLUMNS if c.kind == "list")


def quote(name: str) -> str:
    """A SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


POINT_SELECT = ", ".join(quote(c) for c in POINT_COLUMNS[:-1])
"""Every column of ``points`` but ``imported_at``, as a SELECT list."""
LEAN_SELECT = ", ".join(quote(c) for c in LEAN_POINT_COLUMNS)
REQUEST_SELECT = ", ".join(quote(c) for c in REQUEST_COLUMNS)


def utc_now() -> datetime:
    """Now, in UTC without a time zone: how the store writes its timestamps."""
    return datetime.now(UTC).replace(tzinfo=None)


# --------------------------------------------------------------------------------------------
# Writing: models → rows → staging columns
# --------------------------------------------------------------------------------------------


def json_text(value: Any) -> str:
    """JSON for a JSON column; non-finite floats (not valid JSON) become null."""
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False)
    except ValueError:
        return json.dumps(finite(value), separators=(",", ":"), allow_nan=False)


def finite(value: Any) -> Any:
    """``value`` with every non-finite float inside it replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def extra_json(extra: dict[str, Any]) -> str:
    """The text of a point's JSON column (``provenance.extra``)."""
    return json_text(extra) if extra else "{}"


def _block_getter(name: str, columns: Sequence[Column]) -> Callable[[Any], tuple[Any, ...]]:
    get_block = operator.attrgetter(name)
    get = operator.attrgetter(*(c.path.partition(".")[2] for c in columns))
    get_values = (lambda block: (get(block),)) if len(columns) == 1 else get
    nothing = (None,) * len(columns)
    return lambda point: nothing if (block := get_block(point)) is None else get_values(block)


_BLOCKS = {f.name: f.columns for f in _FIELDS if f.optional}
"""The optional nested models and their columns."""
_PLAIN = tuple(c for c in _COLUMNS if c.path.partition(".")[0] not in _BLOCKS)
_WRITTEN = (*_PLAIN, *(c for columns in _BLOCKS.values() for c in columns))
WRITE_SELECT = ", ".join(quote(c.name) for c in _WRITTEN)
"""The columns of a point's row (:func:`point_row`), as an INSERT column list."""
_plain_values = operator.attrgetter(*(c.path for c in _PLAIN))
_block_values = [_block_getter(name, columns) for name, columns in _BLOCKS.items()]


def point_row(point: Point) -> tuple[Any, ...]:
    """The values of a point's row in :data:`WRITE_SELECT` order, the id first: its plain
    attributes, then each optional nested model's (all None when it is absent)."""
    row: tuple[Any, ...] = _plain_values(point)
    for values in _block_values:
        row += values(point)
    return row


_request_values = operator.attrgetter(*REQUEST_COLUMNS[1:])


def request_row(record: RequestRecord, point_id: str) -> tuple[Any, ...]:
    """The values of a request record's row under ``point_id``, in :data:`REQUEST_COLUMNS`."""
    return (point_id, *_request_values(record))


def point_staging(rows: Iterable[tuple[Any, ...]]) -> dict[str, np.ndarray[Any, Any]]:
    """Point rows (from :func:`point_row`) as staging columns (see :func:`_staging`)."""
    return _staging(_WRITTEN, rows, extra_json)


def request_staging(rows: Iterable[tuple[Any, ...]]) -> dict[str, np.ndarray[Any, Any]]:
    """Request rows (from :func:`request_row`) as staging columns (see :func:`_staging`)."""
    return _staging(_REQUEST_COLUMNS, rows, json.dumps)


def _staging(
    columns: Sequence[Column], rows: Iterable[tuple[Any, ...]], to_json: Callable[[Any], str]
) -> dict[str, np.ndarray[Any, Any]]:
    """Rows as columns ``c0``, ``c1``... with one Python type each, so DuckDB infers them
    exactly when it scans them; JSON cells are written by ``to_json``."""
    values = zip(*rows, strict=True)
    return {
        f"c{i}": _column_array(column, cells, to_json)
        for i, (column, cells) in enumerate(zip(columns, values, strict=True))
    }


def _column_array(
    column: Column, values: Sequence[Any], to_json: Callable[[Any], str]
) -> np.ndarray[Any, Any]:
    if column.kind == "double":
        return np.array(values, dtype=np.float64)  # None → NaN → NULL when scanned
    if column.kind == "int":
        return object_array([None if v is None else int(v) for v in values])
    if column.kind == "list":
        item = column.item or object
        return object_array([None if v is None else [item(x) for x in v] for v in values])
    if column.kind == "json":
        return object_array([None if v is None else to_json(v) for v in values])
    return object_array(values)


@contextmanager
def registered(
    con: duckdb.DuckDBPyConnection, name: str, columns: dict[str, np.ndarray[Any, Any]]
) -> Iterator[str]:
    """``columns`` as a relation ``name`` that SQL can scan while the block runs."""
    con.register(name, columns)
    try:
        yield name
    finally:
        con.unregister(name)


def object_array(values: Sequence[Any]) -> np.ndarray[Any, Any]:
    """A 1-D object array of ``values`` (element-wise, so equal-length lists stay cells)."""
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        out[i] = value
    return out


# --------------------------------------------------------------------------------------------
# Reading: columns → frozen models, without validation (the rows are our own)
# --------------------------------------------------------------------------------------------

_M = TypeVar("_M", bound=BaseModel)
_setattr = object.__setattr__


def build_models(cls: type[_M], names: Sequence[str], columns: Sequence[list[Any]]) -> list[_M]:
    """One ``cls`` per row of ``columns`` (one list per field in ``names``), without validation.

    The values come from our own table, written from validated models, so they are trusted.
    When ``names`` are not all of the model's fields, ``model_construct`` fills the defaults of
    the others (slower).
    """
    fields = frozenset(cls.model_fields)
    if frozenset(names) != fields:
        return [
            cls.model_construct(**{k: v for k, v in zip(names, values, strict=True) if k in fields})
            for values in zip(*columns, strict=True)
        ]
    new = cls.__new__
    out: list[_M] = []
    append = out.append
    for values in zip(*columns, strict=True):
        obj = new(cls)
        _setattr(obj, "__dict__", dict(zip(names, values, strict=True)))
        _setattr(obj, "__pydantic_fields_set__", fields)
        _setattr(obj, "__pydantic_extra__", None)
        _setattr(obj, "__pydantic_private__", None)
        append(obj)
    return out


def fetch_columns(relation: duckdb.DuckDBPyConnection) -> dict[str, list[Any]]:
    """Fetch a result column-wise as plain Python lists (NULL → None, lists → lists)."""
    arrays = relation.fetchnumpy()
    out: dict[str, list[Any]] = {}
    for name, array in arrays.items():
        values = array.tolist()
        if name in _LIST_COLUMNS:  # list cells arrive as numpy arrays
            values = [None if v is None else v.tolist() for v in values]
        out[name] = values
    return out


def points_from_columns(cols: dict[str, list[Any]], *, share: bool = False) -> list[Point]:
    """Points from whole columns (one list per column read); a field whose columns were not
    read keeps its default. ``share``: equal nested models are built once and shared (they are
    frozen), for reads of few columns where repeats and runs share their configs."""
    n = len(next(iter(cols.values())))
    values = [_field_values(field, cols, n, share) for field in _FIELDS]
    return build_models(Point, [f.name for f in _FIELDS], values)


def _field_values(field: _Field, cols: dict[str, list[Any]], n: int, share: bool) -> list[Any]:
    read = [c for c in field.columns if c.name in cols]
    if not read:
        return [field.default] * n
    if field.model is None:
        return cols[read[0].name]
    columns = [_decoded(c, cols[c.name]) for c in read]
    rows: list[int] | None = None
    if field.optional:  # absent where its first non-nullable column is NULL
        marker = next(c for c in field.columns if c.kind != "list" and not c.nullable)
        if marker.name not in cols:
            return [field.default] * n
        rows = [i for i, v in enumerate(cols[marker.name]) if v is not None]
    elif all(c.nullable for c in field.columns) and field.default is not None:
        # rows with none of its values share the default (LatencyStats() for no latencies)
        nothing = (None,) * len(columns)
        rows = [i for i, cells in enumerate(zip(*columns, strict=True)) if cells != nothing]
    if rows is not None:
        columns = [[col[i] for i in rows] for col in columns]
    names = [c.path.partition(".")[2] for c in read]
    if share:
        index: dict[tuple[Any, ...], int] = {}
        codes = [index.setdefault(cells, len(index)) for cells in zip(*columns, strict=True)]
        distinct = [list(col) for col in zip(*index, strict=True)] or [[] for _ in columns]
        built = build_models(field.model, names, distinct)
        models: list[Any] = [built[code] for code in codes]
    else:
        models = build_models(field.model, names, columns)
    if rows is None:
        return models
    out = [field.default] * n
    for i, model in zip(rows, models, strict=True):
        out[i] = model
    return out


def _decoded(column: Column, values: list[Any]) -> list[Any]:
    if column.kind == "json":
        return [None if t is None else {} if t == "{}" else json.loads(t) for t in values]
    if column.kind == "list" and not column.nullable:
        return [[] if v is None else v for v in values]
    return values


def requests_from_rows(rows: Iterable[Sequence[Any]]) -> list[RequestRecord]:
    """Request records from rows of :data:`REQUEST_COLUMNS`."""
    records = []
    for row in rows:
        fields = dict(zip(REQUEST_COLUMNS, row, strict=True))
        for name in _REQUEST_JSON:
            if fields[name] is not None:
                fields[name] = json.loads(fields[name])
        records.append(RequestRecord.model_construct(**fields))
    return records
