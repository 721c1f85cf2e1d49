#!/usr/bin/env bash
# Try the portal on this machine: venv, dependencies, embedded SQLite schema, demo data, then
# `flask run` on http://${HOST:-127.0.0.1}:${PORT:-8080}. Safe to run again at any time.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/install.sh"
cd "$YMCS_ROOT"

ensure_venv requirements.txt
export PATH="$VENV/bin:$PATH"
# create_app refuses a missing or public SECRET_KEY: make a random one once, kept in instance/.
ensure_secret_key

HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8080}"
# Links in mail are built from PUBLIC_URL, never from a request's Host header. Bound to every
# interface, the demo names itself by this machine's first IPv4 address.
if [ -z "${PUBLIC_URL:-}" ]; then
    case "$HOST" in
        0.0.0.0|::)
            url_host="$(hostname -I 2>/dev/null | tr ' ' '\n' | grep -m1 -E '^[0-9.]+$' || true)" ;;
        *:*) url_host="[$HOST]" ;;
        *) url_host="$HOST" ;;
    esac
    export PUBLIC_URL="http://${url_host:-127.0.0.1}:$PORT"
fi

# Demo phones report every minute (production default: 15) so their charts move while you look;
# the demo's other phones, not simulated, go offline after two silent intervals.
export DEVICE_PERIODIC_INTERVAL="${DEVICE_PERIODIC_INTERVAL:-60}"
log "migrating the database (${DATABASE_URL:-embedded SQLite under ${YMCS_INSTANCE_DIR:-instance/}})"
flask --app app:create_app db upgrade
log "seeding the demo data"
flask --app app:create_app ymcs demo

# Every child started below is stopped when this script ends, however it ends.
CHILDREN=()
stop_children() {
    local pid
    for pid in ${CHILDREN[@]+"${CHILDREN[@]}"}; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap stop_children EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Mail: unless MAIL_SERVER names a relay, a local SMTP sink (aiosmtpd) accepts every message,
# so the outbox delivers instead of retrying; read them as admin@ymcs.example under
# System Management > Mail Outbox (a message's subject opens its text).
if [ -z "${MAIL_SERVER:-}" ]; then
    MAIL_PORT="${MAIL_PORT:-$(python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
    export MAIL_SERVER=127.0.0.1 MAIL_PORT MAIL_USE_TLS=false MAIL_USE_SSL=false
    log "local SMTP sink on 127.0.0.1:$MAIL_PORT: mail is delivered there and kept in the" \
        "Mail Outbox (MAIL_SERVER=<your relay> sends it for real)"
    python -m aiosmtpd -n -c aiosmtpd.handlers.Sink -l "127.0.0.1:$MAIL_PORT" &
    CHILDREN+=($!)
fi

if [ "${DEMO_FLEET_SIZE:-20}" != "0" ]; then
    # The simulated phones listen on 127.0.0.1: let "Connect now" reach them there (a
    # connection request still goes only to the address a device's session came from).
    export CONNECTION_REQUEST_ALLOW_LOOPBACK="${CONNECTION_REQUEST_ALLOW_LOOPBACK:-1}"
    log "starting ${DEMO_FLEET_SIZE:-20} simulated phones against http://127.0.0.1:$PORT/acs" \
        "(DEMO_FLEET_SIZE=0 turns them off)"
    flask --app app:create_app ymcs fleet --acs-url "http://127.0.0.1:$PORT/acs" &
    CHILDREN+=($!)
fi
log "serving http://$HOST:$PORT/ as $PUBLIC_URL (PUBLIC_URL; other host names get 400 unless" \
    "listed in TRUSTED_HOSTS) (Ctrl-C stops it)"
flask --app app:create_app run --host "$HOST" --port "$PORT" &
CHILDREN+=($!)
wait "$!"
