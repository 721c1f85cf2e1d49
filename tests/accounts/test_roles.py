"""Roles are defined in code and synced by command; admins may still edit them in FAB."""

import pytest
from sqlalchemy import func, select

from app.accounts import roles
from app.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, seed_demo
from app.extensions import db
from app.models import Account, AccountKind, Channel, Device


def _permissions(app, role_name):
    with app.app_context():
        role = app.appbuilder.sm.find_role(role_name)
        return {(pv.permission.name, pv.view_menu.name) for pv in role.permissions}


def test_sync_creates_every_defined_role(app):
    with app.app_context():
        names = {r.name for r in app.appbuilder.sm.get_all_roles()}
    assert set(roles.ROLE_DEFINITIONS) | {roles.ADMIN} <= names


def test_sync_is_idempotent_and_restores_definitions(app):
    before = _permissions(app, roles.CHANNEL_ADMIN)
    with app.app_context():
        role = app.appbuilder.sm.find_role(roles.CHANNEL_ADMIN)
        role.permissions = role.permissions[:3]  # an admin trims it in the role screen
        db.session.commit()
    assert len(_permissions(app, roles.CHANNEL_ADMIN)) == 3
    with app.app_context():
        app.appbuilder.sm.sync_roles()
        app.appbuilder.sm.sync_roles()
    assert _permissions(app, roles.CHANNEL_ADMIN) == before


def test_finance_role_holds_no_tenant_management(app):
    finance = _permissions(app, roles.CHANNEL_FINANCE)
    assert not any(view in ("ChannelModelView", "EnterpriseModelView", "DeviceModelView")
                   for _, view in finance)
    assert ("can_password", "AccountSettingsView") in finance


def test_admin_holds_every_permission(app):
    with app.app_context():
        from flask_appbuilder.security.sqla.models import PermissionView

        total = db.session.execute(select(func.count()).select_from(PermissionView)).scalar()
    assert len(_permissions(app, roles.ADMIN)) == total


def test_role_edited_in_fab_takes_effect_at_once(app, fresh_tree, login):
    """FAB's built-in roles ignore UI edits; ours live in the database, so they count."""
    browser = login(fresh_tree.c_email, fresh_tree.password)
    assert browser.get("/devicemodelview/list/").status_code == 200
    with app.app_context():
        sm = app.appbuilder.sm
        role = sm.find_role(roles.CHANNEL_ADMIN)
        role.permissions = [pv for pv in role.permissions
                            if not (pv.view_menu.name == "DeviceModelView"
                                    and pv.permission.name == "can_list")]
        db.session.commit()
    try:
        assert browser.get("/devicemodelview/list/").status_code == 403
    finally:
        with app.app_context():
            app.appbuilder.sm.sync_roles()


def test_finance_account_cannot_open_channel_screens(app, login):
    with app.app_context():
        seed_demo(db.session, devices_per_enterprise=1)
    finance = next(a for a in DEMO_ACCOUNTS if a[1] == roles.CHANNEL_FINANCE)[0]
    browser = login(finance, DEMO_PASSWORD)
    assert browser.get("/channelmodelview/list/").status_code == 403
    assert browser.get("/enterprisemodelview/list/").status_code == 403


def test_demo_seed_is_idempotent(app):
    def counts():
        with app.app_context():
            return tuple(db.session.execute(select(func.count()).select_from(m)).scalar()
                         for m in (Channel, Device, Account))

    with app.app_context():
        seed_demo(db.session)
    first = counts()
    with app.app_context():
        seed_demo(db.session)
    assert counts() == first


def test_demo_channel_admin_sees_only_its_subtree(app, login):
    with app.app_context():
        seed_demo(db.session)
    page = login("acme@ymcs.example", DEMO_PASSWORD).get(
        "/enterprisemodelview/list/?psize=200").get_data(as_text=True)
    assert "Kaixin Trading" in page and "Acme Hotel Group" in page
    assert "Zenith Bank" not in page


def test_channel_admin_opens_own_profile_but_not_other_accounts(app, tree, login):
    browser = login(tree.b_email, tree.password)
    profile = browser.get("/account/")
    assert profile.status_code == 200 and tree.b_email in profile.get_data(as_text=True)
    assert browser.get("/users/userinfo/").status_code == 403  # FAB's page is not theirs
    assert browser.get("/users/list/").status_code == 403
    assert browser.get(f"/users/show/{tree.s}").status_code == 403
    assert browser.get(f"/users/edit/{tree.s}").status_code == 403


