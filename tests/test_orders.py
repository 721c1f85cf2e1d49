"""Chapter 7 without HTTP: placing orders (both steps, the vendor's limits, the mail), the
device quota they add up to, cancelling, and the list/export criteria (app/orders/queries.py).

Every date is explicit (``on=``): "today" in these tests is ON. The sweep is tested in
tests/orders/test_sweep.py on a database of its own, because it moves every order it finds.
Refusals run against the shared tree: they must store nothing, so they cannot change it.
"""

import datetime
import threading
import uuid

import pytest
from sqlalchemy import delete, event, func, select
from sqlalchemy.orm import Session

from app.core import scope
from app.extensions import db
from app.models import (
    Account,
    AccountKind,
    Device,
    Enterprise,
    Order,
    OrderEvent,
    OrderLimit,
    OrderStatus,
    OutboxMessage,
    Package,
    Status,
)
from app.orders.queries import (
    OrderCriteria,
    apply_criteria,
    export_query,
    order_rows,
    parse_order_criteria,
)
from app.orders.rules import (
    MAX_QUANTITY,
    OrderError,
    QuotaExceeded,
    cancel_order,
    check_device_quota,
    device_quota,
    expiry_of,
    place_order,
)
from app.tenancy import rules as tenants

D = datetime.date
ON = D(2030, 3, 1)  # "today"
LATER = ON + datetime.timedelta(days=10)  # a usual effective date: not yet effective


def days(n):
    return datetime.timedelta(days=n)


def principal(session, account_id):
    return scope.principal_of(session.get(Account, account_id))


def new_package(session, max_devices=10, active=True):
    package = Package(name=f"pkg-{uuid.uuid4().hex[:10]}", max_devices=max_devices,
                      duration_months=12, active=active)
    session.add(package)
    session.commit()
    return package.id


def set_limit(session, channel_id, max_open_orders):
    session.add(OrderLimit(channel_id=channel_id, max_open_orders=max_open_orders))
    session.commit()


def own_enterprise_of(session, channel_id):
    """The enterprise a channel gets under its own name (it has no email)."""
    return session.execute(select(Enterprise.id).where(
        Enterprise.channel_id == channel_id, Enterprise.is_channel_own)).scalar_one()


def order_form(enterprise_id, package_id, **changes):
    form = dict(enterprise_id=enterprise_id, reseller="Kaixin Telecom", package_id=package_id,
                quantity=2, duration_months=12, effective_on=LATER, by="tester", on=ON)
    form.update(changes)
    return form


def place(session, who, enterprise_id, package_id, **changes):
    """Place an order as account ``who`` and commit, as the confirmation view does."""
    order = place_order(session, principal(session, who),
                        **order_form(enterprise_id, package_id, **changes))
    session.commit()
    return order


def stored(session):
    """How many orders, order events and mails the database holds."""
    return tuple(session.execute(select(func.count()).select_from(model)).scalar_one()
                 for model in (Order, OrderEvent, OutboxMessage))


def refused(session, who, form):
    """The OrderError message for ``form``; asserts the refusal stored nothing even when the
    caller commits after it."""
    before = stored(session)
    with pytest.raises(OrderError) as caught:
        place_order(session, principal(session, who), **form)
    session.commit()
    assert stored(session) == before
    return str(caught.value)


def events_of(session, order_id):
    return [(e.event, e.by) for e in session.execute(
        select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id)
    ).scalars()]


def mails_to(session, recipient):
    return session.execute(select(OutboxMessage).where(
        OutboxMessage.recipient == recipient).order_by(OutboxMessage.id)).scalars().all()


def open_orders_of(session, channel_id):
    return session.execute(select(func.count()).select_from(Order).where(
        Order.channel_id == channel_id,
        Order.status.in_([OrderStatus.pending, OrderStatus.effective]))).scalar_one()


