#!/usr/bin/env bash
# Installs the service into .venv and starts the built-in demo (SQLite in the instance folder,
# a demo site, article and editor, mail captured at /dev/mail/). Extra arguments go to
# `feedback demo`, e.g. --port 8000.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
install_python_packages
export FEEDBACK_INSTANCE_PATH="${FEEDBACK_INSTANCE_PATH:-$PWD/instance}"
exec .venv/bin/feedback demo "$@"
