"""Servers left behind by a sweep that was killed (SIGKILL, OOM, a closed laptop).

A launched server runs in its own session, so it outlives a sweep killed without a chance to
clean up. While a server runs, the sweep keeps a small pid file in the run folder naming the
server and the sweep process (each with its start time, so a reused pid is never mistaken for
it). The next sweep over the same runs folder stops every server whose sweep is gone.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from specscope.procfs import PROC, stat_fields

PID_FILE = "server-pid.json"


class ServerPid(BaseModel):
    model_config = ConfigDict(frozen=True)

    server_pid: int
    server_start: int | None
    owner_pid: int
    owner_start: int | None


def process_start(pid: int) -> int | None:
    """Start time of a live process (clock ticks after boot, Linux); None if gone or unknown."""
    try:
        stat = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = stat_fields(stat)
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def _same_process(pid: int, start: int | None) -> bool:
    """True when ``pid`` is alive and is the process that started at ``start``."""
    return start is not None and process_start(pid) == start


def write_pid_file(run_dir: Path, server_pid: int) -> None:
    record = ServerPid(
        server_pid=server_pid,
        server_start=process_start(server_pid),
        owner_pid=os.getpid(),
        owner_start=process_start(os.getpid()),
    )
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / PID_FILE).write_text(record.model_dump_json())


def remove_pid_file(run_dir: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        (run_dir / PID_FILE).unlink()


def _stop_group(pid: int, grace_s: float) -> None:
    """SIGTERM the server's process group (it leads its own session), SIGKILL after grace.

    The whole group is waited for, not only its leader: a leader that exits on SIGTERM can
    leave workers behind that ignore it, and those get the SIGKILL too."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + grace_s
        while _group_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not _group_alive(pid):
            return


def _group_alive(pgid: int) -> bool:
    """Whether any process is left in process group ``pgid``."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_stale_servers(runs_dir: Path, grace_s: float = 10.0) -> list[int]:
    """Stop servers of sweeps under ``runs_dir`` that are no longer running; their pids.

    A pid file whose sweep still runs is left alone (another sweep may share the folder).
    """
    stopped: list[int] = []
    if not runs_dir.is_dir():
        return stopped
    for path in sorted(runs_dir.glob(f"*/{PID_FILE}")):
        try:
            record = ServerPid.model_validate_json(path.read_text())
        except (OSError, ValidationError):
            continue
        if _same_process(record.owner_pid, record.owner_start):
            continue
        if _same_process(record.server_pid, record.server_start):
            _stop_group(record.server_pid, grace_s)
            stopped.append(record.server_pid)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return stopped


def pid_file_record(run_dir: Path) -> ServerPid | None:
    """The pid file of a run folder, if any (for tests and diagnostics)."""
    try:
        return ServerPid.model_validate_json((run_dir / PID_FILE).read_text())
    except (OSError, ValidationError, json.JSONDecodeError):
        return None
