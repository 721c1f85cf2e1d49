"""List and export criteria (app/order_queries.py): scope, search, filters, ranges, sort."""

import datetime

import pytest

from app.extensions import db
from app.models import Order
from app.orders.queries import (
    OrderCriteria,
    apply_criteria,
    export_query,
    order_rows,
    parse_order_criteria,
)
from app.orders.rules import cancel_order

from ..helpers import new_package
from .conftest import ON, D, place, principal


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
    # e1 runs out on 2030-04-01 (its last day of service, the date the list shows, is
    # 2030-03-31), er on 2032-03-01: the range is of the dates the list shows.
    assert found(db_session, listed, "a", {"expires_from": "2030-03-31",
                                           "expires_to": "2030-03-31"}) == ["e1"]
    assert found(db_session, listed, "a", {"expires_from": "2030-04-01",
                                           "expires_to": "2030-04-01"}) == []
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
