"""Placing an order: what is stored and mailed, who may place it for whom, and a form
submitted twice."""

import uuid

from app.models import Enterprise, Order, OrderStatus, Status
from app.orders.rules import place_order

from ..helpers import new_package
from .conftest import (
    LATER,
    ON,
    D,
    days,
    events_of,
    mails_to,
    order_form,
    own_enterprise_of,
    place,
    principal,
    refused,
    stored,
)


def test_order_is_pending_until_its_date_and_keeps_what_was_sold(db_session, fresh_tree):
    package = new_package(db_session, 10)
    order = place(db_session, fresh_tree.c, fresh_tree.E, package, reseller="  Kaixin  ",
                  quantity="3", duration_months="12")
    db_session.expire_all()
    order = db_session.get(Order, order.id)
    assert order.status == OrderStatus.pending
    assert order.enterprise_id == fresh_tree.E
    assert order.channel_id == fresh_tree.C  # the distributor: the channel that placed it
    assert order.reseller == "Kaixin"
    assert order.order_type == "paid"
    assert (order.quantity, order.max_devices, order.duration_months) == (3, 30, 12)
    assert (order.effective_on, order.expires_on) == (LATER, D(2031, 3, 11))
    assert order.created_by_id == fresh_tree.c
    assert events_of(db_session, order.id) == [("placed", "tester")]

    # The package keeps its name on the order whatever the administrator renames it to.
    package.name = f"renamed-{uuid.uuid4().hex[:8]}"
    db_session.commit()
    db_session.expire_all()
    assert db_session.get(Order, order.id).package_name.startswith("pkg-")


def test_enterprise_receives_the_order_by_mail(db_session, fresh_tree):
    package = new_package(db_session, 5)
    order = place(db_session, fresh_tree.c, fresh_tree.E, package, quantity=4,
                  effective_on=D(2030, 3, 31), duration_months=1)
    (mail,) = mails_to(db_session, f"e@{fresh_tree.prefix}.test")
    assert str(order.id) in mail.subject
    body = mail.body_text
    assert f"Order ID: {order.id}" in body
    assert f"Package: {order.package_name} x 4" in body
    assert "Maximum devices: 20" in body
    # A month from March 31: April 30 is the first day it no longer covers.
    assert "Service period: 2030-03-31 to 2030-04-29" in body
    assert f"Distributor: {fresh_tree.prefix}-C" in body
    assert "Reseller: Kaixin Telecom" in body


def test_order_and_its_mail_are_one_transaction(db_session, fresh_tree):
    package = new_package(db_session)
    before = stored(db_session)
    place_order(db_session, principal(db_session, fresh_tree.c),
                **order_form(fresh_tree.E, package))
    db_session.rollback()  # e.g. the view failed after the rule
    assert stored(db_session) == before
    assert mails_to(db_session, f"e@{fresh_tree.prefix}.test") == []


def test_enterprise_without_an_email_gets_its_order_and_no_mail(db_session, fresh_tree):
    enterprise = own_enterprise_of(db_session, fresh_tree.C)
    mails = stored(db_session)[2]
    order = place(db_session, fresh_tree.c, enterprise, new_package(db_session))
    assert order.status == OrderStatus.pending
    assert stored(db_session)[2] == mails


def test_order_effective_today_is_effective_at_once(db_session, fresh_tree):
    order = place(db_session, fresh_tree.c, fresh_tree.E, new_package(db_session),
                  effective_on=ON)
    assert order.status == OrderStatus.effective
    assert events_of(db_session, order.id) == [("placed", "tester"), ("activated", "tester")]


def test_effective_date_may_be_a_year_ahead(db_session, fresh_tree):
    order = place(db_session, fresh_tree.c, fresh_tree.E, new_package(db_session),
                  effective_on=(ON + days(366)).isoformat())
    assert order.effective_on == D(2031, 3, 2)


def test_quantity_and_duration_at_their_limits_are_accepted(db_session, fresh_tree):
    # The rule (README, Add Order): quantity 1-10,000, duration 1-120 months.
    order = place(db_session, fresh_tree.c, fresh_tree.E, new_package(db_session, 1),
                  quantity=10_000, duration_months=120, reseller="r" * 128)
    assert (order.max_devices, order.expires_on) == (10_000, D(2040, 3, 11))


def test_several_orders_for_one_enterprise(db_session, fresh_tree):
    package = new_package(db_session)
    ids = {place(db_session, fresh_tree.c, fresh_tree.E, package).id for _ in range(3)}
    assert len(ids) == 3
    assert len(mails_to(db_session, f"e@{fresh_tree.prefix}.test")) == 3


def test_the_vendor_orders_for_an_enterprise_through_its_channel(db_session, fresh_tree):
    order = place(db_session, fresh_tree.admin, fresh_tree.E, new_package(db_session))
    assert order.channel_id == fresh_tree.C


def test_an_upper_channel_orders_for_an_enterprise_below_it_as_distributor(
        db_session, fresh_tree):
    order = place(db_session, fresh_tree.a, fresh_tree.E, new_package(db_session))
    assert order.channel_id == fresh_tree.A


def test_a_sub_account_orders_for_its_channel_within_its_grant(db_session, fresh_tree):
    package = new_package(db_session)
    order = place(db_session, fresh_tree.sub, fresh_tree.EB, package)
    assert order.channel_id == fresh_tree.A  # the sub-account's channel
    # A's own enterprise is outside the grant (B's subtree).
    message = refused(db_session, fresh_tree.sub,
                      order_form(own_enterprise_of(db_session, fresh_tree.A), package))
    assert message == "Choose one of your enterprises."


def test_order_for_a_frozen_enterprise_is_refused(db_session, fresh_tree):
    db_session.get(Enterprise, fresh_tree.E).status = Status.frozen
    db_session.commit()
    message = refused(db_session, fresh_tree.c, order_form(fresh_tree.E, new_package(db_session)))
    assert message == f"Enterprise {fresh_tree.prefix}-E is frozen: unfreeze it before ordering."



# --- submitting twice ------------------------------------------------------------------------


def test_the_same_request_key_twice_places_one_order(db_session, fresh_tree):
    package = new_package(db_session)
    key = uuid.uuid4().hex
    before = stored(db_session)
    first = place(db_session, fresh_tree.c, fresh_tree.E, package, request_key=key)
    again = place(db_session, fresh_tree.c, fresh_tree.E, package, request_key=key,
                  quantity=7)
    assert again.id == first.id and again.quantity == 2
    assert stored(db_session) == (before[0] + 1, before[1] + 1, before[2] + 1)
    other = place(db_session, fresh_tree.c, fresh_tree.E, package, request_key=uuid.uuid4().hex)
    assert other.id != first.id


def test_a_request_key_of_another_trees_order_is_refused(db_session, fresh_tree):
    # Keys are random, so this is a forged form: a clear refusal, not a database error.
    package = new_package(db_session)
    key = uuid.uuid4().hex
    place(db_session, fresh_tree.c, fresh_tree.E, package, request_key=key)
    message = refused(db_session, fresh_tree.s,
                      order_form(fresh_tree.SE, package, request_key=key))
    assert message == "This order form is no longer valid: open a new one."
