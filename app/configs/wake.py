"""Connection requests after a push: the online target devices are asked to come now, in a
background thread and at most CONFIG_PUSH_WAKE_MAX of them, so a push to 100,000 devices never
waits on them; the others fetch at their next periodic contact."""

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from app.configs.tables import ConfigPushDevice, RowStatus
from app.device_ops import connreq
from app.extensions import db
from app.models import Device

log = logging.getLogger(__name__)
WORKERS = 8


def online_targets(session, push_id, limit):
    """The online devices of the push that still wait for it (at most ``limit``)."""
    return session.execute(
        select(Device).join(ConfigPushDevice, ConfigPushDevice.device_id == Device.id)
        .where(ConfigPushDevice.push_id == push_id,
               ConfigPushDevice.status == RowStatus.pending, Device.online.is_(True),
               Device.cr_url.is_not(None))
        .order_by(ConfigPushDevice.id).limit(limit)).scalars().all()


def wake_push(app, push_id):
    """Send the connection requests of a push (runs in the background thread)."""
    config = app.config
    with app.app_context():
        try:
            devices = online_targets(db.session, push_id, config["CONFIG_PUSH_WAKE_MAX"])
            db.session.expunge_all()
        finally:
            db.session.remove()
    networks = connreq.parse_networks(config["CONNECTION_REQUEST_NETWORKS"])

    def wake(device):
        return connreq.wake_device(device, timeout=config["CONNECTION_REQUEST_TIMEOUT"],
                                   networks=networks,
                                   allow_loopback=config["CONNECTION_REQUEST_ALLOW_LOOPBACK"])

    with ThreadPoolExecutor(WORKERS) as pool:
        woken = sum(1 for result in pool.map(wake, devices) if result.ok)
    log.info("push %s: %s of %s online devices answered the connection request",
             push_id, woken, len(devices))
    return woken


def wake_in_background(app, push_id):
    thread = threading.Thread(target=wake_push, args=(app, push_id),
                              name=f"config-push-{push_id}", daemon=True)
    thread.start()
    return thread
