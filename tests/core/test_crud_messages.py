"""Issue 18, "Forms and messages" over HTTP (app/core/crud.py): every add, edit and delete
says what happened to what, never FAB's "Added Row"; a refused save re-shows the form with
what was typed; FAB's unique check says its value once (it ran, and said so, twice)."""

import uuid

import pytest
from flask import current_app
from sqlalchemy import func, select

from app.core.crud import SavedMessagesMixin
from app.extensions import db
from app.models import Enterprise, Package

from ..conftest import Browser

FAB_DEFAULTS = ("Added Row", "Changed Row", "Deleted Row", "Already exists.", "已经存在")


def _messages(browser, response):
    """The page the response shows (after its redirect), for its flashed messages."""
    if response.status_code == 302:
        return browser.get(response.headers["Location"]).get_data(as_text=True)
    return response.get_data(as_text=True)


def _package_id(app, name):
    with app.app_context():
        return db.session.execute(select(Package.id).where(Package.name == name)).scalar()


def test_every_model_view_that_saves_says_what_it_saved(app):
    """Every registered ModelView going through FAB's add/edit/delete uses the shared
    messages, with a noun of its own (a new screen cannot slip back to "Added Row")."""
    with app.app_context():
        checked = []
        for view in current_app.appbuilder.baseviews:
            permissions = set(getattr(view, "base_permissions", None) or ())
            if not hasattr(view, "_add") or not permissions & {"can_add", "can_edit",
                                                               "can_delete"}:
                continue
            assert isinstance(view, SavedMessagesMixin), type(view).__name__
            assert str(view.noun) != "Record", type(view).__name__
            checked.append(type(view).__name__)
        for expected in ("ChannelModelView", "EnterpriseModelView", "PackageModelView",
                         "OrderLimitModelView", "RpsDeviceModelView", "AccountModelView",
                         "YmcsRoleModelView"):
            assert expected in checked


def test_package_add_edit_delete_say_which_package(app, tree):
    admin = Browser(app, tree.admin_email, tree.password)
    name = f"pkg-{uuid.uuid4().hex[:8]}"
    form = {"name": name, "max_devices": "10", "duration_months": "12", "active": "y"}
    page = _messages(admin, admin.post("/packagemodelview/add", data=form))
    assert f"Package {name} added." in page
    pk = _package_id(app, name)
    page = _messages(admin, admin.post(f"/packagemodelview/edit/{pk}",
                                       data={**form, "max_devices": "20"}))
    assert f"Package {name} saved." in page
    page = _messages(admin, admin.post(f"/packagemodelview/delete/{pk}"))
    assert f"Package {name} deleted." in page
    assert not any(text in page for text in FAB_DEFAULTS)


@pytest.mark.parametrize("lang, message", [
    ("en", "{name} already exists: choose another."),
    ("zh", "{name} 已存在，请换一个。")])
def test_a_taken_name_is_said_once_at_its_field_with_the_form_kept(app, tree, lang, message):
    admin = Browser(app, tree.admin_email, tree.password)
    admin.get(f"/lang/{lang}")
    name = f"pkg-{uuid.uuid4().hex[:8]}"
    form = {"name": name, "max_devices": "10", "duration_months": "7", "active": "y"}
    admin.post("/packagemodelview/add", data=form)
    response = admin.post("/packagemodelview/add", data={**form, "max_devices": "33"})
    assert response.status_code == 200  # the form again
    page = response.get_data(as_text=True)
    assert page.count(message.format(name=name)) == 1
    assert not any(text in page for text in FAB_DEFAULTS)
    assert 'value="33"' in page  # what was typed
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Package).where(
            Package.name == name)).scalar_one() == 1


def test_a_refused_delete_says_why_and_keeps_the_row(app, fresh_tree):
    """pre_delete's refusal (a sold package) is the message; nothing is deleted."""
    from ..helpers import new_order, new_package

    with app.app_context():
        package = new_package(db.session)
        new_order(db.session, fresh_tree.E, package=package)
        db.session.commit()
        pk, name = package.id, package.name
    admin = Browser(app, fresh_tree.admin_email, fresh_tree.password)
    page = _messages(admin, admin.post(f"/packagemodelview/delete/{pk}"))
    assert f"Package {name} was sold: stop offering it instead of deleting it." in page
    assert _package_id(app, name) == pk


def test_an_enterprise_added_says_where_its_password_went(app, fresh_tree, smtp_server):
    channel = Browser(app, fresh_tree.c_email, fresh_tree.password)
    name, email = f"{fresh_tree.prefix} Kaixin Trading", f"it@{fresh_tree.prefix}.test"
    response = channel.post("/enterprisemodelview/add", data={
        "name": name, "channel": str(fresh_tree.C), "permission_type": "device_management",
        "has_master_admin": "y", "email": email, "country": "CN", "contact": "Li"})
    assert (f"Enterprise {name} added; its temporary password was mailed to {email}."
            in _messages(channel, response))
    with app.app_context():
        pk = db.session.execute(select(Enterprise.id).where(Enterprise.name == name)).scalar()
    page = _messages(channel, channel.post(f"/enterprisemodelview/edit/{pk}", data={
        "name": name, "has_master_admin": "y", "email": email, "country": "CN",
        "contact": "Wang"}))
    assert f"Enterprise {name} saved." in page


def test_enterprise_country_and_contact_are_required_and_all_errors_show(app, fresh_tree):
    channel = Browser(app, fresh_tree.c_email, fresh_tree.password)
    name = f"{fresh_tree.prefix} Nothing"
    response = channel.post("/enterprisemodelview/add", data={
        "name": name, "channel": str(fresh_tree.C), "permission_type": "device_management",
        "has_master_admin": "y", "phone": "+86 1"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Enter the registered email: the master administrator signs in with it." in page
    assert page.count("This field is required.") == 2  # the country and the contact
    assert f'value="{name}"' in page and 'value="+86 1"' in page
    with app.app_context():
        assert db.session.execute(select(Enterprise.id).where(
            Enterprise.name == name)).first() is None


def test_order_limit_messages_name_the_channel(app, fresh_tree):
    admin = Browser(app, fresh_tree.admin_email, fresh_tree.password)
    channel = f"{fresh_tree.prefix}-S"
    response = admin.post("/orderlimitmodelview/add", data={"channel": str(fresh_tree.S),
                                                            "max_open_orders": "4"})
    assert f"{channel} may now have 4 open paid orders." in _messages(admin, response)
    response = admin.post("/orderlimitmodelview/add", data={"channel": str(fresh_tree.S),
                                                            "max_open_orders": "5"})
    assert response.status_code == 200  # refused: the form again, with why
    assert f"{channel} already has a limit: edit it instead." in response.get_data(
        as_text=True)
