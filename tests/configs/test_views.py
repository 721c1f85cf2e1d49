"""The configuration screens over HTTP: templates (add, line errors, download, edit, delete),
Save And Push and Push, timer tasks, Executed Task, and another tree's ids everywhere."""

import datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.configs import outcomes
from app.configs.tables import ConfigPush, ConfigPushDevice, ConfigTemplate, PushStatus
from app.core.show import format_mac
from app.extensions import db
from app.models import Device, DeviceCommand

from .support import add_template

GOOD = "#!version:1.0.0.1\naccount.1.label = {{mac}}\nfeatures.dnd.enable = 1\n"


def count(session, model):
    session.commit()
    return session.execute(select(func.count()).select_from(model)).scalar()


@pytest.fixture
def tree(mtree):
    return mtree


@pytest.fixture
def db_session(app):
    """A session outside any app context: the test client's requests must each get their own
    context (an outer one would share ``g``, and the signed-in user, between requests)."""
    with app.app_context():
        engine = db.engine
    # Each statement sees what the app's requests committed (MariaDB's REPEATABLE READ would
    # keep showing a test's first snapshot).
    session = Session(engine.execution_options(isolation_level="AUTOCOMMIT"))
    yield session
    session.close()


def test_add_edit_download_delete_an_enterprise_template(db_session, tree, login):
    c = login(tree.c_email, tree.password)
    page = c.get("/enterpriseconfig/add")
    assert page.status_code == 200 and "template-body" in page.get_data(as_text=True)
    response = c.post("/enterpriseconfig/add", data={
        "name": "Office", "target": tree.E, "model_filter": "SIP-T54W", "body": GOOD,
        "action": "save"})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    template = db_session.execute(select(ConfigTemplate).where(
        ConfigTemplate.enterprise_id == tree.E, ConfigTemplate.name == "Office")).scalar_one()
    assert template.body == GOOD and template.model_filter == "SIP-T54W"
    listing = c.get("/enterpriseconfig/list/").get_data(as_text=True)
    assert "Office" in listing and f"{tree.prefix}-E" in listing
    download = c.get(f"/enterpriseconfig/download/{template.id}")
    assert download.status_code == 200 and download.get_data(as_text=True) == GOOD
    assert 'filename="Office.cfg"' in download.headers["Content-Disposition"]
    edited = c.post(f"/enterpriseconfig/edit/{template.id}", data={
        "name": "Office 2", "model_filter": "", "body": GOOD + "x.y = 2\n", "action": "save"})
    assert edited.status_code == 302
    db_session.refresh(template)
    assert template.name == "Office 2" and template.body.endswith("x.y = 2\n")
    assert c.post(f"/enterpriseconfig/delete/{template.id}").status_code == 302
    assert not db_session.execute(select(ConfigTemplate.id).where(
        ConfigTemplate.id == template.id)).first()


