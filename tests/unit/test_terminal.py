"""Control characters in printed data are shown as escapes, never obeyed (issue 12 item 7).

Names imported from other people's files reach the terminal through the CLI's two consoles
(:class:`specscope.terminal.SafeConsole`) and log records through
:class:`specscope.terminal.SafeLogFormatter`; the stored data stays as imported.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

from rich.table import Table
from rich.text import Text
from typer.testing import CliRunner

from specscope.cli import app
from specscope.store.db import PointFilter, Store
from specscope.terminal import SafeConsole, SafeLogFormatter, escape_control

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "src" / "specscope" / "data" / "examples" / "inferencex-example.json"

# set the title, clear the screen, ring the bell, then forge an error line at column 0
EVIL = "\x1b]0;pwned\x07\x1b[2J\r\nerror: forged\x9b31m\u202e"
RAW = ("\x1b", "\x07", "\r", "\x9b", "\u202e")


def _clean(text: str) -> None:
    for char in RAW:
        assert char not in text, f"{char!r} reached the terminal: {text!r}"
    assert not any(line.startswith("error: forged") for line in text.splitlines()), text


def test_escape_control_shows_every_control_character() -> None:
    assert escape_control("a\x1b[2Jb\x07\n\t\r\x00\x7f\x9b") == (
        "a\\x1b[2Jb\\x07\\n\\t\\r\\x00\\x7f\\x9b"
    )
    assert escape_control("qwen3.5 × b300 – ✓ é 中") == "qwen3.5 × b300 – ✓ é 中"
    assert escape_control("x\u202ey\u2028") == "x\\u202ey\\u2028"


def _console() -> tuple[SafeConsole, io.StringIO]:
    buffer = io.StringIO()
    return SafeConsole(file=buffer, width=200, highlight=False, soft_wrap=True), buffer


def test_safe_console_escapes_strings_cells_titles_and_text_objects() -> None:
    console, buffer = _console()
    console.print(f"model {EVIL}")
    console.print(f"[bold]markup[/] {EVIL}", markup=True)
    console.print(EVIL, markup=False)
    table = Table(title=f"run {EVIL}", caption=EVIL)
    table.add_column(f"col {EVIL}")
    table.add_row(f"cell {EVIL}")
    console.print(table)
    # a Text built elsewhere (progress columns) is caught per segment, where a newline is layout
    console.print(Text(f"text object {EVIL.replace(chr(13) + chr(10), ' ')}"))
    out = buffer.getvalue()
    _clean(out)
    assert "\\x1b]0;pwned" in out and "\\nerror: forged" in out


def test_safe_console_keeps_rich_styles_on_a_terminal() -> None:
    buffer = io.StringIO()
    console = SafeConsole(file=buffer, force_terminal=True, color_system="standard", width=80)
    console.print(f"[red]error:[/] {EVIL}")
    out = buffer.getvalue()
    assert "\x1b[31m" in out  # rich's own colour code is still sent
    assert "\x1b]0;" not in out and "\x1b[2J" not in out and "\x07" not in out


def test_log_records_are_escaped() -> None:
    record = logging.LogRecord(
        "specscope.x", logging.WARNING, __file__, 1, "name %s", (EVIL,), None
    )
    _clean(SafeLogFormatter("%(levelname)s: %(message)s").format(record))


def test_imported_names_print_escaped_and_stay_raw_in_the_store(tmp_path: Path) -> None:
    records = json.loads(EXAMPLE.read_text())
    for record in records:
        record["infmax_model_prefix"] = "qwen" + EVIL
        record["framework"] = record["framework"] + EVIL
    source = tmp_path / "evil.json"
    source.write_text(json.dumps(records))
    db = tmp_path / "evil.duckdb"
    runner = CliRunner()
    imported = runner.invoke(app, ["import", "inferencex", str(source), "--db", str(db)])
    assert imported.exit_code == 0, imported.output
    done = runner.invoke(app, ["compare", "--db", str(db), "--hardware", "b300"])
    assert done.exit_code in (0, 2), done.output
    assert "pwned" in done.output  # the names were printed ...
    _clean(done.output)  # ... as escapes
    with Store.open(db) as store:
        point = store.points(PointFilter())[0]
    assert "\x1b]0;pwned\x07" in point.config.model  # the data is kept as imported
