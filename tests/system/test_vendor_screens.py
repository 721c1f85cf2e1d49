"""The vendor's admin screens (packages, order limits, users, roles) look like the channel
screens: the same list, readable values and permissions named and grouped by screen."""

import re

import pytest
from flask_appbuilder.security.sqla.models import Role
from sqlalchemy import select

from app.accounts import roles
from app.extensions import db
from tests.helpers import new_package

FAB_LEFTOVERS = ("Record Count", "__None", "can list on", "can add on", "menu access on",
                 "EnterpriseModelView", "Search <b class=\"caret\">")


def _role_id(app, name):
    with app.app_context():
        return db.session.execute(select(Role.id).where(Role.name == name)).scalar_one()


@pytest.mark.parametrize("url", ["/packagemodelview/list/", "/orderlimitmodelview/list/",
                                 "/users/list/", "/roles/list/", "/packagemodelview/add",
                                 "/orderlimitmodelview/add", "/roles/add"])
def test_vendor_screens_have_no_framework_leftovers(app, tree, login, url):
    admin = login(tree.admin_email, tree.password)
    response = admin.get(url)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    for leftover in FAB_LEFTOVERS:
        assert leftover not in html, (url, leftover)
    if url.endswith("/list/"):
        assert 'class="panel panel-default ymcs-list"' in html  # the channel screens' list


def test_lists_read_like_the_channel_screens(app, tree, login):
    admin = login(tree.admin_email, tree.password)
    with app.app_context():
        package = new_package(db.session, name="Vendor-Gold")
        db.session.commit()
        package_id = package.id
    html = admin.get("/packagemodelview/list/", query_string={"q": "Vendor-Gold"}
                     ).get_data(as_text=True)
    assert f'/packagemodelview/show/{package_id}"' in html and "ymcs-badge\">Offered<" in html
    html = admin.get("/users/list/", query_string={"q": tree.a_email}).get_data(as_text=True)
    assert "Channel administrator" in html and ">std-A<" in html


def test_role_permissions_are_grouped_by_screen_with_readable_names(app, tree, login):
    admin = login(tree.admin_email, tree.password)
    role = _role_id(app, roles.CHANNEL_ADMIN)
    html = admin.get(f"/roles/show/{role}").get_data(as_text=True)
    assert "<strong>Enterprise Management</strong>: " in html
    assert re.search(r"<strong>Enterprise Management</strong>: [^<]*View the list", html)
    assert "can_list" not in html and "EnterpriseModelView" not in html
    form = admin.get(f"/roles/edit/{role}").get_data(as_text=True)
    assert "can add on" not in form and '<select' not in form.split('id="permissions"')[1]
    group = re.search(r'data-screen="Enterprise Management">(.*?)</span>', form, re.S).group(1)
    assert re.search(r'value="\d+"\s+checked>\s*Add</label>', group)
    listed = admin.get("/roles/list/").get_data(as_text=True)
    assert "Channel finance" in listed and "Enterprise Management" in listed


@pytest.mark.parametrize("url", ["/roles/list/", "/users/list/", "/packagemodelview/list/",
                                 "/orderlimitmodelview/list/"])
def test_tenants_still_cannot_reach_them(app, tree, login, url):
    assert login(tree.a_email, tree.password).get(url).status_code in (403, 404)