@pytest.fixture(autouse=True)
def no_mail_left_behind(app):
    """Remove the order mails a test queued: later tests send the shared outbox 100 rows at a
    time, oldest first, and must reach their own mail."""
    with app.app_context():
        last = db.session.execute(select(func.max(OutboxMessage.id))).scalar() or 0
        db.session.rollback()
    yield
    with app.app_context():
        db.session.execute(delete(OutboxMessage).where(OutboxMessage.id > last))
        db.session.commit()


# --- placing an order ------------------------------------------------------------------------


def test_order_is_pending_until_its_date_and_keeps_what_was_sold(db_session, fresh_tree):
    package = new_package(db_session, max_devices=10)
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
    db_session.get(Package, package).name = f"renamed-{uuid.uuid4().hex[:8]}"
    db_session.commit()
    db_session.expire_all()
    assert db_session.get(Order, order.id).package_name.startswith("pkg-")


def test_enterprise_receives_the_order_by_mail(db_session, fresh_tree):
    package = new_package(db_session, max_devices=5)
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
    order = place(db_session, fresh_tree.c, fresh_tree.E, new_package(db_session, 1),
                  quantity=MAX_QUANTITY, duration_months=120, reseller="r" * 128)
    assert (order.max_devices, order.expires_on) == (MAX_QUANTITY, D(2040, 3, 11))


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


# --- bad input: a clear message, nothing stored ------------------------------------------------


@pytest.fixture(scope="module")
def offered(app):
    """An offered package and a withdrawn one, for refusals (which store nothing)."""
    with app.app_context():
        return new_package(db.session), new_package(db.session, active=False)


PAST = "The effective date cannot be in the past."
TOO_FAR = "The effective date is at most a year ahead (2031-03-02)."
NOT_A_DATE = "The effective date is not a date (YYYY-MM-DD)."


@pytest.mark.parametrize("effective_on, message", [
    (ON - days(1), PAST),
    ("2030-02-28", PAST),
    ("0001-01-01", PAST),
    (ON + days(367), TOO_FAR),
    ("2031-03-03", TOO_FAR),
    ("9999-12-31", TOO_FAR),
    (D(9999, 12, 31), TOO_FAR),
    ("99999-01-01", NOT_A_DATE),
    ("2030-02-30", NOT_A_DATE),
    ("01/04/2030", NOT_A_DATE),
    ("tomorrow", NOT_A_DATE),
    ("", NOT_A_DATE),
    (None, "Enter the effective date."),
    (20300401, "Enter the effective date."),
])
def test_bad_effective_date_is_refused(db_session, tree, offered, effective_on, message):
    form = order_form(tree.E, offered[0], effective_on=effective_on)
    assert refused(db_session, tree.c, form) == message


QUANTITY = f"The quantity is a whole number from 1 to {MAX_QUANTITY}."


@pytest.mark.parametrize("quantity", [
    0, -1, MAX_QUANTITY + 1, 10**9, "1000000000", "0", "", "  ", None, "two", "1.5", 2.5, "1e3",
    "0x10", "3 phones",
])
def test_bad_quantity_is_refused(db_session, tree, offered, quantity):
    form = order_form(tree.E, offered[0], quantity=quantity)
    assert refused(db_session, tree.c, form) == QUANTITY


@pytest.mark.parametrize("months", [0, -12, 121, 10**9, "", None, "a year", "1.5"])
def test_bad_duration_is_refused(db_session, tree, offered, months):
    form = order_form(tree.E, offered[0], duration_months=months)
    assert refused(db_session, tree.c, form) == (
        "The duration is a whole number of months from 1 to 120.")


@pytest.mark.parametrize("reseller, message", [
    ("", "Enter the reseller name."),
    ("   ", "Enter the reseller name."),
    (None, "Enter the reseller name."),
    ("r" * 129, "The reseller name is at most 128 characters."),
])
def test_bad_reseller_is_refused(db_session, tree, offered, reseller, message):
    form = order_form(tree.E, offered[0], reseller=reseller)
    assert refused(db_session, tree.c, form) == message


def test_unknown_or_withdrawn_package_is_refused(db_session, tree, offered):
    for package in (offered[1], 2**40, "abc", "", None, -1, "1; drop table package"):
        form = order_form(tree.E, package)
        assert refused(db_session, tree.c, form) == "Choose one of the offered packages."


