"""Orders (spec chapter 7): placing and cancelling them, the device quota they add up to, and
the sweep that moves them along as their dates come.

Plain functions over a session. ``place_order`` and ``cancel_order`` leave the commit to the
caller (the order, its history row and its mail are one transaction); the sweep commits its
own batches. Dates are UTC calendar days.
"""

import datetime

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select, update

from app.accounts.rules import _N
from app.core import scope
from app.core.mail import MailError, enqueue_mail
from app.core.scope import OutOfScope, Principal
from app.models import (
    Channel,
    Device,
    Enterprise,
    Order,
    OrderEvent,
    OrderLimit,
    OrderStatus,
    Package,
    Status,
    utcnow,
)
from app.tenancy.rules import TenantError

MAX_QUANTITY = 10_000
MAX_DURATION_MONTHS = 120
MAX_DAYS_AHEAD = 366  # an effective date at most a year ahead
RESELLER_MAX = 128
MAX_INT = 2**31 - 1  # an INTEGER column

OPEN_STATUSES = (OrderStatus.pending, OrderStatus.effective)

LIMIT_REACHED = _N("Your channel has reached the limit of paid orders set by the vendor "
                   "(%(limit)s open orders). Contact Yealink to raise it.")


class OrderError(TenantError):
    """An order rule refused the request; ``str()`` is the (translated) message."""


class QuotaExceeded(OrderError):
    pass


class LimitReached(OrderError):
    """The channel has as many open paid orders as the vendor allows."""


class InvalidOrderForm(OrderError):
    """Every invalid field of an Add Order step at once: ``errors`` maps the form's field
    names to their OrderError, in the form's order; ``str()`` is the first one's message."""

    def __init__(self, errors):
        first = next(iter(errors.values()))
        super().__init__(first.template, **first.params)
        self.errors = errors


def _raise_all(errors):
    if errors:
        raise InvalidOrderForm(errors)


def today():
    return utcnow().date()


def expiry_of(effective_on, duration_months):
    """The first day an order of ``duration_months`` starting ``effective_on`` no longer
    covers (a month after Jan 31 is Feb 28/29, as people count months)."""
    return effective_on + relativedelta(months=duration_months)


def last_day_of_service(expires_on):
    """The last day an order covers, the one every screen, export, statement and mail shows
    as its expiration date. ``expires_on`` (stored) is the first day no longer covered."""
    return expires_on - datetime.timedelta(days=1)


def expires_on_for(last_day):
    """The stored ``expires_on`` of an order whose last day of service is ``last_day`` (the
    list's expiration-date search bounds the indexed column with it)."""
    return last_day + datetime.timedelta(days=1)


# --- placing an order ------------------------------------------------------------------------


def choose_enterprise(session, principal: Principal, enterprise_id, reseller):
    """Step 1: the enterprise (one the principal sees, and active) and the reseller name.
    Refuses with every invalid field at once (InvalidOrderForm)."""
    errors = {}
    enterprise = None
    try:
        enterprise = scope.get_or_raise(session, Enterprise, enterprise_id, principal)
    except OutOfScope:
        errors["enterprise_id"] = OrderError(_N("Choose one of your enterprises."))
    if enterprise is not None and enterprise.status == Status.frozen:
        errors["enterprise_id"] = OrderError(
            _N("Enterprise %(name)s is frozen: unfreeze it before ordering."),
            name=enterprise.name)
    reseller = (reseller or "").strip()
    if not reseller:
        errors["reseller"] = OrderError(_N("Enter the reseller name."))
    elif len(reseller) > RESELLER_MAX:
        errors["reseller"] = OrderError(_N("The reseller name is at most %(n)s characters."),
                                        n=RESELLER_MAX)
    _raise_all(errors)
    return enterprise, reseller


def _int_between(value, low, high, message):
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise OrderError(message, low=low, high=high) from None
    if not low <= number <= high:
        raise OrderError(message, low=low, high=high)
    return number


