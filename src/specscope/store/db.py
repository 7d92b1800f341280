"""The embedded DuckDB store: benchmark points, runs and per-request records.

One file (``specscope.duckdb`` by default) holds everything measured or imported. The schema is
versioned: ``schema_version`` records each applied migration step, steps run in order inside a
transaction, and a file written by a newer specscope is refused rather than misread.

Re-adding a point whose ``point_id`` is already stored with :meth:`Store.add_points`
**replaces** the stored row (the latest write wins, ``imported_at`` is refreshed); nothing is ever
duplicated. A sweep point that failed and was measured again under the same id therefore keeps
the newer result. Imports and merges use :meth:`Store.add_measurements` instead, which never
replaces a measurement: a point's identity there includes what was measured
(:func:`measurement_digest`), so the same result stored again adds nothing, and another result
for a stored configuration is kept as its next repeat, with its source (:data:`KEPT_AS_REPEAT`).

Reads return the shared typed records (:class:`~specscope.schema.Point`,
:class:`~specscope.schema.RequestRecord`) rebuilt exactly as they were written.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import math
import operator
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

import duckdb
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from specscope.errors import UserError
from specscope.schema import (
    OFF,
    AcceptanceCounts,
    LatencyStats,
    Point,
    PointConfig,
    Provenance,
    RequestRecord,
)

DEFAULT_DB_PATH = Path("specscope.duckdb")
"""Where the store lives when the user names no file."""

Migration = str | Callable[[duckdb.DuckDBPyConnection], None]
"""One schema step: SQL text (may hold several statements) or a function given the connection."""

# --------------------------------------------------------------------------------------------
# Schema. Migration steps are frozen once released: change the schema by appending a step.
# --------------------------------------------------------------------------------------------

_V1_SQL = """
CREATE TABLE points (
    point_id VARCHAR PRIMARY KEY,
    run_id VARCHAR NOT NULL,
    "repeat" INTEGER NOT NULL,
    status VARCHAR NOT NULL,
    error VARCHAR,
    hardware VARCHAR NOT NULL,
    model VARCHAR NOT NULL,
    "precision" VARCHAR NOT NULL,
    engine VARCHAR NOT NULL,
    spec_method VARCHAR NOT NULL,
    draft_depth INTEGER,
    spec_config VARCHAR NOT NULL,
    disaggregated BOOLEAN NOT NULL,
    n_gpus INTEGER NOT NULL,
    n_decode_gpus INTEGER,
    tp INTEGER,
    pp INTEGER,
    ep INTEGER,
    dp_attention BOOLEAN,
    isl INTEGER NOT NULL,
    osl INTEGER NOT NULL,
    concurrency INTEGER,
    request_rate DOUBLE,
    workload VARCHAR NOT NULL,
    throughput_per_gpu DOUBLE NOT NULL,
    output_throughput_per_gpu DOUBLE,
    input_throughput_per_gpu DOUBLE,
    interactivity DOUBLE NOT NULL,
    ttft_mean_s DOUBLE, ttft_median_s DOUBLE, ttft_p90_s DOUBLE, ttft_p99_s DOUBLE,
    tpot_mean_s DOUBLE, tpot_median_s DOUBLE, tpot_p90_s DOUBLE, tpot_p99_s DOUBLE,
    itl_mean_s DOUBLE, itl_median_s DOUBLE, itl_p90_s DOUBLE, itl_p99_s DOUBLE,
    e2el_mean_s DOUBLE, e2el_median_s DOUBLE, e2el_p90_s DOUBLE, e2el_p99_s DOUBLE,
    measured_concurrency DOUBLE,
    tokens_per_chunk_mean DOUBLE,
    duration_s DOUBLE,
    n_requests INTEGER,
    n_failed INTEGER,
    power_w_per_gpu DOUBLE,
    source VARCHAR NOT NULL,
    source_file VARCHAR,
    "date" VARCHAR,
    engine_version VARCHAR,
    power_source VARCHAR NOT NULL,
    drafts BIGINT,
    draft_tokens BIGINT,
    accepted_tokens BIGINT,
    accepted_per_position INTEGER[],
    reported_acceptance_length DOUBLE,
    acceptance_source VARCHAR,
    acceptance_note VARCHAR,
    extra JSON NOT NULL,
    imported_at TIMESTAMP NOT NULL
);
CREATE TABLE runs (
    run_id VARCHAR PRIMARY KEY,
    created_at TIMESTAMP NOT NULL,
    kind VARCHAR NOT NULL,
    command VARCHAR NOT NULL,
    engine VARCHAR,
    notes JSON NOT NULL
);
CREATE TABLE requests (
    point_id VARCHAR NOT NULL,
    "index" INTEGER NOT NULL,
    warmup BOOLEAN NOT NULL,
    send_s DOUBLE NOT NULL,
    ttft_s DOUBLE,
    e2el_s DOUBLE,
    end_s DOUBLE,
    chunk_times_s DOUBLE[] NOT NULL,
    chunk_tokens INTEGER[] NOT NULL,
    input_tokens INTEGER,
    requested_output_tokens INTEGER,
    output_tokens INTEGER NOT NULL,
    error VARCHAR,
    draft_tokens INTEGER,
    accepted_tokens INTEGER,
    output_text VARCHAR,
    PRIMARY KEY (point_id, warmup, "index")
);
"""

_V2_SQL = "ALTER TABLE requests ADD COLUMN spec_decoding JSON"
"""Version 2: each response's own spec-decoding fields (``RequestRecord.spec_decoding``: vLLM's
per-request metrics, SGLang's ``meta_info`` counts), kept for their distribution per point."""

MIGRATIONS: list[Migration] = [_V1_SQL, _V2_SQL]
"""Every schema step, oldest first; the schema version is the number of steps applied."""

