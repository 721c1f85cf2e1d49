"""Roles: the platform administrator edits them in FAB's Security screens; channel and
enterprise accounts (masters and sub-accounts) cannot reach those screens."""

import pytest
from flask_appbuilder.security.sqla.models import Role
from sqlalchemy import select

from app.accounts import roles
from app.accounts.roles import role_label
from app.extensions import db

SECURITY_PAGES = ["/roles/list/", "/users/list/", "/permissions/list/", "/viewmenus/list/",
                  "/permissionviews/list/", "/groups/list/"]
# FAB's raw permission screens and its user statistics chart are not registered at all.
NOT_REGISTERED = ["/permissions/list/", "/viewmenus/list/", "/permissionviews/list/",
                  "/permissions/show/1", "/permissionviews/edit/1", "/viewmenus/add",
                  "/userstatschartview/chart/"]


def _role_id(app, name):
    with app.app_context():
        return db.session.execute(select(Role.id).where(Role.name == name)).scalar_one()


@pytest.mark.parametrize("who", ["a", "sub", "ent", "rps"])
def test_tenants_cannot_reach_the_security_screens(app, tree, login, who):
    browser = login(getattr(tree, f"{who}_email"), tree.password)
    role = _role_id(app, roles.CHANNEL_FINANCE)
    for url in SECURITY_PAGES + [f"/roles/show/{role}", f"/roles/edit/{role}"]:
        assert browser.get(url).status_code in (403, 404), url
    name_before = roles.CHANNEL_FINANCE
    for url, data in ((f"/roles/edit/{role}", {"name": "Hacked"}),
                      (f"/roles/delete/{role}", {}), ("/roles/add", {"name": "Mine"})):
        assert browser.post(url, data=data).status_code in (403, 404), url
    with app.app_context():
        assert db.session.get(Role, role).name == name_before
        assert db.session.execute(select(Role).where(Role.name == "Mine")).scalar() is None
    assert "/roles/list/" not in browser.get("/").get_data(as_text=True)


def test_the_platform_admin_edits_roles_and_sees_users(app, tree, login):
    admin = login(tree.admin_email, tree.password)
    page = admin.get("/roles/list/")
    assert page.status_code == 200
    assert str(role_label(roles.CHANNEL_FINANCE)) in page.get_data(as_text=True)
    assert admin.get(f"/roles/edit/{_role_id(app, roles.CHANNEL_FINANCE)}").status_code == 200
    assert tree.a_email in admin.get("/users/list/", query_string={"q": tree.a_email}
                                     ).get_data(as_text=True)


def test_the_raw_permission_screens_are_gone_even_for_the_platform_admin(app, tree, login):
    """No raw permission strings anywhere (issue #18): FAB's permission, view-menu and
    permission-on-view screens and its user statistics chart answer 404 and are not in the
    menu; roles are edited in the Roles screen, with permissions grouped by screen."""
    admin = login(tree.admin_email, tree.password)
    for url in NOT_REGISTERED:
        assert admin.get(url).status_code == 404, url
    home = admin.get("/").get_data(as_text=True)
    for url in ("/permissions/", "/viewmenus/", "/permissionviews/", "/userstatschartview/"):
        assert url not in home
    assert "/roles/list/" in home and "/users/list/" in home and "/groups/list/" in home


def test_sync_drops_the_permissions_of_screens_no_longer_registered(app):
    """A database made before those screens went keeps their permissions until the next
    sync, which takes them out of every role and deletes them."""
    from flask_appbuilder.security.sqla.models import PermissionView, ViewMenu

    with app.app_context():
        sm = app.appbuilder.sm
        pv = sm.add_permission_view_menu("can_list", "PermissionModelView")
        role = sm.find_role(roles.CHANNEL_FINANCE)
        role.permissions.append(pv)
        db.session.commit()
        sm.sync_roles()
        assert db.session.execute(select(ViewMenu).where(
            ViewMenu.name == "PermissionModelView")).scalar() is None
        assert not any(p.view_menu.name == "PermissionModelView"
                       for p in db.session.execute(select(PermissionView)).scalars())
        names = {p.view_menu.name for p in sm.find_role(roles.CHANNEL_FINANCE).permissions}
        assert "PermissionModelView" not in names and "OrderModelView" in names
