"""Which points to read: filters, their SQL, and the distinct combinations a store holds."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, model_validator

from specscope.errors import UserError
from specscope.schema import OFF, sequence_label
from specscope.store.codec import quote

POINT_ORDER = (
    'model, hardware, "precision", isl, osl, engine, spec_method, draft_depth NULLS FIRST, '
    'concurrency NULLS LAST, request_rate NULLS LAST, run_id, "repeat", point_id'
)


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
        return sequence_label(self.isl, self.osl)

    def label(self) -> str:
        """E.g. ``qwen3.5 b300 fp4 1k/1k mtp (sglang): 5 points``."""
        method = "off" if self.spec_method == OFF else self.spec_method
        noun = "point" if self.n_points == 1 else "points"
        return (
            f"{self.model} {self.hardware} {self.precision} {self.sequence} {method} "
            f"({self.engine}): {self.n_points} {noun}"
        )


def format_combos(combos: Sequence[Combo], limit: int = 20) -> str:
    """A one-line summary of what the store holds, for "nothing matched" messages."""
    if not combos:
        return "the store is empty (import results with `specscope import` or run a sweep)"
    shown = "; ".join(c.label() for c in combos[:limit])
    more = len(combos) - limit
    return shown + (f"; and {more} more" if more > 0 else "")


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
        lhs = f"lower({quote(column)})" if fold else quote(column)
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
