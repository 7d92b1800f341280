"""Bad input, damaged stores and unreachable servers end in one line and a non-zero exit
(issue 12 items 3, 4, 6 and 9): no traceback, no minute-long wait, no MemoryError, and no
exit 0 for a run that measured nothing.

Faults are injected with files written here (a recipe that is not UTF-8, a store truncated or
with one flipped bit) and a loopback port nothing listens on; no engine is needed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from specscope.cli import app
from specscope.engines import pick_free_port

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "src" / "specscope" / "data" / "examples" / "inferencex-example.json"


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(app, [str(a) for a in args])


def one_error_line(result: Result, code: int = 2) -> str:
    """The result failed with ``code``, handled (no exception escaped), with one error line."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.output
    return errors[0]


def endpoint_recipe(path: Path, url: str, extra: str = "", workload: str = "") -> Path:
    path.write_text(
        f'name = "ep"\n[engine]\nkind = "endpoint"\nurl = "{url}"\n'
        f"[load]\nrequests_per_point = 2\nwarmup = 0\nconcurrency = [1, 2]\n{extra}"
        + (workload or '[[workload]]\nname = "chat"\nsource = "builtin:chat"\nosl = 4\n')
        + '[[spec]]\nname = "off"\n'
    )
    return path


# ---- item 3: sizes are validated before anything is built -------------------------------------


def test_dry_run_of_a_huge_matrix_is_refused_up_front(tmp_path: Path) -> None:
    recipe = endpoint_recipe(tmp_path / "big.toml", "http://127.0.0.1:1", "")
    text = recipe.read_text().replace('name = "ep"\n', 'name = "ep"\nrepeats = 1000000\n')
    recipe.write_text(text.replace("concurrency = [1, 2]", f"concurrency = {list(range(1, 61))}"))
    started = time.monotonic()
    line = one_error_line(run("sweep", recipe, "--dry-run"))
    assert time.monotonic() - started < 10
    assert "60,000,000 points" in line and "limit of 100,000" in line and "big.toml" in line


@pytest.mark.parametrize(
    ("setting", "key"),
    [
        ("requests_per_point = 1000000000000", "load.requests_per_point"),
        ("concurrency = [1000000000]", "load.concurrency"),
    ],
)
def test_oversized_load_is_refused(tmp_path: Path, setting: str, key: str) -> None:
    recipe = endpoint_recipe(tmp_path / "r.toml", "http://127.0.0.1:1")
    name = setting.split(" =")[0]
    lines = [ln for ln in recipe.read_text().splitlines() if not ln.startswith(name + " =")]
    recipe.write_text("\n".join(lines).replace("[load]", f"[load]\n{setting}") + "\n")
    assert key in one_error_line(run("sweep", recipe, "--dry-run"))


def test_oversized_prompt_is_refused(tmp_path: Path) -> None:
    workload = '[[workload]]\nname = "s"\nsource = "synthetic"\nisl = 1000000000000\nosl = 4\n'
    recipe = endpoint_recipe(tmp_path / "r.toml", "http://127.0.0.1:1", workload=workload)
    assert "workload.0.isl" in one_error_line(run("sweep", recipe, "--dry-run"))


# ---- item 6: user input never gives a traceback -----------------------------------------------


def test_recipe_that_is_not_utf8(tmp_path: Path) -> None:
    recipe = tmp_path / "latin1.toml"
    recipe.write_bytes('name = "café"\n'.encode("latin-1"))
    line = one_error_line(run("sweep", recipe, "--dry-run"))
    assert "not UTF-8" in line and "latin1.toml" in line


def test_dry_run_reads_the_prompt_file_the_run_would_read(tmp_path: Path) -> None:
    workload = '[[workload]]\nname = "mine"\nsource = "file:missing.jsonl"\nosl = 4\n'
    recipe = endpoint_recipe(tmp_path / "r.toml", "http://127.0.0.1:1", workload=workload)
    line = one_error_line(run("sweep", recipe, "--dry-run"))
    assert "missing.jsonl" in line and "'mine'" in line


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--workload", "synthetic"], "needs isl"),
        (["--workload", "nope"], "unknown workload source 'nope'"),
    ],
)
def test_bench_workload_mistakes(tmp_path: Path, args: list[str], words: str) -> None:
    result = run("bench", "--url", "http://127.0.0.1:1", *args, "--db", tmp_path / "b.duckdb")
    assert words in one_error_line(result)


