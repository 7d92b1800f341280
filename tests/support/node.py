"""Node.js in tests: skip without it, except under CI=true (CI installs it)."""

from __future__ import annotations

import re
import shutil
import subprocess

from tests.support.missing import missing

NODE_MAJOR = 18
"""The oldest Node.js whose built-in test runner (``node --test``) the JavaScript tests use."""


def require_node() -> str:
    """The path of ``node``; skip without it (or with one older than :data:`NODE_MAJOR`), but
    fail under CI=true (``scripts/install-browser.sh`` installs it)."""
    node = shutil.which("node")
    problem = "node is not on PATH (scripts/install-browser.sh installs Debian's nodejs)"
    if node is not None:
        version = subprocess.run(
            [node, "--version"], capture_output=True, text=True, check=False
        ).stdout.strip()
        found = re.match(r"v(\d+)\.", version)
        if found and int(found.group(1)) >= NODE_MAJOR:
            return node
        problem = f"{node} is {version or 'of unknown version'}; the tests need {NODE_MAJOR}+"
    missing(f"Node.js is missing: {problem}")