def choose_package(session, package_id, quantity, duration_months, effective_on, on=None):
    """Step 2: an offered package, a quantity, a duration and an effective date from today to
    a year ahead. Returns (package, quantity, duration_months, effective_on)."""
    on = on or today()
    errors = {}
    package = None
    pk = scope.parse_pk(package_id)
    if pk is not None:
        package = session.get(Package, pk)
    if package is None or not package.active:
        package = None
        errors["package_id"] = OrderError(_N("Choose one of the offered packages."))
    # max_devices * quantity must fit the INTEGER column (MariaDB refused it with a DataError).
    per = package.max_devices if package is not None else 1
    try:
        quantity = _int_between(quantity, 1, min(MAX_QUANTITY, MAX_INT // per),
                                _N("The quantity is a whole number from %(low)s to %(high)s."))
    except OrderError as error:
        errors["quantity"] = error
    try:
        duration_months = _int_between(
            duration_months, 1, MAX_DURATION_MONTHS,
            _N("The duration is a whole number of months from %(low)s to %(high)s."))
    except OrderError as error:
        errors["duration_months"] = error
    try:
        effective_on = _effective_day(effective_on, on)
    except OrderError as error:
        errors["effective_on"] = error
    _raise_all(errors)
    return package, quantity, duration_months, effective_on


def _effective_day(effective_on, on):
    if isinstance(effective_on, str):
        try:
            effective_on = datetime.date.fromisoformat(effective_on.strip())
        except ValueError:
            raise OrderError(_N("The effective date is not a date (YYYY-MM-DD).")) from None
    if not isinstance(effective_on, datetime.date):
        raise OrderError(_N("Enter the effective date."))
    latest = on + datetime.timedelta(days=MAX_DAYS_AHEAD)
    if effective_on < on:
        raise OrderError(_N("The effective date cannot be in the past."))
    if effective_on > latest:
        raise OrderError(_N("The effective date is at most a year ahead (%(latest)s)."),
                         latest=latest.isoformat())
    return effective_on


def distributor_of(session, principal: Principal, enterprise):
    """The channel an order is placed by: the principal's own, or for the vendor's staff the
    enterprise's channel."""
    if principal.channel_id is not None and principal.is_channel:
        return session.get(Channel, principal.channel_id)
    return enterprise.channel


def check_order_limit(session, channel):
    """Refuse a new paid order when the channel has as many open paid orders as the vendor
    allows it. A plain read: the add form's early warning. place_order checks again, under a
    lock (see there)."""
    limit = session.execute(
        select(OrderLimit.max_open_orders).where(OrderLimit.channel_id == channel.id)
    ).scalar()
    if limit is not None and _open_paid_orders(session, channel) >= limit:
        raise LimitReached(LIMIT_REACHED, limit=limit)


def _lock_order_limit(session, channel):
    """Lock the channel's limit row until the transaction ends; return the limit, or None.

    An UPDATE that changes nothing: a row lock on MariaDB, and on SQLite (whose driver only
    begins a transaction at a write; SELECT ... FOR UPDATE is ignored there) the database's
    write lock. Either way a second order of the channel waits here for the first to end."""
    locked = session.execute(
        update(OrderLimit).where(OrderLimit.channel_id == channel.id)
        .values(max_open_orders=OrderLimit.max_open_orders)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not locked:
        return None
    return session.execute(
        select(OrderLimit.max_open_orders).where(OrderLimit.channel_id == channel.id)
    ).scalar_one()


def _open_paid_orders(session, channel, locking=False):
    query = select(func.count()).select_from(Order).where(
        Order.channel_id == channel.id, Order.order_type == "paid",
        Order.status.in_(OPEN_STATUSES))
    if locking:
        # A locking read locks every row it scans: on a small table MariaDB chose to scan
        # the whole table, locking every channel's orders (and deadlocking their inserts).
        query = query.with_for_update()
        for dialect in ("mysql", "mariadb"):
            query = query.with_hint(Order, "FORCE INDEX (ix_service_order_channel_id)",
                                    dialect_name=dialect)
    return session.execute(query).scalar_one()


def place_order(session, principal: Principal, *, enterprise_id, reseller, package_id,
                quantity, duration_months, effective_on, by, request_key=None, on=None):
    """Validate both steps again, check the channel's limit, add the order and its history
    row, and queue the order mail to the enterprise. The caller commits.

    ``request_key`` (from the confirmation form): the same key twice returns the order the
    first submit placed instead of placing a second one.
    """
    on = on or today()
    if request_key:
        placed = session.execute(
            select(Order).where(Order.request_key == request_key)).scalar()
        if placed is not None:
            if scope.can_access(session, Order, placed.id, principal):
                return placed
            # Not this principal's form (inserting the key again was an IntegrityError).
            raise OrderError(_N("This order form is no longer valid: open a new one."))
    enterprise, reseller = choose_enterprise(session, principal, enterprise_id, reseller)
    package, quantity, duration_months, effective_on = choose_package(
        session, package_id, quantity, duration_months, effective_on, on)
    channel = distributor_of(session, principal, enterprise)
    limit = _lock_order_limit(session, channel)
    order = Order(
        enterprise=enterprise, channel=channel, reseller=reseller, order_type="paid",
        package=package, package_name=package.name, quantity=quantity,
        max_devices=package.max_devices * quantity, duration_months=duration_months,
        effective_on=effective_on, expires_on=expiry_of(effective_on, duration_months),
        status=OrderStatus.pending, created_on=utcnow(), created_by_id=principal.account_id,
        request_key=request_key or None,
    )
    session.add(order)
    session.flush()  # the order id goes into its history and its mail
    # Counted with a locking read: on MariaDB a plain read counts from the snapshot the
    # request's first query took, missing an order committed while this one waited for the
    # lock. Counting after the insert (this order included) keeps the read's gap locks from
    # deadlocking with another channel's insert, as counting first did.
    if limit is not None and _open_paid_orders(session, channel, locking=True) > limit:
        session.delete(order)
        session.flush()
        raise LimitReached(LIMIT_REACHED, limit=limit)
    session.add(OrderEvent(order_id=order.id, event="placed", by=by))
    if effective_on <= on:  # effective today: do not wait for the sweep
        order.status = OrderStatus.effective
        session.add(OrderEvent(order_id=order.id, event="activated", by=by))
    _mail_order(session, order)
    return order


def _mail_order(session, order):
    enterprise = order.enterprise
    if not enterprise.email:
        return
    body = (
        f"Hello,\n\nA service order was placed for {enterprise.name}.\n\n"
        f"Order ID: {order.id}\n"
        f"Package: {order.package_name} x {order.quantity}\n"
        f"Maximum devices: {order.max_devices}\n"
        f"Service period: {order.effective_on.isoformat()} to "
        f"{last_day_of_service(order.expires_on).isoformat()} "
        f"({order.duration_months} {'month' if order.duration_months == 1 else 'months'})\n"
        f"Distributor: {order.channel.name}\nReseller: {order.reseller}\n"
    )
    try:
        enqueue_mail(session, enterprise.email, f"YMCS: order {order.id}", body)
    except MailError as error:
        raise OrderError(_N("Cannot mail %(email)s: %(why)s"), email=enterprise.email,
                         why=str(error)) from error


# --- cancelling ------------------------------------------------------------------------------


def cancellation_refusal(order, on=None):
    """Why ``order`` cannot be cancelled (an untranslated message template), or None."""
    on = on or today()
    if order.status == OrderStatus.cancelled:
        return _N("Order %(id)s is already cancelled.")
    if order.status == OrderStatus.expired or order.expires_on <= on:
        return _N("Order %(id)s has expired: it cannot be cancelled.")
    if order.status == OrderStatus.effective or order.effective_on <= on:
        return _N("Order %(id)s is already effective: effective orders cannot be cancelled.")
    return None


def cancel_order(session, order, by, on=None):
    """Cancel an order that is not yet effective. The update is conditional, so an order the
    sweep activates meanwhile stays effective. The caller commits."""
    on = on or today()
    refusal = cancellation_refusal(order, on)
    if refusal is None:
        changed = session.execute(
            update(Order)
            .where(Order.id == order.id, Order.status == OrderStatus.pending,
                   Order.effective_on > on)
            .values(status=OrderStatus.cancelled)
            .execution_options(synchronize_session=False)
        ).rowcount
        if changed:
            session.add(OrderEvent(order_id=order.id, event="cancelled", by=by))
            session.refresh(order)
            return order
        # A locking read: on MariaDB a plain one returned the snapshot's "pending", and the
        # refusal could not say why.
        session.refresh(order, with_for_update=True)
        refusal = cancellation_refusal(order, on) or _N("Order %(id)s cannot be cancelled.")
    raise OrderError(refusal, id=order.id)


# --- the device quota ------------------------------------------------------------------------


def covering(on):
    """WHERE clause: orders whose service period covers day ``on`` (and not cancelled)."""
    return (Order.status != OrderStatus.cancelled) & (Order.effective_on <= on) & (
        Order.expires_on > on)


def device_quota(session, enterprise_id, on=None):
    """How many devices the enterprise may manage: the sum over its orders in service."""
    on = on or today()
    return int(session.execute(  # MariaDB's SUM is a DECIMAL
        select(func.coalesce(func.sum(Order.max_devices), 0)).where(
            Order.enterprise_id == enterprise_id, covering(on))
    ).scalar_one())


def check_device_quota(session, enterprise, adding=1, on=None, locking=False):
    """Refuse binding ``adding`` more devices to an enterprise beyond its quota (called where
    devices bind to an enterprise). ``locking``: count what is committed now (see
    inventory.preregister_device)."""
    quota = device_quota(session, enterprise.id, on)
    counted = select(func.count()).select_from(Device).where(
        Device.enterprise_id == enterprise.id)
    if locking:
        # On MariaDB a plain read counts from the snapshot of the transaction's first query; a
        # locking read counts what is committed. Through the enterprise's index: a scan of
        # the table would lock every enterprise's devices.
        counted = counted.with_for_update()
        for dialect in ("mysql", "mariadb"):
            counted = counted.with_hint(Device, "FORCE INDEX (ix_device_enterprise_id)",
                                        dialect_name=dialect)
    bound = session.execute(counted).scalar_one()
    if bound + adding > quota:
        raise QuotaExceeded(
            _N("%(name)s may manage %(quota)s devices under its orders in service and already "
               "has %(bound)s."), name=enterprise.name, quota=quota, bound=bound)
    return quota - bound - adding


# --- the sweep -------------------------------------------------------------------------------


def _transition(session, ids, due, to_status, event, by):
    """Move each order that is still ``due``; a row another sweeper moved first is skipped,
    so each transition is recorded once."""
    moved = 0
    for order_id in ids:
        changed = session.execute(
            update(Order)
            .where(Order.id == order_id, due)
            .values(status=to_status)
            .execution_options(synchronize_session=False)
        ).rowcount
        if changed:
            session.add(OrderEvent(order_id=order_id, event=event, by=by))
            moved += 1
    session.commit()
    return moved


def sweep_orders(session, on=None, by="scheduler", batch=500):
    """Expire orders whose period has ended and activate those whose effective date has come.

    Idempotent and catches up after downtime: an order whose whole period passed while nothing
    ran goes straight to expired. Returns (activated, expired).
    """
    on = on or today()
    totals = {"activated": 0, "expired": 0}
    steps = (
        ("expired", OrderStatus.expired,
         Order.status.in_(OPEN_STATUSES) & (Order.expires_on <= on)),
        # Only orders still in their period: one whose period has passed too (committed after
        # the expiry step looked) waits for the next expiry step instead of being activated.
        ("activated", OrderStatus.effective,
         (Order.status == OrderStatus.pending) & (Order.effective_on <= on)
         & (Order.expires_on > on)),
    )
    for event, to_status, due in steps:
        while True:
            ids = session.execute(
                select(Order.id).where(due).order_by(Order.id).limit(batch)).scalars().all()
            if not ids:
                break
            totals[event] += _transition(session, ids, due, to_status, event, by)
    session.commit()
    return totals["activated"], totals["expired"]


def sweep_orders_job():
    """The scheduled job (registered in app/core/jobs.py)."""
    from flask import g

    from app.extensions import db

    return sweep_orders(db.session, by=g.get("scheduler_holder", "scheduler"))
