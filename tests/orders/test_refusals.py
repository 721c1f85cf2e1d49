"""Bad input to Add Order: a clear message, and nothing stored."""


import pytest

from app.extensions import db

from ..helpers import new_package
from .conftest import ON, D, days, order_form, place, refused


@pytest.fixture(scope="module")
def offered(app):
    """An offered package and a withdrawn one, for refusals (which store nothing)."""
    with app.app_context():
        return new_package(db.session).id, new_package(db.session, active=False).id


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


QUANTITY = "The quantity is a whole number from 1 to 10000."  # the rule: 1-10,000


@pytest.mark.parametrize("quantity", [
    0, -1, 10_001, 10**9, "1000000000", "0", "", "  ", None, "two", "1.5", 2.5, "1e3",
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
    huge = new_package(db_session, 1_000_000)
    form = order_form(fresh_tree.E, huge, quantity=10_000)
    assert refused(db_session, fresh_tree.c, form) == (
        "The quantity is a whole number from 1 to 2147.")
    order = place(db_session, fresh_tree.c, fresh_tree.E, huge, quantity=2147)
    assert order.max_devices == 2_147_000_000
