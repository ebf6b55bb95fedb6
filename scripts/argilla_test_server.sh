#!/usr/bin/env bash
# Set up what the Argilla tests (tests/argilla, `pytest -m argilla`) need to run a real
# argilla-server 2.8.0:
#   - its own venv at .venv-argilla-server (argilla-server's CLI needs click<8.2, the project's
#     venv has a newer click), with argilla-server==2.8.0 installed;
#   - redis-server (from apt when it is not on PATH).
# Idempotent and quiet when everything is already there. Prints what it installs otherwise.
# The tests start the server themselves (tests/argilla/conftest.py), with an SQL search engine
# standing in for Elasticsearch (tests/argilla/sql_search_engine.py).
#
# Environment: ARGILLA_SERVER_VENV (default <repo>/.venv-argilla-server),
#              PYTHON (interpreter for the venv, default python3.11 or python3).
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${ARGILLA_SERVER_VENV:-$REPO_ROOT/.venv-argilla-server}"
SERVER_VERSION="2.8.0"

log() { echo "argilla_test_server: $*" >&2; }

# 1. The server venv.
if ! "$VENV/bin/python" - "$SERVER_VERSION" >/dev/null 2>&1 <<'PY'
import sys
from importlib.metadata import version
assert version("argilla-server") == sys.argv[1]
assert int(version("click").split(".")[1]) < 2 and version("click").startswith("8.")
PY
then
    if [ -z "${PYTHON:-}" ]; then
        PYTHON="$(command -v python3.11 || command -v python3)"
    fi
    log "creating $VENV with argilla-server==$SERVER_VERSION (using $PYTHON)"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        "argilla-server==$SERVER_VERSION" "click<8.2" 2>&1 \
        | grep -v "is ignored: it is neither a file nor a directory" >&2 || true
    "$VENV/bin/python" -c "import argilla_server.cli" \
        || { log "argilla-server did not install into $VENV"; exit 1; }
fi

# 2. redis-server.
if ! command -v redis-server >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then SUDO=sudo; else SUDO=; fi
    log "installing redis-server from apt"
    if ! apt_log="$($SUDO apt-get update -qq 2>&1 \
        && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server 2>&1)"; then
        echo "$apt_log" >&2
        log "apt-get install redis-server failed"
        exit 1
    fi
    command -v redis-server >/dev/null 2>&1 || { log "redis-server is still not on PATH"; exit 1; }
fi
