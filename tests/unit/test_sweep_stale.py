"""Stale servers of a killed sweep are stopped as a whole process group: a leader that exits on
SIGTERM does not leave behind a worker that ignores it (issue 12 item 5)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

from specscope.sweep.stale import PID_FILE, ServerPid, process_start, stop_stale_servers

LEADER = """
import os, signal, subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('ready', flush=True); time.sleep(600)"], stdout=subprocess.PIPE, text=True)
child.stdout.readline()  # the worker ignores SIGTERM from here on
signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
print(child.pid, flush=True)
time.sleep(600)
"""


def test_a_worker_that_ignores_sigterm_is_killed_with_its_group(tmp_path: Path) -> None:
    gone = subprocess.Popen(["true"])
    gone.wait()
    leader = subprocess.Popen(
        [sys.executable, "-c", LEADER], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert leader.stdout is not None
    worker = int(leader.stdout.readline())
    reaper = threading.Thread(target=leader.wait, daemon=True)  # the leader is our child
    reaper.start()
    run = tmp_path / "runs" / "run-1"
    run.mkdir(parents=True)
    record = ServerPid(
        server_pid=leader.pid,
        server_start=process_start(leader.pid),
        owner_pid=gone.pid,  # the sweep that launched it is gone
        owner_start=1,
    )
    (run / PID_FILE).write_text(record.model_dump_json())
    try:
        assert stop_stale_servers(tmp_path / "runs", grace_s=1.0) == [leader.pid]
        deadline = time.monotonic() + 20
        while process_start(worker) is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert process_start(worker) is None, "the SIGTERM-ignoring worker survived"
        assert not (run / PID_FILE).exists()
    finally:
        subprocess.run(["kill", "-9", str(worker)], check=False, capture_output=True)
        leader.kill()
