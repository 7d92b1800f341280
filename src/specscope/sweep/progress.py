"""A rich progress display for sweeps: points done, the point running, tokens/s live."""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from specscope.sweep.hooks import PointDone, SweepHooks
from specscope.sweep.plan import PlannedPoint


class SweepProgress:
    """Context manager that owns a rich Progress and hands out SweepHooks.

    The display starts with the first hook call, so a mistake found before the sweep begins
    (a --resume with nothing to resume, a spec config the engine lacks) prints as one line,
    without an empty progress bar above it.
    """

    def __init__(self, console: Console, total: int) -> None:
        self.console = console
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.total = total
        self.task: TaskID | None = None
        self._tokens = 0
        self._point_started = time.monotonic()
        self._live = False

    def __enter__(self) -> SweepProgress:
        self.task = self.progress.add_task("points", total=self.total, rate="")
        return self

    def _show(self) -> TaskID:
        """Start the live display (once) and return the task."""
        if not self._live:
            self.progress.start()
            self._live = True
        assert self.task is not None
        return self.task

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._live:
            self.progress.stop()

    def hooks(self) -> SweepHooks:
        return SweepHooks(
            on_point_start=self._start,
            on_point_done=self._done,
            on_tokens=self._tokens_in,
            on_server=self._server,
            on_point_skipped=self._skipped,
        )

    def _server(self, text: str) -> None:
        self._show()
        self.progress.console.print(f"[dim]{escape(text)}[/]")

    def _start(self, point: PlannedPoint) -> None:
        self._tokens = 0
        self._point_started = time.monotonic()
        self.progress.update(self._show(), description=escape(point.key), rate="")

    def _tokens_in(self, n: int) -> None:
        self._tokens += n
        elapsed = max(time.monotonic() - self._point_started, 1e-6)
        self.progress.update(self._show(), rate=f"{self._tokens / elapsed:.1f} tok/s")

    def _done(self, done: PointDone) -> None:
        task = self._show()
        if done.status == "ok":
            al = f", AL {done.acceptance_length:.2f}" if done.acceptance_length else ""
            self.progress.console.print(
                f"✓ {escape(done.key)}: {done.output_tok_s or 0:.1f} output tok/s, "
                f"{done.interactivity or 0:.1f} tok/s/user{al}"
            )
            if done.error:  # an ok point may carry a warning (e.g. a few short outputs)
                self.progress.console.print(f"[yellow]  {escape(done.error)}[/]")
        else:
            # server log lines end up in errors: never read them as markup
            self.progress.console.print(f"[red]✗ {escape(done.key)}: {escape(done.error or '')}[/]")
        self.progress.advance(task)

    def _skipped(self, point: PlannedPoint) -> None:
        self.progress.advance(self._show())
