"""Errors about engine servers; each carries the tail of the server log."""

from __future__ import annotations

from pathlib import Path

from specscope.errors import UserError


class EngineError(UserError):
    """A server failed; the message is one line, ``log_tail`` has the last log lines."""

    def __init__(self, message: str, *, log_path: Path | None = None, log_tail: str = "") -> None:
        super().__init__(message)
        self.log_path = log_path
        self.log_tail = log_tail


class EngineStartError(EngineError):
    """The server did not come up: it exited, or never answered its health check in time."""


class EngineDiedError(EngineError):
    """The server went away after it was up."""
