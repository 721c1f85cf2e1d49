"""Issue 18, "Signing in" and "Forms and messages", as a person meets them in Chromium: the
login page's language choice keeps what was typed and a saved language wins; each portal
carries its own name; saves say what happened to what; a refused save keeps the form with
every error at its field; one look for selects; confirmations in the portal's modal; Add
Order at the channel's limit; one expiration date for an order everywhere."""

import datetime
import re
import uuid

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Account, OrderLimit
from app.orders import rules as orders

from ..helpers import new_order, new_package
from ..tree import build_tree
from .conftest import add_button, confirm_modal, expect_message, login_through_form

ACME = "acme@ymcs.example"


@pytest.fixture
def tree(live_server):
    prefix = f"ff{uuid.uuid4().hex[:6]}"
    with live_server.app.app_context():
        t = build_tree(db.session, prefix)
        db.session.commit()
        out = {"prefix": prefix, "password": t.password, "c": t.c.username, "c_id": t.c.id,
               "C": t.C.id, "E": t.E.name, "E_id": t.E.id, "ent": t.ent.username,
               "rps": t.rps.username}
        db.session.remove()
    return out


def _language_of(live_server, email):
    with live_server.app.app_context():
        language = db.session.execute(
            select(Account.language).where(Account.username == email)).scalar_one()
        db.session.remove()
    return language


def _open(page, category, item):
    menu = page.locator(".navbar").first
    menu.get_by_role("link", name=category).click()
    menu.get_by_role("link", name=item).click()
    page.wait_for_url("**/list/**")


def _row(page, name):
    return page.locator("tbody tr").filter(has=page.get_by_role("link", name=name, exact=True))


# --- Signing in --------------------------------------------------------------------------------

