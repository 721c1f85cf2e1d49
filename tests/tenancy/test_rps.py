"""RPS devices: the rules (app/tenancy/rps.py), their scope (app/core/scope.py) and their screen.

The module's tree is the standard one plus ``SR``, an RPS enterprise in the sibling tree.
R (RPS, authorization still pending) and SR each hold RPS devices.
"""

import itertools
import re
import uuid

import pytest
from sqlalchemy import func, select

from app.core import scope
from app.core.show import format_mac
from app.extensions import db
from app.models import (
    Account,
    Authorization,
    Enterprise,
    PermissionType,
    RpsDevice,
)
from app.tenancy import rps
from app.tenancy import rules as tenants

from ..conftest import ids_of
from ..tree import build_tree

URL = "/rpsdevicemodelview"
# What the form says of a malformed MAC and of a taken one alike (the rule's text, not the
# constant that renders it).
MAC_REFUSED = ("This MAC address cannot be used: enter the 12 hexadecimal digits of a device "
               "of yours, e.g. 00:15:65:12:34:56.")
_macs = itertools.count(1)


def new_mac(sep=""):
    """A fresh locally administered MAC, spelled with ``sep`` between its octets."""
    raw = f"02fe{uuid.uuid4().hex[:4]}{next(_macs):04x}"
    return sep.join(raw[i:i + 2] for i in range(0, 12, 2)) if sep else raw


@pytest.fixture(scope="module")
def rt(app):
    """The standard tree, an RPS enterprise SR under the sibling S, and RPS devices."""
    with app.app_context():
        session = db.session
        t = build_tree(session, f"rps{uuid.uuid4().hex[:6]}")
        t.SR = Enterprise(name=f"{t.prefix}-SR", channel=t.S, permission_type=PermissionType.rps,
                          authorization=Authorization.pending, email=f"sr@{t.prefix}.test")
        session.add(t.SR)
        session.flush()
        out = ids_of(t)
        out.devices = {}
        for key, enterprise in (("R1", t.R), ("R2", t.R), ("SR1", t.SR)):
            device = RpsDevice(mac=new_mac(), server_url="https://dm.example.com/",
                               ip="192.0.2.1", enterprise=enterprise)
            session.add(device)
            session.flush()
            out.devices[key] = (device.id, device.mac)
        session.commit()
        return out


def _principal(session, account_id):
    return scope.principal_of(session.get(Account, account_id))


def _device(app, **by):
    with app.app_context():
        return db.session.execute(select(RpsDevice).filter_by(**by)).scalar_one_or_none()


def _count(app, **by):
    with app.app_context():
        return db.session.execute(
            select(func.count()).select_from(RpsDevice).filter_by(**by)).scalar()


def _form(mac, server_url="https://dm.example.com/", unique_url="", ip="", **extra):
    return {"mac": mac, "server_url": server_url, "unique_url": unique_url, "ip": ip, **extra}


# --- the rules, without HTTP ------------------------------------------------------------------


def test_only_rps_enterprises_hold_rps_devices(db_session, rt):
    rps.check_rps_enterprise(db_session.get(Enterprise, rt.R))
    for dm in (rt.E, rt.SE):
        with pytest.raises(rps.NotRpsEnterprise):
            rps.check_rps_enterprise(db_session.get(Enterprise, dm))
    with pytest.raises(rps.NotRpsEnterprise):
        rps.check_rps_enterprise(None)


def test_a_device_of_a_dm_enterprise_is_refused_before_saving(db_session, rt):
    device = RpsDevice(mac=new_mac(), server_url="https://dm.example.com/", enterprise_id=rt.E)
    with pytest.raises(rps.NotRpsEnterprise):
        rps.validate_rps_device(db_session, device)


@pytest.mark.parametrize("raw, expected", [
    ("https://dm.example.com/", "https://dm.example.com/"),
    ("  http://10.0.0.1:8080/rps?x=1 ", "http://10.0.0.1:8080/rps?x=1"),
    ("HTTPS://[2001:db8::1]/", "HTTPS://[2001:db8::1]/"),
])
def test_server_url_is_a_http_url(raw, expected):
    assert rps.clean_server_url(raw) == expected


@pytest.mark.parametrize("raw", [
    "", None, "dm.example.com", "ftp://dm.example.com/", "javascript:alert(1)", "https://",
    "http://exa mple.com/", "http://example.com:port/", "https://" + "a" * 510,
])
def test_bad_server_url_is_refused(raw):
    with pytest.raises(rps.InvalidRpsField) as refused:
        rps.clean_server_url(raw)
    assert refused.value.field == "server_url"


