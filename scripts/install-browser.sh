#!/usr/bin/env bash
# Install what the browser tests of the HTML report need: Debian's chromium and Playwright's
# Python package (which drives it through executable_path; no browser download); and Node.js,
# which runs the page's math modules against Python's (tests/unit/test_report_js_math.py).
# Idempotent: does nothing that is already done.
set -euo pipefail

missing=""
[ -x /usr/bin/chromium ] || missing="chromium"
command -v node >/dev/null || missing="$missing nodejs"
if [ -n "$missing" ]; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086  # one word per package
  $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c "import playwright" 2>/dev/null; then
  "$PYTHON" -m pip install --quiet playwright
fi

/usr/bin/chromium --version 2>/dev/null
