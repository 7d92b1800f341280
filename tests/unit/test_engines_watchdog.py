"""Launched servers never outlive a killed specscope: the watchdog escalates to SIGKILL.

The fault (issue 12): after ``kill -9`` of specscope, a llama-server got its one SIGTERM
(PR_SET_PDEATHSIG), hung, and stayed alive with parent 1. The fake server here ignores SIGTERM
(it logs it and keeps serving), as does its child, and specscope runs in a subprocess that the
test SIGKILLs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from specscope.engines import ManagedServer, ServerSettings, SpecSettings
from specscope.engines import watchdog as watchdog_module
from specscope.engines.base import AcceptanceSource

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="Linux only")

ROOT = Path(__file__).resolve().parents[2]

STUBBORN_ENGINE = r"""
import http.server, os, signal, subprocess, sys
port, run_dir = int(sys.argv[1]), sys.argv[2]

def on_term(signum, frame):
    print("fake engine got SIGTERM and ignores it", flush=True)

signal.signal(signal.SIGTERM, on_term)
child = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)",
    run_dir])
with open(os.path.join(run_dir, "child.pid"), "w") as f:
    f.write(str(child.pid))

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *args):
        pass

http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""


class StubbornRecipe:
    name = "stubborn"
    health_path = "/health"
    metrics_path = "/metrics"
    acceptance_source: AcceptanceSource = "none"

    def __init__(self, script: Path) -> None:
        self.script = script

    def spec_args(self, spec: SpecSettings, server: ServerSettings) -> list[str]:
        return []

    def command(self, spec: SpecSettings, server: ServerSettings) -> list[str]:
        return [
            sys.executable,
            str(self.script),
            str(server.require_port()),
            server.config_dir or ".",
        ]

    def env(self, spec: SpecSettings, server: ServerSettings) -> dict[str, str]:
        return {}

    def files(self, spec: SpecSettings, server: ServerSettings) -> dict[str, str]:
        return {}


# specscope in a subprocess: launch the stubborn server the way a sweep does, report, then wait
# to be killed. ``no-watchdog`` makes the watchdog fail to start (the fault as it was).
LAUNCHER = r"""
import sys, time
from pathlib import Path
from specscope.engines import ManagedServer, ServerSettings, SpecSettings
from specscope.engines import server as server_module
from tests.unit.test_engines_watchdog import StubbornRecipe

script, run_dir, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[4]
grace_s = float(sys.argv[3])
if mode == "no-watchdog":
    def refuse(*args, **kwargs):
        raise OSError("watchdog disabled by the test")
    server_module._start_watchdog = refuse
if mode == "die-before-exec":  # killed after the fork, before specscope learns the server's pid
    import os, signal
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the server ignores SIGTERM from the start
    real_setup = server_module._child_setup
    def setup_then_kill_specscope(parent_pid, report):
        setup = real_setup(parent_pid, report)
        def run():
            setup()
            os.kill(parent_pid, signal.SIGKILL)
        return run
    server_module._child_setup = setup_then_kill_specscope
server = ManagedServer(StubbornRecipe(script), SpecSettings(), ServerSettings(model="fake"),
                       run_dir, health_timeout_s=60, poll_interval_s=0.05, stop_grace_s=grace_s)
server.start()
print(server.pid, flush=True)
time.sleep(600)
"""

ENV = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}


def _launcher(script: Path, run_dir: Path, grace_s: float, mode: str) -> list[str]:
    return [sys.executable, "-c", LAUNCHER, str(script), str(run_dir), str(grace_s), mode]


def _alive(pid: int) -> bool:
    """True for a live, non-zombie process."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _wait_gone(pids: list[int], timeout_s: float) -> list[int]:
    """The pids still alive after waiting up to ``timeout_s`` for all of them to go."""
    deadline = time.monotonic() + timeout_s
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [p for p in pids if _alive(p)]


def _processes() -> Iterator[tuple[int, list[bytes]]]:
    """Live processes and their argv."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if _alive(int(entry.name)):
            yield int(entry.name), argv