def test_choosing_the_language_keeps_what_was_typed_and_sticks(live_server, anon_page, tree):
    page = anon_page
    page.goto("/login/")
    page.locator("#username").fill(tree["c"])
    page.locator("#password").fill(tree["password"])
    page.locator("#language").select_option("zh")
    # The page speaks Chinese at once, and nothing typed is lost.
    expect(page.locator(".panel-title")).to_have_text("登录 YMCS 渠道平台")
    expect(page.locator('label[for="password"]')).not_to_have_text("Password")
    expect(page.locator("#username")).to_have_value(tree["c"])
    expect(page.locator("#password")).to_have_value(tree["password"])
    page.locator("#login-form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)
    expect(page.locator(".navbar").first).to_contain_text("用户管理")
    assert _language_of(live_server, tree["c"]) == "zh"


def test_a_sign_in_with_the_language_left_alone_keeps_the_saved_one(live_server, _contexts,
                                                                     tree):
    with live_server.app.app_context():
        db.session.execute(select(Account).where(Account.username == tree["c"])).scalar_one(
        ).language = "zh"
        db.session.commit()
        db.session.remove()
    page = _contexts().new_page()
    page.goto("/login/")
    expect(page.locator("#language")).to_have_value("en")  # a fresh visitor: the default
    login_through_form(page, tree["c"], tree["password"])
    expect(page.locator(".navbar").first).to_contain_text("用户管理")  # the saved language
    assert _language_of(live_server, tree["c"]) == "zh"


@pytest.mark.parametrize("who, brand", [
    ("c", "YMCS for Channel"), ("ent", "YMCS for Enterprise"),
    ("rps", "YMCS for RPS Enterprise")])
def test_each_portal_carries_its_own_name(page_as, tree, who, brand):
    page = page_as(tree[who], tree["password"])
    expect(page.locator(".navbar-brand").first).to_have_text(brand)
    expect(page).to_have_title(re.compile(brand))


def test_a_channel_inside_an_enterprise_sees_the_enterprise_portal(page_as):
    page = page_as(ACME)
    _open(page, "User Management", "Enterprise Management")
    row = page.locator("tr", has_text="Acme Hotel Group")
    row.locator(".ymcs-actions-toggle").click()  # the row's "Actions" menu
    row.get_by_role("button", name="Go to the enterprise's platform").click()
    expect(page.locator("#acting-banner")).to_be_visible()
    expect(page.locator(".navbar-brand").first).to_have_text("YMCS for Enterprise")
    page.locator("#acting-back").click()
    expect(page.locator(".navbar-brand").first).to_have_text("YMCS for Channel")


# --- Forms and messages --------------------------------------------------------------------------

def test_a_refused_enterprise_keeps_the_form_with_every_error_then_saves(page_as, tree,
                                                                         smtp_server):
    name, email = f"{tree['prefix']} Kaixin", f"boss@{tree['prefix']}.test"
    page = page_as(tree["c"], tree["password"])
    _open(page, "User Management", "Enterprise Management")
    add_button(page).click()
    page.wait_for_url("**/enterprisemodelview/add**")
    page.locator("#name").fill(name)
    page.locator("#has_master_admin").check()
    page.locator("#phone").fill("+86 755 1234")
    page.get_by_role("button", name="Save").click()

    # The same form, what was typed still there, each missing field marked at once.
    expect(page).to_have_url(re.compile(r"/enterprisemodelview/add"))
    expect(page.locator("#name")).to_have_value(name)
    expect(page.locator("#phone")).to_have_value("+86 755 1234")
    expect(page.locator("#has_master_admin")).to_be_checked()
    for field, message in [
            ("email", "Enter the registered email: the master administrator signs in with it."),
            ("country", "This field is required."), ("contact", "This field is required.")]:
        expect(page.locator(f"tr:has(#{field}) .alert-danger")).to_have_text(message)

    page.locator("#email").fill(email)
    page.locator("#country").select_option("CN")
    page.locator("#contact").fill("Li Lei")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/enterprisemodelview/list/**")
    expect_message(page, "success", f"Enterprise {name} added; its temporary password was "
                                    f"mailed to {email}.")
    expect(page.locator("body")).not_to_contain_text("Added Row")


def test_every_select_is_a_select2_as_tall_as_the_text_inputs(page_as, tree):
    page = page_as(tree["c"], tree["password"])
    page.goto("/enterprisemodelview/add")
    for box in ("permission_type", "country", "channel"):
        expect(page.locator(f"#{box}")).to_have_class(re.compile("select2-hidden-accessible"))
    name = page.locator("#name").bounding_box()
    for box in ("permission_type", "country"):
        shown = page.locator(f"#select2-{box}-container").locator(
            "xpath=ancestor::span[contains(@class,'select2-selection')]").bounding_box()
        assert abs(shown["height"] - name["height"]) <= 1, (box, shown, name)


def test_freezing_asks_in_the_portals_modal_naming_the_enterprise(page_as, tree):
    page = page_as(tree["c"], tree["password"])
    page.on("dialog", lambda dialog: pytest.fail(f"a browser dialog: {dialog.message}"))
    _open(page, "User Management", "Enterprise Management")
    row = _row(page, tree["E"])
    row.locator(".ymcs-actions-toggle").click()  # the row's "Actions" menu
    row.get_by_role("button", name="Freeze").click()
    assert confirm_modal(page, accept=False) == ("Freeze this account?", tree["E"])
    expect(row).to_contain_text("Active")  # Cancel changed nothing

    row.locator(".ymcs-actions-toggle").click()
    row.get_by_role("button", name="Freeze").click()
    confirm_modal(page)
    expect_message(page, "success", f"Frozen: {tree['E']}.")
    expect(_row(page, tree["E"])).to_contain_text("Frozen")


def test_at_its_order_limit_a_channel_is_stopped_at_step_one(live_server, page_as, tree):
    with live_server.app.app_context():
        db.session.add(OrderLimit(channel_id=tree["C"], max_open_orders=1))
        new_order(db.session, tree["E_id"], effective_on=orders.today()
                  + datetime.timedelta(days=5))
        db.session.commit()
        db.session.remove()
    page = page_as(tree["c"], tree["password"])
    _open(page, "Orders", "Order Management")
    page.get_by_role("link", name="Add Order").click()
    expect_message(page, "danger", "Your channel has reached the limit of paid orders set by "
                                   "the vendor (1 open orders). Contact Yealink to raise it.")
    expect(page.locator(".ymcs-steps li.active")).to_have_text("1. Enterprise and reseller")
    expect(page.locator("#reseller")).to_be_disabled()
    expect(page.locator("#enterprise_id")).to_be_disabled()
    expect(page.get_by_role("button", name="Next step")).to_be_disabled()


def test_add_order_shows_every_invalid_field_at_once(live_server, page_as, tree):
    with live_server.app.app_context():
        package = new_package(db.session, 5, name=f"{tree['prefix']} Pack").name
        db.session.remove()
    page = page_as(tree["c"], tree["password"])
    _open(page, "Orders", "Order Management")
    page.get_by_role("link", name="Add Order").click()
    page.locator("#enterprise_id").select_option(label=tree["E"])
    page.locator("#reseller").fill("Shop")
    page.get_by_role("button", name="Next step").click()
    expect(page.locator(".ymcs-steps li.active")).to_have_text("2. Package")
    page.locator("#package_id").select_option(label=f"{package}: 5 devices, 12 months")
    for field in ("quantity", "effective_on"):  # past the browser's own checks
        page.locator(f"#{field}").evaluate("e => { e.removeAttribute('min'); }")
    page.locator("#quantity").fill("0")
    page.locator("#effective_on").fill(
        (orders.today() - datetime.timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Submit").click()
    expect(page.locator("#quantity-error")).to_have_text(
        "The quantity is a whole number from 1 to 10000.")
    expect(page.locator("#effective_on-error")).to_have_text(
        "The effective date cannot be in the past.")
    expect(page.locator("#quantity")).to_have_value("0")


def test_an_order_has_one_expiration_date_in_the_list_and_its_details(live_server, page_as,
                                                                      tree):
    start = orders.today() + datetime.timedelta(days=3)
    with live_server.app.app_context():
        order = new_order(db.session, tree["E_id"], effective_on=start, months=12,
                          reseller=f"{tree['prefix']} Shop")
        order_id, expires_on = order.id, order.expires_on
        db.session.commit()
        db.session.remove()
    last_day = orders.last_day_of_service(expires_on).isoformat()
    page = page_as(tree["c"], tree["password"])
    _open(page, "Orders", "Order Management")
    page.get_by_role("searchbox", name="Search").fill(str(order_id))
    page.locator("form[role=search] button[type=submit]").click()
    row = page.locator("tr", has=page.get_by_role("link", name=str(order_id), exact=True))
    expect(row).to_contain_text(last_day)
    expect(row).not_to_contain_text(expires_on.isoformat())
    row.get_by_role("link", name=str(order_id), exact=True).click()
    expect(page.locator("#order-last-day")).to_contain_text(last_day)
    expect(page.locator("#order-details")).to_contain_text(f"{start.isoformat()} – {last_day}")
    expect(page.locator("#order-details")).not_to_contain_text(expires_on.isoformat())

