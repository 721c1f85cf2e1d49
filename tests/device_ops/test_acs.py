"""The ACS endpoint through real HTTP requests (the WSGI stack), with envelopes written by hand:
authentication and binding, sessions, the command queue's RPCs, and bad input."""

import json
import os

import pytest
from sqlalchemy import func, select

from app.device_ops import auth, commands
from app.models import CommandStatus, Device, DeviceCommand, DeviceSample, Enterprise

from ..acs_support import NS, basic, credentials, give_quota, gpv_response, inform, response
from ..helpers import PATIENCE, all_at_once_after, counts_devices

CWMP_NAMESPACES = [f"urn:dslforum-org:cwmp-1-{i}" for i in range(5)]


@pytest.fixture
def client(app):
    return app.test_client()


def _with_credentials(session, t, quota):
    give_quota(session, t.E, quota)
    t.user, t.password = credentials(session, t.E)
    t.headers = basic(t.user, t.password)
    return t


@pytest.fixture(scope="module")
def module_tree(app):
    """One tree for the tests that only add devices: E has room for plenty."""
    import uuid

    from app.extensions import db

    from ..conftest import ids_of
    from ..tree import build_tree

    with app.app_context():
        t = ids_of(build_tree(db.session, f"acs{uuid.uuid4().hex[:6]}"))
        yield _with_credentials(db.session, t, 500)
        db.session.remove()


@pytest.fixture
def ent(db_session, module_tree):
    return module_tree


@pytest.fixture
def own_ent(db_session, fresh_tree):
    """A tree of the test's own, for tests that freeze or fill up an enterprise."""
    return _with_credentials(db_session, fresh_tree, 10)


_mac = [0x001565A00000]


def new_mac():
    _mac[0] += 1
    return f"{_mac[0]:012x}"


def device(session, mac):
    session.commit()  # a new snapshot: MariaDB reads repeat inside one transaction
    return session.execute(select(Device).where(Device.mac == mac)).scalar_one_or_none()


def device_count(session):
    session.commit()  # a new snapshot: MariaDB reads repeat inside one transaction
    return session.execute(select(func.count()).select_from(Device)).scalar_one()


def queued(session, device_id):
    session.commit()  # a new snapshot: MariaDB reads repeat inside one transaction
    return session.execute(select(DeviceCommand).where(DeviceCommand.device_id == device_id)
                           .order_by(DeviceCommand.id)).scalars().all()


# --- identity and binding ---------------------------------------------------------------------


def test_unknown_device_without_credentials_gets_401_and_creates_nothing(client, db_session,
                                                                         ent):
    before = device_count(db_session)
    mac = new_mac()
    r = client.post("/acs", data=inform(mac, ["0 BOOTSTRAP", "1 BOOT"]))
    assert r.status_code == 401
    challenges = r.headers.getlist("WWW-Authenticate")
    assert any(c.startswith("Digest ") for c in challenges)
    assert any(c.startswith("Basic ") for c in challenges)
    assert device_count(db_session) == before


@pytest.mark.parametrize("ns", CWMP_NAMESPACES)
def test_device_with_enterprise_credentials_binds_and_is_answered_in_its_namespace(
        client, db_session, ent, ns):
    mac = new_mac()
    r = client.post("/acs", data=inform(mac, ["0 BOOTSTRAP", "1 BOOT"], ns=ns, cwmp_id="abc-7"),
                    headers=ent.headers)
    assert r.status_code == 200
    body = r.data.decode()
    assert f'xmlns:cwmp="{ns}"' in body and "<cwmp:InformResponse>" in body
    assert ">abc-7</cwmp:ID>" in body
    assert "cwmp_session=" in r.headers["Set-Cookie"]
    d = device(db_session, mac)
    assert d.enterprise_id == ent.E and d.online and d.last_seen is not None
    assert (d.manufacturer, d.oui, d.model, d.serial, d.firmware, d.ip) == (
        "Yealink", "001565", "SIP-T54W", f"SN{mac}", "96.86.0.70", "10.1.2.3")
    assert d.cpe_key == f"001565-SIP-T54W-SN{mac}"
    assert d.cr_url == "http://127.0.0.1:9/cr" and d.offline_after > d.last_seen
    # the ACS's own set-up waits for the session: connection-request credentials, interval
    setup = queued(db_session, d.id)
    assert [c.kind for c in setup] == ["setup"] and d.cr_username and d.cr_password


