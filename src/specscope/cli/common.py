"""What every command shares: the two consoles, the --db and --json options, list parsing, JSON
output, and the one-line errors (a user mistake is one line on stderr and exit code 2)."""

from __future__ import annotations

import inspect
import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_args, get_origin

import typer
from pydantic import BaseModel
from rich.markup import escape
from typer.core import TyperGroup

from specscope.errors import UserError
from specscope.terminal import SafeConsole

F = TypeVar("F", bound=Callable[..., Any])
N = TypeVar("N", int, float)

# Every line the CLI prints goes through these two consoles: control characters in the printed
# data (names imported from other people's files) are shown as escapes, never obeyed.
out = SafeConsole(highlight=False, soft_wrap=True)
err = SafeConsole(stderr=True, highlight=False, soft_wrap=True)

DEFAULT_DB = Path("specscope.duckdb")

DbOption = Annotated[
    Path,
    typer.Option(
        "--db",
        envvar="SPECSCOPE_DB",
        help="DuckDB file holding the points (created when missing).",
        show_default=True,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead.")]
RunsDirOption = Annotated[
    Path,
    typer.Option(
        "--runs-dir", help="Folder for run folders (server logs, the recipe, sweep CSVs)."
    ),
]


def user_errors(func: F) -> F:
    """Turn a UserError (or a bad value) into one line on stderr and exit code 2."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UserError as exc:
            print_error(str(exc))
            raise typer.Exit(2) from None
        except OSError as exc:  # a path the user gave cannot be read or written
            where = f" {exc.filename}" if exc.filename else ""
            print_error(
                f"{exc.strerror or exc}:{where}; check the path and its permissions, "
                "or choose another"
            )
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            err.print("interrupted: finished points are saved; rerun with --resume to go on")
            raise typer.Exit(130) from None
        except Exception as exc:  # a damaged or locked store file is the user's to fix
            problem = _store_problem(exc, kwargs)
            if problem is None:
                raise
            print_error(str(problem))
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def _store_problem(exc: Exception, kwargs: dict[str, Any]) -> UserError | None:
    """One line for a DuckDB error that a damaged, truncated or locked store file caused, naming
    the store(s) the command was given (``--db``, and the sources of ``import specscope``)."""
    if "duckdb" not in sys.modules:
        return None
    from specscope.store.failures import damaged_store_error

    paths: list[Path] = []
    for name in ("db", "paths"):
        value = kwargs.get(name)
        values = value if isinstance(value, list) else [value]
        paths.extend(
            v for v in values if isinstance(v, Path) and v.suffix != ".json" and not v.is_dir()
        )
    return damaged_store_error(exc, paths)


def print_error(message: str) -> None:
    """One line on stderr; the message is printed as text (brackets in it are not markup)."""
    err.print(f"[bold red]error:[/] {escape(message)}", markup=True, highlight=False)


class OneLineChoices(TyperGroup):
    """The command group: a value outside an option's fixed choices (a Literal annotation, which
    typer checks) is refused in one line, like every other user mistake, with exit code 2."""

    def invoke(self, ctx: Any) -> Any:
        given = list(ctx.args)
        try:
            return super().invoke(ctx)
        except typer.BadParameter as exc:
            refusal = _choice_refusal(exc, given)
            if refusal is None:
                raise
            print_error(refusal)
            raise typer.Exit(2) from None


def _choice_refusal(exc: typer.BadParameter, given: list[str]) -> str | None:
    """``--flag 'value' is not known; use a, b or c`` when ``exc`` refuses a value of an option
    whose annotation is a Literal (``given``: the command line after the program), else None."""
    param, command = exc.param, exc.ctx.command if exc.ctx else None
    if param is None or not param.opts or command is None or command.callback is None:
        return None
    declared = inspect.signature(command.callback, eval_str=True).parameters.get(param.name or "")
    annotation = declared.annotation if declared else None
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) is not Literal:
        return None
    value = None
    for i, arg in enumerate(given):
        for opt in param.opts:
            if arg == opt and i + 1 < len(given):
                value = given[i + 1]
            elif arg.startswith(opt + "="):
                value = arg[len(opt) + 1 :]
    *rest, last = [str(choice) for choice in get_args(annotation)]
    use = f"{', '.join(rest)} or {last}" if rest else last
    return f"{param.opts[0]} {value!r} is not known; use {use}"


def print_json(obj: BaseModel | list[Any] | dict[str, Any]) -> None:
    if isinstance(obj, BaseModel):
        text = obj.model_dump_json(indent=2)
    else:
        text = json.dumps(obj, indent=2, default=_json_default)
    sys.stdout.write(text + "\n")


def _json_default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(f"cannot serialise {type(value).__name__}")


def floats(text: str | None, flag: str) -> list[float] | None:
    """``40,60,80`` as numbers; None for no text."""
    if text is None or not text.strip():
        return None
    return _numbers(text, flag, float, "numbers separated by commas, e.g. 40,60,80")


def ints(text: str, flag: str) -> list[int]:
    """``1,2,4`` as integers."""
    return _numbers(text, flag, int, "integers separated by commas, e.g. 1,2,4")


def _numbers(text: str, flag: str, kind: Callable[[str], N], expected: str) -> list[N]:
    try:
        return [kind(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UserError(f"{flag} {text!r}: expected {expected}") from None


def exit_on_failed_points(outcome: Any, where: str) -> None:
    """Exit 1 when any point failed, with one line saying how many: a run whose every point
    failed measured nothing, and a script must not read it as a success."""
    if not outcome.failed:
        return
    if outcome.failed == outcome.measured and outcome.skipped == 0:
        print_error(
            f"every point failed ({outcome.failed} of {outcome.planned}); nothing was measured. "
            f"The reason is on each point above ({where}): fix it and run again"
        )
    else:
        err.print(
            f"warning: {outcome.failed} of {outcome.measured} point(s) measured in this run "
            f"failed (reasons above; {where}); the others are stored",
            markup=False,
        )
    raise typer.Exit(1)