def test_unique_url_is_optional_and_may_be_tftp():
    assert rps.clean_unique_url("") is None
    assert rps.clean_unique_url("tftp://10.0.0.2/cfg/") == "tftp://10.0.0.2/cfg/"
    with pytest.raises(rps.InvalidRpsField):
        rps.clean_unique_url("file:///etc/passwd")


@pytest.mark.parametrize("raw, expected", [
    ("", None), (None, None), (" 192.0.2.7 ", "192.0.2.7"), ("2001:DB8::0:1", "2001:db8::1"),
])
def test_ip_is_optional_and_canonical(raw, expected):
    assert rps.clean_ip(raw) == expected


@pytest.mark.parametrize("raw", ["300.1.1.1", "192.0.2", "example.com", "1.2.3.4/24"])
def test_bad_ip_is_refused(raw):
    with pytest.raises(rps.InvalidRpsField):
        rps.clean_ip(raw)


def test_mac_is_unique_whatever_its_spelling_and_whoever_holds_it(db_session, rt):
    _, theirs = rt.devices["SR1"]
    spelled = ":".join(theirs[i:i + 2] for i in range(0, 12, 2)).upper()
    with pytest.raises(rps.DuplicateMac):
        rps.check_mac_free(db_session, rps.clean_mac(spelled))
    rps.check_mac_free(db_session, theirs, device_id=rt.devices["SR1"][0])  # itself: fine


def test_server_url_for_answers_a_mac_in_any_spelling(db_session, rt):
    _, mac = rt.devices["R1"]
    spelled = "-".join(mac[i:i + 2] for i in range(0, 12, 2)).upper()
    assert rps.server_url_for(db_session, spelled) == "https://dm.example.com/"
    assert rps.server_url_for(db_session, new_mac()) is None
    assert rps.server_url_for(db_session, "not-a-mac") is None


def test_an_enterprise_holding_rps_devices_cannot_be_deleted(db_session, rt):
    with pytest.raises(tenants.TenantError, match="RPS devices"):
        tenants.check_enterprise_deletable(db_session, db_session.get(Enterprise, rt.SR))


# --- scope ------------------------------------------------------------------------------------


def _rps_enterprises(session, principal):
    query = scope.visible_rps_devices(select(RpsDevice), principal)
    return {d.enterprise.name for d in session.execute(query).scalars()}


@pytest.mark.parametrize("who, expected", [
    # R's authorization is still pending: RPS devices need none.
    ("a", "R"), ("b", "R"), ("c", "R"), ("sub", "R"), ("rps", "R"), ("s", "SR"), ("ent", ""),
])
def test_visible_rps_devices_need_no_authorization(db_session, rt, who, expected):
    got = _rps_enterprises(db_session, _principal(db_session, getattr(rt, who)))
    assert got == {f"{rt.prefix}-{k}" for k in expected.split()}


def test_admin_sees_every_rps_device(db_session, rt):
    got = _rps_enterprises(db_session, _principal(db_session, rt.admin))
    assert {f"{rt.prefix}-R", f"{rt.prefix}-SR"} <= got


def test_nobody_sees_no_rps_device(db_session, rt):
    assert _rps_enterprises(db_session, scope.NOBODY) == set()


def test_rejected_authorization_does_not_hide_rps_devices(app, rt):
    with app.app_context():
        enterprise = db.session.get(Enterprise, rt.SR)
        enterprise.authorization = Authorization.rejected
        db.session.commit()
        try:
            assert _rps_enterprises(db.session, _principal(db.session, rt.s)) == {
                f"{rt.prefix}-SR"}
        finally:
            db.session.get(Enterprise, rt.SR).authorization = Authorization.pending
            db.session.commit()


@pytest.mark.parametrize("who, device", [
    ("s", "R1"), ("c", "SR1"), ("sub", "SR1"), ("ent", "R1"), ("rps", "SR1"),
])
def test_get_rps_device_out_of_scope_raises(db_session, rt, who, device):
    principal = _principal(db_session, getattr(rt, who))
    pk = rt.devices[device][0]
    with pytest.raises(scope.OutOfScope):
        scope.get_or_raise(db_session, RpsDevice, pk, principal)
    assert not scope.can_access(db_session, RpsDevice, pk, principal)


