# Shared set-up steps for scripts/run.sh and scripts/test.sh. Source it; do not run it.
# Everything here is idempotent: a second run installs nothing and takes seconds.

YMCS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DEBIAN_FRONTEND=noninteractive
PYTHON="${PYTHON:-python3}"
VENV="$YMCS_ROOT/.venv"

log() { printf '>>> %s\n' "$*"; }

# ensure_venv REQUIREMENTS_FILE: create .venv if missing, pip install the file when it (or
# requirements.txt, which it may include) changed since the last successful install.
ensure_venv() {
    local req="$YMCS_ROOT/$1" stamp="$VENV/.ymcs-installed-$(basename "$1")" digest
    if [ ! -x "$VENV/bin/python" ]; then
        log "creating virtualenv $VENV"
        "$PYTHON" -m venv "$VENV"
    fi
    digest="$(cat "$req" "$YMCS_ROOT/requirements.txt" | sha256sum | cut -d' ' -f1)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ]; then
        return 0
    fi
    ensure_build_deps
    log "pip install -r $1"
    local out
    out="$(mktemp)"
    if ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req" \
            >"$out" 2>&1; then
        cat "$out"; rm -f "$out"; return 1
    fi
    rm -f "$out"
    echo "$digest" >"$stamp"
}

# mysqlclient (requirements.txt), the C MariaDB driver, is built against MariaDB's client
# library by pkg-config and a C compiler, with Python's headers.
ensure_build_deps() {
    local missing=()
    pkg-config --exists libmariadb 2>/dev/null || pkg-config --exists mysqlclient 2>/dev/null \
        || missing+=(libmariadb-dev pkg-config)
    command -v gcc >/dev/null || missing+=(gcc)
    "$VENV/bin/python" -c 'import os, sys, sysconfig
sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
        || missing+=(python3-dev)
    if [ ${#missing[@]} -gt 0 ]; then
        apt_install "${missing[@]}"
    fi
}

_APT_UPDATED=""
# apt_install PACKAGE...: quiet, non-interactive; prints apt's output only if it fails.
apt_install() {
    local out
    out="$(mktemp)"
    if [ -z "$_APT_UPDATED" ]; then
        log "apt-get update"
        if ! apt-get -qq update >"$out" 2>&1; then cat "$out"; rm -f "$out"; return 1; fi
        _APT_UPDATED=1
    fi
    log "apt-get install $*"
    if ! apt-get -y -qq -o Dpkg::Use-Pty=0 install "$@" >"$out" 2>&1; then
        cat "$out"; rm -f "$out"; return 1
    fi
    rm -f "$out"
}

# ensure_secret_key: unless SECRET_KEY is set, make sure SECRET_KEY_FILE (default
# instance/secret_key) holds a random key, made on the first run (mode 0600) and kept after.
ensure_secret_key() {
    if [ -n "${SECRET_KEY:-}" ]; then
        return 0
    fi
    (cd "$YMCS_ROOT" && "$VENV/bin/python" -m app.core.secret_key)
}