def _store(tmp_path: Path) -> Path:
    db = tmp_path / "good.duckdb"
    assert run("import", "inferencex", EXAMPLE, "--db", db).exit_code == 0
    return db


@pytest.mark.parametrize("share", [0.15, 0.20, 0.28])
def test_truncated_store(tmp_path: Path, share: float) -> None:
    data = _store(tmp_path).read_bytes()
    cut = tmp_path / "cut.duckdb"
    cut.write_bytes(data[: int(len(data) * share)])
    for args in (
        ["export", "--db", cut],
        ["compare", "--db", cut, "--hardware", "b300", "--precision", "fp4"],
        ["import", "specscope", cut, "--db", tmp_path / f"into-{share}.duckdb"],
    ):
        line = one_error_line(run(*args))
        assert "cut.duckdb" in line and ("damaged or truncated" in line or "not a" in line), line


def test_bit_flipped_store_is_not_reported_as_locked(tmp_path: Path) -> None:
    data = bytearray(_store(tmp_path).read_bytes())
    data[12288 + 1000] ^= 0x10  # inside the first data block: its checksum no longer matches
    flipped = tmp_path / "flipped.duckdb"
    flipped.write_bytes(bytes(data))
    for args in (
        ["export", "--db", flipped],
        ["import", "specscope", flipped, "--db", tmp_path / "into.duckdb"],
    ):
        line = one_error_line(run(*args))
        assert "in use by another process" not in line, line
        assert "flipped.duckdb" in line and "checksum" in line, line


def test_a_damaged_store_is_one_line_in_a_real_process(tmp_path: Path) -> None:
    data = _store(tmp_path).read_bytes()
    cut = tmp_path / "cut.duckdb"
    cut.write_bytes(data[: int(len(data) * 0.2)])
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    env.pop("SPECSCOPE_DB", None)
    done = subprocess.run(
        [sys.executable, "-m", "specscope.cli", "export", "--db", str(cut)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1, done.stderr


# ---- items 4 and 9: a refused endpoint fails at once, and the run exits non-zero ---------------


@pytest.mark.parametrize("url", ["not a url", "localhost:8080", "http://host:port"])
def test_a_url_that_is_not_one_is_refused(tmp_path: Path, url: str) -> None:
    recipe = endpoint_recipe(tmp_path / "r.toml", url)
    assert "engine.url" in one_error_line(run("sweep", recipe, "--dry-run"))
    assert "--url" in one_error_line(run("bench", "--url", url, "--db", tmp_path / "b.duckdb"))


def test_bench_against_nothing_fails_fast_and_exits_non_zero(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{pick_free_port()}"
    started = time.monotonic()
    result = run(
        "bench", "--url", url, "--concurrency", "1,2", "--num-requests", "2", "--warmup", "0",
        "--osl", "4", "--db", tmp_path / "b.duckdb", "--runs-dir", tmp_path / "runs",
    )  # fmt: skip
    assert time.monotonic() - started < 20  # was 60 s of health polling
    line = one_error_line(result, code=1)
    assert "every point failed (2 of 2)" in line
    assert "connection refused" in result.output
    assert "starting" not in result.output and f"using endpoint {url}" in result.output


def test_sweep_against_nothing_fails_fast_and_exits_non_zero(tmp_path: Path) -> None:
    recipe = endpoint_recipe(tmp_path / "r.toml", f"http://127.0.0.1:{pick_free_port()}")
    started = time.monotonic()
    result = run(
        "sweep", recipe, "--db", tmp_path / "s.duckdb", "--runs-dir", tmp_path / "runs", "--json"
    )
    assert time.monotonic() - started < 20  # was 300 s of health polling
    assert "every point failed" in one_error_line(result, code=1)


def test_a_partial_failure_says_how_many(capsys: pytest.CaptureFixture[str]) -> None:
    import typer

    from specscope.cli.common import exit_on_failed_points
    from specscope.sweep.runner import SweepOutcome

    outcome = SweepOutcome(
        run_id="r", run_dir="d", planned=4, measured=4, skipped=0, failed=1, point_ids=[]
    )
    with pytest.raises(typer.Exit) as exited:
        exit_on_failed_points(outcome, "logs in d")
    assert exited.value.exit_code == 1
    assert "1 of 4 point(s) measured in this run failed" in capsys.readouterr().err
