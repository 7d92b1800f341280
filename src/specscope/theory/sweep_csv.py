"""Read the g-sweep CSV of ``specscope explain --sweep``: one sample per row, checked.

Columns: ``gamma`` (0 = spec off), ``tok_s`` (decode tokens/s), optional ``acceptance`` and
``acceptance_kind`` (alpha | rate | al, default al). A bad file raises
:class:`specscope.errors.UserError` with one line naming the file, the row or column, and the fix.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

from specscope.errors import UserError
from specscope.theory.acceptance import ACCEPTANCE_KINDS, AcceptanceKind, check_kind, to_al

_REQUIRED_COLUMNS = ("gamma", "tok_s")
_HOW_TO = (
    "the header must hold gamma,tok_s (gamma 0 = spec off) and optionally acceptance,"
    "acceptance_kind"
)


@dataclass(frozen=True)
class SweepSample:
    """One row of the sweep (its ``gamma`` column as ``draft_depth``), its acceptance converted to
    AL at its depth."""

    draft_depth: int
    tok_s: float
    acceptance_length: float | None
    kind: AcceptanceKind | None = None
    """How the row's acceptance was given (None without one)."""


def _cell(row: dict[str | None, str | list[str] | None], column: str | None) -> str:
    if column is None:
        return ""
    raw = row.get(column)
    return raw.strip() if isinstance(raw, str) else ""


def _number(path: Path, line: int, column: str, text: str) -> float:
    if not text:
        raise UserError(f"{path}: row {line}, column '{column}' is empty; fill in a number")
    try:
        value = float(text)
    except ValueError:
        raise UserError(
            f"{path}: row {line}, column '{column}': {text!r} is not a number; write it as e.g. "
            "27.8"
        ) from None
    if not math.isfinite(value):
        raise UserError(f"{path}: row {line}, column '{column}': {text!r} must be a finite number")
    return value


def read_sweep(path: Path) -> list[SweepSample]:
    """The samples of a sweep CSV, one per row, in file order."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except FileNotFoundError:
        raise UserError(
            f"{path}: file not found; give the path of a sweep CSV ({_HOW_TO})"
        ) from None
    except (IsADirectoryError, PermissionError) as exc:
        raise UserError(
            f"{path}: cannot be read ({exc.strerror}); give a readable CSV file"
        ) from None
    samples: list[SweepSample] = []
    with handle:
        try:
            reader = csv.DictReader(handle)
            if not reader.fieldnames:
                raise UserError(f"{path}: the file is empty; {_HOW_TO}")
            columns = {name.strip().lower(): name for name in reader.fieldnames if name}
            missing = [name for name in _REQUIRED_COLUMNS if name not in columns]
            if missing:
                quoted = ", ".join(f"'{name}'" for name in missing)
                raise UserError(f"{path}: missing column {quoted}; {_HOW_TO}")
            acceptance_column = columns.get("acceptance")
            kind_column = columns.get("acceptance_kind")
            for row in reader:
                line = reader.line_num
                samples.append(_parse_row(path, line, row, columns, acceptance_column, kind_column))
        except UnicodeDecodeError:
            raise UserError(f"{path}: not UTF-8 text; save the sweep as a UTF-8 CSV") from None
        except csv.Error as exc:
            raise UserError(f"{path}: malformed CSV ({exc}); {_HOW_TO}") from None
    return samples


def _parse_row(
    path: Path,
    line: int,
    row: dict[str | None, str | list[str] | None],
    columns: dict[str, str],
    acceptance_column: str | None,
    kind_column: str | None,
) -> SweepSample:
    draft_depth_value = _number(path, line, "gamma", _cell(row, columns["gamma"]))
    if draft_depth_value < 0 or not draft_depth_value.is_integer():
        raise UserError(
            f"{path}: row {line}, column 'gamma': {draft_depth_value:g} is not a whole number "
            ">= 0; use 0 for spec off and the draft depth otherwise"
        )
    draft_depth = int(draft_depth_value)
    tok_s = _number(path, line, "tok_s", _cell(row, columns["tok_s"]))
    if tok_s <= 0.0:
        raise UserError(
            f"{path}: row {line}, column 'tok_s': {tok_s:g} must be > 0 (decode tokens per second)"
        )
    kind_text = _cell(row, kind_column).lower() or "al"
    if kind_text not in ACCEPTANCE_KINDS:
        raise UserError(
            f"{path}: row {line}, column 'acceptance_kind': {kind_text!r} is unknown; use one of "
            f"{', '.join(ACCEPTANCE_KINDS)} (default al)"
        )
    acceptance_text = _cell(row, acceptance_column)
    if draft_depth == 0 or not acceptance_text:
        return SweepSample(draft_depth=draft_depth, tok_s=tok_s, acceptance_length=None)
    acceptance = _number(path, line, "acceptance", acceptance_text)
    kind = check_kind(kind_text)
    try:
        al = to_al(acceptance, kind, draft_depth)
    except ValueError as exc:
        raise UserError(
            f"{path}: row {line}, column 'acceptance': {exc}; check the value and acceptance_kind"
        ) from None
    return SweepSample(draft_depth=draft_depth, tok_s=tok_s, acceptance_length=al, kind=kind)
