"""Chapter 7 without HTTP (app/orders.py, app/order_queries.py), one module per topic:
placing, refusals, the vendor's limits, cancelling, the device quota, list and export criteria.

Every date is explicit (``on=``): "today" in these tests is ON. The sweep is tested in
tests/test_order_sweep.py on a database of its own, because it moves every order it finds.
Refusals run against the shared tree: they must store nothing, so they cannot change it.
Packages and order rows without the rules: tests/helpers.py.
"""

import datetime

import pytest
from sqlalchemy import delete, func, select

from app.core import scope
from app.extensions import db
from app.models import (
    Account,
    Enterprise,
    Order,
    OrderEvent,
    OrderLimit,
    OrderStatus,
    OutboxMessage,
)
from app.orders.rules import OrderError, place_order

D = datetime.date
ON = D(2030, 3, 1)  # "today"
LATER = ON + datetime.timedelta(days=10)  # a usual effective date: not yet effective


def days(n):
    return datetime.timedelta(days=n)


def principal(session, account_id):
    return scope.principal_of(session.get(Account, account_id))


def set_limit(session, channel_id, max_open_orders):
    session.add(OrderLimit(channel_id=channel_id, max_open_orders=max_open_orders))
    session.commit()


def own_enterprise_of(session, channel_id):
    """The enterprise a channel gets under its own name (it has no email)."""
    return session.execute(select(Enterprise.id).where(
        Enterprise.channel_id == channel_id, Enterprise.is_channel_own)).scalar_one()


def order_form(enterprise_id, package, **changes):
    """The two steps of Add Order as the views pass them; ``package`` is a Package or what
    the form would carry as its id."""
    form = dict(enterprise_id=enterprise_id, reseller="Kaixin Telecom",
                package_id=getattr(package, "id", package),
                quantity=2, duration_months=12, effective_on=LATER, by="tester", on=ON)
    form.update(changes)
    return form


def place(session, who, enterprise_id, package, **changes):
    """Place an order as account ``who`` and commit, as the confirmation view does."""
    order = place_order(session, principal(session, who),
                        **order_form(enterprise_id, package, **changes))
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
