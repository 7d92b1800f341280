"""The sweep progress display: one line per finished point, the bar counts skipped points too."""

from __future__ import annotations

import io
from typing import Any

from rich.console import Console

from specscope.sweep.hooks import PointDone
from specscope.sweep.plan import make_plan
from specscope.sweep.progress import SweepProgress
from specscope.sweep.recipe import parse_recipe


def _plan() -> Any:
    return make_plan(
        parse_recipe(
            {
                "engine": {"kind": "llamacpp"},
                "load": {"concurrency": [1, 2, 4]},
                "workload": [{"name": "chat", "source": "builtin:chat"}],
                "spec": [{"name": "off"}],
            }
        )
    )


def test_progress_lines_and_counts() -> None:
    plan = _plan()
    buffer = io.StringIO()
    console = Console(file=buffer, width=200, force_terminal=False, color_system=None)
    first, second, third = plan.points
    with SweepProgress(console, len(plan.points)) as progress:
        hooks = progress.hooks()
        hooks.on_point_skipped(first)
        hooks.on_point_start(second)
        hooks.on_tokens(40)
        hooks.on_tokens(60)
        hooks.on_point_done(
            PointDone(
                key=second.key,
                status="ok",
                output_tok_s=123.45,
                interactivity=30.06,
                acceptance_length=2.5,
            )
        )
        hooks.on_point_start(third)
        hooks.on_server("starting llamacpp (off:none)")
        hooks.on_point_done(
            PointDone(
                key=third.key,
                status="failed",
                output_tok_s=None,
                interactivity=None,
                acceptance_length=None,
                error="server died mid-point: gone",
            )
        )
        assert progress.task is not None
        task = progress.progress.tasks[0]
        # 1 skipped + 2 measured = 3 of 3
        assert task.completed == 3
        assert task.total == 3
        # the live rate restarts with each point (no tokens yet in the third one)
        assert task.fields["rate"] == ""
    text = buffer.getvalue()
    assert "✓ off:none|chat|c2|r0: 123.5 output tok/s, 30.1 tok/s/user, AL 2.50" in text
    assert "✗ off:none|chat|c4|r0: server died mid-point: gone" in text
    assert "starting llamacpp (off:none)" in text


def test_tokens_rate_is_live() -> None:
    plan = _plan()
    console = Console(file=io.StringIO(), width=120, force_terminal=False, color_system=None)
    with SweepProgress(console, len(plan.points)) as progress:
        hooks = progress.hooks()
        hooks.on_point_start(plan.points[0])
        hooks.on_tokens(50)
        rate = progress.progress.tasks[0].fields["rate"]
        assert rate.endswith(" tok/s")
        assert float(rate.split()[0]) > 0


def test_nothing_is_drawn_before_the_first_hook() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=120, force_terminal=False, color_system=None)
    with SweepProgress(console, 3):
        pass  # e.g. --resume found nothing to resume: the error line stands alone
    assert buffer.getvalue() == ""


def test_errors_are_printed_verbatim_not_as_markup() -> None:
    plan = _plan()
    buffer = io.StringIO()
    console = Console(file=buffer, width=300, force_terminal=False, color_system=None)
    error = "server died mid-point: last log line: '[/slot] [bold]release[/bold] id 0'"
    with SweepProgress(console, len(plan.points)) as progress:
        hooks = progress.hooks()
        hooks.on_point_start(plan.points[0])
        hooks.on_point_done(
            PointDone(
                key=plan.points[0].key,
                status="failed",
                output_tok_s=None,
                interactivity=None,
                acceptance_length=None,
                error=error,
            )
        )
        hooks.on_point_done(
            PointDone(
                key=plan.points[1].key,
                status="ok",
                output_tok_s=1.0,
                interactivity=2.0,
                acceptance_length=None,
                error="warning: 1 of 8 successful requests returned fewer output tokens",
            )
        )
    text = buffer.getvalue()
    assert f"✗ off:none|chat|c1|r0: {error}" in text
    assert "✓ off:none|chat|c2|r0: 1.0 output tok/s, 2.0 tok/s/user\n" in text
    assert "  warning: 1 of 8 successful requests returned fewer output tokens" in text
