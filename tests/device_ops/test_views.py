"""Platform Device and Device Access over HTTP: the list's sub-channel column at each level of
the tree, its filters, a device's page, queueing every kind of command (and refusing bad
input), connection requests to a real listener, retry, uploaded files and the ACS
credentials; always with another tree's ids answering 404."""

import datetime
import http.server
import json
import re
import threading
import uuid

import pytest
from sqlalchemy import event, func, select

from app.accounts import roles
from app.core.show import format_mac
from app.device_ops import auth
from app.extensions import db
from app.models import (
    AccountKind,
    CommandStatus,
    Device,
    DeviceCommand,
    DeviceSample,
    Enterprise,
    utcnow,
)

LIST = "/devicemodelview/list/"


def _device(session, enterprise_id, model, online=True, **fields):
    device = Device(mac=uuid.uuid4().hex[:12], model=model, firmware="96.86.0.70",
                    ip="10.1.2.3", enterprise_id=enterprise_id, online=online,
                    last_seen=utcnow(), **fields)
    session.add(device)
    session.flush()
    return device.id


@pytest.fixture
def devs(app, fresh_tree):
    """A fresh tree whose new devices all have a model of their own (``t.model``)."""
    t = fresh_tree
    t.model = f"M-{t.prefix}"
    with app.app_context():
        s = db.session
        t.a_own = s.execute(select(Enterprise.id).where(
            Enterprise.channel_id == t.A, Enterprise.is_channel_own.is_(True))).scalar_one()
        t.d_e = _device(s, t.E, t.model, manufacturer="Yealink", oui="001565",
                        product_class="SIP-T54W", serial="SN-E-1", data_model="Device",
                        cr_password="cr-secret-never-shown", periodic_interval=900,
                        parameters=json.dumps({
                            "Device.DeviceInfo.SoftwareVersion": "96.86.0.70",
                            "Device.ManagementServer.ConnectionRequestPassword":
                                "cr-secret-never-shown"}),
                        parameters_read_on=utcnow())
        t.d_e_off = _device(s, t.E, t.model, online=False)
        t.d_eb = _device(s, t.EB, t.model)
        t.d_aown = _device(s, t.a_own, t.model)
        t.d_se = _device(s, t.SE, t.model)
        t.d_er = _device(s, t.ER, t.model)
        s.commit()
    return t


def _mac(app, device_id):
    with app.app_context():
        return db.session.get(Device, device_id).mac


def _cells(page, mac):
    """The list row of ``mac`` as {column heading: text}."""
    head = re.search(r"<thead>(.*?)</thead>", page, re.S).group(1)
    headings = [re.sub(r"<.*?>", "", h).strip() for h in re.findall(r"<th.*?>(.*?)</th>", head,
                                                                     re.S)][:-1]
    shown = format_mac(mac)  # listed with separators
    row = re.search(rf">{shown}</a></td>(.*?)<td class=\"text-nowrap\">", page, re.S)
    assert row, f"{mac} is not listed"
    return dict(zip(headings, [mac, *re.findall(r"<td>(.*?)</td>", row.group(1), re.S)],
                    strict=True))


def _listed(page):
    return {m.replace(":", "") for m in re.findall(
        r'/devicemodelview/show/\d+">((?:[0-9a-f]{2}:){5}[0-9a-f]{2})<', page)}


def _commands(app, device_id):
    with app.app_context():
        return db.session.execute(select(DeviceCommand).where(
            DeviceCommand.device_id == device_id).order_by(DeviceCommand.id)).scalars().all()


def _count_commands(app):
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(DeviceCommand)).scalar()


def _add_command(app, device_id, kind="ping", status=CommandStatus.failed, **fields):
    arguments = fields.pop("arguments", {"host": "sip.example.com", "count": 4})
    with app.app_context():
        command = DeviceCommand(device_id=device_id, kind=kind, arguments=json.dumps(arguments),
                                status=status, created_by="someone", **fields)
        db.session.add(command)
        db.session.commit()
        return command.id


# --- the list --------------------------------------------------------------------------------


VIA = "Sub-channel / Enterprise"


