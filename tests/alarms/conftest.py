"""The ACS served over real HTTP and a simulated phone with the FaultMgmt object, for the
alarm tests that go through TR-069."""

import secrets

import pytest

from app.device_ops.simulator import alarms as sim_alarms
from app.device_ops.simulator.phone import SimulatedPhone

from ..acs_support import credentials, give_quota
from ..helpers import PATIENCE, served


@pytest.fixture(scope="module")
def acs_url(app):
    with served(app, "acs-server") as base:
        yield f"{base}/acs"


@pytest.fixture
def phone(db_session, fresh_tree, acs_url):
    give_quota(db_session, fresh_tree.E, 5)
    user, password = credentials(db_session, fresh_tree.E)
    p = SimulatedPhone(acs_url, "02" + secrets.token_hex(5), username=user, password=password,
                       auth="digest")
    sim_alarms.install(p)
    assert p.run_session().ok
    assert p.wait_idle(PATIENCE)
    # credentials() read the enterprise back after its commit: on MariaDB that opened a
    # snapshot older than the phone's device row. A test starts with a fresh one.
    db_session.commit()
    yield p
    p.close()
