"""Chapter 3 in the browser, as a channel administrator: Managing Enterprises (add, search,
reset the password, edit, freeze/unfreeze one or several, go to the enterprise's platform)
and Managing Channels (add a sub-channel, search, reset, edit, freeze/unfreeze, go to the
sub-channel's portal), and the sibling tree seeing none of it.

Every test builds its own tree (tests/tree.py) under a fresh prefix:

    A ─ B ─ C ─ E (authorized), ER (authorization rejected), R (RPS)
        └ EB
    S ─ SE
"""

import re
import uuid
from types import SimpleNamespace
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect
from sqlalchemy import select

from app.core.mail import send_due_mail
from app.core.show import format_mac
from app.extensions import db
from app.models import Device

from ..tree import build_tree
from .conftest import add_button, confirming, expect_message, login_through_form

FORCED = "Change password for safety"


@pytest.fixture
def tree(live_server):
    """A fresh tree: names, emails and the MACs of its devices, as plain values."""
    prefix = f"c3{uuid.uuid4().hex[:6]}"
    with live_server.app.app_context():
        t = build_tree(db.session, prefix)
        t.E.contact = f"Zhang {prefix}"
        t.C.contact = f"Wang {prefix}"
        for key in ("B", "C"):  # registered emails, as the channel's master logins
            getattr(t, key).email = f"{key.lower()}@{prefix}.test"
        db.session.commit()
        out = SimpleNamespace(prefix=prefix, password=t.password)
        for key in ("A", "B", "C", "S", "E", "ER", "R", "EB", "SE"):
            setattr(out, key, getattr(t, key).name)
        for key in ("a", "b", "c", "s", "ent"):
            setattr(out, key, getattr(t, key).username)
        out.macs = {key: sorted(db.session.scalars(select(Device.mac).where(
            Device.enterprise_id == getattr(t, key).id))) for key in ("E", "ER", "EB")}
        db.session.remove()
    return out


def _confirming(page):
    """Accept every confirmation (the portal's modal) on this page; return their questions."""
    return confirming(page)


def _open(page, item):
    """User Management > item, through the menu as a person would."""
    menu = page.locator(".navbar").first
    link = menu.get_by_role("link", name=item)
    for _attempt in range(3):  # a click that lands while the page still loads may not open it
        menu.get_by_role("link", name="User Management").click()
        try:
            link.wait_for(state="visible", timeout=10_000)
            break
        except PlaywrightTimeoutError:
            continue
    link.click()
    page.wait_for_url("**/list/**")
    expect(page.locator(".ymcs-list h4")).to_have_text(item)


def _row(page, name):
    """The list row whose first cell is exactly this name."""
    return page.locator("table tbody tr").filter(
        has=page.get_by_role("link", name=name, exact=True))


def _icon(page, name, label):
    """A row action, shown or not: it lives in the row's "Actions" menu."""
    return _row(page, name).get_by_role("button", name=label, exact=True, include_hidden=True)


def _act(page, name, label):
    """Open the row's "Actions" menu and choose ``label``."""
    _row(page, name).locator(".ymcs-actions-toggle").click()
    _icon(page, name, label).click()


def _search(page, text):
    page.get_by_role("searchbox", name="Search").fill(text)
    page.locator("form[role=search] button[type=submit]").click()
    page.wait_for_url(lambda url: parse_qs(urlparse(url).query).get("q") == [text])


def _expect_rows(page, names):
    """Exactly these names are listed (the lists here only hold one tree's rows)."""
    n = len(names)
    expect(page.locator(".ymcs-count")).to_have_text(f"{n} result" + ("" if n == 1 else "s"))
    for name in names:
        expect(_row(page, name)).to_have_count(1)


def _mailed_password(live_server, smtp_server, email):
    with live_server.app.app_context():
        send_due_mail(db.session, live_server.app)
        db.session.remove()
    mails = [m for rcpts, m in smtp_server.received if email in rcpts]
    assert mails, f"no mail to {email}: {smtp_server.handler.recipients()}"
    body = mails[-1].get_body(("plain",)).get_content()
    return re.search(r"Temporary password: (\S+)", body).group(1)