def test_get_rps_device_in_scope(db_session, rt):
    pk = rt.devices["R1"][0]
    for who in ("a", "c", "sub", "rps", "admin"):
        principal = _principal(db_session, getattr(rt, who))
        assert scope.get_or_raise(db_session, RpsDevice, pk, principal).id == pk


# --- the screen -------------------------------------------------------------------------------


def test_rps_admin_adds_edits_and_removes_its_device(app, rt, login):
    browser = login(rt.rps_email, rt.password)
    page = browser.get(f"{URL}/add").get_data(as_text=True)
    assert 'name="mac"' in page and 'name="enterprise"' not in page  # its own, no choice

    mac = new_mac(":").upper()
    response = browser.post(f"{URL}/add", data=_form(
        mac, unique_url="https://dm.example.com/p/1", ip="192.0.2.44"))
    assert response.status_code == 302
    device = _device(app, mac=mac.replace(":", "").lower())
    shown = format_mac(device.mac)  # "02:fe:…": as people read a MAC, not 12 bare digits
    assert device.enterprise_id == rt.R and device.ip == "192.0.2.44"
    assert device.unique_url == "https://dm.example.com/p/1"
    listing = browser.get(f"{URL}/list/?q={mac[:8]}").get_data(as_text=True)
    assert f"RPS device {shown} added." in listing
    assert f">{shown}<" in listing and f"{rt.prefix}-R<" in listing
    assert device.mac not in listing.replace(f'value="{mac[:8]}"', "")  # never bare
    details = browser.get(f"{URL}/show/{device.id}").get_data(as_text=True)
    assert shown in details and device.mac not in details

    response = browser.post(f"{URL}/edit/{device.id}", data=_form(
        device.mac, server_url="https://other.example.com/", ip=""))
    assert response.status_code == 302
    edited = _device(app, id=device.id)
    assert edited.server_url == "https://other.example.com/" and edited.ip is None

    assert browser.post(f"{URL}/delete/{device.id}").status_code == 302
    assert _device(app, id=device.id) is None
    assert f"RPS device {shown} deleted." in browser.get(f"{URL}/list/").get_data(as_text=True)


def test_dm_enterprise_admin_gets_403(app, rt, login):
    browser = login(rt.ent_email, rt.password)
    pk = rt.devices["R1"][0]
    for url in (f"{URL}/list/", f"{URL}/add", f"{URL}/show/{pk}", f"{URL}/edit/{pk}"):
        assert browser.get(url).status_code == 403, url
    assert browser.post(f"{URL}/add", data=_form(new_mac())).status_code == 403
    assert browser.post(f"{URL}/delete/{pk}").status_code == 403
    assert _device(app, id=pk) is not None


@pytest.mark.parametrize("who", ["a", "b", "c", "sub"])
def test_channel_sees_rps_devices_of_its_subtree_without_authorization(app, rt, login, who):
    browser = login(getattr(rt, f"{who}_email"), rt.password)
    listing = browser.get(f"{URL}/list/?psize=200").get_data(as_text=True)
    for key in ("R1", "R2"):
        assert format_mac(rt.devices[key][1]) in listing
    assert format_mac(rt.devices["SR1"][1]) not in listing
    assert browser.get(f"{URL}/show/{rt.devices['R1'][0]}").status_code == 200


def test_channel_only_views_rps_devices(app, rt, login):
    browser = login(rt.c_email, rt.password)
    pk = rt.devices["R1"][0]
    assert browser.get(f"{URL}/add").status_code == 403
    assert browser.get(f"{URL}/edit/{pk}").status_code == 403
    assert browser.post(f"{URL}/delete/{pk}").status_code == 403
    assert _device(app, id=pk) is not None


def test_sibling_channel_gets_404_and_an_empty_list(app, rt, login):
    browser = login(rt.s_email, rt.password)
    pk, mac = rt.devices["R1"]
    assert browser.get(f"{URL}/show/{pk}").status_code == 404
    listing = browser.get(f"{URL}/list/?psize=200").get_data(as_text=True)
    assert format_mac(mac) not in listing and format_mac(rt.devices["SR1"][1]) in listing
    searched = browser.get(f"{URL}/list/?q={mac}").get_data(as_text=True)
    # only the search box has it
    assert f">{format_mac(mac)}<" not in searched and "0 results" in searched