# Column layout of ``points`` as written and read by this code (the acceptance block is NULL as a
# whole when a point has no acceptance data: ``acceptance_source IS NULL`` means "None").
_CONFIG_FIELDS: tuple[str, ...] = (
    "hardware",
    "model",
    "precision",
    "engine",
    "spec_method",
    "draft_depth",
    "spec_config",
    "disaggregated",
    "n_gpus",
    "n_decode_gpus",
    "tp",
    "pp",
    "ep",
    "dp_attention",
    "isl",
    "osl",
    "concurrency",
    "request_rate",
    "workload",
)
_LATENCIES: tuple[str, ...] = ("ttft", "tpot", "itl", "e2el")
_STAT_FIELDS: tuple[str, ...] = ("mean_s", "median_s", "p90_s", "p99_s")
_THROUGHPUT_FIELDS: tuple[str, ...] = (
    "throughput_per_gpu",
    "output_throughput_per_gpu",
    "input_throughput_per_gpu",
    "interactivity",
)
_TAIL_FIELDS: tuple[str, ...] = (
    "measured_concurrency",
    "tokens_per_chunk_mean",
    "duration_s",
    "n_requests",
    "n_failed",
    "power_w_per_gpu",
)
_PROVENANCE_FIELDS: tuple[str, ...] = (
    "source",
    "source_file",
    "date",
    "engine_version",
    "power_source",
)
_ACCEPTANCE_COLUMNS: tuple[str, ...] = (
    "drafts",
    "draft_tokens",
    "accepted_tokens",
    "accepted_per_position",
    "reported_acceptance_length",
    "acceptance_source",
    "acceptance_note",
)
_ACCEPTANCE_FIELDS: tuple[str, ...] = (*_ACCEPTANCE_COLUMNS[:-2], "source", "note")

POINT_COLUMNS: tuple[str, ...] = (
    "point_id",
    "run_id",
    "repeat",
    "status",
    "error",
    *_CONFIG_FIELDS,
    *_THROUGHPUT_FIELDS,
    *(f"{lat}_{stat}" for lat in _LATENCIES for stat in _STAT_FIELDS),
    *_TAIL_FIELDS,
    *_PROVENANCE_FIELDS,
    *_ACCEPTANCE_COLUMNS,
    "extra",
    "imported_at",
)
"""Columns of the ``points`` table, in table order (the flat names used by export too)."""

_LIST_COLUMNS = frozenset({"accepted_per_position", "chunk_times_s", "chunk_tokens"})
_DOUBLE_COLUMNS = frozenset(
    {
        "request_rate",
        *_THROUGHPUT_FIELDS,
        *(f"{lat}_{stat}" for lat in _LATENCIES for stat in _STAT_FIELDS),
        "measured_concurrency",
        "tokens_per_chunk_mean",
        "duration_s",
        "power_w_per_gpu",
        "reported_acceptance_length",
    }
)
_INT_COLUMNS = frozenset(
    {
        "repeat",
        "draft_depth",
        "n_gpus",
        "n_decode_gpus",
        "tp",
        "pp",
        "ep",
        "isl",
        "osl",
        "concurrency",
        "n_requests",
        "n_failed",
        "drafts",
        "draft_tokens",
        "accepted_tokens",
    }
)

# Slices of a points row (without imported_at) as read back by _point_from_row.
_I_CONFIG = 5
_I_THROUGHPUT = _I_CONFIG + len(_CONFIG_FIELDS)
_I_LATENCY = _I_THROUGHPUT + len(_THROUGHPUT_FIELDS)
_I_TAIL = _I_LATENCY + len(_LATENCIES) * len(_STAT_FIELDS)
_I_PROVENANCE = _I_TAIL + len(_TAIL_FIELDS)
_I_ACCEPTANCE = _I_PROVENANCE + len(_PROVENANCE_FIELDS)
_I_EXTRA = _I_ACCEPTANCE + len(_ACCEPTANCE_COLUMNS)

_point_main = operator.attrgetter(
    "point_id",
    "run_id",
    "repeat",
    "status",
    "error",
    *(f"config.{name}" for name in _CONFIG_FIELDS),
    *_THROUGHPUT_FIELDS,
    *(f"{lat}.{stat}" for lat in _LATENCIES for stat in _STAT_FIELDS),
    *_TAIL_FIELDS,
    *(f"provenance.{name}" for name in _PROVENANCE_FIELDS),
)
_NO_ACCEPTANCE: tuple[None, ...] = (None,) * len(_ACCEPTANCE_COLUMNS)

_REQUEST_COLUMNS: tuple[str, ...] = (
    "point_id",
    "index",
    "warmup",
    "send_s",
    "ttft_s",
    "e2el_s",
    "end_s",
    "chunk_times_s",
    "chunk_tokens",
    "input_tokens",
    "requested_output_tokens",
    "output_tokens",
    "error",
    "draft_tokens",
    "accepted_tokens",
    "output_text",
    "spec_decoding",
)
_request_values = operator.attrgetter(*_REQUEST_COLUMNS[1:])
_REQUEST_DOUBLES = frozenset({"send_s", "ttft_s", "e2el_s", "end_s"})
_REQUEST_INTS = frozenset(
    {
        "index",
        "input_tokens",
        "requested_output_tokens",
        "output_tokens",
        "draft_tokens",
        "accepted_tokens",
    }
)

POINT_ORDER = (
    'model, hardware, "precision", isl, osl, engine, spec_method, draft_depth NULLS FIRST, '
    'concurrency NULLS LAST, request_rate NULLS LAST, run_id, "repeat", point_id'
)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_POINT_SELECT = ", ".join(_quote(c) for c in POINT_COLUMNS[:-1])
_REQUEST_SELECT = ", ".join(_quote(c) for c in _REQUEST_COLUMNS)

LEAN_POINT_COLUMNS: tuple[str, ...] = (
    "run_id",
    "repeat",
    "status",
    "error",
    *_CONFIG_FIELDS,
    "throughput_per_gpu",
    "interactivity",
    "measured_concurrency",
    "power_w_per_gpu",
    "source",
)
"""What a comparison reads of a point (``Store.points(lean=True)``): identity, the whole config
(repeats are grouped by it), throughput, interactivity, concurrency, measured power, and the
source (predicted series are labelled). Latencies, acceptance and the other provenance are not."""
_LEAN_SELECT = ", ".join(_quote(c) for c in LEAN_POINT_COLUMNS)


# --------------------------------------------------------------------------------------------
# Filters and small result models
# --------------------------------------------------------------------------------------------