def test_each_level_sees_what_is_just_below_it(app, login, devs):
    """A → B → C → E: A sees B, B sees C, C sees E (spec, "Devices on the Platform")."""
    t = devs
    p = t.prefix
    url = f"{LIST}?model={t.model}"
    e_mac, eb_mac, own_mac = _mac(app, t.d_e), _mac(app, t.d_eb), _mac(app, t.d_aown)
    page = login(t.a_email, t.password).get(url).get_data(as_text=True)
    assert _cells(page, e_mac)[VIA] == f"{p}-B"
    assert _cells(page, eb_mac)[VIA] == f"{p}-B"
    assert _cells(page, own_mac)[VIA] == f"{p}-A"  # A's own enterprise, right below A
    page = login(t.b_email, t.password).get(url).get_data(as_text=True)
    assert _cells(page, e_mac)[VIA] == f"{p}-C"
    assert _cells(page, eb_mac)[VIA] == f"{p}-EB"
    assert own_mac not in _listed(page)
    page = login(t.c_email, t.password).get(url).get_data(as_text=True)
    row = _cells(page, e_mac)
    assert row[VIA] == f"{p}-E" and row["Enterprise"] == f"{p}-E"
    assert row["Model"] == t.model and re.sub(r"<.*?>", "", row["Status"]) == "Online"
    assert row["Firmware"] == "96.86.0.70" and row["IP Address"] == "10.1.2.3"
    # A's sub-account (granted B's subtree) sees it from A's place in the tree
    page = login(t.sub_email, t.password).get(url).get_data(as_text=True)
    assert _cells(page, e_mac)[VIA] == f"{p}-B"


def test_the_platform_sees_the_top_level_channel_and_an_enterprise_no_such_column(
        app, login, devs):
    t = devs
    page = login(t.admin_email, t.password).get(f"{LIST}?model={t.model}").get_data(
        as_text=True)
    assert _cells(page, _mac(app, t.d_e))[VIA] == f"{t.prefix}-A"
    assert _cells(page, _mac(app, t.d_se))[VIA] == f"{t.prefix}-S"
    page = login(t.ent_email, t.password).get(f"{LIST}?model={t.model}").get_data(as_text=True)
    assert VIA not in page
    assert _listed(page) == {_mac(app, t.d_e), _mac(app, t.d_e_off)}


def test_the_column_costs_no_query_per_row_whatever_the_page_size(app, login, devs):
    t = devs
    a = login(t.a_email, t.password)
    statements = []

    def count(*_args):
        statements.append(1)

    def run(size):
        url = f"{LIST}?model={t.model}&psize={size}"
        a.get(url)  # the count is remembered or not: the second view is the steady state
        statements.clear()
        page = a.get(url).get_data(as_text=True)
        return len(statements), len(_listed(page))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            few, rows_few = run(2)  # A's own enterprise (named as it is) and EB (under B)
            many, rows_many = run(50)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
    assert (rows_few, rows_many) == (2, 4)
    assert few == many


def test_filters_by_model_status_and_enterprise(app, login, devs):
    t = devs
    a = login(t.a_email, t.password)
    mine = {_mac(app, d) for d in (t.d_e, t.d_e_off, t.d_eb, t.d_aown)}
    assert _listed(a.get(f"{LIST}?model={t.model}").get_data(as_text=True)) == mine
    assert not _listed(a.get(f"{LIST}?model=no-such-model").get_data(as_text=True))
    offline = a.get(f"{LIST}?model={t.model}&online=0").get_data(as_text=True)
    assert _listed(offline) == {_mac(app, t.d_e_off)}
    online = a.get(f"{LIST}?model={t.model}&online=1").get_data(as_text=True)
    assert _listed(online) == mine - {_mac(app, t.d_e_off)}
    page = a.get(f"{LIST}?model={t.model}&enterprise={t.E}").get_data(as_text=True)
    assert _listed(page) == {_mac(app, t.d_e), _mac(app, t.d_e_off)}
    assert f'<option value="{t.E}" selected>{t.prefix}-E</option>' in page
    # the model choices come from the devices
    assert f'<option value="{t.model}" selected>' in page