@pytest.mark.parametrize("who, target", [
    ("c", "SE"),  # another tree
    ("c", "EB"),  # under the parent channel
    ("s", "E"),
    ("sub", "SE"),
    ("ent", "EB"),  # an enterprise sees only itself
])
def test_forged_enterprise_of_another_tree_is_refused(db_session, tree, offered, who, target):
    form = order_form(getattr(tree, target), offered[0])
    assert refused(db_session, getattr(tree, who), form) == "Choose one of your enterprises."


@pytest.mark.parametrize("enterprise_id", [None, "", "abc", 0, -5, 2**40, "1 OR 1=1"])
def test_enterprise_that_is_not_an_id_is_refused(db_session, tree, offered, enterprise_id):
    form = order_form(enterprise_id, offered[0])
    assert refused(db_session, tree.c, form) == "Choose one of your enterprises."


def test_quantity_is_bounded_by_what_the_device_count_can_hold(db_session, fresh_tree):
    # 10,000 units of a million devices: 10^10 devices would not fit the column (MariaDB
    # refused the INSERT with a DataError, SQLite stored it).
    huge = new_package(db_session, max_devices=1_000_000)
    form = order_form(fresh_tree.E, huge, quantity=MAX_QUANTITY)
    assert refused(db_session, fresh_tree.c, form) == (
        "The quantity is a whole number from 1 to 2147.")
    order = place(db_session, fresh_tree.c, fresh_tree.E, huge, quantity=2147)
    assert order.max_devices == 2_147_000_000


# --- the vendor's limit on open paid orders ----------------------------------------------------

LIMIT_REACHED = ("Your channel has reached the limit of paid orders set by the vendor "
                 "(2 open orders). Contact Yealink to raise it.")


def test_channel_at_its_limit_is_told_to_contact_the_vendor(db_session, fresh_tree):
    set_limit(db_session, fresh_tree.C, 2)
    package = new_package(db_session)
    place(db_session, fresh_tree.c, fresh_tree.E, package, effective_on=ON)  # effective
    place(db_session, fresh_tree.c, fresh_tree.ER, package)  # pending
    assert refused(db_session, fresh_tree.c, order_form(fresh_tree.R, package)) == LIMIT_REACHED
    assert open_orders_of(db_session, fresh_tree.C) == 2


def test_a_cancelled_order_frees_its_place_under_the_limit(db_session, fresh_tree):
    set_limit(db_session, fresh_tree.C, 2)
    package = new_package(db_session)
    place(db_session, fresh_tree.c, fresh_tree.E, package)
    second = place(db_session, fresh_tree.c, fresh_tree.E, package)
    cancel_order(db_session, second, by="tester", on=ON)
    db_session.commit()
    place(db_session, fresh_tree.c, fresh_tree.E, package)
    assert refused(db_session, fresh_tree.c, order_form(fresh_tree.E, package)) == LIMIT_REACHED


def test_limit_counts_the_orders_of_the_channel_that_placed_them(db_session, fresh_tree):
    set_limit(db_session, fresh_tree.C, 1)
    package = new_package(db_session)
    # B placing orders for C's enterprises uses B's allowance, not C's.
    for _ in range(2):
        place(db_session, fresh_tree.b, fresh_tree.E, package)
    place(db_session, fresh_tree.c, fresh_tree.E, package)
    assert "Contact Yealink" in refused(db_session, fresh_tree.c,
                                        order_form(fresh_tree.E, package))
    # and the vendor placing one for C's enterprise counts for C
    assert "Contact Yealink" in refused(db_session, fresh_tree.admin,
                                        order_form(fresh_tree.ER, package))
    place(db_session, fresh_tree.b, fresh_tree.ER, package)


