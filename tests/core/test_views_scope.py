"""Every screen through HTTP, with another tree's ids: out of scope answers 404 and changes
nothing, lists show only the subtree, dropdowns offer only the subtree."""

import pytest
from sqlalchemy import select

from app.core.show import format_mac
from app.extensions import db
from app.models import Channel, Device, Enterprise, OperationLog, Status

SCREENS = {
    "channel": "/channelmodelview",
    "enterprise": "/enterprisemodelview",
    "device": "/devicemodelview",
    "oplog": "/operationlogmodelview",
}


def _device_of(app, enterprise_id):
    with app.app_context():
        return db.session.execute(
            select(Device.id).where(Device.enterprise_id == enterprise_id)).scalars().first()


def _oplog_of(app, channel_id):
    with app.app_context():
        row = OperationLog(username="someone", channel_id=channel_id, operation="seed")
        db.session.add(row)
        db.session.commit()
        return row.id


def _status(app, model, pk):
    with app.app_context():
        return db.session.get(model, pk).status


# (screen, who asks, whose id) for rows the asker must not reach: siblings and parents.
FOREIGN = [
    ("channel", "b", "A"), ("channel", "b", "S"), ("channel", "s", "B"), ("channel", "c", "B"),
    ("enterprise", "b", "SE"), ("enterprise", "s", "E"), ("enterprise", "c", "EB"),
    ("enterprise", "sub", "SE"),
]


def _target(tree, key):
    return getattr(tree, key)


@pytest.mark.parametrize("screen, who, target", FOREIGN)
def test_show_and_edit_of_another_tree_answer_404(app, tree, login, screen, who, target):
    browser = login(getattr(tree, f"{who}_email"), tree.password)
    pk = _target(tree, target)
    for url in (f"{SCREENS[screen]}/show/{pk}", f"{SCREENS[screen]}/edit/{pk}"):
        assert browser.get(url).status_code == 404, url


def test_own_rows_open(app, tree, login):
    browser = login(tree.b_email, tree.password)
    assert browser.get(f"/channelmodelview/show/{tree.C}").status_code == 200
    assert browser.get(f"/channelmodelview/edit/{tree.C}").status_code == 200
    assert browser.get(f"/enterprisemodelview/show/{tree.E}").status_code == 200
    assert browser.get(f"/devicemodelview/show/{_device_of(app, tree.E)}").status_code == 200


def test_a_channel_cannot_open_itself_or_its_parent_in_channel_management(app, tree, login):
    browser = login(tree.b_email, tree.password)
    assert browser.get(f"/channelmodelview/edit/{tree.B}").status_code == 404
    assert browser.get(f"/channelmodelview/edit/{tree.A}").status_code == 404


def test_devices_of_other_trees_and_of_rejecting_enterprises_answer_404(app, tree, login):
    browser = login(tree.c_email, tree.password)
    for enterprise in (tree.SE, tree.ER, tree.EB):
        assert browser.get(f"/devicemodelview/show/{_device_of(app, enterprise)}"
                           ).status_code == 404


def test_operation_log_of_another_tree_answers_404(app, tree, login):
    theirs, ours = _oplog_of(app, tree.S), _oplog_of(app, tree.C)
    browser = login(tree.b_email, tree.password)
    assert browser.get(f"/operationlogmodelview/show/{theirs}").status_code == 404
    assert browser.get(f"/operationlogmodelview/show/{ours}").status_code == 200


@pytest.mark.parametrize("bad", ["abc", "0", "-1", "99999999999999999999999999"])
def test_garbage_ids_answer_404(app, tree, login, bad):
    browser = login(tree.a_email, tree.password)
    for screen in SCREENS.values():
        assert browser.get(f"{screen}/show/{bad}").status_code == 404


def test_lists_show_only_the_subtree(app, tree, login):
    browser = login(tree.b_email, tree.password)
    channels = browser.get("/channelmodelview/list/").get_data(as_text=True)
    assert "std-C" in channels
    assert "std-A" not in channels and "std-S" not in channels
    enterprises = browser.get("/enterprisemodelview/list/?psize=200").get_data(as_text=True)
    for name in ("std-E<", "std-ER", "std-R", "std-EB"):
        assert name in enterprises, name
    assert "std-SE" not in enterprises and ">std-A *<" not in enterprises
    devices = browser.get("/devicemodelview/list/?psize=200").get_data(as_text=True)
    assert "std-EB" in devices and "std-E<" in devices
    assert "std-SE" not in devices and "std-ER" not in devices


def test_edit_post_on_another_tree_changes_nothing(app, tree, login):
    browser = login(tree.s_email, tree.password)
    response = browser.post(f"/enterprisemodelview/edit/{tree.E}",
                            data={"name": "hijacked", "contact": "x", "country": "CN"})
    assert response.status_code == 404
    with app.app_context():
        assert db.session.get(Enterprise, tree.E).name == "std-E"


