#!/usr/bin/env bash
# Builds the wheel, installs it (not editable) into a fresh virtual environment outside the
# checkout, and checks that the installed service serves its snippet and renders its pages.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --upgrade pip
"$work/venv/bin/python" -m pip wheel --quiet --no-deps --wheel-dir "$work/dist" .
"$work/venv/bin/python" -m pip install --quiet "$work"/dist/*.whl "gunicorn>=22"
cd "$work"  # nothing of the checkout is importable from here

free_port() { "$work/venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() {
    for _ in $(seq 1 60); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.5; done
    echo "no answer from $1" >&2; return 1
}
check() {  # URL, text the body must contain
    # Read the whole page first: grep -q stops at the first match, and curl writing into a
    # closed pipe would fail the check under pipefail.
    local page
    page=$(curl -fsS "$1") || { echo "FAIL: $1 did not answer" >&2; exit 1; }
    grep -q -- "$2" <<<"$page" || { echo "FAIL: $1 lacks $2" >&2; exit 1; }
    echo "ok: $1"
}

# The shared page-reading rules are data inside the package: the installed copy reads them.
"$work/venv/bin/python" -c 'from feedback import extraction; assert extraction.extract_article("<p>ok</p>").text == "ok"'
echo "ok: extraction rules ship in the wheel"

export FEEDBACK_INSTANCE_PATH="$work/instance" FEEDBACK_SECRET_KEY="wheel-smoke-secret"
"$work/venv/bin/feedback" db upgrade
port="$(free_port)"
export FEEDBACK_BASE_URL="http://127.0.0.1:$port"
"$work/venv/bin/gunicorn" --bind "127.0.0.1:$port" --workers 2 "feedback:create_app()" \
    >"$work/gunicorn.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$port/static/js/feedback.js"
check "http://127.0.0.1:$port/static/js/feedback.js" "ReaderFeedback"
# The dialog chunk the loader names (content-hashed), and the same under its stable name.
loader=$(curl -fsS "http://127.0.0.1:$port/static/js/feedback.js")
chunk=$(grep -o 'feedback-dialog\.[0-9a-f]\+\.js' <<<"$loader" | sed -n 1p)
[ -n "$chunk" ] || { echo "FAIL: the loader names no dialog chunk" >&2; exit 1; }
check "http://127.0.0.1:$port/static/js/$chunk" "readerFeedbackHost"
check "http://127.0.0.1:$port/static/js/feedback-dialog.js" "readerFeedbackHost"
# A language chunk the dialog chunk names.
lang_chunk=$(curl -fsS "http://127.0.0.1:$port/static/js/$chunk" | grep -o 'feedback-lang-ru\.[0-9a-f]\+\.js' | sed -n 1p)
[ -n "$lang_chunk" ] || { echo "FAIL: the dialog chunk names no Russian chunk" >&2; exit 1; }
check "http://127.0.0.1:$port/static/js/$lang_chunk" "readerFeedbackStrings"
check "http://127.0.0.1:$port/api/v1/openapi.json" '"/api/v1/suggestions"'

demo_port="$(free_port)"
FEEDBACK_INSTANCE_PATH="$work/demo" "$work/venv/bin/feedback" demo --port "$demo_port" \
    >"$work/demo.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$demo_port/"
check "http://127.0.0.1:$demo_port/" 'data-site="demo"'
check "http://127.0.0.1:$demo_port/static/css/demo.css" "prefers-color-scheme"
check "http://127.0.0.1:$demo_port/editor/sign-in" 'name="csrf_token"'
check "http://127.0.0.1:$demo_port/static/editor/editor.js" "shortcuts"
echo "wheel smoke test passed"