def test_an_enterprise_filter_out_of_scope_shows_nothing(app, login, devs):
    t = devs
    a = login(t.a_email, t.password)
    page = a.get(f"{LIST}?enterprise={t.SE}").get_data(as_text=True)
    assert not _listed(page)
    assert f"{t.prefix}-SE" not in page  # not even its name
    # a rejecting enterprise: in scope, but its devices are not
    assert not _listed(a.get(f"{LIST}?enterprise={t.ER}").get_data(as_text=True))
    # garbage is no filter at all
    assert _mac(app, t.d_e) in _listed(a.get(
        f"{LIST}?model={t.model}&enterprise=abc").get_data(as_text=True))


def test_model_filter_lists_only_models_of_devices_in_scope(app, login, devs):
    t = devs
    theirs, rejecting = f"S-only-{t.prefix}", f"ER-only-{t.prefix}"
    with app.app_context():
        _device(db.session, t.SE, theirs)
        _device(db.session, t.ER, rejecting)  # in A's tree, but its devices are not A's to see
        db.session.commit()

    def options(email):
        page = login(email, t.password).get(LIST).get_data(as_text=True)
        return set(re.findall(r'<option value="([^"]*)"', page))

    mine = options(t.a_email)
    assert t.model in mine and theirs not in mine and rejecting not in mine
    assert theirs in options(t.s_email)
    assert {t.model, theirs, rejecting} <= options(t.admin_email)


def test_enterprise_search_box_lists_only_enterprises_in_scope(login, devs):
    t = devs
    names = [r["text"] for r in login(t.b_email, t.password).get(
        f"/devicemodelview/enterprises?q={t.prefix}").get_json()["results"]]
    assert f"{t.prefix}-E" in names and f"{t.prefix}-EB" in names
    assert f"{t.prefix}-SE" not in names and f"{t.prefix}-A" not in names


def test_finance_sees_no_devices(app, login, devs):
    t = devs
    with app.app_context():
        sm = app.appbuilder.sm
        email = f"finance@{t.prefix}.test"
        user = sm.add_user(username=email, first_name="f", last_name="f", email=email,
                           role=sm.find_role(roles.CHANNEL_FINANCE), password=t.password)
        user.kind, user.channel_id = AccountKind.channel_sub, t.A
        db.session.commit()
    finance = login(email, t.password)
    for url in (LIST, f"/devicemodelview/show/{t.d_e}", "/devicemodelview/enterprises",
                "/deviceaccess/"):
        assert finance.get(url).status_code == 403, url
    assert finance.post(f"/devicemodelview/command/{t.d_e}",
                        data={"kind": "reboot"}).status_code == 403
    assert not _commands(app, t.d_e)


# --- a device's page ------------------------------------------------------------------------


def test_device_page_shows_identity_parameters_and_never_the_cr_password(app, login, devs):
    t = devs
    password = "Device.ManagementServer.ConnectionRequestPassword"
    _add_command(app, t.d_e, "setup", CommandStatus.done,  # what the ACS queues at bootstrap
                 arguments={"values": [[password, "cr-secret-never-shown", "xsd:string"]],
                            "notify": []})
    _add_command(app, t.d_e, "get_parameters", CommandStatus.done,
                 arguments={"names": ["Device.ManagementServer."]},
                 result=json.dumps({"values": {password: "cr-secret-never-shown"}}))
    page = login(t.c_email, t.password).get(f"/devicemodelview/show/{t.d_e}").get_data(
        as_text=True)
    shown = format_mac(_mac(app, t.d_e))  # the heading and the identity say it separated
    assert re.search(rf"<h4[^>]*>\s*Device {shown}\s", page)
    assert f"<td>{shown}</td>" in page
    for text in ("Yealink", "001565", "SIP-T54W", "SN-E-1", "96.86.0.70",
                 f"{t.prefix}-E", "every 900 seconds", "Device.DeviceInfo.SoftwareVersion"):
        assert text in page, text
    assert 'id="device-cr-url">No<' in page
    assert "cr-secret-never-shown" not in page  # not the device's, not in what was set or read
    assert page.count(password) >= 3 and "••••••" in page  # named, with its value hidden
    assert 'id="no-samples"' in page and "<svg" not in page


