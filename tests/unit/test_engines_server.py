"""ManagedServer and Endpoint against a tiny Python http.server standing in for an engine."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from pathlib import Path

import pytest

from specscope.engines import (
    Endpoint,
    EngineDiedError,
    EngineStartError,
    ManagedServer,
    ServerHandle,
    ServerSettings,
    SpecSettings,
    pick_free_port,
)
from specscope.engines.base import AcceptanceSource
from specscope.errors import UserError

FAKE_ENGINE = r"""
import http.server, os, signal, subprocess, sys, time
mode, port, run_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
print("fake engine starting", flush=True)
if mode == "die":
    print("error: unknown argument --bogus", flush=True)
    sys.exit(3)
if mode == "ignore-term":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
with open(os.path.join(run_dir, "child.pid"), "w") as f:
    f.write(str(child.pid))
ready_at = time.monotonic() + float(os.environ.get("FAKE_READY_AFTER_S", "0"))

class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        ok = mode != "never" and time.monotonic() >= ready_at
        self.send_response(200 if ok else 503)
        self.end_headers()
        self.wfile.write(b"ok" if ok else b"loading")
    def log_message(self, *args):
        pass

print("loading model weights...", flush=True)
http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""


class FakeRecipe:
    name = "fake"
    health_path = "/health"
    metrics_path = "/metrics"
    acceptance_source: AcceptanceSource = "none"

    def __init__(self, script: Path, mode: str) -> None:
        self.script = script
        self.mode = mode

    def spec_args(self, spec: SpecSettings, server: ServerSettings) -> list[str]:
        return []

    def command(self, spec: SpecSettings, server: ServerSettings) -> list[str]:
        port = str(server.require_port())
        return [sys.executable, str(self.script), self.mode, port, server.config_dir or "."]

    def env(self, spec: SpecSettings, server: ServerSettings) -> dict[str, str]:
        return {"FAKE_READY_AFTER_S": "0.3"}

    def files(self, spec: SpecSettings, server: ServerSettings) -> dict[str, str]:
        return {"fake.cfg": f"port={server.port}\n"}


def _server(tmp_path: Path, mode: str, **kwargs: float) -> ManagedServer:
    script = tmp_path / "fake_engine.py"
    script.write_text(FAKE_ENGINE)
    options = {"health_timeout_s": 20.0, "poll_interval_s": 0.05, "stop_grace_s": 5.0, **kwargs}
    return ManagedServer(
        FakeRecipe(script, mode),
        SpecSettings(),
        ServerSettings(model="fake-model"),
        tmp_path / "run",
        **options,
    )


