# Set-up steps shared by demo.sh and test.sh (sourced, not run).

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        echo "need root (or sudo) to run: $*" >&2; return 1; fi
}

# Python 3.11+ virtual environment in .venv with the package (and an extra, e.g. "test").
install_python_packages() {
    local extra="${1:-}"
    if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        echo "Python 3.11 or newer is needed (found $(python3 --version))" >&2; return 1
    fi
    [ -x .venv/bin/python ] || python3 -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet --editable ".${extra:+[$extra]}"
}

# Browser tests drive Debian's Chromium; Playwright's own browser download is not used.
install_chromium() {
    [ -x /usr/bin/chromium ] && return 0
    echo "== installing Chromium (apt-get)"
    as_root apt-get update -qq && as_root apt-get install -y -qq chromium >/dev/null
}

# Node runs the snippet's tests; npm installs the pinned esbuild (package-lock.json) that
# builds it.
install_node() {
    command -v node >/dev/null && command -v npm >/dev/null && return 0
    echo "== installing Node.js and npm (apt-get)"
    as_root apt-get update -qq && as_root apt-get install -y -qq nodejs npm >/dev/null
}

# Rebuilds the snippet (static/js/src into static/js) and fails when the committed
# output differs from what its source builds to.
check_snippet_build() {
    npm ci --no-audit --no-fund --loglevel=error
    npm run --silent build
    if [ -n "$(git status --porcelain -- static/js ':!static/js/src')" ]; then
        git status --short -- static/js
        echo "the built snippet differs from its source: run 'npm run build' and commit" >&2
        return 1
    fi
}