def test_device_page_draws_cpu_and_memory_over_the_chosen_range(app, login, devs):
    t = devs
    now = utcnow()
    with app.app_context():
        # every periodic contact (15 minutes) for the last hour; once three days ago
        for minutes, cpu, free in ((45, 10, 600), (30, 40, 500), (15, 20, 400),
                                   (72 * 60, 90, 100)):
            db.session.add(DeviceSample(device_id=t.d_e, taken_on=now - datetime.timedelta(
                minutes=minutes), cpu_usage=cpu, memory_total=1000, memory_free=free))
        db.session.commit()
    c = login(t.c_email, t.password)
    day = c.get(f"/devicemodelview/show/{t.d_e}").get_data(as_text=True)
    svg = re.search(r"<svg.*?</svg>", day, re.S).group(0)
    assert svg.count('<polyline class="ymcs-cpu"') == 1
    assert svg.count('<polyline class="ymcs-memory"') == 1
    points = re.search(r'class="ymcs-cpu".*?points="([^"]+)"', svg).group(1).split()
    assert len(points) == 3  # the sample of three days ago is outside the last 24 hours
    week = c.get(f"/devicemodelview/show/{t.d_e}?range=7d").get_data(as_text=True)
    # three days ago stands alone (a gap of two days): a dot, not a line across the gap
    assert '<circle class="ymcs-cpu"' in week and '<polyline class="ymcs-cpu"' in week
    assert 'id="range-7d" href' in week and 'btn btn-default active" id="range-7d"' in week


@pytest.mark.parametrize("who, device", [("c", "d_se"), ("c", "d_er"), ("s", "d_e"),
                                         ("b", "d_aown"), ("ent", "d_eb")])
def test_device_of_another_tree_or_a_non_authorizing_enterprise_is_404(login, devs, who,
                                                                        device):
    t = devs
    browser = login(getattr(t, f"{who}_email"), t.password)
    assert browser.get(f"/devicemodelview/show/{getattr(t, device)}").status_code == 404
    for garbage in ("abc", "0", "-5", "99999999999999999999"):
        assert browser.get(f"/devicemodelview/show/{garbage}").status_code == 404


def test_history_is_newest_first_20_a_page(app, login, devs):
    t = devs
    ids = [_add_command(app, t.d_e, status=CommandStatus.done) for _ in range(25)]
    c = login(t.c_email, t.password)
    first = c.get(f"/devicemodelview/show/{t.d_e}").get_data(as_text=True)
    shown = [int(i) for i in re.findall(r'<tr id="history-(\d+)"', first)]
    assert shown == ids[::-1][:20]
    second = c.get(f"/devicemodelview/show/{t.d_e}?page=2").get_data(as_text=True)
    assert [int(i) for i in re.findall(r'<tr id="history-(\d+)"', second)] == ids[4::-1]