def test_delete_of_another_tree_answers_404_and_keeps_the_row(app, fresh_tree, login):
    browser = login(fresh_tree.s_email, fresh_tree.password)
    assert browser.post(f"/enterprisemodelview/delete/{fresh_tree.E}").status_code == 404
    assert browser.post(f"/channelmodelview/delete/{fresh_tree.C}").status_code == 404
    with app.app_context():
        assert db.session.get(Enterprise, fresh_tree.E) is not None
        assert db.session.get(Channel, fresh_tree.C) is not None


def test_delete_by_get_is_refused(app, fresh_tree, login):
    browser = login(fresh_tree.a_email, fresh_tree.password)
    assert browser.get(f"/channelmodelview/delete/{fresh_tree.C}").status_code == 405
    assert browser.get(f"/enterprisemodelview/action/freeze/{fresh_tree.E}").status_code == 405
    assert _status(app, Enterprise, fresh_tree.E) == Status.active


@pytest.mark.parametrize("screen, model", [("enterprise", Enterprise), ("channel", Channel)])
def test_bulk_freeze_with_one_forged_id_changes_nothing(app, fresh_tree, login, screen, model):
    ours = fresh_tree.E if model is Enterprise else fresh_tree.C
    theirs = fresh_tree.SE if model is Enterprise else fresh_tree.S
    browser = login(fresh_tree.b_email, fresh_tree.password)
    response = browser.post(f"{SCREENS[screen]}/action_post",
                            data={"action": "freeze", "rowid": [str(ours), str(theirs)]})
    assert response.status_code == 404
    assert _status(app, model, ours) == Status.active
    assert _status(app, model, theirs) == Status.active


def test_bulk_freeze_of_the_parent_is_refused(app, fresh_tree, login):
    browser = login(fresh_tree.b_email, fresh_tree.password)
    response = browser.post("/channelmodelview/action_post",
                            data={"action": "freeze", "rowid": [str(fresh_tree.A)]})
    assert response.status_code == 404
    assert _status(app, Channel, fresh_tree.A) == Status.active


def test_bulk_freeze_and_unfreeze_in_scope(app, fresh_tree, login):
    browser = login(fresh_tree.a_email, fresh_tree.password)
    rows = [str(fresh_tree.E), str(fresh_tree.EB)]
    response = browser.post("/enterprisemodelview/action_post",
                            data={"action": "freeze", "rowid": rows})
    assert response.status_code == 302
    assert _status(app, Enterprise, fresh_tree.E) == Status.frozen
    assert _status(app, Enterprise, fresh_tree.EB) == Status.frozen
    page = browser.get("/enterprisemodelview/list/").get_data(as_text=True)
    # what was frozen, by name
    assert f"Frozen: {fresh_tree.prefix}-E, {fresh_tree.prefix}-EB." in page
    browser.post("/enterprisemodelview/action_post", data={"action": "unfreeze", "rowid": rows})
    assert _status(app, Enterprise, fresh_tree.E) == Status.active


def test_bulk_action_without_rows_or_with_unknown_action_is_400(app, tree, login):
    browser = login(tree.a_email, tree.password)
    assert browser.post("/enterprisemodelview/action_post",
                        data={"action": "freeze"}).status_code == 400
    assert browser.post("/enterprisemodelview/action_post",
                        data={"action": "explode", "rowid": [str(tree.E)]}).status_code == 400


def test_enterprise_add_dropdown_lists_only_the_subtree(app, tree, login):
    page = login(tree.b_email, tree.password).get("/enterprisemodelview/add").get_data(
        as_text=True)
    assert f'value="{tree.B}"' in page and f'value="{tree.C}"' in page
    assert f'value="{tree.A}"' not in page and f'value="{tree.S}"' not in page


def test_enterprise_added_under_a_forged_channel_is_refused(app, tree, login):
    browser = login(tree.b_email, tree.password)
    response = browser.post("/enterprisemodelview/add", data={
        "name": "forged-ent", "channel": str(tree.S), "permission_type": "device_management",
        "email": "forged@x.test"})
    assert response.status_code == 200  # the form again, with its error
    assert "This field is required." in response.get_data(as_text=True)  # no such choice
    with app.app_context():
        assert db.session.execute(
            select(Enterprise).where(Enterprise.name == "forged-ent")).first() is None


def test_enterprise_added_in_scope(app, fresh_tree, login):
    browser = login(fresh_tree.b_email, fresh_tree.password)
    response = browser.post("/enterprisemodelview/add", data={
        "name": "new-ent-b", "channel": str(fresh_tree.C), "permission_type": "rps",
        "has_master_admin": "y", "email": "new-ent-b@x.test", "country": "DE",
        "contact": "Jo"})
    assert response.status_code == 302
    with app.app_context():
        row = db.session.execute(
            select(Enterprise).where(Enterprise.name == "new-ent-b")).scalar_one()
        assert row.channel_id == fresh_tree.C and row.country == "DE"