def test_another_enterprise_cannot_reach_the_device(app, rt, login):
    """The RPS admin of R against SR's device: 404 on every door, nothing changes."""
    browser = login(rt.rps_email, rt.password)
    pk, mac = rt.devices["SR1"]
    assert browser.get(f"{URL}/show/{pk}").status_code == 404
    assert browser.get(f"{URL}/edit/{pk}").status_code == 404
    response = browser.post(f"{URL}/edit/{pk}", data=_form(mac, server_url="https://evil.test/"))
    assert response.status_code == 404
    assert browser.post(f"{URL}/delete/{pk}").status_code == 404
    device = _device(app, id=pk)
    assert device is not None and device.server_url == "https://dm.example.com/"


def test_delete_by_get_is_refused(app, rt, login):
    browser = login(rt.rps_email, rt.password)
    assert browser.get(f"{URL}/delete/{rt.devices['R2'][0]}").status_code == 405
    assert _device(app, id=rt.devices["R2"][0]) is not None


@pytest.mark.parametrize("forged", ["SR", "E", "SE"])
def test_forged_enterprise_in_the_add_form_cannot_attach_elsewhere(app, rt, login, forged):
    browser = login(rt.rps_email, rt.password)
    mac = new_mac()
    response = browser.post(f"{URL}/add", data=_form(mac, enterprise=str(getattr(rt, forged))))
    assert response.status_code == 200  # not one of its choices: refused
    assert _device(app, mac=mac) is None


def test_admin_chooses_among_rps_enterprises_only(app, rt, login):
    browser = login(rt.admin_email, rt.password)
    page = browser.get(f"{URL}/add").get_data(as_text=True)
    assert f'value="{rt.R}"' in page and f'value="{rt.SR}"' in page
    assert f'value="{rt.E}"' not in page and f'value="{rt.SE}"' not in page

    mac = new_mac()
    response = browser.post(f"{URL}/add", data=_form(mac, enterprise=str(rt.E)))
    assert response.status_code == 200 and _device(app, mac=mac) is None
    response = browser.post(f"{URL}/add", data=_form(mac))  # no enterprise chosen
    assert "Choose the RPS enterprise" in response.get_data(as_text=True)
    assert _device(app, mac=mac) is None

    assert browser.post(f"{URL}/add", data=_form(mac, enterprise=str(rt.SR))).status_code == 302
    assert _device(app, mac=mac).enterprise_id == rt.SR


