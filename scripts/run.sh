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
log "serving http://$HOST:$PORT/ (Ctrl-C stops it)"
exec flask --app app:create_app run --host "$HOST" --port "$PORT"