_K = 1024
_SEQ_RE = re.compile(r"^\s*(\d+)(k?)\s*([/:x_-]?)\s*(\d+)(k?)\s*$", re.IGNORECASE)


def parse_sequence(text: str) -> tuple[int, int]:
    """ISL/OSL text to token counts: ``1k/1k`` → (1024, 1024), ``1k8k``, ``8k/1k``, ``1024/8192``.

    ``k`` means 1024 tokens. Two plain numbers need a separator (``/``, ``:``, ``x``, ``-``, ``_``).
    """
    match = _SEQ_RE.match(text)
    if match is not None:
        isl_n, isl_k, sep, osl_n, osl_k = match.groups()
        if sep or isl_k:
            return int(isl_n) * (_K if isl_k else 1), int(osl_n) * (_K if osl_k else 1)
    raise UserError(
        f"unknown sequence {text!r}: give input/output lengths as '1k/1k', '8k/1k', '1k8k' "
        "(k = 1024 tokens) or in tokens as '1024/8192'"
    )


TextKey = str | list[str] | None


class PointFilter(BaseModel):
    """Which points to read. Every field is optional; set fields must all match.

    Text keys (model, hardware, precision, engine, spec_method, source, workload) match
    case-insensitively and accept one value or a list of alternatives. ``spec_method="off"``
    means ``none``.
    ``sequence`` (``"1k/1k"``) is shorthand for ``isl``/``osl``. ``status`` defaults to ``ok``;
    set it to None for points of every status.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: TextKey = None
    hardware: TextKey = None
    precision: TextKey = None
    engine: TextKey = None
    spec_method: TextKey = None
    source: TextKey = None
    workload: TextKey = None
    """Workload name (prompt set), e.g. ``code`` or ``chat``."""
    sequence: str | None = None
    isl: int | None = None
    osl: int | None = None
    run_id: str | list[str] | None = None
    status: str | None = "ok"

    @model_validator(mode="after")
    def _check_sequence(self) -> Self:
        if self.sequence is not None:
            isl, osl = parse_sequence(self.sequence)
            if (self.isl is not None and self.isl != isl) or (
                self.osl is not None and self.osl != osl
            ):
                raise UserError(
                    f"sequence {self.sequence!r} contradicts isl={self.isl} osl={self.osl}: "
                    "give either the sequence or isl/osl"
                )
        return self

    def lengths(self) -> tuple[int | None, int | None]:
        """The (isl, osl) this filter asks for, from ``sequence`` or the explicit fields."""
        if self.sequence is not None:
            return parse_sequence(self.sequence)
        return self.isl, self.osl


class Combo(BaseModel):
    """One distinct model × hardware × precision × sequence × spec method × engine in the store."""

    model_config = ConfigDict(frozen=True)

    model: str
    hardware: str
    precision: str
    isl: int
    osl: int
    spec_method: str
    engine: str
    n_points: int

    @property
    def sequence(self) -> str:
        return f"{_short_len(self.isl)}/{_short_len(self.osl)}"

    def label(self) -> str:
        """E.g. ``qwen3.5 b300 fp4 1k/1k mtp (sglang): 5 points``."""
        method = "off" if self.spec_method == OFF else self.spec_method
        noun = "point" if self.n_points == 1 else "points"
        return (
            f"{self.model} {self.hardware} {self.precision} {self.sequence} {method} "
            f"({self.engine}): {self.n_points} {noun}"
        )


def _short_len(n: int) -> str:
    return f"{n // _K}k" if n and n % _K == 0 else str(n)


def format_combos(combos: Sequence[Combo], limit: int = 20) -> str:
    """A one-line summary of what the store holds, for "nothing matched" messages."""
    if not combos:
        return "the store is empty (import results with `specscope import` or run a sweep)"
    shown = "; ".join(c.label() for c in combos[:limit])
    more = len(combos) - limit
    return shown + (f"; and {more} more" if more > 0 else "")


class AddOutcome(BaseModel):
    """What :meth:`Store.add_measurements` did with a batch of points."""

    model_config = ConfigDict(frozen=True)

    added: int = 0
    """Points written that were not stored before, ``kept_as_repeats`` included."""
    kept_as_repeats: int = 0
    """Of ``added``: points whose configuration (run and config) was already stored with other
    results; each was kept under the next free repeat number, with its source."""
    already_present: int = 0
    """Points whose very results were already stored (or came twice in the batch); not written."""
    point_ids: list[str] = Field(default_factory=list)
    """Per input point, in input order: the id it is stored under (its own, its new repeat's, or
    that of the stored point with the same results)."""


def describe_added(added: int, kept_as_repeats: int, already_present: int) -> str:
    """The counts of an import or merge in words, e.g. ``2 new, 1 kept as another repeat of an
    existing configuration, 5 already present`` (``added`` includes ``kept_as_repeats``)."""
    parts = [f"{added - kept_as_repeats} new"]
    if kept_as_repeats == 1:
        parts.append("1 kept as another repeat of an existing configuration")
    elif kept_as_repeats > 1:
        parts.append(f"{kept_as_repeats} kept as further repeats of existing configurations")
    parts.append(f"{already_present} already present")
    return ", ".join(parts)


# --------------------------------------------------------------------------------------------
# Point identity for imports and merges: the configuration, and what was measured there
# --------------------------------------------------------------------------------------------

KEPT_AS_REPEAT = "kept_as_repeat"
"""``provenance.extra`` key set on a point that an import or merge kept as another repeat,
because its run and config were already stored with other results: ``{"of": <the stored point
id it met>, "source": <the file or store it came from>}``. Bookkeeping, not a measurement."""

_BOOKKEEPING_EXTRA = frozenset({KEPT_AS_REPEAT})
_IDENTITY_FIELDS = frozenset({"run_id", "config", "repeat", "point_id"})


def configuration_key(point: Point) -> tuple[str, str]:
    """(run id, config as canonical JSON): what the repeats of one operating point share."""
    config = json.dumps(point.config.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return point.run_id, config


def measurement_digest(point: Point) -> str:
    """A digest of what was measured at ``point``: every field except its identity (run,
    config, repeat) and where this copy came from (``source_file``, bookkeeping keys of
    ``extra``). The same record imported from another path, or a point read back from a store,
    has the same digest; any other number, latency, acceptance count or kept key changes it."""
    data = point.model_dump(mode="json", exclude=set(_IDENTITY_FIELDS))
    provenance = data["provenance"]
    provenance.pop("source_file", None)
    provenance["extra"] = {
        k: v for k, v in provenance["extra"].items() if k not in _BOOKKEEPING_EXTRA
    }
    # as stored: non-finite floats are not JSON and become null in the extra column
    blob = json.dumps(_finite(data), sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(blob.encode()).hexdigest()


class Placement(BaseModel):
    """Where one incoming point goes (see :func:`place_measurements`)."""

    model_config = ConfigDict(frozen=True)

    point: Point
    """The point as it is (or was already) stored: renumbered when kept as another repeat."""
    write: bool
    """False when the same results are stored already."""
    kept_as_repeat: bool = False


def _replaced(model: _M, **update: Any) -> _M:
    """``model`` with some fields replaced, without validation. ``model_copy(update=...)``
    cannot be used on models read from the store: they share one frozen fields-set."""
    values = {name: getattr(model, name) for name in type(model).model_fields}
    values.update(update)
    return type(model).model_construct(_fields_set=set(values), **values)


def place_measurements(
    stored: Iterable[Point], incoming: Iterable[Point], source: str | None = None
) -> list[Placement]:
    """Decide, without writing, where each of ``incoming`` goes among ``stored`` points.

    Per configuration key (run and config): a point whose results (:func:`measurement_digest`)
    are stored under any repeat is already present; otherwise it keeps its own repeat number when
    that is free, or else becomes the next repeat (highest stored + 1) with
    ``extra[KEPT_AS_REPEAT] = {"of": <id it met>, "source": source or its source_file}``.
    Earlier points of ``incoming`` count as stored for later ones.
    """
    repeats: dict[tuple[str, str], dict[int, str]] = {}
    """Per key: repeat number → digest."""
    found: dict[tuple[str, str], dict[str, int]] = {}
    """Per key: digest → repeat number."""
    for point in stored:
        key, digest = configuration_key(point), measurement_digest(point)
        repeats.setdefault(key, {})[point.repeat] = digest
        found.setdefault(key, {}).setdefault(digest, point.repeat)
    out: list[Placement] = []
    for point in incoming:
        key, digest = configuration_key(point), measurement_digest(point)
        taken = repeats.setdefault(key, {})
        same = found.setdefault(key, {})
        if digest in same:
            stored_as = _replaced(point, repeat=same[digest])
            out.append(Placement(point=stored_as, write=False))
            continue
        if point.repeat not in taken:
            taken[point.repeat] = digest
            same[digest] = point.repeat
            out.append(Placement(point=point, write=True))
            continue
        repeat = max(taken) + 1
        extra = dict(point.provenance.extra)
        extra[KEPT_AS_REPEAT] = {
            "of": point.point_id,
            "source": source if source is not None else point.provenance.source_file,
        }
        provenance = _replaced(point.provenance, extra=extra)
        kept = _replaced(point, repeat=repeat, provenance=provenance)
        taken[repeat] = digest
        same[digest] = repeat
        out.append(Placement(point=kept, write=True, kept_as_repeat=True))
    return out


class RunInfo(BaseModel):
    """One row of the ``runs`` table."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    created_at: datetime
    """UTC, naive."""
    kind: str
    command: str
    engine: str | None
    notes: dict[str, Any] = Field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# Fast construction of frozen models from trusted database rows
