"""One definition of an order's last day of service (issue 18: the list said 2027-07-02 and
the details 2027-07-01 for the same order). ``expires_on`` is stored as the first day no
longer covered; every screen, export and mail shows ``last_day_of_service``."""

import datetime

import pytest

from app.orders.rules import (
    InvalidOrderForm,
    choose_enterprise,
    choose_package,
    expires_on_for,
    expiry_of,
    last_day_of_service,
)

from ..helpers import new_package
from .conftest import ON, principal

D = datetime.date


@pytest.mark.parametrize("start, months, last", [
    (D(2026, 7, 2), 12, D(2027, 7, 1)),  # the order
    (D(2030, 1, 31), 1, D(2030, 2, 27)),  # a month from Jan 31 covers up to Feb 27
    (D(2031, 12, 1), 1, D(2031, 12, 31)),  # across the year's end
])
def test_the_last_day_is_the_day_before_the_stored_expiry(start, months, last):
    expires_on = expiry_of(start, months)
    assert last_day_of_service(expires_on) == last
    assert expires_on_for(last) == expires_on  # the list's search goes back to the column


def test_step_two_reports_every_invalid_field_at_once(db_session):
    with pytest.raises(InvalidOrderForm) as caught:
        choose_package(db_session, "999999999", "0", "0", "yesterday", on=ON)
    errors = {field: str(error) for field, error in caught.value.errors.items()}
    assert errors == {
        "package_id": "Choose one of the offered packages.",
        "quantity": "The quantity is a whole number from 1 to 10000.",
        "duration_months": "The duration is a whole number of months from 1 to 120.",
        "effective_on": "The effective date is not a date (YYYY-MM-DD).",
    }
    package = new_package(db_session)
    with pytest.raises(InvalidOrderForm) as caught:
        choose_package(db_session, package.id, "3", "200", ON - datetime.timedelta(days=1),
                       on=ON)
    assert set(caught.value.errors) == {"duration_months", "effective_on"}


def test_step_one_reports_the_enterprise_and_the_reseller_together(db_session, tree):
    with pytest.raises(InvalidOrderForm) as caught:
        choose_enterprise(db_session, principal(db_session, tree.c), tree.SE, "  ")
    assert {k: str(e) for k, e in caught.value.errors.items()} == {
        "enterprise_id": "Choose one of your enterprises.",
        "reseller": "Enter the reseller name."}
