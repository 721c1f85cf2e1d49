"""End to end over real HTTP: a channel admin saves and pushes a template; simulated phones
(the fleet simulator) are woken by real connection requests, fetch their provisioning file and
report; the executed task shows each device's result, one phone made to fault.

The phones fetch with the enterprise's credentials the Download carries today; once the ACS
gives Downloads without a url a one-time URL instead, the same test covers it unchanged."""

import secrets

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.configs import outcomes
from app.configs.tables import ConfigPush, ConfigPushDevice, RowStatus
from app.device_ops.simulator import transfers
from app.device_ops.simulator.fleet import Fleet
from app.extensions import db

from ..acs_support import basic, credentials, give_quota
from ..helpers import PATIENCE, served, wait_until


@pytest.fixture(scope="module")
def server(app):
    with served(app, "configs-acs") as base:
        yield base


@pytest.fixture
def session(app):
    with app.app_context():
        engine = db.engine
    with Session(engine.execution_options(isolation_level="AUTOCOMMIT")) as s:
        yield s


def test_phones_fetch_the_pushed_configuration_and_one_faults(app, server, session,
                                                              fresh_tree, login, monkeypatch):
    t = fresh_tree
    with app.app_context():
        give_quota(db.session, t.E, 20)
        user, password = credentials(db.session, t.E)
    fleet = Fleet(f"{server}/acs", 3, mac_prefix="02" + secrets.token_hex(2), username=user,
                  password=password, auth="digest", jitter=False)
    try:
        assert fleet.run_once(timeout=PATIENCE)
        broken = fleet.phones[2]
        # this phone's file server answers 404: it reports the Download failed (9010)
        real = transfers._http_transfer
        monkeypatch.setattr(transfers, "_http_transfer", lambda phone, *args, **kw: (
            (404, 0) if phone is broken else real(phone, *args, **kw)))

        c = login(t.c_email, t.password)
        response = c.post("/enterpriseconfig/add", data={
            "name": "Fleet", "target": t.E, "action": "save_push",
            "body": "#!version:1.0.0.1\naccount.1.label = {{mac}}\n"})
        assert response.status_code == 302, response.get_data(as_text=True)[:1000]
        task_url = response.headers["Location"]
        push_id = int(task_url.rstrip("/").rsplit("/", 1)[-1])

        macs = [p.mac for p in fleet.phones]

        def finished():
            outcomes.sync_push(session, push_id)  # what the scheduler's sweep does
            session.commit()
            session.expire_all()
            pending = session.execute(select(ConfigPushDevice.id).where(
                ConfigPushDevice.push_id == push_id, ConfigPushDevice.mac.in_(macs),
                ConfigPushDevice.status == RowStatus.pending)).first()
            return session.get(ConfigPush, push_id) if pending is None else None

        push = wait_until(finished, PATIENCE, poll=0.3, what="every phone's result")
        # the tree's two unconnected devices of E are targets too; they never come
        rows = {r.mac: r for r in session.execute(select(ConfigPushDevice).where(
            ConfigPushDevice.push_id == push_id)).scalars()}
        phones = {p.mac for p in fleet.phones}
        assert phones <= set(rows)
        for phone in fleet.phones[:2]:
            assert rows[phone.mac].status == RowStatus.success
            _url, status, size = phone.downloads[-1]  # the file's URL is the ACS's choice
            assert status == 200 and size > 0 and "/acs/file/" in _url  # one-time URL
        assert rows[broken.mac].status == RowStatus.failed
        assert rows[broken.mac].fault_code == 9010
        assert "404" in rows[broken.mac].fault_string
        assert (push.succeeded, push.failed, push.open_rows) == (2, 1, 2)
        page = c.get(f"{task_url}?status=failed").get_data(as_text=True)
        assert broken.mac in page and "9010" in page
        # what the phones fetched holds the template, with their own MAC
        import requests

        body = requests.get(f"{server}/provisioning/{fleet.phones[0].mac}.cfg",
                            headers=basic(user, password), timeout=10).text
        assert f"account.1.label = {fleet.phones[0].mac}" in body
    finally:
        fleet.stop()