def test_results_are_shown_readably(app, login, devs, monkeypatch, tmp_path):
    t = devs
    now = utcnow()
    _add_command(app, t.d_e, "get_parameters", CommandStatus.done,
                 arguments={"names": ["Device.DeviceInfo."]}, finished_on=now,
                 result=json.dumps({"values": {"Device.DeviceInfo.ModelName": "T54W"}}))
    _add_command(app, t.d_e, "ping", CommandStatus.done, finished_on=now,
                 result=json.dumps({"state": "Complete", "success": 3, "failure": 1,
                                    "avg_ms": 12, "min_ms": 9, "max_ms": 20}))
    _add_command(app, t.d_e, "traceroute", CommandStatus.done,
                 arguments={"host": "sip.example.com", "max_hops": 30},
                 result=json.dumps({"state": "Complete", "response_ms": 30, "hops": [
                     {"host": "gw.local", "address": "10.0.0.1", "rtt": "2", "error": 0},
                     {"host": "", "address": "", "rtt": "", "error": 4}]}))
    _add_command(app, t.d_e, "set_parameters", CommandStatus.done,
                 arguments={"values": [["Device.X.Y", "1", "xsd:boolean"]]},
                 result=json.dumps({"status": "1"}))
    _add_command(app, t.d_e, "download", CommandStatus.done,
                 arguments={"file_type": "3 Vendor Configuration File"},
                 result=json.dumps({"start": "2026-01-01T09:59:00Z",
                                    "complete": "2026-01-01T10:00:00Z"}))
    upload = _add_command(app, t.d_e, "upload", CommandStatus.done,
                          arguments={"file_type": "2 Vendor Log File"},
                          file_name="uploads/x.log", file_size=2048)
    _add_command(app, t.d_e, "reboot", CommandStatus.failed, arguments={},
                 fault_code=9002, fault_string="Internal error")
    page = login(t.c_email, t.password).get(f"/devicemodelview/show/{t.d_e}").get_data(
        as_text=True)
    for text in ("Device.DeviceInfo.ModelName", "T54W", "Replies 3, lost 1",
                 "Round trip min/avg/max: 9/12/20 ms", "gw.local", "(10.0.0.1) &middot; 2 ms",
                 "error 4", "Device.X.Y = 1", "Applied; takes effect after a reboot",
                 "Configuration file: the device&#39;s provisioning file",
                 "Completed on the device at 2026-01-01T10:00:00Z",
                 "Fault 9002: Internal error", f"/devicemodelview/command/{upload}/file",
                 "2.0 kB", "Log file", "sip.example.com, at most 30 hops",
                 "sip.example.com, 4 packets"):
        assert text in page, text
    assert "error 0" not in page  # a hop without an error


# --- commands --------------------------------------------------------------------------------

KIND_CASES = [
    ("get_parameters", {"names": "Device.DeviceInfo.\r\nDevice.ManagementServer.URL"},
     {"names": ["Device.DeviceInfo.", "Device.ManagementServer.URL"]}),
    ("set_parameters",
     {"values": "Device.ManagementServer.PeriodicInformInterval = 600 : xsd:unsignedInt\n"
                "Device.X_Yealink.Label = front desk"},
     {"values": [["Device.ManagementServer.PeriodicInformInterval", "600", "xsd:unsignedInt"],
                 ["Device.X_Yealink.Label", "front desk", "xsd:string"]]}),
    ("download", {"file_type": "3 Vendor Configuration File", "url": ""},
     {"file_type": "3 Vendor Configuration File"}),
    ("download", {"file_type": "1 Firmware Upgrade Image",
                  "url": "https://fw.example.com/T54W.rom"},
     {"file_type": "1 Firmware Upgrade Image", "url": "https://fw.example.com/T54W.rom"}),
    ("upload", {"file_type": "2 Vendor Log File"}, {"file_type": "2 Vendor Log File"}),
    ("reboot", {}, {}),
    ("ping", {"host": "sip.example.com", "count": "3", "names": "ignored"},
     {"host": "sip.example.com", "count": 3}),
    ("traceroute", {"host": "192.0.2.1", "max_hops": ""}, {"host": "192.0.2.1", "max_hops": 30}),
]


@pytest.mark.parametrize("kind, form, stored", KIND_CASES)
def test_queueing_each_kind_stores_its_cleaned_arguments(app, login, devs, kind, form, stored):
    t = devs
    c = login(t.c_email, t.password)
    response = c.post(f"/devicemodelview/command/{t.d_e}", data={"kind": kind, **form})
    assert response.status_code == 302
    [command] = _commands(app, t.d_e)
    assert command.kind == kind and json.loads(command.arguments) == stored
    assert command.status == CommandStatus.queued and command.created_by == t.c_email
    with app.app_context():
        assert db.session.get(Device, t.d_e).has_work
    page = c.get(response.headers["Location"]).get_data(as_text=True)
    assert "was queued; it runs at the device&#39;s next contact." in page
    assert f'<tr id="history-{command.id}" data-kind="{kind}" data-status="queued">' in page


def test_an_enterprise_admin_may_queue_too(app, login, devs):
    t = devs
    ent = login(t.ent_email, t.password)
    assert ent.post(f"/devicemodelview/command/{t.d_e}",
                    data={"kind": "reboot"}).status_code == 302
    assert [c.created_by for c in _commands(app, t.d_e)] == [t.ent_email]