def test_channel_without_sub_channel_permission_gets_no_add(app, tree, login):
    browser = login(tree.c_email, tree.password)  # C was not allowed to add sub-channels
    assert "/channelmodelview/add" not in browser.get("/channelmodelview/list/").get_data(
        as_text=True)
    assert browser.get("/channelmodelview/add").status_code == 403
    response = browser.post("/channelmodelview/add", data={
        "name": "c-child", "parent": str(tree.C), "email": "c-child@x.test"})
    assert response.status_code == 403
    with app.app_context():
        assert db.session.execute(select(Channel).where(Channel.name == "c-child")).first() is None


def test_channel_added_under_own_channel_gets_closure_and_own_enterprise(app, fresh_tree, login):
    browser = login(fresh_tree.b_email, fresh_tree.password)
    response = browser.post("/channelmodelview/add", data={
        "name": "b-child", "parent": str(fresh_tree.B), "email": "b-child@x.test"})
    assert response.status_code == 302
    listing = browser.get("/channelmodelview/list/?q=b-child").get_data(as_text=True)
    assert ">b-child<" in listing
    own = browser.get("/enterprisemodelview/list/?q=b-child").get_data(as_text=True)
    assert ">b-child<" in own and "Generated for the channel" in own
    # ...and the sibling tree does not see it
    assert ">b-child<" not in login(fresh_tree.s_email, fresh_tree.password).get(
        "/channelmodelview/list/?q=b-child").get_data(as_text=True)


def test_roles_without_the_permission_get_403(app, tree, login):
    ent = login(tree.ent_email, tree.password)
    assert ent.get("/channelmodelview/list/").status_code == 403
    assert ent.get("/enterprisemodelview/list/").status_code == 403
    assert ent.get("/devicemodelview/list/").status_code == 200


def test_enterprise_account_sees_only_its_devices(app, tree, login):
    page = login(tree.ent_email, tree.password).get("/devicemodelview/list/").get_data(
        as_text=True)
    assert "std-E<" in page and "std-R<" not in page and "std-EB" not in page


def test_anonymous_is_sent_to_login(app):
    response = app.test_client().get("/enterprisemodelview/list/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_deleting_a_busy_channel_or_enterprise_is_refused_with_a_message(app, fresh_tree,
                                                                         login):
    browser = login(fresh_tree.a_email, fresh_tree.password)
    browser.post(f"/channelmodelview/delete/{fresh_tree.B}")
    assert "has sub-channels" in browser.get("/channelmodelview/list/").get_data(as_text=True)
    browser.post(f"/enterprisemodelview/delete/{fresh_tree.E}")
    assert "still has devices" in browser.get("/enterprisemodelview/list/").get_data(
        as_text=True)
    with app.app_context():
        assert db.session.get(Channel, fresh_tree.B) and db.session.get(Enterprise, fresh_tree.E)


def test_deleting_an_empty_channel_takes_its_own_enterprise_along(app, fresh_tree, login):
    browser = login(fresh_tree.b_email, fresh_tree.password)
    browser.post("/channelmodelview/add", data={"name": "short-lived", "parent": str(fresh_tree.B),
                                                "email": "short-lived@x.test"})
    with app.app_context():
        channel_id = db.session.execute(
            select(Channel.id).where(Channel.name == "short-lived")).scalar_one()
    response = browser.post(f"/channelmodelview/delete/{channel_id}")
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Channel, channel_id) is None
        assert db.session.execute(
            select(Enterprise).where(Enterprise.channel_id == channel_id)).first() is None


def test_device_search_by_mac_with_separators_and_by_model(app, tree, login):
    with app.app_context():
        mac = db.session.execute(select(Device.mac).where(
            Device.enterprise_id == tree.E)).scalars().first()
    browser = login(tree.c_email, tree.password)
    spelled = ":".join(mac[i:i + 2] for i in range(0, 8, 2)).upper()  # "02:AA:00:00"
    page = browser.get(f"/devicemodelview/list/?q={spelled}").get_data(as_text=True)
    cell = f">{format_mac(mac)}<"  # listed with separators
    assert cell in page
    assert cell in browser.get("/devicemodelview/list/?q=SIP-T54").get_data(as_text=True)
    assert cell not in browser.get("/devicemodelview/list/?q=CP9").get_data(as_text=True)
    # a search never reaches past the scope
    assert cell not in login(tree.s_email, tree.password).get(
        f"/devicemodelview/list/?q={mac}").get_data(as_text=True)


def test_refusals_are_pages_of_the_portal(app, tree, login):
    browser = login(tree.c_email, tree.password)
    for url, code in ((f"/enterprisemodelview/show/{tree.SE}", 404),
                      ("/channelmodelview/add", 403)):
        response = browser.get(url)
        page = response.get_data(as_text=True)
        assert response.status_code == code and 'id="error-page"' in page
        assert "User Management" in page  # the menu is there: a way on
