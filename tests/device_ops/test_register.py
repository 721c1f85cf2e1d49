"""Registering a device by MAC (before it connects) and removing one: the rules without HTTP,
then the screens with another tree's ids."""

import os
import re

import pytest
from sqlalchemy import func, select

from app.device_ops import inventory
from app.extensions import db
from app.models import Device, DeviceSample, Enterprise, utcnow
from app.orders.rules import QuotaExceeded
from app.tenancy.rps import MAC_REFUSED

from ..acs_support import give_quota, inform
from ..helpers import PATIENCE, all_at_once_after, counts_devices

REGISTER = "/devicemodelview/register"


def devices_of(session, enterprise_id):
    session.commit()
    return session.execute(select(Device.mac).where(Device.enterprise_id == enterprise_id)
                           ).scalars().all()


def test_registrations_at_once_stop_at_the_quota(app, fresh_tree):
    """Six people register six MACs for one enterprise at the same moment, with room for
    two: two are registered, four told the quota is full (each pauses after counting until
    all have counted, unless the enterprise's lock keeps them out)."""
    import threading

    from sqlalchemy.orm import Session

    with app.app_context():
        give_quota(db.session, fresh_tree.E, 4)  # E has 2 devices already: room for 2
        engine = db.engine
    macs = [f"0015650f{n:04x}" for n in range(6)]
    start, outcomes = threading.Barrier(len(macs)), {}

    def person(mac):
        with app.app_context(), Session(engine) as session:
            enterprise = session.get(Enterprise, fresh_tree.E)
            start.wait()
            try:
                inventory.preregister_device(session, enterprise, mac)
                session.commit()
                outcomes[mac] = "registered"
            except QuotaExceeded:
                session.rollback()
                outcomes[mac] = "quota"
            except Exception as error:  # reported by the assertion below
                session.rollback()
                outcomes[mac] = repr(error)

    with all_at_once_after(engine, counts_devices, len(macs)):
        threads = [threading.Thread(target=person, args=(mac,)) for mac in macs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(2 * PATIENCE)
    assert sorted(outcomes.values()) == ["quota"] * 4 + ["registered"] * 2, outcomes
    with app.app_context():
        assert len(devices_of(db.session, fresh_tree.E)) == 4


def test_preregistration_normalizes_the_mac_and_counts_against_the_quota(db_session,
                                                                        fresh_tree):
    e = db_session.get(Enterprise, fresh_tree.E)
    give_quota(db_session, e.id, 3)  # E has 2 devices already
    device = inventory.preregister_device(db_session, e, "00:15:65:AB:CD:01")
    db_session.commit()
    assert device.mac == "001565abcd01" and device.enterprise_id == e.id
    with pytest.raises(QuotaExceeded):
        inventory.preregister_device(db_session, e, "001565abcd02")
    db_session.rollback()
    assert "001565abcd02" not in devices_of(db_session, e.id)


@pytest.mark.parametrize("mac", ["00:15:65:zz:00:01", "", "001565abcd01abcd"])
def test_bad_macs_are_refused(db_session, fresh_tree, mac):
    e = db_session.get(Enterprise, fresh_tree.E)
    give_quota(db_session, e.id, 10)
    with pytest.raises(inventory.DeviceError) as refused:
        inventory.preregister_device(db_session, e, mac)
    assert refused.value.template == MAC_REFUSED


def test_a_taken_mac_reads_like_a_malformed_one_and_an_rps_enterprise_is_refused(
        db_session, fresh_tree):
    e = db_session.get(Enterprise, fresh_tree.E)
    give_quota(db_session, e.id, 10)
    taken = devices_of(db_session, fresh_tree.SE)[0]  # another tree's device
    with pytest.raises(inventory.DeviceError) as refused:
        inventory.preregister_device(db_session, e, taken)
    with pytest.raises(inventory.DeviceError) as malformed:
        inventory.preregister_device(db_session, e, "00:15:65:zz:00:01")
    assert str(refused.value) == str(malformed.value)
    with pytest.raises(inventory.DeviceError) as refused:
        inventory.preregister_device(db_session, db_session.get(Enterprise, fresh_tree.R),
                                     "001565abcd09")
    assert refused.value.template == inventory.NOT_MANAGED


def test_removal_takes_commands_and_samples_along(db_session, fresh_tree):
    from app.device_ops import commands

    device = db_session.execute(select(Device).where(
        Device.enterprise_id == fresh_tree.E)).scalars().first()
    commands.queue_command(db_session, device, "reboot", by="t")
    db_session.add(DeviceSample(device_id=device.id, cpu_usage=1, taken_on=utcnow()))
    db_session.commit()
    inventory.remove_device(db_session, device.id)
    db_session.commit()
    assert db_session.get(Device, device.id) is None
    assert db_session.execute(select(func.count()).select_from(DeviceSample).where(
        DeviceSample.device_id == device.id)).scalar_one() == 0


# --- over HTTP ----------------------------------------------------------------------------------


def test_channel_registers_a_mac_for_its_enterprise_and_the_phone_connects(app, login,
                                                                           fresh_tree):
    t = fresh_tree
    with app.app_context():
        give_quota(db.session, t.E, 10)
    c = login(t.c_email, t.password)
    assert c.get(REGISTER).status_code == 200
    r = c.post(REGISTER, {"enterprise": t.E, "mac": "00-15-65-AB-CD-11"})
    assert r.status_code == 302 and "/devicemodelview/show/" in r.headers["Location"]
    with app.app_context():
        assert "001565abcd11" in devices_of(db.session, t.E)
    # the pre-registered phone's first session needs no credentials; a second one does
    assert app.test_client().post("/acs", data=inform("001565abcd11", ["0 BOOTSTRAP"])
                                  ).status_code == 200
    assert app.test_client().post("/acs", data=inform("001565abcd11", ["1 BOOT"])
                                  ).status_code == 401


def test_enterprise_admin_registers_for_its_own_enterprise_only(app, login, fresh_tree):
    t = fresh_tree
    with app.app_context():
        give_quota(db.session, t.E, 10)
    ent = login(t.ent_email, t.password)
    # whatever enterprise the form names, an enterprise admin registers for its own
    r = ent.post(REGISTER, {"enterprise": t.SE, "mac": "001565abcd21"})
    assert r.status_code == 302
    with app.app_context():
        assert "001565abcd21" in devices_of(db.session, t.E)
        assert "001565abcd21" not in devices_of(db.session, t.SE)


def test_another_trees_or_unauthorizing_enterprise_is_404_and_stores_nothing(app, login,
                                                                            fresh_tree):
    t = fresh_tree
    c = login(t.c_email, t.password)
    for enterprise in (t.SE, t.ER):  # another tree's; one that rejected C's authorization
        assert c.post(REGISTER, {"enterprise": enterprise, "mac": "001565abcd31"}
                      ).status_code == 404
        assert c.get(f"{REGISTER}?enterprise={enterprise}").status_code == 404
    with app.app_context():
        assert db.session.execute(select(Device).where(Device.mac == "001565abcd31")
                                  ).first() is None
    names = c.get(f"{REGISTER}/enterprises?q=").get_json()
    assert {r["id"] for r in names["results"]} >= {t.E} and t.SE not in {
        r["id"] for r in names["results"]}


def test_bad_input_and_no_quota_show_a_message_and_store_nothing(app, login, fresh_tree):
    t = fresh_tree
    c = login(t.c_email, t.password)
    r = c.post(REGISTER, {"enterprise": t.E, "mac": "not-a-mac"})
    assert r.status_code == 400 and "This MAC address cannot be used" in r.get_data(as_text=True)
    r = c.post(REGISTER, {"enterprise": t.E, "mac": "001565abcd41"})  # E has no order
    assert r.status_code == 400 and "may manage 0 devices" in r.get_data(as_text=True)
    r = c.post(REGISTER, {"mac": "001565abcd41"})
    assert r.status_code == 400 and "Choose the enterprise" in r.get_data(as_text=True)
    with app.app_context():
        assert "001565abcd41" not in devices_of(db.session, t.E)


def test_another_trees_mac_is_refused_in_the_words_of_a_malformed_one(app, login, fresh_tree):
    t = fresh_tree
    with app.app_context():
        give_quota(db.session, t.E, 10)
        theirs = devices_of(db.session, t.SE)[0]
    c = login(t.c_email, t.password)

    def alert(mac):
        r = c.post(REGISTER, {"enterprise": t.E, "mac": mac})
        assert r.status_code == 400
        return re.findall(r'class="alert[^"]*"[^>]*>(.*?)</div>', r.get_data(as_text=True),
                          re.S)

    assert alert(theirs) == alert("00:15:65:zz:00:01")
    assert "cannot be used" in " ".join(alert(theirs))
    with app.app_context():
        assert theirs in devices_of(db.session, t.SE) and theirs not in devices_of(db.session,
                                                                                    t.E)


def test_remove_is_a_post_in_scope_only(app, login, fresh_tree):
    t = fresh_tree
    with app.app_context():
        mine = db.session.execute(select(Device.id).where(Device.enterprise_id == t.E)
                                  ).scalars().first()
        theirs = db.session.execute(select(Device.id).where(Device.enterprise_id == t.SE)
                                    ).scalars().first()
        # an uploaded log of the device, in the file store
        from app.exports.jobs import file_store_dir
        from app.models import CommandStatus, DeviceCommand

        name = f"uploads/device{mine}-test.log"
        path = os.path.join(file_store_dir(), name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as out:
            out.write("log\n")
        db.session.add(DeviceCommand(device_id=mine, kind="upload", arguments="{}",
                                     status=CommandStatus.done, file_name=name, file_size=4))
        db.session.commit()
    c = login(t.c_email, t.password)
    assert c.get(f"/devicemodelview/remove/{mine}").status_code == 405
    assert c.post(f"/devicemodelview/remove/{theirs}").status_code == 404
    r = c.post(f"/devicemodelview/remove/{mine}")
    assert r.status_code == 302
    with app.app_context():
        assert db.session.get(Device, mine) is None
        assert db.session.get(Device, theirs) is not None
    assert not os.path.exists(path)  # its files go with it


def test_finance_cannot_register_or_remove(app, login, fresh_tree):
    from app.accounts import roles

    t = fresh_tree
    with app.app_context():
        sm = app.appbuilder.sm
        user = sm.add_user(username=f"fin@{t.prefix}.test", first_name="f", last_name="f",
                           email=f"fin@{t.prefix}.test", role=sm.find_role(roles.CHANNEL_FINANCE),
                           password=t.password)
        from app.models import AccountKind

        user.kind, user.channel_id = AccountKind.channel_master, t.C
        db.session.commit()
    fin = login(f"fin@{t.prefix}.test", t.password)
    assert fin.get(REGISTER).status_code in (302, 403)
    assert fin.post(REGISTER, {"enterprise": t.E, "mac": "001565abcd51"}).status_code in (
        302, 403)
    with app.app_context():
        assert "001565abcd51" not in devices_of(db.session, t.E)