def _alive(pid: int) -> bool:
    """True for a live, non-zombie process."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state not in ("Z", "X")


def test_start_waits_for_health_then_stop_kills_the_whole_tree(tmp_path: Path) -> None:
    server = _server(tmp_path, "ok")
    assert isinstance(server, ServerHandle)
    t0 = time.monotonic()
    with server:
        assert time.monotonic() - t0 >= 0.3  # the fake answers 503 for its first 0.3 s
        assert server.is_alive()
        server.check()
        assert server.base_url == f"http://127.0.0.1:{server.settings.port}"
        assert (tmp_path / "run" / "fake.cfg").read_text() == f"port={server.settings.port}\n"
        child = int((tmp_path / "run" / "child.pid").read_text())
        leader = server.pid
        assert leader is not None and _alive(child)
    assert not server.is_alive()
    assert not _alive(leader) and not _alive(child)
    log = server.log_path.read_text()
    assert log.startswith("=== specscope ")
    assert "fake_engine.py ok" in log and "fake engine starting" in log
    assert server.log_path.name == "server-fake-none.log"


def test_health_timeout_is_a_clear_error_with_the_log_tail(tmp_path: Path) -> None:
    server = _server(tmp_path, "never", health_timeout_s=1.0)
    with pytest.raises(EngineStartError) as info:
        server.start()
    message = str(info.value)
    assert "fake server did not become healthy at http://127.0.0.1:" in message
    assert "within 1 s; last log line: 'loading model weights...'; full log:" in message
    assert "fake engine starting" in info.value.log_tail
    assert info.value.log_path == server.log_path
    assert not server.is_alive()  # stopped on the way out
    child = int((tmp_path / "run" / "child.pid").read_text())
    assert not _alive(child)


def test_process_that_dies_at_start_fails_fast(tmp_path: Path) -> None:
    server = _server(tmp_path, "die", health_timeout_s=60.0)
    t0 = time.monotonic()
    with pytest.raises(
        EngineStartError,
        match="exited with code 3 during start-up; last log "
        "line: 'error: unknown argument --bogus'",
    ):
        server.start()
    assert time.monotonic() - t0 < 30  # did not wait for the 60 s health timeout


def test_death_after_start_is_seen_by_check_and_watch(tmp_path: Path) -> None:
    with _server(tmp_path, "ok") as server:
        assert server.pid is not None
        os.kill(server.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while server.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        with pytest.raises(EngineDiedError, match="exited with code -9 while in use"):
            server.check()
        with pytest.raises(EngineDiedError):
            asyncio.run(asyncio.wait_for(server.watch(0.01), timeout=5))


def test_sigterm_ignored_escalates_to_sigkill(tmp_path: Path) -> None:
    server = _server(tmp_path, "ignore-term", stop_grace_s=0.5)
    server.start()
    leader = server.pid
    t0 = time.monotonic()
    server.stop()
    assert 0.4 <= time.monotonic() - t0 < 10
    assert leader is not None and not _alive(leader)


def test_busy_port_and_missing_executable_are_user_errors(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        busy = ManagedServer(
            FakeRecipe(tmp_path / "x.py", "ok"),
            SpecSettings(),
            ServerSettings(model="m", port=port),
            tmp_path,
        )
        with pytest.raises(UserError, match=f"port {port} on 127.0.0.1 is already in use"):
            busy.start()

    class Missing(FakeRecipe):
        def command(self, spec: SpecSettings, server: ServerSettings) -> list[str]:
            return ["specscope-no-such-engine", "--port", str(server.port)]

    missing = ManagedServer(
        Missing(tmp_path, "ok"), SpecSettings(), ServerSettings(model="m"), tmp_path
    )
    with pytest.raises(UserError, match="'specscope-no-such-engine' is not on PATH"):
        missing.start()


def test_pick_free_port_can_be_bound() -> None:
    port = pick_free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_endpoint_health_liveness_and_defaults(tmp_path: Path) -> None:
    with _server(tmp_path, "ok") as server:
        endpoint = Endpoint(server.base_url + "/", "llama.cpp", health_timeout_s=5)
        assert isinstance(endpoint, ServerHandle)
        assert (endpoint.engine, endpoint.metrics_path, endpoint.acceptance_source) == (
            "llamacpp", "/metrics", "prometheus",
        )  # fmt: skip
        with endpoint:
            assert endpoint.is_alive()
            endpoint.check()
    with pytest.raises(EngineDiedError, match="stopped answering /health"):
        endpoint.check()


def test_endpoint_defaults_per_engine_and_timeout() -> None:
    assert Endpoint("http://x", "sglang").metrics_path == "/server_info"
    assert Endpoint("http://x", "trtllm").acceptance_source == "trtllm_iter_stats"
    generic = Endpoint("http://x", acceptance_source="timings")
    assert (generic.engine, generic.acceptance_source) == ("generic", "timings")
    port = pick_free_port()
    closed = Endpoint(f"http://127.0.0.1:{port}", health_timeout_s=0.3, poll_interval_s=0.05)
    with pytest.raises(
        EngineStartError, match=f"no healthy server at http://127.0.0.1:{port}/health"
    ):
        closed.start()
