#!/usr/bin/env bash
# Install what the tests need, lint, then run the whole suite twice: on SQLite and on MariaDB.
# Exits non-zero if the lint or either run fails. Under CI=true a MariaDB that is missing or
# does not answer is a failure; elsewhere it is skipped with a warning.
# Extra arguments go to both pytest runs (e.g. `bash scripts/test.sh -k login`).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/install.sh"
cd "$YMCS_ROOT"
T0=$SECONDS
CI="${CI:-}"
is_ci() { [ "$CI" = "true" ] || [ "$CI" = "1" ]; }

ensure_venv requirements-dev.txt
export PATH="$VENV/bin:$PATH"

# Browser tests drive Debian's Chromium (Playwright's own browser download does not work here).
if [ ! -x /usr/bin/chromium ]; then
    apt_install chromium
fi
# Chinese pages in the browser tests (and their screenshots) need a CJK font.
if ! fc-list :lang=zh 2>/dev/null | grep -q .; then
    apt_install fonts-wqy-zenhei
fi

# --- MariaDB -------------------------------------------------------------------------------
MARIADB_URL="${YMCS_TEST_MARIADB:-mysql+mysqldb://root@127.0.0.1:3306}"  # the driver production uses

mariadb_answers() {
    YMCS_TEST_MARIADB="$MARIADB_URL" "$VENV/bin/python" - "$@" <<'PY'
import os
import sys

import sqlalchemy

try:
    engine = sqlalchemy.create_engine(os.environ["YMCS_TEST_MARIADB"],
                                      connect_args={"connect_timeout": 3})
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")
except Exception as exc:  # noqa: BLE001
    if "-v" in sys.argv:
        print(f"MariaDB does not answer: {exc}", file=sys.stderr)
    sys.exit(1)
PY
}

ensure_mariadb() {
    mariadb_answers && return 0
    if [ -n "${YMCS_TEST_MARIADB:-}" ]; then
        mariadb_answers -v  # a server of the caller's choosing: check it, start nothing
        return
    fi
    if [ ! -x /usr/sbin/mariadbd ]; then
        apt_install mariadb-server mariadb-client || return 1
    fi
    if ! mariadb_answers; then
        log "starting MariaDB"
        mkdir -p /run/mysqld
        chown mysql:mysql /run/mysqld 2>/dev/null || true
        start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd \
            -- --user=mysql
        local deadline=$((SECONDS + 90))
        until mariadb_answers; do
            if [ $SECONDS -ge $deadline ]; then break; fi
            # a freshly installed Debian server lets root in through the socket only
            if mariadb -uroot -e 'SELECT 1' >/dev/null 2>&1; then break; fi
            sleep 1
        done
    fi
    if ! mariadb_answers && mariadb -uroot -e 'SELECT 1' >/dev/null 2>&1; then
        log "allowing root@127.0.0.1 with an empty password (test server only)"
        mariadb -uroot -e "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
            GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;"
    fi
    mariadb_answers -v
}

MARIADB_OK=1
if ! ensure_mariadb; then
    MARIADB_OK=0
fi
log "set-up done in $((SECONDS - T0)) s"

# --- lint and tests ------------------------------------------------------------------------
FAILED=()
REPORTS="$(mktemp -d)"
trap 'rm -rf "$REPORTS"' EXIT

echo "=== ruff check . ==="
if ! ruff check .; then
    FAILED+=("ruff")
fi

# Parallel runs (pytest-xdist): one worker per core, at most 4. Each worker is a pytest session
# of its own: its own database, SMTP port, file store and browser (tests/conftest.py).
# YMCS_TEST_WORKERS=0 runs in one process. The order is random (pytest-randomly), so a test that
# passes only after another shows up; the header prints the seed: `--randomly-seed=N` repeats
# an order, `-p no:randomly` keeps the file order.
WORKERS="${YMCS_TEST_WORKERS:-$(python -c 'import os; print(min(len(os.sched_getaffinity(0)), 4))')}"

run_suite() {  # run_suite KIND LABEL [pytest args]
    local kind="$1" label="$2" t=$SECONDS rc=0
    shift 2
    echo
    echo "=== tests on $label (YMCS_TEST_DB=$kind, $WORKERS workers) ==="
    YMCS_TEST_DB="$kind" python -m pytest -q -rfEsx --durations=15 -n "$WORKERS" \
        --junitxml="$REPORTS/$kind.xml" "$@" || rc=$?
    echo "=== tests on $label: $([ $rc -eq 0 ] && echo passed || echo "FAILED (pytest exit $rc)")" \
         "in $((SECONDS - t)) s ==="
    if [ $rc -ne 0 ]; then
        FAILED+=("tests on $label")
    fi
}

run_suite sqlite SQLite "$@"

if [ $MARIADB_OK -eq 1 ]; then
    run_suite mariadb MariaDB "$@"
elif is_ci; then
    echo
    echo "=== tests on MariaDB: FAILED, MariaDB at $MARIADB_URL does not answer (CI=true) ==="
    FAILED+=("MariaDB unavailable")
else
    echo
    echo "=== tests on MariaDB: SKIPPED, MariaDB at $MARIADB_URL does not answer ==="
    echo "    (this would be a failure under CI=true)"
fi

echo
echo "test.sh took $((SECONDS - T0)) s"
# The closing line: totals over every pytest run above.
python - "$REPORTS" <<'PY'
import glob
import sys
import xml.etree.ElementTree as ET

totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
for path in glob.glob(f"{sys.argv[1]}/*.xml"):
    for suite in ET.parse(path).getroot().iter("testsuite"):
        for key in totals:
            totals[key] += int(suite.get(key, 0))
failed = totals["failures"] + totals["errors"]
passed = totals["tests"] - failed - totals["skipped"]
print(f"total: {passed} passed, {failed} failed, {totals['skipped']} skipped")
PY
if [ ${#FAILED[@]} -gt 0 ]; then
    echo "FAILED: ${FAILED[*]}"
    exit 1
fi
