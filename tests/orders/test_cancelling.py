"""Cancelling an order: only while it is not yet effective."""


import pytest

from app.models import Order, OrderStatus
from app.orders.rules import OrderError, cancel_order

from ..helpers import new_package
from .conftest import LATER, ON, days, events_of, place


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
