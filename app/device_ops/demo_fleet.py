"""The demo's simulated phones: `flask ymcs fleet` (started by scripts/run.sh) runs
DEMO_FLEET_SIZE simulated Yealink phones of the demo enterprise against the local ACS, so a
newcomer sees devices come online, CPU/memory charts fill and commands run."""

import signal
import threading
import time

import requests

from app.demo import DEMO_FLEET_ENTERPRISE, DEMO_FLEET_MAC_PREFIX, DEMO_FLEET_MAX, DEMO_FLEET_START
from app.device_ops import auth
from app.extensions import db
from app.models import Enterprise


def demo_fleet_credentials():
    """(user, password) of the demo enterprise's phones, or None before `flask ymcs demo`."""
    enterprise = db.session.query(Enterprise).filter_by(name=DEMO_FLEET_ENTERPRISE).first()
    if enterprise is None:
        return None
    password = auth.ensure_acs_password(db.session, enterprise)
    db.session.commit()
    return enterprise.acs_username, password


def wait_for(url, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return True
        except requests.RequestException:
            pass
        time.sleep(0.5)
    return False


def run_demo_fleet(acs_url, count, echo):
    from app.device_ops.simulator.fleet import Fleet

    count = min(count, DEMO_FLEET_MAX)  # within the demo enterprise's quota of 100 devices
    credentials = demo_fleet_credentials()
    if credentials is None:
        echo("No demo data: run `flask ymcs demo` first.")
        return 1
    if not wait_for(acs_url.rstrip("/") + "/health"):
        echo(f"The ACS at {acs_url} does not answer; no simulated phones started.")
        return 1
    user, password = credentials
    db.session.remove()  # the fleet runs for hours: hold no connection
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with Fleet(acs_url, count, mac_prefix=DEMO_FLEET_MAC_PREFIX, start_index=DEMO_FLEET_START,
               username=user, password=password, auth="digest"):
        echo(f"{count} simulated phones of {DEMO_FLEET_ENTERPRISE} talk to {acs_url} "
             f"(DEMO_FLEET_SIZE=0 turns them off).")
        stop.wait()
    return 0
