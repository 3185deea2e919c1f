#!/usr/bin/env bash
# Installs what the tests need (virtual environment, packages, Chromium, Node and esbuild)
# and runs them all: the snippet's build check and Node tests, ruff, and pytest (SQLite;
# PostgreSQL when FEEDBACK_TEST_DATABASE_URL is set). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
install_python_packages test
install_chromium
install_node

echo "== snippet build (npm ci, npm run build: the committed output must not change)"
check_snippet_build
echo "== snippet unit tests (node --test)"
node --test tests/js/
echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== pytest (${FEEDBACK_TEST_DATABASE_URL:+PostgreSQL}${FEEDBACK_TEST_DATABASE_URL:-SQLite})"
.venv/bin/pytest -W error "$@"
