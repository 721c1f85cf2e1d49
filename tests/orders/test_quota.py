"""The device quota orders add up to, and where a period ends."""

import uuid

import pytest

from app.models import Device, Enterprise
from app.orders.rules import (
    QuotaExceeded,
    cancel_order,
    check_device_quota,
    device_quota,
    expiry_of,
)

from ..helpers import new_package
from .conftest import ON, D, place


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
