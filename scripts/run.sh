#!/usr/bin/env bash
# Try the portal on this machine: venv, dependencies, embedded SQLite schema, demo data, then
# `flask run` on http://${HOST:-127.0.0.1}:${PORT:-8080}. Safe to run again at any time.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/install.sh"
cd "$YMCS_ROOT"

ensure_venv requirements.txt
export PATH="$VENV/bin:$PATH"

log "migrating the database (${DATABASE_URL:-embedded SQLite under ${YMCS_INSTANCE_DIR:-instance/}})"
flask --app app:create_app db upgrade
log "seeding the demo data"
flask --app app:create_app ymcs demo

HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8080}"
# Demo phones report every minute (production default: 15) so their charts move while you look.
export DEVICE_PERIODIC_INTERVAL="${DEVICE_PERIODIC_INTERVAL:-60}"
if [ "${DEMO_FLEET_SIZE:-20}" != "0" ]; then
    log "starting ${DEMO_FLEET_SIZE:-20} simulated phones against http://127.0.0.1:$PORT/acs" \
        "(DEMO_FLEET_SIZE=0 turns them off)"
    flask --app app:create_app ymcs fleet --acs-url "http://127.0.0.1:$PORT/acs" &
    FLEET_PID=$!
    trap 'kill $FLEET_PID 2>/dev/null || true' EXIT
fi
log "serving http://$HOST:$PORT/ (Ctrl-C stops it)"
flask --app app:create_app run --host "$HOST" --port "$PORT"