def test_digest_credentials_are_accepted(client, db_session, ent):
    mac = new_mac()
    challenge = client.post("/acs", data=inform(mac)).headers.getlist("WWW-Authenticate")[0]
    header = auth.digest_authorization(challenge, ent.user, ent.password, "POST", "/acs")
    r = client.post("/acs", data=inform(mac), headers={"Authorization": header})
    assert r.status_code == 200
    assert device(db_session, mac).enterprise_id == ent.E


def test_wrong_password_and_foreign_credentials_are_refused(client, db_session, ent):
    mac = new_mac()
    r = client.post("/acs", data=inform(mac), headers=basic(ent.user, ent.password + "x"))
    assert r.status_code == 401 and device(db_session, mac) is None
    # another tree's enterprise cannot take over this enterprise's device
    client.post("/acs", data=inform(mac), headers=ent.headers)
    give_quota(db_session, ent.SE, 5)
    other = basic(*credentials(db_session, ent.SE))
    r = client.post("/acs", data=inform(mac), headers=other)
    assert r.status_code == 403
    assert device(db_session, mac).enterprise_id == ent.E


def _row(session, mac):
    d = device(session, mac)
    return (d.model, d.cr_url, d.last_seen, d.online, d.ip, d.remote_ip, d.acs_password)


def test_bound_device_without_or_with_wrong_credentials_gets_401_and_nothing_changes(
        client, db_session, ent):
    mac = new_mac()
    assert client.post("/acs", data=inform(mac), headers=ent.headers).status_code == 200
    client.post("/acs")  # ends the session
    d = device(db_session, mac)
    cmd = commands.queue_command(db_session, d, "upload",
                                 {"file_type": "2 Vendor Log File"}, by="tester")
    db_session.commit()
    before, commands_before = _row(db_session, mac), [
        (c.id, c.status, c.attempts) for c in queued(db_session, d.id)]
    forged = inform(mac, ["1 BOOT"], params={
        "Device.ManagementServer.ConnectionRequestURL": "http://203.0.113.9/evil",
        "Device.DeviceInfo.SoftwareVersion": "6.6.6"})
    for headers in ({}, basic(ent.user, ent.password + "x"), basic(f"dev{d.id}", "guess"),
                    {"Authorization": "Digest username=\"ent1\", response=\"x\""}):
        other = client.application.test_client()  # no cookie of an earlier session
        r = other.post("/acs", data=forged, headers=headers)
        assert r.status_code == 401, headers
        assert any(v.startswith("Digest ") for v in r.headers.getlist("WWW-Authenticate"))
        assert "cwmp_session" not in r.headers.get("Set-Cookie", "")
        # and the empty POST that would hand out the queue gets the same challenge
        r = other.post("/acs", headers=headers)
        assert r.status_code == 401 and b"Envelope" not in r.data
    assert _row(db_session, mac) == before
    assert [(c.id, c.status, c.attempts) for c in queued(db_session, d.id)] == commands_before
    assert db_session.get(DeviceCommand, cmd.id).upload_token is None