def test_a_limit_of_zero_refuses_every_paid_order(db_session, fresh_tree):
    set_limit(db_session, fresh_tree.S, 0)
    message = refused(db_session, fresh_tree.s, order_form(fresh_tree.SE, new_package(db_session)))
    assert message == ("Your channel has reached the limit of paid orders set by the vendor "
                       "(0 open orders). Contact Yealink to raise it.")


def test_an_order_committed_while_another_request_was_open_counts(app, fresh_tree):
    """The second request began (it loaded its user) before the first order committed; its
    count must still see that order. On MariaDB a plain count read the snapshot the request
    began with, and a limit of 1 let two orders through."""
    with app.app_context():
        set_limit(db.session, fresh_tree.C, 1)
        package = new_package(db.session)
        first, second = Session(db.engine), Session(db.engine)
        try:
            second.get(Account, fresh_tree.c)  # what the request did first
            place_order(first, principal(first, fresh_tree.c),
                        **order_form(fresh_tree.E, package))
            first.commit()
            with pytest.raises(OrderError, match="Contact Yealink"):
                place_order(second, principal(second, fresh_tree.c),
                            **order_form(fresh_tree.ER, package))
            second.commit()
            assert open_orders_of(second, fresh_tree.C) == 1
        finally:
            second.rollback()
            first.close()
            second.close()


def test_two_orders_placed_at_once_cannot_both_slip_under_the_limit(app, fresh_tree):
    """The second waits for the first's transaction on the limit, then counts its order."""
    with app.app_context():
        set_limit(db.session, fresh_tree.C, 1)
        package = new_package(db.session)
        engine = db.engine
        reached_the_limit = threading.Event()
        outcome = {}

        def on_statement(_conn, _cursor, statement, *_args):
            if threading.current_thread() is racer and "order_limit" in statement:
                reached_the_limit.set()

        def second_request():
            with app.app_context(), Session(engine) as second:
                try:
                    second.get(Account, fresh_tree.c)
                    place_order(second, principal(second, fresh_tree.c),
                                **order_form(fresh_tree.ER, package))
                    second.commit()
                    outcome["placed"] = True
                except OrderError as error:
                    second.rollback()
                    outcome["refused"] = str(error)
                except Exception as error:  # reported by the assertion below
                    second.rollback()
                    outcome["error"] = repr(error)

        racer = threading.Thread(target=second_request)
        event.listen(engine, "before_cursor_execute", on_statement)
        first = Session(engine)
        try:
            place_order(first, principal(first, fresh_tree.c),
                        **order_form(fresh_tree.E, package))
            racer.start()
            assert reached_the_limit.wait(60), "the second request never got to the limit"
            first.commit()
            racer.join(120)
        finally:
            event.remove(engine, "before_cursor_execute", on_statement)
            first.close()
        assert outcome == {"refused": LIMIT_REACHED.replace("(2 ", "(1 ")}
        db.session.rollback()  # read what is committed now, not an older snapshot
        assert open_orders_of(db.session, fresh_tree.C) == 1


def test_channels_ordering_at_the_same_moment_each_stop_at_their_limit(app):
    """Three channels, three people each, submitting together: every channel ends with exactly
    its limit and nobody gets a database error. (Counting with a locking read before the
    insert, or letting MariaDB scan the whole table for it, deadlocked such orders.)"""
    with app.app_context():
        session = db.session
        prefix = f"race{uuid.uuid4().hex[:6]}"
        targets = []
        for i in range(3):
            channel = tenants.create_channel(session, f"{prefix}-{i}")
            session.flush()
            session.add(OrderLimit(channel_id=channel.id, max_open_orders=4))
            targets.append((channel.id, channel.enterprises[0].id))
        package = new_package(session)  # commits
        engine = db.engine
    people = [targets[i % 3] for i in range(9)]
    start = threading.Barrier(len(people))
    outcomes = []

    def person(channel_id, enterprise_id):
        as_channel = scope.Principal(None, AccountKind.channel_master, channel_id)
        with app.app_context(), Session(engine) as session:
            session.get(Enterprise, enterprise_id)  # the request's first read
            start.wait(60)
            for _ in range(3):
                try:
                    place_order(session, as_channel,
                                **order_form(enterprise_id, package, by="racer"))
                    session.commit()
                    outcomes.append("placed")
                except OrderError:
                    session.rollback()
                    outcomes.append("refused")
                except Exception as error:  # reported by the assertion below
                    session.rollback()
                    outcomes.append(repr(error))

    threads = [threading.Thread(target=person, args=target) for target in people]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert sorted(outcomes) == ["placed"] * 12 + ["refused"] * 15
    with app.app_context():
        assert [open_orders_of(db.session, channel_id) for channel_id, _ in targets] == [4] * 3


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