@pytest.mark.parametrize("field, value, message", [
    ("mac", "00:15:65:zz:00:01", MAC_REFUSED),
    ("mac", "00:15:65", MAC_REFUSED),
    ("mac", "", "This field is required."),
    ("server_url", "dm.example.com", "Enter a full http:// or https:// URL"),
    ("server_url", "ftp://dm.example.com/", "Enter a full http:// or https:// URL"),
    ("server_url", "", "This field is required."),
    ("unique_url", "javascript:alert(1)", "Enter a full http, https, ftp or tftp URL"),
    ("ip", "300.1.1.1", "Not an IPv4 or IPv6 address"),
])
def test_bad_input_is_a_form_error_and_stores_nothing(app, rt, login, field, value, message):
    browser = login(rt.rps_email, rt.password)
    before = _count(app, enterprise_id=rt.R)
    data = {**_form(new_mac()), field: value}
    response = browser.post(f"{URL}/add", data=data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert _count(app, enterprise_id=rt.R) == before


def _field_errors(response):
    assert response.status_code == 200  # the form again, nothing saved
    return re.findall(r'<div class="alert alert-danger">\s*(.*?)\s*</div>',
                      response.get_data(as_text=True), re.S)


def test_a_mac_held_anywhere_is_refused_like_a_malformed_one(app, rt, login):
    """Unique on the whole platform, in any spelling; the refusal of another tree's MAC
    reads exactly like that of a malformed one, so it tells nothing about that tree."""
    browser = login(rt.rps_email, rt.password)
    held = [rt.devices["SR1"][1], rt.devices["R1"][1]]  # another tree's, its own
    answers = [_field_errors(browser.post(f"{URL}/add", data=_form(mac)))
               for mac in ["-".join(m[i:i + 2] for i in range(0, 12, 2)).upper() for m in held]
               + ["00:15:65:zz:00:01"]]
    assert answers == [[MAC_REFUSED]] * 3
    assert [_count(app, mac=mac) for mac in held] == [1, 1]


def test_edit_to_a_taken_mac_or_a_bad_ip_changes_nothing(app, rt, login):
    browser = login(rt.rps_email, rt.password)
    pk, mac = rt.devices["R2"]
    response = browser.post(f"{URL}/edit/{pk}", data=_form(rt.devices["R1"][1]))
    assert _field_errors(response) == [MAC_REFUSED]
    response = browser.post(f"{URL}/edit/{pk}", data=_form(mac, ip="1.2.3"))
    assert "Not an IPv4 or IPv6 address" in response.get_data(as_text=True)
    device = _device(app, id=pk)
    assert device.mac == mac and device.ip == "192.0.2.1"
    # Saving it unchanged is not a duplicate of itself.
    assert browser.post(f"{URL}/edit/{pk}", data=_form(mac, ip="192.0.2.1")).status_code == 302


def test_bulk_delete_with_one_forged_id_changes_nothing(app, rt, login):
    browser = login(rt.rps_email, rt.password)
    ours, theirs = rt.devices["R1"][0], rt.devices["SR1"][0]
    for rows in ([ours, theirs], [ours, "99999999"], [ours, "abc"]):
        response = browser.post(f"{URL}/action_post", data={
            "action": "muldelete", "rowid": [str(r) for r in rows]})
        assert response.status_code == 404
    assert _device(app, id=ours) is not None and _device(app, id=theirs) is not None


def test_channel_cannot_bulk_delete(app, rt, login):
    browser = login(rt.c_email, rt.password)
    pk = rt.devices["R1"][0]
    response = browser.post(f"{URL}/action_post", data={"action": "muldelete",
                                                        "rowid": [str(pk)]})
    assert response.status_code in (302, 403)
    assert _device(app, id=pk) is not None


def test_bulk_delete_in_scope(app, rt, login):
    browser = login(rt.rps_email, rt.password)
    macs = [new_mac(), new_mac()]
    for mac in macs:
        assert browser.post(f"{URL}/add", data=_form(mac)).status_code == 302
    rows = [str(_device(app, mac=mac).id) for mac in macs]
    response = browser.post(f"{URL}/action_post", data={"action": "muldelete", "rowid": rows})
    assert response.status_code == 302
    assert all(_device(app, mac=mac) is None for mac in macs)
    # The message names what was deleted, as people write MACs.
    listing = browser.get(f"{URL}/list/").get_data(as_text=True)
    said = re.search(r"Deleted RPS devices: ([^<]*)\.", listing)
    assert said and sorted(said.group(1).split(", ")) == sorted(map(format_mac, macs))


def test_bulk_delete_of_many_names_the_first_few(app, rt, login):
    browser = login(rt.rps_email, rt.password)
    macs = [new_mac() for _ in range(5)]
    for mac in macs:
        assert browser.post(f"{URL}/add", data=_form(mac)).status_code == 302
    rows = [str(_device(app, mac=mac).id) for mac in macs]
    assert browser.post(f"{URL}/action_post", data={"action": "muldelete", "rowid": rows}
                        ).status_code == 302
    listing = browser.get(f"{URL}/list/").get_data(as_text=True)
    said = re.search(r"Deleted RPS devices: ([^<]*) and 2 more\.", listing)
    assert said, listing
    assert len(said.group(1).split(", ")) == 3
    assert set(said.group(1).split(", ")) <= {format_mac(mac) for mac in macs}


def test_search_by_mac_with_separators(app, rt, login):
    browser = login(rt.c_email, rt.password)
    mac = rt.devices["R1"][1]
    spelled = ":".join(mac[i:i + 2] for i in range(0, 12, 2)).upper()
    shown = f">{format_mac(mac)}<"  # listed with separators, found by any spelling
    assert shown in browser.get(f"{URL}/list/?q={spelled[:11]}").get_data(as_text=True)
    assert shown in browser.get(f"{URL}/list/?q={mac[:7]}").get_data(as_text=True)
    assert shown in browser.get(f"{URL}/list/?q=192.0.2").get_data(as_text=True)


def test_menu_shows_rps_device_to_who_may_see_it(app, rt, login):
    assert f"{URL}/list/" in login(rt.rps_email, rt.password).get("/").get_data(as_text=True)
    assert f"{URL}/list/" in login(rt.c_email, rt.password).get("/").get_data(as_text=True)
    assert f"{URL}/list/" not in login(rt.ent_email, rt.password).get("/").get_data(
        as_text=True)
