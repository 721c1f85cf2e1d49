"""The ACS served over real HTTP and fleets of simulated phones talking to it: shared by the
fleet, interoperability and view tests of this package."""

import secrets

import pytest
from sqlalchemy import select

from app.device_ops import commands, connreq
from app.device_ops.simulator.fleet import Fleet
from app.models import CommandStatus, Device, DeviceCommand

from ..acs_support import credentials, give_quota
from ..helpers import PATIENCE, served, wait_until


@pytest.fixture(scope="module")
def acs_url(app):
    with served(app, "acs-server") as base:
        yield f"{base}/acs"


@pytest.fixture
def ent(db_session, fresh_tree):
    give_quota(db_session, fresh_tree.E, 20)
    fresh_tree.user, fresh_tree.password = credentials(db_session, fresh_tree.E)
    return fresh_tree


def device_of(session, mac):
    session.commit()  # a new snapshot (MariaDB repeats reads inside a transaction)
    return session.execute(select(Device).where(Device.mac == mac)).scalar_one()


def command(session, command_id):
    session.commit()
    return session.get(DeviceCommand, command_id)


def run(session, phone, kind, arguments=None, timeout=PATIENCE):
    """Queue a command, wake the phone with a real connection request, wait for the end."""
    device = device_of(session, phone.mac)
    queued = commands.queue_command(session, device, kind, arguments, by="tester")
    session.commit()
    woke = connreq.wake_device(device, timeout=5, allow_loopback=True)
    assert woke.ok, str(woke)
    wait_until(lambda: command(session, queued.id).status in (CommandStatus.done,
                                                              CommandStatus.failed), timeout)
    assert phone.wait_idle(PATIENCE)
    return command(session, queued.id)


@pytest.fixture
def fleet(acs_url, ent):
    def _fleet(count=2, **options):
        prefix = "02" + secrets.token_hex(2)
        f = Fleet(acs_url, count, mac_prefix=prefix, username=ent.user, password=ent.password,
                  auth=options.pop("auth", "digest"), jitter=False, **options)
        fleets.append(f)
        assert f.run_once(timeout=PATIENCE), [s.error for p in f.phones for s in p.sessions]
        return f

    fleets = []
    yield _fleet
    for f in fleets:
        f.stop()


