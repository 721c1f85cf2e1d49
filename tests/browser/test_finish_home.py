"""The home page ("Overview") is useful for every role (issue #18): a channel sees its devices
online and offline with a chart, the enterprises awaiting its authorization, the orders ending
within 30 days and its open alarms; a finance sub-account this month's orders and statement;
an enterprise its devices and how long its orders cover it. Each only within its scope: a
sibling tree sees none of it."""

import datetime
import re
import uuid

from playwright.sync_api import expect

from app.extensions import db
from app.models import Authorization, Device, Enterprise, PermissionType, utcnow
from app.orders.rules import today

from ..helpers import new_order
from ..tree import PASSWORD, build_tree


def _tree_with_news(app):
    """A fresh tree whose channel A has: an enterprise awaiting authorization, an order of E
    ending in 10 days, one device online and an open alarm."""
    prefix = f"home{uuid.uuid4().hex[:5]}"
    with app.app_context():
        t = build_tree(db.session, prefix)
        waiting = Enterprise(name=f"{prefix}-Waiting", channel=t.A,
                             permission_type=PermissionType.device_management,
                             authorization=Authorization.pending, email=f"w@{prefix}.test")
        db.session.add(waiting)
        order = new_order(db.session, t.E.id, months=1,
                          effective_on=today() - datetime.timedelta(days=21))
        device = db.session.query(Device).filter_by(enterprise_id=t.E.id).first()
        device.online, device.last_seen = True, utcnow()
        from app.alarms.rules import raise_alarm

        raise_alarm(db.session, device.id, t.E.id, "device_offline", "test")
        db.session.commit()
        names = dict(prefix=prefix, a=t.a.username, s=t.s.username, ent=t.ent.username,
                     order=order.id, last_day=(order.expires_on - datetime.timedelta(days=1)),
                     waiting=waiting.name, e=t.E.name)
        db.session.remove()
    return names


def _stat(page, key):
    return page.locator(f'[data-stat="{key}"]').inner_text().strip()


def test_a_channel_sees_its_devices_awaiting_enterprises_ending_orders_and_alarms(
        live_server, page_as):
    t = _tree_with_news(live_server.app)
    page = page_as(t["a"], PASSWORD)
    expect(page.locator("h3", has_text="Overview")).to_be_visible()
    # A's subtree: E, ER, R, EB, the four generated ones and "Waiting"; devices of the
    # authorizing ones only (E, EB, generated: 2 each)
    assert _stat(page, "online") == "1"
    assert int(_stat(page, "devices")) == int(_stat(page, "online")) + int(_stat(page, "offline"))
    expect(page.locator("#device-chart")).to_contain_text("Online 1")
    assert _stat(page, "awaiting") == "1"
    expiring = page.locator("#expiring-orders")
    assert _stat(page, "expiring") == "1"
    expect(expiring).to_contain_text(t["e"])
    expect(expiring).to_contain_text(f"last day {t['last_day'].isoformat()}")
    assert _stat(page, "alarms-major") == "1"
    # every part leads to its list
    page.locator("#awaiting-authorization").click()
    expect(page.locator("tbody")).to_contain_text(t["waiting"])
    expect(page.locator("tbody tr")).to_have_count(1)
    page.go_back()
    page.locator("#tile-offline").click()
    expect(page).to_have_url(re.compile(r"online=0"))


def test_the_home_page_of_another_tree_shows_none_of_it(live_server, page_as):
    t = _tree_with_news(live_server.app)
    page = page_as(t["s"], PASSWORD)
    assert _stat(page, "awaiting") == "0"
    assert _stat(page, "expiring") == "0"
    assert _stat(page, "online") == "0"
    assert _stat(page, "alarms-major") == "0"
    home = page.locator("#home")
    expect(home).not_to_contain_text(t["prefix"])
    expect(page.locator("#expiring-orders")).to_contain_text("No order ends in the next 30 days")
    expect(page.locator("#open-alarms")).to_contain_text("No open alarm")


def test_finance_sees_this_months_orders_and_statement(live_server, page_as):
    page = page_as("finance@acme.example")
    # Its grant is Beta Networks' subtree: Beta Clinics, Kaixin Trading, Redirect Logistics
    expect(page.locator("#this-month")).to_be_visible()
    statement = page.locator("#month-statement")
    expect(statement).to_be_visible()
    assert page.locator('[data-stat="devices"]').count() == 0  # no device screens for finance
    assert int(_stat(page, "effective")) >= 1  # Kaixin's Basic order
    page.locator("#month-statement a", has_text="Open the statement").click()
    expect(page).to_have_url(re.compile(r"/statementmodelview/list/\?.*ordered_from="))


def test_finance_this_month_counts_an_order_placed_today(live_server, page_as):
    with live_server.app.app_context():
        kaixin = db.session.query(Enterprise).filter_by(name="Kaixin Trading").one()
        new_order(db.session, kaixin.id, quantity=3)
        db.session.commit()
        db.session.remove()
    page = page_as("finance@acme.example")
    before = int(_stat(page, "month-orders"))
    assert before >= 1
    expect(page.locator("#month-statement table")).to_contain_text("pkg-")


def test_an_enterprise_sees_its_devices_and_how_long_it_is_covered(live_server, page_as):
    with live_server.app.app_context():  # past the first-login authorization prompt
        kaixin = db.session.query(Enterprise).filter_by(name="Kaixin Trading").one()
        kaixin.authorization_answered_on = kaixin.authorization_answered_on or utcnow()
        db.session.commit()
        db.session.remove()
    page = page_as("it@kaixin.example")
    assert int(_stat(page, "devices")) == 6  # the demo's six phones of Kaixin Trading
    validity = page.locator("#order-validity")
    # the Basic order (20 devices), and any another test placed
    expect(validity).to_contain_text(re.compile(r"Up to \d+ devices"))
    expect(validity).to_contain_text("covered until")
    assert page.locator("#awaiting-authorization").count() == 0
    assert page.locator("#expiring-orders").count() == 0


def test_the_administrator_reads_a_mail_in_the_outbox(live_server, page_as):
    from app.core.mail import enqueue_mail

    subject = f"YMCS: reset your password {uuid.uuid4().hex[:6]}"
    with live_server.app.app_context():
        enqueue_mail(db.session, "newcomer@kaixin.example", subject,
                     "Open this link within 10 minutes:\nhttp://127.0.0.1/password/reset/abc\n")
        db.session.commit()
        db.session.remove()
    admin = page_as("admin@ymcs.example")
    admin.get_by_role("link", name="System Management").click()
    admin.get_by_role("link", name="Mail Outbox").click()
    admin.get_by_role("link", name=subject).click()
    expect(admin.locator("#outbox-message h4")).to_contain_text(subject)
    expect(admin.locator("#outbox-recipient")).to_have_text("newcomer@kaixin.example")
    expect(admin.locator("#outbox-body")).to_contain_text(
        "Open this link within 10 minutes:\nhttp://127.0.0.1/password/reset/abc")