# --- cancelling ------------------------------------------------------------------------------


def test_an_order_not_yet_effective_is_cancelled(db_session, fresh_tree):
    order = place(db_session, fresh_tree.c, fresh_tree.E, new_package(db_session))
    cancel_order(db_session, order, by="c-login", on=LATER - days(1))
    db_session.commit()
    db_session.expire_all()
    assert db_session.get(Order, order.id).status == OrderStatus.cancelled
    assert events_of(db_session, order.id) == [("placed", "tester"), ("cancelled", "c-login")]


def refused_cancel(session, order_id, on):
    """The refusal message; asserts the order and its history did not change."""
    order = session.get(Order, order_id)
    status, history = order.status, events_of(session, order_id)
    with pytest.raises(OrderError) as caught:
        cancel_order(session, order, by="tester", on=on)
    session.commit()
    session.expire_all()
    assert session.get(Order, order_id).status == status
    assert events_of(session, order_id) == history
    return str(caught.value)


def test_an_effective_order_cannot_be_cancelled(db_session, fresh_tree):
    order = place(db_session, fresh_tree.c, fresh_tree.E, new_package(db_session),
                  effective_on=ON)
    assert refused_cancel(db_session, order.id, ON) == (
        f"Order {order.id} is already effective: effective orders cannot be cancelled.")


def test_an_order_whose_date_has_come_cannot_be_cancelled_before_the_sweep(
        db_session, fresh_tree):
    order = place(db_session, fresh_tree.c, fresh_tree.E, new_package(db_session))
    assert order.status == OrderStatus.pending  # the sweep has not run
    assert refused_cancel(db_session, order.id, LATER) == (
        f"Order {order.id} is already effective: effective orders cannot be cancelled.")


def test_an_order_past_its_period_cannot_be_cancelled(db_session, fresh_tree):
    order = place(db_session, fresh_tree.c, fresh_tree.E, new_package(db_session),
                  duration_months=1)
    assert refused_cancel(db_session, order.id, order.expires_on) == (
        f"Order {order.id} has expired: it cannot be cancelled.")


def test_a_cancelled_order_cannot_be_cancelled_again(db_session, fresh_tree):
    order = place(db_session, fresh_tree.c, fresh_tree.E, new_package(db_session))
    cancel_order(db_session, order, by="tester", on=ON)
    db_session.commit()
    assert refused_cancel(db_session, order.id, ON) == f"Order {order.id} is already cancelled."


# --- the device quota ------------------------------------------------------------------------


def test_orders_in_service_add_up_to_the_device_quota(db_session, fresh_tree):
    ten, five = new_package(db_session, 10), new_package(db_session, 5)
    first = place(db_session, fresh_tree.c, fresh_tree.E, ten, quantity=2,  # 20 devices
                  effective_on=D(2030, 4, 1), duration_months=12)
    place(db_session, fresh_tree.c, fresh_tree.E, five, quantity=1,  # 5 devices
          effective_on=D(2030, 6, 1), duration_months=12)
    cancelled = place(db_session, fresh_tree.c, fresh_tree.E, ten, quantity=100,
                      effective_on=D(2030, 4, 1))
    cancel_order(db_session, cancelled, by="tester", on=ON)
    place(db_session, fresh_tree.c, fresh_tree.ER, ten, quantity=50, effective_on=ON)
    db_session.commit()

    def quota(day):
        return device_quota(db_session, fresh_tree.E, on=day)

    assert quota(D(2030, 3, 31)) == 0
    assert quota(D(2030, 4, 1)) == 20  # pending, but its day has come: counted at once
    assert quota(D(2030, 6, 1)) == 25
    assert quota(D(2031, 3, 31)) == 25  # the last day the first order covers
    assert quota(D(2031, 4, 1)) == 5
    assert quota(D(2031, 6, 1)) == 0
    assert first.expires_on == D(2031, 4, 1)
    assert type(quota(D(2030, 6, 1))) is int  # not MariaDB's Decimal for SUM


