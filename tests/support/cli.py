"""The ``specscope`` command line in a fresh interpreter, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
"""The checkout: its ``src`` is what the child interpreter imports."""


def cli_env(**extra: str) -> dict[str, str]:
    """This process's environment for a child ``python -m specscope.cli``: the checkout's
    ``src`` first on PYTHONPATH, no SPECSCOPE_DB (each test names its store), 250 columns wide
    (tables do not wrap), plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k != "SPECSCOPE_DB"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    env["COLUMNS"] = "250"
    env.update(extra)
    return env


def specscope(
    *args: str | Path, cwd: Path = ROOT, timeout_s: float = 300
) -> subprocess.CompletedProcess[str]:
    """``python -m specscope.cli ARGS`` in a fresh interpreter (see :func:`cli_env`); its exit
    code, stdout and stderr, whatever they are."""
    return subprocess.run(
        [sys.executable, "-m", "specscope.cli", *map(str, args)],
        cwd=cwd,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


def ok_json(done: subprocess.CompletedProcess[str]) -> Any:
    """The JSON a successful ``--json`` run printed (fails the test on a non-zero exit)."""
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
