"""The alarm screens over HTTP: every screen, action and download with another tree's ids."""

import os

import pytest
from sqlalchemy import select

from app.alarms import queries, rules
from app.core.show import format_mac
from app.extensions import db
from app.models import Alarm, AlarmReceiver, AlarmSetting, AlarmStatus, DeviceCommand

from .support import make_alarm


@pytest.fixture
def alarms(app, fresh_tree, tree):
    """Alarms in the fresh tree's E (channel C) and in the standard tree's SE."""
    with app.app_context():
        mine = make_alarm(db.session, fresh_tree.E, "kernel_panic", "panic <b>x</b>")
        minor = make_alarm(db.session, fresh_tree.E, "call_failed", "busy")
        theirs = make_alarm(db.session, tree.SE, "kernel_panic", "theirs")
        return mine.id, minor.id, theirs.id


def rows_of(response):
    """The list's table, without the navbar's bell."""
    return response.get_data(as_text=True).split("<tbody>")[1]


def test_list_shows_own_alarms_only_with_filters(login, fresh_tree, alarms):
    mine, minor, theirs = alarms
    c = login(fresh_tree.c_email, fresh_tree.password)
    page = rows_of(c.get("/alarms/list/"))
    assert f"/alarms/show/{mine}" in page and f'/alarms/show/{theirs}"' not in page
    assert "label-danger" in page and "panic &lt;b&gt;x&lt;/b&gt;" in page
    page = rows_of(c.get("/alarms/list/?severity=minor"))
    assert f"/alarms/show/{minor}" in page and f'/alarms/show/{mine}"' not in page
    page = rows_of(c.get(f"/alarms/list/?enterprise={fresh_tree.SE}"))
    assert f'/alarms/show/{theirs}"' not in page and f'/alarms/show/{mine}"' not in page
    page = rows_of(c.get("/alarms/list/?from=2000-01-01&to=2000-01-02"))
    assert f'/alarms/show/{mine}"' not in page
    for garbage in ("?from=x&to=%00", "?q=zz:zz", "?type=999999", "?after=AAAA", "?psize=x"):
        assert c.get("/alarms/list/" + garbage).status_code in (200, 400)


def test_list_details_and_bell_write_the_mac_separated(login, app, fresh_tree, alarms):
    mine, _minor, _theirs = alarms
    with app.app_context():
        mac = db.session.get(Alarm, mine).device.mac
        queries._bell_cache.clear()
    shown = format_mac(mac)  # "00:15:65:…", as the device list writes it
    c = login(fresh_tree.c_email, fresh_tree.password)
    page = c.get("/alarms/list/").get_data(as_text=True)
    rows = page.split("<tbody>")[1]
    assert f"<td>{shown}</td>" in rows and mac not in rows
    bell = page.split('id="alarm-bell"')[1]
    assert f"· {shown} " in bell
    details = c.get(f"/alarms/show/{mine}").get_data(as_text=True)
    assert f"<td>{shown}</td>" in details
    # found by any spelling of it
    assert f"/alarms/show/{mine}" in rows_of(c.get(f"/alarms/list/?q={shown[:8].upper()}"))


def test_details_and_actions_with_another_trees_ids(login, app, fresh_tree, alarms):
    mine, minor, theirs = alarms
    c = login(fresh_tree.c_email, fresh_tree.password)
    assert c.get(f"/alarms/show/{mine}").status_code == 200
    for url in (f"/alarms/show/{theirs}", f"/alarms/log/{theirs}", f"/alarms/log/{mine}",
                "/alarms/show/abc", "/alarms/show/99999999999999999999"):
        assert c.get(url).status_code == 404, url
    assert c.post(f"/alarms/action/clear/{theirs}").status_code == 404
    response = c.post("/alarms/action_post", data={"action": "acknowledge",
                                                   "rowid": [str(mine), str(theirs)]})
    assert response.status_code == 404
    with app.app_context():
        assert db.session.get(Alarm, mine).status == AlarmStatus.open
        assert db.session.get(Alarm, theirs).status == AlarmStatus.open
    response = c.post("/alarms/action_post", data={"action": "acknowledge",
                                                   "rowid": [str(mine), str(minor)]})
    assert response.status_code == 302
    assert c.post(f"/alarms/action/clear/{mine}").status_code == 302
    with app.app_context():
        assert db.session.get(Alarm, minor).status == AlarmStatus.acknowledged
        assert db.session.get(Alarm, mine).status == AlarmStatus.cleared
    # The other tree's channel sees its own, not ours.
    s = login(f"s@{'std'}.test", fresh_tree.password)
    assert s.get(f"/alarms/show/{mine}").status_code == 404
    assert s.get(f"/alarms/show/{theirs}").status_code == 200


