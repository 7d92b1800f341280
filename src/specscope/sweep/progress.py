"""A rich progress display for sweeps: points done, the point running, tokens/s live."""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from specscope.sweep.plan import PlannedPoint
from specscope.sweep.runner import PointDone, SweepHooks


class SweepProgress:
    """Context manager that owns a rich Progress and hands out SweepHooks."""

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

    def __enter__(self) -> SweepProgress:
        self.progress.__enter__()
        self.task = self.progress.add_task("points", total=self.total, rate="")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.progress.__exit__(exc_type, exc, tb)

    def hooks(self) -> SweepHooks:
        return SweepHooks(
            on_point_start=self._start,
            on_point_done=self._done,
            on_tokens=self._tokens_in,
            on_server=lambda text: self.progress.console.print(f"[dim]{text}[/]"),
            on_point_skipped=self._skipped,
        )

    def _start(self, point: PlannedPoint) -> None:
        self._tokens = 0
        self._point_started = time.monotonic()
        assert self.task is not None
        self.progress.update(self.task, description=point.key, rate="")

    def _tokens_in(self, n: int) -> None:
        self._tokens += n
        elapsed = max(time.monotonic() - self._point_started, 1e-6)
        assert self.task is not None
        self.progress.update(self.task, rate=f"{self._tokens / elapsed:.1f} tok/s")

    def _done(self, done: PointDone) -> None:
        assert self.task is not None
        if done.status == "ok":
            al = f", AL {done.acceptance_length:.2f}" if done.acceptance_length else ""
            self.progress.console.print(
                f"✓ {done.key}: {done.output_tok_s or 0:.1f} output tok/s, "
                f"{done.interactivity or 0:.1f} tok/s/user{al}"
            )
        else:
            self.progress.console.print(f"[red]✗ {done.key}: {done.error}[/]")
        self.progress.advance(self.task)

    def _skipped(self, point: PlannedPoint) -> None:
        assert self.task is not None
        self.progress.advance(self.task)