def test_line_errors_are_shown_and_what_was_typed_stays(db_session, tree, login):
    c = login(tree.c_email, tree.password)
    before = count(db_session, ConfigTemplate)
    typed = "#!version:1.0.0.1\na.b = 1\nno equals here\na.b = 2\nc.d = {{nope}}\n"
    response = c.post("/enterpriseconfig/add", data={
        "name": "Bad", "target": tree.E, "model_filter": "", "body": typed, "action": "save"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Line 3: not a &#34;key = value&#34; line." in html or \
        "Line 3: not a &quot;key = value&quot; line." in html
    assert "Line 4: a.b is already set on line 2." in html
    assert "Line 5: unknown variable {{nope}}." in html
    assert "no equals here\na.b = 2" in html  # the textarea keeps the text
    assert count(db_session, ConfigTemplate) == before


def test_a_huge_or_binary_template_is_refused(db_session, tree, login):
    c = login(tree.c_email, tree.password)
    before = count(db_session, ConfigTemplate)
    huge = c.post("/enterpriseconfig/add", data={
        "name": "Huge", "target": tree.E, "body": "a.b = " + "x" * (10 * 1024 * 1024),
        "action": "save"})
    assert huge.status_code in (400, 413)
    binary = c.post("/enterpriseconfig/add", data={
        "name": "Bin", "target": tree.E, "body": "a.b = 1\x00\x01\x02", "action": "save"})
    assert binary.status_code == 400
    assert "not text" in binary.get_data(as_text=True)
    big = c.post("/enterpriseconfig/add", data={
        "name": "Big", "target": tree.E, "body": "a.b = " + "x" * (300 * 1024),
        "action": "save"})
    assert big.status_code == 400 and "larger than 256 KB" in big.get_data(as_text=True)
    assert count(db_session, ConfigTemplate) == before


def test_save_and_push_then_the_executed_task(db_session, tree, login):
    c = login(tree.c_email, tree.password)
    response = c.post("/enterpriseconfig/add", data={
        "name": "Pushed", "target": tree.E, "body": GOOD, "action": "save_push"})
    assert response.status_code == 302 and "/executedtask/show/" in response.headers["Location"]
    push = db_session.execute(select(ConfigPush).where(
        ConfigPush.target_name == f"{tree.prefix}-E",
        ConfigPush.template_name == "Pushed")).scalar_one()
    assert push.devices == 2 and push.created_by == tree.c_email
    page = c.get(response.headers["Location"]).get_data(as_text=True)
    assert "Pushed" in page and page.count('data-mac="') == 2
    macs = db_session.execute(select(ConfigPushDevice.mac).where(
        ConfigPushDevice.push_id == push.id)).scalars().all()
    assert len(macs) == 2 and all(macs)
    for mac in macs:  # each device's row writes its MAC separated
        assert f"<td>{format_mac(mac)}</td>" in page and f"<td>{mac}</td>" not in page
    tasks = c.get("/executedtask/list/?q=Pushed").get_data(as_text=True)
    assert f'data-id="{push.id}"' in tasks
    # the enterprise's own admin sees it, with its own rows
    ent = login(tree.ent_email, tree.password)
    assert f'data-id="{push.id}"' in ent.get("/executedtask/list/").get_data(as_text=True)
    assert ent.get(f"/executedtask/show/{push.id}").status_code == 200


def test_push_asks_naming_the_target_and_a_channel_template_reaches_its_subtree(
        db_session, tree, login):
    b = login(tree.b_email, tree.password)
    response = b.post("/channelconfig/add", data={"name": "Chan", "body": GOOD,
                                                  "action": "save"})
    assert response.status_code == 302
    template = db_session.execute(select(ConfigTemplate).where(
        ConfigTemplate.channel_id == tree.B, ConfigTemplate.name == "Chan")).scalar_one()
    question = b.get(f"/channelconfig/push/{template.id}").get_data(as_text=True)
    assert f"Sure to push the configuration to all devices of {tree.prefix}-B?" in question
    assert b.post(f"/channelconfig/push/{template.id}").status_code == 302
    push = db_session.execute(select(ConfigPush).where(
        ConfigPush.template_id == template.id)).scalar_one()
    reached = set(db_session.execute(select(ConfigPushDevice.enterprise_id).where(
        ConfigPushDevice.push_id == push.id)).scalars())
    assert reached == {tree.E, tree.EB}
    # E's admin sees this push, with E's two rows of the four
    ent = login(tree.ent_email, tree.password)
    page = ent.get(f"/executedtask/show/{push.id}").get_data(as_text=True)
    assert page.count('data-mac="') == 2 and "task-counts" not in page
    # C (below B) does not see B's push; the sibling tree's S neither
    for other in (tree.c_email, tree.s_email):
        browser = login(other, tree.password)
        assert browser.get(f"/executedtask/show/{push.id}").status_code == 404


def test_a_timer_task_is_listed_and_can_be_cancelled(db_session, tree, login):
    c = login(tree.c_email, tree.password)
    template = add_template(db_session, "Later", GOOD, enterprise_id=tree.E)
    when = (datetime.datetime.now() + datetime.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = c.post(f"/enterpriseconfig/push/{template.id}",
                      data={"push_at": when, "time_zone": "Asia/Shanghai"})
    assert response.status_code == 302
    push = db_session.execute(select(ConfigPush).where(
        ConfigPush.template_id == template.id)).scalar_one()
    assert push.status == PushStatus.scheduled and push.time_zone == "Asia/Shanghai"
    local = datetime.datetime.strptime(when, "%Y-%m-%dT%H:%M")
    assert push.scheduled_for == local - datetime.timedelta(hours=8)
    assert count(db_session, ConfigPushDevice) >= 0 and push.devices == 0
    listing = c.get("/executedtask/list/?status=scheduled").get_data(as_text=True)
    assert f'data-id="{push.id}"' in listing
    assert f"{local:%Y-%m-%d %H:%M} (Asia/Shanghai)" in listing
    assert c.post(f"/executedtask/cancel/{push.id}").status_code == 302
    db_session.refresh(push)
    assert push.status == PushStatus.cancelled
    past = c.post(f"/enterpriseconfig/push/{template.id}",
                  data={"push_at": "2001-01-01T00:00", "time_zone": "UTC"})
    assert past.status_code == 302
    assert db_session.execute(select(func.count()).select_from(ConfigPush).where(
        ConfigPush.template_id == template.id)).scalar() == 1


def test_pushing_to_an_unauthorized_enterprise_says_so_and_pushes_nothing(db_session, tree,
                                                                          login):
    c = login(tree.c_email, tree.password)
    template = add_template(db_session, "ER", GOOD, enterprise_id=tree.ER)
    before = count(db_session, DeviceCommand)
    response = c.post(f"/enterpriseconfig/push/{template.id}", follow_redirects=True)
    assert "has not authorized its channel" in response.get_data(as_text=True)
    assert count(db_session, DeviceCommand) == before
    assert not db_session.execute(select(ConfigPush).where(
        ConfigPush.template_id == template.id)).first()


def test_another_trees_ids_answer_404_and_change_nothing(db_session, tree, login):
    mine = add_template(db_session, "Mine", GOOD, enterprise_id=tree.E)
    chan = add_template(db_session, "Chan", GOOD, channel_id=tree.C)
    c = login(tree.c_email, tree.password)
    assert c.post(f"/enterpriseconfig/push/{mine.id}").status_code == 302
    push = db_session.execute(select(ConfigPush).where(
        ConfigPush.template_id == mine.id)).scalar_one()
    s = login(tree.s_email, tree.password)
    templates, pushes_, commands_ = (count(db_session, ConfigTemplate),
                                     count(db_session, ConfigPush),
                                     count(db_session, DeviceCommand))
    for url in (f"/enterpriseconfig/edit/{mine.id}", f"/enterpriseconfig/download/{mine.id}",
                f"/enterpriseconfig/push/{mine.id}", f"/channelconfig/edit/{chan.id}",
                f"/channelconfig/download/{chan.id}", f"/channelconfig/push/{chan.id}",
                f"/enterpriseconfig/edit/{chan.id}", f"/executedtask/show/{push.id}",
                f"/enterpriseconfig/add?target={tree.E}"):
        assert s.get(url).status_code == 404, url
    for url, data in ((f"/enterpriseconfig/edit/{mine.id}", {"name": "x", "body": GOOD}),
                      (f"/enterpriseconfig/push/{mine.id}", {}),
                      (f"/enterpriseconfig/delete/{mine.id}", {}),
                      (f"/channelconfig/push/{chan.id}", {}),
                      (f"/channelconfig/delete/{chan.id}", {}),
                      ("/enterpriseconfig/add", {"name": "x", "target": tree.E, "body": GOOD,
                                                 "action": "save_push"}),
                      ("/enterpriseconfig/add", {"name": "x", "target": tree.ER, "body": GOOD}),
                      (f"/executedtask/retry/{push.id}", {}),
                      (f"/executedtask/cancel/{push.id}", {})):
        assert s.post(url, data=data).status_code == 404, url
    assert (count(db_session, ConfigTemplate), count(db_session, ConfigPush),
            count(db_session, DeviceCommand)) == (templates, pushes_, commands_)
    db_session.refresh(mine)
    assert mine.name == "Mine"
    # the target search offers only the sibling tree's own enterprises
    names = [r["text"] for r in s.get("/enterpriseconfig/targets?q=").get_json()["results"]]
    assert names and all(name.startswith(f"{tree.prefix}-S") for name in names)
    # the sibling tree's enterprise admin and an RPS admin see none of it
    ent_rps = login(tree.rps_email, tree.password)
    assert ent_rps.get(f"/executedtask/show/{push.id}").status_code in (403, 404)
    # sub-account of A granted B's subtree: C's template is not its channel template
    sub = login(tree.sub_email, tree.password)
    assert sub.get(f"/channelconfig/edit/{chan.id}").status_code == 404


def test_retry_failed_over_http(db_session, tree, login):
    from app.device_ops import commands
    from app.models import CommandStatus

    c = login(tree.c_email, tree.password)
    template = add_template(db_session, "R", GOOD, enterprise_id=tree.E)
    assert c.post(f"/enterpriseconfig/push/{template.id}").status_code == 302
    push = db_session.execute(select(ConfigPush).where(
        ConfigPush.template_id == template.id)).scalar_one()
    nothing = c.post(f"/executedtask/retry/{push.id}", follow_redirects=True)
    assert "No device of this task failed" in nothing.get_data(as_text=True)
    row = db_session.execute(select(ConfigPushDevice).where(
        ConfigPushDevice.push_id == push.id)).scalars().first()
    commands.finish(db_session.get(DeviceCommand, row.command_id), CommandStatus.failed,
                    fault_code=9010, fault_string="Download failure")
    db_session.commit()
    # the row shows the failure at once; the sweep then writes it (and the counters)
    live = c.get(f"/executedtask/show/{push.id}").get_data(as_text=True)
    assert "9010 Download failure" in live
    outcomes.sync_push(db_session, push.id)
    db_session.commit()
    page = c.get(f"/executedtask/show/{push.id}?status=failed").get_data(as_text=True)
    assert "9010 Download failure" in page and page.count('data-mac="') == 1
    response = c.post(f"/executedtask/retry/{push.id}")
    assert response.status_code == 302
    again = db_session.execute(select(ConfigPush).where(
        ConfigPush.retry_of == push.id)).scalar_one()
    assert again.devices == 1


def test_the_device_page_shows_the_effective_configuration(db_session, tree, login):
    add_template(db_session, "From C", "x.a = 1\n", channel_id=tree.C)
    add_template(db_session, "From E", "x.a = 2\nsip.password = secret\n",
                 enterprise_id=tree.E)
    device_id = db_session.execute(select(Device.id).where(
        Device.enterprise_id == tree.E)).scalars().first()
    page = login(tree.c_email, tree.password).get(f"/devicemodelview/show/{device_id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "device-effective-config" in html
    assert "<code>x.a</code></td><td>2</td><td>From E" in html
    assert "secret" not in html


def test_a_deleted_templates_executed_tasks_stay_readable(db_session, tree, login):
    c = login(tree.c_email, tree.password)
    template = add_template(db_session, "Gone soon", GOOD, enterprise_id=tree.E)
    assert c.post(f"/enterpriseconfig/push/{template.id}").status_code == 302
    push = db_session.execute(select(ConfigPush).where(
        ConfigPush.template_id == template.id)).scalar_one()
    assert c.post(f"/enterpriseconfig/delete/{template.id}").status_code == 302
    page = c.get(f"/executedtask/show/{push.id}")
    assert page.status_code == 200 and "Gone soon" in page.get_data(as_text=True)
    assert "Gone soon" in c.get("/executedtask/list/").get_data(as_text=True)


def test_a_push_made_while_acting_as_a_sub_channel_names_both(db_session, tree, login):
    a = login(tree.a_email, tree.password)
    assert a.post(f"/act-as/channel/{tree.C}").status_code == 302
    response = a.post("/channelconfig/add", data={"name": "As C", "body": GOOD,
                                                  "action": "save_push"})
    assert response.status_code == 302
    push = db_session.execute(select(ConfigPush).where(
        ConfigPush.template_name == "As C")).scalar_one()
    assert (push.created_by, push.acting_as, push.channel_id) == (
        tree.a_email, f"{tree.prefix}-C", tree.C)
    listing = a.get("/executedtask/list/").get_data(as_text=True)
    assert f"as {tree.prefix}-C" in listing


def test_a_sub_account_manages_the_channel_templates_of_its_granted_channel_only(
        db_session, tree, login):
    sub = login(tree.sub_email, tree.password)
    before = count(db_session, ConfigTemplate)
    assert sub.post("/channelconfig/add", data={"name": "Of A", "target": tree.A,
                                                "body": GOOD}).status_code == 404
    assert count(db_session, ConfigTemplate) == before
    response = sub.post("/channelconfig/add", data={"name": "Of B", "target": tree.B,
                                                    "body": GOOD, "action": "save"})
    assert response.status_code == 302
    assert db_session.execute(select(ConfigTemplate.channel_id).where(
        ConfigTemplate.name == "Of B")).scalar_one() == tree.B


def test_timer_tasks_are_entered_in_the_channels_time_zone(db_session, fresh_tree, login):
    t = fresh_tree
    b = login(t.b_email, t.password)
    assert b.post("/channelconfig/timezone", data={"time_zone": "Nowhere/Atlantis"},
                  follow_redirects=True).status_code == 200
    assert b.post("/channelconfig/timezone",
                  data={"time_zone": "Asia/Shanghai"}).status_code == 302
    # C, below B, has none of its own: it enters times in B's zone
    c = login(t.c_email, t.password)
    template = add_template(db_session, "Zoned", GOOD, enterprise_id=t.E)
    form = c.get(f"/enterpriseconfig/push/{template.id}").get_data(as_text=True)
    assert '<option value="Asia/Shanghai" selected>' in form
    assert c.post(f"/enterpriseconfig/push/{template.id}",
                  data={"push_at": "2099-01-01T08:00"}).status_code == 302
    push = db_session.execute(select(ConfigPush).where(
        ConfigPush.template_id == template.id)).scalar_one()
    assert push.time_zone == "Asia/Shanghai"
    assert push.scheduled_for == datetime.datetime(2099, 1, 1, 0, 0)
    # only a channel's own people set its zone
    sub = login(t.sub_email, t.password)
    assert sub.post("/channelconfig/timezone", data={"time_zone": "UTC"}).status_code == 404


def test_save_and_push_to_an_unauthorized_enterprise_saves_and_says_why_not_pushed(
        db_session, tree, login):
    c = login(tree.c_email, tree.password)
    pushes_before = count(db_session, ConfigPush)
    response = c.post("/enterpriseconfig/add", data={
        "name": "Saved only", "target": tree.ER, "body": GOOD, "action": "save_push"},
        follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Saved only was saved but not pushed." in html
    assert "has not authorized its channel" in html
    assert db_session.execute(select(ConfigTemplate.id).where(
        ConfigTemplate.name == "Saved only")).first()
    assert count(db_session, ConfigPush) == pushes_before
