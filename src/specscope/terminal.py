"""The one boundary between text and the terminal: control characters are shown, never obeyed.

Names in the store come from files other people wrote (an InferenceX JSON, another specscope
store, a server's error body). Printed raw, an ESC or BEL in them can set the terminal title,
clear the screen or move the cursor, and a newline can forge a line such as ``error: ...``.
Every console the CLI prints through is a :class:`SafeConsole`, and every log record goes through
:class:`SafeLogFormatter`: both show such characters as visible escapes (``\\x1b``, ``\\n``).
The stored data is never changed; only what reaches the terminal is.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any

from rich.console import Console, ConsoleOptions, RenderableType
from rich.segment import Segment
from rich.text import Text

_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f"  # C0 controls (ESC, BEL, CR, LF, TAB...), DEL and C1 controls (CSI...)
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"  # bidirectional marks and overrides
    "\u2028\u2029]"  # line and paragraph separators
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def escape_control(text: str) -> str:
    """``text`` with every control character written as a visible escape (``\\x1b``, ``\\n``).

    Printable text, including non-ASCII letters and symbols, is left as it is.
    """
    return _UNSAFE.sub(_visible, text)


def _escape_keeping_newlines(text: str) -> str:
    return "\n".join(escape_control(line) for line in text.split("\n"))


class SafeConsole(Console):
    """A rich Console that never lets a control character of the printed data reach the terminal.

    Strings (printed directly, or as table cells and titles) are escaped before markup is parsed,
    newlines included: one ``print`` call is one line of text unless it prints a renderable that
    lays out several. Renderables built from ``Text`` objects elsewhere (progress columns) are
    caught at the segment level, where only layout newlines remain. rich's own control sequences
    (colours, cursor moves of a live display) travel as control segments and are untouched.
    """

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(escape_control(text), **kwargs)

    def render(
        self, renderable: RenderableType, options: ConsoleOptions | None = None
    ) -> Iterable[Segment]:
        for segment in super().render(renderable, options):
            if segment.control or not _UNSAFE.search(segment.text.replace("\n", "")):
                yield segment
            else:
                yield Segment(
                    _escape_keeping_newlines(segment.text), segment.style, segment.control
                )


class SafeLogFormatter(logging.Formatter):
    """A log formatter whose message, arguments included, never carries a control character.

    A traceback keeps its line breaks; the message line itself is escaped like console text.
    """

    def formatMessage(self, record: logging.LogRecord) -> str:
        return escape_control(super().formatMessage(record))

    def formatException(self, ei: Any) -> str:
        return _escape_keeping_newlines(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return _escape_keeping_newlines(super().formatStack(stack_info))


def install_safe_logging(logger_names: tuple[str, ...] = ("specscope", "py.warnings")) -> None:
    """Route the package's log records, and Python warnings (a library's warning can quote the
    data too: matplotlib names a glyph it cannot draw), to stderr through
    :class:`SafeLogFormatter`; idempotent."""
    logging.captureWarnings(True)
    for name in logger_names:
        logger = logging.getLogger(name)
        if any(isinstance(h.formatter, SafeLogFormatter) for h in logger.handlers):
            continue
        handler = logging.StreamHandler()
        handler.setFormatter(SafeLogFormatter("%(levelname)s: %(name)s: %(message)s"))
        handler.setLevel(logging.WARNING)
        logger.addHandler(handler)
        logger.propagate = False
