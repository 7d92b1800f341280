"""``specscope sweep`` on the command line: --dry-run prints the plan and its estimate and runs
nothing; a recipe with a typo is one line on stderr naming the key, exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import specscope

RECIPE = """
name = "cli"
repeats = 2

[engine]
kind = "llamacpp"
model = "{model}"

[load]
concurrency = [1, 2]
requests_per_point = 8
warmup = 1

[[workload]]
name = "a"
source = "builtin:chat"
osl = 128

[[workload]]
name = "b"
source = "builtin:code"
osl = 64

[[spec]]
name = "ngram"
method = "ngram-mod"
gamma = [4, 8]

[[spec]]
name = "off"
"""


def _recipe(tmp_path: Path, text: str = RECIPE) -> Path:
    path = tmp_path / "recipe.toml"
    path.write_text(text.format(model=tmp_path / "model.gguf"))
    return path


def test_dry_run_prints_the_plan_and_the_estimate(tmp_path: Path) -> None:
    done = specscope("sweep", str(_recipe(tmp_path)), "--dry-run", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    # 2 repeats × 3 configs × 2 workloads × 2 concurrencies; off first in each repeat
    assert "recipe 'cli': 24 points, 6 server launches, 2 repeat(s); engine llamacpp" in text
    lines = [line.strip() for line in text.splitlines()]
    keys = [line for line in lines if line.count("|") == 3 and " " not in line]
    assert len(keys) == 24
    assert keys[0] == "off:none|a|c1|r0"
    assert keys[4] == "ngram:ngram-mod-g4|a|c1|r0"
    # 567.6 s (see test_sweep_plan's worked example) ≈ 9 min
    assert "estimated duration: ~9 min" in text
    # nothing ran: no store, no run folder
    assert not (tmp_path / "specscope.duckdb").exists()
    assert not (tmp_path / "specscope-runs").exists()


def test_dry_run_json(tmp_path: Path) -> None:
    done = specscope("sweep", str(_recipe(tmp_path)), "--dry-run", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    assert len(plan["points"]) == 24
    assert plan["launches"] == 6
    assert abs(plan["estimate_s"] - 567.6) < 1e-9


def test_a_typo_is_one_line_naming_the_key(tmp_path: Path) -> None:
    path = _recipe(tmp_path, RECIPE.replace("concurrency = [1, 2]", "concurency = [1, 2]"))
    done = specscope("sweep", str(path), "--db", str(tmp_path / "x.duckdb"), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "unknown key 'load.concurency'" in lines[0]
    assert str(path) in lines[0]
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "x.duckdb").exists()


def test_resume_of_a_recipe_never_run_is_one_line(tmp_path: Path) -> None:
    done = specscope(
        "sweep",
        str(_recipe(tmp_path)),
        "--resume",
        "--db",
        str(tmp_path / "x.duckdb"),
        "--runs-dir",
        str(tmp_path / "runs"),
        cwd=tmp_path,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "--resume: no earlier run of recipe 'cli'" in lines[0]
