"""Launch an engine server from a recipe, wait for health, watch it, and stop its process tree.

The server runs in its own session (process group), so stopping it signals every process it
spawned (vLLM and SGLang fork workers): SIGTERM to the group, then SIGKILL after a grace
period. Its output goes to a log file in the run folder; errors quote the log's last line.

If specscope dies without stopping it (SIGKILL, OOM), the kernel sends the server SIGTERM
(PR_SET_PDEATHSIG) and a small watchdog process (``watchdog.py``, in its own session) escalates
to SIGKILL on the group once the same grace period has passed.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import ctypes.util
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, NoReturn

import httpx

from specscope.engines import watchdog
from specscope.engines.base import AcceptanceSource, EngineRecipe, ServerSettings, SpecSettings
from specscope.engines.errors import EngineDiedError, EngineStartError
from specscope.errors import UserError
from specscope.procfs import PROC, stat_fields

_TAIL_BYTES = 64 * 1024


def pick_free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_in_use(host: str, port: int) -> bool:
    """True when something accepts connections on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def read_log_tail(path: Path, n_lines: int = 20) -> str:
    """The last ``n_lines`` lines of a log file ("" when it does not exist)."""
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - _TAIL_BYTES))
            data = f.read()
    except FileNotFoundError:
        return ""
    lines = data.decode("utf-8", errors="replace").splitlines()
    return "\n".join(lines[-n_lines:])


def _last_line(tail: str) -> str:
    for line in reversed(tail.splitlines()):
        if line.strip():
            return line.strip()[:300]
    return "(empty log)"


def _group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of a process group, from /proc; [] when none."""
    if not PROC.is_dir():  # not Linux: ask the kernel whether the group still exists
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return []
        return [pgid]
    members = []
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat_fields(stat)
        if len(fields) >= 3 and int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            members.append(int(entry.name))
    return members


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _resolve_executable(exe: str) -> str:
    if os.sep in exe:
        if not Path(exe).exists():
            raise UserError(f"engine executable {exe} does not exist; check the binary path")
        return exe
    found = shutil.which(exe)
    if found is None:
        raise UserError(
            f"engine executable {exe!r} is not on PATH; install the engine or pass its path"
        )
    return found


_PR_SET_PDEATHSIG = 1
_WATCHDOG_EXIT_S = 5.0  # how long stop() waits for the watchdog to exit


def _load_prctl() -> Callable[[int, int], int] | None:
    """libc's prctl, looked up in the parent (never dlopen in a forked child); None where absent."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        prctl: Callable[[int, int], int] = libc.prctl
    except (OSError, AttributeError):
        return None
    return prctl


def _child_setup(parent_pid: int, report: socket.socket | None) -> Callable[[], None]:
    """What the server's child process does between fork and exec.

    It tells the watchdog its pid first (so a specscope killed from here on still leaves a
    watched server), then asks Linux to SIGTERM it when specscope dies, even by SIGKILL: the
    server runs in its own session (so stop() can signal its whole group), which also shields it
    from the terminal's Ctrl-C. If specscope died before that request, the child exits instead
    of starting an unwatched server. Best effort where prctl is unavailable.
    """
    prctl = _load_prctl()

    def setup() -> None:
        if report is not None:
            with contextlib.suppress(OSError):  # MSG_NOSIGNAL: no SIGPIPE if the watchdog died
                report.send(f"{os.getpid()}\n".encode(), socket.MSG_NOSIGNAL)
        if prctl is not None:
            prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
            if os.getppid() != parent_pid:
                os._exit(1)

    return setup