def test_preregistered_mac_gets_one_first_session_that_sets_its_own_credentials(
        client, db_session, ent):
    mac = new_mac()
    db_session.add(Device(mac=mac, enterprise_id=ent.E))
    db_session.commit()
    did = device(db_session, mac).id
    r = client.post("/acs", data=inform(mac, ["0 BOOTSTRAP", "1 BOOT"]))
    assert r.status_code == 200
    assert device(db_session, mac).online
    assert b"GetParameterValues" in client.post("/acs").data  # CPU/memory first
    body = client.post("/acs", data=gpv_response({})).data.decode()  # then the set-up
    assert "SetParameterValues" in body
    assert f"<Name>Device.ManagementServer.Username</Name><Value xsi:type=\"xsd:string\">" \
           f"dev{did}</Value>" in body
    password = device(db_session, mac).acs_password
    assert password and password in body
    # the free session is spent: without credentials, or with a wrong one, a 401
    stranger = client.application.test_client()
    assert stranger.post("/acs", data=inform(mac)).status_code == 401
    assert stranger.post("/acs", data=inform(mac),
                         headers=basic(f"dev{did}", password + "x")).status_code == 401
    # the device's own credentials open its sessions, and no other device's
    assert stranger.post("/acs", data=inform(mac),
                         headers=basic(f"dev{did}", password)).status_code == 200
    other = new_mac()
    db_session.add(Device(mac=other, enterprise_id=ent.E))
    db_session.commit()
    assert client.application.test_client().post(
        "/acs", data=inform(other), headers=basic(f"dev{did}", password)).status_code == 401
    # (the other pre-registered device still has its own first session)
    assert device(db_session, other).acs_password is None


def test_preregistered_device_that_used_the_enterprise_credentials_has_no_free_session(
        client, db_session, ent):
    mac = new_mac()
    db_session.add(Device(mac=mac, enterprise_id=ent.E))
    db_session.commit()
    assert client.post("/acs", data=inform(mac), headers=ent.headers).status_code == 200
    assert device(db_session, mac).acs_password == ""
    assert client.application.test_client().post("/acs", data=inform(mac)).status_code == 401


def test_first_contact_is_claimed_once_even_by_two_requests_at_once(app, db_session, ent):
    from app.device_ops import identity, inventory

    mac = new_mac()
    db_session.add(Device(mac=mac, enterprise_id=ent.E))
    db_session.commit()
    did = device(db_session, mac).id
    acs = app.extensions["ymcs_acs"]
    with acs.fast.connect() as conn:
        row = identity.find(conn, mac, None)
        first = inventory.authenticate(conn, row, None, "test-secret")
        second = inventory.authenticate(conn, row, None, "test-secret")
        assert first[2] and second[2]  # both read "never connected" before either wrote
        claims = [inventory.claim_first_contact(conn, did) for _ in (first, second)]
    assert claims[0] and claims[1] is None
    assert device(db_session, mac).acs_password == claims[0]


def test_binding_respects_the_device_quota(client, db_session, fresh_tree):
    user, password = credentials(db_session, fresh_tree.EB)  # no order at all: quota 0
    mac = new_mac()
    r = client.post("/acs", data=inform(mac), headers=basic(user, password))
    assert r.status_code == 403 and b"may manage 0 devices" in r.data
    assert device(db_session, mac) is None
    give_quota(db_session, fresh_tree.EB, 3)  # EB already has 2 devices: room for one
    assert client.post("/acs", data=inform(new_mac()),
                       headers=basic(user, password)).status_code == 200
    third = new_mac()
    assert client.post("/acs", data=inform(third),
                       headers=basic(user, password)).status_code == 403
    assert device(db_session, third) is None