def test_a_channel_working_in_an_enterprise_queues_under_its_own_name(app, login, devs):
    t = devs
    c = login(t.c_email, t.password)
    assert c.post(f"/act-as/enterprise/{t.E}").status_code == 302
    assert VIA not in c.get(LIST).get_data(as_text=True)  # the enterprise's own list
    assert c.post(f"/devicemodelview/command/{t.d_e}", data={"kind": "reboot"}
                  ).status_code == 302
    assert c.post(f"/devicemodelview/command/{t.d_eb}", data={"kind": "reboot"}
                  ).status_code == 404  # B's enterprise: not this enterprise's device
    assert [c.created_by for c in _commands(app, t.d_e)] == [t.c_email]


BAD_INPUT = [
    ("ping", {"host": "bad host!", "count": "4"}, "Enter a host name or an IP address.",
     'value="bad host!"'),
    ("ping", {"host": "sip.example.com", "count": "999"},
     "Count must be a whole number from 1 to 64.", 'value="999"'),
    ("get_parameters", {"names": "Device..Broken"}, "Not a parameter name: Device..Broken",
     ">Device..Broken</textarea>"),
    ("set_parameters", {"values": "no equals sign"}, "Not a parameter name: no equals sign",
     ">no equals sign</textarea>"),
    ("download", {"file_type": "9 Anything", "url": ""}, "Choose a file type.", None),
    ("download", {"file_type": "1 Firmware Upgrade Image", "url": "ftp://x"},
     "Enter a full http:// or https:// URL.", 'value="ftp://x"'),
    ("format_flash", {}, "Unknown command.", None),
]


@pytest.mark.parametrize("kind, form, message, kept", BAD_INPUT)
def test_bad_input_is_refused_with_a_message_and_nothing_is_stored(app, login, devs, kind,
                                                                   form, message, kept):
    t = devs
    before = _count_commands(app)
    response = login(t.c_email, t.password).post(f"/devicemodelview/command/{t.d_e}",
                                                 data={"kind": kind, **form})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    if kept:
        assert kept in page  # what was typed is still there to correct
    assert _count_commands(app) == before
    with app.app_context():
        assert not db.session.get(Device, t.d_e).has_work


def test_get_never_queues_and_another_trees_device_is_404(app, login, devs):
    t = devs
    c = login(t.c_email, t.password)
    before = _count_commands(app)
    assert c.get(f"/devicemodelview/command/{t.d_e}?kind=reboot").status_code == 405
    c.get(f"/devicemodelview/show/{t.d_e}")
    assert c.post(f"/devicemodelview/command/{t.d_se}", data={"kind": "reboot"}
                  ).status_code == 404
    assert c.post(f"/devicemodelview/command/{t.d_er}", data={"kind": "reboot"}
                  ).status_code == 404
    assert c.client.post(f"/devicemodelview/command/{t.d_e}", data={"kind": "reboot"}
                         ).status_code == 400  # no CSRF token
    assert _count_commands(app) == before