def _start_watchdog(
    log: IO[bytes], grace_s: float
) -> tuple[subprocess.Popen[bytes], socket.socket]:
    """Start the watchdog for a server about to be launched; it and the socket end on which
    the server's child reports its pid. Raises OSError when it cannot start."""
    ours, theirs = socket.socketpair()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", watchdog.__file__, str(os.getpid()), f"{grace_s:g}"],
            stdin=theirs.fileno(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except BaseException:
        ours.close()
        raise
    finally:
        theirs.close()
    return proc, ours


def _end_watchdog(proc: subprocess.Popen[bytes] | None) -> None:
    """End a watchdog once specscope itself has stopped (or never started) its server: while
    specscope lives the watchdog has nothing to do, so SIGTERM ends it at once."""
    if proc is None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    try:
        proc.wait(timeout=_WATCHDOG_EXIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5.0)


class ManagedServer:
    """One engine server that specscope launches and stops. Use it as a context manager."""

    def __init__(
        self,
        recipe: EngineRecipe,
        spec: SpecSettings,
        server: ServerSettings,
        run_dir: str | Path,
        *,
        health_timeout_s: float = 600.0,
        poll_interval_s: float = 0.5,
        stop_grace_s: float = 15.0,
        log_name: str | None = None,
    ) -> None:
        self.recipe = recipe
        self.spec = spec
        self.run_dir = Path(run_dir)
        self.health_timeout_s = health_timeout_s
        self.poll_interval_s = poll_interval_s
        self.stop_grace_s = stop_grace_s
        self.log_path = self.run_dir / (log_name or f"server-{recipe.name}-{spec.label}.log")
        self._auto_port = server.port is None
        port = server.port if server.port is not None else pick_free_port(server.host)
        self.settings = server.model_copy(update={"config_dir": str(self.run_dir), "port": port})
        self.command: list[str] = []
        self._proc: subprocess.Popen[bytes] | None = None
        self._watchdog: subprocess.Popen[bytes] | None = None

    # -- what the sweep reads ------------------------------------------------------------
    @property
    def engine(self) -> str:
        return self.recipe.name

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    @property
    def metrics_path(self) -> str:
        return self.recipe.metrics_path

    @property
    def acceptance_source(self) -> AcceptanceSource:
        return self.recipe.acceptance_source

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def log_tail(self, n_lines: int = 20) -> str:
        return read_log_tail(self.log_path, n_lines)

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> None:
        """Launch the server and block until its health check answers 200."""
        if self._proc is not None:
            raise RuntimeError("this ManagedServer was already started")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        host, port = self.settings.host, self.settings.require_port()
        if port_in_use(host, port):
            if self._auto_port:  # taken since we picked it: pick again
                self.settings = self.settings.model_copy(update={"port": pick_free_port(host)})
            else:
                raise UserError(
                    f"port {port} on {host} is already in use; stop whatever listens there "
                    "or leave the port unset to pick a free one"
                )
        for name, text in self.recipe.files(self.spec, self.settings).items():
            (self.run_dir / name).write_text(text, encoding="utf-8")
        self.command = self.recipe.command(self.spec, self.settings)
        executable = _resolve_executable(self.command[0])
        env = {**os.environ, **self.settings.env, **self.recipe.env(self.spec, self.settings)}
        with self.log_path.open("ab") as log:
            stamp = datetime.now(UTC).isoformat(timespec="seconds")
            log.write(f"=== specscope {stamp}: {shlex.join(self.command)}\n".encode())
            log.flush()
            report: socket.socket | None = None
            if sys.executable:
                try:
                    self._watchdog, report = _start_watchdog(log, self.stop_grace_s)
                except OSError:  # best effort: PR_SET_PDEATHSIG still sends SIGTERM
                    self._watchdog = None
            try:
                self._proc = subprocess.Popen(
                    [executable, *self.command[1:]],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    start_new_session=True,
                    preexec_fn=_child_setup(os.getpid(), report),
                )
            except BaseException:
                if report is not None:
                    report.close()
                _end_watchdog(self._watchdog)
                self._watchdog = None
                raise
            if report is not None:
                report.close()
        atexit.register(self.stop)
        try:
            self.wait_healthy()
        except BaseException:
            self.stop()
            raise

    def wait_healthy(self) -> None:
        """Poll the health path until 200; fail early if the process exits, or on timeout."""
        url = self.base_url + self.recipe.health_path
        deadline = time.monotonic() + self.health_timeout_s
        with httpx.Client(timeout=max(1.0, min(5.0, self.health_timeout_s))) as client:
            while True:
                self._raise_if_exited(during_start=True)
                try:
                    if client.get(url).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                if time.monotonic() >= deadline:
                    tail = self.log_tail()
                    raise EngineStartError(
                        f"{self.recipe.name} server did not become healthy at {url} within "
                        f"{self.health_timeout_s:g} s; last log line: {_last_line(tail)!r}; "
                        f"full log: {self.log_path}",
                        log_path=self.log_path,
                        log_tail=tail,
                    )
                time.sleep(self.poll_interval_s)

    def _raise_if_exited(self, *, during_start: bool) -> None:
        if self._proc is None:
            raise EngineDiedError(f"{self.recipe.name} server was never started")
        code = self._proc.poll()
        if code is None:
            return
        tail = self.log_tail()
        when = "during start-up" if during_start else "while in use"
        error = EngineStartError if during_start else EngineDiedError
        raise error(
            f"{self.recipe.name} server (pid {self._proc.pid}) exited with code {code} {when}; "
            f"last log line: {_last_line(tail)!r}; full log: {self.log_path}",
            log_path=self.log_path,
            log_tail=tail,
        )

    def is_alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def check(self) -> None:
        """Raise EngineDiedError (with the log tail) if the server process has exited."""
        self._raise_if_exited(during_start=False)

    async def watch(self, interval_s: float = 1.0) -> NoReturn:
        """Never returns; raises EngineDiedError once the server is gone. Race it against
        the benchmark task so a crash ends the point at once."""
        while True:
            self.check()
            await asyncio.sleep(interval_s)

    def stop(self) -> None:
        """Stop the whole process group: SIGTERM, then SIGKILL after the grace period."""
        proc = self._proc
        if proc is None:
            return
        atexit.unregister(self.stop)
        pgid = proc.pid  # start_new_session: the leader's pid is the group id
        deadline = time.monotonic() + self.stop_grace_s
        _signal_group(pgid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=self.stop_grace_s)
        while _group_members(pgid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if proc.poll() is None or _group_members(pgid):
            _signal_group(pgid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5.0)
        _end_watchdog(self._watchdog)
        self._watchdog = None

    def __enter__(self) -> ManagedServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
