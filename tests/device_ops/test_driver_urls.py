"""Both MariaDB drivers a DATABASE_URL may name serve the portal and the ACS: mysqlclient
(``mysql+mysqldb://``, production's and the MariaDB test run's) and PyMySQL
(``mysql+pymysql://``, older deployments' URLs). The ACS's hot statements run on the DBAPI
cursor (app/device_ops/fastsql.py), so each driver is driven for real here."""

import secrets

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from app.models import Device, DeviceSample

from ..acs_support import basic, credentials, give_quota, inform
from ..conftest import database_kind, make_app

pytestmark = pytest.mark.skipif(database_kind() != "mariadb", reason="MariaDB drivers")


@pytest.fixture(params=["pymysql", "mysqldb"])
def app_on_driver(request, app):
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(
        drivername=f"mysql+{request.param}")
    other = make_app(url.render_as_string(hide_password=False))
    yield other
    with other.app_context():
        from app.extensions import db

        db.session.remove()
        db.engine.dispose()


def test_the_acs_and_the_portal_work_on_either_driver(app_on_driver, db_session, fresh_tree):
    from app.extensions import db

    with app_on_driver.app_context():
        assert db.engine.dialect.driver in ("pymysql", "mysqldb")
    give_quota(db_session, fresh_tree.E, 5)
    headers = basic(*credentials(db_session, fresh_tree.E))
    client = app_on_driver.test_client()
    mac = "0015650d" + secrets.token_hex(2)  # each run a phone of its own
    assert client.post("/acs", data=inform(mac, ["0 BOOTSTRAP", "1 BOOT"]),
                       headers=headers).status_code == 200
    client.delete_cookie("cwmp_session", path="/acs")
    metrics = {"Device.DeviceInfo.ProcessStatus.CPUUsage": "41",
               "Device.DeviceInfo.MemoryStatus.Total": "262144",
               "Device.DeviceInfo.MemoryStatus.Free": "100000"}
    assert client.post("/acs", data=inform(mac, params=metrics), headers=headers
                       ).status_code == 200
    db_session.commit()  # a fresh snapshot: the other app wrote through its own connections
    device = db_session.execute(select(Device).where(Device.mac == mac)).scalar_one()
    assert device.enterprise_id == fresh_tree.E and device.cpu_usage == 41
    assert db_session.execute(select(DeviceSample.cpu_usage).where(
        DeviceSample.device_id == device.id)).scalars().all()[-1] == 41
    assert client.get("/login/").status_code == 200
