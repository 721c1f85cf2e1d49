"""The device list's search: a MAC by any part, normalized; an IP by any part; MACs shown
with separators; Online/Offline as badges (issue 18)."""

import pytest

from app.extensions import db
from app.models import Device, Enterprise


@pytest.fixture
def searchable(app, fresh_tree):
    with app.app_context():
        e = db.session.get(Enterprise, fresh_tree.E)
        tag = fresh_tree.prefix[1:]  # six hex digits of the tree's own
        d = Device(mac=f"0015{tag}01", model="SIP-T46U", enterprise=e, ip="10.77.3.41",
                   online=True)
        other = Device(mac=f"0015{tag}02", model="SIP-T46U", enterprise=e, ip="10.78.9.9")
        db.session.add_all([d, other])
        db.session.commit()
        fresh_tree.mac, fresh_tree.other_mac, fresh_tree.tag = d.mac, other.mac, tag
        fresh_tree.device, fresh_tree.other = d.id, other.id
    return fresh_tree


def _ids(browser, q):
    html = browser.get("/devicemodelview/list/", query_string={"q": q}).get_data(as_text=True)
    return html


@pytest.mark.parametrize("typed", ["{tag}01", "{TAG}01", "15:{t0}:{t1}", "00-15-{t0}",
                                   "{t1}:{t2}:01", "0015{tag}01", "00:15:{t0}:{t1}:{t2}:01"])
def test_a_mac_is_found_by_any_part_with_or_without_separators(app, searchable, login, typed):
    t = searchable.tag
    typed = typed.format(tag=t, TAG=t.upper(), t0=t[:2], t1=t[2:4], t2=t[4:])
    html = _ids(login(searchable.c_email, searchable.password), typed)
    assert f'/devicemodelview/show/{searchable.device}"' in html


def test_a_partial_ip_finds_the_device(app, searchable, login):
    browser = login(searchable.c_email, searchable.password)
    html = _ids(browser, "77.3.4")
    assert f'/devicemodelview/show/{searchable.device}"' in html
    assert f'/devicemodelview/show/{searchable.other}"' not in html


def test_search_stays_in_scope(app, searchable, login):
    # S's channel types the same MAC part: nothing of C's tree
    html = _ids(login(searchable.s_email, searchable.password), searchable.tag)
    assert f'/devicemodelview/show/{searchable.device}"' not in html


def test_macs_show_with_separators_and_status_as_badges(app, searchable, login):
    html = _ids(login(searchable.c_email, searchable.password), searchable.tag)
    mac = searchable.mac
    assert ":".join(mac[i:i + 2] for i in range(0, 12, 2)) in html
    assert 'label-success ymcs-badge">Online<' in html
    assert 'label-default ymcs-badge">Offline<' in html


def test_what_the_search_box_asks_of_the_database():
    """Rules without HTTP: a whole MAC is an equality (its unique index); a part of a MAC or
    of an address is a substring; anything else a model's beginning."""
    from sqlalchemy import select

    from app.device_ops.search import device_search

    def where(text):
        query = device_search(select(Device.id), text)
        return str(query.whereclause.compile(compile_kwargs={"literal_binds": True}))

    assert where("00:15:65:D0:00:01") == "device.mac = '001565d00001'"
    assert "device.mac LIKE '%d0000%'" in where("d0000")
    assert "device.mac LIKE '%1565d0%'" in where("15-65-D0")
    partial_ip = where("10.2.3")
    assert "device.ip LIKE '%10.2.3%'" in partial_ip and "mac" not in partial_ip
    both = where("192")  # digits only: a part of a MAC or of an address
    assert "device.mac LIKE '%192%'" in both and "device.ip LIKE '%192%'" in both
    assert where("SIP-T5") == "device.model LIKE 'SIP-T5%' ESCAPE '\\'"
