#!/usr/bin/env bash
# Sets up everything vcs-robot needs on a fresh Debian machine; safe to run twice.
# - a virtual environment with the pinned packages;
# - a Chromium: Playwright's own if installed (`playwright install chromium`), else Debian's packages.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -q || true
  as_root apt-get install -y -q --no-install-recommends "$@"
}

if ! "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null; then
  apt_install python3-venv
fi
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q -e '.[test]'

if ! "$VENV/bin/python" -m robot.browser --check >/dev/null 2>&1; then
  echo "No Chromium found for Playwright: installing Debian's chromium and chromium-headless-shell."
  apt_install chromium chromium-headless-shell fonts-liberation
fi
"$VENV/bin/python" -m robot.browser --check
touch "$VENV/.installed"