def _watchdogs_of(owner_pid: int) -> list[int]:
    """Live watchdog processes guarding servers for ``owner_pid``."""
    owner = str(owner_pid).encode()
    return [
        pid
        for pid, argv in _processes()
        if any(a.endswith(b"watchdog.py") for a in argv) and owner in argv
    ]


def _mentioning(text: str) -> list[int]:
    """Live processes with ``text`` in an argument."""
    needle = text.encode()
    return [pid for pid, argv in _processes() if any(needle in a for a in argv)]


@pytest.fixture
def reaper() -> Iterator[list[int]]:
    """Pids a test saw; any still alive at the end are SIGKILLed (with their groups)."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if _alive(pid):
            for kill in (os.killpg, os.kill):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    kill(pid, signal.SIGKILL)


def _launch(
    tmp_path: Path, grace_s: float, mode: str, reaper: list[int]
) -> tuple[int, int, list[int], Path]:
    """Start specscope with a stubborn server, then SIGKILL specscope; (server pid, server
    child pid, watchdog pids, server log)."""
    script = tmp_path / "stubborn_engine.py"
    script.write_text(STUBBORN_ENGINE)
    run_dir = tmp_path / "run"
    launcher = subprocess.Popen(
        _launcher(script, run_dir, grace_s, mode),
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        text=True,
    )
    reaper.append(launcher.pid)
    assert launcher.stdout is not None
    line = launcher.stdout.readline()
    assert line.strip().isdigit(), f"launcher said {line!r} (exit {launcher.poll()})"
    server_pid = int(line)
    reaper.append(server_pid)
    child_pid = int((run_dir / "child.pid").read_text())
    reaper.append(child_pid)
    guards = _watchdogs_of(launcher.pid)
    reaper.extend(guards)
    launcher.send_signal(signal.SIGKILL)
    launcher.wait(timeout=30)
    (log,) = run_dir.glob("server-stubborn-*.log")
    return server_pid, child_pid, guards, log


def test_sigkilled_specscope_leaves_no_server_even_one_that_ignores_sigterm(
    tmp_path: Path, reaper: list[int]
) -> None:
    grace_s = 1.0
    server_pid, child_pid, guards, log = _launch(tmp_path, grace_s, "watchdog", reaper)
    assert len(guards) == 1
    left = _wait_gone([server_pid, child_pid], timeout_s=grace_s + 30)
    assert not left, f"still running after specscope was killed: {left}\n{log.read_text()}"
    text = log.read_text()
    assert "fake engine got SIGTERM and ignores it" in text  # it was asked nicely first
    assert "is gone; SIGTERM to server group" in text
    assert f"still running after {grace_s:g} s; sent SIGKILL" in text
    assert not _wait_gone(guards, timeout_s=10)  # the watchdog itself is gone too


def test_without_the_watchdog_the_stubborn_server_outlives_specscope(
    tmp_path: Path, reaper: list[int]
) -> None:
    """The control: the fake reproduces the fault when only PR_SET_PDEATHSIG guards it."""
    server_pid, child_pid, guards, log = _launch(tmp_path, 1.0, "no-watchdog", reaper)
    assert guards == []
    deadline = time.monotonic() + 10
    while "got SIGTERM" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "fake engine got SIGTERM and ignores it" in log.read_text()
    time.sleep(2.0)  # well past the 1 s grace a watchdog would have used
    assert _alive(server_pid) and _alive(child_pid)


def test_specscope_killed_before_it_knows_the_server_pid_leaves_no_server(
    tmp_path: Path,
) -> None:
    """The window before the sweep's pid file exists: the server's child reports its pid to
    the watchdog before exec, so specscope killed before Popen even returns is covered too."""
    script = tmp_path / "stubborn_engine.py"
    script.write_text(STUBBORN_ENGINE)
    run_dir = tmp_path / "run"
    grace_s = 5.0  # long enough for the fake to start its child before the SIGKILL
    command = _launcher(script, run_dir, grace_s, "die-before-exec")
    launcher = subprocess.run(command, cwd=ROOT, env=ENV, timeout=120)
    assert launcher.returncode == -signal.SIGKILL
    try:
        deadline = time.monotonic() + 30
        while not (run_dir / "child.pid").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert (run_dir / "child.pid").exists(), "the fake server never started"
        deadline = time.monotonic() + grace_s + 30
        while _mentioning(str(run_dir)) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = _mentioning(str(run_dir))
        assert not left, f"still running: {left}"
        assert "sent SIGKILL" in next(run_dir.glob("server-stubborn-*.log")).read_text()
    finally:
        for pid in _mentioning(str(run_dir)):
            os.kill(pid, signal.SIGKILL)


def test_stop_escalates_to_sigkill_and_the_watchdog_exits(tmp_path: Path) -> None:
    script = tmp_path / "stubborn_engine.py"
    script.write_text(STUBBORN_ENGINE)
    server = ManagedServer(
        StubbornRecipe(script),
        SpecSettings(),
        ServerSettings(model="fake"),
        tmp_path / "run",
        health_timeout_s=60,
        poll_interval_s=0.05,
        stop_grace_s=0.5,
    )
    server.start()
    leader = server.pid
    assert leader is not None
    child = int((tmp_path / "run" / "child.pid").read_text())
    guards = _watchdogs_of(os.getpid())
    assert len(guards) == 1
    try:
        t0 = time.monotonic()
        server.stop()
        assert time.monotonic() - t0 >= 0.4  # SIGTERM first, SIGKILL only after the grace
        assert not _wait_gone([leader, child], timeout_s=10)
        assert not _wait_gone(guards, timeout_s=10)
        text = server.log_path.read_text()
        assert "fake engine got SIGTERM and ignores it" in text
        assert "specscope watchdog" not in text  # specscope lived: the watchdog had nothing to do
    finally:
        for pid in (leader, child, *guards):
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_a_failed_launch_leaves_no_watchdog(tmp_path: Path) -> None:
    not_executable = tmp_path / "engine"
    not_executable.write_text("not a program\n")

    class Broken(StubbornRecipe):
        def command(self, spec: SpecSettings, server: ServerSettings) -> list[str]:
            return [str(not_executable)]

    server = ManagedServer(
        Broken(not_executable), SpecSettings(), ServerSettings(model="fake"), tmp_path / "run"
    )
    with pytest.raises(PermissionError):
        server.start()
    assert not _wait_gone(_watchdogs_of(os.getpid()), timeout_s=10)


def test_watchdog_exits_at_end_of_file_without_a_pid() -> None:
    watchdog = subprocess.Popen(
        [sys.executable, "-I", "-S", watchdog_module.__file__, str(os.getpid()), "1"],
        stdin=subprocess.PIPE,
    )
    assert watchdog.stdin is not None
    watchdog.stdin.close()
    assert watchdog.wait(timeout=30) == 0


def test_watch_returns_once_the_group_is_gone_while_the_owner_lives() -> None:
    sleeper = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True
    )
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, f"{sleeper.pid}\n".encode())
        sleeper.kill()
        sleeper.wait(timeout=30)  # reaped: the group is empty
        assert watchdog_module.watch(os.getppid(), grace_s=1, poll_s=0.05, fd=read_end) == 0
    finally:
        os.close(read_end)
        os.close(write_end)
        if sleeper.poll() is None:
            sleeper.kill()


def test_read_pid_gives_up_when_the_owner_is_gone_and_no_pid_comes() -> None:
    read_end, write_end = os.pipe()  # the write end stays open: no end of file
    try:
        not_our_parent = os.getpid()
        assert watchdog_module.read_pid(read_end, not_our_parent, poll_s=0.05) is None
    finally:
        os.close(read_end)
        os.close(write_end)