def test_log_download_of_the_uploaded_file(login, app, fresh_tree, alarms):
    mine, _minor, _theirs = alarms
    with app.app_context():
        alarm = db.session.get(Alarm, mine)
        command = db.session.get(DeviceCommand, alarm.log_command_id)
        folder = os.path.join(app.config["FILE_STORE_DIR"], "uploads")
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, f"alarm-{mine}.log"), "w") as out:
            out.write("kernel: panic\n")
        command.file_name = f"uploads/alarm-{mine}.log"
        db.session.commit()
    c = login(fresh_tree.c_email, fresh_tree.password)
    page = c.get(f"/alarms/show/{mine}").get_data(as_text=True)
    assert f"/alarms/log/{mine}" in page and "Diagnose" in page
    response = c.get(f"/alarms/log/{mine}")
    assert response.status_code == 200 and response.data == b"kernel: panic\n"
    assert login(fresh_tree.ent_email, fresh_tree.password).get(
        f"/alarms/log/{mine}").status_code == 200  # the enterprise's own device
    s = login("s@std.test", fresh_tree.password)
    assert s.get(f"/alarms/log/{mine}").status_code == 404


def test_settings_screen_scope_and_forged_receivers(login, app, fresh_tree, tree):
    t = fresh_tree
    c = login(t.c_email, t.password)
    page = c.get("/alarmsettings/").get_data(as_text=True)
    # whole links (a closing quote): id 9 must not match inside 982
    assert f'/alarmsettings/edit/{t.E}"' in page and f'/alarmsettings/edit/{tree.SE}"' not in page
    assert c.get(f"/alarmsettings/edit/{tree.SE}").status_code == 404
    assert c.post(f"/alarmsettings/edit/{tree.SE}", data={"enabled": "1"}).status_code == 404
    assert c.get(f"/alarmsettings/edit/{t.ER}").status_code == 404  # rejected authorization
    form = {"enabled": "1", "email": "1", "severity": ["critical", "minor"],
            "type": ["kernel_panic", "call_failed"], "receiver": [str(tree.s)]}
    assert c.post(f"/alarmsettings/edit/{t.E}", data=form).status_code == 404
    form["receiver"] = ["x"]
    assert c.post(f"/alarmsettings/edit/{t.E}", data=form).status_code == 404
    form["receiver"], form["type"] = [str(t.c)], ["kernel_panic", "bogus"]
    assert c.post(f"/alarmsettings/edit/{t.E}", data=form).status_code == 400
    with app.app_context():
        assert db.session.execute(select(AlarmSetting).where(
            AlarmSetting.enterprise_id == t.E)).scalar() is None
    form["type"] = ["kernel_panic", "call_failed"]
    assert c.post(f"/alarmsettings/edit/{t.E}", data=form).status_code == 302
    with app.app_context():
        row = db.session.execute(select(AlarmSetting).where(
            AlarmSetting.enterprise_id == t.E)).scalar()
        assert row.severities == "critical,minor" and row.email_enabled
        assert db.session.execute(select(AlarmReceiver.account_id).where(
            AlarmReceiver.enterprise_id == t.E)).scalars().all() == [t.c]
    # The enterprise's own admin sees no settings screen.
    assert login(t.ent_email, t.password).get("/alarmsettings/").status_code in (302, 403)


def test_bell_on_every_page_counts_new_until_opened(login, app, fresh_tree, alarms):
    mine, minor, theirs = alarms
    c = login(fresh_tree.c_email, fresh_tree.password)
    with app.app_context():
        queries._bell_cache.clear()
    page = c.get("/alarms/list/").get_data(as_text=True)
    assert 'id="alarm-bell-new"' in page and f"/alarms/show/{minor}" in page
    assert f'/alarms/show/{theirs}"' not in page.split('id="alarm-bell"')[1].split("</li>\n{%")[0]
    assert c.post("/alarms/bell/seen", data={"newest": "x"}).status_code == 400
    assert c.post("/alarms/bell/seen", data={"newest": str(max(mine, minor))}).status_code == 200
    page = c.get("/").get_data(as_text=True)
    assert 'id="alarm-bell"' in page and 'id="alarm-bell-new"' not in page
    assert 'data-stat="alarms-critical"' in page


def test_charts_show_the_scope(login, fresh_tree, alarms):
    c = login(fresh_tree.c_email, fresh_tree.password)
    html = c.get("/alarms/charts").get_data(as_text=True)
    assert 'id="alarms-per-day"' in html and 'data-severity="critical"' in html
    assert "Kernel panic" in html


def test_enterprise_filter_search_offers_only_the_scope(login, fresh_tree, tree):
    c = login(fresh_tree.c_email, fresh_tree.password)
    found = {r["id"] for r in c.get("/alarms/enterprises?q=").get_json()["results"]}
    assert fresh_tree.E in found and tree.SE not in found and tree.E not in found
    assert c.get("/alarms/enterprises?q=%00%25_").status_code == 200


def test_details_say_who_cleared_in_both_languages(login, app, fresh_tree, alarms):
    mine, _minor, _theirs = alarms
    with app.app_context():
        alarm = db.session.get(Alarm, mine)
        assert rules.clear_open_alarm(db.session, alarm.device_id, "kernel_panic",
                                      by=rules.SYSTEM)
        db.session.commit()
    c = login(fresh_tree.c_email, fresh_tree.password)
    assert '<span id="alarm-cleared-by">the system</span>' in c.get(
        f"/alarms/show/{mine}").get_data(as_text=True)
    c.get("/lang/zh")
    assert '<span id="alarm-cleared-by">系统</span>' in c.get(
        f"/alarms/show/{mine}").get_data(as_text=True)
    c.get("/lang/en")