def _signs_in_to_forced_change(anon_page, email, password):
    login_through_form(anon_page, email, password)
    expect(anon_page.locator("body")).to_contain_text(FORCED)
    assert "/account/password" in anon_page.url


def _refused_login(page, email, password):
    page.goto("/login/")
    page.locator('input[name="username"]').fill(email)
    page.locator('input[name="password"]').fill(password)
    page.locator("#login-form button[type=submit]").click()
    expect_message(page, "warning", "frozen")
    assert "/login" in page.url


# --- Managing Enterprises --------------------------------------------------------------------

def test_add_enterprise_mails_a_password_that_signs_in(live_server, page_as, anon_page, tree,
                                                       smtp_server):
    name, email = f"{tree.prefix}-Kaixin", f"boss@{tree.prefix}.test"
    page = page_as(tree.c, tree.password)
    _open(page, "Enterprise Management")
    add_button(page).click()
    page.wait_for_url("**/enterprisemodelview/add**")
    page.locator("#name").fill(name)
    expect(page.locator("#channel")).to_have_value(re.compile(r"\d+"))  # C, its only channel
    page.locator("#permission_type").select_option(label="Device Management")
    page.locator("#has_master_admin").check()
    page.locator("#email").fill(email)
    page.locator("#select2-country-container").click()  # the Select2 widget, as typed
    page.locator(".select2-search__field").fill("Anguil")
    page.locator(".select2-results__option", has_text="Anguilla").click()
    expect(page.locator("#country")).to_have_value("AI")
    page.locator("#contact").fill("Anguilla Li")
    page.get_by_role("button", name="Save").click()

    page.wait_for_url("**/enterprisemodelview/list/**")
    row = _row(page, name)
    expect(row).to_contain_text(email)
    expect(row).to_contain_text("Anguilla Li")
    expect(row).to_contain_text("Device Management")
    expect(row).to_contain_text(tree.C)

    password = _mailed_password(live_server, smtp_server, email)
    _signs_in_to_forced_change(anon_page, email, password)


def test_search_enterprises_by_name_email_and_contact(page_as, tree):
    page = page_as(tree.b, tree.password)
    _open(page, "Enterprise Management")
    _search(page, f"{tree.prefix[2:]}-E")  # a part of the name
    _expect_rows(page, [tree.E, tree.ER, tree.EB])
    _search(page, f"er@{tree.prefix}.test")  # the registered email
    _expect_rows(page, [tree.ER])
    _search(page, f"Zhang {tree.prefix}")  # the contact
    _expect_rows(page, [tree.E])
    _search(page, f"nobody-{tree.prefix}")
    expect(page.locator("table tbody")).to_contain_text("No records found")


def test_reset_enterprise_password_mails_a_new_one(live_server, page_as, anon_page, tree,
                                                  smtp_server):
    page = page_as(tree.c, tree.password)
    confirms = _confirming(page)
    _open(page, "Enterprise Management")
    _act(page, tree.E, "Reset password")
    expect_message(page, "success", f"A new password was mailed to {tree.ent}.")
    assert confirms == ["Mail a new password to this account's administrator?"]

    password = _mailed_password(live_server, smtp_server, tree.ent)
    _signs_in_to_forced_change(anon_page, tree.ent, password)


def test_edit_enterprise_contact_and_registered_email(live_server, page_as, anon_page, tree):
    new_email = f"new-boss@{tree.prefix}.test"
    page = page_as(tree.c, tree.password)
    _open(page, "Enterprise Management")
    _row(page, tree.E).get_by_role("link", name="Edit", exact=True).click()
    page.wait_for_url("**/enterprisemodelview/edit/**")
    expect(page.locator("#contact")).to_have_value(f"Zhang {tree.prefix}")
    page.locator("#contact").fill("Liu Yang")
    page.locator("#email").fill(new_email)
    page.locator("#country").select_option("CN")  # required (the spec marks it)
    page.get_by_role("button", name="Save").click()

    page.wait_for_url("**/enterprisemodelview/list/**")
    row = _row(page, tree.E)
    expect(row).to_contain_text("Liu Yang")
    expect(row).to_contain_text(new_email)
    expect(row).not_to_contain_text(f"e@{tree.prefix}.test")
    # the enterprise administrator's login follows the registered email
    login_through_form(anon_page, new_email, tree.password)


