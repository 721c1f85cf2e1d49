"""Roles: the platform administrator edits them in FAB's Security screens; channel and
enterprise accounts (masters and sub-accounts) cannot reach those screens."""

import pytest
from flask_appbuilder.security.sqla.models import Role
from sqlalchemy import select

from app.accounts import roles
from app.extensions import db

SECURITY_PAGES = ["/roles/list/", "/users/list/", "/permissions/list/", "/viewmenus/list/",
                  "/permissionviews/list/", "/groups/list/"]


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
    assert page.status_code == 200 and roles.CHANNEL_FINANCE in page.get_data(as_text=True)
    assert admin.get(f"/roles/edit/{_role_id(app, roles.CHANNEL_FINANCE)}").status_code == 200
    assert tree.a_email in admin.get("/users/list/?psize_AccountModelView=100&_flt_0_username="
                                     + tree.a_email).get_data(as_text=True)