def test_binding_devices_beyond_the_quota_is_refused(db_session, fresh_tree):
    enterprise = db_session.get(Enterprise, fresh_tree.E)  # it has 2 devices already
    with pytest.raises(QuotaExceeded) as caught:
        check_device_quota(db_session, enterprise, on=ON)
    assert str(caught.value) == (
        f"{fresh_tree.prefix}-E may manage 0 devices under its orders in service and already "
        "has 2.")
    place(db_session, fresh_tree.c, fresh_tree.E, new_package(db_session, 3), quantity=1,
          effective_on=ON)
    assert check_device_quota(db_session, enterprise, on=ON) == 0  # the third device fits
    with pytest.raises(QuotaExceeded):
        check_device_quota(db_session, enterprise, adding=2, on=ON)
    db_session.add(Device(mac="02ab" + uuid.uuid4().hex[:8], model="SIP-T54W",
                          enterprise_id=fresh_tree.E))
    db_session.commit()
    with pytest.raises(QuotaExceeded) as caught:
        check_device_quota(db_session, enterprise, on=ON)
    assert "may manage 3 devices" in str(caught.value) and "already has 3" in str(caught.value)


@pytest.mark.parametrize("start, months, expires", [
    (D(2030, 3, 1), 12, D(2031, 3, 1)),
    (D(2030, 1, 31), 1, D(2030, 2, 28)),  # as people count months
    (D(2031, 12, 31), 2, D(2032, 2, 29)),  # a leap year
    (D(2030, 8, 31), 1, D(2030, 9, 30)),
    (D(2030, 3, 1), 120, D(2040, 3, 1)),
])
def test_a_period_ends_where_people_count_its_months(start, months, expires):
    assert expiry_of(start, months) == expires


# --- list and export criteria (app/orders/queries.py) ------------------------------------------


@pytest.fixture
def listed(app, fresh_tree):
    """Orders of a fresh tree with known order times:
    e1 (E, by C), er (ER, by B), eb (EB, by B, pending), cancelled (E), se (SE, sibling tree)."""
    with app.app_context():
        session = db.session
        package = new_package(session)

        def add(who, enterprise, reseller, created, **changes):
            order = place(session, who, enterprise, package, reseller=reseller, **changes)
            order.created_on = created  # the order time (test data: it is "now" otherwise)
            session.commit()
            return order.id

        t = fresh_tree
        ids = dict(
            e1=add(t.c, t.E, "Alpha Telecom", datetime.datetime(2030, 1, 5, 0, 0, 0),
                   effective_on=ON, duration_months=1),
            er=add(t.b, t.ER, "Beta 100%", datetime.datetime(2030, 1, 10, 23, 59, 59),
                   effective_on=ON, duration_months=24),
            eb=add(t.b, t.EB, "Gamma", datetime.datetime(2030, 1, 11, 0, 0, 0)),
            cancelled=add(t.c, t.E, "Alpha Two", datetime.datetime(2030, 2, 1, 12, 0, 0)),
            se=add(t.s, t.SE, "Alpha Sibling", datetime.datetime(2030, 1, 6, 12, 0, 0)),
        )
        cancel_order(session, session.get(Order, ids["cancelled"]), by="tester", on=ON)
        session.commit()
        by_id = {value: key for key, value in ids.items()}
        return t, by_id


def found(session, listed, who, args, kind="orders"):
    """The orders (by fixture name) the export of ``who`` holds under the query string."""
    t, by_id = listed
    criteria, errors = parse_order_criteria(args)
    assert errors == []
    rows = session.execute(export_query(kind, criteria, principal(session, getattr(t, who))))
    return [by_id[row.id] for row in rows]