def test_freeze_and_unfreeze_enterprises(page_as, anon_page, tree):
    page = page_as(tree.c, tree.password)
    confirms = _confirming(page)
    _open(page, "Enterprise Management")
    expect(_row(page, tree.E)).to_contain_text("Active")
    _act(page, tree.E, "Freeze")
    expect_message(page, "success", f"Frozen: {tree.E}.")
    expect(_row(page, tree.E)).to_contain_text("Frozen")
    expect(_icon(page, tree.E, "Freeze")).to_have_count(0)
    expect(_icon(page, tree.E, "Go to the enterprise's platform")).to_have_count(0)
    assert confirms == ["Freeze this account?"]

    _refused_login(anon_page, tree.ent, tree.password)

    _act(page, tree.E, "Unfreeze")
    expect_message(page, "success", f"Unfrozen: {tree.E}.")
    expect(_row(page, tree.E)).to_contain_text("Active")
    expect(_icon(page, tree.E, "Unfreeze")).to_have_count(0)
    login_through_form(anon_page, tree.ent, tree.password)

    # two at once: select the rows, choose the action, Apply
    for name in (tree.ER, tree.R):
        _row(page, name).locator("input.ymcs-row").check()
    page.locator("select[name=action]").select_option(label="Freeze")
    page.get_by_role("button", name="Apply").click()
    expect_message(page, "success", f"Frozen: {tree.ER}, {tree.R}.")
    for name in (tree.ER, tree.R):
        expect(_row(page, name)).to_contain_text("Frozen")
    expect(_row(page, tree.E)).to_contain_text("Active")
    assert confirms[-1] == "Apply this action to the selected rows?"


def test_go_to_the_enterprise_platform_and_back(page_as, tree):
    page = page_as(tree.c, tree.password)
    _confirming(page)
    _open(page, "Enterprise Management")
    expect(_icon(page, tree.ER, "Go to the enterprise's platform")).to_have_count(0)
    expect(_icon(page, tree.R, "Go to the enterprise's platform")).to_have_count(1)  # RPS
    _act(page, tree.E, "Go to the enterprise's platform")

    banner = page.locator("#acting-banner")
    expect(banner).to_contain_text(f"You are working in the enterprise {tree.E} as {tree.c}.")
    menu = page.locator(".navbar").first
    expect(menu.get_by_role("link", name="User Management")).to_have_count(0)
    menu.get_by_role("link", name="Device Management").click()
    menu.get_by_role("link", name="Platform Device").click()
    page.wait_for_url("**/devicemodelview/list/**")
    table = page.locator("table").first
    for mac in tree.macs["E"]:
        expect(table).to_contain_text(format_mac(mac))  # listed with separators
    expect(page.locator(".ymcs-count")).to_have_text(f"{len(tree.macs['E'])} results")
    for mac in tree.macs["ER"] + tree.macs["EB"]:
        expect(table).not_to_contain_text(format_mac(mac))
    expect(banner).to_be_visible()  # on every page of the visit

    page.locator("#acting-back").click()
    expect(page.locator("#acting-banner")).to_have_count(0)
    _open(page, "Enterprise Management")
    expect(_row(page, tree.ER)).to_have_count(1)


# --- Managing Channels -----------------------------------------------------------------------