def test_devices_binding_at_once_stop_at_the_quota(app, db_session, fresh_tree, acs_address):
    """Eight new phones present the enterprise's credentials at the same moment (real HTTP,
    a threaded server) where there is room for three: three bind, five are refused.

    Each request pauses after counting the enterprise's devices until all eight have counted
    (or a lock keeps them out): without the lock on the enterprise every request counted the
    same two devices, and all eight bound."""
    import threading

    import requests

    from app.extensions import db

    give_quota(db_session, fresh_tree.E, 5)  # E already has 2 devices: room for 3
    headers = basic(*credentials(db_session, fresh_tree.E))
    macs = [new_mac() for _ in range(8)]
    start, answers = threading.Barrier(len(macs)), {}

    def phone(mac):
        start.wait()
        answers[mac] = requests.post(f"http://{acs_address[0]}:{acs_address[1]}/acs",
                                     data=inform(mac, ["0 BOOTSTRAP", "1 BOOT"]),
                                     headers=headers, timeout=PATIENCE).status_code

    with app.app_context():
        engine = db.engine  # the ORM engine: the ACS binds devices through it
    with all_at_once_after(engine, counts_devices, len(macs)):
        threads = [threading.Thread(target=phone, args=(mac,)) for mac in macs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(2 * PATIENCE)

    assert sorted(answers.values()) == [200] * 3 + [403] * 5, answers
    bound = [mac for mac in macs if device(db_session, mac) is not None]
    assert sorted(bound) == sorted(mac for mac, status in answers.items() if status == 200)
    assert db_session.execute(select(func.count()).select_from(Device).where(
        Device.enterprise_id == fresh_tree.E)).scalar_one() == 5


def test_frozen_or_rps_enterprise_credentials_do_not_bind(client, db_session, own_ent):
    from app.models import Status

    ent = own_ent
    rps_user, rps_password = credentials(db_session, ent.R)
    mac = new_mac()
    assert client.post("/acs", data=inform(mac),
                       headers=basic(rps_user, rps_password)).status_code == 401
    client.post("/acs", data=inform(mac), headers=ent.headers)
    enterprise = db_session.get(Enterprise, ent.E)
    enterprise.status = Status.frozen
    db_session.commit()
    assert client.post("/acs", data=inform(mac), headers=ent.headers).status_code == 403


# --- sessions and commands --------------------------------------------------------------------


def bound_device(client, db_session, ent, mac=None):
    """A device that has connected once and finished the ACS's set-up."""
    mac = mac or new_mac()
    client.post("/acs", data=inform(mac, ["0 BOOTSTRAP", "1 BOOT"]), headers=ent.headers)
    d = device(db_session, mac)
    for command in queued(db_session, d.id):
        commands.finish(db_session.get(DeviceCommand, command.id), CommandStatus.done)
    d.has_work = False
    db_session.commit()
    client.delete_cookie("cwmp_session", path="/acs")
    return d


def test_periodic_inform_with_metrics_keeps_a_sample_and_ends_with_204(client, db_session,
                                                                       ent):
    d = bound_device(client, db_session, ent)
    metrics = {"Device.DeviceInfo.ProcessStatus.CPUUsage": "37",
               "Device.DeviceInfo.MemoryStatus.Total": "262144",
               "Device.DeviceInfo.MemoryStatus.Free": "131072"}
    r = client.post("/acs", data=inform(d.mac, params=metrics), headers=ent.headers)
    assert r.status_code == 200
    r = client.post("/acs", data=b"")
    assert r.status_code == 204 and r.data == b""
    db_session.commit()
    samples = db_session.execute(select(DeviceSample).where(DeviceSample.device_id == d.id)
                                 ).scalars().all()
    assert [(s.cpu_usage, s.memory_total, s.memory_free) for s in samples][-1] == (
        37, 262144, 131072)
    assert device(db_session, d.mac).cpu_usage == 37


def test_periodic_inform_without_metrics_reads_them_in_the_session(client, db_session, ent):
    d = bound_device(client, db_session, ent)
    client.post("/acs", data=inform(d.mac), headers=ent.headers)
    r = client.post("/acs", data=b"")
    assert b"<cwmp:GetParameterValues>" in r.data and b"ProcessStatus.CPUUsage" in r.data
    r = client.post("/acs", data=gpv_response({
        "Device.DeviceInfo.ProcessStatus.CPUUsage": "5",
        "Device.DeviceInfo.MemoryStatus.Total": "1000",
        "Device.DeviceInfo.MemoryStatus.Free": "250"}, cwmp_id="metrics"))
    assert r.status_code == 204
    assert device(db_session, d.mac).memory_free == 250


METRICS = {"Device.DeviceInfo.ProcessStatus.CPUUsage": "1",
           "Device.DeviceInfo.MemoryStatus.Total": "10",
           "Device.DeviceInfo.MemoryStatus.Free": "5"}


def first_rpc(client, d, ent):
    """A periodic Inform carrying CPU/memory, then the empty POST: the queue's first RPC."""
    client.post("/acs", data=inform(d.mac, params=METRICS), headers=ent.headers)
    return client.post("/acs", data=b"")


def test_a_queued_read_becomes_a_getparametervalues_and_its_answer_is_kept(client, db_session,
                                                                           ent):
    d = bound_device(client, db_session, ent)
    cmd = commands.queue_command(db_session, d, "get_parameters",
                                 {"names": "Device.DeviceInfo.UpTime"}, by="tester")
    db_session.commit()
    r = first_rpc(client, d, ent)
    assert b"<string>Device.DeviceInfo.UpTime</string>" in r.data
    rpc_id = r.data.decode().split('mustUnderstand="1">')[1].split("<")[0]
    r = client.post("/acs", data=gpv_response({"Device.DeviceInfo.UpTime": "4242"},
                                              cwmp_id=rpc_id))
    assert r.status_code == 204
    db_session.commit()
    done = db_session.get(DeviceCommand, cmd.id)
    assert done.status == CommandStatus.done
    assert json.loads(done.result) == {"values": {"Device.DeviceInfo.UpTime": "4242"}}
    assert json.loads(device(db_session, d.mac).parameters)["Device.DeviceInfo.UpTime"] == "4242"
    assert device(db_session, d.mac).has_work is False


def test_a_fault_answer_fails_the_command_with_its_code(client, db_session, ent):
    d = bound_device(client, db_session, ent)
    cmd = commands.queue_command(db_session, d, "set_parameters",
                                 {"values": "Device.X_Nope = 1"}, by="tester")
    db_session.commit()
    client.post("/acs", data=inform(d.mac), headers=ent.headers)
    client.post("/acs", data=b"")  # the metrics read
    r = client.post("/acs", data=gpv_response({}, cwmp_id="metrics"))
    assert b"<cwmp:SetParameterValues>" in r.data
    fault = ('<soap:Fault><faultcode>Client</faultcode><faultstring>CWMP fault</faultstring>'
             "<detail><cwmp:Fault><FaultCode>9005</FaultCode><FaultString>Invalid parameter "
             "name</FaultString></cwmp:Fault></detail></soap:Fault>")
    body = (f'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
            f'xmlns:cwmp="{NS}"><soap:Header><cwmp:ID>x</cwmp:ID></soap:Header><soap:Body>'
            f"{fault}</soap:Body></soap:Envelope>").encode()
    assert client.post("/acs", data=body).status_code == 204
    db_session.commit()
    failed = db_session.get(DeviceCommand, cmd.id)
    assert (failed.status, failed.fault_code) == (CommandStatus.failed, 9005)
    retried = commands.retry_command(db_session, failed, by="tester")
    db_session.commit()
    assert retried.status == CommandStatus.queued and retried.id != failed.id


@pytest.mark.parametrize("code", ["184467440737095516160", "-1", "abc", "9 005"])
def test_a_fault_code_that_is_no_cwmp_code_fails_the_command_without_a_500(client, db_session,
                                                                            ent, code):
    d = bound_device(client, db_session, ent)
    cmd = commands.queue_command(db_session, d, "reboot", {}, by="tester")
    db_session.commit()
    assert b"<cwmp:Reboot>" in first_rpc(client, d, ent).data
    body = (f'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
            f'xmlns:cwmp="{NS}"><soap:Header><cwmp:ID>x</cwmp:ID></soap:Header><soap:Body>'
            "<soap:Fault><faultcode>Client</faultcode><faultstring>CWMP fault</faultstring>"
            f"<detail><cwmp:Fault><FaultCode>{code}</FaultCode><FaultString>odd</FaultString>"
            "</cwmp:Fault></detail></soap:Fault></soap:Body></soap:Envelope>").encode()
    assert client.post("/acs", data=body).status_code == 204
    db_session.commit()
    failed = db_session.get(DeviceCommand, cmd.id)
    assert failed.status == CommandStatus.failed and failed.fault_string == "odd"
    assert failed.fault_code == 0


def test_a_transfer_fault_with_an_odd_code_still_fails_the_transfer(client, db_session, ent):
    d = bound_device(client, db_session, ent)
    cmd = commands.queue_command(db_session, d, "download", {"file_type": "1 Firmware Upgrade "
                                 "Image", "url": "http://192.0.2.1/fw.rom"}, by="tester")
    db_session.commit()
    assert b"<cwmp:Download>" in first_rpc(client, d, ent).data
    client.post("/acs", data=response("DownloadResponse", "<Status>1</Status>"))
    client.post("/acs", data=inform(d.mac, ["7 TRANSFER COMPLETE"]), headers=ent.headers)
    r = client.post("/acs", data=response(
        "TransferComplete", f"<CommandKey>cmd{cmd.id}</CommandKey><FaultStruct><FaultCode>"
        "99999999999999999999999</FaultCode><FaultString>no space</FaultString></FaultStruct>"))
    assert r.status_code == 200 and b"TransferCompleteResponse" in r.data
    db_session.commit()
    failed = db_session.get(DeviceCommand, cmd.id)
    assert failed.status == CommandStatus.failed and failed.fault_string == "no space"


@pytest.mark.parametrize("url", ["http://[::1", "http://[::1]:99999/x", "http://host:port/"])
def test_a_malformed_download_url_is_refused_with_a_message(db_session, ent, url):
    d = db_session.execute(select(Device).where(Device.enterprise_id == ent.E)).scalars().first()
    with pytest.raises(commands.CommandError):
        commands.queue_command(db_session, d, "download",
                               {"file_type": "1 Firmware Upgrade Image", "url": url}, by="t")
    db_session.rollback()


def test_unknown_cpe_method_gets_fault_9000_not_a_500(client, db_session, ent):
    d = bound_device(client, db_session, ent)
    client.post("/acs", data=inform(d.mac), headers=ent.headers)
    r = client.post("/acs", data=response("RequestDownload", "<FileType>x</FileType>"))
    assert r.status_code == 200
    assert b"<FaultCode>9000</FaultCode>" in r.data


def test_transfer_complete_is_answered(client, db_session, ent):
    d = bound_device(client, db_session, ent)
    client.post("/acs", data=inform(d.mac, ["7 TRANSFER COMPLETE"]), headers=ent.headers)
    r = client.post("/acs", data=response(
        "TransferComplete", "<CommandKey>cmd999999</CommandKey><FaultStruct><FaultCode>0"
        "</FaultCode><FaultString></FaultString></FaultStruct>"))
    assert r.status_code == 200 and b"TransferCompleteResponse" in r.data


# --- upload one-time URLs ---------------------------------------------------------------------


def upload_url(client, db_session, ent):
    d = bound_device(client, db_session, ent)
    cmd = commands.queue_command(db_session, d, "upload",
                                 {"file_type": "2 Vendor Log File"}, by="tester")
    db_session.commit()
    r = first_rpc(client, d, ent)
    assert b"<cwmp:Upload>" in r.data
    url = r.data.decode().split("<URL>")[1].split("</URL>")[0]
    return cmd, url


def test_upload_url_takes_one_file_and_refuses_a_replay(client, db_session, ent):
    cmd, url = upload_url(client, db_session, ent)
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    assert client.put(path, data=b"log line\n" * 10).status_code == 204
    assert client.put(path, data=b"replayed").status_code == 404
    db_session.commit()
    stored = db_session.get(DeviceCommand, cmd.id)
    assert stored.file_size == 90 and stored.upload_token is None


def test_uploaded_files_are_deleted_after_their_retention(app, client, db_session, ent,
                                                         tmp_path):
    import datetime

    from app.device_ops import inventory

    cmd, url = upload_url(client, db_session, ent)
    assert client.put("/" + url.split("://", 1)[1].split("/", 1)[1], data=b"log").status_code \
        == 204
    stored = db_session.get(DeviceCommand, cmd.id)
    stored.finished_on = datetime.datetime(2026, 1, 1)
    db_session.commit()
    store = app.config.get("FILE_STORE_DIR") or os.path.join(app.instance_path, "files")
    path = os.path.join(store, stored.file_name)
    assert os.path.exists(path)
    later = datetime.datetime(2026, 1, 20)
    assert inventory.prune_uploaded_files(db_session, store, 30, now=later) == 0
    assert inventory.prune_uploaded_files(db_session, store, 30,
                                          now=later + datetime.timedelta(days=20)) >= 1
    db_session.commit()
    assert db_session.get(DeviceCommand, cmd.id).file_name is None
    assert not os.path.exists(path)


def test_upload_over_the_limit_is_refused_and_stores_nothing(app, client, db_session, ent,
                                                             monkeypatch):
    cmd, url = upload_url(client, db_session, ent)
    monkeypatch.setitem(app.extensions["ymcs_acs"].config, "UPLOAD_MAX_BYTES", 100)
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    assert client.put(path, data=b"x" * 101).status_code == 413
    db_session.commit()
    assert db_session.get(DeviceCommand, cmd.id).file_name is None
    assert client.put(path, data=b"x" * 100).status_code == 204  # the URL is still good


# --- bad input --------------------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">
<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>&lol3;
</soap:Body></soap:Envelope>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><a>&xxe;</a>
</soap:Body></soap:Envelope>"""


@pytest.mark.parametrize("body", [
    b"<not xml", b"\xff\xfe\x00garbage", BILLION_LAUGHS, EXTERNAL_ENTITY,
    b'<?xml version="1.0"?><html><body/></html>',
    inform("001565aaaaaa", ns="urn:example:not-cwmp"),
    inform("001565aaaaab", cwmp_id=None),
    inform("not-a-mac", serial="", oui=""),
    inform("00:15:65:zz:00:01", serial="", oui=""),
], ids=["malformed", "binary", "billion-laughs", "external-entity", "not-soap",
        "wrong-namespace", "no-cwmp-id", "no-identity-mac-word", "no-identity-mac-bad-hex"])
def test_bad_envelopes_get_4xx_and_store_nothing(client, db_session, ent, body):
    before = device_count(db_session)
    r = client.post("/acs", data=body, headers=ent.headers)
    assert 400 <= r.status_code < 500
    assert device_count(db_session) == before


@pytest.fixture(scope="module")
def acs_address(app):
    """The portal served over real HTTP (a threaded werkzeug server): (host, port)."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="acs-server", daemon=True)
    thread.start()
    yield "127.0.0.1", server.server_port
    server.shutdown()
    thread.join(PATIENCE)
    server.server_close()


def test_a_50_mb_body_is_refused_without_reading_it(acs_address, ent):
    """The device announces 50 MB and sends its first kilobyte: the answer comes at once,
    before the rest (which never comes), so nothing waited for or read the body."""
    import socket

    head = (f"POST /acs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml\r\n"
            f"Authorization: {ent.headers['Authorization']}\r\n"
            f"Content-Length: {50 * 1024 * 1024}\r\n\r\n").encode()
    with socket.create_connection(acs_address, timeout=PATIENCE) as device:
        device.sendall(head + b"<" + b"a" * 1023)
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = device.recv(4096)
            assert chunk, f"the ACS closed the connection without an answer: {answer!r}"
            answer += chunk
    status, *headers = answer.split(b"\r\n\r\n")[0].decode().split("\r\n")
    assert status.split()[1] == "413"
    assert "connection: close" in [h.lower() for h in headers]


def test_answers_without_a_session_and_other_methods_are_4xx(client, ent):
    assert client.get("/acs").status_code == 405
    r = client.post("/acs", data=gpv_response({"a": "b"}), headers=ent.headers)
    assert r.status_code == 400 and b"<FaultCode>8003</FaultCode>" in r.data
    assert client.post("/acs", data=b"", headers=ent.headers).status_code == 204  # just ends
    # without credentials, whatever the body: the challenge, before anything else
    for body in (gpv_response({"a": "b"}), b"", b"<not xml", inform("", serial="", oui="")):
        r = client.post("/acs", data=body)
        assert r.status_code == 401 and b"Envelope" not in r.data, body[:40]
        assert r.headers.get("WWW-Authenticate", "").startswith("Digest ")
    assert client.get("/acs/nowhere").status_code == 404
    assert client.put("/acs/upload/not-a-token", data=b"x").status_code == 404


def test_forged_session_cookie_is_ignored(client, db_session, ent):
    d = bound_device(client, db_session, ent)
    commands.queue_command(db_session, d, "reboot", {}, by="tester")
    db_session.commit()
    client.set_cookie("cwmp_session", json.dumps({"d": d.id}), path="/acs")
    assert client.post("/acs", data=b"").status_code == 401
    assert queued(db_session, d.id)[-1].status == CommandStatus.queued


def test_the_scheduled_device_jobs_sweep_what_is_due_and_nothing_else(app, client, db_session,
                                                                     ent):
    import datetime

    from app.models import utcnow

    jobs = {job.name: job for job in app.extensions["ymcs_jobs"]}
    # Past every default: two missed periodic Informs (15 min each), the command timeout
    # (an hour), the sample retention (7 days), the uploaded files' retention (30 days).
    long_ago = utcnow() - datetime.timedelta(days=40)
    silent, heard = bound_device(client, db_session, ent), bound_device(client, db_session, ent)
    silent.offline_after = long_ago
    stuck = commands.queue_command(db_session, heard, "reboot", by="tester")
    waiting = commands.queue_command(db_session, heard, "reboot", by="tester")
    stuck.updated_on = long_ago
    db_session.add_all([DeviceSample(device_id=heard.id, cpu_usage=5, taken_on=long_ago),
                        DeviceSample(device_id=heard.id, cpu_usage=6, taken_on=utcnow())])
    db_session.commit()
    old_file, url = upload_url(client, db_session, ent)
    assert client.put("/" + url.split("://", 1)[1].split("/", 1)[1], data=b"log").status_code \
        == 204
    db_session.commit()
    old_file = db_session.get(DeviceCommand, old_file.id)
    old_file.finished_on = long_ago
    db_session.commit()
    path = os.path.join(app.config["FILE_STORE_DIR"], old_file.file_name)
    assert os.path.exists(path)

    with app.app_context():  # as the Ticker runs them: no arguments, in an app context
        jobs["sweep_devices"].func()
        jobs["prune_device_data"].func()

    db_session.commit()  # a new snapshot
    assert (device(db_session, silent.mac).online, device(db_session, heard.mac).online) == (
        False, True)
    assert db_session.get(DeviceCommand, stuck.id).status == CommandStatus.failed
    assert "did not connect in time" in db_session.get(DeviceCommand, stuck.id).fault_string
    assert db_session.get(DeviceCommand, waiting.id).status == CommandStatus.queued
    assert db_session.execute(select(DeviceSample.cpu_usage).where(
        DeviceSample.device_id == heard.id)).scalars().all() == [6]
    assert db_session.get(DeviceCommand, old_file.id).file_name is None
    assert not os.path.exists(path)


def test_session_cookie_is_secure_when_configured(app, db_session, ent):
    from ..conftest import make_app

    plain = app.test_client().post("/acs", data=inform(new_mac()), headers=ent.headers)
    assert plain.status_code == 200 and "Secure" not in plain.headers["Set-Cookie"]
    secure_app = make_app(app.config["SQLALCHEMY_DATABASE_URI"], CWMP_COOKIE_SECURE=True)
    r = secure_app.test_client().post("/acs", data=inform(new_mac()), headers=ent.headers)
    assert r.status_code == 200
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("cwmp_session=") and "Secure" in cookie and "HttpOnly" in cookie


def test_upload_url_is_built_from_acs_public_url_not_the_host_header(client, db_session, ent,
                                                                    monkeypatch):
    monkeypatch.setitem(client.application.config, "ACS_PUBLIC_URL",
                        "https://acs.example.com/acs")
    d = bound_device(client, db_session, ent)
    commands.queue_command(db_session, d, "upload", {"file_type": "2 Vendor Log File"},
                           by="tester")
    db_session.commit()
    body = first_rpc(client, d, ent).data.decode()
    url = body.split("<URL>")[1].split("</URL>")[0]
    assert url.startswith("https://acs.example.com/acs/upload/")


def test_a_host_outside_trusted_hosts_is_refused_before_anything_is_read(client, db_session,
                                                                         ent):
    mac = new_mac()
    r = client.post("/acs", data=inform(mac), headers={**ent.headers, "Host": "evil.example"})
    assert r.status_code == 400 and device(db_session, mac) is None
    r = client.post("/acs", data=inform(mac), headers={**ent.headers, "Host": "127.0.0.1"})
    assert r.status_code == 200
