"""What went wrong with a store file, in one line: locked, damaged, full or unreadable."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

from specscope.errors import UserError

_IO_FAILURE_WORDS = ("no space left", "disk full", "read-only file system", "input/output error")


def is_io_failure(exc: BaseException) -> bool:
    """A write error whose cause is the file system (DuckDB reports some as plain errors)."""
    text = str(exc).lower()
    return any(word in text for word in _IO_FAILURE_WORDS)


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message (its class name when it has none)."""
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


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


def user_path_error(path: Path, exc: Exception) -> UserError:
    """The one-line error for a store file that DuckDB cannot open."""
    damaged = damaged_store_error(exc, [path])
    if damaged is not None:
        return damaged
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return UserError(f"cannot open store {path}: {text}; check the path or pass another --db file")