def test_a_channel_lists_the_orders_of_its_subtree_newest_first(db_session, listed):
    assert found(db_session, listed, "a", {}) == ["cancelled", "eb", "er", "e1"]
    assert found(db_session, listed, "b", {}) == ["cancelled", "eb", "er", "e1"]
    # C sees the orders of its enterprises, whoever placed them, and not EB's (under B).
    assert found(db_session, listed, "c", {}) == ["cancelled", "er", "e1"]
    assert found(db_session, listed, "ent", {}) == ["cancelled", "e1"]
    assert found(db_session, listed, "s", {}) == ["se"]


def test_another_trees_orders_are_not_found_by_any_search(db_session, listed):
    t, by_id = listed
    ids = {name: order_id for order_id, name in by_id.items()}
    for q in (str(ids["e1"]), f"{t.prefix}-E", f"{t.prefix}-C", f"{t.prefix}-B", "Alpha Tel"):
        assert found(db_session, listed, "s", {"q": q}) == []
    assert found(db_session, listed, "s", {"q": t.prefix}) == ["se"]
    assert found(db_session, listed, "c", {"q": str(ids["se"])}) == []
    assert found(db_session, listed, "c", {"q": f"{t.prefix}-SE"}) == []


def test_search_by_order_id_enterprise_distributor_or_reseller(db_session, listed):
    t, by_id = listed
    ids = {name: order_id for order_id, name in by_id.items()}
    assert found(db_session, listed, "a", {"q": str(ids["er"])}) == ["er"]
    assert found(db_session, listed, "a", {"q": f" {ids['er']} "}) == ["er"]
    # the start of the enterprise name
    assert found(db_session, listed, "a", {"q": f"{t.prefix}-EB"}) == ["eb"]
    assert found(db_session, listed, "a", {"q": f"{t.prefix}-E"}) == ["cancelled", "eb", "er",
                                                                       "e1"]
    # the distributor
    assert found(db_session, listed, "a", {"q": f"{t.prefix}-B"}) == ["eb", "er"]
    # the reseller, from its start
    assert found(db_session, listed, "a", {"q": "alpha"}) == ["cancelled", "e1"]
    assert found(db_session, listed, "a", {"q": "Telecom"}) == []
    # LIKE's wildcards are plain characters
    assert found(db_session, listed, "a", {"q": "Beta 100%"}) == ["er"]
    assert found(db_session, listed, "a", {"q": "%"}) == []
    assert found(db_session, listed, "a", {"q": "_lpha"}) == []


def test_statements_are_searched_by_order_id_and_enterprise_only(db_session, listed):
    t, by_id = listed
    ids = {name: order_id for order_id, name in by_id.items()}
    assert found(db_session, listed, "a", {"q": "Alpha"}, kind="statements") == []
    assert found(db_session, listed, "a", {"q": f"{t.prefix}-B"}, kind="statements") == []
    assert found(db_session, listed, "a", {"q": str(ids["eb"])}, kind="statements") == ["eb"]
    assert found(db_session, listed, "a", {"q": f"{t.prefix}-ER"},
                 kind="statements") == ["er"]


def test_status_filter(db_session, listed):
    assert found(db_session, listed, "a", {"status": "pending"}) == ["eb"]
    assert found(db_session, listed, "a", {"status": "effective"}) == ["er", "e1"]
    assert found(db_session, listed, "a", {"status": "cancelled"}) == ["cancelled"]
    assert found(db_session, listed, "a", {"status": "expired"}) == []
    # an unknown status is no filter
    criteria, errors = parse_order_criteria({"status": "bogus"})
    assert criteria.status == "" and errors == []


def test_order_time_range_includes_its_whole_end_day(db_session, listed):
    args = {"ordered_from": "2030-01-05", "ordered_to": "2030-01-10"}
    assert found(db_session, listed, "a", args) == ["er", "e1"]
    assert found(db_session, listed, "a", {"ordered_from": "2030-01-11"}) == ["cancelled", "eb"]
    assert found(db_session, listed, "a", {"ordered_to": "2030-01-04"}) == []