def test_add_sub_channel_and_no_add_without_permission(live_server, page_as, tree,
                                                       smtp_server):
    name, email = f"{tree.prefix}-Sub", f"sub-admin@{tree.prefix}.test"
    page = page_as(tree.b, tree.password)
    _open(page, "Channel Management")
    add_button(page).click()
    page.wait_for_url("**/channelmodelview/add**")
    page.locator("#email").fill(email)
    page.locator("#name").fill(name)
    page.locator("#contact").fill("Sub Contact")
    page.locator("#can_add_subchannel").check()
    page.get_by_role("button", name="Save").click()

    page.wait_for_url("**/channelmodelview/list/**")
    row = _row(page, name)
    expect(row).to_contain_text(email)
    expect(row).to_contain_text(tree.B)  # its parent: the channel that added it
    expect(row.locator("td").nth(5)).to_have_text("Yes")  # May Add Sub-channels
    assert _mailed_password(live_server, smtp_server, email)

    c_page = page_as(tree.c, tree.password)
    _open(c_page, "Channel Management")
    expect(add_button(c_page)).to_have_count(0)


def test_channel_search_reset_edit_freeze(live_server, page_as, anon_page, tree,
                                          smtp_server):
    page = page_as(tree.a, tree.password)
    confirms = _confirming(page)
    _open(page, "Channel Management")
    _expect_rows(page, [tree.B, tree.C])
    _search(page, f"{tree.prefix[2:]}-C")
    _expect_rows(page, [tree.C])
    _search(page, f"b@{tree.prefix}.test")
    _expect_rows(page, [tree.B])
    _search(page, f"Wang {tree.prefix}")
    _expect_rows(page, [tree.C])

    _act(page, tree.C, "Reset password")
    expect_message(page, "success", f"A new password was mailed to {tree.c}.")
    password = _mailed_password(live_server, smtp_server, tree.c)

    _act(page, tree.C, "Freeze")
    expect_message(page, "success", f"Frozen: {tree.C}.")
    expect(_row(page, tree.C)).to_contain_text("Frozen")
    _refused_login(anon_page, tree.c, password)
    _act(page, tree.C, "Unfreeze")
    expect_message(page, "success", f"Unfrozen: {tree.C}.")
    expect(_row(page, tree.C)).to_contain_text("Active")
    assert confirms == ["Mail a new password to this account's administrator?",
                        "Freeze this account?", "Unfreeze this account?"]

    new_email = f"c-new@{tree.prefix}.test"
    _row(page, tree.C).get_by_role("link", name="Edit", exact=True).click()
    page.wait_for_url("**/channelmodelview/edit/**")
    page.locator("#contact").fill("Chen Jie")
    page.locator("#email").fill(new_email)
    page.get_by_role("button", name="Save").click()
    page.wait_for_url("**/channelmodelview/list/**")
    expect(_row(page, tree.C)).to_contain_text("Chen Jie")
    expect(_row(page, tree.C)).to_contain_text(new_email)
    _signs_in_to_forced_change(anon_page, new_email, password)  # the login moved with it


def test_go_to_a_sub_channel_portal_and_back(page_as, tree):
    page = page_as(tree.a, tree.password)
    _open(page, "Channel Management")
    _act(page, tree.B, "Go to the channel's platform")
    banner = page.locator("#acting-banner")
    expect(banner).to_contain_text(f"You are working in the channel {tree.B} as {tree.a}.")

    _open(page, "Channel Management")
    _expect_rows(page, [tree.C])  # B manages C, not itself
    _open(page, "Enterprise Management")
    expect(_row(page, tree.EB)).to_have_count(1)
    expect(banner).to_be_visible()

    page.locator("#acting-back").click()
    expect(page.locator("#acting-banner")).to_have_count(0)
    _open(page, "Channel Management")
    _expect_rows(page, [tree.B, tree.C])


def test_sibling_tree_sees_none_of_it(page_as, tree):
    page = page_as(tree.s, tree.password)
    _open(page, "Enterprise Management")
    _expect_rows(page, [tree.S, tree.SE])
    for name in (tree.A, tree.B, tree.C, tree.E, tree.ER, tree.R, tree.EB):
        expect(page.get_by_role("link", name=name, exact=True)).to_have_count(0)
    _search(page, tree.prefix)
    _expect_rows(page, [tree.S, tree.SE])

    _open(page, "Channel Management")
    expect(page.locator(".ymcs-count")).to_have_text("0 results")
    _search(page, tree.prefix)
    expect(page.locator("table tbody")).to_contain_text("No records found")
    expect(page.locator("table tbody")).not_to_contain_text(tree.prefix)
