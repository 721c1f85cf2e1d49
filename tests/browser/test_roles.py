"""The platform administrator edits a role's permissions: boxes grouped by screen, named as
people say them; the role's permission set is what the boxes say. Channel admins cannot."""

import pytest
from flask_appbuilder.security.sqla.models import Role
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db

from .conftest import expect_message

ADMIN = "admin@ymcs.example"


def _held(app, role_id):
    with app.app_context():
        role = db.session.get(Role, role_id)
        held = {(pv.permission.name, pv.view_menu.name) for pv in role.permissions}
        db.session.remove()
        return held


@pytest.fixture
def role(live_server):
    """A role of its own (the demo roles are shared by the other browser tests)."""
    app = live_server.app
    with app.app_context():
        sm = app.appbuilder.sm
        role = sm.add_role("Browser test role")
        role.permissions = [sm.find_permission_view_menu(p, v) for p, v in (
            ("can_list", "EnterpriseModelView"), ("can_add", "EnterpriseModelView"),
            ("menu_access", "Enterprise Management"))]
        db.session.commit()
        role_id = role.id
        db.session.remove()
    yield role_id
    with app.app_context():
        db.session.delete(db.session.get(Role, role_id))
        db.session.commit()
        db.session.remove()


def _group(page, screen):
    return page.locator(".ymcs-permission-group").filter(
        has=page.locator(".ymcs-permission-screen", has_text=screen)).first


def test_the_admin_unticks_and_ticks_permissions_and_the_role_changes(
        live_server, page_as, role):
    page = page_as(ADMIN)
    page.goto("/lang/en")
    page.goto(f"/roles/edit/{role}")
    enterprises = _group(page, "Enterprise Management")
    expect(enterprises.get_by_label("View the list")).to_be_checked()
    expect(enterprises.get_by_label("Add", exact=True)).to_be_checked()
    expect(enterprises.get_by_label("Delete", exact=True)).not_to_be_checked()
    enterprises.get_by_label("Add", exact=True).uncheck()
    orders = _group(page, "Order Management")
    orders.get_by_label("Export").check()
    orders.get_by_label("View the list").check()
    page.get_by_role("button", name="Save").click()
    expect_message(page, "success", "Browser test role")
    assert _held(live_server.app, role) == {
        ("can_list", "EnterpriseModelView"), ("menu_access", "Enterprise Management"),
        ("can_export", "OrderModelView"), ("can_list", "OrderModelView")}

    # The show page reads the same way: grouped by screen, the actions named.
    page.goto(f"/roles/show/{role}")
    held = page.locator(".ymcs-permission-held")
    expect(held.filter(has_text="Enterprise Management")).to_have_text(
        "Enterprise Management: Menu entry, View the list")
    expect(held.filter(has_text="Order Management")).to_have_text(
        "Order Management: View the list, Export")

    # A screen's own box ticks its whole row.
    page.goto(f"/roles/edit/{role}")
    _group(page, "Order Management").locator(".ymcs-permission-all").check()
    expect(_group(page, "Order Management").get_by_label("Cancel order")).to_be_checked()
    page.get_by_role("button", name="Save").click()
    expect_message(page, "success", "Browser test role")
    order_actions = {p for p, v in _held(live_server.app, role) if v == "OrderModelView"}
    assert order_actions == {"can_list", "can_show", "can_add", "can_export", "cancel",
                             "can_enterprises"}


def test_the_role_form_reads_in_chinese(live_server, page_as, role):
    page = page_as(ADMIN)
    page.goto("/lang/zh")
    try:
        page.goto(f"/roles/edit/{role}")
        expect(_group(page, "企业管理").get_by_label("查看列表")).to_be_checked()
    finally:
        page.goto("/lang/en")


def test_a_channel_admin_cannot_open_the_role_form(live_server, page_as, role):
    page = page_as("acme@ymcs.example")
    response = page.goto(f"/roles/edit/{role}")
    assert response.status in (403, 404)
    expect(page.locator(".ymcs-permissions")).to_have_count(0)
    with live_server.app.app_context():
        assert db.session.execute(select(Role.name).where(Role.id == role)).scalar_one() == \
            "Browser test role"
        db.session.remove()
