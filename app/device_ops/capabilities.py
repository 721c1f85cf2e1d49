"""What a device's data model lacks, learnt from its answers, so the ACS stops asking for it.

Two signs: a fault 9005 ("invalid parameter name") names parameters it does not have (kept per
device, bounded); a read it never answers (the session breaks off) counts in
``metrics_unanswered``, and after ``GIVE_UP`` such sessions in a row the CPU/memory read is not
sent again until the device boots anew (new firmware may bring the parameters).
"""

import json

from sqlalchemy import select, update

from app.models import Device

GIVE_UP = 3  # CPU/memory reads left unanswered in a row before the ACS stops asking
MAX_MISSING = 64  # names kept per device


def missing_of(value):
    """The set of names a device lacks, from its ``missing_parameters`` column."""
    try:
        names = json.loads(value) if value else []
    except ValueError:
        return set()
    return {n for n in names if isinstance(n, str)} if isinstance(names, list) else set()


def wanted(names, missing):
    """The names still worth asking for."""
    return [n for n in names if n not in missing]


def record_missing(conn, device_id, names):
    """Add ``names`` to the device's missing parameters (``conn``: a Connection or a Session).
    Returns the new set."""
    current = conn.execute(select(Device.missing_parameters).where(
        Device.id == device_id)).scalar()
    missing = missing_of(current) | set(names)
    kept = sorted(missing)[:MAX_MISSING]
    conn.execute(update(Device).where(Device.id == device_id)
                 .values(missing_parameters=json.dumps(kept))
                 .execution_options(synchronize_session=False))
    return set(kept)


def metrics_given_up(unanswered):
    return (unanswered or 0) >= GIVE_UP


def not_reported(device, names):
    """True when the device page should say "not reported by this model" for ``names``: the
    device lacks all of them, or never answers their read."""
    missing = missing_of(device.missing_parameters)
    return all(n in missing for n in names) or metrics_given_up(device.metrics_unanswered)