class _ConnectionRequests:
    """A device's connection request server on 127.0.0.1: HTTP Digest, as TR-069 asks."""

    SECRET = "device-side-secret"

    def __init__(self, username, password):
        self.username, self.password = username, password
        self.requests = []  # (path, authenticated)
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the http.server API
                user = auth.check_authorization(
                    self.headers.get("Authorization"), "GET", owner.SECRET,
                    lambda name: owner.password if name == owner.username else None)
                owner.requests.append((self.path, user is not None))
                if user:
                    self.send_response(204)
                else:
                    self.send_response(401)
                    name, value = auth.challenge_headers(owner.SECRET)[0]
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/cr/{uuid.uuid4().hex[:6]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def _point_at(app, device_id, url, username="acs", password="cr-pass"):
    with app.app_context():
        device = db.session.get(Device, device_id)
        device.cr_url, device.cr_username, device.cr_password = url, username, password
        device.remote_ip = "127.0.0.1"  # its last session came from where it listens
        db.session.commit()


def test_connect_now_sends_an_authenticated_connection_request(app, login, devs):
    t = devs
    with _ConnectionRequests("acs", "cr-pass") as device_side:
        _point_at(app, t.d_e, device_side.url)
        c = login(t.c_email, t.password)
        page = c.post(f"/devicemodelview/command/{t.d_e}",
                      data={"kind": "ping", "host": "sip.example.com", "connect_now": "1"},
                      follow_redirects=True).get_data(as_text=True)
    path = device_side.url.split(":", 2)[2].split("/", 1)[1]
    assert (f"/{path}", True) in device_side.requests
    assert "Ping was queued. The device was asked to connect now." in page
    assert len(_commands(app, t.d_e)) == 1


def test_a_refused_connection_request_leaves_the_command_queued(app, login, devs):
    t = devs
    with _ConnectionRequests("acs", "the-right-one") as device_side:
        _point_at(app, t.d_e, device_side.url, password="a-wrong-one")
        page = login(t.c_email, t.password).post(
            f"/devicemodelview/command/{t.d_e}", data={"kind": "reboot", "connect_now": "1"},
            follow_redirects=True).get_data(as_text=True)
    assert device_side.requests and not any(ok for _, ok in device_side.requests)
    assert "refused the connection request (HTTP 401)" in page
    assert [c.status for c in _commands(app, t.d_e)] == [CommandStatus.queued]


def test_without_connect_now_the_device_is_not_contacted(app, login, devs):
    t = devs
    with _ConnectionRequests("acs", "cr-pass") as device_side:
        _point_at(app, t.d_e, device_side.url)
        page = login(t.c_email, t.password).post(
            f"/devicemodelview/command/{t.d_e}", data={"kind": "reboot"},
            follow_redirects=True).get_data(as_text=True)
    assert device_side.requests == []
    assert "Reboot was queued; it runs at the device&#39;s next contact." in page


def test_connect_now_without_a_connection_request_url_waits_for_the_periodic_contact(
        app, login, devs):
    t = devs
    page = login(t.c_email, t.password).post(
        f"/devicemodelview/command/{t.d_e}", data={"kind": "reboot", "connect_now": "1"},
        follow_redirects=True).get_data(as_text=True)
    assert "next periodic contact" in page
    assert len(_commands(app, t.d_e)) == 1


def test_only_a_failed_command_is_retried(app, login, devs):
    t = devs
    failed = _add_command(app, t.d_e, status=CommandStatus.failed, fault_code=9002)
    done = _add_command(app, t.d_e, status=CommandStatus.done)
    c = login(t.c_email, t.password)
    page = c.get(f"/devicemodelview/show/{t.d_e}").get_data(as_text=True)
    assert f"/devicemodelview/command/{failed}/retry" in page
    assert f"/devicemodelview/command/{done}/retry" not in page
    page = c.post(f"/devicemodelview/command/{done}/retry", follow_redirects=True).get_data(
        as_text=True)
    assert "Only a failed command can be retried." in page
    assert len(_commands(app, t.d_e)) == 2
    assert c.get(f"/devicemodelview/command/{failed}/retry").status_code == 405
    assert c.post(f"/devicemodelview/command/{failed}/retry").status_code == 302
    old, _done, new = _commands(app, t.d_e)
    assert old.status == CommandStatus.failed  # the history keeps the failure
    assert new.status == CommandStatus.queued and new.arguments == old.arguments
    assert new.created_by == t.c_email
    # another tree's command
    theirs = _add_command(app, t.d_se, status=CommandStatus.failed)
    assert c.post(f"/devicemodelview/command/{theirs}/retry").status_code == 404
    assert len(_commands(app, t.d_se)) == 1


def test_an_uploaded_file_downloads_only_within_scope(app, login, devs, monkeypatch,
                                                      tmp_path):
    t = devs
    store = tmp_path / "store"
    monkeypatch.setitem(app.config, "FILE_STORE_DIR", str(store))
    (store / "uploads").mkdir(parents=True)
    (store / "uploads" / "abc.log").write_bytes(b"syslog lines\n")
    (tmp_path / "secret.txt").write_bytes(b"outside the file store")
    upload = _add_command(app, t.d_e, "upload", CommandStatus.done,
                          arguments={"file_type": "2 Vendor Log File"},
                          file_name="uploads/abc.log", file_size=13)
    pending = _add_command(app, t.d_e, "upload", CommandStatus.waiting,
                           arguments={"file_type": "2 Vendor Log File"})
    escaping = _add_command(app, t.d_e, "upload", CommandStatus.done,
                            arguments={"file_type": "2 Vendor Log File"},
                            file_name="../secret.txt")
    gone = _add_command(app, t.d_e, "upload", CommandStatus.done,
                        arguments={"file_type": "2 Vendor Log File"},
                        file_name="uploads/pruned.log")
    c = login(t.c_email, t.password)
    response = c.get(f"/devicemodelview/command/{upload}/file")
    assert response.status_code == 200 and response.data == b"syslog lines\n"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert _mac(app, t.d_e) in response.headers["Content-Disposition"]
    for pk in (pending, gone, "abc", 0):
        assert c.get(f"/devicemodelview/command/{pk}/file").status_code == 404, pk
    assert c.get(f"/devicemodelview/command/{escaping}/file").status_code == 404
    s = login(t.s_email, t.password)
    assert s.get(f"/devicemodelview/command/{upload}/file").status_code == 404
    b_sees = login(t.b_email, t.password)  # B sees E's devices: E authorizes the chain
    assert b_sees.get(f"/devicemodelview/command/{upload}/file").status_code == 200


# --- Device Access ---------------------------------------------------------------------------


def test_device_access_shows_own_credentials_and_makes_the_password_by_post(app, login,
                                                                            devs):
    t = devs
    ent = login(t.ent_email, t.password)
    page = ent.get("/deviceaccess/").get_data(as_text=True)
    assert f'id="acs-username">ent{t.E}<' in page
    assert 'id="acs-url">http://localhost/acs<' in page
    assert 'id="provisioning-url">http://localhost/provisioning/<' in page
    assert 'id="acs-generate"' in page
    with app.app_context():
        assert db.session.get(Enterprise, t.E).acs_password is None  # GET made nothing
    assert ent.get(f"/deviceaccess/generate/{t.E}").status_code == 405
    page = ent.post(f"/deviceaccess/generate/{t.E}", follow_redirects=True).get_data(
        as_text=True)
    with app.app_context():
        password = db.session.get(Enterprise, t.E).acs_password
    assert password and f'value="{password}"' in page
    # generating again keeps the password the phones already use
    ent.post(f"/deviceaccess/generate/{t.E}")
    with app.app_context():
        assert db.session.get(Enterprise, t.E).acs_password == password
    # its channel sees the same, choosing the enterprise
    c = login(t.c_email, t.password)
    chooser = c.get("/deviceaccess/").get_data(as_text=True)
    assert f'<option value="{t.E}"' in chooser and f'<option value="{t.SE}"' not in chooser
    assert f'<option value="{t.ER}"' not in chooser  # it does not authorize the channel
    assert f'value="{password}"' in c.get(f"/deviceaccess/?enterprise={t.E}").get_data(
        as_text=True)


def test_device_access_of_another_tree_is_404(app, login, devs, monkeypatch):
    t = devs
    s = login(t.s_email, t.password)
    assert s.get(f"/deviceaccess/?enterprise={t.E}").status_code == 404
    assert s.post(f"/deviceaccess/generate/{t.E}").status_code == 404
    ent = login(t.ent_email, t.password)
    assert ent.get(f"/deviceaccess/?enterprise={t.EB}").status_code == 404
    c = login(t.c_email, t.password)
    for pk in (t.ER, t.R, "abc"):  # rejecting, RPS, garbage
        assert c.get(f"/deviceaccess/?enterprise={pk}").status_code == 404, pk
    with app.app_context():
        assert db.session.get(Enterprise, t.E).acs_password is None
    monkeypatch.setitem(app.config, "ACS_PUBLIC_URL", "https://acs.example.com/acs")
    assert 'id="acs-url">https://acs.example.com/acs<' in c.get(
        f"/deviceaccess/?enterprise={t.E}").get_data(as_text=True)
