#!/usr/bin/env bash
# Install what the browser tests of the HTML report need: Debian's chromium and Playwright's
# Python package (which drives it through executable_path; no browser download).
# Idempotent: does nothing that is already done.
set -euo pipefail

if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c "import playwright" 2>/dev/null; then
  "$PYTHON" -m pip install --quiet playwright
fi

/usr/bin/chromium --version 2>/dev/null