# --------------------------------------------------------------------------------------------

_M = TypeVar("_M", bound=BaseModel)
_setattr = object.__setattr__


def _build_models(cls: type[_M], names: Sequence[str], columns: Sequence[list[Any]]) -> list[_M]:
    """One ``cls`` per row of ``columns`` (one list per field in ``names``), without validation.

    The values come from our own table, written from validated models, so they are trusted.
    If the model has fields this module does not store, ``model_construct`` fills their
    defaults instead (slower; the schema guard test flags that case).
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


_POINT_FIELDS: tuple[str, ...] = (
    "run_id",
    "repeat",
    "status",
    "error",
    "config",
    *_THROUGHPUT_FIELDS,
    *_LATENCIES,
    *_TAIL_FIELDS,
    "acceptance",
    "provenance",
)
_EMPTY_LATENCY = LatencyStats()
_NO_LATENCY = (None, None, None, None)


def _latency_column(stats: Sequence[list[Any]]) -> list[LatencyStats]:
    """LatencyStats per row; rows with no statistic share one empty (frozen) instance."""
    rows = list(zip(*stats, strict=True))
    filled = [i for i, values in enumerate(rows) if values != _NO_LATENCY]
    out = [_EMPTY_LATENCY] * len(rows)
    if filled:
        built = _build_models(LatencyStats, _STAT_FIELDS, [[s[i] for i in filled] for s in stats])
        for i, model in zip(filled, built, strict=True):
            out[i] = model
    return out


def _acceptance_column(cols: dict[str, list[Any]]) -> list[AcceptanceCounts | None]:
    """AcceptanceCounts per row, None where ``acceptance_source`` is NULL (no acceptance data)."""
    sources = cols["acceptance_source"]
    out: list[AcceptanceCounts | None] = [None] * len(sources)
    filled = [i for i, source in enumerate(sources) if source is not None]
    if filled:
        columns = [[cols[c][i] for i in filled] for c in _ACCEPTANCE_COLUMNS]
        columns[3] = [[] if v is None else v for v in columns[3]]
        built = _build_models(AcceptanceCounts, _ACCEPTANCE_FIELDS, columns)
        for i, model in zip(filled, built, strict=True):
            out[i] = model
    return out


def _points_from_columns(cols: dict[str, list[Any]]) -> list[Point]:
    """Rebuild Points from whole columns (one list per ``points`` column), one model at a time."""
    latencies = [
        _latency_column([cols[f"{lat}_{stat}"] for stat in _STAT_FIELDS]) for lat in _LATENCIES
    ]
    extras = [{} if text == "{}" else json.loads(text) for text in cols["extra"]]
    provenance = _build_models(
        Provenance,
        (*_PROVENANCE_FIELDS, "extra"),
        [*(cols[c] for c in _PROVENANCE_FIELDS), extras],
    )
    configs = _build_models(PointConfig, _CONFIG_FIELDS, [cols[c] for c in _CONFIG_FIELDS])
    columns = [
        cols["run_id"],
        cols["repeat"],
        cols["status"],
        cols["error"],
        configs,
        *(cols[c] for c in _THROUGHPUT_FIELDS),
        *latencies,
        *(cols[c] for c in _TAIL_FIELDS),
        _acceptance_column(cols),
        provenance,
    ]
    return _build_models(Point, _POINT_FIELDS, columns)


def _lean_points_from_columns(cols: dict[str, list[Any]]) -> list[Point]:
    """Points from the ``LEAN_POINT_COLUMNS``; every field not read keeps its default."""
    n = len(cols["run_id"])
    # Repeats and runs measure the same configs again: build each distinct one once and share
    # it (the models are frozen).
    index: dict[tuple[Any, ...], int] = {}
    rows = zip(*(cols[c] for c in _CONFIG_FIELDS), strict=True)
    codes = [index.setdefault(row, len(index)) for row in rows]
    distinct = [list(column) for column in zip(*index, strict=True)]
    if not distinct:
        distinct = [[] for _ in _CONFIG_FIELDS]
    built = _build_models(PointConfig, _CONFIG_FIELDS, distinct)
    configs = [built[code] for code in codes]
    shared = {source: Provenance(source=source) for source in set(cols["source"])}
    nothing: list[Any] = [None] * n
    empty = [_EMPTY_LATENCY] * n
    given = {
        "run_id": cols["run_id"],
        "repeat": cols["repeat"],
        "status": cols["status"],
        "error": cols["error"],
        "config": configs,
        "throughput_per_gpu": cols["throughput_per_gpu"],
        "interactivity": cols["interactivity"],
        "measured_concurrency": cols["measured_concurrency"],
        "power_w_per_gpu": cols["power_w_per_gpu"],
        "provenance": [shared[source] for source in cols["source"]],
    }
    columns = [given.get(name, empty if name in _LATENCIES else nothing) for name in _POINT_FIELDS]
    return _build_models(Point, _POINT_FIELDS, columns)


def _fetch_columns(relation: duckdb.DuckDBPyConnection) -> dict[str, list[Any]]:
    """Fetch a result column-wise as plain Python lists (NULL → None, lists → lists)."""
    arrays = relation.fetchnumpy()
    out: dict[str, list[Any]] = {}
    for name, array in arrays.items():
        values = array.tolist()
        if name in _LIST_COLUMNS:  # list cells arrive as numpy arrays
            values = [None if v is None else v.tolist() for v in values]
        out[name] = values
    return out


def read_points(
    con: duckdb.DuckDBPyConnection,
    table: str = "points",
    where: str = "",
    params: Sequence[Any] = (),
) -> list[Point]:
    """Full points of ``table`` (e.g. an attached store's ``alias.points``) matching the SQL
    ``where`` (``"WHERE ..."`` or empty), in the store's stable order."""
    result = con.execute(
        f"SELECT {_POINT_SELECT} FROM {table} {where} ORDER BY {POINT_ORDER}", params
    )
    return _points_from_columns(_fetch_columns(result))


# --------------------------------------------------------------------------------------------
# Writing helpers
# --------------------------------------------------------------------------------------------


def _json_text(value: Any) -> str:
    """JSON for a JSON column; non-finite floats (not valid JSON) become null."""
    try:
        return json.dumps(value, separators=(",", ":"), allow_nan=False)
    except ValueError:
        return json.dumps(_finite(value), separators=(",", ":"), allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _point_row(point: Point) -> tuple[Any, ...]:
    acc = point.acceptance
    acceptance = (
        _NO_ACCEPTANCE
        if acc is None
        else (
            acc.drafts,
            acc.draft_tokens,
            acc.accepted_tokens,
            [int(v) for v in acc.accepted_per_position],
            acc.reported_acceptance_length,
            acc.source,
            acc.note,
        )
    )
    return (*_point_main(point), *acceptance, extra_json(point.provenance.extra))


def extra_json(extra: dict[str, Any]) -> str:
    """The ``extra`` column's text for a point's ``provenance.extra``."""
    return _json_text(extra) if extra else "{}"


def _column_array(name: str, values: Sequence[Any]) -> np.ndarray[Any, Any]:
    """One staging column with a single Python type per column, so DuckDB infers it exactly."""
    if name in _DOUBLE_COLUMNS:
        return np.array(values, dtype=np.float64)  # None → NaN → NULL when scanned
    if name in _INT_COLUMNS:
        return _object_array([None if v is None else int(v) for v in values])
    return _object_array(values)


def _object_array(values: Sequence[Any]) -> np.ndarray[Any, Any]:
    """A 1-D object array of ``values`` (element-wise, so equal-length lists stay cells)."""
    out = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        out[i] = value
    return out


_IO_FAILURE_WORDS = ("no space left", "disk full", "read-only file system", "input/output error")


def _is_io_failure(exc: BaseException) -> bool:
    """A write error whose cause is the file system (DuckDB reports some as plain errors)."""
    text = str(exc).lower()
    return any(word in text for word in _IO_FAILURE_WORDS)


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message (its class name when it has none)."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


_MIN_DUCKDB = (1, 2)
"""Scanning numpy columns (the bulk insert path) needs pandas before DuckDB 1.2."""


def _check_duckdb_version(version: str = duckdb.__version__) -> None:
    found = tuple(int(part) for part in re.findall(r"\d+", version)[:2])
    if found < _MIN_DUCKDB:
        raise UserError(
            f"specscope needs duckdb >= {'.'.join(map(str, _MIN_DUCKDB))}, found {version}; "
            "upgrade it: pip install -U duckdb"
        )


_LOCK_MESSAGES = ("could not set lock", "conflicting lock")
"""How DuckDB says another process holds the file (``IO Error: Could not set lock on file ...:
Conflicting lock is held in ...``); a bare "lock" would also match "in block at location"."""

_DAMAGE_MESSAGES = ("corrupt", "checksum", "could not read enough bytes", "serializ")
"""Words DuckDB uses when a file is damaged or truncated (its exception classes vary: a plain
``duckdb.Error`` for a checksum, ``IOException`` for a short read)."""


def is_lock_error(text: str) -> bool:
    """True when DuckDB's message says another process holds the store file."""
    return any(words in text.lower() for words in _LOCK_MESSAGES)


def damaged_store_error(exc: BaseException, paths: Sequence[Path | str]) -> UserError | None:
    """The one-line error for a DuckDB failure caused by a damaged, truncated or locked store
    file, or None when ``exc`` is something else (a programming error stays a traceback).

    ``paths`` are the store files the command touched; the message names the one DuckDB names,
    else all of them."""
    if not isinstance(exc, duckdb.Error):
        return None
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if is_lock_error(text):
        return UserError(
            f"store {_named(text, paths)} is in use by another process ({text}); close that "
            "process, or use another file"
        )
    damage_class = isinstance(
        exc, duckdb.SerializationException | duckdb.InternalException | duckdb.FatalException
    )
    if not damage_class and not any(words in text.lower() for words in _DAMAGE_MESSAGES):
        return None
    return UserError(
        f"cannot read store {_named(text, paths)}: the file is damaged or truncated ({text}); "
        "restore it from a copy, or use another file"
    )


def _named(text: str, paths: Sequence[Path | str]) -> str:
    """The path among ``paths`` that DuckDB's message names, else all of them."""
    for path in paths:
        if str(Path(path).resolve()) in text or f'"{path}"' in text:
            return str(path)
    return " or ".join(str(p) for p in paths) or "(unknown)"


def _user_path_error(path: Path, exc: Exception) -> UserError:
    damaged = damaged_store_error(exc, [path])
    if damaged is not None:
        return damaged
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return UserError(f"cannot open store {path}: {text}; check the path or pass another --db file")


def migrated_copy(file: Path, folder: Path) -> Path:
    """A copy of the store ``file`` (with its write-ahead log) in ``folder``, migrated to this
    code's schema; the file itself is never written (readers and merges of older stores)."""
    copy = folder / file.name
    shutil.copyfile(file, copy)
    wal = file.with_name(file.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, copy.with_name(copy.name + ".wal"))
    Store.open(copy).close()  # the normal migration, on the copy
    return copy


# --------------------------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------------------------


class Store:
    """An open specscope database. Use :meth:`open` (also a context manager)."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, path: Path | None) -> None:
        self._con = connection
        self.path = path
        """The database file, or None for an in-memory store."""
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        """A migrated copy of an older store opened read-only (removed on close)."""

    # ---- lifecycle ------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | Path = DEFAULT_DB_PATH, *, read_only: bool = False) -> Store:
        """Open (creating file, parent folder and schema as needed) and migrate a store.

        ``":memory:"`` opens a throw-away in-memory store. ``read_only`` opens an existing file
        without writing to it (compare, report, export): it works on read-only media and
        immutable files, and a store of an older schema is read through a migrated temporary
        copy, the file itself untouched.
        """
        if read_only and str(path) != ":memory:":
            return cls._open_read_only(Path(path))
        _check_duckdb_version()
        if str(path) == ":memory:":
            con = duckdb.connect(":memory:")
            file: Path | None = None
        else:
            file = Path(path)
            if file.is_dir():
                raise UserError(
                    f"store path {file} is a folder; give a file such as {file}/specscope.duckdb"
                )
            try:
                file.parent.mkdir(parents=True, exist_ok=True)
                con = duckdb.connect(str(file))
            except (duckdb.Error, OSError) as exc:
                raise _user_path_error(file, exc) from exc
        store = cls(con, file)
        try:
            store._migrate(MIGRATIONS)
        except BaseException:
            con.close()
            raise
        return store

    @classmethod
    def _open_read_only(cls, file: Path) -> Store:
        _check_duckdb_version()
        if not file.is_file():
            raise UserError(
                f"no store at {file}; measure or import into it first, or pass another --db"
            )
        try:
            con = duckdb.connect(str(file), read_only=True)
        except (duckdb.Error, OSError) as exc:
            if isinstance(exc, duckdb.Error) and is_lock_error(str(exc)):
                raise UserError(
                    f"store {file} is open for writing by another process (a running sweep, "
                    "bench or import); read it when that ends, or let the writer use another "
                    "--db and merge it afterwards with 'specscope import specscope'"
                ) from exc
            raise _user_path_error(file, exc) from exc
        store = cls(con, file)
        try:
            version = store._checked_version(len(MIGRATIONS), create=False)
        except BaseException:
            con.close()
            raise
        if version == len(MIGRATIONS):
            return store
        con.close()
        scratch = tempfile.TemporaryDirectory(prefix="specscope-read-")
        copy = migrated_copy(file, Path(scratch.name))
        migrated = cls(duckdb.connect(str(copy), read_only=True), file)
        migrated._scratch = scratch
        return migrated

    def close(self) -> None:
        self._con.close()
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection, for readers inside this package (export)."""
        return self._con

    @property
    def _label(self) -> str:
        return str(self.path) if self.path is not None else ":memory:"

    # ---- schema ---------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        row = self._con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
        return int(row[0]) if row else 0

    def _checked_version(self, known: int, *, create: bool) -> int:
        """The store's schema version, once the file is known to be a specscope store no newer
        than the ``known`` versions (``create``: an empty file gets its version table)."""
        con = self._con
        tables = {
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
            ).fetchall()
        }
        if "schema_version" not in tables:
            if tables or not create:
                found = f"tables {', '.join(sorted(tables))}" if tables else "no tables"
                raise UserError(
                    f"{self._label} is a DuckDB file but not a specscope store "
                    f"({found}, no schema_version); pass another --db"
                )
            con.execute(
                "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, "
                "applied_at TIMESTAMP NOT NULL)"
            )
        current = self.schema_version
        if current > known:
            raise UserError(
                f"store {self._label} has schema version {current} but this specscope knows "
                f"versions up to {known}; upgrade specscope or pass another --db file"
            )
        return current

    def _migrate(self, steps: Sequence[Migration]) -> None:
        con = self._con
        current = self._checked_version(len(steps), create=True)
        for version in range(current + 1, len(steps) + 1):
            step = steps[version - 1]
            con.begin()
            try:
                if isinstance(step, str):
                    con.execute(step)
                else:
                    step(con)
                con.execute("INSERT INTO schema_version VALUES (?, ?)", [version, _utc_now()])
                con.commit()
            except BaseException:
                con.rollback()
                raise

    # ---- writing --------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One transaction: committed when the block ends, rolled back when it raises.

        A failed write is reported as itself: DuckDB may already have aborted the transaction
        (a full disk fails the commit), and a second error from the rollback must not hide the
        first. A file-system cause (no space, read-only, I/O error) becomes one UserError line
        naming the store.
        """
        con = self._con
        con.begin()
        try:
            yield con
            con.commit()
        except BaseException as exc:
            with contextlib.suppress(duckdb.Error):
                con.rollback()
            if isinstance(exc, (duckdb.IOException, OSError)) or _is_io_failure(exc):
                raise UserError(
                    f"could not write to store {self._label}: {one_line(exc)}; nothing of this "
                    "write was kept (free space or pick another --db and run again)"
                ) from exc
            raise

    def add_points(self, points: Iterable[Point]) -> int:
        """Store points in one transaction; returns how many point_ids were not stored before.

        A point whose id is already stored replaces the stored row (latest write wins).
        """
        with self.transaction() as con:
            return self._insert_points(con, points)

    def record_point(
        self, point: Point, records: Iterable[RequestRecord], superseded: Iterable[str] = ()
    ) -> None:
        """A measured point, its request records and the removal of rows it supersedes, in one
        transaction: after a crash or a full disk the store holds all of it or none of it."""
        with self.transaction() as con:
            self._insert_points(con, [point])
            self._insert_requests(con, records, point.point_id)
            self._delete_points(con, [i for i in superseded if i != point.point_id])

    def _insert_points(self, con: duckdb.DuckDBPyConnection, points: Iterable[Point]) -> int:
        unique: dict[str, tuple[Any, ...]] = {}
        for point in points:
            row = _point_row(point)
            unique[row[0]] = row
        if not unique:
            return 0
        rows = list(unique.values())
        names = POINT_COLUMNS[:-1]
        staging = {
            f"c{i}": _column_array(name, values)
            for i, (name, values) in enumerate(zip(names, zip(*rows, strict=True), strict=True))
        }
        select = ", ".join(f"c{i}" for i in range(len(names)))
        con.register("_specscope_staging", staging)
        try:
            found = con.execute(
                "SELECT count(*) FROM points WHERE point_id IN (SELECT c0 FROM _specscope_staging)"
            ).fetchone()
            existing = int(found[0]) if found else 0
            con.execute(
                f"INSERT OR REPLACE INTO points ({_POINT_SELECT}, imported_at) "
                f"SELECT {select}, ? FROM _specscope_staging",
                [_utc_now()],
            )
        finally:
            con.unregister("_specscope_staging")
        return len(rows) - existing

    def add_measurements(self, points: Iterable[Point], source: str | None = None) -> AddOutcome:
        """Store points without ever replacing a stored measurement (imports and merges).

        A point whose run, config and results are stored already adds nothing (re-importing a
        file is idempotent); one whose run and config are stored with other results is kept as
        the next repeat, its source recorded under ``extra[KEPT_AS_REPEAT]`` (``source``, or
        the point's own ``source_file``). See :func:`place_measurements`. One transaction.
        """
        batch = list(points)
        if not batch:
            return AddOutcome()
        run_ids = sorted({p.run_id for p in batch})
        stored = self.points(PointFilter(run_id=run_ids, status=None))
        placements = place_measurements(stored, batch, source)
        self.add_points([p.point for p in placements if p.write])
        return AddOutcome(
            added=sum(p.write for p in placements),
            kept_as_repeats=sum(p.kept_as_repeat for p in placements),
            already_present=sum(not p.write for p in placements),
            point_ids=[p.point.point_id for p in placements],
        )

    def add_requests(self, records: Iterable[RequestRecord], point_id: str | None = None) -> int:
        """Store per-request records (replacing same point/warm-up/index); returns how many.

        ``point_id`` overrides each record's own ``point_id`` (records are often made before
        their point exists). A record with neither is a programming error (ValueError).
        """
        with self.transaction() as con:
            return self._insert_requests(con, records, point_id)

    def _insert_requests(
        self,
        con: duckdb.DuckDBPyConnection,
        records: Iterable[RequestRecord],
        point_id: str | None,
    ) -> int:
        rows: dict[tuple[str, bool, int], tuple[Any, ...]] = {}
        for rec in records:
            pid = point_id or rec.point_id
            if not pid:
                raise ValueError(f"request record {rec.index} has no point_id; pass point_id=")
            rows[(pid, rec.warmup, rec.index)] = (pid, *_request_values(rec))
        if not rows:
            return 0
        staging: dict[str, np.ndarray[Any, Any]] = {}
        columns = zip(*rows.values(), strict=True)
        for i, (name, values) in enumerate(zip(_REQUEST_COLUMNS, columns, strict=True)):
            if name in _REQUEST_DOUBLES:
                staging[f"c{i}"] = np.array(values, dtype=np.float64)
                continue
            if name in _REQUEST_INTS:
                values = tuple(None if v is None else int(v) for v in values)
            elif name == "chunk_times_s":
                values = tuple([float(t) for t in v] for v in values)
            elif name == "chunk_tokens":
                values = tuple([int(n) for n in v] for v in values)
            elif name == "spec_decoding":
                values = tuple(None if v is None else json.dumps(v) for v in values)
            staging[f"c{i}"] = _object_array(values)
        select = ", ".join(f"c{i}" for i in range(len(_REQUEST_COLUMNS)))
        con.register("_specscope_req_staging", staging)
        try:
            con.execute(
                f"INSERT OR REPLACE INTO requests ({_REQUEST_SELECT}) "
                f"SELECT {select} FROM _specscope_req_staging"
            )
        finally:
            con.unregister("_specscope_req_staging")
        return len(rows)

    def delete_points(self, point_ids: Iterable[str]) -> int:
        """Remove points and their request records in one transaction; returns how many went."""
        with self.transaction() as con:
            return self._delete_points(con, point_ids)

    @staticmethod
    def _delete_points(con: duckdb.DuckDBPyConnection, point_ids: Iterable[str]) -> int:
        ids = sorted(set(point_ids))
        if not ids:
            return 0
        found = con.execute(
            "SELECT count(*) FROM points WHERE point_id IN (SELECT unnest(?))", [ids]
        ).fetchone()
        con.execute("DELETE FROM requests WHERE point_id IN (SELECT unnest(?))", [ids])
        con.execute("DELETE FROM points WHERE point_id IN (SELECT unnest(?))", [ids])
        return int(found[0]) if found else 0

    def timed_request_counts(self, point_ids: Iterable[str]) -> dict[str, int]:
        """How many timed (non-warm-up) request records each point has stored."""
        ids = sorted(set(point_ids))
        if not ids:
            return {}
        rows = self._con.execute(
            "SELECT point_id, count(*) FROM requests WHERE NOT warmup AND point_id IN "
            "(SELECT unnest(?)) GROUP BY point_id",
            [ids],
        ).fetchall()
        counts = dict.fromkeys(ids, 0)
        counts.update({str(pid): int(n) for pid, n in rows})
        return counts

    def add_run(
        self,
        run_id: str,
        kind: str,
        command: str = "",
        engine: str | None = None,
        notes: dict[str, Any] | None = None,
    ) -> None:
        """Record a run (a sweep, an import...). Re-adding updates it and keeps ``created_at``."""
        self._con.execute(
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO UPDATE SET "
            "kind = excluded.kind, command = excluded.command, engine = excluded.engine, "
            "notes = excluded.notes",
            [run_id, _utc_now(), kind, command, engine, _json_text(notes or {})],
        )

    # ---- reading --------------------------------------------------------------------------

    def points(self, filter: PointFilter | None = None, *, lean: bool = False) -> list[Point]:
        """Points matching ``filter`` (None: every point, any status), in a stable order.

        ``lean=True`` reads only what a comparison uses (:data:`LEAN_POINT_COLUMNS`), about
        three times faster on large stores: latencies are empty, ``acceptance`` is None and
        provenance holds only its source, whatever is stored. For compare; not for reports,
        exports or anything that shows latencies or acceptance.
        """
        where, params = where_clause(filter)
        select = _LEAN_SELECT if lean else _POINT_SELECT
        result = self._con.execute(
            f"SELECT {select} FROM points {where} ORDER BY {POINT_ORDER}", params
        )
        cols = _fetch_columns(result)
        gc_was_on = gc.isenabled()
        gc.disable()  # building 10^5 small objects otherwise triggers repeated full collections
        try:
            return _lean_points_from_columns(cols) if lean else _points_from_columns(cols)
        finally:
            if gc_was_on:
                gc.enable()

    def point_ids(self, filter: PointFilter | None = None) -> set[str]:
        """Ids of stored points (None: every point, any status)."""
        where, params = where_clause(filter)
        rows = self._con.execute(f"SELECT point_id FROM points {where}", params).fetchall()
        return {r[0] for r in rows}

    def count(self, filter: PointFilter | None = None) -> int:
        """How many points match (None: every point, any status)."""
        where, params = where_clause(filter)
        row = self._con.execute(f"SELECT count(*) FROM points {where}", params).fetchone()
        return int(row[0]) if row else 0

    def requests(self, point_id: str) -> list[RequestRecord]:
        """The per-request records of one point: warm-ups first, then by index."""
        rows = self._con.execute(
            f"SELECT {_REQUEST_SELECT} FROM requests WHERE point_id = ? "
            'ORDER BY warmup DESC, "index"',
            [point_id],
        ).fetchall()
        records = []
        for r in rows:
            fields = dict(zip(_REQUEST_COLUMNS, r, strict=True))
            if fields["spec_decoding"] is not None:
                fields["spec_decoding"] = json.loads(fields["spec_decoding"])
            records.append(RequestRecord.model_construct(**fields))
        return records

    def combos(self, filter: PointFilter | None = None) -> list[Combo]:
        """Distinct model × hardware × precision × isl × osl × spec method × engine, with counts."""
        where, params = where_clause(filter)
        rows = self._con.execute(
            'SELECT model, hardware, "precision", isl, osl, spec_method, engine, count(*) '
            f"FROM points {where} GROUP BY ALL ORDER BY ALL",
            params,
        ).fetchall()
        keys = (*Combo.model_fields,)
        return [Combo(**dict(zip(keys, r, strict=True))) for r in rows]

    def runs(self) -> list[RunInfo]:
        rows = self._con.execute(
            "SELECT run_id, created_at, kind, command, engine, notes FROM runs "
            "ORDER BY created_at, run_id"
        ).fetchall()
        return [
            RunInfo(
                run_id=r[0],
                created_at=r[1],
                kind=r[2],
                command=r[3],
                engine=r[4],
                notes=json.loads(r[5]),
            )
            for r in rows
        ]


def where_clause(filter: PointFilter | None) -> tuple[str, list[Any]]:
    """SQL ``WHERE ...`` (or ``""``) and its parameters for a filter over ``points``."""
    if filter is None:
        return "", []
    conds: list[str] = []
    params: list[Any] = []

    def text(column: str, value: TextKey, *, fold: bool = True) -> None:
        if value is None:
            return
        values = [value] if isinstance(value, str) else list(value)
        if fold:
            values = [v.strip().lower() for v in values]
        if column == "spec_method":
            values = [OFF if v == "off" else v for v in values]
        marks = ", ".join("?" for _ in values) or "NULL"
        lhs = f"lower({_quote(column)})" if fold else _quote(column)
        conds.append(f"{lhs} IN ({marks})")
        params.extend(values)

    for key in ("model", "hardware", "precision", "engine", "spec_method", "source", "workload"):
        text(key, getattr(filter, key))
    text("run_id", filter.run_id, fold=False)
    if filter.status is not None:
        text("status", filter.status)
    isl, osl = filter.lengths()
    for column, value in (("isl", isl), ("osl", osl)):
        if value is not None:
            conds.append(f"{column} = ?")
            params.append(value)
    return ("WHERE " + " AND ".join(conds) if conds else ""), params


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)
