"""The vendor's limit on a channel's open paid orders, also when orders are placed at once."""

import threading
import uuid

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.core import scope
from app.extensions import db
from app.models import Account, AccountKind, Enterprise, OrderLimit
from app.orders.rules import OrderError, cancel_order, place_order
from app.tenancy import rules as tenants

from ..helpers import new_package
from .conftest import ON, open_orders_of, order_form, place, principal, refused, set_limit

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
    message = refused(db_session, fresh_tree.s,
                      order_form(fresh_tree.SE, new_package(db_session)))
    assert message == ("Your channel has reached the limit of paid orders set by the vendor "
                       "(0 open orders). Contact Yealink to raise it.")


def test_an_order_committed_while_another_request_was_open_counts(app, fresh_tree):
    """The second request began (it loaded its user) before the first order committed; its
    count must still see that order. On MariaDB a plain count read the snapshot the request
    began with, and a limit of 1 let two orders through."""
    with app.app_context():
        set_limit(db.session, fresh_tree.C, 1)
        package = new_package(db.session).id  # an id: other sessions use it
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
        package = new_package(db.session).id  # an id: other sessions use it
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
        package = new_package(session).id  # an id: the threads' sessions use it
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