def test_menu_follows_a_role_edit_at_the_next_request(app, fresh_tree, login):
    """The menu is cached per permission set: an edit in the role screens still shows."""
    browser = login(fresh_tree.c_email, fresh_tree.password)
    assert "Platform Device" in browser.get("/").get_data(as_text=True)
    with app.app_context():
        role = app.appbuilder.sm.find_role(roles.CHANNEL_ADMIN)
        role.permissions = [pv for pv in role.permissions
                            if not (pv.view_menu.name == "Platform Device"
                                    and pv.permission.name == "menu_access")]
        db.session.commit()
    try:
        assert "Platform Device" not in browser.get("/").get_data(as_text=True)
    finally:
        with app.app_context():
            app.appbuilder.sm.sync_roles()
    assert "Platform Device" in browser.get("/").get_data(as_text=True)


def test_menu_is_in_the_account_language(app, fresh_tree, login):
    browser = login(fresh_tree.c_email, fresh_tree.password)
    assert "Platform Device" in browser.get("/").get_data(as_text=True)
    browser.get("/lang/zh")
    assert "平台设备" in browser.get("/").get_data(as_text=True)


@pytest.mark.parametrize("kind, saved", [("superuser", False), ("channel_master", True)])
def test_admin_user_form_refuses_unknown_kinds(app, fresh_tree, login, kind, saved):
    admin = login(fresh_tree.admin_email, fresh_tree.password)
    page = admin.get(f"/users/edit/{fresh_tree.c}").get_data(as_text=True)
    from ..conftest import csrf_token_from

    admin.token = csrf_token_from(page)
    response = admin.post(f"/users/edit/{fresh_tree.c}", data={
        "first_name": "c", "last_name": "Renamed", "username": fresh_tree.c_email,
        "email": fresh_tree.c_email, "kind": kind, "roles": _role_id(app), "language": "en",
        "active": "y", "channel": str(fresh_tree.C)})
    with app.app_context():
        account = db.session.get(Account, fresh_tree.c)
        stored = (account.kind, account.last_name, account.channel_id)
    if saved:
        assert response.status_code == 302
        assert stored == (AccountKind.channel_master, "Renamed", fresh_tree.C)
    else:  # the form again, with the kind asked for again, and the account as it was
        assert response.status_code == 200
        assert "This field is required." in response.get_data(as_text=True)
        assert stored == (AccountKind.channel_master, fresh_tree.prefix, fresh_tree.C)


def _role_id(app):
    with app.app_context():
        return str(app.appbuilder.sm.find_role(roles.CHANNEL_ADMIN).id)


def test_a_permission_swapped_in_a_role_is_seen_at_the_next_load(app, fresh_tree):
    """The permission set is kept per process under a fingerprint of the account's permission
    rows: swapping one permission for another (same count; on SQLite the new row can even
    reuse the deleted row's id) must change it, and the next load must see the new set."""
    import uuid

    from flask import g
    from flask_appbuilder.security.sqla.models import PermissionView

    from app.accounts import security

    sm = app.appbuilder.sm
    role_name = f"swap-{uuid.uuid4().hex[:6]}"
    with app.test_request_context():
        pvs = db.session.execute(select(PermissionView).order_by(PermissionView.id)
                                 .limit(4)).scalars().all()
        names = [(pv.permission.name, pv.view_menu.name) for pv in pvs]
        ids = [pv.id for pv in pvs]
        role = sm.add_role(role_name)
        role.permissions = pvs[:3]
        db.session.get(Account, fresh_tree.c).roles = [role]
        db.session.commit()

        def loaded():  # as a new request does
            db.session.remove()
            g.pop("_ymcs_permissions", None)
            user = sm.get_user_by_id(fresh_tree.c)
            return user.ymcs_permission_key, set(sm._permission_set(user))

        key, before = loaded()
        assert before == set(names[:3])
        assert key in security._PERMISSION_SETS
        assert loaded() == (key, before)  # unchanged: the same key, the same set
        role = sm.find_role(role_name)  # the third one out, the fourth in
        role.permissions = [pv for pv in role.permissions if pv.id != ids[2]] + [
            db.session.get(PermissionView, ids[3])]
        db.session.commit()
        new_key, after = loaded()
        assert new_key != key and after == set(names[:2] + names[3:])
        # Losing the role altogether: nothing left.
        db.session.get(Account, fresh_tree.c).roles = []
        db.session.commit()
        assert loaded()[1] == set()