def test_expiry_range(db_session, listed):
    # e1 runs out on 2030-04-01, er on 2032-03-01
    assert found(db_session, listed, "a", {"expires_from": "2030-04-01",
                                           "expires_to": "2030-04-01"}) == ["e1"]
    assert found(db_session, listed, "a", {"expires_from": "2031-06-01"}) == ["er"]


@pytest.mark.parametrize("args, message", [
    ({"ordered_from": "2030-01-10", "ordered_to": "2030-01-05"},
     "The end date is before the start date."),
    ({"ordered_from": "2030/01/05", "ordered_to": "2030-01-06"}, "Dates are written YYYY-MM-DD."),
    ({"ordered_from": "2030-01-05", "ordered_to": "yesterday"}, "Dates are written YYYY-MM-DD."),
    ({"expires_from": "2031-01-01", "expires_to": "2030-01-01"},
     "The end date is before the start date."),
    ({"expires_to": "2030-02-30"}, "Dates are written YYYY-MM-DD."),
])
def test_a_range_in_error_is_reported_and_not_applied(db_session, listed, args, message):
    criteria, errors = parse_order_criteria({**args, "status": "effective", "q": "Alpha"})
    assert errors == [(message, {})]
    assert (criteria.ordered_from, criteria.ordered_to) == (None, None)
    assert (criteria.expires_from, criteria.expires_to) == (None, None)
    # the rest of the criteria still apply
    t, by_id = listed
    rows = db_session.execute(export_query("orders", criteria, principal(db_session, t.a)))
    assert [by_id[row.id] for row in rows] == ["e1"]


def test_a_good_range_stays_when_the_other_is_in_error(db_session, listed):
    criteria, errors = parse_order_criteria(
        {"ordered_from": "2030-01-05", "ordered_to": "2030-01-10", "expires_to": "soon"})
    assert len(errors) == 1
    assert (criteria.ordered_from, criteria.ordered_to) == (D(2030, 1, 5), D(2030, 1, 10))


def test_an_end_date_in_the_year_9999_is_refused_cleanly(db_session, listed):
    criteria, errors = parse_order_criteria({"ordered_to": "9999-12-31",
                                             "expires_from": "0001-01-01"})
    assert [template for template, _ in errors] == ["Dates are written YYYY-MM-DD."] * 2
    assert (criteria.ordered_to, criteria.expires_from) == (None, None)
    t, by_id = listed
    db_session.execute(export_query("orders", criteria, principal(db_session, t.a))).all()


def test_sorting_by_expiry_then_id(db_session, listed):
    assert found(db_session, listed, "a", {"sort": "expires_on", "dir": "asc"}) == [
        "e1", "eb", "cancelled", "er"]
    assert found(db_session, listed, "a", {"sort": "duration_months", "dir": "asc"}) == [
        "e1", "eb", "cancelled", "er"]
    criteria, _ = parse_order_criteria({"sort": "password", "dir": "sideways"})
    assert (criteria.sort, criteria.desc) == ("id", True)


def test_criteria_survive_their_trip_through_an_export_job():
    criteria, _ = parse_order_criteria({"q": " Alpha ", "status": "pending", "ordered_from":
                                        "2030-01-05", "expires_to": "2031-01-01",
                                        "sort": "expires_on", "dir": "asc"})
    again = OrderCriteria.from_json(criteria.to_json())
    assert again == criteria
    assert (again.q, again.ordered_from, again.desc) == ("Alpha", D(2030, 1, 5), False)


def test_apply_criteria_narrows_any_select_over_orders(db_session, listed):
    t, by_id = listed
    criteria, _ = parse_order_criteria({"status": "pending"})
    query = apply_criteria(order_rows(principal(db_session, t.b)), criteria)
    assert [by_id[row.id] for row in db_session.execute(query)] == ["eb"]
